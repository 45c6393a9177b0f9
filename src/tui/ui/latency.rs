//! The latency pane: one sparkline per phase over the last invocations, with the latest value
//! and the scale (the bar height is relative to the max shown on the right).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Sparkline};

use super::fmt;
use crate::tui::app::App;
use crate::tui::state::SHOWN_PHASES;

/// Width of the "latest / max" column.
const VALUE_WIDTH: u16 = 17;

/// The latency pane: a sparkline per phase over the whole run (downsampled: each bar is the
/// slowest of its invocations), the latest value and the run's max; then completions per
/// second over the run's seconds when there is a row for it.
pub fn render_latency(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    // Invocations per bar: those merged in the series times those merged to fit the width.
    let spark_width = usize::from(area.width.saturating_sub(2 + 7 + VALUE_WIDTH)).max(1);
    let per_bar = app.run.as_ref().map_or(1, |r| {
        let w = &r.whole[0];
        w.per.max(1) * w.bars.len().div_ceil(spark_width).max(1)
    });
    let title = match (per_bar > 1, area.width >= 60) {
        (true, true) => {
            format!(" Latency, ms · whole run, slowest of {per_bar} per bar · latest ↑run max ")
        }
        (false, true) => " Latency, ms · whole run · latest ↑run max ".to_string(),
        (_, false) => " Latency, ms · whole run ".to_string(),
    };
    let block = fmt::pane_fit(t, &title, area);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let Some(run) = &app.run else {
        frame.render_widget(
            Paragraph::new(Span::styled("sparklines appear once a run starts", t.dim())),
            inner,
        );
        return;
    };
    // The throughput row takes a row only when every phase keeps one.
    let with_rate = inner.height > SHOWN_PHASES.len() as u16;
    let series = SHOWN_PHASES.len() as u16 + u16::from(with_rate);
    // Equal whole rows per series; any remainder stays blank at the bottom.
    let per = (inner.height / series).clamp(1, 3);
    let rows = inner.layout_vec(&Layout::vertical(
        (0..series).map(|_| Constraint::Length(per)),
    ));
    for (i, row) in rows.iter().enumerate() {
        let [label, spark, value] = row.layout(&Layout::horizontal([
            Constraint::Length(7),
            Constraint::Fill(1),
            Constraint::Length(VALUE_WIDTH),
        ]));
        let (name, data, latest, max, unit): (&str, Vec<u64>, Option<f64>, f64, &str) =
            match SHOWN_PHASES.get(i) {
                Some(phase) => {
                    let whole = &run.whole[i];
                    // Bars are µs so sub-millisecond phases still show shape.
                    let data = whole
                        .fitted(usize::from(spark.width))
                        .into_iter()
                        .map(|v| (v * 1000.0).round() as u64)
                        .collect();
                    (
                        phase.as_str(),
                        data,
                        run.stats.recent(*phase).latest(),
                        whole.max,
                        "",
                    )
                }
                None => {
                    let secs = &run.throughput.per_second;
                    let w = usize::from(spark.width).max(1);
                    let step = secs.len().div_ceil(w).max(1);
                    // Each bar is the mean rate over its seconds.
                    let data: Vec<u64> = secs
                        .chunks(step)
                        .map(|c| c.iter().sum::<u64>() / c.len() as u64)
                        .collect();
                    let max = secs.iter().copied().max().unwrap_or(0) as f64;
                    // The last second is still filling: the latest is the one before.
                    let latest = secs.len().checked_sub(2).map(|i| secs[i] as f64);
                    ("inv/s", data, latest, max, "/s")
                }
            };
        let bar_max = data.iter().copied().max().unwrap_or(0);
        frame.render_widget(Paragraph::new(Span::styled(name, t.label())), label);
        frame.render_widget(
            Sparkline::default()
                .data(&data)
                .max(bar_max.max(1))
                .style(t.spark()),
            spark,
        );
        let shown_max = if unit.is_empty() {
            fmt::ms(max)
        } else {
            format!("{max:.0}")
        };
        let text = match latest {
            Some(v) => Line::from(vec![
                Span::raw(format!(
                    "{:>7}",
                    if unit.is_empty() {
                        fmt::ms(v)
                    } else {
                        format!("{v:.0}")
                    }
                )),
                Span::styled(format!(" ↑{shown_max:<8}"), t.dim()),
            ]),
            None => Line::from(Span::styled("      -", t.dim())),
        };
        frame.render_widget(Paragraph::new(text), value);
    }
}
