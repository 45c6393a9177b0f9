//! The command line: clap definitions and dispatch. Each command's handler lives in its own file.

mod action_cmd;
pub mod bench_action_cmd;
pub mod bench_engine_cmd;
mod profiles_cmd;
pub mod run_cmd;
pub mod share_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// A Redis that lives only while serverless functions need it, and what that costs.
#[derive(Debug, Parser)]
#[command(name = "redwhisk", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run case study 1: start Redis, deploy the bench action, invoke it N times, report, stop Redis.
    Run(run_cmd::RunArgs),
    /// Run case study 2: state shared between functions across Redis restarts (graceful and crash).
    Share(share_cmd::ShareArgs),
    /// Package the built-in actions for deploying them to OpenWhisk by hand.
    Action {
        #[command(subcommand)]
        command: action_cmd::ActionCommand,
    },
    /// List the profiles found (./profiles, then the user's config directory).
    Profiles {
        #[arg(long, value_enum, default_value_t)]
        output: OutputFormat,
    },
    /// Micro-benchmarks measured against a baseline run in the same job.
    Bench {
        #[command(subcommand)]
        which: BenchCmd,
    },
}

/// What `redwhisk bench` measures.
#[derive(Debug, Subcommand)]
pub enum BenchCmd {
    /// The native action's write phase against redis-benchmark (-c 1 -P 1, and -P N).
    Action(bench_action_cmd::BenchActionArgs),
    /// The engine's own overhead per invocation and its peak memory at N and 10×N invocations.
    Engine(bench_engine_cmd::EngineBenchArgs),
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
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(dispatch(cli));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => anyhow::bail!("the console is not built yet; use a subcommand (see --help)"),
        Some(Command::Profiles { output }) => profiles_cmd::run(output),
        Some(Command::Action { command }) => action_cmd::run(command),
        Some(Command::Run(args)) => run_cmd::run(args).await,
        Some(Command::Bench {
            which: BenchCmd::Action(args),
        }) => bench_action_cmd::run(args).await,
        Some(Command::Bench {
            which: BenchCmd::Engine(args),
        }) => bench_engine_cmd::run(args).await,
        Some(Command::Share(args)) => share_cmd::run(args).await,
    }
}
