//! The state file in the data directory: which server runs for this profile, who started it.
//!
//! It lets `redwhisk redis status|down` in another process find a server started by `redis up`,
//! and lets the next start tell a server in use from an orphan left by a console that died.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::HostError;

/// File name of the state file inside the profile's data directory.
pub const STATE_FILE: &str = "redwhisk.state.json";

/// Who started a server, and so who may stop it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Owner {
    /// A console (engine run) with this pid: when it is gone, the server is an orphan.
    Console { pid: u32 },
    /// `redwhisk redis up`: meant to outlive the command; any later command may adopt it.
    Detached,
    /// A `redwhisk gateway` with this pid: when it is gone, the server is an orphan.
    Gateway { pid: u32 },
}

impl Owner {
    /// The current process as owner.
    pub fn this_console() -> Self {
        Owner::Console {
            pid: std::process::id(),
        }
    }

    /// The current process as a gateway's owner.
    pub fn this_gateway() -> Self {
        Owner::Gateway {
            pid: std::process::id(),
        }
    }

    /// The live process the server belongs to, if any (a detached server belongs to none).
    pub fn pid(self) -> Option<u32> {
        match self {
            Owner::Console { pid } | Owner::Gateway { pid } => Some(pid),
            Owner::Detached => None,
        }
    }

    /// The value of the `redwhisk.owner` container label.
    pub fn label(self) -> String {
        match self {
            Owner::Console { pid } => format!("pid:{pid}"),
            Owner::Gateway { pid } => format!("gateway:{pid}"),
            Owner::Detached => "detached".into(),
        }
    }

    /// Parse a `redwhisk.owner` label; unknown text is treated as a dead console.
    pub fn parse(label: &str) -> Self {
        if let Some(pid) = label.strip_prefix("gateway:").and_then(|p| p.parse().ok()) {
            return Owner::Gateway { pid };
        }
        match label.strip_prefix("pid:").and_then(|p| p.parse().ok()) {
            Some(pid) => Owner::Console { pid },
            None if label == "detached" => Owner::Detached,
            None => Owner::Console { pid: 0 },
        }
    }
}

/// What to do with a server found running at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    /// Ours, or detached: use it as is (start is safe to repeat).
    Adopt,
    /// Its console died: save its data, stop it, start afresh.
    Orphan,
    /// Another live console uses it.
    InUse(String),
}

/// Decide about a running server started by `found` when `me` wants to start one.
pub(crate) async fn classify(found: Owner, me: Owner) -> Found {
    match found {
        _ if found == me => Found::Adopt,
        Owner::Detached => Found::Adopt,
        Owner::Console { pid } | Owner::Gateway { pid } if pid_alive(pid).await => {
            Found::InUse(found.label())
        }
        Owner::Console { .. } | Owner::Gateway { .. } => Found::Orphan,
    }
}

/// What the state file records.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostState {
    pub backend: String,
    pub pid: Option<u32>,
    /// The process's start time (field 22 of /proc/PID/stat, clock ticks since boot): with the
    /// pid it names one process, so a pid reused by another program is never signalled.
    #[serde(default)]
    pub pid_start: Option<u64>,
    pub container: Option<String>,
    /// Address clients connect to (the bind address, or loopback for "any").
    pub host: String,
    pub port: u16,
    pub started_at: DateTime<Utc>,
    pub owner: Owner,
}

fn path(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// Read the state file; `None` when there is none.
pub(crate) async fn read(dir: &Path) -> Result<Option<HostState>, HostError> {
    let p = path(dir);
    // std::fs: one small local file on the path to every start (see `untracked_server`).
    match std::fs::read_to_string(&p) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| HostError::BadState {
                path: p,
                detail: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HostError::io(p, e)),
    }
}

/// Write the state file atomically (temp file + rename) so a reader never sees half of it.
pub(crate) async fn write(dir: &Path, state: &HostState) -> Result<(), HostError> {
    let p = path(dir);
    let tmp = dir.join(format!("{STATE_FILE}.tmp"));
    let text = serde_json::to_string_pretty(state).map_err(|e| HostError::BadState {
        path: p.clone(),
        detail: e.to_string(),
    })?;
    std::fs::write(&tmp, text).map_err(|e| HostError::io(&tmp, e))?;
    std::fs::rename(&tmp, &p).map_err(|e| HostError::io(&p, e))
}

/// Remove the state file; a missing one is fine (stop is safe to repeat).
pub(crate) async fn remove(dir: &Path) -> Result<(), HostError> {
    let p = path(dir);
    match tokio::fs::remove_file(&p).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(HostError::io(p, e)),
    }
}

/// Is `pid` a live (not zombie) process?
pub(crate) async fn pid_alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    alive_in_stat(tokio::fs::read_to_string(format!("/proc/{pid}/stat")).await)
}

fn pid_alive_blocking(pid: u32) -> bool {
    pid != 0 && alive_in_stat(std::fs::read_to_string(format!("/proc/{pid}/stat")))
}

fn alive_in_stat(stat: std::io::Result<String>) -> bool {
    match stat {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|s| s != "Z" && s != "X"),
        Err(_) => false,
    }
}

/// The start time of `pid` (clock ticks after boot), `None` when it does not exist.
pub(crate) async fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name: state is field 3, starttime field 22.
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Is `pid` the live redis-server we recorded? The start time (when recorded) must match, so a
/// pid reused by another process, even another redis-server, is not ours.
pub(crate) async fn pid_is_redis(pid: u32, recorded_start: Option<u64>) -> bool {
    if !pid_alive(pid).await {
        return false;
    }
    if let Some(want) = recorded_start
        && start_time(pid).await != Some(want)
    {
        return false;
    }
    tokio::fs::read(format!("/proc/{pid}/cmdline"))
        .await
        .is_ok_and(|c| String::from_utf8_lossy(&c).contains("redis-server"))
}

/// The pid file `redis-server` writes in the data directory (`--pidfile`) once it listens,
/// and removes at a clean exit.
pub const PID_FILE: &str = "redis.pid";

/// The live redis-server working in `dir` that its pid file names, if any: a server started by
/// a redwhisk killed before it wrote the state file.
///
/// Synchronous on purpose: a file read and three /proc reads on the path to every start, where
/// blocking-pool round trips (or walking all of /proc, as before) cost milliseconds.
pub(crate) fn untracked_server(dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(dir.join(PID_FILE)).ok()?;
    let pid: u32 = text.trim().parse().ok()?;
    let want = std::fs::canonicalize(dir).ok()?;
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
    (comm.starts_with("redis-server")
        && std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|c| c == want)
        && pid_alive_blocking(pid))
    .then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_labels_round_trip() {
        for o in [
            Owner::Detached,
            Owner::Console { pid: 42 },
            Owner::Gateway { pid: 43 },
        ] {
            assert_eq!(Owner::parse(&o.label()), o);
        }
        assert_eq!(Owner::parse("junk"), Owner::Console { pid: 0 });
    }

    #[tokio::test]
    async fn a_reused_pid_is_not_ours() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = child.id();
        let start = start_time(pid).await.unwrap();
        assert_eq!(start_time(pid).await, Some(start));
        // `sleep` is not a redis-server, whatever the start time says.
        assert!(!pid_is_redis(pid, Some(start)).await);
        let me = std::process::id();
        assert!(start_time(me).await.is_some());
        assert_ne!(start_time(me).await, Some(start + 1_000_000));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(start_time(pid).await, None);
    }

    #[tokio::test]
    async fn classifies_owners() {
        let me = Owner::this_console();
        assert!(pid_alive(std::process::id()).await);
        assert_eq!(classify(me, me).await, Found::Adopt);
        assert_eq!(classify(Owner::Detached, me).await, Found::Adopt);
        let dead = Owner::Console { pid: 0 };
        assert_eq!(classify(dead, me).await, Found::Orphan);
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let other = Owner::Console { pid: child.id() };
        assert!(matches!(classify(other, me).await, Found::InUse(_)));
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(classify(other, me).await, Found::Orphan);
    }
}
