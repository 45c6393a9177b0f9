//! The one key table: mode × key → [`Action`]. The key handler and the help overlay both read
//! [`KEYS`], so the help can never disagree with what the keys do.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::Action;

/// Which keys are live: the overlays take the keyboard while they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Help,
    ConfirmQuit,
    /// The Results view: its own keys first, then the console's.
    Results,
    /// The workload editor takes the keyboard.
    Edit,
    /// A report (failover, gateway study or share) opened from Results.
    Report,
}

impl Mode {
    /// How the help overlay titles the mode.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Normal => "console",
            Mode::Help => "help",
            Mode::ConfirmQuit => "quit?",
            Mode::Results => "results view",
            Mode::Edit => "workload editor",
            Mode::Report => "report",
        }
    }
}

/// One key as written in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// A character without Ctrl.
    Char(char),
    /// Ctrl and a character.
    Ctrl(char),
    /// A named key (arrows, Esc, Tab…).
    Code(KeyCode),
    /// `1`–`9`: the action gets the digit's 0-based index.
    Digits,
}

impl Key {
    fn matches(self, ev: &KeyEvent) -> Option<Option<u8>> {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match (self, ev.code) {
            (Key::Char(c), KeyCode::Char(got)) if !ctrl && got == c => Some(None),
            (Key::Ctrl(c), KeyCode::Char(got)) if ctrl && got.eq_ignore_ascii_case(&c) => {
                Some(None)
            }
            (Key::Code(code), got) if got == code => Some(None),
            (Key::Digits, KeyCode::Char(d @ '1'..='9')) if !ctrl => Some(Some(d as u8 - b'1')),
            _ => None,
        }
    }

    /// How the help overlay and the footer write the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".into(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            Key::Digits => "1-9".into(),
            Key::Code(code) => match code {
                KeyCode::Left => "←".into(),
                KeyCode::Right => "→".into(),
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::Home => "Home".into(),
                KeyCode::End => "End".into(),
                KeyCode::Tab => "Tab".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::Esc => "Esc".into(),
                KeyCode::Enter => "Enter".into(),
                other => format!("{other:?}"),
            },
        }
    }
}

/// One row of the table: in `mode`, any of `keys` does `action`.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    /// The mode in which the keys are live.
    pub mode: Mode,
    /// Any of these keys does the action.
    pub keys: &'static [Key],
    pub action: Action,
    /// What the help overlay says (at most 24 characters, to fit 80 columns).
    pub help: &'static str,
}

impl Binding {
    /// Its keys as the help, the editor and the report list them (`"q/Ctrl-C"`).
    pub fn keys_label(&self) -> String {
        self.keys
            .iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join("/")
    }
}

const fn bind(mode: Mode, keys: &'static [Key], action: Action, help: &'static str) -> Binding {
    Binding {
        mode,
        keys,
        action,
        help,
    }
}

use Key::{Char, Code, Ctrl};
use Mode::{ConfirmQuit, Edit, Help, Normal, Report, Results};

/// The key table, in the order the help overlay lists it.
pub const KEYS: &[Binding] = &[
    bind(Normal, &[Char('r')], Action::Run, "run case study 1"),
    bind(Normal, &[Char('x')], Action::Cancel, "cancel the run"),
    bind(
        Normal,
        &[Char('o')],
        Action::CycleLoop,
        "r: open loop rate/closed",
    ),
    bind(
        Normal,
        &[Char('s')],
        Action::Share,
        "data-sharing experiment",
    ),
    bind(
        Normal,
        &[Char('w')],
        Action::Sweep,
        "sweep concurrency 1-32",
    ),
    bind(Normal, &[Char('W')], Action::RttSweep, "sweep RTT 0-5 ms"),
    bind(
        Normal,
        &[Char('u')],
        Action::RedisUp,
        "start Redis (until quit)",
    ),
    bind(
        Normal,
        &[Char('d')],
        Action::RedisDown,
        "save and stop Redis",
    ),
    bind(
        Normal,
        &[Char('g')],
        Action::ToggleGateway,
        "scale-to-zero gateway",
    ),
    bind(Normal, &[Char('e')], Action::Export, "zip the last results"),
    bind(
        Normal,
        &[Char('c')],
        Action::Clear,
        "clear log, finished run",
    ),
    bind(
        Normal,
        &[Code(KeyCode::Right), Code(KeyCode::Tab)],
        Action::NextProfile,
        "next profile",
    ),
    bind(
        Normal,
        &[Code(KeyCode::Left), Code(KeyCode::BackTab)],
        Action::PrevProfile,
        "previous profile",
    ),
    bind(
        Normal,
        &[Key::Digits],
        Action::SelectProfile(0),
        "select profile by number",
    ),
    bind(
        Normal,
        &[Code(KeyCode::Up), Char('k')],
        Action::LogUp,
        "scroll the log up",
    ),
    bind(
        Normal,
        &[Code(KeyCode::Down), Char('j')],
        Action::LogDown,
        "scroll the log down",
    ),
    bind(
        Normal,
        &[Code(KeyCode::PageUp)],
        Action::LogPageUp,
        "log: page up",
    ),
    bind(
        Normal,
        &[Code(KeyCode::PageDown)],
        Action::LogPageDown,
        "log: page down",
    ),
    bind(
        Normal,
        &[Code(KeyCode::Home)],
        Action::LogHome,
        "log: oldest line",
    ),
    bind(
        Normal,
        &[Code(KeyCode::End)],
        Action::LogEnd,
        "log: follow newest",
    ),
    bind(
        Normal,
        &[Char('E')],
        Action::EditWorkload,
        "edit the next runs",
    ),
    bind(Normal, &[Char('v')], Action::NextView, "next view"),
    bind(Normal, &[Char('V')], Action::PrevView, "previous view"),
    bind(Normal, &[Char('?')], Action::ToggleHelp, "this help"),
    bind(
        Normal,
        &[Code(KeyCode::Esc)],
        Action::Acknowledge,
        "dismiss the error shown",
    ),
    bind(
        Normal,
        &[Char('q'), Ctrl('c')],
        Action::Quit,
        "quit (asks during a run)",
    ),
    bind(
        Results,
        &[Code(KeyCode::Up), Char('k')],
        Action::ResultsUp,
        "previous run",
    ),
    bind(
        Results,
        &[Code(KeyCode::Down), Char('j')],
        Action::ResultsDown,
        "next run",
    ),
    bind(
        Results,
        &[Code(KeyCode::Enter)],
        Action::OpenResult,
        "open (view or report)",
    ),
    bind(
        Results,
        &[Char(' ')],
        Action::MarkResult,
        "mark; two open Compare",
    ),
    bind(
        Results,
        &[Code(KeyCode::Home)],
        Action::ResultsHome,
        "first row",
    ),
    bind(
        Results,
        &[Code(KeyCode::End)],
        Action::ResultsEnd,
        "last row",
    ),
    bind(
        Results,
        &[Char('S')],
        Action::SortResults,
        "sort: date/p50/p99/inv/s",
    ),
    bind(
        Results,
        &[Char('/')],
        Action::FilterResults,
        "filter (Enter/Esc ends)",
    ),
    bind(
        Edit,
        &[Code(KeyCode::Up), Char('k')],
        Action::EditPrev,
        "previous field",
    ),
    bind(
        Edit,
        &[Code(KeyCode::Down), Char('j')],
        Action::EditNext,
        "next field",
    ),
    bind(
        Edit,
        &[Code(KeyCode::Right), Char('+')],
        Action::EditMore,
        "more (×2, +1, next)",
    ),
    bind(
        Edit,
        &[Code(KeyCode::Left), Char('-')],
        Action::EditLess,
        "less (÷2, −1, previous)",
    ),
    bind(
        Edit,
        &[Code(KeyCode::Enter)],
        Action::EditApply,
        "use for the next runs",
    ),
    bind(Edit, &[Char('0')], Action::EditReset, "back to the file's"),
    bind(
        Edit,
        &[Char('s')],
        Action::EditSave,
        "use and save to the file",
    ),
    bind(
        Edit,
        &[Code(KeyCode::Esc)],
        Action::Dismiss,
        "close, no change",
    ),
    bind(
        Report,
        &[Code(KeyCode::Up), Char('k')],
        Action::ReportUp,
        "scroll up",
    ),
    bind(
        Report,
        &[Code(KeyCode::Down), Char('j')],
        Action::ReportDown,
        "scroll down",
    ),
    bind(
        Report,
        &[Code(KeyCode::PageUp)],
        Action::ReportPageUp,
        "page up",
    ),
    bind(
        Report,
        &[Code(KeyCode::PageDown), Char(' ')],
        Action::ReportPageDown,
        "page down",
    ),
    bind(Report, &[Code(KeyCode::Home)], Action::ReportHome, "top"),
    bind(Report, &[Code(KeyCode::End)], Action::ReportEnd, "end"),
    bind(
        Report,
        &[Code(KeyCode::Esc), Char('q'), Code(KeyCode::Enter)],
        Action::Dismiss,
        "close",
    ),
    bind(
        Help,
        &[Char('?'), Code(KeyCode::Esc), Char('q')],
        Action::Dismiss,
        "close the help",
    ),
    bind(
        ConfirmQuit,
        &[Char('y'), Char('q'), Ctrl('c')],
        Action::ConfirmQuit,
        "stop run and Redis, quit",
    ),
    bind(
        ConfirmQuit,
        &[Char('n'), Code(KeyCode::Esc)],
        Action::Dismiss,
        "keep running",
    ),
];

/// The action `ev` means in `mode`, if any. Key releases and repeats of a release are ignored.
pub fn lookup(mode: Mode, ev: &KeyEvent) -> Option<Action> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    let own = lookup_in(mode, ev);
    if own.is_none() && mode == Mode::Results {
        return lookup_in(Mode::Normal, ev);
    }
    own
}

fn lookup_in(mode: Mode, ev: &KeyEvent) -> Option<Action> {
    KEYS.iter().filter(|b| b.mode == mode).find_map(|b| {
        b.keys
            .iter()
            .find_map(|k| k.matches(ev))
            .map(|digit| match (b.action, digit) {
                (Action::SelectProfile(_), Some(d)) => Action::SelectProfile(d),
                (a, _) => a,
            })
    })
}

/// The first key bound to `action` in `mode` (the footer shows one key per action).
pub fn first_key(mode: Mode, action: Action) -> String {
    KEYS.iter()
        .filter(|b| b.mode == mode && b.action == action)
        .find_map(|b| b.keys.first().map(|k| k.label()))
        .unwrap_or_default()
}

/// The keys bound to `action` in `mode`, joined for display (`"q/Ctrl-C"`).
pub fn keys_for(mode: Mode, action: Action) -> String {
    KEYS.iter()
        .filter(|b| b.mode == mode && b.action == action)
        .map(Binding::keys_label)
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn letters_map_to_actions_in_normal_mode() {
        assert_eq!(
            lookup(Mode::Normal, &key(KeyCode::Char('r'))),
            Some(Action::Run)
        );
        assert_eq!(
            lookup(Mode::Normal, &key(KeyCode::Char('x'))),
            Some(Action::Cancel)
        );
        assert_eq!(lookup(Mode::Normal, &key(KeyCode::Char('Z'))), None);
    }

    #[test]
    fn digits_carry_their_index() {
        assert_eq!(
            lookup(Mode::Normal, &key(KeyCode::Char('3'))),
            Some(Action::SelectProfile(2))
        );
        assert_eq!(lookup(Mode::Normal, &key(KeyCode::Char('0'))), None);
    }

    #[test]
    fn ctrl_c_is_not_c() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(lookup(Mode::Normal, &ctrl_c), Some(Action::Quit));
        assert_eq!(
            lookup(Mode::Normal, &key(KeyCode::Char('c'))),
            Some(Action::Clear)
        );
    }

    #[test]
    fn overlays_take_the_keyboard() {
        assert_eq!(lookup(Mode::Help, &key(KeyCode::Char('r'))), None);
        assert_eq!(
            lookup(Mode::Help, &key(KeyCode::Esc)),
            Some(Action::Dismiss)
        );
        assert_eq!(
            lookup(Mode::ConfirmQuit, &key(KeyCode::Char('y'))),
            Some(Action::ConfirmQuit)
        );
    }

    #[test]
    fn help_text_fits_half_of_80_columns() {
        for b in KEYS {
            assert!(
                b.help.chars().count() <= 24,
                "{:?} is too long for the help overlay",
                b.help
            );
        }
    }

    #[test]
    fn releases_are_ignored() {
        let mut ev = key(KeyCode::Char('r'));
        ev.kind = KeyEventKind::Release;
        assert_eq!(lookup(Mode::Normal, &ev), None);
    }

    #[test]
    fn every_action_in_a_mode_has_one_row() {
        for (i, a) in KEYS.iter().enumerate() {
            for b in &KEYS[i + 1..] {
                assert!(
                    !(a.mode == b.mode && a.action == b.action),
                    "{:?} bound twice in {:?}",
                    a.action,
                    a.mode
                );
            }
        }
    }
}
