//! End to end: the real binary in tmux. Opens the console on a small profile, runs it to the
//! end, checks the gauge and the stats table, quits, and checks the terminal was restored; and
//! the Share, Results and Compare views driven by keys.
//! Needs tmux (and, for the run, redis-server); it fails loudly when they are missing.

// The helpers below run only inside tests; a failed set-up step should panic there.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// Bounded waits; nothing here asserts on how long anything took.
const START_LIMIT: Duration = Duration::from_secs(30);
const RUN_LIMIT: Duration = Duration::from_secs(300);

/// A private tmux server (its own socket) with one session; killed on drop.
struct Tmux {
    socket: String,
    session: String,
}

impl Tmux {
    fn cmd(&self, args: &[&str]) -> Output {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap_or_else(|e| {
                panic!("tmux is required for this test (apt-get install -y tmux): {e}")
            });
        assert!(
            out.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Start `script` (run by sh) in a 120×40 session with `env` set, in `cwd`.
    fn start(tag: &str, cwd: &Path, env: &[(&str, String)], script: &str) -> Tmux {
        Self::start_sized(tag, cwd, env, script, (120, 40))
    }

    /// As [`Tmux::start`], in a `w`×`h` session.
    fn start_sized(
        tag: &str,
        cwd: &Path,
        env: &[(&str, String)],
        script: &str,
        (w, h): (u16, u16),
    ) -> Tmux {
        let id = format!("rw-{tag}-{}", std::process::id());
        let t = Tmux {
            socket: id.clone(),
            session: id,
        };
        let mut args: Vec<String> = vec![
            "new-session".into(),
            "-d".into(),
            "-s".into(),
            t.session.clone(),
            "-x".into(),
            w.to_string(),
            "-y".into(),
            h.to_string(),
            "-c".into(),
            cwd.display().to_string(),
        ];
        for (k, v) in env {
            args.push("-e".into());
            args.push(format!("{k}={v}"));
        }
        args.push(script.into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        t.cmd(&refs);
        t
    }

    fn screen(&self) -> String {
        let out = self.cmd(&["capture-pane", "-p", "-t", &self.session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen_with_escapes(&self) -> String {
        let out = self.cmd(&["capture-pane", "-p", "-e", "-t", &self.session]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &str) {
        self.cmd(&["send-keys", "-t", &self.session, keys]);
    }

    fn display(&self, format: &str) -> String {
        let out = self.cmd(&["display-message", "-p", "-t", &self.session, format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Poll the screen until `done` holds; panic with the last screen after `limit`.
    fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let s = self.screen();
            if done(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what}; the screen was:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

const PROFILE: &str = r#"
description = "end-to-end test: tiny workload"
[redis]
backend = "process"
bind = "127.0.0.1"
port = 0
persistence = "rdb"
save = ["3600 1"]
[platform]
kind = "local"
[workload]
invocations = 20
records = 200
concurrency = 1
"#;

struct Setup {
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let profiles = dir.path().join("config/profiles");
    std::fs::create_dir_all(&profiles).unwrap();
    std::fs::write(profiles.join("e2e.toml"), PROFILE).unwrap();
    let env = vec![
        (
            "REDWHISK_CONFIG_DIR",
            dir.path().join("config").display().to_string(),
        ),
        (
            "REDWHISK_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
    ];
    Setup { dir, env }
}

/// The console, then the exit code and the terminal's line settings once it has gone.
fn script(dir: &Path) -> String {
    format!(
        "'{}' console --profile e2e --results '{}'; echo \"exit=$?\"; stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '; echo; exec sleep 600",
        env!("CARGO_BIN_EXE_redwhisk"),
        dir.join("results").display()
    )
}

/// Quit with `q` and check: the process exited 0, raw mode is off, the alternate screen is left.
fn quit_and_check_restored(t: &Tmux) {
    t.keys("q");
    let s = t.wait_for("the console to exit", START_LIMIT, |s| {
        s.contains("exit=") && s.contains("icanon")
    });
    assert!(
        s.contains("exit=0"),
        "the console did not exit cleanly:\n{s}"
    );
    let modes = s
        .lines()
        .find(|l| l.contains("icanon"))
        .unwrap_or_else(|| panic!("no stty line:\n{s}"));
    let modes: Vec<&str> = modes.split_whitespace().collect();
    assert!(
        modes.contains(&"icanon") && modes.contains(&"echo"),
        "raw mode was left on: {modes:?}"
    );
    assert_eq!(
        t.display("#{alternate_on}"),
        "0",
        "still on the alternate screen"
    );
}

/// SGR parameters that set a colour (30–48, 90–107; 39 and 49 only reset to the default).
fn colour_codes(ansi: &str) -> Vec<String> {
    let mut found = Vec::new();
    for chunk in ansi.split("\x1b[").skip(1) {
        let Some(end) = chunk.find(|c: char| !(c.is_ascii_digit() || c == ';')) else {
            continue;
        };
        if !chunk[end..].starts_with('m') {
            continue;
        }
        for p in chunk[..end].split(';') {
            if let Ok(n) = p.parse::<u32>()
                && ((30..=48).contains(&n) || (90..=107).contains(&n))
                && n != 39
            {
                found.push(chunk[..end].to_string());
            }
        }
    }
    found
}

#[test]
fn console_opens_and_quits_cleanly_with_and_without_colour() {
    for no_color in [false, true] {
        let s = setup();
        let mut env = s.env.clone();
        if no_color {
            env.push(("NO_COLOR", "1".into()));
        }
        let tag = if no_color { "nocolor" } else { "color" };
        let t = Tmux::start(tag, s.dir.path(), &env, &script(s.dir.path()));
        let screen = t.wait_for("the console to open", START_LIMIT, |s| {
            s.contains("no run yet") && s.contains("e2e")
        });
        assert!(screen.contains("20 × 200 records"), "{screen}");
        let codes = colour_codes(&t.screen_with_escapes());
        if no_color {
            assert!(
                codes.is_empty(),
                "NO_COLOR but colours were drawn: {codes:?}"
            );
        } else {
            assert!(!codes.is_empty(), "no colours were drawn at all");
        }
        t.keys("?");
        t.wait_for("the help overlay", START_LIMIT, |s| s.contains("Help · ?"));
        t.keys("Escape");
        t.wait_for("the help to close", START_LIMIT, |s| {
            !s.contains("Help · ?")
        });
        quit_and_check_restored(&t);
    }
}

#[test]
fn a_small_run_completes_on_screen() {
    let s = setup();
    let t = Tmux::start("run", s.dir.path(), &s.env, &script(s.dir.path()));
    t.wait_for("the console to open", START_LIMIT, |s| {
        s.contains("no run yet")
    });
    t.keys("r");
    let screen = t.wait_for("the run to finish", RUN_LIMIT, |s| {
        s.contains("20/20") && s.contains("done") || s.contains("run failed")
    });
    assert!(!screen.contains("run failed"), "the run failed:\n{screen}");
    let total = screen
        .lines()
        .find_map(|l| l.split_once("total  ").map(|(_, rest)| rest.to_string()))
        .unwrap_or_else(|| panic!("no stats row for total:\n{screen}"));
    let cells: Vec<&str> = total.split_whitespace().collect();
    assert_eq!(cells.first(), Some(&"20"), "n of total: {total}");
    let mean: f64 = cells[1]
        .parse()
        .unwrap_or_else(|_| panic!("mean is not a number: {total}"));
    assert!(mean > 0.0, "{total}");
    let results = std::fs::read_dir(s.dir.path().join("results"))
        .unwrap()
        .count();
    assert_eq!(results, 1, "one results directory");
    quit_and_check_restored(&t);
}

/// The console's other views with the real binary: two runs, then case study 2 from `s` whose
/// matrix fills in on screen, then Sweep and Results (`v`, `v`), two runs marked with Space, and
/// Compare.
#[test]
fn share_fills_the_matrix_then_results_and_compare() {
    let s = setup();
    let t = Tmux::start("views", s.dir.path(), &s.env, &script(s.dir.path()));
    t.wait_for("the console to open", START_LIMIT, |s| {
        s.contains("no run yet")
    });
    let results = s.dir.path().join("results");
    let finished_runs = || {
        std::fs::read_dir(&results)
            .map(|d| {
                d.flatten()
                    .filter(|e| e.path().join("run.json").is_file())
                    .count()
            })
            .unwrap_or(0)
    };
    for n in 1..=2 {
        t.keys("r");
        let screen = t.wait_for("a run to finish", RUN_LIMIT, |screen| {
            finished_runs() == n && screen.contains("done") || screen.contains("run failed")
        });
        assert!(!screen.contains("run failed"), "{screen}");
    }
    // Case study 2: the Share view shows the matrix filling in, cell by cell.
    t.keys("s");
    let partial = t.wait_for("the matrix to start filling in", RUN_LIMIT, |s| {
        s.contains("Case study 2") && s.contains("cycles · live") && !s.contains("160/160 cycles")
    });
    assert!(partial.contains("persistence"), "{partial}");
    let done = t.wait_for("the matrix to finish", RUN_LIMIT, |s| {
        s.contains("160/160 cycles") && s.contains("aof-always") || s.contains("run failed")
    });
    assert!(!done.contains("run failed"), "{done}");
    assert!(done.contains("as expected: every write survived"), "{done}");
    assert!(done.contains("as expected: the writes were lost"), "{done}");
    // Sweep (v from Share, nothing run yet), then Results: newest first (the share
    // experiment, then the two runs).
    t.keys("v");
    t.wait_for("the Sweep view", START_LIMIT, |s| {
        s.contains("no sweep yet")
    });
    t.keys("v");
    // The listing itself, not words the log pane and the footer also hold ("run", "share"):
    // under load the listing can take longer than one look at the screen.
    let listing = t.wait_for("the results listing", START_LIMIT, |s| {
        s.contains("sort: date (S)")
            && !s.contains("reading the results directory")
            && s.contains(" cyc")
            && s.matches(" inv").count() >= 2
    });
    assert!(listing.contains("160 cyc"), "{listing}");
    // Mark the two runs: Compare opens with B against A.
    t.keys("j");
    t.keys("Space");
    t.keys("j");
    t.keys("Space");
    let compare = t.wait_for("the comparison", START_LIMIT, |s| {
        s.contains("Compare: B against A")
    });
    for row in ["write", "read", "delete", "total", "SET", "GET", "DEL"] {
        assert!(
            compare
                .lines()
                .any(|l| l.trim_start_matches('│').starts_with(row)),
            "no {row} row:\n{compare}"
        );
    }
    assert!(compare.contains("95% CI"), "{compare}");
    quit_and_check_restored(&t);
}

/// A sweep from the console (`w`) with the real binary: the Sweep view fills in step by step
/// while each step runs, then all six rows, the knee, and one results directory per step.
#[test]
fn a_sweep_fills_its_table_step_by_step() {
    let s = setup();
    let t = Tmux::start("sweep", s.dir.path(), &s.env, &script(s.dir.path()));
    t.wait_for("the console to open", START_LIMIT, |s| {
        s.contains("no run yet")
    });
    t.keys("w");
    let partial = t.wait_for("the sweep to be under way", RUN_LIMIT, |s| {
        s.contains("/6 steps") && s.contains("running…") || s.contains("failed after")
    });
    assert!(!partial.contains("failed after"), "{partial}");
    assert!(partial.contains("pending"), "{partial}");
    let done = t.wait_for("the sweep to finish", RUN_LIMIT, |s| {
        s.contains("6/6 steps") && s.contains("sweep done") || s.contains("failed after")
    });
    assert!(!done.contains("failed after"), "{done}");
    assert!(done.contains("← knee"), "{done}");
    assert!(!done.contains("pending"), "{done}");
    for c in ["1", "2", "4", "8", "16", "32"] {
        assert!(
            done.lines().any(|l| {
                let cells: Vec<&str> = l.trim_start_matches('│').split_whitespace().collect();
                cells.first() == Some(&c)
                    && cells.get(1).is_some_and(|n| n.parse::<u32>().is_ok())
                    && cells
                        .get(3)
                        .is_some_and(|v| v.parse::<f64>().is_ok_and(|v| v > 0.0))
            }),
            "no finished row for concurrency {c}:\n{done}"
        );
    }
    let sweep_dirs = std::fs::read_dir(s.dir.path().join("results"))
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("sweep.json").is_file())
        .count();
    assert_eq!(sweep_dirs, 1);
    // Results (the view after Sweep) lists the sweep, newest first; Enter reopens it.
    t.keys("v");
    let listing = t.wait_for("the sweep in the results listing", START_LIMIT, |s| {
        s.contains("sort: date (S)")
            && s.lines()
                .any(|l| l.contains(" sweep ") && l.contains("6 steps"))
    });
    assert!(listing.contains("p50 ms"), "{listing}");
    t.keys("Home");
    t.keys("Enter");
    t.wait_for("the sweep reopened", START_LIMIT, |s| {
        s.contains("6/6 steps") && s.contains("opened ")
    });
    quit_and_check_restored(&t);
}

/// A signal quits the console mid-run as `q` would (the run cancelled, Redis saved and stopped,
/// the terminal restored), and the exit code says which signal: 143 for SIGTERM.
#[test]
fn sigterm_mid_run_quits_the_console_with_143_and_restores_the_terminal() {
    let s = setup();
    // A run long enough to be interrupted.
    std::fs::write(
        s.dir.path().join("config/profiles/e2e.toml"),
        PROFILE.replace("invocations = 20", "invocations = 100000"),
    )
    .unwrap();
    let t = Tmux::start("sigterm", s.dir.path(), &s.env, &script(s.dir.path()));
    t.wait_for("the console to open", START_LIMIT, |s| {
        s.contains("no run yet")
    });
    t.keys("r");
    t.wait_for("invocations to complete", RUN_LIMIT, |s| {
        s.contains("invoking")
    });
    // The console is the shell's child in the pane.
    let shell = t.display("#{pane_pid}");
    let out = Command::new("pgrep")
        .args(["-P", &shell, "-x", "redwhisk"])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        !pid.is_empty(),
        "no redwhisk process under the pane's shell {shell}"
    );
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    let screen = t.wait_for("the console to exit", RUN_LIMIT, |s| {
        s.contains("exit=") && s.contains("icanon")
    });
    assert!(screen.contains("exit=143"), "{screen}");
    let modes = screen
        .lines()
        .find(|l| l.contains("icanon"))
        .unwrap_or_else(|| panic!("no stty line:\n{screen}"));
    let modes: Vec<&str> = modes.split_whitespace().collect();
    assert!(
        modes.contains(&"icanon") && modes.contains(&"echo"),
        "raw mode was left on: {modes:?}"
    );
    // The run's Redis was saved and stopped: no redis-server works in the test's data dir.
    let data = s.dir.path().join("data");
    let left = Command::new("pgrep")
        .args(["-f", &format!("--dir {}", data.display())])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&left.stdout).trim().is_empty(),
        "a redis-server was left running in {}",
        data.display()
    );
}

/// A profile file with a misspelt setting: the console lists it, and `r` on it logs the load
/// error, which names every valid setting and ends with where to read more.
const BAD_PROFILE: &str =
    "description = \"bad\"\n[redis]\nbackend = \"process\"\nbogus_setting = 1\n";

/// Issue 25 item 1 at 80×24, 120×40 and 200×60: the log follows the end of the newest message,
/// however long; ↑ reaches its start; End comes back; the error also flashes at the top until
/// Esc.
#[test]
fn the_log_shows_the_end_of_a_long_error_and_the_header_flashes_it() {
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        log_end_at(w, h);
    }
}

fn log_end_at(w: u16, h: u16) {
    let s = setup();
    std::fs::write(s.dir.path().join("config/profiles/bad.toml"), BAD_PROFILE).unwrap();
    let t = Tmux::start_sized(
        &format!("log{w}"),
        s.dir.path(),
        &s.env,
        &script(s.dir.path()),
        (w, h),
    );
    t.wait_for("the console to open", START_LIMIT, |s| {
        s.contains("no run yet")
    });
    // 1 is the embedded `local`, then the files by name: bad, e2e.
    t.keys("2");
    t.keys("r");
    // The end of the message is on screen (waited for: the frame may be mid-draw).
    let screen = t.wait_for("the error's last row", START_LIMIT, |s| {
        s.contains("Esc dismisses") && s.split_whitespace().any(|w| w == "README.md)")
    });
    assert!(
        screen
            .lines()
            .next()
            .unwrap()
            .contains("! profile `bad` cannot be used"),
        "{screen}"
    );
    // The message's first row in the log pane (the header's flash starts with ` !`).
    let first_row = |s: &str| {
        s.lines()
            .any(|l| l.starts_with('│') && l.contains("profile `bad` cannot be used"))
    };
    if first_row(&screen) {
        // It fits whole (wide terminals): nothing to scroll to, all of it on screen.
        assert!(!screen.contains("rows up"), "{w}×{h}: {screen}");
    } else {
        for _ in 0..40 {
            t.keys("Up");
        }
        let top = t.wait_for("the start of the message", START_LIMIT, |s| {
            s.contains("rows up") && first_row(s)
        });
        assert!(top.contains("rows up"), "{w}×{h}: {top}");
        t.keys("End");
        t.wait_for("the end again", START_LIMIT, |s| {
            !s.contains("rows up") && s.split_whitespace().any(|w| w == "README.md)")
        });
    }
    t.keys("Escape");
    t.wait_for("the error to be acknowledged", START_LIMIT, |s| {
        !s.contains("Esc dismisses")
    });
    quit_and_check_restored(&t);
}

/// Issue 25 item 2: eight profiles (the embedded `local` and seven files, two with long
/// names) at 80×24, 120×40 and 200×60: the selected one always shows with its number, long names end
/// in `…`, hidden ones are counted, and the profiles never run into the view tabs.
#[test]
fn the_header_fits_eight_profiles() {
    let s = setup();
    let dir = s.dir.path().join("config/profiles");
    for name in [
        "b2",
        "c3",
        "d4",
        "e5",
        "f6-a-profile-with-a-long-name",
        "g7-another-long-one",
    ] {
        std::fs::write(
            dir.join(format!("{name}.toml")),
            PROFILE.replace("end-to-end test", name),
        )
        .unwrap();
    }
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let t = Tmux::start_sized(
            &format!("hdr{w}"),
            s.dir.path(),
            &s.env,
            &script(s.dir.path()),
            (w, h),
        );
        let first = t.wait_for("the console to open", START_LIMIT, |s| {
            s.contains("no run yet")
        });
        // The tabs are the first row at 80 columns, the second (in the header pane) from 120.
        let row = usize::from(w >= 120);
        let head = first.lines().nth(row).unwrap();
        assert!(head.contains("e2e"), "{w}×{h}: {head}");
        // local (embedded), then the files by path: b2 c3 d4 e2e e5 f6… g7…; ← from local
        // wraps to the 8th.
        t.keys("1");
        t.keys("Left");
        let last = t.wait_for("the 8th profile", START_LIMIT, |s| {
            s.lines().nth(row).unwrap().contains("8 g7-")
        });
        let head = last.lines().nth(row).unwrap();
        assert!(head.contains('…'), "{w}×{h}: {head}");
        if w == 80 {
            assert!(head.contains('‹'), "hidden profiles are counted: {head}");
        }
        assert!(!head.contains("Run│") && !head.contains("…Run"), "{head}");
        t.keys("1");
        t.wait_for("the 1st profile", START_LIMIT, |s| {
            s.lines().nth(row).unwrap().contains("1 local")
        });
        quit_and_check_restored(&t);
    }
}

/// Issue 25 item 3 at 80×24, 120×40 and 200×60: after `u` the Redis pane follows uptime, keys
/// and memory while keys are written from outside; the quit question goes when the run ends.
#[test]
fn the_redis_pane_follows_writes_and_the_quit_question_goes_with_the_run() {
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let s = setup();
        std::fs::write(
            s.dir.path().join("config/profiles/e2e.toml"),
            PROFILE.replace("invocations = 20", "invocations = 150"),
        )
        .unwrap();
        let t = Tmux::start_sized(
            &format!("stale{w}"),
            s.dir.path(),
            &s.env,
            &script(s.dir.path()),
            (w, h),
        );
        t.wait_for("the console to open", START_LIMIT, |s| {
            s.contains("no run yet")
        });
        t.keys("u");
        let up = t.wait_for("Redis to run", START_LIMIT, |s| s.contains("keys 0"));
        let port: String = up
            .split("redis://127.0.0.1:")
            .nth(1)
            .unwrap_or_else(|| panic!("no endpoint:\n{up}"))
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let pw = std::fs::read_to_string(s.dir.path().join("data/e2e/redwhisk.password")).unwrap();
        for i in 0..37 {
            let out = Command::new("redis-cli")
                .env("REDISCLI_AUTH", pw.trim())
                .args(["-p", &port, "SET", &format!("k{i}"), "v"])
                .output()
                .unwrap_or_else(|e| panic!("redis-cli is required: {e}"));
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "OK");
        }
        t.wait_for("the keys written to show", START_LIMIT, |s| {
            s.contains("keys 37")
        });
        t.wait_for("the uptime to move", START_LIMIT, |s| {
            s.contains("uptime   2s") || s.contains("uptime   3s")
        });
        t.keys("r");
        t.wait_for("the run to be under way", RUN_LIMIT, |s| {
            s.contains("invoking")
        });
        t.keys("q");
        let asked = t.wait_for("the quit question or the run's end", RUN_LIMIT, |s| {
            s.contains("A run is active") || s.contains("run done")
        });
        if asked.contains("A run is active") {
            t.wait_for("the question to go with the run", RUN_LIMIT, |s| {
                s.contains("run done") && !s.contains("A run is active")
            });
        }
        quit_and_check_restored(&t);
    }
}

/// Issue 25 item 4: a pane resized while the console runs, then `q`: nothing of the frame is
/// left on the shell's screen, even where the terminal keeps no alternate screen (tmux with
/// `alternate-screen off`, where the old console left 8–14 rows of its last frame).
#[test]
fn quitting_after_a_resize_leaves_only_the_shell() {
    for alternate in ["on", "off"] {
        let s = setup();
        // The console starts after the option is set.
        let script = format!("sleep 1; {}", script(s.dir.path()));
        let t = Tmux::start_sized(
            &format!("resize{alternate}"),
            s.dir.path(),
            &s.env,
            &script,
            (120, 40),
        );
        t.cmd(&["set-option", "-g", "alternate-screen", alternate]);
        t.cmd(&[
            "set-window-option",
            "-t",
            &t.session,
            "alternate-screen",
            alternate,
        ]);
        t.wait_for("the console to open", START_LIMIT, |s| {
            s.contains("no run yet")
        });
        t.cmd(&["resize-window", "-t", &t.session, "-x", "80", "-y", "24"]);
        t.wait_for("the narrow layout", START_LIMIT, |s| s.contains("Run  1/5"));
        t.cmd(&["resize-window", "-t", &t.session, "-x", "200", "-y", "60"]);
        t.wait_for("the wide layout", START_LIMIT, |s| s.contains("Compare"));
        quit_and_check_restored(&t);
        let left: Vec<String> = t
            .screen()
            .lines()
            .map(str::trim_end)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        assert!(
            left.iter()
                .all(|l| l.starts_with("exit=") || l.contains("icanon")),
            "alternate-screen {alternate}: the frame was left on the shell:\n{}",
            left.join("\n")
        );
    }
}

/// Issue 25 item 11: idle (no run, Redis stopped, no key pressed) the console sends nothing to
/// the terminal; a key press redraws. Measured as the bytes tmux receives from the pane.
#[test]
fn an_idle_console_sends_nothing_to_the_terminal() {
    let s = setup();
    let t = Tmux::start("idle", s.dir.path(), &s.env, &script(s.dir.path()));
    t.wait_for("the console to open", START_LIMIT, |s| {
        s.contains("no run yet")
    });
    // Let the start-up status reply land.
    std::thread::sleep(Duration::from_secs(2));
    let out = s.dir.path().join("pane.bytes");
    let pipe = format!("cat >> '{}'", out.display());
    t.cmd(&["pipe-pane", "-o", "-t", &t.session, &pipe]);
    std::thread::sleep(Duration::from_secs(3));
    let idle = std::fs::metadata(&out).map_or(0, |m| m.len());
    assert_eq!(idle, 0, "the idle console sent {idle} bytes in 3 s");
    t.keys("?");
    t.wait_for("the help overlay", START_LIMIT, |s| s.contains("Help · ?"));
    t.cmd(&["pipe-pane", "-t", &t.session]);
    let after_key = std::fs::metadata(&out).map_or(0, |m| m.len());
    assert!(after_key > 0, "a key press drew nothing");
    t.keys("Escape");
    quit_and_check_restored(&t);
}

/// Issue 25 item 9 at 80×24, 120×40 and 200×60: a failover, a gateway study and a gateway
/// share listed in Results open as their reports (the recorded ones the real commands wrote),
/// scroll to their last row and close with Esc.
#[test]
fn failovers_and_gateway_studies_open_from_results_as_reports() {
    let s = setup();
    let results = s.dir.path().join("results");
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reports");
    for entry in std::fs::read_dir(&fixtures).unwrap().flatten() {
        let to = results.join(entry.file_name());
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(entry.path()).unwrap().flatten() {
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let t = Tmux::start_sized(
            &format!("rep{w}"),
            s.dir.path(),
            &s.env,
            &script(s.dir.path()),
            (w, h),
        );
        t.wait_for("the console to open", START_LIMIT, |s| {
            s.contains("no run yet")
        });
        // Run → Share → Sweep → Results.
        for _ in 0..3 {
            t.keys("v");
        }
        t.wait_for("the results listing", START_LIMIT, |s| {
            s.contains("failover") && s.contains("gw-study") && s.contains("gw-share")
        });
        // Each picked with the filter (`/`, its kind, Enter), then opened with Enter.
        for (kind, title, last_row) in [
            ("failover", "failover on `fo`", "results: /tmp/fx/f/"),
            (
                "gw-share",
                "gateway share on `local`",
                "results: /tmp/fx/g/",
            ),
            (
                "gw-study",
                "gateway study on `local`",
                "results: /tmp/fx/s/",
            ),
        ] {
            t.keys("/");
            t.keys(kind);
            t.keys("Enter");
            let others: Vec<&str> = ["failover", "gw-share", "gw-study"]
                .into_iter()
                .filter(|k| *k != kind)
                .collect();
            t.wait_for("the filter", START_LIMIT, |s| {
                let row = |k: &str| s.contains(&format!("  {k} "));
                row(kind) && others.iter().all(|o| !row(o))
            });
            t.keys("Enter");
            let first = t.wait_for(title, START_LIMIT, |s| s.contains(title));
            assert!(first.contains("Esc/q/Enter close"), "{w}×{h}: {first}");
            t.keys("End");
            let end = t.wait_for("the report's last row", START_LIMIT, |s| {
                s.contains(last_row)
            });
            assert!(end.contains(title), "{w}×{h}: {end}");
            t.keys("Escape");
            t.wait_for("the report to close", START_LIMIT, |s| !s.contains(title));
            // `/` then Esc clears the filter. Waited for: a key sent right after Esc would
            // reach the console as Alt and that key.
            t.keys("/");
            t.keys("Escape");
            t.wait_for("the filter to clear", START_LIMIT, |s| {
                !s.contains("filter: ")
            });
        }
        quit_and_check_restored(&t);
    }
}
