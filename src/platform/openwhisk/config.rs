//! Where the OpenWhisk API host and key come from, resolved the way the `wsk` CLI does it
//! (openwhisk-cli `commands/util.go` ReadProps and `commands/property.go`).
//!
//! Precedence, highest first: the profile (`platform.apihost`, `platform.auth`, like a `wsk`
//! flag), then `WHISK_APIHOST` / `WHISK_AUTH` / `WHISK_APIVERSION`, then the properties file
//! (`$WSK_CONFIG_FILE`, else `~/.wskprops`), then the defaults (API version `v1`).
//!
//! The properties file is parsed exactly like `wsk`: everything after `#` is dropped, each line
//! is split on `=`, and a line that does not split into exactly two parts is skipped. So a
//! value that itself contains `=` is silently lost, as it is for `wsk`; put such a value in the
//! profile or the environment instead. `NAMESPACE` in the file is ignored, as `wsk` ignores it:
//! the namespace comes from the profile (default `_`, the caller's own).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::error::OpenWhiskError;
use crate::profile::OpenWhiskConfig;
use crate::secret::Secret;

/// The connection settings after every source has been applied.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    /// Scheme, host and port (and any path prefix), with no trailing `/`.
    pub apihost: String,
    /// `<uuid>:<key>`; sent as HTTP basic auth split at the first `:`.
    pub auth: Secret,
    pub api_version: String,
    pub namespace: String,
    /// Skip TLS certificate verification (the profile's `insecure = true` only).
    pub insecure: bool,
    /// Which properties file was consulted (for messages), whether or not it existed.
    pub props_file: Option<PathBuf>,
}

/// Read a `.wskprops`-style file. A missing file is an empty map, as for `wsk`.
pub fn read_props(path: &Path) -> Result<HashMap<String, String>, OpenWhiskError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse_props(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashMap::new()),
        Err(source) => Err(OpenWhiskError::PropsFile {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Parse `.wskprops` text exactly as `wsk` does (see the module documentation).
pub fn parse_props(text: &str) -> HashMap<String, String> {
    let mut props = HashMap::new();
    for line in text.lines() {
        let line = match line.find('#') {
            Some(i) => &line[..i],
            None => line,
        };
        let parts: Vec<&str> = line.trim().split('=').collect();
        if let [key, value] = parts.as_slice() {
            props.insert(key.trim().to_string(), value.trim().to_string());
        }
    }
    props
}

/// Where the properties file is: `WSK_CONFIG_FILE`, else `~/.wskprops`.
pub fn props_path(env: &dyn Fn(&str) -> Option<String>, home: Option<&Path>) -> Option<PathBuf> {
    match env("WSK_CONFIG_FILE").filter(|p| !p.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => home.map(|h| h.join(".wskprops")),
    }
}

/// Normalise an API host like the OpenWhisk clients: `https://` when no scheme is given,
/// trailing `/` removed.
pub fn normalize_apihost(host: &str) -> String {
    let host = host.trim();
    let with_scheme = if host.starts_with("http") {
        host.to_string()
    } else {
        format!("https://{host}")
    };
    with_scheme.trim_end_matches('/').to_string()
}

/// Resolve the settings. `env` reads an environment variable (injected so tests need not touch
/// the process environment); `home` is the user's home directory.
pub fn resolve(
    cfg: &OpenWhiskConfig,
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<ResolvedConfig, OpenWhiskError> {
    let props_file = props_path(env, home);
    let props = match &props_file {
        Some(p) => read_props(p)?,
        None => HashMap::new(),
    };
    let pick = |profile: Option<String>, var: &str, key: &str| {
        profile
            .filter(|v| !v.is_empty())
            .or_else(|| env(var).filter(|v| !v.is_empty()))
            .or_else(|| props.get(key).filter(|v| !v.is_empty()).cloned())
    };
    let where_file = props_file
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "~/.wskprops (no home directory found)".into());
    let apihost = pick(cfg.apihost.clone(), "WHISK_APIHOST", "APIHOST").ok_or_else(|| {
        OpenWhiskError::Config(format!(
            "no OpenWhisk API host: set `apihost` under [platform] in the profile, WHISK_APIHOST, \
             or APIHOST in {where_file} (e.g. http://localhost:3233 for OpenWhisk standalone)"
        ))
    })?;
    let auth = pick(
        cfg.auth.as_ref().map(|s| s.expose().to_string()),
        "WHISK_AUTH",
        "AUTH",
    )
    .map(Secret::new)
    .ok_or_else(|| {
        OpenWhiskError::Config(format!(
            "no OpenWhisk key: set `auth` under [platform] in the profile, WHISK_AUTH, or AUTH in \
             {where_file} (`wsk property get --auth` shows it; a line whose value contains '=' \
             is skipped, as wsk skips it)"
        ))
    })?;
    if !auth.expose().contains(':') {
        return Err(OpenWhiskError::Config(
            "the OpenWhisk key is not of the form <uuid>:<key>; copy it whole from \
             `wsk property get --auth`"
                .into(),
        ));
    }
    let api_version = pick(None, "WHISK_APIVERSION", "APIVERSION").unwrap_or_else(|| "v1".into());
    Ok(ResolvedConfig {
        apihost: normalize_apihost(&apihost),
        auth,
        api_version,
        namespace: cfg.namespace.clone(),
        insecure: cfg.insecure,
        props_file,
    })
}

/// Resolve with the real process environment and home directory.
pub fn resolve_from_process(cfg: &OpenWhiskConfig) -> Result<ResolvedConfig, OpenWhiskError> {
    let env = |k: &str| std::env::var(k).ok();
    resolve(cfg, &env, dirs::home_dir().as_deref())
}

/// Split `<uuid>:<key>` at the first `:` for HTTP basic auth.
pub fn split_auth(auth: &Secret) -> (&str, &str) {
    auth.expose().split_once(':').unwrap_or((auth.expose(), ""))
}
