//! The log pane: timestamped engine messages and errors, newest at the bottom, scrollable.
//! Long messages wrap under their text (errors say what to fix; none of it may be cut off).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::fmt::pane;
use crate::tui::app::App;
use crate::tui::state::LogLine;

use crate::tui::state::LOG_STAMP as STAMP;
use crate::tui::wrap::wrap;

/// The screen rows of one log line at `width` columns: the stamp, then the message wrapped,
/// continuation rows indented under the text.
fn rows<'a>(l: &LogLine, width: usize, stamp: Style, text: Style) -> Vec<Line<'a>> {
    let room = width.saturating_sub(STAMP).max(1);
    wrap(&l.message, room)
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let lead = if i == 0 {
                Span::styled(l.at.format("%H:%M:%S ").to_string(), stamp)
            } else {
                Span::raw(" ".repeat(STAMP))
            };
            Line::from(vec![lead, Span::styled(piece, text)])
        })
        .collect()
}

/// The log pane: follows the last row of the newest message, or shows the rows `scroll` up
/// from it. Only the messages on screen are wrapped while following; a scrolled view counts
/// every row once, so that scrolling stops at the oldest.
pub fn render_log(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let log = &app.log;
    let block = pane(t, " Log ");
    let inner = block.inner(area);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    let need = if log.scroll == 0 { height } else { usize::MAX };
    let mut pieces: Vec<Vec<Line>> = Vec::new();
    let mut total = 0;
    for l in log.lines.iter().rev() {
        if total >= need {
            break;
        }
        let r = rows(l, width, t.dim(), t.level(l.level));
        total += r.len();
        pieces.push(r);
    }
    let all: Vec<Line> = pieces.into_iter().rev().flatten().collect();
    let max_scroll = all.len().saturating_sub(height);
    let scroll = log.scroll.min(max_scroll);
    log.drawn.set(crate::tui::state::LogGeometry {
        width,
        max_scroll: if log.scroll == 0 {
            usize::MAX
        } else {
            max_scroll
        },
    });
    let end = all.len() - scroll;
    let start = end.saturating_sub(height);
    let title = if scroll > 0 {
        format!(" Log · {scroll} rows up · End follows ")
    } else {
        " Log (↑/↓ scroll) ".to_string()
    };
    let title = super::fmt::fit(&title, usize::from(area.width.saturating_sub(2)));
    let block = pane(t, &title);
    let shown: Vec<Line> = all.into_iter().skip(start).take(end - start).collect();
    frame.render_widget(Paragraph::new(shown).block(block), area);
}
