//! Durations with their allowed range: one [`DurationRange`] checks a profile's `*_ms` field and
//! parses the matching command-line flag (`500ms`, `30s`, `5m`; a bare number is milliseconds),
//! so both accept the same values and say the same thing when they do not.

use std::fmt;
use std::time::Duration;

/// Why a duration was refused. `Display` says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a duration at all.
    #[error("\"{text}\" is not a duration ({reason}); write e.g. 500ms, 30s or 5m")]
    Syntax { text: String, reason: String },
    /// A duration outside the range; `value`, `min` and `max` are written the way the value
    /// was given (milliseconds for a profile field, `10ms` / `1day` for a flag).
    #[error("{value} is out of range; use a value from {min} to {max}")]
    OutOfRange {
        value: String,
        min: String,
        max: String,
    },
}

/// The durations a setting may take, from `min` to `max` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationRange {
    pub min: Duration,
    pub max: Duration,
}

/// `gateway.idle_ms` and `redwhisk gateway --idle`: below 10 ms the gateway would stop Redis
/// between two commands of one client; above a day it would never sleep.
pub const GATEWAY_IDLE: DurationRange = DurationRange::millis(10, 86_400_000);
/// `gateway.handshake_timeout_ms`.
pub const GATEWAY_HANDSHAKE: DurationRange = DurationRange::millis(10, 86_400_000);
/// `gateway.client_idle_timeout_ms` (0 in the file: never).
pub const GATEWAY_CLIENT_IDLE: DurationRange = DurationRange::millis(10, 86_400_000);
/// `gateway.wake_timeout_ms`.
pub const GATEWAY_WAKE_TIMEOUT: DurationRange = DurationRange::millis(100, 600_000);
/// `redis.ready_timeout_ms`.
pub const READY_TIMEOUT: DurationRange = DurationRange::millis(100, 600_000);
/// `redis.stop_timeout_ms`: how long a final save may go without progress.
pub const STOP_TIMEOUT: DurationRange = DurationRange::millis(100, 3_600_000);
/// `redis.cluster.node_timeout_ms`.
pub const NODE_TIMEOUT: DurationRange = DurationRange::millis(100, 600_000);
/// `platform.poll_deadline_ms`.
pub const POLL_DEADLINE: DurationRange = DurationRange::millis(1_000, 3_600_000);
/// `workload.timeout_ms`.
pub const INVOCATION_TIMEOUT: DurationRange = DurationRange::millis(100, 300_000);

impl DurationRange {
    /// From `min_ms` to `max_ms` milliseconds.
    pub const fn millis(min_ms: u64, max_ms: u64) -> Self {
        Self {
            min: Duration::from_millis(min_ms),
            max: Duration::from_millis(max_ms),
        }
    }

    /// A profile's `*_ms` integer. The error writes the bounds in milliseconds, as the field.
    pub fn check_ms(&self, ms: i64) -> Result<Duration, DurationError> {
        match u64::try_from(ms).map(Duration::from_millis) {
            Ok(d) if self.contains(d) => Ok(d),
            _ => Err(DurationError::OutOfRange {
                value: ms.to_string(),
                min: self.min.as_millis().to_string(),
                max: self.max.as_millis().to_string(),
            }),
        }
    }

    /// A command-line value: `500ms`, `2s`, `1m30s`, or a bare number of milliseconds.
    pub fn parse(&self, text: &str) -> Result<Duration, DurationError> {
        let d = match text.trim().parse::<u64>() {
            Ok(ms) => Duration::from_millis(ms),
            Err(_) => humantime::parse_duration(text).map_err(|e| DurationError::Syntax {
                text: text.to_string(),
                reason: e.to_string(),
            })?,
        };
        self.check(d).map_err(|_| DurationError::OutOfRange {
            value: text.trim().to_string(),
            min: Human(self.min).to_string(),
            max: Human(self.max).to_string(),
        })
    }

    /// A duration computed by the program (a benchmark's idle time, a default).
    pub fn check(&self, d: Duration) -> Result<Duration, DurationError> {
        if self.contains(d) {
            Ok(d)
        } else {
            Err(DurationError::OutOfRange {
                value: Human(d).to_string(),
                min: Human(self.min).to_string(),
                max: Human(self.max).to_string(),
            })
        }
    }

    /// A profile's optional `*_ms` field, `default` when absent; the error names the field.
    pub(super) fn field(
        &self,
        file: &str,
        field: &str,
        ms: Option<i64>,
        default: Duration,
    ) -> Result<Duration, super::error::ProfileError> {
        let Some(ms) = ms else { return Ok(default) };
        self.check_ms(ms)
            .map_err(|e| super::error::ProfileError::Invalid {
                file: file.to_string(),
                field: field.to_string(),
                message: e.to_string(),
            })
    }

    fn contains(&self, d: Duration) -> bool {
        (self.min..=self.max).contains(&d)
    }
}

/// A duration as a flag takes it: `0ms`, `10ms`, `1day`.
struct Human(Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_zero() {
            return f.write_str("0ms");
        }
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_take_units_or_bare_milliseconds() {
        assert_eq!(GATEWAY_IDLE.parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(GATEWAY_IDLE.parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(GATEWAY_IDLE.parse("250"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn flags_out_of_range_say_the_range_in_the_flag_s_units() {
        assert_eq!(
            GATEWAY_IDLE.parse("5ms").unwrap_err().to_string(),
            "5ms is out of range; use a value from 10ms to 1day"
        );
        assert_eq!(
            GATEWAY_IDLE.parse("2days").unwrap_err().to_string(),
            "2days is out of range; use a value from 10ms to 1day"
        );
    }

    #[test]
    fn garbage_says_what_to_write() {
        let e = GATEWAY_IDLE.parse("soon").unwrap_err().to_string();
        assert!(e.starts_with("\"soon\" is not a duration ("), "{e}");
        assert!(e.ends_with("); write e.g. 500ms, 30s or 5m"), "{e}");
    }

    #[test]
    fn profile_fields_are_milliseconds_and_say_so() {
        assert_eq!(GATEWAY_IDLE.check_ms(10), Ok(Duration::from_millis(10)));
        assert_eq!(
            GATEWAY_IDLE.check_ms(0).unwrap_err().to_string(),
            "0 is out of range; use a value from 10 to 86400000"
        );
        assert_eq!(
            GATEWAY_IDLE.check_ms(-1).unwrap_err().to_string(),
            "-1 is out of range; use a value from 10 to 86400000"
        );
    }

    #[test]
    fn a_zero_minimum_is_written_with_its_unit() {
        let r = DurationRange::millis(0, 1_000);
        assert_eq!(
            r.parse("2s").unwrap_err().to_string(),
            "2s is out of range; use a value from 0ms to 1s"
        );
        assert_eq!(r.parse("0"), Ok(Duration::ZERO));
    }
}
