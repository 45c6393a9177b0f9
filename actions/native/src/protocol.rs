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
    #[serde(default = "default_records")]
    pub records: u32,
    #[serde(default = "default_value_size")]
    pub value_size: u32,
    #[serde(default)]
    pub mode: Mode,
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
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
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RoundTrips {
    pub connect: u64,
    pub write: u64,
    pub read: u64,
    pub delete: u64,
}
