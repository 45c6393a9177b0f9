//! [`BenchError`]: why a benchmark could not finish.

use std::fmt::Display;

use crate::experiments::{EngineError, chain};

/// Why a benchmark could not finish. The text carries the whole cause chain, as the CLI
/// prints it.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A bad option value: what to change.
    #[error("{0}")]
    Usage(String),
    /// A step failed; `what` says which, `cause` is its error with its own causes.
    #[error("{what}{}{cause}", if what.is_empty() { "" } else { ": " })]
    Failed { what: String, cause: String },
}

pub type Result<T> = std::result::Result<T, BenchError>;

impl BenchError {
    /// A failure with no underlying error.
    pub fn msg(what: impl Display) -> Self {
        BenchError::Failed {
            what: what.to_string(),
            cause: String::new(),
        }
    }
}

/// Attach what was being done to an error.
pub trait Context<T> {
    fn ctx(self, what: impl Display) -> Result<T>;
    fn with_ctx<D: Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: std::error::Error + 'static> Context<T> for std::result::Result<T, E> {
    fn ctx(self, what: impl Display) -> Result<T> {
        self.map_err(|e| BenchError::Failed {
            what: what.to_string(),
            cause: chain(&e),
        })
    }
    fn with_ctx<D: Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| BenchError::Failed {
            what: what().to_string(),
            cause: chain(&e),
        })
    }
}

/// `?` on an error with no more to say than its own text.
macro_rules! bare_from {
    ($($t:ty),*) => {$(
        impl From<$t> for BenchError {
            fn from(e: $t) -> Self {
                BenchError::Failed { what: String::new(), cause: chain(&e) }
            }
        }
    )*};
}
bare_from!(
    std::io::Error,
    crate::redis_host::HostError,
    crate::profile::ProfileError,
    serde_json::Error,
    tokio::task::JoinError,
    std::net::AddrParseError,
    std::num::ParseIntError,
    redwhisk_actions::ActionError,
    crate::gateway::GatewayError,
    EngineError,
    crate::snapshots::SnapshotError
);
