//! What can go wrong deploying to or invoking Lambda (or the local emulator). A function that
//! ran and failed is not an error here: it is an [`Activation`](crate::platform::Activation).

use std::time::Duration;

/// Why the Lambda platform could not deploy or invoke.
#[derive(Debug, thiserror::Error)]
pub enum LambdaError {
    #[error("lambda: {0}")]
    Config(String),
    #[error(transparent)]
    Package(#[from] crate::platform::openwhisk::PackageError),
    #[error("lambda: the local emulator needs {what}: {hint}")]
    Missing { what: String, hint: String },
    #[error("lambda: Docker: {what}")]
    Docker {
        what: String,
        #[source]
        source: bollard::errors::Error,
    },
    #[error(
        "lambda: the emulator container {container} did not listen on {addr} within {waited:?}; its last output: {tail}"
    )]
    NotReady {
        container: String,
        addr: String,
        waited: Duration,
        tail: String,
    },
    #[error("lambda: {step} of function `{function}` at {endpoint} failed: {detail}")]
    Api {
        step: &'static str,
        function: String,
        endpoint: String,
        detail: String,
    },
    #[error(
        "lambda: function `{function}` is not ready after {waited:?} (State {state}, LastUpdateStatus {update}{reason})"
    )]
    DeployDeadline {
        function: String,
        waited: Duration,
        state: String,
        update: String,
        reason: String,
    },
    #[error("lambda: function `{function}` failed to deploy: {reason}")]
    DeployFailed { function: String, reason: String },
    #[error("lambda: invoke of `{function}` at {endpoint} failed: {detail}")]
    Invoke {
        function: String,
        endpoint: String,
        detail: String,
    },
    #[error(
        "lambda: no answer from {endpoint} for `{function}` within {waited:?} (the function's timeout plus {slack:?})"
    )]
    NoAnswer {
        function: String,
        endpoint: String,
        waited: Duration,
        slack: Duration,
    },
    #[error(
        "lambda: `{function}` was still throttled (429 TooManyRequestsException) after {retries} retries over {waited:?}"
    )]
    Throttled {
        function: String,
        retries: u32,
        waited: Duration,
    },
    #[error(
        "lambda: the emulator container {container} wrote no REPORT line within {waited:?} after the invocation"
    )]
    NoReport { container: String, waited: Duration },
    #[error(
        "lambda: the emulator container {container} ended during the invocation ({detail}); a new container replaces it"
    )]
    ContainerGone { container: String, detail: String },
    #[error("lambda: no function named `{0}` is deployed on the local emulator; deploy it first")]
    UnknownFunction(String),
}

impl LambdaError {
    /// Concerns one invocation only: the run counts it and goes on.
    pub fn is_per_invocation(&self) -> bool {
        matches!(
            self,
            LambdaError::Invoke { .. }
                | LambdaError::NoAnswer { .. }
                | LambdaError::Throttled { .. }
                | LambdaError::NoReport { .. }
                | LambdaError::ContainerGone { .. }
        )
    }
}
