//! Connecting to Redis: resolve, TCP connect, AUTH, PING, with errors that say what to check.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo};

use crate::error::ActionError;

/// How long connect + AUTH + PING may take before we report Redis as unreachable: a wrong
/// `host` is the most common misconfiguration, and a server that accepts the connection but
/// never answers must fail as fast as a refused one (the Node.js twins use the same budget).
const CONNECT_DEADLINE: Duration = Duration::from_millis(2500);
/// A Redis that stops answering mid-phase must not hang the action until the platform kills it
/// without a word; this turns it into an error result.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// An open connection and the round trips it took to open.
pub struct Connected {
    pub con: redis::Connection,
    /// TCP handshake (1) + AUTH (1, only with a password) + PING (1).
    pub round_trips: u64,
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, ActionError> {
    // An IP literal never reaches the resolver, which matters for the static binary.
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    let mut addrs = (host, port)
        .to_socket_addrs()
        .map_err(|source| ActionError::Resolve {
            host: host.to_string(),
            source,
        })?;
    addrs.next().ok_or_else(|| ActionError::Resolve {
        host: host.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "no address found"),
    })
}

fn classify(addr: &str, e: redis::RedisError) -> ActionError {
    let addr = addr.to_string();
    let code = e.code().unwrap_or_default().to_string();
    let text = e.to_string();
    if code == "WRONGPASS" || e.kind() == redis::ErrorKind::AuthenticationFailed {
        if text.contains("without any password configured") {
            return ActionError::NoPasswordConfigured { addr, source: e };
        }
        return ActionError::WrongPassword { addr, source: e };
    }
    if code == "NOAUTH" {
        return ActionError::PasswordRequired { addr, source: e };
    }
    if text.contains("without any password configured") {
        return ActionError::NoPasswordConfigured { addr, source: e };
    }
    ActionError::Connect { addr, source: e }
}

/// Connect, authenticate when a password is given, and PING.
pub fn connect(host: &str, port: u16, password: Option<&str>) -> Result<Connected, ActionError> {
    let sock = resolve(host, port)?;
    let addr = sock.to_string();
    // AUTH is sent by hand below, not by the client's handshake, which folds every AUTH
    // failure into one "authentication failed" and hides Redis' reason.
    let redis_info = RedisConnectionInfo::default().set_skip_set_lib_name();
    let info: ConnectionInfo = ConnectionAddr::Tcp(sock.ip().to_string(), port)
        .into_connection_info()
        .map_err(|e| classify(&addr, e))?
        .set_redis_settings(redis_info)
        .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
    let client = redis::Client::open(info).map_err(|e| classify(&addr, e))?;
    let started = std::time::Instant::now();
    let mut con = client
        .get_connection_with_timeout(CONNECT_DEADLINE)
        .map_err(|e| classify(&addr, e))?;
    // AUTH and PING share what is left of the connect budget.
    let left = CONNECT_DEADLINE
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    con.set_read_timeout(Some(left))
        .and_then(|()| con.set_write_timeout(Some(left)))
        .map_err(|e| classify(&addr, e))?;
    let password = password.filter(|p| !p.is_empty());
    if let Some(p) = password {
        redis::cmd("AUTH")
            .arg(p)
            .query::<()>(&mut con)
            .map_err(|e| classify(&addr, e))?;
    }
    redis::cmd("PING")
        .query::<()>(&mut con)
        .map_err(|e| classify(&addr, e))?;
    con.set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| con.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(|e| classify(&addr, e))?;
    let auth = u64::from(password.is_some());
    Ok(Connected {
        con,
        round_trips: 1 + auth + 1,
    })
}
