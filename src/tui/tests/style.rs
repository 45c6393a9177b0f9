//! Colour per cell: the theme's colours where expected, and none at all under NO_COLOR.

use ratatui::style::{Color, Modifier};

use super::{screen, text};
use crate::tui::demo::running_app;
use crate::tui::theme::Theme;

/// The (x, y) of the first cell of `needle` on row `y`.
fn find(t: &ratatui::Terminal<ratatui::backend::TestBackend>, needle: &str) -> (u16, u16) {
    let s = text(t);
    for (y, line) in s.lines().enumerate() {
        if let Some(byte) = line.find(needle) {
            let x = line[..byte].chars().count();
            return (x as u16, y as u16);
        }
    }
    panic!("{needle:?} not on screen:\n{s}");
}

#[test]
fn selected_profile_and_errors_are_coloured() {
    let t = screen(&running_app(Theme::new(true), 20, 12, 6, true), 80, 24);
    let buf = t.backend().buffer();
    let (x, y) = find(&t, "1 local");
    assert_eq!(buf[(x, y)].bg, Color::Yellow);
    assert_eq!(buf[(x, y)].fg, Color::Black);
    let (x, y) = find(&t, "2 docker");
    assert_eq!(
        buf[(x, y)].bg,
        Color::Reset,
        "unselected tabs are not highlighted"
    );
    // One failure: the count is red.
    let (x, y) = find(&t, "failed   1");
    assert_eq!(buf[(x + 9, y)].fg, Color::Red);
    let (x, y) = find(&t, "running");
    assert_eq!(buf[(x, y)].fg, Color::Green);
}

#[test]
fn no_color_means_no_colour_anywhere_but_highlights_stay() {
    let t = screen(&running_app(Theme::new(false), 20, 12, 6, true), 80, 24);
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert_eq!(cell.fg, Color::Reset, "{cell:?}");
        assert_eq!(cell.bg, Color::Reset, "{cell:?}");
    }
    let (x, y) = find(&t, "1 local");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn no_color_value_decides() {
    use std::ffi::OsString;
    assert!(Theme::from_no_color(None).has_color());
    assert!(
        Theme::from_no_color(Some(OsString::new())).has_color(),
        "empty means unset"
    );
    assert!(!Theme::from_no_color(Some(OsString::from("1"))).has_color());
}
