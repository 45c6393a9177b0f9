//! What the backends share for one call, and what a backend's start returns. Kept out of
//! `mod.rs` so the backends import downward only: `mod.rs` uses them, never the reverse.

use std::time::{Duration, Instant};

use serde::Serialize;

use super::resp;
use super::state::Owner;
use super::types::Endpoint;
use crate::event::EventSink;
use crate::model::ColdStart;
use crate::profile::Profile;
use crate::secret::Secret;

/// A final save of a big data set takes a while: SHUTDOWN is never given less than this.
pub(crate) const STOP_TIMEOUT_MIN: Duration = Duration::from_secs(60);

/// The reply deadline of control commands (PING, INFO, the PING before SHUTDOWN) for a
/// profile: its `ready_timeout_ms`, kept between 1 and 5 seconds.
pub(crate) fn reply_limit(profile: &Profile) -> Duration {
    profile
        .redis
        .ready_timeout
        .clamp(Duration::from_secs(1), resp::REPLY_TIMEOUT)
}

/// What the backends share for one call.
pub(crate) struct Ctx<'a> {
    pub profile: &'a Profile,
    pub owner: Owner,
    pub events: &'a EventSink,
    /// The resolved password of a server we own (unused by `external`, which takes the
    /// profile's password as is).
    pub password: Secret,
    /// Cancelled by the first signal of a run: a save whose process is stopped or paused is
    /// then given up at once instead of after `redis.stop_timeout_ms`.
    pub interrupt: tokio_util::sync::CancellationToken,
}

impl Ctx<'_> {
    /// See [`reply_limit`].
    pub(crate) fn reply_limit(&self) -> Duration {
        reply_limit(self.profile)
    }

    /// How long SHUTDOWN (a final save) and the wait for the exit may take.
    pub(crate) fn save_limit(&self) -> Duration {
        self.profile.redis.ready_timeout.max(STOP_TIMEOUT_MIN)
    }
}

/// One step of a start and how long it took, for the breakdown `bench lifecycle` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StartStep {
    pub step: &'static str,
    pub ms: f64,
}

/// Times consecutive steps: each [`StepClock::mark`] closes the step begun at the previous one.
pub(crate) struct StepClock {
    last: Instant,
    pub steps: Vec<StartStep>,
}

impl StepClock {
    pub(crate) fn start() -> Self {
        Self {
            last: Instant::now(),
            steps: Vec::new(),
        }
    }

    /// The step that ends now is `step`.
    pub(crate) fn mark(&mut self, step: &'static str) {
        let now = Instant::now();
        self.steps.push(StartStep {
            step,
            ms: (now - self.last).as_secs_f64() * 1e3,
        });
        self.last = now;
    }
}

/// The outcome of a backend's start.
pub(crate) struct Up {
    pub endpoint: Endpoint,
    /// Where the start's time went (process backend; empty for the others).
    pub steps: Vec<StartStep>,
    /// `None` when an already running server was adopted (nothing was cold-started).
    pub cold: Option<ColdStart>,
    pub child: Option<tokio::process::Child>,
}

impl Up {
    pub(crate) fn adopted(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            steps: Vec::new(),
            cold: None,
            child: None,
        }
    }
}
