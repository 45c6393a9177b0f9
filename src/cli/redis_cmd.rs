//! `redwhisk redis up|down|status`: the Redis host on its own, outside a run.

use anyhow::Context;

use super::args::{OutputFormat, load_profile};
use super::exit::Exit;
use super::headless::Headless;
use super::printer::{Show, tag};
use crate::event::Level;
use crate::profile::{Overrides, Profile};
use crate::redis_host::{Owner, RedisHost, RedisStatus, StopMode};
use crate::snapshots::{SnapshotId, UploadOutcome};

/// What to do with the profile's Redis.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum RedisAction {
    /// Start the profile's Redis and leave it running (a later `down` stops it).
    Up {
        #[command(flatten)]
        args: RedisArgs,
        /// Restore this snapshot first (`redwhisk snapshots list`); local data files are
        /// moved aside, not deleted.
        #[arg(long, value_name = "ID")]
        restore: Option<String>,
    },
    /// Stop it: SHUTDOWN SAVE (NOSAVE for persistence = none), or SIGKILL with --crash.
    Down {
        #[command(flatten)]
        args: RedisArgs,
        /// Kill without saving (what the data-sharing experiment does).
        #[arg(long)]
        crash: bool,
        /// Stop it even though another live redwhisk process (a run, a console) is using it.
        #[arg(long)]
        force: bool,
    },
    /// Backend, state, endpoint, uptime, keys, memory, persistence and last save.
    Status(RedisArgs),
}

/// The options every `redis` subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct RedisArgs {
    /// Profile name (searched in ./profiles and the config directory) or path to a .toml file.
    #[arg(long, short, default_value = "local")]
    pub profile: String,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

fn load(a: &RedisArgs) -> anyhow::Result<Profile> {
    load_profile(Some(&a.profile), &Overrides::default())
}

/// Dispatch one `redis` subcommand.
pub async fn run(action: RedisAction) -> anyhow::Result<Exit> {
    match action {
        RedisAction::Up { args, restore } => up(&args, restore.as_deref()).await,
        RedisAction::Down { args, crash, force } => down(&args, crash, force).await,
        RedisAction::Status(a) => status(&a).await,
    }
}

async fn up(a: &RedisArgs, restore: Option<&str>) -> anyhow::Result<Exit> {
    let profile = load(a)?;
    // Detached: `redis up` is meant to outlive this command.
    let mut host = RedisHost::new(&profile)?.with_owner(Owner::Detached);
    if let Some(id) = restore {
        let id = SnapshotId::parse(id).map_err(|m| anyhow::anyhow!("--restore: {m}"))?;
        host = host.with_restore(id);
    }
    let job = Headless::new(Show::host());
    let result = host.up(&job.sink).await;
    job.finish().await;
    let started = result.with_context(|| format!("redis up --profile {}", profile.name))?;
    let network = started.network.clone();
    let (ep, cold) = (started.endpoint, started.cold_start);
    match a.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "profile": profile.name,
                "endpoint": ep.display_url(),
                "listen": listen_addr(&profile, ep.port),
                "cold_start": cold,
                // Where the functions connect under [redis.network_emulation] (the proxy).
                "functions_endpoint": network.as_ref().map(|n| n.endpoint.display_url()),
                "network_emulation": network.as_ref().map(|n| &n.record),
            }))?
        ),
        OutputFormat::Text => {
            println!(
                "redis ({}) running at {}",
                profile.redis.backend.label(),
                ep.display_url()
            );
            if !profile.redis.bind.is_loopback()
                && let Some(addr) = listen_addr(&profile, ep.port)
            {
                println!("listening on {addr} (redis.bind), not only on loopback");
            }
            match cold {
                Some(c) => {
                    if let Some(r) = &c.restore {
                        println!(
                            "snapshot {} restored: {} bytes, download {:.1} ms, verify {:.1} ms, total {:.1} ms",
                            r.id, r.bytes, r.download_ms, r.verify_ms, r.total_ms
                        );
                    }
                    println!(
                        "cold start: image {:.1} ms, create {:.1} ms, start {:.1} ms, ready {:.1} ms, total {:.1} ms; {}",
                        c.image_ms,
                        c.create_ms,
                        c.start_ms,
                        c.ready_ms,
                        c.total_ms,
                        c.keys_origin()
                    );
                    if let Some(cl) = &c.cluster {
                        println!("{}", cl.summary());
                    }
                }
                None => println!("(it was already running)"),
            }
            if let Some(n) = &network {
                println!(
                    "functions connect through the shaping proxy at {}",
                    n.endpoint.display_url()
                );
                println!("{}", n.record.summary());
            }
        }
    }
    Ok(Exit::Success)
}

async fn down(a: &RedisArgs, crash: bool, force: bool) -> anyhow::Result<Exit> {
    let profile = load(a)?;
    let job = Headless::new(Show::host());
    let mode = if crash {
        StopMode::Crash
    } else {
        StopMode::Graceful
    };
    let mut host = RedisHost::new(&profile)?.with_force(force);
    let result = host.down(mode, &job.sink).await;
    job.finish().await;
    let report = result.with_context(|| format!("redis down --profile {}", profile.name))?;
    match a.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Text if !report.was_running => println!("redis was not running"),
        OutputFormat::Text => println!(
            "redis stopped ({}): shutdown {:.1} ms, remove {:.1} ms, total {:.1} ms",
            if crash {
                "SIGKILL, no save"
            } else {
                "graceful"
            },
            report.shutdown_ms,
            report.remove_ms,
            report.total_ms
        ),
    }
    match &report.snapshot {
        Some(UploadOutcome::Uploaded { snapshot, pruned }) => {
            if a.output == OutputFormat::Text {
                println!(
                    "snapshot {} uploaded: {} bytes in {:.1} ms{}",
                    snapshot.id,
                    snapshot.bytes,
                    snapshot.upload_ms,
                    if pruned.is_empty() {
                        String::new()
                    } else {
                        format!(" ({} old snapshots pruned)", pruned.len())
                    }
                );
            }
            Ok(Exit::Success)
        }
        // The stop worked, the upload did not: fail; the error line was printed once, as
        // the event it also is for the console.
        Some(UploadOutcome::Pending { .. }) => Ok(Exit::Error),
        Some(UploadOutcome::Skipped) | None => Ok(Exit::Success),
    }
}

async fn status(a: &RedisArgs) -> anyhow::Result<Exit> {
    let profile = load(a)?;
    let s = RedisHost::new(&profile)?
        .status()
        .await
        .with_context(|| format!("redis status --profile {}", profile.name))?;
    // Where Redis really listens: the endpoint is where this host connects (loopback for
    // a bind of 0.0.0.0).
    let listen = s.port.and_then(|port| listen_addr(&profile, port));
    // `[redis.network_emulation]`: the shaping proxy the functions connect through, if it runs.
    let proxy = crate::netem::process::running(&profile.redis.data_dir);
    match a.output {
        OutputFormat::Json => {
            let mut v = serde_json::to_value(&s)?;
            if let Some(obj) = v.as_object_mut() {
                obj.insert("listen".into(), serde_json::json!(listen));
                if let Some(p) = &proxy {
                    obj.insert(
                        "shaping_proxy".into(),
                        serde_json::json!({
                            "pid": p.pid,
                            "listen": format!("{}:{}", p.host, p.port),
                            "emulation": p.spec.emulation,
                        }),
                    );
                }
            }
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        OutputFormat::Text => {
            print!("{}", status_text(&s));
            if let Some(l) = &listen {
                println!("{:<12} {l}", "listen");
            }
            if let Some(p) = &proxy {
                let e = &p.spec.emulation;
                println!(
                    "{:<12} {}:{} (shaping proxy pid {}, {}: rtt {} ms ± {} ms{})",
                    "functions",
                    p.host,
                    p.port,
                    p.pid,
                    e.method.label(),
                    e.rtt_ms,
                    e.jitter_ms,
                    e.rate_mbit
                        .map_or_else(String::new, |r| format!(", {r} Mbit/s"))
                );
            }
        }
    }
    if s.state == crate::redis_host::RedisState::Running
        && let Some(port) = s.port
        && let Some(w) = crate::redis_host::exposure_warning(&profile, port)
    {
        eprintln!("{}: {w}", tag(Level::Warn));
    }
    // A status that reports a problem (a server that does not answer, a cluster node down)
    // is not a success: scripts checking `redis status` see it in the exit code (2).
    if s.problem.is_some() || s.state == crate::redis_host::RedisState::Failed {
        return Ok(Exit::Failures);
    }
    Ok(Exit::Success)
}

/// `host:port` Redis listens on (process and docker backends; none for external).
fn listen_addr(profile: &crate::profile::Profile, port: u16) -> Option<String> {
    if matches!(
        profile.redis.backend,
        crate::profile::Backend::External { .. }
    ) {
        return None;
    }
    Some(std::net::SocketAddr::new(profile.redis.bind, port).to_string())
}

/// The status as aligned `field: value` lines.
pub fn status_text(s: &RedisStatus) -> String {
    let dash = || "-".to_string();
    let rows = [
        ("profile", s.profile.clone()),
        ("backend", s.backend.clone()),
        ("state", s.state.label().to_string()),
        ("endpoint", s.endpoint.clone().unwrap_or_else(dash)),
        ("image", s.image.clone().unwrap_or_else(dash)),
        ("container", s.container.clone().unwrap_or_else(dash)),
        ("pid", s.pid.map(|p| p.to_string()).unwrap_or_else(dash)),
        (
            "uptime",
            s.uptime_s.map(|u| format!("{u} s")).unwrap_or_else(dash),
        ),
        ("keys", s.keys.map(|k| k.to_string()).unwrap_or_else(dash)),
        (
            "used memory",
            s.used_memory.map(|m| format!("{m} B")).unwrap_or_else(dash),
        ),
        ("persistence", s.persistence.clone()),
        (
            "last save",
            s.last_save.map(|t| t.to_rfc3339()).unwrap_or_else(dash),
        ),
        ("data dir", s.data_dir.clone().unwrap_or_else(dash)),
        ("problem", s.problem.clone().unwrap_or_else(dash)),
    ];
    let mut out: String = rows.iter().map(|(k, v)| format!("{k:<12} {v}\n")).collect();
    for n in s.nodes.iter().flatten() {
        let mut parts = vec![
            n.addr.clone(),
            format!("{:<7}", n.role),
            format!("{:<6}", n.state),
        ];
        if !n.slots.is_empty() {
            parts.push(format!("slots {}", n.slots));
        }
        if let Some(m) = &n.master {
            parts.push(format!("of {m}"));
        }
        if let Some(k) = n.keys {
            parts.push(format!("{k} keys"));
        }
        out.push_str(&format!(
            "{:<12} {}\n",
            format!("node {}", n.index),
            parts.join(" ")
        ));
    }
    out
}
