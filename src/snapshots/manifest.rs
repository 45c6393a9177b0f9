//! Snapshot ids and `manifest.json`, the commit point of a snapshot: a snapshot without a
//! manifest does not exist.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::model::snapshot::{BadSnapshotId, SnapshotId};

/// The manifest's object name inside a snapshot's directory.
pub const MANIFEST: &str = "manifest.json";
/// The manifest layout version (2: `generation`).
pub const FORMAT: u32 = 2;
/// Where generation claims live, next to the snapshots: `<prefix>/<profile>/gen/<N>`.
pub const GEN_DIR: &str = "gen";

/// A generation claim's object name: zero-padded, so claims sort by number.
pub fn claim_name(generation: u64) -> String {
    format!("{generation:012}")
}

/// One persistence file, relative to the data directory (`dump.rdb`,
/// `appendonlydir/appendonly.aof.1.base.rdb`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    /// Lowercase hex.
    pub sha256: String,
}

/// `manifest.json`. Written last: its presence commits the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub id: SnapshotId,
    pub profile: String,
    pub created_at: DateTime<Utc>,
    /// The order of snapshots, independent of any clock: the previous valid snapshot's
    /// generation + 1, claimed with a create-only PUT of `gen/<N>` before the manifest is
    /// written. `None` in a manifest written before generations existed; the listing then
    /// derives one from the order of those snapshots (below every numbered one) and sets
    /// `generation_derived`.
    #[serde(default)]
    pub generation: Option<u64>,
    /// The generation was derived by the listing, not written by the uploader.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub generation_derived: bool,
    /// `redis_version` from INFO before the stop, when Redis answered.
    pub redis_version: Option<String>,
    /// The profile's persistence when the snapshot was made: `rdb`, `aof-everysec`, ….
    pub persistence: String,
    /// Keys in all databases before the stop, when Redis answered.
    pub keys: Option<u64>,
    pub files: Vec<FileEntry>,
    /// Wall time of the upload of the files (before the manifest).
    pub upload_ms: f64,
}

impl Manifest {
    /// Total bytes of the files.
    pub fn size(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

/// A relative file path is safe to place under a data directory: no `..`, not absolute.
pub fn safe_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && path
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_round_trip() {
        let a = SnapshotId::new(DateTime::from_timestamp(1_700_000_000, 0).unwrap());
        let b = SnapshotId::new(DateTime::from_timestamp(1_700_000_001, 0).unwrap());
        assert!(a < b);
        assert_eq!(SnapshotId::parse(a.as_str()).unwrap(), a);
        assert!(a.as_str().starts_with("20231114T221320000Z-"));
        for bad in [
            "",
            "latest",
            "20231114T221320Z",
            "20231114T221320Z-ABCD",
            "../../etc/pass",
        ] {
            assert!(SnapshotId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn manifest_json_round_trip() {
        let m = Manifest {
            format: FORMAT,
            id: SnapshotId::parse("20261203T081500123Z-ab12").unwrap(),
            profile: "p".into(),
            created_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
            generation: Some(7),
            generation_derived: false,
            redis_version: Some("7.0.15".into()),
            persistence: "rdb".into(),
            keys: Some(3),
            files: vec![FileEntry {
                path: "dump.rdb".into(),
                size: 10,
                sha256: "00".into(),
            }],
            upload_ms: 1.5,
        };
        let text = serde_json::to_string(&m).unwrap();
        let back: Manifest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.size(), 10);
        assert!(!text.contains("generation_derived"));
        let bad = text.replace("20261203T081500123Z-ab12", "../x");
        assert!(serde_json::from_str::<Manifest>(&bad).is_err());
        // A manifest from before generations (format 1) still reads.
        let old = text
            .replace("\"generation\":7,", "")
            .replace("\"format\":2", "\"format\":1");
        assert!(!old.contains("generation"), "{old}");
        let back: Manifest = serde_json::from_str(&old).unwrap();
        assert_eq!(back.generation, None);
    }

    #[test]
    fn relative_paths() {
        assert!(safe_relative("dump.rdb"));
        assert!(safe_relative("appendonlydir/appendonly.aof.1.incr.aof"));
        for bad in ["", "/etc/passwd", "../x", "a/../b", "a//b", "./a"] {
            assert!(!safe_relative(bad), "{bad}");
        }
    }
}
