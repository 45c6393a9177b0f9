//! `redwhisk failover`: kill a master of a Redis Cluster mid-write and measure the failover.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use super::OutputFormat;
use crate::engine::failover::{FailoverOptions, failover_text, run_failover};
use crate::profile::{default_profile, find_profile};

/// Arguments of `redwhisk failover`.
#[derive(Debug, Clone, clap::Args)]
pub struct FailoverArgs {
    /// Profile name or path: a [redis.cluster] with replicas = 1 or more.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// How long writes run before master node 0 is killed, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub kill_after: Duration,
    /// How long writes go on once the cluster is ok again.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub tail: Duration,
    /// Send `WAIT 1 100` after every acknowledged write, so the writer knows which writes a
    /// replica had (none of those may be lost).
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting for the recovery after this long.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub recover_limit: Duration,
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Exit codes: 0 the cluster recovered with no WAIT-confirmed write lost; 3 it did not
/// recover, or confirmed writes were lost; 130/143 cancelled; 1 an error.
pub async fn run(args: FailoverArgs) -> anyhow::Result<ExitCode> {
    let profile = match &args.profile {
        Some(p) => find_profile(p)?,
        None => default_profile()?,
    };
    let job = super::Headless::start(
        "cancelling the failover experiment after saving and stopping the cluster…",
        "failover:",
    )?;
    let opts = FailoverOptions {
        kill_after: args.kill_after,
        tail: args.tail,
        wait: args.wait,
        recover_limit: args.recover_limit,
        results_root: args.results_dir.clone(),
    };
    let result = run_failover(&profile, &opts, &job.sink, job.cancel.clone()).await;
    if let Some(code) = job.finish().await {
        return Ok(ExitCode::from(code));
    }
    let report = result?;
    match args.output {
        OutputFormat::Text => print!("{}", failover_text(&report)),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.recovered && report.lost_replicated == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    })
}
