//! What several commands take alike: the output format, the backend of a benchmark, duration
//! flags, and how `--profile` becomes a profile.

use std::time::Duration;

use crate::profile::duration::GATEWAY_IDLE;
use crate::profile::{DurationError, DurationRange, Overrides, Profile, find_profile};

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

impl OutputFormat {
    /// Print a command's result on stdout: `text()` as is, or `value` as pretty JSON.
    pub fn print<T: serde::Serialize>(
        self,
        value: &T,
        text: impl FnOnce() -> String,
    ) -> serde_json::Result<()> {
        match self {
            OutputFormat::Text => print!("{}", text()),
            OutputFormat::Json => println!("{}", serde_json::to_string_pretty(value)?),
        }
        Ok(())
    }
}

/// Which backends a benchmark measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    Process,
    Docker,
    All,
}

/// The profile `--profile` names (a name searched in ./profiles and the config directory, or
/// a path to a .toml file; `local` when absent), with the command-line overrides applied and
/// checked against the same limits as the profile's fields.
pub fn load_profile(name_or_path: Option<&str>, overrides: &Overrides) -> anyhow::Result<Profile> {
    let found = find_profile(name_or_path.unwrap_or("local"))?;
    Ok(overrides.applied_to(&found)?)
}

/// Up to an hour: `gateway --grace`, `run --think-time`, `failover --kill-after`, `--tail` and
/// `--recover-limit` (longer waits are typos, and would overflow deadlines).
const UP_TO_AN_HOUR: DurationRange = DurationRange::millis(0, 3_600_000);

/// `gateway --idle`: the range of the profile's `gateway.idle_ms`.
pub fn idle(text: &str) -> Result<Duration, DurationError> {
    GATEWAY_IDLE.parse(text)
}

/// A duration flag of up to an hour.
pub fn up_to_an_hour(text: &str) -> Result<Duration, DurationError> {
    UP_TO_AN_HOUR.parse(text)
}
