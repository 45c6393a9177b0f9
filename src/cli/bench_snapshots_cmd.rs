//! `redwhisk bench snapshots`: arguments and printing; the measurements are
//! `crate::bench::snapshots` (save, upload, download, restore-to-ready per dataset size;
//! upload and download next to `aws s3 cp` of the same file to the same server).

use super::args::OutputFormat;
use super::exit::Exit;
use crate::bench::snapshots::{SnapshotBench, SnapshotBenchOptions};

/// Arguments of `bench snapshots`.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapshotsBenchArgs {
    /// Dataset sizes in keys, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
    pub sizes: Vec<u64>,
    /// Alternated repetitions per size (each: baseline and ours, up and down).
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
    /// An S3-compatible endpoint to use instead of starting moto (keys from the AWS
    /// environment, as for a profile's snapshots). Needs --bucket.
    #[arg(long, requires = "bucket")]
    pub endpoint: Option<String>,
    /// The (existing) bucket on --endpoint.
    #[arg(long, requires = "endpoint")]
    pub bucket: Option<String>,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

pub async fn run(args: SnapshotsBenchArgs) -> anyhow::Result<Exit> {
    let report = crate::bench::snapshots::run(&SnapshotBenchOptions {
        sizes: args.sizes,
        runs: args.runs,
        store: args.endpoint.zip(args.bucket),
    })
    .await?;
    args.output.print(&report, || text(&report))?;
    let lost: u64 = report.rows.iter().map(|r| r.keys_lost).sum();
    Ok(if lost == 0 {
        Exit::Success
    } else {
        Exit::Failures
    })
}

fn ratio_cell(r: Option<f64>) -> String {
    r.map_or_else(|| "—".into(), |r| format!("{r:.2}x"))
}

fn met(b: bool) -> &'static str {
    if b { "met" } else { "NOT met" }
}

fn text(r: &SnapshotBench) -> String {
    let mut out = format!(
        "snapshots bench against {} (medians, ms; baseline: {})\n",
        r.server, r.baseline
    );
    out.push_str(&format!(
        "{:>9} {:>10} {:>8} {:>9} {:>9} {:>6} {:>6} {:>9} {:>9} {:>6} {:>6} {:>8} {:>9} {:>9} {:>5}\n",
        "keys",
        "bytes",
        "save",
        "upload",
        "aws up",
        "ratio",
        "net",
        "download",
        "aws down",
        "ratio",
        "net",
        "aws fix",
        "restore",
        "→ready",
        "lost"
    ));
    for x in &r.rows {
        out.push_str(&format!(
            "{:>9} {:>10} {:>8.1} {:>9.1} {:>9.1} {:>5.2}x {:>6} {:>9.1} {:>9.1} {:>5.2}x {:>6} {:>8.1} {:>9.1} {:>9.1} {:>5}\n",
            x.keys,
            x.bytes,
            x.save_ms,
            x.upload_ms,
            x.baseline_upload_ms,
            x.upload_ratio,
            ratio_cell(x.upload_ratio_net),
            x.download_ms,
            x.baseline_download_ms,
            x.download_ratio,
            ratio_cell(x.download_ratio_net),
            x.baseline_fixed_ms,
            x.restore_ms,
            x.restore_to_ready_ms,
            x.keys_lost
        ));
    }
    out.push_str(&format!("target: {}\n", r.target));
    for x in &r.rows {
        out.push_str(&format!(
            "{} keys: upload {}, download {}\n",
            x.keys,
            met(x.upload_target_met),
            met(x.download_target_met)
        ));
    }
    out.push_str(
        "net = against aws s3 cp minus `aws fix` (aws s3api head-bucket: the CLI's start + one request); — when the copy took no longer than that\n",
    );
    out.push_str(
        "restore = download + sha256 + redis-check-rdb + place; →ready = restore + start + load → PONG\n",
    );
    out
}
