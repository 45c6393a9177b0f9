//! What a store holds for a profile: complete snapshots (with a manifest), incomplete ones
//! (objects without a manifest: an interrupted upload), and retention.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use serde::Serialize;

use super::error::SnapshotError;
use super::manifest::{GEN_DIR, Manifest, SnapshotId, claim_name};
use super::store::SnapshotStore;

/// A snapshot whose `manifest.json` exists but cannot be read: listed, never restored,
/// deleted by retention.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CorruptSnapshot {
    pub id: SnapshotId,
    /// `s3://…/manifest.json`.
    pub object: String,
    pub error: String,
}

/// Complete snapshots newest first (by generation); corrupt and incomplete ones by id.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Catalog {
    pub complete: Vec<Manifest>,
    pub corrupt: Vec<CorruptSnapshot>,
    pub incomplete: Vec<SnapshotId>,
    /// Generation claims found under `gen/`, ascending.
    #[serde(skip)]
    pub claims: Vec<u64>,
    /// The store's last-modified time of each snapshot's newest object (the store's clock,
    /// the one clock every uploader shares).
    #[serde(skip)]
    pub modified: BTreeMap<SnapshotId, DateTime<Utc>>,
}

impl Catalog {
    /// The newest valid snapshot: the highest generation.
    pub fn latest(&self) -> Option<&Manifest> {
        self.complete.first()
    }

    /// The generation a new snapshot claims: one above every claim and every valid
    /// snapshot (derived generations included).
    pub fn next_generation(&self) -> u64 {
        let claimed = self.claims.last().copied().unwrap_or(0);
        let listed = self
            .complete
            .iter()
            .filter_map(|m| m.generation)
            .max()
            .unwrap_or(0);
        claimed.max(listed) + 1
    }
}

/// The order of snapshots: numbered before derived ones, then generation, then (for equal
/// generations, which only a store that ignores `If-None-Match` allows) creation time and id.
fn order(m: &Manifest) -> (bool, u64, DateTime<Utc>, SnapshotId) {
    (
        !m.generation_derived,
        m.generation.unwrap_or(0),
        m.created_at,
        m.id.clone(),
    )
}

/// Manifests written before generations get one from their order (1, 2, …, below every
/// numbered snapshot).
fn derive_generations(complete: &mut [Manifest]) {
    let mut legacy: Vec<&mut Manifest> = complete
        .iter_mut()
        .filter(|m| m.generation.is_none())
        .collect();
    legacy.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    for (i, m) in legacy.into_iter().enumerate() {
        m.generation = Some(i as u64 + 1);
        m.generation_derived = true;
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

/// One snapshot directory as the listing found it.
enum Found {
    Complete(Box<Manifest>),
    Corrupt(CorruptSnapshot),
    Incomplete(SnapshotId),
}

/// List the profile's snapshots. A manifest that cannot be read makes that snapshot
/// corrupt, never the listing fail; only the store failing does.
pub async fn list(s: &SnapshotStore, profile: &str) -> Result<Catalog, SnapshotError> {
    let root = s.root().clone();
    // A full listing rather than a delimited one: some S3-compatible servers (s3rver) omit
    // the common prefix of a directory whose objects are all one level deeper (an
    // interrupted AOF upload), and those must show as incomplete.
    let objects: Vec<object_store::ObjectMeta> = s
        .store
        .list(Some(&root))
        .try_collect()
        .await
        .map_err(store_err(s, "list", &root))?;
    let mut cat = Catalog::default();
    for o in &objects {
        let mut segs = match o.location.prefix_match(&root) {
            Some(segs) => segs,
            None => continue,
        };
        let Some(first) = segs.next() else { continue };
        if first.as_ref() == GEN_DIR {
            if let Some(n) = segs.next().and_then(|n| n.as_ref().parse::<u64>().ok()) {
                cat.claims.push(n);
            }
        } else if let Ok(id) = SnapshotId::parse(first.as_ref()) {
            let t = cat.modified.entry(id).or_insert(o.last_modified);
            *t = (*t).max(o.last_modified);
        }
    }
    cat.claims.sort_unstable();
    let ids: Vec<SnapshotId> = cat.modified.keys().rev().cloned().collect();
    let found: Vec<Found> = futures::stream::iter(ids)
        .map(|id| async move {
            match manifest(s, &id, profile).await {
                Ok(Some(m)) => Ok(Found::Complete(Box::new(m))),
                Ok(None) => Ok(Found::Incomplete(id)),
                Err(SnapshotError::BadManifest { object, detail, .. }) => {
                    Ok(Found::Corrupt(CorruptSnapshot {
                        id,
                        object,
                        error: detail,
                    }))
                }
                Err(e) => Err(e),
            }
        })
        .buffered(8)
        .try_collect()
        .await?;
    for f in found {
        match f {
            Found::Complete(m) => cat.complete.push(*m),
            Found::Corrupt(c) => cat.corrupt.push(c),
            Found::Incomplete(id) => cat.incomplete.push(id),
        }
    }
    derive_generations(&mut cat.complete);
    cat.complete.sort_by_key(|m| std::cmp::Reverse(order(m)));
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

/// What retention removes: complete snapshots beyond the newest `keep` (by generation),
/// every corrupt one (it can never be restored), and incomplete ones the store last
/// modified no later than the newest snapshot's manifest (a later one may be an upload in
/// progress). The store's own clock decides that, never an uploader's; listings give it in
/// whole seconds, so debris of the same second as that manifest counts as older.
pub fn plan_prune(cat: &Catalog, keep: usize) -> Vec<SnapshotId> {
    let mut out: Vec<SnapshotId> = cat
        .complete
        .iter()
        .skip(keep)
        .map(|m| m.id.clone())
        .collect();
    out.extend(cat.corrupt.iter().map(|c| c.id.clone()));
    if let Some(latest) = cat.latest().and_then(|m| cat.modified.get(&m.id)) {
        out.extend(
            cat.incomplete
                .iter()
                .filter(|i| cat.modified.get(*i).is_some_and(|t| t <= latest))
                .cloned(),
        );
    }
    out
}

/// Generation claims no kept snapshot needs: below the oldest kept numbered generation.
pub fn stale_claims(cat: &Catalog, keep: usize) -> Vec<u64> {
    let Some(oldest) = cat
        .complete
        .iter()
        .take(keep)
        .filter(|m| !m.generation_derived)
        .filter_map(|m| m.generation)
        .min()
    else {
        return Vec::new();
    };
    cat.claims.iter().copied().filter(|n| *n < oldest).collect()
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
    for n in stale_claims(&cat, keep) {
        let p = s.root().child(GEN_DIR).child(claim_name(n));
        match s.store.delete(&p).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(store_err(s, "delete", &p)(e)),
        }
    }
    Ok(doomed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(id: &str, generation: Option<u64>, created_s: i64) -> Manifest {
        Manifest {
            format: 2,
            id: SnapshotId::parse(id).unwrap(),
            profile: "p".into(),
            created_at: DateTime::from_timestamp(created_s, 0).unwrap(),
            generation,
            generation_derived: false,
            redis_version: None,
            persistence: "rdb".into(),
            keys: None,
            files: vec![],
            upload_ms: 0.0,
        }
    }

    fn at(s: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(s, 0).unwrap()
    }

    fn id(s: &str) -> SnapshotId {
        SnapshotId::parse(s).unwrap()
    }

    #[test]
    fn prune_keeps_newest_and_in_progress() {
        let mut cat = Catalog {
            complete: vec![
                m("20260103T000000000Z-0003", Some(3), 3),
                m("20260102T000000000Z-0002", Some(2), 2),
                m("20260101T000000000Z-0001", Some(1), 1),
            ],
            corrupt: vec![CorruptSnapshot {
                id: id("20260105T000000000Z-0005"),
                object: "s3://b/x/manifest.json".into(),
                error: "expected value at line 1 column 1".into(),
            }],
            incomplete: vec![
                id("20260104T000000000Z-0004"),
                id("20260101T120000000Z-0009"),
            ],
            claims: vec![1, 2, 3],
            modified: BTreeMap::new(),
        };
        // The store's clock: 0009 was last written in the latest manifest's second, 0004 after.
        cat.modified.insert(id("20260103T000000000Z-0003"), at(300));
        cat.modified.insert(id("20260104T000000000Z-0004"), at(400));
        cat.modified.insert(id("20260101T120000000Z-0009"), at(300));
        let ids: Vec<String> = plan_prune(&cat, 2).iter().map(|i| i.to_string()).collect();
        assert_eq!(
            ids,
            [
                "20260101T000000000Z-0001",
                "20260105T000000000Z-0005",
                "20260101T120000000Z-0009"
            ]
        );
        assert_eq!(stale_claims(&cat, 2), [1]);
        assert_eq!(cat.next_generation(), 4);
        assert!(plan_prune(&Catalog::default(), 1).is_empty());
        assert_eq!(Catalog::default().next_generation(), 1);
    }

    #[test]
    fn newest_is_the_highest_generation_not_the_latest_clock() {
        // 0001 was made by a machine whose clock ran 5 minutes ahead: generation 1 still.
        let mut complete = vec![
            m("20260101T000500000Z-0001", Some(1), 300),
            m("20260101T000100000Z-0002", Some(2), 60),
        ];
        derive_generations(&mut complete);
        complete.sort_by_key(|m| std::cmp::Reverse(order(m)));
        assert_eq!(complete[0].id.as_str(), "20260101T000100000Z-0002");
        let cat = Catalog {
            complete,
            claims: vec![1, 2, 5],
            ..Default::default()
        };
        assert_eq!(cat.next_generation(), 6, "an orphan claim is skipped");
    }

    #[test]
    fn snapshots_without_a_generation_rank_below_numbered_ones_in_time_order() {
        let mut complete = vec![
            m("20260101T000000000Z-0001", None, 100),
            m("20260102T000000000Z-0002", None, 200),
            m("20250101T000000000Z-0003", Some(3), 50),
        ];
        derive_generations(&mut complete);
        complete.sort_by_key(|m| std::cmp::Reverse(order(m)));
        let got: Vec<(&str, Option<u64>, bool)> = complete
            .iter()
            .map(|m| (m.id.as_str(), m.generation, m.generation_derived))
            .collect();
        assert_eq!(
            got,
            [
                ("20250101T000000000Z-0003", Some(3), false),
                ("20260102T000000000Z-0002", Some(2), true),
                ("20260101T000000000Z-0001", Some(1), true),
            ]
        );
        let cat = Catalog {
            complete,
            ..Default::default()
        };
        assert_eq!(cat.next_generation(), 4);
        assert!(stale_claims(&cat, 5).is_empty());
    }
}
