//! The `[snapshots]` profile section: raw as written, then validated into [`SnapshotConfig`].
//!
//! Credentials are deliberately not fields here: they come from the AWS conventions
//! (environment, `~/.aws/credentials`, `~/.aws/config`), see [`super::credentials`].

use serde::Deserialize;

use super::error::ProfileError;
use super::types::Persistence;
pub use super::types::{RestorePolicy, SnapshotConfig};
use crate::model::SnapshotId;

/// The section exactly as written; unknown fields are rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSnapshots {
    pub url: Option<String>,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub allow_http: Option<bool>,
    pub path_style: Option<bool>,
    pub keep: Option<i64>,
    pub on_stop: Option<bool>,
    pub restore: Option<String>,
}

/// The largest `keep` accepted.
pub const MAX_KEEP: i64 = 1000;
/// The default `keep`.
pub const DEFAULT_KEEP: i64 = 5;

fn invalid(file: &str, field: &str, message: impl Into<String>) -> ProfileError {
    ProfileError::Invalid {
        file: file.to_string(),
        field: format!("snapshots.{field}"),
        message: message.into(),
    }
}

/// S3's bucket naming rules (the subset that matters for a clear error).
fn valid_bucket(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && b.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && b.chars().last().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// Why an `s3://` URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum S3UrlError {
    #[error("\"{0}\" is not an s3:// URL; write `url = \"s3://bucket/prefix\"`")]
    NotS3(String),
    #[error(
        "bucket \"{0}\" is not a valid S3 bucket name (3-63 characters: lowercase letters, digits, '-' and '.')"
    )]
    Bucket(String),
    #[error(
        "prefix \"{0}\" is not valid; use path segments like \"team/redis\" (no empty segments, no '..')"
    )]
    Prefix(String),
}

/// Split `s3://bucket/prefix` into bucket and prefix.
pub fn parse_url(url: &str) -> Result<(String, String), S3UrlError> {
    let rest = url
        .strip_prefix("s3://")
        .ok_or_else(|| S3UrlError::NotS3(url.to_string()))?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if !valid_bucket(bucket) {
        return Err(S3UrlError::Bucket(bucket.to_string()));
    }
    let prefix = prefix.trim_matches('/');
    if prefix
        .split('/')
        .any(|seg| seg.is_empty() && !prefix.is_empty())
        || prefix.contains("..")
        || prefix.chars().any(|c| c.is_control() || c == '\\')
    {
        return Err(S3UrlError::Prefix(prefix.to_string()));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

/// Check an endpoint URL: http(s), and http only with `allow_http`.
fn check_endpoint(file: &str, e: &str, allow_http: bool) -> Result<String, ProfileError> {
    let e = e.trim_end_matches('/');
    if let Some(rest) = e.strip_prefix("http://") {
        if !allow_http {
            return Err(invalid(
                file,
                "endpoint",
                format!(
                    "\"{e}\" is plain http: use https, or set `allow_http = true` (for a local test server only: keys and data would cross the network unencrypted)"
                ),
            ));
        }
        if rest.is_empty() {
            return Err(invalid(file, "endpoint", "the endpoint has no host"));
        }
    } else if let Some(rest) = e.strip_prefix("https://") {
        if rest.is_empty() {
            return Err(invalid(file, "endpoint", "the endpoint has no host"));
        }
    } else {
        return Err(invalid(
            file,
            "endpoint",
            format!("\"{e}\" is not valid; use \"https://host[:port]\""),
        ));
    }
    Ok(e.to_string())
}

/// Validate the section. `persistence` and `external` are the profile's Redis settings:
/// there is nothing to snapshot without persistence, and an external Redis is not ours.
pub fn validate(
    raw: RawSnapshots,
    file: &str,
    persistence: &Persistence,
    external: bool,
) -> Result<SnapshotConfig, ProfileError> {
    let url = raw.url.ok_or_else(|| {
        invalid(
            file,
            "url",
            "the [snapshots] section needs `url = \"s3://bucket/prefix\"`",
        )
    })?;
    let (bucket, prefix) = parse_url(&url).map_err(|m| invalid(file, "url", m.to_string()))?;
    let allow_http = raw.allow_http.unwrap_or(false);
    let endpoint = raw
        .endpoint
        .map(|e| check_endpoint(file, &e, allow_http))
        .transpose()?;
    let region = raw.region.filter(|r| !r.trim().is_empty());
    let keep = raw.keep.unwrap_or(DEFAULT_KEEP);
    if !(1..=MAX_KEEP).contains(&keep) {
        return Err(invalid(
            file,
            "keep",
            format!("{keep} is out of range; use a value from 1 to {MAX_KEEP}"),
        ));
    }
    let restore = match raw.restore.as_deref().unwrap_or("latest") {
        "latest" => RestorePolicy::Latest,
        "none" => RestorePolicy::None,
        other => RestorePolicy::Id(SnapshotId::parse(other).map_err(|m| {
            invalid(
                file,
                "restore",
                format!("{m}; use \"latest\", \"none\" or an id from `redwhisk snapshots list`"),
            )
        })?),
    };
    if external {
        return Err(invalid(
            file,
            "url",
            "snapshots need a Redis redwhisk owns (backend \"process\" or \"docker\"); an external Redis's files are not ours to copy",
        ));
    }
    if matches!(persistence, Persistence::None) {
        return Err(invalid(
            file,
            "url",
            "redis.persistence = \"none\" writes nothing to snapshot: use \"rdb\" or \"aof\", or remove [snapshots]",
        ));
    }
    Ok(SnapshotConfig {
        url,
        bucket,
        prefix,
        endpoint,
        region,
        allow_http,
        path_style: raw.path_style,
        keep: u32::try_from(keep).unwrap_or(1),
        on_stop: raw.on_stop.unwrap_or(true),
        restore,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rdb() -> Persistence {
        Persistence::Rdb { save: vec![] }
    }

    fn v(toml_text: &str) -> Result<SnapshotConfig, String> {
        let raw: RawSnapshots = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        validate(raw, "p.toml", &rdb(), false).map_err(|e| e.to_string())
    }

    #[test]
    fn full_section() {
        let c = v(r#"url = "s3://my-bucket/team/redis/"
endpoint = "http://127.0.0.1:9000/"
allow_http = true
region = "eu-west-1"
path_style = false
keep = 3
on_stop = false
restore = "none""#)
        .unwrap();
        assert_eq!(c.bucket, "my-bucket");
        assert_eq!(c.prefix, "team/redis");
        assert_eq!(c.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(c.region.as_deref(), Some("eu-west-1"));
        assert_eq!(c.keep, 3);
        assert_eq!(c.path_style, Some(false));
        assert!(!c.on_stop);
        assert_eq!(c.restore, RestorePolicy::None);
    }

    #[test]
    fn defaults() {
        let c = v(r#"url = "s3://bkt""#).unwrap();
        assert_eq!(c.prefix, "");
        assert_eq!(c.keep, 5);
        assert!(c.on_stop);
        assert_eq!(c.restore, RestorePolicy::Latest);
        assert!(!c.allow_http);
        assert_eq!(c.path_style, None, "decided by the endpoint");
    }

    #[test]
    fn errors_say_what_to_fix() {
        assert_eq!(
            v(r#"url = "https://bkt/x""#).unwrap_err(),
            "p.toml: snapshots.url: \"https://bkt/x\" is not an s3:// URL; write `url = \"s3://bucket/prefix\"`"
        );
        assert!(
            v(r#"url = "s3://B_ad""#)
                .unwrap_err()
                .contains("not a valid S3 bucket name")
        );
        assert!(
            v(r#"url = "s3://bkt/a//b""#)
                .unwrap_err()
                .contains("no empty segments")
        );
        assert!(
            v("url = \"s3://bkt\"\nendpoint = \"http://127.0.0.1:1\"")
                .unwrap_err()
                .contains("set `allow_http = true`")
        );
        assert!(
            v("url = \"s3://bkt\"\nendpoint = \"ftp://x\"")
                .unwrap_err()
                .contains("https://host")
        );
        assert_eq!(
            v("url = \"s3://bkt\"\nkeep = 0").unwrap_err(),
            "p.toml: snapshots.keep: 0 is out of range; use a value from 1 to 1000"
        );
        assert!(
            v("url = \"s3://bkt\"\nrestore = \"yesterday\"")
                .unwrap_err()
                .contains("use \"latest\", \"none\" or an id")
        );
        assert!(
            v("endpoint = \"https://x\"")
                .unwrap_err()
                .contains("needs `url")
        );
        assert!(
            v("url = \"s3://bkt\"\naccess_key = \"x\"")
                .unwrap_err()
                .contains("unknown field")
        );
    }

    #[test]
    fn needs_persistence_and_an_owned_redis() {
        let raw = || RawSnapshots {
            url: Some("s3://bkt".into()),
            ..Default::default()
        };
        let e = validate(raw(), "p.toml", &Persistence::None, false).unwrap_err();
        assert!(e.to_string().contains("writes nothing to snapshot"), "{e}");
        let e = validate(raw(), "p.toml", &rdb(), true).unwrap_err();
        assert!(e.to_string().contains("external Redis"), "{e}");
    }

    #[test]
    fn restore_by_id() {
        let c = v("url = \"s3://bkt\"\nrestore = \"20261203T081500000Z-ab12\"").unwrap();
        assert_eq!(c.restore.label(), "20261203T081500000Z-ab12");
    }
}
