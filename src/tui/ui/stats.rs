//! The stats pane: per phase n, mean, std, p50, p95, p99, max (ms), the paper's figure beside
//! ours, and (when wide enough) our mean as a multiple of the paper's.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use super::fmt::{self, pane};
use crate::tui::app::App;

/// Inner width from which the ratio column fits.
const WIDE: u16 = 90;
/// Inner width the full set of columns needs.
const NARROW: u16 = 72;

/// The stats pane.
pub fn render_stats(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let block = pane(t, " Stats per invocation, ms · paper: OpenWhisk + Redis ");
    let Some(run) = &app.run else {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "statistics appear once invocations complete",
                t.dim(),
            ))
            .block(block),
            area,
        );
        return;
    };
    let width = block.inner(area).width;
    let wide = width >= WIDE;
    // Under 72 columns std and p95 go, so the paper's figure stays whole.
    let keep = |i: usize| width >= NARROW || !matches!(i, 3 | 5);
    let mut header = vec![
        "phase",
        "n",
        "mean",
        "std",
        "p50",
        "p95",
        "p99",
        "max",
        "paper μ±σ",
    ];
    let mut widths = vec![
        Constraint::Length(6),
        Constraint::Length(5),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(12),
    ];
    if wide {
        header.push("ours/paper");
        widths.push(Constraint::Length(10));
    }
    let rows = run.table.iter().map(|r| {
        let s = &r.ours;
        let num = |v: f64| {
            if s.n == 0 {
                "-".to_string()
            } else {
                fmt::ms(v)
            }
        };
        let mut cells = vec![
            Cell::from(Span::styled(r.phase.as_str(), t.label())),
            Cell::from(s.n.to_string()),
            Cell::from(num(s.mean)),
            Cell::from(num(s.std)),
            Cell::from(num(s.p50)),
            Cell::from(num(s.p95)),
            Cell::from(num(s.p99)),
            Cell::from(num(s.max)),
            Cell::from(Span::styled(
                r.paper.map_or_else(
                    || "-".into(),
                    |p| format!("{}±{}", fmt::ms(p.mean), fmt::ms(p.std)),
                ),
                t.dim(),
            )),
        ];
        if wide {
            // The paper's DEL mean is below one round trip per command (README): a ratio
            // against it is marked, and the pane's bottom border says why.
            let mark = if r.phase == crate::stats::PhaseName::Delete {
                " †"
            } else {
                ""
            };
            let ratio = match r.paper {
                Some(p) if s.n > 0 && p.mean > 0.0 => format!("×{:.2}{mark}", s.mean / p.mean),
                _ => "-".into(),
            };
            cells.push(Cell::from(ratio));
        }
        Row::new(keep_cells(cells, keep))
    });
    let header = keep_cells(header, keep);
    let widths = keep_cells(widths, keep);
    let block = if wide {
        block.title_bottom(Span::styled(
            fmt::fit(
                " † the paper's DEL 9.76±2004.56 ms is below one round trip per command: see README ",
                usize::from(area.width.saturating_sub(2)),
            ),
            t.dim(),
        ))
    } else {
        block
    };
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(t.header()))
        .column_spacing(1)
        .block(block);
    frame.render_widget(table, area);
}

fn keep_cells<T>(v: Vec<T>, keep: impl Fn(usize) -> bool) -> Vec<T> {
    v.into_iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(_, c)| c)
        .collect()
}

/// The per-command percentile table (µs), merged from the HDR buckets of every invocation.
pub fn render_commands(app: &App, frame: &mut Frame, area: Rect) {
    use crate::stats::PhaseName;
    let t = app.theme;
    let block = pane(t, " Per command, µs (merged HDR) ");
    let Some(run) = &app.run else {
        frame.render_widget(
            Paragraph::new(Span::styled("appears once invocations complete", t.dim())).block(block),
            area,
        );
        return;
    };
    let rows = [
        ("SET", PhaseName::Write),
        ("GET", PhaseName::Read),
        ("DEL", PhaseName::Delete),
    ]
    .into_iter()
    .map(|(name, p)| {
        let c = run.stats.command(p).unwrap_or_default();
        let num = |v: f64| {
            if c.n == 0 {
                "-".to_string()
            } else {
                format!("{v:.0}")
            }
        };
        Row::new(vec![
            Cell::from(Span::styled(name, t.label())),
            Cell::from(c.n.to_string()),
            Cell::from(num(c.p50_us)),
            Cell::from(num(c.p95_us)),
            Cell::from(num(c.p99_us)),
            Cell::from(num(c.p999_us)),
            Cell::from(num(c.max_us)),
        ])
    });
    let widths = [
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(6),
        Constraint::Length(7),
        Constraint::Length(7),
    ];
    let header = Row::new(["cmd", "n", "p50", "p95", "p99", "p99.9", "max"]).style(t.header());
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(block),
        area,
    );
}
