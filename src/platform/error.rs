//! Errors at the platform boundary. A failed action is not an error: it is an [`Activation`]
//! with `success = false`.

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("the {0} platform is not implemented yet")]
    NotImplemented(&'static str),
    /// Any failure talking to OpenWhisk (configuration, HTTP status, polling, packaging).
    #[error(transparent)]
    OpenWhisk(#[from] super::openwhisk::OpenWhiskError),
}
