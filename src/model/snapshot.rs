//! What the snapshots did: the records and events of S3 snapshots.

use std::fmt;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// A string that is not a [`SnapshotId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not a snapshot id (they look like 20261203T081500123Z-ab12)")]
pub struct BadSnapshotId(pub String);

/// `YYYYMMDDTHHMMSSmmmZ-xxxx`: UTC creation time to the millisecond, then 4 random hex
/// digits. Ids sort in creation order, so "latest" is the greatest id with a manifest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SnapshotId(String);

impl SnapshotId {
    /// A new id for a snapshot made at `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        let n: u16 = rand::rng().random();
        Self(format!("{}-{n:04x}", at.format("%Y%m%dT%H%M%S%3fZ")))
    }

    /// Check the shape of an id given by a user or found in the store.
    pub fn parse(s: &str) -> Result<Self, BadSnapshotId> {
        let ok = s.len() == 24
            && s.is_ascii()
            && s.as_bytes()[8] == b'T'
            && s.as_bytes()[18] == b'Z'
            && s.as_bytes()[19] == b'-'
            && s[..8].bytes().all(|b| b.is_ascii_digit())
            && s[9..18].bytes().all(|b| b.is_ascii_digit())
            && s[20..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if ok {
            Ok(Self(s.to_string()))
        } else {
            Err(BadSnapshotId(s.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SnapshotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<SnapshotId> for String {
    fn from(id: SnapshotId) -> String {
        id.0
    }
}

impl TryFrom<String> for SnapshotId {
    type Error = BadSnapshotId;
    fn try_from(s: String) -> Result<Self, BadSnapshotId> {
        Self::parse(&s)
    }
}

/// One snapshot in a line: what the console's Redis pane shows.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SnapshotSummary {
    pub id: SnapshotId,
    pub created_at: DateTime<Utc>,
    pub bytes: u64,
    pub files: usize,
    pub keys: Option<u64>,
    pub upload_ms: f64,
}

/// What happened to the snapshot of a graceful stop.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum UploadOutcome {
    /// Committed (manifest written); `pruned` are the ids retention removed.
    Uploaded {
        snapshot: SnapshotSummary,
        pruned: Vec<SnapshotId>,
    },
    /// Not confirmed: the data stays on local disk and the next stop uploads it.
    Pending { error: String },
    /// `on_stop = false`.
    Skipped,
}

/// Typed snapshot events, for the console and the headless progress.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SnapshotEvent {
    /// The newest complete snapshot in the store (`None`: there is none yet).
    Latest(Option<SnapshotSummary>),
    Uploaded(SnapshotSummary),
    Pending {
        error: String,
    },
    Restored(RestoreReport),
}

/// What a restore did, for the cold-start breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct RestoreReport {
    pub id: SnapshotId,
    pub bytes: u64,
    pub files: usize,
    /// Keys the manifest says the snapshot holds.
    pub keys_expected: Option<u64>,
    pub download_ms: f64,
    /// sha256 (during the download) plus the check tools.
    pub verify_ms: f64,
    /// Download, verify and place.
    pub total_ms: f64,
    /// Which check tools ran (`redis-check-rdb`, `redis-check-aof`).
    pub checked_with: Vec<String>,
    /// Where local files that were replaced were moved (`--restore` over existing data).
    pub moved_aside: Option<PathBuf>,
    /// The snapshot was made under another persistence and converted to this profile's
    /// (`converted AOF → RDB …`).
    #[serde(default)]
    pub converted: Option<String>,
}
