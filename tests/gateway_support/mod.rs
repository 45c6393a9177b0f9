//! Helpers for the gateway tests: a gateway run in-process with its event stream, the
//! `redwhisk gateway` command as a child, raw RESP clients and server_bin wrapper scripts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use redwhisk::event::{EngineEvent, EventSink};
use redwhisk::gateway::{
    Gateway, GatewayEvent, GatewayOptions, GatewayProbe, GatewayReport, GatewaySnapshot,
    GatewayState,
};
use redwhisk::profile::Profile;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio_util::sync::CancellationToken;

use super::support::{process_profile, rdb};

pub const PASSWORD: &str = "gw-test-pw";
/// Every wait in these tests has this bound (nothing here should take close to it).
pub const DEADLINE: Duration = Duration::from_secs(60);

/// A process-backend profile (rdb) with a known password and a gateway on a free port.
pub fn gw_profile(dir: &Path, idle_ms: u64) -> Profile {
    let mut p = process_profile(dir, rdb());
    p.redis.password = Some(redwhisk::secret::Secret::new(PASSWORD));
    p.gateway.listen = "127.0.0.1:0".parse().unwrap();
    p.gateway.idle = Duration::from_millis(idle_ms);
    p
}

/// A gateway served in-process; its events are read by [`Running::wait_state`].
pub struct Running {
    pub addr: std::net::SocketAddr,
    /// The gateway's counters (probes, silent and idle closes, wakes, sleeps).
    pub probe: GatewayProbe,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<GatewayReport>,
    rx: UnboundedReceiver<EngineEvent>,
    pub current: Option<GatewaySnapshot>,
    pub states: Vec<GatewaySnapshot>,
}

impl Running {
    pub async fn start(profile: &Profile) -> Running {
        Self::start_with(profile, GatewayOptions::from_profile(profile)).await
    }

    /// With options other than the profile's (e.g. a short shutdown grace).
    pub async fn start_with(profile: &Profile, opts: GatewayOptions) -> Running {
        let (sink, rx) = EventSink::new();
        let gw = Gateway::bind(profile, opts, &sink).await.unwrap();
        let addr = gw.local_addr();
        let probe = gw.probe();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(gw.serve(sink, cancel.clone()));
        Running {
            addr,
            probe,
            cancel,
            task,
            rx,
            current: None,
            states: Vec::new(),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    fn fold(&mut self, ev: EngineEvent) {
        if let EngineEvent::Gateway(GatewayEvent::State(s)) = ev {
            self.states.push(s.clone());
            self.current = Some(s);
        }
    }

    /// Wait until the latest state (after every event queued so far) is `state`.
    pub async fn wait_state(&mut self, state: GatewayState) -> GatewaySnapshot {
        let until = Instant::now() + DEADLINE;
        loop {
            while let Ok(ev) = self.rx.try_recv() {
                self.fold(ev);
            }
            if let Some(s) = &self.current
                && s.state == state
            {
                return s.clone();
            }
            let left = until.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(ev)) => self.fold(ev),
                _ => panic!(
                    "gateway did not reach {state:?} within {DEADLINE:?}; states: {:#?}",
                    self.states
                ),
            }
        }
    }

    /// Wait until `what` of the gateway's counters holds (each check after an event or 10 ms).
    pub async fn wait_until(&mut self, what: &str, ok: impl Fn(&GatewayProbe) -> bool) {
        let until = Instant::now() + DEADLINE;
        while !ok(&self.probe) {
            assert!(
                Instant::now() < until,
                "gateway: `{what}` did not hold within {DEADLINE:?}; states: {:#?}",
                self.states
            );
            while let Ok(ev) = self.rx.try_recv() {
                self.fold(ev);
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Begin the shutdown (what SIGTERM does) without waiting for it.
    pub fn begin_stop(&self) {
        self.cancel.cancel();
    }

    /// SIGINT equivalent: cancel and wait for the report.
    pub async fn stop(self) -> GatewayReport {
        self.cancel.cancel();
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .expect("gateway shutdown hung")
            .unwrap()
    }
}

/// redis-cli through the gateway; its stdout, trimmed.
pub async fn cli(g: &Running, args: &[&str]) -> String {
    let out = tokio::time::timeout(
        DEADLINE,
        tokio::process::Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &g.port().to_string()])
            .args(["-a", PASSWORD, "--no-auth-warning"])
            .args(args)
            .output(),
    )
    .await
    .expect("redis-cli hung")
    .expect("redis-cli is required (apt-get install redis-tools)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A redis crate connection through the gateway (AUTH done by the crate).
pub async fn client(port: u16) -> redis::aio::MultiplexedConnection {
    let url = format!("redis://:{PASSWORD}@127.0.0.1:{port}/0");
    tokio::time::timeout(
        DEADLINE,
        redis::Client::open(url)
            .unwrap()
            .get_multiplexed_async_connection(),
    )
    .await
    .expect("connect hung")
    .unwrap()
}

/// Send `AUTH` + one inline command on a fresh connection. Returns the gateway's error if it
/// answers with one (then the connection must close), else the command's reply, raw.
pub async fn raw_command(port: u16, command: &str) -> String {
    tokio::time::timeout(DEADLINE, raw_inner(port, command))
        .await
        .expect("raw command hung")
}

pub async fn raw_command_auth(port: u16, command: &str) -> String {
    raw_command(port, command).await
}

async fn raw_inner(port: u16, command: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(format!("AUTH {PASSWORD}\r\n{command}\r\n").as_bytes())
        .await
        .unwrap();
    let mut r = BufReader::new(s);
    let mut first = String::new();
    r.read_line(&mut first).await.unwrap();
    if first.starts_with("-ERR redwhisk gateway:") {
        let mut rest = String::new();
        r.read_to_string(&mut rest).await.unwrap();
        assert_eq!(rest, "", "the gateway must close after its error");
        return first;
    }
    assert_eq!(first, "+OK\r\n", "AUTH failed");
    read_reply(&mut r).await
}

/// One reply: a line, plus the payload line of a non-null bulk string.
pub async fn read_reply<R: tokio::io::AsyncBufRead + Unpin>(r: &mut R) -> String {
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    if line.starts_with('$') && !line.starts_with("$-1") {
        r.read_line(&mut line).await.unwrap();
    }
    line
}

/// A bash script in `dir`, executable; returns its path.
pub fn script(dir: &Path, name: &str, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/bash\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path.display().to_string()
}

/// A server_bin that appends a line to a file at every start, runs `prelude`, then execs the
/// real redis-server: an independent count of Redis starts.
pub fn counting_server_bin(dir: &Path, prelude: &str) -> (String, PathBuf) {
    let starts = dir.join("starts.log");
    let bin = script(
        dir,
        "counting-redis-server",
        &format!(
            "echo start >> {}\n{prelude}exec redis-server \"$@\"",
            starts.display()
        ),
    );
    (bin, starts)
}

pub fn count_lines(p: &Path) -> usize {
    std::fs::read_to_string(p)
        .map(|t| t.lines().count())
        .unwrap_or(0)
}

/// The pid of the profile's live redis-server, from its state file.
pub fn redis_pid(p: &Profile) -> Option<u32> {
    let text = std::fs::read_to_string(p.redis.data_dir.join("redwhisk.state.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let pid = u32::try_from(v["pid"].as_u64()?).ok()?;
    alive(pid).then_some(pid)
}

/// A live, not zombie, process.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .and_then(|(_, r)| r.split_whitespace().next().map(|st| st != "Z"))
        })
        .unwrap_or(false)
}

/// What a run of sleep/wake cycles found.
#[derive(Debug, Clone)]
pub struct Cycles {
    pub cycles: u32,
    pub lost: u32,
    /// Connect → first reply of each waking client, ms.
    pub wake_ms: Vec<f64>,
}

/// Write a key, let the gateway sleep, wake it and read the key back; `n` times.
pub async fn cycles(g: &mut Running, n: u32) -> Cycles {
    let port = g.port();
    assert_eq!(raw_command(port, "SET cyc0 0").await, "+OK\r\n");
    g.wait_state(GatewayState::Asleep).await;
    let mut out = Cycles {
        cycles: 0,
        lost: 0,
        wake_ms: Vec::new(),
    };
    for i in 1..=n {
        let t = Instant::now();
        let got = raw_command(port, &format!("GET cyc{}", i - 1)).await;
        out.wake_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let want = format!("${}\r\n{}\r\n", (i - 1).to_string().len(), i - 1);
        if got != want {
            out.lost += 1;
        }
        assert_eq!(
            raw_command(port, &format!("SET cyc{i} {i}")).await,
            "+OK\r\n"
        );
        g.wait_state(GatewayState::Asleep).await;
        out.cycles += 1;
    }
    out
}

/// A profile file for the CLI tests, mirroring `p` (data dir, password, gateway idle).
pub fn profile_file(dir: &Path, p: &Profile) -> PathBuf {
    let path = dir.join(format!("{}.toml", p.name));
    let text = format!(
        "[redis]\nport = 0\npersistence = \"rdb\"\ndata_dir = \"{}\"\npassword = \"{PASSWORD}\"\n\
         [gateway]\nlisten = \"127.0.0.1:0\"\nidle_ms = {}\n",
        p.redis.data_dir.display(),
        p.gateway.idle.as_millis()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// `redwhisk gateway` as a child process; stdout and stderr collected as they come.
pub struct Cmd {
    pub child: tokio::process::Child,
    pub port: u16,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
}

fn collect<R: tokio::io::AsyncRead + Unpin + Send + 'static>(
    r: R,
    into: Arc<Mutex<String>>,
    port_tx: Option<tokio::sync::oneshot::Sender<u16>>,
) {
    tokio::spawn(async move {
        let mut lines = BufReader::new(r).lines();
        let mut port_tx = port_tx;
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some((_, rest)) = line.split_once("listening on 127.0.0.1:")
                && let Some(tx) = port_tx.take()
            {
                let port = rest.split(|c: char| !c.is_ascii_digit()).next().unwrap();
                let _ = tx.send(port.parse().unwrap());
            }
            let mut s = into.lock().unwrap();
            s.push_str(&line);
            s.push('\n');
        }
    });
}

impl Cmd {
    pub async fn start(profile: &Path) -> Cmd {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_redwhisk"))
            .args(["gateway", "--profile"])
            .arg(profile)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = tokio::sync::oneshot::channel();
        collect(child.stdout.take().unwrap(), Arc::clone(&stdout), None);
        collect(child.stderr.take().unwrap(), Arc::clone(&stderr), Some(tx));
        let port = match tokio::time::timeout(DEADLINE, rx).await {
            Ok(Ok(p)) => p,
            _ => panic!(
                "gateway did not start listening: {}",
                stderr.lock().unwrap()
            ),
        };
        Cmd {
            child,
            port,
            stdout,
            stderr,
        }
    }

    pub fn stderr_so_far(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn kill9(&mut self) {
        let pid = self.child.id().unwrap();
        std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        let _ = std::process::Command::new("true").status();
    }

    /// SIGTERM, then the exit code and everything printed on stdout.
    pub async fn term(&mut self) -> (Option<i32>, String) {
        let pid = self.child.id().unwrap();
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap();
        let status = tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .expect("gateway did not exit after SIGTERM")
            .unwrap();
        // Let the readers drain the pipes.
        tokio::time::sleep(Duration::from_millis(100)).await;
        (status.code(), self.stdout.lock().unwrap().clone())
    }
}
