//! The Results view (runs under the results root, newest first) and the Compare view (two
//! runs side by side per phase and per command, with the ratio's interval and verdict).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, Wrap};

use super::fmt::pane;
use crate::compare::{Change, Row as CmpRow};
use crate::engine::library::Kind;
use crate::tui::app::App;
use crate::tui::theme::Theme;

/// The list of recorded runs.
pub fn render_results(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let r = &app.results;
    let block = pane(
        t,
        &format!(
            " Results in {} · Enter opens · Space marks two to compare ",
            app.results_root.display()
        ),
    );
    if r.entries.is_empty() {
        let msg = if r.loading {
            "reading the results directory…".to_string()
        } else {
            format!(
                "no runs under {} yet: press r or s to make one",
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
    let inner_h = block.inner(area).height.saturating_sub(1) as usize;
    // Keep the cursor on screen.
    let first = r.selected.saturating_sub(inner_h.saturating_sub(1));
    let rows = r
        .entries
        .iter()
        .enumerate()
        .skip(first)
        .take(inner_h.max(1))
        .map(|(i, e)| {
            let mark = match r.marked.iter().position(|&m| m == i) {
                Some(0) => "A",
                Some(_) => "B",
                None => " ",
            };
            let name = e
                .dir
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into());
            let style = if i == r.selected {
                t.selected()
            } else {
                Style::new()
            };
            let outcome_style = if e.outcome == "done" {
                t.ok()
            } else {
                t.warn()
            };
            Row::new(vec![
                Cell::from(Span::styled(mark, t.key())),
                Cell::from(match e.kind {
                    Kind::Run => "run",
                    Kind::Share => "share",
                }),
                Cell::from(e.profile.clone()),
                Cell::from(e.started_at.format("%Y-%m-%d %H:%M").to_string()),
                Cell::from(format!(
                    "{} {}",
                    e.count,
                    if e.kind == Kind::Run { "inv" } else { "cyc" }
                )),
                Cell::from(Span::styled(e.outcome.clone(), outcome_style)),
                Cell::from(Span::styled(name, t.dim())),
            ])
            .style(style)
        });
    let widths = [
        Constraint::Length(1),
        Constraint::Length(5),
        Constraint::Length(10),
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Fill(1),
    ];
    let header = Row::new([
        "",
        "kind",
        "profile",
        "date (UTC)",
        "n",
        "outcome",
        "directory",
    ])
    .style(t.header());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(block),
        area,
    );
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
