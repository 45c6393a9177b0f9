//! The validated profile: plain types, read-only once made (variants are derived, see
//! `Profile::with_data_dir` and its siblings in `profile/mod.rs`).

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::error::millis;
use crate::model::{Mode, SnapshotId};
use crate::secret::Secret;
pub use crate::stats::ArrivalKind;

/// A validated profile.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub name: String,
    pub description: String,
    /// The file it came from; `None` for the embedded default.
    pub source: Option<PathBuf>,
    /// How messages name where it came from (the path, or `<embedded local.toml>`).
    #[serde(skip)]
    pub origin: String,
    pub redis: RedisConfig,
    pub platform: PlatformConfig,
    pub workload: Workload,
    /// `[snapshots]`: S3-compatible snapshots of the data (none when the section is absent).
    pub snapshots: Option<SnapshotConfig>,
    /// The scale-to-zero gateway (`redwhisk gateway`).
    pub gateway: GatewayConfig,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedisConfig {
    pub backend: Backend,
    /// Address Redis listens on (process and docker backends).
    pub bind: IpAddr,
    /// 0 means: pick a free port at start.
    pub port: u16,
    /// `None`: generated per profile and stored 0600 next to the data.
    pub password: Option<Secret>,
    pub persistence: Persistence,
    /// Per-profile data directory; survives the container and is restored on the next start.
    pub data_dir: PathBuf,
    #[serde(with = "millis")]
    pub ready_timeout: Duration,
    /// How long a final save (`SHUTDOWN`) may go without progress (the process stopped, or
    /// neither its CPU time nor its RDB/AOF files growing) before Redis is named frozen and
    /// left as it is.
    #[serde(with = "millis")]
    pub stop_timeout: Duration,
    /// `[redis.cluster]`: start a Redis Cluster of `shards` masters with `replicas` each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterConfig>,
    /// Set on the per-node profiles a cluster is started from (never in a profile file): the
    /// server runs with `cluster-enabled yes`.
    #[serde(skip)]
    pub cluster_node: Option<Duration>,
    /// `[redis.network_emulation]`: the functions reach Redis through a path with this RTT,
    /// jitter and rate (redwhisk's own control connections go direct).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_emulation: Option<super::netem::NetworkEmulation>,
    /// An external `rediss://` Redis: the PEM file of CA certificates its certificate is
    /// verified against besides the Mozilla roots (`redis.tls_ca_file`, else the
    /// [`TLS_CA_FILE_ENV`] variable). Given to the actions as PEM text in their parameters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_ca_file: Option<PathBuf>,
}

/// The environment variable naming a CA file when the profile sets no `redis.tls_ca_file`.
pub const TLS_CA_FILE_ENV: &str = "REDWHISK_REDIS_CA_FILE";

/// `[redis.cluster]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClusterConfig {
    /// Masters; the 16384 slots are split evenly between them (0 for an external cluster,
    /// whose shape is its own).
    pub shards: u16,
    /// Replicas per master.
    pub replicas: u16,
    /// `cluster-node-timeout`: how long a master may be unreachable before a replica takes over.
    #[serde(with = "millis")]
    pub node_timeout: Duration,
}

impl ClusterConfig {
    /// Every node: masters first, then the replicas.
    pub fn nodes(&self) -> u16 {
        self.shards * (1 + self.replicas)
    }
}

impl RedisConfig {
    /// The Redis is a cluster (one redwhisk starts, or an external one).
    pub fn is_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// The backend and, for a cluster, its shape: `process`, `docker 3x1`, `external cluster`.
    pub fn shape_label(&self) -> String {
        match (&self.backend, self.cluster) {
            (_, None) => self.backend.label().to_string(),
            (Backend::External { .. }, Some(_)) => "external cluster".into(),
            (b, Some(c)) => format!("{} {}x{}", b.label(), c.shards, c.replicas),
        }
    }

    /// The cluster redwhisk starts and stops (`None` for one Redis and for an external cluster).
    pub fn owned_cluster(&self) -> Option<ClusterConfig> {
        match self.backend {
            Backend::External { .. } => None,
            _ => self.cluster,
        }
    }

    /// The `redis-server` arguments of this configuration: persistence, and the cluster mode of
    /// a cluster node.
    pub fn server_args(&self) -> Vec<String> {
        let mut args = self.persistence.server_args();
        if let Some(timeout) = self.cluster_node {
            args.extend([
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                "nodes.conf".into(),
                "--cluster-node-timeout".into(),
                timeout.as_millis().to_string(),
                // A replica's first sync starts at once (Redis 7 waits 5 s for more replicas).
                "--repl-diskless-sync-delay".into(),
                "0".into(),
            ]);
        }
        args
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Backend {
    Process {
        server_bin: String,
    },
    Docker {
        image: String,
        network: DockerNetwork,
        keep_container: bool,
        container_name: String,
        /// Pull the image when it is not present locally.
        pull: bool,
    },
    External {
        /// `redis://` or `rediss://`, with any password removed (it lives in `RedisConfig::password`).
        url: String,
        /// An external cluster's other nodes (`[redis.cluster] seeds`), tried in order when
        /// `url` does not answer.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        seeds: Vec<String>,
    },
}

impl Backend {
    pub fn label(&self) -> &'static str {
        match self {
            Backend::Process { .. } => "process",
            Backend::Docker { .. } => "docker",
            Backend::External { .. } => "external",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DockerNetwork {
    Host,
    Bridge,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Persistence {
    None,
    Rdb { save: Vec<SavePoint> },
    Aof { appendfsync: AppendFsync },
}

impl Persistence {
    pub fn label(&self) -> String {
        match self {
            Persistence::None => "none".into(),
            Persistence::Rdb { .. } => "rdb".into(),
            Persistence::Aof { appendfsync } => format!("aof-{}", appendfsync.as_str()),
        }
    }

    /// The `redis-server` arguments that configure this mode.
    pub fn server_args(&self) -> Vec<String> {
        match self {
            Persistence::None => vec![
                "--save".into(),
                "".into(),
                "--appendonly".into(),
                "no".into(),
            ],
            Persistence::Rdb { save } => {
                let points = save
                    .iter()
                    .map(|p| format!("{} {}", p.seconds, p.changes))
                    .collect::<Vec<_>>()
                    .join(" ");
                vec!["--save".into(), points, "--appendonly".into(), "no".into()]
            }
            Persistence::Aof { appendfsync } => vec![
                "--save".into(),
                "".into(),
                "--appendonly".into(),
                "yes".into(),
                "--appendfsync".into(),
                appendfsync.as_str().into(),
            ],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SavePoint {
    pub seconds: u64,
    pub changes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AppendFsync {
    Everysec,
    Always,
}

impl AppendFsync {
    pub fn as_str(self) -> &'static str {
        match self {
            AppendFsync::Everysec => "everysec",
            AppendFsync::Always => "always",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PlatformConfig {
    /// The embedded platform: native actions run as local processes.
    Local(LocalConfig),
    OpenWhisk(OpenWhiskConfig),
    /// AWS Lambda, or the local Lambda emulator (boxed: it is the largest).
    Lambda(Box<super::lambda::LambdaConfig>),
}

/// `[platform] kind = "local"`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LocalConfig {
    /// Keep each action's process between activations (OpenWhisk's ActionLoop protocol), the
    /// way OpenWhisk keeps an action's container warm: the first activation on a process is a
    /// cold start (`initTime`), the next ones are warm. `false`: a new process per activation.
    pub keep_warm: bool,
}

impl PlatformConfig {
    pub fn label(&self) -> &'static str {
        match self {
            PlatformConfig::Local(_) => "local",
            PlatformConfig::OpenWhisk(_) => "openwhisk",
            PlatformConfig::Lambda(_) => "lambda",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct OpenWhiskConfig {
    /// From the profile; `None` means: `WHISK_APIHOST`, then `~/.wskprops`.
    pub apihost: Option<String>,
    /// From the profile; `None` means: `WHISK_AUTH`, then `~/.wskprops`.
    pub auth: Option<Secret>,
    pub namespace: String,
    pub insecure: bool,
    pub action_name: String,
    pub action_kind: ActionKind,
    /// The Node.js runtime kind for the Node.js variant, e.g. `nodejs:20`.
    pub nodejs_kind: String,
    pub memory_mb: u32,
    /// The Redis host the actions are told to use (the bind address when it is not given).
    pub redis_host_for_actions: Option<String>,
    #[serde(with = "millis")]
    pub poll_deadline: Duration,
    /// Real blocking responses carry `"logs": []` (OpenWhisk collects logs after sending the
    /// result): when set, each activation's logs are fetched with one more request, whose time
    /// is kept apart from the client latency.
    pub fetch_logs: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Native,
    Nodejs,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    /// Which action: `bench` (case study 1).
    pub action: String,
    pub invocations: u32,
    pub concurrency: u32,
    pub records: u32,
    pub value_size: u32,
    pub mode: Mode,
    pub key_prefix: String,
    pub seed: Option<u64>,
    /// Per-invocation timeout (also the OpenWhisk action time limit).
    #[serde(with = "millis")]
    pub timeout: Duration,
    /// Open loop (`workload.rate`): invocations start on a schedule instead of when one ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open: Option<OpenLoop>,
}

/// An open-loop workload: `invocations` arrivals at `rate` per second.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct OpenLoop {
    pub rate: f64,
    pub arrivals: ArrivalKind,
    pub max_in_flight: u32,
    /// The Poisson schedule's seed (`workload.seed`, or a fixed default).
    pub seed: u64,
}

/// Command-line values that win over the profile.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub invocations: Option<u32>,
    pub concurrency: Option<u32>,
    pub records: Option<u32>,
    pub value_size: Option<u32>,
    pub mode: Option<Mode>,
    /// Open loop: `--rate`, `--arrivals`, `--max-in-flight`, and `--duration` (which sets the
    /// invocations to rate × duration).
    pub rate: Option<f64>,
    pub arrivals: Option<ArrivalKind>,
    pub max_in_flight: Option<u32>,
    pub duration: Option<Duration>,
    /// The console's workload editor: Redis persistence and the platform for the next runs.
    pub persistence: Option<crate::model::workload::PersistenceChoice>,
    pub platform: Option<crate::model::workload::PlatformChoice>,
}

/// The validated section (see docs/gateway.md).
#[derive(Debug, Clone, Serialize)]
pub struct GatewayConfig {
    /// Where clients connect; port 0 picks a free port at start.
    pub listen: SocketAddr,
    /// With no open client connection for this long, Redis is saved and stopped.
    #[serde(with = "super::millis")]
    pub idle: Duration,
    /// A wake that takes longer fails every waiting client with a RESP error.
    #[serde(with = "super::millis")]
    pub wake_timeout: Duration,
    /// Clients that may wait for a wake; more get a RESP error at once.
    pub max_pending: u32,
    /// Open client connections while Redis is awake; more get a RESP error at once.
    pub max_connections: u32,
    /// A connection that sends no byte for this long after connecting is closed; until its
    /// first byte it neither wakes Redis nor keeps it awake.
    #[serde(with = "super::millis")]
    pub handshake_timeout: Duration,
    /// Like Redis's `timeout`: a client connection with no traffic either way for this long is
    /// closed, except one that subscribed (Pub/Sub) or waits for a reply (e.g. BLPOP). `None`
    /// (0 in the file): never.
    pub client_idle_timeout: Option<Duration>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            idle: Duration::from_secs(30),
            wake_timeout: Duration::from_secs(30),
            max_pending: 1024,
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            client_idle_timeout: None,
        }
    }
}

/// What to restore when a Redis host starts with an empty data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "id")]
pub enum RestorePolicy {
    /// The newest complete snapshot (the default).
    Latest,
    /// Never restore: an empty data directory starts empty.
    None,
    /// This snapshot.
    Id(SnapshotId),
}

impl RestorePolicy {
    pub fn label(&self) -> String {
        match self {
            RestorePolicy::Latest => "latest".into(),
            RestorePolicy::None => "none".into(),
            RestorePolicy::Id(id) => id.to_string(),
        }
    }
}

/// A validated `[snapshots]` section. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapshotConfig {
    /// As written, for messages: `s3://bucket/prefix`.
    pub url: String,
    pub bucket: String,
    /// Without leading or trailing `/`; may be empty.
    pub prefix: String,
    /// An S3-compatible endpoint; `None`: `AWS_ENDPOINT_URL`, the AWS config file, or AWS itself.
    pub endpoint: Option<String>,
    /// `None`: `AWS_REGION`, `AWS_DEFAULT_REGION`, the AWS config file, else `us-east-1`.
    pub region: Option<String>,
    /// Allow `http://` endpoints (local test servers only).
    pub allow_http: bool,
    /// Path-style addressing; `None`: virtual-hosted on AWS, path style elsewhere.
    pub path_style: Option<bool>,
    /// How many complete snapshots to retain (the newest).
    pub keep: u32,
    /// Upload a snapshot after every graceful stop.
    pub on_stop: bool,
    pub restore: RestorePolicy,
}
