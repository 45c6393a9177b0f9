//! Checks before anything starts, for an OpenWhisk profile: the platform answers with the
//! given key, and the Redis address the actions will be told (`redis_host_for_actions`, else
//! `[redis] bind`) resolves and is an address of this host, where redwhisk starts Redis. A
//! wrong profile then costs a second, not a Redis start and an invocation time limit.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use reqwest::StatusCode;

use super::{OpenWhiskError, OpenWhiskPlatform};
use crate::profile::{Backend, PlatformConfig, Profile};

/// Name lookups get this long.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

impl OpenWhiskPlatform {
    /// `GET …/namespaces` with the key: the controller is reachable and accepts the key.
    pub async fn check_access(&self) -> Result<(), OpenWhiskError> {
        let url = self.namespaces_url(&[])?;
        let resp = self
            .request(reqwest::Method::GET, url)
            .send()
            .await
            .map_err(|e| self.transport("checking access (GET /namespaces)".into(), e))?;
        let status = resp.status();
        if status == StatusCode::OK {
            return Ok(());
        }
        let text = self.body_text(resp).await;
        Err(self.status_error(status, text, "namespace list", ""))
    }

    /// Everything an OpenWhisk run needs that can be checked before Redis starts.
    pub async fn preflight(&self, profile: &Profile) -> Result<(), OpenWhiskError> {
        self.check_access().await?;
        let PlatformConfig::OpenWhisk(ow) = &profile.platform else {
            return Ok(());
        };
        let started_here = !matches!(profile.redis.backend, Backend::External { .. });
        if started_here && !is_local(profile.redis.bind) {
            return Err(OpenWhiskError::Preflight {
                setting: "redis.bind",
                message: format!(
                    "{} is not an address of this host, so Redis cannot listen there (172.17.0.1 exists only with a docker0 bridge): use an address from `ip -4 addr` that the action containers can reach (docs/openwhisk.md §3)",
                    profile.redis.bind
                ),
            });
        }
        let Some(host) = &ow.redis_host_for_actions else {
            return Ok(());
        };
        let addrs = resolve(host).await.map_err(|why| OpenWhiskError::Preflight {
            setting: "platform.redis_host_for_actions",
            message: format!(
                "`{host}` does not resolve on this host ({why}): give the IP address of this host that the action containers reach Redis at (docs/openwhisk.md §3)"
            ),
        })?;
        if started_here && !addrs.iter().any(|ip| is_local(*ip)) {
            let list: Vec<String> = addrs.iter().map(IpAddr::to_string).collect();
            return Err(OpenWhiskError::Preflight {
                setting: "platform.redis_host_for_actions",
                message: format!(
                    "`{host}` ({}) is not an address of this host, where redwhisk starts Redis (listening on redis.bind = {}): the actions would not reach it; use an address of this host that the action containers can reach (docs/openwhisk.md §3)",
                    list.join(", "),
                    profile.redis.bind
                ),
            });
        }
        Ok(())
    }
}

async fn resolve(host: &str) -> Result<Vec<IpAddr>, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((host, 0))).await {
        Err(_) => Err(format!(
            "no answer from the resolver in {} s",
            RESOLVE_TIMEOUT.as_secs()
        )),
        Ok(Err(e)) => Err(e.to_string()),
        Ok(Ok(addrs)) => {
            let v: Vec<IpAddr> = addrs.map(|a: SocketAddr| a.ip()).collect();
            if v.is_empty() {
                Err("no address".into())
            } else {
                Ok(v)
            }
        }
    }
}

/// An address of this host: one a socket can be bound to (the wildcard counts). Binding sends
/// nothing on the network.
fn is_local(ip: IpAddr) -> bool {
    ip.is_unspecified() || std::net::TcpListener::bind((ip, 0)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_local_and_a_documentation_address_is_not() {
        assert!(is_local("127.0.0.1".parse().unwrap()));
        assert!(is_local("0.0.0.0".parse().unwrap()));
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real host.
        assert!(!is_local("192.0.2.1".parse().unwrap()));
    }
}
