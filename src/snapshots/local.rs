//! The persistence files in a data directory, and the pending-upload marker.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::SnapshotError;

/// Redis's RDB file name (the default `dbfilename`).
pub const RDB_FILE: &str = "dump.rdb";
/// Redis 7's multi-part AOF directory (the default `appenddirname`).
pub const AOF_DIR: &str = "appendonlydir";
/// Before Redis 7: one AOF file.
pub const LEGACY_AOF: &str = "appendonly.aof";
/// Written before an upload starts, removed once its manifest is committed.
pub const PENDING_FILE: &str = "snapshot-pending.json";
/// Where a restore stages its downloads before moving them into place.
pub const STAGING_PREFIX: &str = ".restore-";

/// One persistence file: its path relative to the data directory and on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    pub rel: String,
    pub path: PathBuf,
    pub size: u64,
}

async fn file_size(p: &Path) -> Result<Option<u64>, SnapshotError> {
    match tokio::fs::metadata(p).await {
        Ok(m) if m.is_file() => Ok(Some(m.len())),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SnapshotError::io(p, e)),
    }
}

/// `dump.rdb`, every file of `appendonlydir/` (sorted), and a legacy `appendonly.aof`.
pub async fn persistence_files(dir: &Path) -> Result<Vec<LocalFile>, SnapshotError> {
    let mut out = Vec::new();
    for rel in [RDB_FILE, LEGACY_AOF] {
        let path = dir.join(rel);
        if let Some(size) = file_size(&path).await? {
            out.push(LocalFile {
                rel: rel.into(),
                path,
                size,
            });
        }
    }
    let aof = dir.join(AOF_DIR);
    match tokio::fs::read_dir(&aof).await {
        Ok(mut rd) => {
            let mut names = Vec::new();
            while let Some(e) = rd
                .next_entry()
                .await
                .map_err(|e| SnapshotError::io(&aof, e))?
            {
                names.push(e.file_name().to_string_lossy().into_owned());
            }
            names.sort();
            for n in names {
                let path = aof.join(&n);
                if let Some(size) = file_size(&path).await? {
                    out.push(LocalFile {
                        rel: format!("{AOF_DIR}/{n}"),
                        path,
                        size,
                    });
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(SnapshotError::io(&aof, e)),
    }
    Ok(out)
}

/// The data directory holds data Redis would load (what a new VM does not have).
pub async fn has_data(dir: &Path) -> Result<bool, SnapshotError> {
    Ok(!persistence_files(dir).await?.is_empty())
}

/// An upload that started and was not confirmed: the local data is newer than the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub since: DateTime<Utc>,
    /// The last failure, when one was seen (none after a kill mid-upload).
    pub error: Option<String>,
    pub attempts: u32,
}

pub async fn read_pending(dir: &Path) -> Result<Option<Pending>, SnapshotError> {
    let p = dir.join(PENDING_FILE);
    match tokio::fs::read_to_string(&p).await {
        // An unreadable marker still means "pending": the safe reading.
        Ok(t) => Ok(Some(serde_json::from_str(&t).unwrap_or(Pending {
            since: Utc::now(),
            error: None,
            attempts: 0,
        }))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SnapshotError::io(p, e)),
    }
}

pub async fn write_pending(dir: &Path, p: &Pending) -> Result<(), SnapshotError> {
    let path = dir.join(PENDING_FILE);
    let tmp = dir.join(format!("{PENDING_FILE}.tmp"));
    let text = serde_json::to_string_pretty(p).unwrap_or_default();
    tokio::fs::write(&tmp, text)
        .await
        .map_err(|e| SnapshotError::io(&tmp, e))?;
    tokio::fs::rename(&tmp, &path)
        .await
        .map_err(|e| SnapshotError::io(&path, e))
}

pub async fn clear_pending(dir: &Path) -> Result<(), SnapshotError> {
    let p = dir.join(PENDING_FILE);
    match tokio::fs::remove_file(&p).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(SnapshotError::io(p, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn finds_rdb_and_aof_files() {
        let d = tempfile::tempdir().unwrap();
        assert!(!has_data(d.path()).await.unwrap());
        std::fs::write(d.path().join("redis.log"), "x").unwrap();
        std::fs::write(d.path().join("redwhisk.password"), "x").unwrap();
        assert!(
            !has_data(d.path()).await.unwrap(),
            "log and password are not data"
        );
        std::fs::write(d.path().join(RDB_FILE), "abc").unwrap();
        std::fs::create_dir(d.path().join(AOF_DIR)).unwrap();
        std::fs::write(d.path().join("appendonlydir/appendonly.aof.manifest"), "m").unwrap();
        std::fs::write(
            d.path().join("appendonlydir/appendonly.aof.1.base.rdb"),
            "b",
        )
        .unwrap();
        let f = persistence_files(d.path()).await.unwrap();
        let rels: Vec<_> = f.iter().map(|f| f.rel.as_str()).collect();
        assert_eq!(
            rels,
            [
                "dump.rdb",
                "appendonlydir/appendonly.aof.1.base.rdb",
                "appendonlydir/appendonly.aof.manifest"
            ]
        );
        assert_eq!(f[0].size, 3);
    }

    #[tokio::test]
    async fn pending_marker_round_trip() {
        let d = tempfile::tempdir().unwrap();
        assert!(read_pending(d.path()).await.unwrap().is_none());
        let p = Pending {
            since: Utc::now(),
            error: Some("unreachable".into()),
            attempts: 2,
        };
        write_pending(d.path(), &p).await.unwrap();
        assert_eq!(read_pending(d.path()).await.unwrap(), Some(p));
        std::fs::write(d.path().join(PENDING_FILE), "garbage").unwrap();
        assert!(
            read_pending(d.path()).await.unwrap().is_some(),
            "garbage still pending"
        );
        clear_pending(d.path()).await.unwrap();
        clear_pending(d.path()).await.unwrap();
        assert!(read_pending(d.path()).await.unwrap().is_none());
    }
}
