//! `redwhisk results repair`: finalise runs interrupted by a kill -9 (see results/journal.rs).

use std::path::PathBuf;

use super::exit::Exit;

/// What to do with results directories.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ResultsAction {
    /// Turn the journal of each run that was killed mid-way into a valid run.json marked
    /// `partial` and `interrupted` (only a torn last record is dropped). Runs still in progress
    /// are left alone.
    Repair {
        /// The results root to scan, or one run directory.
        #[arg(long, default_value = crate::results::DEFAULT_ROOT)]
        results_dir: PathBuf,
    },
}

/// Exit codes: 0 nothing to do or all repaired; 1 a directory could not be repaired.
pub fn run(action: ResultsAction) -> anyhow::Result<Exit> {
    match action {
        ResultsAction::Repair { results_dir } => repair(&results_dir),
    }
}

fn repair(root: &std::path::Path) -> anyhow::Result<Exit> {
    if !root.is_dir() {
        anyhow::bail!(
            "--results-dir {}: no such directory (give the results root, e.g. `results`)",
            root.display()
        );
    }
    // One run directory given directly, or a root holding many.
    let outcomes = if root.join(".activations.jsonl.partial").exists() {
        match crate::results::orphans(root.parent().unwrap_or(root))
            .into_iter()
            .find(|d| d.file_name() == root.file_name())
        {
            Some(d) => vec![crate::results::repair(&d)],
            None => anyhow::bail!(
                "{}: a live redwhisk is still writing this run (or it is already finished)",
                root.display()
            ),
        }
    } else {
        crate::results::repair_all(root)
    };
    if outcomes.is_empty() {
        println!("nothing to repair under {}", root.display());
        return Ok(Exit::Success);
    }
    let mut failed = false;
    for o in outcomes {
        match o {
            Ok(r) => println!("{r}"),
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
            }
        }
    }
    Ok(if failed { Exit::Error } else { Exit::Success })
}
