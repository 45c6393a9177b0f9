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
    pub persistence: Option<PersistenceChoice>,
    pub platform: Option<PlatformChoice>,
}

/// A Redis persistence mode as a choice: the data-sharing matrix's rows and the workload
/// editor's values (`redis.persistence` and, for AOF, `redis.appendfsync`). The profile
/// setting it stands for is `Persistence::from` (in `profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PersistenceChoice {
    None,
    Rdb,
    AofEverysec,
    AofAlways,
}

impl PersistenceChoice {
    pub const ALL: [PersistenceChoice; 4] = [
        PersistenceChoice::None,
        PersistenceChoice::Rdb,
        PersistenceChoice::AofEverysec,
        PersistenceChoice::AofAlways,
    ];

    /// As the profile's persistence is labelled everywhere (`aof-everysec`).
    pub fn label(self) -> &'static str {
        match self {
            PersistenceChoice::None => "none",
            PersistenceChoice::Rdb => "rdb",
            PersistenceChoice::AofEverysec => "aof-everysec",
            PersistenceChoice::AofAlways => "aof-always",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.label() == label)
    }
}

/// Where the actions run, as the workload editor offers it: the embedded platform with a
/// process per activation or warm processes, or the remote platform the profile's file names
/// (which only the file can configure).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlatformChoice {
    Local,
    LocalWarm,
    OpenWhisk,
    Lambda,
}

impl PlatformChoice {
    pub fn as_str(self) -> &'static str {
        match self {
            PlatformChoice::Local => "local",
            PlatformChoice::LocalWarm => "local-warm",
            PlatformChoice::OpenWhisk => "openwhisk",
            PlatformChoice::Lambda => "lambda",
        }
    }

    pub fn from_label(label: &str) -> Option<Self> {
        [
            PlatformChoice::Local,
            PlatformChoice::LocalWarm,
            PlatformChoice::OpenWhisk,
            PlatformChoice::Lambda,
        ]
        .into_iter()
        .find(|c| c.as_str() == label)
    }

    /// The embedded platform (which needs nothing from the file).
    pub fn is_local(self) -> bool {
        matches!(self, PlatformChoice::Local | PlatformChoice::LocalWarm)
    }

    /// What the editor cycles through for a profile whose file says `file`: that, then the
    /// embedded platform's two ways.
    pub fn choices(file: PlatformChoice) -> Vec<PlatformChoice> {
        let mut v = vec![file];
        for c in [PlatformChoice::Local, PlatformChoice::LocalWarm] {
            if c != file {
                v.push(c);
            }
        }
        v
    }
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Sequential => "sequential",
            Mode::Pipelined => "pipelined",
        }
    }
}
