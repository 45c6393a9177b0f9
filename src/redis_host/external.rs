//! The `external` backend: an always-on Redis we do not own. No start or stop; the same
//! readiness check, status and statistics as the others.

use super::ctx::{Ctx, Up};
use super::error::HostError;
use super::ready;
use super::types::{Endpoint, TlsCa};

/// Split `redis[s]://[user@]host[:port][/db]` (the password was already removed by the profile).
pub(crate) fn parse_url(url: &str) -> Result<(String, u16, bool, i64), HostError> {
    let bad = |m: &str| HostError::BadUrl(format!("\"{url}\": {m}"));
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad("no scheme; write redis://host:port"))?;
    let tls = match scheme {
        "redis" => false,
        "rediss" => true,
        _ => return Err(bad("use redis:// or rediss://")),
    };
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (h, after) = v6
            .split_once(']')
            .ok_or_else(|| bad("unclosed [ in the host"))?;
        (h.to_string(), after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (hostport.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(bad("no host"));
    }
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| bad("the port must be a number from 1 to 65535"))?,
        None => 6379,
    };
    let db = match path.trim_matches('/') {
        "" => 0,
        d => d
            .parse()
            .map_err(|_| bad("the path must be a database number, e.g. /0"))?,
    };
    Ok((host, port, tls, db))
}

pub(crate) fn endpoint(ctx: &Ctx<'_>, url: &str) -> Result<Endpoint, HostError> {
    let (host, port, tls, db) = parse_url(url)?;
    let tls_ca = match &ctx.profile.redis.tls_ca_file {
        Some(path) if tls => Some(read_ca(path)?),
        _ => None,
    };
    Ok(Endpoint {
        host,
        port,
        password: ctx.profile.redis.password.clone(),
        tls,
        tls_ca,
        db,
    })
}

/// Read `redis.tls_ca_file` and check it holds at least one PEM certificate, so a wrong path
/// is named before anything connects (here and in every action).
pub(crate) fn read_ca(path: &std::path::Path) -> Result<TlsCa, HostError> {
    let bad = |m: String| {
        HostError::BadUrl(format!(
            "redis.tls_ca_file (or {}) = {}: {m}",
            crate::profile::TLS_CA_FILE_ENV,
            path.display()
        ))
    };
    let pem = std::fs::read_to_string(path).map_err(|e| bad(format!("cannot read it ({e})")))?;
    super::tls::check_pem(&pem).map_err(bad)?;
    Ok(TlsCa {
        path: path.to_path_buf(),
        pem,
    })
}

/// Wait until the server answers PING with our password.
pub(crate) async fn up(ctx: &Ctx<'_>, url: &str) -> Result<Up, HostError> {
    let ep = endpoint(ctx, url)?;
    let timeout = ctx.profile.redis.ready_timeout;
    ready::wait_ready(
        &ep,
        timeout,
        || async { None },
        || async { "  | (an external server: its log is not ours to read)".to_string() },
    )
    .await?;
    Ok(Up::adopted(ep))
}

/// `url`, else the first of `seeds` (an external cluster's other nodes) that answers; each
/// try gets an equal share of `ready_timeout_ms` (at least a second).
pub(crate) async fn up_any(ctx: &Ctx<'_>, url: &str, seeds: &[String]) -> Result<Up, HostError> {
    if seeds.is_empty() {
        return up(ctx, url).await;
    }
    let share = (ctx.profile.redis.ready_timeout / (1 + seeds.len() as u32))
        .max(std::time::Duration::from_secs(1));
    let mut first_err = None;
    for candidate in std::iter::once(url).chain(seeds.iter().map(String::as_str)) {
        let ep = endpoint(ctx, candidate)?;
        let tried = ready::wait_ready(
            &ep,
            share,
            || async { None },
            || async { "  | (an external server: its log is not ours to read)".to_string() },
        )
        .await;
        match tried {
            Ok(()) => {
                if candidate != url {
                    ctx.events.warn(format!(
                        "{} did not answer; using the cluster seed {}",
                        endpoint(ctx, url)?.display_url(),
                        ep.display_url()
                    ));
                }
                return Ok(Up::adopted(ep));
            }
            // A wrong password is wrong on every node: say so at once.
            Err(e @ HostError::WrongPassword { .. }) => return Err(e),
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.unwrap_or_else(|| HostError::BadUrl(url.to_string())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        assert_eq!(
            parse_url("redis://h:1/2").unwrap(),
            ("h".into(), 1, false, 2)
        );
        assert_eq!(
            parse_url("rediss://user@cache.example:6380").unwrap(),
            ("cache.example".into(), 6380, true, 0)
        );
        assert_eq!(
            parse_url("redis://[::1]:7000/0").unwrap(),
            ("::1".into(), 7000, false, 0)
        );
        assert_eq!(parse_url("redis://h").unwrap().1, 6379);
        let e = parse_url("http://h").unwrap_err().to_string();
        assert!(e.contains("use redis:// or rediss://"), "{e}");
        assert!(parse_url("redis://h:x").is_err());
    }
}
