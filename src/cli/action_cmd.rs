//! `redwhisk action package`: write the deployable artifacts, the same bytes `redwhisk run`
//! deploys to OpenWhisk, so a user can deploy them by hand with `wsk`.

use std::path::PathBuf;

use super::exit::Exit;

use anyhow::Context as _;
use clap::Subcommand;

use crate::platform::BuiltinAction;
use crate::platform::openwhisk::package;

#[derive(Debug, Subcommand)]
pub enum ActionCommand {
    /// Write bench/writer/reader as native zips (`exec` at the root, for `wsk ... --native`)
    /// and as Node.js files (for `wsk ... --kind nodejs:20`).
    Package {
        /// Directory to write into (created when missing).
        #[arg(long, default_value = "dist/actions")]
        out: PathBuf,
        /// Where the static `bench`, `writer` and `reader` binaries are; searched first, then
        /// $REDWHISK_ACTIONS_DIR, the directory of this executable and
        /// target/x86_64-unknown-linux-gnu/dist of the source tree.
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        /// Only the Node.js files (no static binaries needed).
        #[arg(long, conflicts_with_all = ["build", "bin_dir"])]
        nodejs_only: bool,
        /// Build the static binaries first (cargo, in the source tree this redwhisk was built
        /// from): one command from a checkout to deployable packages.
        #[arg(long, conflicts_with = "bin_dir")]
        build: bool,
    },
}

pub fn run(command: ActionCommand) -> anyhow::Result<Exit> {
    match command {
        ActionCommand::Package {
            out,
            bin_dir,
            nodejs_only,
            build,
        } => {
            let bin_dir = if build {
                let src = package::source_tree();
                eprintln!("building the static actions in {} …", src.display());
                Some(package::build_static(&src)?)
            } else {
                bin_dir
            };
            let written = if nodejs_only {
                package::write_nodejs(&out)
            } else {
                package::write_all(&out, bin_dir.as_deref())
            }
            .with_context(|| format!("cannot package the actions into {}", out.display()))?;
            for path in &written {
                let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                println!("wrote {} ({size} bytes)", path.display());
            }
            println!("\nDeploy by hand (what redwhisk does for you):");
            for action in [
                BuiltinAction::Bench,
                BuiltinAction::Writer,
                BuiltinAction::Reader,
            ] {
                let a = action.as_str();
                let dir = out.display();
                if !nodejs_only {
                    println!("  wsk action update redwhisk-{a} {dir}/{a}.zip --native");
                }
                println!("  wsk action update redwhisk-{a}-nodejs {dir}/{a}.js --kind nodejs:20");
            }
            Ok(Exit::Success)
        }
    }
}
