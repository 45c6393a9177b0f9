//! The typed `share.json`: what a run of case study 2 produced, written by the engine and
//! read back by anything that opens it later.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::verdict::{CellSummary, CycleRecord};
use crate::model::run::{HostInfo, ProfileRecord, ReadError, check_schema};

/// The layout of `share.json` this build writes and reads.
pub const SHARE_SCHEMA: &str = "redwhisk.share/1";

/// The options a share experiment ran with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareOptionsRecord {
    /// Cycles per cell.
    pub runs: u32,
    /// Keys the writer stored per cycle.
    pub keys: u32,
    pub value_size: u32,
}

/// The whole `share.json` (also what `redwhisk share --output json` prints).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShareSummary {
    /// Always [`SHARE_SCHEMA`] when written by this build.
    pub schema: String,
    pub redwhisk_version: String,
    /// `case-study-2`.
    pub experiment: String,
    /// Cancelled before every cell ran every cycle.
    pub partial: bool,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub host: HostInfo,
    pub profile: ProfileRecord,
    pub options: ShareOptionsRecord,
    /// One summary per cell of the matrix that ran.
    pub cells: Vec<CellSummary>,
    /// Every cycle of every cell.
    pub cycles: Vec<CycleRecord>,
}

impl ShareSummary {
    /// Parse a `share.json`; other schema versions are refused with a clear error.
    pub fn from_json(text: &str) -> Result<Self, ReadError> {
        check_schema(text, SHARE_SCHEMA)?;
        Ok(serde_json::from_str(text)?)
    }

    /// Read `<dir>/share.json` or a `share.json` path.
    pub fn read(path: &Path) -> Result<Self, ReadError> {
        let path = if path.is_dir() {
            path.join("share.json")
        } else {
            path.to_path_buf()
        };
        Self::from_json(&std::fs::read_to_string(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::{Verdict, share_text_report};

    const V1: &str = include_str!("../../tests/fixtures/share-v1.json");

    #[test]
    fn a_share_json_of_the_first_format_reads_back_and_renders_its_report() {
        let s = ShareSummary::from_json(V1).unwrap();
        assert_eq!(s.cells.len(), 2);
        assert_eq!(s.cells[0].verdict, Verdict::Survived);
        assert_eq!(s.cells[1].verdict, Verdict::Lost);
        assert_eq!(s.cycles.len(), 4);
        let again = serde_json::to_value(&s).unwrap();
        assert_eq!(
            again,
            serde_json::from_str::<serde_json::Value>(V1).unwrap()
        );

        let printed = include_str!("../../tests/fixtures/share-v1.txt");
        let dir = printed
            .lines()
            .last()
            .and_then(|l| l.strip_prefix("results: "))
            .and_then(|l| l.strip_suffix(" (share.json, cycles.csv)"))
            .unwrap();
        assert_eq!(share_text_report(&s.cells, dir), printed);
    }

    #[test]
    fn another_schema_version_is_refused() {
        let v2 = V1.replacen(SHARE_SCHEMA, "redwhisk.share/2", 1);
        let err = ShareSummary::from_json(&v2).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("unsupported results format `redwhisk.share/2`"),
            "{err}"
        );
    }
}
