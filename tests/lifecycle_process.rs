//! The `process` backend against a real redis-server (fails loudly when it is missing).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "host_support/mod.rs"]
mod support;

use assert_cmd::Command;
use redwhisk::event::{EngineEvent, EventSink};
use redwhisk::profile::{Backend, Persistence};
use redwhisk::redis_host::{HostError, Owner, RedisHost, RedisState, StopMode};
use support::*;

async fn restart_keeps(persistence: Persistence, stop: StopMode) -> Option<String> {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), persistence);
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut host = RedisHost::new(&profile).unwrap();
    let ep = host.up(&events).await.unwrap().endpoint;
    write(&ep, &[("k1", "v1"), ("k2", "v2")]).await;
    let report = host.down(stop, &events).await.unwrap();
    assert!(report.was_running);
    let ep = host.up(&events).await.unwrap().endpoint;
    let got = read(&ep, "k2").await;
    host.down(StopMode::Graceful, &events).await.unwrap();
    got
}

#[tokio::test]
async fn rdb_data_survives_a_graceful_restart() {
    assert_eq!(
        restart_keeps(rdb(), StopMode::Graceful).await.as_deref(),
        Some("v2")
    );
}

#[tokio::test]
async fn aof_data_survives_a_graceful_restart() {
    assert_eq!(
        restart_keeps(aof(), StopMode::Graceful).await.as_deref(),
        Some("v2")
    );
}

#[tokio::test]
async fn aof_keeps_acknowledged_writes_through_kill_9() {
    assert_eq!(
        restart_keeps(aof_always(), StopMode::Crash)
            .await
            .as_deref(),
        Some("v2")
    );
}

#[tokio::test]
async fn rdb_loses_unsaved_writes_on_kill_9() {
    // The save point (3600 s, 1 change) cannot have fired: SIGKILL means no final save.
    assert_eq!(restart_keeps(rdb(), StopMode::Crash).await, None);
}

#[tokio::test]
async fn persistence_none_keeps_nothing() {
    assert_eq!(
        restart_keeps(Persistence::None, StopMode::Graceful).await,
        None
    );
}

/// The start's steps, in order (what `bench lifecycle` prints as the breakdown), and the keys
/// loaded, counted over the connection that got the first PONG.
#[tokio::test]
async fn a_cold_start_reports_its_steps_and_the_keys_it_loaded() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut host = RedisHost::new(&profile).unwrap();
    let started = host.up(&events).await.unwrap();
    let steps: Vec<&str> = started.steps.iter().map(|s| s.step).collect();
    assert_eq!(
        steps,
        [
            "profile lock",
            "data directory and password",
            "state file check",
            "untracked-server check",
            "binary and port check",
            "config file",
            "log file",
            "spawn",
            "first PONG (state file written meanwhile)",
            "INFO keyspace (same connection)",
            "shaping proxy (start, or check none is left)",
        ]
    );
    assert!(started.steps.iter().all(|s| s.ms >= 0.0));
    assert_eq!(started.cold_start.unwrap().keys_restored, 0);
    write(&started.endpoint, &[("k1", "v1"), ("k2", "v2")]).await;
    host.down(StopMode::Graceful, &events).await.unwrap();
    let again = host.up(&events).await.unwrap();
    assert_eq!(again.cold_start.unwrap().keys_restored, 2);
    // The state file was written while Redis booted: another process finds the server.
    let other = RedisHost::new(&profile).unwrap();
    assert_eq!(other.status().await.unwrap().state, RedisState::Running);
    host.down(StopMode::Graceful, &events).await.unwrap();
}

/// A redwhisk killed after spawning redis-server but before its state file: the server's own
/// pid file finds it at the next start, which stops it (Redis saves on SIGTERM) and starts anew.
#[tokio::test]
async fn a_server_left_without_a_state_file_is_stopped_at_the_next_start() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut first = RedisHost::new(&profile).unwrap();
    let started = first.up(&events).await.unwrap();
    write(&started.endpoint, &[("kept", "yes")]).await;
    let data = &profile.redis.data_dir;
    let pid: u32 = std::fs::read_to_string(data.join("redis.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    std::fs::remove_file(data.join(redwhisk::redis_host::state::STATE_FILE)).unwrap();
    drop(first);
    let (sink, mut rx) = EventSink::new();
    let mut next = RedisHost::new(&profile).unwrap();
    let again = next.up(&sink).await.unwrap();
    let evs = drain(&mut rx);
    assert!(
        evs.iter()
            .any(|e| matches!(e, EngineEvent::Log { message, .. }
            if message.contains(&format!("stopped an untracked redis-server (pid {pid})")))),
        "{evs:?}"
    );
    // Gone, or a zombie until the runtime reaps the dropped child.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    assert!(
        stat.is_empty() || stat.contains(") Z "),
        "the untracked server still runs: {stat}"
    );
    assert!(again.cold_start.is_some(), "a fresh server was started");
    assert_eq!(read(&again.endpoint, "kept").await.as_deref(), Some("yes"));
    next.down(StopMode::Graceful, &events).await.unwrap();
}

#[tokio::test]
async fn start_and_stop_are_safe_to_repeat_and_report_events() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let (events, mut rx) = EventSink::new();
    let mut host = RedisHost::new(&profile).unwrap();
    let started = host.up(&events).await.unwrap();
    let first = started.endpoint;
    let cold = started.cold_start.expect("a cold start breakdown");
    assert_eq!(cold.backend, "process");
    assert!(cold.ready_ms > 0.0 && cold.total_ms >= cold.ready_ms);
    let evs = drain(&mut rx);
    assert!(
        evs.iter()
            .any(|e| matches!(e, EngineEvent::RedisState(RedisState::Running)))
    );
    // the host returns the breakdown; reporting it is the caller's business
    assert!(
        !evs.iter().any(|e| matches!(e, EngineEvent::ColdStart(_))),
        "{evs:?}"
    );

    let adopted = host.up(&events).await.unwrap();
    assert_eq!(
        first.port, adopted.endpoint.port,
        "a second up adopts the running server"
    );
    assert!(adopted.cold_start.is_none(), "adopting is not a cold start");
    let status = host.status().await.unwrap();
    assert_eq!(status.state, RedisState::Running);
    assert_eq!(status.keys, Some(0));

    assert!(
        host.down(StopMode::Graceful, &events)
            .await
            .unwrap()
            .was_running
    );
    assert!(
        !host
            .down(StopMode::Graceful, &events)
            .await
            .unwrap()
            .was_running
    );
    assert_eq!(host.status().await.unwrap().state, RedisState::Stopped);
    for _ in 0..3 {
        host.up(&events).await.unwrap();
        host.down(StopMode::Graceful, &events).await.unwrap();
    }
}

#[tokio::test]
async fn an_orphan_is_reaped_with_its_data_kept() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    // A console that has died: its pid no longer exists. Its host is dropped without `down`.
    let mut dead = RedisHost::new(&profile)
        .unwrap()
        .with_owner(Owner::Console { pid: dead_pid() });
    let ep = dead.up(&events).await.unwrap().endpoint;
    write(&ep, &[("orphan", "kept")]).await;
    let old_pid = dead.status().await.unwrap().pid.unwrap();
    drop(dead);

    let (events, mut rx) = EventSink::new();
    let mut host = RedisHost::new(&profile).unwrap();
    let ep = host.up(&events).await.unwrap().endpoint;
    let msgs = messages(&drain(&mut rx));
    assert!(
        msgs.iter()
            .any(|m| m.contains("reaped an orphan redis-server")
                && m.contains(&format!("pid {old_pid}"))
                && m.contains("data saved")),
        "{msgs:?}"
    );
    assert_ne!(host.status().await.unwrap().pid, Some(old_pid));
    assert_eq!(read(&ep, "orphan").await.as_deref(), Some("kept"));
    host.down(StopMode::Graceful, &events).await.unwrap();
}

#[tokio::test]
async fn a_server_of_a_live_console_is_not_taken_over() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut sleeper = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    let mut other = RedisHost::new(&profile)
        .unwrap()
        .with_owner(Owner::Console { pid: sleeper.id() });
    other.up(&events).await.unwrap();
    let err = RedisHost::new(&profile)
        .unwrap()
        .up(&events)
        .await
        .unwrap_err();
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert!(matches!(err, HostError::InUse { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("redwhisk redis down --force --profile"),
        "{err}"
    );
    other.down(StopMode::Graceful, &events).await.unwrap();
}

#[tokio::test]
async fn a_port_in_use_names_the_port_and_the_field() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port();
    let mut profile = process_profile(dir.path(), rdb());
    profile.redis.port = port;
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let err = RedisHost::new(&profile)
        .unwrap()
        .up(&EventSink::discard())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "port {port} on 127.0.0.1 is already in use (profile `{}`): set `redis.port`",
            profile.name
        )),
        "{text}"
    );
}

#[tokio::test]
async fn a_missing_redis_server_says_how_to_install_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut profile = process_profile(dir.path(), rdb());
    profile.redis.backend = Backend::Process {
        server_bin: "redis-server-not-installed".into(),
    };
    let err = RedisHost::new(&profile)
        .unwrap()
        .up(&EventSink::discard())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`redis-server-not-installed` was not found on PATH: install it (`apt-get install redis-server`) or set `redis.server_bin` in the profile"
    );
}

#[tokio::test]
async fn the_password_stays_off_the_command_line_and_out_of_status() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut host = RedisHost::new(&profile).unwrap();
    let ep = host.up(&events).await.unwrap().endpoint;
    let secret = ep.password.clone().unwrap();
    let status = host.status().await.unwrap();
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", status.pid.unwrap())).unwrap();
    assert!(!String::from_utf8_lossy(&cmdline).contains(secret.expose()));
    let json = serde_json::to_string(&status).unwrap() + &format!("{ep:?}");
    assert!(!json.contains(secret.expose()), "{json}");
    // Without the password, Redis refuses.
    let mut bare = ep.clone();
    bare.password = None;
    let c = redis::Client::open(bare.connection_info().unwrap()).unwrap();
    let mut con = c.get_multiplexed_async_connection().await.unwrap();
    let denied: redis::RedisResult<Option<String>> =
        redis::cmd("GET").arg("x").query_async(&mut con).await;
    assert!(denied.is_err());
    host.down(StopMode::Graceful, &events).await.unwrap();
}

#[tokio::test]
async fn external_backend_checks_the_password() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), rdb());
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let mut owned = RedisHost::new(&profile).unwrap();
    let ep = owned.up(&events).await.unwrap().endpoint;
    write(&ep, &[("ext", "1")]).await;

    let mut ext = process_profile(dir.path(), rdb());
    ext.redis.backend = Backend::External {
        url: format!("redis://127.0.0.1:{}/0", ep.port),
        seeds: Vec::new(),
    };
    ext.redis.password = Some(redwhisk::secret::Secret::new("wrong-password"));
    let err = RedisHost::new(&ext).unwrap().up(&events).await.unwrap_err();
    assert!(matches!(err, HostError::WrongPassword { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("refused the password") && !text.contains("wrong-password"),
        "{text}"
    );

    ext.redis.password = ep.password.clone();
    let mut host = RedisHost::new(&ext).unwrap();
    let ext_ep = host.up(&events).await.unwrap().endpoint;
    assert_eq!(ext_ep.port, ep.port);
    let status = host.status().await.unwrap();
    assert_eq!((status.state, status.keys), (RedisState::Running, Some(1)));
    // We do not own it: down leaves it running.
    assert!(
        !host
            .down(StopMode::Graceful, &events)
            .await
            .unwrap()
            .was_running
    );
    assert_eq!(read(&ep, "ext").await.as_deref(), Some("1"));
    owned.down(StopMode::Graceful, &events).await.unwrap();
}

#[test]
fn cli_up_outlives_the_command_and_down_from_another_process_stops_it() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let name = unique("cli");
    let data = dir.path().join("data");
    let file = write_profile_file(dir.path(), &name, &data, "backend = \"process\"");
    let profile = redwhisk::profile::Profile::load(&file).unwrap();
    let _cleanup = Cleanup { profile };
    let profile_arg = file.to_str().unwrap();
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["redis", "up", "--profile", profile_arg])
        .assert()
        .success()
        .stdout(predicates::str::contains(
            "redis (process) running at redis://127.0.0.1:",
        ));
    let out = Command::cargo_bin("redwhisk")
        .unwrap()
        .args([
            "redis",
            "status",
            "--output",
            "json",
            "--profile",
            profile_arg,
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["state"], "running", "{v}");
    assert_eq!(v["backend"], "process");
    assert_eq!(v["persistence"], "rdb");
    let password = std::fs::read_to_string(data.join("redwhisk.password")).unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains(password.trim()));
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["redis", "down", "--profile", profile_arg])
        .assert()
        .success()
        .stdout(predicates::str::contains("redis stopped (graceful)"));
    Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["redis", "status", "--profile", profile_arg])
        .assert()
        .success()
        .stdout(predicates::str::contains("state        stopped"));
}

/// A fake server binary: a shell script in `dir`.
fn fake_server(dir: &std::path::Path, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-redis-server");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn a_server_that_exits_early_shows_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let mut profile = process_profile(dir.path(), rdb());
    profile.redis.backend = Backend::Process {
        server_bin: fake_server(
            dir.path(),
            "echo 'FATAL: cannot open the data file'; exit 3",
        ),
    };
    let err = RedisHost::new(&profile)
        .unwrap()
        .up(&EventSink::discard())
        .await
        .unwrap_err();
    assert!(matches!(err, HostError::ExitedEarly { .. }), "{err}");
    assert!(
        err.to_string()
            .ends_with("Last log lines:\n  | FATAL: cannot open the data file"),
        "{err}"
    );
    assert!(!profile.redis.data_dir.join("redwhisk.state.json").exists());
}

#[tokio::test]
async fn a_readiness_timeout_shows_the_log_and_kills_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut profile = process_profile(dir.path(), rdb());
    profile.redis.ready_timeout = std::time::Duration::from_millis(300);
    profile.redis.backend = Backend::Process {
        server_bin: fake_server(dir.path(), "echo 'Loading RDB...'; exec sleep 30"),
    };
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let err = RedisHost::new(&profile)
        .unwrap()
        .up(&EventSink::discard())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        // No advice about loading: the server never said LOADING (it never listened).
        text.starts_with("Redis did not answer PING within 300 ms; last attempt:"),
        "{text}"
    );
    assert!(
        text.contains("; last attempt: Connection refused"),
        "{text}"
    );
    assert!(text.ends_with("  | Loading RDB..."), "{text}");
    assert!(!profile.redis.data_dir.join("redwhisk.state.json").exists());
}

fn openssl(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is required for the TLS test (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn external_rediss_is_verified_against_the_given_ca() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "1",
            "-subj",
            "/CN=redwhisk test CA",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        d.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut server = std::process::Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port,
            "--bind",
            "127.0.0.1 -::1",
        ])
        .args(["--tls-cert-file", "srv.pem", "--tls-key-file", "srv.key"])
        .args(["--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no"])
        .args([
            "--requirepass",
            "tls-test-pw",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(d)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let name = unique("tls");
    let file = d.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!("[redis]\nbackend = \"external\"\nurl = \"rediss://:tls-test-pw@localhost:{port}/0\"\nready_timeout_ms = 1000\n"),
    )
    .unwrap();
    let profile = file.to_str().unwrap();
    let trusted = Command::cargo_bin("redwhisk")
        .unwrap()
        .env("REDWHISK_REDIS_CA_FILE", d.join("ca.pem"))
        .args(["redis", "up", "--output", "json", "--profile", profile])
        .output()
        .unwrap();
    let untrusted = Command::cargo_bin("redwhisk")
        .unwrap()
        .env_remove("REDWHISK_REDIS_CA_FILE")
        .args(["redis", "up", "--profile", profile])
        .output()
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    let out = String::from_utf8_lossy(&trusted.stdout);
    assert!(
        trusted.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&trusted.stderr)
    );
    assert!(
        out.contains(&format!("\"endpoint\": \"rediss://localhost:{port}/0\"")),
        "{out}"
    );
    assert!(!out.contains("tls-test-pw"), "{out}");
    let err = String::from_utf8_lossy(&untrusted.stderr);
    assert!(!untrusted.status.success());
    assert!(
        err.contains("invalid peer certificate: UnknownIssuer"),
        "{err}"
    );
    assert!(err.contains("redis.tls_ca_file"), "{err}");
    assert!(!err.contains("tls-test-pw"), "{err}");
}

/// What a start writes on the way to the PONG: the config file only when it changed (a
/// truncate-and-write waits for the filesystem's journal), and the log appended to, so a start
/// never truncates it; the newest start's lines are the last ones.
#[tokio::test]
async fn a_restart_appends_to_the_log_and_leaves_an_unchanged_config_alone() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = process_profile(dir.path(), Persistence::None);
    let _cleanup = Cleanup {
        profile: profile.clone(),
    };
    let events = EventSink::discard();
    let data = profile.redis.data_dir.clone();
    let conf_mtime = || {
        std::fs::metadata(data.join("redwhisk.conf"))
            .unwrap()
            .modified()
            .unwrap()
    };
    let mut host = RedisHost::new(&profile).unwrap();
    host.up(&events).await.unwrap();
    host.down(StopMode::Graceful, &events).await.unwrap();
    let first_conf = conf_mtime();
    let first_log = std::fs::read_to_string(data.join("redis.log")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let mut host = RedisHost::new(&profile).unwrap();
    host.up(&events).await.unwrap();
    host.down(StopMode::Graceful, &events).await.unwrap();
    assert_eq!(
        conf_mtime(),
        first_conf,
        "an unchanged config is not rewritten"
    );
    let log = std::fs::read_to_string(data.join("redis.log")).unwrap();
    assert!(
        log.starts_with(&first_log),
        "the first start's lines are kept"
    );
    assert_eq!(
        log.matches("Ready to accept connections").count(),
        2,
        "{log}"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(data.join("redwhisk.conf"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // A config whose mode was widened is written again with 0600.
    std::fs::set_permissions(
        data.join("redwhisk.conf"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let mut host = RedisHost::new(&profile).unwrap();
    host.up(&events).await.unwrap();
    host.down(StopMode::Graceful, &events).await.unwrap();
    let mode = std::fs::metadata(data.join("redwhisk.conf"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
