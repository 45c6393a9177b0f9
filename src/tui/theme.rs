//! Every colour the console uses, in one place. With `NO_COLOR` set (any non-empty value, see
//! no-color.org) the theme keeps only modifiers (bold, reversed) so highlights stay visible.

use ratatui::style::{Color, Modifier, Style};

use crate::event::Level;
use crate::redis_host::RedisState;

/// The console's styles. Cheap to copy; chosen once at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// A theme with colours (`true`) or modifiers only (`false`).
    pub fn new(color: bool) -> Self {
        Self { color }
    }

    /// Colours unless `NO_COLOR` is set to a non-empty value.
    pub fn from_env() -> Self {
        Self::from_no_color(std::env::var_os("NO_COLOR"))
    }

    /// The theme for a given value of `NO_COLOR`.
    pub fn from_no_color(value: Option<std::ffi::OsString>) -> Self {
        Self::new(value.is_none_or(|v| v.is_empty()))
    }

    /// Whether colours are used.
    pub fn has_color(self) -> bool {
        self.color
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            Style::new().fg(c)
        } else {
            Style::new()
        }
    }

    /// Pane borders and titles.
    pub fn border(self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// Pane titles.
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// The selected profile; reversed so it shows without colour too.
    pub fn selected(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::Black)
                .bg(Color::Yellow)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// Field names in the key/value panes.
    pub fn label(self) -> Style {
        self.fg(Color::Gray)
    }

    /// Secondary text: the paper's figures, hints.
    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new().add_modifier(Modifier::DIM)
        }
    }

    /// Keys in the footer and the help overlay.
    pub fn key(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// Something that went well.
    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    /// Something to look at.
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    /// Something that failed.
    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// The error flashed in the header: reversed, so it stands out without colour too.
    pub fn alert(self) -> Style {
        if self.color {
            Style::new()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    /// A log line's level.
    pub fn level(self, level: Level) -> Style {
        match level {
            Level::Info => Style::new(),
            Level::Warn => self.warn(),
            Level::Error => self.error(),
        }
    }

    /// The Redis state word.
    pub fn redis_state(self, s: RedisState) -> Style {
        match s {
            RedisState::Running => self.ok().add_modifier(Modifier::BOLD),
            RedisState::Starting | RedisState::Stopping => self.warn(),
            RedisState::Stopped => self.dim(),
            RedisState::Failed => self.error(),
        }
    }

    /// The progress gauge's filled part.
    pub fn gauge(self) -> Style {
        if self.color {
            Style::new().fg(Color::Green).bg(Color::Black)
        } else {
            Style::new()
        }
    }

    /// Sparkline bars.
    pub fn spark(self) -> Style {
        self.fg(Color::LightBlue)
    }

    /// Table headers.
    pub fn header(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }
}
