//! redwhisk: a Redis that lives only while serverless functions need it, and what that costs.
//!
//! The library holds everything; `main.rs` only parses arguments and calls [`cli::run`].
//! See ARCHITECTURE.md for the modules and how an event flows from the engine to the screen.

pub mod bench;
pub mod cli;
pub mod compare;
pub mod engine;
pub mod event;
pub mod experiments;
pub mod gateway;
pub mod model;
pub mod netem;
pub mod paper;
pub mod platform;
pub mod plot;
pub mod profile;
pub mod redis_host;
pub mod report;
pub mod results;
pub mod rootfs;
pub mod secret;
pub mod share;
pub mod snapshots;
pub mod stats;
pub mod tui;
