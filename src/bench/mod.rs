//! The benchmark harness behind `redwhisk bench …`: baseline servers, docker CLI calls,
//! `redis-benchmark` runs and the measurement loops. Each bench returns a typed, serialisable
//! result; `cli/bench_*_cmd.rs` only parse arguments and print it.
//!
//! Shared here so a new bench reuses them: [`median`] and [`ms`] (from `stats`), a free
//! loopback port, a throwaway profile, the local image, `redis-benchmark` and its CSV row,
//! the docker CLI.

pub mod action;
pub mod engine;
mod error;
pub mod gateway;
pub mod lifecycle;
pub mod snapshots;
mod tools;

pub use crate::stats::{median, ms, quantile};
pub use error::{BenchError, Context, Result};
pub use tools::{
    csv_row, docker_cli, ensure_local_image, free_port, plain_endpoint, redis_benchmark,
    throwaway_profile,
};
