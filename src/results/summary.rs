//! Building the typed run summary (see [`crate::results::RunSummary`]) from a run's stats.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::model::run::{
    ClientWaits, Commands, HostInfo, OpenLoopRecord, OpenLoopSummary, PaperPhases, PaperRecord,
    PhaseIntervals, Phases, PlatformSide, PlatformTimings, ProfileRecord, RUN_SCHEMA, RedisRecord,
    RunStatsSummary, RunSummary, WorkloadRecord,
};
use crate::model::{ColdStart, Phase, StopReport};
use crate::paper;
use crate::profile::Profile;
use crate::stats::{OpenStats, PhaseName, PlatformStats, RunStats, ci};

/// Version of the run.json layout (see schema/run.schema.json).
pub const SCHEMA_ID: &str = RUN_SCHEMA;

fn platform_side(p: &PlatformStats) -> PlatformSide {
    PlatformSide {
        count: p.duration.count(),
        duration_ms: p.duration.summary(),
        client_latency_ms: p.client_latency.summary(),
        wait_time_ms: p.wait_time.summary(),
        init_time_ms: p.init_time.summary(),
    }
}

/// The statistics part, also printed by `redwhisk run --output json`.
pub fn stats_summary(stats: &RunStats, target_rate: f64) -> RunStatsSummary {
    let command = |p| stats.command(p).unwrap_or_default();
    RunStatsSummary {
        completed: stats.completed,
        succeeded: stats.succeeded(),
        failed: stats.failed,
        mismatches: stats.mismatches,
        command_errors: stats.command_errors,
        throttled: stats.throttled,
        platform_errors: stats.platform_errors,
        phases_ms: Phases {
            connect: stats.phase(PhaseName::Connect),
            write: stats.phase(PhaseName::Write),
            read: stats.phase(PhaseName::Read),
            delete: stats.phase(PhaseName::Delete),
            total: stats.phase(PhaseName::Total),
        },
        per_command_us: Commands {
            write: command(PhaseName::Write),
            read: command(PhaseName::Read),
            delete: command(PhaseName::Delete),
        },
        platform: PlatformTimings {
            cold: platform_side(&stats.cold),
            warm: platform_side(&stats.warm),
        },
        engine_overhead_ms: stats.overhead.summary(),
        client: Some(ClientWaits {
            throttle_wait_ms: stats.throttle_wait.summary(),
            poll_overhead_ms: stats.poll_overhead.summary(),
            log_fetch_ms: stats.log_fetch.summary(),
            whisk_errors: stats.whisk_errors,
        }),
        cluster: stats.cluster,
        open_loop: stats.open.as_ref().map(|o| open_summary(o, target_rate)),
        phase_ci_ms: Some(PhaseIntervals {
            level: ci::LEVEL,
            resamples: ci::RESAMPLES,
            seed: ci::SEED,
            connect: stats.phase_ci(PhaseName::Connect),
            write: stats.phase_ci(PhaseName::Write),
            read: stats.phase_ci(PhaseName::Read),
            delete: stats.phase_ci(PhaseName::Delete),
            total: stats.phase_ci(PhaseName::Total),
        }),
    }
}

fn open_summary(o: &OpenStats, target_rate: f64) -> OpenLoopSummary {
    OpenLoopSummary {
        target_rate,
        scheduled_rate: o.scheduled_rate(),
        achieved_rate: o.achieved_rate(),
        invocations: o.count(),
        late_starts: o.late,
        late_delay_ms: o.late_delay.summary(),
        start_delay_ms: o.start_delay.summary(),
        corrected_ms: o.corrected.summary(),
        uncorrected_ms: o.uncorrected.summary(),
        phases_corrected_ms: Phases {
            connect: o.phase_corrected(PhaseName::Connect as usize),
            write: o.phase_corrected(PhaseName::Write as usize),
            read: o.phase_corrected(PhaseName::Read as usize),
            delete: o.phase_corrected(PhaseName::Delete as usize),
            total: o.phase_corrected(PhaseName::Total as usize),
        },
        throughput_per_s: o.per_second.clone(),
    }
}

fn paper_record() -> PaperRecord {
    PaperRecord {
        openwhisk_redis_ms: PaperPhases::from_fn(paper::openwhisk_redis),
        lambda_elasticache_ms: PaperPhases::from_fn(paper::lambda_elasticache),
        container_start_ms: paper::CONTAINER_START_MS,
        records: paper::RECORDS,
        invocations: paper::INVOCATIONS,
    }
}

/// The profile as written into results files (secrets redacted by their Serialize).
pub fn profile_record(profile: &Profile) -> serde_json::Result<ProfileRecord> {
    serde_json::from_value(serde_json::to_value(profile)?)
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
) -> serde_json::Result<RunSummary> {
    let w = &profile.workload;
    Ok(RunSummary {
        schema: RUN_SCHEMA.into(),
        redwhisk_version: env!("CARGO_PKG_VERSION").into(),
        experiment: "case-study-1".into(),
        outcome,
        partial: outcome != Phase::Done,
        interrupted: false,
        started_at,
        finished_at: Utc::now(),
        elapsed_ms: crate::stats::ms(elapsed),
        host: HostInfo::current(),
        profile: profile_record(profile)?,
        workload: WorkloadRecord {
            action: w.action.clone(),
            planned: w.invocations,
            concurrency: w.concurrency,
            records: w.records,
            value_size: w.value_size,
            mode: w.mode,
            open_loop: w.open.map(|o| OpenLoopRecord {
                rate: o.rate,
                arrivals: o.arrivals,
                max_in_flight: o.max_in_flight,
                seed: o.seed,
                late_tolerance_ms: crate::stats::LATE_TOLERANCE_MS,
            }),
        },
        redis: RedisRecord {
            backend: profile.redis.backend.label().into(),
            persistence: profile.redis.persistence.label(),
            cold_start: cold_start.cloned(),
            stop: stop.cloned(),
            stop_error: None,
            network_emulation: cold_start.and_then(|c| c.network_emulation.clone()),
            prefix_keys_at_start: None,
            prefix_keys_deleted: None,
        },
        platform: profile.platform.label().into(),
        summary: stats_summary(stats, w.open.map_or(0.0, |o| o.rate)),
        paper: paper_record(),
        cost: None,
    })
}
