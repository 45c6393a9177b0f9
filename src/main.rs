use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // The local platform runs a built-in action by re-executing this binary with
    // REDWHISK_ACTION set (see platform::local); then this process is that action, not the CLI.
    if let Ok(action) = std::env::var("REDWHISK_ACTION") {
        return redwhisk_actions::run_action(&action);
    }
    // The shaping proxy of `[redis.network_emulation]` is this binary re-executed the same way.
    if let Ok(spec) = std::env::var(redwhisk::netem::ENV) {
        return redwhisk::netem::serve_env(&spec);
    }
    let cli = redwhisk::cli::Cli::parse();
    redwhisk::cli::run(cli)
}
