//! `redwhisk gateway`: the scale-to-zero gateway in the foreground, one line per state change.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use super::OutputFormat;
use crate::event::{EngineEvent, EventSink, Level};
use crate::gateway::{Gateway, GatewayEvent, GatewayOptions, GatewaySnapshot};
use crate::profile::find_profile;
use crate::stats::quantile;

/// How an open connection counts, shown by `--help`.
const ABOUT_IDLE: &str = "\
Clients connect to the gateway as they would to Redis (same password, same protocol). While
Redis sleeps, a client's first byte starts it (a connection that closes or stays silent starts
nothing); every client arriving during the start waits for that one start with its bytes held,
then is spliced to Redis once it answers PING.

Idle: Redis is saved (SHUTDOWN SAVE, or the profile's persistence) and stopped when NO client
connection has been open for --idle. An open connection that has sent a byte keeps Redis awake
however quiet it is (unless gateway.client_idle_timeout_ms closes it):
it may hold state that lives only in Redis (SELECT, MULTI, SUBSCRIBE, CLIENT TRACKING), and
closing it under a client would be a failure the client did not cause. Clients that want Redis
to sleep close their connections (functions should close theirs at the end of an invocation).

SIGINT/SIGTERM: answer new clients with -ERR shutting down, let open connections finish for
--grace, save and stop Redis, exit 0. See docs/gateway.md.";

/// Arguments of `redwhisk gateway`.
#[derive(Debug, Clone, clap::Args)]
#[command(long_about = ABOUT_IDLE)]
pub struct GatewayArgs {
    /// Profile name (searched in ./profiles and the config directory) or path to a .toml file.
    #[arg(long, short, default_value = "local")]
    pub profile: String,
    /// Address to listen on (default: gateway.listen; port 0 picks a free port).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Stop Redis after no client connection was open for this long, e.g. 500ms, 30s, 5m
    /// (default: gateway.idle_ms). An open but quiet connection keeps Redis awake.
    #[arg(long, value_parser = parse_duration)]
    pub idle: Option<Duration>,
    /// On SIGINT/SIGTERM, how long open connections may finish before they are closed.
    #[arg(long, value_parser = parse_duration, default_value = "10s")]
    pub grace: Duration,
    /// Allow a listen address that is not loopback (anyone who can reach it can wake Redis).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// text: one line per state change; json: one JSON object per line.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// `500ms`, `2s`, `1m30s`; a bare number is milliseconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    if let Ok(ms) = s.parse::<u64>() {
        return Ok(Duration::from_millis(ms));
    }
    humantime::parse_duration(s).map_err(|e| format!("{e}; write e.g. 500ms, 30s or 5m"))
}

pub async fn run(args: GatewayArgs) -> anyhow::Result<ExitCode> {
    let profile = find_profile(&args.profile)?;
    let mut opts = GatewayOptions::from_profile(&profile);
    if let Some(l) = args.listen {
        opts.config.listen = l;
    }
    if let Some(i) = args.idle {
        if i < Duration::from_millis(10) {
            anyhow::bail!("--idle {i:?} is too short; use at least 10ms");
        }
        opts.config.idle = i;
    }
    opts.grace = args.grace;
    opts.allow_non_loopback = args.allow_non_loopback;
    let (sink, printer) = printer(args.output);
    let bound = Gateway::bind(&profile, opts.clone(), &sink).await;
    let gw = match bound {
        Ok(gw) => gw,
        Err(e) => {
            drop(sink);
            let _printed = printer.await;
            return Err(e).with_context(|| format!("gateway --profile {}", profile.name));
        }
    };
    let addr = gw.local_addr();
    eprintln!(
        "gateway for profile `{}` ({} backend) listening on {addr}; idle {} ms, wake timeout {} ms. \
         Clients use the profile's Redis password ({}).",
        profile.name,
        profile.redis.backend.label(),
        opts.config.idle.as_millis(),
        opts.config.wake_timeout.as_millis(),
        match &profile.redis.password {
            Some(_) => "set in the profile".to_string(),
            None => format!(
                "stored in {}",
                profile
                    .redis
                    .data_dir
                    .join(crate::redis_host::password::PASSWORD_FILE)
                    .display()
            ),
        }
    );
    let cancel = CancellationToken::new();
    let watcher = cancel_on_signals(&cancel);
    let report = gw.serve(sink, cancel).await;
    watcher.abort();
    let _printed = printer.await;
    let p50 = quantile(&report.wake_ms, 0.5);
    let p99 = quantile(&report.wake_ms, 0.99);
    let fmt = |v: Option<f64>| {
        v.map(|v| format!("{v:.1} ms"))
            .unwrap_or_else(|| "-".into())
    };
    eprintln!(
        "gateway stopped: {} connections, {} wakes (p50 {}, p99 {}), {} failed wakes, {} refused",
        report.last.total,
        report.last.wakes,
        fmt(p50),
        fmt(p99),
        report.last.wake_failures,
        report.last.refused
    );
    Ok(ExitCode::SUCCESS)
}

/// SIGINT or SIGTERM cancels `token`.
fn cancel_on_signals(token: &CancellationToken) -> tokio::task::JoinHandle<()> {
    let token = token.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) else {
            return;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        eprintln!("gateway: stopping (open connections get the grace period; Redis is saved)");
        token.cancel();
    })
}

/// One line per state change on stdout; log lines on stderr.
fn printer(output: OutputFormat) -> (EventSink, tokio::task::JoinHandle<()>) {
    let (sink, mut rx) = EventSink::new();
    let task = tokio::spawn(async move {
        while let Some(ev) = rx.recv().await {
            match ev {
                EngineEvent::Gateway(GatewayEvent::State(s)) => match output {
                    OutputFormat::Text => println!("{}", state_line(&s)),
                    OutputFormat::Json => {
                        if let Ok(line) = serde_json::to_string(&GatewayEvent::State(s)) {
                            println!("{line}");
                        }
                    }
                },
                EngineEvent::Log { level, message } => {
                    let tag = match level {
                        Level::Info => "info",
                        Level::Warn => "warning",
                        Level::Error => "error",
                    };
                    eprintln!("{tag}: {message}");
                }
                _ => {}
            }
        }
    });
    (sink, task)
}

/// `2026-12-03T08:00:00.123Z awake    open 1 pending 0 total 3 wakes 1 — why`.
pub fn state_line(s: &GatewaySnapshot) -> String {
    format!(
        "{} {:<8} open {} pending {} total {} wakes {} failed {} refused {} up {} B down {} B — {}",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        s.state.label(),
        s.open,
        s.pending,
        s.total,
        s.wakes,
        s.wake_failures,
        s.refused,
        s.bytes_up,
        s.bytes_down,
        s.reason
    )
}
