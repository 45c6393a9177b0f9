//! `[redis.cluster]`: a Redis Cluster of process or docker nodes, with the lifecycle of one
//! Redis (start, ready, save and stop, restart with the data in place).
//!
//! Each node is started exactly like a single Redis of its own (a per-node profile: data
//! directory `node-<i>` inside the profile's, its own state file, log, container and port), so
//! orphan reaping, readiness and the stop guarantees of the backends apply to every node. The
//! cluster is formed by redwhisk itself over RESP (ADDSLOTSRANGE, SET-CONFIG-EPOCH, MEET,
//! REPLICATE: what `redis-cli --cluster create` sends), never through a command line that would
//! show the password. A restart finds every node's `nodes.conf` and only waits for the cluster
//! to be `ok` again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde::{Deserialize, Serialize};

use super::ctx::{Ctx, Up};
use super::error::HostError;
use super::resp::Reply;
use super::types::Endpoint;
use super::{docker, ops, password, process, state};
use crate::model::redis::{ClusterStart, ColdStart, NodeStatus, StopMode, StopReport};
use crate::profile::{Backend, ClusterConfig, Profile};
use crate::stats::ms;

/// Redis Cluster's slot count.
pub const SLOTS: u32 = 16384;
/// Where the ports picked for a `port = 0` cluster are kept, so a restart finds its nodes at
/// the addresses their `nodes.conf` files record.
const PORTS_FILE: &str = "cluster-ports.json";
/// Node `i`'s directory inside the profile's data directory.
pub fn node_dir(data_dir: &Path, i: u16) -> PathBuf {
    data_dir.join(format!("node-{i}"))
}

#[derive(Debug, Serialize, Deserialize)]
struct PortsFile {
    ports: Vec<u16>,
}

/// The per-node profiles of a cluster profile: masters first, then the replicas of master 0,
/// master 1, … (`shards + m * replicas + j` is replica `j` of master `m`).
pub(crate) fn node_profiles(
    profile: &Profile,
    cluster: &ClusterConfig,
    ports: &[u16],
) -> Vec<Profile> {
    (0..cluster.nodes())
        .map(|i| profile.cluster_node(i, ports[usize::from(i)], cluster.node_timeout))
        .collect()
}

/// The nodes' ports: `redis.port + i`, or (port 0) the ports chosen at the first start, kept in
/// `cluster-ports.json`.
pub(crate) async fn ports(
    profile: &Profile,
    cluster: &ClusterConfig,
) -> Result<Vec<u16>, HostError> {
    if let Some(known) = known_ports(profile, cluster).await {
        return Ok(known);
    }
    let cfg = &profile.redis;
    let n = usize::from(cluster.nodes());
    let path = cfg.data_dir.join(PORTS_FILE);
    // Ports the OS hands out (so two clusters chosen at the same moment do not pick the same
    // ones), whose bus port (+10000) fits and is free too. The listeners are held until every
    // port is chosen, so none is picked twice.
    let mut chosen = Vec::with_capacity(n);
    let mut held = Vec::new();
    for _ in 0..1000 {
        if chosen.len() == n {
            break;
        }
        let Ok(l) = tokio::net::TcpListener::bind((cfg.bind, 0)).await else {
            continue;
        };
        let Ok(port) = l.local_addr().map(|a| a.port()) else {
            continue;
        };
        let Some(bus) = port.checked_add(10_000) else {
            continue;
        };
        if let Ok(b) = tokio::net::TcpListener::bind((cfg.bind, bus)).await {
            chosen.push(port);
            held.push((l, b));
        }
    }
    if chosen.len() < n {
        return Err(HostError::io(
            "<cluster ports>",
            std::io::Error::other(
                "no free port pairs (port, port+10000) found; set redis.port to a free base port",
            ),
        ));
    }
    drop(held);
    let text = serde_json::to_string(&PortsFile {
        ports: chosen.clone(),
    })
    .map_err(|e| HostError::io(&path, std::io::Error::other(e)))?;
    tokio::fs::write(&path, text)
        .await
        .map_err(|e| HostError::io(&path, e))?;
    Ok(chosen)
}

/// How long forming (or re-forming after a restart) may take.
fn form_limit(profile: &Profile, cluster: &ClusterConfig) -> Duration {
    profile
        .redis
        .ready_timeout
        .max(Duration::from_secs(30))
        .max(cluster.node_timeout * 3)
}

/// Start every node, then form the cluster (or wait for a restarted one to be `ok`).
pub(crate) async fn up(
    ctx: &Ctx<'_>,
    cluster: &ClusterConfig,
) -> Result<(Up, Vec<Option<tokio::process::Child>>), HostError> {
    let t0 = Instant::now();
    let ports = ports(ctx.profile, cluster).await?;
    let nodes = node_profiles(ctx.profile, cluster, &ports);
    for n in &nodes {
        password::ensure_data_dir(&n.redis.data_dir).await?;
    }
    let fresh_before: Vec<bool> = join_all(nodes.iter().map(|n| async {
        !tokio::fs::try_exists(n.redis.data_dir.join("nodes.conf"))
            .await
            .unwrap_or(false)
    }))
    .await;
    let started = join_all(nodes.iter().map(|n| start_node(ctx, n))).await;
    let mut ups = Vec::new();
    let mut failed = None;
    for (i, r) in started.into_iter().enumerate() {
        match r {
            Ok(up) => ups.push(Some(up)),
            Err(e) => {
                ups.push(None);
                if failed.is_none() {
                    failed = Some(HostError::ClusterNode {
                        node: node_label(&nodes[i], i),
                        cause: e.to_string(),
                    });
                }
            }
        }
    }
    if let Some(err) = failed {
        // Leave no half-started cluster behind.
        crash_all(
            ctx,
            &nodes,
            ups.iter_mut()
                .map(|u| u.as_mut().and_then(|u| u.child.take()))
                .collect(),
        )
        .await;
        return Err(err);
    }
    let ups: Vec<Up> = ups.into_iter().flatten().collect();
    let nodes_ms = ms(t0.elapsed());
    let endpoints: Vec<Endpoint> = ups.iter().map(|u| u.endpoint.clone()).collect();
    let t_form = Instant::now();
    let formed = form(ctx, cluster, &endpoints, fresh_before.iter().all(|f| *f)).await;
    let mut children: Vec<Option<tokio::process::Child>> = Vec::new();
    let mut colds = Vec::new();
    for mut u in ups {
        children.push(u.child.take());
        colds.push(u.cold);
    }
    let created = match formed {
        Ok(c) => c,
        Err(e) => {
            crash_all(ctx, &nodes, children).await;
            if fresh_before.iter().all(|f| *f) {
                // A cluster that never formed holds no data: forget the half-made membership
                // so the next start forms it from scratch instead of waiting on it.
                for n in &nodes {
                    let _absent = tokio::fs::remove_file(n.redis.data_dir.join("nodes.conf")).await;
                }
            }
            return Err(e);
        }
    };
    let form_ms = ms(t_form.elapsed());
    let mut keys = 0;
    for ep in endpoints.iter().take(usize::from(cluster.shards)) {
        keys += ops::info(ep, ctx.reply_limit())
            .await
            .map(|i| i.keys)
            .unwrap_or(0);
    }
    let adopted = colds.iter().all(Option::is_none);
    let max = |f: fn(&ColdStart) -> f64| colds.iter().flatten().map(f).fold(0.0, f64::max);
    let cold = (!adopted).then(|| ColdStart {
        backend: ctx.profile.redis.backend.label().into(),
        image_ms: max(|c| c.image_ms),
        create_ms: max(|c| c.create_ms),
        start_ms: max(|c| c.start_ms),
        ready_ms: max(|c| c.ready_ms),
        total_ms: ms(t0.elapsed()),
        keys_restored: keys,
        restore: None,
        cluster: Some(ClusterStart {
            nodes: cluster.nodes(),
            shards: cluster.shards,
            replicas: cluster.replicas,
            nodes_ms,
            form_ms,
            created,
        }),
        network_emulation: None,
    });
    Ok((
        Up {
            steps: Vec::new(),
            endpoint: endpoints[0].clone(),
            cold,
            child: None,
        },
        children,
    ))
}

fn node_label(n: &Profile, i: usize) -> String {
    format!(
        "node {i} ({}:{}, {})",
        n.redis.bind,
        n.redis.port,
        n.redis.data_dir.display()
    )
}

fn node_ctx<'a>(ctx: &Ctx<'a>, node: &'a Profile) -> Ctx<'a> {
    Ctx {
        profile: node,
        owner: ctx.owner,
        events: ctx.events,
        password: ctx.password.clone(),
        interrupt: ctx.interrupt.clone(),
    }
}

async fn start_node(ctx: &Ctx<'_>, node: &Profile) -> Result<Up, HostError> {
    let nctx = node_ctx(ctx, node);
    match &node.redis.backend {
        Backend::Process { server_bin } => process::up(&nctx, server_bin).await,
        Backend::Docker { .. } => docker::up(&nctx).await,
        Backend::External { .. } => Err(HostError::BadUrl(
            "an external Redis cannot be a cluster node redwhisk starts".into(),
        )),
    }
}

async fn stop_node(
    ctx: &Ctx<'_>,
    node: &Profile,
    mode: StopMode,
    child: Option<tokio::process::Child>,
) -> Result<StopReport, HostError> {
    let nctx = node_ctx(ctx, node);
    match &node.redis.backend {
        Backend::Process { .. } => process::down(&nctx, mode, child).await,
        Backend::Docker { .. } => docker::down(&nctx, mode).await,
        Backend::External { .. } => Ok(StopReport::nothing(mode)),
    }
}

async fn crash_all(ctx: &Ctx<'_>, nodes: &[Profile], children: Vec<Option<tokio::process::Child>>) {
    let mut children = children;
    children.resize_with(nodes.len(), || None);
    let stops = nodes
        .iter()
        .zip(children)
        .map(|(n, c)| stop_node(ctx, n, StopMode::Crash, c));
    for r in join_all(stops).await {
        if let Err(e) = r {
            ctx.events
                .warn(format!("cluster: cleaning up a failed start: {e}"));
        }
    }
}

/// Crash node `index` (SIGKILL or `docker kill`, no save), as a failure would; the others go
/// on. Returns the node's address.
pub(crate) async fn crash_node(
    ctx: &Ctx<'_>,
    cluster: &ClusterConfig,
    index: u16,
    child: Option<tokio::process::Child>,
) -> Result<String, HostError> {
    let ports = ports_recorded(ctx.profile, cluster).await;
    let nodes = node_profiles(ctx.profile, cluster, &ports);
    let node = nodes.get(usize::from(index)).ok_or_else(|| {
        HostError::ClusterUnhealthy(format!(
            "the cluster has {} nodes; there is no node {index}",
            nodes.len()
        ))
    })?;
    let report = stop_node(ctx, node, StopMode::Crash, child).await?;
    if !report.was_running {
        return Err(HostError::ClusterUnhealthy(format!(
            "node {index} ({}:{}) was not running",
            node.redis.bind, node.redis.port
        )));
    }
    Ok(format!("{}:{}", node.redis.bind, node.redis.port))
}

/// Stop every node (concurrently: a replica left running alone would start a failover).
pub(crate) async fn down(
    ctx: &Ctx<'_>,
    cluster: &ClusterConfig,
    mode: StopMode,
    children: Vec<Option<tokio::process::Child>>,
) -> Result<StopReport, HostError> {
    let t0 = Instant::now();
    let ports = ports_recorded(ctx.profile, cluster).await;
    let nodes = node_profiles(ctx.profile, cluster, &ports);
    let mut children = children;
    children.resize_with(nodes.len(), || None);
    let stops = nodes
        .iter()
        .zip(children)
        .map(|(n, c)| stop_node(ctx, n, mode, c));
    let mut report = StopReport::nothing(mode);
    let mut first_err = None;
    for (i, r) in join_all(stops).await.into_iter().enumerate() {
        match r {
            Ok(r) => {
                report.was_running |= r.was_running;
                report.shutdown_ms = report.shutdown_ms.max(r.shutdown_ms);
                report.remove_ms = report.remove_ms.max(r.remove_ms);
            }
            Err(e) => {
                if first_err.is_none() {
                    first_err = Some(HostError::ClusterNode {
                        node: node_label(&nodes[i], i),
                        cause: e.to_string(),
                    });
                }
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    report.total_ms = ms(t0.elapsed());
    Ok(report)
}

/// The nodes' ports when they are already known: `redis.port + i`, or those kept in
/// `cluster-ports.json` by an earlier start.
async fn known_ports(profile: &Profile, cluster: &ClusterConfig) -> Option<Vec<u16>> {
    if profile.redis.port != 0 {
        return Some(
            (0..cluster.nodes())
                .map(|i| profile.redis.port + i)
                .collect(),
        );
    }
    let text = tokio::fs::read_to_string(profile.redis.data_dir.join(PORTS_FILE))
        .await
        .ok()?;
    serde_json::from_str::<PortsFile>(&text)
        .ok()
        .map(|f| f.ports)
        .filter(|p| p.len() == usize::from(cluster.nodes()))
}

/// The ports to look for nodes on (stop and status create nothing): 0 for a cluster that never
/// started.
async fn ports_recorded(profile: &Profile, cluster: &ClusterConfig) -> Vec<u16> {
    known_ports(profile, cluster)
        .await
        .unwrap_or_else(|| vec![0; usize::from(cluster.nodes())])
}

/// Where this host reaches the node on `port`.
fn node_endpoint(ctx: &Ctx<'_>, port: u16) -> Endpoint {
    Endpoint {
        host: super::resp::connect_host(&ctx.profile.redis.bind.to_string()).to_string(),
        port,
        password: Some(ctx.password.clone()),
        tls: false,
        tls_ca: None,
        db: 0,
    }
}

/// One command on `ep`; an error reply is an error naming the command.
async fn call(ep: &Endpoint, limit: Duration, args: &[&[u8]]) -> Result<Reply, HostError> {
    let name = String::from_utf8_lossy(args.first().copied().unwrap_or_default()).into_owned()
        + args
            .get(1)
            .map(|a| format!(" {}", String::from_utf8_lossy(a)))
            .unwrap_or_default()
            .as_str();
    let mut conn = ops::connect_authed(ep, limit).await?;
    match conn
        .call(args)
        .await
        .map_err(|source| ops::net_error(ep, &name, source))?
    {
        Reply::Error(reply) => Err(HostError::Command {
            endpoint: ep.display_url(),
            command: name,
            reply,
        }),
        r => Ok(r),
    }
}

/// `CLUSTER INFO` as a map.
async fn cluster_info(
    ep: &Endpoint,
    limit: Duration,
) -> Result<HashMap<String, String>, HostError> {
    let text = call(ep, limit, &[b"CLUSTER", b"INFO"])
        .await?
        .text()
        .unwrap_or_default();
    Ok(parse_fields(&text))
}

fn parse_fields(text: &str) -> HashMap<String, String> {
    text.lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn num(info: &HashMap<String, String>, key: &str) -> u32 {
    info.get(key).and_then(|v| v.parse().ok()).unwrap_or(0)
}

/// The node says `cluster_state:ok` and every slot is served.
fn serves_every_slot(info: &HashMap<String, String>) -> bool {
    info.get("cluster_state").is_some_and(|s| s == "ok") && num(info, "cluster_slots_ok") == SLOTS
}

/// Every slot is served, the node says `ok`, and it knows all `nodes`.
fn is_ok(info: &HashMap<String, String>, nodes: u16) -> bool {
    serves_every_slot(info) && num(info, "cluster_known_nodes") == u32::from(nodes)
}

/// Form a fresh cluster, or wait for a restarted one to be `ok`. Returns whether it was
/// created now.
async fn form(
    ctx: &Ctx<'_>,
    cluster: &ClusterConfig,
    eps: &[Endpoint],
    all_fresh: bool,
) -> Result<bool, HostError> {
    let limit = ctx.reply_limit();
    let deadline = Instant::now() + form_limit(ctx.profile, cluster);
    let n = cluster.nodes();
    let mut infos = Vec::new();
    for ep in eps {
        infos.push(cluster_info(ep, limit).await?);
    }
    let blank = infos
        .iter()
        .all(|i| num(i, "cluster_known_nodes") <= 1 && num(i, "cluster_slots_assigned") == 0);
    let created = blank;
    if blank {
        if !all_fresh {
            ctx.events.warn(
                "cluster: nodes.conf files exist but hold no membership; forming the cluster again",
            );
        }
        create(ctx, cluster, eps, deadline).await?;
    } else {
        ctx.events.info(format!(
            "cluster: {n} nodes rejoined from their nodes.conf; waiting for cluster_state:ok"
        ));
    }
    // Every node agrees: all slots served, every node known.
    loop {
        let mut all_ok = true;
        let mut last = String::new();
        for (i, ep) in eps.iter().enumerate() {
            let info = cluster_info(ep, limit).await?;
            if !is_ok(&info, n) {
                all_ok = false;
                last = format!(
                    "node {i} ({}) says cluster_state:{}, slots ok {}, known nodes {}",
                    ep.port,
                    info.get("cluster_state").map_or("?", String::as_str),
                    num(&info, "cluster_slots_ok"),
                    num(&info, "cluster_known_nodes"),
                );
                break;
            }
        }
        if all_ok && replicas_linked(cluster, eps, limit).await? {
            return Ok(created);
        }
        if Instant::now() > deadline {
            return Err(HostError::ClusterForm {
                cause: if last.is_empty() {
                    "the replicas did not finish their first sync with their masters".into()
                } else {
                    last
                },
                waited_ms: u64::try_from(form_limit(ctx.profile, cluster).as_millis())
                    .unwrap_or(u64::MAX),
            });
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every replica has finished its sync (`master_link_status:up`), and every node's view
/// (`CLUSTER NODES`) already shows every replica as one: a master must know the replicas that
/// would vote for a failover, and `redis status` asks any node.
async fn replicas_linked(
    cluster: &ClusterConfig,
    eps: &[Endpoint],
    limit: Duration,
) -> Result<bool, HostError> {
    let want = usize::from(cluster.shards) * usize::from(cluster.replicas);
    for ep in eps {
        let table = call(ep, limit, &[b"CLUSTER", b"NODES"])
            .await?
            .text()
            .unwrap_or_default();
        let seen = table
            .lines()
            .filter(|l| {
                l.split_whitespace()
                    .nth(2)
                    .is_some_and(|f| f.contains("slave"))
            })
            .count();
        if seen != want {
            return Ok(false);
        }
    }
    for ep in eps.iter().skip(usize::from(cluster.shards)) {
        let text = call(ep, limit, &[b"INFO", b"replication"])
            .await?
            .text()
            .unwrap_or_default();
        let f = parse_fields(&text);
        if f.get("role").is_some_and(|r| r == "slave")
            && f.get("master_link_status").is_none_or(|s| s != "up")
        {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The slot range master `m` of `shards` serves.
pub fn slot_range(m: u16, shards: u16) -> (u32, u32) {
    let s = u32::from(shards);
    let m = u32::from(m);
    (m * SLOTS / s, (m + 1) * SLOTS / s - 1)
}

/// What `redis-cli --cluster create` does: slots to the masters, distinct config epochs, MEET
/// everyone, then each replica REPLICATEs its master once it knows it.
async fn create(
    ctx: &Ctx<'_>,
    cluster: &ClusterConfig,
    eps: &[Endpoint],
    deadline: Instant,
) -> Result<(), HostError> {
    let limit = ctx.reply_limit();
    let mut ids = Vec::new();
    for ep in eps {
        ids.push(
            call(ep, limit, &[b"CLUSTER", b"MYID"])
                .await?
                .text()
                .unwrap_or_default(),
        );
    }
    for m in 0..cluster.shards {
        let (a, b) = slot_range(m, cluster.shards);
        let (a, b) = (a.to_string(), b.to_string());
        call(
            &eps[usize::from(m)],
            limit,
            &[b"CLUSTER", b"ADDSLOTSRANGE", a.as_bytes(), b.as_bytes()],
        )
        .await?;
    }
    for (i, ep) in eps.iter().enumerate() {
        let epoch = (i + 1).to_string();
        call(
            ep,
            limit,
            &[b"CLUSTER", b"SET-CONFIG-EPOCH", epoch.as_bytes()],
        )
        .await?;
    }
    let first = &eps[0];
    let port = first.port.to_string();
    for ep in eps.iter().skip(1) {
        call(
            ep,
            limit,
            &[b"CLUSTER", b"MEET", first.host.as_bytes(), port.as_bytes()],
        )
        .await?;
    }
    let n = u32::from(cluster.nodes());
    for (r, ep) in eps.iter().enumerate().skip(usize::from(cluster.shards)) {
        let m = (r - usize::from(cluster.shards)) / usize::from(cluster.replicas.max(1));
        loop {
            let known = cluster_info(ep, limit)
                .await?
                .get("cluster_known_nodes")
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0);
            if known == n {
                match call(ep, limit, &[b"CLUSTER", b"REPLICATE", ids[m].as_bytes()]).await {
                    Ok(_) => break,
                    // The master is known by id only once gossip carried it here.
                    Err(HostError::Command { reply, .. }) if reply.contains("Unknown node") => {}
                    Err(e) => return Err(e),
                }
            }
            if Instant::now() > deadline {
                return Err(HostError::ClusterForm {
                    cause: format!(
                        "node {r} ({}) never learnt of its master, node {m}",
                        ep.port
                    ),
                    waited_ms: 0,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    Ok(())
}

/// The nodes that do not answer PING, as `node i (host:port)`.
pub(crate) async fn silent_nodes(ctx: &Ctx<'_>, cluster: &ClusterConfig) -> Vec<String> {
    let limit = ctx.reply_limit();
    let eps: Vec<Endpoint> = ports_recorded(ctx.profile, cluster)
        .await
        .into_iter()
        .map(|port| node_endpoint(ctx, port))
        .collect();
    let pings = join_all(eps.iter().map(|ep| ops::ping(ep, limit))).await;
    eps.iter()
        .zip(pings)
        .enumerate()
        .filter(|(_, (_, ping))| ping.is_err())
        .map(|(i, (ep, _))| format!("node {i} ({}:{})", ep.host, ep.port))
        .collect()
}

/// The first node that answers says `cluster_state:ok` with every slot served.
pub(crate) async fn serving(ctx: &Ctx<'_>, cluster: &ClusterConfig) -> bool {
    for port in ports_recorded(ctx.profile, cluster).await {
        if let Ok(info) = cluster_info(&node_endpoint(ctx, port), ctx.reply_limit()).await {
            return serves_every_slot(&info);
        }
    }
    false
}

/// An external Redis said to be a cluster (`[redis.cluster]` on an external profile) must be
/// one, and healthy, before functions are pointed at it.
pub(crate) async fn check_external(ep: &Endpoint, limit: Duration) -> Result<(), HostError> {
    let info = match cluster_info(ep, limit).await {
        Ok(i) => i,
        Err(HostError::Command { reply, .. }) => {
            return Err(HostError::ClusterUnhealthy(format!(
                "{} is not a cluster node ({reply}); remove [redis.cluster] from the profile, or give a node of the cluster as redis.url",
                ep.display_url()
            )));
        }
        Err(e) => return Err(e),
    };
    let state = info.get("cluster_state").map_or("?", String::as_str);
    if state != "ok" {
        return Err(HostError::ClusterUnhealthy(format!(
            "the external cluster at {} says cluster_state:{state} (slots ok: {}); wait for it to recover or fix it before running functions against it",
            ep.display_url(),
            info.get("cluster_slots_ok").map_or("?", String::as_str)
        )));
    }
    Ok(())
}

/// Each node's role, slots and state, from `CLUSTER NODES` of the first node that answers and
/// from each node's own INFO.
pub(crate) async fn status(
    ctx: &Ctx<'_>,
    cluster: &ClusterConfig,
) -> Result<Vec<NodeStatus>, HostError> {
    let ports = ports_recorded(ctx.profile, cluster).await;
    let nodes = node_profiles(ctx.profile, cluster, &ports);
    let limit = ctx.reply_limit();
    let mut out = Vec::new();
    let mut table: Option<String> = None;
    for (i, n) in nodes.iter().enumerate() {
        let ep = node_endpoint(ctx, n.redis.port);
        let addr = format!("{}:{}", ep.host, ep.port);
        let running = n.redis.port != 0 && state::read(&n.redis.data_dir).await?.is_some();
        let mut s = NodeStatus {
            index: u16::try_from(i).unwrap_or(u16::MAX),
            addr,
            port: ep.port,
            role: "down".into(),
            slots: String::new(),
            master: None,
            keys: None,
            state: if running {
                "not answering".into()
            } else {
                "stopped".into()
            },
        };
        if running && let Ok(info) = cluster_info(&ep, limit).await {
            s.state = info.get("cluster_state").cloned().unwrap_or_default();
            s.keys = ops::info(&ep, limit).await.ok().map(|i| i.keys);
            if table.is_none() {
                table = call(&ep, limit, &[b"CLUSTER", b"NODES"])
                    .await
                    .ok()
                    .and_then(|r| r.text());
            }
            s.role = "?".into();
        }
        out.push(s);
    }
    if let Some(t) = table {
        apply_nodes_table(&t, &mut out);
    }
    Ok(out)
}

/// Fill role, slots and master from `CLUSTER NODES` (`id addr flags master ping pong epoch
/// link slot…`).
fn apply_nodes_table(table: &str, out: &mut [NodeStatus]) {
    let mut addr_of_id = HashMap::new();
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    for r in &rows {
        if r.len() >= 2 {
            let addr = r[1].split('@').next().unwrap_or_default().to_string();
            addr_of_id.insert(r[0].to_string(), addr);
        }
    }
    for r in rows.iter().filter(|r| r.len() >= 8) {
        let addr = r[1].split('@').next().unwrap_or_default();
        let Some(s) = out.iter_mut().find(|s| s.addr == addr) else {
            continue;
        };
        if s.role == "down" {
            continue;
        }
        let flags = r[2];
        s.role = if flags.contains("master") {
            "master".into()
        } else if flags.contains("slave") {
            "replica".into()
        } else {
            flags.to_string()
        };
        if flags.contains("fail") && !flags.contains("pfail") {
            s.state = "fail".into();
        }
        s.slots = r[8..].join(",");
        s.master = addr_of_id.get(r[3]).cloned();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_split_evenly_and_cover_everything() {
        assert_eq!(slot_range(0, 1), (0, 16383));
        assert_eq!(slot_range(0, 3), (0, 5460));
        assert_eq!(slot_range(1, 3), (5461, 10921));
        assert_eq!(slot_range(2, 3), (10922, 16383));
        for shards in 1..=7 {
            let mut next = 0;
            for m in 0..shards {
                let (a, b) = slot_range(m, shards);
                assert_eq!(a, next);
                next = b + 1;
            }
            assert_eq!(next, SLOTS);
        }
    }

    #[test]
    fn the_nodes_table_gives_roles_slots_and_masters() {
        let mut out: Vec<NodeStatus> = ["127.0.0.1:7000", "127.0.0.1:7001", "127.0.0.1:7002"]
            .iter()
            .enumerate()
            .map(|(i, a)| NodeStatus {
                index: i as u16,
                addr: (*a).into(),
                port: 7000 + i as u16,
                role: "?".into(),
                slots: String::new(),
                master: None,
                keys: None,
                state: "ok".into(),
            })
            .collect();
        out[2].role = "down".into();
        let t = "a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191\n\
                 b2 127.0.0.1:7001@17001 slave a1 0 5 1 connected\n\
                 c3 127.0.0.1:7002@17002 master,fail - 0 5 3 disconnected 8192-16383\n";
        apply_nodes_table(t, &mut out);
        assert_eq!(
            (out[0].role.as_str(), out[0].slots.as_str()),
            ("master", "0-8191")
        );
        assert_eq!(out[1].role, "replica");
        assert_eq!(out[1].master.as_deref(), Some("127.0.0.1:7000"));
        assert_eq!(
            out[2].role, "down",
            "a node that does not answer stays down"
        );
    }
}
