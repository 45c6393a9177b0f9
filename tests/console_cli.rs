//! `redwhisk console` without a terminal: it falls back to the headless run, and bad input is a
//! clear error with a non-zero exit.

use std::process::Command;

fn redwhisk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

#[test]
fn without_a_terminal_the_console_runs_headless() {
    // stdout is a pipe here, so the console must not take over the terminal.
    let out = redwhisk()
        .args(["console", "--profile", "nosuch"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("running headless"), "{stderr}");
    assert!(stderr.contains("no profile named `nosuch`"), "{stderr}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("\x1b[?1049h"),
        "alternate screen entered"
    );
}

#[test]
fn fps_out_of_range_is_refused() {
    let out = redwhisk().args(["console", "--fps", "0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--fps"), "{stderr}");
}
