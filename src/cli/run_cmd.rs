//! `redwhisk run`: case study 1, headless. Progress on stderr, the report on stdout.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;

use super::OutputFormat;
use crate::engine::{RunOptions, run_experiment};
use crate::event::{EngineEvent, EventSink, Level, Phase};
use crate::profile::{Mode, Overrides, Profile, default_profile, find_profile};
use crate::report::text_report;

/// Arguments of `redwhisk run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Profile name (searched in ./profiles and the config directory) or path to a .toml file.
    #[arg(long, short)]
    pub profile: Option<String>,
    /// Number of invocations (the paper: 100).
    #[arg(long, short = 'n')]
    pub invocations: Option<u32>,
    /// Invocations in flight at once.
    #[arg(long, short)]
    pub concurrency: Option<u32>,
    /// Records written, read and deleted by each invocation (the paper: 1000).
    #[arg(long, short)]
    pub records: Option<u32>,
    /// Bytes per value.
    #[arg(long)]
    pub value_size: Option<u32>,
    /// sequential (one round trip per command, as the paper) or pipelined.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Where results directories go.
    #[arg(long, default_value = crate::results::DEFAULT_ROOT)]
    pub results_dir: PathBuf,
    /// Case study 3: actions connect to a scale-to-zero gateway (the profile's [gateway]) instead
    /// of Redis; the report tells, per invocation, whether it woke Redis and what that cost.
    #[arg(long)]
    pub via_gateway: bool,
    /// With --via-gateway: pause between invocations, e.g. 2s. Longer than gateway.idle_ms, every
    /// invocation wakes Redis inside its connect phase.
    #[arg(long, value_parser = super::gateway_cmd::parse_duration, requires = "via_gateway")]
    pub think_time: Option<std::time::Duration>,
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ModeArg {
    Sequential,
    Pipelined,
}

/// Exit codes: 0 all invocations succeeded; 2 some failed (results still written);
/// 3 Redis died or froze mid-run (partial results written); 4 the run finished but Redis did
/// not stop cleanly (run.json says why); 130 / 143 / 129 cancelled by SIGINT / SIGTERM /
/// SIGHUP (partial results written); 1 an error stopped the run.
pub async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let profile = load(&args)?;
    let overrides = Overrides {
        invocations: args.invocations,
        concurrency: args.concurrency,
        records: args.records,
        value_size: args.value_size,
        mode: args.mode.map(|m| match m {
            ModeArg::Sequential => Mode::Sequential,
            ModeArg::Pipelined => Mode::Pipelined,
        }),
    };
    let profile = overrides.applied_to(&profile)?;

    if args.via_gateway {
        return via_gateway(&args, &profile).await;
    }
    let (sink, mut events) = EventSink::new();
    let cancel = CancellationToken::new();
    let force = CancellationToken::new();
    let signals = super::signals::watch(
        &cancel,
        &force,
        "cancelling: stopping invocations, saving and stopping Redis…",
    )
    .context("cannot watch for signals")?;
    let planned = profile.workload.invocations;
    let printer = tokio::spawn(async move {
        let mut progress = Progress::new(planned);
        while let Some(ev) = events.recv().await {
            progress.on_event(&ev);
        }
        progress.finish();
    });
    let opts = RunOptions {
        results_root: Some(args.results_dir.clone()),
        force,
    };
    let result = run_experiment(&profile, &opts, &sink, cancel).await;
    drop(sink);
    signals.stop();
    printer.await.context("the progress printer failed")?;
    let outcome = match result {
        Ok(o) => o,
        // Cancelled before there were results (e.g. while Redis was starting): still the
        // signal's exit code.
        Err(e) if signals.signal().is_some() => {
            eprintln!("error: {}", e.chain());
            return Ok(ExitCode::from(signals.exit_code()));
        }
        Err(e) => return Err(e.into()),
    };
    let dir = outcome.results_dir.display().to_string();
    match args.output {
        OutputFormat::Text => print!("{}", text_report(&outcome.summary, &dir)),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&outcome.summary)?),
    }
    Ok(ExitCode::from(exit_code(
        outcome.outcome,
        outcome.summary.summary.failed,
        outcome.stop_error.is_some(),
        signals.exit_code(),
    )))
}

/// See [`run`]: a signal wins, then a lost Redis, then a failed stop, then failed invocations.
fn exit_code(outcome: Phase, failed: u64, stop_failed: bool, signal_code: u8) -> u8 {
    match outcome {
        Phase::Cancelled => signal_code,
        Phase::RedisLost => 3,
        _ if stop_failed => 4,
        _ if failed > 0 => 2,
        _ => 0,
    }
}

/// Case study 3: the same progress on stderr, the study's report on stdout.
async fn via_gateway(args: &RunArgs, profile: &Profile) -> anyhow::Result<ExitCode> {
    let (sink, mut events) = EventSink::new();
    let cancel = CancellationToken::new();
    let force = CancellationToken::new();
    let signals = super::signals::watch(
        &cancel,
        &force,
        "cancelling: stopping invocations, saving and stopping Redis…",
    )
    .context("cannot watch for signals")?;
    let planned = profile.workload.invocations;
    let printer = tokio::spawn(async move {
        let mut progress = Progress::new(planned);
        while let Some(ev) = events.recv().await {
            if let EngineEvent::Gateway(crate::gateway::GatewayEvent::State(s)) = &ev {
                progress.line(format!("gateway {}: {}", s.state.label(), s.reason));
            }
            progress.on_event(&ev);
        }
        progress.finish();
    });
    let think = args.think_time.unwrap_or_default();
    let result = crate::experiments::gateway_study::run_via_gateway(
        profile,
        think,
        &args.results_dir,
        &sink,
        cancel,
    )
    .await;
    drop(sink);
    signals.stop();
    printer.await.context("the progress printer failed")?;
    let report = result?;
    match args.output {
        OutputFormat::Text => print!("{}", crate::experiments::gateway_study::study_text(&report)),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
    }
    Ok(if report.cancelled {
        ExitCode::from(signals.exit_code())
    } else if report.failed > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn load(args: &RunArgs) -> anyhow::Result<Profile> {
    Ok(match &args.profile {
        Some(p) => find_profile(p)?,
        None => default_profile()?,
    })
}

/// Progress on stderr: a bar when stderr is a terminal, plain lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    fn new(planned: u32) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(u64::from(planned));
            if let Ok(style) = ProgressStyle::with_template(
                "{spinner} {msg:<16} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Self { bar }
    }

    fn line(&self, text: String) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    fn on_event(&mut self, ev: &EngineEvent) {
        match ev {
            EngineEvent::Phase(p) => {
                if let Some(bar) = &self.bar {
                    bar.set_message(p.label());
                } else {
                    eprintln!("[{}]", p.label());
                }
            }
            EngineEvent::ColdStart(c) => self.line(format!(
                "redis ready in {:.1} ms (create {:.1}, start {:.1}, ready {:.1}; {} keys restored)",
                c.total_ms, c.create_ms, c.start_ms, c.ready_ms, c.keys_restored
            )),
            EngineEvent::Activation(_) => {
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            EngineEvent::Log { level, message } => {
                let tag = match level {
                    Level::Info => "info",
                    Level::Warn => "warn",
                    Level::Error => "error",
                };
                self.line(format!("{tag}: {message}"));
            }
            EngineEvent::Pull { status, .. } => self.line(format!("pull: {status}")),
            _ => {}
        }
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
