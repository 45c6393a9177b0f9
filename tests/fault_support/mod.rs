//! Helpers for the fault-injection tests: a private data directory and profile per test, the
//! binary run with its stderr read line by line, signals, and "no Redis left" checks.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub fn require_redis_server() {
    let ok = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "redis-server is not installed: these tests need it (apt-get install redis-server)"
    );
}

/// Where in a run a fault is injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Point {
    /// Redis is being started.
    Start,
    /// Invocations are running.
    MidRun,
    /// Redis is being saved and stopped (made slow first with [`Env::slow_save`]).
    Stop,
}

/// One test's world: a temp dir with the data root, the results root and a profile file.
pub struct Env {
    pub dir: tempfile::TempDir,
    profile: PathBuf,
    name: String,
}

/// The process-backend profile of the tests: a short readiness deadline (3 s), so a frozen
/// Redis is named quickly, and the local platform.
fn process_profile() -> String {
    include_str!("../../profiles/local.toml")
        .replace("ready_timeout_ms = 10000", "ready_timeout_ms = 3000")
}

impl Env {
    pub fn new() -> Self {
        Self::with_profile(&process_profile())
    }

    /// A profile for an external Redis at `url`, with a 1.5 s readiness deadline.
    pub fn external(url: &str) -> Self {
        Self::with_profile(&format!(
            "[redis]\nbackend = \"external\"\nurl = \"{url}\"\nready_timeout_ms = 1500\n\n[platform]\nkind = \"local\"\n"
        ))
    }

    pub fn with_profile(text: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        // Unique per Env: tests of one binary run in parallel (container names derive from it).
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("fault{}x{n}", std::process::id());
        let profile = dir.path().join(format!("{name}.toml"));
        std::fs::write(&profile, text).unwrap();
        std::fs::create_dir_all(dir.path().join("results")).unwrap();
        Self { dir, profile, name }
    }

    /// Add `line` (e.g. `stop_timeout_ms = 1500`) to the profile's `[redis]` section.
    /// A key the profile already sets is replaced.
    pub fn set_redis(&self, line: &str) {
        let text = std::fs::read_to_string(&self.profile).unwrap();
        assert!(text.contains("[redis]\n"), "{text}");
        let key = format!("{} =", line.split('=').next().unwrap().trim());
        let kept: Vec<&str> = text.lines().filter(|l| !l.starts_with(&key)).collect();
        let text = kept.join("\n") + "\n";
        std::fs::write(
            &self.profile,
            text.replacen("[redis]\n", &format!("[redis]\n{line}\n"), 1),
        )
        .unwrap();
    }

    pub fn profile(&self) -> &Path {
        &self.profile
    }

    /// The profile's name (the `redwhisk.profile` label of its container).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The profile's data directory.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data").join(&self.name)
    }

    pub fn results(&self) -> PathBuf {
        self.dir.path().join("results")
    }

    /// `redwhisk ARGS` with this test's data root.
    pub fn redwhisk(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
        c.current_dir(self.dir.path())
            .env("REDWHISK_DATA_DIR", self.dir.path().join("data"))
            .env("NO_COLOR", "1")
            .args(args);
        c
    }

    /// `redwhisk run -p PROFILE ARGS --results-dir RESULTS`, stderr read line by line.
    pub fn run(&self, args: &[&str]) -> Running {
        let mut c = self.redwhisk(&["run", "-p"]);
        c.arg(&self.profile)
            .args(args)
            .arg("--results-dir")
            .arg(self.results());
        Running::spawn(c)
    }

    pub fn result_dirs(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.results())
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default()
    }

    /// The one run directory's run.json (and checks it is a finished one).
    pub fn only_run_json(&self) -> serde_json::Value {
        let dirs = self.result_dirs();
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        assert_finished(&dirs[0]);
        serde_json::from_str(&std::fs::read_to_string(dirs[0].join("run.json")).unwrap()).unwrap()
    }

    /// Make the final save slow (about `keys` × 20 ms): extra keys and Redis's own
    /// `rdb-key-save-delay`, set on the running server, so a stop can be interrupted.
    pub fn slow_save(&self, keys: u32) {
        let text = std::fs::read_to_string(self.data().join("redwhisk.state.json")).unwrap();
        let st: serde_json::Value = serde_json::from_str(&text).unwrap();
        let port = st["port"].as_u64().unwrap();
        let pw = std::fs::read_to_string(self.data().join("redwhisk.password")).unwrap();
        let client =
            redis::Client::open(format!("redis://:{}@127.0.0.1:{port}/", pw.trim())).unwrap();
        let mut con = client.get_connection().unwrap();
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("rdb-key-save-delay")
            .arg("20000")
            .query::<()>(&mut con)
            .unwrap();
        for i in 0..keys {
            redis::cmd("SET")
                .arg(format!("slow:{i}"))
                .arg(i)
                .query::<()>(&mut con)
                .unwrap();
        }
    }

    /// The pid in the state file.
    pub fn redis_pid(&self) -> u32 {
        let text = std::fs::read_to_string(self.data().join("redwhisk.state.json")).unwrap();
        let st: serde_json::Value = serde_json::from_str(&text).unwrap();
        u32::try_from(st["pid"].as_u64().unwrap()).unwrap()
    }

    /// Wait for the state file to name a pid (the server was just spawned).
    pub fn wait_redis_pid(&self) -> u32 {
        let t0 = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(self.data().join("redwhisk.state.json"))
                && let Ok(st) = serde_json::from_str::<serde_json::Value>(&text)
                && let Some(pid) = st["pid"].as_u64()
            {
                return u32::try_from(pid).unwrap();
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "no state file appeared"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// No redis-server runs in this profile's data directory (its working directory).
    pub fn assert_no_redis(&self) {
        let left = redis_servers_in(&self.data());
        assert!(left.is_empty(), "redis-server left running: pids {left:?}");
    }
}

/// redis-server processes whose working directory is `dir` (`--dir` chdirs there).
pub fn redis_servers_in(dir: &Path) -> Vec<u32> {
    let Ok(want) = dir.canonicalize() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if !comm.starts_with("redis-server") || !pid_alive(pid) {
            continue;
        }
        if std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c == want) {
            found.push(pid);
        }
    }
    found
}

/// A finished results directory: run.json and invocations.csv, no leftover partial files.
pub fn assert_finished(dir: &Path) {
    assert!(
        dir.join("run.json").exists(),
        "{} has no run.json",
        dir.display()
    );
    assert!(dir.join("invocations.csv").exists());
    let partial: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(partial.is_empty(), "{partial:?}");
}

pub fn pid_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X")
    })
}

pub fn signal(pid: u32, sig: i32) {
    let _ = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status();
}

/// A running `redwhisk` whose stderr is collected and offered line by line.
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
}

pub struct Finished {
    pub code: i32,
    pub stderr: String,
    pub stdout: String,
}

impl Running {
    pub fn spawn(mut c: Command) -> Self {
        let mut child = c
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let err = child.stderr.take().unwrap();
        let (tx, lines) = channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let all = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                all.lock().unwrap().push_str(&format!("{line}\n"));
                let _ = tx.send(line);
            }
        });
        Self {
            child,
            lines,
            stderr,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for a stderr line containing `pat`; panics (after killing) when it never comes.
    pub fn wait_line(&mut self, pat: &str, limit: Duration) -> String {
        let t0 = Instant::now();
        loop {
            let left = limit.saturating_sub(t0.elapsed());
            match self.lines.recv_timeout(left) {
                Ok(l) if l.contains(pat) => return l,
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let _ = self.child.kill();
                    panic!(
                        "never saw `{pat}` on stderr:\n{}",
                        self.stderr.lock().unwrap()
                    );
                }
            }
        }
    }

    /// Get to `point` of the run.
    pub fn reach(&mut self, point: Point) {
        match point {
            Point::Start => {
                self.wait_line("[starting redis]", Duration::from_secs(60));
            }
            Point::MidRun => {
                self.wait_line("[invoking]", Duration::from_secs(60));
                std::thread::sleep(Duration::from_millis(400));
            }
            Point::Stop => {
                self.wait_line("[stopping redis]", Duration::from_secs(120));
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// Wait until the run's journal holds at least `n` records.
    pub fn wait_activations(&mut self, env: &Env, n: usize) {
        let t0 = Instant::now();
        loop {
            let count = env
                .result_dirs()
                .iter()
                .filter(|d| !d.join("run.json").exists())
                .filter_map(|d| std::fs::read_to_string(d.join(".activations.jsonl.partial")).ok())
                .map(|t| t.lines().count())
                .max()
                .unwrap_or(0);
            if count >= n {
                return;
            }
            if t0.elapsed() > Duration::from_secs(60) {
                let _ = self.child.kill();
                panic!(
                    "never saw {n} activations:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Wait for the exit; a run that outlives `limit` is a hang: killed, and the test fails.
    pub fn finish(mut self, limit: Duration) -> Finished {
        let t0 = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stdout = String::new();
                if let Some(mut o) = self.child.stdout.take() {
                    use std::io::Read;
                    let _ = o.read_to_string(&mut stdout);
                }
                // Let the reader thread drain the pipe.
                while self.lines.recv_timeout(Duration::from_millis(200)).is_ok() {}
                let stderr = self.stderr.lock().unwrap().clone();
                use std::os::unix::process::ExitStatusExt;
                let code = status
                    .code()
                    .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
                return Finished {
                    code,
                    stderr,
                    stdout,
                };
            }
            if t0.elapsed() > limit {
                let _ = self.child.kill();
                panic!(
                    "HANG: redwhisk did not exit within {limit:?}:\n{}",
                    self.stderr.lock().unwrap()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Extension: spawn with both pipes.
pub trait SpawnPiped {
    fn spawn_piped(&mut self) -> Child;
}

impl SpawnPiped for Command {
    fn spawn_piped(&mut self) -> Child {
        self.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// `wait_with_output` with a hang detector.
pub fn wait_output(mut child: Child, limit: Duration) -> Output {
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!("HANG: a redwhisk command did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.wait_with_output().unwrap()
}

/// A dump.rdb of `keys` keys in `dir`, made by a throwaway redis-server with `DEBUG POPULATE`,
/// so a server started on it spends seconds loading (LOADING) and saving.
pub fn big_dump(dir: &std::path::Path, keys: u32) {
    let tmp = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut server = std::process::Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--enable-debug-command", "yes"])
        .arg("--dir")
        .arg(tmp.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/")).unwrap();
    let t0 = std::time::Instant::now();
    let mut con = loop {
        match client.get_connection() {
            Ok(c) => break c,
            Err(e) => {
                assert!(t0.elapsed() < Duration::from_secs(20), "{e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    redis::cmd("DEBUG")
        .arg("POPULATE")
        .arg(keys)
        .arg("orphan")
        .arg(64)
        .query::<()>(&mut con)
        .unwrap();
    redis::cmd("SAVE").query::<()>(&mut con).unwrap();
    let _ = server.kill();
    let _ = server.wait();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(tmp.path().join("dump.rdb"), dir.join("dump.rdb")).unwrap();
}
