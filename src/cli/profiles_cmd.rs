//! `redwhisk profiles`

use super::args::OutputFormat;
use super::exit::Exit;
use crate::profile::list_profiles;

pub fn run(output: OutputFormat) -> anyhow::Result<Exit> {
    let entries = list_profiles();
    let mut bad = false;
    match output {
        OutputFormat::Json => {
            let rows: Vec<_> = entries
                .iter()
                .map(|e| match &e.profile {
                    Ok(p) => serde_json::json!({
                        "name": e.name,
                        "path": e.path,
                        "backend": p.redis.backend.label(),
                        "cluster": p.redis.cluster.map(|c| serde_json::json!({
                            "shards": c.shards,
                            "replicas": c.replicas,
                            "external": p.redis.owned_cluster().is_none(),
                        })),
                        "platform": p.platform.label(),
                        "description": p.description,
                    }),
                    Err(err) => serde_json::json!({
                        "name": e.name,
                        "path": e.path,
                        "error": err.to_string(),
                    }),
                })
                .collect();
            bad = entries.iter().any(|e| e.profile.is_err());
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
        OutputFormat::Text => {
            println!(
                "{:<20} {:<16} {:<10} SOURCE",
                "PROFILE", "BACKEND", "PLATFORM"
            );
            for e in &entries {
                let src = e
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "(embedded)".into());
                match &e.profile {
                    Ok(p) => println!(
                        "{:<20} {:<16} {:<10} {}",
                        e.name,
                        p.redis.shape_label(),
                        p.platform.label(),
                        src
                    ),
                    Err(err) => {
                        bad = true;
                        println!(
                            "{:<20} {:<9} {:<10} {}\n  error: {}",
                            e.name, "-", "-", src, err
                        );
                    }
                }
            }
        }
    }
    Ok(if bad { Exit::Failures } else { Exit::Success })
}
