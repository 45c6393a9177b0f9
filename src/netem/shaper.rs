//! The shaping proxy itself: a TCP relay that delays each direction by half the RTT (plus
//! jitter, order kept) and paces bytes to a rate, as toxiproxy's latency and bandwidth toxics do.
//!
//! Plain threads and blocking sockets, not tokio: tokio's timer wheel has a 1 ms resolution,
//! which would round a 0.5 ms one-way delay up to 1-2 ms. Each direction has a reader (stamps
//! each chunk on arrival and computes its release time) and a writer (sleeps until the release
//! time, finishing with a short spin, then writes).

use std::io::{self, IoSliceMut, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use nix::sys::time::TimeSpec;
use nix::time::{ClockId, clock_gettime};
use rand::Rng;

use crate::profile::NetworkEmulation;

/// What each direction does to the bytes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// Half the round-trip time: one direction's delay.
    pub one_way: Duration,
    /// Each chunk's delay varies uniformly within ± this (half the configured jitter).
    pub jitter: Duration,
    /// Bytes per second per direction; `None`: not limited.
    pub bytes_per_s: Option<f64>,
}

impl Shape {
    pub fn of(n: &NetworkEmulation) -> Self {
        Self {
            one_way: Duration::from_secs_f64(n.rtt_ms / 2.0 / 1e3),
            jitter: Duration::from_secs_f64(n.jitter_ms / 2.0 / 1e3),
            bytes_per_s: n.rate_mbit.map(|r| r * 1e6 / 8.0),
        }
    }

    /// One chunk's delay: the one-way delay ± a uniform share of the jitter, never below 0.
    fn delay(&self, rng: &mut impl Rng) -> Duration {
        if self.jitter.is_zero() {
            return self.one_way;
        }
        let j = self.jitter.as_secs_f64();
        let d = self.one_way.as_secs_f64() + rng.random_range(-j..=j);
        Duration::from_secs_f64(d.max(0.0))
    }

    /// How long `n` bytes take at the rate.
    fn transmit(&self, n: usize) -> Duration {
        self.bytes_per_s
            .map_or(Duration::ZERO, |r| Duration::from_secs_f64(n as f64 / r))
    }

    /// Chunks are cut to this size so a rate paces smoothly (16 KiB at 10 Mbit/s: 13 ms).
    fn piece(&self) -> usize {
        if self.bytes_per_s.is_some() {
            16 * 1024
        } else {
            READ_BUF
        }
    }
}

const READ_BUF: usize = 64 * 1024;
/// Below this much left, the writer spins instead of sleeping: a sleep can overshoot
/// by tens of microseconds on a busy machine.
const SPIN: Duration = Duration::from_micros(150);

/// Sleep until `t`: a coarse sleep, then yield until the moment comes.
fn sleep_until(t: Instant) {
    loop {
        let now = Instant::now();
        if now >= t {
            return;
        }
        let left = t - now;
        if left > SPIN {
            thread::sleep(left - SPIN);
        } else {
            std::hint::spin_loop();
        }
    }
}

/// Accept connections on `listener` forever, relaying each to `upstream` through `shape`.
pub fn serve(listener: &TcpListener, upstream: SocketAddr, shape: Shape) -> io::Result<()> {
    // Timer slack is per thread and inherited: every relay thread sleeps precisely.
    let _slack = nix::sys::prctl::set_timerslack(1);
    for conn in listener.incoming() {
        let Ok(client) = conn else { continue };
        thread::spawn(move || relay(client, upstream, shape));
    }
    Ok(())
}

/// One client: connect upstream and run both directions until both are closed.
fn relay(client: TcpStream, upstream: SocketAddr, shape: Shape) {
    let Ok(server) = TcpStream::connect_timeout(&upstream, Duration::from_secs(5)) else {
        let _closing = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (Ok(c2), Ok(s2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = thread::spawn(move || pump(client, server, shape));
    pump(s2, c2, shape);
    let _done = up.join();
}

/// What the reader hands the writer: bytes to write at a moment, or the end of the stream.
enum Item {
    Data(Instant, Vec<u8>),
    End(Instant),
}

/// One direction: read from `from`, write to `to`, each chunk released at
/// max(previous release, arrival + delay) + its transmission time.
fn pump(from: TcpStream, to: TcpStream, shape: Shape) {
    let (tx, rx) = mpsc::sync_channel::<Item>(1024);
    let Ok(from_ctl) = from.try_clone() else {
        return;
    };
    let writer = thread::spawn(move || {
        let mut to = to;
        for item in rx {
            match item {
                Item::Data(at, bytes) => {
                    sleep_until(at);
                    if to.write_all(&bytes).is_err() {
                        // The receiver is gone: stop reading the sender too.
                        let _closing = from_ctl.shutdown(Shutdown::Both);
                        let _closing = to.shutdown(Shutdown::Both);
                        return;
                    }
                }
                Item::End(at) => {
                    sleep_until(at);
                    let _closing = to.shutdown(Shutdown::Write);
                    return;
                }
            }
        }
    });
    let mut rng = rand::rng();
    let mut last = Instant::now();
    let mut buf = vec![0u8; READ_BUF];
    // The kernel stamps each segment on arrival: delays count from then, not from when this
    // thread woke up to read it (an idle CPU takes tens of microseconds to wake).
    let stamped = setsockopt(&from, sockopt::ReceiveTimestampns, &true).is_ok();
    loop {
        let (n, arrival) = read_stamped(&from, &mut buf, stamped).unwrap_or((0, Instant::now()));
        if n == 0 {
            let at = last.max(arrival + shape.delay(&mut rng));
            let _ = tx.send(Item::End(at));
            break;
        }
        for piece in buf[..n].chunks(shape.piece()) {
            let at = last.max(arrival + shape.delay(&mut rng)) + shape.transmit(piece.len());
            last = at;
            if tx.send(Item::Data(at, piece.to_vec())).is_err() {
                break;
            }
        }
    }
    drop(tx);
    let _done = writer.join();
}

/// Read what is there, with the moment it arrived: the kernel's receive timestamp when
/// `stamped`, else now.
fn read_stamped(s: &TcpStream, buf: &mut [u8], stamped: bool) -> io::Result<(usize, Instant)> {
    let mut cmsg = nix::cmsg_space!(TimeSpec);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(
        s.as_raw_fd(),
        &mut iov,
        stamped.then_some(&mut cmsg[..]),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    let now = Instant::now();
    let mut at = now;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let ControlMessageOwned::ScmTimestampns(ts) = c
                && let Ok(rt) = clock_gettime(ClockId::CLOCK_REALTIME)
            {
                let age = rt - ts;
                if let (Ok(secs), Ok(nanos)) =
                    (u64::try_from(age.tv_sec()), u32::try_from(age.tv_nsec()))
                {
                    let age = Duration::new(secs, nanos);
                    // A stamp from the future or far past (a clock step) is not trusted.
                    if age < Duration::from_secs(1) {
                        at = now.checked_sub(age).unwrap_or(now);
                    }
                }
            }
        }
    }
    Ok((msg.bytes, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_within_the_jitter_and_never_go_negative() {
        let mut rng = rand::rng();
        let s = Shape {
            one_way: Duration::from_millis(1),
            jitter: Duration::from_micros(200),
            bytes_per_s: None,
        };
        for _ in 0..1000 {
            let d = s.delay(&mut rng);
            assert!(d >= Duration::from_micros(800) && d <= Duration::from_micros(1200));
        }
        let wide = Shape {
            one_way: Duration::from_micros(100),
            jitter: Duration::from_millis(5),
            bytes_per_s: None,
        };
        for _ in 0..1000 {
            let _never_panics = wide.delay(&mut rng);
        }
        let paced = Shape {
            bytes_per_s: Some(1e6),
            ..s
        };
        assert_eq!(paced.transmit(1000), Duration::from_millis(1));
        assert_eq!(s.transmit(1000), Duration::ZERO);
    }
}
