//! `redwhisk snapshots list|show|restore|prune`: a profile's snapshots in object storage.

use anyhow::Context;
use chrono::Utc;

use super::args::{OutputFormat, load_profile};
use super::exit::Exit;
use super::headless::Headless;
use super::printer::Show;
use crate::profile::{Overrides, Profile};
use crate::snapshots::{self, SnapshotConfig, SnapshotId, SnapshotStore, SnapshotSummary, catalog};

/// What to do with the snapshots.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum SnapshotsAction {
    /// Complete snapshots, newest (highest generation) first; corrupt ones and incomplete
    /// uploads, which do not count.
    List(SnapArgs),
    /// One snapshot's manifest: files, sizes, sha256, Redis version, keys.
    Show {
        /// The snapshot id (`latest` for the newest).
        id: String,
        #[command(flatten)]
        args: SnapArgs,
    },
    /// Download, verify and place a snapshot in the data directory (Redis must be stopped);
    /// the next `redis up` loads it. Local data files are moved aside, not deleted.
    Restore {
        /// The snapshot id (`latest` for the newest).
        id: String,
        #[command(flatten)]
        args: SnapArgs,
    },
    /// Keep the newest N complete snapshots (the profile's `keep` by default); delete the
    /// rest, corrupt ones, and incomplete uploads older than the newest snapshot.
    Prune {
        #[command(flatten)]
        args: SnapArgs,
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1000))]
        keep: Option<u32>,
    },
}

/// The options every `snapshots` subcommand takes.
#[derive(Debug, Clone, clap::Args)]
pub struct SnapArgs {
    /// Profile name or path to a .toml file; it needs a `[snapshots]` section.
    #[arg(long, short, default_value = "local")]
    pub profile: String,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// The profile and its `[snapshots]` section, which every subcommand needs.
fn load(a: &SnapArgs) -> anyhow::Result<(Profile, SnapshotConfig)> {
    let p = load_profile(Some(&a.profile), &Overrides::default())?;
    let cfg = p.snapshots.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "profile `{}` ({}) has no [snapshots] section: add `[snapshots]` with `url = \"s3://bucket/prefix\"` (see docs/snapshots.md)",
            p.name,
            p.display_source()
        )
    })?;
    Ok((p, cfg))
}

async fn resolve_id(s: &SnapshotStore, profile: &str, id: &str) -> anyhow::Result<SnapshotId> {
    if id == "latest" {
        let cat = catalog::list(s, profile).await?;
        return cat
            .latest()
            .map(|m| m.id.clone())
            .ok_or_else(|| anyhow::anyhow!("no complete snapshot in {} yet", s.display));
    }
    SnapshotId::parse(id).map_err(|m| {
        anyhow::anyhow!("{m}; `redwhisk snapshots list --profile {profile}` shows the ids")
    })
}

/// Dispatch one `snapshots` subcommand.
pub async fn run(action: SnapshotsAction) -> anyhow::Result<Exit> {
    match action {
        SnapshotsAction::List(a) => list(&a).await,
        SnapshotsAction::Show { id, args } => show(&args, &id).await,
        SnapshotsAction::Restore { id, args } => restore(&args, &id).await,
        SnapshotsAction::Prune { args, keep } => prune(&args, keep).await,
    }
}

fn age(s: &SnapshotSummary) -> String {
    let secs = (Utc::now() - s.created_at).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs} s"),
        60..3600 => format!("{} min", secs / 60),
        3600..86400 => format!("{:.1} h", secs as f64 / 3600.0),
        _ => format!("{:.1} d", secs as f64 / 86400.0),
    }
}

async fn list(a: &SnapArgs) -> anyhow::Result<Exit> {
    let (p, cfg) = load(a)?;
    let s = SnapshotStore::open(&cfg, &p.name).await?;
    let cat = catalog::list(&s, &p.name)
        .await
        .with_context(|| format!("snapshots list --profile {}", p.name))?;
    match a.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&cat)?),
        OutputFormat::Text => {
            println!(
                "{} ({} complete, keep {})",
                s.display,
                cat.complete.len(),
                cfg.keep
            );
            println!(
                "{:<24} {:>5} {:>12} {:>10} {:>9} {:>11}  {:<13} redis",
                "id", "gen", "bytes", "keys", "age", "upload ms", "persistence"
            );
            for m in &cat.complete {
                let sum = SnapshotSummary::from(m);
                let generation = match (m.generation, m.generation_derived) {
                    (Some(g), false) => g.to_string(),
                    (Some(g), true) => format!("({g})"),
                    (None, _) => "-".into(),
                };
                println!(
                    "{:<24} {:>5} {:>12} {:>10} {:>9} {:>11.1}  {:<13} {}",
                    m.id.as_str(),
                    generation,
                    sum.bytes,
                    m.keys.map(|k| k.to_string()).unwrap_or_else(|| "-".into()),
                    age(&sum),
                    m.upload_ms,
                    m.persistence,
                    m.redis_version.as_deref().unwrap_or("-")
                );
            }
            for c in &cat.corrupt {
                println!(
                    "{:<24} (corrupt: {} is not a valid manifest: {}; never restored, `snapshots prune` deletes it)",
                    c.id.as_str(),
                    c.object,
                    c.error
                );
            }
            for id in &cat.incomplete {
                println!(
                    "{:<24} (incomplete: no manifest.json; not a snapshot)",
                    id.as_str()
                );
            }
        }
    }
    Ok(Exit::Success)
}

async fn show(a: &SnapArgs, id: &str) -> anyhow::Result<Exit> {
    let (p, cfg) = load(a)?;
    let s = SnapshotStore::open(&cfg, &p.name).await?;
    let id = resolve_id(&s, &p.name, id).await?;
    let m = catalog::manifest(&s, &id, &p.name).await?.ok_or_else(|| {
        snapshots::SnapshotError::NotFound {
            id: id.to_string(),
            at: s.display.clone(),
            profile: p.name.clone(),
        }
    })?;
    match a.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&m)?),
        OutputFormat::Text => {
            println!("snapshot     {}", m.id);
            println!("at           {}", s.url_of(&s.dir(&m.id)));
            println!("profile      {}", m.profile);
            println!("created      {}", m.created_at.to_rfc3339());
            println!(
                "generation   {}",
                match m.generation {
                    Some(g) => g.to_string(),
                    None =>
                        "- (written before generations; `list` derives one from the order)".into(),
                }
            );
            println!("persistence  {}", m.persistence);
            println!("redis        {}", m.redis_version.as_deref().unwrap_or("-"));
            println!(
                "keys         {}",
                m.keys.map(|k| k.to_string()).unwrap_or_else(|| "-".into())
            );
            println!("upload       {:.1} ms", m.upload_ms);
            for f in &m.files {
                println!(
                    "file         {}  {} bytes  sha256 {}",
                    f.path, f.size, f.sha256
                );
            }
        }
    }
    Ok(Exit::Success)
}

async fn restore(a: &SnapArgs, id: &str) -> anyhow::Result<Exit> {
    let (p, cfg) = load(a)?;
    let s = SnapshotStore::open(&cfg, &p.name).await?;
    let id = resolve_id(&s, &p.name, id).await?;
    let host = crate::redis_host::RedisHost::new(&p)?;
    let running = host
        .status()
        .await
        .map(|st| st.state == crate::redis_host::RedisState::Running);
    let job = Headless::new(Show::host());
    let result =
        snapshots::before_start(&p, &cfg, Some(&id), running.unwrap_or(false), &job.sink).await;
    job.finish().await;
    let r = result.with_context(|| format!("snapshots restore {id} --profile {}", p.name))?;
    match (a.output, r) {
        (OutputFormat::Json, r) => println!("{}", serde_json::to_string_pretty(&r)?),
        (OutputFormat::Text, Some(r)) => println!(
            "snapshot {} placed in {} ({} bytes, {} files, verified by sha256{}); `redwhisk redis up --profile {}` loads it",
            r.id,
            p.redis.data_dir.display(),
            r.bytes,
            r.files,
            if r.checked_with.is_empty() {
                String::new()
            } else {
                format!(" and {}", r.checked_with.join(", "))
            },
            p.name
        ),
        (OutputFormat::Text, None) => {}
    }
    Ok(Exit::Success)
}

async fn prune(a: &SnapArgs, keep: Option<u32>) -> anyhow::Result<Exit> {
    let (p, cfg) = load(a)?;
    let s = SnapshotStore::open(&cfg, &p.name).await?;
    let keep = keep.unwrap_or(cfg.keep);
    let gone = catalog::prune(&s, &p.name, keep as usize)
        .await
        .with_context(|| format!("snapshots prune --profile {}", p.name))?;
    match a.output {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "keep": keep, "deleted": gone }))?
        ),
        OutputFormat::Text => {
            println!("kept the newest {keep}; deleted {}", gone.len());
            for id in gone {
                println!("deleted {id}");
            }
        }
    }
    Ok(Exit::Success)
}
