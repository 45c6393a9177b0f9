//! Accepting clients, and where their connections run.
//!
//! By default every client connection runs on one dedicated thread with its own
//! single-threaded runtime, the shape of HAProxy with one thread: a request's wake-up never
//! crosses threads (no futex, no work stealing) and under load one `epoll_wait` returns many
//! ready sockets. Measured (README), it is level with the shared runtime and with HAProxy on a
//! busy 2-core VM, not clearly ahead. The controller (starts and stops of Redis) stays on the caller's
//! runtime and talks to the connections through channels, once per connection, never per
//! request. `bench gateway` measures this against the shared multi-threaded runtime.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::conn::{self, Shared};
use super::types::Refusal;
use crate::event::EventSink;

/// Where client connections run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataPath {
    /// One dedicated thread, single-threaded runtime (the default: HAProxy's shape, one core at
    /// most; measured level with the shared runtime, and lower CPU per request in most runs).
    #[default]
    OneThread,
    /// The caller's (multi-threaded) runtime, one task per connection.
    SharedRuntime,
}

/// The accept loop, running until `closed`; returns when it has stopped.
pub(crate) async fn spawn(
    listener: TcpListener,
    path: DataPath,
    sh: Arc<Shared>,
    closed: CancellationToken,
    events: EventSink,
) {
    match path {
        DataPath::SharedRuntime => accept_loop(listener, sh, closed, events).await,
        DataPath::OneThread => {
            let (done_tx, done_rx) = tokio::sync::oneshot::channel();
            let std_listener = match listener.into_std() {
                Ok(l) => l,
                Err(e) => {
                    events.warn(format!(
                        "gateway: cannot move the listener to its thread ({e}); serving on the shared runtime"
                    ));
                    return;
                }
            };
            let warn = events.clone();
            let spawned = std::thread::Builder::new()
                .name("gateway-data".into())
                .spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    match rt {
                        Ok(rt) => rt.block_on(async move {
                            match TcpListener::from_std(std_listener) {
                                Ok(l) => accept_loop(l, sh, closed, events).await,
                                Err(e) => events.warn(format!("gateway: listener: {e}")),
                            }
                        }),
                        Err(e) => events.warn(format!("gateway: data thread runtime: {e}")),
                    }
                    let _ = done_tx.send(());
                });
            match spawned {
                Ok(_detached) => {
                    let _ended = done_rx.await;
                }
                Err(e) => warn.warn(format!("gateway: cannot start the data thread: {e}")),
            }
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    sh: Arc<Shared>,
    closed: CancellationToken,
    events: EventSink,
) {
    // Connections refused during the drain, given time to read their error at the end.
    let mut refusing = JoinSet::new();
    loop {
        tokio::select! {
            () = closed.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((client, _peer)) if sh.draining.is_cancelled() => {
                    refusing.spawn(async move {
                        conn::refuse(client, &Refusal::ShuttingDown).await;
                    });
                }
                Ok((client, _peer)) => {
                    tokio::spawn(conn::serve(client, Arc::clone(&sh)));
                }
                Err(e) => {
                    // Out of file descriptors and the like: say so, back off, keep listening.
                    events.warn(format!("gateway: accept failed: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = refusing.join_next(), if !refusing.is_empty() => {}
        }
    }
    drop(listener);
    let _ = tokio::time::timeout(conn::LINGER, async {
        while refusing.join_next().await.is_some() {}
    })
    .await;
}
