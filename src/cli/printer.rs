//! The one event printer of the headless commands: log lines, a run's progress, image pulls and
//! the gateway's state changes, each shown as the command's [`Show`] says.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::args::OutputFormat;
use crate::event::{EngineEvent, Level};
use crate::gateway::{GatewayEvent, GatewaySnapshot};

/// Which events a command shows. Log warnings and errors are always shown on stderr.
#[derive(Debug, Clone, Copy)]
pub struct Show {
    /// Info log lines shown: those starting with this ("" for every one).
    pub info: &'static str,
    /// A run of this many invocations: a progress bar on a terminal (phase lines otherwise)
    /// and the cold start.
    pub progress: Option<u32>,
    pub pulls: Pulls,
    pub gateway: GatewayLines,
}

/// Image pull progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pulls {
    Hidden,
    /// Every pull event, as `redwhisk run` always did.
    Every,
    /// Only status changes: per-chunk progress would flood a terminal.
    Changes,
}

/// The gateway's state changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GatewayLines {
    Hidden,
    /// `gateway awake: why` on stderr, among a run's progress.
    Stderr,
    /// `redwhisk gateway`'s output: one [`state_line`] (text) or JSON object per change on
    /// stdout.
    Stdout(OutputFormat),
}

impl Show {
    /// Log lines only: warnings, errors and the info lines starting with `info`.
    pub const fn logs(info: &'static str) -> Self {
        Self {
            info,
            progress: None,
            pulls: Pulls::Hidden,
            gateway: GatewayLines::Hidden,
        }
    }

    /// A run of `planned` invocations: progress, every log line, pulls, gateway changes.
    pub const fn run(planned: u32) -> Self {
        Self {
            info: "",
            progress: Some(planned),
            pulls: Pulls::Every,
            gateway: GatewayLines::Stderr,
        }
    }

    /// A Redis host operation (`redis up`, `image build-local`, …): every log line and the
    /// pull's status changes.
    pub const fn host() -> Self {
        Self {
            info: "",
            progress: None,
            pulls: Pulls::Changes,
            gateway: GatewayLines::Hidden,
        }
    }

    /// `redwhisk gateway`: state changes on stdout as `output` says, every log line on stderr.
    pub const fn gateway(output: OutputFormat) -> Self {
        Self {
            info: "",
            progress: None,
            pulls: Pulls::Hidden,
            gateway: GatewayLines::Stdout(output),
        }
    }
}

/// The tag of a log line: `info: …`, `warn: …`, `error: …`.
pub fn tag(level: Level) -> &'static str {
    match level {
        Level::Info => "info",
        Level::Warn => "warn",
        Level::Error => "error",
    }
}

/// The stderr line for a log event, if `show` shows it.
pub fn log_line(show: &Show, level: Level, message: &str) -> Option<String> {
    (level != Level::Info || message.starts_with(show.info))
        .then(|| format!("{}: {message}", tag(level)))
}

/// Prints events as they come; [`Printer::finish`] clears the progress bar.
pub struct Printer {
    show: Show,
    bar: Option<ProgressBar>,
    last_pull: Option<String>,
}

impl Printer {
    pub fn new(show: Show) -> Self {
        let bar = show
            .progress
            .filter(|_| std::io::stderr().is_terminal())
            .map(|planned| {
                let bar = ProgressBar::new(u64::from(planned));
                if let Ok(style) = ProgressStyle::with_template(
                    "{spinner} {msg:<16} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
                ) {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            });
        Self {
            show,
            bar,
            last_pull: None,
        }
    }

    /// A line on stderr, above the bar when there is one.
    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn on_event(&mut self, ev: &EngineEvent) {
        let progress = self.show.progress.is_some();
        match ev {
            EngineEvent::Log { level, message } => {
                if let Some(line) = log_line(&self.show, *level, message) {
                    self.line(line);
                }
            }
            EngineEvent::Gateway(GatewayEvent::State(s)) => match self.show.gateway {
                GatewayLines::Hidden => {}
                GatewayLines::Stderr => {
                    self.line(format!("gateway {}: {}", s.state.label(), s.reason));
                }
                GatewayLines::Stdout(OutputFormat::Text) => println!("{}", state_line(s)),
                GatewayLines::Stdout(OutputFormat::Json) => {
                    if let Ok(line) = serde_json::to_string(&GatewayEvent::State(s.clone())) {
                        println!("{line}");
                    }
                }
            },
            EngineEvent::Pull { status, .. } => match self.show.pulls {
                Pulls::Hidden => {}
                Pulls::Every => self.line(format!("pull: {status}")),
                Pulls::Changes => {
                    if self.last_pull.as_ref() != Some(status) {
                        self.line(format!("pull: {status}"));
                        self.last_pull = Some(status.clone());
                    }
                }
            },
            EngineEvent::Phase(p) if progress => match &self.bar {
                Some(bar) => bar.set_message(p.label()),
                None => eprintln!("[{}]", p.label()),
            },
            EngineEvent::ColdStart(c) if progress => self.line(format!(
                "redis ready in {:.1} ms (create {:.1}, start {:.1}, ready {:.1}; {})",
                c.total_ms,
                c.create_ms,
                c.start_ms,
                c.ready_ms,
                c.keys_origin()
            )),
            EngineEvent::Activation(_) => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            _ => {}
        }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `2026-12-03T08:00:00.123Z awake    open 1 pending 0 total 3 wakes 1 — why`.
pub fn state_line(s: &GatewaySnapshot) -> String {
    format!(
        "{} {:<8} open {} pending {} total {} wakes {} failed {} refused {} up {} B down {} B — {}",
        chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ"),
        s.state.label(),
        s.open,
        s.pending,
        s.total,
        s.wakes,
        s.wake_failures,
        s.refused,
        s.bytes_up,
        s.bytes_down,
        s.reason
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warnings_and_errors_always_show_info_only_with_its_prefix() {
        let sweep = Show::logs("sweep:");
        assert_eq!(
            log_line(&sweep, Level::Warn, "slow"),
            Some("warn: slow".to_string())
        );
        assert_eq!(
            log_line(&sweep, Level::Error, "gone"),
            Some("error: gone".to_string())
        );
        assert_eq!(log_line(&sweep, Level::Info, "redis up"), None);
        assert_eq!(
            log_line(&sweep, Level::Info, "sweep: step 2"),
            Some("info: sweep: step 2".to_string())
        );
        assert_eq!(
            log_line(&Show::host(), Level::Info, "redis up"),
            Some("info: redis up".to_string())
        );
    }
}
