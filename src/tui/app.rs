//! The console's state and how engine events fold into it. Everything the screen shows is
//! here; rendering reads `&App` only. Time comes in from the loop (`tick`), never from the
//! wall clock directly, so tests can fix it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;

use super::keys::{self, Mode};
use super::state::{Finished, LogLine, LogView, ProfileItem, RedisView, RunView};
use super::theme::Theme;
use super::views::{ResultsView, ShareView, View};
use crate::event::{EngineCommand, EngineEvent, Level};
use crate::model::process::ProcessSnapshot;
use crate::redis_host::RedisState;

/// Everything the console shows.
#[derive(Debug, Clone)]
pub struct App {
    pub theme: Theme,
    pub profiles: Vec<ProfileItem>,
    pub selected: usize,
    pub mode: Mode,
    pub redis: RedisView,
    pub run: Option<RunView>,
    /// Which view fills the body.
    pub view: View,
    /// The data-sharing matrix, live or opened from results.
    pub share: Option<ShareView>,
    pub sweep: Option<super::views::SweepView>,
    /// The latest RTT sweep (`W`); the Sweep view draws it while no concurrency sweep is newer.
    pub rtt_sweep: Option<super::views::RttSweepView>,
    /// The runs under the results root.
    pub results: ResultsView,
    /// The last comparison of two runs.
    pub compare: Option<Box<crate::compare::Comparison>>,
    /// Where the last finished run wrote its results.
    pub last_results: Option<PathBuf>,
    pub log: LogView,
    /// The newest error, flashed in the header until acknowledged (Esc).
    pub alert: Option<LogLine>,
    /// The time of the current frame.
    pub now: DateTime<Utc>,
    /// Frames drawn so far (drives the spinner).
    pub frame: u64,
    /// `Shutdown` was sent; the loop ends once the engine has stopped.
    pub quitting: bool,
    /// Where results go (shown by `e`).
    pub results_root: PathBuf,
    /// The console's scale-to-zero gateway, as last reported (`g` starts and stops it).
    pub gateway: Option<crate::gateway::GatewaySnapshot>,
    /// The last rate sweep (`w` with an open loop chosen); a concurrency sweep clears it.
    pub rate_sweep: Option<super::views::RateSweepView>,
    /// How `r` runs case study 1 (`o` cycles it).
    pub loop_choice: super::state::LoopChoice,
    /// When the Redis status was last asked for (it is asked every second while Redis runs).
    pub status_asked: Option<DateTime<Utc>>,
    /// The last two process samples (CPU % is the difference), and when one was asked for.
    pub processes: (Option<ProcessSnapshot>, Option<ProcessSnapshot>),
    pub processes_asked: Option<DateTime<Utc>>,
    /// The workload editor while open (`E`).
    pub editor: Option<super::state::WorkloadEditor>,
    /// A report opened from Results, while shown.
    pub report: Option<super::state::ReportOverlay>,
    /// Each edited profile's values as its file says, kept from the first edit so the editor
    /// can tell what changed.
    pub file_workload: std::collections::HashMap<String, super::state::EditValues>,
}

impl App {
    /// A console over `profiles` with `selected` highlighted, at time `now`.
    pub fn new(
        profiles: Vec<ProfileItem>,
        selected: usize,
        theme: Theme,
        now: DateTime<Utc>,
    ) -> Self {
        let selected = selected.min(profiles.len().saturating_sub(1));
        Self {
            theme,
            profiles,
            selected,
            mode: Mode::Normal,
            redis: RedisView::default(),
            run: None,
            view: View::Run,
            share: None,
            sweep: None,
            rtt_sweep: None,
            results: ResultsView::default(),
            compare: None,
            last_results: None,
            log: LogView::default(),
            alert: None,
            now,
            frame: 0,
            quitting: false,
            results_root: crate::results::default_root(),
            gateway: None,
            rate_sweep: None,
            loop_choice: super::state::LoopChoice::default(),
            status_asked: None,
            processes: (None, None),
            processes_asked: None,
            editor: None,
            report: None,
            file_workload: Default::default(),
        }
    }

    /// A gateway is serving (not yet closed).
    pub fn gateway_active(&self) -> bool {
        self.gateway
            .as_ref()
            .is_some_and(|g| g.state != crate::gateway::GatewayState::Closed)
    }

    /// The selected profile's name (empty when none was found).
    pub fn selected_name(&self) -> &str {
        self.profiles
            .get(self.selected)
            .map_or("", |p| p.name.as_str())
    }

    /// The selected profile.
    pub fn selected_profile(&self) -> Option<&ProfileItem> {
        self.profiles.get(self.selected)
    }

    /// A run is going (quitting must be confirmed).
    pub fn run_active(&self) -> bool {
        self.run.as_ref().is_some_and(RunView::active)
    }

    /// Something on screen moves with time alone: a live run's elapsed time, gauge and ETA, a
    /// spinner, the gateway's idle countdown, a listing being read. Otherwise the console
    /// draws only when an event, a key or a resize changed something.
    pub fn animating(&self) -> bool {
        use crate::gateway::GatewayState;
        self.run_active()
            || self.quitting
            || self.results.loading
            || matches!(
                self.redis.state,
                RedisState::Starting | RedisState::Stopping
            )
            || self.gateway.as_ref().is_some_and(|g| {
                matches!(
                    g.state,
                    GatewayState::Awake | GatewayState::Waking | GatewayState::Stopping
                )
            })
    }

    /// Advance to the next frame at `now`; recomputes what changed since the last frame.
    pub fn tick(&mut self, now: DateTime<Utc>) {
        self.now = now;
        self.frame = self.frame.wrapping_add(1);
        if let Some(run) = &mut self.run {
            run.refresh_table();
        }
        if let Some(share) = &mut self.share {
            share.refresh();
        }
    }

    /// The Redis status query due at `now`: every second while the selected profile's Redis
    /// runs (after `u`, during a run, behind an awake gateway), so uptime, keys and memory
    /// follow what is written.
    pub fn status_due(&mut self, now: DateTime<Utc>) -> Option<EngineCommand> {
        let live = self.redis.state == RedisState::Running
            || self.run_active()
            || self
                .gateway
                .as_ref()
                .is_some_and(|g| g.state == crate::gateway::GatewayState::Awake);
        if self.quitting || !live || self.selected_name().is_empty() {
            return None;
        }
        if self
            .status_asked
            .is_some_and(|at| now - at < chrono::Duration::seconds(1))
        {
            return None;
        }
        self.status_asked = Some(now);
        Some(EngineCommand::RedisStatus {
            profile: self.selected_name().to_string(),
        })
    }

    /// The process sample due at `now`: every second while a run is live or Redis runs.
    pub fn processes_due(&mut self, now: DateTime<Utc>) -> Option<EngineCommand> {
        let live = self.redis.state == RedisState::Running || self.run_active();
        if self.quitting || !live {
            return None;
        }
        if self
            .processes_asked
            .is_some_and(|at| now - at < chrono::Duration::seconds(1))
        {
            return None;
        }
        self.processes_asked = Some(now);
        let status = self.redis.status.as_ref();
        // A live run on the local Lambda: its function containers too.
        let functions = self.run_active()
            && self.run.as_ref().is_some_and(|run| {
                self.profiles.iter().any(|p| {
                    p.name == run.profile && p.info.as_ref().is_ok_and(|i| i.platform == "lambda")
                })
            });
        Some(EngineCommand::SampleProcesses {
            redis_pid: status.and_then(|s| s.pid),
            containers: status
                .and_then(|s| s.container.clone())
                .into_iter()
                .collect(),
            functions,
        })
    }

    /// Add a line to the log at the current time.
    pub fn note(&mut self, level: Level, message: impl Into<String>) {
        let line = LogLine {
            at: self.now,
            level,
            message: message.into(),
        };
        if level == Level::Error {
            self.alert = Some(line.clone());
        }
        self.log.push(line);
    }

    fn apply_snapshot(&mut self, e: crate::snapshots::SnapshotEvent) {
        use crate::snapshots::SnapshotEvent;
        match e {
            SnapshotEvent::Latest(s) => {
                if s.is_some() {
                    self.redis.snapshot = s;
                }
            }
            SnapshotEvent::Uploaded(s) => {
                self.redis.snapshot = Some(s);
                self.redis.snapshot_pending = false;
            }
            // The message itself reaches the log as an error line.
            SnapshotEvent::Pending { .. } => self.redis.snapshot_pending = true,
            SnapshotEvent::Restored(r) => {
                self.note(
                    Level::Info,
                    format!("snapshot {} restored in {:.0} ms", r.id, r.total_ms),
                );
            }
        }
    }

    /// Fold one engine event into the state.
    pub fn apply(&mut self, ev: EngineEvent) {
        match ev {
            EngineEvent::RunStarted {
                experiment,
                profile,
                planned,
            } => {
                self.note(
                    Level::Info,
                    format!("{experiment} started on `{profile}`: {planned} invocations"),
                );
                let mut run = RunView::new(experiment, profile, planned, self.now);
                run.target_rate = self.loop_choice.target();
                self.run = Some(run);
            }
            EngineEvent::Gateway(crate::gateway::GatewayEvent::State(s)) => {
                self.note(
                    Level::Info,
                    format!("gateway {}: {}", s.state.label(), s.reason),
                );
                self.gateway = Some(s);
            }
            EngineEvent::Gateway(crate::gateway::GatewayEvent::Stats(s)) => {
                self.gateway = Some(s);
            }
            EngineEvent::Phase(phase) => {
                if let Some(run) = &mut self.run {
                    run.phase = phase;
                }
            }
            EngineEvent::RedisState(state) => {
                self.redis.state = state;
                if state != RedisState::Starting {
                    self.redis.pull = None;
                }
            }
            EngineEvent::ColdStart(c) => {
                self.note(
                    Level::Info,
                    format!("redis ready in {:.1} ms ({})", c.total_ms, c.keys_origin()),
                );
                self.redis.cold_start = Some(c);
            }
            EngineEvent::Snapshot(e) => self.apply_snapshot(e),
            EngineEvent::Processes(p) => {
                self.processes = (self.processes.1.take(), Some(*p));
            }
            EngineEvent::RedisStatus(st) => {
                if let Some(run) = &mut self.run
                    && run.active()
                    && run.keys_at_start.is_none()
                    && run.stats.completed == 0
                {
                    run.keys_at_start = st.keys;
                }
                self.redis.state = st.state;
                self.redis.status = Some(st);
            }
            EngineEvent::Pull {
                status,
                current,
                total,
            } => {
                self.redis.pull = Some(match (current, total) {
                    (Some(c), Some(t)) if t > 0 => {
                        format!("{status} {:.0}%", c as f64 * 100.0 / t as f64)
                    }
                    _ => status,
                });
            }
            EngineEvent::Activation(a) => {
                if let Some(run) = &mut self.run {
                    run.fold(a.as_ref());
                    let secs = (self.now - run.started_at).num_milliseconds() as f64 / 1000.0;
                    run.throughput.record(secs);
                }
            }
            EngineEvent::ResultsListed(entries) => self.results.set(entries),
            EngineEvent::RunOpened { dir, record } if self.run_active() => {
                // Replacing the live run would fold its next invocations into the record.
                self.note(
                    Level::Warn,
                    format!("a run is active; open {} once it ends", dir.display()),
                );
                drop(record);
            }
            EngineEvent::RunOpened { dir, record } => {
                self.note(Level::Info, format!("opened {}", dir.display()));
                self.run = Some(RunView::recorded(dir, &record, self.now));
                self.view = View::Run;
            }
            EngineEvent::SweepOpened(r) => {
                self.note(Level::Info, format!("opened {}", r.results_dir.display()));
                self.rate_sweep = None;
                self.rtt_sweep = None;
                self.sweep = Some(super::views::SweepView {
                    profile: r.profile.clone(),
                    planned: r.steps.iter().map(|s| s.concurrency).collect(),
                    steps: r.steps,
                    live: false,
                });
                self.view = View::Sweep;
            }
            EngineEvent::RateSweepOpened(r) => {
                self.note(Level::Info, format!("opened {}", r.results_dir.display()));
                self.sweep = None;
                self.rtt_sweep = None;
                self.rate_sweep = Some(super::views::RateSweepView {
                    profile: r.profile.clone(),
                    planned: r.steps.iter().map(|s| s.rate).collect(),
                    p99_bound_ms: r.p99_bound_ms,
                    steps: r.steps,
                    live: false,
                });
                self.view = View::Sweep;
            }
            EngineEvent::RttSweepOpened(r) => {
                self.note(Level::Info, format!("opened {}", r.results_dir.display()));
                self.sweep = None;
                self.rate_sweep = None;
                self.rtt_sweep = Some(super::views::RttSweepView {
                    profile: r.profile.clone(),
                    planned: r.steps.iter().map(|s| s.rtt_ms).collect(),
                    steps: r.steps,
                });
                self.view = View::Sweep;
            }
            EngineEvent::ReportOpened { dir, title, text } => {
                self.note(Level::Info, format!("opened {}", dir.display()));
                self.report = Some(super::state::ReportOverlay::new(dir, title, &text));
                // It takes the keyboard unless another overlay (help, a question) has it.
                if matches!(self.mode, Mode::Normal | Mode::Results) {
                    self.mode = Mode::Report;
                }
            }
            EngineEvent::ShareOpened { dir, summary } => {
                self.note(Level::Info, format!("opened {}", dir.display()));
                self.share = Some(ShareView::recorded(
                    dir,
                    summary.cells,
                    summary.options.runs,
                ));
                self.view = View::Share;
            }
            EngineEvent::Compared(c) => {
                self.compare = Some(c);
                self.view = View::Compare;
            }
            EngineEvent::SweepStarted {
                profile,
                concurrencies,
            } => {
                self.rate_sweep = None;
                self.rtt_sweep = None;
                self.sweep = Some(super::views::SweepView {
                    profile,
                    planned: concurrencies,
                    steps: Vec::new(),
                    live: true,
                });
            }
            EngineEvent::RateSweepStarted {
                profile,
                rates,
                p99_bound_ms,
            } => {
                self.sweep = None;
                self.rate_sweep = Some(super::views::RateSweepView {
                    profile,
                    planned: rates,
                    p99_bound_ms,
                    steps: Vec::new(),
                    live: true,
                });
            }
            EngineEvent::RateSweepStep(step) => {
                self.note(
                    Level::Info,
                    format!(
                        "rate sweep step at {}/s: achieved {:.1}/s, corrected p99 {:.1} ms",
                        step.rate, step.achieved_rate, step.corrected_p99_ms
                    ),
                );
                if let Some(s) = &mut self.rate_sweep {
                    s.steps.push(*step);
                }
            }
            EngineEvent::SweepStep(step) => {
                self.note(
                    Level::Info,
                    format!(
                        "sweep step at concurrency {}: {:.1} invocations/s, p50 {:.1} ms",
                        step.concurrency, step.invocations_per_s, step.total_p50_ms
                    ),
                );
                if let Some(s) = &mut self.sweep {
                    s.steps.push(*step);
                }
            }
            EngineEvent::RttSweepStarted { profile, rtts } => {
                self.sweep = None;
                self.rtt_sweep = Some(super::views::RttSweepView {
                    profile,
                    planned: rtts,
                    steps: Vec::new(),
                });
            }
            EngineEvent::RttSweepStep(step) => {
                self.note(
                    Level::Info,
                    format!(
                        "rtt sweep step at {} ms: function time {:.1} ms",
                        step.rtt_ms, step.total_ms
                    ),
                );
                if let Some(s) = &mut self.rtt_sweep {
                    s.steps.push(*step);
                }
            }
            EngineEvent::ShareStarted { cells, runs } => {
                if let Some(run) = &mut self.run {
                    run.share = true;
                }
                self.share = Some(ShareView::live(&cells, runs));
            }
            EngineEvent::ShareCycle { cell, record } => {
                if let Some(run) = &mut self.run {
                    run.stats.completed += 1;
                }
                if let Some(share) = &mut self.share {
                    share.record(cell, &record);
                }
            }
            EngineEvent::Log { level, message } => self.note(level, message),
            EngineEvent::Exported { path } => self.note(
                Level::Info,
                format!(
                    "exported the last run's results as the zip {}",
                    path.display()
                ),
            ),
            EngineEvent::RunFinished {
                outcome,
                results_dir,
                elapsed,
            } => {
                let where_ = results_dir
                    .as_ref()
                    .map(|d| format!("; results in {}", d.display()))
                    .unwrap_or_default();
                let level = match outcome {
                    crate::event::Phase::Done => Level::Info,
                    crate::event::Phase::Cancelled => Level::Warn,
                    _ => Level::Error,
                };
                // A sweep's end closes the sweep; its last step keeps its own elapsed time.
                let sweep_ended = self
                    .sweep
                    .as_mut()
                    .is_some_and(|s| std::mem::take(&mut s.live))
                    | self
                        .rate_sweep
                        .as_mut()
                        .is_some_and(|s| std::mem::take(&mut s.live));
                self.note(
                    level,
                    format!(
                        "{} {} after {:.1} s{where_}",
                        if sweep_ended { "sweep" } else { "run" },
                        outcome.label(),
                        elapsed.as_secs_f64()
                    ),
                );
                let elapsed = match (&self.run, sweep_ended) {
                    (Some(run), true) => (self.now - run.started_at).to_std().unwrap_or(elapsed),
                    _ => elapsed,
                };
                if results_dir.is_some() {
                    self.last_results.clone_from(&results_dir);
                }
                // The question "a run is active, quit?" has no subject any more.
                if self.mode == Mode::ConfirmQuit {
                    self.mode = Mode::Normal;
                }
                if let Some(run) = &mut self.run {
                    run.phase = outcome;
                    run.finished = Some(Finished {
                        outcome,
                        elapsed,
                        results_dir,
                    });
                }
            }
        }
    }

    /// A key while the Results filter takes text: characters type, Backspace deletes, Enter
    /// keeps the filter, Esc clears it.
    fn type_filter(&mut self, ev: &KeyEvent) {
        use crossterm::event::{KeyCode, KeyEventKind};
        if ev.kind == KeyEventKind::Release {
            return;
        }
        let r = &mut self.results;
        match ev.code {
            KeyCode::Char(c) => r.filter.push(c),
            KeyCode::Backspace => {
                r.filter.pop();
            }
            KeyCode::Enter => r.filtering = false,
            KeyCode::Esc => {
                r.filtering = false;
                r.filter.clear();
            }
            _ => return,
        }
        r.reorder();
    }

    /// Handle a key press: the key table gives the action; the action may yield a command.
    pub fn on_key(&mut self, ev: &KeyEvent) -> Option<EngineCommand> {
        if self.results.filtering && self.view == View::Results && self.mode == Mode::Normal {
            use crossterm::event::{KeyCode, KeyModifiers};
            let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
            match ev.code {
                // Esc and a letter typed at once reach us as Alt and the letter (that is how
                // terminals send Alt): the Esc ends the filter, the letter is a key again.
                KeyCode::Char(c) if ev.modifiers.contains(KeyModifiers::ALT) && !ctrl => {
                    self.type_filter(&KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
                    let plain = KeyEvent::new_with_kind(
                        KeyCode::Char(c),
                        ev.modifiers - KeyModifiers::ALT,
                        ev.kind,
                    );
                    return self.on_key(&plain);
                }
                // Ctrl-C and the other Ctrl keys are never typed: the filter is kept (as by
                // Enter) and the key does what it does elsewhere.
                KeyCode::Char(_) if ctrl => self.results.filtering = false,
                _ => {
                    self.type_filter(ev);
                    return None;
                }
            }
        }
        let mode = if self.mode == Mode::Normal && self.view == View::Results {
            Mode::Results
        } else {
            self.mode
        };
        let action = keys::lookup(mode, ev)?;
        self.perform(action)
    }
}
