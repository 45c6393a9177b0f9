//! The Redis host: a Redis that exists only while functions need it.
//!
//! Three backends behind one type, chosen per profile: `process` (a `redis-server` child),
//! `docker` (a container through bollard) and `external` (a Redis we do not own).
//! Start and stop are safe to repeat; every step is reported as [`EngineEvent`]s.
//!
//! Room left on purpose: a scale-to-zero gateway would call [`RedisHost::up`] on the first
//! connection and [`RedisHost::down`] after an idle period; snapshots to S3-compatible storage
//! would copy the data directory after a graceful `down` and back before `up`.

pub mod cluster;
mod container;
mod ctx;
mod docker;
mod error;
mod external;
pub mod image;
mod lock;
mod ops;
pub mod password;
mod path;
mod ports;
pub mod process;
mod ready;
mod resp;
mod save_watch;
pub mod state;
pub mod stats;
mod tls;
mod types;

pub use crate::model::redis::NodeStatus;
pub use crate::model::redis::{
    ClusterStart, ColdStart, RedisState, RedisStatus, StopMode, StopReport,
};
pub use container::connect as docker_connect;
pub use ctx::StartStep;
pub(crate) use ctx::{Ctx, STOP_TIMEOUT_MIN, Up, reply_limit};
pub use error::HostError;
pub use lock::LOCK_FILE;
pub use path::NetworkPath;
pub use state::Owner;
pub use types::Endpoint;

use std::time::Duration;

use crate::event::{EngineEvent, EventSink};
use crate::profile::{Backend, Persistence, Profile};
use crate::secret::Secret;
use crate::snapshots::{self, SnapshotId};

/// Poll `ep` every millisecond until it answers PING (for baselines measured next to ours).
pub async fn wait_for_pong(ep: &Endpoint, timeout: Duration) -> Result<(), HostError> {
    ready::wait_ready(ep, timeout, || async { None }, || async { String::new() }).await
}

/// Send the SHUTDOWN that fits `persistence` to any Redis (for baselines and tests).
pub async fn shutdown(ep: &Endpoint, persistence: &Persistence) -> Result<(), HostError> {
    ops::shutdown(ep, persistence, resp::REPLY_TIMEOUT, STOP_TIMEOUT_MIN).await
}

/// One profile's Redis host.
#[derive(Debug)]
pub struct RedisHost {
    profile: Profile,
    owner: Owner,
    /// Our own `redis-server` child, kept so we can reap it after it exits.
    child: Option<tokio::process::Child>,
    /// `--restore ID`: restore this snapshot at the next start, whatever the data directory holds.
    restore: Option<SnapshotId>,
    /// The profile's lock, taken by the first start or stop and held while this host lives.
    lock: Option<lock::ProfileLock>,
    /// `redis down --force`: stop a Redis another live process owns.
    force: bool,
    /// A cluster's own `redis-server` children, one per node (process backend).
    node_children: Vec<Option<tokio::process::Child>>,
    /// Since when [`RedisHost::check_alive`] has found the cluster not serving every slot.
    cluster_unhealthy_since: std::sync::Mutex<Option<std::time::Instant>>,
    /// The shaping proxy this host started (`[redis.network_emulation]`), kept to reap it.
    netem_child: Option<tokio::process::Child>,
    /// See [`RedisHost::with_interrupt`].
    interrupt: tokio_util::sync::CancellationToken,
}

/// What [`RedisHost::up`] produced: where to connect and, when a server was started, its
/// cold-start breakdown. The caller decides whether to report it (as
/// [`EngineEvent::ColdStart`]).
#[derive(Debug, Clone)]
pub struct Started {
    pub endpoint: Endpoint,
    /// `None` when an already running server was adopted (nothing was cold-started).
    pub cold_start: Option<ColdStart>,
    /// Where the start's time went, step by step (process backend; empty for the others).
    pub steps: Vec<StartStep>,
    /// `[redis.network_emulation]`: the path the functions take (through the shaping proxy)
    /// and what was measured through it. `endpoint` stays direct, for redwhisk's own control.
    pub network: Option<NetworkPath>,
}

impl Started {
    /// Where the functions connect: the shaping proxy under network emulation, else Redis.
    pub fn for_functions(&self) -> &Endpoint {
        self.network
            .as_ref()
            .map_or(&self.endpoint, |n| &n.endpoint)
    }
}

impl RedisHost {
    /// A host owned by this console: if the console dies, the next start reaps its server.
    pub fn new(profile: &Profile) -> Result<Self, HostError> {
        Ok(Self {
            profile: profile.clone(),
            owner: Owner::this_console(),
            child: None,
            restore: None,
            lock: None,
            force: false,
            node_children: Vec::new(),
            cluster_unhealthy_since: std::sync::Mutex::new(None),
            netem_child: None,
            interrupt: tokio_util::sync::CancellationToken::new(),
        })
    }

    /// A token the first signal cancels: a final save whose process is then stopped (SIGSTOP)
    /// or paused is given up at once rather than after `redis.stop_timeout_ms`; a save that
    /// makes progress still finishes.
    pub fn with_interrupt(mut self, token: tokio_util::sync::CancellationToken) -> Self {
        self.interrupt = token;
        self
    }

    /// Let [`RedisHost::down`] stop a Redis that another live process owns (`--force`).
    pub fn with_force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// Take the profile's lock (once) before anything else happens. With `force`, a lock held
    /// elsewhere is reported as a warning instead of an error.
    async fn take_lock(&mut self, events: &EventSink, force: bool) -> Result<(), HostError> {
        if self.lock.is_some() || matches!(self.profile.redis.backend, Backend::External { .. }) {
            return Ok(());
        }
        let dir = self.profile.redis.data_dir.clone();
        password::ensure_data_dir(&dir).await?;
        let name = self.profile.name.clone();
        // Inline, not on the blocking pool: a non-blocking flock and a short write, where the
        // pool's round trip measured ~1 ms on a busy machine on the path to every start.
        let taken = lock::acquire(&dir, &name);
        match taken {
            Ok(l) => self.lock = Some(l),
            Err(HostError::Locked { owner, .. }) if force => events.warn(format!(
                "--force: going ahead although profile `{}` is in use by {owner}",
                self.profile.name
            )),
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Take the profile's lock now and hold it while this host lives, and create the data
    /// directory and the stored password (when the profile sets none), without starting
    /// anything: a long-lived owner (the gateway) claims the profile before its first start, so
    /// a second owner is refused at once and the password file can be read before Redis runs.
    pub async fn claim(&mut self, events: &EventSink) -> Result<(), HostError> {
        self.take_lock(events, false).await?;
        if !matches!(self.profile.redis.backend, Backend::External { .. }) {
            password::ensure_data_dir(&self.profile.redis.data_dir).await?;
            password::resolve(&self.profile).await?;
        }
        Ok(())
    }

    /// Change who owns the servers this host starts ([`Owner::Detached`] for `redis up`).
    pub fn with_owner(mut self, owner: Owner) -> Self {
        self.owner = owner;
        self
    }

    /// Restore this snapshot at the next start (local data files are moved aside, not
    /// deleted). Needs a `[snapshots]` section.
    pub fn with_restore(mut self, id: SnapshotId) -> Self {
        self.restore = Some(id);
        self
    }

    /// The profile this host serves.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// `create`: make the data dir and password if missing (start). Stop and status do not
    /// create anything: with no data dir, nothing of ours can be running.
    async fn ctx<'a>(&'a self, events: &'a EventSink, create: bool) -> Result<Ctx<'a>, HostError> {
        let dir = &self.profile.redis.data_dir;
        let password = match &self.profile.redis.backend {
            Backend::External { .. } => Secret::new(""),
            _ if !create && !tokio::fs::try_exists(dir).await.unwrap_or(false) => self
                .profile
                .redis
                .password
                .clone()
                .unwrap_or_else(|| Secret::new("")),
            _ => {
                password::ensure_data_dir(dir).await?;
                password::resolve(&self.profile).await?
            }
        };
        Ok(Ctx {
            profile: &self.profile,
            owner: self.owner,
            events,
            password,
            interrupt: self.interrupt.clone(),
        })
    }

    /// Ensure image → create → start → wait for PONG. Returns where to connect with the
    /// cold-start breakdown. Emits `RedisState` changes (and pull progress, logs).
    pub async fn up(&mut self, events: &EventSink) -> Result<Started, HostError> {
        events.send(EngineEvent::RedisState(RedisState::Starting));
        let mut clock = ctx::StepClock::start();
        let result = match self.take_lock(events, false).await {
            Ok(()) => {
                clock.mark("profile lock");
                self.up_inner(events, clock).await
            }
            Err(e) => Err(e),
        };
        if result.is_ok() {
            self.restore = None;
        }
        match result {
            Ok(mut up) => {
                if up.child.is_some() {
                    self.child = up.child.take();
                }
                let t_network = std::time::Instant::now();
                let network = match self.network_up(&up, events).await {
                    Ok(n) => n,
                    Err(e) => {
                        events.send(EngineEvent::RedisState(RedisState::Failed));
                        return Err(e);
                    }
                };
                up.steps.push(StartStep {
                    step: "shaping proxy (start, or check none is left)",
                    ms: t_network.elapsed().as_secs_f64() * 1e3,
                });
                if let (Some(n), Some(cold)) = (&network, up.cold.as_mut()) {
                    cold.network_emulation = Some(n.record.clone());
                }
                events.send(EngineEvent::RedisState(RedisState::Running));
                if let Some(w) = exposure_warning(&self.profile, up.endpoint.port) {
                    events.warn(w);
                }
                Ok(Started {
                    endpoint: up.endpoint,
                    cold_start: up.cold,
                    steps: up.steps,
                    network,
                })
            }
            Err(e) => {
                events.send(EngineEvent::RedisState(RedisState::Failed));
                Err(e)
            }
        }
    }

    /// After Redis is up: the shaping proxy (or the reaping of a stale one). A proxy that
    /// cannot start stops the Redis this start cold-started, so nothing is left half-made.
    async fn network_up(
        &mut self,
        up: &Up,
        events: &EventSink,
    ) -> Result<Option<NetworkPath>, HostError> {
        if self.profile.redis.owned_cluster().is_some() {
            return Ok(None);
        }
        // Nothing asked for and no proxy left from an earlier start: nothing to do (and no
        // password file to read on the path to every start).
        if self.profile.redis.network_emulation.is_none()
            && crate::netem::process::read(&self.profile.redis.data_dir).is_none()
        {
            return Ok(None);
        }
        let ctx = self.ctx(events, false).await?;
        let result = path::up(&ctx, &up.endpoint, up.cold.is_none()).await;
        drop(ctx);
        match result {
            Ok((network, child)) => {
                if child.is_some() {
                    self.netem_child = child;
                }
                Ok(network)
            }
            Err(e) => {
                if up.cold.is_some()
                    && let Err(stop) = self.down(StopMode::Graceful, events).await
                {
                    events.warn(format!(
                        "the shaping proxy failed and Redis did not stop cleanly either: {stop}"
                    ));
                }
                Err(e)
            }
        }
    }

    /// `clock` has timed the steps before; the data directory and password step is added here,
    /// ahead of the backend's own steps.
    async fn up_inner(
        &mut self,
        events: &EventSink,
        mut clock: ctx::StepClock,
    ) -> Result<Up, HostError> {
        if let Some(cluster) = self.profile.redis.owned_cluster() {
            let ctx = self.ctx(events, true).await?;
            let (up, children) = cluster::up(&ctx, &cluster).await?;
            drop(ctx);
            self.node_children = children;
            return Ok(up);
        }
        let ctx = self.ctx(events, true).await?;
        clock.mark("data directory and password");
        let backend = async {
            let up = match &self.profile.redis.backend {
                Backend::Process { server_bin } => process::up(&ctx, server_bin).await,
                Backend::Docker { .. } => docker::up(&ctx).await,
                Backend::External { url, seeds } => {
                    let up = external::up_any(&ctx, url, seeds).await?;
                    if self.profile.redis.is_cluster() {
                        cluster::check_external(&up.endpoint, ctx.reply_limit()).await?;
                    }
                    Ok(up)
                }
            };
            up.map(|mut up| {
                clock.steps.append(&mut up.steps);
                up.steps = clock.steps;
                up
            })
        };
        let Some(cfg) = self.snapshot_config() else {
            if self.restore.is_some() {
                return Err(HostError::Snapshot(snapshots::SnapshotError::Refused(
                    format!(
                        "profile `{}` has no [snapshots] section (or an external Redis): nothing to restore from",
                        self.profile.name
                    ),
                )));
            }
            return backend.await;
        };
        let dir = &self.profile.redis.data_dir;
        let running = self.server_recorded().await?;
        let had_data = snapshots::local::has_data(dir).await?;
        let restored =
            snapshots::before_start(&self.profile, cfg, self.restore.as_ref(), running, events)
                .await?;
        let mut up = if restored.is_none() && had_data && !running {
            // Local data wins; learn the store's latest meanwhile (a warning if unreachable).
            let (_, up) = tokio::join!(
                snapshots::lookup_latest(&self.profile, cfg, events),
                backend
            );
            up?
        } else {
            backend.await?
        };
        if let (Some(r), Some(cold)) = (restored, up.cold.as_mut()) {
            cold.total_ms += r.total_ms;
            if let Some(expected) = r.keys_expected
                && expected != cold.keys_restored
            {
                if expected > 0 && cold.keys_restored == 0 {
                    // Never an empty Redis in place of a snapshot that held keys: its next
                    // stop would upload an empty "latest". Stopped without saving.
                    let msg = format!(
                        "snapshot {} held {expected} keys but Redis loaded none of them from {}; Redis was stopped without saving, so no empty snapshot replaces it. Check the Redis log there, or restore another snapshot (`redwhisk snapshots list --profile {}`)",
                        r.id,
                        dir.display(),
                        self.profile.name
                    );
                    let _ = self.down(StopMode::Crash, events).await;
                    return Err(HostError::Snapshot(snapshots::SnapshotError::Refused(msg)));
                }
                events.warn(format!(
                    "snapshots: {} held {expected} keys before its stop; Redis loaded {}",
                    r.id, cold.keys_restored
                ));
            }
            cold.restore = Some(r);
        }
        Ok(up)
    }

    /// The `[snapshots]` section, for a Redis whose files we own.
    fn snapshot_config(&self) -> Option<&snapshots::SnapshotConfig> {
        match self.profile.redis.backend {
            Backend::External { .. } => None,
            _ => self.profile.snapshots.as_ref(),
        }
    }

    /// A server of this profile is recorded as running (a dead pid does not count).
    async fn server_recorded(&self) -> Result<bool, HostError> {
        Ok(match state::read(&self.profile.redis.data_dir).await? {
            Some(st) => match st.pid {
                Some(pid) => state::pid_is_redis(pid, st.pid_start).await,
                None => true,
            },
            None => false,
        })
    }

    /// SHUTDOWN SAVE (or NOSAVE) and wait for exit; or a crash stop (SIGKILL, no save).
    /// Safe to repeat: with nothing running it reports `was_running: false`.
    pub async fn down(
        &mut self,
        mode: StopMode,
        events: &EventSink,
    ) -> Result<StopReport, HostError> {
        events.send(EngineEvent::RedisState(RedisState::Stopping));
        if let Err(e) = self.may_stop(events).await {
            events.send(EngineEvent::RedisState(RedisState::Failed));
            return Err(e);
        }
        let child = self.child.take();
        if let Some(cluster) = self.profile.redis.owned_cluster() {
            let children = std::mem::take(&mut self.node_children);
            let ctx = self.ctx(events, false).await?;
            let result = cluster::down(&ctx, &cluster, mode, children).await;
            events.send(EngineEvent::RedisState(if result.is_ok() {
                RedisState::Stopped
            } else {
                RedisState::Failed
            }));
            return result;
        }
        let netem_child = self.netem_child.take();
        let ctx = self.ctx(events, false).await?;
        // The functions' path goes first: nothing reaches Redis through it while it saves.
        let proxy = path::down(&ctx).await;
        if let Some(mut c) = netem_child {
            let _status = c.wait().await;
        }
        if let Err(e) = &proxy {
            events.warn(format!("the shaping proxy did not stop cleanly: {e}"));
        }
        let snap = self
            .snapshot_config()
            .filter(|_| mode == StopMode::Graceful)
            .filter(|_| self.profile.redis.persistence != Persistence::None);
        // What the manifest records about the data (Redis cannot be asked once stopped).
        let pre = match snap {
            Some(_) => match self.status().await {
                Ok(s) => snapshots::PreStop {
                    redis_version: s.redis_version,
                    keys: s.keys,
                },
                Err(_) => snapshots::PreStop::default(),
            },
            None => snapshots::PreStop::default(),
        };
        let mut result = match &self.profile.redis.backend {
            Backend::Process { .. } => process::down(&ctx, mode, child).await,
            Backend::Docker { .. } => docker::down(&ctx, mode).await,
            Backend::External { .. } => {
                events.info("the external Redis is not owned by redwhisk: left running");
                Ok(StopReport::nothing(mode))
            }
        };
        if let (Ok(report), Some(cfg)) = (&mut result, snap) {
            let dir = &self.profile.redis.data_dir;
            let pending = matches!(snapshots::local::read_pending(dir).await, Ok(Some(_)));
            if report.was_running || pending {
                report.snapshot =
                    Some(snapshots::after_stop(&self.profile, cfg, &pre, events).await);
            }
        }
        let state = match (&result, &self.profile.redis.backend) {
            (Ok(_), Backend::External { .. }) => RedisState::Running,
            (Ok(_), _) => RedisState::Stopped,
            (Err(_), _) => RedisState::Failed,
        };
        events.send(EngineEvent::RedisState(state));
        result
    }

    /// Before a stop: hold the lock (or `--force`), and refuse to stop a server a live console
    /// started unless forced. With no data directory, nothing of ours can be running.
    async fn may_stop(&mut self, events: &EventSink) -> Result<(), HostError> {
        let dir = self.profile.redis.data_dir.clone();
        if matches!(self.profile.redis.backend, Backend::External { .. })
            || !tokio::fs::try_exists(&dir).await.unwrap_or(false)
        {
            return Ok(());
        }
        let force = self.force;
        match self.take_lock(events, force).await {
            Err(HostError::Locked { profile, owner, .. }) => {
                return Err(HostError::OwnedElsewhere { profile, owner });
            }
            other => other?,
        }
        if let Some(st) = state::read(&dir).await?
            && let Some(pid) = st.owner.pid()
            && pid != std::process::id()
            && state::pid_alive(pid).await
        {
            let owner = match st.owner {
                Owner::Gateway { .. } => format!("the gateway with pid {pid}"),
                _ => format!("the console with pid {pid}"),
            };
            if !force {
                return Err(HostError::OwnedElsewhere {
                    profile: self.profile.name.clone(),
                    owner,
                });
            }
            events.warn(format!("--force: stopping a Redis owned by {owner}"));
        }
        Ok(())
    }

    /// Crash one node of the profile's cluster (SIGKILL or `docker kill`), leaving the others
    /// running: the failover experiment. Returns the node's address.
    pub async fn crash_node(
        &mut self,
        index: u16,
        events: &EventSink,
    ) -> Result<String, HostError> {
        let Some(cluster) = self.profile.redis.owned_cluster() else {
            return Err(HostError::ClusterUnhealthy(format!(
                "profile `{}` has no [redis.cluster] redwhisk started: there is no node to crash",
                self.profile.name
            )));
        };
        let child = self
            .node_children
            .get_mut(usize::from(index))
            .and_then(Option::take);
        let ctx = self.ctx(events, false).await?;
        cluster::crash_node(&ctx, &cluster, index, child).await
    }

    /// PING `ep` within the profile's reply deadline: is our Redis still there and answering?
    /// For a cluster redwhisk started: is it still serving every slot? A node that stopped
    /// answering is tolerated while the cluster says `ok`, and (with replicas) for the time a
    /// failover takes; after that the cluster is lost, the silent nodes named.
    pub async fn check_alive(&self, ep: &Endpoint) -> Result<(), HostError> {
        let Some(cluster) = self.profile.redis.owned_cluster() else {
            return ops::ping(ep, reply_limit(&self.profile)).await;
        };
        let events = EventSink::discard();
        let ctx = self.ctx(&events, false).await?;
        let silent = cluster::silent_nodes(&ctx, &cluster).await;
        let healthy = silent.is_empty() || cluster::serving(&ctx, &cluster).await;
        let mut since = self
            .cluster_unhealthy_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if healthy {
            *since = None;
            return Ok(());
        }
        let first = *since.get_or_insert_with(std::time::Instant::now);
        // A replica takes over after about node_timeout + 1-2 s (see docs/cluster.md).
        let grace = if cluster.replicas == 0 {
            Duration::ZERO
        } else {
            cluster.node_timeout * 2 + Duration::from_secs(3)
        };
        if first.elapsed() <= grace {
            return Ok(());
        }
        Err(HostError::ClusterUnhealthy(format!(
            "the cluster no longer serves every slot: {} {} not answering{}",
            silent.join(", "),
            if silent.len() == 1 { "is" } else { "are" },
            if cluster.replicas == 0 {
                " and has no replica to take over".to_string()
            } else {
                format!(" and no replica took over within {} ms", grace.as_millis())
            }
        )))
    }

    /// Every node of the profile's cluster as `host:port`, for the actions to fall back on when
    /// the first does not answer: a cluster redwhisk started, from its recorded nodes; an
    /// external one, its url and `seeds`. Empty for a single server.
    pub async fn cluster_addrs(&self) -> Vec<String> {
        if !self.profile.redis.is_cluster() {
            return Vec::new();
        }
        match &self.profile.redis.backend {
            Backend::External { url, seeds } => std::iter::once(url)
                .chain(seeds)
                .filter_map(|u| external::parse_url(u).ok())
                .map(|(h, p, ..)| {
                    if h.contains(':') {
                        format!("[{h}]:{p}")
                    } else {
                        format!("{h}:{p}")
                    }
                })
                .collect(),
            _ => self
                .status()
                .await
                .ok()
                .and_then(|s| s.nodes)
                .map(|nodes| nodes.into_iter().map(|n| n.addr).collect())
                .unwrap_or_default(),
        }
    }

    /// How many keys start with `prefix` (SCAN, never KEYS). `None` for a cluster, whose keys
    /// live on several nodes (not counted).
    pub async fn count_prefix(
        &self,
        ep: &Endpoint,
        prefix: &str,
    ) -> Result<Option<u64>, HostError> {
        if self.profile.redis.is_cluster() {
            return Ok(None);
        }
        let limit = reply_limit(&self.profile);
        ops::scan_keys(ep, limit, &ops::prefix_pattern(prefix), false)
            .await
            .map(Some)
    }

    /// Delete every key that starts with `prefix` (SCAN + UNLINK) and say how many. `None` for
    /// a cluster (not cleaned: its keys live on several nodes).
    pub async fn delete_prefix(
        &self,
        ep: &Endpoint,
        prefix: &str,
    ) -> Result<Option<u64>, HostError> {
        if self.profile.redis.is_cluster() {
            return Ok(None);
        }
        let limit = reply_limit(&self.profile);
        ops::scan_keys(ep, limit, &ops::prefix_pattern(prefix), true)
            .await
            .map(Some)
    }

    /// State, endpoint, uptime, keys, memory, persistence, last save.
    pub async fn status(&self) -> Result<RedisStatus, HostError> {
        let events = EventSink::discard();
        let ctx = self.ctx(&events, false).await?;
        let p = &self.profile;
        let mut s = RedisStatus {
            profile: p.name.clone(),
            backend: p.redis.backend.label().into(),
            state: RedisState::Stopped,
            endpoint: None,
            port: None,
            image: None,
            container: None,
            pid: None,
            uptime_s: None,
            keys: None,
            used_memory: None,
            persistence: p.redis.persistence.label(),
            last_save: None,
            data_dir: None,
            redis_version: None,
            problem: None,
            nodes: None,
        };
        if let Some(cluster) = p.redis.owned_cluster() {
            s.data_dir = Some(p.redis.data_dir.display().to_string());
            let nodes = cluster::status(&ctx, &cluster).await?;
            s.endpoint = nodes.first().map(|n| format!("redis://{}/0", n.addr));
            s.port = nodes.first().map(|n| n.port);
            s.state = if nodes.iter().all(|n| n.state == "stopped") {
                RedisState::Stopped
            } else if nodes.iter().all(|n| n.state == "ok") {
                RedisState::Running
            } else {
                s.problem = Some(
                    nodes
                        .iter()
                        .filter(|n| n.state != "ok")
                        .map(|n| format!("node {} ({}): {}", n.index, n.addr, n.state))
                        .collect::<Vec<_>>()
                        .join("; "),
                );
                RedisState::Failed
            };
            s.keys = Some(
                nodes
                    .iter()
                    .filter(|n| n.role == "master")
                    .filter_map(|n| n.keys)
                    .sum(),
            );
            s.nodes = Some(nodes);
            return Ok(s);
        }
        let ep = match &p.redis.backend {
            Backend::External { url, .. } => {
                s.persistence = "external".into();
                Some(external::endpoint(&ctx, url)?)
            }
            Backend::Process { .. } => {
                s.data_dir = Some(p.redis.data_dir.display().to_string());
                match state::read(&p.redis.data_dir).await? {
                    Some(st) => {
                        let alive = match st.pid {
                            Some(pid) => state::pid_is_redis(pid, st.pid_start).await,
                            None => false,
                        };
                        s.pid = st.pid.filter(|_| alive);
                        alive.then(|| process::endpoint_of(&st, &ctx))
                    }
                    _ => None,
                }
            }
            Backend::Docker { .. } => {
                s.data_dir = Some(p.redis.data_dir.display().to_string());
                docker::status_endpoint(&ctx, &mut s).await?
            }
        };
        if let Some(ep) = ep {
            s.endpoint = Some(ep.display_url());
            s.port = Some(ep.port);
            match ops::info(&ep, reply_limit(p)).await {
                Ok(info) => {
                    s.state = RedisState::Running;
                    s.uptime_s = info.uptime_s;
                    s.keys = Some(info.keys);
                    s.used_memory = info.used_memory;
                    s.last_save = info.last_save;
                    s.redis_version = info.redis_version;
                }
                Err(HostError::WrongPassword { endpoint, reply }) => {
                    return Err(HostError::WrongPassword { endpoint, reply });
                }
                Err(e) => {
                    s.state = RedisState::Failed;
                    s.problem = Some(e.to_string());
                }
            }
        }
        Ok(s)
    }
}

/// A warning when the Redis redwhisk starts listens beyond loopback (`redis.bind`), naming the
/// real listen address: endpoints show where *this* host connects (loopback for 0.0.0.0).
pub fn exposure_warning(profile: &Profile, port: u16) -> Option<String> {
    if matches!(profile.redis.backend, Backend::External { .. }) || profile.redis.bind.is_loopback()
    {
        return None;
    }
    let addr = std::net::SocketAddr::new(profile.redis.bind, port);
    let every = if profile.redis.bind.is_unspecified() {
        " (every interface)"
    } else {
        ""
    };
    Some(format!(
        "Redis listens on {addr}{every}, not only on loopback: anyone who can reach this host can connect (the password still applies; the traffic is not encrypted). Set redis.bind = \"127.0.0.1\" unless functions on other hosts need it"
    ))
}

#[cfg(test)]
mod exposure_tests {
    use super::*;

    #[test]
    fn a_non_loopback_bind_is_named_with_its_real_address() {
        let mut p = Profile::embedded_default().unwrap();
        assert_eq!(exposure_warning(&p, 6379), None, "127.0.0.1 is quiet");
        p.redis.bind = "0.0.0.0".parse().unwrap();
        let w = exposure_warning(&p, 6390).unwrap();
        assert!(
            w.starts_with("Redis listens on 0.0.0.0:6390 (every interface)"),
            "{w}"
        );
        assert!(w.contains("redis.bind = \"127.0.0.1\""), "{w}");
        p.redis.bind = "10.1.2.3".parse().unwrap();
        assert!(
            exposure_warning(&p, 1)
                .unwrap()
                .starts_with("Redis listens on 10.1.2.3:1, not only")
        );
        p.redis.bind = "::1".parse().unwrap();
        assert_eq!(exposure_warning(&p, 1), None);
    }
}
