//! Number formatting shared by the panes: fixed widths so columns do not jump.

use std::time::Duration;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders};

use crate::tui::theme::Theme;

/// `s` cut to `room` terminal columns by display width (CJK counts two, combining marks
/// none), with `…` when cut; whole grapheme clusters only.
pub fn fit(s: &str, room: usize) -> String {
    use unicode_width::UnicodeWidthStr;
    if s.width() <= room {
        return s.to_string();
    }
    cut(s, room)
}

/// `s` cut to leave one column of `room` for `…`, which ends it (whether or not `s` itself
/// would have fitted: something follows it that did not).
fn cut(s: &str, room: usize) -> String {
    use unicode_segmentation::UnicodeSegmentation;
    use unicode_width::UnicodeWidthStr;
    let mut out = String::new();
    let mut used = 0;
    for g in s.graphemes(true) {
        let w = g.width();
        if used + w + 1 > room {
            break;
        }
        out.push_str(g);
        used += w;
    }
    if room > 0 {
        out.push('…');
    }
    out
}

/// `line` cut to `room` columns with `…` as its last column when cut (styles kept): ratatui
/// clips a line silently, and a clipped number or path reads as a whole one.
pub fn fit_line(line: Line<'_>, room: usize) -> Line<'_> {
    use unicode_width::UnicodeWidthStr;
    if line.width() <= room {
        return line;
    }
    let mut out = Vec::new();
    let mut used = 0;
    for span in line.spans {
        let w = span.content.width();
        if used + w < room {
            used += w;
            out.push(span);
            continue;
        }
        // This span reaches the edge: cut it, leaving the last column for `…`.
        out.push(Span::styled(cut(&span.content, room - used), span.style));
        break;
    }
    Line::from(out).style(line.style)
}

/// Every line fitted to `room` columns (see [`fit_line`]).
pub fn fit_lines(lines: Vec<Line<'_>>, room: u16) -> Vec<Line<'_>> {
    lines
        .into_iter()
        .map(|l| fit_line(l, usize::from(room)))
        .collect()
}

/// A bordered pane whose title is cut with `…` to fit `area`.
pub(crate) fn pane_fit(t: Theme, title: &str, area: Rect) -> Block<'static> {
    pane(t, &fit(title, usize::from(area.width.saturating_sub(2))))
}

/// Milliseconds with one decimal, or whole numbers past 10 s so columns keep their width.
pub fn ms(v: f64) -> String {
    if v >= 10_000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A duration as `12.3s`, `4m05s` or `1h02m`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}

/// Bytes in binary units.
pub fn bytes(b: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = b as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{b} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Seconds of uptime, coarse.
pub fn uptime(s: u64) -> String {
    duration(Duration::from_secs(s))
        .trim_end_matches(".0s")
        .to_string()
        + if s < 60 { "s" } else { "" }
}

/// Panes at least this wide (inside their borders) show a second column.
pub(crate) const WIDE_PANE: u16 = 90;

/// The area, and from [`WIDE_PANE`] columns its right half for a second column.
pub(crate) fn split_wide(area: Rect) -> (Rect, Option<Rect>) {
    if area.width < WIDE_PANE {
        return (area, None);
    }
    let [l, r] = area.layout(&Layout::horizontal([Constraint::Fill(1); 2]).spacing(2));
    (l, Some(r))
}

/// A bordered pane with a title.
pub(crate) fn pane(t: Theme, title: &str) -> Block<'static> {
    Block::new()
        .borders(Borders::ALL)
        .border_style(t.border())
        .title(Span::styled(title.to_string(), t.title()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_cuts_by_display_width() {
        use unicode_width::UnicodeWidthStr;
        assert_eq!(fit("short", 10), "short");
        assert_eq!(fit("abcdefgh", 5), "abcd…");
        // CJK takes two columns: 7 columns hold three characters and the ellipsis.
        assert_eq!(fit("設定ファイルがありません", 7), "設定フ…");
        // A combining mark stays with its letter and takes no column.
        assert_eq!(
            fit("e\u{301}e\u{301}e\u{301}e\u{301}", 3),
            "e\u{301}e\u{301}…"
        );
        for room in 1..20 {
            assert!(fit("日本語 and more 한국어", room).width() <= room);
        }
    }

    #[test]
    fn fit_line_ends_a_cut_line_with_an_ellipsis_and_keeps_styles() {
        use ratatui::style::Style;
        let bold = Style::new().bold();
        let line = Line::from(vec![
            Span::raw("endpoint "),
            Span::styled("redis://127.0.0.1:6379/0", bold),
        ]);
        let cut = fit_line(line.clone(), 20);
        assert_eq!(cut.to_string(), "endpoint redis://12…");
        assert_eq!(cut.spans[1].style, bold);
        assert_eq!(fit_line(line.clone(), 80), line);
        assert_eq!(fit_line(line, 9).to_string(), "endpoint…");
    }

    #[test]
    fn formats() {
        assert_eq!(ms(178.56), "178.6");
        assert_eq!(ms(12_345.6), "12346");
        assert_eq!(duration(Duration::from_millis(12_340)), "12.3s");
        assert_eq!(duration(Duration::from_secs(245)), "4m05s");
        assert_eq!(duration(Duration::from_secs(3720)), "1h02m");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1_258_291), "1.2 MiB");
        assert_eq!(uptime(42), "42s");
        assert_eq!(uptime(245), "4m05s");
    }
}
