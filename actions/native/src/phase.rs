//! One timed phase: `n` commands sent either one round trip each or as one pipeline.

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

/// Where a phase's commands go: one connection, or a cluster (routed per key).
pub trait Exec {
    /// One command, one reply.
    fn one(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<Value>;
    /// The commands as pipelines; the replies in order, and the round trips taken.
    fn many(
        &mut self,
        cmds: Vec<redis::Cmd>,
    ) -> redis::RedisResult<(Vec<redis::RedisResult<Value>>, u64)>;
}

impl Exec for redis::Connection {
    fn one(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<Value> {
        cmd.query(self)
    }

    fn many(
        &mut self,
        cmds: Vec<redis::Cmd>,
    ) -> redis::RedisResult<(Vec<redis::RedisResult<Value>>, u64)> {
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for c in cmds {
            pipe.add_command(c);
        }
        Ok((pipe.query(self)?, 1))
    }
}

impl Exec for crate::cluster::ClusterConn {
    fn one(&mut self, cmd: &redis::Cmd) -> redis::RedisResult<Value> {
        self.query(cmd)
    }

    fn many(
        &mut self,
        cmds: Vec<redis::Cmd>,
    ) -> redis::RedisResult<(Vec<redis::RedisResult<Value>>, u64)> {
        self.pipeline(cmds)
    }
}

/// A failure that leaves the connection unusable ends the phase; an error reply does not.
fn fatal(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() || e.is_timeout()
}

/// Run `n` commands built by `build(i)`, timed with a monotonic clock.
pub fn run<F>(
    con: &mut dyn Exec,
    phase: &'static str,
    n: usize,
    mode: Mode,
    build: F,
) -> Result<PhaseRun, ActionError>
where
    F: Fn(usize) -> redis::Cmd,
{
    match mode {
        Mode::Sequential => sequential(con, phase, n, build),
        Mode::Pipelined => pipelined(con, phase, n, n.max(1), build),
    }
}

/// Pipelines of at most `batch` commands, one round trip each.
pub fn pipelined<F>(
    con: &mut dyn Exec,
    phase: &'static str,
    n: usize,
    batch: usize,
    build: F,
) -> Result<PhaseRun, ActionError>
where
    F: Fn(usize) -> redis::Cmd,
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
            .many((first..last).map(&build).collect())
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

fn sequential<F>(
    con: &mut dyn Exec,
    phase: &'static str,
    n: usize,
    build: F,
) -> Result<PhaseRun, ActionError>
where
    F: Fn(usize) -> redis::Cmd,
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
