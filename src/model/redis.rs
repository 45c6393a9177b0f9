//! Plain data about a Redis host (its state, cold start, stop, status), shared with the
//! engine, the reports and the console.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::snapshot::{RestoreReport, UploadOutcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RedisState {
    Stopped,
    Starting,
    Running,
    Stopping,
    Failed,
}

impl RedisState {
    pub fn label(self) -> &'static str {
        match self {
            RedisState::Stopped => "stopped",
            RedisState::Starting => "starting",
            RedisState::Running => "running",
            RedisState::Stopping => "stopping",
            RedisState::Failed => "failed",
        }
    }
}

/// The cold-start breakdown, each step in milliseconds. For a process, `create` is 0 and
/// `start` is the spawn; for docker, `create` includes ensuring the image.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ColdStart {
    pub backend: String,
    pub image_ms: f64,
    pub create_ms: f64,
    pub start_ms: f64,
    pub ready_ms: f64,
    pub total_ms: f64,
    /// Keys present once ready (restored from RDB/AOF).
    pub keys_restored: u64,
    /// The snapshot downloaded and verified before the start (included in `total_ms`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restore: Option<RestoreReport>,
    /// A cluster's start: the node steps above are the slowest node's; forming comes after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterStart>,
    /// `[redis.network_emulation]`: the path the functions took and the RTT measured through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_emulation: Option<super::network::NetworkRecord>,
}

impl ColdStart {
    /// Where the keys came from: `1000 keys restored from snapshot ID` only when a snapshot
    /// was downloaded for this start; `… keys loaded from local data` otherwise.
    pub fn keys_origin(&self) -> String {
        match &self.restore {
            Some(r) => format!(
                "{} keys restored from snapshot {}",
                self.keys_restored, r.id
            ),
            None if self.keys_restored == 0 => "0 keys loaded: none on disk".to_string(),
            None => format!("{} keys loaded from local data", self.keys_restored),
        }
    }
}

impl ClusterStart {
    /// `cluster: 6 nodes (3 shards x 1 replicas) up in … ms, formed in … ms`.
    pub fn summary(&self) -> String {
        format!(
            "cluster: {} nodes ({} shards x {} replicas) up in {:.1} ms, {} in {:.1} ms",
            self.nodes,
            self.shards,
            self.replicas,
            self.nodes_ms,
            if self.created {
                "formed"
            } else {
                "rejoined from nodes.conf"
            },
            self.form_ms
        )
    }
}

/// How a Redis Cluster came up.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ClusterStart {
    pub nodes: u16,
    pub shards: u16,
    pub replicas: u16,
    /// Every node started and answering PING (in parallel).
    pub nodes_ms: f64,
    /// Cluster formed (or rejoined) until every node says `cluster_state:ok`, every slot is
    /// served and every replica has synced.
    pub form_ms: f64,
    /// `true`: formed now; `false`: the nodes rejoined from their `nodes.conf`.
    pub created: bool,
}

/// How to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StopMode {
    /// `SHUTDOWN SAVE` (`NOSAVE` for persistence = none), then wait for exit.
    Graceful,
    /// SIGKILL of the process or container: no save.
    Crash,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct StopReport {
    pub mode: StopMode,
    /// `false` when there was nothing to stop (stop is safe to repeat).
    pub was_running: bool,
    pub shutdown_ms: f64,
    pub remove_ms: f64,
    pub total_ms: f64,
    /// The snapshot uploaded after a graceful stop (profiles with `[snapshots]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<UploadOutcome>,
}

impl StopReport {
    /// Nothing was running: stop is safe to repeat.
    pub fn nothing(mode: StopMode) -> Self {
        Self {
            mode,
            was_running: false,
            shutdown_ms: 0.0,
            remove_ms: 0.0,
            total_ms: 0.0,
            snapshot: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RedisStatus {
    pub profile: String,
    pub backend: String,
    pub state: RedisState,
    /// Display URL without the password.
    pub endpoint: Option<String>,
    /// The port of `endpoint` (a cluster: its first node's), typed.
    #[serde(skip)]
    pub port: Option<u16>,
    pub image: Option<String>,
    pub container: Option<String>,
    pub pid: Option<u32>,
    pub uptime_s: Option<u64>,
    pub keys: Option<u64>,
    pub used_memory: Option<u64>,
    pub persistence: String,
    pub last_save: Option<DateTime<Utc>>,
    pub data_dir: Option<String>,
    /// `redis_version` from INFO, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redis_version: Option<String>,
    /// Why the state is `failed` (e.g. "stopped answering: no reply in 3000 ms").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// A cluster's nodes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nodes: Option<Vec<NodeStatus>>,
}

/// One node as the status and the console show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    pub index: u16,
    pub addr: String,
    /// The port of `addr`, typed.
    #[serde(skip)]
    pub port: u16,
    /// `master`, `replica`, or `down` when it does not answer.
    pub role: String,
    /// Slot ranges served (masters), e.g. `0-5460`.
    pub slots: String,
    /// The master's address (replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    pub keys: Option<u64>,
    /// `ok`, `fail`, or why it could not be asked.
    pub state: String,
}

impl NodeStatus {
    /// The slot ranges it serves: `0-5460,5461` → `[(0, 5460), (5461, 5461)]`.
    pub fn slot_ranges(&self) -> Vec<(u32, u32)> {
        self.slots
            .split(',')
            .filter_map(|r| {
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
            })
            .collect()
    }

    /// How many slots it serves.
    pub fn slot_count(&self) -> u32 {
        self.slot_ranges().iter().map(|(a, b)| b + 1 - a).sum()
    }

    /// It is a master serving slot 0.
    pub fn serves_slot_0(&self) -> bool {
        self.role == "master" && self.slot_ranges().iter().any(|(a, _)| *a == 0)
    }
}
