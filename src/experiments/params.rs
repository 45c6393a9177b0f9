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
        PlatformConfig::Lambda(l) => l
            .redis_host_for_actions
            .clone()
            .unwrap_or_else(|| endpoint.host.clone()),
        PlatformConfig::Local(_) => endpoint.host.clone(),
    }
}

/// Invocation `index`'s parameters. Each invocation gets its own key prefix so concurrent
/// invocations never touch each other's keys.
///
/// `nodes`: a cluster's nodes (`host:port`, from [`RedisHost::cluster_addrs`]), which the
/// action tries in turn when the endpoint's node does not answer; a node on the endpoint's
/// host is addressed as the actions address the endpoint.
///
/// [`RedisHost::cluster_addrs`]: crate::redis_host::RedisHost::cluster_addrs
pub fn bench_params(
    profile: &Profile,
    endpoint: &Endpoint,
    host: &str,
    index: u32,
    nodes: &[String],
) -> BenchParams {
    let w = &profile.workload;
    BenchParams {
        host: host.to_string(),
        port: endpoint.port,
        password: endpoint.password.as_ref().map(|p| p.expose().to_string()),
        tls: endpoint.tls,
        tls_ca: endpoint.tls_ca.as_ref().map(|c| c.pem.clone()),
        cluster: profile.redis.is_cluster(),
        nodes: nodes
            .iter()
            .map(|n| match n.rsplit_once(':') {
                Some((h, p)) if h == endpoint.host => format!("{host}:{p}"),
                _ => n.clone(),
            })
            .collect(),
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
