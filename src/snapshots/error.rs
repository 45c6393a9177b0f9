//! Errors at the snapshot boundary. Each says which object or file, and what to do; none
//! carries a key (object_store's errors name paths and HTTP statuses, not credentials).

use std::path::PathBuf;

use super::credentials::CredentialsError;

/// Why a snapshot could not be made, found or restored.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// The AWS settings could not be resolved.
    #[error("snapshots: {0}")]
    Credentials(#[from] CredentialsError),
    /// The store could not be configured.
    #[error("snapshots: {0}")]
    Config(String),
    /// A request to the store failed (unreachable, refused, wrong credentials, …).
    #[error(
        "snapshots: {action} {url} failed: {detail}. Check that the store at {endpoint} is reachable and that the AWS credentials may {action} there"
    )]
    Store {
        action: &'static str,
        url: String,
        endpoint: String,
        /// The S3 error code and message, or the innermost network error.
        detail: String,
    },
    /// A local file could not be read or written.
    #[error("snapshots: {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No snapshot with this id has a manifest.
    #[error(
        "snapshots: no snapshot `{id}` in {at} (a snapshot without manifest.json is incomplete and does not count). `redwhisk snapshots list --profile {profile}` shows the ids"
    )]
    NotFound {
        id: String,
        at: String,
        profile: String,
    },
    /// A downloaded object does not match its manifest, or a check tool refused it.
    #[error(
        "snapshots: snapshot {id} is corrupt: {object}: {detail}. It was not loaded and the data directory was left as it was. Restore an older snapshot (`redwhisk snapshots list --profile {profile}`, then `--restore ID`), or set `restore = \"none\"` to start empty"
    )]
    Corrupt {
        id: String,
        object: String,
        detail: String,
        profile: String,
    },
    /// The manifest itself cannot be read.
    #[error(
        "snapshots: {object} is not a valid manifest ({detail}); the snapshot cannot be used. `redwhisk snapshots list --profile {profile}` shows the others (it lists this one as corrupt), `redwhisk snapshots prune --profile {profile}` deletes it"
    )]
    BadManifest {
        object: String,
        detail: String,
        profile: String,
    },
    /// The snapshot's persistence differs from the profile's and could not be converted:
    /// which snapshot, both persistences, and why.
    #[error("snapshots: {0}. Nothing was placed and Redis was not started")]
    Convert(String),
    /// Refused to overwrite local data.
    #[error("snapshots: {0}")]
    Refused(String),
}

/// One line from object_store's error: its chain repeats itself at every level, and S3's
/// XML error body is noise except for `<Code>` and `<Message>`.
pub fn summarize(e: &object_store::Error) -> String {
    let text = e.to_string();
    let tag = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let len = text.get(start..)?.find(&close)?;
        text.get(start..start + len).map(str::to_string)
    };
    if let Some(code) = tag("Code") {
        let status = text
            .split("status code: ")
            .nth(1)
            .and_then(|s| s.split(':').next())
            .map(|s| format!("HTTP {s}, "))
            .unwrap_or_default();
        let msg = tag("Message").map(|m| format!(": {m}")).unwrap_or_default();
        return format!("{status}{code}{msg}");
    }
    if let object_store::Error::NotFound { path, .. } = e {
        return format!("{path} not found");
    }
    let mut deepest: &dyn std::error::Error = e;
    while let Some(next) = deepest.source() {
        deepest = next;
    }
    let retries = text
        .split(", after ")
        .nth(1)
        .and_then(|s| s.split(" retries").next())
        .map(|n| format!(" (after {n} retries)"))
        .unwrap_or_default();
    let last = deepest.to_string();
    let last = last.rsplit(": ").next().unwrap_or(&last).to_string();
    let status = text
        .split("status code: ")
        .nth(1)
        .and_then(|s| s.split(':').next())
        .map(|s| format!("HTTP {s}: "))
        .unwrap_or_default();
    format!("{status}{last}{retries}")
}

impl SnapshotError {
    pub(crate) fn store(
        action: &'static str,
        url: String,
        endpoint: String,
        e: &object_store::Error,
    ) -> Self {
        // S3's messages end with a period ("Access Denied."); the sentence goes on.
        let detail = summarize(e);
        SnapshotError::Store {
            action,
            url,
            endpoint,
            detail: detail.trim_end_matches('.').to_string(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SnapshotError::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_message_ending_in_a_period_does_not_double_it() {
        let e = object_store::Error::Generic {
            store: "S3",
            source: "Client error with status 403 Forbidden: <Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>".into(),
        };
        let text =
            SnapshotError::store("upload", "s3://b/k".into(), "http://x".into(), &e).to_string();
        assert!(
            text.contains("AccessDenied: Access Denied. Check that"),
            "{text}"
        );
        assert!(!text.contains(".."), "{text}");
    }
}
