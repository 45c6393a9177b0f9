//! Download a snapshot, verify it (every sha256, then `redis-check-rdb` / `redis-check-aof`
//! where installed) in a staging directory, and only then move it into the data directory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Utc;
use futures::StreamExt;
use object_store::ObjectStore;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::catalog;
use super::convert::{self, Loads};
use super::error::SnapshotError;
use super::local::{AOF_DIR, RDB_FILE, STAGING_PREFIX, persistence_files};
use super::manifest::{Manifest, SnapshotId, safe_relative};
use super::store::SnapshotStore;
use crate::model::RestoreReport;
use crate::profile::{Backend, Persistence, Profile};
use crate::stats::ms;

fn find_tool(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Why a check tool did not pass a file.
#[derive(Debug, thiserror::Error)]
enum CheckError {
    #[error("{} could not run: {source}", tool.display())]
    Spawn {
        tool: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `tail`: the tool's last output lines, joined with " | ".
    #[error("{tool} refused it: {tail}")]
    Refused { tool: String, tail: String },
}

/// Run a check tool; `Err` when it rejects the file or cannot run.
async fn check_with(tool: &Path, file: &Path) -> Result<(), CheckError> {
    let out = tokio::process::Command::new(tool)
        .arg(file)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|source| CheckError::Spawn {
            tool: tool.to_path_buf(),
            source,
        })?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // redis-check-aof exits 0 on some refusals too: read what it says.
    let says_bad =
        text.contains("is not valid") || text.contains("corrupt") || text.contains("CRC error");
    if out.status.success() && !says_bad {
        return Ok(());
    }
    let tail: Vec<&str> = text.lines().rev().take(4).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    Err(CheckError::Refused {
        tool: tool
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        tail: tail.join(" | "),
    })
}

/// Download one object into `dest`, hashing while streaming.
async fn fetch(
    s: &SnapshotStore,
    m: &Manifest,
    rel: &str,
    dest: &Path,
    profile: &str,
) -> Result<(u64, String), SnapshotError> {
    let obj = s.object(&m.id, rel);
    let store_err =
        |source| SnapshotError::store("download", s.url_of(&obj), s.endpoint.clone(), &source);
    let got = match s.store.get(&obj).await {
        Ok(g) => g,
        Err(object_store::Error::NotFound { .. }) => {
            return Err(SnapshotError::Corrupt {
                id: m.id.to_string(),
                object: s.url_of(&obj),
                detail: "listed in the manifest but missing from the store".into(),
                profile: profile.to_string(),
            });
        }
        Err(e) => return Err(store_err(e)),
    };
    if let Some(parent) = dest.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| SnapshotError::io(parent, e))?;
    }
    let mut out = tokio::fs::File::create(dest)
        .await
        .map_err(|e| SnapshotError::io(dest, e))?;
    let mut stream = got.into_stream();
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(store_err)?;
        hasher.update(&chunk);
        size += chunk.len() as u64;
        out.write_all(&chunk)
            .await
            .map_err(|e| SnapshotError::io(dest, e))?;
    }
    out.flush().await.map_err(|e| SnapshotError::io(dest, e))?;
    out.sync_all()
        .await
        .map_err(|e| SnapshotError::io(dest, e))?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// The profile a restore places files for: what its Redis loads, and the redis-server a
/// conversion may use.
#[derive(Debug, Clone)]
pub struct Target {
    pub profile: String,
    /// The profile's persistence label (`rdb`, `aof-everysec`, …), for messages.
    pub persistence: String,
    pub loads: Loads,
    pub server: Option<PathBuf>,
}

impl Target {
    pub fn of(p: &Profile) -> Self {
        let bin = match &p.redis.backend {
            Backend::Process { server_bin } => Some(server_bin.as_str()),
            _ => None,
        };
        Self {
            profile: p.name.clone(),
            persistence: p.redis.persistence.label(),
            loads: match p.redis.persistence {
                Persistence::Aof { .. } => Loads::Aof,
                _ => Loads::Rdb,
            },
            server: convert::find_server(bin),
        }
    }
}

/// Download and verify `id` into the data directory, converted to what the profile's Redis
/// loads when the snapshot's persistence differs. Existing persistence files are moved to
/// `replaced-<time>/` (never deleted).
pub async fn restore(
    s: &SnapshotStore,
    id: &SnapshotId,
    data_dir: &Path,
    target: &Target,
) -> Result<RestoreReport, SnapshotError> {
    let profile = target.profile.as_str();
    let t0 = Instant::now();
    let m = catalog::manifest(s, id, profile)
        .await?
        .ok_or_else(|| SnapshotError::NotFound {
            id: id.to_string(),
            at: s.display.clone(),
            profile: profile.to_string(),
        })?;
    let corrupt = |object: String, detail: String| SnapshotError::Corrupt {
        id: m.id.to_string(),
        object,
        detail,
        profile: profile.to_string(),
    };
    if m.files.is_empty() {
        return Err(corrupt(
            s.url_of(&s.manifest(id)),
            "the manifest lists no file".into(),
        ));
    }
    for f in &m.files {
        if !safe_relative(&f.path) {
            return Err(corrupt(
                s.url_of(&s.manifest(id)),
                format!("file path `{}` would leave the data directory", f.path),
            ));
        }
    }
    tokio::fs::create_dir_all(data_dir)
        .await
        .map_err(|e| SnapshotError::io(data_dir, e))?;
    let staging = data_dir.join(format!("{STAGING_PREFIX}{id}"));
    let _ = tokio::fs::remove_dir_all(&staging).await;
    let result = async {
        let checked = stage(s, &m, &staging, profile, &corrupt).await?;
        let converted = convert::convert(&staging, target.loads, target.server.as_deref())
            .await
            .map_err(|e| {
                SnapshotError::Convert(format!(
                    "snapshot {} was made with persistence {} and profile `{profile}` uses {}: {e}",
                    m.id, m.persistence, target.persistence
                ))
            })?;
        Ok::<_, SnapshotError>((checked, converted))
    }
    .await;
    let ((download_ms, verify_ms, checked_with), converted) = match result {
        Ok(r) => r,
        Err(e) => {
            let _cleanup = tokio::fs::remove_dir_all(&staging).await;
            return Err(e);
        }
    };
    // Verified: move what is there aside (never delete local data), then move the snapshot in.
    let existing = persistence_files(data_dir).await?;
    let moved_aside = if existing.is_empty() {
        None
    } else {
        let aside = data_dir.join(format!(
            "replaced-{}",
            Utc::now().format("%Y%m%dT%H%M%S%.3fZ")
        ));
        tokio::fs::create_dir_all(&aside)
            .await
            .map_err(|e| SnapshotError::io(&aside, e))?;
        for name in [RDB_FILE, AOF_DIR, super::local::LEGACY_AOF] {
            let from = data_dir.join(name);
            if tokio::fs::try_exists(&from).await.unwrap_or(false) {
                tokio::fs::rename(&from, aside.join(name))
                    .await
                    .map_err(|e| SnapshotError::io(&from, e))?;
            }
        }
        Some(aside)
    };
    // What the staging directory holds now (converted or as downloaded).
    for f in persistence_files(&staging).await? {
        let from = f.path;
        let to = data_dir.join(&f.rel);
        if let Some(parent) = to.parent() {
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| SnapshotError::io(parent, e))?;
        }
        tokio::fs::rename(&from, &to)
            .await
            .map_err(|e| SnapshotError::io(&to, e))?;
    }
    let _cleanup = tokio::fs::remove_dir_all(&staging).await;
    Ok(RestoreReport {
        id: m.id.clone(),
        bytes: m.size(),
        files: m.files.len(),
        keys_expected: m.keys,
        download_ms,
        verify_ms,
        total_ms: ms(t0.elapsed()),
        checked_with,
        moved_aside,
        converted,
    })
}

/// Download every file into `staging` and verify it.
async fn stage(
    s: &SnapshotStore,
    m: &Manifest,
    staging: &Path,
    profile: &str,
    corrupt: &(dyn Fn(String, String) -> SnapshotError + Sync),
) -> Result<(f64, f64, Vec<String>), SnapshotError> {
    let t_dl = Instant::now();
    for f in &m.files {
        let dest = staging.join(&f.path);
        let (size, sha) = fetch(s, m, &f.path, &dest, profile).await?;
        let url = s.url_of(&s.object(&m.id, &f.path));
        if size != f.size {
            return Err(corrupt(
                url,
                format!("{size} bytes downloaded, the manifest says {}", f.size),
            ));
        }
        if sha != f.sha256 {
            return Err(corrupt(
                url,
                format!("sha256 {sha} does not match the manifest's {}", f.sha256),
            ));
        }
    }
    let download_ms = ms(t_dl.elapsed());
    let t_check = Instant::now();
    let mut checked = Vec::new();
    let has = |rel: &str| m.files.iter().any(|f| f.path == rel);
    if has(RDB_FILE)
        && let Some(tool) = find_tool("redis-check-rdb")
    {
        check_with(&tool, &staging.join(RDB_FILE))
            .await
            .map_err(|d| corrupt(s.url_of(&s.object(&m.id, RDB_FILE)), d.to_string()))?;
        checked.push("redis-check-rdb".to_string());
    }
    if let Some(aof_manifest) = m
        .files
        .iter()
        .find(|f| f.path.starts_with(&format!("{AOF_DIR}/")) && f.path.ends_with(".manifest"))
        && let Some(tool) = find_tool("redis-check-aof")
    {
        check_with(&tool, &staging.join(&aof_manifest.path))
            .await
            .map_err(|d| {
                corrupt(
                    s.url_of(&s.object(&m.id, &aof_manifest.path)),
                    d.to_string(),
                )
            })?;
        checked.push("redis-check-aof".to_string());
    }
    // The sha256 was computed while downloading; the check tools are the rest of "verify".
    Ok((download_ms, ms(t_check.elapsed()), checked))
}
