//! `redwhisk plot`: SVG figures of a recorded run or share experiment.

use std::path::PathBuf;

use super::exit::Exit;

/// Arguments of `redwhisk plot`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlotArgs {
    /// A results directory (results/<time>-<profile>[-share]) or its run.json / share.json.
    pub run: PathBuf,
    /// Where the figures go (default: a `plots` directory inside the results directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Image format.
    #[arg(long, value_enum, default_value_t = FormatArg::Svg)]
    pub format: FormatArg,
}

/// `--format` (maps to [`crate::plot::Format`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Svg,
    Png,
}

pub fn run(args: PlotArgs) -> anyhow::Result<Exit> {
    let out = args.out.clone().unwrap_or_else(|| {
        let dir = if args.run.is_dir() {
            args.run.clone()
        } else {
            args.run.parent().map(PathBuf::from).unwrap_or_default()
        };
        dir.join("plots")
    });
    let format = match args.format {
        FormatArg::Svg => crate::plot::Format::Svg,
        FormatArg::Png => crate::plot::Format::Png,
    };
    for path in crate::plot::plot(&args.run, &out, format)? {
        println!("wrote {}", path.display());
    }
    Ok(Exit::Success)
}
