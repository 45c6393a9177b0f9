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

/// A failure that leaves the connection unusable ends the phase; an error reply does not.
fn fatal(e: &redis::RedisError) -> bool {
    e.is_io_error() || e.is_connection_dropped() || e.is_unrecoverable_error() || e.is_timeout()
}

/// Run `n` commands built by `build(i)`, timed with a monotonic clock.
pub fn run<F>(
    con: &mut redis::Connection,
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
    con: &mut redis::Connection,
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
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for i in first..last {
            pipe.add_command(build(i));
        }
        let got: Vec<redis::RedisResult<Value>> = pipe
            .query(con)
            .map_err(|source| ActionError::Lost { phase, source })?;
        rec.record(t);
        round_trips += 1;
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
    con: &mut redis::Connection,
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
        let r = build(i).query::<Value>(con);
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
