//! Plain data about the gateway, shared with the events, the headless printer and the console.

use serde::Serialize;

/// Where the gateway is in its cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayState {
    /// Listening; no Redis runs.
    Asleep,
    /// A client connected: Redis is starting; clients wait with their bytes held.
    Waking,
    /// Redis answers PING; clients are spliced to it.
    Awake,
    /// Idle (or shutting down): `SHUTDOWN SAVE`; new clients wait for the next wake.
    Stopping,
    /// The gateway has stopped listening and Redis is stopped.
    Closed,
}

impl GatewayState {
    pub fn label(self) -> &'static str {
        match self {
            GatewayState::Asleep => "asleep",
            GatewayState::Waking => "waking",
            GatewayState::Awake => "awake",
            GatewayState::Stopping => "stopping",
            GatewayState::Closed => "closed",
        }
    }
}

/// Counters and timers at one moment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GatewaySnapshot {
    pub profile: String,
    pub listen: String,
    pub state: GatewayState,
    /// Why the state changed (e.g. "first connection", "idle 500 ms").
    pub reason: String,
    /// Client connections spliced to Redis right now.
    pub open: u32,
    /// Clients waiting for a wake.
    pub pending: u32,
    /// Client connections accepted since start.
    pub total: u64,
    /// Bytes from clients to Redis and back, since start.
    pub bytes_up: u64,
    pub bytes_down: u64,
    /// Successful wakes (Redis starts) and failed ones.
    pub wakes: u64,
    pub wake_failures: u64,
    /// Clients answered with a RESP error (wake failed, too many waiting or open, shutdown).
    pub refused: u64,
    /// First connection → Redis answering PING, of the last wake.
    pub last_wake_ms: Option<f64>,
    /// Time left before Redis is put to sleep (awake with no open connection).
    pub idle_left_ms: Option<u64>,
}

/// What the gateway tells the engine's consumers.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum GatewayEvent {
    /// The state changed (one line in headless mode).
    State(GatewaySnapshot),
    /// Counters moved (at most a few times per second; the console's pane).
    Stats(GatewaySnapshot),
}

/// Why a client got a RESP error instead of Redis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The wake failed or timed out; the text names the cause.
    WakeFailed(String),
    /// More clients than `max_pending` waiting for a wake.
    TooManyPending(u32),
    /// `max_connections` clients already open.
    TooManyConnections(u32),
    ShuttingDown,
}

impl Refusal {
    /// The RESP error line sent before closing (one line: CR and LF are not allowed in it).
    pub fn resp(&self) -> String {
        let text = match self {
            Refusal::WakeFailed(cause) => format!("Redis did not start: {cause}"),
            Refusal::TooManyPending(n) => format!(
                "too many clients waiting for Redis to start (gateway.max_pending = {n}); retry later"
            ),
            Refusal::TooManyConnections(n) => {
                format!("max number of clients reached (gateway.max_connections = {n})")
            }
            Refusal::ShuttingDown => "shutting down; Redis is being saved and stopped".into(),
        };
        let one_line: String = text
            .split(['\r', '\n'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" | ");
        format!("-ERR redwhisk gateway: {one_line}\r\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_one_resp_error_line() {
        let r = Refusal::WakeFailed("did not answer\nLast log lines:\n  | boom\r\n".into());
        assert_eq!(
            r.resp(),
            "-ERR redwhisk gateway: Redis did not start: did not answer | Last log lines: | | boom\r\n"
        );
        assert!(
            Refusal::TooManyPending(3)
                .resp()
                .contains("max_pending = 3")
        );
    }
}
