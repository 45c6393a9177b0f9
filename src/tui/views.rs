//! The console's views and the state of the ones beyond the run: the case study 2 matrix.

use std::path::PathBuf;

use crate::engine::library::{Kind, ResultEntry};
use crate::share::{Cell, CellStats, CellSummary, CycleRecord};

/// What fills the body of the screen; the header and footer stay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Case study 1: Redis, progress, the stats tables and charts, the log.
    Run,
    /// Case study 2: the persistence × stop matrix.
    Share,
    /// A sweep: case study 1 at each concurrency, a row per step as it finishes.
    Sweep,
    /// Runs found under the results directory.
    Results,
    /// Two runs side by side.
    Compare,
}

impl View {
    pub const ALL: [View; 5] = [
        View::Run,
        View::Share,
        View::Sweep,
        View::Results,
        View::Compare,
    ];

    pub fn label(self) -> &'static str {
        match self {
            View::Run => "Run",
            View::Share => "Share",
            View::Sweep => "Sweep",
            View::Results => "Results",
            View::Compare => "Compare",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The next view (wraps).
    pub fn next(self) -> View {
        View::ALL[(self.index() + 1) % View::ALL.len()]
    }

    /// The previous view (wraps).
    pub fn prev(self) -> View {
        View::ALL[(self.index() + View::ALL.len() - 1) % View::ALL.len()]
    }
}

/// How the Results view orders its rows (`S` cycles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Newest first.
    #[default]
    Date,
    /// Lowest p50 first (rows without one last).
    P50,
    /// Lowest p99 first.
    P99,
    /// Highest throughput first.
    Throughput,
}

impl SortKey {
    pub fn next(self) -> Self {
        match self {
            SortKey::Date => SortKey::P50,
            SortKey::P50 => SortKey::P99,
            SortKey::P99 => SortKey::Throughput,
            SortKey::Throughput => SortKey::Date,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Date => "date",
            SortKey::P50 => "p50",
            SortKey::P99 => "p99",
            SortKey::Throughput => "inv/s",
        }
    }
}

/// Every result under the results root, the rows shown (filtered, sorted), the cursor, and up
/// to two runs marked for comparison.
#[derive(Debug, Clone, Default)]
pub struct ResultsView {
    pub entries: Vec<ResultEntry>,
    /// The rows shown: indexes into `entries`, filtered and sorted.
    pub order: Vec<usize>,
    /// The cursor, a position in `order`.
    pub selected: usize,
    /// Marked entries (indexes into `entries`), in marking order: A then B.
    pub marked: Vec<usize>,
    /// A listing was asked for and has not arrived.
    pub loading: bool,
    pub sort: SortKey,
    /// Rows whose kind, profile, outcome or directory contains this (any case).
    pub filter: String,
    /// `/` was pressed: keys type into the filter until Enter or Esc.
    pub filtering: bool,
}

impl ResultsView {
    /// Replace the listing (marks are cleared: indexes would point elsewhere).
    pub fn set(&mut self, entries: Vec<ResultEntry>) {
        self.entries = entries;
        self.marked.clear();
        self.loading = false;
        self.reorder();
    }

    /// Recompute the rows shown after a new listing, sort or filter; the cursor stays on its
    /// entry when it is still shown.
    pub fn reorder(&mut self) {
        let keep = self.order.get(self.selected).copied();
        let needle = self.filter.to_lowercase();
        let mut order: Vec<usize> = (0..self.entries.len())
            .filter(|&i| {
                let e = &self.entries[i];
                needle.is_empty()
                    || [
                        e.kind.label().to_string(),
                        e.profile.clone(),
                        e.outcome.clone(),
                        e.dir.display().to_string(),
                    ]
                    .iter()
                    .any(|f| f.to_lowercase().contains(&needle))
            })
            .collect();
        let e = &self.entries;
        let low = |v: Option<f64>| v.unwrap_or(f64::INFINITY);
        match self.sort {
            SortKey::Date => order.sort_by(|&a, &b| e[b].started_at.cmp(&e[a].started_at)),
            SortKey::P50 => order.sort_by(|&a, &b| low(e[a].p50_ms).total_cmp(&low(e[b].p50_ms))),
            SortKey::P99 => order.sort_by(|&a, &b| low(e[a].p99_ms).total_cmp(&low(e[b].p99_ms))),
            SortKey::Throughput => order.sort_by(|&a, &b| {
                let high = |v: Option<f64>| v.unwrap_or(f64::NEG_INFINITY);
                high(e[b].throughput).total_cmp(&high(e[a].throughput))
            }),
        }
        self.order = order;
        self.selected = keep
            .and_then(|k| self.order.iter().position(|&i| i == k))
            .unwrap_or(0)
            .min(self.order.len().saturating_sub(1));
    }

    pub fn move_by(&mut self, delta: isize) {
        if self.order.is_empty() {
            return;
        }
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(self.order.len() - 1);
    }

    /// The first row (Home) or the last (End).
    pub fn to_end(&mut self, last: bool) {
        self.selected = if last {
            self.order.len().saturating_sub(1)
        } else {
            0
        };
    }

    pub fn current(&self) -> Option<&ResultEntry> {
        self.order.get(self.selected).map(|&i| &self.entries[i])
    }

    /// Mark or unmark the selected run. Returns both runs once two are marked, and clears the
    /// marks; `Err` says why a row cannot be marked (only case study 1 runs compare).
    pub fn toggle_mark(&mut self) -> Result<Option<(PathBuf, PathBuf)>, String> {
        let Some(&at) = self.order.get(self.selected) else {
            return Ok(None);
        };
        let e = &self.entries[at];
        if e.kind != Kind::Run {
            return Err(format!(
                "only case study 1 runs can be compared; this row is a {}: Enter opens it",
                e.kind.label()
            ));
        }
        if let Some(pos) = self.marked.iter().position(|&i| i == at) {
            self.marked.remove(pos);
            return Ok(None);
        }
        self.marked.push(at);
        if let [a, b] = self.marked[..] {
            self.marked.clear();
            return Ok(Some((
                self.entries[a].dir.clone(),
                self.entries[b].dir.clone(),
            )));
        }
        Ok(None)
    }
}

/// One cell of the matrix as shown: its summary, and while it runs live the aggregate it is
/// computed from.
#[derive(Debug, Clone)]
pub struct ShareRow {
    /// The live aggregate (absent for a matrix read from share.json).
    pub live: Option<(Cell, CellStats)>,
    pub summary: CellSummary,
    /// Cycles planned for the cell.
    pub planned: u32,
}

/// Where the matrix on screen comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum ShareSource {
    /// The experiment running now (or the last one run from this console).
    Live,
    /// A share.json opened from the Results view.
    File(PathBuf),
}

/// The data-sharing matrix, filling in as cycles finish.
#[derive(Debug, Clone)]
pub struct ShareView {
    pub source: ShareSource,
    pub rows: Vec<ShareRow>,
    /// The row the last cycle belonged to (highlighted while live).
    pub current: Option<usize>,
    dirty: bool,
}

impl ShareView {
    /// An experiment that is about to run `cells`, `runs` cycles each.
    pub fn live(cells: &[Cell], runs: u32) -> Self {
        let rows = cells
            .iter()
            .map(|&cell| {
                let stats = CellStats::default();
                ShareRow {
                    summary: stats.summary(cell),
                    live: Some((cell, stats)),
                    planned: runs,
                }
            })
            .collect();
        Self {
            source: ShareSource::Live,
            rows,
            current: None,
            dirty: false,
        }
    }

    /// A finished experiment read back from its results.
    pub fn recorded(dir: PathBuf, cells: Vec<CellSummary>, runs: u32) -> Self {
        let rows = cells
            .into_iter()
            .map(|summary| ShareRow {
                live: None,
                summary,
                planned: runs,
            })
            .collect();
        Self {
            source: ShareSource::File(dir),
            rows,
            current: None,
            dirty: false,
        }
    }

    /// Fold one finished cycle in (the summary is recomputed on the next tick).
    pub fn record(&mut self, cell: Cell, record: &CycleRecord) {
        let at = self
            .rows
            .iter()
            .position(|r| r.live.as_ref().is_some_and(|(c, _)| *c == cell));
        let at = match at {
            Some(i) => i,
            None => {
                // A cell the start event did not announce: show it anyway.
                let stats = CellStats::default();
                self.rows.push(ShareRow {
                    summary: stats.summary(cell),
                    live: Some((cell, stats)),
                    planned: 0,
                });
                self.rows.len() - 1
            }
        };
        if let Some((_, stats)) = &mut self.rows[at].live {
            stats.record(record);
        }
        self.current = Some(at);
        self.dirty = true;
    }

    /// Recompute the summaries of the live rows, once per frame at most.
    pub fn refresh(&mut self) {
        if !self.dirty {
            return;
        }
        for row in &mut self.rows {
            if let Some((cell, stats)) = &row.live {
                row.summary = stats.summary(*cell);
            }
        }
        self.dirty = false;
    }

    /// Cycles finished and planned over the whole matrix.
    pub fn progress(&self) -> (u64, u64) {
        self.rows.iter().fold((0, 0), |(done, planned), r| {
            (done + r.summary.cycles, planned + u64::from(r.planned))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::{PersistenceChoice, StopChoice, cells};

    fn cycle(correct: bool) -> CycleRecord {
        CycleRecord {
            cell: "x".into(),
            cycle: 0,
            written: 10,
            found: if correct { 10 } else { 0 },
            missing: if correct { 0 } else { 10 },
            mismatches: 0,
            correct,
            stop_ms: 1.0,
            start_ms: 2.0,
            restore_ms: correct.then_some(3.0),
            cycle_ms: 9.0,
            error: None,
        }
    }

    #[test]
    fn views_cycle_both_ways() {
        assert_eq!(View::Run.next(), View::Share);
        assert_eq!(View::Compare.next(), View::Run);
        assert_eq!(View::Run.prev(), View::Compare);
    }

    #[test]
    fn cycles_fill_their_cell_and_refresh_recomputes_the_verdict() {
        let all = cells(None, None);
        let mut v = ShareView::live(&all, 3);
        assert_eq!(v.progress(), (0, 24));
        let rdb_crash = Cell {
            persistence: PersistenceChoice::Rdb,
            stop: StopChoice::Crash,
            snapshots: false,
        };
        v.record(rdb_crash, &cycle(false));
        v.record(rdb_crash, &cycle(false));
        assert_eq!(v.progress(), (0, 24), "summaries wait for the tick");
        v.refresh();
        assert_eq!(v.progress(), (2, 24));
        let row = &v.rows[v.current.unwrap()];
        assert_eq!(row.summary.persistence, "rdb");
        assert_eq!(row.summary.stop, "crash");
        assert_eq!(row.summary.keys_lost, 20);
        assert_eq!(
            row.summary.verdict.to_string(),
            "as expected: the writes were lost"
        );
    }
}

/// An RTT sweep started from this console: the RTTs planned and each finished step.
#[derive(Debug, Clone, Default)]
pub struct RttSweepView {
    pub profile: String,
    pub planned: Vec<f64>,
    pub steps: Vec<crate::model::rtt_sweep::RttStep>,
}

impl RttSweepView {
    /// The function time's fit against the RTT so far (two steps or more).
    pub fn fit(&self) -> Option<crate::model::rtt_sweep::Fit> {
        crate::model::rtt_sweep::fit_phases(&self.steps).map(|f| f.total)
    }
}

/// A sweep started from this console: the steps planned, and each one's figures once its run
/// finished.
#[derive(Debug, Clone, Default)]
pub struct SweepView {
    pub profile: String,
    pub planned: Vec<u32>,
    pub steps: Vec<crate::engine::sweep::SweepStep>,
    /// The sweep job is still running (its `RunFinished` closes the sweep, not a step).
    pub live: bool,
}

impl SweepView {
    /// The knee and the peak invocations/s of the steps so far.
    pub fn knee(&self) -> (Option<u32>, f64) {
        crate::engine::sweep::knee(&self.steps)
    }
}

/// A rate sweep as the console shows it: the planned rates, the steps so far.
#[derive(Debug, Clone)]
pub struct RateSweepView {
    pub profile: String,
    pub planned: Vec<f64>,
    pub p99_bound_ms: f64,
    pub steps: Vec<crate::model::rate_sweep::RateStep>,
    pub live: bool,
}

impl RateSweepView {
    /// The saturation point of the steps so far.
    pub fn saturation(&self) -> Option<f64> {
        crate::model::rate_sweep::saturation(&self.steps)
    }
}
