//! `redwhisk bench gateway`: arguments and printing; the measurements are
//! `crate::bench::gateway` (added round trip, pipelined throughput, wake against cold start,
//! keys kept over sleep/wake cycles).

use anyhow::bail;

use super::args::{BackendChoice, OutputFormat};
use super::exit::Exit;
use crate::bench::gateway::{GatewayBench, GatewayBenchOptions};

/// Arguments of `bench gateway`.
#[derive(Debug, Clone, clap::Args)]
pub struct GatewayBenchArgs {
    /// process or docker.
    #[arg(long, value_enum, default_value_t = BackendChoice::Process)]
    pub backend: BackendChoice,
    /// Requests per redis-benchmark run (each way, per repetition).
    #[arg(long, default_value_t = 20_000)]
    pub requests: u32,
    /// Alternated repetitions of each redis-benchmark comparison.
    #[arg(long, default_value_t = 3)]
    pub repeat: u32,
    /// Sleep/wake cycles (each: write a key, sleep, wake, read it back).
    #[arg(long, default_value_t = 100)]
    pub cycles: u32,
    /// Cold starts of the backend alone, for the wake baseline.
    #[arg(long, default_value_t = 20)]
    pub cold_starts: u32,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn run(args: GatewayBenchArgs) -> anyhow::Result<Exit> {
    let docker = match args.backend {
        BackendChoice::Process => false,
        BackendChoice::Docker => true,
        BackendChoice::All => {
            bail!("bench gateway measures one backend: --backend process or docker")
        }
    };
    if args.requests == 0 || args.repeat == 0 || args.cold_starts == 0 {
        bail!("--requests, --repeat and --cold-starts must be at least 1");
    }
    let r = crate::bench::gateway::run(&GatewayBenchOptions {
        docker,
        requests: args.requests,
        repeat: args.repeat,
        cycles: args.cycles,
        cold_starts: args.cold_starts,
    })
    .await?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&r)?),
        OutputFormat::Text => print!("{}", text(&r)),
    }
    Ok(if r.keys_lost == 0 {
        Exit::Success
    } else {
        Exit::Failures
    })
}

fn met(b: bool) -> &'static str {
    if b { "met" } else { "NOT met" }
}

fn text(r: &GatewayBench) -> String {
    format!(
        "gateway bench ({} backend)\n\
         round trip p50 (redis-benchmark -c 1 -P 1 GET): direct {:.0} µs, gateway {:.0} µs, added {:.0} µs (target ≤ 15 µs: {})\n\
         pipelined (-c 1 -P 100 GET): direct {:.0} rps, gateway {:.0} rps, {:.2}× (target ≥ 0.90×: {})\n\
         wake (connect → first reply): p50 {:.1} ms, p99 {:.1} ms; backend cold start p50 {:.1} ms (target ≤ 1.1× + 5 ms = {:.1} ms: {})\n\
         sleep/wake cycles: {}, keys lost: {}\n",
        r.backend,
        r.rt_p50_direct_us,
        r.rt_p50_gateway_us,
        r.rt_added_p50_us,
        met(r.rt_target_met),
        r.pipelined_rps_direct,
        r.pipelined_rps_gateway,
        r.pipelined_ratio,
        met(r.pipelined_target_met),
        r.wake_p50_ms,
        r.wake_p99_ms,
        r.cold_start_p50_ms,
        r.wake_target_ms,
        met(r.wake_target_met),
        r.cycles,
        r.keys_lost
    )
}
