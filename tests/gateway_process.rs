//! The scale-to-zero gateway against a real redis-server, driven by clients nobody here wrote
//! (redis-cli, redis-benchmark, the redis crate). Fails loudly when redis-server is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "gateway_support/mod.rs"]
mod gw;
#[path = "host_support/mod.rs"]
mod support;

use std::time::Duration;

use gw::*;
use redwhisk::gateway::GatewayState;
use support::*;

#[tokio::test]
async fn redis_cli_and_redis_benchmark_through_a_sleeping_gateway() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = gw_profile(dir.path(), 200);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    assert_eq!(g.wait_state(GatewayState::Asleep).await.total, 0);
    assert_eq!(cli(&g, &["SET", "greeting", "hello"]).await, "OK");
    assert_eq!(cli(&g, &["GET", "greeting"]).await, "hello");
    g.wait_state(GatewayState::Awake).await;
    // redis-benchmark: 20 clients, 2000 SET and GET, through the gateway.
    let out = tokio::process::Command::new("redis-benchmark")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &g.port().to_string(),
            "-a",
            PASSWORD,
        ])
        .args(["-c", "20", "-n", "2000", "-t", "set,get", "--csv"])
        .output()
        .await
        .expect("redis-benchmark is required (apt-get install redis-tools)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("\"SET\"") && text.contains("\"GET\""),
        "{text}"
    );
    // Everyone left: it goes to sleep, the data is saved, and the next client wakes it.
    let slept = g.wait_state(GatewayState::Asleep).await;
    assert!(slept.bytes_up > 0 && slept.bytes_down > 0, "{slept:?}");
    assert!(
        redis_pid(&profile).is_none(),
        "Redis still runs while the gateway sleeps"
    );
    assert_eq!(cli(&g, &["GET", "greeting"]).await, "hello");
    let report = g.stop().await;
    assert_eq!(report.last.state, GatewayState::Closed);
    assert_eq!(report.last.wakes, 2, "{report:?}");
    assert!(redis_pid(&profile).is_none());
}

#[tokio::test]
async fn a_hundred_clients_at_once_share_one_start() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let (bin, starts) = counting_server_bin(dir.path(), "");
    let mut profile = gw_profile(dir.path(), 60_000);
    profile.redis.backend = redwhisk::profile::Backend::Process { server_bin: bin };
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let g = Running::start(&profile).await;
    let port = g.port();
    let clients: Vec<_> = (0..100)
        .map(|i| {
            tokio::spawn(async move {
                let mut c = client(port).await;
                let key = format!("k{i}");
                redis::cmd("SET")
                    .arg(&key)
                    .arg(i)
                    .query_async::<()>(&mut c)
                    .await
                    .unwrap();
                let v: i64 = redis::cmd("GET")
                    .arg(&key)
                    .query_async(&mut c)
                    .await
                    .unwrap();
                v
            })
        })
        .collect();
    for (i, c) in clients.into_iter().enumerate() {
        assert_eq!(c.await.unwrap(), i as i64);
    }
    assert_eq!(
        count_lines(&starts),
        1,
        "redis-server was started more than once"
    );
    let report = g.stop().await;
    assert_eq!(report.last.wakes, 1);
    assert_eq!(report.last.total, 100);
    assert_eq!(report.last.refused, 0);
}

#[tokio::test]
async fn sleep_wake_cycles_lose_nothing() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = gw_profile(dir.path(), 20);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let result = cycles(&mut g, 60).await;
    assert_eq!(result.lost, 0, "{result:?}");
    assert_eq!(result.cycles, 60);
    let report = g.stop().await;
    assert_eq!(report.last.wakes, 61, "{report:?}");
}

#[tokio::test]
async fn redis_killed_while_awake_closes_clients_and_the_next_one_restarts_it() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = gw_profile(dir.path(), 60_000);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let mut open = client(g.port()).await;
    redis::cmd("SET")
        .arg("a")
        .arg("1")
        .query_async::<()>(&mut open)
        .await
        .unwrap();
    let pid = redis_pid(&profile).unwrap();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    // The open connection is closed under the client: its next command fails, within bounds.
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        redis::cmd("PING").query_async::<String>(&mut open),
    )
    .await
    .expect("the open connection hung after Redis died");
    assert!(r.is_err(), "{r:?}");
    // The next connection finds Redis gone and starts it again.
    assert_eq!(cli(&g, &["PING"]).await, "PONG");
    let woke = g.wait_state(GatewayState::Awake).await;
    assert_eq!(woke.wakes, 2, "{woke:?}");
    assert_ne!(redis_pid(&profile), Some(pid));
    g.stop().await;
}

#[tokio::test]
async fn a_wake_that_times_out_answers_every_waiting_client_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    // A "server" that never listens; its name contains redis-server so cleanup can find it,
    // and like redis-server it works in its `--dir` (redwhisk checks that before a kill).
    let pidfile = dir.path().join("hung.pid");
    let bin = script(
        dir.path(),
        "hung",
        &format!(
            "while [ $# -gt 0 ]; do if [ \"$1\" = --dir ]; then cd \"$2\"; fi; shift; done\necho $$ > {}\nexec -a redis-server-hung sleep 600",
            pidfile.display()
        ),
    );
    let mut profile = gw_profile(dir.path(), 60_000);
    profile.redis.backend = redwhisk::profile::Backend::Process { server_bin: bin };
    profile.gateway.wake_timeout = Duration::from_millis(400);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let port = g.port();
    let waiting: Vec<_> = (0..3)
        .map(|_| tokio::spawn(async move { raw_command(port, "PING").await }))
        .collect();
    for w in waiting {
        assert_eq!(
            w.await.unwrap(),
            "-ERR redwhisk gateway: Redis did not start: no PING reply within gateway.wake_timeout_ms = 400 ms\r\n"
        );
    }
    let back = g.wait_state(GatewayState::Asleep).await;
    assert_eq!((back.wake_failures, back.refused), (1, 3), "{back:?}");
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(!alive(pid), "the hung server (pid {pid}) was left running");
    g.stop().await;
}

#[tokio::test]
async fn a_missing_server_is_a_resp_error_naming_the_kind_of_failure() {
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 60_000);
    profile.redis.backend = redwhisk::profile::Backend::Process {
        server_bin: "/nonexistent/redis-server".into(),
    };
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let g = Running::start(&profile).await;
    let reply = raw_command(g.port(), "PING").await;
    // The kind of failure, never the path (clients are not told the host's layout).
    assert_eq!(
        reply,
        "-ERR redwhisk gateway: Redis did not start: the redis-server program was not found (details in the gateway's log)\r\n"
    );
    assert!(!reply.contains("/nonexistent"), "{reply}");
    assert!(
        reply.ends_with("\r\n") && reply.matches("\r\n").count() == 1,
        "{reply:?}"
    );
    g.stop().await;
}

#[tokio::test]
async fn more_than_max_pending_waiting_clients_get_an_error_at_once() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    // A slow start: the clients pile up while it sleeps.
    let (bin, _starts) = counting_server_bin(dir.path(), "sleep 1.5\n");
    let mut profile = gw_profile(dir.path(), 60_000);
    profile.redis.backend = redwhisk::profile::Backend::Process { server_bin: bin };
    profile.gateway.max_pending = 2;
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let g = Running::start(&profile).await;
    let port = g.port();
    let clients: Vec<_> = (0..5)
        .map(|_| {
            tokio::spawn(async move {
                let t = std::time::Instant::now();
                (raw_command(port, "PING").await, t.elapsed())
            })
        })
        .collect();
    let mut ok = 0;
    let mut refused = 0;
    for c in clients {
        let (reply, took) = c.await.unwrap();
        if reply == "+PONG\r\n" {
            ok += 1;
        } else {
            assert_eq!(
                reply,
                "-ERR redwhisk gateway: too many clients waiting for Redis to start (gateway.max_pending = 2); retry later\r\n"
            );
            // "At once": answered before the slow start could have finished.
            assert!(took < Duration::from_millis(1500), "refused after {took:?}");
            refused += 1;
        }
    }
    assert_eq!((ok, refused), (2, 3));
    g.stop().await;
}

#[tokio::test]
async fn a_client_arriving_while_redis_stops_is_served_after_the_next_start() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    // Every key costs 20 ms to save: SHUTDOWN SAVE of 50 keys takes about a second.
    let (bin, starts) = counting_server_bin(dir.path(), "");
    let mut profile = gw_profile(dir.path(), 50);
    profile.redis.backend = redwhisk::profile::Backend::Process { server_bin: bin };
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    {
        let mut c = client(g.port()).await;
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("rdb-key-save-delay")
            .arg("20000")
            .query_async::<()>(&mut c)
            .await
            .unwrap();
        for i in 0..50 {
            redis::cmd("SET")
                .arg(format!("s{i}"))
                .arg(i)
                .query_async::<()>(&mut c)
                .await
                .unwrap();
        }
    }
    g.wait_state(GatewayState::Stopping).await;
    // Arrives while SHUTDOWN SAVE runs: held, never refused or reset.
    let reply = raw_command(g.port(), "GET s49").await;
    assert_eq!(reply, "$2\r\n49\r\n");
    let snap = g.wait_state(GatewayState::Awake).await;
    assert_eq!(snap.wakes, 2, "{snap:?}");
    assert!(snap.reason.contains("1 waiting"), "{snap:?}");
    assert_eq!(count_lines(&starts), 2);
    g.stop().await;
}

#[tokio::test]
async fn ctrl_c_and_kill_9_of_the_gateway_command() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = gw_profile(dir.path(), 60_000);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let file = profile_file(dir.path(), &profile);
    // 1. kill -9 of the gateway leaves its Redis running (an orphan) with unsaved data.
    let mut gw1 = Cmd::start(&file).await;
    assert_eq!(
        raw_command_auth(gw1.port, "SET survivor yes").await,
        "+OK\r\n"
    );
    let orphan = redis_pid(&profile).unwrap();
    gw1.kill9();
    assert!(
        alive(orphan),
        "Redis should outlive a gateway killed with -9"
    );
    // 2. The next gateway reaps it with SHUTDOWN SAVE: the data is kept, the orphan is gone.
    let mut gw2 = Cmd::start(&file).await;
    assert!(!alive(orphan), "the orphan Redis {orphan} still runs");
    assert!(gw2.stderr_so_far().contains("saving and stopping it first"));
    assert_eq!(
        raw_command_auth(gw2.port, "GET survivor").await,
        "$3\r\nyes\r\n"
    );
    assert_eq!(
        raw_command_auth(gw2.port, "SET after sigterm").await,
        "+OK\r\n"
    );
    // 3. SIGTERM: exit 0, Redis saved and stopped.
    let (code, stdout) = gw2.term().await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(
        stdout.lines().last().unwrap().contains("closed"),
        "{stdout}"
    );
    assert!(redis_pid(&profile).is_none());
    let mut gw3 = Cmd::start(&file).await;
    assert_eq!(
        raw_command_auth(gw3.port, "GET after").await,
        "$7\r\nsigterm\r\n"
    );
    let (code, _) = gw3.term().await;
    assert_eq!(code, Some(0));
}

#[test]
fn a_non_loopback_listen_needs_the_flag_and_says_why() {
    let out = assert_cmd::Command::cargo_bin("redwhisk")
        .unwrap()
        .args(["gateway", "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "0.0.0.0:0 is not a loopback address: anyone who can reach it could wake Redis"
        ),
        "{err}"
    );
    assert!(err.contains("--allow-non-loopback"), "{err}");
}
