//! One client connection: wait for its first byte (a probe that connects and closes, or stays
//! silent, never wakes Redis), ask the controller for Redis, hold the client's bytes (by not
//! reading them) until it is granted, then splice the two sockets; or answer with one RESP
//! error.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::counters::Counters;
use super::splice::{self, Timers};
use super::types::Refusal;
use crate::redis_host::Endpoint;

/// What a connection tells the controller.
#[derive(Debug)]
pub(crate) enum Msg {
    /// A client sent its first byte and wants Redis. `first`: its first ask (counts toward
    /// `total`).
    Acquire {
        reply: oneshot::Sender<Grant>,
        first: bool,
    },
    /// A spliced connection closed.
    Released,
    /// Redis of generation `generation` refused the connection: it is gone.
    Lost { generation: u64 },
}

/// Where to connect (and which start of Redis that is), or why not.
pub(crate) type Grant = Result<(Endpoint, u64), Refusal>;

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub ctl: mpsc::UnboundedSender<Msg>,
    /// Cancelled at the end of the shutdown grace: open connections are closed.
    pub hard_stop: CancellationToken,
    /// Cancelled when shutdown begins: new clients get `-ERR … shutting down`.
    pub draining: CancellationToken,
    pub counters: Arc<Counters>,
    pub handshake_timeout: Duration,
    pub client_idle_timeout: Option<Duration>,
}

/// How long one connect to an awake Redis may take before it counts as lost.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A refused client gets this long to read its error before the socket is dropped.
pub(crate) const LINGER: Duration = Duration::from_secs(1);
/// Tries before giving up when Redis keeps vanishing under us.
const ATTEMPTS: u32 = 3;

pub(crate) async fn serve(client: TcpStream, sh: Arc<Shared>) {
    if sh.draining.is_cancelled() {
        return refuse(client, &Refusal::ShuttingDown).await;
    }
    // Latency over batching: one small command must not wait for Nagle.
    let _best_effort = client.set_nodelay(true);
    if !first_byte(&client, &sh).await {
        return;
    }
    for attempt in 0..ATTEMPTS {
        let (tx, rx) = oneshot::channel();
        let asked = sh.ctl.send(Msg::Acquire {
            reply: tx,
            first: attempt == 0,
        });
        if asked.is_err() {
            // The controller has finished: the gateway is shutting down.
            return refuse(client, &Refusal::ShuttingDown).await;
        }
        let grant = tokio::select! {
            g = rx => g,
            () = sh.hard_stop.cancelled() => return,
        };
        let (ep, generation) = match grant {
            Ok(Ok(g)) => g,
            Ok(Err(refusal)) => return refuse(client, &refusal).await,
            Err(_) => return refuse(client, &Refusal::ShuttingDown).await,
        };
        match connect(&ep).await {
            Ok(redis) => {
                let timers = Timers {
                    client_idle: sh.client_idle_timeout,
                };
                let end = splice::run(client, redis, &timers, &sh.hard_stop, &sh.counters).await;
                if end == splice::End::ClientIdle {
                    sh.counters.idle_closed.fetch_add(1, Ordering::Relaxed);
                }
                let _closed = sh.ctl.send(Msg::Released);
                return;
            }
            Err(_) => {
                let _closed = sh.ctl.send(Msg::Lost { generation });
            }
        }
    }
    let why = Refusal::WakeFailed(format!(
        "Redis vanished {ATTEMPTS} times in a row right after starting"
    ));
    refuse(client, &why).await;
}

/// Wait for the client's first byte without reading it. False (and the socket is dropped) when
/// it closes first, stays silent for the handshake timeout, or the gateway stops meanwhile.
async fn first_byte(client: &TcpStream, sh: &Shared) -> bool {
    let mut one = [0u8; 1];
    let peeked = tokio::select! {
        r = tokio::time::timeout(sh.handshake_timeout, client.peek(&mut one)) => r,
        () = sh.hard_stop.cancelled() => return false,
    };
    match peeked {
        Ok(Ok(n)) if n > 0 => true,
        Ok(_) => {
            sh.counters.probes.fetch_add(1, Ordering::Relaxed);
            false
        }
        Err(_elapsed) => {
            sh.counters.silent.fetch_add(1, Ordering::Relaxed);
            false
        }
    }
}

async fn connect(ep: &Endpoint) -> io::Result<TcpStream> {
    // The host's endpoints name an IP literal (loopback for "any"): connecting to the parsed
    // address skips the resolver, which would run on a blocking thread for every connection.
    let connecting = async {
        match ep.host.parse::<IpAddr>() {
            Ok(ip) => TcpStream::connect(SocketAddr::new(ip, ep.port)).await,
            Err(_) => TcpStream::connect((ep.host.as_str(), ep.port)).await,
        }
    };
    let s = tokio::time::timeout(REDIS_CONNECT_TIMEOUT, connecting)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect to Redis timed out"))??;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Write the error, close our side, and read whatever the client still sends until it closes:
/// closing a socket with unread bytes makes the kernel send RST, and the client would see
/// "connection reset" instead of our error.
pub(crate) async fn refuse(mut client: TcpStream, refusal: &Refusal) {
    let _ = tokio::time::timeout(LINGER, async {
        client.write_all(refusal.resp().as_bytes()).await?;
        client.shutdown().await?;
        tokio::io::copy(&mut client, &mut tokio::io::sink()).await
    })
    .await;
}
