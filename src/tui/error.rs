//! Why the console stopped early.

use std::io;

/// Why the console stopped early.
#[derive(Debug, thiserror::Error)]
pub enum TuiError {
    #[error("cannot set up the terminal: {0}")]
    Terminal(#[source] io::Error),
    #[error("cannot draw the console: {0}")]
    Draw(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("cannot read the keyboard: {0}")]
    Input(#[source] io::Error),
    #[error("the engine task ended abnormally: {0}")]
    Engine(#[source] tokio::task::JoinError),
    #[error("{0}")]
    Profile(#[source] crate::profile::ProfileError),
}
