//! Deterministic fake engine events: the render tests, the frame bench and the docs use them
//! to put the console in a known state. The console itself never calls this module.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::app::App;
use super::state::{ProfileInfo, ProfileItem};
use super::theme::Theme;
use crate::event::{EngineEvent, Level, Phase};
use crate::platform::{Activation, ActivationStatus, activation::ActivationResponse};
use crate::profile::ProfileError;
use crate::redis_host::{ColdStart, RedisState, RedisStatus};
use crate::share::{Cell, CycleRecord};
use redwhisk_actions::Mode;
use redwhisk_actions::protocol::{BenchResult, PhaseLatency, RoundTrips};

/// 2026-11-27 04:30:00 UTC: the fixed "now" of every demo state.
pub fn epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 4, 30, 0)
        .single()
        .unwrap_or_default()
}

/// Three profiles like the ones shipped in profiles/, one of them invalid.
pub fn profiles() -> Vec<ProfileItem> {
    let info =
        |backend: &str, image: Option<&str>, persistence: &str, platform: &str| ProfileInfo {
            backend: backend.into(),
            image: image.map(Into::into),
            persistence: persistence.into(),
            platform: platform.into(),
            invocations: 100,
            records: 1000,
            concurrency: 1,
            mode: crate::model::Mode::Sequential,
            description: format!("{backend} redis + {platform} platform"),
        };
    vec![
        ProfileItem {
            name: "local".into(),
            info: Ok(info("process", None, "rdb", "local")),
        },
        ProfileItem {
            name: "docker".into(),
            info: Ok(info(
                "docker",
                Some("redis:7-alpine"),
                "aof-everysec",
                "openwhisk",
            )),
        },
        ProfileItem {
            name: "broken".into(),
            info: Err(ProfileError::Syntax {
                file: "profiles/broken.toml".into(),
                line: 3,
                message: "unknown field `bakend`".into(),
            }
            .into()),
        },
    ]
}

/// A console at rest: profiles listed, nothing run.
pub fn idle_app(theme: Theme) -> App {
    App::new(profiles(), 0, theme, epoch())
}

/// Invocation `i`'s activation with deterministic phase times (ms); every 7th is cold.
pub fn activation(i: u32) -> Activation {
    let wiggle = f64::from((i * 37) % 23);
    let write = 60.0 + wiggle;
    let read = 55.0 + wiggle / 2.0;
    let delete = 52.0 + f64::from((i * 11) % 7);
    let connect = 0.4;
    let total = connect + write + read + delete;
    // A phase of 1000 commands taking `ms` milliseconds averages `ms` microseconds a command.
    let us = |ms: f64| ms.round() as u64;
    let bench = BenchResult {
        action: "bench".into(),
        mode: Mode::Sequential,
        records: 1000,
        value_size: 32,
        connect_ms: connect,
        write_ms: write,
        read_ms: read,
        delete_ms: delete,
        total_ms: total,
        mismatches: 0,
        errors: 0,
        round_trips: RoundTrips {
            connect: 2,
            write: 1000,
            read: 1000,
            delete: 1000,
        },
        latency_us: PhaseLatency {
            write: vec![[us(write), 1000]],
            read: vec![[us(read), 1000]],
            delete: vec![[us(delete), 1000]],
        },
        cluster: None,
    };
    let cold = i.is_multiple_of(7);
    let start = epoch().timestamp_millis() + i64::from(i) * 250;
    Activation {
        index: i,
        activation_id: format!("{i:032x}"),
        name: "redwhisk-bench".into(),
        namespace: "_".into(),
        start,
        end: start + total as i64,
        duration: total as u64,
        response: ActivationResponse {
            status: ActivationStatus::Success,
            success: true,
            result: serde_json::to_value(&bench).unwrap_or_default(),
            size: None,
            status_code: None,
        },
        logs: vec![],
        annotations: vec![],
        client_latency_ms: total + 3.0,
        wait_time_ms: Some(2),
        init_time_ms: cold.then_some(45),
        kind: Some("native".into()),
        throttled: 0,
        throttle_wait_ms: 0.0,
        polls: 0,
        poll_overhead_ms: 0.0,
        log_fetch_ms: None,
        open: None,
    }
}

/// A failed invocation (an application error: data, not a crash).
pub fn failed_activation(i: u32) -> Activation {
    let mut a = activation(i);
    a.response.status = ActivationStatus::ApplicationError;
    a.response.success = false;
    a.response.result = serde_json::json!({"error": "connection refused"});
    a
}

/// A process backend's cold start, its parts adding up to its total.
pub fn cold_start() -> ColdStart {
    ColdStart {
        backend: "process".into(),
        image_ms: 0.0,
        create_ms: 0.0,
        start_ms: 1.8,
        ready_ms: 15.2,
        total_ms: 17.0,
        keys_restored: 0,
        restore: None,
        cluster: None,
        network_emulation: None,
    }
}

/// The events of a run's start up to its first invocation.
pub fn run_start_events(planned: u32) -> Vec<EngineEvent> {
    vec![
        EngineEvent::RunStarted {
            experiment: "case study 1: sequential SET/GET/DEL".into(),
            profile: "local".into(),
            planned,
        },
        EngineEvent::Phase(Phase::StartingRedis),
        EngineEvent::RedisState(RedisState::Starting),
        EngineEvent::ColdStart(cold_start()),
        EngineEvent::RedisState(RedisState::Running),
        EngineEvent::RedisStatus(status(RedisState::Running, 0)),
        EngineEvent::Phase(Phase::Deploying),
        EngineEvent::Phase(Phase::Invoking),
    ]
}

/// A Redis status as the process backend reports it.
pub fn status(state: RedisState, keys: u64) -> RedisStatus {
    let running = state == RedisState::Running;
    RedisStatus {
        nodes: None,
        profile: "local".into(),
        backend: "process".into(),
        state,
        endpoint: running.then(|| "redis://127.0.0.1:41234/0".into()),
        port: running.then_some(41234),
        image: None,
        container: None,
        pid: running.then_some(4242),
        uptime_s: running.then_some(12),
        keys: running.then_some(keys),
        used_memory: running.then_some(1_258_291),
        persistence: "rdb".into(),
        last_save: Some(epoch() - chrono::Duration::seconds(90)),
        data_dir: Some("/data/redwhisk/local".into()),
        redis_version: None,
        problem: None,
    }
}

/// A console `done` of `planned` invocations into a run, `secs` seconds after it started,
/// with one failure among them when `with_failure` is set.
pub fn running_app(theme: Theme, planned: u32, done: u32, secs: i64, with_failure: bool) -> App {
    let mut app = idle_app(theme);
    for ev in run_start_events(planned) {
        app.apply(ev);
    }
    app.apply(EngineEvent::Log {
        level: Level::Info,
        message: "deployed redwhisk-bench (native)".into(),
    });
    for i in 0..done {
        let a = if with_failure && i == 3 {
            failed_activation(i)
        } else {
            activation(i)
        };
        app.apply(EngineEvent::Activation(Box::new(a)));
    }
    if with_failure {
        app.apply(EngineEvent::Log {
            level: Level::Warn,
            message: "invocation 3 failed: application error \"connection refused\"".into(),
        });
    }
    for s in process_samples(epoch() + chrono::Duration::seconds(secs)) {
        app.apply(EngineEvent::Processes(Box::new(s)));
    }
    app.frame = 3;
    app.tick(epoch() + chrono::Duration::seconds(secs));
    app
}

/// Two process samples a second apart ending at `at`: redwhisk at 35% of a CPU, its
/// redis-server at 80%, an action process at 20%.
pub fn process_samples(at: DateTime<Utc>) -> [crate::model::process::ProcessSnapshot; 2] {
    use crate::model::process::{ProcessSample, ProcessSnapshot};
    let snap = |at: DateTime<Utc>, ticks: [u64; 3]| ProcessSnapshot {
        at,
        ticks_per_s: 100,
        cpus: 2,
        processes: vec![
            ProcessSample {
                pid: 4100,
                name: "redwhisk".into(),
                role: "self",
                cpu_ticks: ticks[0],
                rss_bytes: 48 << 20,
            },
            ProcessSample {
                pid: 4177,
                name: "redis-server".into(),
                role: "redis",
                cpu_ticks: ticks[1],
                rss_bytes: 9 << 20,
            },
            ProcessSample {
                pid: 4190,
                name: "bench".into(),
                role: "child",
                cpu_ticks: ticks[2],
                rss_bytes: 3 << 20,
            },
        ],
    };
    [
        snap(at - chrono::Duration::seconds(1), [1000, 2000, 50]),
        snap(at, [1035, 2080, 70]),
    ]
}

/// A console whose run of `n` invocations finished.
pub fn finished_app(theme: Theme, n: u32) -> App {
    let mut app = running_app(theme, n, n, 30, false);
    let t = app.now;
    app.apply(EngineEvent::Phase(Phase::StoppingRedis));
    app.apply(EngineEvent::RedisStatus(status(RedisState::Stopped, 0)));
    app.apply(EngineEvent::Phase(Phase::Done));
    app.apply(EngineEvent::RunFinished {
        outcome: Phase::Done,
        results_dir: Some(PathBuf::from("results/20261127T043000Z-local")),
        elapsed: Duration::from_secs(30),
    });
    app.tick(t + chrono::Duration::seconds(5));
    app
}

/// A real case study 2 run of the `local` profile (3 cycles per cell), recorded by
/// `redwhisk share` into tests/fixtures/console/share-local.
const SHARE_FIXTURE: &str = include_str!("../../tests/fixtures/console/share-local/share.json");

#[derive(serde::Deserialize)]
struct RecordedShare {
    options: RecordedOptions,
    cycles: Vec<CycleRecord>,
}

#[derive(serde::Deserialize)]
struct RecordedOptions {
    runs: u32,
}

/// The console during the recorded share experiment, after its first `upto` cycles arrived
/// (all of them and the run finished when `upto` covers them).
pub fn share_app(theme: Theme, upto: usize) -> App {
    let mut app = idle_app(theme);
    let Ok(rec) = serde_json::from_str::<RecordedShare>(SHARE_FIXTURE) else {
        return app;
    };
    let cells = crate::share::cells(None, None);
    app.apply(EngineEvent::RunStarted {
        experiment: "case study 2: data shared across Redis restarts".into(),
        profile: "local".into(),
        planned: rec.options.runs * cells.len() as u32,
    });
    app.apply(EngineEvent::ShareStarted {
        cells,
        runs: rec.options.runs,
    });
    app.apply(EngineEvent::RedisState(RedisState::Running));
    app.apply(EngineEvent::RedisStatus(status(RedisState::Running, 50)));
    app.apply(EngineEvent::Phase(Phase::Invoking));
    let total = rec.cycles.len();
    for r in rec.cycles.into_iter().take(upto) {
        if let Some(cell) = Cell::from_label(&r.cell) {
            app.apply(EngineEvent::Log {
                level: Level::Info,
                message: format!(
                    "{} cycle {}: {}/{} keys read back",
                    r.cell, r.cycle, r.found, r.written
                ),
            });
            app.apply(EngineEvent::ShareCycle {
                cell,
                record: Box::new(r),
            });
        }
    }
    if upto >= total {
        app.apply(EngineEvent::Phase(Phase::Done));
        app.apply(EngineEvent::RunFinished {
            outcome: Phase::Done,
            results_dir: Some(PathBuf::from("results/20261203T080135Z-local-share")),
            elapsed: Duration::from_millis(1600),
        });
    }
    app.view = super::views::View::Share;
    app.frame = 3;
    app.tick(epoch() + chrono::Duration::seconds(2));
    app
}
