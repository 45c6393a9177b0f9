//! Running one activation as a process: argv[1] + stdin params, `__OW_*` env, output capture
//! with timestamps, the time limit enforced on the whole process group.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::process::Command;

use super::shared::{LOCAL_NAMESPACE, lock};
use crate::platform::PlatformError;

/// Linux's MAX_ARG_STRLEN - 1: longer params go on stdin only, as OpenWhisk's action proxy does.
pub const MAX_ARGV_PARAMS: usize = 131_071;

/// What to run.
pub struct Spec<'a> {
    pub name: &'a str,
    pub program: &'a Path,
    pub env: &'a [(String, String)],
    pub timeout: Duration,
    pub log_limit: usize,
}

/// How the process ended.
#[derive(Debug)]
pub enum Outcome {
    /// Killed at the time limit.
    TimedOut,
    /// Exited by itself; `code` is `None` when a signal ended it.
    Exited {
        code: Option<i32>,
        last_line: Option<String>,
    },
    /// A warm process that could not start, or ended or broke the protocol mid-activation:
    /// a developer error with this message.
    Broken(String),
}

/// One finished activation, before it becomes a record.
#[derive(Debug)]
pub struct Ran {
    pub activation_id: String,
    pub start_ms: i64,
    pub end_ms: i64,
    pub wait_time_ms: u64,
    pub outcome: Outcome,
    pub logs: Vec<String>,
    /// A warm process's start (spawn to its ready answer) when this activation started it:
    /// OpenWhisk's `initTime` of a cold start. `None`: warm, or a process per activation.
    pub init_ms: Option<u64>,
    /// Where the activation's time went on this side of the pipes.
    pub steps: Steps,
}

/// Where one local activation's time went (µs), for `bench engine`'s breakdown: the moments
/// the platform itself passes through, so nothing is added to the path but a clock read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Steps {
    /// From the invoke call to the start: looking the action up, its params and command.
    pub prepare_us: u64,
    /// Starting the action: fork + exec of a new process, or taking an idle warm one.
    pub start_us: u64,
    /// Handing it the params: written to stdin (and stdin closed), or the JSON line written.
    pub params_us: u64,
    /// From the params handed over to the result in hand: nearly all of the action's own
    /// work. Not all of it for certain: a process can start on its params before the write
    /// returns to us (or, on a new process, from argv at exec), so only `params_us +
    /// result_us` (warm) or `start_us + params_us + result_us` (new) is sure to hold it.
    pub result_us: u64,
    /// After the result: the process's exit and reap (a process per activation), or the
    /// end-of-activation guards on stdout and stderr (a warm process).
    pub after_us: u64,
    /// Building the activation record from the result line (its JSON parse included) and
    /// keeping a copy for lookups by id.
    pub record_us: u64,
}

/// Microseconds from `a` to `b` (0 when `b` is not later).
pub(super) fn us_between(a: Instant, b: Instant) -> u64 {
    u64::try_from(b.saturating_duration_since(a).as_micros()).unwrap_or(u64::MAX)
}

#[derive(Default)]
pub(super) struct Collected {
    pub(super) logs: Vec<String>,
    bytes: usize,
    truncated: bool,
    /// The newest stdout line (raw): the result if nothing follows it on stdout.
    last_stdout: Option<String>,
    /// Where that line sits in `logs`, to take it out again when it is the result.
    last_stdout_at: Option<usize>,
    /// When that line arrived.
    last_stdout_when: Option<Instant>,
}

impl Collected {
    /// Append a log line; returns its index, or `None` once past the log limit.
    pub(super) fn push_log(&mut self, line: String, limit: usize) -> Option<usize> {
        if self.truncated {
            return None;
        }
        if self.bytes + line.len() > limit {
            self.truncated = true;
            self.logs.push(format!(
                "{} stderr: Logs were truncated because the total bytes size exceeds the limit of {limit} bytes.",
                now_iso()
            ));
            return None;
        }
        self.bytes += line.len();
        self.logs.push(line);
        Some(self.logs.len() - 1)
    }
}

fn now_iso() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Nanos, true)
}

pub(super) fn new_activation_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

pub(super) fn epoch_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// One line as read from a pipe, without its line ending.
pub(super) fn line_text(buf: &[u8]) -> String {
    String::from_utf8_lossy(buf)
        .trim_end_matches(['\n', '\r'])
        .to_string()
}

/// A log line as OpenWhisk records it: `<ISO time> <stream>: <text>`, stamped now.
pub(super) fn log_line(stream: &str, text: &str) -> String {
    format!("{} {stream}: {text}", now_iso())
}

/// What every activation's process gets, whether it runs once or stays warm: the action's
/// env, `__OW_ACTION_NAME` and `__OW_NAMESPACE`, piped stdio, its own process group (killed
/// whole at the time limit), killed when dropped.
pub(super) fn command(spec: &Spec<'_>) -> Command {
    let mut cmd = Command::new(spec.program);
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)))
        .env(
            "__OW_ACTION_NAME",
            format!("/{LOCAL_NAMESPACE}/{}", spec.name),
        )
        .env("__OW_NAMESPACE", LOCAL_NAMESPACE)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    cmd
}

/// `__OW_DEADLINE` of an activation starting now (epoch ms).
pub(super) fn deadline_ms(spec: &Spec<'_>) -> i64 {
    epoch_ms() + i64::try_from(spec.timeout.as_millis()).unwrap_or(i64::MAX / 2)
}

/// `waitTime`: from the `invoke` call to now, just before the activation runs.
pub(super) fn wait_time_ms(requested: Instant) -> u64 {
    u64::try_from(requested.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The action's process could not be spawned.
pub(super) fn spawn_error(spec: &Spec<'_>, source: std::io::Error) -> PlatformError {
    PlatformError::Spawn {
        name: spec.name.to_string(),
        program: spec.program.to_path_buf(),
        source,
    }
}

/// Read lines until EOF, each logged as `<ISO time> <stream>: <line>` when it arrives.
async fn capture<R: AsyncRead + Unpin>(
    pipe: R,
    stream: &'static str,
    into: Arc<Mutex<Collected>>,
    limit: usize,
) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let text = line_text(&buf);
        let line = log_line(stream, &text);
        let mut c = lock(&into);
        let at = c.push_log(line, limit);
        if stream == "stdout" {
            c.last_stdout = Some(text);
            c.last_stdout_at = at;
            c.last_stdout_when = Some(Instant::now());
        }
    }
}

/// Kill the whole process group: a shell action's children must not outlive the time limit
/// (they would also keep our pipes open).
pub(super) fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        use nix::sys::signal::{Signal, killpg};
        use nix::unistd::Pid;
        // ESRCH (already gone) is the expected case after a normal exit.
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

/// `spawn`, retried briefly on ETXTBSY ("text file busy"): an executable that was just
/// written can still be open for writing in a child that another thread forked in between
/// (a known fork/exec race); the descriptor goes away as soon as that child execs.
pub async fn spawn_retrying_busy(
    cmd: &mut tokio::process::Command,
) -> std::io::Result<tokio::process::Child> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            other => return other,
        }
    }
}

/// Whether the params hold a secret that must not be put on a command line.
fn carries_secret(params: &serde_json::Value) -> bool {
    params
        .as_object()
        .is_some_and(|o| o.get("password").is_some_and(|p| !p.is_null()))
}

/// Run one activation to completion or to its time limit.
pub async fn run(
    spec: &Spec<'_>,
    params: &serde_json::Value,
    requested: Instant,
) -> Result<Ran, PlatformError> {
    let activation_id = new_activation_id();
    let input = params.to_string();
    let mut cmd = command(spec);
    // argv is readable by every user of this host (`ps`, /proc/PID/cmdline), unlike inside an
    // OpenWhisk action container: params carrying a password go on stdin only, which the
    // contract also allows (as for params too big for argv).
    if input.len() <= MAX_ARGV_PARAMS && !carries_secret(params) {
        cmd.arg(&input);
    }
    cmd.env("__OW_ACTIVATION_ID", &activation_id)
        .env("__OW_DEADLINE", deadline_ms(spec).to_string());
    let wait_time_ms = wait_time_ms(requested);
    let start_ms = epoch_ms();
    let spawning = Instant::now();
    let mut child = spawn_retrying_busy(&mut cmd)
        .await
        .map_err(|e| spawn_error(spec, e))?;
    let spawned = Instant::now();
    let pid = child.id();
    let collected = Arc::new(Mutex::new(Collected::default()));
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    let feed = async move {
        if let Some(mut s) = stdin {
            // An action that never reads stdin makes this fail with EPIPE; that is fine.
            let _ = s.write_all(input.as_bytes()).await;
            let _ = s.shutdown().await;
        }
        Instant::now()
    };
    let out = async {
        if let Some(s) = stdout {
            capture(s, "stdout", collected.clone(), spec.log_limit).await;
        }
    };
    let err = async {
        if let Some(s) = stderr {
            capture(s, "stderr", collected.clone(), spec.log_limit).await;
        }
    };
    let whole = async {
        let (fed, _, _, status) = tokio::join!(feed, out, err, child.wait());
        (fed, status)
    };
    let finished = tokio::time::timeout(spec.timeout, whole).await;
    let mut steps = Steps {
        prepare_us: us_between(requested, spawning),
        start_us: us_between(spawning, spawned),
        ..Steps::default()
    };
    let outcome = match finished {
        Ok((fed, status)) => {
            let done = Instant::now();
            let status = status.map_err(|source| PlatformError::Wait {
                name: spec.name.to_string(),
                source,
            })?;
            // No group kill here: the child is reaped, so its pid could in principle be reused;
            // and any leftover children have closed their output, since we read it to EOF.
            let mut c = lock(&collected);
            if let Some(at) = c.last_stdout_at.take() {
                c.logs.remove(at);
            }
            let result_at = c.last_stdout_when.unwrap_or(done);
            steps.params_us = us_between(spawned, fed);
            steps.result_us = us_between(fed, result_at);
            steps.after_us = us_between(result_at, done);
            Outcome::Exited {
                code: status.code(),
                last_line: c.last_stdout.take(),
            }
        }
        Err(_elapsed) => {
            // The child is not reaped yet, so its pid (= the group id) cannot have been reused.
            kill_group(pid);
            // Reap it so no zombie is left.
            let _ = child.wait().await;
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
        init_ms: None,
        steps,
    })
}
