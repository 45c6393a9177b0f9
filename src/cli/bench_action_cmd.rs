//! `redwhisk bench action`: arguments and printing; the measurement is
//! `crate::bench::action` (the native action's write phase against `redis-benchmark`).

use super::args::OutputFormat;
use super::exit::Exit;
use crate::bench::action::{ActionBench, ActionBenchOptions};

/// Options of `redwhisk bench action`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchActionArgs {
    /// SETs per run (the paper: 1000). Larger values make redis-benchmark's 1 ms clock matter less.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub records: u32,
    /// Runs of each side; medians are reported.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// Bytes per value (also passed to redis-benchmark as -d).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
    pub value_size: u32,
    #[arg(long, default_value = "redis-server")]
    pub server_bin: String,
    #[arg(long, default_value = "redis-benchmark")]
    pub benchmark_bin: String,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Run `redwhisk bench action`.
pub async fn run(args: BenchActionArgs) -> anyhow::Result<Exit> {
    let report = crate::bench::action::run(&ActionBenchOptions {
        records: args.records,
        runs: args.runs,
        value_size: args.value_size,
        server_bin: args.server_bin,
        benchmark_bin: args.benchmark_bin,
    })
    .await?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text => print_text(&report),
    }
    Ok(Exit::Success)
}

fn print_text(r: &ActionBench) {
    println!(
        "bench action: {} SETs of {} bytes per run, {} runs each side, one redis-server on 127.0.0.1 (no persistence)",
        r.records, r.value_size, r.runs
    );
    let per_k = 1000.0 / f64::from(r.records);
    for (c, what) in [
        (&r.sequential, "one round trip per SET"),
        (
            &r.pipelined,
            "one pipeline per action run, on a new connection, as an activation runs it",
        ),
        (
            &r.pipelined_back_to_back,
            "pipelines back to back on one connection, the same keys, as redis-benchmark runs them",
        ),
    ] {
        println!("\n{} write phase (medians): {what}", c.mode);
        for (who, ms) in [
            ("redwhisk bench action", c.action_median_ms),
            (c.baseline.as_str(), c.baseline_median_ms),
        ] {
            println!(
                "  {who:<32} {ms:>10.3} ms total  {:>9.2} µs/SET  {:>9.3} ms/1000",
                ms * 1000.0 / f64::from(r.records),
                ms * per_k
            );
        }
        println!("  ratio action / baseline: {:.3}", c.ratio);
    }
    let verdict = |ratio: f64, target: f64| if ratio <= target { "within" } else { "OVER" };
    println!(
        "\nsequential target ≤ {:.2}x of redis-benchmark: {} ({:.3}x)",
        r.target_ratio,
        verdict(r.sequential.ratio, r.target_ratio),
        r.sequential.ratio
    );
    println!(
        "pipelined back-to-back target ≤ {:.2}x of redis-benchmark: {} ({:.3}x; one per action run: {:.3}x)",
        r.pipelined_target_ratio,
        verdict(r.pipelined_back_to_back.ratio, r.pipelined_target_ratio),
        r.pipelined_back_to_back.ratio,
        r.pipelined.ratio
    );
}
