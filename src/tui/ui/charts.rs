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

/// A count in at most three columns: `7`, `163`, `12k`, `3M`.
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
    let mut chart = BarChart::default()
        .block(block)
        .max(log(bins.iter().flatten().copied().max().unwrap_or(1)).max(1))
        .bar_width(3)
        .bar_gap(0)
        .group_gap(1);
    for g in groups {
        chart = chart.data(g);
    }
    frame.render_widget(chart, area);
}
