//! The gateway with clients and backends beyond redis-cli: the Node.js `redis` package running
//! our Node.js bench action, and the docker backend (redis-cli and sleep/wake cycles).
//! Fails loudly when node, its modules, redis-server or dockerd are missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "gateway_support/mod.rs"]
mod gw;
#[path = "host_support/mod.rs"]
mod support;

use std::path::PathBuf;

use gw::*;
use redwhisk::gateway::GatewayState;
use support::*;

fn require_node_modules() -> PathBuf {
    let ok = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "node is required for this test (install Node.js 20)");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("actions/nodejs");
    assert!(
        dir.join("node_modules/redis").exists(),
        "{} has no `redis` package: run `npm ci --prefix actions/nodejs`",
        dir.display()
    );
    dir
}

/// Run actions/nodejs/bench.js's `main` with `params` under node; its result as JSON.
async fn node_bench(dir: &std::path::Path, params: serde_json::Value) -> serde_json::Value {
    let code = format!(
        "{}\nmain(JSON.parse(process.argv[1])).then(r => console.log(JSON.stringify(r)))",
        std::fs::read_to_string(dir.join("bench.js")).unwrap()
    );
    let out = tokio::time::timeout(
        DEADLINE,
        tokio::process::Command::new("node")
            .current_dir(dir)
            .args(["-e", &code, &params.to_string()])
            .output(),
    )
    .await
    .expect("node hung")
    .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn the_nodejs_redis_client_wakes_a_sleeping_gateway() {
    require_redis_server();
    let dir = require_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let profile = gw_profile(tmp.path(), 100);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let params = serde_json::json!({"host": "127.0.0.1", "port": g.port(), "password": PASSWORD,
        "records": 100, "value_size": 16, "mode": "sequential", "seed": 7});
    for round in 1..=2 {
        let r = node_bench(&dir, params.clone()).await;
        assert!(r.get("error").is_none(), "{r}");
        assert_eq!(r["records"], 100, "{r}");
        assert_eq!(r["errors"], 0, "{r}");
        assert_eq!(r["mismatches"], 0, "{r}");
        // The client quits at the end: the gateway goes back to sleep, and wakes again.
        let s = g.wait_state(GatewayState::Asleep).await;
        assert_eq!(s.wakes, round, "{s:?}");
    }
    g.stop().await;
}

#[tokio::test]
async fn docker_backend_sleeps_and_wakes_with_its_data() {
    require_docker_and_image().await;
    let tmp = tempfile::tempdir().unwrap();
    let mut profile = docker_profile(tmp.path(), rdb());
    profile.redis.password = Some(redwhisk::secret::Secret::new(PASSWORD));
    profile.gateway.listen = "127.0.0.1:0".parse().unwrap();
    profile.gateway.idle = std::time::Duration::from_millis(100);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    assert_eq!(cli(&g, &["SET", "whale", "blue"]).await, "OK");
    g.wait_state(GatewayState::Asleep).await;
    assert_eq!(cli(&g, &["GET", "whale"]).await, "blue");
    g.wait_state(GatewayState::Asleep).await;
    let c = cycles(&mut g, 5).await;
    assert_eq!(c.lost, 0, "{c:?}");
    let report = g.stop().await;
    assert_eq!(report.last.wakes, 2 + 6, "{report:?}");
}
