//! One results directory as the console's Results view lists it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// Which case study a results directory holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Run,
    Share,
    /// A concurrency sweep (`sweep.json`).
    Sweep,
    /// A rate sweep (`rate-sweep.json`).
    RateSweep,
    /// An RTT sweep (`rtt-sweep.json`).
    RttSweep,
    /// A cluster failover (`failover.json`).
    Failover,
    /// Case study 3 through the gateway (`study.json`).
    GatewayStudy,
    /// Data sharing through the gateway (`share-gateway.json`).
    GatewayShare,
}

impl Kind {
    /// How the Results view names the kind (at most 8 columns).
    pub fn label(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Share => "share",
            Kind::Sweep => "sweep",
            Kind::RateSweep => "rate-sw",
            Kind::RttSweep => "rtt-sw",
            Kind::Failover => "failover",
            Kind::GatewayStudy => "gw-study",
            Kind::GatewayShare => "gw-share",
        }
    }

    /// What the count of an entry counts.
    pub fn unit(self) -> &'static str {
        match self {
            Kind::Run | Kind::GatewayStudy => "inv",
            Kind::Share | Kind::GatewayShare => "cyc",
            Kind::Sweep | Kind::RateSweep | Kind::RttSweep => "steps",
            Kind::Failover => "writes",
        }
    }
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
    /// The invocation's p50 and p99 (ms): a run's total, a sweep's best step.
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Invocations per second: a run's over its elapsed time, a sweep's peak.
    pub throughput: Option<f64>,
}
