//! The scale-to-zero gateway's state and counters, as events carry them.

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
