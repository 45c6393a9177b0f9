//! Upload the persistence files of a stopped Redis, streamed (multipart above one part),
//! then `manifest.json` last: the commit point.

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::Utc;
use object_store::buffered::BufWriter;
use object_store::{ObjectStore, PutMode, PutPayload};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::catalog;
use super::error::SnapshotError;
use super::local::{LocalFile, persistence_files};
use super::manifest::{FORMAT, FileEntry, Manifest, SnapshotId};
use super::store::SnapshotStore;

/// The smallest multipart part size (and the size below which one PUT is used), as the AWS
/// CLI's default.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts in flight at once at most (the AWS CLI uses 10 requests).
pub const PART_CONCURRENCY: usize = 8;
/// S3's limits: parts of one upload, and the largest object (5 TiB).
pub const MAX_PARTS: u64 = 10_000;
pub const MAX_OBJECT: u64 = 5 * 1024 * 1024 * 1024 * 1024;
/// Bytes of parts held in memory at once (object_store's writer buffers each part).
const IN_FLIGHT: u64 = 128 * 1024 * 1024;
/// Generations one upload tries to claim before it gives up (after a clash, the next one).
pub const CLAIM_ATTEMPTS: u64 = 5;
/// Fault injection for tests: the uploading machine's clock runs this many seconds ahead
/// (negative: behind). Only `created_at` and the id see it; the order is the generation.
pub const CLOCK_SKEW_ENV: &str = "REDWHISK_SNAPSHOT_CLOCK_SKEW_S";

/// The part size for a file of `size` bytes: 8 MiB, or more (whole MiB) so that the file
/// fits in S3's 10,000 parts — a 5 TiB file in parts of 525 MiB.
pub fn part_size(size: u64) -> usize {
    const MIB: u64 = 1024 * 1024;
    let needed = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    usize::try_from(needed.max(PART_SIZE as u64)).unwrap_or(usize::MAX)
}

/// Parts in flight for a part size: 8 of 8 MiB, fewer of larger parts (memory), at least 1.
pub fn part_concurrency(part: usize) -> usize {
    usize::try_from(IN_FLIGHT / part as u64)
        .unwrap_or(1)
        .clamp(1, PART_CONCURRENCY)
}
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
    let part = part_size(f.size);
    let mut w = BufWriter::with_capacity(s.store.clone(), dest.clone(), part)
        .with_max_concurrency(part_concurrency(part));
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

/// Claim generation `n` for `id` with a create-only PUT of `gen/<n>` (`If-None-Match: *`):
/// `Ok(false)` when another upload holds it. A store that ignores the condition (s3rver)
/// lets both writers win; docs/snapshots.md says so.
pub async fn claim(s: &SnapshotStore, n: u64, id: &SnapshotId) -> Result<bool, SnapshotError> {
    let p = s.claim(n);
    let body = PutPayload::from(id.to_string().into_bytes());
    match s.store.put_opts(&p, body, PutMode::Create.into()).await {
        Ok(_) => Ok(true),
        Err(object_store::Error::AlreadyExists { .. }) => Ok(false),
        Err(e) => Err(SnapshotError::store(
            "upload",
            s.url_of(&p),
            s.endpoint.clone(),
            &e,
        )),
    }
}

/// Claim the first free generation from `from` on, trying [`CLAIM_ATTEMPTS`] numbers.
pub async fn claim_next(
    s: &SnapshotStore,
    profile: &str,
    id: &SnapshotId,
    from: u64,
) -> Result<u64, SnapshotError> {
    for n in from..from + CLAIM_ATTEMPTS {
        if claim(s, n, id).await? {
            return Ok(n);
        }
    }
    Err(SnapshotError::Refused(format!(
        "generations {from} to {} in {} were all claimed by other uploads while snapshot {id} was being committed: another machine is uploading snapshots of profile `{profile}` at the same time. {id} stays incomplete (no manifest); stop the other machine's Redis, then stop this one again to upload",
        from + CLAIM_ATTEMPTS - 1,
        s.display
    )))
}

/// Upload the data directory's persistence files as a new snapshot: the files, then a
/// generation claim, then the manifest (the commit point).
pub async fn upload(
    s: &SnapshotStore,
    data_dir: &Path,
    profile: &str,
    persistence: &str,
    pre: &PreStop,
) -> Result<Manifest, SnapshotError> {
    let t0 = Instant::now();
    let skew = std::env::var(CLOCK_SKEW_ENV)
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let created_at = Utc::now() + chrono::Duration::seconds(skew);
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
    // The files are in; now the order: one above the newest valid snapshot and every claim.
    let next = catalog::list(s, profile).await?.next_generation();
    let generation = claim_next(s, profile, &id, next).await?;
    let manifest = Manifest {
        format: FORMAT,
        id: id.clone(),
        profile: profile.to_string(),
        created_at,
        generation: Some(generation),
        generation_derived: false,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_scale_so_that_5_tib_fits_in_10000() {
        const MIB: u64 = 1024 * 1024;
        assert_eq!(part_size(0), PART_SIZE);
        assert_eq!(part_size(100 * MIB), PART_SIZE);
        // 8 MiB parts carry 78.1 GiB; one byte more needs 9 MiB parts.
        let cap = PART_SIZE as u64 * MAX_PARTS;
        assert_eq!(part_size(cap), PART_SIZE);
        assert_eq!(part_size(cap + 1) as u64, 9 * MIB);
        for size in [cap + 1, 1024 * 1024 * MIB, MAX_OBJECT] {
            let p = part_size(size) as u64;
            assert!(size.div_ceil(p) <= MAX_PARTS, "{size} in parts of {p}");
            assert_eq!(p % MIB, 0);
            assert!(p <= 5 * 1024 * MIB, "S3's largest part is 5 GiB");
        }
        assert_eq!(part_size(MAX_OBJECT) as u64, 525 * MIB);
        assert_eq!(part_concurrency(PART_SIZE), PART_CONCURRENCY);
        assert_eq!(part_concurrency(part_size(MAX_OBJECT)), 1);
    }
}
