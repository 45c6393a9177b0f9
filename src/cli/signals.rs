//! SIGINT, SIGTERM and SIGHUP in the headless commands: the first cancels cleanly (results
//! marked partial, Redis saved and stopped), a second one forces the exit.
//!
//! `timeout`, systemd and `docker stop` send SIGTERM, a closed terminal SIGHUP; all three get
//! the same clean cancel as Ctrl-C. The exit code is 128 + the first signal's number.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio_util::sync::CancellationToken;

/// After a second signal, how long the command may still take to write what it has before the
/// process exits on its own.
const FORCE_GRACE: Duration = Duration::from_secs(10);

/// A running signal watcher. Drop (or [`SignalWatch::stop`]) it when the command is done.
pub(crate) struct SignalWatch {
    task: tokio::task::JoinHandle<()>,
    first: Arc<AtomicI32>,
}

impl SignalWatch {
    /// The number of the first signal received, if any.
    pub(crate) fn signal(&self) -> Option<i32> {
        match self.first.load(Ordering::SeqCst) {
            0 => None,
            n => Some(n),
        }
    }

    /// The exit code of a cancelled command: 128 + the signal (130 when cancelled otherwise).
    pub(crate) fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal().unwrap_or(2)).unwrap_or(130)
    }

    pub(crate) fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for SignalWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// Watch SIGINT, SIGTERM and SIGHUP. The first cancels `cancel` after printing `message`; the
/// second cancels `force` (stop waiting for Redis, write the results, say what is left running)
/// and, if the command still has not finished [`FORCE_GRACE`] later, exits the process.
pub(crate) fn watch(
    cancel: &CancellationToken,
    force: &CancellationToken,
    message: &'static str,
) -> std::io::Result<SignalWatch> {
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let first = Arc::new(AtomicI32::new(0));
    let seen = first.clone();
    let cancel = cancel.clone();
    let force = force.clone();
    let task = tokio::spawn(async move {
        let mut count = 0;
        loop {
            let sig = tokio::select! {
                _ = int.recv() => 2,
                _ = term.recv() => 15,
                _ = hup.recv() => 1,
            };
            count += 1;
            if count == 1 {
                seen.store(sig, Ordering::SeqCst);
                eprintln!("\n{}: {message}", name(sig));
                eprintln!("(send it again to stop waiting for Redis and exit now)");
                cancel.cancel();
                continue;
            }
            eprintln!(
                "\n{}: forced exit: writing the results gathered so far; Redis may be left running",
                name(sig)
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
