//! One client connection: ask the controller for Redis, hold the client's bytes (by not reading
//! them) until it is granted, then splice the two sockets; or answer with one RESP error.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
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
    mut redis: TcpStream,
    hard_stop: &CancellationToken,
    counters: &Arc<Counters>,
) {
    let mut client = Counted {
        inner: client,
        counters: Arc::clone(counters),
    };
    tokio::select! {
        _done = tokio::io::copy_bidirectional_with_sizes(&mut client, &mut redis, BUF, BUF) => {}
        () = hard_stop.cancelled() => {}
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

/// The client side of a splice, counting bytes as they pass (client → Redis on read,
/// Redis → client on write).
struct Counted {
    inner: TcpStream,
    counters: Arc<Counters>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len().saturating_sub(before);
        self.counters.up.fetch_add(n as u64, Ordering::Relaxed);
        r
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.counters.down.fetch_add(*n as u64, Ordering::Relaxed);
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
