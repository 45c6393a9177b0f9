//! The experiments: case study 1 (`run`), case study 2 (`share`), the concurrency sweep, the
//! cluster failover and the two gateway studies. Each is a user of one skeleton ([`Job`]:
//! announce, results directory with a unique name, platform and deploy, phases, cancellation,
//! finish); they return typed reports and [`EngineError`]. The engine loop and the CLI call
//! them; they call the adapters (Redis host, platform, gateway server) and write records.

mod error;
pub mod failover;
pub mod gateway_share;
pub mod gateway_study;
mod job;
pub mod open_loop;
mod params;
pub mod rate_sweep;
pub mod rtt_sweep;
pub mod run;
pub mod share;
pub mod sweep;

pub(crate) use error::bail;
pub use error::{BoxError, Context, EngineError, Result as EngineResult, chain};
pub use job::Job;
pub use params::{action_redis_host, bench_params};
pub use run::{RunOptions, RunOutcome, action_name, run_experiment};
