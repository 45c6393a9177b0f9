//! From 160 columns the Run view adds two charts: latency over the recent invocations per phase
//! (a ratatui `Chart` with axes) and a per-command latency histogram from the merged HDR buckets
//! (a grouped `BarChart`: SET, GET, DEL per latency bin).

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Color, Style};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Bar, BarChart, BarGroup, Chart, Dataset, GraphType, LegendPosition, Paragraph,
};

use super::fmt::{self, pane};
use crate::stats::{PhaseName, RECENT};
use crate::tui::app::App;
use crate::tui::state::SHOWN_PHASES;

/// Histogram bins, µs (the last is open-ended).
pub const BIN_EDGES: [u64; 8] = [0, 20, 50, 100, 200, 500, 1000, 5000];

const PHASE_COLOURS: [Color; 4] = [Color::Yellow, Color::Cyan, Color::Magenta, Color::Green];
const COMMAND_COLOURS: [Color; 3] = [Color::Yellow, Color::Cyan, Color::Magenta];
/// Markers that tell the lines apart without colour, and how the legend draws each.
const NO_COLOR_MARKERS: [(Marker, char); 4] = [
    (Marker::Dot, '•'),
    (Marker::Block, '█'),
    (Marker::Bar, '▄'),
    (Marker::Braille, '⣿'),
];
/// The bar under each command's bar: S, G, D (the letters survive NO_COLOR).
const COMMAND_LETTERS: [&str; 3] = ["S", "G", "D"];

fn bin_label(i: usize) -> String {
    let us = |v: u64| {
        if v >= 1000 {
            format!("{}ms", v / 1000)
        } else {
            format!("{v}")
        }
    };
    match BIN_EDGES.get(i + 1) {
        Some(hi) => format!("<{}", us(*hi)),
        None => format!("≥{}", us(BIN_EDGES[i])),
    }
}

/// A count in at most four columns: `7`, `163`, `12k`, `3M`.
fn short_count(n: u64) -> String {
    match n {
        0 => String::new(),
        1..1000 => n.to_string(),
        1000..1_000_000 => format!("{}k", n / 1000),
        _ => format!("{}M", n / 1_000_000),
    }
}

/// One line of a chart: (x, y) points.
type Points = Vec<(f64, f64)>;

/// Latency per phase over the last invocations, with axes.
pub fn render_latency_chart(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let block = pane(
        t,
        &format!(" Latency over the last ≤{RECENT} invocations, ms "),
    );
    let Some(run) = &app.run else {
        frame.render_widget(
            Paragraph::new(Span::styled("the chart appears once a run starts", t.dim()))
                .block(block),
            area,
        );
        return;
    };
    let points = |s: &crate::stats::Series| -> Points {
        s.iter().enumerate().map(|(i, v)| (i as f64, v)).collect()
    };
    // An open loop: the invocation's latency from its intended start (corrected) and from its
    // send (uncorrected); a closed loop: the phases.
    let (names, series): (Vec<&str>, Vec<Points>) = match &run.stats.open {
        Some(o) => (
            vec!["corrected", "uncorrected"],
            vec![points(&o.recent_corrected), points(&o.recent_uncorrected)],
        ),
        None => (
            SHOWN_PHASES.iter().map(|p| p.as_str()).collect(),
            SHOWN_PHASES
                .iter()
                .map(|p| points(run.stats.recent(*p)))
                .collect(),
        ),
    };
    let n = series.iter().map(Vec::len).max().unwrap_or(0);
    let max = series
        .iter()
        .flatten()
        .map(|(_, v)| *v)
        .fold(0.0_f64, f64::max)
        .max(0.001);
    // Without colour each line has its own marker, and the legend shows it by its name.
    let datasets: Vec<Dataset> = names
        .iter()
        .zip(&series)
        .enumerate()
        .map(|(i, (name, data))| {
            let (style, marker, name) = if t.has_color() {
                let colour = PHASE_COLOURS[i % PHASE_COLOURS.len()];
                (
                    Style::default().fg(colour),
                    Marker::Braille,
                    (*name).to_string(),
                )
            } else {
                let (marker, glyph) = NO_COLOR_MARKERS[i % NO_COLOR_MARKERS.len()];
                (Style::default(), marker, format!("{glyph} {name}"))
            };
            Dataset::default()
                .name(name)
                .marker(marker)
                .graph_type(GraphType::Line)
                .style(style)
                .data(data)
        })
        .collect();
    let x_max = (n.max(2) - 1) as f64;
    let chart = Chart::new(datasets)
        .block(block)
        .legend_position(Some(LegendPosition::TopLeft))
        // Always show the legend: the default hides it when it takes over a quarter.
        .hidden_legend_constraints((Constraint::Percentage(100), Constraint::Percentage(100)))
        .x_axis(
            Axis::default()
                .title("invocation (newest right)")
                .style(t.dim())
                .bounds([0.0, x_max])
                .labels(["0".to_string(), format!("{}", n.saturating_sub(1))]),
        )
        .y_axis(
            Axis::default()
                .title("ms")
                .style(t.dim())
                .bounds([0.0, max])
                .labels(["0".to_string(), fmt::ms(max / 2.0), fmt::ms(max)]),
        );
    frame.render_widget(chart, area);
}

/// SET / GET / DEL counts per latency bin (µs), from the merged HDR buckets.
pub fn render_command_histogram(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let block = pane(
        t,
        " Per-command latency, µs · height: log₁₀ count per bin · S SET  G GET  D DEL ",
    );
    let Some(run) = &app.run else {
        frame.render_widget(
            Paragraph::new(Span::styled(
                "the histogram appears once invocations complete",
                t.dim(),
            ))
            .block(block),
            area,
        );
        return;
    };
    let commands = [PhaseName::Write, PhaseName::Read, PhaseName::Delete];
    let bins: Vec<Vec<u64>> = commands
        .iter()
        .map(|c| run.stats.command_bins(*c, &BIN_EDGES))
        .collect();
    // A log scale, so a tail bin of a few slow commands shows next to thousands of fast ones;
    // the count itself is printed on the bar.
    let log = |n: u64| ((n as f64 + 1.0).log10() * 100.0).round() as u64;
    let groups: Vec<BarGroup> = (0..BIN_EDGES.len())
        .map(|b| {
            let bars: Vec<Bar> = bins
                .iter()
                .enumerate()
                .map(|(c, counts)| {
                    let style = if t.has_color() {
                        Style::default().fg(COMMAND_COLOURS[c])
                    } else {
                        Style::default()
                    };
                    Bar::default()
                        .value(log(counts[b]))
                        .text_value(short_count(counts[b]))
                        .label(Line::from(COMMAND_LETTERS[c]))
                        .style(style)
                })
                .collect();
            BarGroup::default()
                .label(Line::from(bin_label(b)))
                .bars(&bars)
        })
        .collect();
    let max = log(bins.iter().flatten().copied().max().unwrap_or(1)).max(1);
    let mut chart = BarChart::default()
        .max(max)
        .bar_width(3)
        .bar_gap(0)
        .group_gap(1);
    for g in groups {
        chart = chart.data(g);
    }
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [axis, bars] =
        ratatui::layout::Layout::horizontal([Constraint::Length(AXIS_WIDTH), Constraint::Min(0)])
            .areas(inner);
    frame.render_widget(chart, bars);
    // The bar labels and the bin labels take the two bottom rows; the bars the rest.
    let height = inner.height.saturating_sub(2);
    for (row, text) in y_axis(height, max, log) {
        frame.render_widget(
            Paragraph::new(Span::styled(text, t.dim())),
            Rect {
                y: axis.y + row,
                height: 1,
                ..axis
            },
        );
    }
}

/// Columns of the histogram's y-axis: a count, then `┤`.
const AXIS_WIDTH: u16 = 5;

/// The y-axis of a log-scaled bar chart `height` rows tall whose top is `max`: for each
/// power of ten whose bar fits, the row (from the top) where a bar of exactly that count
/// ends, as ratatui's `BarChart` scales it (in eighths of a row), labelled `  10┤`; the rows
/// between get `│`.
fn y_axis(height: u16, max: u64, log: impl Fn(u64) -> u64) -> Vec<(u16, String)> {
    let mut rows: Vec<(u16, String)> = (0..height).map(|r| (r, format!("{:>4}│", ""))).collect();
    let mut count = 1u64;
    while log(count) <= max && height > 0 {
        let eighths = log(count) * u64::from(height) * 8 / max;
        let filled = eighths.div_ceil(8).clamp(1, u64::from(height));
        let row = height - filled as u16;
        rows[usize::from(row)].1 = format!("{:>4}┤", short_count(count));
        count = match count.checked_mul(10) {
            Some(c) => c,
            None => break,
        };
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::buffer::Buffer;
    use ratatui::widgets::Widget;

    fn log(n: u64) -> u64 {
        ((n as f64 + 1.0).log10() * 100.0).round() as u64
    }

    /// Each tick sits on the row where ratatui draws the top of a bar of exactly that count.
    #[test]
    fn the_y_axis_ticks_sit_where_bars_of_those_counts_end() {
        let (height, max) = (10u16, log(1000));
        let axis = y_axis(height, max, log);
        let labelled: Vec<(u16, &str)> = axis
            .iter()
            .filter(|(_, t)| t.contains('┤'))
            .map(|(r, t)| (*r, t.trim()))
            .collect();
        assert_eq!(
            labelled,
            [(0, "1k┤"), (3, "100┤"), (6, "10┤"), (9, "1┤")],
            "{axis:?}"
        );
        for count in [1u64, 10, 100, 1000] {
            let chart = BarChart::default().max(max).bar_width(1).data(
                BarGroup::default()
                    .label(Line::from("x"))
                    .bars(&[Bar::default().value(log(count)).label(Line::from("S"))]),
            );
            let area = Rect::new(0, 0, 3, height + 2);
            let mut buf = Buffer::empty(area);
            chart.render(area, &mut buf);
            let top = (0..height).find(|&y| buf[(0, y)].symbol() != " ").unwrap();
            let tick = labelled
                .iter()
                .find(|(_, t)| *t == format!("{}┤", short_count(count)))
                .unwrap()
                .0;
            assert_eq!(top, tick, "count {count}");
        }
    }

    #[test]
    fn a_short_chart_keeps_one_label_per_row() {
        let axis = y_axis(2, log(1_000_000), log);
        assert_eq!(axis.len(), 2);
        assert!(y_axis(0, 5, log).is_empty());
    }
}
