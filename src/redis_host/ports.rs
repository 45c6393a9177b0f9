//! Ports: check the profile's port is free before starting, or pick a free one for port 0.

use std::net::{IpAddr, SocketAddr};

use super::error::HostError;

/// The port to start on: `port` if it is free on `bind`, a free one if `port` is 0.
///
/// Checking first turns Redis' terse "Address already in use" (found only in its log) into an
/// error that names the port and the profile field to change.
pub(crate) async fn choose(bind: IpAddr, port: u16, profile: &str) -> Result<u16, HostError> {
    match tokio::net::TcpListener::bind(SocketAddr::new(bind, port)).await {
        Ok(l) => l
            .local_addr()
            .map(|a| a.port())
            .map_err(|e| HostError::io("<socket>", e)),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(HostError::PortInUse {
            port,
            bind: bind.to_string(),
            profile: profile.to_string(),
        }),
        Err(e) => Err(HostError::io(format!("<bind {bind}:{port}>"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn names_the_port_in_use() {
        let held = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = held.local_addr().unwrap().port();
        let lo: IpAddr = "127.0.0.1".parse().unwrap();
        let err = choose(lo, port, "p1").await.unwrap_err().to_string();
        assert!(
            err.contains(&format!("port {port} on 127.0.0.1 is already in use")),
            "{err}"
        );
        assert!(err.contains("redis.port"), "{err}");
        assert_ne!(choose(lo, 0, "p1").await.unwrap(), 0);
    }
}
