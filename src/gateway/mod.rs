//! The scale-to-zero gateway: a TCP front on a profile's Redis port that starts Redis when a
//! client connects and saves and stops it when nobody has used it for a while.
//!
//! ```text
//!  asleep ──first connection──► waking ──PING answered──► awake ──no client for idle──► stopping
//!    ▲                            │ failed / timed out        │ Redis gone: next client    │
//!    └────────────────────────────┴── (clients get -ERR) ◄────┘ restarts it ──► waking     │
//!    └──────────────────────────────── saved and stopped ◄──────────────────────────────────┘
//! ```
//!
//! The gateway holds the profile's lock from its start to its end (a second owner is refused
//! at once). One controller task owns the [`RedisHost`]; each client connection is a task that,
//! once the client has sent its first byte, asks it for Redis and, once granted, splices the
//! two sockets ([`splice`]), on the data thread ([`listen`]). A client's bytes stay unread in
//! the kernel until Redis answers PING, so nothing reaches a Redis that is still loading. See
//! docs/gateway.md for the timers and what a client sees in every failure.

mod conn;
mod controller;
mod counters;
mod listen;
mod splice;
mod types;

pub use crate::model::gateway::{GatewayEvent, GatewaySnapshot, GatewayState};
pub use listen::DataPath;
pub use types::Refusal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::event::EventSink;
use crate::profile::{Backend, GatewayConfig, Profile};
use crate::redis_host::{HostError, Owner, RedisHost, RedisState, StopMode};
use conn::Shared;
use controller::Controller;
use counters::Counters;

/// Why the gateway could not start or stop.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(
        "profile `{profile}` uses the external backend: the gateway starts and stops the Redis it fronts, and an external Redis is not ours to start or stop; use backend = \"process\" or \"docker\""
    )]
    External { profile: String },
    #[error(
        "{addr} is not a loopback address: anyone who can reach it could wake Redis and talk to it over plain TCP. Pass --allow-non-loopback to listen there anyway"
    )]
    NotLoopback { addr: SocketAddr },
    #[error("cannot listen on {addr}: {source} (set gateway.listen or --listen to a free address)")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The profile is in use (another gateway, a console, `redis up` …), or its data directory
    /// or password file could not be made: the host's own message.
    #[error(transparent)]
    Claim(HostError),
    #[error("a Redis already runs for profile `{profile}` and could not be taken over: {source}")]
    Settle {
        profile: String,
        #[source]
        source: HostError,
    },
}

/// How to run one gateway.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    pub config: GatewayConfig,
    /// Listening on a non-loopback address was asked for explicitly.
    pub allow_non_loopback: bool,
    /// On shutdown, open connections get this long to finish before they are closed.
    pub grace: Duration,
    /// Where client connections run (the bench compares both).
    pub data_path: DataPath,
}

impl GatewayOptions {
    /// The profile's `[gateway]` section with a 10 s shutdown grace.
    pub fn from_profile(p: &Profile) -> Self {
        Self {
            config: p.gateway.clone(),
            allow_non_loopback: false,
            grace: Duration::from_secs(10),
            data_path: DataPath::default(),
        }
    }
}

/// What a gateway did, once it has shut down.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GatewayReport {
    pub last: GatewaySnapshot,
    /// Every successful wake: first connection → PING answered, in ms.
    pub wake_ms: Vec<f64>,
}

/// Reads a serving gateway's counters (for the case study's per-invocation "woken?").
#[derive(Debug, Clone)]
pub struct GatewayProbe(Arc<Counters>);

impl GatewayProbe {
    /// Successful wakes so far.
    pub fn wakes(&self) -> u64 {
        self.0.wakes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Times Redis was saved and stopped cleanly (back to asleep) so far.
    pub fn sleeps(&self) -> u64 {
        self.0.sleeps.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connections that closed before sending a byte (they woke nothing).
    pub fn probes(&self) -> u64 {
        self.0.probes.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connections closed by `gateway.handshake_timeout_ms` without sending a byte.
    pub fn silent_closed(&self) -> u64 {
        self.0.silent.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Connections closed by `gateway.client_idle_timeout_ms`.
    pub fn idle_closed(&self) -> u64 {
        self.0
            .idle_closed
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A bound gateway, not serving yet.
#[derive(Debug)]
pub struct Gateway {
    counters: Arc<Counters>,
    listener: TcpListener,
    addr: SocketAddr,
    host: RedisHost,
    profile: String,
    opts: GatewayOptions,
}

impl Gateway {
    /// Check the profile, take its lock (held until the gateway is dropped) and make its
    /// password file, take over (save and stop) a Redis a dead gateway or console left running,
    /// and bind the listening socket.
    pub async fn bind(
        profile: &Profile,
        opts: GatewayOptions,
        events: &EventSink,
    ) -> Result<Gateway, GatewayError> {
        if matches!(profile.redis.backend, Backend::External { .. }) {
            return Err(GatewayError::External {
                profile: profile.name.clone(),
            });
        }
        let addr = opts.config.listen;
        if !addr.ip().is_loopback() && !opts.allow_non_loopback {
            return Err(GatewayError::NotLoopback { addr });
        }
        let mut host = RedisHost::new(profile)
            .map_err(GatewayError::Claim)?
            .with_owner(Owner::this_gateway());
        host.claim(events).await.map_err(GatewayError::Claim)?;
        settle(&mut host, events)
            .await
            .map_err(|source| GatewayError::Settle {
                profile: profile.name.clone(),
                source,
            })?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| GatewayError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| GatewayError::Bind { addr, source })?;
        if !addr.ip().is_loopback() {
            events.warn(format!(
                "gateway listens on {addr}, which is not loopback: anyone who can reach it can wake Redis (they still need its password) and the traffic is not encrypted"
            ));
        }
        Ok(Gateway {
            counters: Arc::default(),
            listener,
            addr,
            host,
            profile: profile.name.clone(),
            opts,
        })
    }

    /// Where clients connect.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A handle that reads the gateway's counters while it serves.
    pub fn probe(&self) -> GatewayProbe {
        GatewayProbe(Arc::clone(&self.counters))
    }

    /// Serve until `cancel`: then stop accepting, give open connections the grace period,
    /// save and stop Redis.
    pub async fn serve(self, events: EventSink, cancel: CancellationToken) -> GatewayReport {
        let counters = self.counters;
        let hard_stop = CancellationToken::new();
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let snap = GatewaySnapshot {
            profile: self.profile.clone(),
            listen: self.addr.to_string(),
            state: GatewayState::Asleep,
            reason: String::new(),
            open: 0,
            pending: 0,
            total: 0,
            bytes_up: 0,
            bytes_down: 0,
            wakes: 0,
            wake_failures: 0,
            refused: 0,
            last_wake_ms: None,
            idle_left_ms: None,
        };
        let shared = Arc::new(Shared {
            ctl: tx,
            hard_stop: hard_stop.clone(),
            draining: cancel.clone(),
            counters: Arc::clone(&counters),
            handshake_timeout: self.opts.config.handshake_timeout,
            client_idle_timeout: self.opts.config.client_idle_timeout,
        });
        // The listener stays open until Redis is saved and stopped, so a client arriving during
        // the drain gets `-ERR … shutting down` rather than a refused connection.
        let closed = CancellationToken::new();
        let acceptor = tokio::spawn(listen::spawn(
            self.listener,
            self.opts.data_path,
            shared,
            closed.clone(),
            events.clone(),
        ));
        let mut ctl = Controller::new(
            self.host,
            events,
            self.opts.config,
            self.opts.grace,
            snap,
            counters,
            hard_stop,
        );
        ctl.run(rx, cancel).await;
        closed.cancel();
        let _ended = acceptor.await;
        GatewayReport {
            last: ctl.snap.clone(),
            wake_ms: std::mem::take(&mut ctl.wake_ms),
        }
    }
}

/// A Redis found running for this profile at start (an orphan of a gateway killed with -9,
/// or a detached `redis up`) is taken over: `up` reaps an orphan with SHUTDOWN SAVE (or adopts
/// a detached one), `down` saves and stops, so the gateway starts asleep with the data kept.
async fn settle(host: &mut RedisHost, events: &EventSink) -> Result<(), HostError> {
    if host.status().await?.state != RedisState::Running {
        return Ok(());
    }
    events.info("gateway: a Redis already runs for this profile: saving and stopping it first");
    host.up(events).await?;
    host.down(StopMode::Graceful, events).await?;
    Ok(())
}
