//! The cells of the data-sharing matrix and what each is expected to do.

use serde::Serialize;

use crate::model::StopMode;

/// Persistence modes the experiment sweeps (each as `Persistence::from`: RDB with Redis'
/// default save points, none of which fires within one short cycle, so a crash loses the
/// writes, as it would in production).
pub use crate::model::workload::PersistenceChoice;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopChoice {
    Graceful,
    Crash,
    /// The machine is lost: SIGKILL, then the data directory's persistence files are wiped, as
    /// on a new VM. Only with `--stop vm-loss` (not part of the default matrix).
    VmLoss,
}

impl StopChoice {
    pub const ALL: [StopChoice; 2] = [Self::Graceful, Self::Crash];

    pub fn mode(self) -> StopMode {
        match self {
            Self::Graceful => StopMode::Graceful,
            Self::Crash | Self::VmLoss => StopMode::Crash,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Graceful => "graceful",
            Self::Crash => "crash",
            Self::VmLoss => "vm-loss",
        }
    }
}

/// One cell of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub persistence: PersistenceChoice,
    pub stop: StopChoice,
    /// The profile has `[snapshots]`: a graceful stop uploads, an empty data dir restores.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub snapshots: bool,
}

impl Cell {
    /// The cell a `"rdb × crash"` label (as in cycles) names.
    pub fn from_label(label: &str) -> Option<Cell> {
        let (p, s) = label.split_once(" × ")?;
        let (s, snapshots) = match s.strip_suffix(SNAP_SUFFIX) {
            Some(s) => (s, true),
            None => (s, false),
        };
        Some(Cell {
            persistence: PersistenceChoice::from_label(p)?,
            stop: *[StopChoice::Graceful, StopChoice::Crash, StopChoice::VmLoss]
                .iter()
                .find(|c| c.label() == s)?,
            snapshots,
        })
    }

    pub fn label(self) -> String {
        let snap = if self.snapshots { SNAP_SUFFIX } else { "" };
        format!("{} × {}{snap}", self.persistence.label(), self.stop.label())
    }

    /// Whether the writes should survive, and why — what the tool compares reality against.
    pub fn expectation(self) -> (bool, &'static str) {
        use PersistenceChoice as P;
        use StopChoice as S;
        match (self.persistence, self.stop) {
            (P::None, S::Graceful) => (false, "no persistence: SHUTDOWN NOSAVE keeps nothing"),
            (P::None, S::Crash) => (false, "no persistence: nothing on disk"),
            (P::Rdb, S::Graceful) => (
                true,
                "SHUTDOWN SAVE writes an RDB snapshot, loaded on start",
            ),
            (P::Rdb, S::Crash) => (
                false,
                "SIGKILL before any save point fired: the snapshot predates the writes",
            ),
            (P::AofEverysec, S::Graceful) => (true, "the AOF is flushed and fsynced on shutdown"),
            (P::AofEverysec, S::Crash) => (
                true,
                "acknowledged writes are in the AOF (page cache) before the reply; only an OS crash could lose ≤1 s",
            ),
            (P::AofAlways, S::Graceful) => (true, "every write is fsynced before the reply"),
            (P::AofAlways, S::Crash) => (true, "every write is fsynced before the reply"),
            (P::None, S::VmLoss) => (
                false,
                "no persistence: nothing on disk, nothing to snapshot",
            ),
            (_, S::VmLoss) if self.snapshots => (
                true,
                "the disk is gone; the snapshot uploaded after the writes (a graceful stop) is restored on the new VM",
            ),
            (_, S::VmLoss) => (
                false,
                "the disk is gone and the profile has no [snapshots]: nothing survives a new VM",
            ),
        }
    }
}

/// The cells to run: the given persistence and stop, or the whole matrix.
/// How a cell's label marks a profile with snapshots.
const SNAP_SUFFIX: &str = " + s3";

pub fn cells(persistence: Option<PersistenceChoice>, stop: Option<StopChoice>) -> Vec<Cell> {
    cells_with(persistence, stop, false)
}

/// [`cells`] for a profile with (or without) `[snapshots]`.
pub fn cells_with(
    persistence: Option<PersistenceChoice>,
    stop: Option<StopChoice>,
    snapshots: bool,
) -> Vec<Cell> {
    let ps: Vec<_> = persistence
        .map(|p| vec![p])
        .unwrap_or_else(|| PersistenceChoice::ALL.to_vec());
    let ss: Vec<_> = stop
        .map(|s| vec![s])
        .unwrap_or_else(|| StopChoice::ALL.to_vec());
    ps.iter()
        .flat_map(|&persistence| {
            ss.iter().map(move |&stop| Cell {
                persistence,
                stop,
                snapshots,
            })
        })
        .collect()
}
