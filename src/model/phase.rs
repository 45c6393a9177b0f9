//! Where a run is, and how loud a log line is.

use serde::{Deserialize, Serialize};

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Idle,
    StartingRedis,
    Deploying,
    Invoking,
    Collecting,
    StoppingRedis,
    Done,
    Cancelled,
    Failed,
    /// Redis died or froze mid-run; the run stopped early.
    #[serde(rename = "redis-lost")]
    RedisLost,
    /// redwhisk was killed mid-run; `results repair` finalised what it had streamed.
    Interrupted,
}

impl Phase {
    /// The name in results files (`starting_redis`), as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::StartingRedis => "starting_redis",
            Phase::Deploying => "deploying",
            Phase::Invoking => "invoking",
            Phase::Collecting => "collecting",
            Phase::StoppingRedis => "stopping_redis",
            Phase::Done => "done",
            Phase::Cancelled => "cancelled",
            Phase::Failed => "failed",
            Phase::RedisLost => "redis-lost",
            Phase::Interrupted => "interrupted",
        }
    }

    /// The name on screen (`starting redis`).
    pub fn label(self) -> &'static str {
        match self {
            Phase::Idle => "idle",
            Phase::StartingRedis => "starting redis",
            Phase::Deploying => "deploying",
            Phase::Invoking => "invoking",
            Phase::Collecting => "collecting",
            Phase::StoppingRedis => "stopping redis",
            Phase::Done => "done",
            Phase::Cancelled => "cancelled",
            Phase::Failed => "failed",
            Phase::RedisLost => "redis lost",
            Phase::Interrupted => "interrupted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Info,
    Warn,
    Error,
}
