//! How the bench action issues its commands.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Sequential,
    Pipelined,
}

/// The console's workload editor: values for the next runs of one profile, over its file
/// (`None` keeps the profile's own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WorkloadEdit {
    pub invocations: Option<u32>,
    pub concurrency: Option<u32>,
    pub records: Option<u32>,
    pub mode: Option<Mode>,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sequential => "sequential",
            Mode::Pipelined => "pipelined",
        }
    }
}
