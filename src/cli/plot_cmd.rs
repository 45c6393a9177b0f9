//! `redwhisk plot`: SVG figures of a recorded run or share experiment.

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `redwhisk plot`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlotArgs {
    /// A results directory (results/<time>-<profile>[-share]) or its run.json / share.json.
    pub run: PathBuf,
    /// Where the figures go (default: a `plots` directory inside the results directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: PlotArgs) -> anyhow::Result<ExitCode> {
    let out = args.out.clone().unwrap_or_else(|| {
        let dir = if args.run.is_dir() {
            args.run.clone()
        } else {
            args.run.parent().map(PathBuf::from).unwrap_or_default()
        };
        dir.join("plots")
    });
    for path in crate::plot::plot(&args.run, &out)? {
        println!("wrote {}", path.display());
    }
    Ok(ExitCode::SUCCESS)
}
