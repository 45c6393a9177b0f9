//! One cluster node as the status and the console show it: a plain record, below both
//! `cluster.rs` (which fills it) and `types.rs` (whose `RedisStatus` carries it).

use serde::Serialize;

/// One node as the status and the console show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeStatus {
    pub index: u16,
    pub addr: String,
    /// `master`, `replica`, or `down` when it does not answer.
    pub role: String,
    /// Slot ranges served (masters), e.g. `0-5460`.
    pub slots: String,
    /// The master's address (replicas).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    pub keys: Option<u64>,
    /// `ok`, `fail`, or why it could not be asked.
    pub state: String,
}

impl NodeStatus {
    /// The slot ranges it serves: `0-5460,5461` → `[(0, 5460), (5461, 5461)]`.
    pub fn slot_ranges(&self) -> Vec<(u32, u32)> {
        self.slots
            .split(',')
            .filter_map(|r| {
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
            })
            .collect()
    }

    /// How many slots it serves.
    pub fn slot_count(&self) -> u32 {
        self.slot_ranges().iter().map(|(a, b)| b + 1 - a).sum()
    }

    /// It is a master serving slot 0.
    pub fn serves_slot_0(&self) -> bool {
        self.role == "master" && self.slot_ranges().iter().any(|(a, _)| *a == 0)
    }
}
