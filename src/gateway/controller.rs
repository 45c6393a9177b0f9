//! The one owner of the profile's Redis host while the gateway runs: a state machine driven by
//! client messages, the result of the one start or stop in flight, the idle timer and shutdown.
//!
//! Every client that arrives while Redis is not awake joins `pending` and waits for the same
//! single start; nothing is refused because of a transition (only by the caps or a failed wake).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::conn::{Grant, Msg};
use super::counters::Counters;
use super::types::Refusal;
use crate::event::{EngineEvent, EventSink};
use crate::model::gateway::{GatewayEvent, GatewaySnapshot, GatewayState};
use crate::profile::GatewayConfig;
use crate::redis_host::{Endpoint, HostError, RedisHost, StopMode};

/// How often counters are published while they move.
const STATS_EVERY: Duration = Duration::from_millis(250);

/// The start or stop in flight; it owns the host until it is done.
enum Op {
    Wake,
    Stop(StopMode),
}

/// Why a start or a stop of Redis failed. The full text goes to the gateway's log; a client
/// only gets [`OpError::for_client`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum OpError {
    #[error(transparent)]
    Host(#[from] HostError),
    #[error("no PING reply within gateway.wake_timeout_ms = {} ms", .0.as_millis())]
    WakeTimeout(Duration),
    /// The host was lent to another operation (a bug: one operation runs at a time).
    #[error("the Redis host is busy with another start or stop")]
    HostBusy,
    #[error("the start/stop task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl OpError {
    /// What a client is told: the kind of failure, never a path, a pid, a command line or a
    /// log line (those name the machine's layout and other processes; the operator's log has
    /// them).
    pub(crate) fn for_client(&self) -> String {
        match self {
            OpError::WakeTimeout(_) => self.to_string(),
            OpError::Host(HostError::ExitedEarly { .. }) => {
                "redis-server exited during start-up (details in the gateway's log)".into()
            }
            OpError::Host(HostError::ReadyTimeout { timeout_ms, .. }) => {
                format!(
                    "Redis did not answer PING within {timeout_ms} ms (details in the gateway's log)"
                )
            }
            OpError::Host(HostError::RedisServerMissing { .. }) => {
                "the redis-server program was not found (details in the gateway's log)".into()
            }
            OpError::Host(HostError::PortInUse { port, .. }) => {
                format!("Redis's port {port} is taken by another program")
            }
            _ => "the start failed (details in the gateway's log)".into(),
        }
    }
}

enum Done {
    Woke(Result<Endpoint, OpError>),
    Stopped(Result<(), OpError>),
}

pub(crate) struct Controller {
    pub host: Option<RedisHost>,
    pub events: EventSink,
    pub cfg: GatewayConfig,
    pub grace: Duration,
    pub snap: GatewaySnapshot,
    pub counters: Arc<Counters>,
    pub hard_stop: CancellationToken,
    /// First connection → PING answered, per successful wake.
    pub wake_ms: Vec<f64>,
    endpoint: Option<Endpoint>,
    /// Which start of Redis `endpoint` belongs to (a lost report of an older one is stale).
    generation: u64,
    pending: Vec<oneshot::Sender<Grant>>,
    wake_started: Option<Instant>,
    idle_at: Option<Instant>,
    shutting: Option<Instant>,
    last_stats: Option<GatewaySnapshot>,
}

type OpTask = JoinHandle<(Option<RedisHost>, Done)>;

impl Controller {
    pub fn new(
        host: RedisHost,
        events: EventSink,
        cfg: GatewayConfig,
        grace: Duration,
        snap: GatewaySnapshot,
        counters: Arc<Counters>,
        hard_stop: CancellationToken,
    ) -> Self {
        Self {
            host: Some(host),
            events,
            cfg,
            grace,
            snap,
            counters,
            hard_stop,
            wake_ms: Vec::new(),
            endpoint: None,
            generation: 0,
            pending: Vec::new(),
            wake_started: None,
            idle_at: None,
            shutting: None,
            last_stats: None,
        }
    }

    /// Run until shutdown; then Redis is saved and stopped.
    pub async fn run(&mut self, mut rx: mpsc::UnboundedReceiver<Msg>, cancel: CancellationToken) {
        self.set_state(GatewayState::Asleep, "listening");
        let mut op: Option<OpTask> = None;
        let mut tick = tokio::time::interval(STATS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if let Some(grace_end) = self.shutting
                && op.is_none()
                && (self.snap.open == 0 || Instant::now() >= grace_end)
            {
                break;
            }
            let idle_at = self
                .idle_at
                .filter(|_| op.is_none() && self.shutting.is_none());
            let far = Instant::now() + Duration::from_secs(86_400);
            let busy = op.is_some();
            let grace_at = self.shutting.filter(|_| !busy);
            let want = tokio::select! {
                () = cancel.cancelled(), if self.shutting.is_none() => self.begin_shutdown(),
                msg = rx.recv() => match msg {
                    Some(m) => self.on_msg(m, busy),
                    None => { cancel.cancel(); None }
                },
                done = wait_op(&mut op) => {
                    op = None;
                    self.on_done(done)
                }
                () = tokio::time::sleep_until(idle_at.unwrap_or(far)), if idle_at.is_some() => {
                    self.idle_at = None;
                    let idle = self.cfg.idle.as_millis();
                    self.set_state(GatewayState::Stopping, &format!("no client for {idle} ms: SHUTDOWN SAVE"));
                    Some(Op::Stop(StopMode::Graceful))
                }
                () = sleep_until_opt(grace_at) => None,
                _ = tick.tick() => { self.publish_stats(); None }
            };
            if let Some(kind) = want {
                op = Some(self.spawn_op(kind));
            }
        }
        // Shutdown: close what is still open, then save and stop Redis.
        self.hard_stop.cancel();
        if self.endpoint.take().is_some()
            && let Some(mut host) = self.host.take()
        {
            self.set_state(GatewayState::Stopping, "shutdown: SHUTDOWN SAVE");
            let stopped = host.down(StopMode::Graceful, &self.events).await;
            self.host = Some(host);
            if let Err(e) = stopped {
                self.events
                    .warn(format!("gateway shutdown: Redis did not stop cleanly: {e}"));
            }
        }
        self.set_state(GatewayState::Closed, "shut down");
    }

    fn spawn_op(&mut self, kind: Op) -> OpTask {
        let host = self.host.take();
        let events = self.events.clone();
        let timeout = self.cfg.wake_timeout;
        tokio::spawn(async move {
            let Some(mut host) = host else {
                return (None, Done::Stopped(Err(OpError::HostBusy)));
            };
            let done = match kind {
                Op::Wake => match tokio::time::timeout(timeout, host.up(&events)).await {
                    // The gateway's clients are the functions: they take the emulated path.
                    Ok(Ok(started)) => Done::Woke(Ok(started.for_functions().clone())),
                    Ok(Err(e)) => Done::Woke(Err(e.into())),
                    Err(_) => Done::Woke(Err(OpError::WakeTimeout(timeout))),
                },
                Op::Stop(mode) => Done::Stopped(
                    host.down(mode, &events)
                        .await
                        .map(|_| ())
                        .map_err(OpError::from),
                ),
            };
            (Some(host), done)
        })
    }

    fn on_msg(&mut self, msg: Msg, busy: bool) -> Option<Op> {
        match msg {
            Msg::Acquire { reply, first } => {
                if first {
                    self.snap.total += 1;
                }
                self.on_acquire(reply, busy)
            }
            Msg::Released => {
                self.close_one();
                None
            }
            Msg::Lost { generation } => {
                self.close_one();
                if generation == self.generation
                    && self.snap.state == GatewayState::Awake
                    && !busy
                    && self.shutting.is_none()
                {
                    self.endpoint = None;
                    self.idle_at = None;
                    self.begin_wake("Redis is gone (connection refused): restarting it")
                } else {
                    None
                }
            }
        }
    }

    fn on_acquire(&mut self, reply: oneshot::Sender<Grant>, busy: bool) -> Option<Op> {
        if self.shutting.is_some() {
            self.refuse(reply, Refusal::ShuttingDown);
            return None;
        }
        match (self.snap.state, &self.endpoint) {
            (GatewayState::Awake, Some(ep)) if !busy => {
                if self.snap.open >= self.cfg.max_connections {
                    self.refuse(reply, Refusal::TooManyConnections(self.cfg.max_connections));
                } else if reply.send(Ok((ep.clone(), self.generation))).is_ok() {
                    self.snap.open += 1;
                    self.idle_at = None;
                }
                None
            }
            _ if self.pending.len() >= self.cfg.max_pending as usize => {
                self.refuse(reply, Refusal::TooManyPending(self.cfg.max_pending));
                None
            }
            (GatewayState::Asleep, _) if !busy => {
                self.pending.push(reply);
                self.begin_wake("first connection")
            }
            _ => {
                self.pending.push(reply);
                self.snap.pending = len32(&self.pending);
                None
            }
        }
    }

    fn begin_wake(&mut self, why: &str) -> Option<Op> {
        self.wake_started = Some(Instant::now());
        self.snap.pending = len32(&self.pending);
        self.set_state(GatewayState::Waking, why);
        Some(Op::Wake)
    }

    fn close_one(&mut self) {
        self.snap.open = self.snap.open.saturating_sub(1);
        if self.snap.open == 0 && self.snap.state == GatewayState::Awake {
            self.idle_at = Some(Instant::now() + self.cfg.idle);
        }
    }

    fn on_done(
        &mut self,
        done: Result<(Option<RedisHost>, Done), tokio::task::JoinError>,
    ) -> Option<Op> {
        let (host, done) = match done {
            Ok(v) => v,
            Err(e) => (None, Done::Stopped(Err(OpError::Task(e)))),
        };
        if host.is_some() {
            self.host = host;
        }
        match done {
            Done::Woke(Ok(ep)) => {
                let ms = self
                    .wake_started
                    .take()
                    .map(|t| crate::stats::ms(t.elapsed()));
                self.generation += 1;
                self.snap.wakes += 1;
                self.counters
                    .wakes
                    .store(self.snap.wakes, Ordering::Relaxed);
                self.snap.last_wake_ms = ms;
                if let Some(ms) = ms {
                    self.wake_ms.push(ms);
                }
                self.endpoint = Some(ep.clone());
                let waiting = std::mem::take(&mut self.pending);
                let n = waiting.len();
                self.snap.pending = 0;
                self.snap.state = GatewayState::Awake;
                for reply in waiting {
                    if self.snap.open >= self.cfg.max_connections {
                        self.refuse(reply, Refusal::TooManyConnections(self.cfg.max_connections));
                    } else if reply.send(Ok((ep.clone(), self.generation))).is_ok() {
                        self.snap.open += 1;
                    }
                }
                if self.snap.open == 0 {
                    self.idle_at = Some(Instant::now() + self.cfg.idle);
                }
                let why = match ms {
                    Some(ms) => format!(
                        "Redis answered PING after {ms:.1} ms; {n} waiting client(s) spliced"
                    ),
                    None => "Redis answered PING".into(),
                };
                self.set_state(GatewayState::Awake, &why);
                None
            }
            Done::Woke(Err(cause)) => {
                let timed_out = matches!(cause, OpError::WakeTimeout(_));
                self.wake_started = None;
                self.snap.wake_failures += 1;
                let told = cause.for_client();
                for reply in std::mem::take(&mut self.pending) {
                    self.refuse(reply, Refusal::WakeFailed(told.clone()));
                }
                self.snap.pending = 0;
                self.events
                    .warn(format!("gateway: Redis did not start: {cause}"));
                if timed_out {
                    // Whatever half-started is killed (nobody wrote to it yet).
                    self.set_state(
                        GatewayState::Stopping,
                        "wake timed out: removing what started",
                    );
                    Some(Op::Stop(StopMode::Crash))
                } else {
                    self.set_state(
                        GatewayState::Asleep,
                        "wake failed; the next connection tries again",
                    );
                    None
                }
            }
            Done::Stopped(result) => {
                self.endpoint = None;
                let why = match result {
                    Ok(()) => {
                        self.counters.sleeps.fetch_add(1, Ordering::Relaxed);
                        "Redis saved and stopped".to_string()
                    }
                    Err(e) => {
                        // A server still running is adopted by the next wake.
                        self.events
                            .warn(format!("gateway: stopping Redis failed: {e}"));
                        format!("stop failed ({e}); the next wake adopts or restarts Redis")
                    }
                };
                self.set_state(GatewayState::Asleep, &why);
                if !self.pending.is_empty() && self.shutting.is_none() {
                    self.begin_wake("clients arrived while stopping")
                } else {
                    None
                }
            }
        }
    }

    fn begin_shutdown(&mut self) -> Option<Op> {
        self.shutting = Some(Instant::now() + self.grace);
        for reply in std::mem::take(&mut self.pending) {
            self.refuse(reply, Refusal::ShuttingDown);
        }
        self.snap.pending = 0;
        self.events.info(format!(
            "gateway: no longer accepting; {} open connection(s) get up to {} ms to finish",
            self.snap.open,
            self.grace.as_millis()
        ));
        None
    }

    fn refuse(&mut self, reply: oneshot::Sender<Grant>, why: Refusal) {
        self.snap.refused += 1;
        let _client_gone = reply.send(Err(why));
    }

    fn refresh(&mut self) {
        self.snap.bytes_up = self.counters.up.load(Ordering::Relaxed);
        self.snap.bytes_down = self.counters.down.load(Ordering::Relaxed);
        self.snap.idle_left_ms = self.idle_at.map(|t| {
            u64::try_from(t.saturating_duration_since(Instant::now()).as_millis())
                .unwrap_or(u64::MAX)
        });
    }

    fn set_state(&mut self, state: GatewayState, why: &str) {
        self.snap.state = state;
        self.snap.reason = why.to_string();
        self.emit_state();
    }

    fn emit_state(&mut self) {
        self.refresh();
        self.events
            .send(EngineEvent::Gateway(GatewayEvent::State(self.snap.clone())));
        self.last_stats = Some(self.snap.clone());
    }

    fn publish_stats(&mut self) {
        self.refresh();
        if self.last_stats.as_ref() != Some(&self.snap) {
            self.events
                .send(EngineEvent::Gateway(GatewayEvent::Stats(self.snap.clone())));
            self.last_stats = Some(self.snap.clone());
        }
    }
}

fn len32<T>(v: &[T]) -> u32 {
    u32::try_from(v.len()).unwrap_or(u32::MAX)
}

async fn wait_op(
    op: &mut Option<OpTask>,
) -> Result<(Option<RedisHost>, Done), tokio::task::JoinError> {
    match op.as_mut() {
        Some(task) => task.await,
        None => std::future::pending().await,
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_is_told_the_kind_of_failure_never_paths_pids_or_logs() {
        let cases = [
            HostError::Locked {
                profile: "p".into(),
                owner: "pid 4242 (`redwhisk gateway -p p`), since 2026-12-07".into(),
                path: "/srv/secret/place/redwhisk.lock".into(),
            },
            HostError::ExitedEarly {
                status: "/opt/bin/redis-server (pid 4242): exit status: 1".into(),
                log_tail: "  | Fatal error loading /srv/secret/place/dump.rdb".into(),
            },
            HostError::RedisServerMissing {
                bin: "/opt/bin/redis-server".into(),
            },
        ];
        for e in cases {
            let full = e.to_string();
            let told = OpError::Host(e).for_client();
            for leak in ["/srv", "/opt", "4242", "redwhisk gateway -p"] {
                assert!(!told.contains(leak), "{told:?} leaks {leak:?} of {full:?}");
            }
        }
        let t = OpError::WakeTimeout(Duration::from_millis(400)).for_client();
        assert_eq!(t, "no PING reply within gateway.wake_timeout_ms = 400 ms");
    }
}
