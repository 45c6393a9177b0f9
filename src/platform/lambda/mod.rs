//! AWS Lambda as a platform, through the official AWS SDK for Rust: deploy (CreateFunction, or
//! UpdateFunctionCode + UpdateFunctionConfiguration, then wait for Active / Successful), invoke
//! `RequestResponse` with `LogType=Tail`, and turn each answer and its `REPORT` line into an
//! [`Activation`] like OpenWhisk's: Init Duration → cold start, `X-Amz-Function-Error` → an
//! application error carrying the payload, `Task timed out after …` → a timeout, 429 → retried
//! with back-off, counted as throttled and kept out of the latency.
//!
//! With `emulator = "local"` the functions run in local containers (see [`emulator`]).

pub mod deploy;
pub mod emulator;
mod error;
pub mod image;
pub mod node;
pub mod report;
pub mod sdk;

use std::sync::Arc;
use std::time::{Duration, Instant};

pub use error::LambdaError;
pub use report::{Report, parse_report};

use crate::event::EventSink;
use crate::platform::activation::ActivationResponse;
use crate::platform::openwhisk::Backoff;
use crate::platform::{Activation, ActivationStatus, Annotation, BuiltinAction, PlatformError};
use crate::profile::{Emulator as EmulatorKind, LambdaConfig, PlatformConfig, Profile};

/// Added to the function's timeout to bound one Invoke (network, queueing, the emulator).
pub const INVOKE_SLACK: Duration = Duration::from_secs(10);
/// One control-plane request attempt (the SDK retries it, all attempts within twice this).
pub const CONTROL_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long 429 answers are retried before the invocation is given up.
pub const THROTTLE_DEADLINE: Duration = Duration::from_secs(300);

/// Where invocations go.
#[derive(Debug)]
enum Backend {
    Emulator(Box<emulator::Emulator>),
    Aws {
        client: aws_sdk_lambda::Client,
        control: aws_sdk_lambda::Client,
        endpoint: String,
    },
}

/// A Lambda (or local emulator) platform. Cheap to clone.
#[derive(Debug, Clone)]
pub struct LambdaPlatform {
    cfg: Arc<LambdaConfig>,
    backend: Arc<tokio::sync::OnceCell<Backend>>,
    containers: usize,
    bin_dir: Option<std::path::PathBuf>,
    backoff: Backoff,
    /// What the platform billed so far (answered invocations).
    bill: Arc<std::sync::Mutex<crate::model::Bill>>,
}

impl LambdaPlatform {
    pub fn new(profile: &Profile) -> Result<Self, PlatformError> {
        let PlatformConfig::Lambda(cfg) = &profile.platform else {
            return Err(LambdaError::Config(format!(
                "profile `{}` has platform kind `{}`, not `lambda`",
                profile.name,
                profile.platform.label()
            ))
            .into());
        };
        let w = &profile.workload;
        let containers = w.open.map_or(w.concurrency, |o| o.max_in_flight);
        Ok(Self {
            cfg: Arc::new((**cfg).clone()),
            backend: Arc::new(tokio::sync::OnceCell::new()),
            containers: containers.max(1) as usize,
            bin_dir: None,
            backoff: Backoff::default(),
            bill: Arc::new(std::sync::Mutex::new(crate::model::Bill::default())),
        })
    }

    /// Look for the static `bootstrap` in `dir` first.
    pub fn with_bin_dir(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.bin_dir = dir;
        self
    }

    /// A different 429 back-off (tests use short ones).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    pub fn config(&self) -> &LambdaConfig {
        &self.cfg
    }

    pub fn label(&self) -> &'static str {
        "lambda"
    }

    async fn backend(&self) -> Result<&Backend, LambdaError> {
        self.backend
            .get_or_try_init(|| async {
                match self.cfg.emulator {
                    EmulatorKind::Local => {
                        let settings = emulator::Settings {
                            runtime: self.cfg.runtime,
                            memory_mb: self.cfg.memory_mb,
                            timeout: self.cfg.timeout,
                            containers: self.containers,
                            bin_dir: self.bin_dir.clone(),
                            slack: INVOKE_SLACK,
                        };
                        Ok(Backend::Emulator(Box::new(
                            emulator::Emulator::connect(settings).await?,
                        )))
                    }
                    EmulatorKind::None => {
                        let endpoint = sdk::endpoint_from(self.cfg.endpoint.as_deref(), |k| {
                            std::env::var(k).ok()
                        });
                        let shared = sdk::load_aws(&self.cfg.region, endpoint.as_deref()).await;
                        let shown = endpoint.clone().unwrap_or_else(|| {
                            format!("https://lambda.{}.amazonaws.com", self.cfg.region)
                        });
                        let attempt = self.cfg.timeout + INVOKE_SLACK;
                        Ok(Backend::Aws {
                            client: sdk::lambda_client(
                                &shared,
                                endpoint.as_deref(),
                                false,
                                Some(attempt),
                            ),
                            control: sdk::lambda_client(
                                &shared,
                                endpoint.as_deref(),
                                true,
                                Some(CONTROL_ATTEMPT_TIMEOUT),
                            ),
                            endpoint: shown,
                        })
                    }
                }
            })
            .await
    }

    /// Deploy `action` as function `name` and wait until it can be invoked.
    pub async fn deploy(
        &self,
        action: BuiltinAction,
        name: &str,
        events: &EventSink,
    ) -> Result<(), PlatformError> {
        match self.backend().await? {
            Backend::Emulator(e) => Ok(e.deploy(action, name, events).await?),
            Backend::Aws {
                control, endpoint, ..
            } => {
                let zip = deploy::package(self.cfg.runtime, action, self.bin_dir.as_deref())?;
                let how = deploy::deploy(
                    control,
                    endpoint,
                    &self.cfg,
                    action,
                    name,
                    zip,
                    deploy::READY_DEADLINE,
                )
                .await?;
                events.info(format!(
                    "{how} Lambda function `{name}` ({}, {} MB, timeout {} s) at {endpoint}",
                    self.cfg.runtime.as_str(),
                    self.cfg.memory_mb,
                    self.cfg.timeout.as_secs()
                ));
                Ok(())
            }
        }
    }

    /// Invoke and build the record; a function error is an `Ok` record with `success = false`.
    pub async fn invoke(
        &self,
        name: &str,
        params: serde_json::Value,
    ) -> Result<Activation, PlatformError> {
        let payload = serde_json::to_vec(&params)
            .map_err(|e| LambdaError::Config(format!("parameters are not JSON: {e}")))?;
        let backend = self.backend().await?;
        let first_try = Instant::now();
        let mut throttled = 0u32;
        let mut delay = self.backoff.initial;
        loop {
            let start_ms = chrono::Utc::now().timestamp_millis();
            let accepted = Instant::now();
            let (answer, report, logs, init_report_ms) = match backend {
                Backend::Emulator(e) => {
                    let o = e.invoke(name, &payload).await?;
                    (o.answer, Some(o.report), o.logs, o.init_report_ms)
                }
                Backend::Aws {
                    client, endpoint, ..
                } => {
                    let a = sdk::invoke_once(client, name, endpoint, &payload).await;
                    let a = match a {
                        Err(LambdaError::Invoke { detail, .. })
                            if detail.contains("deadline") || detail.contains("timeout") =>
                        {
                            return Err(LambdaError::NoAnswer {
                                function: name.to_string(),
                                endpoint: endpoint.clone(),
                                waited: self.cfg.timeout + INVOKE_SLACK,
                                slack: INVOKE_SLACK,
                            }
                            .into());
                        }
                        other => other?,
                    };
                    let tail = match &a {
                        sdk::Answer::Ok { log_tail, .. } => log_tail.clone().unwrap_or_default(),
                        sdk::Answer::Throttled => String::new(),
                    };
                    let report = tail.lines().find_map(parse_report);
                    let logs = tail
                        .lines()
                        .filter(|l| {
                            !(l.starts_with("START RequestId")
                                || l.starts_with("END RequestId")
                                || l.starts_with("REPORT RequestId"))
                        })
                        .map(str::to_string)
                        .collect();
                    (a, report, logs, None)
                }
            };
            match answer {
                sdk::Answer::Throttled => {
                    throttled += 1;
                    if first_try.elapsed() + delay > THROTTLE_DEADLINE {
                        return Err(LambdaError::Throttled {
                            function: name.to_string(),
                            retries: throttled,
                            waited: first_try.elapsed(),
                        }
                        .into());
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.backoff.max);
                }
                sdk::Answer::Ok {
                    payload,
                    function_error,
                    latency,
                    request_id,
                    ..
                } => {
                    let throttle_wait_ms = if throttled > 0 {
                        (accepted - first_try).as_secs_f64() * 1000.0
                    } else {
                        0.0
                    };
                    let end_ms = chrono::Utc::now().timestamp_millis();
                    self.add_to_bill(report.as_ref(), latency);
                    return Ok(record(Record {
                        function: name,
                        namespace: match self.cfg.emulator {
                            EmulatorKind::Local => "local-emulator".into(),
                            EmulatorKind::None => self.cfg.region.clone(),
                        },
                        runtime: self.cfg.runtime.as_str(),
                        payload: &payload,
                        function_error,
                        report,
                        logs,
                        init_report_ms,
                        latency,
                        request_id,
                        start_ms,
                        end_ms,
                        throttled,
                        throttle_wait_ms,
                    }));
                }
            }
        }
    }

    fn add_to_bill(&self, report: Option<&Report>, latency: Duration) {
        // Without a REPORT line, the client's latency rounded up stands in for the bill.
        let (billed_ms, memory_mb) = report.map_or_else(
            || {
                (
                    latency.as_millis() as u64 + 1,
                    u64::from(self.cfg.memory_mb),
                )
            },
            |r| (r.billed_ms, r.memory_mb),
        );
        if let Ok(mut b) = self.bill.lock() {
            b.requests += 1;
            b.billed_ms += billed_ms;
            b.gb_seconds += billed_ms as f64 / 1000.0 * memory_mb as f64 / 1024.0;
        }
    }

    /// The run's cost so far: the bill priced from the profile, beside the VM's cost for
    /// `wall` (the run's wall time).
    pub fn cost(&self, wall: Duration) -> crate::model::CostRecord {
        let bill = self.bill.lock().map(|b| *b).unwrap_or_default();
        let p = self.cfg.price;
        crate::model::CostRecord::new(
            bill,
            crate::model::Prices {
                gb_second_usd: p.gb_second_usd,
                requests_per_million_usd: p.requests_per_million_usd,
                vm_hour_usd: p.vm_hour_usd,
                redis_hour_usd: p.redis_hour_usd,
            },
            wall.as_secs_f64(),
        )
    }

    /// Remove what the platform started (the emulator's containers); nothing on AWS.
    pub async fn close(&self) {
        if let Some(Backend::Emulator(e)) = self.backend.get() {
            e.close().await;
        }
    }

    /// The emulator containers of `function` (empty on AWS).
    pub async fn containers(&self, function: &str) -> Vec<String> {
        match self.backend.get() {
            Some(Backend::Emulator(e)) => e.containers(function).await,
            _ => Vec::new(),
        }
    }
}

/// Everything one answer gave, for [`record`].
struct Record<'a> {
    function: &'a str,
    namespace: String,
    runtime: &'static str,
    payload: &'a [u8],
    function_error: Option<String>,
    report: Option<Report>,
    logs: Vec<String>,
    init_report_ms: Option<f64>,
    latency: Duration,
    request_id: Option<String>,
    start_ms: i64,
    end_ms: i64,
    throttled: u32,
    throttle_wait_ms: f64,
}

/// The emulator's error body: `{"errorType": …, "errorMessage": …}` (it sends no
/// `X-Amz-Function-Error`, so the body's shape is what tells).
fn is_error_body(v: &serde_json::Value) -> bool {
    v.as_object().is_some_and(|o| {
        o.contains_key("errorMessage")
            && o.keys().all(|k| {
                matches!(
                    k.as_str(),
                    "errorMessage" | "errorType" | "stackTrace" | "requestId" | "trace"
                )
            })
    })
}

fn record(r: Record<'_>) -> Activation {
    let text = String::from_utf8_lossy(r.payload).into_owned();
    let parsed: Option<serde_json::Value> = serde_json::from_slice(r.payload).ok();
    let timed_out =
        report::is_timeout_message(&text) || r.logs.iter().any(|l| report::is_timeout_message(l));
    let function_error = r.function_error.or_else(|| {
        parsed
            .as_ref()
            .filter(|v| is_error_body(v))
            .map(|_| "Unhandled".to_string())
    });
    let (status, result) = if timed_out {
        let message = text
            .lines()
            .chain(r.logs.iter().map(String::as_str))
            .find(|l| report::is_timeout_message(l))
            .map(|l| {
                l.find("Task timed out")
                    .map_or(l, |i| &l[i..])
                    .trim()
                    .to_string()
            })
            .unwrap_or_else(|| "Task timed out".into());
        (
            ActivationStatus::DeveloperError,
            serde_json::json!({ "error": message, "timeout": true }),
        )
    } else if let Some(kind) = &function_error {
        let v = parsed
            .clone()
            .unwrap_or(serde_json::Value::String(text.clone()));
        let message = v
            .get("errorMessage")
            .and_then(|m| m.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| text.clone());
        (
            ActivationStatus::ApplicationError,
            serde_json::json!({
                "error": message,
                "errorType": v.get("errorType").cloned().unwrap_or(serde_json::Value::Null),
                "functionError": kind,
                "payload": v,
            }),
        )
    } else {
        match parsed {
            Some(v) if v.get("error").is_some() => (ActivationStatus::ApplicationError, v),
            Some(v) => (ActivationStatus::Success, v),
            None => (
                ActivationStatus::DeveloperError,
                serde_json::json!({ "error": format!("the function's answer is not JSON: {text}") }),
            ),
        }
    };
    let success = status == ActivationStatus::Success;
    let mut annotations = vec![
        Annotation {
            key: "kind".into(),
            value: r.runtime.into(),
        },
        Annotation {
            key: "timeout".into(),
            value: timed_out.into(),
        },
    ];
    let latency_ms = r.latency.as_secs_f64() * 1000.0;
    let (duration, init_time_ms, id) = match &r.report {
        Some(rep) => {
            annotations.extend([
                Annotation {
                    key: "billedDuration".into(),
                    value: rep.billed_ms.into(),
                },
                Annotation {
                    key: "memorySize".into(),
                    value: rep.memory_mb.into(),
                },
                Annotation {
                    key: "maxMemoryUsed".into(),
                    value: rep.max_memory_mb.into(),
                },
                Annotation {
                    key: "lambdaDuration".into(),
                    value: serde_json::json!(rep.duration_ms),
                },
            ]);
            // Cold = the REPORT has an Init Duration. The emulator's own figure for it is far
            // below the runtime's real start, which its INIT REPORT line gives: the larger wins.
            let init = rep.init_ms.map(|i| {
                let best = r.init_report_ms.map_or(i, |x| x.max(i));
                annotations.push(Annotation {
                    key: "initDuration".into(),
                    value: serde_json::json!(best),
                });
                best.round() as u64
            });
            (rep.duration_ms.round() as u64, init, rep.request_id.clone())
        }
        None => (
            latency_ms.round() as u64,
            None,
            r.request_id.clone().unwrap_or_default(),
        ),
    };
    Activation {
        index: 0,
        activation_id: id,
        name: r.function.to_string(),
        namespace: r.namespace,
        start: r.start_ms,
        end: r.end_ms,
        duration,
        response: ActivationResponse {
            status,
            success,
            result,
            size: Some(r.payload.len() as u64),
            status_code: None,
        },
        logs: r.logs,
        annotations,
        client_latency_ms: latency_ms,
        wait_time_ms: None,
        init_time_ms,
        kind: Some(r.runtime.to_string()),
        throttled: r.throttled,
        throttle_wait_ms: r.throttle_wait_ms,
        polls: 0,
        poll_overhead_ms: 0.0,
        log_fetch_ms: None,
        open: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rec(payload: &str, err: Option<&str>, report: Option<&str>) -> Activation {
        record(Record {
            function: "f",
            namespace: "local-emulator".into(),
            runtime: "provided.al2023",
            payload: payload.as_bytes(),
            function_error: err.map(str::to_string),
            report: report.and_then(parse_report),
            logs: vec![],
            init_report_ms: Some(17.5),
            latency: Duration::from_millis(30),
            request_id: None,
            start_ms: 1,
            end_ms: 31,
            throttled: 0,
            throttle_wait_ms: 0.0,
        })
    }

    #[test]
    fn cold_success_takes_the_larger_init_figure() {
        let a = rec(
            r#"{"ok":1}"#,
            None,
            Some(
                "REPORT RequestId: r1\tInit Duration: 0.12 ms\tDuration: 23.95 ms\tBilled Duration: 24 ms\tMemory Size: 256 MB\tMax Memory Used: 20 MB",
            ),
        );
        assert!(a.success());
        assert_eq!(a.init_time_ms, Some(18));
        assert_eq!(a.duration, 24);
        assert_eq!(a.activation_id, "r1");
        assert_eq!(a.annotation("billedDuration"), Some(&serde_json::json!(24)));
    }

    #[test]
    fn error_body_without_header_is_unhandled_and_timeouts_are_named() {
        let a = rec(
            r#"{"errorType":"ActionError","errorMessage":"boom"}"#,
            None,
            None,
        );
        assert_eq!(a.response.status, ActivationStatus::ApplicationError);
        assert_eq!(a.error_text().as_deref(), Some("boom"));
        assert_eq!(a.response.result["functionError"], "Unhandled");
        let h = rec(r#"{"errorMessage":"x"}"#, Some("Handled"), None);
        assert_eq!(h.response.result["functionError"], "Handled");
        let t = rec("Task timed out after 1.00 seconds", None, None);
        assert_eq!(t.response.status, ActivationStatus::DeveloperError);
        assert_eq!(t.response.result["timeout"], true);
        assert_eq!(
            t.error_text().as_deref(),
            Some("Task timed out after 1.00 seconds")
        );
    }
}
