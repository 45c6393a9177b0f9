//! The gateway's caps and the faults not covered by gateway_process.rs: `max_connections`,
//! a Redis that is still loading its dataset when the wake starts, a Redis frozen while
//! clients are spliced to it, and the shutdown grace running out under an open connection.
//! Real redis-server; fails loudly when it is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "gateway_support/mod.rs"]
mod gw;
#[path = "host_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use gw::*;
use redwhisk::gateway::{GatewayOptions, GatewayState};
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

/// A connection through the gateway, authenticated, kept open.
async fn open_conn(port: u16) -> BufReader<tokio::net::TcpStream> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("AUTH {PASSWORD}\r\n").as_bytes())
        .await
        .unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    tokio::time::timeout(DEADLINE, r.read_line(&mut line))
        .await
        .expect("AUTH through the gateway hung")
        .unwrap();
    assert_eq!(line, "+OK\r\n");
    r
}

async fn send(c: &mut BufReader<tokio::net::TcpStream>, command: &str) -> String {
    c.get_mut()
        .write_all(format!("{command}\r\n").as_bytes())
        .await
        .unwrap();
    tokio::time::timeout(DEADLINE, read_reply(c))
        .await
        .expect("reply hung")
}

fn signal(pid: u32, sig: &str) {
    assert!(
        std::process::Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
}

#[tokio::test]
async fn max_connections_refuses_the_next_client_with_redis_own_words_then_serves_again() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 60_000);
    profile.gateway.max_connections = 2;
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let mut a = open_conn(g.port()).await;
    let b = open_conn(g.port()).await;
    assert_eq!(send(&mut a, "SET k v").await, "+OK\r\n");
    assert_eq!(
        g.wait_state(GatewayState::Awake).await.state,
        GatewayState::Awake
    );
    // The third is refused at once with one RESP error line, then closed.
    assert_eq!(
        raw_command(g.port(), "GET k").await,
        "-ERR redwhisk gateway: max number of clients reached (gateway.max_connections = 2)\r\n"
    );
    // The two open ones still work; when one closes, a new client is served.
    assert_eq!(send(&mut a, "GET k").await, "$1\r\nv\r\n");
    drop(b);
    let until = Instant::now() + DEADLINE;
    loop {
        let reply = raw_command(g.port(), "GET k").await;
        if reply == "$1\r\nv\r\n" {
            break;
        }
        // The close of `b` may not have reached the gateway yet.
        assert!(reply.contains("max_connections = 2"), "{reply}");
        assert!(Instant::now() < until, "a freed slot was never reused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let report = g.stop().await;
    assert_eq!(report.last.wakes, 1);
    assert!(report.last.refused >= 1, "{report:?}");
}

#[tokio::test]
async fn a_wake_waits_out_loading_so_no_client_sees_a_loading_error() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    // Loading costs 2 ms per key (a Redis debug setting): 500 keys load for about a second,
    // during which redis-server answers -LOADING to everything, PING included.
    let (bin, starts) = counting_server_bin(dir.path(), "");
    let slow = script(
        dir.path(),
        "slow-loading-redis-server",
        &format!("exec {bin} \"$@\" --key-load-delay 2000"),
    );
    let mut profile = gw_profile(dir.path(), 50);
    profile.redis.backend = redwhisk::profile::Backend::Process { server_bin: slow };
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    {
        let mut c = open_conn(g.port()).await;
        for i in 0..500 {
            assert_eq!(send(&mut c, &format!("SET k{i} v{i}")).await, "+OK\r\n");
        }
    }
    g.wait_state(GatewayState::Asleep).await;
    assert!(redis_pid(&profile).is_none());
    // Several clients arrive while the dataset loads: each gets its value, none an error.
    let port = g.port();
    let clients: Vec<_> = (0..5)
        .map(|i| {
            let key = i * 100 + 99;
            tokio::spawn(async move { (key, raw_command(port, &format!("GET k{key}")).await) })
        })
        .collect();
    for c in clients {
        let (key, reply) = c.await.unwrap();
        let want = format!("v{key}");
        assert_eq!(reply, format!("${}\r\n{want}\r\n", want.len()));
    }
    // Idle is short: it goes back to sleep; then the history holds the second wake.
    g.wait_state(GatewayState::Asleep).await;
    let woke = g
        .states
        .iter()
        .find(|s| s.state == GatewayState::Awake && s.wakes == 2)
        .cloned()
        .unwrap_or_else(|| panic!("no second wake: {:#?}", g.states));
    // The wake included the load (500 keys × 2 ms of deliberate delay): the gateway did not
    // let anyone through on the first PING attempt.
    assert!(
        woke.last_wake_ms.unwrap() >= 1000.0,
        "the wake did not wait for the load: {woke:?}"
    );
    assert_eq!(count_lines(&starts), 2);
    assert_eq!(woke.refused, 0, "{woke:?}");
    g.stop().await;
}

#[tokio::test]
async fn a_frozen_redis_is_bounded_and_the_gateway_recovers_once_it_thaws() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = gw_profile(dir.path(), 100);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let mut c = open_conn(g.port()).await;
    assert_eq!(send(&mut c, "SET before freeze").await, "+OK\r\n");
    let pid = redis_pid(&profile).unwrap();
    signal(pid, "-STOP");
    // A client on a frozen Redis waits, as it would talking to Redis directly: its own timeout
    // is what bounds it. The gateway neither answers for Redis nor drops the connection.
    c.get_mut().write_all(b"GET before\r\n").await.unwrap();
    let mut line = String::new();
    let waited = tokio::time::timeout(Duration::from_millis(500), c.read_line(&mut line)).await;
    assert!(waited.is_err(), "a frozen Redis answered: {line:?}");
    drop(c);
    // The client gave up; after idle the gateway tries to save and stop the frozen Redis.
    g.wait_state(GatewayState::Stopping).await;
    // It thaws: the pending SHUTDOWN SAVE completes (or the next wake adopts it), and the
    // data written before the freeze is served to the next client, within bounded time.
    signal(pid, "-CONT");
    let reply = raw_command(g.port(), "GET before").await;
    assert_eq!(reply, "$6\r\nfreeze\r\n");
    let report = g.stop().await;
    assert_eq!(report.last.state, GatewayState::Closed);
    assert!(redis_pid(&profile).is_none(), "Redis left running");
}

#[tokio::test]
async fn sigterm_grace_runs_out_under_an_open_connection_then_redis_is_saved() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = gw_profile(dir.path(), 60_000);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut opts = GatewayOptions::from_profile(&profile);
    opts.grace = Duration::from_millis(300);
    let g = Running::start_with(&profile, opts).await;
    let port = g.port();
    let mut c = open_conn(port).await;
    assert_eq!(send(&mut c, "SET kept yes").await, "+OK\r\n");
    // Shutdown with the connection still open: it gets the grace, then it is closed.
    let report = g.stop().await;
    assert_eq!(report.last.state, GatewayState::Closed);
    let mut rest = Vec::new();
    // EOF or a reset: either way the connection ended (a hang fails here).
    let _ended = tokio::time::timeout(DEADLINE, c.read_to_end(&mut rest))
        .await
        .expect("the open connection was never closed");
    assert!(rest.is_empty(), "{rest:?}");
    assert!(redis_pid(&profile).is_none(), "Redis left running");
    // A connection arriving after shutdown is not accepted.
    assert!(
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
    );
    // The write before the shutdown was saved: a new gateway serves it.
    let g2 = Running::start(&profile).await;
    assert_eq!(raw_command(g2.port(), "GET kept").await, "$3\r\nyes\r\n");
    g2.stop().await;
}
