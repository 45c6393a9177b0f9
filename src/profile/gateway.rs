//! The `[gateway]` section: where the scale-to-zero gateway listens and its timers and caps.

use std::net::SocketAddr;

use serde::Deserialize;

use super::duration::{GATEWAY_CLIENT_IDLE, GATEWAY_HANDSHAKE, GATEWAY_IDLE, GATEWAY_WAKE_TIMEOUT};
use super::error::ProfileError;
pub use super::types::GatewayConfig;

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
    let idle = GATEWAY_IDLE.field(file, "gateway.idle_ms", g.idle_ms, d.idle)?;
    let wake_timeout = GATEWAY_WAKE_TIMEOUT.field(
        file,
        "gateway.wake_timeout_ms",
        g.wake_timeout_ms,
        d.wake_timeout,
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
    let handshake_timeout = GATEWAY_HANDSHAKE.field(
        file,
        "gateway.handshake_timeout_ms",
        g.handshake_timeout_ms,
        d.handshake_timeout,
    )?;
    // 0 (or absent): never; otherwise the range of every gateway timer.
    let client_idle_timeout = match g.client_idle_timeout_ms {
        Some(0) | None => None,
        Some(v) => Some(GATEWAY_CLIENT_IDLE.check_ms(v).map_err(|_| {
            invalid(
                file,
                "client_idle_timeout_ms",
                format!("{v} is out of range; use 0 (never) or a value from 10 to 86400000"),
            )
        })?),
    };
    Ok(GatewayConfig {
        listen,
        idle,
        wake_timeout,
        max_pending: u32::try_from(pending).unwrap_or(u32::MAX),
        max_connections: u32::try_from(conns).unwrap_or(u32::MAX),
        handshake_timeout,
        client_idle_timeout,
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
