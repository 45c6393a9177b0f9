//! The native actions as executables under OpenWhisk's native contract, against a real
//! redis-server started here.

// Test helpers outside #[test] fns: a failed setup must panic loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::TestRedis;
use redwhisk_actions::{BenchResult, ReaderResult, WriterResult};
use serde_json::{Value, json};

struct Ran {
    result: Value,
    stdout: String,
    stderr: String,
    code: i32,
}

/// Run an action binary: params in argv[1] and on stdin (as OpenWhisk does), or stdin only.
fn run(bin: &str, params: &Value, argv: bool) -> Ran {
    let text = params.to_string();
    let mut cmd = Command::new(bin);
    if argv {
        cmd.arg(&text);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn action");
    let mut stdin = child.stdin.take().unwrap();
    // The action may exit without reading stdin when argv[1] is given.
    let _ = stdin.write_all(text.as_bytes());
    drop(stdin);
    let out = child.wait_with_output().expect("wait action");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let last = stdout.lines().last().unwrap_or_default().to_string();
    let result: Value = serde_json::from_str(&last)
        .unwrap_or_else(|e| panic!("last stdout line is not JSON ({e}): {stdout:?} / {stderr}"));
    assert!(
        !stderr.contains("panicked"),
        "the action panicked: {stderr}"
    );
    Ran {
        result,
        stdout,
        stderr,
        code: out.status.code().unwrap_or(-1),
    }
}

const BENCH: &str = env!("CARGO_BIN_EXE_bench");
const WRITER: &str = env!("CARGO_BIN_EXE_writer");
const READER: &str = env!("CARGO_BIN_EXE_reader");

fn bucket_total(b: &[[u64; 2]]) -> u64 {
    b.iter().map(|[_, n]| n).sum()
}

#[test]
fn bench_sequential_writes_reads_checks_and_deletes() {
    let redis = TestRedis::start(Some("pw-seq-123"));
    let ran = run(
        BENCH,
        &json!({"host": "127.0.0.1", "port": redis.port, "password": "pw-seq-123",
                "records": 200, "value_size": 50, "seed": 7}),
        true,
    );
    assert_eq!(ran.code, 0);
    let r: BenchResult = serde_json::from_value(ran.result.clone()).unwrap();
    assert_eq!(
        (r.records, r.value_size, r.mismatches, r.errors),
        (200, 50, 0, 0)
    );
    assert_eq!(
        (
            r.round_trips.connect,
            r.round_trips.write,
            r.round_trips.read,
            r.round_trips.delete
        ),
        (3, 200, 200, 200)
    );
    for phase in [
        &r.latency_us.write,
        &r.latency_us.read,
        &r.latency_us.delete,
    ] {
        assert_eq!(bucket_total(phase), 200);
    }
    for ms in [r.connect_ms, r.write_ms, r.read_ms, r.delete_ms] {
        assert!(ms > 0.0);
    }
    assert!(r.total_ms >= r.connect_ms + r.write_ms + r.read_ms + r.delete_ms);
    assert_eq!(redis.dbsize(), 0, "every key must be deleted");
    assert!(!ran.stdout.contains("pw-seq-123") && !ran.stderr.contains("pw-seq-123"));
}

#[test]
fn bench_pipelined_takes_one_round_trip_per_phase_and_params_on_stdin_only() {
    let redis = TestRedis::start(None);
    let ran = run(
        BENCH,
        &json!({"host": "127.0.0.1", "port": redis.port, "records": 500, "mode": "pipelined"}),
        false,
    );
    let r: BenchResult = serde_json::from_value(ran.result).unwrap();
    assert_eq!((r.mismatches, r.errors, r.records), (0, 0, 500));
    assert_eq!(
        (
            r.round_trips.connect,
            r.round_trips.write,
            r.round_trips.read,
            r.round_trips.delete
        ),
        (2, 1, 1, 1)
    );
    assert_eq!(bucket_total(&r.latency_us.write), 1);
    assert_eq!(redis.dbsize(), 0);
}

#[test]
fn concurrent_bench_invocations_use_distinct_keys() {
    let redis = TestRedis::start(None);
    let port = redis.port;
    let handles: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                run(
                    BENCH,
                    &json!({"host": "127.0.0.1", "port": port, "records": 300, "seed": 1}),
                    true,
                )
            })
        })
        .collect();
    for h in handles {
        let r: BenchResult = serde_json::from_value(h.join().unwrap().result).unwrap();
        assert_eq!(r.mismatches, 0);
    }
}

fn error_of(params: Value) -> String {
    let ran = run(BENCH, &params, true);
    assert_eq!(ran.code, 0, "an application error exits 0: {}", ran.stdout);
    ran.result["error"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error result, got {}", ran.result))
        .to_string()
}

#[test]
fn bad_parameters_give_an_error_result() {
    assert!(error_of(json!({"port": 6379})).contains("missing field `host`"));
    let e = error_of(json!({"host": "127.0.0.1", "port": 6379, "records": 0}));
    assert!(e.contains("`records` is 0"), "{e}");
    let e = error_of(json!({"host": "127.0.0.1", "port": 6379, "recrods": 5}));
    assert!(e.contains("unknown field `recrods`"), "{e}");
    let e = error_of(json!({"host": "127.0.0.1", "port": 6379, "mode": "fast"}));
    assert!(e.contains("unknown variant `fast`"), "{e}");
    let e = error_of(json!([1, 2]));
    assert!(e.contains("expected a JSON object"), "{e}");
    let e = error_of(json!({"host": "no-such-host.invalid", "port": 6379}));
    assert!(e.contains("Pass an IP address"), "{e}");
}

#[test]
fn non_json_params_and_unknown_action_are_errors_not_panics() {
    let out = Command::new(BENCH).arg("{not json").output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(v["error"].as_str().unwrap().contains("not a JSON object"));
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn redis_problems_name_what_to_check() {
    let redis = TestRedis::start(Some("right-pw"));
    let base = json!({"host": "127.0.0.1", "port": redis.port, "records": 3});
    let mut wrong = base.clone();
    wrong["password"] = json!("wrong-pw");
    let e = error_of(wrong);
    assert!(e.contains("rejected the password"), "{e}");
    assert!(!e.contains("wrong-pw") && !e.contains("right-pw"), "{e}");
    let e = error_of(base.clone());
    assert!(e.contains("requires a password"), "{e}");

    let open = TestRedis::start(None);
    let e = error_of(json!({"host": "127.0.0.1", "port": open.port, "password": "x-pw"}));
    assert!(e.contains("has none configured"), "{e}");
    assert!(!e.contains("x-pw"));

    let dead_port = open.port;
    drop(open);
    let e = error_of(json!({"host": "127.0.0.1", "port": dead_port}));
    assert!(e.contains("Check that Redis is running"), "{e}");
}

fn write(redis: &TestRedis, keys: u32, seed: u64) -> WriterResult {
    let ran = run(
        WRITER,
        &json!({"host": "127.0.0.1", "port": redis.port, "keys": keys, "value_size": 24,
                "key_prefix": "share-t", "seed": seed}),
        true,
    );
    serde_json::from_value(ran.result).unwrap()
}

fn read(redis: &TestRedis, keys: u32, seed: Option<u64>, digest: Option<&str>) -> ReaderResult {
    let mut p = json!({"host": "127.0.0.1", "port": redis.port, "keys": keys,
                       "value_size": 24, "key_prefix": "share-t"});
    if let Some(s) = seed {
        p["seed"] = json!(s);
    }
    if let Some(d) = digest {
        p["expected_digest"] = json!(d);
    }
    serde_json::from_value(run(READER, &p, false).result).unwrap()
}

#[test]
fn writer_then_reader_digests_match() {
    let redis = TestRedis::start(None);
    let w = write(&redis, 2500, 42);
    assert_eq!((w.keys_written, w.errors, w.seed), (2500, 0, 42));
    assert_eq!(w.round_trips, 3, "2500 keys in pipelines of 1000");
    assert_eq!(w.digest.len(), 16);
    assert_eq!(redis.dbsize(), 2500);
    let r = read(&redis, 2500, Some(42), Some(&w.digest));
    assert!(r.matches);
    assert_eq!((r.found, r.missing, r.mismatches), (2500, 0, Some(0)));
    assert_eq!(r.digest, w.digest);
    // The seed alone regenerates the same expected digest.
    let r = read(&redis, 2500, Some(42), None);
    assert!(r.matches);
    assert_eq!(r.expected_digest, w.digest);
}

#[test]
fn reader_detects_changed_and_missing_keys() {
    let redis = TestRedis::start(None);
    let w = write(&redis, 100, 9);
    let mut con = redis.connection();
    redis::cmd("SET")
        .arg("share-t:10")
        .arg("tampered")
        .exec(&mut con)
        .unwrap();
    redis::cmd("DEL").arg("share-t:20").exec(&mut con).unwrap();
    let r = read(&redis, 100, Some(9), Some(&w.digest));
    assert!(!r.matches);
    assert_eq!((r.found, r.missing, r.mismatches), (99, 1, Some(1)));
    assert_ne!(r.digest, w.digest);
    // Digest only (no seed): still detected, but per-key mismatches cannot be counted.
    let r = read(&redis, 100, None, Some(&w.digest));
    assert!(!r.matches);
    assert_eq!(r.mismatches, None);
    // A different seed means different values everywhere.
    let r = read(&redis, 100, Some(10), None);
    assert_eq!(r.mismatches, Some(99));
}

#[test]
fn reader_needs_a_seed_or_a_digest() {
    let ran = run(READER, &json!({"host": "127.0.0.1", "port": 6379}), true);
    assert!(
        ran.result["error"]
            .as_str()
            .unwrap()
            .contains("give `seed`")
    );
}

#[test]
fn error_replies_are_counted_not_fatal() {
    let redis = TestRedis::start(None);
    let w = write(&redis, 20, 3);
    let mut con = redis.connection();
    redis::cmd("DEL").arg("share-t:5").exec(&mut con).unwrap();
    redis::cmd("RPUSH")
        .arg("share-t:5")
        .arg("a-list")
        .exec(&mut con)
        .unwrap();
    let r = read(&redis, 20, Some(3), Some(&w.digest));
    assert_eq!(r.errors, 1, "GET on a list is a WRONGTYPE error reply");
    assert_eq!((r.found, r.missing), (19, 1));
    assert!(!r.matches);
}

#[test]
fn bench_counts_error_replies_and_the_values_they_cost() {
    let redis = TestRedis::start(None);
    redis.refuse_writes();
    let ran = run(
        BENCH,
        &json!({"host": "127.0.0.1", "port": redis.port, "records": 25}),
        true,
    );
    let r: BenchResult = serde_json::from_value(ran.result).unwrap();
    assert_eq!((r.errors, r.mismatches), (25, 25));
    assert_eq!(
        r.round_trips.delete, 25,
        "the phases go on after error replies"
    );
}

/// A TCP server that accepts connections and never answers (a firewall that lets the SYN
/// through to something that is not Redis, or a Redis frozen by SIGSTOP).
fn blackhole() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in listener.incoming().flatten() {
            held.push(c);
        }
    });
    port
}

/// Run `bin` like the platform does, but give up (kill it) after `limit`, as OpenWhisk's
/// action time limit would: `None` means it was still running.
fn run_with_limit(bin: &str, params: &Value, limit: std::time::Duration) -> Option<Value> {
    let mut child = Command::new(bin)
        .arg(params.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn action");
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    Some(serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap())
}

/// An unreachable Redis (refused, or accepting and never answering) is an application error
/// naming host and port well inside a 5 s action time limit, for all three actions.
#[test]
fn unreachable_redis_is_an_error_within_a_5_s_time_limit() {
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let silent = blackhole();
    let limit = std::time::Duration::from_secs(5);
    for (bin, extra) in [
        (BENCH, json!({"records": 1})),
        (WRITER, json!({"keys": 1, "seed": 1})),
        (READER, json!({"keys": 1, "seed": 1})),
    ] {
        for port in [refused, silent] {
            let mut params = json!({"host": "127.0.0.1", "port": port, "password": "pw-x"});
            params
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let result = run_with_limit(bin, &params, limit).unwrap_or_else(|| {
                panic!("{bin} against 127.0.0.1:{port} still ran at the 5 s time limit")
            });
            let e = result["error"]
                .as_str()
                .unwrap_or_else(|| panic!("{result}"));
            assert!(
                e.contains(&format!("cannot connect to Redis at 127.0.0.1:{port}")),
                "{bin}: {e}"
            );
            assert!(!e.contains("pw-x"), "{e}");
        }
    }
}

#[test]
fn a_pipeline_sent_in_many_chunks_keeps_every_reply_in_order() {
    let redis = TestRedis::start(None);
    // 20,000 × 100-byte values: the write phase's pipeline is ~2.8 MB, sent in ~170 chunks
    // while Redis already answers the first ones.
    let ran = run(
        BENCH,
        &json!({"host": "127.0.0.1", "port": redis.port, "records": 20000, "value_size": 100, "mode": "pipelined"}),
        false,
    );
    let r: BenchResult = serde_json::from_value(ran.result).unwrap();
    assert_eq!(
        (r.mismatches, r.errors, r.records),
        (0, 0, 20000),
        "{}",
        ran.stderr
    );
    assert_eq!(
        (
            r.round_trips.write,
            r.round_trips.read,
            r.round_trips.delete
        ),
        (1, 1, 1)
    );
    assert_eq!(redis.dbsize(), 0);
}

#[test]
fn pipelined_error_replies_are_counted_in_every_chunk() {
    let redis = TestRedis::start(None);
    redis.refuse_writes();
    let ran = run(
        BENCH,
        &json!({"host": "127.0.0.1", "port": redis.port, "records": 3000, "mode": "pipelined"}),
        false,
    );
    let r: BenchResult = serde_json::from_value(ran.result).unwrap();
    assert_eq!((r.errors, r.mismatches), (3000, 3000));
    assert_eq!(r.round_trips.delete, 1);
}

#[test]
fn back_to_back_write_rounds_overwrite_the_same_keys() {
    let redis = TestRedis::start(None);
    let params = redwhisk_actions::BenchParams {
        host: "127.0.0.1".into(),
        port: redis.port,
        password: None,
        tls: false,
        tls_ca: None,
        cluster: false,
        nodes: Vec::new(),
        records: 300,
        value_size: 16,
        mode: redwhisk_actions::Mode::Pipelined,
        key_prefix: "rounds".into(),
        seed: Some(7),
    };
    let (ms, errors) = redwhisk_actions::bench::write_rounds_ms(&params, 5).unwrap();
    assert!(ms > 0.0);
    assert_eq!(errors, 0);
    assert_eq!(redis.dbsize(), 300, "five rounds over the same 300 keys");
    redis.refuse_writes();
    redis::cmd("FLUSHALL")
        .exec(&mut redis.connection())
        .unwrap();
    let (_, errors) = redwhisk_actions::bench::write_rounds_ms(&params, 4).unwrap();
    assert_eq!(errors, 1200, "every SET of every round refused");
}

/// Redis killed, or frozen, while the bench writes: the action ends with an error result
/// naming the phase (not a hang, not a panic), the frozen one within the action's 30 s I/O
/// deadline. Both on the plain-TCP connection the phases use.
#[test]
fn redis_killed_or_frozen_mid_phase_ends_the_action_naming_the_phase() {
    let servers = [
        ("-9", TestRedis::start(None)),
        ("-STOP", TestRedis::start(None)),
    ];
    let runs: Vec<_> = servers
        .iter()
        .map(|(signal, redis)| {
            // Sequential, so the write phase lasts seconds: the signal lands inside it.
            let params = json!({"host": "127.0.0.1", "port": redis.port, "records": 1_000_000,
                                "mode": "sequential"});
            let started = std::time::Instant::now();
            let h = std::thread::spawn(move || run(BENCH, &params, true));
            while redis.dbsize() < 100 {
                assert!(
                    started.elapsed() < std::time::Duration::from_secs(60),
                    "the bench never started writing"
                );
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            let sent = Command::new("kill")
                .args([*signal, &redis.pid().to_string()])
                .status()
                .unwrap();
            assert!(sent.success());
            (signal, started, h)
        })
        .collect();
    for (signal, started, h) in runs {
        let ran = h.join().unwrap();
        assert_eq!(ran.code, 0, "an application error exits 0: {}", ran.stdout);
        let e = ran.result["error"].as_str().unwrap_or_default();
        assert!(
            e.contains("connection to Redis lost during the write phase"),
            "{signal}: {}",
            ran.result
        );
        if *signal == "-STOP" {
            assert!(
                e.contains("timed out") || e.contains("temporarily unavailable"),
                "{e}"
            );
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{signal}: took {:?}",
            started.elapsed()
        );
    }
    // Let the frozen server go on, so dropping it can stop it.
    let _ = Command::new("kill")
        .args(["-CONT", &servers[1].1.pid().to_string()])
        .status();
}
