//! Docker plumbing for the `docker` backend: the connection, labels, listing, creating,
//! waiting for and removing this profile's containers.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::models::{ContainerCreateBody, ContainerSummary, ContainerSummaryStateEnum};
use bollard::models::{HostConfig, PortBinding};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, WaitContainerOptionsBuilder,
};
use futures::StreamExt;

use super::ctx::Ctx;
use super::error::HostError;
use super::types::Endpoint;
use super::{password, ready};
use crate::profile::{Backend, DockerNetwork};
/// Container labels: which profile, which console, where it listens.
pub const LABEL_PROFILE: &str = "redwhisk.profile";
pub const LABEL_OWNER: &str = "redwhisk.owner";
pub(crate) const LABEL_PORT: &str = "redwhisk.port";
pub(crate) const LABEL_HOST: &str = "redwhisk.host";
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

pub(crate) struct Settings<'a> {
    pub image: &'a str,
    pub network: DockerNetwork,
    pub keep: bool,
    pub name: &'a str,
    pub pull: bool,
}

pub(crate) fn settings<'a>(ctx: &'a Ctx<'_>) -> Result<Settings<'a>, HostError> {
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
pub(crate) async fn ours(
    docker: &Docker,
    profile: &str,
) -> Result<Vec<ContainerSummary>, HostError> {
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

pub(crate) fn label<'a>(c: &'a ContainerSummary, key: &str) -> Option<&'a str> {
    c.labels.as_ref()?.get(key).map(String::as_str)
}

pub(crate) fn id_of(c: &ContainerSummary) -> String {
    c.id.clone().unwrap_or_default()
}

pub(crate) fn is_running(c: &ContainerSummary) -> bool {
    c.state == Some(ContainerSummaryStateEnum::RUNNING)
}

/// Frozen with `docker pause` (the cgroup freezer): it can neither answer nor save.
pub(crate) fn is_paused(c: &ContainerSummary) -> bool {
    c.state == Some(ContainerSummaryStateEnum::PAUSED)
}

pub(crate) fn endpoint_of(c: &ContainerSummary, ctx: &Ctx<'_>) -> Endpoint {
    Endpoint {
        host: label(c, LABEL_HOST).unwrap_or("127.0.0.1").to_string(),
        port: label(c, LABEL_PORT)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0),
        password: Some(ctx.password.clone()),
        tls: false,
        tls_ca: None,
        db: 0,
    }
}

pub(crate) async fn remove(docker: &Docker, id: &str) -> Result<(), HostError> {
    let opts = RemoveContainerOptionsBuilder::default().force(true).build();
    match docker.remove_container(id, Some(opts)).await {
        Ok(())
        | Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        // Another stop of the same profile (a run and `redis down --force`) is removing it:
        // the outcome wanted is the same, so wait for that removal to finish.
        Err(DockerError::DockerResponseServerError {
            status_code: 409,
            message,
        }) if message.contains("already in progress") => removed_elsewhere(docker, id).await,
        Err(e) => Err(HostError::docker(format!("remove container {id}"), e)),
    }
}

/// Wait (bounded) until a container another caller is removing is gone.
async fn removed_elsewhere(docker: &Docker, id: &str) -> Result<(), HostError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        match docker.inspect_container(id, None).await {
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => return Ok(()),
            Err(e) => return Err(HostError::docker(format!("inspect container {id}"), e)),
            Ok(_) if std::time::Instant::now() > deadline => {
                return Err(HostError::Docker {
                    action: format!("remove container {id}"),
                    source: DockerError::DockerResponseServerError {
                        status_code: 409,
                        message: "another removal of this container did not finish within 60 s"
                            .into(),
                    },
                });
            }
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

/// Wait until the container is no longer running (exit codes other than 0 are fine here).
pub(crate) async fn wait_stopped(docker: &Docker, id: &str) -> Result<(), HostError> {
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

/// How a stopped container ended: its exit code and whether the kernel's OOM killer ended it,
/// from the inspect result (`None` when Docker no longer knows it).
pub(crate) async fn exit_of(docker: &Docker, id: &str) -> Option<(i64, bool)> {
    let state = docker.inspect_container(id, None).await.ok()?.state?;
    Some((
        state.exit_code.unwrap_or(-1),
        state.oom_killed.unwrap_or(false),
    ))
}

/// The container's main process as the host sees it (`State.Pid`) and whether it is paused.
pub(crate) async fn pid_and_paused(docker: &Docker, id: &str) -> Option<(u32, bool)> {
    let state = docker.inspect_container(id, None).await.ok()?.state?;
    let pid = u32::try_from(state.pid.unwrap_or(0))
        .ok()
        .filter(|p| *p > 1)?;
    Some((pid, state.paused.unwrap_or(false)))
}

/// A stop is clean only when Redis exited 0 by itself after `SHUTDOWN`: anything else (137
/// after `docker kill`, the OOM killer, a crash while saving) means the final save did not
/// complete. Returns how it ended when it was not clean.
pub(crate) fn unclean_exit(exit: Option<(i64, bool)>) -> Option<String> {
    match exit {
        Some((0, false)) => None,
        Some((_, true)) => Some("killed by the kernel's OOM killer".into()),
        Some((137, false)) => Some("exit code 137: killed by SIGKILL, e.g. `docker kill`".into()),
        Some((code, false)) => Some(format!("exit code {code}")),
        None => Some("Docker no longer knows the container, so its exit code is unknown".into()),
    }
}

/// The last lines of the container's output.
pub(crate) async fn log_tail(docker: &Docker, id: &str) -> String {
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

pub(crate) fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

pub(crate) async fn create(
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
    cmd.extend(cfg.server_args());
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
