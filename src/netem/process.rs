//! The proxy as a process of its own: started next to Redis, it outlives `redwhisk redis up`
//! exactly as the Redis does, and is found again (and stopped) through a state file in the
//! profile's data directory, `netem.json`, next to `redis.pid`.
//!
//! The proxy is this very binary re-executed with [`ENV`] set to its [`ProxySpec`] (as the
//! local platform runs native actions); it binds, writes the state file and serves.

use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::error::NetemError;
use super::shaper::{Shape, serve};
use crate::profile::NetworkEmulation;

/// Set to a JSON [`ProxySpec`]: this process is a shaping proxy, not the CLI.
pub const ENV: &str = "REDWHISK_NETEM";
/// The proxy's state file in the data directory.
pub const STATE_FILE: &str = "netem.json";
/// The proxy's stderr (why it could not start).
pub const LOG_FILE: &str = "netem.log";

/// What one proxy does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxySpec {
    /// Where it listens (port chosen by the system).
    pub listen: IpAddr,
    /// Where Redis is, `host` and `port`.
    pub upstream_host: String,
    pub upstream_port: u16,
    pub emulation: NetworkEmulation,
    /// Where it writes [`STATE_FILE`].
    pub state_dir: PathBuf,
}

/// What the state file records.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyState {
    pub pid: u32,
    /// The process's start time (clock ticks after boot): with the pid it names one process.
    pub pid_start: Option<u64>,
    /// Where the functions connect.
    pub host: String,
    pub port: u16,
    pub spec: ProxySpec,
}

/// The start time of `pid` (field 22 of /proc/PID/stat), `None` when it does not exist or is
/// a zombie.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace();
    let state = fields.next()?;
    if state == "Z" || state == "X" {
        return None;
    }
    fields.nth(18)?.parse().ok()
}

impl ProxyState {
    /// The recorded process still runs (same pid, same start time).
    pub fn alive(&self) -> bool {
        self.pid > 1 && start_time(self.pid).is_some() && start_time(self.pid) == self.pid_start
    }
}

fn state_path(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// The state file, if any (a file that does not parse is treated as none: it is replaced).
pub fn read(dir: &Path) -> Option<ProxyState> {
    let text = std::fs::read_to_string(state_path(dir)).ok()?;
    serde_json::from_str(&text).ok()
}

/// The proxy of `dir` that still runs, if any.
pub fn running(dir: &Path) -> Option<ProxyState> {
    read(dir).filter(ProxyState::alive)
}

fn remove(dir: &Path) -> Result<(), NetemError> {
    let p = state_path(dir);
    match std::fs::remove_file(&p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(NetemError::io(p, e)),
    }
}

/// Start a proxy for `spec` with `exe` (the redwhisk binary) and wait until it listens.
/// Returns its state and the child (for the caller to reap after the stop).
pub async fn start(
    exe: &Path,
    spec: &ProxySpec,
) -> Result<(ProxyState, tokio::process::Child), NetemError> {
    remove(&spec.state_dir)?;
    let log_path = spec.state_dir.join(LOG_FILE);
    let log = std::fs::File::create(&log_path).map_err(|e| NetemError::io(&log_path, e))?;
    let json = serde_json::to_string(spec).map_err(|e| NetemError::Spawn(e.to_string()))?;
    let mut child = tokio::process::Command::new(exe)
        .env(ENV, json)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        // Its own group, as Redis: a Ctrl-C to the terminal does not reach it and it
        // outlives `redis up`.
        .process_group(0)
        .spawn()
        .map_err(|e| NetemError::Spawn(format!("{}: {e}", exe.display())))?;
    let pid = child.id().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(st) = read(&spec.state_dir).filter(|s| s.pid == pid) {
            return Ok((st, child));
        }
        if let Ok(Some(status)) = child.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(NetemError::Exited {
                status: status.to_string(),
                log: log.trim().to_string(),
            });
        }
        if Instant::now() > deadline {
            let _gone = child.start_kill();
            return Err(NetemError::NotListening { pid });
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Stop the proxy `dir` records (SIGTERM, then SIGKILL after 2 s) and remove its state file.
/// Returns the pid stopped; `None` when none ran. Safe to repeat.
pub async fn stop(dir: &Path) -> Result<Option<u32>, NetemError> {
    let Some(st) = read(dir) else {
        return Ok(None);
    };
    let stopped = if st.alive() {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(st.pid).unwrap_or(0));
        let _gone = nix::sys::signal::kill(pid, nix::sys::signal::SIGTERM);
        let t0 = Instant::now();
        while st.alive() {
            if t0.elapsed() > Duration::from_secs(2) {
                let _gone = nix::sys::signal::kill(pid, nix::sys::signal::SIGKILL);
            }
            if t0.elapsed() > Duration::from_secs(10) {
                return Err(NetemError::WontStop { pid: st.pid });
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        Some(st.pid)
    } else {
        None
    };
    remove(dir)?;
    Ok(stopped)
}

/// The proxy process's entry point (`main` calls it when [`ENV`] is set): bind, record, serve.
pub fn serve_env(json: &str) -> ExitCode {
    match serve_spec(json) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("redwhisk shaping proxy: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve_spec(json: &str) -> Result<(), NetemError> {
    let spec: ProxySpec =
        serde_json::from_str(json).map_err(|e| NetemError::Spawn(format!("{ENV}: {e}")))?;
    let upstream: SocketAddr = (spec.upstream_host.as_str(), spec.upstream_port)
        .to_socket_addrs()
        .map_err(|e| NetemError::io(format!("<resolve {}>", spec.upstream_host), e))?
        .next()
        .ok_or_else(|| NetemError::Spawn(format!("{} has no address", spec.upstream_host)))?;
    let listener = TcpListener::bind((spec.listen, 0))
        .map_err(|e| NetemError::io(format!("<bind {}:0>", spec.listen), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| NetemError::io("<local addr>", e))?;
    let host = if spec.listen.is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        spec.listen.to_string()
    };
    let pid = std::process::id();
    let st = ProxyState {
        pid,
        pid_start: start_time(pid),
        host,
        port: addr.port(),
        spec: spec.clone(),
    };
    let p = state_path(&spec.state_dir);
    let tmp = spec.state_dir.join(format!(".{STATE_FILE}.tmp"));
    let text = serde_json::to_string_pretty(&st).map_err(|e| NetemError::Spawn(e.to_string()))?;
    std::fs::write(&tmp, text).map_err(|e| NetemError::io(&tmp, e))?;
    std::fs::rename(&tmp, &p).map_err(|e| NetemError::io(&p, e))?;
    serve(&listener, upstream, Shape::of(&spec.emulation))
        .map_err(|e| NetemError::io(format!("<serve {addr}>"), e))
}
