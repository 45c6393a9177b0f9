//! `[redis.network_emulation]` with the docker backend (image from `image build-local`, host
//! network): the functions' endpoint is the proxy, control stays direct, the RTT measured
//! through it is the requested one, and `down` stops the proxy with the container. Fails
//! loudly when dockerd is unreachable.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "host_support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use redwhisk::event::EventSink;
use redwhisk::profile::{NetworkEmulation, Persistence};
use redwhisk::redis_host::{RedisHost, StopMode};
use support::*;

/// Kills the proxy a failed test may leave behind.
struct KillProxy(std::path::PathBuf);

impl Drop for KillProxy {
    fn drop(&mut self) {
        if let Ok(text) = std::fs::read_to_string(self.0.join("netem.json"))
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(pid) = v["pid"].as_u64()
        {
            let _ = std::process::Command::new("kill")
                .args(["-9", &pid.to_string()])
                .status();
        }
    }
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X")
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_container_is_reached_through_the_proxy_and_down_stops_it() {
    require_docker_and_image().await;
    let dir = tempfile::tempdir().unwrap();
    let mut p = docker_profile(dir.path(), Persistence::None);
    p.redis.network_emulation = Some(NetworkEmulation::rtt_only(2.0));
    let _cleanup = Cleanup { profile: p.clone() };
    let _proxy = KillProxy(p.redis.data_dir.clone());
    let mut host = RedisHost::new(&p).unwrap();
    let events = EventSink::discard();
    let started = host.up(&events).await.unwrap();
    let net = started
        .network
        .clone()
        .expect("the profile asks for a path");
    assert_eq!(started.for_functions().port, net.endpoint.port);
    assert_ne!(
        net.endpoint.port, started.endpoint.port,
        "control goes direct"
    );
    let measured = net.record.measured.median_ms;
    // Applied and not doubled; how close it comes is a measurement, not a bound (see
    // tests/network_emulation.rs).
    assert!(
        (1.8..=3.5).contains(&measured),
        "requested 2 ms, measured {measured} ms: {:?}",
        net.record
    );
    assert_eq!(
        started
            .cold_start
            .as_ref()
            .and_then(|c| c.network_emulation.as_ref()),
        Some(&net.record)
    );
    // What the functions write through the path is in Redis.
    write(&net.endpoint, &[("through", "the proxy")]).await;
    assert_eq!(
        read(&started.endpoint, "through").await.as_deref(),
        Some("the proxy")
    );
    let text = std::fs::read_to_string(p.redis.data_dir.join("netem.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pid = u32::try_from(v["pid"].as_u64().unwrap()).unwrap();
    assert!(alive(pid));
    host.down(StopMode::Graceful, &events).await.unwrap();
    let t0 = Instant::now();
    while alive(pid) {
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "proxy {pid} still runs after down"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!p.redis.data_dir.join("netem.json").exists());
}
