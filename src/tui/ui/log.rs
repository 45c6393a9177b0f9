//! The log pane: timestamped engine messages and errors, newest at the bottom, scrollable.
//! Long messages wrap under their text (errors say what to fix; none of it may be cut off).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::pane;
use crate::tui::app::App;
use crate::tui::state::LogLine;

/// `HH:MM:SS ` before each message.
const STAMP: usize = 9;

/// Greedy word wrap to `room` columns; a word longer than a row is split.
fn wrap(text: &str, room: usize) -> Vec<String> {
    let mut rows = Vec::new();
    let mut cur = String::new();
    let mut len = 0;
    for word in text.split(' ') {
        let mut w: Vec<char> = word
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        if len > 0 && len + 1 + w.len() > room {
            rows.push(std::mem::take(&mut cur));
            len = 0;
        }
        if len > 0 {
            cur.push(' ');
            len += 1;
        }
        while len + w.len() > room {
            let fit = room - len;
            cur.extend(&w[..fit]);
            rows.push(std::mem::take(&mut cur));
            len = 0;
            w.drain(..fit);
        }
        len += w.len();
        cur.extend(w);
    }
    rows.push(cur);
    rows
}

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

/// The log pane.
pub fn render_log(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let log = &app.log;
    let title = if log.scroll > 0 {
        format!(" Log · {} lines up (End follows) ", log.scroll)
    } else {
        " Log (↑/↓ scroll) ".to_string()
    };
    let block = pane(t, &title);
    let inner = block.inner(area);
    let (width, height) = (usize::from(inner.width), usize::from(inner.height));
    // Walk back from the newest visible line until the pane is full; only those are wrapped.
    let end = log.lines.len().saturating_sub(log.scroll);
    let mut shown: Vec<Line> = Vec::new();
    for l in log.lines.range(..end).rev() {
        if shown.len() >= height {
            break;
        }
        let mut r = rows(l, width, t.dim(), t.level(l.level));
        r.extend(shown);
        shown = r;
    }
    // A message taller than the pane shows its start: that is where it says what failed.
    let newest_rows = log
        .lines
        .range(..end)
        .next_back()
        .map_or(0, |l| rows(l, width, t.dim(), t.level(l.level)).len());
    let skip = if newest_rows > height {
        shown.len() - newest_rows
    } else {
        shown.len().saturating_sub(height)
    };
    shown.truncate(skip + height);
    frame.render_widget(Paragraph::new(shown.split_off(skip)).block(block), area);
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wraps_at_words_and_splits_only_long_words() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(wrap("a abcdef", 4), ["a", "abcd", "ef"]);
        assert_eq!(wrap("", 4), [""]);
        for text in ["Redis did not start: see /tmp/x/redis.log", "a  b   c"] {
            for room in 1..12 {
                let rows = wrap(text, room);
                assert!(rows.iter().all(|r| r.chars().count() <= room), "{rows:?}");
            }
        }
    }
}
