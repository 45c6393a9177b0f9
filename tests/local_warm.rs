//! `platform.keep_warm`: the local platform keeps built-in actions' processes between
//! activations (OpenWhisk's ActionLoop protocol), as OpenWhisk keeps containers warm: the
//! first activation on a process is cold (`initTime`), the next ones warm; a process that
//! timed out or died is never reused.

// Test helpers outside #[test] fns: a failed setup must panic loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../actions/native/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use redwhisk::event::EventSink;
use redwhisk::platform::{Activation, ActivationStatus, BuiltinAction, LocalPlatform};
use serde_json::{Value, json};

fn warm_platform(timeout_ms: u64) -> LocalPlatform {
    LocalPlatform::new(Duration::from_millis(timeout_ms))
        .unwrap()
        .with_runner(env!("CARGO_BIN_EXE_redwhisk"))
        .with_keep_warm(true)
}

fn params(port: u16, records: u32) -> Value {
    json!({"host": "127.0.0.1", "port": port, "records": records})
}

/// Live (not zombie) warm action processes, `REDWHISK_ACTION_LOOP=1` in their environment,
/// whose parent pid and environment pass `keep`.
fn loop_processes(keep: impl Fn(&str, &[&[u8]]) -> bool) -> Vec<i32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // After the parenthesised name: the state, then the parent pid.
        let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let mut fields = after.split_whitespace();
        let (state, ppid) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        if state == "Z" || state.is_empty() {
            continue;
        }
        let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let vars: Vec<&[u8]> = env.split(|b| *b == 0).collect();
        if vars.contains(&&b"REDWHISK_ACTION_LOOP=1"[..]) && keep(ppid, &vars) {
            out.push(pid);
        }
    }
    out
}

/// The warm action processes that are children of this test process.
fn warm_children() -> Vec<i32> {
    let me = std::process::id().to_string();
    loop_processes(|ppid, _| ppid == me)
}

/// Warm action processes (any parent) whose environment holds `marker`.
fn loop_processes_with(marker: &[u8]) -> Vec<i32> {
    loop_processes(|_, vars| vars.contains(&marker))
}

/// The local profile with `keep_warm = true`, written into `dir` as `warm.toml`.
fn warm_profile(dir: &std::path::Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/local.toml"))
        .unwrap()
        .replace("# keep_warm = true", "keep_warm = true");
    assert!(text.contains("\nkeep_warm = true"));
    let path = dir.join("warm.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The tests share this process, so counting its warm children needs them one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Take the test lock and wait until no warm child of an earlier test is left.
async fn alone() -> tokio::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !warm_children().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(warm_children().is_empty(), "{:?}", warm_children());
    guard
}

fn bench_ok(a: &Activation) -> redwhisk_actions::BenchResult {
    assert_eq!(
        a.response.status,
        ActivationStatus::Success,
        "{}",
        a.response.result
    );
    serde_json::from_value(a.response.result.clone()).unwrap()
}

#[tokio::test]
async fn first_activation_is_cold_the_next_ones_warm_on_the_same_process() {
    let _alone = alone().await;
    let redis = common::TestRedis::start(None);
    let p = warm_platform(60_000);
    p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
        .unwrap();
    let mut seen = Vec::new();
    for i in 0..3 {
        let a = p.invoke("b", params(redis.port, 50)).await.unwrap();
        let r = bench_ok(&a);
        assert_eq!((r.records, r.mismatches, r.errors), (50, 0, 0));
        if i == 0 {
            let init = a
                .init_time_ms
                .expect("the first activation is a cold start");
            assert_eq!(a.annotation("initTime"), Some(&json!(init)));
            assert!(a.duration >= init, "duration includes initTime");
        } else {
            assert!(
                a.init_time_ms.is_none() && a.annotation("initTime").is_none(),
                "activation {i} ran on a warm process"
            );
        }
        // Each activation's logs are its own: its key space is its own activation id, and
        // the guard lines that end each activation's logs are not in them.
        assert!(
            a.logs.iter().any(|l| l.contains(&a.activation_id)),
            "{:?}",
            a.logs
        );
        assert!(!a.logs.iter().any(|l| l.contains("XXX_THE_END")));
        assert_eq!(a.logs.len(), 1, "one log line per activation: {:?}", a.logs);
        seen.push(a.activation_id.clone());
        assert_eq!(warm_children().len(), 1, "one process serves them all");
    }
    seen.dedup();
    assert_eq!(seen.len(), 3);
    assert_eq!(p.idle_warm("b"), 1);
    // No key of any activation is left behind (each DELs its own).
    assert_eq!(redis.dbsize(), 0);
    drop(p);
    // Dropping the platform ends its warm processes.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !warm_children().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(warm_children().is_empty(), "{:?}", warm_children());
}

#[tokio::test]
async fn concurrent_activations_each_get_a_process_then_reuse_them() {
    let _alone = alone().await;
    let redis = common::TestRedis::start(None);
    let p = warm_platform(60_000);
    p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
        .unwrap();
    let round = || async {
        let (a, b, c) = tokio::join!(
            p.invoke("b", params(redis.port, 200)),
            p.invoke("b", params(redis.port, 200)),
            p.invoke("b", params(redis.port, 200)),
        );
        [a.unwrap(), b.unwrap(), c.unwrap()]
    };
    let first = round().await;
    assert!(first.iter().all(|a| a.init_time_ms.is_some()));
    for a in &first {
        bench_ok(a);
    }
    assert_eq!(p.idle_warm("b"), 3);
    let second = round().await;
    for a in &second {
        bench_ok(a);
        assert!(a.init_time_ms.is_none(), "three idle processes were there");
    }
    assert_eq!(warm_children().len(), 3);
}

#[tokio::test]
async fn application_errors_keep_the_process_warm() {
    let _alone = alone().await;
    let redis = common::TestRedis::start(Some("pw-warm-1"));
    let p = warm_platform(60_000);
    p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
        .unwrap();
    let bad = p.invoke("b", params(redis.port, 10)).await.unwrap();
    assert_eq!(bad.response.status, ActivationStatus::ApplicationError);
    assert!(
        bad.response.result["error"]
            .as_str()
            .unwrap()
            .contains("requires a password"),
        "{}",
        bad.response.result
    );
    let mut good = params(redis.port, 10);
    good["password"] = json!("pw-warm-1");
    let a = p.invoke("b", good).await.unwrap();
    bench_ok(&a);
    assert!(a.init_time_ms.is_none());
    assert!(!a.logs.iter().any(|l| l.contains("pw-warm-1")));
}

#[tokio::test]
async fn an_idle_process_killed_is_replaced_by_a_cold_start() {
    let _alone = alone().await;
    let redis = common::TestRedis::start(None);
    let p = warm_platform(60_000);
    p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
        .unwrap();
    bench_ok(&p.invoke("b", params(redis.port, 10)).await.unwrap());
    let pids = warm_children();
    assert_eq!(pids.len(), 1);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pids[0]),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Wait until the kernel has it as dead (a zombie of ours until reaped).
    tokio::time::sleep(Duration::from_millis(100)).await;
    let a = p.invoke("b", params(redis.port, 10)).await.unwrap();
    bench_ok(&a);
    assert!(a.init_time_ms.is_some(), "a new process was started");
}

#[tokio::test]
async fn a_timed_out_activation_kills_its_process_and_the_next_starts_cold() {
    let _alone = alone().await;
    let redis = common::TestRedis::start(None);
    let p = warm_platform(1_500);
    p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
        .unwrap();
    bench_ok(&p.invoke("b", params(redis.port, 10)).await.unwrap());
    let redis_pid = nix::unistd::Pid::from_raw(redis.pid() as i32);
    nix::sys::signal::kill(redis_pid, nix::sys::signal::Signal::SIGSTOP).unwrap();
    let started = std::time::Instant::now();
    let a = p.invoke("b", params(redis.port, 10)).await.unwrap();
    nix::sys::signal::kill(redis_pid, nix::sys::signal::Signal::SIGCONT).unwrap();
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(a.response.status, ActivationStatus::DeveloperError);
    assert_eq!(
        a.response.result["error"],
        "The action exceeded its time limits of 1500 milliseconds."
    );
    assert_eq!(a.annotation("timeout"), Some(&json!(true)));
    assert_eq!(p.idle_warm("b"), 0, "a timed-out process is never reused");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !warm_children().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        warm_children().is_empty(),
        "the timed-out process was killed"
    );
    let next = p.invoke("b", params(redis.port, 10)).await.unwrap();
    bench_ok(&next);
    assert!(next.init_time_ms.is_some());
}

#[tokio::test]
async fn a_redeploy_does_not_reuse_the_old_processes() {
    let _alone = alone().await;
    let redis = common::TestRedis::start(None);
    let p = warm_platform(60_000);
    let sink = EventSink::discard();
    p.deploy(BuiltinAction::Bench, "x", &sink).unwrap();
    bench_ok(&p.invoke("x", params(redis.port, 10)).await.unwrap());
    p.deploy(BuiltinAction::Writer, "x", &sink).unwrap();
    let w = p
        .invoke(
            "x",
            json!({"host": "127.0.0.1", "port": redis.port, "keys": 5, "key_prefix": "rd"}),
        )
        .await
        .unwrap();
    assert!(w.success(), "{}", w.response.result);
    assert!(w.response.result.get("digest").is_some(), "the writer ran");
    assert!(w.init_time_ms.is_some());
}

/// `redwhisk run` on a profile with `keep_warm = true`: at concurrency 2, the first two
/// invocations are cold (one per process) and the rest warm, in the run's own record.
#[tokio::test]
async fn a_run_with_keep_warm_counts_one_cold_start_per_process() {
    let _alone = alone().await;
    let data = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let profile = warm_profile(data.path());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_redwhisk"))
        .env("REDWHISK_DATA_DIR", data.path())
        .args(["run", "--profile"])
        .arg(&profile)
        .args([
            "-n",
            "8",
            "-c",
            "2",
            "-r",
            "20",
            "--output",
            "json",
            "--results-dir",
        ])
        .arg(results.path())
        .output();
    let out = tokio::time::timeout(Duration::from_secs(120), out)
        .await
        .expect("the run finishes")
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(printed["summary"]["succeeded"], 8);
    let platform = &printed["summary"]["platform"];
    assert_eq!(platform["cold"]["count"], 2, "{platform}");
    assert_eq!(platform["warm"]["count"], 6, "{platform}");
    assert_eq!(platform["cold"]["init_time_ms"]["n"], 2, "{platform}");
}

/// redwhisk killed with SIGKILL mid-run (no clean-up of its own): its warm processes read EOF
/// on stdin and end by themselves, in bounded time.
#[tokio::test]
async fn warm_processes_end_when_redwhisk_is_killed_mid_run() {
    let data = tempfile::tempdir().unwrap();
    let results = tempfile::tempdir().unwrap();
    let profile = warm_profile(data.path());
    let marker = format!("REDWHISK_DATA_DIR={}", data.path().display());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_redwhisk"))
        .env("REDWHISK_DATA_DIR", data.path())
        .args(["run", "--profile"])
        .arg(&profile)
        .args([
            "-n",
            "100000",
            "-c",
            "2",
            "-r",
            "200",
            "--output",
            "json",
            "--results-dir",
        ])
        .arg(results.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while loop_processes_with(marker.as_bytes()).len() < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the run never had two warm processes"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    child.start_kill().unwrap();
    let _ = child.wait().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !loop_processes_with(marker.as_bytes()).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "warm processes outlived their redwhisk: {:?}",
            loop_processes_with(marker.as_bytes())
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The Redis it started is an orphan now: stop it the way a user would.
    let down = tokio::process::Command::new(env!("CARGO_BIN_EXE_redwhisk"))
        .env("REDWHISK_DATA_DIR", data.path())
        .args(["redis", "down", "--profile"])
        .arg(&profile)
        .output()
        .await
        .unwrap();
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
}

/// `bench engine`'s breakdown reads the moments the platform passes through: for both kinds
/// of process they fall inside the client latency, in order, and the action's own total
/// falls inside the span from the hand-over's start to the result in hand.
#[tokio::test]
async fn the_steps_of_an_activation_fall_inside_its_latency() {
    let _alone = alone().await;
    let redis = common::TestRedis::start(None);
    for warm in [false, true] {
        let p = warm_platform(60_000).with_keep_warm(warm);
        p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
            .unwrap();
        for i in 0..3 {
            let (a, s) = p.invoke_timed("b", params(redis.port, 20)).await.unwrap();
            let r = bench_ok(&a);
            let inside = s.prepare_us + s.start_us + s.params_us + s.result_us + s.after_us;
            let latency_us = (a.client_latency_ms * 1e3).ceil() as u64;
            assert!(
                inside <= latency_us,
                "warm {warm}, activation {i}: {s:?} adds up to {inside} µs, over the latency {latency_us} µs"
            );
            // What causality guarantees: a warm process can start on its line before the
            // write returns to us (so the bound starts where the write starts, inside
            // `params`); a new process reads its params from argv at exec (so the bound
            // starts where the spawn starts). Both end when the result line is in hand.
            let window = if warm {
                s.params_us + s.result_us
            } else {
                s.start_us + s.params_us + s.result_us
            };
            assert!(
                r.total_ms * 1e3 <= window as f64 + 1.0,
                "warm {warm}, activation {i}: the action's total {} ms is not inside {s:?}",
                r.total_ms
            );
            if !warm || i == 0 {
                assert!(s.start_us > 0, "a process was started: {s:?}");
            }
        }
    }
}
