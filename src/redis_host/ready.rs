//! Readiness: poll until Redis answers PING, fast enough that the cold-start figure is honest.

use std::future::Future;
use std::time::{Duration, Instant};

use super::error::HostError;
use super::resp::{Reply, RespConn};
use super::types::Endpoint;

/// Between two probes. Redis starts in ~15 ms here, so a coarser poll would dominate the figure.
pub const POLL_INTERVAL: Duration = Duration::from_millis(1);
/// How often (in probes) the backend's liveness check runs while we wait.
const ALIVE_EVERY: u32 = 25;

/// One probe's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Probe {
    Ready,
    /// Not answering yet, or `-LOADING`: try again.
    NotYet(String),
    /// The server answered and refused our password: waiting will not help.
    WrongPassword(String),
    /// The name does not resolve, or the server does not speak RESP: waiting will not help.
    NotRedis(String),
}

/// Connect, AUTH (pipelined with PING), and classify the replies; every step within `limit`.
/// A ready server's connection is kept (authenticated: a caller's next command needs no new
/// connection). `Err` is never [`Probe::Ready`].
async fn probe(ep: &Endpoint, limit: Duration) -> Result<RespConn, Probe> {
    let mut conn = RespConn::connect_within(ep, limit)
        .await
        .map_err(|e| match e.kind() {
            // The resolver answered that the name does not exist; or a TLS certificate was
            // refused (`tls.rs` says which setting to fix): waiting would not help either.
            std::io::ErrorKind::NotFound | std::io::ErrorKind::InvalidData => {
                Probe::NotRedis(e.to_string())
            }
            _ => Probe::NotYet(e.to_string()),
        })?;
    match classify(&mut conn, ep).await {
        Probe::Ready => Ok(conn),
        other => Err(other),
    }
}

async fn classify(conn: &mut RespConn, ep: &Endpoint) -> Probe {
    let authed = ep.password.is_some();
    if let Some(p) = &ep.password
        && let Err(e) = conn.send(&[b"AUTH", p.expose().as_bytes()]).await
    {
        return Probe::NotYet(hint_tls(e, ep).to_string());
    }
    if let Err(e) = conn.send(&[b"PING"]).await {
        return Probe::NotYet(hint_tls(e, ep).to_string());
    }
    if authed {
        match conn.read().await {
            Ok(Reply::Simple(_)) => {}
            Ok(Reply::Error(e)) if is_auth_error(&e) => return Probe::WrongPassword(e),
            Ok(other) => return Probe::NotYet(describe(&other)),
            Err(e) => return not_yet_or_not_redis(hint_tls(e, ep)),
        }
    }
    match conn.read().await {
        Ok(Reply::Simple(s)) if s == "PONG" => Probe::Ready,
        Ok(Reply::Error(e)) if e.starts_with("NOAUTH") => Probe::WrongPassword(e),
        Ok(other) => Probe::NotYet(describe(&other)),
        Err(e) => not_yet_or_not_redis(hint_tls(e, ep)),
    }
}

/// A TLS port drops a plain client's first command at once (reset, or closed unanswered):
/// say so, since "connection reset" alone does not tell what to change.
fn hint_tls(e: std::io::Error, ep: &Endpoint) -> std::io::Error {
    use std::io::ErrorKind::{ConnectionReset, UnexpectedEof};
    if ep.tls || !matches!(e.kind(), ConnectionReset | UnexpectedEof) {
        return e;
    }
    std::io::Error::new(
        e.kind(),
        format!("{e} before answering: if that port speaks TLS, use rediss:// in redis.url"),
    )
}

/// A read error: garbage where a RESP reply should be (an HTTP server, say) is final; anything
/// else (a reset while the server starts) is worth another try.
fn not_yet_or_not_redis(e: std::io::Error) -> Probe {
    match e.kind() {
        std::io::ErrorKind::InvalidData => Probe::NotRedis(e.to_string()),
        _ => Probe::NotYet(e.to_string()),
    }
}

/// A reply that was not the PONG we wanted, in words.
fn describe(r: &Reply) -> String {
    match r {
        Reply::Error(e) => format!("Redis answered -{e}"),
        other => match other.text() {
            Some(t) => format!("unexpected answer to PING: {t}"),
            None => "unexpected answer to PING".into(),
        },
    }
}

fn is_auth_error(e: &str) -> bool {
    e.starts_with("WRONGPASS")
        || e.starts_with("NOAUTH")
        || e.contains("invalid password")
        || e.contains("invalid username-password")
        || e.contains("without any password configured")
}

/// Poll [`probe`] every [`POLL_INTERVAL`] until ready or `timeout`.
///
/// `still_alive` runs every few probes; it returns why the server is gone (its exit status),
/// which ends the wait early instead of sitting out the whole timeout.
/// `log_tail` supplies the last log lines for a timeout message.
pub(crate) async fn wait_ready<A, AF, L, LF>(
    ep: &Endpoint,
    timeout: Duration,
    still_alive: A,
    log_tail: L,
) -> Result<(), HostError>
where
    A: FnMut() -> AF,
    AF: Future<Output = Option<String>>,
    L: FnOnce() -> LF,
    LF: Future<Output = String>,
{
    wait_ready_conn(ep, timeout, still_alive, log_tail)
        .await
        .map(drop)
}

/// [`wait_ready`], returning the authenticated connection that got the PONG.
pub(crate) async fn wait_ready_conn<A, AF, L, LF>(
    ep: &Endpoint,
    timeout: Duration,
    mut still_alive: A,
    log_tail: L,
) -> Result<RespConn, HostError>
where
    A: FnMut() -> AF,
    AF: Future<Output = Option<String>>,
    L: FnOnce() -> LF,
    LF: Future<Output = String>,
{
    let start = Instant::now();
    let mut n: u32 = 0;
    let mut last_attempt;
    loop {
        // Never wait past the deadline for one probe (a port that accepts and stays silent).
        let remaining = timeout
            .saturating_sub(start.elapsed())
            .clamp(Duration::from_millis(20), super::resp::REPLY_TIMEOUT);
        match probe(ep, remaining).await {
            Ok(conn) => return Ok(conn),
            Err(Probe::WrongPassword(reply)) => {
                return Err(HostError::WrongPassword {
                    endpoint: ep.display_url(),
                    reply,
                });
            }
            Err(Probe::NotRedis(detail)) => {
                return Err(HostError::NotRedis {
                    endpoint: ep.display_url(),
                    detail,
                });
            }
            Err(Probe::NotYet(why)) => last_attempt = why,
            Err(Probe::Ready) => last_attempt = "ready, but the connection was lost".into(),
        }
        n = n.wrapping_add(1);
        if n.is_multiple_of(ALIVE_EVERY)
            && let Some(status) = still_alive().await
        {
            return Err(HostError::ExitedEarly {
                status,
                log_tail: log_tail().await,
            });
        }
        if start.elapsed() >= timeout {
            return Err(HostError::ReadyTimeout {
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
                last_attempt,
                log_tail: log_tail().await,
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// The last `n` lines of `text`, indented for an error message.
pub(crate) fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let from = lines.len().saturating_sub(n);
    let out: Vec<String> = lines[from..].iter().map(|l| format!("  | {l}")).collect();
    if out.is_empty() {
        "  | (no log output)".into()
    } else {
        out.join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_the_log() {
        assert_eq!(tail("a\nb\n\nc\n", 2), "  | b\n  | c");
        assert_eq!(tail("", 2), "  | (no log output)");
    }

    #[tokio::test]
    async fn times_out_with_the_log_tail() {
        // A port nobody listens on: bind, read the port, drop the listener.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let ep = Endpoint {
            host: "127.0.0.1".into(),
            port,
            password: None,
            tls: false,
            tls_ca: None,
            db: 0,
        };
        let err = wait_ready(
            &ep,
            Duration::from_millis(50),
            || async { None },
            || async { "boom".to_string() },
        )
        .await
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("within 50 ms"), "{text}");
        assert!(text.contains("last attempt: Connection refused"), "{text}");
        assert!(text.ends_with("Last log lines:\nboom"), "{text}");
    }
}
