//! The one headless runner: a job's event sink printed by the [`Printer`], its cancellation
//! tokens and, when asked, the signals that cancel it.

use tokio_util::sync::CancellationToken;

use super::printer::{Printer, Show};
use super::signals::{self, OnSignal, Signal, SignalWatch};
use crate::event::EventSink;

/// A headless job's plumbing. Pass `sink`, `cancel` (and `force`) to the library, then
/// [`Headless::finish`].
pub struct Headless {
    pub sink: EventSink,
    /// Cancelled by the first signal.
    pub cancel: CancellationToken,
    /// Cancelled by the second signal (headless jobs only): stop waiting for Redis.
    pub force: CancellationToken,
    signals: Option<SignalWatch>,
    printer: tokio::task::JoinHandle<()>,
}

impl Headless {
    /// Print the job's events as `show` says; no signal is handled yet.
    pub fn new(show: Show) -> Self {
        let (sink, mut events) = EventSink::new();
        let printer = tokio::spawn(async move {
            let mut printer = Printer::new(show);
            while let Some(ev) = events.recv().await {
                printer.on_event(&ev);
            }
            printer.finish();
        });
        Self {
            sink,
            cancel: CancellationToken::new(),
            force: CancellationToken::new(),
            signals: None,
            printer,
        }
    }

    /// From now on the signals cancel the job as `on` says.
    pub fn watch_signals(&mut self, on: OnSignal) -> std::io::Result<()> {
        self.signals = Some(signals::watch(&self.cancel, on)?);
        Ok(())
    }

    /// A headless experiment: events as `show` says; SIGINT, SIGTERM or SIGHUP prints
    /// `cancel_message` and cancels, a second signal forces.
    pub fn job(show: Show, cancel_message: &'static str) -> std::io::Result<Self> {
        let mut job = Self::new(show);
        let force = job.force.clone();
        job.watch_signals(OnSignal::Job {
            message: cancel_message,
            force,
        })?;
        Ok(job)
    }

    /// Close the sink, stop watching signals, wait for the last lines to be printed.
    pub async fn finish(self) -> Finished {
        drop(self.sink);
        let signal = self.signals.as_ref().and_then(SignalWatch::signal);
        if let Some(s) = &self.signals {
            s.stop();
        }
        let _printed = self.printer.await;
        Finished {
            cancelled: self.cancel.is_cancelled(),
            signal,
        }
    }
}

/// How a job's plumbing ended.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// The job's token was cancelled (by a signal).
    pub cancelled: bool,
    /// The first signal received, if any.
    pub signal: Option<Signal>,
}
