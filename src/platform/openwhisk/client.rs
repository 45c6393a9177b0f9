//! The HTTP exchanges: PUT an action, POST an invoke (200/502/500 record, 202 then poll, 429
//! retry), GET an activation and its logs, and the mapping of every other status to a clear
//! error.
//!
//! What the client measures, per invocation: `client_latency_ms` from sending the accepted
//! invoke (the one not answered 429) to the answer carrying the record; `throttle_wait_ms`
//! before it (429 answers and backoff); `poll_overhead_ms`, the part of the latency that the
//! polling granularity may have added after a 202; `log_fetch_ms`, the extra logs request
//! after it. Only the first is latency.

use std::time::{Duration, Instant};

use reqwest::{Response, StatusCode, Url};

use super::record::parse_record;
use super::{OpenWhiskError, OpenWhiskPlatform, config};
use crate::platform::Activation;
use crate::secret::{self, Secret};
use crate::stats::ms;

/// Error bodies are kept short in messages.
const BODY_LIMIT: usize = 300;

/// Polling after a 202 backs off up to this interval at most, so the record is seen at most
/// this long after it is written (the 429 backoff can grow further).
const POLL_MAX_INTERVAL: Duration = Duration::from_millis(500);

/// The logs are written just after the result (openwhisk-api.md §4): a 404 on the logs is
/// retried this many times, doubling from 50 ms (≈ 1.5 s in all).
const LOG_FETCH_TRIES: u32 = 5;

impl OpenWhiskPlatform {
    pub(super) fn request(&self, method: reqwest::Method, url: Url) -> reqwest::RequestBuilder {
        let (user, key) = config::split_auth(&self.cfg.auth);
        self.http.request(method, url).basic_auth(user, Some(key))
    }

    pub(super) fn transport(&self, what: String, source: reqwest::Error) -> OpenWhiskError {
        // reqwest errors carry the URL (never the key: it travels in a header); the message
        // names the API host already, so the URL would only repeat it.
        OpenWhiskError::Transport {
            apihost: self.cfg.apihost.clone(),
            what,
            source: source.without_url(),
        }
    }

    pub(super) async fn send_put(
        &self,
        url: Url,
        name: &str,
        body: &serde_json::Value,
    ) -> Result<(), OpenWhiskError> {
        let resp = self
            .request(reqwest::Method::PUT, url)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport(format!("deploying `{name}`"), e))?;
        let status = resp.status();
        if status.is_success() {
            return Ok(());
        }
        let text = self.body_text(resp).await;
        Err(self.status_error(status, text, &format!("action `{name}`"), name))
    }

    pub(super) async fn invoke_inner(
        &self,
        name: &str,
        params: &serde_json::Value,
    ) -> Result<Activation, OpenWhiskError> {
        let first = Instant::now();
        let deadline = first + self.poll_deadline;
        let mut url = self.action_url(name)?;
        url.query_pairs_mut()
            .append_pair("blocking", "true")
            .append_pair("result", "false");
        let mut throttled = 0u32;
        let mut delay = self.backoff.initial;
        loop {
            let sent = Instant::now();
            let resp = self
                .request(reqwest::Method::POST, url.clone())
                .json(params)
                .send()
                .await
                .map_err(|e| self.transport(format!("invoking `{name}`"), e))?;
            let status = resp.status();
            match status {
                // 502 is an application or developer error, 500 a whisk internal error: a
                // blocking invoke carries the activation record either way, and it is data.
                StatusCode::OK | StatusCode::BAD_GATEWAY | StatusCode::INTERNAL_SERVER_ERROR => {
                    let body = resp
                        .bytes()
                        .await
                        .map_err(|e| self.transport(format!("reading `{name}`'s answer"), e))?;
                    let latency = ms(sent.elapsed());
                    let mut a = parse_record(&body, latency, throttled).map_err(|e| {
                        if status == StatusCode::OK {
                            OpenWhiskError::Record(self.scrub(&e.to_string()))
                        } else {
                            // Not an activation record: OpenWhisk itself (or a proxy in front
                            // of it) failed before there was an activation.
                            let text = self.scrub(&String::from_utf8_lossy(&body));
                            self.status_error(status, text, &format!("action `{name}`"), name)
                        }
                    })?;
                    a.throttle_wait_ms = throttle_wait(throttled, sent - first);
                    if self.fetch_logs {
                        self.fill_logs(&mut a).await;
                    }
                    return Ok(a);
                }
                StatusCode::ACCEPTED => {
                    let header_id = resp
                        .headers()
                        .get("x-openwhisk-activation-id")
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_string);
                    let text = self.body_text(resp).await;
                    let id = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .and_then(|v| v["activationId"].as_str().map(str::to_string))
                        .or(header_id)
                        .ok_or_else(|| {
                            OpenWhiskError::Record(format!(
                                "202 without an activation id: {}",
                                short(&text)
                            ))
                        })?;
                    let waited = throttle_wait(throttled, sent - first);
                    return self
                        .poll(name, &id, sent, deadline, throttled, waited)
                        .await;
                }
                StatusCode::TOO_MANY_REQUESTS => {
                    throttled += 1;
                    // Drain the body so the connection can be reused.
                    let _ = self.body_text(resp).await;
                    if Instant::now() + delay > deadline {
                        return Err(OpenWhiskError::Throttled {
                            name: name.to_string(),
                            throttled,
                            deadline_ms: ms(self.poll_deadline) as u64,
                        });
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(self.backoff.max);
                }
                _ => {
                    let text = self.body_text(resp).await;
                    return Err(self.status_error(status, text, &format!("action `{name}`"), name));
                }
            }
        }
    }

    /// Poll `GET /activations/{id}` (404 until the record is written) until `deadline`. The
    /// stored record already holds the logs, so they are never fetched again here.
    async fn poll(
        &self,
        name: &str,
        id: &str,
        sent: Instant,
        deadline: Instant,
        throttled: u32,
        throttle_wait_ms: f64,
    ) -> Result<Activation, OpenWhiskError> {
        let poll_max = self.backoff.max.min(POLL_MAX_INTERVAL);
        let mut delay = self.backoff.initial.min(poll_max);
        let mut polls = 0u32;
        // The record appeared after the last 404 was sent at the earliest: what follows is
        // at most the polling granularity (plus one round trip).
        let mut last_miss = Instant::now();
        loop {
            polls += 1;
            let asked = Instant::now();
            if let Some(body) = self.fetch_activation(id).await? {
                let now = Instant::now();
                let mut a = parse_record(&body, ms(now - sent), throttled)
                    .map_err(|e| OpenWhiskError::Record(self.scrub(&e.to_string())))?;
                a.throttle_wait_ms = throttle_wait_ms;
                a.polls = polls;
                a.poll_overhead_ms = ms(now - last_miss);
                return Ok(a);
            }
            last_miss = asked;
            if Instant::now() + delay > deadline {
                return Err(OpenWhiskError::PollDeadline {
                    name: name.to_string(),
                    activation_id: id.to_string(),
                    deadline_ms: ms(self.poll_deadline) as u64,
                });
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(poll_max);
        }
    }

    /// Fetch the logs of a record that came from a blocking answer (where OpenWhisk sends
    /// `"logs": []`). Best effort: an invocation never fails for its logs; `log_fetch_ms` stays
    /// `None` when they could not be fetched.
    async fn fill_logs(&self, a: &mut Activation) {
        if !a.logs.is_empty() {
            return;
        }
        let started = Instant::now();
        let mut delay = Duration::from_millis(50);
        for attempt in 1..=LOG_FETCH_TRIES {
            match self.fetch_logs(&a.activation_id).await {
                Ok(Some(logs)) => {
                    a.logs = logs;
                    a.log_fetch_ms = Some(ms(started.elapsed()));
                    return;
                }
                Ok(None) if attempt < LOG_FETCH_TRIES => {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                _ => return,
            }
        }
    }

    /// `GET …/activations/{id}/logs` → `{"logs": [...]}`; `None` on 404 (not stored yet).
    pub(super) async fn fetch_logs(&self, id: &str) -> Result<Option<Vec<String>>, OpenWhiskError> {
        #[derive(serde::Deserialize)]
        struct Logs {
            logs: Vec<String>,
        }
        let url = self.url(&["activations", id, "logs"])?;
        let resp = self
            .request(reqwest::Method::GET, url)
            .send()
            .await
            .map_err(|e| self.transport(format!("fetching the logs of activation {id}"), e))?;
        match resp.status() {
            StatusCode::OK => {
                let body = resp
                    .bytes()
                    .await
                    .map_err(|e| self.transport(format!("reading the logs of {id}"), e))?;
                let logs: Logs = serde_json::from_slice(&body)
                    .map_err(|e| OpenWhiskError::Record(format!("logs of {id}: {e}")))?;
                Ok(Some(logs.logs))
            }
            StatusCode::NOT_FOUND => {
                let _ = self.body_text(resp).await;
                Ok(None)
            }
            status => {
                let text = self.body_text(resp).await;
                Err(self.status_error(status, text, &format!("logs of activation {id}"), ""))
            }
        }
    }

    /// `GET …/activations/{id}`: `Some(body)` once written, `None` on 404.
    pub(super) async fn fetch_activation(
        &self,
        id: &str,
    ) -> Result<Option<Vec<u8>>, OpenWhiskError> {
        let url = self.url(&["activations", id])?;
        let resp = self
            .request(reqwest::Method::GET, url)
            .send()
            .await
            .map_err(|e| self.transport(format!("fetching activation {id}"), e))?;
        match resp.status() {
            StatusCode::OK => resp
                .bytes()
                .await
                .map(|b| Some(b.to_vec()))
                .map_err(|e| self.transport(format!("reading activation {id}"), e)),
            StatusCode::NOT_FOUND => {
                let _ = self.body_text(resp).await;
                Ok(None)
            }
            status => {
                let text = self.body_text(resp).await;
                Err(self.status_error(status, text, &format!("activation {id}"), ""))
            }
        }
    }

    /// The body as text, scrubbed of the key; an unreadable body is reported as such.
    pub(super) async fn body_text(&self, resp: Response) -> String {
        match resp.text().await {
            Ok(t) => self.scrub(&t),
            Err(e) => format!("<body unreadable: {e}>"),
        }
    }

    /// Remove the key in every form it could be echoed: whole, the part after `:`, and the
    /// base64 of the basic-auth header.
    fn scrub(&self, text: &str) -> String {
        let (_, key) = config::split_auth(&self.cfg.auth);
        let basic = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode(self.cfg.auth.expose())
        };
        let mut out = secret::scrub(text, &self.cfg.auth);
        for s in [key.to_string(), basic] {
            out = secret::scrub(&out, &Secret::new(s));
        }
        out
    }

    pub(super) fn status_error(
        &self,
        status: StatusCode,
        text: String,
        what: &str,
        name: &str,
    ) -> OpenWhiskError {
        let body = short(&error_message(&text));
        match status.as_u16() {
            401 => OpenWhiskError::Unauthorized { body },
            403 => OpenWhiskError::Forbidden {
                namespace: self.cfg.namespace.clone(),
                body,
            },
            404 => OpenWhiskError::NotFound {
                what: format!("{what} in namespace `{}`", self.cfg.namespace),
                body,
            },
            409 => OpenWhiskError::Conflict {
                name: name.to_string(),
                body,
            },
            400 | 413 => OpenWhiskError::BadRequest {
                status: status.as_u16(),
                body,
            },
            s if status.is_server_error() => OpenWhiskError::Server { status: s, body },
            s => OpenWhiskError::Unexpected { status: s, body },
        }
    }
}

/// OpenWhisk error bodies are `{"error": "...", "code": "<transaction id>"}`.
fn error_message(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) if v["error"].is_string() => {
            let msg = v["error"].as_str().unwrap_or_default();
            match v["code"].as_str() {
                Some(code) => format!("\"{msg}\", transaction {code}"),
                None => format!("\"{msg}\""),
            }
        }
        _ => text.trim().to_string(),
    }
}

fn short(text: &str) -> String {
    if text.chars().count() <= BODY_LIMIT {
        text.to_string()
    } else {
        let cut: String = text.chars().take(BODY_LIMIT).collect();
        format!("{cut}…")
    }
}

/// The time before the accepted request, when 429s made the client wait (else exactly 0).
fn throttle_wait(throttled: u32, before_accepted: Duration) -> f64 {
    if throttled == 0 {
        0.0
    } else {
        ms(before_accepted)
    }
}
