//! The overlays: help (generated from the key table) and the quit question.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph, Wrap};

use super::fmt::pane;
use crate::tui::action::Action;
use crate::tui::app::App;
use crate::tui::keys::{KEYS, Mode, keys_for};

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [row] = area.layout(
        &Layout::vertical([Constraint::Length(height.min(area.height))]).flex(Flex::Center),
    );
    let [cell] = row.layout(
        &Layout::horizontal([Constraint::Length(width.min(area.width))]).flex(Flex::Center),
    );
    cell
}

/// The help lines: a heading per mode, then each binding's keys and what they do.
fn help_lines(app: &App) -> Vec<Line<'static>> {
    let t = app.theme;
    let mut out = Vec::new();
    for mode in [Mode::Normal, Mode::Results, Mode::Help, Mode::ConfirmQuit] {
        out.push(Line::from(Span::styled(mode.label(), t.header())));
        for b in KEYS.iter().filter(|b| b.mode == mode) {
            let keys = b.keys_label();
            out.push(Line::from(vec![
                Span::styled(format!(" {keys:<11} "), t.key()),
                Span::raw(b.help),
            ]));
        }
    }
    out
}

/// The help overlay, listing [`KEYS`] grouped by mode.
pub fn render_help(app: &App, frame: &mut Frame, area: Rect) {
    let lines = help_lines(app);
    let rows = lines.len() as u16;
    // One column when it fits; two halves side by side on small screens (80×24).
    let two = rows + 2 > area.height;
    let (width, height) = if two {
        (area.width, rows.div_ceil(2) + 2)
    } else {
        (44, rows + 2)
    };
    let popup = centered(area, width, height);
    frame.render_widget(Clear, popup);
    let block = pane(app.theme, " Help · ? or Esc closes ");
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    if two {
        let [left, right] = inner.layout(&Layout::horizontal([Constraint::Fill(1); 2]).spacing(1));
        let mid = lines.len().div_ceil(2);
        let (a, b) = lines.split_at(mid);
        frame.render_widget(Paragraph::new(a.to_vec()), left);
        frame.render_widget(Paragraph::new(b.to_vec()), right);
    } else {
        frame.render_widget(Paragraph::new(lines), inner);
    }
}

/// A report opened from Results (failover, gateway study or share): its text over the view,
/// scrolled with the report keys, which its bottom line lists.
pub fn render_report(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let Some(r) = &app.report else { return };
    frame.render_widget(Clear, area);
    // Nothing is cut: a line wider than the overlay wraps (tables, narrower, keep their
    // alignment), and the rows scroll.
    let room = usize::from(area.width.saturating_sub(2)).max(1);
    let wrapped: Vec<String> = r
        .lines
        .iter()
        .flat_map(|l| {
            if unicode_width::UnicodeWidthStr::width(l.as_str()) <= room {
                vec![l.clone()]
            } else {
                crate::tui::wrap::wrap(l, room)
            }
        })
        .collect();
    let rows = usize::from(area.height.saturating_sub(3));
    r.rows.set(rows);
    r.wrapped.set(wrapped.len());
    let top = r.top.min(r.max_top());
    let end = (top + rows).min(wrapped.len());
    let title = format!(
        " {} · rows {}–{} of {} · {} ",
        r.title,
        (top + 1).min(end),
        end,
        wrapped.len(),
        r.dir.display()
    );
    let block = super::fmt::pane_fit(t, &title, area);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [text, keys] = inner.layout(&Layout::vertical([
        Constraint::Fill(1),
        Constraint::Length(1),
    ]));
    let lines: Vec<Line> = wrapped[top..end]
        .iter()
        .map(|l| Line::from(l.clone()))
        .collect();
    frame.render_widget(Paragraph::new(lines), text);
    // The scrolling keys, then closing, from the key table.
    let mut hint = Vec::new();
    for b in KEYS.iter().filter(|b| b.mode == Mode::Report) {
        let keys = b.keys_label();
        if b.action == Action::Dismiss {
            hint.push(Span::raw("scroll · "));
            hint.push(Span::styled(keys, t.key()));
            hint.push(Span::raw(format!(" {}", b.help)));
        } else {
            hint.push(Span::styled(keys, t.key()));
            hint.push(Span::raw(" "));
        }
    }
    frame.render_widget(
        Paragraph::new(super::fmt::fit_lines(vec![Line::from(hint)], keys.width)),
        keys,
    );
}

/// The question asked before quitting during a run.
pub fn render_confirm_quit(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let popup = centered(area, 52, 7);
    frame.render_widget(Clear, popup);
    let yes = keys_for(Mode::ConfirmQuit, Action::ConfirmQuit);
    let no = keys_for(Mode::ConfirmQuit, Action::Dismiss);
    let text = vec![
        Line::from(
            "A run is active. Quitting cancels it (its partial results are kept) and stops Redis.",
        ),
        Line::from(""),
        Line::from(vec![
            Span::styled(yes, t.key()),
            Span::raw(" quit   "),
            Span::styled(no, t.key()),
            Span::raw(" keep running"),
        ]),
    ];
    frame.render_widget(
        Paragraph::new(text)
            .wrap(Wrap { trim: true })
            .block(pane(t, " Quit? ")),
        popup,
    );
}

/// The workload editor (`E`): the selected profile's invocations, concurrency, records, mode,
/// Redis persistence and platform for its next runs; a changed value is marked `*` with the file's beside it. Its keys
/// come from the same table as everything else.
pub fn render_editor(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let Some(e) = &app.editor else { return };
    let popup = centered(area, 60, 17);
    frame.render_widget(Clear, popup);
    let values = e.now.texts().into_iter().zip(e.file.texts());
    let mut lines = Vec::new();
    for (i, (name, (now, file))) in crate::tui::state::EDIT_FIELDS
        .iter()
        .zip(values)
        .enumerate()
    {
        let style = if i == e.field {
            t.selected()
        } else {
            t.label()
        };
        let changed = now != file;
        lines.push(Line::from(vec![
            Span::styled(format!(" {name:<12}"), style),
            Span::styled(format!(" {now:>12} "), style),
            Span::styled(
                if changed {
                    format!(" * file: {file}")
                } else {
                    String::new()
                },
                t.warn(),
            ),
        ]));
    }
    lines.push(Line::from(""));
    for b in KEYS.iter().filter(|b| b.mode == Mode::Edit) {
        let keys = b.keys_label();
        lines.push(Line::from(vec![
            Span::styled(format!(" {keys:<10} "), t.key()),
            Span::raw(b.help),
        ]));
    }
    let title = format!(" Workload of `{}` for the next runs ", app.selected_name());
    let inner_w = popup.width.saturating_sub(2);
    frame.render_widget(
        Paragraph::new(super::fmt::fit_lines(lines, inner_w))
            .block(super::fmt::pane_fit(t, &title, popup)),
        popup,
    );
}
