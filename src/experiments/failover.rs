//! The failover experiment: a Redis Cluster with replicas takes writes, one master is killed
//! (SIGKILL or `docker kill`), and we measure what a client sees: the window in which writes
//! to the dead master's slots fail, how long until its replica is promoted and the cluster is
//! `ok` again, and acknowledged writes that are gone afterwards.
//!
//! The writer is the native actions' cluster client with retries off, so every failure is
//! seen (a function would retry through the window instead, and wait).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::job::{Job, write_json};
use super::{BoxError, Context, EngineResult, bail};
use crate::event::EventSink;
use crate::profile::Profile;
use crate::redis_host::{RedisHost, StopMode};
use crate::stats::ms;

/// What to do.
#[derive(Debug, Clone)]
pub struct FailoverOptions {
    /// Writes run this long before the master is killed.
    pub kill_after: Duration,
    /// Writes go on this long after the cluster is `ok` again.
    pub tail: Duration,
    /// `WAIT 1` after every acknowledged write: the writer knows whether a replica had it.
    pub wait: bool,
    /// Give up waiting for the recovery after this long.
    pub recover_limit: Duration,
    pub results_root: PathBuf,
}

/// One write.
#[derive(Debug, Clone)]
struct Write {
    index: u64,
    /// Since the kill (negative before it), ms.
    at_ms: f64,
    /// The key's slot is served by the killed master's shard.
    victim: bool,
    ok: bool,
    /// `WAIT 1` said a replica had it (with `--wait`).
    replicated: Option<bool>,
}

/// What the experiment measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailoverReport {
    pub profile: String,
    pub backend: String,
    pub shards: u16,
    pub replicas: u16,
    pub node_timeout_ms: u64,
    pub persistence: String,
    pub wait: bool,
    /// The master that was killed (the one serving slot 0) and the replica that took over.
    pub killed: String,
    pub promoted: Option<String>,
    pub writes: u64,
    pub acknowledged: u64,
    pub failed: u64,
    /// Failed writes whose key belonged to another (healthy) shard.
    pub failed_elsewhere: u64,
    /// From the kill to the first failed write / the last failed write (ms).
    pub first_failure_ms: Option<f64>,
    pub last_failure_ms: Option<f64>,
    /// From the kill to the first write to the dead master's slots that succeeded after one
    /// had failed.
    pub unavailable_ms: Option<f64>,
    /// From the kill to the replica reporting itself master / every live node saying ok.
    pub promoted_ms: Option<f64>,
    pub cluster_ok_ms: Option<f64>,
    /// Acknowledged writes not readable (or with another value) after the failover.
    pub lost_acknowledged: u64,
    /// Of those, writes `WAIT 1` had confirmed on a replica (must be 0).
    pub lost_replicated: u64,
    /// Writes `WAIT 1` confirmed (with `--wait`).
    pub replicated: Option<u64>,
    pub recovered: bool,
    pub expected: String,
    pub results_dir: PathBuf,
}

/// Why the numbers look as they do.
pub const EXPECTED: &str = "Redis Cluster replicates asynchronously: a master acknowledges a write before its replica has it, so writes acknowledged in the last moments before the kill can be lost when the replica is promoted (on loopback the replication lag is microseconds, so usually none are). WAIT 1 makes the writer wait until a replica has the write: no write it confirmed may be lost. appendfsync does not help here: the killed master's disk is not read by anyone after the failover. Writes to the dead master's slots fail until a replica is promoted: about cluster-node-timeout (PFAIL, then FAIL by majority) plus the election delay (500 ms + 0-500 ms random + 1000 ms per rank). Writes to the healthy shards go on until the master is marked FAIL, then fail with CLUSTERDOWN until the promotion, because cluster-require-full-coverage is yes (the default): a cluster with an unserved slot refuses every write.";

/// Run it on `profile` (an owned cluster with at least one replica per master).
pub async fn run_failover(
    profile: &Profile,
    opts: &FailoverOptions,
    sink: &EventSink,
    cancel: CancellationToken,
) -> EngineResult<FailoverReport> {
    let Some(cluster) = profile.redis.owned_cluster() else {
        bail!(
            "profile `{}` is not a Redis Cluster redwhisk starts: the failover experiment needs [redis.cluster] with replicas = 1 or more (process or docker backend)",
            profile.name
        );
    };
    if cluster.replicas == 0 {
        bail!(
            "profile `{}` has no replicas (redis.cluster.replicas = 0): with nothing to promote the killed master's slots stay down; set replicas = 1",
            profile.name
        );
    }
    let dir =
        Job::quiet(profile, sink, cancel.clone()).results_dir(&opts.results_root, "failover")?;
    let mut host = RedisHost::new(profile)?;
    let started = host.up(sink).await?;
    if let Some(cs) = started.cold_start.as_ref().and_then(|c| c.cluster.as_ref()) {
        sink.info(format!("failover: {}", cs.summary()));
    }
    let result = experiment(
        &mut host,
        &started.endpoint,
        cluster,
        opts,
        sink,
        &cancel,
        &dir,
    )
    .await;
    // Whatever happened, save and stop what is left (the killed node is already gone).
    let stopped = host.down(StopMode::Graceful, sink).await;
    let report = result?;
    stopped.context("stopping the cluster after the failover")?;
    write_json(&dir.join("failover.json"), &report)?;
    Ok(report)
}

async fn experiment(
    host: &mut RedisHost,
    ep: &crate::redis_host::Endpoint,
    cluster: crate::profile::ClusterConfig,
    opts: &FailoverOptions,
    sink: &EventSink,
    cancel: &CancellationToken,
    dir: &std::path::Path,
) -> EngineResult<FailoverReport> {
    let profile = host.profile().clone();
    // The master serving slot 0 now (after an earlier failover it may be any node).
    let before = host.status().await?.nodes.unwrap_or_default();
    let Some(victim_node) = before.iter().find(|n| n.serves_slot_0()).cloned() else {
        bail!("no master serves slot 0: the cluster is not whole before the experiment");
    };
    let victim_slots = victim_node.slot_ranges();
    let password = ep.password.as_ref().map(|p| p.expose().to_string());
    let (seed_host, seed_port) = (ep.host.clone(), ep.port);
    let stop = Arc::new(AtomicBool::new(false));
    let kill_at: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
    let wait = opts.wait;
    let writer = {
        let victim_slots = victim_slots.clone();
        let stop = stop.clone();
        let kill_at = kill_at.clone();
        let password = password.clone();
        let seed_host = seed_host.clone();
        tokio::task::spawn_blocking(move || -> Result<Vec<Write>, BoxError> {
            let mut c = redwhisk_actions::cluster::ClusterConn::connect(
                &seed_host,
                seed_port,
                &redwhisk_actions::Access::new(password.as_deref(), false, None),
            )?;
            c.set_retry_window(Duration::ZERO);
            let mut writes = Vec::new();
            let mut i: u64 = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("rw-failover:{i}");
                let slot = redwhisk_actions::cluster::slot(key.as_bytes());
                let victim = victim_slots
                    .iter()
                    .any(|(a, b)| (*a..=*b).contains(&u32::from(slot)));
                let mut cmd = redis::cmd("SET");
                cmd.arg(&key).arg(format!("v{i}"));
                let ok = c.query(&cmd).is_ok();
                let replicated = (wait && ok).then(|| {
                    c.wait_replicas(key.as_bytes(), 1, 100)
                        .is_ok_and(|n| n >= 1)
                });
                let now = Instant::now();
                let at_ms = match *kill_at.lock().unwrap_or_else(|e| e.into_inner()) {
                    Some(k) if now >= k => ms(now - k),
                    Some(k) => -ms(k - now),
                    None => f64::NAN,
                };
                writes.push(Write {
                    index: i,
                    at_ms,
                    victim,
                    ok,
                    replicated,
                });
                if !ok {
                    // Failures are instant on loopback: do not spin thousands per second.
                    std::thread::sleep(Duration::from_millis(2));
                }
                i += 1;
            }
            Ok(writes)
        })
    };
    let sleep_or_cancel = |d: Duration| {
        let cancel = cancel.clone();
        async move {
            tokio::select! {
                () = tokio::time::sleep(d) => false,
                () = cancel.cancelled() => true,
            }
        }
    };
    let mut cancelled = sleep_or_cancel(opts.kill_after).await;
    let mut killed = String::new();
    let mut promoted = None;
    let (mut promoted_ms, mut ok_ms) = (None, None);
    // Read back through a node that is still alive (node 0 is the one killed).
    let mut read_seed = (seed_host.clone(), seed_port);
    if !cancelled {
        let t_kill = Instant::now();
        *kill_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(t_kill);
        killed = host.crash_node(victim_node.index, sink).await?;
        sink.info(format!(
            "failover: killed master node {} ({killed})",
            victim_node.index
        ));
        let deadline = t_kill + opts.recover_limit;
        loop {
            let s = host.status().await?;
            let nodes = s.nodes.unwrap_or_default();
            let replica = nodes
                .iter()
                .find(|n| n.index != victim_node.index && n.serves_slot_0());
            if promoted_ms.is_none() && replica.is_some() {
                promoted_ms = Some(ms(t_kill.elapsed()));
                promoted = replica.map(|n| n.addr.clone());
                sink.info(format!(
                    "failover: {} promoted after {:.0} ms",
                    promoted.as_deref().unwrap_or("?"),
                    promoted_ms.unwrap_or_default()
                ));
            }
            if let Some(n) = nodes
                .iter()
                .find(|n| n.index != victim_node.index && n.state == "ok")
                && let Some((h, p)) = n.addr.rsplit_once(':')
                && let Ok(p) = p.parse::<u16>()
            {
                read_seed = (h.to_string(), p);
            }
            let live_ok = nodes
                .iter()
                .filter(|n| n.index != victim_node.index)
                .all(|n| n.state == "ok");
            if promoted_ms.is_some() && live_ok {
                ok_ms = Some(ms(t_kill.elapsed()));
                break;
            }
            if Instant::now() > deadline {
                sink.warn(format!(
                    "failover: the cluster did not recover within {} ms",
                    opts.recover_limit.as_millis()
                ));
                break;
            }
            if sleep_or_cancel(Duration::from_millis(20)).await {
                cancelled = true;
                break;
            }
        }
        if !cancelled {
            cancelled = sleep_or_cancel(opts.tail).await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let writes = writer
        .await
        .context("the failover writer panicked")?
        .context("failover writer")?;
    if cancelled {
        bail!("cancelled");
    }
    // Read every acknowledged write back (with retries: the cluster is whole again).
    let acked: Vec<&Write> = writes.iter().filter(|w| w.ok).collect();
    let keys: Vec<u64> = acked.iter().map(|w| w.index).collect();
    let (lost, lost_set) = {
        let password = password.clone();
        tokio::task::spawn_blocking(move || -> Result<(u64, Vec<u64>), BoxError> {
            let mut c = redwhisk_actions::cluster::ClusterConn::connect(
                &read_seed.0,
                read_seed.1,
                &redwhisk_actions::Access::new(password.as_deref(), false, None),
            )?;
            let mut lost = Vec::new();
            for chunk in keys.chunks(1000) {
                let cmds: Vec<redis::Cmd> = chunk
                    .iter()
                    .map(|i| {
                        let mut c = redis::cmd("GET");
                        c.arg(format!("rw-failover:{i}"));
                        c
                    })
                    .collect();
                let (replies, _) = c.pipeline(cmds)?;
                for (i, r) in chunk.iter().zip(replies) {
                    let want = format!("v{i}");
                    let good = matches!(r, Ok(redis::Value::BulkString(ref b)) if b.as_slice() == want.as_bytes());
                    if !good {
                        lost.push(*i);
                    }
                }
            }
            Ok((lost.len() as u64, lost))
        })
        .await
        .context("the read-back panicked")?
        .context("reading the writes back")?
    };
    let lost_replicated = acked
        .iter()
        .filter(|w| w.replicated == Some(true) && lost_set.binary_search(&w.index).is_ok())
        .count() as u64;
    let failed: Vec<&Write> = writes.iter().filter(|w| !w.ok).collect();
    // Writes already in flight when the kill lands may still succeed: the window runs from
    // the kill to the first write to the dead shard's slots that succeeds after one failed.
    let first_victim_failure = writes
        .iter()
        .position(|w| w.victim && !w.ok && w.at_ms >= 0.0);
    let unavailable_ms = first_victim_failure.and_then(|i| {
        writes[i..]
            .iter()
            .find(|w| w.victim && w.ok)
            .map(|w| w.at_ms)
    });
    let report = FailoverReport {
        profile: profile.name.clone(),
        backend: profile.redis.backend.label().into(),
        shards: cluster.shards,
        replicas: cluster.replicas,
        node_timeout_ms: u64::try_from(cluster.node_timeout.as_millis()).unwrap_or(u64::MAX),
        persistence: profile.redis.persistence.label(),
        wait: opts.wait,
        killed,
        promoted,
        writes: writes.len() as u64,
        acknowledged: acked.len() as u64,
        failed: failed.len() as u64,
        failed_elsewhere: failed.iter().filter(|w| !w.victim).count() as u64,
        first_failure_ms: failed.first().map(|w| w.at_ms),
        last_failure_ms: failed.last().map(|w| w.at_ms),
        unavailable_ms,
        promoted_ms,
        cluster_ok_ms: ok_ms,
        lost_acknowledged: lost,
        lost_replicated,
        replicated: opts
            .wait
            .then(|| acked.iter().filter(|w| w.replicated == Some(true)).count() as u64),
        recovered: ok_ms.is_some(),
        expected: EXPECTED.into(),
        results_dir: dir.to_path_buf(),
    };
    Ok(report)
}

/// The report as text.
pub fn failover_text(r: &FailoverReport) -> String {
    let f = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.0} ms"));
    let mut out = String::new();
    out.push_str(&format!(
        "redwhisk failover · profile {} · {} cluster, {} shards x {} replicas, cluster-node-timeout {} ms, {}{}\n",
        r.profile,
        r.backend,
        r.shards,
        r.replicas,
        r.node_timeout_ms,
        r.persistence,
        if r.wait { ", WAIT 1 after each write" } else { "" }
    ));
    out.push_str(&format!(
        "killed master {} (SIGKILL); {}\n",
        r.killed,
        match &r.promoted {
            Some(p) => format!("replica {p} promoted"),
            None => "no replica was promoted".into(),
        }
    ));
    out.push_str(&format!(
        "writes: {} sent, {} acknowledged, {} failed ({} of them on the healthy shards)\n",
        r.writes, r.acknowledged, r.failed, r.failed_elsewhere
    ));
    out.push_str(&format!(
        "after the kill: first failure {}, last failure {}, writes to the dead shard's slots back after {}\n",
        f(r.first_failure_ms),
        f(r.last_failure_ms),
        f(r.unavailable_ms)
    ));
    out.push_str(&format!(
        "replica promoted after {}, cluster ok again after {}\n",
        f(r.promoted_ms),
        f(r.cluster_ok_ms)
    ));
    out.push_str(&format!(
        "acknowledged writes lost: {}{}\n",
        r.lost_acknowledged,
        match r.replicated {
            Some(n) => format!(
                " ({n} confirmed on a replica by WAIT 1; of those lost: {})",
                r.lost_replicated
            ),
            None => String::new(),
        }
    ));
    out.push_str(&format!(
        "verdict: {}\n",
        if !r.recovered {
            "the cluster did NOT recover"
        } else if r.lost_replicated > 0 {
            "recovered, but writes WAIT had confirmed were lost (unexpected)"
        } else {
            "recovered, as expected"
        }
    ));
    out.push_str(&format!("expected: {}\n", r.expected));
    out.push_str(&format!("results: {}\n", r.results_dir.display()));
    out
}
