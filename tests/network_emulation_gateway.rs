//! The gateway's clients are functions too: under `[redis.network_emulation]` the gateway
//! splices them to Redis through the shaping proxy, and stopping the gateway stops the proxy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "gateway_support/mod.rs"]
mod gw;
#[path = "host_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use gw::*;
use redwhisk::gateway::GatewayState;
use redwhisk::profile::NetworkEmulation;
use support::*;

#[tokio::test(flavor = "multi_thread")]
async fn gateway_clients_take_the_emulated_path() {
    require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let mut profile = gw_profile(dir.path(), 60_000);
    profile.redis.network_emulation = Some(NetworkEmulation::rtt_only(5.0));
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    let mut c = client(g.port()).await;
    g.wait_state(GatewayState::Awake).await;
    // Every round trip through the gateway now pays the proxy's 5 ms.
    let mut fastest = Duration::MAX;
    for _ in 0..10 {
        let t = Instant::now();
        let pong: String = redis::cmd("PING").query_async(&mut c).await.unwrap();
        assert_eq!(pong, "PONG");
        fastest = fastest.min(t.elapsed());
    }
    assert!(
        fastest >= Duration::from_micros(4_900),
        "a PING through the gateway took {fastest:?}: not through the 5 ms path"
    );
    let netem = profile.redis.data_dir.join("netem.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&netem).unwrap()).unwrap();
    let pid = u32::try_from(v["pid"].as_u64().unwrap()).unwrap();
    assert!(alive(pid));
    drop(c);
    g.stop().await;
    let t0 = Instant::now();
    while alive(pid) {
        assert!(t0.elapsed() < DEADLINE, "proxy {pid} outlived the gateway");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!netem.exists());
}
