//! The log pane: timestamped engine messages and errors, newest at the bottom, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::pane;
use crate::tui::app::App;

pub fn render_log(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let log = &app.log;
    let title = if log.scroll > 0 {
        format!(" Log · {} lines up (End follows) ", log.scroll)
    } else {
        " Log (↑/↓ scroll) ".to_string()
    };
    let block = pane(t, &title);
    let height = usize::from(block.inner(area).height);
    let end = log.lines.len().saturating_sub(log.scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line> = log
        .lines
        .range(start..end)
        .map(|l| {
            Line::from(vec![
                Span::styled(l.at.format("%H:%M:%S ").to_string(), t.dim()),
                Span::styled(l.message.as_str(), t.level(l.level)),
            ])
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
