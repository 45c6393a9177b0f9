//! OpenWhisk's native (blackbox) contract: parameters as JSON in argv[1] (and always on stdin),
//! the result as the last stdout line, logs on stderr. Application errors are results.

use std::io::{Read, Write};
use std::process::ExitCode;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::error::ActionError;
use crate::protocol::{BenchParams, ReaderParams, WriterParams};
use crate::{bench, share};

/// The action names [`run_action`] knows.
pub const ACTIONS: [&str; 3] = ["bench", "writer", "reader"];

/// Read the parameters (argv[1], else stdin), run action `name`, print the result as the last
/// stdout line. Exit code 0 for a result (including `{"error": ...}` application errors), 1 when
/// the action name is unknown or the result cannot be written.
pub fn run_action(name: &str) -> ExitCode {
    if std::env::var_os(LOOP_ENV).is_some_and(|v| v == "1") {
        return run_loop(name);
    }
    let params = read_params();
    let (result, code) = match params.and_then(|p| execute(name, p)) {
        Ok(v) => (v, ExitCode::SUCCESS),
        Err(e) => {
            let code = if matches!(e, ActionError::UnknownAction(_)) {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
            (json!({ "error": e.to_string() }), code)
        }
    };
    let mut out = std::io::stdout().lock();
    // The result must be one line: serde_json's compact form never contains a newline.
    match writeln!(out, "{result}").and_then(|()| out.flush()) {
        Ok(()) => code,
        Err(e) => {
            eprintln!("{name}: cannot write the result to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Set to `1` by a runtime that keeps the process warm: [`run_action`] then serves
/// activations in a loop ([`run_loop`]) instead of running one and exiting.
pub const LOOP_ENV: &str = "REDWHISK_ACTION_LOOP";
/// Written on stdout and on stderr after each activation's logs in the loop, so the runtime
/// knows where one activation's logs end (OpenWhisk's ActionLoop proxy writes the same guard
/// into its log files after each activation).
pub const OUTPUT_GUARD: &str = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";

/// OpenWhisk's ActionLoop protocol (docs/actions-actionloop.md; openwhisk-runtime-go's
/// executor): acknowledge with `{"ok":true}` on fd 3, then for each line on stdin — a JSON
/// object `{"value": <params>, "activation_id": ..., ...}` — run action `name` on `value`, end
/// its logs with [`OUTPUT_GUARD`] on stdout and stderr, and write the result as one JSON line
/// on fd 3. Ends with exit code 0 when stdin closes; 1 when fd 3 is missing or unwritable, or
/// the action name is unknown (after answering that activation).
pub fn run_loop(name: &str) -> ExitCode {
    // Opening /proc/self/fd/3 reaches the same pipe as fd 3 itself, without unsafe code.
    let mut results = match std::fs::OpenOptions::new()
        .write(true)
        .open("/proc/self/fd/3")
    {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{name}: {LOOP_ENV}=1 needs the result pipe on file descriptor 3 ({e})");
            return ExitCode::FAILURE;
        }
    };
    if writeln!(results, "{{\"ok\":true}}").is_err() {
        return ExitCode::FAILURE;
    }
    for line in std::io::stdin().lines() {
        let Ok(line) = line else {
            return ExitCode::FAILURE;
        };
        if line.trim().is_empty() {
            continue;
        }
        let (result, fatal) = match serde_json::from_str::<Value>(&line) {
            Ok(message) => {
                let id = message
                    .get("activation_id")
                    .and_then(Value::as_str)
                    .map(str::to_string);
                crate::bench::set_loop_activation_id(id);
                let params = message.get("value").cloned().unwrap_or_else(|| json!({}));
                match execute(name, params) {
                    Ok(v) => (v, false),
                    Err(e) => {
                        let fatal = matches!(e, ActionError::UnknownAction(_));
                        (json!({ "error": e.to_string() }), fatal)
                    }
                }
            }
            Err(e) => (
                json!({ "error": format!("the activation message is not a JSON object ({e})") }),
                false,
            ),
        };
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{OUTPUT_GUARD}").and_then(|()| out.flush());
        }
        eprintln!("{OUTPUT_GUARD}");
        if writeln!(results, "{result}").is_err() {
            return ExitCode::FAILURE;
        }
        if fatal {
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

/// argv[1] when present (the runtime passes it when it fits), else all of stdin.
fn read_params() -> Result<Value, ActionError> {
    let text = match std::env::args().nth(1) {
        Some(a) => a,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| ActionError::BadParams(format!("cannot read stdin: {e}")))?;
            s
        }
    };
    if text.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(&text)
        .map_err(|e| ActionError::BadParams(format!("the parameters are not a JSON object ({e})")))
}

fn parse<T: DeserializeOwned>(params: Value) -> Result<T, ActionError> {
    if !params.is_object() {
        return Err(ActionError::BadParams(format!(
            "expected a JSON object of parameters, got {params}"
        )));
    }
    serde_json::from_value(params).map_err(|e| ActionError::BadParams(e.to_string()))
}

fn to_json<T: serde::Serialize>(r: &T) -> Result<Value, ActionError> {
    serde_json::to_value(r).map_err(|e| ActionError::BadParams(format!("result not JSON: {e}")))
}

/// Run action `name` on already-parsed parameters (in-process use, e.g. `redwhisk bench action`).
/// The error message never contains the password, even if Redis echoed it.
pub fn execute(name: &str, params: Value) -> Result<Value, ActionError> {
    let password = params
        .get("password")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let result = match name {
        "bench" => parse::<BenchParams>(params)
            .and_then(|p| bench::run(&p))
            .and_then(|r| to_json(&r)),
        "writer" => parse::<WriterParams>(params)
            .and_then(|p| share::write(&p))
            .and_then(|r| to_json(&r)),
        "reader" => parse::<ReaderParams>(params)
            .and_then(|p| share::read(&p))
            .and_then(|r| to_json(&r)),
        other => Err(ActionError::UnknownAction(other.to_string())),
    };
    result.map_err(|e| match &password {
        Some(p) if e.to_string().contains(p.as_str()) => {
            ActionError::Redacted(e.to_string().replace(p.as_str(), "<redacted>"))
        }
        _ => e,
    })
}
