//! The profiles pane: every profile found, the selected one highlighted.

use crate::tui::views::View;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::fmt::fit;

use crate::tui::app::App;

/// The longest a profile's name may show in the tabs; longer names end in `…`.
const NAME_ROOM: usize = 16;

/// One tab's text: its number (1–9 select it; later ones are reached with ←/→) and its name.
fn title(i: usize, p: &crate::tui::state::ProfileItem) -> String {
    let mark = if p.info.is_err() { " (invalid)" } else { "" };
    format!("{} {}{mark}", i + 1, fit(&p.name, NAME_ROOM))
}

/// The profile tabs fitted to `width` columns: as many as fit around the selected one (which
/// always shows), with `‹N` and `N›` counting those left out on each side. Nothing is cut
/// silently and nothing runs into what follows.
pub(crate) fn profile_tabs(app: &App, width: usize) -> Line<'static> {
    let t = app.theme;
    let titles: Vec<String> = app
        .profiles
        .iter()
        .enumerate()
        .map(|(i, p)| title(i, p))
        .collect();
    if titles.is_empty() {
        return Line::from(Span::styled(" no profile found", t.error()));
    }
    let cell = |s: &String| s.width() + 3; // " name " and the divider
    let sel = app.selected.min(titles.len() - 1);
    let (mut lo, mut hi) = (sel, sel);
    let mut used = cell(&titles[sel]);
    // Room for the markers whenever some profile is left out.
    let marks = |lo: usize, hi: usize| {
        (if lo > 0 { 4 } else { 0 }) + (if hi + 1 < titles.len() { 4 } else { 0 })
    };
    loop {
        let mut grew = false;
        if hi + 1 < titles.len() {
            let next = used + cell(&titles[hi + 1]);
            if next + marks(lo, hi + 1) <= width {
                hi += 1;
                used = next;
                grew = true;
            }
        }
        if lo > 0 {
            let next = used + cell(&titles[lo - 1]);
            if next + marks(lo - 1, hi) <= width {
                lo -= 1;
                used = next;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    let mut spans = Vec::new();
    if lo > 0 {
        spans.push(Span::styled(format!("‹{lo} "), t.warn()));
    }
    for (i, name) in titles.iter().enumerate().take(hi + 1).skip(lo) {
        if i > lo {
            spans.push(Span::styled("│", t.border()));
        }
        let style = if i == sel { t.selected() } else { t.label() };
        // The selected one alone may still be too wide for a very narrow header.
        let room = width.saturating_sub(2 + marks(lo, hi));
        spans.push(Span::styled(format!(" {} ", fit(name, room)), style));
    }
    let right = titles.len() - 1 - hi;
    if right > 0 {
        spans.push(Span::styled(format!(" {right}›"), t.warn()));
    }
    Line::from(spans)
}

/// One line: the program's name and the profile tabs (the compact layout).
pub fn render_profiles_line(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    // Below 120 columns the views show as the current one and its place (v cycles them), so
    // that the profiles keep most of the row.
    let compact = area.width < 120;
    let views_width = if compact { 16 } else { view_tabs_width() };
    let [name, tabs, views] = area.layout(&ratatui::layout::Layout::horizontal([
        ratatui::layout::Constraint::Length(11),
        ratatui::layout::Constraint::Fill(1),
        ratatui::layout::Constraint::Length(views_width),
    ]));
    if compact {
        frame.render_widget(
            Paragraph::new(current_view(app)).alignment(ratatui::layout::Alignment::Right),
            views,
        );
    } else {
        frame.render_widget(view_tabs(app), views);
    }
    frame.render_widget(Paragraph::new(Span::styled(" redwhisk ", t.title())), name);
    // One column between the profiles and the view tabs, always.
    let room = usize::from(tabs.width.saturating_sub(1));
    frame.render_widget(Paragraph::new(profile_tabs(app, room)), tabs);
}

/// A bordered block: the tabs, then what the selected profile is.
pub fn render_profiles(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(t.border())
        .title(Span::styled(
            " redwhisk · profiles (←/→, Tab, 1-9) ",
            t.title(),
        ));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let views = Rect {
        x: area.right().saturating_sub(view_tabs_width() + 2),
        width: view_tabs_width().min(area.width),
        height: 1,
        ..area
    };
    frame.render_widget(view_tabs(app), views);
    let [tabs, about] = inner.layout(&ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(1),
        ratatui::layout::Constraint::Fill(1),
    ]));
    // The view tabs sit on the border above; the profiles have the whole row.
    frame.render_widget(
        Paragraph::new(profile_tabs(app, usize::from(tabs.width))),
        tabs,
    );
    let line = match app.selected_profile().map(|p| &p.info) {
        Some(Ok(i)) => Line::from(vec![
            Span::styled(
                format!(
                    "{} redis · {} · {} platform · {} × {} records",
                    i.backend, i.persistence, i.platform, i.invocations, i.records
                ),
                t.label(),
            ),
            Span::styled(
                if i.description.is_empty() {
                    String::new()
                } else {
                    format!(" — {}", i.description)
                },
                t.dim(),
            ),
        ]),
        Some(Err(why)) => Line::from(Span::styled(why.to_string(), t.error())),
        None => Line::from(Span::styled("no profile found", t.error())),
    };
    frame.render_widget(Paragraph::new(line), about);
}

/// The views as tabs, the current one highlighted (top right of the header).
pub(crate) fn view_tabs(app: &App) -> ratatui::widgets::Tabs<'static> {
    let t = app.theme;
    let current = View::ALL.iter().position(|v| *v == app.view).unwrap_or(0);
    ratatui::widgets::Tabs::new(View::ALL.map(|v| v.label()))
        .select(current)
        .style(t.dim())
        .highlight_style(t.selected())
        .divider(Span::styled("│", t.border()))
}

/// The current view and its place among them, for a narrow header: `Sweep 3/5 `.
fn current_view(app: &App) -> Line<'static> {
    let t = app.theme;
    let at = View::ALL.iter().position(|v| *v == app.view).unwrap_or(0);
    Line::from(vec![
        Span::styled(format!(" {} ", app.view.label()), t.selected()),
        Span::styled(format!(" {}/{} ", at + 1, View::ALL.len()), t.dim()),
    ])
}

/// The width [`view_tabs`] needs.
pub(crate) fn view_tabs_width() -> u16 {
    View::ALL
        .iter()
        .map(|v| v.label().len() as u16 + 3)
        .sum::<u16>()
}
