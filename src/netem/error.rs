//! Why the shaping proxy could not start or stop.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum NetemError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the shaping proxy: {0}")]
    Spawn(String),
    #[error("the shaping proxy exited at start ({status}): {log}")]
    Exited { status: String, log: String },
    #[error("the shaping proxy (pid {pid}) did not listen within 10 s; it was killed")]
    NotListening { pid: u32 },
    #[error("the shaping proxy (pid {pid}) did not exit within 10 s of SIGTERM and SIGKILL")]
    WontStop { pid: u32 },
}

impl NetemError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NetemError::Io {
            path: path.into(),
            source,
        }
    }
}
