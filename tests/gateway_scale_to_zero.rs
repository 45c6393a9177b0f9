//! What can defeat scale-to-zero, and what a client sees around it: probes that connect and
//! close or stay silent, idle clients, a second owner of the profile, the password file before
//! the first wake, a client arriving during the drain, the port across wakes.
//! Real redis-server (process backend); fails loudly when it is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "gateway_support/mod.rs"]
mod gw;
#[path = "host_support/mod.rs"]
mod support;

use std::time::Duration;

use gw::*;
use redwhisk::gateway::{GatewayOptions, GatewayState};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

async fn connect(port: u16) -> TcpStream {
    tokio::time::timeout(DEADLINE, TcpStream::connect(("127.0.0.1", port)))
        .await
        .expect("connect hung")
        .unwrap()
}

/// Read until the gateway closes the connection; what it sent meanwhile.
async fn read_to_close(s: &mut TcpStream) -> String {
    let mut got = Vec::new();
    tokio::time::timeout(DEADLINE, s.read_to_end(&mut got))
        .await
        .expect("the gateway did not close the connection")
        .unwrap();
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test]
async fn connect_and_close_probes_wake_nothing() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 100);
    let (bin, starts) = counting_server_bin(dir.path(), "");
    profile.redis.backend = redwhisk::profile::Backend::Process { server_bin: bin };
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    for n in 1..=3u64 {
        drop(connect(g.port()).await);
        g.wait_until("the probe was seen closing", |p| p.probes() >= n)
            .await;
    }
    assert_eq!(g.probe.wakes(), 0);
    assert_eq!(count_lines(&starts), 0, "a probe started Redis");
    // A real client still wakes it.
    assert_eq!(raw_command(g.port(), "PING").await, "+PONG\r\n");
    assert_eq!(count_lines(&starts), 1);
    let report = g.stop().await;
    assert_eq!(report.last.wakes, 1, "{report:?}");
}

#[tokio::test]
async fn silent_connections_neither_wake_redis_nor_keep_it_awake_nor_use_up_slots() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 100);
    // Longer than every wait in this test: only the first-byte rule can let Redis sleep.
    profile.gateway.handshake_timeout = Duration::from_secs(3600);
    profile.gateway.max_connections = 3;
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let mut silent = Vec::new();
    for _ in 0..10 {
        silent.push(connect(g.port()).await);
    }
    // More silent sockets than max_connections: a real client still gets through, wakes Redis…
    assert_eq!(raw_command(g.port(), "SET k v").await, "+OK\r\n");
    // …and once it has gone, Redis sleeps although ten sockets are still open.
    let s = g.wait_state(GatewayState::Asleep).await;
    assert_eq!(s.wakes, 1, "{s:?}");
    assert_eq!(g.probe.wakes(), 1);
    assert_eq!(g.probe.silent_closed(), 0);
    drop(silent);
    g.stop().await;
}

#[tokio::test]
async fn the_handshake_timeout_closes_silent_connections_without_a_wake() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 100);
    profile.gateway.handshake_timeout = Duration::from_millis(200);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let mut a = connect(g.port()).await;
    let mut b = connect(g.port()).await;
    assert_eq!(read_to_close(&mut a).await, "");
    assert_eq!(read_to_close(&mut b).await, "");
    g.wait_until("both silent sockets closed", |p| p.silent_closed() == 2)
        .await;
    assert_eq!(g.probe.wakes(), 0);
    g.stop().await;
}

/// One line (without CR LF), within the deadline.
async fn line(r: &mut BufReader<TcpStream>) -> String {
    let mut l = String::new();
    tokio::time::timeout(DEADLINE, r.read_line(&mut l))
        .await
        .expect("no line from the gateway")
        .unwrap();
    l.trim_end().to_string()
}

/// RESP array of bulk strings.
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    out.into_bytes()
}

/// A client that authenticated and ran `args`, its first reply line read.
async fn client_ran(port: u16, args: &[&str]) -> (BufReader<TcpStream>, String) {
    let mut s = connect(port).await;
    s.write_all(&resp(&["AUTH", PASSWORD])).await.unwrap();
    s.write_all(&resp(args)).await.unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    assert_eq!(line, "+OK\r\n");
    line.clear();
    if args[0] != "BLPOP" {
        r.read_line(&mut line).await.unwrap();
    }
    (r, line)
}

#[tokio::test]
async fn the_client_idle_timeout_spares_subscribers_and_blocked_clients() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 60_000);
    profile.gateway.client_idle_timeout = Some(Duration::from_millis(300));
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let port = g.port();
    let (mut sub, first) = client_ran(port, &["SUBSCRIBE", "news"]).await;
    assert_eq!(first, "*3\r\n");
    let (mut blocked, _) = client_ran(port, &["BLPOP", "jobs", "0"]).await;
    // An idle client is closed after the timeout; two of them, one after the other, measure at
    // least two timeouts of silence for the subscriber and the blocked client.
    for n in 1..=2u64 {
        let (mut idle, pong) = client_ran(port, &["PING"]).await;
        assert_eq!(pong, "+PONG\r\n");
        let mut rest = String::new();
        tokio::time::timeout(DEADLINE, idle.read_to_string(&mut rest))
            .await
            .expect("the idle client was not closed")
            .unwrap();
        g.wait_until("idle client closed", |p| p.idle_closed() >= n)
            .await;
    }
    assert_eq!(g.probe.idle_closed(), 2);
    assert_eq!(raw_command(port, "PUBLISH news hello").await, ":1\r\n");
    assert_eq!(raw_command(port, "LPUSH jobs j1").await, ":1\r\n");
    // The rest of the subscribe confirmation (5 lines), then the message (7 lines).
    let mut got = Vec::new();
    for _ in 0..12 {
        got.push(line(&mut sub).await);
    }
    assert_eq!(
        got[5..],
        ["*3", "$7", "message", "$4", "news", "$5", "hello"]
    );
    let mut popped = Vec::new();
    for _ in 0..5 {
        popped.push(line(&mut blocked).await);
    }
    assert_eq!(popped, ["*2", "$4", "jobs", "$2", "j1"]);
    g.stop().await;
}

#[tokio::test]
async fn the_password_file_exists_before_the_first_client() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 100);
    profile.redis.password = None;
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let file = profile
        .redis
        .data_dir
        .join(redwhisk::redis_host::password::PASSWORD_FILE);
    let pw = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{} before the first wake: {e}", file.display()));
    let pw = pw.trim();
    assert!(pw.len() >= 16, "a weak generated password");
    assert_eq!(g.probe.wakes(), 0, "nothing may start before a client");
    let mut s = connect(g.port()).await;
    s.write_all(&resp(&["AUTH", pw])).await.unwrap();
    s.write_all(&resp(&["PING"])).await.unwrap();
    s.shutdown().await.unwrap();
    assert_eq!(read_to_close(&mut s).await, "+OK\r\n+PONG\r\n");
    g.wait_state(GatewayState::Asleep).await;
    g.stop().await;
}

#[tokio::test]
async fn a_client_arriving_during_the_drain_gets_the_shutting_down_error() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = gw_profile(dir.path(), 60_000);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut opts = GatewayOptions::from_profile(&profile);
    opts.grace = Duration::from_secs(3600);
    let g = Running::start_with(&profile, opts).await;
    // An open connection keeps the drain going until it closes.
    let (mut open, pong) = client_ran(g.port(), &["PING"]).await;
    assert_eq!(pong, "+PONG\r\n");
    // The Redis it woke is recorded as the gateway's (a dead gateway's Redis is an orphan).
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(profile.redis.data_dir.join("redwhisk.state.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        state["owner"],
        serde_json::json!({"kind": "gateway", "pid": std::process::id()})
    );
    g.begin_stop();
    let mut late = connect(g.port()).await;
    late.write_all(b"PING\r\n").await.unwrap();
    assert_eq!(
        read_to_close(&mut late).await,
        "-ERR redwhisk gateway: shutting down; Redis is being saved and stopped\r\n"
    );
    // The open client is still served during the drain.
    open.get_mut().write_all(&resp(&["PING"])).await.unwrap();
    assert_eq!(line(&mut open).await, "+PONG");
    drop(open);
    let report = g.stop().await;
    assert_eq!(report.last.state, GatewayState::Closed);
}

#[tokio::test]
async fn redis_keeps_the_profile_port_across_wakes() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 100);
    profile.redis.port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let port_of = |reply: &str| -> u16 {
        reply
            .split_whitespace()
            .find_map(|f| f.strip_prefix("laddr="))
            .and_then(|a| a.rsplit(':').next())
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no laddr in {reply:?}"))
    };
    for _ in 0..2 {
        let out = cli(&g, &["CLIENT", "INFO"]).await;
        assert_eq!(port_of(&out), profile.redis.port, "{out}");
        g.wait_state(GatewayState::Asleep).await;
    }
    g.stop().await;
}

#[tokio::test]
async fn a_second_gateway_or_redis_up_on_the_profile_fails_at_once() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = gw_profile(dir.path(), 100);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let file = profile_file(dir.path(), &profile);
    // The first gateway is asleep: nothing runs, but it holds the profile.
    let g = Running::start(&profile).await;
    for args in [
        &["gateway", "--profile"][..],
        &["redis", "up", "--profile"][..],
    ] {
        let out = tokio::time::timeout(
            DEADLINE,
            tokio::process::Command::new(env!("CARGO_BIN_EXE_redwhisk"))
                .args(args)
                .arg(&file)
                .kill_on_drop(true)
                .output(),
        )
        .await
        .unwrap_or_else(|_| panic!("`redwhisk {}` did not fail at once", args.join(" ")))
        .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains(&format!("profile `{}` is in use by pid", profile.name)),
            "{args:?}: {err}"
        );
        assert!(!err.contains("listening on"), "{err}");
    }
    assert_eq!(g.probe.wakes(), 0);
    g.stop().await;
}
