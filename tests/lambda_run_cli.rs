//! `redwhisk run` (case study 1) on the local Lambda end to end: a real redis-server process,
//! real emulator containers, the real `bootstrap`; its run.json checked against the schema,
//! its cost line, `compare --paper --paper-table lambda` on it, and SIGTERM mid-run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn redwhisk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new(function: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let profile = format!(
            r#"name = "lambda-cli"
[redis]
backend = "process"
bind = "127.0.0.1"
port = 0
persistence = "rdb"
data_dir = "{data}"
[platform]
kind = "lambda"
emulator = "local"
function_name = "{function}"
memory_mb = 512
timeout = 30
[platform.price]
vm_hour_usd = 0.35
[workload]
records = 100
"#,
            data = dir.path().join("data").display()
        );
        std::fs::write(dir.path().join("lambda-cli.toml"), profile).unwrap();
        Self { dir }
    }

    fn profile(&self) -> PathBuf {
        self.dir.path().join("lambda-cli.toml")
    }

    fn results(&self) -> PathBuf {
        self.dir.path().join("results")
    }

    fn run(&self, args: &[&str]) -> Command {
        let mut c = redwhisk();
        c.arg("run")
            .arg("--profile")
            .arg(self.profile())
            .args(args)
            .arg("--results-dir")
            .arg(self.results())
            .env("REDWHISK_DATA_DIR", self.dir.path().join("data"));
        c
    }

    fn only_run(&self) -> PathBuf {
        let dirs: Vec<_> = std::fs::read_dir(self.results())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(dirs.len(), 1, "{dirs:?}");
        dirs[0].clone()
    }
}

fn containers_of_pid(pid: u32) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            &format!("label=redwhisk.lambda.pid={pid}"),
            "--format",
            "{{.Names}}",
        ])
        .output()
        .expect("docker CLI");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn schema_errors(doc: &serde_json::Value) -> Vec<String> {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schema/run.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn case_study_1_on_the_local_lambda_reports_cost_and_compares_with_the_paper() {
    let env = Env::new("lt-cli-run");
    let child = env
        .run(&["-n", "6", "-c", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("lambda platform"), "{stdout}");
    assert!(stdout.contains("6 completed, 6 ok"), "{stdout}");
    assert!(stdout.contains("cost: Lambda $"), "{stdout}");
    // The engine's event log carries it too (what the console's log pane shows).
    assert!(stderr.contains("cost: Lambda $"), "{stderr}");
    assert!(stdout.contains("2 cold, 4 warm"), "{stdout}");

    let dir = env.only_run();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    let errors = schema_errors(&doc);
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    assert_eq!(doc["platform"], "lambda");
    assert_eq!(doc["cost"]["bill"]["requests"], 6);
    let billed: u64 = doc["activations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a["annotations"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["key"] == "billedDuration")
                .unwrap()["value"]
                .as_u64()
                .unwrap()
        })
        .sum();
    assert_eq!(doc["cost"]["bill"]["billed_ms"], billed);
    let gb_s = doc["cost"]["bill"]["gb_seconds"].as_f64().unwrap();
    assert!((gb_s - billed as f64 / 1000.0 * 0.5).abs() < 1e-9, "{gb_s}");
    let wall = doc["cost"]["wall_s"].as_f64().unwrap();
    assert!((doc["cost"]["vm_usd"].as_f64().unwrap() - wall / 3600.0 * 0.35).abs() < 1e-12);
    assert!(
        containers_of_pid(pid).is_empty(),
        "the run removed its containers"
    );

    let cmp = redwhisk()
        .args(["compare", "--paper", "--paper-table", "lambda"])
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&cmp.stdout);
    assert!(
        cmp.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&cmp.stderr)
    );
    assert!(
        text.contains("paper Table 3 (Lambda + ElastiCache)"),
        "{text}"
    );
    assert!(text.contains("total"), "{text}");
}

#[test]
fn sigterm_mid_run_keeps_partial_results_and_removes_the_containers() {
    let env = Env::new("lt-cli-term");
    let mut child = env
        .run(&["-n", "5000", "-c", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    // Wait until invocations are streaming into the results directory.
    let started = Instant::now();
    loop {
        let partial = std::fs::read_dir(env.results())
            .ok()
            .and_then(|mut d| d.next())
            .and_then(|e| e.ok())
            .map(|e| e.path().join(".activations.jsonl.partial"));
        let lines = partial
            .and_then(|p| std::fs::read_to_string(p).ok())
            .map_or(0, |t| t.lines().count());
        if lines >= 4 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no invocation finished within 120 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        containers_of_pid(pid).len(),
        2,
        "two containers while it runs"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::SIGTERM,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "redwhisk did not exit within 90 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(143), "{stderr}");
    let dir = env.only_run();
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(doc["outcome"], "cancelled");
    assert_eq!(doc["partial"], true);
    let done = doc["activations"].as_array().unwrap().len();
    assert!((4..5000).contains(&done), "{done}");
    assert!(doc["cost"]["bill"]["requests"].as_u64().unwrap() >= 4);
    assert!(
        containers_of_pid(pid).is_empty(),
        "the emulator containers are removed after SIGTERM"
    );
}

#[test]
fn docker_down_is_a_clear_error_and_redis_is_stopped_again() {
    let env = Env::new("lt-cli-nodocker");
    let missing = env.dir.path().join("no-docker.sock");
    let out = env
        .run(&["-n", "3"])
        .env("DOCKER_HOST", format!("unix://{}", missing.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot deploy the bench action"),
        "{stderr}"
    );
    assert!(
        stderr.contains("cannot reach the Docker daemon (DOCKER_HOST, else /var/run/docker.sock); is dockerd running?"),
        "{stderr}"
    );
    let status = redwhisk()
        .args(["redis", "status", "--profile"])
        .arg(env.profile())
        .env("REDWHISK_DATA_DIR", env.dir.path().join("data"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert!(
        text.contains("stopped") && !text.contains("running"),
        "Redis left running: {text}"
    );
}

/// Case study 2 (`share`) and the concurrency sweep on the local Lambda: the writer and the
/// reader run as Lambda functions across Redis restarts, and every sweep step runs.
#[test]
fn share_and_sweep_run_on_the_local_lambda() {
    let env = Env::new("rw-cli-share");
    let out = redwhisk()
        .args(["share", "--profile"])
        .arg(env.profile())
        .args([
            "--runs",
            "2",
            "--persistence",
            "rdb",
            "--stop",
            "graceful",
            "--keys",
            "20",
        ])
        .arg("--results-dir")
        .arg(env.results())
        .env("REDWHISK_DATA_DIR", env.dir.path().join("data"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2/2"),
        "both cycles kept the data: {stdout}"
    );

    let out = redwhisk()
        .args(["sweep", "--profile"])
        .arg(env.profile())
        .args(["-c", "1,2", "-n", "4", "-r", "20", "--output", "json"])
        .arg("--results-dir")
        .arg(env.results())
        .env("REDWHISK_DATA_DIR", env.dir.path().join("data"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let steps = doc["steps"].as_array().expect("steps");
    assert_eq!(steps.len(), 2, "{doc}");
    for step in steps {
        assert_eq!(step["invocations"], 4, "{step}");
        assert_eq!(step["failed"], 0, "{step}");
    }
}
