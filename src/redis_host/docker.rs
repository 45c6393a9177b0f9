//! The `docker` backend: a labelled Redis container through bollard, data bind-mounted at /data.

use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::ContainerSummary;
use bollard::query_parameters::KillContainerOptionsBuilder;
use chrono::Utc;

use super::container::{
    LABEL_OWNER, connect, create, endpoint_of, exit_of, id_of, is_paused, is_running, label,
    log_tail, ours, pid_and_paused, remove, settings, short, unclean_exit, wait_stopped,
};
use super::ctx::{Ctx, Up};
use super::error::HostError;
use super::state::{self, Found, HostState, Owner};
use super::types::Endpoint;
use super::{image, ops, password, ports, ready, save_watch};
use crate::model::redis::{ColdStart, RedisStatus, StopMode, StopReport};
use crate::stats::ms;
/// Deal with containers a previous run left: adopt, refuse, reap (orphans) or remove (stopped).
async fn settle_existing(docker: &Docker, ctx: &Ctx<'_>) -> Result<Option<Up>, HostError> {
    for c in ours(docker, &ctx.profile.name).await? {
        let id = id_of(&c);
        if !is_running(&c) {
            remove(docker, &id).await?;
            ctx.events.info(format!(
                "removed stopped container {} left by an earlier run (its data stays in {})",
                short(&id),
                ctx.profile.redis.data_dir.display()
            ));
            continue;
        }
        let owner = Owner::parse(label(&c, LABEL_OWNER).unwrap_or(""));
        let ep = endpoint_of(&c, ctx);
        match state::classify(owner, ctx.owner).await {
            Found::Adopt => {
                let timeout = ctx.profile.redis.ready_timeout;
                ready::wait_ready(&ep, timeout, || async { None }, || log_tail(docker, &id))
                    .await?;
                ctx.events.info(format!(
                    "container {} already runs on {}; using it",
                    short(&id),
                    ep.display_url()
                ));
                return Ok(Some(Up::adopted(ep)));
            }
            Found::InUse(owner) => {
                return Err(HostError::InUse {
                    profile: ctx.profile.name.clone(),
                    owner,
                });
            }
            Found::Orphan => {
                match pid_and_paused(docker, &id).await {
                    // Its starter was killed during the final save: let the save finish.
                    Some((pid, _))
                        if save_watch::saving(pid, &ctx.profile.redis.data_dir).await =>
                    {
                        ctx.events.info(format!(
                            "orphan container {} (started by {}, which is gone) is still saving: waiting for it to finish",
                            short(&id),
                            owner.label()
                        ));
                        wait_own_save(docker, ctx, &id, pid, &ep).await?;
                    }
                    // A loading orphan is waited for by the SHUTDOWN, then saved and stopped.
                    _ => {
                        ops::shutdown(
                            &ep,
                            &ctx.profile.redis.persistence,
                            ctx.reply_limit(),
                            ctx.save_limit(),
                        )
                        .await?;
                    }
                }
                wait_stopped(docker, &id).await?;
                remove(docker, &id).await?;
                ctx.events.warn(format!(
                    "reaped orphan container {} (started by {}, which is gone): {}, container removed",
                    short(&id),
                    owner.label(),
                    super::ops::reaped_data(&ctx.profile.redis.persistence)
                ));
            }
        }
    }
    Ok(None)
}

/// Start (or adopt) the container.
pub(crate) async fn up(ctx: &Ctx<'_>) -> Result<Up, HostError> {
    let t0 = Instant::now();
    let set = settings(ctx)?;
    let cfg = &ctx.profile.redis;
    let docker = connect().await?;
    if let Some(adopted) = settle_existing(&docker, ctx).await? {
        return Ok(adopted);
    }
    let port = ports::choose(cfg.bind, cfg.port, &ctx.profile.name).await?;
    password::write_conf(&cfg.data_dir, &ctx.password).await?;
    let host = super::resp::connect_host(&cfg.bind.to_string()).to_string();
    let t_create = Instant::now();
    // Create first and ensure the image only on "no such image" (as the docker CLI does):
    // an inspect before every create would add a round trip to every cold start.
    let mut image_ms = 0.0;
    let created = match create(&docker, ctx, &set, port, &host).await {
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => {
            let t_image = Instant::now();
            image::ensure(&docker, set.image, set.pull, ctx.events).await?;
            image_ms = ms(t_image.elapsed());
            create(&docker, ctx, &set, port, &host).await
        }
        other => other,
    };
    let created = created.map_err(|e| match e {
        DockerError::DockerResponseServerError {
            status_code: 409, ..
        } => HostError::NameConflict {
            name: set.name.to_string(),
        },
        e => HostError::docker("create container", e),
    })?;
    let create_ms = ms(t_create.elapsed()) - image_ms;
    let id = created.id;
    let t_start = Instant::now();
    if let Err(e) = docker.start_container(&id, None).await {
        remove(&docker, &id).await?;
        return Err(HostError::docker("start container", e));
    }
    let start_ms = ms(t_start.elapsed());
    let t_ready = Instant::now();
    let st = HostState {
        backend: "docker".into(),
        pid: None,
        pid_start: None,
        container: Some(set.name.to_string()),
        host: host.clone(),
        port,
        started_at: Utc::now(),
        owner: ctx.owner,
    };
    state::write(&cfg.data_dir, &st).await?;
    let ep = Endpoint {
        host,
        port,
        password: Some(ctx.password.clone()),
        tls: false,
        tls_ca: None,
        db: 0,
    };
    let d = &docker;
    let cid = id.as_str();
    let waited = ready::wait_ready(
        &ep,
        cfg.ready_timeout,
        move || async move {
            match d.inspect_container(cid, None).await {
                Ok(i) if i.state.as_ref().and_then(|s| s.running) == Some(false) => {
                    let code = i.state.and_then(|s| s.exit_code).unwrap_or(-1);
                    Some(format!("container exited with code {code}"))
                }
                _ => None,
            }
        },
        || log_tail(d, cid),
    )
    .await;
    if let Err(e) = waited {
        // Leave nothing half-started behind (its log is already in the error).
        remove(&docker, &id).await?;
        state::remove(&cfg.data_dir).await?;
        return Err(e);
    }
    let ready_ms = ms(t_ready.elapsed());
    let keys = ops::info(&ep, ctx.reply_limit()).await?.keys;
    Ok(Up {
        steps: Vec::new(),
        endpoint: ep,
        cold: Some(ColdStart {
            backend: "docker".into(),
            image_ms,
            create_ms,
            start_ms,
            ready_ms,
            total_ms: ms(t0.elapsed()),
            keys_restored: keys,
            restore: None,
            cluster: None,
            network_emulation: None,
        }),
        child: None,
    })
}

/// Stop this profile's container: SHUTDOWN over the protocol (or SIGKILL), then remove it.
pub(crate) async fn down(ctx: &Ctx<'_>, mode: StopMode) -> Result<StopReport, HostError> {
    let t0 = Instant::now();
    let set = settings(ctx)?;
    let docker = connect().await?;
    let found = ours(&docker, &ctx.profile.name).await?;
    // A paused container cannot save, whatever the mode: remove it (force) and say so, rather
    // than treat it as stopped (its state is not "running").
    if let Some(c) = found.iter().find(|c| is_paused(c)) {
        let id = id_of(c);
        for other in &found {
            remove(&docker, &id_of(other)).await?;
        }
        state::remove(&ctx.profile.redis.data_dir).await?;
        return Err(HostError::KilledUnresponsive {
            what: format!("container {}", short(&id)),
            cause: "the container is paused (docker pause): frozen, it cannot save".into(),
        });
    }
    let running: Vec<&ContainerSummary> = found.iter().filter(|c| is_running(c)).collect();
    let mut died = 0;
    for c in &running {
        let id = id_of(c);
        match mode {
            StopMode::Graceful => {
                let ep = endpoint_of(c, ctx);
                let p = &ctx.profile.redis.persistence;
                let cfg = &ctx.profile.redis;
                let limits = (ctx.reply_limit(), ctx.save_limit());
                let shut = match pid_and_paused(&docker, &id).await {
                    // A SHUTDOWN already under way (sent by a redwhisk that was killed, or
                    // resumed after a freeze): wait for it rather than send another.
                    Some((pid, _)) if save_watch::saving(pid, &cfg.data_dir).await => {
                        ctx.events.info(format!(
                            "container {} is still saving (a SHUTDOWN already under way): waiting for it to finish",
                            short(&id)
                        ));
                        wait_own_save(&docker, ctx, &id, pid, &ep).await
                    }
                    Some((pid, _)) => {
                        let watch = save_watch::frozen(
                            pid,
                            cfg.data_dir.clone(),
                            cfg.stop_timeout,
                            ctx.interrupt.clone(),
                            || async {
                                pid_and_paused(&docker, &id)
                                    .await
                                    .is_some_and(|(_, paused)| paused)
                            },
                        );
                        ops::shutdown_watched(&ep, p, limits.0, limits.1, watch).await
                    }
                    None => ops::shutdown(&ep, p, limits.0, limits.1).await,
                };
                match shut {
                    Ok(()) => {}
                    // Frozen mid-save: its data is in memory only, so the container is left
                    // as it is (and still labelled ours, for the next `redis down`).
                    Err(e @ HostError::FrozenDuringStop { .. }) => return Err(e),
                    // Frozen (e.g. `docker pause`): it cannot save; remove it rather than leave
                    // it holding the port and the data directory.
                    Err(cause @ HostError::NotAnswering { .. }) => {
                        kill(&docker, &id).await?;
                        remove(&docker, &id).await?;
                        state::remove(&ctx.profile.redis.data_dir).await?;
                        return Err(HostError::KilledUnresponsive {
                            what: format!("container {}", short(&id)),
                            cause: cause.to_string(),
                        });
                    }
                    // Refused: Redis died (`docker kill`, OOM) and Docker may not have
                    // marked the container exited yet. Once it has, there is nothing to
                    // stop: it is removed below like any stopped container of ours.
                    Err(cause @ HostError::Connect { .. }) => {
                        let exited = tokio::time::timeout(
                            Duration::from_secs(5),
                            wait_stopped(&docker, &id),
                        )
                        .await;
                        if matches!(exited, Ok(Ok(()))) {
                            died += 1;
                            continue;
                        }
                        return Err(HostError::StopFailed {
                            what: format!("container {}", short(&id)),
                            cause: cause.to_string(),
                            profile: ctx.profile.name.clone(),
                        });
                    }
                    Err(cause) => {
                        return Err(HostError::StopFailed {
                            what: format!("container {}", short(&id)),
                            cause: cause.to_string(),
                            profile: ctx.profile.name.clone(),
                        });
                    }
                }
            }
            StopMode::Crash => kill(&docker, &id).await?,
        }
        wait_stopped(&docker, &id).await?;
        // The connection closing after SHUTDOWN looks the same whether Redis saved and exited
        // or was killed mid-save: only the exit code tells them apart.
        if mode == StopMode::Graceful
            && let Some(how) = unclean_exit(exit_of(&docker, &id).await)
        {
            if !set.keep {
                for c in &found {
                    remove(&docker, &id_of(c)).await?;
                }
            }
            state::remove(&ctx.profile.redis.data_dir).await?;
            return Err(HostError::DiedDuringStop {
                what: format!("container {}", short(&id)),
                how,
            });
        }
    }
    let shutdown_ms = ms(t0.elapsed());
    let t_remove = Instant::now();
    if !set.keep {
        for c in &found {
            remove(&docker, &id_of(c)).await?;
        }
    }
    let remove_ms = ms(t_remove.elapsed());
    state::remove(&ctx.profile.redis.data_dir).await?;
    if running.len() == died {
        return Ok(StopReport::nothing(mode));
    }
    Ok(StopReport {
        mode,
        was_running: true,
        shutdown_ms,
        remove_ms,
        total_ms: ms(t0.elapsed()),
        snapshot: None,
    })
}

/// A container already saving on its own (a `SHUTDOWN` under way): wait for it to stop,
/// watching the save (frozen or paused for `redis.stop_timeout_ms` ends the wait, the
/// container left as it is), within the save deadline.
async fn wait_own_save(
    docker: &Docker,
    ctx: &Ctx<'_>,
    id: &str,
    pid: u32,
    ep: &Endpoint,
) -> Result<(), HostError> {
    let cfg = &ctx.profile.redis;
    let limit = ctx.save_limit();
    let watch = save_watch::frozen(
        pid,
        cfg.data_dir.clone(),
        cfg.stop_timeout,
        ctx.interrupt.clone(),
        || async {
            pid_and_paused(docker, id)
                .await
                .is_some_and(|(_, paused)| paused)
        },
    );
    tokio::select! {
        waited = tokio::time::timeout(limit, wait_stopped(docker, id)) => match waited {
            Ok(w) => w,
            Err(_) => Err(HostError::StopTimeout {
                what: format!("container {}", short(id)),
                command: "its own SHUTDOWN".into(),
                timeout_ms: u64::try_from(limit.as_millis()).unwrap_or(u64::MAX),
            }),
        },
        why = watch => Err(HostError::FrozenDuringStop { endpoint: ep.display_url(), why }),
    }
}

/// Fill the docker fields of a status; the endpoint when a container runs.
pub(crate) async fn status_endpoint(
    ctx: &Ctx<'_>,
    s: &mut RedisStatus,
) -> Result<Option<Endpoint>, HostError> {
    let set = settings(ctx)?;
    s.image = Some(set.image.to_string());
    let docker = connect().await?;
    let found = ours(&docker, &ctx.profile.name).await?;
    let Some(c) = found.iter().find(|c| is_running(c)).or(found.first()) else {
        return Ok(None);
    };
    s.container = c
        .names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_string());
    Ok(is_running(c).then(|| endpoint_of(c, ctx)))
}

/// SIGKILL a container; one that is already gone or stopped is fine.
async fn kill(docker: &Docker, id: &str) -> Result<(), HostError> {
    let opts = KillContainerOptionsBuilder::default()
        .signal("SIGKILL")
        .build();
    match docker.kill_container(id, Some(opts)).await {
        Ok(())
        | Err(DockerError::DockerResponseServerError {
            status_code: 404 | 409,
            ..
        }) => Ok(()),
        Err(e) => Err(HostError::docker("kill container", e)),
    }
}
