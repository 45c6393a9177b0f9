//! The embedded local platform: OpenWhisk's native contract on small shell-script actions,
//! and the built-in bench action run by re-executing the redwhisk binary.

// Test helpers outside #[test] fns: a failed setup must panic loudly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../actions/native/tests/common/mod.rs"]
mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use redwhisk::event::EventSink;
use redwhisk::platform::{
    Activation, ActivationStatus, BuiltinAction, LocalPlatform, PlatformError,
};
use serde_json::{Value, json};

struct Scripts {
    dir: tempfile::TempDir,
}

impl Scripts {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }
}

fn platform(timeout_ms: u64) -> LocalPlatform {
    LocalPlatform::new(Duration::from_millis(timeout_ms))
        .unwrap()
        .with_runner(env!("CARGO_BIN_EXE_redwhisk"))
}

async fn invoke_script(p: &LocalPlatform, path: &Path, params: Value) -> Activation {
    p.deploy_executable("t", path).unwrap();
    p.invoke("t", params).await.unwrap()
}

#[tokio::test]
async fn success_records_result_logs_env_and_openwhisk_shape() {
    let s = Scripts::new();
    let path = s.script(
        "ok.sh",
        r#"echo "first log line"
echo "to stderr" >&2
echo "{\"argc\":$#,\"id\":\"$__OW_ACTIVATION_ID\",\"name\":\"$__OW_ACTION_NAME\",\"ns\":\"$__OW_NAMESPACE\",\"deadline\":\"$__OW_DEADLINE\"}""#,
    );
    let p = platform(10_000);
    let a = invoke_script(&p, &path, json!({"x": 1})).await;
    assert_eq!(a.response.status, ActivationStatus::Success);
    assert!(a.response.success);
    let r = &a.response.result;
    assert_eq!(r["argc"], 1, "small params come in argv[1]");
    assert_eq!(r["id"], a.activation_id.as_str());
    assert_eq!(r["name"], "/local/t");
    assert_eq!(r["ns"], "local");
    let deadline: i64 = r["deadline"].as_str().unwrap().parse().unwrap();
    assert!(deadline >= a.start && deadline <= a.start + 10_000 + 1_000);

    assert_eq!(a.activation_id.len(), 32);
    assert!(a.activation_id.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(a.duration as i64, a.end - a.start);
    assert_eq!(a.kind.as_deref(), Some("blackbox"));
    assert_eq!(a.annotation("path"), Some(&json!("local/t")));
    assert_eq!(a.annotation("kind"), Some(&json!("blackbox")));
    assert_eq!(a.annotation("timeout"), Some(&json!(false)));
    assert_eq!(a.annotation("limits").unwrap()["timeout"], 10_000);
    assert!(a.annotation("waitTime").is_some() && a.wait_time_ms.is_some());
    assert!(a.init_time_ms.is_none() && a.annotation("initTime").is_none());
    assert!(a.client_latency_ms >= 0.0);

    // Logs: every line but the result, timestamped, stream-tagged.
    assert_eq!(a.logs.len(), 2, "{:?}", a.logs);
    let out = a
        .logs
        .iter()
        .find(|l| l.ends_with(" stdout: first log line"))
        .unwrap();
    assert!(a.logs.iter().any(|l| l.ends_with(" stderr: to stderr")));
    let ts = out.split(' ').next().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(ts).is_ok(), "{ts}");
    assert!(ts.ends_with('Z'));

    assert_eq!(p.activation(&a.activation_id), Some(a.clone()));
}

#[tokio::test]
async fn last_line_not_a_dictionary_is_a_developer_error() {
    let s = Scripts::new();
    let p = platform(10_000);
    for (name, body) in [
        ("text.sh", "echo '{\"early\":1}'\necho hello"),
        ("number.sh", "echo 42"),
        ("silent.sh", "true"),
    ] {
        let a = invoke_script(&p, &s.script(name, body), json!({})).await;
        assert_eq!(
            a.response.status,
            ActivationStatus::DeveloperError,
            "{name}"
        );
        assert_eq!(
            a.response.result,
            json!({"error": "The action did not return a dictionary or array."}),
            "{name}"
        );
    }
    // An array is a valid result.
    let a = invoke_script(&p, &s.script("arr.sh", "echo '[1,2]'"), json!({})).await;
    assert_eq!(a.response.status, ActivationStatus::Success);
}

#[tokio::test]
async fn non_zero_exit_is_a_developer_error() {
    let s = Scripts::new();
    let a = invoke_script(
        &platform(10_000),
        &s.script("exit.sh", "echo '{\"ok\":1}'\nexit 3"),
        json!({}),
    )
    .await;
    assert_eq!(a.response.status, ActivationStatus::DeveloperError);
    assert!(!a.response.success);
    assert_eq!(a.response.result["error"], "The action exited with code 3.");
    assert_eq!(a.response.result["output"], json!({"ok": 1}));
}

#[tokio::test]
async fn error_field_is_an_application_error() {
    let s = Scripts::new();
    let a = invoke_script(
        &platform(10_000),
        &s.script("app.sh", "echo '{\"error\":\"boom\"}'"),
        json!({}),
    )
    .await;
    assert_eq!(a.response.status, ActivationStatus::ApplicationError);
    assert!(!a.response.success);
    assert_eq!(a.response.result, json!({"error": "boom"}));
}

fn alive(pid: u32) -> bool {
    // A zombie has been killed; only its parent has not reaped it yet.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.split(' ').nth(2).is_none_or(|state| state != "Z"))
        .unwrap_or(false)
}

#[tokio::test]
async fn timeout_kills_the_process_group_and_says_so() {
    let s = Scripts::new();
    let pidfile = s.dir.path().join("child.pid");
    let body = format!(
        "echo started\nsleep 600 &\necho $! > {}\nwait\necho '{{\"late\":1}}'",
        pidfile.display()
    );
    let a = invoke_script(&platform(300), &s.script("slow.sh", &body), json!({})).await;
    assert_eq!(a.response.status, ActivationStatus::DeveloperError);
    assert_eq!(
        a.response.result,
        json!({"error": "The action exceeded its time limits of 300 milliseconds."})
    );
    assert_eq!(a.annotation("timeout"), Some(&json!(true)));
    assert!(
        a.logs.iter().any(|l| l.ends_with("stdout: started")),
        "{:?}",
        a.logs
    );
    // The background `sleep` is in the action's process group: it must be gone too.
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut tries = 0;
    while alive(pid) {
        tries += 1;
        assert!(
            tries < 500,
            "the action's child {pid} outlived the time limit"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn big_params_come_on_stdin_only() {
    let s = Scripts::new();
    let path = s.script(
        "big.sh",
        "n=$(wc -c)\necho \"{\\\"argc\\\":$#,\\\"stdin_bytes\\\":$n}\"",
    );
    let p = platform(10_000);
    let big = json!({"blob": "x".repeat(200_000)});
    let a = invoke_script(&p, &path, big.clone()).await;
    assert_eq!(
        a.response.result["argc"], 0,
        "over 131071 chars: no argv[1]"
    );
    assert_eq!(a.response.result["stdin_bytes"], big.to_string().len());
    // Small params: argv[1] and the same JSON on stdin.
    let small = json!({"a": "b"});
    let a = invoke_script(&p, &path, small.clone()).await;
    assert_eq!(a.response.result["argc"], 1);
    assert_eq!(a.response.result["stdin_bytes"], small.to_string().len());
    // Params with a password never go on the command line (visible in `ps`): stdin only.
    let secret = json!({"host": "127.0.0.1", "password": "s3cret"});
    let a = invoke_script(&p, &path, secret.clone()).await;
    assert_eq!(a.response.result["argc"], 0);
    assert_eq!(a.response.result["stdin_bytes"], secret.to_string().len());
}

#[tokio::test]
async fn logs_are_capped_at_the_limit() {
    let s = Scripts::new();
    let path = s.script(
        "chatty.sh",
        "i=0\nwhile [ $i -lt 200 ]; do echo line-$i; i=$((i+1)); done\necho '{}'",
    );
    let p = platform(10_000).with_log_limit(2_000);
    let a = invoke_script(&p, &path, json!({})).await;
    assert_eq!(a.response.status, ActivationStatus::Success);
    assert!(a.logs.len() < 200);
    assert!(
        a.logs.last().unwrap().contains("Logs were truncated"),
        "{:?}",
        a.logs.last()
    );
}

#[tokio::test]
async fn unknown_action_and_missing_executable_are_errors() {
    let p = platform(1_000);
    assert!(matches!(
        p.invoke("nope", json!({})).await,
        Err(PlatformError::UnknownAction(_))
    ));
    let e = p
        .deploy_executable("x", Path::new("/no/such/action"))
        .unwrap_err();
    assert!(e.to_string().contains("/no/such/action"));
}

#[tokio::test]
async fn builtin_bench_runs_by_re_executing_redwhisk() {
    let redis = common::TestRedis::start(Some("pw-local-9"));
    let p = platform(60_000);
    p.deploy(BuiltinAction::Bench, "rw-bench", &EventSink::discard())
        .unwrap();
    let a = p
        .invoke(
            "rw-bench",
            json!({"host": "127.0.0.1", "port": redis.port, "password": "pw-local-9", "records": 100}),
        )
        .await
        .unwrap();
    assert_eq!(
        a.response.status,
        ActivationStatus::Success,
        "{}",
        a.response.result
    );
    let r: redwhisk_actions::BenchResult =
        serde_json::from_value(a.response.result.clone()).unwrap();
    assert_eq!((r.records, r.mismatches, r.errors), (100, 0, 0));
    assert!(
        a.logs
            .iter()
            .any(|l| l.contains("stderr: bench: 100 records")),
        "{:?}",
        a.logs
    );
    // The key space is the activation id, so concurrent invocations never share keys.
    assert!(a.logs.iter().any(|l| l.contains(&a.activation_id)));
    assert!(!a.logs.iter().any(|l| l.contains("pw-local-9")));

    let bad = p
        .invoke("rw-bench", json!({"host": "127.0.0.1", "port": redis.port}))
        .await
        .unwrap();
    assert_eq!(bad.response.status, ActivationStatus::ApplicationError);
    assert!(
        bad.response.result["error"]
            .as_str()
            .unwrap()
            .contains("requires a password")
    );
}

#[tokio::test]
async fn builtin_writer_and_reader_share_data_through_the_platform() {
    let redis = common::TestRedis::start(None);
    let p = platform(60_000);
    let sink = EventSink::discard();
    p.deploy(BuiltinAction::Writer, "w", &sink).unwrap();
    p.deploy(BuiltinAction::Reader, "r", &sink).unwrap();
    let base = json!({"host": "127.0.0.1", "port": redis.port, "keys": 50, "key_prefix": "lp"});
    let w = p.invoke("w", base.clone()).await.unwrap();
    assert!(w.success(), "{}", w.response.result);
    let written: redwhisk_actions::WriterResult =
        serde_json::from_value(w.response.result).unwrap();
    let mut rp = base.clone();
    rp["seed"] = json!(written.seed);
    rp["expected_digest"] = json!(written.digest);
    let r = p.invoke("r", rp).await.unwrap();
    let read: redwhisk_actions::ReaderResult = serde_json::from_value(r.response.result).unwrap();
    assert!(read.matches);
    assert_eq!((read.found, read.mismatches), (50, Some(0)));
}

#[test]
fn default_runner_under_cargo_test_is_the_redwhisk_binary() {
    // This test binary lives in target/<profile>/deps/; the runner must not be the harness.
    let runner = redwhisk::platform::local::default_runner().unwrap();
    assert_eq!(
        runner.canonicalize().unwrap(),
        Path::new(env!("CARGO_BIN_EXE_redwhisk"))
            .canonicalize()
            .unwrap()
    );
}

#[tokio::test]
async fn platform_new_picks_local_for_a_local_profile() {
    let profile = redwhisk::profile::Profile::embedded_default().unwrap();
    let p = redwhisk::platform::Platform::new(&profile).unwrap();
    assert_eq!(p.label(), "local");
    // Written to keep compiling once the OpenWhisk variant exists.
    #[allow(unreachable_patterns)]
    match &p {
        redwhisk::platform::Platform::Local(local) => {
            assert_eq!(local.timeout(), profile.workload.timeout)
        }
        _ => panic!("a local profile must give the local platform"),
    }
    let e = p.invoke("not-deployed", json!({})).await.unwrap_err();
    assert!(e.to_string().contains("deploy it first"), "{e}");
}
