//! Errors at the Redis-host boundary. Each message says what to fix; none carries a password.

use std::path::PathBuf;

/// Why the Redis host could not be started, stopped or inspected.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The shaping proxy of `[redis.network_emulation]` could not start or stop.
    #[error("network emulation: {0}")]
    Netem(#[from] crate::netem::NetemError),
    /// The Docker daemon did not answer.
    #[error(
        "cannot reach the Docker daemon at {socket} (DOCKER_HOST={docker_host}): {detail}. Start dockerd, fix DOCKER_HOST, or use `backend = \"process\"` in the profile"
    )]
    DaemonUnreachable {
        docker_host: String,
        socket: String,
        detail: String,
    },
    /// A Docker API call failed.
    #[error("docker: {action}: {source}")]
    Docker {
        action: String,
        #[source]
        source: bollard::errors::Error,
    },
    /// The image is not present and could not be pulled.
    #[error(
        "image `{image}` is not available locally and could not be pulled ({reason}). On a host without a registry run `redwhisk image build-local` and set `image = \"redwhisk/redis:local\"` in the profile"
    )]
    ImageMissing { image: String, reason: String },
    /// The port is already taken by another program.
    #[error(
        "port {port} on {bind} is already in use (profile `{profile}`): set `redis.port` to a free port, or 0 to pick one at every start"
    )]
    PortInUse {
        port: u16,
        bind: String,
        profile: String,
    },
    /// `redis-server` (or the profile's `server_bin`) was not found.
    #[error(
        "`{bin}` was not found on PATH: install it (`apt-get install redis-server`) or set `redis.server_bin` in the profile"
    )]
    RedisServerMissing { bin: String },
    /// Redis did not answer PING in time.
    #[error(
        "Redis did not answer PING within {timeout_ms} ms{}; last attempt: {last_attempt}. Last log lines:\n{log_tail}",
        if last_attempt.contains("LOADING") { " (it is still loading its data set: raise `redis.ready_timeout_ms`)" } else { "" }
    )]
    ReadyTimeout {
        timeout_ms: u64,
        last_attempt: String,
        log_tail: String,
    },
    /// The address cannot be Redis: its name does not resolve, or what answers there does not
    /// speak the Redis protocol. Waiting longer would not help.
    #[error("cannot use Redis at {endpoint}: {detail}")]
    NotRedis { endpoint: String, detail: String },
    /// The server exited while we waited for it.
    #[error(
        "the Redis server exited before it answered PING: {status}. Check `redis.server_bin` and the log. Last log lines:\n{log_tail}"
    )]
    ExitedEarly { status: String, log_tail: String },
    /// The password was refused.
    #[error(
        "Redis at {endpoint} refused the password ({reply}): fix `redis.password` or the password in `redis.url`"
    )]
    WrongPassword { endpoint: String, reply: String },
    /// Redis answered with an error we did not expect.
    #[error("Redis at {endpoint} answered `{command}` with an error: {reply}")]
    Command {
        endpoint: String,
        command: String,
        reply: String,
    },
    /// One node of a cluster failed to start or stop; the others were stopped.
    #[error("cluster {node}: {cause}")]
    ClusterNode { node: String, cause: String },
    /// The nodes started but did not become one healthy cluster in time; every node was stopped.
    #[error(
        "the cluster did not form ({cause}) within {waited_ms} ms; every node was stopped. See each node's redis.log under the profile's data_dir/node-N"
    )]
    ClusterForm { cause: String, waited_ms: u64 },
    /// An external cluster is not a cluster, or not healthy.
    #[error("{0}")]
    ClusterUnhealthy(String),
    /// A network error talking to Redis.
    #[error("cannot talk to Redis at {endpoint}: {source}")]
    Connect {
        endpoint: String,
        #[source]
        source: std::io::Error,
    },
    /// Redis accepted the connection (or had one) and then did not reply in time.
    #[error("{detail} (waiting for the reply to `{command}`)")]
    NotAnswering { detail: String, command: String },
    /// A graceful stop found Redis frozen and killed it.
    #[error("{cause}; killed {what} without a final save (writes since its last save are lost)")]
    KilledUnresponsive { what: String, cause: String },
    /// The server ended during `SHUTDOWN` without completing it (killed while saving).
    #[error(
        "{what} ended during SHUTDOWN ({how}) before its final save completed: writes since its last save are lost"
    )]
    DiedDuringStop { what: String, how: String },
    /// The final save stopped making progress for `redis.stop_timeout_ms`: the wait ended and
    /// the server was left as it is (its data is in memory, nothing was killed).
    #[error(
        "Redis at {endpoint} stopped making progress during its final save ({why}); it was left as it is, with its data in memory: resume it (e.g. `kill -CONT <pid>` or `docker unpause`) and stop it again, or raise `redis.stop_timeout_ms` if its disk is just slow"
    )]
    FrozenDuringStop { endpoint: String, why: String },
    /// A graceful stop failed and the server still runs.
    #[error(
        "{cause}; {what} is left running with its data unsaved: fix the cause (e.g. free disk space) and run `redwhisk redis down --profile {profile}`, or drop the data with `redwhisk redis down --crash --profile {profile}`"
    )]
    StopFailed {
        what: String,
        cause: String,
        profile: String,
    },
    /// Another live process holds the profile's lock.
    #[error(
        "profile `{profile}` is in use by {owner} (lock {}): wait for it to finish or stop it; nothing was started or changed",
        path.display()
    )]
    Locked {
        profile: String,
        owner: String,
        path: PathBuf,
    },
    /// `redis down` of a Redis another live process owns, without `--force`.
    #[error(
        "refusing to stop profile `{profile}`'s Redis: it is in use by {owner}. Stop that process first, or stop its Redis anyway with `redwhisk redis down --force --profile {profile}`"
    )]
    OwnedElsewhere { profile: String, owner: String },
    /// Another live console owns this profile's Redis.
    #[error(
        "profile `{profile}`'s Redis is in use by another console ({owner}); stop that console, or stop its Redis anyway with `redwhisk redis down --force --profile {profile}`"
    )]
    InUse { profile: String, owner: String },
    /// A container with the profile's name exists but was not made by redwhisk.
    /// The process a state file names is not this profile's Redis: no signal was sent.
    #[error(
        "refusing to signal pid {pid}: {why}, so it is not profile `{profile}`'s Redis (its state file is stale or was copied); nothing was stopped. Delete {} if no redwhisk Redis runs for this profile",
        state_file.display()
    )]
    NotOurs {
        pid: u32,
        why: String,
        profile: String,
        state_file: PathBuf,
    },
    #[error(
        "a container named `{name}` exists and was not created by redwhisk: remove it (`docker rm -f {name}`) or set `redis.container_name` in the profile"
    )]
    NameConflict { name: String },
    /// The server did not exit after SHUTDOWN.
    #[error("Redis ({what}) did not exit within {timeout_ms} ms of {command}")]
    StopTimeout {
        what: String,
        command: String,
        timeout_ms: u64,
    },
    /// The data directory cannot be used (the OS error, if any, is in `why`, once).
    #[error("redis.data_dir {}: {why} (point it at a private directory in the profile)", path.display())]
    DataDir { path: PathBuf, why: String },
    /// A file in the data directory could not be used.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The state file is unreadable.
    #[error(
        "{}: unreadable state file ({detail}); if no redwhisk Redis runs for this profile, delete it",
        path.display()
    )]
    BadState { path: PathBuf, detail: String },
    /// Building the local image failed.
    #[error("image build-local: {0}")]
    BuildLocal(String),
    /// An entry of the local image's root file system did not fit in a tar header.
    #[error("image build-local: {0}")]
    BuildLocalTar(#[from] crate::rootfs::TarError),
    /// A snapshot could not be restored before the start.
    #[error(transparent)]
    Snapshot(#[from] crate::snapshots::SnapshotError),
    /// The external URL could not be used.
    #[error("redis.url: {0}")]
    BadUrl(String),
}

impl HostError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        HostError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn data_dir(path: &std::path::Path, e: &std::io::Error) -> Self {
        HostError::DataDir {
            path: path.to_path_buf(),
            why: e.to_string(),
        }
    }

    pub(crate) fn docker(action: impl Into<String>, source: bollard::errors::Error) -> Self {
        HostError::Docker {
            action: action.into(),
            source,
        }
    }
}
