//! Shared helpers for the lifecycle tests: unique profiles in temp dirs, cleanup on drop,
//! a small Redis client, and loud failures when redis-server or dockerd are missing.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use redwhisk::event::{EngineEvent, EventSink};
use redwhisk::profile::{Backend, DockerNetwork, Persistence, Profile, SavePoint};
use redwhisk::redis_host::Endpoint;
use tokio::sync::mpsc::UnboundedReceiver;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A unique name per test (pid + counter), so parallel tests and runs never collide.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

pub fn rdb() -> Persistence {
    Persistence::Rdb {
        save: vec![SavePoint {
            seconds: 3600,
            changes: 1,
        }],
    }
}

pub fn aof() -> Persistence {
    Persistence::Aof {
        appendfsync: redwhisk::profile::AppendFsync::Everysec,
    }
}

/// AOF with `appendfsync always`: Redis writes (and fsyncs) every write before it replies, so
/// an acknowledged write survives a kill -9. With `everysec` it need not: while a background
/// fsync is slow (a busy disk, as in a full test run), Redis postpones the AOF write for up to
/// 2 s but still replies, and a kill -9 in that window loses the write (seen once in CI).
pub fn aof_always() -> Persistence {
    Persistence::Aof {
        appendfsync: redwhisk::profile::AppendFsync::Always,
    }
}

/// A process-backend profile with its own data dir under `dir`.
pub fn process_profile(dir: &Path, persistence: Persistence) -> Profile {
    let mut p = Profile::embedded_default().unwrap();
    p.name = unique("t");
    p.redis.data_dir = dir.join(&p.name);
    p.redis.port = 0;
    p.redis.persistence = persistence;
    p
}

/// A docker-backend profile (image from `image build-local`, host network).
pub fn docker_profile(dir: &Path, persistence: Persistence) -> Profile {
    let mut p = process_profile(dir, persistence);
    p.redis.backend = Backend::Docker {
        image: redwhisk::redis_host::image::LOCAL_TAG.into(),
        network: DockerNetwork::Host,
        keep_container: false,
        container_name: format!("redwhisk-test-{}", p.name),
        pull: false,
    };
    p
}

/// Removes whatever a test left running, even when it panicked: the process in the state
/// file (kill -9) and every container labelled with the profile (docker rm -f).
pub struct Cleanup {
    pub profile: Profile,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        // A cluster's nodes live in data_dir/node-N, each with its own state file and container.
        let mut dirs = vec![self.profile.redis.data_dir.clone()];
        let mut names = vec![self.profile.name.clone()];
        if let Some(c) = self.profile.redis.cluster {
            for i in 0..c.nodes() {
                dirs.push(self.profile.redis.data_dir.join(format!("node-{i}")));
                names.push(format!("{}-node{i}", self.profile.name));
            }
        }
        for dir in &dirs {
            if let Ok(text) = std::fs::read_to_string(dir.join("redwhisk.state.json"))
                && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                && let Some(pid) = v["pid"].as_u64()
            {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
            }
        }
        for name in names
            .iter()
            .filter(|_| matches!(self.profile.redis.backend, Backend::Docker { .. }))
        {
            let filter = format!("label=redwhisk.profile={name}");
            if let Ok(out) = std::process::Command::new("docker")
                .args(["ps", "-aq", "--filter", &filter])
                .output()
            {
                for id in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = std::process::Command::new("docker")
                        .args(["rm", "-f", id])
                        .status();
                }
            }
        }
    }
}

/// Fail loudly (never skip) when redis-server is not installed.
pub fn require_redis_server() {
    let ok = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "redis-server is required for this test: apt-get install redis-server (or run scripts/ci-setup.sh)"
    );
}

/// Fail loudly when dockerd is unreachable; build the local image if it is missing.
pub async fn require_docker_and_image() {
    static IMAGE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    IMAGE
        .get_or_init(|| async {
            let docker = redwhisk::redis_host::docker_connect()
                .await
                .unwrap_or_else(|e| {
                    panic!("dockerd is required for this test (run scripts/ci-setup.sh): {e}")
                });
            let tag = redwhisk::redis_host::image::LOCAL_TAG;
            if docker.inspect_image(tag).await.is_err() {
                redwhisk::redis_host::image::build_local(tag, &EventSink::discard())
                    .await
                    .unwrap_or_else(|e| panic!("cannot build {tag}: {e}"));
            }
        })
        .await;
}

pub async fn conn(ep: &Endpoint) -> redis::aio::MultiplexedConnection {
    redis::Client::open(ep.connection_info().unwrap())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// SET each key (each acknowledged before the next).
pub async fn write(ep: &Endpoint, keys: &[(&str, &str)]) {
    let mut c = conn(ep).await;
    for (k, v) in keys {
        redis::cmd("SET")
            .arg(*k)
            .arg(*v)
            .query_async::<()>(&mut c)
            .await
            .unwrap();
    }
}

pub async fn read(ep: &Endpoint, key: &str) -> Option<String> {
    let mut c = conn(ep).await;
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut c)
        .await
        .unwrap()
}

/// Everything sent to a sink so far (the sender side stays usable).
pub fn drain(rx: &mut UnboundedReceiver<EngineEvent>) -> Vec<EngineEvent> {
    let mut out = Vec::new();
    while let Ok(ev) = rx.try_recv() {
        out.push(ev);
    }
    out
}

/// The log messages among `events`.
pub fn messages(events: &[EngineEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            EngineEvent::Log { message, .. } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

/// A pid that certainly belongs to no live process: a child that has exited and been reaped.
pub fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

/// Write a profile as TOML for the CLI tests; `extra` is more lines of the [redis] table.
pub fn write_profile_file(
    dir: &Path,
    name: &str,
    data_dir: &Path,
    extra: &str,
) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let text = format!(
        "[redis]\nport = 0\npersistence = \"rdb\"\ndata_dir = \"{}\"\n{extra}\n",
        data_dir.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}
