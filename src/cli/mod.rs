//! The command line: clap definitions and dispatch. Each command's handler lives in its own
//! file; what they share is below them: [`args`] (argument types, the profile loader),
//! [`headless`] (the one runner, with [`printer`] and [`signals`]) and [`exit`] (exit codes).
//! No file here imports this one.

mod action_cmd;
pub mod args;
pub mod bench_action_cmd;
mod bench_cmd;
pub mod bench_engine_cmd;
pub mod bench_gateway_cmd;
mod bench_lifecycle_cmd;
pub mod bench_snapshots_cmd;
pub mod compare_cmd;
mod console_cmd;
pub mod exit;
pub mod failover_cmd;
pub mod gateway_cmd;
mod headless;
mod image_cmd;
mod lambda_cmd;
pub mod plot_cmd;
pub mod printer;
mod profiles_cmd;
pub mod redis_cmd;
mod results_cmd;
pub mod rtt_sweep_cmd;
mod run_cmd;
pub mod share_cmd;
mod signals;
pub mod snapshots_cmd;
pub mod sweep_cmd;

pub use args::OutputFormat;
pub use exit::Exit;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A Redis that lives only while serverless functions need it, and what that costs.
#[derive(Debug, Parser)]
#[command(name = "redwhisk", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run case study 1: start Redis, deploy the bench action, invoke it N times, report, stop Redis.
    Run(run_cmd::RunArgs),
    /// Run case study 2: state shared between functions across Redis restarts (graceful and crash).
    Share(share_cmd::ShareArgs),
    /// Case study 1 at each of a list of concurrencies: throughput and latency per step, the knee named.
    Sweep(sweep_cmd::SweepArgs),
    /// Kill a master of a Redis Cluster (replicas >= 1) mid-write: the window in which writes
    /// fail, the time to promote a replica, and acknowledged writes lost.
    Failover(failover_cmd::FailoverArgs),
    /// SVG or PNG figures of a recorded run (phase times per invocation, per-command latency CDF) or
    /// of a share experiment (the persistence × stop matrix as a heatmap).
    Plot(plot_cmd::PlotArgs),
    /// Compare two recorded runs (or the paper and a run): ratio B/A with a 95% bootstrap interval per phase and command
    Compare(compare_cmd::CompareArgs),
    /// Scale to zero: a TCP front that starts the profile's Redis on the first connection and
    /// saves and stops it when no client connection has been open for a while.
    Gateway(gateway_cmd::GatewayArgs),
    /// Start, stop or inspect a profile's Redis on its own.
    Redis {
        #[command(subcommand)]
        action: redis_cmd::RedisAction,
    },
    /// Snapshots of a profile's data in S3-compatible storage: list, show, restore, prune.
    Snapshots {
        #[command(subcommand)]
        action: snapshots_cmd::SnapshotsAction,
    },
    /// Results directories: `results repair` finalises runs interrupted by a kill -9.
    Results {
        #[command(subcommand)]
        action: results_cmd::ResultsAction,
    },
    /// Build images (`image build-local` for hosts without a registry).
    Image {
        #[command(subcommand)]
        action: image_cmd::ImageAction,
    },
    /// Deploy a built-in action to the profile's Lambda (AWS or the local emulator), or invoke it once.
    Lambda {
        #[command(subcommand)]
        action: lambda_cmd::LambdaAction,
    },
    /// Package the built-in actions for deploying them to OpenWhisk by hand.
    Action {
        #[command(subcommand)]
        command: action_cmd::ActionCommand,
    },
    /// Benchmarks measured against baselines run in the same invocation.
    Bench {
        #[command(subcommand)]
        action: bench_cmd::BenchAction,
    },
    /// List the profiles found (./profiles, then the user's config directory).
    Profiles {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Open the console (the default when no command is given and stdout is a terminal).
    Console {
        /// The profile selected at start: a name or a path to a .toml file.
        #[arg(long)]
        profile: Option<String>,
        /// Root of the results directories (default: results/).
        #[arg(long, value_name = "DIR")]
        results: Option<std::path::PathBuf>,
        /// Frames per second.
        #[arg(long, default_value_t = crate::tui::DEFAULT_FPS, value_parser = clap::value_parser!(u32).range(1..=60))]
        fps: u32,
    },
}

/// Run a parsed command line; the exit code is non-zero on any error.
pub fn run(cli: Cli) -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Error.into();
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("error: {e:#}");
            Exit::Error.into()
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<Exit> {
    match cli.command {
        None => console_cmd::run(None, None, crate::tui::DEFAULT_FPS).await,
        Some(Command::Console {
            profile,
            results,
            fps,
        }) => console_cmd::run(profile, results, fps).await,
        Some(Command::Profiles { output }) => profiles_cmd::run(output),
        Some(Command::Run(args)) => run_cmd::run(args).await,
        Some(Command::Share(args)) => share_cmd::run(args).await,
        Some(Command::Compare(args)) => compare_cmd::run(args),
        Some(Command::Sweep(args)) => sweep_cmd::run(args).await,
        Some(Command::Failover(args)) => failover_cmd::run(args).await,
        Some(Command::Plot(args)) => plot_cmd::run(args),
        Some(Command::Gateway(args)) => gateway_cmd::run(args).await,
        Some(Command::Redis { action }) => redis_cmd::run(action).await,
        Some(Command::Image { action }) => image_cmd::run(action).await,
        Some(Command::Lambda { action }) => lambda_cmd::run(action).await,
        Some(Command::Snapshots { action }) => snapshots_cmd::run(action).await,
        Some(Command::Results { action }) => results_cmd::run(action),
        Some(Command::Action { command }) => action_cmd::run(command),
        Some(Command::Bench { action }) => bench_cmd::run(action).await,
    }
}
