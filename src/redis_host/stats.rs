//! A container's CPU and memory for the console's process pane, from the Docker stats API
//! (one-shot, no stream): the container's whole cgroup, as `docker stats` shows it.

use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{InspectContainerOptions, StatsOptionsBuilder};
use futures::StreamExt;

use crate::model::process::ProcessSample;

/// How long one container's figures (or the listing of the function containers) may take
/// before their rows are left out; the daemon answers one-shot stats at once.
pub const STATS_DEADLINE: Duration = Duration::from_secs(2);

/// Memory as `docker stats` counts it: usage minus the inactive page cache (cgroup v2's
/// `inactive_file`, v1's `total_inactive_file`).
fn memory(m: &bollard::models::ContainerMemoryStats) -> u64 {
    let usage = m.usage.unwrap_or(0);
    let cache = m.stats.as_ref().and_then(|s| {
        s.get("inactive_file")
            .or_else(|| s.get("total_inactive_file"))
            .copied()
    });
    usage.saturating_sub(cache.unwrap_or(0))
}

/// The container `name`'s figures as one process row, shown as `shown` with `role` (`docker`
/// for a Redis container, `lambda` for a function's): its init's host pid, its cgroup's CPU
/// time in `ticks_per_s` ticks and its memory. `None` when the container is not running or
/// the daemon does not answer in time (the pane then just lacks the row).
pub async fn container_sample(
    docker: &Docker,
    name: &str,
    shown: &str,
    role: &'static str,
    ticks_per_s: u64,
) -> Option<ProcessSample> {
    let query = async {
        let inspect = docker
            .inspect_container(name, None::<InspectContainerOptions>)
            .await
            .ok()?;
        let state = inspect.state?;
        if state.running != Some(true) {
            return None;
        }
        let pid = u32::try_from(state.pid?).ok()?;
        let options = StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        let stats = docker.stats(name, Some(options)).next().await?.ok()?;
        let cpu_ns = stats
            .cpu_stats
            .and_then(|c| c.cpu_usage)
            .and_then(|u| u.total_usage)?;
        let rss_bytes = stats.memory_stats.as_ref().map_or(0, memory);
        Some(ProcessSample {
            pid,
            name: shown.to_string(),
            role,
            cpu_ticks: u64::try_from(u128::from(cpu_ns) * u128::from(ticks_per_s) / 1_000_000_000)
                .unwrap_or(u64::MAX),
            rss_bytes,
        })
    };
    tokio::time::timeout(STATS_DEADLINE, query)
        .await
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_leaves_out_the_inactive_page_cache_as_docker_stats_does() {
        let m = |stats: &[(&str, u64)]| bollard::models::ContainerMemoryStats {
            usage: Some(10_000),
            stats: Some(stats.iter().map(|(k, v)| (k.to_string(), *v)).collect()),
            ..Default::default()
        };
        assert_eq!(memory(&m(&[("inactive_file", 3_000)])), 7_000);
        assert_eq!(memory(&m(&[("total_inactive_file", 4_000)])), 6_000);
        assert_eq!(memory(&m(&[])), 10_000);
        assert_eq!(memory(&m(&[("inactive_file", 20_000)])), 0);
    }
}
