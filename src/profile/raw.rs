//! The profile file exactly as written: every field optional, unknown fields rejected.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub name: Option<String>,
    pub description: Option<String>,
    pub redis: Option<RawRedis>,
    pub platform: Option<RawPlatform>,
    pub workload: Option<RawWorkload>,
    pub snapshots: Option<super::snapshots::RawSnapshots>,
    pub gateway: Option<super::gateway::RawGateway>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedis {
    pub backend: Option<String>,
    pub bind: Option<String>,
    pub port: Option<i64>,
    pub password: Option<String>,
    pub persistence: Option<String>,
    pub save: Option<Vec<String>>,
    pub appendfsync: Option<String>,
    pub data_dir: Option<String>,
    pub ready_timeout_ms: Option<i64>,
    pub stop_timeout_ms: Option<i64>,
    // docker
    pub image: Option<String>,
    pub network: Option<String>,
    pub keep_container: Option<bool>,
    pub container_name: Option<String>,
    pub pull: Option<bool>,
    // process
    pub server_bin: Option<String>,
    // external
    pub url: Option<String>,
    /// external `rediss://`: a PEM file of CA certificates to trust (a private CA).
    pub tls_ca_file: Option<String>,
    /// `[redis.cluster]`: a Redis Cluster instead of one server (process and docker).
    pub cluster: Option<RawCluster>,
    /// `[redis.network_emulation]`: the functions reach Redis through a shaping proxy.
    pub network_emulation: Option<super::netem::RawNetworkEmulation>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    pub shards: Option<i64>,
    pub replicas: Option<i64>,
    pub node_timeout_ms: Option<i64>,
    /// External clusters: more nodes to try when `url` does not answer.
    pub seeds: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlatform {
    pub kind: Option<String>,
    // local
    /// Keep action processes warm between activations (ActionLoop), as OpenWhisk keeps containers.
    pub keep_warm: Option<bool>,
    // openwhisk
    pub apihost: Option<String>,
    pub auth: Option<String>,
    pub namespace: Option<String>,
    pub insecure: Option<bool>,
    pub action_name: Option<String>,
    pub action_kind: Option<String>,
    pub nodejs_kind: Option<String>,
    pub memory_mb: Option<i64>,
    /// The Redis host as seen from inside the action containers (defaults to the bind address).
    pub redis_host_for_actions: Option<String>,
    pub poll_deadline_ms: Option<i64>,
    /// Fetch each activation's logs with an extra `GET …/activations/{id}/logs`.
    pub fetch_logs: Option<bool>,
    // lambda (see super::lambda)
    pub region: Option<String>,
    pub function_name: Option<String>,
    pub runtime: Option<String>,
    /// The function's time limit in seconds (Lambda's `Timeout`).
    pub timeout: Option<i64>,
    pub role_arn: Option<String>,
    pub vpc_subnet_ids: Option<Vec<String>>,
    pub vpc_security_group_ids: Option<Vec<String>>,
    pub endpoint: Option<String>,
    pub emulator: Option<String>,
    /// `[platform.price]`: what a run costs on Lambda and on the VM.
    pub price: Option<RawPrice>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub action: Option<String>,
    pub invocations: Option<i64>,
    pub concurrency: Option<i64>,
    pub records: Option<i64>,
    pub value_size: Option<i64>,
    pub mode: Option<String>,
    pub key_prefix: Option<String>,
    pub seed: Option<i64>,
    pub timeout_ms: Option<i64>,
    /// Open loop: arrivals per second (absent: a closed loop of `concurrency`).
    pub rate: Option<f64>,
    /// `constant` or `poisson` (open loop only).
    pub arrivals: Option<String>,
    /// Open loop: at most this many invocations in flight; later arrivals wait (late starts).
    pub max_in_flight: Option<i64>,
}

/// `[platform.price]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPrice {
    pub gb_second_usd: Option<f64>,
    pub requests_per_million_usd: Option<f64>,
    pub vm_hour_usd: Option<f64>,
    pub redis_hour_usd: Option<f64>,
}
