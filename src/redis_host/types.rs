//! Plain data about a Redis host, shared with the engine, the reports and the TUI.

use serde::Serialize;

use super::error::HostError;
use crate::secret::Secret;

/// Where clients connect. The password is a [`Secret`].
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub password: Option<Secret>,
    pub tls: bool,
    /// With `tls`: the CA to trust instead of the Mozilla roots (`redis.tls_ca_file`), read
    /// once when the endpoint is made; `None` trusts the Mozilla roots.
    #[serde(skip)]
    pub tls_ca: Option<TlsCa>,
    pub db: i64,
}

/// A CA certificate file (PEM) and its text. Public material: it is handed to the actions in
/// their parameters, since they run in other processes and containers where the path means
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsCa {
    pub path: std::path::PathBuf,
    pub pem: String,
}

impl Endpoint {
    /// `redis://host:port/db` without the password, for display.
    pub fn display_url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!("{scheme}://{host}:{}/{}", self.port, self.db)
    }

    /// Connection info for the redis crate (carries the password), plain TCP only: the
    /// commands that use the redis crate (the share experiment, the snapshot bench) run on
    /// the process and docker backends, and `rediss://` servers (external ones only) are
    /// reached through redwhisk's own client (`tls.rs`) and the actions. A TLS endpoint is
    /// refused here rather than failing later inside the crate.
    pub fn connection_info(&self) -> Result<redis::ConnectionInfo, HostError> {
        if self.tls {
            return Err(HostError::BadUrl(format!(
                "{}: this command reaches Redis through the redis crate without TLS; use a \
                 process or docker profile (TLS is supported for an external Redis by \
                 `redis up`/`status`/`down`, `run` and `sweep`)",
                self.display_url()
            )));
        }
        let mut redis_info = redis::RedisConnectionInfo::default().set_db(self.db);
        if let Some(p) = &self.password {
            redis_info = redis_info.set_password(p.expose());
        }
        redis::IntoConnectionInfo::into_connection_info(redis::ConnectionAddr::Tcp(
            self.host.clone(),
            self.port,
        ))
        .map(|ci| ci.set_redis_settings(redis_info))
        .map_err(|e| HostError::BadUrl(format!("{}: {e}", self.display_url())))
    }
}

#[cfg(test)]
mod connection_info_tests {
    use super::*;

    fn ep(tls: bool) -> Endpoint {
        Endpoint {
            host: "127.0.0.1".into(),
            port: 6390,
            password: Some(Secret::new("pw-not-shown".to_string())),
            tls,
            tls_ca: None,
            db: 2,
        }
    }

    #[test]
    fn plain_endpoints_convert_and_tls_ones_are_refused_with_a_reason() {
        let ci = ep(false).connection_info().unwrap();
        assert_eq!(ci.addr().to_string(), "127.0.0.1:6390");
        let err = ep(true).connection_info().unwrap_err().to_string();
        assert!(err.contains("rediss://127.0.0.1:6390/2"), "{err}");
        assert!(err.contains("without TLS"), "{err}");
        assert!(!err.contains("pw-not-shown"), "{err}");
    }
}
