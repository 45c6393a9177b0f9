//! Parameters and results of the native actions (and of their Node.js twins).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// One command, one round trip, wait for the reply (the paper's loop).
    #[default]
    Sequential,
    /// All commands of a phase written in one pipeline, replies read after.
    Pipelined,
}

/// Parameters of the bench action (case study 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchParams {
    pub host: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Speak TLS (`rediss://`), verifying the server's certificate against `host`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls: bool,
    /// With `tls`: PEM text of the CA certificates to trust instead of the Mozilla roots (a
    /// private CA). Text, not a path: the action runs where the profile's files are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<String>,
    /// `host:port` is a node of a Redis Cluster: route every key to its master.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cluster: bool,
    /// The cluster's other nodes (`host:port`): tried in turn when `host:port` does not
    /// answer, and asked for the slot table when the nodes in use fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    #[serde(default = "default_records")]
    pub records: u32,
    #[serde(default = "default_value_size")]
    pub value_size: u32,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default = "default_prefix")]
    /// Keys are `<key_prefix>:<invocation id>:<i>`, the id being `__OW_ACTIVATION_ID` (or a
    /// random value outside a platform), so concurrent invocations never collide.
    pub key_prefix: String,
    /// Seeds the values (random alphanumeric); a fresh seed per invocation when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn default_records() -> u32 {
    1000
}
fn default_value_size() -> u32 {
    32
}
fn default_prefix() -> String {
    "rw".into()
}

/// A latency histogram in a form every language can write: `[value_us, count]` pairs, each
/// value rounded to 3 significant digits (HdrHistogram's precision). Merged into an HDR
/// histogram by the engine; percentiles are never averaged.
pub type LatencyBuckets = Vec<[u64; 2]>;

/// Per-command latency of each phase.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PhaseLatency {
    pub write: LatencyBuckets,
    pub read: LatencyBuckets,
    pub delete: LatencyBuckets,
}

/// The bench action's result. All times in milliseconds from a monotonic clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    pub action: String,
    pub mode: Mode,
    pub records: u32,
    pub value_size: u32,
    /// TCP connect + AUTH (when a password is set) + one PING.
    pub connect_ms: f64,
    /// `records` SETs.
    pub write_ms: f64,
    /// `records` GETs, each value compared with what was written.
    pub read_ms: f64,
    /// `records` DELs.
    pub delete_ms: f64,
    /// From before connect to after the last DEL reply.
    pub total_ms: f64,
    /// GET replies that differ from the value written (or are missing).
    pub mismatches: u64,
    /// Commands that returned an error reply.
    pub errors: u64,
    /// Network round trips per phase, so the figures can be read against the RTT.
    pub round_trips: RoundTrips,
    /// Per-command latency (sequential mode); in pipelined mode, one sample per phase.
    pub latency_us: PhaseLatency,
    /// Redirections and retries (cluster mode only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<crate::cluster::ClusterCounters>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundTrips {
    pub connect: u64,
    pub write: u64,
    pub read: u64,
    pub delete: u64,
}

fn default_keys() -> u32 {
    1000
}
fn default_share_prefix() -> String {
    "rw-share".into()
}

/// Parameters of the writer action (case study 2: data shared across a Redis restart).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriterParams {
    pub host: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Speak TLS (`rediss://`), verifying the server's certificate against `host`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls: bool,
    /// With `tls`: PEM text of the CA certificates to trust instead of the Mozilla roots (a
    /// private CA). Text, not a path: the action runs where the profile's files are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<String>,
    /// `host:port` is a node of a Redis Cluster: route every key to its master.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cluster: bool,
    /// The cluster's other nodes (`host:port`): tried in turn when `host:port` does not
    /// answer, and asked for the slot table when the nodes in use fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// How many keys: `<key_prefix>:0` .. `<key_prefix>:<keys-1>`.
    #[serde(default = "default_keys")]
    pub keys: u32,
    #[serde(default = "default_value_size")]
    pub value_size: u32,
    #[serde(default = "default_share_prefix")]
    pub key_prefix: String,
    /// Values are a function of (seed, key index); a random seed is chosen and returned if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// The writer's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriterResult {
    pub action: String,
    pub keys_written: u64,
    pub value_size: u32,
    pub key_prefix: String,
    /// The seed the values were generated from (give it to the reader).
    pub seed: u64,
    /// 64-bit FNV-1a (16 hex digits) over the sorted (key, value) pairs written.
    pub digest: String,
    pub connect_ms: f64,
    /// All SETs, pipelined in batches of [`SHARE_BATCH`].
    pub write_ms: f64,
    pub round_trips: u64,
    /// SETs that returned an error reply.
    pub errors: u64,
}

/// Keys per pipeline in the writer and reader.
pub const SHARE_BATCH: usize = 1000;

/// Parameters of the reader action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReaderParams {
    pub host: String,
    pub port: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Speak TLS (`rediss://`), verifying the server's certificate against `host`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub tls: bool,
    /// With `tls`: PEM text of the CA certificates to trust instead of the Mozilla roots (a
    /// private CA). Text, not a path: the action runs where the profile's files are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ca: Option<String>,
    /// `host:port` is a node of a Redis Cluster: route every key to its master.
    #[serde(default, skip_serializing_if = "is_false")]
    pub cluster: bool,
    /// The cluster's other nodes (`host:port`): tried in turn when `host:port` does not
    /// answer, and asked for the slot table when the nodes in use fail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    #[serde(default = "default_keys")]
    pub keys: u32,
    #[serde(default = "default_value_size")]
    pub value_size: u32,
    #[serde(default = "default_share_prefix")]
    pub key_prefix: String,
    /// With the seed the reader regenerates every expected value and counts mismatches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The writer's digest. At least one of `seed` and `expected_digest` is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_digest: Option<String>,
}

/// The reader's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReaderResult {
    pub action: String,
    pub keys: u64,
    pub found: u64,
    pub missing: u64,
    /// Found keys whose value differs from the regenerated one (`None` without a seed).
    pub mismatches: Option<u64>,
    /// Digest of the (key, value) pairs found, same function as the writer's.
    pub digest: String,
    /// `expected_digest`, or the digest regenerated from the seed when none was given.
    pub expected_digest: String,
    /// `digest == expected_digest` (so every key was found with its value).
    pub matches: bool,
    pub connect_ms: f64,
    /// All GETs, pipelined in batches of [`SHARE_BATCH`].
    pub read_ms: f64,
    pub round_trips: u64,
    /// GETs that returned an error reply.
    pub errors: u64,
}
