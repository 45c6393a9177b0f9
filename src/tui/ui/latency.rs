//! The latency pane: one sparkline per phase over the last invocations, with the latest value
//! and the scale (the bar height is relative to the max shown on the right).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::fmt::{self, pane};
use crate::stats::RECENT;
use crate::tui::app::App;
use crate::tui::state::SHOWN_PHASES;

/// Width of the "latest / max" column.
const VALUE_WIDTH: u16 = 17;

/// The latency pane.
pub fn render_latency(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let block = pane(t, &format!(" Latency, ms (last ≤{RECENT}) "));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(run) = &app.run else {
        frame.render_widget(
            Paragraph::new(Span::styled("sparklines appear once a run starts", t.dim())),
            inner,
        );
        return;
    };
    // Equal whole rows per phase; any remainder stays blank at the bottom.
    let per = (inner.height / SHOWN_PHASES.len() as u16).clamp(1, 3);
    let rows = inner.layout_vec(&Layout::vertical(
        SHOWN_PHASES.map(|_| Constraint::Length(per)),
    ));
    for (phase, row) in SHOWN_PHASES.iter().zip(rows) {
        let [label, spark, value] = row.layout(&Layout::horizontal([
            Constraint::Length(7),
            Constraint::Fill(1),
            Constraint::Length(VALUE_WIDTH),
        ]));
        let series = run.stats.recent(*phase);
        // Bars are µs so sub-millisecond phases still show shape; the window is the pane width.
        let data: Vec<u64> = series
            .tail(usize::from(spark.width))
            .map(|v| (v * 1000.0).round() as u64)
            .collect();
        let max = data.iter().copied().max().unwrap_or(0);
        frame.render_widget(
            Paragraph::new(Span::styled(phase.as_str(), t.label())),
            label,
        );
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .max(max.max(1))
                .style(t.spark()),
            spark,
        );
        let text = match series.latest() {
            Some(v) => Line::from(vec![
                Span::raw(format!("{:>7}", fmt::ms(v))),
                Span::styled(format!(" ↑{:<8}", fmt::ms(max as f64 / 1000.0)), t.dim()),
            ]),
            None => Line::from(Span::styled("      -", t.dim())),
        };
        frame.render_widget(Paragraph::new(text), value);
    }
}
