//! One results directory as the console's Results view lists it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// Which case study a results directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Run,
    Share,
}

/// One results directory as the Results view lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultEntry {
    pub dir: PathBuf,
    pub kind: Kind,
    pub profile: String,
    pub started_at: DateTime<Utc>,
    /// Invocations completed (run) or cycles (share).
    pub count: u64,
    /// `done`, `cancelled`, `partial`…
    pub outcome: String,
}
