//! What the console's process pane shows: CPU time and memory of the processes that take part
//! in a run (redwhisk, its Redis, the action processes it started), as read from procfs, and
//! a Docker Redis container's as the Docker stats API gives them.

use chrono::{DateTime, Utc};

/// One process at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSample {
    pub pid: u32,
    /// `redwhisk`, `redis-server`, or the process's own name.
    pub name: String,
    /// Why it is listed: `self`, `redis`, `child`, or `docker` (a container: `pid` is its
    /// init's host pid, the figures its whole cgroup's).
    pub role: &'static str,
    /// User plus system CPU time so far, in clock ticks (`/proc/<pid>/stat`; a container's
    /// cgroup CPU time converted to ticks).
    pub cpu_ticks: u64,
    /// Resident memory (`/proc/<pid>/statm`).
    pub rss_bytes: u64,
}

/// The processes at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessSnapshot {
    pub at: DateTime<Utc>,
    /// Clock ticks per second (`_SC_CLK_TCK`).
    pub ticks_per_s: u64,
    /// CPUs online: 100% per CPU.
    pub cpus: usize,
    pub processes: Vec<ProcessSample>,
}
