//! Apache OpenWhisk as a platform: deploy the built-in actions with `PUT …/actions/{name}`,
//! invoke them blocking, and turn the activation records into [`Activation`]s.
//!
//! The REST contract followed here is shared/openwhisk-api.md. The client measures its own
//! latency (request sent → final answer, including any 202 polling) next to the platform's
//! `duration`, and counts 429 retries in [`Activation::throttled`].

mod client;
pub mod config;
mod error;
pub mod package;
mod preflight;
mod record;

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use reqwest::Url;

pub use config::ResolvedConfig;
pub use error::OpenWhiskError;
pub use package::{ActionCode, PackageError};
pub use record::parse_record;

use crate::event::EventSink;
use crate::platform::{Activation, BuiltinAction, PlatformError};
use crate::profile::{ActionKind, OpenWhiskConfig, PlatformConfig, Profile};

/// Backoff between retries after a 429 and between polls after a 202: doubling from
/// `initial` up to `max`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(2),
        }
    }
}

/// A client for one OpenWhisk namespace. Cheap to clone; calls may run concurrently.
#[derive(Debug, Clone)]
pub struct OpenWhiskPlatform {
    http: reqwest::Client,
    base: Url,
    cfg: ResolvedConfig,
    action_kind: ActionKind,
    nodejs_kind: String,
    memory_mb: u32,
    /// The action time limit, from `workload.timeout`.
    action_timeout: Duration,
    /// How long to retry 429s and poll a 202 before giving up.
    poll_deadline: Duration,
    backoff: Backoff,
    bin_dir: Option<PathBuf>,
    /// Fetch logs after a blocking answer (`platform.fetch_logs`).
    fetch_logs: bool,
}

/// OpenWhisk holds a blocking invoke for at most 60 s before answering 202, so a request
/// that has heard nothing after this long is lost.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(90);

impl OpenWhiskPlatform {
    /// Build from a profile whose platform is OpenWhisk, resolving the host and key from the
    /// profile, then `WHISK_*`, then `~/.wskprops` (see [`config`]).
    pub fn new(profile: &Profile) -> Result<Self, PlatformError> {
        let PlatformConfig::OpenWhisk(ow) = &profile.platform else {
            return Err(OpenWhiskError::Config(format!(
                "profile `{}` has platform kind `{}`, not `openwhisk`",
                profile.name,
                profile.platform.label()
            ))
            .into());
        };
        let resolved = config::resolve_from_process(ow)?;
        Ok(Self::from_resolved(ow, resolved, profile.workload.timeout)?)
    }

    /// Build from already resolved settings (tests, or callers with their own environment).
    pub fn from_resolved(
        ow: &OpenWhiskConfig,
        cfg: ResolvedConfig,
        action_timeout: Duration,
    ) -> Result<Self, OpenWhiskError> {
        let base = Url::parse(&cfg.apihost).map_err(|e| {
            OpenWhiskError::Config(format!(
                "API host `{}` is not a URL ({e}); write e.g. http://localhost:3233",
                cfg.apihost
            ))
        })?;
        let http = reqwest::Client::builder()
            .danger_accept_invalid_certs(cfg.insecure)
            .connect_timeout(Duration::from_secs(10))
            .timeout(REQUEST_TIMEOUT)
            .build()
            .map_err(OpenWhiskError::Client)?;
        Ok(Self {
            http,
            base,
            cfg,
            action_kind: ow.action_kind,
            nodejs_kind: ow.nodejs_kind.clone(),
            memory_mb: ow.memory_mb,
            action_timeout,
            poll_deadline: ow.poll_deadline,
            backoff: Backoff::default(),
            bin_dir: None,
            fetch_logs: ow.fetch_logs,
        })
    }

    /// Use a different retry/poll backoff (tests use short ones).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// Look for the static native binaries in `dir` first (see [`package::locate_binary`]).
    pub fn with_bin_dir(mut self, dir: Option<PathBuf>) -> Self {
        self.bin_dir = dir;
        self
    }

    pub fn label(&self) -> &'static str {
        "openwhisk"
    }

    /// The API host in use (never the key).
    pub fn apihost(&self) -> &str {
        &self.cfg.apihost
    }

    /// Deploy a built-in action under `name` in the profile's flavour (native zip or
    /// Node.js source), overwriting any earlier version.
    pub async fn deploy(
        &self,
        action: BuiltinAction,
        name: &str,
        events: &EventSink,
    ) -> Result<(), PlatformError> {
        let code = package::artifact(
            action,
            self.action_kind,
            &self.nodejs_kind,
            self.bin_dir.as_deref(),
        )
        .map_err(OpenWhiskError::from)?;
        self.put_action(name, &code, true).await?;
        events.info(format!(
            "deployed {} as `{name}` ({}) to {}",
            action.as_str(),
            describe(&code),
            self.cfg.apihost
        ));
        Ok(())
    }

    /// `PUT …/actions/{name}` with the given code and the profile's limits. Without
    /// `overwrite`, an existing action is a [`OpenWhiskError::Conflict`].
    pub async fn put_action(
        &self,
        name: &str,
        code: &ActionCode,
        overwrite: bool,
    ) -> Result<(), OpenWhiskError> {
        let exec = match code {
            ActionCode::NativeZip(zip) => serde_json::json!({
                "kind": "blackbox",
                "image": package::NATIVE_IMAGE,
                "code": base64::engine::general_purpose::STANDARD.encode(zip),
            }),
            ActionCode::NodeSource { kind, source } => serde_json::json!({
                "kind": kind,
                "code": source,
            }),
        };
        let body = serde_json::json!({
            "exec": exec,
            "limits": {
                "timeout": u64::try_from(self.action_timeout.as_millis()).unwrap_or(300_000),
                "memory": self.memory_mb,
            },
        });
        let mut url = self.action_url(name)?;
        url.query_pairs_mut()
            .append_pair("overwrite", if overwrite { "true" } else { "false" });
        self.send_put(url, name, &body).await
    }

    /// Invoke `name` and wait for its record. A failed action (502) is an `Ok` record with
    /// `success = false`; a 202 is polled until `poll_deadline`; 429s are retried with backoff.
    pub async fn invoke(
        &self,
        name: &str,
        params: serde_json::Value,
    ) -> Result<Activation, PlatformError> {
        Ok(self.invoke_inner(name, &params).await?)
    }

    /// Fetch one activation record; `None` while OpenWhisk answers 404 (not finished yet, or
    /// its record was not stored). A fetched record has no client latency (0) and
    /// `throttled = 0`: those belong to the invocation that produced it.
    pub async fn activation(&self, id: &str) -> Result<Option<Activation>, PlatformError> {
        match self.fetch_activation(id).await? {
            Some(body) => Ok(Some(
                parse_record(&body, 0.0, 0).map_err(|e| OpenWhiskError::Record(e.to_string()))?,
            )),
            None => Ok(None),
        }
    }

    /// `…/api/<version>/namespaces`, then `segments`.
    fn namespaces_url(&self, segments: &[&str]) -> Result<Url, OpenWhiskError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| {
                OpenWhiskError::Config(format!(
                    "API host `{}` cannot be a base URL",
                    self.cfg.apihost
                ))
            })?
            .pop_if_empty()
            .extend(["api", self.cfg.api_version.as_str(), "namespaces"])
            .extend(segments);
        Ok(url)
    }

    /// `…/namespaces/<namespace>/<segments…>`.
    fn url(&self, segments: &[&str]) -> Result<Url, OpenWhiskError> {
        let mut url = self.namespaces_url(&[&self.cfg.namespace])?;
        url.path_segments_mut()
            .map_err(|()| OpenWhiskError::Config("the API URL cannot take a path".into()))?
            .extend(segments);
        Ok(url)
    }

    /// `…/actions/[pkg/]name`: a `/` in the name separates the package.
    fn action_url(&self, name: &str) -> Result<Url, OpenWhiskError> {
        let mut segments = vec!["actions"];
        segments.extend(name.split('/'));
        self.url(&segments)
    }
}

fn describe(code: &ActionCode) -> String {
    match code {
        ActionCode::NativeZip(zip) => format!("native zip, {} bytes", zip.len()),
        ActionCode::NodeSource { kind, source } => format!("{kind}, {} bytes", source.len()),
    }
}
