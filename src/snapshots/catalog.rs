//! What a store holds for a profile: complete snapshots (with a manifest), incomplete ones
//! (objects without a manifest: an interrupted upload), and retention.

use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use serde::Serialize;

use super::error::SnapshotError;
use super::manifest::{Manifest, SnapshotId};
use super::store::SnapshotStore;

/// Complete snapshots newest first; incomplete ids newest first.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    pub complete: Vec<Manifest>,
    pub incomplete: Vec<SnapshotId>,
}

impl Catalog {
    pub fn latest(&self) -> Option<&Manifest> {
        self.complete.first()
    }
}

fn store_err(
    s: &SnapshotStore,
    action: &'static str,
    p: &object_store::path::Path,
) -> impl Fn(object_store::Error) -> SnapshotError {
    let url = s.url_of(p);
    let endpoint = s.endpoint.clone();
    move |source| SnapshotError::store(action, url.clone(), endpoint.clone(), &source)
}

/// The manifest of `id`; `Ok(None)` when it has none (incomplete or absent).
pub async fn manifest(
    s: &SnapshotStore,
    id: &SnapshotId,
    profile: &str,
) -> Result<Option<Manifest>, SnapshotError> {
    let p = s.manifest(id);
    let bytes = match s.store.get(&p).await {
        Ok(r) => r.bytes().await.map_err(store_err(s, "download", &p))?,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(store_err(s, "download", &p)(e)),
    };
    let m: Manifest = serde_json::from_slice(&bytes).map_err(|e| SnapshotError::BadManifest {
        object: s.url_of(&p),
        detail: e.to_string(),
        profile: profile.to_string(),
    })?;
    if &m.id != id {
        return Err(SnapshotError::BadManifest {
            object: s.url_of(&p),
            detail: format!("it names snapshot {} instead", m.id),
            profile: profile.to_string(),
        });
    }
    Ok(Some(m))
}

/// List the profile's snapshots.
pub async fn list(s: &SnapshotStore, profile: &str) -> Result<Catalog, SnapshotError> {
    let root = s.root().clone();
    // A full listing rather than a delimited one: some S3-compatible servers (s3rver) omit
    // the common prefix of a directory whose objects are all one level deeper (an
    // interrupted AOF upload), and those must show as incomplete.
    let objects: Vec<object_store::path::Path> = s
        .store
        .list(Some(&root))
        .map_ok(|m| m.location)
        .try_collect()
        .await
        .map_err(store_err(s, "list", &root))?;
    let mut ids: Vec<SnapshotId> = objects
        .iter()
        .filter_map(|p| p.prefix_match(&root)?.next())
        .filter_map(|seg| SnapshotId::parse(seg.as_ref()).ok())
        .collect();
    ids.sort();
    ids.dedup();
    ids.reverse();
    let found: Vec<(SnapshotId, Option<Manifest>)> = futures::stream::iter(ids)
        .map(|id| async move {
            let m = manifest(s, &id, profile).await;
            m.map(|m| (id, m))
        })
        .buffered(8)
        .try_collect()
        .await?;
    let mut cat = Catalog::default();
    for (id, m) in found {
        match m {
            Some(m) => cat.complete.push(m),
            None => cat.incomplete.push(id),
        }
    }
    // Newest first by the manifest's own time; the id breaks ties.
    cat.complete
        .sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    Ok(cat)
}

/// Delete every object of a snapshot, the manifest first (so it stops existing at once).
pub async fn delete(s: &SnapshotStore, id: &SnapshotId) -> Result<(), SnapshotError> {
    let mp = s.manifest(id);
    match s.store.delete(&mp).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
        Err(e) => return Err(store_err(s, "delete", &mp)(e)),
    }
    let dir = s.dir(id);
    let objects: Vec<_> = s
        .store
        .list(Some(&dir))
        .map_ok(|m| m.location)
        .try_collect()
        .await
        .map_err(store_err(s, "list", &dir))?;
    for o in objects {
        match s.store.delete(&o).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_err(s, "delete", &o)(e)),
        }
    }
    Ok(())
}

/// What retention removes: complete snapshots beyond the newest `keep`, and incomplete ones
/// older than the newest complete snapshot (a newer one may be an upload in progress).
pub fn plan_prune(cat: &Catalog, keep: usize) -> Vec<SnapshotId> {
    let mut out: Vec<SnapshotId> = cat
        .complete
        .iter()
        .skip(keep)
        .map(|m| m.id.clone())
        .collect();
    if let Some(latest) = cat.latest() {
        out.extend(cat.incomplete.iter().filter(|i| *i < &latest.id).cloned());
    }
    out
}

/// Apply retention; returns the ids deleted.
pub async fn prune(
    s: &SnapshotStore,
    profile: &str,
    keep: usize,
) -> Result<Vec<SnapshotId>, SnapshotError> {
    let cat = list(s, profile).await?;
    let doomed = plan_prune(&cat, keep);
    for id in &doomed {
        delete(s, id).await?;
    }
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn m(id: &str) -> Manifest {
        Manifest {
            format: 1,
            id: SnapshotId::parse(id).unwrap(),
            profile: "p".into(),
            created_at: DateTime::from_timestamp(0, 0).unwrap(),
            redis_version: None,
            persistence: "rdb".into(),
            keys: None,
            files: vec![],
            upload_ms: 0.0,
        }
    }

    #[test]
    fn prune_keeps_newest_and_in_progress() {
        let cat = Catalog {
            complete: vec![
                m("20260103T000000000Z-0003"),
                m("20260102T000000000Z-0002"),
                m("20260101T000000000Z-0001"),
            ],
            incomplete: vec![
                SnapshotId::parse("20260104T000000000Z-0004").unwrap(),
                SnapshotId::parse("20260101T120000000Z-0009").unwrap(),
            ],
        };
        let ids: Vec<String> = plan_prune(&cat, 2).iter().map(|i| i.to_string()).collect();
        assert_eq!(
            ids,
            ["20260101T000000000Z-0001", "20260101T120000000Z-0009"]
        );
        assert!(plan_prune(&Catalog::default(), 1).is_empty());
    }
}
