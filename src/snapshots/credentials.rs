//! S3 credentials, region and endpoint the way the AWS CLI and SDKs find them:
//! `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN` first, else the profile
//! named by `AWS_PROFILE` (or `default`) in `~/.aws/credentials` and `~/.aws/config`
//! (`AWS_SHARED_CREDENTIALS_FILE` / `AWS_CONFIG_FILE` move them).
//!
//! object_store's `AmazonS3Builder::from_env` reads only the environment, so the two INI
//! files are parsed here. Secrets are [`Secret`]s: never in Debug, Display or Serialize.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::secret::Secret;

/// Where the keys came from, for messages (never the keys themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Environment,
    File { path: PathBuf, profile: String },
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Environment => f.write_str("AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"),
            KeySource::File { path, profile } => {
                write!(f, "profile [{profile}] in {}", path.display())
            }
        }
    }
}

/// What was found. The access key id is kept secret too: it names the account.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub access_key_id: Secret,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub source: KeySource,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

/// Why the AWS settings could not be resolved. No variant carries a key.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// A credentials or config file exists but cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `AWS_PROFILE` names a section neither file has.
    #[error(
        "AWS_PROFILE={profile}: no [{profile}] section in {looked} (and no [{config_section}] in the config file); add it or unset AWS_PROFILE"
    )]
    UnknownProfile {
        profile: String,
        /// The files looked in, joined with " or ".
        looked: String,
        config_section: String,
    },
    /// Only one half of the key pair is in the environment.
    #[error(
        "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set: set both, or neither to use ~/.aws/credentials"
    )]
    HalfPair,
    /// No keys anywhere.
    #[error(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put aws_access_key_id and aws_secret_access_key in the [{profile}] section of {credentials_file} (AWS_PROFILE picks the section)"
    )]
    Missing {
        profile: String,
        credentials_file: String,
    },
}

/// An INI file: section name → key → value.
pub type Ini = HashMap<String, HashMap<String, String>>;

/// Sections of an AWS INI file: `name → key → value`. Indented lines (nested service
/// settings such as `s3 =\n  max_concurrent_requests = 20`) are skipped.
pub fn parse_ini(text: &str) -> Ini {
    let mut out: Ini = HashMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(name) = l.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let name = name.trim().to_string();
            out.entry(name.clone()).or_default();
            current = Some(name);
            continue;
        }
        if let (Some(sec), Some((k, v))) = (&current, l.split_once('=')) {
            out.entry(sec.clone())
                .or_default()
                .insert(k.trim().to_lowercase(), v.trim().to_string());
        }
    }
    out
}

fn read_ini(path: &Path) -> Result<Option<Ini>, CredentialsError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(parse_ini(&t))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CredentialsError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Resolve from `env` (a lookup such as `std::env::var`) and `home` (for `~/.aws`).
pub fn resolve(
    env: &dyn Fn(&str) -> Option<String>,
    home: Option<&Path>,
) -> Result<AwsSettings, CredentialsError> {
    let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let aws_dir = home.map(|h| h.join(".aws"));
    let cred_path = var("AWS_SHARED_CREDENTIALS_FILE")
        .map(PathBuf::from)
        .or_else(|| aws_dir.as_ref().map(|d| d.join("credentials")));
    let conf_path = var("AWS_CONFIG_FILE")
        .map(PathBuf::from)
        .or_else(|| aws_dir.as_ref().map(|d| d.join("config")));
    let explicit_profile = var("AWS_PROFILE");
    let profile = explicit_profile.clone().unwrap_or_else(|| "default".into());
    let creds = match &cred_path {
        Some(p) => read_ini(p)?,
        None => None,
    };
    let conf = match &conf_path {
        Some(p) => read_ini(p)?,
        None => None,
    };
    let cred_sec = creds.as_ref().and_then(|c| c.get(&profile));
    let conf_name = if profile == "default" {
        "default".to_string()
    } else {
        format!("profile {profile}")
    };
    let conf_sec = conf.as_ref().and_then(|c| c.get(&conf_name));
    if explicit_profile.is_some() && cred_sec.is_none() && conf_sec.is_none() {
        let looked: Vec<String> = [&cred_path, &conf_path]
            .into_iter()
            .flatten()
            .map(|p| p.display().to_string())
            .collect();
        return Err(CredentialsError::UnknownProfile {
            profile,
            looked: looked.join(" or "),
            config_section: conf_name,
        });
    }
    let from_files = |k: &str| {
        cred_sec
            .and_then(|s| s.get(k))
            .or_else(|| conf_sec.and_then(|s| s.get(k)))
            .filter(|v| !v.is_empty())
            .cloned()
    };
    let region = var("AWS_REGION")
        .or_else(|| var("AWS_DEFAULT_REGION"))
        .or_else(|| conf_sec.and_then(|s| s.get("region")).cloned());
    let endpoint = var("AWS_ENDPOINT_URL_S3")
        .or_else(|| var("AWS_ENDPOINT_URL"))
        .or_else(|| conf_sec.and_then(|s| s.get("endpoint_url")).cloned());
    let (id, key, token, source) = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(key)) => (id, key, var("AWS_SESSION_TOKEN"), KeySource::Environment),
        (Some(_), None) | (None, Some(_)) => {
            return Err(CredentialsError::HalfPair);
        }
        (None, None) => match (
            from_files("aws_access_key_id"),
            from_files("aws_secret_access_key"),
        ) {
            (Some(id), Some(key)) => {
                let path = if cred_sec.is_some_and(|s| s.contains_key("aws_access_key_id")) {
                    cred_path.clone()
                } else {
                    conf_path.clone()
                };
                (
                    id,
                    key,
                    from_files("aws_session_token"),
                    KeySource::File {
                        path: path.unwrap_or_default(),
                        profile: profile.clone(),
                    },
                )
            }
            _ => {
                return Err(CredentialsError::Missing {
                    profile,
                    credentials_file: cred_path
                        .as_ref()
                        .map(|p| p.display().to_string())
                        .unwrap_or_else(|| "~/.aws/credentials".into()),
                });
            }
        },
    };
    Ok(AwsSettings {
        access_key_id: Secret::new(id),
        secret_access_key: Secret::new(key),
        session_token: token.map(Secret::new),
        source,
        region,
        endpoint,
    })
}

/// [`resolve`] from the process environment and the user's home.
pub fn from_process() -> Result<AwsSettings, CredentialsError> {
    let home = dirs::home_dir();
    resolve(&|k| std::env::var(k).ok(), home.as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    fn home_with(creds: &str, config: &str) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join(".aws")).unwrap();
        std::fs::write(d.path().join(".aws/credentials"), creds).unwrap();
        std::fs::write(d.path().join(".aws/config"), config).unwrap();
        d
    }

    const CREDS: &str = "# comment\n[default]\naws_access_key_id = AKIDEFAULT\naws_secret_access_key = defaultsecret\n\n[ci]\naws_access_key_id=AKICI\naws_secret_access_key=cisecret\naws_session_token = citoken\n";
    const CONFIG: &str = "[default]\nregion = eu-west-1\n[profile ci]\nregion = us-west-2\nendpoint_url = http://127.0.0.1:9000\ns3 =\n  max_concurrent_requests = 20\n  region = nested-ignored\n[profile only-config]\naws_access_key_id = AKICONF\naws_secret_access_key = confsecret\n";

    #[test]
    fn environment_wins() {
        let home = home_with(CREDS, CONFIG);
        let s = resolve(
            &env_of(&[
                ("AWS_ACCESS_KEY_ID", "AKIENV"),
                ("AWS_SECRET_ACCESS_KEY", "envsecret"),
                ("AWS_SESSION_TOKEN", "envtoken"),
                ("AWS_REGION", "ap-south-1"),
                ("AWS_ENDPOINT_URL", "http://127.0.0.1:1234"),
            ]),
            Some(home.path()),
        )
        .unwrap();
        assert_eq!(s.access_key_id.expose(), "AKIENV");
        assert_eq!(s.secret_access_key.expose(), "envsecret");
        assert_eq!(s.session_token.unwrap().expose(), "envtoken");
        assert_eq!(s.source, KeySource::Environment);
        assert_eq!(s.region.as_deref(), Some("ap-south-1"));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:1234"));
    }

    #[test]
    fn default_profile_from_files() {
        let home = home_with(CREDS, CONFIG);
        let s = resolve(&env_of(&[]), Some(home.path())).unwrap();
        assert_eq!(s.access_key_id.expose(), "AKIDEFAULT");
        assert_eq!(s.secret_access_key.expose(), "defaultsecret");
        assert!(s.session_token.is_none());
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert!(matches!(s.source, KeySource::File { ref profile, .. } if profile == "default"));
    }

    #[test]
    fn named_profile_reads_both_files() {
        let home = home_with(CREDS, CONFIG);
        let s = resolve(&env_of(&[("AWS_PROFILE", "ci")]), Some(home.path())).unwrap();
        assert_eq!(s.access_key_id.expose(), "AKICI");
        assert_eq!(s.session_token.unwrap().expose(), "citoken");
        assert_eq!(s.region.as_deref(), Some("us-west-2"));
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        let s = resolve(
            &env_of(&[("AWS_PROFILE", "only-config")]),
            Some(home.path()),
        )
        .unwrap();
        assert_eq!(s.secret_access_key.expose(), "confsecret");
    }

    #[test]
    fn files_can_be_moved_by_env() {
        let home = home_with("", "");
        let other = tempfile::tempdir().unwrap();
        let c = other.path().join("creds");
        std::fs::write(&c, CREDS).unwrap();
        let s = resolve(
            &env_of(&[("AWS_SHARED_CREDENTIALS_FILE", c.to_str().unwrap())]),
            Some(home.path()),
        )
        .unwrap();
        assert_eq!(s.access_key_id.expose(), "AKIDEFAULT");
    }

    #[test]
    fn clear_errors_without_secrets() {
        let home = home_with(CREDS, CONFIG);
        let e = resolve(&env_of(&[("AWS_PROFILE", "nope")]), Some(home.path()))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("AWS_PROFILE=nope: no [nope] section in "),
            "{e}"
        );
        let e = resolve(&env_of(&[("AWS_ACCESS_KEY_ID", "x")]), Some(home.path()))
            .unwrap_err()
            .to_string();
        assert!(e.contains("only one of"), "{e}");
        let empty = home_with("", "");
        let e = resolve(&env_of(&[]), Some(empty.path()))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("no S3 credentials"), "{e}");
        // A credentials file that cannot be read names it and keeps the io error.
        let dir_as_file = tempfile::tempdir().unwrap();
        let e = resolve(
            &env_of(&[(
                "AWS_SHARED_CREDENTIALS_FILE",
                dir_as_file.path().to_str().unwrap(),
            )]),
            Some(empty.path()),
        )
        .unwrap_err();
        assert!(matches!(e, CredentialsError::Read { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("{}: ", dir_as_file.path().display())),
            "{e}"
        );
        assert!(std::error::Error::source(&e).is_some());
        let s = resolve(&env_of(&[]), Some(home.path())).unwrap();
        let shown = format!("{s:?} {}", s.source);
        assert!(
            !shown.contains("defaultsecret") && !shown.contains("AKIDEFAULT"),
            "{shown}"
        );
    }
}
