//! [`EngineError`]: why an experiment (run, share, gateway study) could not go on. Each step
//! that fails names itself (`what`) and keeps its cause as the error's `source`, so
//! [`chain`] (and anyhow's `{:#}` in `cli/`) prints `what: cause: cause…` as before.

use std::fmt::Display;

/// Any error, boxed, as a cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A step failed; `source` says why.
    #[error("{what}")]
    Step {
        what: String,
        #[source]
        source: BoxError,
    },
    /// Refused or failed with nothing underneath: the text says what to fix.
    #[error("{0}")]
    Failed(String),
    /// Cancelled before there was anything to report (e.g. while Redis was starting); the text
    /// says what was left as it was.
    #[error("{0}")]
    Cancelled(String),
    /// Redis died or froze mid-experiment.
    #[error("{0}")]
    RedisLost(String),
    #[error(transparent)]
    Profile(#[from] crate::profile::ProfileError),
    #[error(transparent)]
    Host(#[from] crate::redis_host::HostError),
    #[error(transparent)]
    Platform(#[from] crate::platform::PlatformError),
    #[error(transparent)]
    Gateway(#[from] crate::gateway::GatewayError),
    #[error(transparent)]
    Redis(#[from] redis::RedisError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;

impl EngineError {
    /// The message and every cause, `: `-separated.
    pub fn chain(&self) -> String {
        chain(self)
    }
}

/// An error's message followed by its causes, `: `-separated (what anyhow's `{:#}` prints);
/// a cause whose text the message already ends with is not repeated.
pub fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let next = c.to_string();
        if !s.ends_with(&next) {
            s.push_str(": ");
            s.push_str(&next);
        }
        src = c.source();
    }
    s
}

/// Name the step that failed (the engine's counterpart of anyhow's `Context`).
pub trait Context<T> {
    fn context(self, what: impl Display) -> Result<T>;
    fn with_context<D: Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<BoxError>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl Display) -> Result<T> {
        self.map_err(|e| EngineError::Step {
            what: what.to_string(),
            source: e.into(),
        })
    }
    fn with_context<D: Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| EngineError::Step {
            what: what().to_string(),
            source: e.into(),
        })
    }
}

/// `return Err(EngineError::Failed(format!(…)))`.
macro_rules! bail {
    ($($t:tt)*) => {
        return Err($crate::experiments::EngineError::Failed(format!($($t)*)))
    };
}
pub(crate) use bail;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_names_the_step_then_each_cause() {
        let inner: Result<()> = Err(std::io::Error::other("disk full")).context("cannot write x");
        let outer = inner.context("cannot write the results").unwrap_err();
        assert_eq!(outer.to_string(), "cannot write the results");
        assert_eq!(
            outer.chain(),
            "cannot write the results: cannot write x: disk full"
        );
        // What the CLI prints through anyhow is the same text.
        assert_eq!(
            format!("{:#}", anyhow::Error::new(outer)),
            "cannot write the results: cannot write x: disk full"
        );
    }
}
