//! One timed phase: `n` commands sent either one round trip each or as one pipeline.

use std::ops::Range;
use std::time::Instant;

use hdrhistogram::Histogram;
use redis::Value;

use crate::error::ActionError;
use crate::protocol::{LatencyBuckets, Mode};

/// What a phase measured.
#[derive(Debug)]
pub struct PhaseRun {
    /// From before the first command is built to after the last reply is parsed.
    pub ms: f64,
    pub round_trips: u64,
    /// Commands answered with an error reply (the phase goes on).
    pub errors: u64,
    /// One reply per command, in order; an error reply is `Value::Nil`.
    pub replies: Vec<Value>,
    /// Per-command latency in µs (sequential), or one sample for the whole pipeline.
    pub latency: LatencyBuckets,
}

/// A latency recorder in µs, 3 significant digits (HdrHistogram's default precision).
struct Recorder(Option<Histogram<u64>>);

impl Recorder {
    fn new() -> Self {
        Self(Histogram::new(3).ok())
    }

    fn record(&mut self, since: Instant) {
        let us = u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX);
        if let Some(h) = self.0.as_mut() {
            // Auto-resizing histogram: recording only fails past u64 range, which cannot happen.
            let _ = h.record(us);
        }
    }

    fn buckets(&self) -> LatencyBuckets {
        self.0
            .as_ref()
            .map(|h| {
                h.iter_recorded()
                    .map(|v| {
                        [
                            h.highest_equivalent(v.value_iterated_to()),
                            v.count_at_value(),
                        ]
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// One command of a phase: its name and its arguments, borrowed from data built before the
/// timer starts. No allocation per command: one connection encodes it straight into the
/// pipeline's buffer; only a cluster (which routes by key) builds a `redis::Cmd` from it.
#[derive(Debug, Clone, Copy)]
pub struct Command<'a> {
    pub name: &'static [u8],
    pub key: &'a [u8],
    pub value: Option<&'a [u8]>,
}

impl<'a> Command<'a> {
    pub fn set(key: &'a [u8], value: &'a [u8]) -> Self {
        Self {
            name: b"SET",
            key,
            value: Some(value),
        }
    }

    pub fn get(key: &'a [u8]) -> Self {
        Self {
            name: b"GET",
            key,
            value: None,
        }
    }

    pub fn del(key: &'a [u8]) -> Self {
        Self {
            name: b"DEL",
            key,
            value: None,
        }
    }

    /// The same command for the redis crate.
    pub fn to_cmd(self) -> redis::Cmd {
        let mut c = redis::Cmd::new();
        c.arg(self.name).arg(self.key);
        if let Some(v) = self.value {
            c.arg(v);
        }
        c
    }

    /// Append its RESP encoding (an array of bulk strings) to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let n = if self.value.is_some() { b'3' } else { b'2' };
        out.extend_from_slice(&[b'*', n, b'\r', b'\n']);
        bulk(out, self.name);
        bulk(out, self.key);
        if let Some(v) = self.value {
            bulk(out, v);
        }
    }
}

/// `$<len>\r\n<bytes>\r\n`, the length written without going through `fmt`.
fn bulk(out: &mut Vec<u8>, b: &[u8]) {
    out.push(b'$');
    let mut num = [0u8; 20];
    let mut at = num.len();
    let mut n = b.len();
    loop {
        at -= 1;
        num[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&num[at..]);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(b);
    out.extend_from_slice(b"\r\n");
}

/// Bytes of a pipeline written at a time: about what Redis reads from a client per event
/// (its 16 KiB I/O buffer), so it starts on the first commands at once.
const SEND_CHUNK: usize = 16 * 1024;

/// Where a phase's commands go: one connection, or a cluster (routed per key).
pub trait Exec {
    /// One command, one reply.
    fn one(&mut self, cmd: &Command<'_>) -> redis::RedisResult<Value>;
    /// Commands `build(i)` for `i` in `cmds` as pipelines; the replies in order, and the round
    /// trips taken.
    fn many<'c>(
        &mut self,
        cmds: Range<usize>,
        build: &dyn Fn(usize) -> Command<'c>,
    ) -> redis::RedisResult<(Vec<redis::RedisResult<Value>>, u64)>;
}

/// An error reply as the error it stands for; any other reply as it is.
fn reply(v: Value) -> redis::RedisResult<Value> {
    match v {
        Value::ServerError(e) => Err(e.into()),
        v => Ok(v),
    }
}

/// One connection as a phase uses it: encoded commands out, one reply at a time in (an error
/// reply as `Value::ServerError`; `Err` only when the connection itself failed). The redis
/// crate's connection (TLS) and our plain-TCP one ([`crate::wire::PlainConn`]) are both one.
pub trait Wire {
    fn send(&mut self, encoded: &[u8]) -> redis::RedisResult<()>;
    fn recv(&mut self) -> redis::RedisResult<Value>;
}

impl Wire for redis::Connection {
    fn send(&mut self, encoded: &[u8]) -> redis::RedisResult<()> {
        self.send_packed_command(encoded)
    }

    fn recv(&mut self) -> redis::RedisResult<Value> {
        self.recv_response()
    }
}

/// An encoded command and its reply; an error reply as the error it stands for.
pub fn request(w: &mut impl Wire, encoded: &[u8]) -> redis::RedisResult<Value> {
    w.send(encoded)?;
    w.recv().and_then(reply)
}

/// One command, one round trip, encoded into `out`.
fn one_on(w: &mut impl Wire, out: &mut Vec<u8>, cmd: &Command<'_>) -> redis::RedisResult<Value> {
    out.clear();
    cmd.encode(out);
    request(w, out)
}

/// The pipeline is sent as it is encoded, [`SEND_CHUNK`] bytes at a time, so Redis works on
/// the first commands while the rest are still being encoded; then every reply is read and
/// parsed once. Still one round trip: no reply is waited for before the last command is sent.
/// An error reply is that command's result; a failed connection ends the pipeline at once
/// (the replies still due would each wait out the read deadline).
fn many_on<'c>(
    w: &mut impl Wire,
    out: &mut Vec<u8>,
    cmds: Range<usize>,
    build: &dyn Fn(usize) -> Command<'c>,
) -> redis::RedisResult<(Vec<redis::RedisResult<Value>>, u64)> {
    out.clear();
    for i in cmds.clone() {
        build(i).encode(out);
        if out.len() >= SEND_CHUNK {
            w.send(out)?;
            out.clear();
        }
    }
    if !out.is_empty() {
        w.send(out)?;
    }
    let mut got = Vec::with_capacity(cmds.len());
    for _ in cmds {
        got.push(reply(w.recv()?));
    }
    Ok((got, 1))
}

impl Exec for crate::conn::Single {
    fn one(&mut self, cmd: &Command<'_>) -> redis::RedisResult<Value> {
        use crate::conn::Link;
        match &mut self.link {
            Link::Plain(c) => one_on(c, &mut self.out, cmd),
            Link::Crate(c) => one_on(c, &mut self.out, cmd),
        }
    }

    fn many<'c>(
        &mut self,
        cmds: Range<usize>,
        build: &dyn Fn(usize) -> Command<'c>,
    ) -> redis::RedisResult<(Vec<redis::RedisResult<Value>>, u64)> {
        use crate::conn::Link;
        match &mut self.link {
            Link::Plain(c) => many_on(c, &mut self.out, cmds, build),
            Link::Crate(c) => many_on(c, &mut self.out, cmds, build),
        }
    }
}

impl Exec for crate::cluster::ClusterConn {
    fn one(&mut self, cmd: &Command<'_>) -> redis::RedisResult<Value> {
        self.query(&cmd.to_cmd())
    }

    fn many<'c>(
        &mut self,
        cmds: Range<usize>,
        build: &dyn Fn(usize) -> Command<'c>,
    ) -> redis::RedisResult<(Vec<redis::RedisResult<Value>>, u64)> {
        self.pipeline(cmds.map(|i| build(i).to_cmd()).collect())
    }
}

/// A failure that leaves the connection unusable ends the phase; an error reply does not.
fn fatal(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() || e.is_timeout()
}

/// Run `n` commands built by `build(i)`, timed with a monotonic clock.
pub fn run<'a, F>(
    con: &mut dyn Exec,
    phase: &'static str,
    n: usize,
    mode: Mode,
    build: F,
) -> Result<PhaseRun, ActionError>
where
    F: Fn(usize) -> Command<'a>,
{
    match mode {
        Mode::Sequential => sequential(con, phase, n, build),
        Mode::Pipelined => pipelined(con, phase, n, n.max(1), build),
    }
}

/// Pipelines of at most `batch` commands, one round trip each.
pub fn pipelined<'a, F>(
    con: &mut dyn Exec,
    phase: &'static str,
    n: usize,
    batch: usize,
    build: F,
) -> Result<PhaseRun, ActionError>
where
    F: Fn(usize) -> Command<'a>,
{
    let mut rec = Recorder::new();
    let mut replies = Vec::with_capacity(n);
    let mut errors = 0;
    let mut round_trips = 0;
    let start = Instant::now();
    let mut first = 0;
    while first < n {
        let last = (first + batch.max(1)).min(n);
        let t = Instant::now();
        let (got, trips) = con
            .many(first..last, &build)
            .map_err(|source| ActionError::Lost { phase, source })?;
        rec.record(t);
        round_trips += trips;
        for r in got {
            match r {
                Ok(v) => replies.push(v),
                Err(e) if fatal(&e) => return Err(ActionError::Lost { phase, source: e }),
                Err(_) => {
                    errors += 1;
                    replies.push(Value::Nil);
                }
            }
        }
        first = last;
    }
    let ms = start.elapsed().as_secs_f64() * 1e3;
    Ok(PhaseRun {
        ms,
        round_trips,
        errors,
        replies,
        latency: rec.buckets(),
    })
}

fn sequential<'a, F>(
    con: &mut dyn Exec,
    phase: &'static str,
    n: usize,
    build: F,
) -> Result<PhaseRun, ActionError>
where
    F: Fn(usize) -> Command<'a>,
{
    let mut rec = Recorder::new();
    let mut replies = Vec::with_capacity(n);
    let mut errors = 0;
    let start = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let r = con.one(&build(i));
        rec.record(t);
        match r {
            Ok(v) => replies.push(v),
            Err(e) if fatal(&e) => return Err(ActionError::Lost { phase, source: e }),
            Err(_) => {
                errors += 1;
                replies.push(Value::Nil);
            }
        }
    }
    let ms = start.elapsed().as_secs_f64() * 1e3;
    Ok(PhaseRun {
        ms,
        round_trips: n as u64,
        errors,
        replies,
        latency: rec.buckets(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_byte_for_byte_the_redis_crates() {
        let long = vec![b'x'; 1234];
        let cmds = [
            Command::set(b"k:1", b"value"),
            Command::get(b"k:22"),
            Command::del(b""),
            Command::set(b"0123456789", &long),
        ];
        let mut want = Vec::new();
        for c in &cmds {
            want.extend_from_slice(&c.to_cmd().get_packed_command());
        }
        let mut got = Vec::new();
        for c in &cmds {
            c.encode(&mut got);
        }
        assert_eq!(got, want);
    }

    /// A connection that fails partway through a pipeline's replies ends the pipeline with
    /// that failure, instead of recording it for each reply still due (on a frozen server,
    /// each would wait out the 30 s read deadline in turn).
    #[test]
    fn a_connection_lost_mid_replies_ends_the_pipeline() {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let peer = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).unwrap();
            // Two of the five replies, then the end of the stream.
            s.write_all(b"+OK\r\n+OK\r\n").unwrap();
            s.shutdown(std::net::Shutdown::Write).unwrap();
            let _ = done_rx.recv();
        });
        let mut c =
            crate::wire::PlainConn::connect(&addr, std::time::Duration::from_secs(5)).unwrap();
        c.set_timeouts(std::time::Duration::from_secs(10)).unwrap();
        let got = many_on(&mut c, &mut Vec::new(), 0..5, &|_| Command::set(b"k", b"v"));
        let e = got.expect_err("the pipeline went on after its connection ended");
        assert!(e.is_connection_dropped(), "{e}");
        done_tx.send(()).unwrap();
        peer.join().unwrap();
    }
}
