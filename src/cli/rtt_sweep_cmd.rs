//! `redwhisk sweep --rtt`: case study 1 at each of a list of emulated distances, one table with
//! each phase's fit against the RTT and the budget crossing.

use super::args::OutputFormat;
use super::exit::{Ending, Exit};
use super::headless::Headless;
use super::printer::Show;
use crate::engine::rtt_sweep::{rtt_sweep_text, run_rtt_sweep};
use crate::profile::Profile;

/// `--rtt` values: milliseconds within the profile field's range.
pub fn rtt_ms(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("\"{s}\" is not a number of milliseconds; write e.g. 0.25"))?;
    crate::profile::netem::check_rtt_ms(v)
}

/// `--budget-ms`: a positive number of milliseconds.
pub fn budget_ms(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "\"{s}\" is not a positive number of milliseconds; write e.g. 500"
        )),
    }
}

/// What `sweep --rtt` needs of the command line.
#[derive(Debug, Clone)]
pub struct RttSweepArgs<'a> {
    pub rtt: &'a [f64],
    pub budget_ms: Option<f64>,
    pub results_dir: &'a std::path::Path,
    pub output: OutputFormat,
}

/// Exit codes: 0 every step ran; 130/143 cancelled (the finished steps are written); 1 an error.
pub async fn run(args: RttSweepArgs<'_>, profile: &Profile) -> anyhow::Result<Exit> {
    if profile.redis.is_cluster() {
        anyhow::bail!(
            "--rtt: profile `{}` has [redis.cluster]; network emulation fronts one Redis (use a profile without [redis.cluster])",
            profile.name
        );
    }
    let job = Headless::job(
        Show::logs("sweep:"),
        "cancelling the sweep after saving and stopping Redis…",
    )?;
    let result = run_rtt_sweep(
        profile,
        args.rtt,
        args.budget_ms,
        args.results_dir,
        &job.sink,
        job.cancel.clone(),
    )
    .await;
    let end = job.finish().await;
    let report = result?;
    args.output.print(&report, || rtt_sweep_text(&report))?;
    Ok(Exit::of(Ending {
        cancelled: report.cancelled,
        signal: end.signal,
        ..Ending::default()
    }))
}
