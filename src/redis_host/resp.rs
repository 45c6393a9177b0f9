//! A minimal RESP2 client for the few commands the host needs (AUTH, PING, INFO, SHUTDOWN).
//!
//! Why not the `redis` crate here: readiness is polled every millisecond and must tell
//! `-LOADING` from a refused connection from a wrong password, and `SHUTDOWN` must treat the
//! connection closing as success. A dozen lines of protocol give exact control over both.

use std::io;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::tls;
use super::types::Endpoint;

/// Any byte stream Redis can be spoken over (plain TCP or TLS).
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One RESP reply. Arrays nest one level at most (SCAN's `[cursor, [keys…]]`): none of our
/// commands return deeper ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    Simple(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Option<Vec<Reply>>),
}

impl Reply {
    /// The reply as text (simple, bulk), or `None`.
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Reply::Simple(s) => Some(s.clone()),
            Reply::Bulk(Some(b)) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

/// A connection to one Redis server. Every read and write has a deadline, so a server that
/// stops answering (a `kill -STOP`, a paused container, a port that accepts and stays silent)
/// becomes an error naming it instead of a hang.
pub(crate) struct RespConn {
    stream: BufReader<Box<dyn Io>>,
    /// `host:port` for messages.
    addr: String,
    reply_timeout: Duration,
}

/// How long one connect attempt may take before it counts as "not answering".
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a control command (PING, AUTH, INFO, SHUTDOWN's acknowledgement) may wait for its
/// reply by default.
pub(crate) const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// The error for a reply that did not come in time; [`is_no_reply`] recognises it.
pub(crate) fn no_reply(addr: &str, waited: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!(
            "Redis at {addr} stopped answering: no reply in {} ms",
            waited.as_millis()
        ),
    )
}

/// Did this error come from a reply deadline (as opposed to a refused or reset connection)?
pub(crate) fn is_no_reply(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::TimedOut && e.to_string().contains("stopped answering")
}

impl RespConn {
    /// Connect (and TLS-handshake for `rediss://`) with the default deadlines. No AUTH yet.
    #[cfg(test)]
    pub(crate) async fn connect(ep: &Endpoint) -> io::Result<Self> {
        Self::connect_within(ep, REPLY_TIMEOUT).await
    }

    /// Connect with every step (resolve, TCP, TLS, each later reply) bounded by `limit`
    /// (the TCP connect by at most [`CONNECT_TIMEOUT`]).
    pub(crate) async fn connect_within(ep: &Endpoint, limit: Duration) -> io::Result<Self> {
        let host = connect_host(&ep.host);
        let addr = if host.contains(':') {
            format!("[{host}]:{}", ep.port)
        } else {
            format!("{host}:{}", ep.port)
        };
        let target = resolve(host, ep.port, limit).await?;
        let connect_limit = limit.min(CONNECT_TIMEOUT);
        let tcp = tokio::time::timeout(connect_limit, TcpStream::connect(target))
            .await
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "TCP connect to {addr} timed out after {} ms",
                        connect_limit.as_millis()
                    ),
                )
            })??;
        tcp.set_nodelay(true)?;
        let stream: Box<dyn Io> = if ep.tls {
            let tls = tokio::time::timeout(limit, tls::connect(&ep.host, ep.tls_ca.as_ref(), tcp))
                .await
                .map_err(|_| {
                    io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "no answer to the TLS handshake from {addr} in {} ms: if that is a \
                             plain (non-TLS) Redis port, use redis://",
                            limit.as_millis()
                        ),
                    )
                })??;
            Box::new(tls)
        } else {
            Box::new(tcp)
        };
        Ok(Self {
            stream: BufReader::new(stream),
            addr,
            reply_timeout: limit,
        })
    }

    /// Change the reply deadline for the following commands (SHUTDOWN SAVE may take long).
    pub(crate) fn set_reply_timeout(&mut self, d: Duration) {
        self.reply_timeout = d;
    }

    /// Send one command without waiting for its reply (to pipeline AUTH + PING).
    pub(crate) async fn send(&mut self, args: &[&[u8]]) -> io::Result<()> {
        let limit = self.reply_timeout;
        match tokio::time::timeout(limit, self.send_now(args)).await {
            Ok(r) => r,
            Err(_) => Err(no_reply(&self.addr, limit)),
        }
    }

    async fn send_now(&mut self, args: &[&[u8]]) -> io::Result<()> {
        let mut buf = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            buf.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            buf.extend_from_slice(a);
            buf.extend_from_slice(b"\r\n");
        }
        let w = self.stream.get_mut();
        w.write_all(&buf).await?;
        w.flush().await
    }

    /// Send a command and read its reply.
    pub(crate) async fn call(&mut self, args: &[&[u8]]) -> io::Result<Reply> {
        self.send(args).await?;
        self.read().await
    }

    /// Read one reply. `UnexpectedEof` means the server closed the connection.
    pub(crate) async fn read(&mut self) -> io::Result<Reply> {
        let limit = self.reply_timeout;
        match tokio::time::timeout(limit, self.read_now()).await {
            Ok(r) => r,
            Err(_) => Err(no_reply(&self.addr, limit)),
        }
    }

    async fn read_now(&mut self) -> io::Result<Reply> {
        let line = self.line().await?;
        match line.split_first() {
            Some((b'*', rest)) => {
                let n = parse_int(rest)?;
                if n < 0 {
                    return Ok(Reply::Array(None));
                }
                let mut items = Vec::new();
                for _ in 0..n {
                    let inner = self.line().await?;
                    items.push(match inner.split_first() {
                        Some((b'*', rest)) => self.flat_array(rest).await?,
                        _ => self.scalar(&inner).await?,
                    });
                }
                Ok(Reply::Array(Some(items)))
            }
            _ => self.scalar(&line).await,
        }
    }

    /// An array of scalars, inside an outer array; `count` is the text after its `*`.
    async fn flat_array(&mut self, count: &[u8]) -> io::Result<Reply> {
        let n = parse_int(count)?;
        if n < 0 {
            return Ok(Reply::Array(None));
        }
        let mut items = Vec::new();
        for _ in 0..n {
            let inner = self.line().await?;
            items.push(self.scalar(&inner).await?);
        }
        Ok(Reply::Array(Some(items)))
    }

    async fn scalar(&mut self, line: &[u8]) -> io::Result<Reply> {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match line.split_first() {
            Some((b'+', rest)) => Ok(Reply::Simple(text(rest))),
            Some((b'-', rest)) => Ok(Reply::Error(text(rest))),
            Some((b':', rest)) => Ok(Reply::Int(parse_int(rest)?)),
            Some((b'$', rest)) => {
                let n = parse_int(rest)?;
                if n < 0 {
                    return Ok(Reply::Bulk(None));
                }
                let len = usize::try_from(n).map_err(|_| bad("bulk length"))?;
                let mut body = vec![0u8; len + 2];
                self.stream.read_exact(&mut body).await?;
                body.truncate(len);
                Ok(Reply::Bulk(Some(body)))
            }
            _ => Err(not_redis(line)),
        }
    }

    async fn line(&mut self) -> io::Result<Vec<u8>> {
        let mut line = Vec::new();
        let n = self.stream.read_until(b'\n', &mut line).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed",
            ));
        }
        while line.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
            line.pop();
        }
        Ok(line)
    }
}

fn parse_int(b: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(b)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad integer"))
}

/// A reply that does not start like any RESP type: whatever answers is not Redis.
fn not_redis(line: &[u8]) -> io::Error {
    let shown: String = String::from_utf8_lossy(line)
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '.' } else { c })
        .collect();
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the server does not speak the Redis protocol (it answered `{shown}`); check the host and port"
        ),
    )
}

/// Resolve `host` (a literal address needs no resolver), with a deadline; a failure says it
/// was the name that failed, not the connection.
async fn resolve(host: &str, port: u16, limit: Duration) -> io::Result<std::net::SocketAddr> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(std::net::SocketAddr::new(ip, port));
    }
    let found = tokio::time::timeout(limit, tokio::net::lookup_host((host, port)))
        .await
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "cannot resolve host `{host}`: no answer from the resolver in {} ms",
                    limit.as_millis()
                ),
            )
        })?
        .map_err(|e| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("cannot resolve host `{host}` (DNS): {e}"),
            )
        })?;
    let mut addrs: Vec<_> = found.collect();
    // Prefer IPv4 like redis-cli does when a name has both.
    addrs.sort_by_key(|a| !a.is_ipv4());
    addrs.into_iter().next().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("cannot resolve host `{host}` (DNS): no address found"),
        )
    })
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("RESP: {what}"))
}

/// A server bound to "any address" is reached over loopback.
pub(crate) fn connect_host(host: &str) -> &str {
    match host {
        "0.0.0.0" | "" => "127.0.0.1",
        "::" => "::1",
        h => h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn parses_replies_from_a_fake_server() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 64];
            let _ = s.read(&mut buf).await.unwrap();
            s.write_all(b"+PONG\r\n-LOADING busy\r\n:42\r\n$5\r\nhello\r\n*2\r\n$1\r\na\r\n:1\r\n")
                .await
                .unwrap();
        });
        let ep = Endpoint {
            host: "127.0.0.1".into(),
            port,
            password: None,
            tls: false,
            tls_ca: None,
            db: 0,
        };
        let mut c = RespConn::connect(&ep).await.unwrap();
        assert_eq!(
            c.call(&[b"PING"]).await.unwrap(),
            Reply::Simple("PONG".into())
        );
        assert_eq!(c.read().await.unwrap(), Reply::Error("LOADING busy".into()));
        assert_eq!(c.read().await.unwrap(), Reply::Int(42));
        assert_eq!(c.read().await.unwrap().text().as_deref(), Some("hello"));
        assert_eq!(
            c.read().await.unwrap(),
            Reply::Array(Some(vec![Reply::Bulk(Some(b"a".to_vec())), Reply::Int(1)]))
        );
        server.await.unwrap();
        let eof = c.read().await.unwrap_err();
        assert_eq!(eof.kind(), io::ErrorKind::UnexpectedEof);
    }
}
