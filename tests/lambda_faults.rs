//! Faults on the Lambda API path: an endpoint that accepts connections and never answers is
//! given up after the function's timeout plus a fixed slack, with the endpoint named. (The
//! emulator-side faults, a container killed mid-invocation, a function that outlives its
//! timeout and an unreachable Redis, are in lambda_emulator.rs; SIGTERM mid-run in
//! lambda_run_cli.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

/// Accepts every connection and holds it, answering nothing, until the test ends.
fn silent_server() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            held.push(s);
        }
    });
    port
}

#[test]
fn an_endpoint_that_accepts_and_never_answers_is_bounded_by_the_deadline() {
    let port = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let profile = dir.path().join("hang.toml");
    std::fs::write(
        &profile,
        format!("[platform]\nkind = \"lambda\"\nfunction_name = \"rw-hang\"\nendpoint = \"{url}\"\ntimeout = 1\n"),
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_redwhisk"))
        .args(["lambda", "invoke", "--no-deploy", "--profile"])
        .arg(&profile)
        .args(["--params", "{\"host\":\"127.0.0.1\",\"port\":6379}"])
        .env("HOME", dir.path())
        .env("AWS_ACCESS_KEY_ID", "AKIAREDWHISKTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_LAMBDA")
        .output()
        .unwrap();
    let waited = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        waited < Duration::from_secs(60),
        "took {waited:?}: the deadline is the 1 s timeout plus 10 s"
    );
    assert!(
        waited >= Duration::from_secs(1),
        "gave up before the function's timeout"
    );
    assert!(
        stderr.contains(&format!("no answer from {url}")),
        "{stderr}"
    );
    assert!(!stderr.contains("test-secret"), "{stderr}");
}

#[test]
fn a_deploy_to_an_endpoint_that_never_answers_ends_within_its_deadline() {
    let port = silent_server();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let profile = dir.path().join("hang-deploy.toml");
    std::fs::write(
        &profile,
        format!("[platform]\nkind = \"lambda\"\nfunction_name = \"rw-hang\"\nendpoint = \"{url}\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\"\n"),
    )
    .unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_redwhisk"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["lambda", "deploy", "--profile"])
        .arg(&profile)
        .env("HOME", dir.path())
        .env("AWS_ACCESS_KEY_ID", "AKIAREDWHISKTEST")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_LAMBDA")
        .output()
        .unwrap();
    let waited = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(waited < Duration::from_secs(90), "took {waited:?}");
    assert!(stderr.contains("GetFunctionConfiguration"), "{stderr}");
    assert!(stderr.contains(&url), "{stderr}");
}
