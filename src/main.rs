use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = redwhisk::cli::Cli::parse();
    redwhisk::cli::run(cli)
}
