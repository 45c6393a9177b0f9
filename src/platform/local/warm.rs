//! Warm action processes (`platform.keep_warm`): OpenWhisk keeps an action's container between
//! activations; the local platform keeps the action's process, speaking OpenWhisk's ActionLoop
//! protocol (docs/actions-actionloop.md, openwhisk-runtime-go's executor):
//!
//! - start: the process gets a pipe on fd 3 and answers `{"ok":true}` on it when ready. The
//!   time from spawn to that answer is the activation's `initTime` (a cold start).
//! - each activation: one JSON line on stdin, `{"value": <params>, "activation_id": ..., ...}`;
//!   the result comes back as one JSON line on fd 3; the activation's logs are what the process
//!   wrote on stdout and stderr up to the [`OUTPUT_GUARD`] line on each.
//! - a process that timed out, died or broke the protocol is killed and never reused.
//!
//! Only built-in actions run warm (they implement the loop, `redwhisk_actions::run_loop`); an
//! executable deployed with `deploy_executable` still gets a new process per activation.

use std::collections::HashMap;
use std::os::fd::OwnedFd;

use command_fds::{CommandFdExt, FdMapping};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use redwhisk_actions::contract::{LOOP_ENV, OUTPUT_GUARD};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout};

use super::process::{
    Collected, Outcome, Ran, Spec, Steps, command, deadline_ms, epoch_ms, kill_group, line_text,
    log_line, new_activation_id, spawn_error, us_between, wait_time_ms,
};
use super::shared::{LOCAL_NAMESPACE, lock};
use crate::platform::PlatformError;

/// One warm process.
#[derive(Debug)]
pub struct WarmProc {
    child: Child,
    pid: Option<u32>,
    stdin: ChildStdin,
    results: BufReader<pipe::Receiver>,
    stdout: BufReader<ChildStdout>,
    stderr: BufReader<ChildStderr>,
}

/// Idle warm processes per action name.
#[derive(Debug, Default)]
pub struct Pool {
    idle: Mutex<HashMap<String, Vec<WarmProc>>>,
}

impl Pool {
    /// An idle process of `name` that is still alive (dead ones are dropped on the way: a
    /// warm process killed while idle must not fail the next activation).
    fn take(&self, name: &str) -> Option<WarmProc> {
        let mut idle = lock(&self.idle);
        let list = idle.get_mut(name)?;
        while let Some(mut p) = list.pop() {
            if matches!(p.child.try_wait(), Ok(None)) {
                return Some(p);
            }
        }
        None
    }

    fn put_back(&self, name: &str, p: WarmProc) {
        lock(&self.idle)
            .entry(name.to_string())
            .or_default()
            .push(p);
    }

    /// Forget (and kill: `kill_on_drop`) the idle processes of `name`, e.g. on a redeploy.
    pub fn clear(&self, name: &str) {
        lock(&self.idle).remove(name);
    }

    /// How many idle processes `name` has.
    pub fn idle(&self, name: &str) -> usize {
        lock(&self.idle).get(name).map_or(0, Vec::len)
    }
}

/// Spawn the action's process with the result pipe on fd 3 and wait for its `{"ok":true}`.
async fn start(spec: &Spec<'_>) -> Result<Result<WarmProc, Outcome>, PlatformError> {
    let (read_end, write_end) = std::io::pipe().map_err(|e| spawn_error(spec, e))?;
    let mut cmd = command(spec);
    cmd.env(LOOP_ENV, "1");
    cmd.fd_mappings(vec![FdMapping {
        parent_fd: OwnedFd::from(write_end),
        child_fd: 3,
    }])
    .map_err(|e| spawn_error(spec, std::io::Error::other(e.to_string())))?;
    let mut child = super::process::spawn_retrying_busy(&mut cmd)
        .await
        .map_err(|e| spawn_error(spec, e))?;
    // The parent's copy of the write end lives in `cmd` (dropped below): once it is gone, a
    // dead child reads as EOF on the result pipe.
    drop(cmd);
    let pid = child.id();
    let (Some(stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return Ok(Err(Outcome::Broken(
            "the action's pipes were not set up".into(),
        )));
    };
    let mut results = match pipe::Receiver::from_owned_fd(OwnedFd::from(read_end)) {
        Ok(r) => BufReader::new(r),
        Err(e) => return Ok(Err(Outcome::Broken(format!("the result pipe: {e}")))),
    };
    let mut ack = String::new();
    let acked = tokio::time::timeout(spec.timeout, results.read_line(&mut ack)).await;
    let why = match acked {
        Ok(Ok(n)) if n > 0 && is_ok_ack(&ack) => None,
        Ok(Ok(0)) => Some(match child.wait().await {
            Ok(status) => format!("Command exited abruptly during initialization ({status})."),
            Err(_) => "Command exited abruptly during initialization.".into(),
        }),
        Ok(Ok(_)) => Some(format!(
            "The action did not initialize properly: it answered {} instead of {{\"ok\":true}}.",
            ack.trim()
        )),
        Ok(Err(e)) => Some(format!("The action did not initialize properly: {e}.")),
        Err(_) => Some(format!(
            "The action did not initialize within its time limit of {} milliseconds.",
            spec.timeout.as_millis()
        )),
    };
    if let Some(why) = why {
        kill_group(pid);
        let _ = child.wait().await;
        return Ok(Err(Outcome::Broken(why)));
    }
    Ok(Ok(WarmProc {
        child,
        pid,
        stdin,
        results,
        stdout: BufReader::new(stdout),
        stderr: BufReader::new(stderr),
    }))
}

fn is_ok_ack(line: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(line.trim())
        .ok()
        .and_then(|v| v.get("ok").and_then(serde_json::Value::as_bool))
        == Some(true)
}

/// Read log lines up to this activation's guard (or EOF: the process died).
async fn logs_until_guard<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
    stream: &'static str,
    into: &Mutex<Collected>,
    limit: usize,
) -> bool {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(_) => {}
        }
        let text = line_text(&buf);
        if text == OUTPUT_GUARD {
            return true;
        }
        lock(into).push_log(log_line(stream, &text), limit);
    }
}

/// Run one activation on a warm process of `spec.name` (started cold when none is idle).
pub async fn run(
    pool: &Arc<Pool>,
    spec: &Spec<'_>,
    params: &serde_json::Value,
    requested: Instant,
) -> Result<Ran, PlatformError> {
    let activation_id = new_activation_id();
    let wait_time_ms = wait_time_ms(requested);
    let taking = Instant::now();
    let (mut proc, init_ms, start_ms) = match pool.take(spec.name) {
        Some(p) => (p, None, epoch_ms()),
        None => {
            let start_ms = epoch_ms();
            let t = Instant::now();
            match start(spec).await? {
                Ok(p) => (
                    p,
                    Some(crate::stats::ms(t.elapsed()).round() as u64),
                    start_ms,
                ),
                Err(outcome) => {
                    return Ok(Ran {
                        activation_id,
                        start_ms,
                        end_ms: epoch_ms(),
                        wait_time_ms,
                        outcome,
                        logs: Vec::new(),
                        init_ms: None,
                        steps: Steps::default(),
                    });
                }
            }
        }
    };
    let deadline = deadline_ms(spec);
    let message = serde_json::json!({
        "value": params,
        "activation_id": activation_id,
        "action_name": format!("/{LOCAL_NAMESPACE}/{}", spec.name),
        "namespace": LOCAL_NAMESPACE,
        "deadline": deadline.to_string(),
    });
    let mut line = message.to_string();
    line.push('\n');
    let collected = Mutex::new(Collected::default());
    let mut steps = Steps::default();
    let taken = Instant::now();
    steps.prepare_us = us_between(requested, taking);
    steps.start_us = us_between(taking, taken);
    let exchange = async {
        if proc.stdin.write_all(line.as_bytes()).await.is_err() {
            return None;
        }
        let written = Instant::now();
        let mut result = String::new();
        let (res, out_ok, err_ok) = tokio::join!(
            async {
                let r = proc.results.read_line(&mut result).await;
                (r, Instant::now())
            },
            logs_until_guard(&mut proc.stdout, "stdout", &collected, spec.log_limit),
            logs_until_guard(&mut proc.stderr, "stderr", &collected, spec.log_limit),
        );
        let guarded = Instant::now();
        match res {
            (Ok(n), result_at) if n > 0 && out_ok && err_ok => {
                Some((result, [taken, written, result_at, guarded]))
            }
            _ => None,
        }
    };
    let outcome = match tokio::time::timeout(spec.timeout, exchange).await {
        Ok(Some((result, [taken, written, result_at, guarded]))) => {
            steps.params_us = us_between(taken, written);
            steps.result_us = us_between(written, result_at);
            steps.after_us = us_between(result_at, guarded);
            let outcome = Outcome::Exited {
                code: Some(0),
                last_line: Some(result.trim_end().to_string()),
            };
            pool.put_back(spec.name, proc);
            outcome
        }
        Ok(None) => {
            // The process died or broke the protocol: its exit status says which.
            kill_group(proc.pid);
            let why = match proc.child.wait().await {
                Ok(status) => format!(
                    "The action's process ended during the activation ({status}) without a result."
                ),
                Err(_) => {
                    "The action's process ended during the activation without a result.".into()
                }
            };
            Outcome::Broken(why)
        }
        Err(_elapsed) => {
            kill_group(proc.pid);
            let _ = proc.child.wait().await;
            Outcome::TimedOut
        }
    };
    let end_ms = epoch_ms();
    let logs = std::mem::take(&mut lock(&collected).logs);
    Ok(Ran {
        activation_id,
        start_ms,
        end_ms,
        wait_time_ms,
        outcome,
        logs,
        init_ms,
        steps,
    })
}
