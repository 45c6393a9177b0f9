//! The Results view (runs under the results root, newest first) and the Compare view (two
//! runs side by side per phase and per command, with the ratio's interval and verdict).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::fmt::{self, pane};
use crate::compare::{Change, Row as CmpRow};
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// Every result under the results root: kind, profile, date, size, p50, p99, throughput,
/// outcome and directory, sorted (`S`) and filtered (`/`).
pub fn render_results(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let r = &app.results;
    let filter = match (r.filtering, r.filter.is_empty()) {
        (true, _) => format!(" · filter: {}▏(Enter keeps, Esc clears)", r.filter),
        (false, false) => format!(" · filter: {} (/ changes)", r.filter),
        (false, true) => " · / filters".to_string(),
    };
    let title = format!(
        " Results in {} · {} of {} · sort: {} (S){filter} ",
        app.results_root.display(),
        r.order.len(),
        r.entries.len(),
        r.sort.label()
    );
    let block = fmt::pane_fit(t, &title, area);
    if r.order.is_empty() {
        let msg = if r.loading {
            "reading the results directory…".to_string()
        } else if !r.entries.is_empty() {
            format!("no result matches `{}`: Esc or Backspace widens", r.filter)
        } else {
            format!(
                "no results under {} yet: press r, s or w to make one",
                app.results_root.display()
            )
        };
        frame.render_widget(
            Paragraph::new(Span::styled(msg, t.dim()))
                .wrap(Wrap { trim: true })
                .block(block),
            area,
        );
        return;
    }
    let inner = block.inner(area);
    let inner_h = inner.height.saturating_sub(1) as usize;
    // Keep the cursor on screen.
    let first = r.selected.saturating_sub(inner_h.saturating_sub(1));
    let num = |v: Option<f64>| v.map_or_else(|| "-".to_string(), fmt::ms);
    // Narrow: a shorter date and no p99, so the directory keeps a few columns.
    let narrow = inner.width < 110;
    let date_w: u16 = if narrow { 11 } else { 16 };
    let keep = |col: usize| !(narrow && col == 6);
    let fixed: u16 = 1 + 8 + 10 + date_w + 12 + 7 + if narrow { 0 } else { 7 } + 7 + 9;
    let spacing: u16 = if narrow { 8 } else { 9 };
    let dir_room = usize::from(inner.width.saturating_sub(fixed + spacing));
    let date_format = if narrow {
        "%m-%d %H:%M"
    } else {
        "%Y-%m-%d %H:%M"
    };
    let rows = r
        .order
        .iter()
        .enumerate()
        .skip(first)
        .take(inner_h.max(1))
        .map(|(pos, &i)| {
            let e = &r.entries[i];
            let mark = match r.marked.iter().position(|&m| m == i) {
                Some(0) => "A",
                Some(_) => "B",
                None => " ",
            };
            let name = e
                .dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into());
            let style = if pos == r.selected {
                t.selected()
            } else {
                Style::new()
            };
            let outcome_style = if e.outcome == "done" {
                t.ok()
            } else {
                t.warn()
            };
            Row::new(keep_cols(
                vec![
                    Cell::from(Span::styled(mark, t.key())),
                    Cell::from(e.kind.label()),
                    Cell::from(fmt::fit(&e.profile, 10)),
                    Cell::from(e.started_at.format(date_format).to_string()),
                    Cell::from(format!("{} {}", e.count, e.kind.unit())),
                    Cell::from(num(e.p50_ms)),
                    Cell::from(num(e.p99_ms)),
                    Cell::from(
                        e.throughput
                            .map_or_else(|| "-".into(), |v| format!("{v:.1}")),
                    ),
                    Cell::from(Span::styled(e.outcome.clone(), outcome_style)),
                    Cell::from(Span::styled(fmt::fit(&name, dir_room), t.dim())),
                ],
                keep,
            ))
            .style(style)
        });
    let widths = vec![
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Length(10),
        Constraint::Length(date_w),
        Constraint::Length(12),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    let widths = keep_cols(widths, keep);
    let header = Row::new(keep_cols(
        vec![
            "",
            "kind",
            "profile",
            "date (UTC)",
            "n",
            "p50 ms",
            "p99 ms",
            "inv/s",
            "outcome",
            "directory",
        ],
        keep,
    ))
    .style(t.header());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(block),
        area,
    );
}

fn keep_cols<T>(v: Vec<T>, keep: impl Fn(usize) -> bool) -> Vec<T> {
    v.into_iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, c)| c)
        .collect()
}

fn change_style(t: Theme, c: Change) -> Style {
    match c {
        Change::Faster => t.ok(),
        Change::Slower => t.error(),
        Change::NoSignificantDifference => Style::new(),
        Change::Unknown => t.dim(),
    }
}

fn table(t: Theme, rows: &[CmpRow], title: &'static str, wide: bool) -> Table<'static> {
    let num = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.1}"));
    let body = rows.iter().map(|r| {
        let mut cells = vec![
            Cell::from(Span::styled(r.name.clone(), t.label())),
            Cell::from(num(r.a.map(|s| s.mean))),
        ];
        if wide {
            cells.push(Cell::from(num(r.a.and_then(|s| s.p50))));
            cells.push(Cell::from(num(r.a.and_then(|s| s.p99))));
        }
        cells.push(Cell::from(num(r.b.map(|s| s.mean))));
        if wide {
            cells.push(Cell::from(num(r.b.and_then(|s| s.p50))));
            cells.push(Cell::from(num(r.b.and_then(|s| s.p99))));
        }
        cells.push(Cell::from(
            r.ratio.map_or_else(|| "-".into(), |v| format!("{v:.2}")),
        ));
        cells.push(Cell::from(r.ratio_ci.map_or_else(
            || "-".into(),
            |i| format!("{:.2}–{:.2}", i.lo, i.hi),
        )));
        cells.push(Cell::from(Span::styled(
            r.change.label(),
            change_style(t, r.change),
        )));
        Row::new(cells)
    });
    let mut header = vec![title, "A mean"];
    let mut widths = vec![Constraint::Length(7), Constraint::Length(8)];
    if wide {
        header.extend(["A p50", "A p99"]);
        widths.extend([Constraint::Length(8), Constraint::Length(8)]);
    }
    header.push("B mean");
    widths.push(Constraint::Length(8));
    if wide {
        header.extend(["B p50", "B p99"]);
        widths.extend([Constraint::Length(8), Constraint::Length(8)]);
    }
    header.extend(["B/A", "95% CI", "verdict"]);
    widths.extend([
        Constraint::Length(5),
        Constraint::Length(11),
        Constraint::Fill(1),
    ]);
    Table::new(body, widths)
        .header(Row::new(header).style(t.header()))
        .column_spacing(1)
}

/// Two runs side by side.
pub fn render_compare(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let block = pane(t, " Compare: B against A ");
    let Some(c) = &app.compare else {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "nothing compared yet: in the Results view (v), mark two runs with Space",
                t.dim(),
            ))
            .wrap(Wrap { trim: true })
            .block(block),
            area,
        );
        return;
    };
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let wide = inner.width >= 110;
    // Mismatches go first, in the warning colour, one row each (cut with … if they must).
    let [warn, inner] = inner.layout(&Layout::vertical([
        Constraint::Length(c.warnings.len() as u16),
        Constraint::Fill(1),
    ]));
    let warnings: Vec<Line> = c
        .warnings
        .iter()
        .map(|w| Line::from(Span::styled(format!("! {w}"), t.warn())))
        .collect();
    frame.render_widget(Paragraph::new(fmt::fit_lines(warnings, warn.width)), warn);
    let [head, phases, gap, commands, method] = inner.layout(&Layout::vertical([
        Constraint::Length(2),
        Constraint::Length(c.phases.len() as u16 + 1),
        Constraint::Length(1),
        Constraint::Length(c.commands.len() as u16 + 1),
        Constraint::Fill(1),
    ]));
    let _ = gap;
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![Span::styled("A ", t.key()), Span::raw(c.a.clone())]),
            Line::from(vec![Span::styled("B ", t.key()), Span::raw(c.b.clone())]),
        ]),
        head,
    );
    frame.render_widget(table(t, &c.phases, "ms", wide), phases);
    frame.render_widget(table(t, &c.commands, "µs", wide), commands);
    frame.render_widget(
        Paragraph::new(Span::styled(
            format!("B/A with a {:.0}% interval; {}", c.level * 100.0, c.method),
            t.dim(),
        ))
        .wrap(Wrap { trim: true }),
        method,
    );
}
