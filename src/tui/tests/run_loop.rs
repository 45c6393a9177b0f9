//! The async loop over a `TestBackend`: keys in through a stream, commands out to a fake
//! engine task that answers with events, quit waits for the engine.

use std::io;
use std::time::Duration;

use crossterm::event::Event;
use futures::channel::mpsc as fmpsc;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{key, text};
use crate::event::{EngineCommand, EngineEvent, EventSink, Phase};
use crate::tui::app::App;
use crate::tui::demo::{activation, epoch, idle_app, run_start_events};
use crate::tui::theme::Theme;
use crate::tui::{EngineLink, run_loop};

const N: u32 = 20;

/// A fake engine: `Run` plays a whole run; `Shutdown` ends it. Reports every command seen.
fn fake_engine(
    mut commands: mpsc::UnboundedReceiver<EngineCommand>,
    sink: EventSink,
    seen: mpsc::UnboundedSender<EngineCommand>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(cmd) = commands.recv().await {
            let _ = seen.send(cmd.clone());
            match cmd {
                EngineCommand::Run { .. } => {
                    for ev in run_start_events(N) {
                        sink.send(ev);
                    }
                    for i in 0..N {
                        sink.send(EngineEvent::Activation(Box::new(activation(i))));
                    }
                    sink.send(EngineEvent::RunFinished {
                        outcome: Phase::Done,
                        results_dir: Some("results/fake".into()),
                        elapsed: Duration::from_secs(1),
                    });
                }
                EngineCommand::Shutdown => break,
                _ => {}
            }
        }
    })
}

struct Harness {
    keys: fmpsc::UnboundedSender<io::Result<Event>>,
    seen: mpsc::UnboundedReceiver<EngineCommand>,
    cancel: CancellationToken,
    ui: tokio::task::JoinHandle<(App, Terminal<TestBackend>, Result<(), crate::tui::TuiError>)>,
}

fn start() -> Harness {
    let (keys, input) = fmpsc::unbounded();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (sink, mut events) = EventSink::new();
    let (seen_tx, seen) = mpsc::unbounded_channel();
    let mut task = fake_engine(cmd_rx, sink, seen_tx);
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    let ui = tokio::spawn(async move {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let mut app = idle_app(Theme::new(false));
        let r = run_loop(
            &mut terminal,
            &mut app,
            input,
            EngineLink {
                commands: &cmd_tx,
                events: &mut events,
                task: &mut task,
            },
            &token,
            20,
            epoch,
        )
        .await;
        (app, terminal, r)
    });
    Harness {
        keys,
        seen,
        cancel,
        ui,
    }
}

/// The next command the engine got, past the once-a-second Redis status and process polls of
/// a live run.
async fn next_seen(h: &mut Harness) -> EngineCommand {
    loop {
        let cmd = tokio::time::timeout(Duration::from_secs(30), h.seen.recv())
            .await
            .expect("the engine never got a command")
            .expect("engine gone");
        if !matches!(
            cmd,
            EngineCommand::RedisStatus { .. } | EngineCommand::SampleProcesses { .. }
        ) {
            return cmd;
        }
    }
}

#[tokio::test]
async fn run_then_quit_through_the_loop() {
    let mut h = start();
    h.keys.unbounded_send(Ok(Event::Key(key('r')))).unwrap();
    assert_eq!(
        next_seen(&mut h).await,
        EngineCommand::Run {
            profile: "local".into()
        }
    );
    h.keys.unbounded_send(Ok(Event::Key(key('q')))).unwrap();
    assert_eq!(next_seen(&mut h).await, EngineCommand::Shutdown);
    let (app, terminal, r) = tokio::time::timeout(Duration::from_secs(30), h.ui)
        .await
        .expect("the loop did not end after the engine stopped")
        .unwrap();
    r.unwrap();
    assert!(app.quitting);
    let run = app.run.as_ref().expect("the run was folded in");
    assert_eq!(run.stats.completed, u64::from(N));
    assert_eq!(run.finished.as_ref().map(|f| f.outcome), Some(Phase::Done));
    let s = text(&terminal);
    assert!(
        s.contains("20/20"),
        "the last frame shows the finished run:\n{s}"
    );
}

#[tokio::test]
async fn cancellation_shuts_the_engine_down() {
    let mut h = start();
    h.cancel.cancel();
    assert_eq!(next_seen(&mut h).await, EngineCommand::Shutdown);
    let (app, _t, r) = tokio::time::timeout(Duration::from_secs(30), h.ui)
        .await
        .expect("the loop did not end on cancellation")
        .unwrap();
    r.unwrap();
    assert!(app.quitting);
}

#[tokio::test]
async fn a_closed_keyboard_quits() {
    let mut h = start();
    h.keys.close_channel();
    assert_eq!(next_seen(&mut h).await, EngineCommand::Shutdown);
    let (app, _t, r) = tokio::time::timeout(Duration::from_secs(30), h.ui)
        .await
        .expect("the loop did not end when the keyboard went away")
        .unwrap();
    r.unwrap();
    assert!(app.quitting);
}

#[tokio::test]
async fn keyboard_errors_end_the_loop_with_an_error() {
    let h = start();
    h.keys
        .unbounded_send(Err(io::Error::other("tty gone")))
        .unwrap();
    let (_app, _t, r) = tokio::time::timeout(Duration::from_secs(30), h.ui)
        .await
        .expect("the loop did not end")
        .unwrap();
    let e = r.unwrap_err();
    assert!(e.to_string().contains("tty gone"), "{e}");
}

#[test]
fn twenty_fps_is_fifty_milliseconds() {
    assert_eq!(crate::tui::frame_period(20), Duration::from_millis(50));
    assert_eq!(crate::tui::frame_period(60), Duration::from_micros(16_666));
}
