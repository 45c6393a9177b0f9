//! The embedded `local` platform: native actions run as child processes under OpenWhisk's
//! native (blackbox) contract, and every invocation yields an OpenWhisk-shaped [`Activation`].
//!
//! By default an action is this very binary re-executed with `REDWHISK_ACTION=<action>` (see
//! `main.rs`), so nothing has to be installed. `initTime` is never set: a new process per
//! invocation is not a container cold start (see actions/README.md, "The local platform").

mod process;
pub use process::{Steps, spawn_retrying_busy};
mod record;
mod shared;
mod warm;
pub use shared::LOCAL_NAMESPACE;
use shared::lock;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::builtin::BuiltinAction;
use super::error::PlatformError;
use crate::event::EventSink;
use crate::model::Activation;
use crate::profile::{PlatformConfig, Profile};

/// OpenWhisk's default log limit per activation (10 MB).
pub const LOG_LIMIT_BYTES: usize = 10 * 1024 * 1024;
/// Activation records kept for [`LocalPlatform::activation`]; older ones are dropped.
const KEPT_ACTIVATIONS: usize = 256;

/// What runs when an action is invoked.
#[derive(Debug, Clone)]
struct Exec {
    program: PathBuf,
    env: Vec<(String, String)>,
    /// A built-in action, which speaks the ActionLoop protocol and so can be kept warm.
    loops: bool,
}

#[derive(Debug)]
struct Inner {
    runner: PathBuf,
    timeout: Duration,
    log_limit: usize,
    actions: Mutex<HashMap<String, Exec>>,
    /// Warm processes, when actions are kept warm (`platform.keep_warm`).
    warm: Option<Arc<warm::Pool>>,
    activations: Mutex<VecDeque<Activation>>,
    next_index: AtomicU32,
}

/// The local platform. Cheap to clone (shared state); invocations may run concurrently.
#[derive(Debug, Clone)]
pub struct LocalPlatform {
    inner: Arc<Inner>,
}

impl LocalPlatform {
    /// A platform whose actions time out after `timeout`, run by [`default_runner`].
    pub fn new(timeout: Duration) -> Result<Self, PlatformError> {
        Ok(Self::build(default_runner()?, timeout, LOG_LIMIT_BYTES))
    }

    /// The platform for a profile: its `workload.timeout` is the action time limit, and
    /// `platform.keep_warm` says whether action processes are kept between activations.
    pub fn from_profile(profile: &Profile) -> Result<Self, PlatformError> {
        let keep_warm = match &profile.platform {
            PlatformConfig::Local(c) => c.keep_warm,
            _ => false,
        };
        Ok(Self::new(profile.workload.timeout)?.with_keep_warm(keep_warm))
    }

    /// Keep built-in actions' processes warm between activations (or stop doing so).
    /// Forgets earlier deployments.
    pub fn with_keep_warm(self, keep_warm: bool) -> Self {
        let mut p = Self::build(
            self.inner.runner.clone(),
            self.inner.timeout,
            self.inner.log_limit,
        );
        if keep_warm && let Some(inner) = Arc::get_mut(&mut p.inner) {
            inner.warm = Some(Arc::new(warm::Pool::default()));
        }
        p
    }

    /// Whether built-in actions are kept warm.
    pub fn keeps_warm(&self) -> bool {
        self.inner.warm.is_some()
    }

    /// How many warm processes of `name` are idle now (0 when nothing is kept warm).
    pub fn idle_warm(&self, name: &str) -> usize {
        self.inner.warm.as_ref().map_or(0, |w| w.idle(name))
    }

    fn build(runner: PathBuf, timeout: Duration, log_limit: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                runner,
                timeout,
                log_limit,
                warm: None,
                actions: Mutex::new(HashMap::new()),
                activations: Mutex::new(VecDeque::new()),
                next_index: AtomicU32::new(0),
            }),
        }
    }

    /// Run built-in actions with `runner` (a redwhisk binary) instead of the current executable;
    /// tests pass `env!("CARGO_BIN_EXE_redwhisk")`. Forgets earlier deployments.
    pub fn with_runner(self, runner: impl Into<PathBuf>) -> Self {
        let warm = self.keeps_warm();
        Self::build(runner.into(), self.inner.timeout, self.inner.log_limit).with_keep_warm(warm)
    }

    /// Change the action time limit. Forgets earlier deployments.
    pub fn with_timeout(self, timeout: Duration) -> Self {
        let warm = self.keeps_warm();
        Self::build(self.inner.runner.clone(), timeout, self.inner.log_limit).with_keep_warm(warm)
    }

    /// Change the per-activation log limit (bytes). Forgets earlier deployments.
    pub fn with_log_limit(self, bytes: usize) -> Self {
        let warm = self.keeps_warm();
        Self::build(self.inner.runner.clone(), self.inner.timeout, bytes).with_keep_warm(warm)
    }

    /// The action time limit.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Make built-in `action` invocable as `name` (overwriting an earlier deployment).
    pub fn deploy(
        &self,
        action: BuiltinAction,
        name: &str,
        events: &EventSink,
    ) -> Result<(), PlatformError> {
        let program = self.inner.runner.clone();
        check_executable(&program)?;
        self.register(
            name,
            Exec {
                program: program.clone(),
                env: vec![("REDWHISK_ACTION".into(), action.as_str().into())],
                loops: true,
            },
        );
        events.info(format!(
            "deployed the {} action as `{name}` on the local platform ({})",
            action.as_str(),
            program.display()
        ));
        Ok(())
    }

    /// Make any executable invocable as `name` under the same contract (tests, custom actions).
    pub fn deploy_executable(&self, name: &str, path: &Path) -> Result<(), PlatformError> {
        check_executable(path)?;
        self.register(
            name,
            Exec {
                program: path.to_path_buf(),
                env: Vec::new(),
                loops: false,
            },
        );
        Ok(())
    }

    fn register(&self, name: &str, exec: Exec) {
        lock(&self.inner.actions).insert(name.to_string(), exec);
        // Processes of an earlier deployment under this name must not serve the new one.
        if let Some(w) = &self.inner.warm {
            w.clear(name);
        }
    }

    /// Invoke `name` with `params` and wait for its record. A failed action is an `Ok` record.
    pub async fn invoke(
        &self,
        name: &str,
        params: serde_json::Value,
    ) -> Result<Activation, PlatformError> {
        self.invoke_timed(name, params).await.map(|(a, _)| a)
    }

    /// [`Self::invoke`], and where the activation's time went on this side of the pipes.
    pub async fn invoke_timed(
        &self,
        name: &str,
        params: serde_json::Value,
    ) -> Result<(Activation, Steps), PlatformError> {
        let requested = std::time::Instant::now();
        let exec = lock(&self.inner.actions)
            .get(name)
            .cloned()
            .ok_or_else(|| PlatformError::UnknownAction(name.to_string()))?;
        let index = self.inner.next_index.fetch_add(1, Ordering::Relaxed);
        let spec = process::Spec {
            name,
            program: &exec.program,
            env: &exec.env,
            timeout: self.inner.timeout,
            log_limit: self.inner.log_limit,
        };
        let ran = match &self.inner.warm {
            Some(pool) if exec.loops => warm::run(pool, &spec, &params, requested).await?,
            _ => process::run(&spec, &params, requested).await?,
        };
        let mut steps = ran.steps;
        let building = std::time::Instant::now();
        let activation = record::build(
            index,
            name,
            &self.inner.timeout,
            self.inner.log_limit,
            ran,
            requested,
        );
        let mut kept = lock(&self.inner.activations);
        if kept.len() >= KEPT_ACTIVATIONS {
            kept.pop_front();
        }
        kept.push_back(activation.clone());
        drop(kept);
        steps.record_us = process::us_between(building, std::time::Instant::now());
        Ok((activation, steps))
    }

    /// A record produced by this platform, by activation id (the last 256 are kept, so memory stays bounded over long runs).
    pub fn activation(&self, id: &str) -> Option<Activation> {
        lock(&self.inner.activations)
            .iter()
            .rev()
            .find(|a| a.activation_id == id)
            .cloned()
    }
}

/// The redwhisk binary that runs built-in actions: `$REDWHISK_RUNNER` when set, else the current
/// executable — except under `cargo test`, where the current executable is a test harness in
/// `target/<profile>/deps/` and the redwhisk binary next to that directory is used instead.
pub fn default_runner() -> Result<PathBuf, PlatformError> {
    if let Some(path) = std::env::var_os("REDWHISK_RUNNER") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().map_err(PlatformError::CurrentExe)?;
    let harness_dir = exe
        .parent()
        .filter(|d| d.file_name().is_some_and(|n| n == "deps"));
    if let Some(bin) = harness_dir
        .and_then(Path::parent)
        .map(|d| d.join("redwhisk"))
        .filter(|b| b.is_file())
    {
        return Ok(bin);
    }
    Ok(exe)
}

fn check_executable(path: &Path) -> Result<(), PlatformError> {
    if path.is_file() {
        Ok(())
    } else {
        Err(PlatformError::MissingExecutable(path.to_path_buf()))
    }
}
