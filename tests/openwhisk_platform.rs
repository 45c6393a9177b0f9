//! The OpenWhisk client against the OpenWhisk-compatible test server (tests/support): every
//! status path of deploy, invoke, 202 polling and 429 backoff, with real actions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use redwhisk::event::EventSink;
use redwhisk::platform::openwhisk::config::resolve;
use redwhisk::platform::openwhisk::{
    ActionCode, Backoff, OpenWhiskError, OpenWhiskPlatform, package,
};
use redwhisk::platform::{ActivationStatus, PlatformError};
use redwhisk::profile::{ActionKind, OpenWhiskConfig};
use redwhisk::secret::Secret;
use serde_json::json;
use support::openwhisk_server::{GUEST_AUTH, ServerConfig, ServerHandle, start_server};

fn ow_config(apihost: &str, auth: &str, namespace: &str, poll: Duration) -> OpenWhiskConfig {
    ow_config_logs(apihost, auth, namespace, poll, true)
}

fn ow_config_logs(
    apihost: &str,
    auth: &str,
    namespace: &str,
    poll: Duration,
    fetch_logs: bool,
) -> OpenWhiskConfig {
    OpenWhiskConfig {
        apihost: Some(apihost.to_string()),
        auth: Some(Secret::new(auth)),
        namespace: namespace.to_string(),
        insecure: false,
        action_name: "redwhisk-bench".into(),
        action_kind: ActionKind::Native,
        nodejs_kind: "nodejs:20".into(),
        memory_mb: 256,
        redis_host_for_actions: None,
        poll_deadline: poll,
        fetch_logs,
    }
}

/// A client for `server`, resolved through the same code path as a profile (no env, no file).
fn client_with(server: &ServerHandle, auth: &str, ns: &str, poll: Duration) -> OpenWhiskPlatform {
    let ow = ow_config(&server.apihost(), auth, ns, poll);
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_secs(30))
        .unwrap()
        .with_backoff(Backoff {
            initial: Duration::from_millis(10),
            max: Duration::from_millis(80),
        })
}

fn client(server: &ServerHandle) -> OpenWhiskPlatform {
    client_with(server, server.auth(), "_", Duration::from_secs(30))
}

async fn deploy_script(p: &OpenWhiskPlatform, name: &str, script: &str) {
    let zip = package::native_zip(script.as_bytes()).unwrap();
    p.put_action(name, &ActionCode::NativeZip(zip), true)
        .await
        .unwrap();
}

fn ow_err(e: PlatformError) -> OpenWhiskError {
    match e {
        PlatformError::OpenWhisk(e) => e,
        other => panic!("expected an OpenWhisk error, got {other:?}"),
    }
}

/// Echoes argv[1], stdin and the activation id; logs one stdout and one stderr line.
const ECHO: &str = "#!/bin/sh\nread -r STDIN\necho 'log: started'\necho 'a warning' >&2\n\
printf '{\"argv\":%s,\"stdin\":%s,\"id\":\"%s\"}\\n' \"$1\" \"$STDIN\" \"$__OW_ACTIVATION_ID\"\n";

#[tokio::test]
async fn native_zip_runs_under_the_native_contract_cold_then_warm() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = client(&server);
    deploy_script(&p, "echo", ECHO).await;
    let params = json!({"records": 3, "mode": "sequential"});
    let first = p.invoke("echo", params.clone()).await.unwrap();
    assert!(first.success(), "{first:?}");
    assert_eq!(first.response.status, ActivationStatus::Success);
    assert_eq!(first.response.result["argv"], params);
    assert_eq!(first.response.result["stdin"], params);
    assert_eq!(first.response.result["id"], first.activation_id.as_str());
    assert_eq!(first.activation_id.len(), 32);
    assert!(first.is_cold(), "the first run initialises: {first:?}");
    assert_eq!(first.kind.as_deref(), Some("blackbox"));
    assert!(first.wait_time_ms.is_some());
    assert_eq!(first.duration, (first.end - first.start) as u64);
    // The blocking answer had `"logs": []`, as OpenWhisk's; the client fetched them.
    assert!(first.log_fetch_ms.is_some(), "{first:?}");
    assert_eq!((first.polls, first.poll_overhead_ms), (0, 0.0));
    assert!(
        first
            .logs
            .iter()
            .any(|l| l.ends_with("stdout: log: started"))
    );
    assert!(first.logs.iter().any(|l| l.ends_with("stderr: a warning")));
    assert_eq!(first.throttled, 0);
    // The platform's duration happens inside the client's request.
    assert!(first.client_latency_ms + 1.0 >= first.duration as f64);

    let second = p.invoke("echo", params).await.unwrap();
    assert!(!second.is_cold(), "the second run is warm: {second:?}");
    assert_ne!(second.activation_id, first.activation_id);
    let fetched = p.activation(&second.activation_id).await.unwrap().unwrap();
    assert_eq!(fetched.response, second.response);
    assert!(p.activation(&"0".repeat(32)).await.unwrap().is_none());
    assert_eq!(server.stats().accepted_202, 0);
}

#[tokio::test]
async fn failed_actions_are_records_not_errors() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = client(&server);
    deploy_script(&p, "app-error", "#!/bin/sh\necho '{\"error\":\"boom\"}'\n").await;
    deploy_script(&p, "dev-error", "#!/bin/sh\necho 'this is not json'\n").await;
    let app = p.invoke("app-error", json!({})).await.unwrap();
    assert!(!app.success());
    assert_eq!(app.response.status, ActivationStatus::ApplicationError);
    assert_eq!(app.response.result["error"], "boom");
    let dev = p.invoke("dev-error", json!({})).await.unwrap();
    assert_eq!(dev.response.status, ActivationStatus::DeveloperError);
    assert!(dev.logs.iter().any(|l| l.contains("this is not json")));
}

#[tokio::test]
async fn slow_action_gets_202_and_is_polled_until_its_record_exists() {
    let cfg = ServerConfig {
        blocking_wait: Duration::from_millis(100),
        ..ServerConfig::default()
    };
    let server = start_server(cfg).await.unwrap();
    let p = client(&server);
    deploy_script(&p, "slow", "#!/bin/sh\nsleep 1\necho '{\"slept\":true}'\n").await;
    let a = p.invoke("slow", json!({})).await.unwrap();
    assert!(a.success());
    assert_eq!(a.response.result["slept"], true);
    let stats = server.stats();
    assert_eq!(stats.accepted_202, 1);
    assert!(
        stats.polls_404 >= 1,
        "polled before the record existed: {stats:?}"
    );
    assert_eq!(stats.polls_200, 1);
    // Client latency covers the whole wait, polling included.
    assert!(a.client_latency_ms >= a.duration as f64);
}

#[tokio::test]
async fn polling_gives_up_at_the_deadline_naming_the_activation() {
    let cfg = ServerConfig {
        blocking_wait: Duration::from_millis(50),
        ..ServerConfig::default()
    };
    let server = start_server(cfg).await.unwrap();
    let p = client_with(&server, GUEST_AUTH, "_", Duration::from_millis(300));
    deploy_script(&p, "slower", "#!/bin/sh\nsleep 3\necho '{}'\n").await;
    let e = ow_err(p.invoke("slower", json!({})).await.unwrap_err());
    let OpenWhiskError::PollDeadline { activation_id, .. } = &e else {
        panic!("expected PollDeadline, got {e:?}");
    };
    assert_eq!(activation_id.len(), 32);
    assert!(e.to_string().contains("wsk activation get"));
}

#[tokio::test]
async fn throttled_invokes_back_off_and_are_counted() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = client(&server);
    deploy_script(&p, "ok", "#!/bin/sh\necho '{\"ok\":1}'\n").await;
    server.throttle_next(3);
    let a = p.invoke("ok", json!({})).await.unwrap();
    assert!(a.success());
    assert_eq!(a.throttled, 3);
    assert_eq!(server.stats().throttled, 3);

    // Throttled past the deadline: a clear error with the count.
    let p = client_with(&server, GUEST_AUTH, "_", Duration::from_millis(100));
    server.throttle_next(1000);
    let e = ow_err(p.invoke("ok", json!({})).await.unwrap_err());
    assert!(
        matches!(e, OpenWhiskError::Throttled { throttled, .. } if throttled >= 2),
        "{e:?}"
    );
    assert!(e.to_string().contains("concurrency"));
}

#[tokio::test]
async fn wrong_key_namespace_or_name_are_clear_errors_without_the_key() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let good = client(&server);
    deploy_script(&good, "ok", "#!/bin/sh\necho '{}'\n").await;

    let wrong_key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:notTheRightKey0123456789";
    let bad = client_with(&server, wrong_key, "_", Duration::from_secs(5));
    let e = ow_err(bad.invoke("ok", json!({})).await.unwrap_err());
    assert!(matches!(e, OpenWhiskError::Unauthorized { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("WHISK_AUTH") && msg.contains("The supplied authentication is invalid"));
    assert!(!msg.contains("notTheRightKey"), "{msg}");
    let e = bad
        .put_action("x", &ActionCode::NativeZip(vec![]), true)
        .await
        .unwrap_err();
    assert!(matches!(e, OpenWhiskError::Unauthorized { .. }), "{e:?}");

    let other_ns = client_with(&server, GUEST_AUTH, "someone-else", Duration::from_secs(5));
    let e = ow_err(other_ns.invoke("ok", json!({})).await.unwrap_err());
    assert!(matches!(e, OpenWhiskError::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("`someone-else`"));

    let e = ow_err(good.invoke("missing-action", json!({})).await.unwrap_err());
    assert!(matches!(e, OpenWhiskError::NotFound { .. }), "{e:?}");
    assert!(e.to_string().contains("`missing-action`"));
}

#[tokio::test]
async fn put_without_overwrite_on_an_existing_action_is_a_conflict() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = client(&server);
    let code = ActionCode::NativeZip(package::native_zip(b"#!/bin/sh\necho '{}'\n").unwrap());
    p.put_action("once", &code, false).await.unwrap();
    let e = p.put_action("once", &code, false).await.unwrap_err();
    assert!(matches!(e, OpenWhiskError::Conflict { .. }), "{e:?}");
    assert!(e.to_string().contains("overwrite"));
    // With overwrite (what deploy always sends) the same PUT succeeds.
    p.put_action("once", &code, true).await.unwrap();
}

#[tokio::test]
async fn server_errors_are_reported_and_echoed_keys_scrubbed() {
    let cfg = ServerConfig {
        echo_auth_in_errors: true,
        ..ServerConfig::default()
    };
    let server = start_server(cfg).await.unwrap();
    let p = client(&server);
    deploy_script(&p, "ok", "#!/bin/sh\necho '{}'\n").await;
    for status in [500u16, 503] {
        server.force_next_status(status);
        let e = ow_err(p.invoke("ok", json!({})).await.unwrap_err());
        assert!(
            matches!(e, OpenWhiskError::Server { status: s, .. } if s == status),
            "{e:?}"
        );
        let msg = e.to_string();
        let key = GUEST_AUTH.split_once(':').unwrap().1;
        assert!(
            msg.contains("forced status") && msg.contains("<redacted>"),
            "{msg}"
        );
        assert!(!msg.contains(key), "the key leaked: {msg}");
    }
    // A 502 that is not an activation record (a gateway failing) is an error, not a record.
    server.force_next_status(502);
    let e = ow_err(p.invoke("ok", json!({})).await.unwrap_err());
    assert!(
        matches!(e, OpenWhiskError::Server { status: 502, .. }),
        "{e:?}"
    );
    assert!(
        !e.to_string()
            .contains(GUEST_AUTH.split_once(':').unwrap().1)
    );
    server.force_next_status(400);
    let e = ow_err(p.invoke("ok", json!({})).await.unwrap_err());
    assert!(matches!(e, OpenWhiskError::BadRequest { .. }), "{e:?}");
}

#[tokio::test]
async fn deploy_refuses_a_dynamically_linked_binary_with_the_build_command() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy("/bin/sh", dir.path().join("bench")).unwrap();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = client(&server).with_bin_dir(Some(dir.path().to_path_buf()));
    let e = p
        .deploy(
            redwhisk::platform::BuiltinAction::Bench,
            "b",
            &EventSink::discard(),
        )
        .await
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("dynamically linked") && msg.contains("crt-static"),
        "{msg}"
    );
    assert_eq!(server.stats().puts, 0);
}

#[tokio::test]
async fn unreachable_host_names_the_host() {
    let port = support::free_port();
    let ow = ow_config(
        &format!("http://127.0.0.1:{port}/"),
        GUEST_AUTH,
        "_",
        Duration::from_secs(1),
    );
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    assert_eq!(resolved.apihost, format!("http://127.0.0.1:{port}"));
    let p = OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_secs(5)).unwrap();
    let e = ow_err(p.invoke("x", json!({})).await.unwrap_err());
    assert!(matches!(e, OpenWhiskError::Transport { .. }), "{e:?}");
    // The whole chain, as the command line prints it: the host once, then the cause.
    let chain = format!("{:#}", anyhow::Error::new(e));
    assert_eq!(
        chain.matches(&format!("127.0.0.1:{port}")).count(),
        1,
        "the URL clause is not repeated: {chain}"
    );
    assert!(chain.contains("Connection refused"), "{chain}");
}

#[tokio::test]
async fn the_profile_limits_are_deployed_and_enforced() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let mut ow = ow_config(&server.apihost(), GUEST_AUTH, "_", Duration::from_secs(10));
    ow.memory_mb = 128;
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    let p = OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_millis(300)).unwrap();
    deploy_script(&p, "sleepy", "#!/bin/sh\nsleep 2\necho '{}'\n").await;
    let a = p.invoke("sleepy", json!({})).await.unwrap();
    assert_eq!(a.response.status, ActivationStatus::DeveloperError);
    assert_eq!(a.annotation("timeout"), Some(&json!(true)));
    let limits = a.annotation("limits").unwrap();
    assert_eq!(
        (limits["timeout"].as_u64(), limits["memory"].as_u64()),
        (Some(300), Some(128))
    );
}

/// A client that does not fetch logs (the default of `platform.fetch_logs`).
fn client_without_logs(server: &ServerHandle) -> OpenWhiskPlatform {
    let ow = ow_config_logs(
        &server.apihost(),
        server.auth(),
        "_",
        Duration::from_secs(30),
        false,
    );
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_secs(30)).unwrap()
}

/// Issue 11 (3): like OpenWhisk, a blocking answer carries `"logs": []`; the stored record
/// (written `logs_delay` later) has them. With `fetch_logs` the client fetches them with one
/// more request (retrying its 404), and that request is not part of the client latency.
#[tokio::test]
async fn blocking_answers_have_no_logs_and_fetch_logs_gets_them_outside_the_latency() {
    let cfg = ServerConfig {
        logs_delay: Duration::from_millis(200),
        ..ServerConfig::default()
    };
    let server = start_server(cfg).await.unwrap();
    let without = client_without_logs(&server);
    deploy_script(&without, "echo", ECHO).await;
    let a = without.invoke("echo", json!({"x": 1})).await.unwrap();
    assert!(a.success(), "{a:?}");
    assert!(a.logs.is_empty(), "a blocking answer has no logs: {a:?}");
    assert_eq!(a.log_fetch_ms, None);
    assert_eq!(server.stats().log_fetches, 0);

    let with = client(&server);
    let whole = std::time::Instant::now();
    let b = with.invoke("echo", json!({"x": 2})).await.unwrap();
    let whole_ms = whole.elapsed().as_secs_f64() * 1000.0;
    assert!(
        b.logs.iter().any(|l| l.ends_with("stdout: log: started")),
        "{b:?}"
    );
    assert!(b.logs.iter().any(|l| l.ends_with("stderr: a warning")));
    let fetch = b.log_fetch_ms.expect("logs fetched");
    // The logs were stored 200 ms after the answer: the fetch waited them out (404, retry)...
    assert!(server.stats().log_fetches >= 1);
    // ...in a request of its own, after the latency was taken: both fit in the call, apart.
    assert!(
        b.client_latency_ms + fetch <= whole_ms + 1.0,
        "{b:?} in {whole_ms} ms"
    );
    // The stored record has the same logs.
    let stored = with.activation(&b.activation_id).await.unwrap().unwrap();
    assert_eq!(stored.logs, b.logs);
}

/// Issue 11 (2): a whisk internal error is HTTP 500 carrying the activation record; it is an
/// activation (status, id, stored), not "the platform is unhealthy".
#[tokio::test]
async fn a_500_with_a_record_is_a_whisk_error_activation() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = client(&server);
    deploy_script(&p, "ok", "#!/bin/sh\necho '{\"ok\":1}'\n").await;
    server.whisk_error_next(1);
    let a = p.invoke("ok", json!({})).await.unwrap();
    assert_eq!(a.response.status, ActivationStatus::InternalError, "{a:?}");
    assert!(!a.success());
    assert_eq!(a.activation_id.len(), 32);
    assert_eq!(
        a.response.result["error"],
        "Failed to provision resources to run the action."
    );
    let stored = p.activation(&a.activation_id).await.unwrap().unwrap();
    assert_eq!(stored.response.status, ActivationStatus::InternalError);
    // The next invoke runs normally.
    assert!(p.invoke("ok", json!({})).await.unwrap().success());
}

/// Issue 11 (5 of the test server / 6 of the docs): the time limit covers the initialisation.
/// A cold start whose init outlasts `limits.timeout` is a developer error "… during
/// initialization." with `timeout: true`, and the next invoke initialises again.
#[tokio::test]
async fn the_time_limit_applies_to_init_too() {
    let cfg = ServerConfig {
        init_delay: Duration::from_millis(600),
        ..ServerConfig::default()
    };
    let server = start_server(cfg).await.unwrap();
    let ow = ow_config(&server.apihost(), GUEST_AUTH, "_", Duration::from_secs(10));
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    let short =
        OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_millis(300)).unwrap();
    deploy_script(&short, "quick", "#!/bin/sh\necho '{}'\n").await;
    for _ in 0..2 {
        let a = short.invoke("quick", json!({})).await.unwrap();
        assert_eq!(a.response.status, ActivationStatus::DeveloperError, "{a:?}");
        assert_eq!(
            a.response.result["error"],
            "The action exceeded its time limits of 300 milliseconds during initialization."
        );
        assert_eq!(a.annotation("timeout"), Some(&json!(true)));
        assert!(a.is_cold());
    }
    assert_eq!(
        server.stats().inits,
        2,
        "a failed init leaves no warm container"
    );

    // The same init under a longer limit succeeds, then runs warm.
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    let long = OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_secs(20)).unwrap();
    deploy_script(&long, "quick", "#!/bin/sh\necho '{}'\n").await;
    let a = long.invoke("quick", json!({})).await.unwrap();
    assert!(a.success() && a.is_cold(), "{a:?}");
    assert!(a.init_time_ms.unwrap() >= 600, "{a:?}");
    let b = long.invoke("quick", json!({})).await.unwrap();
    assert!(b.success() && !b.is_cold(), "{b:?}");
}

/// Issue 11 (4): time spent waiting out 429s is reported apart and is not client latency.
#[tokio::test]
async fn throttle_wait_is_kept_out_of_the_client_latency() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let p = client(&server);
    deploy_script(&p, "ok", "#!/bin/sh\necho '{\"ok\":1}'\n").await;
    server.throttle_next(3);
    let whole = std::time::Instant::now();
    let a = p.invoke("ok", json!({})).await.unwrap();
    let whole_ms = whole.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(a.throttled, 3);
    // Three backoffs of 10, 20 and 40 ms happened before the accepted request.
    assert!(a.throttle_wait_ms >= 70.0, "{a:?}");
    assert!(a.client_latency_ms + a.throttle_wait_ms <= whole_ms + 1.0);
    // Unthrottled: nothing waited.
    let b = p.invoke("ok", json!({})).await.unwrap();
    assert_eq!((b.throttled, b.throttle_wait_ms), (0, 0.0));
}

/// Issue 11 (5): after a 202, the client reports how many polls it made and at most how much
/// of its latency the polling granularity added; the poll interval is capped at 500 ms.
#[tokio::test]
async fn poll_overhead_is_reported_after_a_202() {
    let cfg = ServerConfig {
        blocking_wait: Duration::from_millis(50),
        ..ServerConfig::default()
    };
    let server = start_server(cfg).await.unwrap();
    let ow = ow_config(&server.apihost(), GUEST_AUTH, "_", Duration::from_secs(30));
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    // The default backoff (100 ms doubling, 2 s cap) with the 500 ms poll cap.
    let p = OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_secs(30)).unwrap();
    deploy_script(&p, "slow", "#!/bin/sh\nsleep 2\necho '{\"slept\":true}'\n").await;
    let a = p.invoke("slow", json!({})).await.unwrap();
    assert!(a.success(), "{a:?}");
    let stats = server.stats();
    assert_eq!(stats.accepted_202, 1);
    assert_eq!(
        a.polls,
        stats.polls_404 + stats.polls_200,
        "{a:?} {stats:?}"
    );
    // 100 + 200 + 400 then 500 ms steps: 2 s of action takes at least 5 polls.
    assert!(a.polls >= 5, "{a:?}");
    assert!(a.poll_overhead_ms > 0.0 && a.poll_overhead_ms <= a.client_latency_ms);
    // A polled record is the stored one: its logs are there without another request.
    assert!(a.log_fetch_ms.is_none());
    assert_eq!(stats.log_fetches, 0);
}

/// Issue 11 (8): the preflight, before anything starts: the key is checked against the
/// platform, and the Redis address the actions would get must resolve and be an address of
/// this host. 192.0.2.1 (TEST-NET-1) is never local; nothing is sent to it.
#[tokio::test]
async fn preflight_names_the_setting_before_anything_starts() {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let profile_with = |auth: &str, extra: &str, bind: &str| {
        let toml = format!(
            "[redis]\nbind = \"{bind}\"\n[platform]\nkind = \"openwhisk\"\napihost = \"{}\"\nauth = \"{auth}\"\n{extra}\n",
            server.apihost()
        );
        redwhisk::profile::Profile::parse(&toml, "t.toml", "t", None).unwrap()
    };
    let check = |profile: redwhisk::profile::Profile| async move {
        let p = OpenWhiskPlatform::new(&profile).unwrap();
        p.preflight(&profile).await
    };
    check(profile_with(GUEST_AUTH, "", "127.0.0.1"))
        .await
        .unwrap();
    check(profile_with(
        GUEST_AUTH,
        "redis_host_for_actions = \"127.0.0.1\"",
        "127.0.0.1",
    ))
    .await
    .unwrap();
    let wrong_key = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:notTheRightKey0123456789";
    let e = check(profile_with(wrong_key, "", "127.0.0.1"))
        .await
        .unwrap_err();
    assert!(matches!(e, OpenWhiskError::Unauthorized { .. }), "{e:?}");
    let e = check(profile_with(GUEST_AUTH, "", "192.0.2.1"))
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("redis.bind: 192.0.2.1 is not an address of this host"),
        "{e}"
    );
    let e = check(profile_with(
        GUEST_AUTH,
        "redis_host_for_actions = \"192.0.2.1\"",
        "127.0.0.1",
    ))
    .await
    .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("platform.redis_host_for_actions: `192.0.2.1`"),
        "{e}"
    );
    let e = check(profile_with(
        GUEST_AUTH,
        "redis_host_for_actions = \"no-such-host.invalid\"",
        "127.0.0.1",
    ))
    .await
    .unwrap_err();
    assert!(e.to_string().contains("does not resolve"), "{e}");
}
