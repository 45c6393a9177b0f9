//! 1,000 sleep/wake cycles through the gateway's data path with a third-party client, the
//! Node.js `redis` package (node-redis): each cycle connects (waking Redis), reads the key
//! written before the last sleep, writes the next one and quits; then the gateway saves and
//! stops Redis. Nothing may be lost. Fails loudly when node, its modules or redis-server are
//! missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "gateway_support/mod.rs"]
mod gw;
#[path = "host_support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::process::Stdio;

use gw::*;
use support::*;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

const CYCLES: u64 = 1000;

/// One cycle per line read on stdin; one JSON line per cycle on stdout.
const SCRIPT: &str = r#"
const { createClient } = require('redis');
const readline = require('readline');
(async () => {
  const [url] = process.argv.slice(1);
  const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
  for (let i = 1; ; i++) {
    const next = await lines.next();
    if (next.done) break;
    const c = createClient({ url });
    let error = null;
    c.on('error', (e) => { error = String(e); });
    await c.connect();
    const got = await c.get(`cyc${i - 1}`);
    await c.set(`cyc${i}`, String(i));
    await c.quit();
    console.log(JSON.stringify({ i, got, error }));
  }
})().catch((e) => { console.log(JSON.stringify({ fatal: String(e) })); process.exit(1); });
"#;

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

#[tokio::test]
async fn a_thousand_sleep_wake_cycles_with_node_redis_lose_nothing() {
    require_redis_server();
    let node_dir = require_node_modules();
    let tmp = tempfile::tempdir().unwrap();
    let profile = gw_profile(tmp.path(), 10);
    let _c = Cleanup {
        profile: profile.clone(),
    };
    let mut g = Running::start(&profile).await;
    assert_eq!(raw_command(g.port(), "SET cyc0 0").await, "+OK\r\n");
    g.wait_until("the first sleep", |p| p.sleeps() >= 1).await;
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{}", g.port());
    let mut node = tokio::process::Command::new("node")
        .current_dir(&node_dir)
        .args(["-e", SCRIPT, &url])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdin = node.stdin.take().unwrap();
    let mut out = BufReader::new(node.stdout.take().unwrap()).lines();
    let mut lost = Vec::new();
    for i in 1..=CYCLES {
        stdin.write_all(b"go\n").await.unwrap();
        let line = tokio::time::timeout(DEADLINE, out.next_line())
            .await
            .unwrap_or_else(|_| panic!("cycle {i}: node-redis hung"))
            .unwrap()
            .unwrap_or_else(|| panic!("cycle {i}: node exited"));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert!(v["error"].is_null(), "cycle {i}: {line}");
        if v["got"] != serde_json::Value::String((i - 1).to_string()) {
            lost.push(line);
        }
        // The gateway saved and stopped Redis after this cycle's client quit.
        g.wait_until("the cycle's sleep", |p| p.sleeps() > i).await;
        assert_eq!(g.probe.wakes(), i + 1, "cycle {i}: one wake per cycle");
    }
    drop(stdin);
    let _ = node.wait().await;
    assert!(lost.is_empty(), "lost keys: {lost:?}");
    let report = g.stop().await;
    assert_eq!(report.last.wakes, CYCLES + 1, "{:?}", report.last);
    assert_eq!(report.last.wake_failures, 0, "{:?}", report.last);
    assert_eq!(report.last.refused, 0, "{:?}", report.last);
}
