//! Turning an OpenWhisk activation record (openwhisk-api.md §5) into redwhisk's [`Activation`].

use serde::Deserialize;

use crate::platform::activation::ActivationResponse;
use crate::platform::{Activation, Annotation};

/// The record as OpenWhisk sends it (GET /activations/{id}, or the body of a blocking
/// invoke's 200/502). Fields redwhisk does not use are ignored.
#[derive(Debug, Deserialize)]
struct RawRecord {
    #[serde(rename = "activationId")]
    activation_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    start: i64,
    #[serde(default)]
    end: i64,
    #[serde(default)]
    duration: Option<u64>,
    response: ActivationResponse,
    #[serde(default)]
    logs: Vec<String>,
    #[serde(default)]
    annotations: Vec<Annotation>,
}

/// A body that is not an activation record.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RecordError(#[from] serde_json::Error);

/// Parse a full activation record. `client_latency_ms` and `throttled` are what the client
/// measured; `index` is left at 0 for the engine to set.
pub fn parse_record(
    body: &[u8],
    client_latency_ms: f64,
    throttled: u32,
) -> Result<Activation, RecordError> {
    let raw: RawRecord = serde_json::from_slice(body)?;
    let number = |key: &str| {
        raw.annotations
            .iter()
            .find(|a| a.key == key)
            .and_then(|a| a.value.as_u64())
    };
    let wait_time_ms = number("waitTime");
    let init_time_ms = number("initTime");
    let kind = raw
        .annotations
        .iter()
        .find(|a| a.key == "kind")
        .and_then(|a| a.value.as_str())
        .map(str::to_string);
    // Older records may omit `duration`; it is end - start by definition.
    let duration = raw
        .duration
        .unwrap_or_else(|| u64::try_from(raw.end - raw.start).unwrap_or(0));
    Ok(Activation {
        index: 0,
        activation_id: raw.activation_id,
        name: raw.name,
        namespace: raw.namespace,
        start: raw.start,
        end: raw.end,
        duration,
        response: raw.response,
        logs: raw.logs,
        annotations: raw.annotations,
        client_latency_ms,
        wait_time_ms,
        init_time_ms,
        kind,
        throttled,
        throttle_wait_ms: 0.0,
        polls: 0,
        poll_overhead_ms: 0.0,
        log_fetch_ms: None,
        open: None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::platform::ActivationStatus;

    /// The documented example record (openwhisk-api.md §5).
    const DOC_SAMPLE: &str = r#"{"namespace":"guest","name":"hello","version":"0.0.1","subject":"guest",
 "activationId":"c7bb1339cb4f40e3a6ccead6c99f804e","start":1493327653717,
 "end":1493327653769,"duration":52,"publish":false,"logs":[],
 "response":{"status":"success","success":true,"result":{"payload":"Hello John"}},
 "annotations":[{"key":"path","value":"guest/hello"},{"key":"waitTime","value":66},
  {"key":"kind","value":"nodejs:20"},{"key":"timeout","value":false},
  {"key":"limits","value":{"concurrency":1,"logs":10,"memory":256,"timeout":60000}},
  {"key":"initTime","value":50}]}"#;

    #[test]
    fn documented_sample_parses_with_annotations() {
        let a = parse_record(DOC_SAMPLE.as_bytes(), 80.5, 2).unwrap();
        assert_eq!(a.activation_id, "c7bb1339cb4f40e3a6ccead6c99f804e");
        assert_eq!(a.duration, 52);
        assert_eq!(a.wait_time_ms, Some(66));
        assert_eq!(a.init_time_ms, Some(50));
        assert!(a.is_cold());
        assert_eq!(a.kind.as_deref(), Some("nodejs:20"));
        assert_eq!(a.response.status, ActivationStatus::Success);
        assert_eq!(a.response.result["payload"], "Hello John");
        assert_eq!(a.client_latency_ms, 80.5);
        assert_eq!(a.throttled, 2);
    }

    #[test]
    fn warm_record_without_duration_uses_end_minus_start() {
        let body = r#"{"activationId":"a","start":100,"end":130,
          "response":{"status":"application error","success":false,"result":{"error":"boom"}},
          "annotations":[{"key":"waitTime","value":3}]}"#;
        let a = parse_record(body.as_bytes(), 1.0, 0).unwrap();
        assert_eq!(a.duration, 30);
        assert!(!a.is_cold());
        assert!(!a.success());
        assert_eq!(a.response.status, ActivationStatus::ApplicationError);
    }

    #[test]
    fn a_body_without_response_is_an_error() {
        assert!(parse_record(br#"{"activationId":"a"}"#, 0.0, 0).is_err());
    }
}
