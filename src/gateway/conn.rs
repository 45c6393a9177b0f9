//! One client connection: ask the controller for Redis, hold the client's bytes (by not reading
//! them) until it is granted, then splice the two sockets; or answer with one RESP error.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::types::Refusal;
use crate::redis_host::Endpoint;

/// What a connection tells the controller.
#[derive(Debug)]
pub(crate) enum Msg {
    /// A client wants Redis. `first`: its first ask (counts toward `total`).
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

/// Bytes through the gateway, both ways, updated as they flow.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub up: AtomicU64,
    pub down: AtomicU64,
    /// Successful wakes, for [`super::GatewayProbe`].
    pub wakes: AtomicU64,
    /// Times Redis was saved and stopped cleanly (the gateway went back to sleep).
    pub sleeps: AtomicU64,
}

/// How long one connect to an awake Redis may take before it counts as lost.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A refused client gets this long to read its error before the socket is dropped.
const LINGER: Duration = Duration::from_secs(1);
/// Tries before giving up when Redis keeps vanishing under us.
const ATTEMPTS: u32 = 3;
/// Splice buffer per direction: big enough that pipelined replies move in few syscalls.
const BUF: usize = 64 * 1024;
/// After the client has finished sending, how long Redis may stay silent before the
/// connection is closed (replies still flowing reset it).
const DRAIN_IDLE: Duration = Duration::from_secs(5);

pub(crate) async fn serve(
    client: TcpStream,
    ctl: mpsc::UnboundedSender<Msg>,
    hard_stop: CancellationToken,
    counters: Arc<Counters>,
) {
    // Latency over batching: one small command must not wait for Nagle.
    let _best_effort = client.set_nodelay(true);
    for attempt in 0..ATTEMPTS {
        let (tx, rx) = oneshot::channel();
        if ctl
            .send(Msg::Acquire {
                reply: tx,
                first: attempt == 0,
            })
            .is_err()
        {
            return;
        }
        let grant = tokio::select! {
            g = rx => g,
            () = hard_stop.cancelled() => return,
        };
        let (ep, generation) = match grant {
            Ok(Ok(g)) => g,
            Ok(Err(refusal)) => return refuse(client, &refusal).await,
            // The controller is gone (the gateway stopped).
            Err(_) => return,
        };
        match connect(&ep).await {
            Ok(redis) => {
                splice(client, redis, &hard_stop, &counters).await;
                let _closed = ctl.send(Msg::Released);
                return;
            }
            Err(_) => {
                let _closed = ctl.send(Msg::Lost { generation });
            }
        }
    }
    let why = Refusal::WakeFailed(format!(
        "Redis vanished {ATTEMPTS} times in a row right after starting"
    ));
    refuse(client, &why).await;
}

async fn connect(ep: &Endpoint) -> io::Result<TcpStream> {
    // The host's endpoints already name an address to connect to (loopback for "any").
    let s = tokio::time::timeout(
        REDIS_CONNECT_TIMEOUT,
        TcpStream::connect((ep.host.as_str(), ep.port)),
    )
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect to Redis timed out"))??;
    s.set_nodelay(true)?;
    Ok(s)
}

async fn splice(
    client: TcpStream,
    redis: TcpStream,
    hard_stop: &CancellationToken,
    counters: &Arc<Counters>,
) {
    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut redis_rd, mut redis_wr) = redis.into_split();
    let client_done = tokio::sync::Notify::new();
    // Client → Redis. At the client's EOF, Redis's write side is shut down (a half-close, as
    // `nc` or a pipe-fed client does) and the replies still on their way are drained.
    let up = async {
        let _ = pump(&mut client_rd, &mut redis_wr, &counters.up).await;
        client_done.notify_one();
        std::future::pending::<()>().await;
    };
    // Redis → client, until Redis closes (it stopped or died: the client is closed too), or,
    // once the client has finished sending, until Redis has been silent for DRAIN_IDLE (a
    // frozen Redis must not keep a gone client's connection open, and Redis awake, forever).
    let down = async {
        let mut buf = vec![0u8; BUF];
        let mut draining = false;
        loop {
            let read = tokio::io::AsyncReadExt::read(&mut redis_rd, &mut buf);
            let n = if draining {
                match tokio::time::timeout(DRAIN_IDLE, read).await {
                    Ok(r) => r,
                    Err(_) => return,
                }
            } else {
                tokio::select! {
                    r = read => r,
                    () = client_done.notified() => { draining = true; continue; }
                }
            };
            let n = match n {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if client_wr.write_all(&buf[..n]).await.is_err() {
                return;
            }
            counters.down.fetch_add(n as u64, Ordering::Relaxed);
        }
    };
    tokio::select! {
        () = up => {}
        () = down => {}
        () = hard_stop.cancelled() => {}
    }
}

/// Copy until EOF or an error, counting bytes; then shut down the writer's side.
async fn pump(
    from: &mut tokio::net::tcp::OwnedReadHalf,
    to: &mut tokio::net::tcp::OwnedWriteHalf,
    counter: &AtomicU64,
) -> io::Result<()> {
    let mut buf = vec![0u8; BUF];
    loop {
        let n = tokio::io::AsyncReadExt::read(from, &mut buf).await?;
        if n == 0 {
            return to.shutdown().await;
        }
        to.write_all(&buf[..n]).await?;
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// Write the error, close our side, and read whatever the client still sends until it closes:
/// closing a socket with unread bytes makes the kernel send RST, and the client would see
/// "connection reset" instead of our error.
async fn refuse(mut client: TcpStream, refusal: &Refusal) {
    let _ = tokio::time::timeout(LINGER, async {
        client.write_all(refusal.resp().as_bytes()).await?;
        client.shutdown().await?;
        tokio::io::copy(&mut client, &mut tokio::io::sink()).await
    })
    .await;
}
