//! `redwhisk gateway`: the scale-to-zero gateway in the foreground, one line per state change.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;

use super::args::{OutputFormat, idle, load_profile, up_to_an_hour};
use super::exit::Exit;
use super::headless::Headless;
use super::printer::Show;
use super::signals::OnSignal;
use crate::gateway::{Gateway, GatewayOptions};
use crate::profile::Overrides;
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
    /// (default: gateway.idle_ms; 10ms to 1day). An open but quiet connection keeps Redis
    /// awake.
    #[arg(long, value_parser = idle)]
    pub idle: Option<Duration>,
    /// On SIGINT/SIGTERM, how long open connections may finish before they are closed.
    #[arg(long, value_parser = up_to_an_hour, default_value = "10s")]
    pub grace: Duration,
    /// Allow a listen address that is not loopback (anyone who can reach it can wake Redis).
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// text: one line per state change; json: one JSON object per line.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// Exit codes: 0 served until SIGINT/SIGTERM (Redis saved and stopped); 1 an error.
pub async fn run(args: GatewayArgs) -> anyhow::Result<Exit> {
    let profile = load_profile(Some(&args.profile), &Overrides::default())?;
    let mut opts = GatewayOptions::from_profile(&profile);
    if let Some(l) = args.listen {
        opts.config.listen = l;
    }
    if let Some(i) = args.idle {
        opts.config.idle = i;
    }
    opts.grace = args.grace;
    opts.allow_non_loopback = args.allow_non_loopback;
    let mut job = Headless::new(Show::gateway(args.output));
    let gw = match Gateway::bind(&profile, opts.clone(), &job.sink).await {
        Ok(gw) => gw,
        Err(e) => {
            job.finish().await;
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
    job.watch_signals(OnSignal::Drain {
        message: "gateway: stopping (open connections get the grace period; Redis is saved)",
    })
    .context("cannot watch for signals")?;
    let report = gw.serve(job.sink.clone(), job.cancel.clone()).await;
    job.finish().await;
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
    Ok(Exit::Success)
}
