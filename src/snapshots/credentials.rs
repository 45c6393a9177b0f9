//! S3 credentials, region and endpoint from the standard AWS chain (`aws-config`), the way the
//! AWS CLI and SDKs find them:
//!
//! - credentials: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, else the
//!   profile named by `AWS_PROFILE` (or `default`) in `~/.aws/credentials` and `~/.aws/config`
//!   (static keys, `role_arn` + `source_profile`, `credential_process`, SSO), else web identity
//!   (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), else the ECS container role, else the EC2
//!   instance role (IMDS) — the IMDS step is left out when the S3 endpoint is on loopback (a
//!   local test server: no instance role applies, and a missing key must fail at once);
//! - region: `AWS_REGION` / `AWS_DEFAULT_REGION`, else the profile's `region`;
//! - endpoint: `AWS_ENDPOINT_URL_S3`, else `AWS_ENDPOINT_URL`, else the profile's `endpoint_url`.
//!
//! object_store takes the chain as a [`CredentialProvider`] ([`ChainCredentials`]), which
//! caches what the chain returned and asks again before it expires. Secrets never reach Debug,
//! Display or an error: the chain's credentials redact themselves, and the cached
//! [`AwsCredential`] is never formatted.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_config::meta::credentials::CredentialsProviderChain;
use aws_config::meta::region::RegionProviderChain;
use aws_config::provider_config::ProviderConfig;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use object_store::CredentialProvider;
use object_store::aws::{AwsCredential, AwsCredentialProvider};

/// How long the chain may take to find credentials (the IMDS and ECS steps wait on HTTP).
pub const LOAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Temporary credentials are renewed this long before they expire (or at half their life,
/// when they were issued for less than twice this).
pub const REFRESH_BEFORE: Duration = Duration::from_secs(300);

/// The AWS settings: where to sign requests from, and for which region and endpoint.
#[derive(Clone)]
pub struct AwsSettings {
    pub credentials: AwsCredentialProvider,
    /// Where the credentials came from, for messages (never the keys).
    pub source: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
}

impl std::fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsSettings")
            .field("source", &self.source)
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Why the AWS settings could not be resolved. No variant carries a key.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// `AWS_PROFILE` names a profile neither file has.
    #[error(
        "AWS_PROFILE={profile}: no [{profile}] section in the AWS credentials file and no [profile {profile}] in the config file (~/.aws/credentials, ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE); add it or unset AWS_PROFILE ({detail})"
    )]
    UnknownProfile { profile: String, detail: String },
    /// Only one half of the key pair is in the environment.
    #[error(
        "only one of AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY is set: set both, or neither to use ~/.aws/credentials"
    )]
    HalfPair,
    /// No step of the chain had credentials.
    #[error(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put aws_access_key_id and aws_secret_access_key (or role_arn, credential_process, sso_session) in the [{profile}] profile of ~/.aws/credentials or ~/.aws/config (AWS_PROFILE picks the profile), or run where a role is given (web identity, ECS, EC2 instance role){imds}"
    )]
    Missing { profile: String, imds: String },
    /// A step of the chain was configured and failed (an expired SSO session, a
    /// `credential_process` that exits non-zero, a web identity token STS refused, …).
    #[error("the AWS credentials could not be loaded: {0}")]
    Provider(String),
}

/// The host of `endpoint` is a loopback address (or `localhost`).
pub fn is_loopback(endpoint: &str) -> bool {
    let rest = endpoint.split("://").nth(1).unwrap_or(endpoint);
    let authority = rest.split('/').next().unwrap_or("");
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The standard credential chain up to, not including, the EC2 instance role (IMDS, at
/// 169.254.169.254): environment, profile files (`AWS_PROFILE`, SSO, `credential_process`,
/// `role_arn`), web identity, ECS. For endpoints on loopback, where asking the link-local
/// metadata address is both pointless and outside this machine.
pub fn chain_without_imds(conf: &ProviderConfig) -> CredentialsProviderChain {
    CredentialsProviderChain::first_try(
        "Environment",
        aws_config::environment::credentials::EnvironmentVariableCredentialsProvider::new(),
    )
    .or_else(
        "Profile",
        aws_config::profile::ProfileFileCredentialsProvider::builder()
            .configure(conf)
            .build(),
    )
    .or_else(
        "WebIdentityToken",
        aws_config::web_identity_token::WebIdentityTokenCredentialsProvider::builder()
            .configure(conf)
            .build(),
    )
    .or_else(
        "EcsContainer",
        aws_config::ecs::EcsCredentialsProvider::builder()
            .configure(conf)
            .build(),
    )
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.trim().is_empty())
}

/// Resolve region and endpoint, then build the credential chain and ask it once (so a missing
/// or broken configuration is named before any request). `profile_endpoint` is the
/// `[snapshots] endpoint` of the redwhisk profile, which wins over the AWS settings.
pub async fn from_chain(profile_endpoint: Option<&str>) -> Result<AwsSettings, CredentialsError> {
    let half = env("AWS_ACCESS_KEY_ID").is_some() != env("AWS_SECRET_ACCESS_KEY").is_some();
    if half {
        return Err(CredentialsError::HalfPair);
    }
    // The HTTP client of the chain's HTTP steps (STS, SSO, ECS, IMDS): rustls on ring.
    // An AWS_PROFILE that names no profile is a mistake to name, not a reason to go on down
    // the chain (to the instance metadata service): the AWS CLI refuses it too.
    if let Some(name) = env("AWS_PROFILE") {
        use aws_types::os_shim_internal::{Env, Fs};
        #[allow(deprecated)]
        let files = aws_config::profile::profile_file::ProfileFiles::default();
        match aws_config::profile::load(&Fs::real(), &Env::real(), &files, None).await {
            Ok(set) if set.get_profile(&name).is_none() => {
                return Err(CredentialsError::UnknownProfile {
                    detail: format!("profiles there: {}", {
                        let mut names: Vec<&str> = set.profiles().collect();
                        names.sort_unstable();
                        if names.is_empty() {
                            "none".to_string()
                        } else {
                            names.join(", ")
                        }
                    }),
                    profile: name,
                });
            }
            Ok(_) => {}
            Err(e) => return Err(CredentialsError::Provider(describe(&e))),
        }
    }
    let client = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let conf = ProviderConfig::without_region().with_http_client(client.clone());
    let region_chain = RegionProviderChain::first_try(
        aws_config::environment::region::EnvironmentVariableRegionProvider::new(),
    )
    .or_else(
        aws_config::profile::region::ProfileFileRegionProvider::builder()
            .configure(&conf)
            .build(),
    );
    // Credentials are asked for below, from a chain built here; the loader only reads the
    // region and endpoint settings (no network).
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .http_client(client)
        .region(region_chain)
        .no_credentials()
        .load()
        .await;
    let region = sdk.region().map(|r| r.to_string());
    let endpoint = env("AWS_ENDPOINT_URL_S3").or_else(|| sdk.endpoint_url().map(str::to_string));
    let used = profile_endpoint.or(endpoint.as_deref());
    let imds = !used.is_some_and(is_loopback);
    let conf = conf.with_region(sdk.region().cloned());
    let mut chain = chain_without_imds(&conf);
    if imds {
        chain = chain.or_else(
            "Ec2InstanceMetadata",
            aws_config::imds::credentials::ImdsCredentialsProvider::builder()
                .configure(&conf)
                .build(),
        );
    }
    let provider = ChainCredentials::new(SharedCredentialsProvider::new(chain));
    let source = provider.first_load(imds).await?;
    Ok(AwsSettings {
        credentials: Arc::new(provider),
        source,
        region,
        endpoint,
    })
}

/// Fixed keys (tests and the snapshot bench, which make their own): read through `env`
/// (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`).
pub fn static_keys(env: &dyn Fn(&str) -> Option<String>) -> Result<AwsSettings, CredentialsError> {
    let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let (Some(key_id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
    else {
        return Err(CredentialsError::HalfPair);
    };
    let keys = AwsCredential {
        key_id,
        secret_key: secret,
        token: var("AWS_SESSION_TOKEN"),
    };
    Ok(AwsSettings {
        credentials: Arc::new(object_store::StaticCredentialProvider::new(keys)),
        source: "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY".into(),
        region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
        endpoint: var("AWS_ENDPOINT_URL"),
    })
}

/// What the chain gave last, and when to ask again.
struct Cached {
    credential: Arc<AwsCredential>,
    refresh_at: Option<SystemTime>,
}

/// aws-config's credential chain as object_store's [`CredentialProvider`]: the last
/// credentials are reused until [`REFRESH_BEFORE`] their expiry, then the chain is asked again
/// (an instance role's, SSO's and web identity's credentials last hours at most).
pub struct ChainCredentials {
    chain: SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl std::fmt::Debug for ChainCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChainCredentials")
    }
}

impl ChainCredentials {
    pub fn new(chain: SharedCredentialsProvider) -> Self {
        Self {
            chain,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// Ask the chain, within [`LOAD_TIMEOUT`].
    async fn load(&self, imds: bool) -> Result<(Cached, String), CredentialsError> {
        use aws_credential_types::provider::error::CredentialsError as E;
        let asked = tokio::time::timeout(LOAD_TIMEOUT, self.chain.provide_credentials()).await;
        let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
        let missing = || CredentialsError::Missing {
            profile: profile.clone(),
            imds: if imds {
                String::new()
            } else {
                " (the EC2 instance role is not tried for an S3 endpoint on loopback)".into()
            },
        };
        let creds = match asked {
            Err(_) => {
                return Err(CredentialsError::Provider(format!(
                    "no step of the credential chain answered within {} s (an instance metadata service or container endpoint that does not answer?)",
                    LOAD_TIMEOUT.as_secs()
                )));
            }
            Ok(Ok(c)) => c,
            Ok(Err(E::CredentialsNotLoaded(_))) => return Err(missing()),
            Ok(Err(e)) => {
                let detail = describe(&e);
                if env("AWS_PROFILE").is_some()
                    && (detail.contains("was not defined") || detail.contains("no profiles"))
                {
                    return Err(CredentialsError::UnknownProfile { profile, detail });
                }
                return Err(CredentialsError::Provider(detail));
            }
        };
        let now = SystemTime::now();
        let refresh_at = creds.expiry().map(|exp| {
            let life = exp.duration_since(now).unwrap_or_default();
            let early = exp.checked_sub(REFRESH_BEFORE).unwrap_or(now);
            early.max(now + life / 2)
        });
        let source = if creds.expiry().is_some() {
            "temporary credentials"
        } else {
            "long-term keys"
        }
        .to_string();
        let credential = Arc::new(AwsCredential {
            key_id: creds.access_key_id().to_string(),
            secret_key: creds.secret_access_key().to_string(),
            token: creds.session_token().map(str::to_string),
        });
        Ok((
            Cached {
                credential,
                refresh_at,
            },
            source,
        ))
    }

    /// The first load, at open: its failure is the message the user sees.
    async fn first_load(&self, imds: bool) -> Result<String, CredentialsError> {
        let (cached, source) = self.load(imds).await?;
        *self.cached.lock().await = Some(cached);
        Ok(format!("the AWS credential chain ({source})"))
    }
}

/// The error and its causes, in one line; aws-config's messages name files and settings, not
/// keys.
fn describe(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        next = s.source();
    }
    out
}

#[async_trait::async_trait]
impl CredentialProvider for ChainCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref()
            && c.refresh_at.is_none_or(|at| SystemTime::now() < at)
        {
            return Ok(c.credential.clone());
        }
        let (fresh, _) = self
            .load(true)
            .await
            .map_err(|e| object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            })?;
        let credential = fresh.credential.clone();
        *cached = Some(fresh);
        Ok(credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_endpoints_are_recognised() {
        for e in [
            "http://127.0.0.1:9000",
            "http://localhost:4566/",
            "http://[::1]:9000",
            "127.0.0.2:80",
        ] {
            assert!(is_loopback(e), "{e}");
        }
        for e in [
            "https://s3.eu-west-1.amazonaws.com",
            "http://10.0.0.1:9000",
            "http://localhost.example:9000",
        ] {
            assert!(!is_loopback(e), "{e}");
        }
    }

    #[tokio::test]
    async fn static_keys_are_given_and_never_shown() {
        let s = static_keys(&|k| match k {
            "AWS_ACCESS_KEY_ID" => Some("AKIDEXAMPLE".into()),
            "AWS_SECRET_ACCESS_KEY" => Some("verysecret".into()),
            "AWS_REGION" => Some("eu-west-1".into()),
            _ => None,
        })
        .unwrap();
        let c = s.credentials.get_credential().await.unwrap();
        assert_eq!(
            (c.key_id.as_str(), c.secret_key.as_str()),
            ("AKIDEXAMPLE", "verysecret")
        );
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("verysecret") && !shown.contains("AKIDEXAMPLE"),
            "{shown}"
        );
        assert!(static_keys(&|_| None).is_err());
    }

    /// A chain step that counts its calls and issues keys valid for `life`.
    fn counting(life: Duration) -> (ChainCredentials, Arc<std::sync::atomic::AtomicU32>) {
        use std::sync::atomic::{AtomicU32, Ordering};
        let calls = Arc::new(AtomicU32::new(0));
        let c = calls.clone();
        let step = aws_credential_types::credential_fn::provide_credentials_fn(move || {
            let n = c.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                Ok(aws_credential_types::Credentials::new(
                    format!("AKID{n}"),
                    "s",
                    Some("t".into()),
                    Some(SystemTime::now() + life),
                    "test",
                ))
            }
        });
        (
            ChainCredentials::new(SharedCredentialsProvider::new(step)),
            calls,
        )
    }

    #[tokio::test]
    async fn credentials_are_reused_until_shortly_before_they_expire() {
        use std::sync::atomic::Ordering;
        let (long, calls) = counting(Duration::from_secs(3600));
        let a = long.get_credential().await.unwrap();
        let b = long.get_credential().await.unwrap();
        assert_eq!((a.key_id.as_str(), b.key_id.as_str()), ("AKID1", "AKID1"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Issued for 2 s: renewed at half its life, before it expires.
        let (short, calls) = counting(Duration::from_secs(2));
        assert_eq!(short.get_credential().await.unwrap().key_id, "AKID1");
        tokio::time::sleep(Duration::from_millis(1200)).await;
        let renewed = short.get_credential().await.unwrap();
        assert_eq!(renewed.key_id, "AKID2");
        assert_eq!(renewed.token.as_deref(), Some("t"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(format!("{short:?}"), "ChainCredentials");
    }
}
