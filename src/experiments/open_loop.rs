//! Case study 1 as an open loop: invocations arrive on a schedule (constant or Poisson, at
//! `workload.rate` per second) whether or not the previous ones have finished, as serverless
//! traffic does. Each one's latency is measured from its intended start (corrected for
//! coordinated omission, as wrk2 and oha's `--latency-correction` do) and from its actual send
//! (uncorrected); both are kept. At `max_in_flight` invocations in flight later arrivals wait,
//! and the wait is part of their corrected latency (a late start).
//!
//! The scheduler is one task: a `sleep_until` on the next intended start, the in-flight
//! invocations in a `FuturesUnordered`, and Redis's health check polled beside them (never
//! awaited inline, so a slow check does not hold arrivals back).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::time::{Instant, sleep_until};

use super::job::Job;
use super::job::redis_lost;
use super::params::bench_params;
use super::{Context, EngineResult};
use crate::event::{EngineEvent, Phase};
use crate::model::RedisStatus;
use crate::platform::Platform;
use crate::profile::OpenLoop;
use crate::redis_host::{Endpoint, HostError, RedisHost};
use crate::results::ResultsWriter;
use crate::stats::{Arrivals, RunStats, Timing};

/// One scheduled invocation.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub index: u32,
    pub intended: Instant,
}

/// The schedule of a run: when each of `n` invocations should start.
#[derive(Debug)]
pub struct Pacer {
    arrivals: Arrivals,
    origin: Instant,
    /// The origin as wall-clock microseconds since the epoch.
    origin_epoch_us: i64,
    n: u32,
    next: u32,
    next_at: Option<Instant>,
}

impl Pacer {
    /// `n` arrivals from `origin` (the first one is due then).
    pub fn new(o: &OpenLoop, n: u32, origin: Instant) -> Self {
        let lead = origin.saturating_duration_since(Instant::now());
        let origin_epoch_us = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| (d + lead).as_micros() as i64);
        let mut p = Self {
            arrivals: Arrivals::new(o.arrivals, o.rate, o.seed),
            origin,
            origin_epoch_us,
            n,
            next: 0,
            next_at: None,
        };
        p.advance();
        p
    }

    fn advance(&mut self) {
        self.next_at = (self.next < self.n)
            .then(|| self.origin + Duration::from_secs_f64(self.arrivals.next_offset().max(0.0)));
    }

    /// When the next arrival is due; `None` once every arrival has been taken.
    pub fn next_due(&self) -> Option<Instant> {
        self.next_at
    }

    /// Every arrival was taken.
    pub fn finished(&self) -> bool {
        self.next_at.is_none()
    }

    /// Arrivals taken so far.
    pub fn taken(&self) -> u32 {
        self.next
    }

    /// The next arrival if it is due at `now`.
    pub fn take_due(&mut self, now: Instant) -> Option<Arrival> {
        let at = self.next_at.filter(|&at| at <= now)?;
        let a = Arrival {
            index: self.next,
            intended: at,
        };
        self.next += 1;
        self.advance();
        Some(a)
    }

    /// Milliseconds from the origin to `t`.
    pub fn ms(&self, t: Instant) -> f64 {
        crate::stats::ms(t.saturating_duration_since(self.origin))
    }

    /// An invocation's times, from its arrival, send, end and 429 wait.
    pub fn timing(
        &self,
        a: &Arrival,
        sent: Instant,
        done: Instant,
        throttle_wait_ms: f64,
    ) -> Timing {
        let intended_ms = self.ms(a.intended);
        let intended_at = (self.origin_epoch_us as f64 / 1000.0 + intended_ms).round() as i64;
        Timing::new(
            intended_at,
            intended_ms,
            self.ms(sent),
            self.ms(done),
            throttle_wait_ms,
        )
    }
}

type Health<'a> = BoxFuture<'a, Result<Option<RedisStatus>, HostError>>;

/// Invoke on the open-loop schedule; returns the stats and Done, Cancelled or RedisLost.
#[allow(clippy::too_many_arguments)]
pub(super) async fn invoke_open(
    job: &Job<'_>,
    open: &OpenLoop,
    platform: &Platform,
    host: &RedisHost,
    endpoint: &Endpoint,
    functions: &Endpoint,
    action_host: &str,
    nodes: &[String],
    name: &str,
    writer: &mut ResultsWriter,
) -> EngineResult<(RunStats, Phase)> {
    let (profile, sink, cancel) = (job.profile, job.sink, &job.cancel);
    let w = &profile.workload;
    let max = open.max_in_flight as usize;
    let mut stats = RunStats::new();
    let mut pacer = Pacer::new(open, w.invocations, Instant::now());
    let mut in_flight = FuturesUnordered::new();
    let mut status_tick = tokio::time::interval(Duration::from_secs(1));
    let mut health: Option<Health<'_>> = None;
    let mut cancelled = false;
    let mut lost: Option<String> = None;
    sink.info(format!(
        "open loop: {} invocations at {} per second ({} arrivals, at most {} in flight, seed {})",
        w.invocations,
        open.rate,
        open.arrivals.as_str(),
        open.max_in_flight,
        open.seed
    ));
    loop {
        if lost.is_some() {
            break;
        }
        let now = Instant::now();
        while !cancelled && in_flight.len() < max {
            let Some(arrival) = pacer.take_due(now) else {
                break;
            };
            let params = serde_json::to_value(bench_params(
                profile,
                functions,
                action_host,
                arrival.index,
                nodes,
            ))?;
            in_flight.push(async move {
                let sent = Instant::now();
                let result = platform.invoke(name, params).await;
                (arrival, sent, Instant::now(), result)
            });
        }
        if in_flight.is_empty() && (cancelled || pacer.finished()) {
            break;
        }
        // Sleep to the next arrival only while there is room for it: a full house waits for a
        // completion instead (and the arrival starts late).
        let wake = pacer
            .next_due()
            .filter(|_| !cancelled && in_flight.len() < max);
        tokio::select! {
            Some((arrival, sent, done, result)) = in_flight.next() => {
                let index = arrival.index;
                let mut a = match result {
                    Ok(a) => a,
                    Err(e) if e.is_per_invocation() => {
                        stats.record_platform_error();
                        sink.warn(format!("invocation {index}: {e}"));
                        continue;
                    }
                    Err(e) => return Err(e).context(format!("invocation {index} failed at the platform")),
                };
                a.index = index;
                a.open = Some(pacer.timing(&arrival, sent, done, a.throttle_wait_ms));
                let parsed = stats.record(&a);
                writer.append(&a, parsed.as_ref()).context("cannot write the results")?;
                let failed = !a.success();
                if failed {
                    let why = a.error_text().unwrap_or_default();
                    sink.warn(format!("invocation {index} failed: {} {why}", a.response.status.as_str()));
                }
                sink.send(EngineEvent::Activation(Box::new(a)));
                if failed && let Err(e) = host.check_alive(endpoint).await {
                    lost = Some(redis_lost(sink, index, &e, &mut in_flight));
                }
            }
            () = sleep_until(wake.unwrap_or(now)), if wake.is_some() => {}
            r = async {
                match health.as_mut() {
                    Some(h) => h.await,
                    None => std::future::pending().await,
                }
            }, if health.is_some() => {
                health = None;
                match r {
                    Err(e) => lost = Some(redis_lost(sink, pacer.taken(), &e, &mut in_flight)),
                    Ok(Some(st)) => sink.send(EngineEvent::RedisStatus(st)),
                    Ok(None) => {}
                }
            }
            _ = status_tick.tick(), if health.is_none() => {
                health = Some(async move {
                    host.check_alive(endpoint).await?;
                    Ok(host.status().await.ok())
                }.boxed());
            }
            () = cancel.cancelled(), if !cancelled => {
                cancelled = true;
                sink.warn(format!(
                    "cancelled after {} of {} invocations; {} in flight stopped",
                    stats.completed, w.invocations, in_flight.len()
                ));
                in_flight.clear();
            }
        }
    }
    let outcome = if lost.is_some() {
        Phase::RedisLost
    } else if cancelled {
        Phase::Cancelled
    } else {
        Phase::Done
    };
    Ok((stats, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::ArrivalKind;

    #[test]
    fn the_pacer_hands_out_arrivals_in_order_when_due_and_stops_after_n() {
        let o = OpenLoop {
            rate: 10.0,
            arrivals: ArrivalKind::Constant,
            max_in_flight: 1,
            seed: 1,
        };
        let t0 = Instant::now();
        let mut p = Pacer::new(&o, 3, t0);
        assert_eq!(p.take_due(t0).map(|a| a.index), Some(0));
        assert!(p.take_due(t0).is_none(), "the second is due 100 ms later");
        let later = t0 + Duration::from_millis(250);
        assert_eq!(p.take_due(later).map(|a| a.index), Some(1));
        let a = p.take_due(later).unwrap();
        assert_eq!(a.index, 2);
        assert_eq!(a.intended, t0 + Duration::from_millis(200));
        assert!(p.finished() && p.take_due(later).is_none());
        // Sent 50 ms late, done 20 ms later: corrected 70, uncorrected 20, late.
        let t = p.timing(&a, later, later + Duration::from_millis(20), 0.0);
        assert!((t.corrected_ms - 70.0).abs() < 1e-6 && (t.uncorrected_ms - 20.0).abs() < 1e-6);
        assert!(t.late);
    }
}
