//! HTTP routes of the test server, with OpenWhisk's status codes and error bodies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use base64::Engine as _;
use serde_json::{Value, json};

use super::runner;
use super::{State, StoredAction};

type Shared = Arc<State>;

pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/api/v1/namespaces", get(list_namespaces))
        .route(
            "/api/v1/namespaces/{ns}/actions/{*name}",
            put(put_action).post(invoke),
        )
        .route(
            "/api/v1/namespaces/{ns}/activations/{id}",
            get(get_activation),
        )
        .route(
            "/api/v1/namespaces/{ns}/activations/{id}/logs",
            get(get_logs),
        )
        // OpenWhisk takes action code up to 48 MB (`whisk.activation.payload.max` is for
        // parameters); axum's default 2 MB would refuse a native zip with TLS in it.
        .layer(axum::extract::DefaultBodyLimit::max(48 * 1024 * 1024))
        .with_state(state)
}

/// `{"error": "...", "code": "<transaction id>"}` (ErrorResponse.scala).
pub(crate) fn error(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": message, "code": runner::new_id()});
    (status, axum::Json(body)).into_response()
}

/// Check basic auth and the namespace; `Some` is the rejection to send.
fn authorize(state: &State, headers: &HeaderMap, ns: &str) -> Option<Response> {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    if given.as_deref() != Some(state.cfg.auth.as_str()) {
        return Some(error(
            StatusCode::UNAUTHORIZED,
            "The supplied authentication is invalid",
        ));
    }
    if ns != "_" && ns != state.cfg.namespace {
        return Some(error(
            StatusCode::FORBIDDEN,
            "The supplied authentication is not authorized to access this resource.",
        ));
    }
    None
}

async fn put_action(
    AxState(state): AxState<Shared>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(r) = authorize(&state, &headers, &ns) {
        return r;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "The request content was malformed.",
        );
    };
    let overwrite = q.get("overwrite").map(String::as_str) == Some("true");
    let kind = body["exec"]["kind"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let code = match (kind.as_str(), body["exec"]["code"].as_str()) {
        ("blackbox", Some(b64)) => match base64::engine::general_purpose::STANDARD.decode(b64) {
            Ok(zip) => zip,
            Err(_) => return error(StatusCode::BAD_REQUEST, "exec.code is not base64"),
        },
        (k, Some(src)) if k.starts_with("nodejs:") => src.as_bytes().to_vec(),
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("kind '{kind}' with this code is not supported by the test server"),
            );
        }
    };
    let timeout_ms = body["limits"]["timeout"].as_u64().unwrap_or(60_000);
    let memory_mb = body["limits"]["memory"].as_u64().unwrap_or(256);
    if !(100..=300_000).contains(&timeout_ms) {
        return error(
            StatusCode::BAD_REQUEST,
            "The request content was malformed:\ntimeout 100 ms below allowed threshold",
        );
    }
    if !(128..=512).contains(&memory_mb) {
        return error(
            StatusCode::BAD_REQUEST,
            "The request content was malformed:\nmemory out of range",
        );
    }
    let mut inner = state.lock();
    inner.stats.puts += 1;
    if inner.actions.contains_key(&name) && !overwrite {
        return error(StatusCode::CONFLICT, "resource already exists");
    }
    let binary = kind == "blackbox";
    inner.actions.insert(
        name.clone(),
        StoredAction {
            name: name.clone(),
            kind: kind.clone(),
            code,
            timeout_ms,
            memory_mb,
            init: Arc::default(),
        },
    );
    let reply = json!({
        "namespace": state.cfg.namespace, "name": name, "version": "0.0.1", "publish": false,
        "exec": {"kind": kind, "binary": binary},
        "limits": {"timeout": timeout_ms, "memory": memory_mb, "logs": 10, "concurrency": 1},
        "annotations": [], "parameters": [],
    });
    (StatusCode::OK, axum::Json(reply)).into_response()
}

async fn invoke(
    AxState(state): AxState<Shared>,
    Path((ns, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let received = Instant::now();
    if let Some(r) = authorize(&state, &headers, &ns) {
        return r;
    }
    let action = {
        let mut inner = state.lock();
        inner.stats.invokes += 1;
        if let Some(status) = inner.forced.take() {
            let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut msg = format!("forced status {status}");
            if state.cfg.echo_auth_in_errors {
                msg.push_str(&format!(" for credentials {}", state.cfg.auth));
            }
            return error(code, &msg);
        }
        if inner.throttle_left > 0 {
            inner.throttle_left -= 1;
            inner.stats.throttled += 1;
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many requests in the last minute (count: 61, allowed: 60).",
            );
        }
        if inner.whisk_errors_left > 0 && inner.actions.contains_key(&name) {
            {
                inner.whisk_errors_left -= 1;
                let id = runner::new_id();
                let record = runner::whisk_error(&state, &name, &id);
                inner.activations.insert(id.clone(), record.clone());
                // Real OpenWhisk: 500 with the full record when blocking (Actions.scala).
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    [("x-openwhisk-activation-id", id)],
                    axum::Json(record),
                )
                    .into_response();
            }
        }
        match inner.actions.get(&name) {
            Some(a) => a.clone(),
            None => {
                return error(
                    StatusCode::NOT_FOUND,
                    "The requested resource does not exist.",
                );
            }
        }
    };
    let params = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice::<Value>(&body) {
            Ok(v) if v.is_object() => v,
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "The request content was malformed.",
                );
            }
        }
    };
    let id = runner::new_id();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let run_state = state.clone();
    let run_id = id.clone();
    tokio::spawn(async move {
        let record = runner::run(&run_state, &action, params, &run_id, received).await;
        // The invoker answers with the result first and stores the record, logs included,
        // once it has collected them.
        let mut answer = record.clone();
        answer["logs"] = json!([]);
        let _ = tx.send(answer);
        tokio::time::sleep(run_state.cfg.logs_delay).await;
        run_state.lock().activations.insert(run_id, record);
    });
    let blocking = q.get("blocking").map(String::as_str) == Some("true");
    let wait = q
        .get("timeout")
        .and_then(|t| t.parse::<u64>().ok())
        .map(Duration::from_millis)
        .map_or(state.cfg.blocking_wait, |t| t.min(state.cfg.blocking_wait));
    let id_header = [("x-openwhisk-activation-id", id.clone())];
    if blocking && let Ok(Ok(record)) = tokio::time::timeout(wait, rx).await {
        let status = match record["response"]["status"].as_str() {
            Some("success") => StatusCode::OK,
            Some("whisk internal error") => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_GATEWAY,
        };
        let body = if q.get("result").map(String::as_str) == Some("true") {
            record["response"]["result"].clone()
        } else {
            record
        };
        return (status, id_header, axum::Json(body)).into_response();
    }
    state.lock().stats.accepted_202 += 1;
    (
        StatusCode::ACCEPTED,
        id_header,
        axum::Json(json!({"activationId": id})),
    )
        .into_response()
}

async fn get_activation(
    AxState(state): AxState<Shared>,
    Path((ns, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = authorize(&state, &headers, &ns) {
        return r;
    }
    let mut inner = state.lock();
    match inner.activations.get(&id).cloned() {
        Some(record) => {
            inner.stats.polls_200 += 1;
            (StatusCode::OK, axum::Json(record)).into_response()
        }
        None => {
            inner.stats.polls_404 += 1;
            error(
                StatusCode::NOT_FOUND,
                "The requested resource does not exist.",
            )
        }
    }
}

async fn get_logs(
    AxState(state): AxState<Shared>,
    Path((ns, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = authorize(&state, &headers, &ns) {
        return r;
    }
    let mut inner = state.lock();
    match inner.activations.get(&id).map(|r| r["logs"].clone()) {
        Some(logs) => {
            inner.stats.log_fetches += 1;
            (StatusCode::OK, axum::Json(json!({ "logs": logs }))).into_response()
        }
        None => error(
            StatusCode::NOT_FOUND,
            "The requested resource does not exist.",
        ),
    }
}

/// `GET /namespaces`: the key's namespaces (what the preflight check asks).
async fn list_namespaces(AxState(state): AxState<Shared>, headers: HeaderMap) -> Response {
    if let Some(r) = authorize(&state, &headers, "_") {
        return r;
    }
    (StatusCode::OK, axum::Json(json!([state.cfg.namespace]))).into_response()
}
