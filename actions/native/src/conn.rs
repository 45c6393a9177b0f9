//! Connecting to Redis: resolve, TCP connect, TLS when asked, AUTH, PING, with errors that say
//! what to check.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use redis::{ConnectionAddr, ConnectionInfo, IntoConnectionInfo, RedisConnectionInfo};

use crate::error::ActionError;
use crate::phase::{self, Command};

/// How long connect + AUTH + PING may take before we report Redis as unreachable: a wrong
/// `host` is the most common misconfiguration, and a server that accepts the connection but
/// never answers must fail as fast as a refused one (the Node.js twins use the same budget).
const CONNECT_DEADLINE: Duration = Duration::from_millis(2500);
/// A Redis that stops answering mid-phase must not hang the action until the platform kills it
/// without a word; this turns it into an error result.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// How to reach a server besides its address: the password, and TLS.
#[derive(Debug, Clone, Default)]
pub struct Access {
    pub password: Option<String>,
    /// `Some`: speak TLS (`rediss://`).
    pub tls: Option<Tls>,
}

/// TLS settings: the server's certificate must name the host the action was given and chain
/// to the Mozilla roots, or, when `ca_pem` is given, to one of its certificates instead.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    pub ca_pem: Option<String>,
}

impl Access {
    /// From the actions' `password`, `tls` and `tls_ca` parameters.
    pub fn new(password: Option<&str>, tls: bool, tls_ca: Option<&str>) -> Self {
        Self {
            password: password.filter(|p| !p.is_empty()).map(str::to_string),
            tls: tls.then(|| Tls {
                ca_pem: tls_ca.filter(|c| !c.trim().is_empty()).map(str::to_string),
            }),
        }
    }
}

/// An open connection and the round trips it took to open.
pub struct Connected {
    pub con: redis::Connection,
    /// TCP handshake (1) + TLS handshake (1, TLS 1.3) + AUTH (1, only with a password) +
    /// PING (1).
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

fn classify(addr: &str, tls: bool, e: redis::RedisError) -> ActionError {
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
    if tls && let Some(why) = tls_failure(&e) {
        return ActionError::Tls {
            addr,
            why,
            source: e,
        };
    }
    // A TLS port resets a plain client once it reads its first command.
    let dropped = ["reset by peer", "Broken pipe", "closed by server"]
        .iter()
        .any(|t| text.contains(t));
    if !tls && !e.is_connection_refusal() && dropped {
        return ActionError::MaybeTls { addr, source: e };
    }
    ActionError::Connect { addr, source: e }
}

/// What a failed TLS connection means for the user, when it is about TLS. The redis crate
/// keeps rustls's error only as text, so the text is what is read.
fn tls_failure(e: &redis::RedisError) -> Option<&'static str> {
    let text = e.to_string();
    if text.contains("UnknownIssuer") {
        return Some(
            "the server's certificate is signed by a CA the action does not trust: give the \
             CA's PEM text in `tls_ca` (redwhisk: set redis.tls_ca_file or \
             REDWHISK_REDIS_CA_FILE)",
        );
    }
    if text.contains("NotValidForName") {
        return Some("the server's certificate does not name `host`: pass a name it lists");
    }
    if text.contains("invalid peer certificate") {
        return Some("the server's certificate is not valid (expired, or not for a server)");
    }
    // A plain Redis port never answers a TLS ClientHello (the read deadline ends the wait), or
    // answers it with something that is not TLS.
    (e.is_timeout()
        || e.kind() == redis::ErrorKind::Io
        || text.contains("corrupt message")
        || text.contains("InvalidContentType"))
    .then_some(
        "no TLS answer: if that is a plain Redis port, set `tls` false (redwhisk: use redis://)",
    )
}

/// One Redis for the actions' phases, and the buffer its commands are encoded into (kept: a
/// 32 KiB buffer allocated per pipeline cost ~3% of a 1000-SET pipeline's time).
pub struct Single {
    pub(crate) link: Link,
    pub(crate) out: Vec<u8>,
}

/// Plain TCP through our own reply reader, TLS through the redis crate.
pub(crate) enum Link {
    Plain(crate::wire::PlainConn),
    Crate(redis::Connection),
}

impl Single {
    fn new(link: Link) -> Self {
        Self {
            link,
            out: Vec::new(),
        }
    }
}

/// An open [`Single`] and the round trips it took to open (as [`Connected`]).
pub struct SingleConnected {
    pub con: Single,
    pub round_trips: u64,
}

/// Connect to one Redis for a phase's commands: [`connect`] with TLS; without, a plain TCP
/// connection doing the same on the wire — connect, AUTH when a password is given, PING, in
/// the same time budget — whose failures are classified the same way.
pub fn connect_single(
    host: &str,
    port: u16,
    access: &Access,
) -> Result<SingleConnected, ActionError> {
    if access.tls.is_some() {
        let c = connect(host, port, access)?;
        return Ok(SingleConnected {
            con: Single::new(Link::Crate(c.con)),
            round_trips: c.round_trips,
        });
    }
    let sock = resolve(host, port)?;
    let addr = sock.to_string();
    let fail = |e: redis::RedisError| classify(&addr, false, e);
    let started = std::time::Instant::now();
    let mut con =
        crate::wire::PlainConn::connect(&sock, CONNECT_DEADLINE).map_err(|e| fail(e.into()))?;
    let left = CONNECT_DEADLINE
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    con.set_timeouts(left).map_err(|e| fail(e.into()))?;
    let password = access.password.as_deref();
    if let Some(p) = password {
        let mut auth = Vec::new();
        Command {
            name: b"AUTH",
            key: p.as_bytes(),
            value: None,
        }
        .encode(&mut auth);
        phase::request(&mut con, &auth).map_err(fail)?;
    }
    phase::request(&mut con, b"*1\r\n$4\r\nPING\r\n").map_err(fail)?;
    con.set_timeouts(IO_TIMEOUT).map_err(|e| fail(e.into()))?;
    Ok(SingleConnected {
        con: Single::new(Link::Plain(con)),
        round_trips: 1 + u64::from(password.is_some()) + 1,
    })
}

/// Connect (with TLS when `access.tls` is set), authenticate when a password is given, and
/// PING.
pub fn connect(host: &str, port: u16, access: &Access) -> Result<Connected, ActionError> {
    let sock = resolve(host, port)?;
    let addr = sock.to_string();
    let tls = access.tls.is_some();
    let fail = |e| classify(&addr, tls, e);
    // AUTH is sent by hand below, not by the client's handshake, which folds every AUTH
    // failure into one "authentication failed" and hides Redis' reason.
    let redis_info = RedisConnectionInfo::default().set_skip_set_lib_name();
    let conn_addr = match &access.tls {
        // The certificate names the host as given, so the client gets the name, not the
        // resolved IP (resolved again by the client; `resolve` above gave the clear error).
        Some(_) => ConnectionAddr::TcpTls {
            host: host.to_string(),
            port,
            insecure: false,
            tls_params: None,
        },
        None => ConnectionAddr::Tcp(sock.ip().to_string(), port),
    };
    let info: ConnectionInfo = conn_addr
        .into_connection_info()
        .map_err(fail)?
        .set_redis_settings(redis_info)
        .set_tcp_settings(redis::io::tcp::TcpSettings::default().set_nodelay(true));
    let client = match access.tls.as_ref().and_then(|t| t.ca_pem.as_ref()) {
        Some(ca) => {
            // The redis crate builds its rustls config with the process's default provider.
            let _already = rustls::crypto::ring::default_provider().install_default();
            let certs = redis::TlsCertificates {
                client_tls: None,
                root_cert: Some(ca.as_bytes().to_vec()),
            };
            redis::Client::build_with_tls(info, certs).map_err(|e| {
                ActionError::BadParams(format!("`tls_ca` is not a PEM certificate: {e}"))
            })?
        }
        None => {
            if tls {
                let _already = rustls::crypto::ring::default_provider().install_default();
            }
            redis::Client::open(info).map_err(fail)?
        }
    };
    let started = std::time::Instant::now();
    let mut con = client
        .get_connection_with_timeout(CONNECT_DEADLINE)
        .map_err(fail)?;
    // The TLS handshake (on the first write), AUTH and PING share what is left of the budget.
    let left = CONNECT_DEADLINE
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    con.set_read_timeout(Some(left))
        .and_then(|()| con.set_write_timeout(Some(left)))
        .map_err(fail)?;
    let password = access.password.as_deref();
    if let Some(p) = password {
        redis::cmd("AUTH")
            .arg(p)
            .query::<()>(&mut con)
            .map_err(fail)?;
    }
    redis::cmd("PING").query::<()>(&mut con).map_err(fail)?;
    con.set_read_timeout(Some(IO_TIMEOUT))
        .and_then(|()| con.set_write_timeout(Some(IO_TIMEOUT)))
        .map_err(fail)?;
    let auth = u64::from(password.is_some());
    Ok(Connected {
        con,
        round_trips: 1 + u64::from(tls) + auth + 1,
    })
}
