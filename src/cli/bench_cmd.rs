//! `redwhisk bench …`: the subcommands; each one's arguments and printing live in its own
//! `bench_*_cmd.rs`, the measurements in `crate::bench`.

use super::exit::Exit;
use super::{
    bench_action_cmd, bench_engine_cmd, bench_gateway_cmd, bench_lifecycle_cmd, bench_snapshots_cmd,
};

/// Benchmarks.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum BenchAction {
    /// Median cold start (start → PONG) and stop of each backend next to a same-run baseline.
    Lifecycle(bench_lifecycle_cmd::LifecycleArgs),
    /// The native action's write phase against redis-benchmark (-c 1 -P 1, and -P N).
    Action(bench_action_cmd::BenchActionArgs),
    /// The engine's own overhead per invocation and its peak memory at N and 10×N invocations.
    Engine(bench_engine_cmd::EngineBenchArgs),
    /// The scale-to-zero gateway: added round trip, pipelined throughput, wake latency against
    /// the backend's cold start, and keys kept over sleep/wake cycles.
    Gateway(bench_gateway_cmd::GatewayBenchArgs),
    /// Snapshots per dataset size: save, upload, download and restore-to-ready, upload and
    /// download next to `aws s3 cp` of the same file to the same S3 server (moto by default).
    Snapshots(bench_snapshots_cmd::SnapshotsBenchArgs),
}

/// Dispatch one `bench` subcommand.
pub async fn run(action: BenchAction) -> anyhow::Result<Exit> {
    match action {
        BenchAction::Lifecycle(args) => bench_lifecycle_cmd::run(args).await,
        BenchAction::Action(args) => bench_action_cmd::run(args).await,
        BenchAction::Engine(args) => bench_engine_cmd::run(args).await,
        BenchAction::Gateway(args) => bench_gateway_cmd::run(args).await,
        BenchAction::Snapshots(args) => bench_snapshots_cmd::run(args).await,
    }
}
