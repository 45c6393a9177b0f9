//! The one skeleton every experiment uses: announce it, make its results directory (a name of
//! its own even when two start in the same second), set up the platform and deploy, send the
//! phases, honour cancellation, write its documents atomically and say how it ended.
//!
//! What differs between experiments (what they invoke, what they measure) stays in each
//! experiment; what they all did six times over lives here once.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{Context, EngineResult};
use crate::event::{EngineEvent, EventSink, Level, Phase};
use crate::platform::{BuiltinAction, Platform};
use crate::profile::Profile;
use futures::stream::FuturesUnordered;

/// One experiment in progress.
#[derive(Debug)]
pub struct Job<'a> {
    pub profile: &'a Profile,
    pub sink: &'a EventSink,
    pub cancel: CancellationToken,
    pub started_at: DateTime<Utc>,
    clock: Instant,
}

/// Whether the platform is checked before anything starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preflight {
    /// OpenWhisk: a wrong key or Redis address costs a second, not a run.
    Check,
    Skip,
}

impl<'a> Job<'a> {
    /// A job that sends no `RunStarted` (a sweep or a failover announces itself otherwise).
    pub fn quiet(profile: &'a Profile, sink: &'a EventSink, cancel: CancellationToken) -> Self {
        Self {
            profile,
            sink,
            cancel,
            started_at: Utc::now(),
            clock: Instant::now(),
        }
    }

    /// Start a job and tell the consumers what it is and how many invocations it plans.
    pub fn announce(
        profile: &'a Profile,
        sink: &'a EventSink,
        cancel: CancellationToken,
        experiment: &str,
        planned: u32,
    ) -> Self {
        sink.send(EngineEvent::RunStarted {
            experiment: experiment.into(),
            profile: profile.name.clone(),
            planned,
        });
        Self::quiet(profile, sink, cancel)
    }

    pub fn phase(&self, phase: Phase) {
        self.sink.send(EngineEvent::Phase(phase));
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Time since the job started.
    pub fn elapsed(&self) -> std::time::Duration {
        self.clock.elapsed()
    }

    /// The profile's platform, checked first when asked.
    pub async fn platform(&self, preflight: Preflight) -> EngineResult<Platform> {
        let platform = Platform::new(self.profile).context("cannot set up the platform")?;
        if preflight == Preflight::Check
            && let Platform::OpenWhisk(ow) = &platform
        {
            ow.preflight(self.profile)
                .await
                .context("preflight check failed before anything started")?;
        }
        Ok(platform)
    }

    /// `Deploying`, then each action under its name.
    pub async fn deploy(
        &self,
        platform: &Platform,
        actions: &[(BuiltinAction, &str)],
    ) -> EngineResult<()> {
        self.phase(Phase::Deploying);
        for (action, name) in actions {
            platform
                .deploy(*action, name, self.sink)
                .await
                .with_context(|| match action {
                    BuiltinAction::Bench => format!("cannot deploy the bench action as `{name}`"),
                    BuiltinAction::Writer => "cannot deploy the writer action".to_string(),
                    BuiltinAction::Reader => "cannot deploy the reader action".to_string(),
                })?;
        }
        Ok(())
    }

    /// A new results directory `<root>/<UTC time>-<profile>[-<kind>]`, made here (so no other
    /// job, in this process or another, gets the same one): `-2`, `-3`… when taken.
    pub fn results_dir(&self, root: &Path, kind: &str) -> EngineResult<PathBuf> {
        let base = crate::results::run_dir_name(self.started_at, &self.profile.name);
        let base = if kind.is_empty() {
            base
        } else {
            format!("{base}-{kind}")
        };
        crate::results::unique_dir(root, &base)
            .with_context(|| format!("cannot create a results directory under {}", root.display()))
    }

    /// `Done` or `Cancelled`, sent and returned.
    pub fn finish(&self, cancelled: bool) -> Phase {
        let outcome = if cancelled {
            Phase::Cancelled
        } else {
            Phase::Done
        };
        self.phase(outcome);
        outcome
    }
}

/// Write `value` as pretty JSON at `path`, atomically (a hidden temporary name, then renamed).
pub fn write_json(path: &Path, value: &impl Serialize) -> EngineResult<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let text = serde_json::to_vec_pretty(value)?;
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Log once that Redis is gone and drop the invocations still in flight; returns the message.
pub(super) fn redis_lost<T>(
    sink: &EventSink,
    at: u32,
    why: &crate::redis_host::HostError,
    in_flight: &mut FuturesUnordered<T>,
) -> String {
    let message = format!("Redis died at invocation {at} ({why})");
    sink.log(
        Level::Error,
        format!(
            "{message}; stopping the run ({} in flight dropped)",
            in_flight.len()
        ),
    );
    in_flight.clear();
    message
}
