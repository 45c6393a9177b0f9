//! The activation record, shaped like OpenWhisk's (shared/openwhisk-api.md §5).

use redwhisk_actions::BenchResult;
use serde::{Deserialize, Serialize};

use crate::stats::Sample;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationStatus {
    #[serde(rename = "success")]
    Success,
    #[serde(rename = "application error")]
    ApplicationError,
    #[serde(rename = "action developer error")]
    DeveloperError,
    #[serde(rename = "whisk internal error")]
    InternalError,
}

impl ActivationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivationStatus::Success => "success",
            ActivationStatus::ApplicationError => "application error",
            ActivationStatus::DeveloperError => "action developer error",
            ActivationStatus::InternalError => "whisk internal error",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Annotation {
    pub key: String,
    pub value: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivationResponse {
    pub status: ActivationStatus,
    pub success: bool,
    #[serde(default)]
    pub result: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Only in list summaries; removed from full records by OpenWhisk.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "statusCode"
    )]
    pub status_code: Option<u8>,
}

/// One invocation's record as redwhisk keeps it: the platform's fields plus what the client saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activation {
    /// 0-based invocation number within the run.
    pub index: u32,
    #[serde(rename = "activationId")]
    pub activation_id: String,
    pub name: String,
    pub namespace: String,
    /// Epoch milliseconds.
    pub start: i64,
    pub end: i64,
    /// Milliseconds; includes `initTime` on a cold start.
    pub duration: u64,
    pub response: ActivationResponse,
    pub logs: Vec<String>,
    pub annotations: Vec<Annotation>,
    /// Request to response, measured by redwhisk.
    pub client_latency_ms: f64,
    /// OpenWhisk `waitTime` annotation (ms).
    pub wait_time_ms: Option<u64>,
    /// OpenWhisk `initTime` annotation (ms); present only on a cold start.
    pub init_time_ms: Option<u64>,
    pub kind: Option<String>,
    /// 429 answers retried before this invocation was accepted.
    #[serde(default)]
    pub throttled: u32,
    /// Time spent on 429 answers and their backoff before the invoke was accepted (ms). Not
    /// part of `client_latency_ms`, which starts at the accepted request. Absent = 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttle_wait_ms: f64,
    /// `GET …/activations/{id}` requests after a 202 (0 for a blocking answer).
    #[serde(default, skip_serializing_if = "is_zero_u32")]
    pub polls: u32,
    /// Of `client_latency_ms`, at most how much the 202 polling granularity added (ms): from
    /// the last 404 answer to the answer carrying the record (0 without polling).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub poll_overhead_ms: f64,
    /// The extra request that fetched the logs (ms), when `platform.fetch_logs` asked for it and
    /// it succeeded. Not part of `client_latency_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_fetch_ms: Option<f64>,
    /// Open loop: the intended start, the send and the end, and the corrected and uncorrected
    /// latency (absent in a closed-loop run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<crate::stats::Timing>,
}

// The client-side extras are left out of run.json when there was nothing to report (a local
// run, an unthrottled blocking answer), so files stay as they were for the common case.
fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

impl Activation {
    pub fn is_cold(&self) -> bool {
        self.init_time_ms.is_some()
    }

    pub fn success(&self) -> bool {
        self.response.success
    }

    /// The bench action's typed result, when the invocation succeeded and returned one.
    pub fn bench_result(&self) -> Option<BenchResult> {
        if !self.success() {
            return None;
        }
        serde_json::from_value(self.response.result.clone()).ok()
    }

    /// The `error` the action or the platform put in the result, as text (a JSON string
    /// without its quotes; anything else as JSON), when there is one.
    pub fn error_text(&self) -> Option<String> {
        self.response.result.get("error").map(|e| match e {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }

    pub fn annotation(&self, key: &str) -> Option<&serde_json::Value> {
        self.annotations
            .iter()
            .find(|a| a.key == key)
            .map(|a| &a.value)
    }
}

impl From<&Activation> for Sample {
    fn from(a: &Activation) -> Self {
        Sample {
            throttled: a.throttled,
            throttle_wait_ms: a.throttle_wait_ms,
            polls: a.polls,
            poll_overhead_ms: a.poll_overhead_ms,
            log_fetch_ms: a.log_fetch_ms,
            internal_error: a.response.status == ActivationStatus::InternalError,
            cold: a.is_cold(),
            duration_ms: a.duration as f64,
            client_latency_ms: a.client_latency_ms,
            wait_time_ms: a.wait_time_ms.map(|w| w as f64),
            init_time_ms: a.init_time_ms.map(|i| i as f64),
            bench: a.bench_result(),
            open: a.open,
        }
    }
}
