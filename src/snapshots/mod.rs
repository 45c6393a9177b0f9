//! Snapshots of a profile's Redis data in S3-compatible object storage, so the data outlives
//! the VM: uploaded after a graceful stop, restored when a Redis host starts with an empty
//! data directory (a new VM) or with `--restore ID`.
//!
//! Layout: `s3://<bucket>/<prefix>/<profile>/<snapshot id>/<files…>` plus `manifest.json`,
//! written last: a snapshot without a manifest does not exist. See docs/snapshots.md.

pub mod catalog;
pub mod convert;
pub use crate::profile::snapshots as config;
pub mod credentials;
mod error;
pub mod http;
pub mod local;
pub mod manifest;
pub mod restore;
pub mod store;
pub mod upload;

pub use crate::model::snapshot::{RestoreReport, SnapshotEvent, SnapshotSummary, UploadOutcome};
pub use catalog::Catalog;
pub use config::{RestorePolicy, SnapshotConfig};
pub use error::SnapshotError;
pub use manifest::{Manifest, SnapshotId};
pub use store::SnapshotStore;
pub use upload::PreStop;

use std::time::Duration;

use chrono::Utc;

use crate::event::{EngineEvent, EventSink, Level};
use crate::profile::Profile;

impl From<&Manifest> for SnapshotSummary {
    fn from(m: &Manifest) -> Self {
        Self {
            id: m.id.clone(),
            created_at: m.created_at,
            bytes: m.size(),
            files: m.files.len(),
            keys: m.keys,
            upload_ms: m.upload_ms,
        }
    }
}

/// How long the start waits to learn the latest snapshot when it has local data anyway.
pub const LOOKUP_DEADLINE: Duration = Duration::from_secs(3);

fn send(events: &EventSink, e: SnapshotEvent) {
    events.send(EngineEvent::Snapshot(e));
}

/// Before a start. With an explicit id: restore it (local files are moved aside, never
/// deleted). Otherwise restore per the profile's policy only when the data directory holds
/// no data (a new VM). `running`: a server of this profile already runs (nothing to restore).
pub async fn before_start(
    profile: &Profile,
    cfg: &SnapshotConfig,
    explicit: Option<&SnapshotId>,
    running: bool,
    events: &EventSink,
) -> Result<Option<RestoreReport>, SnapshotError> {
    let dir = &profile.redis.data_dir;
    if let Some(id) = explicit {
        if running {
            return Err(SnapshotError::Refused(format!(
                "profile `{}`'s Redis is running: stop it (`redwhisk redis down --profile {}`) before restoring {id}",
                profile.name, profile.name
            )));
        }
        return restore_now(profile, cfg, id, events).await.map(Some);
    }
    if running || local::has_data(dir).await? {
        return Ok(None);
    }
    match &cfg.restore {
        RestorePolicy::None => {
            events.info("snapshots: restore = \"none\": the empty data directory starts empty");
            Ok(None)
        }
        RestorePolicy::Id(id) => restore_now(profile, cfg, id, events).await.map(Some),
        RestorePolicy::Latest => {
            let s = SnapshotStore::open(cfg, &profile.name).await?;
            let cat = catalog::list(&s, &profile.name).await?;
            let Some(latest) = cat.latest() else {
                events.info(format!(
                    "snapshots: no snapshot in {} yet: starting empty",
                    s.display
                ));
                send(events, SnapshotEvent::Latest(None));
                return Ok(None);
            };
            let id = latest.id.clone();
            send(events, SnapshotEvent::Latest(Some(latest.into())));
            restore_now(profile, cfg, &id, events).await.map(Some)
        }
    }
}

async fn restore_now(
    profile: &Profile,
    cfg: &SnapshotConfig,
    id: &SnapshotId,
    events: &EventSink,
) -> Result<RestoreReport, SnapshotError> {
    let s = SnapshotStore::open(cfg, &profile.name).await?;
    events.info(format!("snapshots: restoring {id} from {}", s.display));
    let r = restore::restore(
        &s,
        id,
        &profile.redis.data_dir,
        &restore::Target::of(profile),
    )
    .await?;
    if let Some(aside) = &r.moved_aside {
        events.warn(format!(
            "snapshots: the local data files were moved to {} (not deleted)",
            aside.display()
        ));
    }
    events.info(format!(
        "snapshots: restored {} ({} bytes, {} files; download {:.0} ms, verify {:.0} ms{}){}",
        r.id,
        r.bytes,
        r.files,
        r.download_ms,
        r.verify_ms,
        if r.checked_with.is_empty() {
            String::new()
        } else {
            format!(" with {}", r.checked_with.join(", "))
        },
        r.converted
            .as_deref()
            .map(|c| format!("; {c}"))
            .unwrap_or_default()
    ));
    send(events, SnapshotEvent::Restored(r.clone()));
    Ok(r)
}

/// With local data present: learn the latest snapshot for the console, or warn that the
/// store is unreachable (the start goes on from local data either way).
pub async fn lookup_latest(profile: &Profile, cfg: &SnapshotConfig, events: &EventSink) {
    let look = async {
        let s = SnapshotStore::open(cfg, &profile.name).await?;
        catalog::list(&s, &profile.name).await
    };
    match tokio::time::timeout(LOOKUP_DEADLINE, look).await {
        Ok(Ok(cat)) => send(events, SnapshotEvent::Latest(cat.latest().map(Into::into))),
        Ok(Err(e)) => events.warn(format!("{e}; starting from the local data")),
        Err(_) => events.warn(format!(
            "snapshots: the store at {} did not answer a listing within {} s; starting from the local data",
            cfg.endpoint.as_deref().unwrap_or(&cfg.url),
            LOOKUP_DEADLINE.as_secs()
        )),
    }
}

/// After a graceful stop: upload, then retention. Never fails the stop: a failure leaves
/// the data on local disk, marked pending, and the next stop uploads it.
pub async fn after_stop(
    profile: &Profile,
    cfg: &SnapshotConfig,
    pre: &PreStop,
    events: &EventSink,
) -> UploadOutcome {
    if !cfg.on_stop {
        return UploadOutcome::Skipped;
    }
    let dir = &profile.redis.data_dir;
    let previous = local::read_pending(dir).await.ok().flatten();
    let mut pending = local::Pending {
        since: previous.as_ref().map(|p| p.since).unwrap_or_else(Utc::now),
        error: None,
        attempts: previous.as_ref().map(|p| p.attempts).unwrap_or(0) + 1,
    };
    // Marked before the first byte goes out: a kill mid-upload leaves it pending.
    if let Err(e) = local::write_pending(dir, &pending).await {
        events.warn(format!("{e} (the pending-upload marker)"));
    }
    let result = async {
        let s = SnapshotStore::open(cfg, &profile.name).await?;
        events.info(format!("snapshots: uploading to {}", s.display));
        let m = upload::upload(
            &s,
            dir,
            &profile.name,
            &profile.redis.persistence.label(),
            pre,
        )
        .await?;
        Ok::<_, SnapshotError>((s, m))
    }
    .await;
    match result {
        Ok((s, m)) => {
            if let Err(e) = local::clear_pending(dir).await {
                events.warn(format!("{e} (the pending-upload marker)"));
            }
            let summary = SnapshotSummary::from(&m);
            events.info(format!(
                "snapshots: uploaded {} ({} bytes, {} files) in {:.0} ms",
                m.id, summary.bytes, summary.files, m.upload_ms
            ));
            send(events, SnapshotEvent::Uploaded(summary.clone()));
            let pruned = match catalog::prune(&s, &profile.name, cfg.keep as usize).await {
                Ok(p) => p,
                Err(e) => {
                    events.warn(format!("{e} (retention; the new snapshot is committed)"));
                    Vec::new()
                }
            };
            UploadOutcome::Uploaded {
                snapshot: summary,
                pruned,
            }
        }
        Err(e) => {
            let error = format!(
                "{e}. Redis is stopped and its data is safe in {}; the upload is pending and the next graceful stop retries it",
                dir.display()
            );
            pending.error = Some(e.to_string());
            if let Err(e) = local::write_pending(dir, &pending).await {
                events.warn(format!("{e} (the pending-upload marker)"));
            }
            events.log(Level::Error, error.clone());
            send(
                events,
                SnapshotEvent::Pending {
                    error: error.clone(),
                },
            );
            UploadOutcome::Pending { error }
        }
    }
}
