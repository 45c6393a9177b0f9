//! redwhisk's native actions. Each follows OpenWhisk's native (blackbox) contract: parameters
//! as JSON in argv[1] and on stdin, the result as the last stdout line, logs on other lines.
//!
//! The parameter and result types are shared with the redwhisk engine, which parses results
//! into them. What each timer measures is documented in actions/README.md.

pub mod bench;
pub mod cluster;
pub mod conn;
pub mod contract;
pub mod error;
mod phase;
pub mod protocol;
pub mod share;
pub mod values;
mod wire;

pub use cluster::ClusterCounters;
pub use conn::{Access, Tls};
pub use contract::{ACTIONS, execute, run_action};
pub use error::ActionError;
pub use protocol::{
    BenchParams, BenchResult, LatencyBuckets, Mode, PhaseLatency, ReaderParams, ReaderResult,
    RoundTrips, WriterParams, WriterResult,
};
