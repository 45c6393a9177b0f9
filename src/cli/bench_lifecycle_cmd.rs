//! `redwhisk bench lifecycle`: our cold start and stop next to baselines measured in the same
//! run, printed as ratios (absolute times on a shared VM mean little on their own).

use anyhow::bail;

use super::args::{BackendChoice, OutputFormat};
use super::exit::Exit;
use crate::bench::lifecycle::{LifecycleRow, bench_backend};

/// Arguments of `bench lifecycle`.
#[derive(Debug, Clone, clap::Args)]
pub struct LifecycleArgs {
    /// Start/stop cycles per backend and per baseline.
    #[arg(long, default_value_t = 10)]
    pub runs: u32,
    #[arg(long, value_enum, default_value_t = BackendChoice::All)]
    pub backend: BackendChoice,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Run `bench lifecycle`.
pub async fn run(args: LifecycleArgs) -> anyhow::Result<Exit> {
    let LifecycleArgs {
        runs,
        backend,
        output,
    } = args;
    if runs == 0 {
        bail!("--runs must be at least 1");
    }
    let mut rows = Vec::new();
    if backend != BackendChoice::Docker {
        rows.push(bench_backend(runs, false).await?);
    }
    if backend != BackendChoice::Process {
        rows.push(bench_backend(runs, true).await?);
    }
    output.print(&rows, || table(&rows))?;
    Ok(Exit::Success)
}

fn table(rows: &[LifecycleRow]) -> String {
    let mut out = format!(
        "{:<8} {:>5} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7}  target\n",
        "backend", "runs", "start ms", "base ms", "ratio", "stop ms", "base ms", "ratio"
    );
    for r in rows {
        out.push_str(&format!(
            "{:<8} {:>5} {:>10.1} {:>10.1} {:>6.2}x {:>10.1} {:>10.1} {:>6.2}x  {} ({})\n",
            r.backend,
            r.runs,
            r.start_ms,
            r.baseline_start_ms,
            r.start_ratio,
            r.stop_ms,
            r.baseline_stop_ms,
            r.stop_ratio,
            r.target,
            if r.target_met { "met" } else { "NOT met" }
        ));
    }
    for r in rows {
        out.push_str(&format!("baseline {}: {}\n", r.backend, r.baseline));
        if let Some(script) = r.script_poll_start_ms {
            out.push_str(&format!(
                "baseline {}, polled every 1 ms on tokio's timer as a script's loop would: {script:.1} ms → PONG (ours {:.2}x of it)\n",
                r.backend,
                r.start_ms / script.max(f64::MIN_POSITIVE)
            ));
        }
    }
    for r in rows {
        out.push_str(&r.breakdown_text());
    }
    out
}
