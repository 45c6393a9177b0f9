//! The `process` backend: a `redis-server` child in its own process group, so it outlives the
//! command that started it (`redwhisk redis up`) and a Ctrl-C in the console's terminal.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::ctx::{Ctx, StepClock, Up};
use super::error::HostError;
use super::state::{self, Found, HostState};
use super::types::Endpoint;
use super::{ops, password, ports, ready, save_watch};
use crate::model::redis::{ColdStart, StopMode, StopReport};
use crate::stats::ms;

/// The server's stdout/stderr, truncated at every start, tailed in error messages.
pub const LOG_FILE: &str = "redis.log";

/// Find `bin` on PATH (or as a path) so a missing server is a clear error, not ENOENT.
pub(crate) fn find_bin(bin: &str) -> Result<PathBuf, HostError> {
    let missing = || HostError::RedisServerMissing {
        bin: bin.to_string(),
    };
    if bin.contains('/') {
        let p = PathBuf::from(bin);
        return if p.is_file() { Ok(p) } else { Err(missing()) };
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(bin))
        .find(|p| p.is_file())
        .ok_or_else(missing)
}

pub(crate) fn endpoint_of(st: &HostState, ctx: &Ctx<'_>) -> Endpoint {
    Endpoint {
        host: st.host.clone(),
        port: st.port,
        password: Some(ctx.password.clone()),
        tls: false,
        tls_ca: None,
        db: 0,
    }
}

/// What the state file says runs, if it really is a live redis-server; a stale file is removed.
async fn running(ctx: &Ctx<'_>) -> Result<Option<HostState>, HostError> {
    let dir = &ctx.profile.redis.data_dir;
    match state::read(dir).await? {
        Some(st) if st.backend == "process" => match st.pid {
            Some(pid) if state::pid_is_redis(pid, st.pid_start).await => Ok(Some(st)),
            _ => {
                ctx.events.info(format!(
                    "removed a stale state file (the redis-server it names, pid {}, is gone)",
                    st.pid
                        .map_or_else(|| "unknown".to_string(), |p| p.to_string())
                ));
                state::remove(dir).await?;
                Ok(None)
            }
        },
        _ => Ok(None),
    }
}

/// Start (or adopt) the server.
///
/// On the path to the first PONG only what the start needs: the state file is written and the
/// server's start time read while Redis boots, and the key count comes from the connection that
/// got the PONG. Each step's time goes into `Up::steps` (`bench lifecycle` prints them).
pub(crate) async fn up(ctx: &Ctx<'_>, bin: &str) -> Result<Up, HostError> {
    let t0 = Instant::now();
    let mut clock = StepClock::start();
    let cfg = &ctx.profile.redis;
    if let Some(st) = running(ctx).await? {
        let ep = endpoint_of(&st, ctx);
        match state::classify(st.owner, ctx.owner).await {
            Found::Adopt => {
                ready::wait_ready(
                    &ep,
                    cfg.ready_timeout,
                    || async { None },
                    || async { log_tail(&cfg.data_dir).await },
                )
                .await?;
                ctx.events.info(format!(
                    "redis-server pid {} already runs on {}; using it",
                    st.pid.unwrap_or(0),
                    ep.display_url()
                ));
                return Ok(Up::adopted(ep));
            }
            Found::InUse(owner) => {
                return Err(HostError::InUse {
                    profile: ctx.profile.name.clone(),
                    owner,
                });
            }
            Found::Orphan => {
                let pid = st.pid.unwrap_or(0);
                // A saving server cannot answer (its one thread is writing the RDB): its
                // working directory is checked before the wait, its password before a SHUTDOWN.
                check_cwd(ctx, pid).await?;
                if save_watch::saving(pid, &cfg.data_dir).await {
                    // Its starter was killed during the final save: let the save finish.
                    ctx.events.info(format!(
                        "an orphan redis-server (pid {pid}, started by {} which is gone) is still saving: waiting for it to finish",
                        st.owner.label()
                    ));
                    let saved = wait_own_save(ctx, &st, pid).await;
                    if let Err(e @ HostError::FrozenDuringStop { .. }) = saved {
                        return Err(e);
                    }
                    state::remove(&cfg.data_dir).await?;
                    match saved {
                        Ok(()) => ctx.events.warn(format!(
                            "reaped an orphan redis-server (pid {pid}): it finished its final save and exited"
                        )),
                        Err(e) => ctx.events.warn(format!("reaped an orphan redis-server: {e}")),
                    }
                } else {
                    // A loading orphan (its starter was killed during the start) is waited
                    // for by the SHUTDOWN, then saved and stopped.
                    check_ours(ctx, &st, pid).await?;
                    ops::shutdown(&ep, &cfg.persistence, ctx.reply_limit(), ctx.save_limit())
                        .await?;
                    wait_exit(pid, ctx.save_limit(), "SHUTDOWN").await?;
                    state::remove(&cfg.data_dir).await?;
                    ctx.events.warn(format!(
                        "reaped an orphan redis-server (pid {pid}, started by {} which is gone): {}, process stopped",
                        st.owner.label(),
                        ops::reaped_data(&cfg.persistence)
                    ));
                }
            }
        }
    }
    clock.mark("state file check");
    reap_untracked(ctx).await;
    clock.mark("untracked-server check");
    let path = find_bin(bin)?;
    let port = ports::choose(cfg.bind, cfg.port, &ctx.profile.name).await?;
    clock.mark("binary and port check");
    let conf = password::write_conf(&cfg.data_dir, &ctx.password).await?;
    clock.mark("config file");
    let log_path = cfg.data_dir.join(LOG_FILE);
    let log = open_log(&log_path)?;
    let log_err = log.try_clone().map_err(|e| HostError::io(&log_path, e))?;
    clock.mark("log file");
    let t_spawn = Instant::now();
    let pid_file = std::path::absolute(cfg.data_dir.join(state::PID_FILE))
        .map_err(|e| HostError::io(&cfg.data_dir, e))?;
    let mut cmd = tokio::process::Command::new(&path);
    cmd.arg(&conf)
        .args(["--port", &port.to_string(), "--bind", &cfg.bind.to_string()])
        .arg("--dir")
        .arg(&cfg.data_dir)
        // For `reap_untracked`: a server whose starter died before the state file is found.
        .arg("--pidfile")
        .arg(&pid_file)
        .args(["--daemonize", "no"])
        .args(cfg.server_args())
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        // Its own group: a Ctrl-C to the console does not reach it, and it survives us.
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => HostError::RedisServerMissing {
            bin: bin.to_string(),
        },
        _ => HostError::io(&path, e),
    })?;
    let pid = child.id().unwrap_or(0);
    let start_ms = ms(t_spawn.elapsed());
    clock.mark("spawn");
    // From here the server boots. The state file is written meanwhile (it must exist before
    // we return, not before the PONG), so its time hides behind Redis's own start.
    let t_ready = Instant::now();
    let host = super::resp::connect_host(&cfg.bind.to_string()).to_string();
    let ep = Endpoint {
        host: host.clone(),
        port,
        password: Some(ctx.password.clone()),
        tls: false,
        tls_ca: None,
        db: 0,
    };
    let record = async {
        let st = HostState {
            backend: "process".into(),
            pid: Some(pid),
            pid_start: state::start_time(pid).await,
            container: None,
            host,
            port,
            started_at: Utc::now(),
            owner: ctx.owner,
        };
        state::write(&cfg.data_dir, &st).await
    };
    let ready = ready::wait_ready_conn(
        &ep,
        cfg.ready_timeout,
        move || async move { (!state::pid_alive(pid).await).then(|| format!("pid {pid} exited")) },
        || async { log_tail(&cfg.data_dir).await },
    );
    let (recorded, waited) = tokio::join!(record, ready);
    let waited = match (recorded, waited) {
        (Ok(()), w) => w,
        // Ready but not recorded: a server nobody could find again must not be left running.
        (Err(e), w) => {
            drop(w);
            let _already_gone = kill9(pid);
            let _reaped = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            state::remove(&cfg.data_dir).await?;
            return Err(e);
        }
    };
    let mut conn = match waited {
        Ok(conn) => conn,
        Err(e) => {
            // Leave nothing half-started behind.
            let _already_gone = kill9(pid);
            state::remove(&cfg.data_dir).await?;
            // Our own child: name the binary and how it ended.
            return Err(match e {
                HostError::ExitedEarly { log_tail, .. } => {
                    let how = match tokio::time::timeout(Duration::from_secs(2), child.wait()).await
                    {
                        Ok(Ok(status)) => status.to_string(),
                        _ => "it is gone".into(),
                    };
                    HostError::ExitedEarly {
                        status: format!("{} (pid {pid}): {how}", path.display()),
                        log_tail,
                    }
                }
                e => e,
            });
        }
    };
    let ready_ms = ms(t_ready.elapsed());
    clock.mark("first PONG (state file written meanwhile)");
    let keys = ops::keys_on(&mut conn, &ep).await?;
    drop(conn);
    clock.mark("INFO keyspace (same connection)");
    let cold = ColdStart {
        backend: "process".into(),
        image_ms: 0.0,
        create_ms: 0.0,
        start_ms,
        ready_ms,
        total_ms: ms(t0.elapsed()),
        keys_restored: keys,
        restore: None,
        cluster: None,
        network_emulation: None,
    };
    Ok(Up {
        endpoint: ep,
        steps: clock.steps,
        cold: Some(cold),
        child: Some(child),
    })
}

/// A redwhisk killed between spawning redis-server and writing the state file leaves a server
/// nobody tracks. We hold the profile's lock, so a live redis-server in our data directory
/// named by its pid file is such a leftover: SIGTERM it (Redis saves on SIGTERM) and wait for
/// it to go. (A server started by hand in the data directory without `--pidfile` is not
/// looked for: the pid file replaced a walk of /proc that cost milliseconds on every start.)
async fn reap_untracked(ctx: &Ctx<'_>) {
    let dir = &ctx.profile.redis.data_dir;
    if let Some(pid) = state::untracked_server(dir) {
        let raw = i32::try_from(pid).unwrap_or(0);
        if raw <= 1 {
            return;
        }
        let _gone =
            nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), nix::sys::signal::SIGTERM);
        let stopped = wait_exit(pid, ctx.save_limit(), "SIGTERM").await;
        if stopped.is_err() {
            let _gone = kill9(pid);
        }
        ctx.events.warn(format!(
            "stopped an untracked redis-server (pid {pid}) left running in {} by a redwhisk that was killed",
            dir.display()
        ));
    }
}

/// Stop the server the state file names (started by us or by another process).
pub(crate) async fn down(
    ctx: &Ctx<'_>,
    mode: StopMode,
    child: Option<tokio::process::Child>,
) -> Result<StopReport, HostError> {
    let t0 = Instant::now();
    let cfg = &ctx.profile.redis;
    let Some(st) = running(ctx).await? else {
        return Ok(StopReport::nothing(mode));
    };
    let pid = st.pid.unwrap_or(0);
    let command = match mode {
        // A SHUTDOWN already under way (sent by a redwhisk that was killed, or resumed after a
        // freeze): a second one would only be refused; wait for this one.
        StopMode::Graceful if save_watch::saving(pid, &cfg.data_dir).await => {
            ctx.events.info(format!(
                "redis-server pid {pid} is still saving (a SHUTDOWN already under way): waiting for it to finish"
            ));
            match wait_own_save(ctx, &st, pid).await {
                Ok(()) => "its own SHUTDOWN",
                Err(e @ HostError::DiedDuringStop { .. }) => {
                    state::remove(&cfg.data_dir).await?;
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
        StopMode::Graceful => {
            let ep = endpoint_of(&st, ctx);
            let watch = save_watch::frozen(
                pid,
                cfg.data_dir.clone(),
                cfg.stop_timeout,
                ctx.interrupt.clone(),
                || async { false },
            );
            let limits = (ctx.reply_limit(), ctx.save_limit());
            match ops::shutdown_watched(&ep, &cfg.persistence, limits.0, limits.1, watch).await {
                Ok(()) => "SHUTDOWN",
                // Frozen mid-save: its data is in memory only, so it is left as it is (and
                // still recorded, for the next `redis down`).
                Err(e @ HostError::FrozenDuringStop { .. }) => return Err(e),
                // A frozen server cannot save; it is ours (the pid and its start time match),
                // so kill it rather than leave it holding the port and the data directory.
                Err(cause @ HostError::NotAnswering { .. }) => {
                    check_ours(ctx, &st, pid).await?;
                    kill9(pid).map_err(|e| HostError::io(format!("<kill -9 {pid}>"), e))?;
                    wait_exit(pid, ctx.save_limit(), "SIGKILL").await?;
                    if let Some(mut c) = child {
                        let _status = c.wait().await;
                    }
                    state::remove(&cfg.data_dir).await?;
                    return Err(HostError::KilledUnresponsive {
                        what: format!("redis-server pid {pid}"),
                        cause: cause.to_string(),
                    });
                }
                Err(cause) => {
                    return Err(HostError::StopFailed {
                        what: format!("redis-server pid {pid}"),
                        cause: cause.to_string(),
                        profile: ctx.profile.name.clone(),
                    });
                }
            }
        }
        StopMode::Crash => {
            check_ours(ctx, &st, pid).await?;
            kill9(pid).map_err(|e| HostError::io(format!("<kill -9 {pid}>"), e))?;
            "SIGKILL"
        }
    };
    wait_exit(pid, ctx.save_limit(), command).await?;
    // Reap our own child so it does not linger as a zombie; after a SHUTDOWN its exit status
    // tells whether the final save completed (a server killed while saving closes the
    // connection just as a clean SHUTDOWN does).
    let status = match child {
        Some(mut c) => c.wait().await.ok(),
        None => None,
    };
    state::remove(&cfg.data_dir).await?;
    if mode == StopMode::Graceful
        && let Some(status) = status
        && !status.success()
    {
        use std::os::unix::process::ExitStatusExt;
        let how = match (status.signal(), status.code()) {
            (Some(sig), _) => format!("killed by signal {sig}"),
            (None, Some(code)) => format!("exit status {code}"),
            (None, None) => status.to_string(),
        };
        return Err(HostError::DiedDuringStop {
            what: format!("redis-server pid {pid}"),
            how,
        });
    }
    let shutdown_ms = ms(t0.elapsed());
    Ok(StopReport {
        mode,
        was_running: true,
        shutdown_ms,
        remove_ms: 0.0,
        total_ms: shutdown_ms,
        snapshot: None,
    })
}

/// How long a process named by the state file may take to change into the data directory.
const CWD_GRACE: Duration = Duration::from_secs(2);

/// The first half of [`check_ours`]: the process works in the profile's data directory.
async fn check_cwd(ctx: &Ctx<'_>, pid: u32) -> Result<(), HostError> {
    let dir = &ctx.profile.redis.data_dir;
    let not_ours = |why: String| HostError::NotOurs {
        pid,
        why,
        profile: ctx.profile.name.clone(),
        state_file: dir.join(state::STATE_FILE),
    };
    let want = tokio::fs::canonicalize(dir)
        .await
        .map_err(|e| HostError::io(dir, e))?;
    // A server spawned a moment ago (its starter killed right after) may not have read its
    // `--dir` yet: give it a moment to change into it before calling it a stranger.
    let deadline = std::time::Instant::now() + CWD_GRACE;
    let mut cwd = tokio::fs::read_link(format!("/proc/{pid}/cwd")).await;
    while cwd.as_ref().is_ok_and(|c| *c != want) && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
        cwd = tokio::fs::read_link(format!("/proc/{pid}/cwd")).await;
    }
    match cwd {
        Ok(cwd) if cwd == want => Ok(()),
        Ok(cwd) => Err(not_ours(format!(
            "it works in {}, not in redis.data_dir {}",
            cwd.display(),
            want.display()
        ))),
        Err(e) => Err(not_ours(format!(
            "its working directory cannot be read ({e})"
        ))),
    }
}

/// Before any signal to the server a state file names: it is ours only if it works in the
/// profile's data directory (`redis-server --dir` changes into it) and, when it answers,
/// accepts the profile's password. A frozen server cannot answer; its working directory is
/// then the proof. A live pid with the right start time is not enough: a state file can be
/// stale or copied from another machine's data directory.
async fn check_ours(ctx: &Ctx<'_>, st: &HostState, pid: u32) -> Result<(), HostError> {
    check_cwd(ctx, pid).await?;
    let not_ours = |why: String| HostError::NotOurs {
        pid,
        why,
        profile: ctx.profile.name.clone(),
        state_file: ctx.profile.redis.data_dir.join(state::STATE_FILE),
    };
    match ops::ping(&endpoint_of(st, ctx), ctx.reply_limit()).await {
        Err(HostError::WrongPassword { reply, .. }) => Err(not_ours(format!(
            "it refuses the profile's password ({reply})"
        ))),
        _ => Ok(()),
    }
}

/// A server already saving on its own (a `SHUTDOWN` under way): wait for it to exit, watching
/// the save (frozen for `redis.stop_timeout_ms` ends the wait, the server left as it is), and
/// check the save completed: Redis renames its temporary RDB into place when it does.
async fn wait_own_save(ctx: &Ctx<'_>, st: &HostState, pid: u32) -> Result<(), HostError> {
    let cfg = &ctx.profile.redis;
    let temp = save_watch::temp_rdb(pid, &cfg.data_dir).await;
    let watch = save_watch::frozen(
        pid,
        cfg.data_dir.clone(),
        cfg.stop_timeout,
        ctx.interrupt.clone(),
        || async { false },
    );
    tokio::select! {
        exited = wait_exit(pid, ctx.save_limit(), "its own SHUTDOWN") => exited?,
        why = watch => {
            return Err(HostError::FrozenDuringStop {
                endpoint: endpoint_of(st, ctx).display_url(),
                why,
            });
        }
    }
    if tokio::fs::try_exists(&temp).await.unwrap_or(false) {
        return Err(HostError::DiedDuringStop {
            what: format!("redis-server pid {pid}"),
            how: format!("it exited leaving its unfinished {} behind", temp.display()),
        });
    }
    Ok(())
}

async fn wait_exit(pid: u32, timeout: Duration, command: &str) -> Result<(), HostError> {
    let start = Instant::now();
    while state::pid_alive(pid).await {
        if start.elapsed() > timeout {
            return Err(HostError::StopTimeout {
                what: format!("pid {pid}"),
                command: command.into(),
                timeout_ms: u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            });
        }
        tokio::time::sleep(ready::POLL_INTERVAL).await;
    }
    Ok(())
}

/// The last lines of the server log.
/// The log is appended to, not truncated at every start: truncating a file frees its blocks
/// through the filesystem's journal, which on a machine busy writing to disk took up to 90 ms
/// on the path to a start (`bench gateway`, loaded). It is emptied only once it passes
/// [`LOG_KEEP_BYTES`]; a start's own lines are always the last ones (what `log_tail` shows).
const LOG_KEEP_BYTES: u64 = 4 * 1024 * 1024;

fn open_log(path: &Path) -> Result<std::fs::File, HostError> {
    let long = std::fs::metadata(path).is_ok_and(|m| m.len() > LOG_KEEP_BYTES);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|f| {
            if long {
                f.set_len(0)?;
            }
            Ok(f)
        })
        .map_err(|e| HostError::io(path, e))
}

pub(crate) async fn log_tail(dir: &Path) -> String {
    match tokio::fs::read_to_string(dir.join(LOG_FILE)).await {
        Ok(text) => ready::tail(&text, 12),
        Err(e) => format!("  | (no log: {e})"),
    }
}

/// SIGKILL one process. Refuses pids 0 and 1, which would mean our group or init.
pub(crate) fn kill9(pid: u32) -> std::io::Result<()> {
    let raw = i32::try_from(pid).unwrap_or(0);
    if raw <= 1 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("refusing to signal pid {pid}"),
        ));
    }
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(raw), nix::sys::signal::SIGKILL)
        .map_err(std::io::Error::from)
}
