//! Profiles: TOML files read as a [`raw::RawProfile`], then validated into a [`Profile`].
//!
//! Errors name the file, the line and what to fix. Command-line overrides are applied last
//! with [`Overrides::apply`].

mod discover;
mod gateway;
pub mod raw;
pub mod snapshots;
mod validate;

pub use crate::model::Mode;
pub use discover::{ProfileEntry, default_profile, find_profile, list_profiles, user_profile_dir};
pub use gateway::GatewayConfig;
pub use validate::{Limit, VALUE_SIZE, data_home};
use validate::{check_workload, syntax_error, validate};

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::secret::Secret;
use raw::RawProfile;

/// The profile compiled into the binary, used when no file is given and none is found.
pub const EMBEDDED_DEFAULT: &str = include_str!("../../profiles/local.toml");

/// Why a profile could not be used. `Display` is the whole message shown to the user.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}: cannot read profile: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {field}: {message}")]
    Invalid {
        file: String,
        field: String,
        message: String,
    },
    /// A command-line value out of range (the flag is the culprit, not the profile).
    #[error("{flag}: {message}")]
    Flag { flag: String, message: String },
    /// Two profile files give the same name.
    #[error(
        "two profiles are named `{name}`: {first} and {second}. Rename one (its `name` field or its file name): they would share one data directory and container"
    )]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    #[error(
        "no profile named `{name}`: looked in {searched}. Run `redwhisk profiles` to list the profiles found, or pass a path to a .toml file"
    )]
    NotFound { name: String, searched: String },
}

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
    pub snapshots: Option<snapshots::SnapshotConfig>,
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
    /// `[redis.cluster]`: start a Redis Cluster of `shards` masters with `replicas` each.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterConfig>,
    /// Set on the per-node profiles a cluster is started from (never in a profile file): the
    /// server runs with `cluster-enabled yes`.
    #[serde(skip)]
    pub cluster_node: Option<Duration>,
}

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
    Local,
    OpenWhisk(OpenWhiskConfig),
}

impl PlatformConfig {
    pub fn label(&self) -> &'static str {
        match self {
            PlatformConfig::Local => "local",
            PlatformConfig::OpenWhisk(_) => "openwhisk",
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
}

pub(crate) mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}

/// Command-line values that win over the profile.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub invocations: Option<u32>,
    pub concurrency: Option<u32>,
    pub records: Option<u32>,
    pub value_size: Option<u32>,
    pub mode: Option<Mode>,
}

impl Overrides {
    /// Apply the values given, each checked against the same limits as its profile field.
    pub fn apply(&self, p: &mut Profile) -> Result<(), ProfileError> {
        use validate::{CONCURRENCY, INVOCATIONS, RECORDS, VALUE_SIZE};
        let w = &mut p.workload;
        if let Some(n) = self.invocations {
            w.invocations = INVOCATIONS.check_flag(n)?;
        }
        if let Some(c) = self.concurrency {
            w.concurrency = CONCURRENCY.check_flag(c)?;
        }
        if let Some(r) = self.records {
            w.records = RECORDS.check_flag(r)?;
        }
        if let Some(v) = self.value_size {
            w.value_size = VALUE_SIZE.check_flag(v)?;
        }
        if let Some(m) = self.mode {
            w.mode = m;
        }
        let file = p.display_source();
        check_workload(&p.workload, &file)
    }
}

/// A validated profile is only read: an experiment that needs a variant (a cell's data
/// directory, a sweep step's concurrency, a cluster node) derives a new one here, so every
/// variant is made the same way and none is half-changed.
impl Profile {
    /// The same profile on another data directory.
    pub fn with_data_dir(&self, dir: PathBuf) -> Profile {
        let mut p = self.clone();
        p.redis.data_dir = dir;
        p
    }

    /// The same profile under another name (its snapshots then live under a prefix of their
    /// own, and its state and lock files are its own).
    pub fn renamed(&self, name: impl Into<String>) -> Profile {
        let mut p = self.clone();
        p.name = name.into();
        p
    }

    /// The same profile with another persistence; `none` drops `[snapshots]` (nothing to
    /// snapshot: the profile check refuses that pairing too).
    pub fn with_persistence(&self, persistence: Persistence) -> Profile {
        let mut p = self.clone();
        if persistence == Persistence::None {
            p.snapshots = None;
        }
        p.redis.persistence = persistence;
        p
    }

    /// The same profile without `[snapshots]`.
    pub fn without_snapshots(&self) -> Profile {
        let mut p = self.clone();
        p.snapshots = None;
        p
    }

    /// Case study 1 at `concurrency` in flight, with at least that many invocations.
    pub fn with_concurrency(&self, concurrency: u32) -> Profile {
        let mut p = self.clone();
        p.workload.concurrency = concurrency;
        p.workload.invocations = p.workload.invocations.max(concurrency);
        p
    }

    /// Node `i` of this cluster profile: a single Redis of its own (name, data directory
    /// `node-<i>`, port, container name), in cluster mode with `node_timeout`, no snapshots.
    pub fn cluster_node(&self, i: u16, port: u16, node_timeout: Duration) -> Profile {
        let mut n = self.clone();
        n.name = format!("{}-node{i}", self.name);
        n.redis.data_dir = self.redis.data_dir.join(format!("node-{i}"));
        n.redis.port = port;
        n.redis.cluster = None;
        n.redis.cluster_node = Some(node_timeout);
        n.snapshots = None;
        if let Backend::Docker { container_name, .. } = &mut n.redis.backend {
            *container_name = format!("{container_name}-node{i}");
        }
        n
    }

    /// Read and validate a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let text = std::fs::read_to_string(path).map_err(|source| ProfileError::Io {
            file: path.display().to_string(),
            source,
        })?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "profile".into());
        Self::parse(
            &text,
            &path.display().to_string(),
            &stem,
            Some(path.to_path_buf()),
        )
    }

    /// The profile compiled into the binary (`profiles/local.toml`).
    pub fn embedded_default() -> Result<Profile, ProfileError> {
        Self::parse(EMBEDDED_DEFAULT, "<embedded local.toml>", "local", None)
    }

    /// Parse profile text. `file` is only used in messages; `stem` is the default name.
    pub fn parse(
        text: &str,
        file: &str,
        stem: &str,
        source: Option<PathBuf>,
    ) -> Result<Profile, ProfileError> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| syntax_error(text, file, &e))?;
        validate(raw, file, stem, source)
    }

    pub fn display_source(&self) -> String {
        self.origin.clone()
    }
}

#[cfg(test)]
mod tests;
