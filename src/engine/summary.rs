//! The run summary: everything in run.json except the activations.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::event::Phase;
use crate::paper;
use crate::profile::Profile;
use crate::redis_host::{ColdStart, StopReport};
use crate::stats::{PhaseName, PlatformStats, RunStats};

/// Version of the run.json layout (see schema/run.schema.json).
pub const SCHEMA_ID: &str = "redwhisk.run/1";

fn platform_side(p: &PlatformStats) -> Value {
    json!({
        "count": p.duration.count(),
        "duration_ms": p.duration.summary(),
        "client_latency_ms": p.client_latency.summary(),
        "wait_time_ms": p.wait_time.summary(),
        "init_time_ms": p.init_time.summary(),
    })
}

/// The statistics part, also printed by `redwhisk run --output json`.
pub fn stats_json(stats: &RunStats) -> Value {
    let mut phases = serde_json::Map::new();
    let mut commands = serde_json::Map::new();
    for p in PhaseName::ALL {
        phases.insert(p.as_str().into(), json!(stats.phase(p)));
        if let Some(c) = stats.command(p) {
            commands.insert(p.as_str().into(), json!(c));
        }
    }
    json!({
        "completed": stats.completed,
        "succeeded": stats.succeeded(),
        "failed": stats.failed,
        "mismatches": stats.mismatches,
        "command_errors": stats.command_errors,
        "throttled": stats.throttled,
        "platform_errors": stats.platform_errors,
        "phases_ms": phases,
        "per_command_us": commands,
        "platform": {"cold": platform_side(&stats.cold), "warm": platform_side(&stats.warm)},
        "engine_overhead_ms": stats.overhead.summary(),
    })
}

fn paper_json() -> Value {
    let mut ow = serde_json::Map::new();
    let mut lambda = serde_json::Map::new();
    for p in PhaseName::ALL {
        if let Some(f) = paper::openwhisk_redis(p) {
            ow.insert(p.as_str().into(), json!(f));
        }
        if let Some(f) = paper::lambda_elasticache(p) {
            lambda.insert(p.as_str().into(), json!(f));
        }
    }
    json!({
        "openwhisk_redis_ms": ow,
        "lambda_elasticache_ms": lambda,
        "container_start_ms": paper::CONTAINER_START_MS,
        "records": paper::RECORDS,
        "invocations": paper::INVOCATIONS,
    })
}

/// Facts about the machine the run happened on.
pub fn host_json() -> Value {
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    json!({
        "hostname": hostname,
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "kernel": kernel,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    })
}

#[allow(clippy::too_many_arguments)]
pub fn build_summary(
    profile: &Profile,
    stats: &RunStats,
    outcome: Phase,
    started_at: DateTime<Utc>,
    elapsed: Duration,
    cold_start: Option<&ColdStart>,
    stop: Option<&StopReport>,
) -> Value {
    let w = &profile.workload;
    json!({
        "schema": SCHEMA_ID,
        "redwhisk_version": env!("CARGO_PKG_VERSION"),
        "experiment": "case-study-1",
        "outcome": outcome,
        "partial": outcome != Phase::Done,
        "started_at": started_at,
        "finished_at": Utc::now(),
        "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
        "host": host_json(),
        "profile": profile,
        "workload": {
            "action": w.action,
            "planned": w.invocations,
            "concurrency": w.concurrency,
            "records": w.records,
            "value_size": w.value_size,
            "mode": w.mode,
        },
        "redis": {
            "backend": profile.redis.backend.label(),
            "persistence": profile.redis.persistence.label(),
            "cold_start": cold_start,
            "stop": stop,
        },
        "platform": profile.platform.label(),
        "summary": stats_json(stats),
        "paper": paper_json(),
    })
}
