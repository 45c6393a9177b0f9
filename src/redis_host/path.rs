//! The path the functions take to Redis under `[redis.network_emulation]`: the shaping proxy
//! (`netem`) is started after Redis, its round trip measured with PINGs against direct Redis,
//! and stopped with Redis. redwhisk's own control connections (readiness, INFO, SHUTDOWN) go
//! direct; only the endpoint handed to the functions points at the proxy.

use std::time::{Duration, Instant};

use super::ctx::Ctx;
use super::error::HostError;
use super::ops;
use super::types::Endpoint;
use crate::model::{NetworkRecord, RttSample};
use crate::netem::{self, ProxySpec};
use crate::profile::Backend;

/// PINGs per measurement (after [`WARMUP`] unrecorded ones).
const PINGS: u32 = 30;
const WARMUP: u32 = 3;
/// How long before the earliest possible reply the measuring client starts to spin: short, as
/// a spinning thread on a busy machine is preempted for a whole time slice.
const SPIN_BEFORE: Duration = Duration::from_micros(150);

/// The functions' way to Redis through the proxy.
#[derive(Debug, Clone)]
pub struct NetworkPath {
    /// Where the functions connect (the proxy), with Redis's password.
    pub endpoint: Endpoint,
    /// What was asked for and measured.
    pub record: NetworkRecord,
}

/// After Redis is up at `direct`: stop a proxy left from an earlier start unless this start
/// adopted its Redis and the proxy fits; start one when the profile asks; measure the path.
/// `adopted`: Redis was already running (nothing was cold-started).
pub(crate) async fn up(
    ctx: &Ctx<'_>,
    direct: &Endpoint,
    adopted: bool,
) -> Result<(Option<NetworkPath>, Option<tokio::process::Child>), HostError> {
    let dir = &ctx.profile.redis.data_dir;
    let Some(emulation) = ctx.profile.redis.network_emulation else {
        reap(ctx, "the profile asks for none").await?;
        return Ok((None, None));
    };
    // An external Redis's profile has no data directory of its own until now.
    super::password::ensure_data_dir(dir).await?;
    let listen = match &ctx.profile.redis.backend {
        // An external Redis may be anywhere; the proxy serves this host.
        Backend::External { .. } => std::net::IpAddr::from([127, 0, 0, 1]),
        _ => ctx.profile.redis.bind,
    };
    let spec = ProxySpec {
        listen,
        upstream_host: direct.host.clone(),
        upstream_port: direct.port,
        emulation,
        state_dir: dir.clone(),
    };
    let (state, child) = match netem::process::running(dir) {
        Some(st) if adopted && st.spec == spec => (st, None),
        _ => {
            reap(ctx, "it does not fit this start").await?;
            let exe = crate::platform::local::default_runner()
                .map_err(|e| netem::NetemError::Spawn(e.to_string()))?;
            let (st, child) = netem::process::start(&exe, &spec).await?;
            (st, Some(child))
        }
    };
    let endpoint = Endpoint {
        host: state.host.clone(),
        port: state.port,
        ..direct.clone()
    };
    let limit = ctx.reply_limit() + Duration::from_secs_f64(emulation.rtt_ms * 2.0 / 1e3);
    // Direct and through the proxy, one after the other on the same machine.
    let floor = Duration::from_secs_f64((emulation.rtt_ms - emulation.jitter_ms).max(0.0) / 1e3);
    let direct_rtt = measure(direct, limit, Duration::ZERO).await?;
    let measured = measure(&endpoint, limit, floor).await?;
    let record = NetworkRecord {
        method: emulation.method.label().into(),
        rtt_ms: emulation.rtt_ms,
        jitter_ms: emulation.jitter_ms,
        rate_mbit: emulation.rate_mbit,
        proxy: format!("{}:{}", state.host, state.port),
        measured,
        direct: direct_rtt,
    };
    ctx.events.info(record.summary());
    Ok((Some(NetworkPath { endpoint, record }), child))
}

/// Stop the proxy the data directory records, if one runs (`why` for the message).
pub(crate) async fn reap(ctx: &Ctx<'_>, why: &str) -> Result<(), HostError> {
    if let Some(pid) = netem::process::stop(&ctx.profile.redis.data_dir).await? {
        ctx.events.warn(format!(
            "stopped a shaping proxy (pid {pid}) left from an earlier start: {why}"
        ));
    }
    Ok(())
}

/// Stop the proxy with Redis; `Some(pid)` when one ran.
pub(crate) async fn down(ctx: &Ctx<'_>) -> Result<Option<u32>, HostError> {
    Ok(netem::process::stop(&ctx.profile.redis.data_dir).await?)
}

/// PING round trips over one authenticated connection, one at a time. The client busy-polls
/// its socket (as latency tools such as sockperf do) so the figure is the path's round trip,
/// not this process's own wake-up after each reply; measured on a blocking thread. No reply
/// can come before `floor` (the path's least delay), so the client sleeps until shortly
/// before it and spins only from there: a long spin on a busy machine is preempted.
pub(crate) async fn measure(
    ep: &Endpoint,
    limit: Duration,
    floor: Duration,
) -> Result<RttSample, HostError> {
    let (host, port) = (ep.host.clone(), ep.port);
    let password = ep.password.as_ref().map(|p| p.expose().to_string());
    let url = ep.display_url();
    let pings = tokio::task::spawn_blocking(move || {
        ping_series(&host, port, password.as_deref(), limit, floor)
    })
    .await
    .map_err(|e| std::io::Error::other(e.to_string()))
    .and_then(|r| r);
    let ms = match pings {
        Ok(ms) => ms,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(HostError::WrongPassword {
                endpoint: url,
                reply: e.to_string(),
            });
        }
        Err(source) => return Err(ops::net_error(ep, "PING", source)),
    };
    RttSample::of(ms).ok_or_else(|| HostError::Command {
        endpoint: url,
        command: "PING".into(),
        reply: "no round trip measured".into(),
    })
}

/// AUTH (when a password is set), then [`WARMUP`] + [`PINGS`] PINGs; the PINGs' round trips in
/// milliseconds.
fn ping_series(
    host: &str,
    port: u16,
    password: Option<&str>,
    limit: Duration,
    floor: Duration,
) -> std::io::Result<Vec<f64>> {
    use std::io::{Error, ErrorKind, Write};
    use std::net::ToSocketAddrs;
    let addr = (host, port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("{host} has no address")))?;
    // Precise sleeps on this thread (the timer slack defaults to 50 µs).
    let _slack = nix::sys::prctl::set_timerslack(1);
    let mut s = std::net::TcpStream::connect_timeout(&addr, limit)?;
    s.set_nodelay(true)?;
    s.set_nonblocking(true)?;
    let mut line = Vec::with_capacity(64);
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        s.write_all(format!("*2\r\n$4\r\nAUTH\r\n${}\r\n{p}\r\n", p.len()).as_bytes())?;
        read_line(&mut s, &mut line, limit)?;
        if !line.starts_with(b"+OK") {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                String::from_utf8_lossy(&line).trim().to_string(),
            ));
        }
    }
    let mut ms = Vec::with_capacity(PINGS as usize);
    for i in 0..WARMUP + PINGS {
        let t = Instant::now();
        s.write_all(b"*1\r\n$4\r\nPING\r\n")?;
        if let Some(nap) = floor.checked_sub(SPIN_BEFORE) {
            std::thread::sleep(nap);
        }
        read_line(&mut s, &mut line, limit)?;
        let took = t.elapsed();
        if line != b"+PONG\r\n" {
            return Err(Error::other(format!(
                "unexpected answer to PING: {}",
                String::from_utf8_lossy(&line).trim()
            )));
        }
        if i >= WARMUP {
            ms.push(took.as_secs_f64() * 1e3);
        }
    }
    Ok(ms)
}

/// Spin on a non-blocking socket until one `\r\n`-terminated line is in `line`.
fn read_line(
    s: &mut std::net::TcpStream,
    line: &mut Vec<u8>,
    limit: Duration,
) -> std::io::Result<()> {
    use std::io::{Error, ErrorKind, Read};
    line.clear();
    let t0 = Instant::now();
    let mut buf = [0u8; 256];
    while !line.ends_with(b"\r\n") {
        match s.read(&mut buf) {
            Ok(0) => return Err(Error::new(ErrorKind::UnexpectedEof, "connection closed")),
            Ok(n) => line.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                if t0.elapsed() > limit {
                    return Err(Error::new(
                        ErrorKind::TimedOut,
                        format!("no reply in {} ms", limit.as_millis()),
                    ));
                }
                std::hint::spin_loop();
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
