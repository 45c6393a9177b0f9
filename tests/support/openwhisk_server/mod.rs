//! An OpenWhisk-compatible test server on 127.0.0.1 that really runs the actions it is given.
//!
//! It speaks the part of the REST API redwhisk uses (shared/openwhisk-api.md §3–5): `PUT` an
//! action (409 without `overwrite=true` on an existing one), `POST` a blocking invoke (200,
//! 502 for failed actions with the same record shape, 500 with the record for a whisk internal
//! error, 202 past `blocking_wait`), `GET` an activation (404 until its record is written) and
//! its logs, basic auth (401), namespaces (403), unknown actions (404), throttling (429 for the
//! first `throttle_first` invokes) and forced statuses.
//!
//! Where it used to be kinder than OpenWhisk, it now follows it: a blocking answer carries
//! `"logs": []` (the invoker sends the result before it collects the logs; the stored record
//! has them, `logs_delay` after the result), and the action's time limit applies to the
//! initialisation too ("… during initialization.", then the next invoke is cold again).
//!
//! Native actions (`blackbox`) run under the dockerskeleton contract: the zip is unpacked on
//! the first run (the cold start, timed as `initTime`), `exec` gets the params as argv[1] and
//! on stdin, the last stdout line is the result. Node.js actions run with `node` and
//! `node_launcher.js`, which evaluates the source and awaits its top-level `main(params)`.
//!
//! Usage from a test (also for an end-to-end `redwhisk run --profile <file>`):
//! ```ignore
//! mod support;
//! use support::openwhisk_server::{start_server, ServerConfig};
//! let server = start_server(ServerConfig::default()).await?;
//! // profile: apihost = server.apihost(), auth = server.auth(), namespace = "_"
//! server.shutdown().await;
//! ```

mod handlers;
mod runner;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

/// The OpenWhisk standalone guest key (public, from `standalone.conf`).
pub const GUEST_AUTH: &str = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP";

/// How the test server behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The namespace the key owns; `_` also resolves to it.
    pub namespace: String,
    /// `<uuid>:<key>` accepted as basic auth.
    pub auth: String,
    /// How long a blocking invoke waits before answering 202 (OpenWhisk: 60 s).
    pub blocking_wait: Duration,
    /// The first N invokes answer 429.
    pub throttle_first: u32,
    /// NODE_PATH for Node.js actions (where `redis` 4.x is installed).
    pub node_path: Option<PathBuf>,
    /// Put the raw key into forced error bodies (to prove the client scrubs it).
    pub echo_auth_in_errors: bool,
    /// Extra time every initialisation (cold start) takes, as a slow image pull or a large
    /// code load would; the action's time limit covers it.
    pub init_delay: Duration,
    /// How long after the result the record (with its logs) is stored: until then, `GET` the
    /// activation or its logs answers 404.
    pub logs_delay: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            namespace: "guest".into(),
            auth: GUEST_AUTH.into(),
            blocking_wait: Duration::from_secs(60),
            throttle_first: 0,
            node_path: Some(
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("actions/nodejs/node_modules"),
            ),
            echo_auth_in_errors: false,
            init_delay: Duration::ZERO,
            logs_delay: Duration::ZERO,
        }
    }
}

/// Counters a test can assert on.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    pub puts: u32,
    pub invokes: u32,
    pub throttled: u32,
    pub accepted_202: u32,
    pub polls_404: u32,
    pub polls_200: u32,
    pub log_fetches: u32,
    pub inits: u32,
}

/// A deployed action.
#[derive(Debug, Clone)]
pub(crate) struct StoredAction {
    pub name: String,
    pub kind: String,
    /// Zip bytes (native) or source text (Node.js).
    pub code: Vec<u8>,
    pub timeout_ms: u64,
    pub memory_mb: u64,
    /// Set by a successful initialisation (the cold start): the directory holding `exec` or
    /// `action.js`. A failed one leaves it empty, so the next invoke is cold again (OpenWhisk
    /// removes a container whose init failed).
    pub init: Arc<tokio::sync::Mutex<Option<PathBuf>>>,
}

#[derive(Debug, Default)]
pub(crate) struct Inner {
    pub actions: HashMap<String, StoredAction>,
    pub activations: HashMap<String, serde_json::Value>,
    pub throttle_left: u32,
    pub forced: Option<u16>,
    /// The next N invokes end as a whisk internal error (HTTP 500 with the record).
    pub whisk_errors_left: u32,
    pub stats: Stats,
}

pub(crate) struct State {
    pub cfg: ServerConfig,
    pub inner: Mutex<Inner>,
    pub workdir: tempfile::TempDir,
}

impl State {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking handler must not wedge every later request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running server; dropped or [`ServerHandle::shutdown`] stops it.
pub struct ServerHandle {
    pub addr: SocketAddr,
    state: Arc<State>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// `http://127.0.0.1:<port>`, what goes in `apihost`.
    pub fn apihost(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn auth(&self) -> &str {
        &self.state.cfg.auth
    }

    pub fn stats(&self) -> Stats {
        self.state.lock().stats.clone()
    }

    /// Make the next invoke answer `status` with an OpenWhisk error body.
    pub fn force_next_status(&self, status: u16) {
        self.state.lock().forced = Some(status);
    }

    /// The next `n` invokes end as a whisk internal error ("Failed to provision resources to
    /// run the action."): an activation record, stored, answered with HTTP 500.
    pub fn whisk_error_next(&self, n: u32) {
        self.state.lock().whisk_errors_left = n;
    }

    /// Answer 429 to the next `n` invokes.
    pub fn throttle_next(&self, n: u32) {
        self.state.lock().throttle_left = n;
    }

    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start the server on a free port of 127.0.0.1.
pub async fn start_server(cfg: ServerConfig) -> std::io::Result<ServerHandle> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = Arc::new(State {
        inner: Mutex::new(Inner {
            throttle_left: cfg.throttle_first,
            ..Inner::default()
        }),
        cfg,
        workdir: tempfile::tempdir()?,
    });
    let app = handlers::router(state.clone());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(ServerHandle {
        addr,
        state,
        stop: Some(stop),
        task,
    })
}
