//! Running one activation: init on the first run (cold), then the native or Node.js contract,
//! and the activation record built from what happened.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::{State, StoredAction};

/// dockerskeleton passes params in argv[1] only up to this length (actionproxy.py).
const ARGV_LIMIT: usize = 131_071;

/// 32 hex characters, like OpenWhisk activation ids.
pub(crate) fn new_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// What an action run produced, before it becomes a record.
struct Outcome {
    status: &'static str,
    result: Value,
    logs: Vec<String>,
    timed_out: bool,
}

fn developer_error(message: &str, logs: Vec<String>) -> Outcome {
    Outcome {
        status: "action developer error",
        result: json!({"error": message}),
        logs,
        timed_out: false,
    }
}

/// A result object with a top-level `error` is an application error (OpenWhisk's rule).
fn from_result(result: Value, logs: Vec<String>) -> Outcome {
    let status = if result.get("error").is_some() {
        "application error"
    } else {
        "success"
    };
    Outcome {
        status,
        result,
        logs,
        timed_out: false,
    }
}

/// A whisk internal error record, as the invoker writes when it cannot provision a container.
pub(crate) fn whisk_error(state: &State, name: &str, id: &str) -> Value {
    let now = now_ms();
    let ns = &state.cfg.namespace;
    json!({
        "namespace": ns, "name": name, "version": "0.0.1", "subject": ns,
        "activationId": id, "start": now, "end": now, "duration": 0,
        "publish": false, "logs": [],
        "response": {"status": "whisk internal error", "success": false,
            "result": {"error": "Failed to provision resources to run the action."}},
        "annotations": [{"key": "path", "value": format!("{ns}/{name}")},
            {"key": "waitTime", "value": 0}, {"key": "timeout", "value": false}],
    })
}

pub(crate) async fn run(
    state: &State,
    action: &StoredAction,
    params: Value,
    id: &str,
    received: Instant,
) -> Value {
    let native = action.kind == "blackbox";
    let mut init_ms = None;
    let init_start = Instant::now();
    let wait_ms = (init_start - received).as_millis() as i64;
    let limit = Duration::from_millis(action.timeout_ms);
    let dir = {
        // Held through the initialisation: concurrent invokes wait for it, then run warm.
        let mut slot = action.init.lock().await;
        match slot.clone() {
            Some(dir) => Ok(dir),
            None => {
                state.lock().stats.inits += 1;
                // OpenWhisk applies the action's time limit to /init as well.
                let work = async {
                    tokio::time::sleep(state.cfg.init_delay).await;
                    init(state, action, id, native)
                };
                let r = match tokio::time::timeout(limit, work).await {
                    Ok(r) => r.map_err(|e| (e, false)),
                    Err(_) => Err((
                        format!(
                            "The action exceeded its time limits of {} milliseconds during initialization.",
                            action.timeout_ms
                        ),
                        true,
                    )),
                };
                init_ms = Some(init_start.elapsed().as_millis() as i64);
                if let Ok(dir) = &r {
                    *slot = Some(dir.clone());
                }
                r
            }
        }
    };
    let run_start = now_ms();
    let outcome = match dir {
        Err((e, timed_out)) => {
            let mut o = developer_error(&e, Vec::new());
            o.timed_out = timed_out;
            o
        }
        Ok(dir) => execute(state, action, &dir, &params, id, native).await,
    };
    let end = now_ms();
    // On a cold start OpenWhisk moves `start` back by the init time (ContainerProxy.scala).
    let start = run_start - init_ms.unwrap_or(0);
    let ns = &state.cfg.namespace;
    let mut annotations = vec![
        json!({"key": "path", "value": format!("{ns}/{}", action.name)}),
        json!({"key": "waitTime", "value": wait_ms}),
        json!({"key": "kind", "value": action.kind}),
        json!({"key": "timeout", "value": outcome.timed_out}),
        json!({"key": "limits", "value": {"concurrency": 1, "logs": 10,
            "memory": action.memory_mb, "timeout": action.timeout_ms}}),
    ];
    if let Some(i) = init_ms {
        annotations.push(json!({"key": "initTime", "value": i}));
    }
    json!({
        "namespace": ns, "name": action.name, "version": "0.0.1", "subject": ns,
        "activationId": id, "start": start, "end": end, "duration": end - start,
        "publish": false, "logs": outcome.logs,
        "response": {"status": outcome.status, "success": outcome.status == "success",
            "result": outcome.result},
        "annotations": annotations,
    })
}

/// The cold start: unpack the zip (native) or write the source (Node.js).
fn init(state: &State, action: &StoredAction, id: &str, native: bool) -> Result<PathBuf, String> {
    let dir = state.workdir.path().join(id);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if !native {
        std::fs::write(dir.join("action.js"), &action.code).map_err(|e| e.to_string())?;
        return Ok(dir);
    }
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&action.code))
        .map_err(|e| format!("The action failed to initialize: not a zip ({e})"))?;
    let mut exec = zip
        .by_name("exec")
        .map_err(|_| "The action failed to generate or locate a binary. See logs for details.")?;
    let mut bytes = Vec::new();
    exec.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    let path = dir.join("exec");
    std::fs::write(&path, bytes).map_err(|e| e.to_string())?;
    // dockerskeleton overwrites an executable stub, so `exec` is always executable.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .map_err(|e| e.to_string())?;
    Ok(dir)
}

async fn execute(
    state: &State,
    action: &StoredAction,
    dir: &Path,
    params: &Value,
    id: &str,
    native: bool,
) -> Outcome {
    let json_params = params.to_string();
    let mut cmd = if native {
        let mut c = tokio::process::Command::new(dir.join("exec"));
        if json_params.len() <= ARGV_LIMIT {
            c.arg(&json_params);
        }
        c
    } else {
        let mut c = tokio::process::Command::new("node");
        c.arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/node_launcher.js"))
            .arg(dir.join("action.js"));
        if let Some(p) = &state.cfg.node_path {
            c.env("NODE_PATH", p);
        }
        c
    };
    let deadline = now_ms() + action.timeout_ms as i64;
    cmd.current_dir(dir)
        .env("__OW_ACTIVATION_ID", id)
        .env("__OW_NAMESPACE", &state.cfg.namespace)
        .env(
            "__OW_ACTION_NAME",
            format!("/{}/{}", state.cfg.namespace, action.name),
        )
        .env("__OW_DEADLINE", deadline.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = match redwhisk::platform::local::spawn_retrying_busy(&mut cmd).await {
        Ok(c) => c,
        Err(e) => return developer_error(&format!("cannot start the action: {e}"), Vec::new()),
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(json_params.as_bytes()).await;
    }
    let limit = Duration::from_millis(action.timeout_ms);
    let output = match tokio::time::timeout(limit, child.wait_with_output()).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return developer_error(&format!("the action failed: {e}"), Vec::new()),
        Err(_) => {
            let mut o = developer_error(
                &format!(
                    "The action exceeded its time limits of {} milliseconds.",
                    action.timeout_ms
                ),
                Vec::new(),
            );
            o.timed_out = true;
            return o;
        }
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut lines: Vec<&str> = stdout.lines().filter(|l| !l.trim().is_empty()).collect();
    let last = lines.pop();
    let stamp = || chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut logs: Vec<String> = lines
        .iter()
        .map(|l| format!("{} stdout: {l}", stamp()))
        .collect();
    logs.extend(
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .map(|l| format!("{} stderr: {l}", stamp())),
    );
    let parsed = last.and_then(|l| serde_json::from_str::<Value>(l).ok());
    if parsed.is_none()
        && let Some(l) = last
    {
        // Not a result: keep it visible in the logs for whoever debugs the action.
        logs.push(format!("{} stdout: {l}", stamp()));
    }
    if native {
        return match parsed {
            Some(v) if v.is_object() || v.is_array() => from_result(v, logs),
            _ => developer_error("The action did not return a dictionary or array.", logs),
        };
    }
    match parsed {
        Some(v) if v["ok"].is_object() || v["ok"].is_array() => from_result(v["ok"].clone(), logs),
        Some(v) if v["err"].is_string() => Outcome {
            status: "application error",
            result: json!({"error": v["err"]}),
            logs,
            timed_out: false,
        },
        _ => developer_error("The action did not return a dictionary.", logs),
    }
}
