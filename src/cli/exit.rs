//! Exit codes, decided here for every command (README, "Faults and signals"): 0 as asked;
//! 2 it ran but some of it failed; 3 Redis was lost (or `compare` found B slower); 4 Redis did
//! not stop cleanly; 128 + the signal when cancelled; 1 an error stopped it (clap's usage
//! errors are 2 too).

use std::process::ExitCode;

use super::signals::Signal;

/// How a command ended, as the shell sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: everything as asked.
    Success,
    /// 2: it ran and wrote its results, but some of it failed: invocations, a share cell not
    /// as expected, keys lost by a benchmark, a profile that does not load.
    Failures,
    /// 3: Redis died or froze mid-run, or a cluster did not recover (partial results written).
    RedisLost,
    /// 3: `compare --fail-if-slower`: B is slower than A beyond the threshold.
    Slower,
    /// 4: the run finished but Redis did not stop cleanly (run.json says why).
    StopFailed,
    /// 130 / 143 / 129: cancelled by SIGINT / SIGTERM / SIGHUP (130 when cancelled otherwise).
    Cancelled(Option<Signal>),
    /// 1: an error stopped the command; it has been printed as `error: …`.
    Error,
}

/// What a job that runs experiments reports at its end, for [`Exit::of`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Ending {
    /// It stopped because it was cancelled (results marked partial).
    pub cancelled: bool,
    /// The first signal received, if any.
    pub signal: Option<Signal>,
    pub redis_lost: bool,
    pub stop_failed: bool,
    /// Something ran but did not succeed (see [`Exit::Failures`]).
    pub failures: bool,
}

impl Exit {
    /// A signal wins, then a lost Redis, then a failed stop, then failures.
    pub fn of(e: Ending) -> Exit {
        if e.cancelled {
            Exit::Cancelled(e.signal)
        } else if e.redis_lost {
            Exit::RedisLost
        } else if e.stop_failed {
            Exit::StopFailed
        } else if e.failures {
            Exit::Failures
        } else {
            Exit::Success
        }
    }

    /// The process exit status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Success => 0,
            Exit::Error => 1,
            Exit::Failures => 2,
            Exit::RedisLost | Exit::Slower => 3,
            Exit::StopFailed => 4,
            Exit::Cancelled(sig) => {
                u8::try_from(128 + sig.map_or(2, Signal::number)).unwrap_or(130)
            }
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(Exit::Success.code(), 0);
        assert_eq!(Exit::Error.code(), 1);
        assert_eq!(Exit::Failures.code(), 2);
        assert_eq!(Exit::RedisLost.code(), 3);
        assert_eq!(Exit::Slower.code(), 3);
        assert_eq!(Exit::StopFailed.code(), 4);
        assert_eq!(Exit::Cancelled(Some(Signal::INTERRUPT)).code(), 130);
        assert_eq!(Exit::Cancelled(Some(Signal::TERMINATE)).code(), 143);
        assert_eq!(Exit::Cancelled(Some(Signal::HANGUP)).code(), 129);
        assert_eq!(Exit::Cancelled(None).code(), 130);
    }

    #[test]
    fn a_signal_wins_then_a_lost_redis_then_a_failed_stop_then_failures() {
        let all = Ending {
            cancelled: true,
            signal: Some(Signal::TERMINATE),
            redis_lost: true,
            stop_failed: true,
            failures: true,
        };
        assert_eq!(Exit::of(all).code(), 143);
        let lost = Ending {
            cancelled: false,
            ..all
        };
        assert_eq!(Exit::of(lost), Exit::RedisLost);
        let stop = Ending {
            redis_lost: false,
            ..lost
        };
        assert_eq!(Exit::of(stop), Exit::StopFailed);
        let failed = Ending {
            stop_failed: false,
            ..stop
        };
        assert_eq!(Exit::of(failed), Exit::Failures);
        assert_eq!(Exit::of(Ending::default()), Exit::Success);
    }
}
