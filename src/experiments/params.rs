//! The parameters each invocation of the bench action gets.

use redwhisk_actions::{BenchParams, Mode as ActionMode};

use crate::profile::{Mode, PlatformConfig, Profile};
use crate::redis_host::Endpoint;

/// The Redis host as the actions must address it: the profile's override for OpenWhisk
/// (action containers may not share the host's loopback), else the endpoint's host.
pub fn action_redis_host(profile: &Profile, endpoint: &Endpoint) -> String {
    match &profile.platform {
        PlatformConfig::OpenWhisk(ow) => ow
            .redis_host_for_actions
            .clone()
            .unwrap_or_else(|| endpoint.host.clone()),
        PlatformConfig::Local => endpoint.host.clone(),
    }
}

/// Invocation `index`'s parameters. Each invocation gets its own key prefix so concurrent
/// invocations never touch each other's keys.
pub fn bench_params(profile: &Profile, endpoint: &Endpoint, host: &str, index: u32) -> BenchParams {
    let w = &profile.workload;
    BenchParams {
        host: host.to_string(),
        port: endpoint.port,
        password: endpoint.password.as_ref().map(|p| p.expose().to_string()),
        cluster: profile.redis.is_cluster(),
        records: w.records,
        value_size: w.value_size,
        mode: match w.mode {
            Mode::Sequential => ActionMode::Sequential,
            Mode::Pipelined => ActionMode::Pipelined,
        },
        key_prefix: format!("{}:{index}", w.key_prefix),
        seed: w.seed.map(|s| s.wrapping_add(u64::from(index))),
    }
}
