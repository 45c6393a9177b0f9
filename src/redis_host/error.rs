//! Errors at the Redis-host boundary. Each message says what to fix.

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("the {0} backend is not implemented yet")]
    NotImplemented(&'static str),
}
