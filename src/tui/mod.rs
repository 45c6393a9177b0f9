//! The console: a ratatui TUI over the engine's events.
//!
//! The loop is one `tokio::select!` over the keyboard (crossterm's `EventStream`), a render
//! interval, the engine's events, the engine task and a cancellation token. On each render tick
//! it drains the engine channel, folds the events into [`App`] and draws once. Drawing is a
//! pure function of `&App` ([`ui::render`]); a key becomes an [`Action`], and an action a state
//! change or an [`EngineCommand`] — the UI itself never touches Docker, Redis or HTTP.

pub mod action;
pub mod app;
pub mod demo;
mod error;
mod event_loop;
pub mod keys;
mod perform;
pub mod state;
mod terminal;
pub mod theme;
pub mod ui;
pub mod views;
pub mod wrap;

pub use action::Action;
pub use app::App;
pub use error::TuiError;
pub use event_loop::{CommandSink, DEFAULT_FPS, EngineLink, frame_period, run_loop};
pub use terminal::{ConsoleOptions, run_console};
pub use theme::Theme;

#[cfg(test)]
mod tests;
