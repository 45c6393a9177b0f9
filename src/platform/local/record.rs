//! Turning a finished process into an OpenWhisk-shaped activation record, with OpenWhisk's
//! rules for what counts as success, application error and action developer error.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::process::{Outcome, Ran};
use super::shared::LOCAL_NAMESPACE;
use crate::platform::{Activation, ActivationResponse, ActivationStatus, Annotation};

/// OpenWhisk's message when the last stdout line is not a JSON object or array.
pub const NOT_A_DICTIONARY: &str = "The action did not return a dictionary or array.";

fn annotation(key: &str, value: Value) -> Annotation {
    Annotation {
        key: key.to_string(),
        value,
    }
}

/// Apply the contract: (status, result) from how the process ended.
pub fn classify(outcome: &Outcome, timeout: &Duration) -> (ActivationStatus, Value) {
    let developer = ActivationStatus::DeveloperError;
    match outcome {
        Outcome::Broken(why) => (developer, json!({ "error": why })),
        Outcome::TimedOut => (
            developer,
            json!({ "error": format!(
                "The action exceeded its time limits of {} milliseconds.",
                timeout.as_millis()
            )}),
        ),
        Outcome::Exited { code, last_line } => {
            let parsed = last_line
                .as_deref()
                .and_then(|l| serde_json::from_str::<Value>(l.trim()).ok())
                .filter(|v| v.is_object() || v.is_array());
            match (code, parsed) {
                (_, None) => (developer, json!({ "error": NOT_A_DICTIONARY })),
                (Some(0), Some(v)) if v.get("error").is_some() => {
                    (ActivationStatus::ApplicationError, v)
                }
                (Some(0), Some(v)) => (ActivationStatus::Success, v),
                // A crash is the developer's fault even if it printed a result first; keep
                // that result next to the reason so nothing is lost.
                (code, Some(v)) => {
                    let why = match code {
                        Some(c) => format!("The action exited with code {c}."),
                        None => "The action was killed by a signal.".to_string(),
                    };
                    (developer, json!({ "error": why, "output": v }))
                }
            }
        }
    }
}

/// Build the record of one local activation.
pub fn build(
    index: u32,
    name: &str,
    timeout: &Duration,
    log_limit: usize,
    ran: Ran,
    requested: Instant,
) -> Activation {
    let (status, result) = classify(&ran.outcome, timeout);
    let timed_out = matches!(ran.outcome, Outcome::TimedOut);
    let limits = json!({
        "timeout": u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
        // OpenWhisk states the log limit in MB.
        "logs": log_limit / (1024 * 1024),
        "concurrency": 1,
    });
    let mut annotations = vec![
        annotation("path", json!(format!("{LOCAL_NAMESPACE}/{name}"))),
        annotation("waitTime", json!(ran.wait_time_ms)),
        annotation("kind", json!("blackbox")),
        annotation("timeout", json!(timed_out)),
        annotation("limits", limits),
    ];
    // A cold start of a warm process: OpenWhisk annotates `initTime` and moves `start` back by
    // it (here `start_ms` already is the spawn), so `duration` includes the init.
    if let Some(init) = ran.init_ms {
        annotations.push(annotation("initTime", json!(init)));
    }
    let duration = u64::try_from((ran.end_ms - ran.start_ms).max(0)).unwrap_or(0);
    Activation {
        index,
        activation_id: ran.activation_id,
        name: name.to_string(),
        namespace: LOCAL_NAMESPACE.to_string(),
        start: ran.start_ms,
        end: ran.end_ms,
        duration,
        response: ActivationResponse {
            status,
            success: status == ActivationStatus::Success,
            result,
            size: None,
            status_code: None,
        },
        logs: ran.logs,
        annotations,
        client_latency_ms: crate::stats::ms(requested.elapsed()),
        wait_time_ms: Some(ran.wait_time_ms),
        init_time_ms: ran.init_ms,
        kind: Some("blackbox".into()),
        throttled: 0,
        throttle_wait_ms: 0.0,
        polls: 0,
        poll_overhead_ms: 0.0,
        log_fetch_ms: None,
        open: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exited(code: i32, line: &str) -> Outcome {
        Outcome::Exited {
            code: Some(code),
            last_line: Some(line.into()),
        }
    }

    #[test]
    fn contract_rules() {
        let t = Duration::from_millis(1500);
        let (s, r) = classify(&exited(0, r#"{"ok":1}"#), &t);
        assert_eq!((s, r), (ActivationStatus::Success, json!({"ok":1})));
        let (s, _) = classify(&exited(0, "[1,2]"), &t);
        assert_eq!(s, ActivationStatus::Success);
        let (s, r) = classify(&exited(0, r#"{"error":"x"}"#), &t);
        assert_eq!(
            (s, r),
            (ActivationStatus::ApplicationError, json!({"error":"x"}))
        );
        for bad in ["42", "\"text\"", "not json", ""] {
            let (s, r) = classify(&exited(0, bad), &t);
            assert_eq!(s, ActivationStatus::DeveloperError, "{bad}");
            assert_eq!(r, json!({"error": NOT_A_DICTIONARY}));
        }
        let (s, r) = classify(&exited(3, r#"{"ok":1}"#), &t);
        assert_eq!(s, ActivationStatus::DeveloperError);
        assert_eq!(r["error"], "The action exited with code 3.");
        assert_eq!(r["output"], json!({"ok":1}));
        let (s, r) = classify(&Outcome::TimedOut, &t);
        assert_eq!(s, ActivationStatus::DeveloperError);
        assert_eq!(
            r["error"],
            "The action exceeded its time limits of 1500 milliseconds."
        );
    }
}
