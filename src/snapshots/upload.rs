//! Upload the persistence files of a stopped Redis, streamed (multipart above one part),
//! then `manifest.json` last: the commit point.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use object_store::buffered::BufWriter;
use object_store::{ObjectStore, PutPayload};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::SnapshotError;
use super::local::{LocalFile, persistence_files};
use super::manifest::{FORMAT, FileEntry, Manifest, SnapshotId};
use super::store::SnapshotStore;

/// Multipart part size (and the size below which one PUT is used), as the AWS CLI's default.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight at once (the AWS CLI uses 10 requests).
pub const PART_CONCURRENCY: usize = 8;
/// Read buffer: the file is streamed, never read whole.
const READ_CHUNK: usize = 1024 * 1024;
/// Fault injection for tests: wait this long between the files and the manifest, so a test
/// can kill the process at exactly that point.
pub const PAUSE_ENV: &str = "REDWHISK_SNAPSHOT_PAUSE_BEFORE_MANIFEST_MS";

/// What Redis said before it was stopped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PreStop {
    pub redis_version: Option<String>,
    pub keys: Option<u64>,
}

/// Stream one file to `<dir>/<rel>`, hashing as it goes.
async fn put_file(
    s: &SnapshotStore,
    id: &SnapshotId,
    f: &LocalFile,
) -> Result<FileEntry, SnapshotError> {
    let dest = s.object(id, &f.rel);
    let store_err =
        |source| SnapshotError::store("upload", s.url_of(&dest), s.endpoint.clone(), &source);
    let mut file = tokio::fs::File::open(&f.path)
        .await
        .map_err(|e| SnapshotError::io(&f.path, e))?;
    let mut w = BufWriter::with_capacity(s.store.clone(), dest.clone(), PART_SIZE)
        .with_max_concurrency(PART_CONCURRENCY);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; READ_CHUNK];
    let mut shut_down = false;
    let result: Result<(), SnapshotError> = async {
        loop {
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| SnapshotError::io(&f.path, e))?;
            if n == 0 {
                break;
            }
            let chunk = buf.get(..n).unwrap_or_default();
            hasher.update(chunk);
            size += n as u64;
            w.write_all(chunk)
                .await
                .map_err(|e| io_to_store(e, &store_err))?;
        }
        shut_down = true;
        w.shutdown().await.map_err(|e| io_to_store(e, &store_err))
    }
    .await;
    if let Err(e) = result {
        // Drop the parts already sent; a failed abort only leaves invisible parts behind.
        // (After `shutdown` the writer has handed its upload over: nothing left to abort.)
        if !shut_down {
            let _best_effort = w.abort().await;
        }
        return Err(e);
    }
    Ok(FileEntry {
        path: f.rel.clone(),
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// BufWriter reports store errors through io::Error; get the object_store error back.
fn io_to_store(
    e: std::io::Error,
    wrap: &(dyn Fn(object_store::Error) -> SnapshotError + Sync),
) -> SnapshotError {
    let source = match e.into_inner() {
        Some(inner) => match inner.downcast::<object_store::Error>() {
            Ok(os) => *os,
            Err(other) => object_store::Error::Generic {
                store: "S3",
                source: other,
            },
        },
        None => object_store::Error::Generic {
            store: "S3",
            source: "I/O error while uploading".into(),
        },
    };
    wrap(source)
}

/// Upload the data directory's persistence files as a new snapshot; the manifest goes last.
pub async fn upload(
    s: &SnapshotStore,
    data_dir: &Path,
    profile: &str,
    persistence: &str,
    pre: &PreStop,
) -> Result<Manifest, SnapshotError> {
    let t0 = Instant::now();
    let created_at = Utc::now();
    let id = SnapshotId::new(created_at);
    let files = persistence_files(data_dir).await?;
    if files.is_empty() {
        return Err(SnapshotError::Refused(format!(
            "{} holds no persistence file (dump.rdb or appendonlydir/): nothing to snapshot",
            data_dir.display()
        )));
    }
    let mut entries = Vec::with_capacity(files.len());
    for f in &files {
        entries.push(put_file(s, &id, f).await?);
    }
    if let Some(ms) = std::env::var(PAUSE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        eprintln!(
            "snapshot {id}: files uploaded; pausing {ms} ms before the manifest ({PAUSE_ENV})"
        );
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    let manifest = Manifest {
        format: FORMAT,
        id: id.clone(),
        profile: profile.to_string(),
        created_at,
        redis_version: pre.redis_version.clone(),
        persistence: persistence.to_string(),
        keys: pre.keys,
        files: entries,
        upload_ms: crate::stats::ms(t0.elapsed()),
    };
    let body = serde_json::to_vec_pretty(&manifest).unwrap_or_default();
    let mpath = s.manifest(&id);
    s.store
        .put(&mpath, PutPayload::from(body))
        .await
        .map_err(|source| {
            SnapshotError::store("upload", s.url_of(&mpath), s.endpoint.clone(), &source)
        })?;
    Ok(manifest)
}
