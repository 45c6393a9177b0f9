//! Why a profile could not be used, and how durations are written in validated profiles.

/// Why a profile could not be used. `Display` is the whole message shown to the user.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    #[error("{file}: cannot read profile: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:{line}: {message}")]
    Syntax {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{file}: {field}: {message}")]
    Invalid {
        file: String,
        field: String,
        message: String,
    },
    /// A command-line value out of range (the flag is the culprit, not the profile).
    #[error("{flag}: {message}")]
    Flag { flag: String, message: String },
    /// Two profile files give the same name.
    #[error(
        "two profiles are named `{name}`: {first} and {second}. Rename one (its `name` field or its file name): they would share one data directory and container"
    )]
    DuplicateName {
        name: String,
        first: String,
        second: String,
    },
    #[error(
        "no profile named `{name}`: looked in {searched}. Run `redwhisk profiles` to list the profiles found, or pass a path to a .toml file"
    )]
    NotFound { name: String, searched: String },
}

/// Durations as whole milliseconds.
pub(crate) mod millis {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }
}
