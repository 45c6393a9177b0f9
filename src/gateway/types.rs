//! Plain data about the gateway, shared with the events, the headless printer and the console.

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
