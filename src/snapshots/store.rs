//! The object store behind a profile's snapshots: object_store's S3 client configured from
//! the `[snapshots]` section and the AWS settings, with bounded timeouts and retries.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3Builder, Checksum};
use object_store::path::Path as ObjPath;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, RetryConfig};

use super::config::SnapshotConfig;
use super::credentials::{self, AwsSettings};
use super::error::SnapshotError;
use super::http::{Build, Connector, Regional, SeenRegion};
use super::manifest::{GEN_DIR, MANIFEST, SnapshotId, claim_name};

/// The region when none is configured anywhere (what the AWS CLI assumes for S3).
pub const DEFAULT_REGION: &str = "us-east-1";
pub use super::http::{CONNECT_TIMEOUT, STALL};
/// Retries of one request (connection errors, timeouts, 5xx), all within `RETRY_WITHIN`.
pub const MAX_RETRIES: usize = 3;
/// No retry starts after this long: with [`STALL`] a store that never answers fails a
/// command in about 20 s.
pub const RETRY_WITHIN: Duration = Duration::from_secs(15);

/// An endpoint on AWS itself (`*.amazonaws.com`, `*.amazonaws.com.cn`).
pub fn is_aws(endpoint: &str) -> bool {
    let host = endpoint
        .split("://")
        .nth(1)
        .unwrap_or(endpoint)
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn")
}

/// Path-style addressing (`endpoint/bucket/key`) or virtual-hosted (`bucket.endpoint/key`):
/// the profile's `path_style` when set; else virtual-hosted on AWS (which has deprecated
/// path style for new buckets), path style for any other endpoint (most S3-compatible
/// servers, and every local one, serve the bucket under the path).
pub fn path_style(explicit: Option<bool>, endpoint: Option<&str>) -> bool {
    explicit.unwrap_or_else(|| endpoint.is_some_and(|e| !is_aws(e)))
}

/// The endpoint object_store is given: virtual-hosted addressing with an explicit endpoint
/// needs the bucket in the host (`https://bucket.s3.eu-west-1.amazonaws.com`).
pub fn bucket_endpoint(endpoint: &str, bucket: &str, path_style: bool) -> String {
    let e = endpoint.trim_end_matches('/');
    if path_style {
        return e.to_string();
    }
    match e.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{bucket}.{rest}"),
        None => format!("{bucket}.{e}"),
    }
}

/// A profile's snapshots in one store: `<prefix>/<profile>/<id>/…`.
#[derive(Clone)]
pub struct SnapshotStore {
    pub store: Arc<dyn ObjectStore>,
    /// The same client, to ask which region it signs for (after a redirect: the bucket's).
    regional: Regional,
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
    pub async fn open(cfg: &SnapshotConfig, profile: &str) -> Result<Self, SnapshotError> {
        let aws = credentials::from_chain(cfg.endpoint.as_deref())
            .await
            .map_err(SnapshotError::Credentials)?;
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
            max_retries: MAX_RETRIES,
            retry_timeout: RETRY_WITHIN,
        };
        let path_style = path_style(cfg.path_style, endpoint.as_deref());
        let seen = SeenRegion::default();
        let connector = Connector {
            allow_http: cfg.allow_http,
            seen: seen.clone(),
        };
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_credentials(aws.credentials.clone())
            .with_allow_http(cfg.allow_http)
            .with_retry(retry)
            .with_checksum_algorithm(Checksum::SHA256)
            .with_virtual_hosted_style_request(!path_style)
            .with_client_options(ClientOptions::new().with_allow_http(cfg.allow_http))
            .with_http_connector(connector);
        if let Some(e) = &endpoint {
            b = b.with_endpoint(bucket_endpoint(e, &cfg.bucket, path_style));
        }
        // The builder's Debug would show the keys: never format `b`, and keep only the
        // message of a build error.
        let build: Build = Box::new(move |region: &str| {
            let store = b.clone().with_region(region).build()?;
            Ok(Arc::new(store) as Arc<dyn ObjectStore>)
        });
        let store = Regional::new(&region, seen, build)
            .map_err(|e| SnapshotError::Config(format!("cannot configure the S3 client: {e}")))?;
        let mut root = cfg.prefix.clone();
        if !root.is_empty() {
            root.push('/');
        }
        root.push_str(profile);
        let display = format!("s3://{}/{root}", cfg.bucket);
        Ok(Self {
            store: Arc::new(store.clone()),
            regional: store,
            display,
            endpoint: endpoint.unwrap_or_else(|| format!("AWS S3 ({region})")),
            root: ObjPath::from(root),
        })
    }

    /// The region requests are signed for (the bucket's, once S3 redirected to it).
    pub fn region(&self) -> String {
        self.regional.region()
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

    /// `<prefix>/<profile>/gen/<n>`: the claim of generation `n`.
    pub fn claim(&self, n: u64) -> ObjPath {
        self.root.child(GEN_DIR).child(claim_name(n))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosted_on_aws_path_style_elsewhere() {
        assert!(!path_style(None, None), "AWS by default: virtual-hosted");
        assert!(!path_style(
            None,
            Some("https://s3.eu-west-1.amazonaws.com")
        ));
        assert!(!path_style(
            None,
            Some("https://s3.cn-north-1.amazonaws.com.cn/")
        ));
        assert!(path_style(None, Some("http://127.0.0.1:9000")));
        assert!(path_style(None, Some("https://minio.example:9000")));
        assert!(path_style(
            Some(true),
            Some("https://s3.eu-west-1.amazonaws.com")
        ));
        assert!(!path_style(Some(false), Some("https://minio.example")));
        assert!(path_style(Some(true), None));
        assert!(!is_aws("https://amazonaws.com.evil.example"));
    }

    #[test]
    fn the_bucket_goes_into_the_host_for_virtual_hosted_addressing() {
        assert_eq!(
            bucket_endpoint("https://s3.eu-west-1.amazonaws.com/", "bkt", false),
            "https://bkt.s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(
            bucket_endpoint("http://127.0.0.1:9000/", "bkt", true),
            "http://127.0.0.1:9000"
        );
    }

    fn settings() -> AwsSettings {
        credentials::static_keys(&|k| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".into()),
            _ => None,
        })
        .unwrap()
    }

    fn cfg(endpoint: Option<&str>, path_style: Option<bool>) -> SnapshotConfig {
        let mut text =
            "url = \"s3://bkt/x\"\nallow_http = true\nregion = \"eu-west-1\"\n".to_string();
        if let Some(e) = endpoint {
            text.push_str(&format!("endpoint = \"{e}\"\n"));
        }
        if let Some(p) = path_style {
            text.push_str(&format!("path_style = {p}\n"));
        }
        let raw: crate::profile::snapshots::RawSnapshots = toml::from_str(&text).unwrap();
        crate::profile::snapshots::validate(
            raw,
            "p.toml",
            &crate::profile::Persistence::Rdb { save: vec![] },
            false,
        )
        .unwrap()
    }

    #[test]
    fn opens_for_aws_and_custom_endpoints() {
        let s = SnapshotStore::open_with(&cfg(None, None), "p", &settings()).unwrap();
        assert_eq!(s.region(), "eu-west-1");
        assert_eq!(s.endpoint, "AWS S3 (eu-west-1)");
        assert_eq!(s.claim(3).to_string(), "x/p/gen/000000000003");
        let s = SnapshotStore::open_with(
            &cfg(Some("http://127.0.0.1:9"), Some(false)),
            "p",
            &settings(),
        )
        .unwrap();
        assert_eq!(s.endpoint, "http://127.0.0.1:9");
        assert!(!format!("{s:?}").contains("secret"));
    }
}
