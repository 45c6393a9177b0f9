//! The pieces of console state each pane reads: profiles, Redis, the run, the log.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::event::{Level, Phase};
use crate::model::workload::{PersistenceChoice, PlatformChoice};
use crate::paper::{self, PaperFigure};
use crate::profile::{Backend, ProfileEntry, ProfileError};
use crate::redis_host::{ColdStart, RedisState, RedisStatus};
use crate::stats::{PhaseName, RunStats, Summary};

/// What the console shows about one profile: plain strings, so tests can build it directly.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileInfo {
    pub backend: String,
    /// The docker image, when the backend is docker.
    pub image: Option<String>,
    pub persistence: String,
    pub platform: String,
    pub invocations: u32,
    pub records: u32,
    pub concurrency: u32,
    pub mode: crate::model::Mode,
    pub description: String,
}

/// Why a profile found at start-up cannot be used: its load error, shared so that the
/// console's state stays cheap to clone.
#[derive(Debug, Clone, thiserror::Error)]
#[error(transparent)]
pub struct UnusableProfile(Arc<ProfileError>);

impl From<ProfileError> for UnusableProfile {
    fn from(e: ProfileError) -> Self {
        Self(Arc::new(e))
    }
}

/// A profile found at start-up, or why it cannot be used.
#[derive(Debug, Clone)]
pub struct ProfileItem {
    pub name: String,
    pub info: Result<ProfileInfo, UnusableProfile>,
}

impl From<ProfileEntry> for ProfileItem {
    fn from(e: ProfileEntry) -> Self {
        let info = e
            .profile
            .map_err(UnusableProfile::from)
            .map(|p| ProfileInfo {
                backend: p.redis.shape_label(),
                image: match &p.redis.backend {
                    Backend::Docker { image, .. } => Some(image.clone()),
                    _ => None,
                },
                persistence: p.redis.persistence.label(),
                // `local-warm` for warm processes: what the workload editor switches.
                platform: p.platform.choice().as_str().to_string(),
                invocations: p.workload.invocations,
                records: p.workload.records,
                concurrency: p.workload.concurrency,
                mode: p.workload.mode,
                description: p.description.clone(),
            });
        Self { name: e.name, info }
    }
}

/// The Redis host as last reported.
#[derive(Debug, Clone)]
pub struct RedisView {
    pub state: RedisState,
    pub status: Option<RedisStatus>,
    pub cold_start: Option<ColdStart>,
    /// The latest image pull line, while pulling.
    pub pull: Option<String>,
    /// The last snapshot seen (profiles with `[snapshots]`).
    pub snapshot: Option<crate::snapshots::SnapshotSummary>,
    /// The last upload failed: the data is on local disk, the next stop retries.
    pub snapshot_pending: bool,
}

impl Default for RedisView {
    fn default() -> Self {
        Self {
            state: RedisState::Stopped,
            status: None,
            cold_start: None,
            pull: None,
            snapshot: None,
            snapshot_pending: false,
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub outcome: Phase,
    pub elapsed: Duration,
    pub results_dir: Option<PathBuf>,
}

/// One row of the stats table, computed once per frame at most (not inside the draw).
#[derive(Debug, Clone)]
pub struct StatsRow {
    pub phase: PhaseName,
    pub ours: Summary,
    pub paper: Option<PaperFigure>,
}

/// The phases the latency and stats panes show, in order.
pub const SHOWN_PHASES: [PhaseName; 4] = [
    PhaseName::Write,
    PhaseName::Read,
    PhaseName::Delete,
    PhaseName::Total,
];

/// The current or last run.
#[derive(Debug, Clone)]
pub struct RunView {
    /// The open-loop rate the console asked for (`None`: closed, or the profile's own).
    pub target_rate: Option<f64>,
    pub experiment: String,
    pub profile: String,
    pub planned: u32,
    pub started_at: DateTime<Utc>,
    pub phase: Phase,
    pub stats: RunStats,
    pub finished: Option<Finished>,
    pub table: Vec<StatsRow>,
    pub(super) table_dirty: bool,
    /// A recorded run's own cold start (the Redis pane shows it instead of the live one).
    pub recorded_cold: Option<ColdStart>,
    /// The data-sharing experiment: its progress counts cycles, which have no cold or warm.
    pub share: bool,
    /// The keys Redis held before the first invocation (the first status of the run).
    pub keys_at_start: Option<u64>,
    /// Each shown phase over the whole run, downsampled (the latency pane's sparklines).
    pub whole: [WholeRun; 4],
    /// Completions per second over the run.
    pub throughput: Throughput,
}

impl RunView {
    /// A run that just started.
    pub fn new(experiment: String, profile: String, planned: u32, at: DateTime<Utc>) -> Self {
        let mut v = Self {
            target_rate: None,
            experiment,
            profile,
            planned,
            started_at: at,
            phase: Phase::Idle,
            stats: RunStats::new(),
            finished: None,
            table: Vec::new(),
            table_dirty: true,
            recorded_cold: None,
            share: false,
            keys_at_start: None,
            whole: Default::default(),
            throughput: Throughput::default(),
        };
        v.refresh_table();
        v
    }

    /// A recorded run read back: its activations folded as they were live.
    pub fn recorded(dir: PathBuf, rec: &crate::results::RunRecord, at: DateTime<Utc>) -> Self {
        let s = &rec.summary;
        let mut v = Self::new(
            format!(
                "case study 1 · {}",
                s.started_at.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            s.profile.name.clone(),
            s.workload.planned,
            at,
        );
        for a in &rec.activations {
            v.fold(a);
        }
        v.phase = s.outcome;
        v.finished = Some(Finished {
            outcome: s.outcome,
            elapsed: Duration::from_secs_f64(s.elapsed_ms.max(0.0) / 1000.0),
            results_dir: Some(dir),
        });
        v.table_dirty = true;
        v.recorded_cold = s.redis.cold_start.clone();
        v.refresh_table();
        v
    }

    /// Fold one activation in: the statistics, the whole-run series and, live, the
    /// throughput at `at` (a recorded run has no arrival times to bucket).
    pub fn fold(&mut self, a: &crate::model::Activation) {
        let ok_before = self.stats.succeeded();
        self.stats.record(a);
        if self.stats.succeeded() > ok_before {
            for (i, p) in SHOWN_PHASES.iter().enumerate() {
                if let Some(v) = self.stats.recent(*p).latest() {
                    self.whole[i].push(v);
                }
            }
        }
        self.table_dirty = true;
    }

    /// Still going (no `RunFinished` yet).
    pub fn active(&self) -> bool {
        self.finished.is_none()
    }

    /// Recompute the stats table if an activation came in since the last time.
    pub fn refresh_table(&mut self) {
        if !self.table_dirty {
            return;
        }
        self.table = SHOWN_PHASES
            .iter()
            .map(|&phase| StatsRow {
                phase,
                ours: self.stats.phase(phase),
                paper: paper::openwhisk_redis(phase),
            })
            .collect();
        self.table_dirty = false;
    }

    /// Time since the start, or the engine's figure once finished.
    pub fn elapsed(&self, now: DateTime<Utc>) -> Duration {
        match &self.finished {
            Some(f) => f.elapsed,
            None => (now - self.started_at).to_std().unwrap_or_default(),
        }
    }

    /// Completed invocations per second over the whole run so far.
    pub fn rate(&self, now: DateTime<Utc>) -> Option<f64> {
        let secs = self.elapsed(now).as_secs_f64();
        (secs > 0.0 && self.stats.completed > 0).then(|| self.stats.completed as f64 / secs)
    }

    /// Time left at the current rate, while the run is active.
    pub fn eta(&self, now: DateTime<Utc>) -> Option<Duration> {
        if !self.active() {
            return None;
        }
        let left = u64::from(self.planned).saturating_sub(self.stats.completed);
        let rate = self.rate(now)?;
        Some(Duration::from_secs_f64(left as f64 / rate))
    }
}

/// How many bars a whole-run series keeps; two neighbours merge into one when it is full.
pub const WHOLE_RUN_BARS: usize = 256;

/// A series over the whole run in at most [`WHOLE_RUN_BARS`] bars: each bar is the max of
/// `per` consecutive values, and `per` doubles (neighbours merged) when the bars are full, so
/// the first invocation and the newest both show, and the tallest bar is the run's max. O(1)
/// amortised per value; nothing is rescanned.
#[derive(Debug, Clone, Default)]
pub struct WholeRun {
    pub bars: Vec<f64>,
    /// Values per bar.
    pub per: usize,
    /// Values in the last, still open bar.
    open: usize,
    pub max: f64,
    pub count: u64,
}

impl WholeRun {
    pub fn push(&mut self, v: f64) {
        self.per = self.per.max(1);
        self.count += 1;
        self.max = self.max.max(v);
        if self.open > 0 && self.open < self.per {
            if let Some(last) = self.bars.last_mut() {
                *last = last.max(v);
            }
            self.open += 1;
            return;
        }
        if self.bars.len() == WHOLE_RUN_BARS {
            self.bars = self
                .bars
                .chunks(2)
                .map(|c| c.iter().copied().fold(0.0, f64::max))
                .collect();
            self.per *= 2;
            // The merged last bar may still take values.
            let full = self.count.saturating_sub(1) as usize % self.per;
            if full != 0 {
                if let Some(last) = self.bars.last_mut() {
                    *last = last.max(v);
                }
                self.open = full + 1;
                return;
            }
        }
        self.bars.push(v);
        self.open = 1;
    }

    /// The bars fitted to `width` columns (neighbours merged by max), oldest first.
    pub fn fitted(&self, width: usize) -> Vec<f64> {
        let width = width.max(1);
        let step = self.bars.len().div_ceil(width).max(1);
        self.bars
            .chunks(step)
            .map(|c| c.iter().copied().fold(0.0, f64::max))
            .collect()
    }
}

/// Completions per second of run time, one bucket per second since the start.
#[derive(Debug, Clone, Default)]
pub struct Throughput {
    pub per_second: Vec<u64>,
}

impl Throughput {
    /// One completion `secs` seconds after the start.
    pub fn record(&mut self, secs: f64) {
        let i = secs.max(0.0) as usize;
        if self.per_second.len() <= i {
            self.per_second.resize(i + 1, 0);
        }
        self.per_second[i] += 1;
    }
}

/// A recorded result the console has no view of its own for (a failover, a gateway study or
/// share), shown as its report's text over the view until dismissed.
#[derive(Debug, Clone)]
pub struct ReportOverlay {
    pub dir: PathBuf,
    pub title: String,
    pub lines: Vec<String>,
    /// The first row shown (of the text wrapped to the overlay's width).
    pub top: usize,
    /// Text rows the overlay last drew, and the text's rows at its width (written by the draw,
    /// which alone knows its size): a page, and how far down it can scroll.
    pub rows: std::cell::Cell<usize>,
    pub wrapped: std::cell::Cell<usize>,
}

impl ReportOverlay {
    pub fn new(dir: PathBuf, title: String, text: &str) -> Self {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        Self {
            dir,
            title,
            top: 0,
            rows: std::cell::Cell::new(10),
            wrapped: std::cell::Cell::new(lines.len()),
            lines,
        }
    }

    /// The last `top` that still fills the overlay.
    pub fn max_top(&self) -> usize {
        self.wrapped.get().saturating_sub(self.rows.get().max(1))
    }

    /// Move by `by` lines (negative: up), within the text.
    pub fn scroll(&mut self, by: isize) {
        self.top = self.top.saturating_add_signed(by).min(self.max_top());
    }
}

/// What the workload editor edits: the next runs' workload, Redis persistence and platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditValues {
    pub invocations: u32,
    pub concurrency: u32,
    pub records: u32,
    pub mode: crate::model::Mode,
    pub persistence: PersistenceChoice,
    pub platform: PlatformChoice,
}

impl EditValues {
    /// A profile's values as the console shows them (`None` for an unknown label, which a
    /// validated profile never has).
    pub fn of(i: &ProfileInfo) -> Option<Self> {
        Some(Self {
            invocations: i.invocations,
            concurrency: i.concurrency,
            records: i.records,
            mode: i.mode,
            persistence: PersistenceChoice::from_label(&i.persistence)?,
            platform: PlatformChoice::from_label(&i.platform)?,
        })
    }

    /// Show them as the profile's.
    pub fn set_in(&self, i: &mut ProfileInfo) {
        i.invocations = self.invocations;
        i.concurrency = self.concurrency;
        i.records = self.records;
        i.mode = self.mode;
        i.persistence = self.persistence.label().to_string();
        i.platform = self.platform.as_str().to_string();
    }

    /// The values as text, in [`EDIT_FIELDS`] order.
    pub fn texts(&self) -> [String; 6] {
        [
            self.invocations.to_string(),
            self.concurrency.to_string(),
            self.records.to_string(),
            self.mode.as_str().to_string(),
            self.persistence.label().to_string(),
            self.platform.as_str().to_string(),
        ]
    }
}

/// The workload editor (`E`): the selected profile's values for its next runs, the field under
/// the cursor, and the profile's own values (to tell what was changed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkloadEditor {
    pub field: usize,
    pub now: EditValues,
    pub file: EditValues,
}

/// The editor's fields, in order.
pub const EDIT_FIELDS: [&str; 6] = [
    "invocations",
    "concurrency",
    "records",
    "mode",
    "persistence",
    "platform",
];

impl WorkloadEditor {
    /// Step the field under the cursor: numbers double or halve (concurrency steps by one
    /// below 4); the mode toggles; persistence and platform go round their choices (the
    /// platform: the file's, then the embedded platform's two ways).
    pub fn step(&mut self, up: bool) {
        let num = |v: u32, small: bool| match (up, small && v < 4) {
            (true, true) => v + 1,
            (false, true) => v.saturating_sub(1).max(1),
            (true, false) => v.saturating_mul(2).min(1_000_000),
            (false, false) => (v / 2).max(1),
        };
        fn round<T: PartialEq + Copy>(all: &[T], now: T, up: bool) -> T {
            let n = all.len();
            let at = all.iter().position(|c| *c == now).unwrap_or(0);
            all[if up { (at + 1) % n } else { (at + n - 1) % n }]
        }
        let v = &mut self.now;
        match self.field {
            0 => v.invocations = num(v.invocations, false),
            1 => v.concurrency = num(v.concurrency, true),
            2 => v.records = num(v.records, false),
            3 => {
                v.mode = match v.mode {
                    crate::model::Mode::Sequential => crate::model::Mode::Pipelined,
                    crate::model::Mode::Pipelined => crate::model::Mode::Sequential,
                }
            }
            4 => v.persistence = round(&PersistenceChoice::ALL, v.persistence, up),
            _ => {
                let choices = PlatformChoice::choices(self.file.platform);
                v.platform = round(&choices, v.platform, up);
            }
        }
    }

    /// What differs from the profile's file.
    pub fn edit(&self) -> crate::model::workload::WorkloadEdit {
        let (n, f) = (&self.now, &self.file);
        crate::model::workload::WorkloadEdit {
            invocations: (n.invocations != f.invocations).then_some(n.invocations),
            concurrency: (n.concurrency != f.concurrency).then_some(n.concurrency),
            records: (n.records != f.records).then_some(n.records),
            mode: (n.mode != f.mode).then_some(n.mode),
            persistence: (n.persistence != f.persistence).then_some(n.persistence),
            platform: (n.platform != f.platform).then_some(n.platform),
        }
    }
}

/// One engine message with the time the console received it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub at: DateTime<Utc>,
    pub level: Level,
    pub message: String,
}

/// How many log lines are kept; older ones are dropped.
pub const LOG_CAP: usize = 2000;
/// Lines one PgUp/PgDn moves.
pub const LOG_PAGE: usize = 10;

/// The log with its scroll position, in screen rows up from the last row of the newest
/// message (0 follows the newest message to its end). A long message wraps over several rows,
/// and each of them can be scrolled to.
#[derive(Debug, Clone, Default)]
pub struct LogView {
    pub lines: VecDeque<LogLine>,
    pub scroll: usize,
    /// The text width and the number of rows above the bottom page, as last drawn: a new
    /// message keeps a scrolled view still by its own row count, and scrolling stops at the
    /// oldest row. Written by the draw (the only place that knows the pane's size).
    pub(crate) drawn: std::cell::Cell<LogGeometry>,
}

/// What the log pane last drew: its text width and how far it could scroll up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogGeometry {
    pub width: usize,
    /// Rows above the bottom page (`usize::MAX` until a scrolled draw has counted them).
    pub max_scroll: usize,
}

impl Default for LogGeometry {
    fn default() -> Self {
        Self {
            width: 80,
            max_scroll: usize::MAX,
        }
    }
}

impl LogView {
    /// Append a line, keeping the view still when the user has scrolled up.
    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == LOG_CAP {
            self.lines.pop_front();
        }
        if self.scroll > 0 {
            let width = self.drawn.get().width.max(1);
            self.scroll = self.scroll.saturating_add(log_rows(&line.message, width));
        }
        self.lines.push_back(line);
        let mut g = self.drawn.get();
        g.max_scroll = usize::MAX;
        self.drawn.set(g);
    }

    fn max_scroll(&self) -> usize {
        self.drawn.get().max_scroll
    }

    /// Scroll by `delta` rows (positive: older).
    pub fn scroll_by(&mut self, delta: isize) {
        let cur = self.scroll.min(self.max_scroll());
        self.scroll = cur.saturating_add_signed(delta).min(self.max_scroll());
    }

    /// Scroll to the oldest row kept.
    pub fn to_oldest(&mut self) {
        self.scroll = usize::MAX;
    }

    /// Follow the newest message to its last row.
    pub fn to_newest(&mut self) {
        self.scroll = 0;
    }

    /// Drop every line.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.scroll = 0;
    }
}

/// How many rows `message` takes in a log pane whose text is `width` columns wide.
pub fn log_rows(message: &str, width: usize) -> usize {
    crate::tui::wrap::wrap(message, width.saturating_sub(LOG_STAMP).max(1)).len()
}

/// The width of the `HH:MM:SS ` stamp before each message.
pub const LOG_STAMP: usize = 9;

/// The rates `o` cycles through (arrivals per second).
pub const CONSOLE_RATES: [u32; 5] = [5, 10, 20, 40, 80];

/// How `r` runs case study 1: as the selected profile says, an open loop at a rate, or a closed
/// loop whatever the profile says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoopChoice {
    #[default]
    Profile,
    Open(u32),
    Closed,
}

impl LoopChoice {
    /// The next choice: profile → 5/s → … → 80/s → closed → profile.
    pub fn next(self) -> Self {
        match self {
            LoopChoice::Profile => LoopChoice::Open(CONSOLE_RATES[0]),
            LoopChoice::Open(r) => CONSOLE_RATES
                .iter()
                .find(|&&c| c > r)
                .map_or(LoopChoice::Closed, |&c| LoopChoice::Open(c)),
            LoopChoice::Closed => LoopChoice::Profile,
        }
    }

    pub fn label(self) -> String {
        match self {
            LoopChoice::Profile => "as the profile says".into(),
            LoopChoice::Open(r) => format!("open loop at {r}/s"),
            LoopChoice::Closed => "closed loop".into(),
        }
    }

    /// The open-loop target rate, when the console sets one.
    pub fn target(self) -> Option<f64> {
        match self {
            LoopChoice::Open(r) => Some(f64::from(r)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{WHOLE_RUN_BARS, WholeRun};

    /// The whole run stays within its bars, keeps the first and the newest value's bar, and
    /// its tallest bar is the run's max however long the run.
    #[test]
    fn a_whole_run_series_keeps_every_value_in_a_bar() {
        let mut w = WholeRun::default();
        for i in 0..10_000u32 {
            let v = if i == 7 { 999.0 } else { f64::from(i % 100) };
            w.push(v);
            assert!(w.bars.len() <= WHOLE_RUN_BARS);
        }
        assert_eq!(w.count, 10_000);
        assert_eq!(w.max, 999.0);
        assert_eq!(
            w.bars[0], 999.0,
            "the early spike is still in the first bar"
        );
        // Every value is in exactly one bar: bars × per covers the count.
        assert!(w.bars.len() * w.per >= 10_000 && (w.bars.len() - 1) * w.per < 10_000);
        let fitted = w.fitted(40);
        assert!(fitted.len() <= 40);
        assert_eq!(fitted.iter().copied().fold(0.0, f64::max), 999.0);
    }
}
