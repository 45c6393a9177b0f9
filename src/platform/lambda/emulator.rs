//! The local Lambda: each function is a pool of containers running the AWS Lambda Runtime
//! Interface Emulator (host networking, each on its own 127.0.0.1 port). Concurrency N = N
//! containers; an invocation takes a free container, so a container's first invocation is its
//! cold start and the following ones are warm, as on Lambda.
//!
//! The emulator answers the Invoke path like Lambda but sends neither `X-Amz-Function-Error` nor
//! `X-Amz-Log-Result` (checked against the aws-sam-cli 1.170 build): the `REPORT` line and the
//! function's log are read from the container's output instead.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ListContainersOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures::StreamExt;
use tokio::sync::{Mutex, Semaphore, mpsc};

use super::error::LambdaError;
use super::image::{self, BOOTSTRAP_PATH};
use super::node;
use super::report::{Report, parse_report};
use super::sdk;
use crate::event::EventSink;
use crate::platform::BuiltinAction;
use crate::profile::LambdaRuntime;

/// Labels on every emulator container: which function, which redwhisk process owns it.
pub const LABEL_FUNCTION: &str = "redwhisk.lambda.function";
pub const LABEL_PID: &str = "redwhisk.lambda.pid";
/// How long a new container may take to listen.
const READY_DEADLINE: Duration = Duration::from_secs(20);
/// How long after the answer the REPORT line may take to appear in the container's output.
const REPORT_DEADLINE: Duration = Duration::from_secs(10);
/// The name the emulator answers to, whatever the function is called.
const EMULATOR_FUNCTION: &str = "function";
/// At most this many log lines are kept per invocation.
const MAX_LOG_LINES: usize = 100;

/// What the emulator needs to start containers for a function.
#[derive(Debug, Clone)]
pub struct Settings {
    pub runtime: LambdaRuntime,
    pub memory_mb: u32,
    pub timeout: Duration,
    pub containers: usize,
    pub bin_dir: Option<std::path::PathBuf>,
    /// Added to the function timeout to bound one Invoke.
    pub slack: Duration,
}

/// Containers per deployed function.
#[derive(Debug)]
pub struct Emulator {
    docker: Docker,
    settings: Settings,
    pools: Mutex<HashMap<String, Arc<Pool>>>,
    sdk: aws_types::sdk_config::SdkConfig,
}

#[derive(Debug)]
struct Pool {
    function: String,
    action: BuiltinAction,
    image: String,
    free: Mutex<Vec<Slot>>,
    permits: Semaphore,
    /// Every container started for this function (removed by `close`).
    started: Mutex<Vec<String>>,
}

/// One container with its client and its output.
#[derive(Debug)]
struct Slot {
    id: String,
    name: String,
    url: String,
    client: aws_sdk_lambda::Client,
    lines: mpsc::UnboundedReceiver<String>,
    follower: tokio::task::AbortHandle,
}

/// What one invocation on the emulator produced.
#[derive(Debug)]
pub struct Outcome {
    pub answer: sdk::Answer,
    pub report: Report,
    /// The function's own output lines (without START/END/REPORT).
    pub logs: Vec<String>,
    /// The emulator's `INIT REPORT(durationMs: …)` when the runtime was started for this one.
    pub init_report_ms: Option<f64>,
    pub container: String,
}

impl Emulator {
    pub async fn connect(settings: Settings) -> Result<Self, LambdaError> {
        let docker = Docker::connect_with_defaults().map_err(|source| LambdaError::Docker {
            what: "cannot reach the Docker daemon (DOCKER_HOST, else /var/run/docker.sock); is dockerd running?".into(),
            source,
        })?;
        docker.ping().await.map_err(|source| LambdaError::Docker {
            what: "cannot reach the Docker daemon (DOCKER_HOST, else /var/run/docker.sock); is dockerd running?".into(),
            source,
        })?;
        Ok(Self {
            docker,
            settings,
            pools: Mutex::new(HashMap::new()),
            sdk: sdk::emulator_config(),
        })
    }

    /// Build the image when missing, and start the function's containers (replacing those of
    /// an earlier deploy of the same name in this process).
    pub async fn deploy(
        &self,
        action: BuiltinAction,
        function: &str,
        events: &EventSink,
    ) -> Result<(), LambdaError> {
        self.reap_orphans(events).await;
        let layer = layer(
            self.settings.runtime,
            action,
            self.settings.bin_dir.as_deref(),
        )?;
        let tag = image::ensure(&self.docker, self.settings.runtime, &layer, events).await?;
        if let Some(old) = self.pools.lock().await.remove(function) {
            self.remove_pool(&old).await;
        }
        let pool = Arc::new(Pool {
            function: function.to_string(),
            action,
            image: tag.clone(),
            free: Mutex::new(Vec::new()),
            permits: Semaphore::new(self.settings.containers),
            started: Mutex::new(Vec::new()),
        });
        self.pools
            .lock()
            .await
            .insert(function.to_string(), pool.clone());
        for k in 0..self.settings.containers {
            let slot = self.start_container(&pool, k).await?;
            pool.free.lock().await.push(slot);
        }
        events.info(format!(
            "deployed {} as `{function}` on the local Lambda emulator: {} container(s) of {tag} ({}, {} MB, timeout {} s)",
            action.as_str(),
            self.settings.containers,
            self.settings.runtime.as_str(),
            self.settings.memory_mb,
            self.settings.timeout.as_secs()
        ));
        Ok(())
    }

    /// One invocation on a free container of `function`.
    pub async fn invoke(&self, function: &str, payload: &[u8]) -> Result<Outcome, LambdaError> {
        let pool = self
            .pools
            .lock()
            .await
            .get(function)
            .cloned()
            .ok_or_else(|| LambdaError::UnknownFunction(function.to_string()))?;
        let _permit = pool
            .permits
            .acquire()
            .await
            .map_err(|_| LambdaError::UnknownFunction(function.to_string()))?;
        let mut slot = pool
            .free
            .lock()
            .await
            .pop()
            .ok_or_else(|| LambdaError::UnknownFunction(function.to_string()))?;
        // Whatever the container printed between invocations is not this one's.
        while slot.lines.try_recv().is_ok() {}
        let deadline = self.settings.timeout + self.settings.slack;
        let answer = tokio::time::timeout(
            deadline,
            // The emulator serves one function, always at `functions/function/invocations`.
            sdk::invoke_once(&slot.client, EMULATOR_FUNCTION, &slot.url, payload),
        )
        .await;
        let failure = match answer {
            Ok(Ok(answer)) => match read_report(&mut slot.lines).await {
                Ok((report, logs, init_report_ms)) => {
                    let container = slot.name.clone();
                    pool.free.lock().await.push(slot);
                    return Ok(Outcome {
                        answer,
                        report,
                        logs,
                        init_report_ms,
                        container,
                    });
                }
                Err(waited) => LambdaError::NoReport {
                    container: slot.name.clone(),
                    waited,
                },
            },
            Ok(Err(LambdaError::Invoke {
                endpoint, detail, ..
            })) => LambdaError::Invoke {
                function: function.to_string(),
                endpoint,
                detail,
            },
            Ok(Err(e)) => e,
            Err(_) => LambdaError::NoAnswer {
                function: function.to_string(),
                endpoint: slot.url.clone(),
                waited: deadline,
                slack: self.settings.slack,
            },
        };
        // The container is in an unknown state: replace it, so the next invocation finds a
        // fresh one (a cold start, as Lambda gives after a crash).
        // A killed container closes its connections a moment before Docker calls it exited.
        let mut gone = false;
        for _ in 0..40 {
            if !self.is_running(&slot.id).await {
                gone = true;
                break;
            }
            if !matches!(failure, LambdaError::Invoke { .. }) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let index = pool.started.lock().await.len();
        let name = slot.name.clone();
        pool.started.lock().await.retain(|id| id != &slot.id);
        self.remove_slot(slot).await;
        let replaced = self.start_container(&pool, index).await;
        if let Ok(s) = replaced {
            pool.free.lock().await.push(s);
        }
        Err(match failure {
            LambdaError::Invoke { detail, .. } if gone => LambdaError::ContainerGone {
                container: format!("{name} of `{function}`"),
                detail,
            },
            other => other,
        })
    }

    /// Remove every container this emulator started.
    pub async fn close(&self) {
        let pools: Vec<_> = self.pools.lock().await.drain().map(|(_, p)| p).collect();
        for p in pools {
            self.remove_pool(&p).await;
        }
    }

    /// The names of the running containers of `function` (tests and fault injection).
    pub async fn containers(&self, function: &str) -> Vec<String> {
        let Some(pool) = self.pools.lock().await.get(function).cloned() else {
            return Vec::new();
        };
        pool.started.lock().await.clone()
    }

    async fn remove_pool(&self, pool: &Pool) {
        for s in pool.free.lock().await.drain(..) {
            s.follower.abort();
        }
        let ids: Vec<String> = pool.started.lock().await.drain(..).collect();
        for id in ids {
            self.remove(&id).await;
        }
    }

    async fn remove_slot(&self, slot: Slot) {
        slot.follower.abort();
        self.remove(&slot.id).await;
    }

    async fn remove(&self, id: &str) {
        let opts = RemoveContainerOptionsBuilder::default().force(true).build();
        let _ = self.docker.remove_container(id, Some(opts)).await;
    }

    async fn is_running(&self, id: &str) -> bool {
        self.docker
            .inspect_container(id, None)
            .await
            .ok()
            .and_then(|c| c.state)
            .and_then(|s| s.running)
            .unwrap_or(false)
    }

    /// Containers left by a redwhisk that is gone (killed before it could remove them).
    /// (The process pane lists the live ones with [`function_containers`].)
    async fn reap_orphans(&self, events: &EventSink) {
        let filters = HashMap::from([("label".to_string(), vec![LABEL_PID.to_string()])]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let Ok(list) = self.docker.list_containers(Some(opts)).await else {
            return;
        };
        for c in list {
            let pid = c
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_PID))
                .and_then(|p| p.parse::<i32>().ok());
            let alive = pid.is_some_and(|p| {
                nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), None).is_ok()
            });
            if !alive && let Some(id) = c.id {
                events.warn(format!(
                    "removing a local Lambda container left by an earlier redwhisk (pid {}): {}",
                    pid.map(|p| p.to_string()).unwrap_or_else(|| "?".into()),
                    c.names.unwrap_or_default().join(",")
                ));
                self.remove(&id).await;
            }
        }
    }

    async fn start_container(&self, pool: &Pool, k: usize) -> Result<Slot, LambdaError> {
        let (api_port, rapid_port) = two_free_ports()?;
        let name = format!(
            "redwhisk-lambda-{}-{}-{k}-{api_port}",
            pool.function,
            std::process::id()
        );
        let addr = format!("127.0.0.1:{api_port}");
        let mut cmd = vec![
            "--runtime-interface-emulator-address".to_string(),
            addr.clone(),
            "--runtime-api-address".to_string(),
            format!("127.0.0.1:{rapid_port}"),
        ];
        cmd.extend(entry_command(self.settings.runtime));
        let env = vec![
            format!("AWS_LAMBDA_FUNCTION_NAME={}", pool.function),
            format!(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE={}",
                self.settings.memory_mb
            ),
            format!(
                "AWS_LAMBDA_FUNCTION_TIMEOUT={}",
                self.settings.timeout.as_secs()
            ),
            format!("_HANDLER={}", handler(self.settings.runtime, pool.action)),
            "AWS_REGION=us-east-1".to_string(),
            "AWS_DEFAULT_REGION=us-east-1".to_string(),
        ];
        let labels = HashMap::from([
            (LABEL_FUNCTION.to_string(), pool.function.clone()),
            (LABEL_PID.to_string(), std::process::id().to_string()),
        ]);
        let body = ContainerCreateBody {
            image: Some(pool.image.clone()),
            cmd: Some(cmd),
            env: Some(env),
            labels: Some(labels),
            host_config: Some(HostConfig {
                network_mode: Some("host".into()),
                memory: Some(i64::from(self.settings.memory_mb) * 1024 * 1024),
                ..Default::default()
            }),
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self
            .docker
            .create_container(Some(opts), body)
            .await
            .map_err(|source| LambdaError::Docker {
                what: format!("create container {name}"),
                source,
            })?;
        let id = created.id;
        pool.started.lock().await.push(id.clone());
        self.docker
            .start_container(&id, None)
            .await
            .map_err(|source| LambdaError::Docker {
                what: format!("start container {name}"),
                source,
            })?;
        let (tx, lines) = mpsc::unbounded_channel();
        let follower = tokio::spawn(follow(self.docker.clone(), id.clone(), tx)).abort_handle();
        let started = Instant::now();
        loop {
            if tokio::net::TcpStream::connect(&addr).await.is_ok() {
                break;
            }
            if started.elapsed() > READY_DEADLINE || !self.is_running(&id).await {
                follower.abort();
                let tail = self.log_tail(&id).await;
                return Err(LambdaError::NotReady {
                    container: name,
                    addr,
                    waited: started.elapsed(),
                    tail,
                });
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let url = format!("http://{addr}");
        let client = sdk::lambda_client(&self.sdk, Some(&url), false, None);
        Ok(Slot {
            id,
            name,
            url,
            client,
            lines,
            follower,
        })
    }

    async fn log_tail(&self, id: &str) -> String {
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .tail("8")
            .build();
        let mut text = String::new();
        let mut logs = self.docker.logs(id, Some(opts));
        while let Some(Ok(chunk)) = logs.next().await {
            text.push_str(&chunk.to_string());
        }
        text.trim().replace('\n', " | ")
    }
}

/// Containers still there when the emulator goes (an experiment that ended on an error before
/// `close`, a cancelled one) are removed here, on a thread of their own so no runtime is
/// blocked on. A kill -9 leaves them to the next emulator's orphan reaper.
impl Drop for Emulator {
    fn drop(&mut self) {
        let mut ids = Vec::new();
        for pool in self.pools.get_mut().values() {
            if let Ok(mut started) = pool.started.try_lock() {
                ids.append(&mut started);
            }
        }
        if ids.is_empty() {
            return;
        }
        let cleanup = std::thread::spawn(move || {
            // A client of its own: the emulator's belongs to a runtime that may be ending.
            let Ok(docker) = Docker::connect_with_defaults() else {
                return;
            };
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                for id in ids {
                    let opts = RemoveContainerOptionsBuilder::default().force(true).build();
                    let _ = tokio::time::timeout(
                        Duration::from_secs(20),
                        docker.remove_container(&id, Some(opts)),
                    )
                    .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// The files of the image for `runtime` (the emulator plus the runtime and the function).
fn layer(
    runtime: LambdaRuntime,
    action: crate::platform::BuiltinAction,
    bin_dir: Option<&std::path::Path>,
) -> Result<image::Layer, LambdaError> {
    let mut layer = image::Layer::default();
    let rie = image::find_rie()?;
    layer.add(image::RIE_PATH, 0o755, image::read(&rie)?);
    match runtime {
        LambdaRuntime::ProvidedAl2023 => {
            let path = crate::platform::openwhisk::package::locate_named("bootstrap", bin_dir)?;
            layer.add(BOOTSTRAP_PATH, 0o755, image::read(&path)?);
        }
        LambdaRuntime::Nodejs20 => node::add_node_runtime(&mut layer, action)?,
    }
    Ok(layer)
}

/// The handler the runtime is told (`_HANDLER`).
pub fn handler(runtime: LambdaRuntime, action: BuiltinAction) -> String {
    match runtime {
        LambdaRuntime::ProvidedAl2023 => action.as_str().to_string(),
        LambdaRuntime::Nodejs20 => node::HANDLER.to_string(),
    }
}

/// What the emulator starts as the runtime.
fn entry_command(runtime: LambdaRuntime) -> Vec<String> {
    match runtime {
        LambdaRuntime::ProvidedAl2023 => vec![BOOTSTRAP_PATH.to_string()],
        LambdaRuntime::Nodejs20 => node::entry_command(),
    }
}

fn two_free_ports() -> Result<(u16, u16), LambdaError> {
    let bind = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr().map(|a| (l, a.port())))
            .map_err(|e| LambdaError::Config(format!("cannot find a free 127.0.0.1 port: {e}")))
    };
    let (a, pa) = bind()?;
    let (b, pb) = bind()?;
    drop((a, b));
    Ok((pa, pb))
}

/// Send each line of the container's output (stdout and stderr) until it ends.
async fn follow(docker: Docker, id: String, tx: mpsc::UnboundedSender<String>) {
    let opts = LogsOptionsBuilder::default()
        .stdout(true)
        .stderr(true)
        .follow(true)
        .build();
    let mut logs = docker.logs(&id, Some(opts));
    let mut partial = String::new();
    while let Some(Ok(chunk)) = logs.next().await {
        let bytes = match chunk {
            LogOutput::StdOut { message }
            | LogOutput::StdErr { message }
            | LogOutput::Console { message } => message,
            LogOutput::StdIn { .. } => continue,
        };
        partial.push_str(&String::from_utf8_lossy(&bytes));
        while let Some(i) = partial.find('\n') {
            let line: String = partial.drain(..=i).collect();
            if tx.send(line.trim_end().to_string()).is_err() {
                return;
            }
        }
    }
    if !partial.is_empty() {
        let _ = tx.send(partial);
    }
}

/// Read the container's lines up to the invocation's REPORT: (report, log lines, the
/// emulator's own init time when it started the runtime). `Err`: how long it waited.
async fn read_report(
    lines: &mut mpsc::UnboundedReceiver<String>,
) -> Result<(Report, Vec<String>, Option<f64>), Duration> {
    let started = Instant::now();
    let mut logs = Vec::new();
    let mut init = None;
    loop {
        let left = REPORT_DEADLINE.saturating_sub(started.elapsed());
        let line = match tokio::time::timeout(left, lines.recv()).await {
            Ok(Some(l)) => l,
            Ok(None) | Err(_) => return Err(started.elapsed()),
        };
        if let Some(r) = parse_report(&line) {
            return Ok((r, logs, init));
        }
        if let Some(ms) = init_report_ms(&line) {
            init = Some(ms);
        }
        if line.starts_with("START RequestId") || line.starts_with("END RequestId") {
            continue;
        }
        if logs.len() < MAX_LOG_LINES {
            logs.push(line);
        }
    }
}

/// `… (rapid) INIT REPORT(durationMs: 17.788000)`: the emulator's measure of the runtime's
/// start (its REPORT line's Init Duration is much smaller than the real start).
fn init_report_ms(line: &str) -> Option<f64> {
    let rest = line.split("INIT REPORT(durationMs:").nth(1)?;
    rest.trim().trim_end_matches(')').trim().parse().ok()
}

/// The running local Lambda containers this redwhisk process started (its pid label): each
/// one's id and a name for the process pane (`function#short-id`). Empty when the daemon does
/// not answer.
pub async fn function_containers(docker: &Docker) -> Vec<(String, String)> {
    let filters = HashMap::from([(
        "label".to_string(),
        vec![format!("{LABEL_PID}={}", std::process::id())],
    )]);
    let opts = ListContainersOptionsBuilder::default()
        .filters(&filters)
        .build();
    let Ok(list) = docker.list_containers(Some(opts)).await else {
        return Vec::new();
    };
    list.into_iter()
        .filter_map(|c| {
            let id = c.id?;
            let function = c
                .labels
                .as_ref()
                .and_then(|l| l.get(LABEL_FUNCTION))
                .cloned()
                .unwrap_or_else(|| "lambda".into());
            let short: String = id.chars().take(8).collect();
            Some((id, format!("{function}#{short}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_emulators_init_report() {
        assert_eq!(
            init_report_ms(
                "07 Dec 2026 12:24:05,025 [INFO] (rapid) INIT REPORT(durationMs: 17.788000)"
            ),
            Some(17.788)
        );
        assert_eq!(init_report_ms("INIT RTDONE(status: success)"), None);
    }
}
