//! The `docker` backend: a labelled Redis container through bollard, data bind-mounted at /data.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::time::Instant;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, ContainerSummary, ContainerSummaryStateEnum};
use bollard::models::{HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use chrono::Utc;
use futures::StreamExt;

use super::process::ms;
use super::state::{self, Found, HostState, Owner};
use super::types::{ColdStart, Endpoint, RedisStatus, StopMode, StopReport};
use super::{Ctx, HostError, Up, image, ops, password, ports, ready};
use crate::profile::{Backend, DockerNetwork};

/// Container labels: which profile, which console, where it listens.
pub const LABEL_PROFILE: &str = "redwhisk.profile";
pub const LABEL_OWNER: &str = "redwhisk.owner";
const LABEL_PORT: &str = "redwhisk.port";
const LABEL_HOST: &str = "redwhisk.host";
/// The port Redis listens on inside a bridge-networked container.
const BRIDGE_INNER_PORT: u16 = 6379;

/// Connect to the daemon named by `DOCKER_HOST` (default socket otherwise) and negotiate the
/// API version down to what the daemon speaks (Debian's 20.10 speaks 1.41).
pub async fn connect() -> Result<Docker, HostError> {
    let env_host = std::env::var("DOCKER_HOST").ok();
    let shown = env_host.clone().unwrap_or_else(|| "(unset)".into());
    let socket = env_host
        .clone()
        .unwrap_or_else(|| "unix:///var/run/docker.sock".into());
    let socket = socket.trim_start_matches("unix://").to_string();
    let unreachable = |e: DockerError| HostError::DaemonUnreachable {
        docker_host: shown.clone(),
        socket: socket.clone(),
        detail: e.to_string(),
    };
    let docker = Docker::connect_with_defaults().map_err(unreachable)?;
    docker.negotiate_version().await.map_err(unreachable)
}

struct Settings<'a> {
    image: &'a str,
    network: DockerNetwork,
    keep: bool,
    name: &'a str,
    pull: bool,
}

fn settings<'a>(ctx: &'a Ctx<'_>) -> Result<Settings<'a>, HostError> {
    match &ctx.profile.redis.backend {
        Backend::Docker {
            image,
            network,
            keep_container,
            container_name,
            pull,
        } => Ok(Settings {
            image,
            network: *network,
            keep: *keep_container,
            name: container_name,
            pull: *pull,
        }),
        other => Err(HostError::BuildLocal(format!(
            "internal: docker code called for the {} backend",
            other.label()
        ))),
    }
}

/// Every container labelled with this profile, running or not.
async fn ours(docker: &Docker, profile: &str) -> Result<Vec<ContainerSummary>, HostError> {
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_PROFILE}={profile}")],
    )]);
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(opts))
        .await
        .map_err(|e| HostError::docker("list containers", e))
}

fn label<'a>(c: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    c.labels.as_ref()?.get(key).map(String::as_str)
}

fn id_of(c: &ContainerSummary) -> String {
    c.id.clone().unwrap_or_default()
}

fn is_running(c: &ContainerSummary) -> bool {
    c.state == Some(ContainerSummaryStateEnum::RUNNING)
}

fn endpoint_of(c: &ContainerSummary, ctx: &Ctx<'_>) -> Endpoint {
    Endpoint {
        host: label(c, LABEL_HOST).unwrap_or("127.0.0.1").to_string(),
        port: label(c, LABEL_PORT)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        password: Some(ctx.password.clone()),
        tls: false,
        db: 0,
    }
}

async fn remove(docker: &Docker, id: &str) -> Result<(), HostError> {
    let opts = RemoveContainerOptionsBuilder::default().force(true).build();
    match docker.remove_container(id, Some(opts)).await {
        Ok(())
        | Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(e) => Err(HostError::docker(format!("remove container {id}"), e)),
    }
}

/// Wait until the container is no longer running (exit codes other than 0 are fine here).
async fn wait_stopped(docker: &Docker, id: &str) -> Result<(), HostError> {
    let opts = WaitContainerOptionsBuilder::default()
        .condition("not-running")
        .build();
    let mut stream = docker.wait_container(id, Some(opts));
    while let Some(item) = stream.next().await {
        match item {
            Ok(_)
            | Err(DockerError::DockerContainerWaitError { .. })
            | Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(HostError::docker(format!("wait for {id}"), e)),
        }
    }
    Ok(())
}

/// The last lines of the container's output.
async fn log_tail(docker: &Docker, id: &str) -> String {
    let opts = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .tail("12")
        .build();
    let mut text = String::new();
    let mut logs = docker.logs(id, Some(opts));
    while let Some(item) = logs.next().await {
        match item {
            Ok(chunk) => text.push_str(&chunk.to_string()),
            Err(e) => text.push_str(&format!("(cannot read the log: {e})\n")),
        }
    }
    ready::tail(&text, 12)
}

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
                ops::shutdown(&ep, &ctx.profile.redis.persistence).await?;
                wait_stopped(docker, &id).await?;
                remove(docker, &id).await?;
                ctx.events.warn(format!(
                    "reaped orphan container {} (started by {}, which is gone): data saved, container removed",
                    short(&id),
                    owner.label()
                ));
            }
        }
    }
    Ok(None)
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
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
    let keys = ops::info(&ep).await?.keys;
    Ok(Up {
        endpoint: ep,
        cold: Some(ColdStart {
            backend: "docker".into(),
            image_ms,
            create_ms,
            start_ms,
            ready_ms,
            total_ms: ms(t0.elapsed()),
            keys_restored: keys,
        }),
        child: None,
    })
}

async fn create(
    docker: &Docker,
    ctx: &Ctx<'_>,
    set: &Settings<'_>,
    port: u16,
    host: &str,
) -> Result<bollard::models::ContainerCreateResponse, DockerError> {
    let body = create_body(ctx, set, port, host).await?;
    let opts = CreateContainerOptionsBuilder::default()
        .name(set.name)
        .build();
    docker.create_container(Some(opts), body).await
}

async fn create_body(
    ctx: &Ctx<'_>,
    set: &Settings<'_>,
    port: u16,
    host: &str,
) -> Result<ContainerCreateBody, DockerError> {
    let cfg = &ctx.profile.redis;
    // Run as the data directory's owner, so files in the bind mount stay the user's and the
    // 0600 config stays readable (official images skip their chown when not root).
    let meta = tokio::fs::metadata(&cfg.data_dir).await?;
    let (inner_bind, inner_port) = match set.network {
        DockerNetwork::Host => (cfg.bind.to_string(), port),
        DockerNetwork::Bridge => ("0.0.0.0".to_string(), BRIDGE_INNER_PORT),
    };
    let mut cmd = vec![
        format!("/data/{}", password::CONF_FILE),
        "--port".into(),
        inner_port.to_string(),
        "--bind".into(),
        inner_bind,
        "--dir".into(),
        "/data".into(),
        "--daemonize".into(),
        "no".into(),
    ];
    cmd.extend(cfg.persistence.server_args());
    let labels = HashMap::from([
        (LABEL_PROFILE.to_string(), ctx.profile.name.clone()),
        (LABEL_OWNER.to_string(), ctx.owner.label()),
        (LABEL_PORT.to_string(), port.to_string()),
        (LABEL_HOST.to_string(), host.to_string()),
    ]);
    let mut host_config = HostConfig {
        binds: Some(vec![format!("{}:/data", cfg.data_dir.display())]),
        ..Default::default()
    };
    let mut exposed = None;
    match set.network {
        DockerNetwork::Host => host_config.network_mode = Some("host".into()),
        DockerNetwork::Bridge => {
            let key = format!("{BRIDGE_INNER_PORT}/tcp");
            host_config.network_mode = Some("bridge".into());
            host_config.port_bindings = Some(HashMap::from([(
                key.clone(),
                Some(vec![PortBinding {
                    host_ip: Some(cfg.bind.to_string()),
                    host_port: Some(port.to_string()),
                }]),
            )]));
            exposed = Some(vec![key]);
        }
    }
    Ok(ContainerCreateBody {
        image: Some(set.image.to_string()),
        cmd: Some(cmd),
        user: Some(format!("{}:{}", meta.uid(), meta.gid())),
        labels: Some(labels),
        exposed_ports: exposed,
        host_config: Some(host_config),
        ..Default::default()
    })
}

/// Stop this profile's container: SHUTDOWN over the protocol (or SIGKILL), then remove it.
pub(crate) async fn down(ctx: &Ctx<'_>, mode: StopMode) -> Result<StopReport, HostError> {
    let t0 = Instant::now();
    let set = settings(ctx)?;
    let docker = connect().await?;
    let found = ours(&docker, &ctx.profile.name).await?;
    let running: Vec<&ContainerSummary> = found.iter().filter(|c| is_running(c)).collect();
    for c in &running {
        let id = id_of(c);
        match mode {
            StopMode::Graceful => {
                ops::shutdown(&endpoint_of(c, ctx), &ctx.profile.redis.persistence).await?
            }
            StopMode::Crash => {
                let opts = KillContainerOptionsBuilder::default()
                    .signal("SIGKILL")
                    .build();
                match docker.kill_container(&id, Some(opts)).await {
                    Ok(())
                    | Err(DockerError::DockerResponseServerError {
                        status_code: 404 | 409,
                        ..
                    }) => {}
                    Err(e) => return Err(HostError::docker("kill container", e)),
                }
            }
        }
        wait_stopped(&docker, &id).await?;
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
    if running.is_empty() {
        return Ok(StopReport::nothing(mode));
    }
    Ok(StopReport {
        mode,
        was_running: true,
        shutdown_ms,
        remove_ms,
        total_ms: ms(t0.elapsed()),
    })
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
