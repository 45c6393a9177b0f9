//! The console's loop: one `tokio::select!` over the keyboard, a render interval, the engine's
//! events, the engine task and a cancellation token. On each render tick it drains the engine
//! channel, folds the events into [`App`] and draws once.

use std::io;
use std::time::Duration;

use chrono::{DateTime, Utc};
use crossterm::event::Event;
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::action::Action;
use super::app::App;
use super::error::TuiError;
use super::ui;
use crate::engine::EngineHandle;
use crate::event::{EngineCommand, EngineEvent, Level};

/// The default frame rate.
pub const DEFAULT_FPS: u32 = 20;

/// Where the console sends commands: the engine, or a channel in tests.
pub trait CommandSink {
    /// Queue `cmd`; never blocks.
    fn send_command(&self, cmd: EngineCommand);
}

impl CommandSink for EngineHandle {
    fn send_command(&self, cmd: EngineCommand) {
        self.send(cmd);
    }
}

impl CommandSink for mpsc::UnboundedSender<EngineCommand> {
    fn send_command(&self, cmd: EngineCommand) {
        let _ignored_when_receiver_gone = self.send(cmd);
    }
}

/// The engine as the loop sees it: commands out, events in, and its task.
pub struct EngineLink<'a, C: CommandSink> {
    pub commands: &'a C,
    pub events: &'a mut mpsc::UnboundedReceiver<EngineEvent>,
    pub task: &'a mut JoinHandle<()>,
}

/// The time between frames at `fps` frames per second (20 fps → 50 ms).
pub fn frame_period(fps: u32) -> Duration {
    Duration::from_micros(1_000_000 / u64::from(fps.clamp(1, 120)))
}

fn draw<B: Backend>(terminal: &mut Terminal<B>, app: &App) -> Result<(), TuiError>
where
    B::Error: Send + Sync + 'static,
{
    terminal
        .draw(|f| ui::render(app, f))
        .map(|_| ())
        .map_err(|e| TuiError::Draw(Box::new(e)))
}

/// Run the console until the user quits (or `cancel` fires) and the engine has stopped.
/// Generic over the backend and the input stream so tests drive it with `TestBackend`.
pub async fn run_loop<B, S, C>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    mut input: S,
    engine: EngineLink<'_, C>,
    cancel: &CancellationToken,
    fps: u32,
    clock: impl Fn() -> DateTime<Utc>,
) -> Result<(), TuiError>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = io::Result<Event>> + Unpin,
    C: CommandSink,
{
    let EngineLink {
        commands,
        events,
        task,
    } = engine;
    let mut ticks = tokio::time::interval(frame_period(fps));
    // A slow frame must not be followed by a burst of catch-up frames.
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let (mut input_open, mut events_open, mut engine_done) = (true, true, false);
    // Something changed since the last frame (a key, an event, a resize): the next tick draws.
    // Idle, with nothing moving on screen, no frame is sent at all.
    let mut dirty = true;
    loop {
        tokio::select! {
            () = cancel.cancelled(), if !app.quitting => {
                if let Some(cmd) = app.perform(Action::ConfirmQuit) {
                    commands.send_command(cmd);
                }
            }
            joined = &mut *task, if !engine_done => {
                engine_done = true;
                while let Ok(ev) = events.try_recv() {
                    app.apply(ev);
                }
                dirty = true;
                joined.map_err(TuiError::Engine)?;
                if !app.quitting {
                    app.note(Level::Error, "the engine stopped unexpectedly; press q to quit");
                }
            }
            key = input.next(), if input_open => match key {
                // No keyboard any more (the session went away): nobody could ever quit.
                None => {
                    input_open = false;
                    if let Some(cmd) = app.perform(Action::ConfirmQuit) {
                        commands.send_command(cmd);
                    }
                }
                Some(Err(e)) => return Err(TuiError::Input(e)),
                Some(Ok(Event::Key(k))) => {
                    dirty = true;
                    if let Some(cmd) = app.on_key(&k) {
                        commands.send_command(cmd);
                    }
                }
                // Redraw at once so a resize never shows a torn frame until the next tick.
                Some(Ok(Event::Resize(..))) => draw(terminal, app)?,
                Some(Ok(_)) => {}
            },
            ev = events.recv(), if events_open => match ev {
                Some(ev) => {
                    dirty = true;
                    app.apply(ev);
                }
                None => events_open = false,
            },
            _ = ticks.tick() => {
                while let Ok(ev) = events.try_recv() {
                    dirty = true;
                    app.apply(ev);
                }
                let now = clock();
                for cmd in [app.status_due(now), app.processes_due(now)].into_iter().flatten() {
                    commands.send_command(cmd);
                }
                if dirty || app.animating() {
                    app.tick(now);
                    draw(terminal, app)?;
                    dirty = false;
                }
            }
        }
        if app.quitting && engine_done {
            app.tick(clock());
            draw(terminal, app)?;
            return Ok(());
        }
    }
}
