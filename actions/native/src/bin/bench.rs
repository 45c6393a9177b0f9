//! The bench action as a standalone native (blackbox) executable.

fn main() -> std::process::ExitCode {
    redwhisk_actions::run_action("bench")
}
