//! The object store behind a profile's snapshots: object_store's S3 client configured from
//! the `[snapshots]` section and the AWS settings, with bounded timeouts and retries.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use super::config::SnapshotConfig;
use super::credentials::{self, AwsSettings};
use super::error::SnapshotError;
use super::manifest::{MANIFEST, SnapshotId};

/// The region when none is configured anywhere (what the AWS CLI assumes for S3).
pub const DEFAULT_REGION: &str = "us-east-1";
/// Connecting to the store: an unreachable store fails fast.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// One request (one part of a multipart upload at most): a frozen store fails in bounded time.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A profile's snapshots in one store: `<prefix>/<profile>/<id>/…`.
#[derive(Clone)]
pub struct SnapshotStore {
    pub store: Arc<dyn ObjectStore>,
    /// `s3://bucket/prefix/profile`, for messages.
    pub display: String,
    /// Where the endpoint came from, for messages (never a key).
    pub endpoint: String,
    root: ObjPath,
}

impl std::fmt::Debug for SnapshotStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotStore")
            .field("at", &self.display)
            .field("endpoint", &self.endpoint)
            .finish()
    }
}

impl SnapshotStore {
    /// Configure from the profile's section and the process's AWS settings.
    pub fn open(cfg: &SnapshotConfig, profile: &str) -> Result<Self, SnapshotError> {
        let aws = credentials::from_process().map_err(SnapshotError::Credentials)?;
        Self::open_with(cfg, profile, &aws)
    }

    /// Configure with explicit AWS settings (tests, and `open`).
    pub fn open_with(
        cfg: &SnapshotConfig,
        profile: &str,
        aws: &AwsSettings,
    ) -> Result<Self, SnapshotError> {
        let endpoint = cfg.endpoint.clone().or_else(|| aws.endpoint.clone());
        if let Some(e) = &endpoint
            && e.starts_with("http://")
            && !cfg.allow_http
        {
            return Err(SnapshotError::Config(format!(
                "the S3 endpoint {e} (from the AWS settings) is plain http: use https, or set `allow_http = true` in [snapshots] (local test servers only)"
            )));
        }
        let region = cfg
            .region
            .clone()
            .or_else(|| aws.region.clone())
            .unwrap_or_else(|| DEFAULT_REGION.into());
        let retry = RetryConfig {
            backoff: BackoffConfig {
                init_backoff: Duration::from_millis(100),
                max_backoff: Duration::from_secs(2),
                base: 2.0,
            },
            max_retries: 3,
            retry_timeout: Duration::from_secs(20),
        };
        let client = ClientOptions::new()
            .with_connect_timeout(CONNECT_TIMEOUT)
            .with_timeout(REQUEST_TIMEOUT)
            .with_allow_http(cfg.allow_http);
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(&region)
            .with_access_key_id(aws.access_key_id.expose())
            .with_secret_access_key(aws.secret_access_key.expose())
            .with_allow_http(cfg.allow_http)
            .with_retry(retry)
            .with_client_options(client);
        if let Some(t) = &aws.session_token {
            b = b.with_token(t.expose());
        }
        if let Some(e) = &endpoint {
            // S3-compatible servers are addressed by path (`endpoint/bucket/key`).
            b = b.with_endpoint(e).with_virtual_hosted_style_request(false);
        }
        // The builder's Debug would show the keys: never format `b`, and keep only the
        // message of a build error.
        let store = b
            .build()
            .map_err(|e| SnapshotError::Config(format!("cannot configure the S3 client: {e}")))?;
        let mut root = cfg.prefix.clone();
        if !root.is_empty() {
            root.push('/');
        }
        root.push_str(profile);
        let display = format!("s3://{}/{root}", cfg.bucket);
        Ok(Self {
            store: Arc::new(store),
            display,
            endpoint: endpoint.unwrap_or_else(|| format!("AWS S3 ({region})")),
            root: ObjPath::from(root),
        })
    }

    /// `<prefix>/<profile>`.
    pub fn root(&self) -> &ObjPath {
        &self.root
    }

    /// `<prefix>/<profile>/<id>`.
    pub fn dir(&self, id: &SnapshotId) -> ObjPath {
        self.root.child(id.as_str())
    }

    /// `<prefix>/<profile>/<id>/<relative path>`.
    pub fn object(&self, id: &SnapshotId, rel: &str) -> ObjPath {
        let mut p = self.dir(id);
        for seg in rel.split('/') {
            p = p.child(seg);
        }
        p
    }

    /// `<prefix>/<profile>/<id>/manifest.json`.
    pub fn manifest(&self, id: &SnapshotId) -> ObjPath {
        self.dir(id).child(MANIFEST)
    }

    /// `s3://bucket/…` of an object, for messages.
    pub fn url_of(&self, p: &ObjPath) -> String {
        let bucket = self
            .display
            .trim_start_matches("s3://")
            .split('/')
            .next()
            .unwrap_or("");
        format!("s3://{bucket}/{p}")
    }
}
