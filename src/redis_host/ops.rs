//! The commands the host sends once Redis is up: INFO for status, SHUTDOWN to stop.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::error::HostError;
use super::resp::{self, Reply, RespConn};
use super::types::Endpoint;
use crate::profile::Persistence;

/// A network error during `command`, as a host error: a missed reply deadline is named as
/// Redis no longer answering, anything else as a connection problem.
pub(crate) fn net_error(ep: &Endpoint, command: &str, source: std::io::Error) -> HostError {
    if resp::is_no_reply(&source) {
        HostError::NotAnswering {
            detail: source.to_string(),
            command: command.into(),
        }
    } else {
        HostError::Connect {
            endpoint: ep.display_url(),
            source,
        }
    }
}

/// Connect and AUTH, every step bounded by `limit`.
pub(crate) async fn connect_authed(ep: &Endpoint, limit: Duration) -> Result<RespConn, HostError> {
    let endpoint = ep.display_url();
    let mut conn = RespConn::connect_within(ep, limit)
        .await
        .map_err(|source| net_error(ep, "connect", source))?;
    if let Some(p) = &ep.password
        && !p.expose().is_empty()
    {
        let reply = conn
            .call(&[b"AUTH", p.expose().as_bytes()])
            .await
            .map_err(|source| net_error(ep, "AUTH", source))?;
        if let Reply::Error(reply) = reply {
            return Err(HostError::WrongPassword { endpoint, reply });
        }
    }
    Ok(conn)
}

/// PING with a deadline: is the server there and answering?
pub(crate) async fn ping(ep: &Endpoint, limit: Duration) -> Result<(), HostError> {
    let mut conn = connect_authed(ep, limit).await?;
    match conn
        .call(&[b"PING"])
        .await
        .map_err(|source| net_error(ep, "PING", source))?
    {
        Reply::Error(reply) => Err(HostError::Command {
            endpoint: ep.display_url(),
            command: "PING".into(),
            reply,
        }),
        _ => Ok(()),
    }
}

/// The glob pattern matching every key that starts with `prefix` (glob characters escaped).
pub(crate) fn prefix_pattern(prefix: &str) -> String {
    let mut p = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('*');
    p
}

/// Walk the keyspace with `SCAN … MATCH pattern COUNT 1000` (never `KEYS`, which blocks the
/// server), counting the keys that match and, with `unlink`, deleting each batch with
/// `UNLINK` (freed in the background). Every reply within `limit`.
pub(crate) async fn scan_keys(
    ep: &Endpoint,
    limit: Duration,
    pattern: &str,
    unlink: bool,
) -> Result<u64, HostError> {
    let mut conn = connect_authed(ep, limit).await?;
    let mut cursor = b"0".to_vec();
    let mut found = 0u64;
    loop {
        let reply = conn
            .call(&[
                b"SCAN",
                &cursor,
                b"MATCH",
                pattern.as_bytes(),
                b"COUNT",
                b"1000",
            ])
            .await
            .map_err(|source| net_error(ep, "SCAN", source))?;
        let (next, keys) = match reply {
            Reply::Array(Some(mut parts)) if parts.len() == 2 => {
                let keys = parts.pop();
                let next = parts.pop();
                match (next, keys) {
                    (Some(Reply::Bulk(Some(c))), Some(Reply::Array(Some(k)))) => (c, k),
                    _ => return Err(scan_error(ep, "an unexpected reply shape")),
                }
            }
            Reply::Error(reply) => {
                return Err(HostError::Command {
                    endpoint: ep.display_url(),
                    command: "SCAN".into(),
                    reply,
                });
            }
            _ => return Err(scan_error(ep, "an unexpected reply")),
        };
        found += keys.len() as u64;
        if unlink && !keys.is_empty() {
            let names: Vec<Vec<u8>> = keys
                .into_iter()
                .filter_map(|k| match k {
                    Reply::Bulk(Some(b)) => Some(b),
                    _ => None,
                })
                .collect();
            let mut args: Vec<&[u8]> = vec![b"UNLINK"];
            args.extend(names.iter().map(Vec::as_slice));
            if let Reply::Error(reply) = conn
                .call(&args)
                .await
                .map_err(|source| net_error(ep, "UNLINK", source))?
            {
                return Err(HostError::Command {
                    endpoint: ep.display_url(),
                    command: "UNLINK".into(),
                    reply,
                });
            }
        }
        if next == b"0" {
            return Ok(found);
        }
        cursor = next;
    }
}

fn scan_error(ep: &Endpoint, what: &str) -> HostError {
    HostError::Command {
        endpoint: ep.display_url(),
        command: "SCAN".into(),
        reply: format!("{what} (expected [cursor, [keys…]])"),
    }
}

/// What `INFO` tells the status view.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ServerInfo {
    pub uptime_s: Option<u64>,
    pub keys: u64,
    pub used_memory: Option<u64>,
    pub last_save: Option<DateTime<Utc>>,
    pub pid: Option<u32>,
    pub redis_version: Option<String>,
}

/// `INFO` over an authenticated connection.
pub(crate) async fn info(ep: &Endpoint, limit: Duration) -> Result<ServerInfo, HostError> {
    let mut conn = connect_authed(ep, limit).await?;
    info_on(&mut conn, ep, &[b"INFO"]).await
}

/// `INFO [section]` on an open (authenticated) connection, parsed.
async fn info_on(
    conn: &mut RespConn,
    ep: &Endpoint,
    command: &[&[u8]],
) -> Result<ServerInfo, HostError> {
    let reply = conn
        .call(command)
        .await
        .map_err(|source| net_error(ep, "INFO", source))?;
    match reply {
        Reply::Error(reply) => Err(HostError::Command {
            endpoint: ep.display_url(),
            command: "INFO".into(),
            reply,
        }),
        r => Ok(parse_info(&r.text().unwrap_or_default())),
    }
}

/// The keys loaded, by `INFO keyspace` on an open (authenticated) connection.
pub(crate) async fn keys_on(conn: &mut RespConn, ep: &Endpoint) -> Result<u64, HostError> {
    Ok(info_on(conn, ep, &[b"INFO", b"keyspace"]).await?.keys)
}

/// Parse INFO text; keys are summed over every `dbN` line of the keyspace section.
pub(crate) fn parse_info(text: &str) -> ServerInfo {
    let fields: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .collect();
    let num = |k: &str| fields.get(k).and_then(|v| v.parse::<u64>().ok());
    let keys = fields
        .iter()
        .filter(|(k, _)| k.starts_with("db") && k[2..].parse::<u32>().is_ok())
        .filter_map(|(_, v)| {
            v.split(',')
                .find_map(|kv| kv.strip_prefix("keys="))
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum();
    ServerInfo {
        uptime_s: num("uptime_in_seconds"),
        keys,
        used_memory: num("used_memory"),
        last_save: num("rdb_last_save_time")
            .and_then(|t| i64::try_from(t).ok())
            .and_then(|t| DateTime::from_timestamp(t, 0)),
        pid: num("process_id").and_then(|p| u32::try_from(p).ok()),
        redis_version: fields.get("redis_version").map(|v| v.to_string()),
    }
}

/// The SHUTDOWN flavour for a persistence mode: SAVE for RDB (a final snapshot), plain
/// SHUTDOWN for AOF (Redis fsyncs the AOF; a forced RDB on top would only cost time),
/// NOSAVE for none (the point of `none` is that nothing survives).
pub(crate) fn shutdown_args(p: &Persistence) -> &'static [&'static [u8]] {
    match p {
        Persistence::None => &[b"SHUTDOWN", b"NOSAVE"],
        Persistence::Rdb { .. } => &[b"SHUTDOWN", b"SAVE"],
        Persistence::Aof { .. } => &[b"SHUTDOWN"],
    }
}

/// What a reap's SHUTDOWN ([`shutdown_args`]) did to the data, for its message.
pub(crate) fn reaped_data(p: &Persistence) -> &'static str {
    match p {
        Persistence::None => "data not saved (persistence none)",
        Persistence::Rdb { .. } | Persistence::Aof { .. } => "data saved",
    }
}

/// Send SHUTDOWN; success is the server closing the connection.
///
/// The connection and a PING must answer within `limit` (a frozen server is reported at once);
/// the SHUTDOWN itself may take up to `save_limit`, the time a final save of a big data set needs.
pub(crate) async fn shutdown(
    ep: &Endpoint,
    p: &Persistence,
    limit: Duration,
    save_limit: Duration,
) -> Result<(), HostError> {
    shutdown_watched(ep, p, limit, save_limit, std::future::pending()).await
}

/// [`shutdown`], with `frozen` watching the save: when it resolves (with what it saw, e.g.
/// "the process is stopped (SIGSTOP)") before the server has closed the connection, the wait
/// ends with [`HostError::FrozenDuringStop`] and the server is left as it is.
pub(crate) async fn shutdown_watched(
    ep: &Endpoint,
    p: &Persistence,
    limit: Duration,
    save_limit: Duration,
    frozen: impl std::future::Future<Output = String>,
) -> Result<(), HostError> {
    let args = shutdown_args(p);
    let command = args
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut conn = connect_authed(ep, limit).await?;
    // A server still loading its data answers -LOADING: wait for it (within the save
    // deadline), so the SHUTDOWN saves the whole data set rather than failing.
    let loading_since = std::time::Instant::now();
    let pong = loop {
        match conn
            .call(&[b"PING"])
            .await
            .map_err(|source| net_error(ep, "PING", source))?
        {
            Reply::Error(reply)
                if reply.starts_with("LOADING") && loading_since.elapsed() < save_limit =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            other => break other,
        }
    };
    match pong {
        Reply::Error(reply) => {
            return Err(HostError::Command {
                endpoint: ep.display_url(),
                command: "PING".into(),
                reply,
            });
        }
        _ => conn.set_reply_timeout(save_limit),
    }
    let call = conn.call(args);
    let reply = tokio::select! {
        r = call => r,
        why = frozen => {
            return Err(HostError::FrozenDuringStop {
                endpoint: ep.display_url(),
                why,
            });
        }
    };
    match reply {
        // The server closes the connection once it has saved and is exiting.
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::ConnectionReset
            ) =>
        {
            Ok(())
        }
        Err(source) => Err(net_error(ep, &command, source)),
        Ok(Reply::Error(reply)) => Err(HostError::Command {
            endpoint: ep.display_url(),
            command,
            reply,
        }),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info() {
        let text = "# Server\r\nprocess_id:77\r\nuptime_in_seconds:12\r\n# Memory\r\nused_memory:1024\r\n\
                    # Persistence\r\nrdb_last_save_time:1700000000\r\n# Keyspace\r\n\
                    db0:keys=3,expires=0,avg_ttl=0\r\ndb5:keys=4,expires=1,avg_ttl=9\r\n";
        let i = parse_info(text);
        assert_eq!(i.keys, 7);
        assert_eq!(i.uptime_s, Some(12));
        assert_eq!(i.used_memory, Some(1024));
        assert_eq!(i.pid, Some(77));
        assert_eq!(i.last_save.map(|t| t.timestamp()), Some(1_700_000_000));
    }

    #[test]
    fn a_reap_says_saved_only_when_something_was_saved() {
        assert_eq!(
            reaped_data(&Persistence::None),
            "data not saved (persistence none)"
        );
        let rdb = Persistence::Rdb { save: vec![] };
        assert_eq!(reaped_data(&rdb), "data saved");
    }
}
