//! Errors at the platform boundary. A failed action is not an error: it is an [`Activation`]
//! with `success = false`.
//!
//! [`Activation`]: super::Activation

use std::path::PathBuf;

/// Why a platform could not deploy or invoke (as opposed to an action that ran and failed).
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("the {0} platform is not implemented yet")]
    NotImplemented(&'static str),
    #[error("no action named `{0}` is deployed on the local platform; deploy it first")]
    UnknownAction(String),
    #[error("cannot find the redwhisk executable to run actions with: {0}")]
    CurrentExe(#[source] std::io::Error),
    #[error(
        "the action executable {} does not exist or is not a file; build it or fix the path",
        .0.display()
    )]
    MissingExecutable(PathBuf),
    #[error("cannot start action `{name}` ({}): {source}", .program.display())]
    Spawn {
        name: String,
        program: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("lost track of the process of action `{name}`: {source}")]
    Wait {
        name: String,
        #[source]
        source: std::io::Error,
    },
    /// Any failure talking to OpenWhisk (configuration, HTTP status, polling, packaging).
    #[error(transparent)]
    OpenWhisk(#[from] super::openwhisk::OpenWhiskError),
    /// Any failure deploying to or invoking Lambda or the local emulator.
    #[error(transparent)]
    Lambda(#[from] super::lambda::LambdaError),
}

impl PlatformError {
    /// An error that concerns this one invocation (throttled to the deadline, a record that
    /// never appeared, a 5xx) rather than the set-up: the run counts it and goes on.
    pub fn is_per_invocation(&self) -> bool {
        use super::openwhisk::OpenWhiskError as E;
        match self {
            PlatformError::Lambda(e) => e.is_per_invocation(),
            _ => matches!(
                self,
                PlatformError::OpenWhisk(
                    E::Throttled { .. } | E::PollDeadline { .. } | E::Server { .. }
                )
            ),
        }
    }
}
