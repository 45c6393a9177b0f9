//! Plain data about a Redis host, shared with the engine, the reports and the TUI.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::error::HostError;
use super::node::NodeStatus;
use crate::secret::Secret;

/// Where clients connect. The password is a [`Secret`].
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub password: Option<Secret>,
    pub tls: bool,
    pub db: i64,
}

impl Endpoint {
    /// `redis://host:port/db` without the password, for display.
    pub fn display_url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{host}:{}/{}", self.port, self.db)
    }

    /// Connection info for the redis crate (carries the password), plain TCP only: the redis
    /// crate is built without TLS, and `rediss://` servers (external ones only) are reached
    /// through redwhisk's own client (`tls.rs`, tested against `redis-server --tls-port`).
    /// A TLS endpoint is refused here rather than failing later inside the crate.
    pub fn connection_info(&self) -> Result<redis::ConnectionInfo, HostError> {
        if self.tls {
            return Err(HostError::BadUrl(format!(
                "{}: this command reaches Redis through the redis crate, which redwhisk builds \
                 without TLS; use a process or docker profile (TLS is supported for \
                 `redis up`/`status`/`down` of an external Redis)",
                self.display_url()
            )));
        }
        let mut redis_info = redis::RedisConnectionInfo::default().set_db(self.db);
        if let Some(p) = &self.password {
            redis_info = redis_info.set_password(p.expose());
        }
        redis::IntoConnectionInfo::into_connection_info(redis::ConnectionAddr::Tcp(
            self.host.clone(),
            self.port,
        ))
        .map(|ci| ci.set_redis_settings(redis_info))
        .map_err(|e| HostError::BadUrl(format!("{}: {e}", self.display_url())))
    }
}

#[cfg(test)]
mod connection_info_tests {
    use super::*;

    fn ep(tls: bool) -> Endpoint {
        Endpoint {
            host: "127.0.0.1".into(),
            port: 6390,
            password: Some(Secret::new("pw-not-shown".to_string())),
            tls,
            db: 2,
        }
    }

    #[test]
    fn plain_endpoints_convert_and_tls_ones_are_refused_with_a_reason() {
        let ci = ep(false).connection_info().unwrap();
        assert_eq!(ci.addr().to_string(), "127.0.0.1:6390");
        let err = ep(true).connection_info().unwrap_err().to_string();
        assert!(err.contains("rediss://127.0.0.1:6390/2"), "{err}");
        assert!(err.contains("without TLS"), "{err}");
        assert!(!err.contains("pw-not-shown"), "{err}");
    }
}

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
    pub restore: Option<crate::snapshots::RestoreReport>,
    /// A cluster's start: the node steps above are the slowest node's; forming comes after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterStart>,
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
    pub snapshot: Option<crate::snapshots::UploadOutcome>,
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
