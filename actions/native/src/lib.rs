//! redwhisk's native actions. Each follows OpenWhisk's native (blackbox) contract: parameters
//! as JSON in argv[1] and on stdin, the result as the last stdout line, logs on other lines.
//!
//! The parameter and result types are shared with the redwhisk engine, which parses results
//! into them.

pub mod protocol;

pub use protocol::{BenchParams, BenchResult, LatencyBuckets, Mode, PhaseLatency};
