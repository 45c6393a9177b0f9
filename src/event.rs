//! The typed events the engine emits and the commands it takes. Both faces (TUI and headless
//! CLI) consume the same [`EngineEvent`]s; nothing here knows about ratatui.

use std::time::Duration;

use tokio::sync::mpsc;

use crate::model::{Activation, ColdStart, RedisState, RedisStatus};
pub use crate::model::{Level, Phase};
use crate::share::{Cell, CycleRecord};

/// Everything the engine tells its consumers.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    /// A run (or share experiment) started: name, profile, planned invocations.
    RunStarted {
        experiment: String,
        profile: String,
        planned: u32,
    },
    Phase(Phase),
    RedisState(RedisState),
    /// The cold-start breakdown of the Redis host that just became ready.
    ColdStart(ColdStart),
    /// Periodic or on-demand status of the Redis host.
    RedisStatus(RedisStatus),
    /// Image pull progress (docker backend).
    Pull {
        status: String,
        current: Option<u64>,
        total: Option<u64>,
    },
    /// One invocation finished (successfully or not; a failure is data).
    Activation(Box<Activation>),
    /// The data-sharing experiment will run these cells, `runs` cycles each.
    ShareStarted {
        cells: Vec<Cell>,
        runs: u32,
    },
    /// A sweep will run case study 1 at each of these concurrencies, in order.
    SweepStarted {
        profile: String,
        concurrencies: Vec<u32>,
    },
    /// One step of a sweep finished (its run's results are in `step.results_dir`).
    SweepStep(Box<crate::model::SweepStep>),
    /// A rate sweep will run case study 1 as an open loop at each of these rates, in order;
    /// a rate is sustained when its corrected p99 stays under `p99_bound_ms`.
    RateSweepStarted {
        profile: String,
        rates: Vec<f64>,
        p99_bound_ms: f64,
    },
    /// One rate of a rate sweep finished.
    RateSweepStep(Box<crate::model::rate_sweep::RateStep>),
    /// An RTT sweep (`sweep --rtt`, the console's `W`) will run case study 1 at each of these
    /// emulated round-trip times (ms), in order.
    RttSweepStarted {
        profile: String,
        rtts: Vec<f64>,
    },
    /// One step of an RTT sweep (`sweep --rtt`) finished.
    RttSweepStep(Box<crate::model::rtt_sweep::RttStep>),
    /// The runs found under the results root, newest first.
    ResultsListed(Vec<crate::model::ResultEntry>),
    /// A recorded case study 1 run, read back.
    RunOpened {
        dir: std::path::PathBuf,
        record: Box<crate::model::run::RunRecord>,
    },
    /// CPU time and memory of the processes taking part (see `SampleProcesses`).
    Processes(Box<crate::model::process::ProcessSnapshot>),
    /// A recorded concurrency sweep, read back.
    SweepOpened(Box<crate::model::sweep::SweepReport>),
    /// A recorded rate sweep, read back.
    RateSweepOpened(Box<crate::model::rate_sweep::RateSweepReport>),
    /// A recorded RTT sweep, read back.
    RttSweepOpened(Box<crate::model::rtt_sweep::RttSweepReport>),
    /// A recorded result the console has no view of its own for (a failover experiment, a
    /// gateway study or gateway share), read back as its report's text.
    ReportOpened {
        dir: std::path::PathBuf,
        /// What it is, e.g. "failover on `cluster`".
        title: String,
        /// The same text the CLI prints for it.
        text: String,
    },
    /// A recorded case study 2 matrix, read back.
    ShareOpened {
        dir: std::path::PathBuf,
        summary: Box<crate::share::ShareSummary>,
    },
    /// Two runs compared (B against A).
    Compared(Box<crate::compare::Comparison>),
    /// One cycle of the data-sharing experiment finished (what it wrote, found and timed).
    ShareCycle {
        cell: Cell,
        record: Box<CycleRecord>,
    },
    /// The scale-to-zero gateway changed state or moved its counters.
    Gateway(crate::model::GatewayEvent),
    Log {
        level: Level,
        message: String,
    },
    /// A snapshot was found, uploaded, left pending or restored.
    Snapshot(crate::model::SnapshotEvent),
    /// `Export` wrote the last run's results as one zip at `path`.
    Exported {
        path: std::path::PathBuf,
    },
    /// The run finished; the summary was written to `results_dir` (when any).
    RunFinished {
        outcome: Phase,
        results_dir: Option<std::path::PathBuf>,
        elapsed: Duration,
    },
}

/// What consumers ask the engine to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineCommand {
    Run {
        profile: String,
    },
    /// The next runs of `profile` use these workload values over its file (the console's
    /// workload editor); an empty edit goes back to the file's.
    EditWorkload {
        profile: String,
        edit: crate::model::workload::WorkloadEdit,
    },
    /// Write these workload values into `profile`'s file (comments and everything else kept),
    /// and use them for its next runs.
    SaveWorkload {
        profile: String,
        edit: crate::model::workload::WorkloadEdit,
    },
    /// Read CPU time and memory of redwhisk, its children and the profile's redis-server
    /// (the console's process pane), and of the named Docker containers (their whole cgroup,
    /// from the Docker stats API); answered by [`EngineEvent::Processes`].
    SampleProcesses {
        redis_pid: Option<u32>,
        containers: Vec<String>,
        /// Also the local Lambda containers this redwhisk runs (role `lambda`).
        functions: bool,
    },
    /// Case study 1 with the console's choice of loop: an open loop at `rate` arrivals per
    /// second, or a closed loop (`None`) whatever the profile says.
    RunLoop {
        profile: String,
        rate: Option<u32>,
    },
    Share {
        profile: String,
    },
    /// Case study 1 at each of [`crate::engine::sweep::CONSOLE_CONCURRENCIES`]: each step is
    /// a run (seen live), the table fills in step by step.
    Sweep {
        profile: String,
    },
    /// Case study 1 as an open loop at each of [`crate::model::rate_sweep::CONSOLE_RATES`],
    /// the saturation point under [`crate::model::rate_sweep::CONSOLE_P99_BOUND_MS`].
    RateSweep {
        profile: String,
    },
    /// Case study 1 at each of [`crate::engine::rtt_sweep::CONSOLE_RTTS`] ms of emulated
    /// distance to Redis (`[redis.network_emulation]`): the Sweep view draws function time
    /// against RTT.
    RttSweep {
        profile: String,
    },
    Cancel,
    RedisUp {
        profile: String,
    },
    RedisDown {
        profile: String,
    },
    RedisStatus {
        profile: String,
    },
    /// Serve the profile's Redis through the scale-to-zero gateway (asleep until a client
    /// connects). While it serves, runs, `u` and `d` for that profile are refused.
    GatewayStart {
        profile: String,
    },
    /// Stop the gateway: open connections get a short grace, Redis is saved and stopped.
    GatewayStop,
    Export,
    /// List the runs under the results root.
    ListResults,
    /// Read one results directory back.
    OpenResult {
        dir: std::path::PathBuf,
    },
    /// Compare run `b` against run `a`.
    CompareResults {
        a: std::path::PathBuf,
        b: std::path::PathBuf,
    },
    Shutdown,
}

/// The sending half the engine writes events into. Sending never fails the engine: a
/// consumer that went away is not an engine error.
#[derive(Debug, Clone)]
pub struct EventSink(mpsc::UnboundedSender<EngineEvent>);

impl EventSink {
    pub fn new() -> (Self, mpsc::UnboundedReceiver<EngineEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Self(tx), rx)
    }

    /// A sink whose events go nowhere (for tests and one-shot commands).
    pub fn discard() -> Self {
        let (tx, _rx) = mpsc::unbounded_channel();
        Self(tx)
    }

    pub fn send(&self, event: EngineEvent) {
        let _ignored_when_no_consumer = self.0.send(event);
    }

    pub fn log(&self, level: Level, message: impl Into<String>) {
        self.send(EngineEvent::Log {
            level,
            message: message.into(),
        });
    }

    pub fn info(&self, message: impl Into<String>) {
        self.log(Level::Info, message);
    }

    pub fn warn(&self, message: impl Into<String>) {
        self.log(Level::Warn, message);
    }
}
