//! The data path: both directions of one client ⇄ Redis pair copied by one future that polls
//! the sockets directly (read → write, no channel, no task per direction, no `select!` per
//! request). Each request costs one read and one write each way, the floor of a userspace
//! proxy; where the connections run is `listen.rs`.
//!
//! Timers are checked on a coarse tick, never per request: the client-idle rule and the drain
//! after a client's half-close look at the byte counts moved since the last tick.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::counters::Counters;

/// Buffer per direction: big enough that pipelined replies move in few syscalls.
const BUF: usize = 64 * 1024;
/// After the client has finished sending, how long Redis may stay silent before the
/// connection is closed (replies still flowing reset it).
const DRAIN_IDLE: Duration = Duration::from_secs(5);
/// Client idle is checked this many times per timeout (closes within 1¼ timeouts).
const IDLE_CHECKS: u32 = 4;

/// The optional per-connection timer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timers {
    /// `gateway.client_idle_timeout_ms`.
    pub client_idle: Option<Duration>,
}

/// Why a spliced connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// Redis closed (stopped, died) or the client went away.
    Closed,
    /// The client sent nothing and got nothing for `client_idle` (not subscribed, not waiting).
    ClientIdle,
    /// The gateway's shutdown grace ended.
    HardStop,
    /// The client half-closed and Redis stayed silent for [`DRAIN_IDLE`].
    DrainIdle,
}

/// One direction's buffer.
struct Half {
    buf: Box<[u8]>,
    pos: usize,
    cap: usize,
    eof: bool,
    shut: bool,
    /// Bytes written so far.
    moved: u64,
    /// Bytes already added to the shared counter.
    counted: u64,
}

impl Half {
    fn new() -> Self {
        Self {
            buf: vec![0u8; BUF].into_boxed_slice(),
            pos: 0,
            cap: 0,
            eof: false,
            shut: false,
            moved: 0,
            counted: 0,
        }
    }

    /// Copy `r` → `w` until both are blocked (`Pending`), or EOF has been passed on as a
    /// write shutdown (`Ready(Ok)`), or an error. `seen` gets each chunk as it is read.
    fn poll_copy(
        &mut self,
        cx: &mut Context<'_>,
        r: &mut TcpStream,
        w: &mut TcpStream,
        seen: &mut dyn FnMut(&[u8]),
    ) -> Poll<io::Result<()>> {
        loop {
            if self.pos == self.cap && !self.eof {
                let mut rb = ReadBuf::new(&mut self.buf);
                ready!(Pin::new(&mut *r).poll_read(cx, &mut rb))?;
                let n = rb.filled().len();
                self.pos = 0;
                self.cap = n;
                if n == 0 {
                    self.eof = true;
                } else {
                    seen(&self.buf[..n]);
                }
            }
            while self.pos < self.cap {
                let n = ready!(Pin::new(&mut *w).poll_write(cx, &self.buf[self.pos..self.cap]))?;
                if n == 0 {
                    return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
                }
                self.pos += n;
                self.moved += n as u64;
            }
            if self.eof {
                if !self.shut {
                    ready!(Pin::new(&mut *w).poll_shutdown(cx))?;
                    self.shut = true;
                }
                return Poll::Ready(Ok(()));
            }
        }
    }

    fn publish(&mut self, to: &AtomicU64) {
        if self.moved != self.counted {
            to.fetch_add(self.moved - self.counted, Ordering::Relaxed);
            self.counted = self.moved;
        }
    }
}

/// What the client-idle rule needs to know about the client's commands, found by looking for
/// command names in what it sends (no RESP parsing; a false match only spares a client).
#[derive(Default)]
struct Watch {
    /// The client sent a (P|S)SUBSCRIBE: exempt from the idle rule for good.
    subscribed: bool,
    /// The client's latest request holds a blocking command (BLPOP, XREAD … BLOCK, WAIT …):
    /// exempt until it sends something else.
    blocking: bool,
    /// The tail of the previous chunk, so a name split across two reads is still found.
    tail: Vec<u8>,
}

const SUBSCRIBE: &[u8] = b"subscribe";
/// Blocking commands, by a prefix of their names (BRPOPLPUSH, XREADGROUP, WAITAOF included).
const BLOCKING: [&[u8]; 7] = [
    b"blpop", b"brpop", b"blmove", b"blmpop", b"bzpop", b"bzmpop", b"xread",
];
const WAIT: &[u8] = b"wait";
const LONGEST: usize = 9;

impl Watch {
    fn scan(&mut self, chunk: &[u8]) {
        let mut hay = std::mem::take(&mut self.tail);
        hay.extend_from_slice(chunk);
        hay.make_ascii_lowercase();
        let has = |word: &[u8]| hay.windows(word.len()).any(|w| w == word);
        self.subscribed = self.subscribed || has(SUBSCRIBE);
        self.blocking = BLOCKING.iter().any(|w| has(w)) || has(WAIT);
        self.tail = hay[hay.len().saturating_sub(LONGEST - 1)..].to_vec();
    }

    fn exempt(&self) -> bool {
        self.subscribed || self.blocking
    }
}

/// What one poll of both directions found.
enum Step {
    /// Client EOF passed on to Redis: only replies flow from now on.
    ClientDone,
    Ended,
}

/// Splice `client` and `redis` until one side closes, a timer fires or `hard_stop`.
pub(crate) async fn run(
    mut client: TcpStream,
    mut redis: TcpStream,
    timers: &Timers,
    hard_stop: &CancellationToken,
    counters: &Counters,
) -> End {
    let mut up = Half::new();
    let mut down = Half::new();
    let mut watch = timers.client_idle.map(|_| Watch::default());
    // The client sent more recently than Redis answered: it waits for a reply (blocked).
    let mut waiting = false;
    let mut draining = false;
    let mut last_moved = 0u64;
    let mut quiet_since = Instant::now();
    loop {
        let check = if draining {
            Some(DRAIN_IDLE / IDLE_CHECKS)
        } else {
            timers.client_idle.map(|t| t / IDLE_CHECKS)
        };
        let step = poll_fn(|cx| {
            let (up_before, down_before) = (up.moved, down.moved);
            let mut scan = |chunk: &[u8]| {
                if let Some(w) = watch.as_mut() {
                    w.scan(chunk);
                }
            };
            let up_done = if draining {
                None
            } else {
                match up.poll_copy(cx, &mut client, &mut redis, &mut scan) {
                    Poll::Ready(r) => Some(r),
                    Poll::Pending => None,
                }
            };
            let down_res = down.poll_copy(cx, &mut redis, &mut client, &mut |_| {});
            if up.moved != up_before {
                waiting = true;
            }
            if down.moved != down_before {
                waiting = false;
            }
            up.publish(&counters.up);
            down.publish(&counters.down);
            match (up_done, down_res) {
                // Redis closed or either side failed: the pair is done.
                (_, Poll::Ready(_)) | (Some(Err(_)), _) => Poll::Ready(Step::Ended),
                (Some(Ok(())), Poll::Pending) => Poll::Ready(Step::ClientDone),
                (None, Poll::Pending) => Poll::Pending,
            }
        });
        let tick = async {
            match check {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            s = step => match s {
                Step::Ended => return End::Closed,
                Step::ClientDone => {
                    draining = true;
                    quiet_since = Instant::now();
                }
            },
            () = tick => {
                let moved = up.moved + down.moved;
                let now = Instant::now();
                if moved != last_moved {
                    last_moved = moved;
                    quiet_since = now;
                }
                let quiet = now.duration_since(quiet_since);
                if draining {
                    if quiet >= DRAIN_IDLE {
                        return End::DrainIdle;
                    }
                } else if let Some(limit) = timers.client_idle
                    && quiet >= limit
                    && !waiting
                    && !watch.as_ref().is_some_and(Watch::exempt)
                {
                    return End::ClientIdle;
                }
            },
            () = hard_stop.cancelled() => return End::HardStop,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_subscribe_in_any_case_and_across_reads() {
        let mut w = Watch::default();
        w.scan(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        assert!(!w.exempt());
        w.scan(b"*2\r\n$10\r\npsubsc");
        assert!(!w.subscribed);
        w.scan(b"RIBE\r\n$1\r\n*\r\n");
        assert!(w.subscribed);
        w.scan(b"PING\r\n");
        assert!(w.exempt(), "a subscriber stays exempt");
        let mut w = Watch::default();
        w.scan(b"SSUBSCRIBE ch\r\n");
        assert!(w.subscribed);
    }

    #[test]
    fn a_blocking_request_is_exempt_until_the_next_one() {
        let mut w = Watch::default();
        w.scan(b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
        assert!(w.exempt());
        w.scan(b"*1\r\n$4\r\nPING\r\n");
        assert!(!w.exempt());
        w.scan(b"XREADGROUP GROUP g c BLOCK 0 STREAMS s >\r\n");
        assert!(w.exempt());
        w.scan(b"GET k\r\n");
        assert!(!w.exempt());
    }
}
