//! A snapshot made under one persistence restored into a profile with another. Redis 7
//! with `appendonly yes` loads only `appendonlydir/` (an RDB alone starts it empty), and
//! with `appendonly no` only `dump.rdb` (an AOF alone starts it empty), so the staged files
//! are converted before they are placed:
//!
//! - RDB → AOF: the RDB becomes the base file of a one-file AOF (Redis 7's multi-part AOF
//!   takes an RDB base), with its manifest: no process needed.
//! - AOF → RDB: a temporary `redis-server` (unix socket only, no TCP port) loads the AOF in
//!   the staging directory and `SAVE`s `dump.rdb`; the AOF files are then dropped.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::local::{AOF_DIR, LEGACY_AOF, RDB_FILE};

/// What a Redis with a given persistence loads at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loads {
    Rdb,
    Aof,
}

/// The AOF base file name and manifest line a converted RDB gets (Redis 7's own naming).
pub const BASE_FILE: &str = "appendonly.aof.1.base.rdb";
pub const AOF_MANIFEST: &str = "appendonly.aof.manifest";
/// How long the temporary Redis may take to load the AOF.
pub const LOAD_LIMIT: Duration = Duration::from_secs(600);

/// Why a conversion did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(
        "converting its AOF to the RDB this profile loads needs redis-server, and none was found (looked for {0}). Install redis-server (7 or newer), or set `persistence = \"aof\"` in [redis] to load the AOF as it is"
    )]
    NoServer(String),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the temporary redis-server could not convert the AOF: {0}")]
    Server(String),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ConvertError {
    let what = what.into();
    move |source| ConvertError::Io { what, source }
}

/// Which files the staged snapshot holds.
fn holds(staging: &Path) -> (bool, bool) {
    let rdb = staging.join(RDB_FILE).is_file();
    let aof = staging.join(LEGACY_AOF).is_file()
        || std::fs::read_dir(staging.join(AOF_DIR))
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().ends_with(".manifest"))
            })
            .unwrap_or(false);
    (rdb, aof)
}

/// Convert the staged snapshot in `staging` so a Redis that loads `target` loads its data.
/// `server`: the redis-server to use for AOF → RDB. Returns what was done, if anything.
pub async fn convert(
    staging: &Path,
    target: Loads,
    server: Option<&Path>,
) -> Result<Option<String>, ConvertError> {
    let (rdb, aof) = holds(staging);
    match target {
        Loads::Aof if !aof && rdb => {
            let dir = staging.join(AOF_DIR);
            tokio::fs::create_dir_all(&dir)
                .await
                .map_err(io(dir.display().to_string()))?;
            let base = dir.join(BASE_FILE);
            tokio::fs::rename(staging.join(RDB_FILE), &base)
                .await
                .map_err(io(base.display().to_string()))?;
            let manifest = dir.join(AOF_MANIFEST);
            tokio::fs::write(&manifest, format!("file {BASE_FILE} seq 1 type b\n"))
                .await
                .map_err(io(manifest.display().to_string()))?;
            Ok(Some(
                "converted RDB → AOF (dump.rdb became the AOF's base file)".into(),
            ))
        }
        Loads::Rdb if !rdb && aof => {
            let server =
                server.ok_or_else(|| ConvertError::NoServer("redis-server on PATH".into()))?;
            aof_to_rdb(staging, server).await?;
            Ok(Some(format!(
                "converted AOF → RDB (loaded by {} and saved as dump.rdb)",
                server.display()
            )))
        }
        _ => Ok(None),
    }
}

/// Load the AOF in `staging` with a temporary redis-server and SAVE it as `dump.rdb`.
async fn aof_to_rdb(staging: &Path, server: &Path) -> Result<(), ConvertError> {
    // A unix socket path is limited to ~100 bytes: a short directory of its own.
    let sock_dir = tempfile::Builder::new()
        .prefix("redwhisk-convert-")
        .tempdir()
        .map_err(io("a temporary directory for the conversion's socket"))?;
    let sock = sock_dir.path().join("redis.sock");
    let log = staging.join("convert.log");
    let mut child = tokio::process::Command::new(server)
        .arg("--port")
        .arg("0")
        .arg("--unixsocket")
        .arg(&sock)
        .args(["--unixsocketperm", "700"])
        .arg("--dir")
        .arg(staging)
        .args(["--appendonly", "yes", "--appenddirname", AOF_DIR])
        .args(["--dbfilename", RDB_FILE, "--save", ""])
        .arg("--logfile")
        .arg(&log)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| ConvertError::NoServer(format!("{} ({e})", server.display())))?;
    let result = save_when_loaded(&sock, &mut child).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    let log_tail = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .join(" | ")
    };
    if let Err(e) = result {
        return Err(ConvertError::Server(format!("{e} (log: {})", log_tail())));
    }
    let _ = tokio::fs::remove_file(log).await;
    let _ = tokio::fs::remove_dir_all(staging.join(AOF_DIR)).await;
    let _ = tokio::fs::remove_file(staging.join(LEGACY_AOF)).await;
    if !staging.join(RDB_FILE).is_file() {
        return Err(ConvertError::Server("SAVE wrote no dump.rdb".into()));
    }
    Ok(())
}

async fn save_when_loaded(sock: &Path, child: &mut tokio::process::Child) -> Result<(), String> {
    let url = format!("unix://{}", sock.display());
    let client = redis::Client::open(url).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("redis-server exited ({status}) while loading"));
        }
        if t0.elapsed() > LOAD_LIMIT {
            return Err(format!("not loaded within {} s", LOAD_LIMIT.as_secs()));
        }
        if let Ok(mut c) = client.get_multiplexed_async_connection().await {
            let ping: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut c).await;
            if ping.is_ok() {
                let saved: redis::RedisResult<String> =
                    redis::cmd("SAVE").query_async(&mut c).await;
                return saved.map(|_| ()).map_err(|e| format!("SAVE: {e}"));
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The redis-server a conversion uses: the profile's own binary, else one on PATH.
pub fn find_server(preferred: Option<&str>) -> Option<PathBuf> {
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    };
    match preferred {
        Some(p) if p.contains('/') => Some(PathBuf::from(p)).filter(|p| p.is_file()),
        Some(name) => on_path(name),
        None => None,
    }
    .or_else(|| on_path("redis-server"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn rdb_becomes_the_base_of_an_aof_and_nothing_else_changes() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(RDB_FILE), b"REDIS0011...").unwrap();
        assert_eq!(convert(d.path(), Loads::Rdb, None).await.unwrap(), None);
        let done = convert(d.path(), Loads::Aof, None).await.unwrap();
        assert!(done.unwrap().contains("RDB → AOF"));
        assert!(!d.path().join(RDB_FILE).exists());
        assert_eq!(
            std::fs::read(d.path().join(AOF_DIR).join(BASE_FILE)).unwrap(),
            b"REDIS0011..."
        );
        assert_eq!(
            std::fs::read_to_string(d.path().join(AOF_DIR).join(AOF_MANIFEST)).unwrap(),
            "file appendonly.aof.1.base.rdb seq 1 type b\n"
        );
        // Now an AOF: nothing more to do for an AOF profile.
        assert_eq!(convert(d.path(), Loads::Aof, None).await.unwrap(), None);
    }

    #[tokio::test]
    async fn aof_to_rdb_without_a_server_says_what_to_do() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join(AOF_DIR)).unwrap();
        std::fs::write(d.path().join(AOF_DIR).join(AOF_MANIFEST), "x").unwrap();
        let e = convert(d.path(), Loads::Rdb, None).await.unwrap_err();
        assert!(e.to_string().contains("needs redis-server"), "{e}");
        assert!(e.to_string().contains("persistence = \"aof\""), "{e}");
    }
}
