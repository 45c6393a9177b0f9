//! Network emulation: the functions reach Redis through a path with a chosen round-trip time,
//! jitter and rate (`[redis.network_emulation]`, docs/network-emulation.md).
//!
//! `shaper.rs` is the userspace shaping proxy (threads, precise sleeps); `process.rs` runs it
//! as a process of its own, recorded in the data directory so `redis down`, a run's shutdown and
//! the next start's orphan reaper can stop it. `redis_host` starts and stops it with Redis.

mod error;
pub mod process;
pub mod shaper;

pub use error::NetemError;
pub use process::{ENV, ProxySpec, ProxyState, serve_env};
pub use shaper::Shape;
