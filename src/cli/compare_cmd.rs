//! `redwhisk compare A B`: two recorded runs (or the paper and a run) side by side, with the
//! ratio's confidence interval and a verdict per phase and per command.

use std::path::PathBuf;

use anyhow::Context;

use super::args::OutputFormat;
use super::exit::Exit;
use crate::compare::{PaperTable, Side, check_loops, compare};
use crate::results::RunRecord;

/// Arguments of `redwhisk compare`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompareArgs {
    /// Run directories (or run.json files): A then B. With --paper, only B.
    #[arg(value_name = "RUN", required = true, num_args = 1..=2)]
    pub runs: Vec<PathBuf>,
    /// Use the paper's figures as A (its Table 2 unless --paper-table says otherwise).
    #[arg(long)]
    pub paper: bool,
    /// Which of the paper's tables --paper uses: Table 2 (OpenWhisk + Redis) or Table 3
    /// (Lambda + ElastiCache).
    #[arg(long, value_enum, default_value = "openwhisk", requires = "paper")]
    pub paper_table: PaperTable,
    /// Exit with status 3 when B is significantly slower than A by more than PCT percent in
    /// any phase or command (the interval excludes 1 and the ratio exceeds 1 + PCT/100).
    #[arg(long, value_name = "PCT")]
    pub fail_if_slower: Option<f64>,
    /// Compare an open-loop run with a closed-loop one (or the paper) anyway; refused
    /// otherwise, since their latencies are not the same quantity.
    #[arg(long)]
    pub allow_mixed_loops: bool,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

fn read(path: &std::path::Path) -> anyhow::Result<Side> {
    let run = RunRecord::read(path).with_context(|| {
        format!(
            "cannot read the run at {} (a results directory holding run.json, or the run.json itself)",
            path.display()
        )
    })?;
    Ok(Side::from_run(path.display().to_string(), &run))
}

/// Exit codes: 0 compared (and not slower beyond --fail-if-slower); 3 slower beyond it;
/// 1 a run could not be read or a value is wrong; 2 clap usage errors.
pub fn run(args: CompareArgs) -> anyhow::Result<Exit> {
    if let Some(pct) = args.fail_if_slower
        && !(pct.is_finite() && pct >= 0.0)
    {
        anyhow::bail!("--fail-if-slower takes a percentage ≥ 0, e.g. 10");
    }
    let (a, b) = match (args.paper, args.runs.as_slice()) {
        (true, [b]) => (Side::paper(args.paper_table), read(b)?),
        (false, [a, b]) => (read(a)?, read(b)?),
        (true, _) => anyhow::bail!("with --paper give one run (B); the paper is A"),
        (false, _) => anyhow::bail!("give two runs to compare (A and B), or --paper and one run"),
    };
    match check_loops(&a, &b, args.allow_mixed_loops) {
        Ok(Some(note)) => eprintln!("{note}"),
        Ok(None) => {}
        Err(refusal) => anyhow::bail!(refusal),
    }
    let c = compare(&a, &b);
    args.output.print(&c, || c.text())?;
    if let Some(pct) = args.fail_if_slower {
        let slower = c.slower_than(pct);
        if !slower.is_empty() {
            let names: Vec<_> = slower.iter().map(|r| r.name.as_str()).collect();
            eprintln!(
                "B is slower than A by more than {pct}% (95% interval above 1): {}",
                names.join(", ")
            );
            return Ok(Exit::Slower);
        }
    }
    Ok(Exit::Success)
}
