//! The `[gateway]` section: where the scale-to-zero gateway listens and its timers and caps.

use std::net::SocketAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ProfileError;

/// The section exactly as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGateway {
    pub listen: Option<String>,
    pub idle_ms: Option<i64>,
    pub wake_timeout_ms: Option<i64>,
    pub max_pending: Option<i64>,
    pub max_connections: Option<i64>,
    pub handshake_timeout_ms: Option<i64>,
    pub client_idle_timeout_ms: Option<i64>,
}

/// The validated section (see docs/gateway.md).
#[derive(Debug, Clone, Serialize)]
pub struct GatewayConfig {
    /// Where clients connect; port 0 picks a free port at start.
    pub listen: SocketAddr,
    /// With no open client connection for this long, Redis is saved and stopped.
    #[serde(with = "super::millis")]
    pub idle: Duration,
    /// A wake that takes longer fails every waiting client with a RESP error.
    #[serde(with = "super::millis")]
    pub wake_timeout: Duration,
    /// Clients that may wait for a wake; more get a RESP error at once.
    pub max_pending: u32,
    /// Open client connections while Redis is awake; more get a RESP error at once.
    pub max_connections: u32,
    /// A connection that sends no byte for this long after connecting is closed; until its
    /// first byte it neither wakes Redis nor keeps it awake.
    #[serde(with = "super::millis")]
    pub handshake_timeout: Duration,
    /// Like Redis's `timeout`: a client connection with no traffic either way for this long is
    /// closed, except one that subscribed (Pub/Sub) or waits for a reply (e.g. BLPOP). `None`
    /// (0 in the file): never.
    pub client_idle_timeout: Option<Duration>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            idle: Duration::from_secs(30),
            wake_timeout: Duration::from_secs(30),
            max_pending: 1024,
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(10),
            client_idle_timeout: None,
        }
    }
}

fn invalid(file: &str, field: &str, message: String) -> ProfileError {
    ProfileError::Invalid {
        file: file.to_string(),
        field: format!("gateway.{field}"),
        message,
    }
}

fn ranged(
    file: &str,
    field: &str,
    v: Option<i64>,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64, ProfileError> {
    let Some(v) = v else { return Ok(default) };
    match u64::try_from(v) {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(invalid(
            file,
            field,
            format!("{v} is out of range; use a value from {min} to {max}"),
        )),
    }
}

/// Validate the section; every error names the field and what to write instead.
pub(super) fn validate_gateway(g: RawGateway, file: &str) -> Result<GatewayConfig, ProfileError> {
    let d = GatewayConfig::default();
    let listen = match g.listen.as_deref() {
        None => d.listen,
        Some(text) => text.parse::<SocketAddr>().map_err(|_| {
            invalid(
                file,
                "listen",
                format!("\"{text}\" is not an address with a port; write e.g. \"127.0.0.1:6380\" (port 0 picks a free one)"),
            )
        })?,
    };
    let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
    let idle = ranged(file, "idle_ms", g.idle_ms, ms(d.idle), 10, 86_400_000)?;
    let wake = ranged(
        file,
        "wake_timeout_ms",
        g.wake_timeout_ms,
        ms(d.wake_timeout),
        100,
        600_000,
    )?;
    let pending = ranged(
        file,
        "max_pending",
        g.max_pending,
        d.max_pending.into(),
        1,
        100_000,
    )?;
    let conns = ranged(
        file,
        "max_connections",
        g.max_connections,
        d.max_connections.into(),
        1,
        100_000,
    )?;
    let handshake = ranged(
        file,
        "handshake_timeout_ms",
        g.handshake_timeout_ms,
        ms(d.handshake_timeout),
        10,
        86_400_000,
    )?;
    let client_idle = match g.client_idle_timeout_ms {
        Some(0) | None => 0,
        v => ranged(file, "client_idle_timeout_ms", v, 0, 10, 86_400_000).map_err(|_| {
            invalid(
                file,
                "client_idle_timeout_ms",
                format!(
                    "{} is out of range; use 0 (never) or a value from 10 to 86400000",
                    v.unwrap_or_default()
                ),
            )
        })?,
    };
    Ok(GatewayConfig {
        listen,
        idle: Duration::from_millis(idle),
        wake_timeout: Duration::from_millis(wake),
        max_pending: u32::try_from(pending).unwrap_or(u32::MAX),
        max_connections: u32::try_from(conns).unwrap_or(u32::MAX),
        handshake_timeout: Duration::from_millis(handshake),
        client_idle_timeout: (client_idle > 0).then(|| Duration::from_millis(client_idle)),
    })
}

#[cfg(test)]
mod tests {
    use crate::profile::Profile;

    fn parse(text: &str) -> Result<Profile, crate::profile::ProfileError> {
        Profile::parse(text, "t.toml", "t", None)
    }

    #[test]
    fn defaults_and_values() {
        let p = parse("").unwrap();
        assert_eq!(p.gateway.listen.to_string(), "127.0.0.1:0");
        assert_eq!(p.gateway.idle.as_millis(), 30_000);
        let p = parse("[gateway]\nlisten = \"[::1]:6380\"\nidle_ms = 250\nwake_timeout_ms = 5000\nmax_pending = 7\nmax_connections = 9\n").unwrap();
        assert_eq!(p.gateway.listen.to_string(), "[::1]:6380");
        assert_eq!(p.gateway.idle.as_millis(), 250);
        assert_eq!(p.gateway.wake_timeout.as_millis(), 5000);
        assert_eq!((p.gateway.max_pending, p.gateway.max_connections), (7, 9));
        assert_eq!(p.gateway.handshake_timeout.as_millis(), 10_000);
        assert_eq!(p.gateway.client_idle_timeout, None);
        let p = parse("[gateway]\nhandshake_timeout_ms = 200\nclient_idle_timeout_ms = 1500\n")
            .unwrap();
        assert_eq!(p.gateway.handshake_timeout.as_millis(), 200);
        assert_eq!(
            p.gateway.client_idle_timeout,
            Some(std::time::Duration::from_millis(1500))
        );
        let p = parse("[gateway]\nclient_idle_timeout_ms = 0\n").unwrap();
        assert_eq!(p.gateway.client_idle_timeout, None);
    }

    #[test]
    fn errors_name_the_field_and_the_fix() {
        let e = parse("[gateway]\nlisten = \"localhost\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.toml: gateway.listen: \"localhost\" is not an address with a port; write e.g. \"127.0.0.1:6380\" (port 0 picks a free one)"
        );
        let e = parse("[gateway]\nidle_ms = 0\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "t.toml: gateway.idle_ms: 0 is out of range; use a value from 10 to 86400000"
        );
        let e = parse("[gateway]\nmax_pending = -1\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.toml: gateway.max_pending: -1 is out of range; use a value from 1 to 100000"
        );
        let e = parse("[gateway]\nclient_idle_timeout_ms = 5\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.toml: gateway.client_idle_timeout_ms: 5 is out of range; use 0 (never) or a value from 10 to 86400000"
        );
        let e = parse("[gateway]\nidle = 5\n").unwrap_err().to_string();
        assert!(e.starts_with("t.toml:2: unknown field `idle`"), "{e}");
    }
}
