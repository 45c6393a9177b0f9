//! `redwhisk failover`: kill a master of a Redis Cluster mid-write and measure the failover.

use std::path::PathBuf;
use std::time::Duration;

use super::args::{OutputFormat, load_profile, up_to_an_hour};
use super::exit::{Ending, Exit};
use super::headless::Headless;
use super::printer::Show;
use crate::engine::failover::{FailoverOptions, failover_text, run_failover};
use crate::profile::Overrides;

/// Arguments of `redwhisk failover`.
#[derive(Debug, Clone, clap::Args)]
pub struct FailoverArgs {
    /// Profile name or path: a [redis.cluster] with replicas = 1 or more.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// How long writes run before master node 0 is killed, e.g. 2s.
    #[arg(long, default_value = "2s", value_parser = up_to_an_hour)]
    pub kill_after: Duration,
    /// How long writes go on once the cluster is ok again.
    #[arg(long, default_value = "1s", value_parser = up_to_an_hour)]
    pub tail: Duration,
    /// Send `WAIT 1 100` after every acknowledged write, so the writer knows which writes a
    /// replica had (none of those may be lost).
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting for the recovery after this long.
    #[arg(long, default_value = "60s", value_parser = up_to_an_hour)]
    pub recover_limit: Duration,
    #[arg(long, default_value = "results")]
    pub results_dir: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Exit codes: 0 the cluster recovered with no WAIT-confirmed write lost; 3 it did not
/// recover, or confirmed writes were lost; 130/143 cancelled; 1 an error.
pub async fn run(args: FailoverArgs) -> anyhow::Result<Exit> {
    let profile = load_profile(args.profile.as_deref(), &Overrides::default())?;
    let job = Headless::job(
        Show::logs("failover:"),
        "cancelling the failover experiment after saving and stopping the cluster…",
    )?;
    let opts = FailoverOptions {
        kill_after: args.kill_after,
        tail: args.tail,
        wait: args.wait,
        recover_limit: args.recover_limit,
        results_root: args.results_dir.clone(),
    };
    let result = run_failover(&profile, &opts, &job.sink, job.cancel.clone()).await;
    let end = job.finish().await;
    if end.cancelled {
        return Ok(Exit::Cancelled(end.signal));
    }
    let report = result?;
    args.output.print(&report, || failover_text(&report))?;
    Ok(Exit::of(Ending {
        redis_lost: !(report.recovered && report.lost_replicated == 0),
        ..Ending::default()
    }))
}
