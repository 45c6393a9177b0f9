//! The profiles pane: every profile found, the selected one highlighted.

use crate::tui::views::View;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Tabs};

use crate::tui::app::App;

fn titles(app: &App) -> Vec<Line<'static>> {
    app.profiles
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mark = if p.info.is_err() { " (invalid)" } else { "" };
            Line::from(format!("{} {}{mark}", i + 1, p.name))
        })
        .collect()
}

/// One line: the program's name and the profile tabs (the compact layout).
pub fn render_profiles_line(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let [name, tabs, views] = area.layout(&ratatui::layout::Layout::horizontal([
        ratatui::layout::Constraint::Length(11),
        ratatui::layout::Constraint::Fill(1),
        ratatui::layout::Constraint::Length(view_tabs_width()),
    ]));
    frame.render_widget(view_tabs(app), views);
    frame.render_widget(Paragraph::new(Span::styled(" redwhisk ", t.title())), name);
    frame.render_widget(
        Tabs::new(titles(app))
            .select(app.selected)
            .style(t.label())
            .highlight_style(t.selected())
            .divider(Span::styled("│", t.border())),
        tabs,
    );
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
    frame.render_widget(
        Tabs::new(titles(app))
            .select(app.selected)
            .style(t.label())
            .highlight_style(t.selected())
            .divider(Span::styled("│", t.border())),
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

/// The width [`view_tabs`] needs.
pub(crate) fn view_tabs_width() -> u16 {
    View::ALL
        .iter()
        .map(|v| v.label().len() as u16 + 3)
        .sum::<u16>()
}
