//! SIGINT, SIGTERM and SIGHUP, set up here for every command that handles them.
//!
//! Headless jobs (`run`, `share`, `sweep`, `failover`): `timeout`, systemd and `docker stop` send
//! SIGTERM, a closed terminal SIGHUP; all three get the same clean cancel as Ctrl-C (results
//! marked partial, Redis saved and stopped), and a second one forces the exit. The exit code is
//! 128 + the first signal's number. The gateway drains on SIGINT/SIGTERM; the console cancels
//! quietly (the screen is its own).

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// After a second signal, how long the command may still take to write what it has before the
/// process exits on its own.
const FORCE_GRACE: Duration = Duration::from_secs(10);

/// A signal received.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signal(i32);

impl Signal {
    pub const HANGUP: Signal = Signal(1);
    pub const INTERRUPT: Signal = Signal(2);
    pub const TERMINATE: Signal = Signal(15);

    /// Its number (1, 2, 15).
    pub fn number(self) -> i32 {
        self.0
    }

    pub fn name(self) -> &'static str {
        match self.0 {
            1 => "SIGHUP",
            2 => "SIGINT",
            15 => "SIGTERM",
            _ => "signal",
        }
    }

    fn kind(self) -> SignalKind {
        SignalKind::from_raw(self.0)
    }
}

/// What the signals do to a command beyond cancelling its token.
#[derive(Debug, Clone)]
pub enum OnSignal {
    /// A headless job: SIGINT, SIGTERM and SIGHUP. The first prints `SIGNAME: message` and
    /// cancels; the second cancels `force` (stop waiting for Redis, write the results, say what
    /// is left running) and, if the command still has not finished [`FORCE_GRACE`] later,
    /// exits the process.
    Job {
        message: &'static str,
        force: CancellationToken,
    },
    /// The gateway: SIGINT and SIGTERM print `message` as is and cancel; later ones are
    /// ignored (the drain has its own deadline, `--grace`). SIGHUP keeps its default.
    Drain { message: &'static str },
    /// The console: SIGINT, SIGTERM and SIGHUP cancel without a word (the terminal is the
    /// console's until it has restored it).
    Quiet,
}

impl OnSignal {
    fn signals(&self) -> &'static [Signal] {
        match self {
            OnSignal::Job { .. } | OnSignal::Quiet => {
                &[Signal::INTERRUPT, Signal::TERMINATE, Signal::HANGUP]
            }
            OnSignal::Drain { .. } => &[Signal::INTERRUPT, Signal::TERMINATE],
        }
    }
}

/// A running signal watcher. Drop (or [`SignalWatch::stop`]) it when the command is done.
#[derive(Debug)]
pub struct SignalWatch {
    task: tokio::task::JoinHandle<()>,
    first: Arc<AtomicI32>,
}

impl SignalWatch {
    /// The first signal received, if any.
    pub fn signal(&self) -> Option<Signal> {
        match self.first.load(Ordering::SeqCst) {
            0 => None,
            n => Some(Signal(n)),
        }
    }

    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Watch the signals `on` names; the first cancels `cancel`.
pub fn watch(cancel: &CancellationToken, on: OnSignal) -> std::io::Result<SignalWatch> {
    let mut streams = Vec::new();
    for &sig in on.signals() {
        streams.push((sig, signal(sig.kind())?));
    }
    let first = Arc::new(AtomicI32::new(0));
    let seen = first.clone();
    let cancel = cancel.clone();
    let task = tokio::spawn(async move {
        let mut count = 0;
        loop {
            let waits = streams
                .iter_mut()
                .map(|(sig, s)| Box::pin(async move { s.recv().await.map(|_| *sig) }));
            let (got, _, _) = futures::future::select_all(waits).await;
            let Some(sig) = got else { return };
            count += 1;
            if count == 1 {
                seen.store(sig.number(), Ordering::SeqCst);
                match &on {
                    OnSignal::Job { message, .. } => {
                        eprintln!("\n{}: {message}", sig.name());
                        eprintln!("(send it again to stop waiting for Redis and exit now)");
                    }
                    OnSignal::Drain { message } => eprintln!("{message}"),
                    OnSignal::Quiet => {}
                }
                cancel.cancel();
                continue;
            }
            let OnSignal::Job { force, .. } = &on else {
                continue;
            };
            eprintln!(
                "\n{}: forced exit: writing the results gathered so far; Redis may be left running",
                sig.name()
            );
            force.cancel();
            tokio::time::sleep(FORCE_GRACE).await;
            eprintln!(
                "error: the command did not finish within {} s of the forced exit; exiting now. Unfinished results stay in the results directory as .partial files (`redwhisk results repair` finalises them); Redis may be left running (`redwhisk redis status`)",
                FORCE_GRACE.as_secs()
            );
            let code = 128 + seen.load(Ordering::SeqCst);
            std::process::exit(code);
        }
    });
    Ok(SignalWatch { task, first })
}
