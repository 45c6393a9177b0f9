//! Drawing: a pure function of `&App`, one `render_*` per pane, a compact layout for 80×24 and
//! a roomier one from 120×36.

mod charts;
pub mod fmt;
mod gateway;
mod help;
mod latency;
mod log;
mod processes;
mod profiles;
mod redis;
mod results;
mod rtt_sweep;
mod run;
mod share;
mod stats;
pub(crate) mod sweep;

pub use charts::{render_command_histogram, render_latency_chart};
pub use gateway::render_gateway;
pub use help::{render_confirm_quit, render_help};
pub use latency::render_latency;
pub use log::render_log;
pub use processes::render_processes;
pub use profiles::{render_profiles, render_profiles_line};
pub use redis::render_redis;
pub use results::{render_compare, render_results};
pub use run::render_run;
pub use share::render_share;
pub use stats::{render_commands, render_stats};

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::action::Action;
use super::app::App;
use super::keys::{Mode, first_key};
use super::views::View;

/// Below this the console asks for a larger terminal instead of drawing garbage.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 20;

/// Draw the whole console.
pub fn render(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        frame.render_widget(
            Paragraph::new(format!(
                "redwhisk needs at least {MIN_WIDTH}×{MIN_HEIGHT}; this terminal is {}×{}. Enlarge it, or press q to quit.",
                area.width, area.height
            ))
            .wrap(Wrap { trim: true }),
            area,
        );
        return;
    }
    let wide = area.width >= 120 && area.height >= 36;
    let [alert, body, footer] = area.layout(&Layout::vertical([
        Constraint::Length(u16::from(app.alert.is_some())),
        Constraint::Fill(1),
        Constraint::Length(1),
    ]));
    render_alert(app, frame, alert);
    match (app.view, wide) {
        (View::Run, true) => render_wide(app, frame, body),
        (View::Run, false) => render_compact(app, frame, body),
        (View::Share, _) => render_share_view(app, frame, body, wide),
        (View::Sweep, _) => render_sweep_view(app, frame, body, wide),
        (View::Results, _) => render_list_view(app, frame, body, wide, render_results),
        (View::Compare, _) => render_list_view(app, frame, body, wide, render_compare),
    }
    render_footer(app, frame, footer);
    match app.mode {
        Mode::Help => render_help(app, frame, area),
        Mode::ConfirmQuit => render_confirm_quit(app, frame, area),
        Mode::Edit => help::render_editor(app, frame, area),
        Mode::Report => help::render_report(app, frame, body),
        Mode::Normal | Mode::Results => {}
    }
}

fn render_compact(app: &App, frame: &mut Frame, area: Rect) {
    let [top, hosts, stats, bottom] = area.layout(&Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Length(7),
        Constraint::Min(4),
    ]));
    render_profiles_line(app, frame, top);
    render_hosts(app, frame, hosts);
    render_stats(app, frame, stats);
    let [latency, log] = bottom.layout(&Layout::horizontal([Constraint::Fill(1); 2]));
    render_latency(app, frame, latency);
    render_log(app, frame, log);
}

/// From this width the Gateway pane sits between Redis and Run; below, it takes Redis's place.
const THREE_HOSTS: u16 = 120;

/// Redis and the run side by side; with a gateway serving, its pane too (or instead of Redis
/// on narrow screens: the gateway is what starts and stops that Redis).
fn render_hosts(app: &App, frame: &mut Frame, area: Rect) {
    if !app.gateway_active() {
        let [redis, run] = area.layout(&Layout::horizontal([Constraint::Fill(1); 2]));
        render_redis(app, frame, redis);
        render_run(app, frame, run);
    } else if area.width >= THREE_HOSTS {
        let [redis, gateway, run] = area.layout(&Layout::horizontal([Constraint::Fill(1); 3]));
        render_redis(app, frame, redis);
        render_gateway(app, frame, gateway);
        render_run(app, frame, run);
    } else {
        let [gateway, run] = area.layout(&Layout::horizontal([Constraint::Fill(1); 2]));
        render_gateway(app, frame, gateway);
        render_run(app, frame, run);
    }
}

/// Case study 2: the hosts on top, the matrix, the log below.
fn render_share_view(app: &App, frame: &mut Frame, area: Rect, wide: bool) {
    let rows = app.share.as_ref().map_or(1, |s| s.rows.len().max(1)) as u16;
    render_table_view(app, frame, area, wide, rows + 3, render_share);
}

/// The sweep: the steps table under Redis and the current step's run.
fn render_sweep_view(app: &App, frame: &mut Frame, area: Rect, wide: bool) {
    let rows = app.sweep.as_ref().map_or(1, |s| s.planned.len().max(1)) as u16;
    render_table_view(app, frame, area, wide, rows + 4, sweep::render_sweep);
}

/// Share and Sweep: profiles, Redis and the run, a table `height` rows high, the log.
fn render_table_view(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    wide: bool,
    height: u16,
    render: fn(&App, &mut Frame, Rect),
) {
    let [top, hosts, table, log] = area.layout(&Layout::vertical([
        Constraint::Length(if wide { 4 } else { 1 }),
        Constraint::Length(8),
        Constraint::Length(height),
        Constraint::Min(3),
    ]));
    if wide {
        render_profiles(app, frame, top);
    } else {
        render_profiles_line(app, frame, top);
    }
    render_hosts(app, frame, hosts);
    render(app, frame, table);
    render_log(app, frame, log);
}

/// Results and Compare: the header, the view, the log below.
fn render_list_view(
    app: &App,
    frame: &mut Frame,
    area: Rect,
    wide: bool,
    render: fn(&App, &mut Frame, Rect),
) {
    let [top, main, log] = area.layout(&Layout::vertical([
        Constraint::Length(if wide { 4 } else { 1 }),
        Constraint::Fill(1),
        Constraint::Length(if wide { 8 } else { 3 }),
    ]));
    if wide {
        render_profiles(app, frame, top);
    } else {
        render_profiles_line(app, frame, top);
    }
    render(app, frame, main);
    render_log(app, frame, log);
}

/// From this width (and enough rows) the Run view adds the latency chart and the per-command
/// histogram.
const CHARTS: u16 = 160;
const CHART_HEIGHT: u16 = 14;

/// From this width the latency and stats panes fit side by side.
const SIDE_BY_SIDE: u16 = 170;

fn render_wide(app: &App, frame: &mut Frame, area: Rect) {
    let [top, hosts, rest] = area.layout(&Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(8),
        Constraint::Fill(1),
    ]));
    render_profiles(app, frame, top);
    render_hosts(app, frame, hosts);
    if area.width >= CHARTS && rest.height >= 10 + CHART_HEIGHT + 6 {
        // Room for the charts too: figures, charts, then the log.
        let [figures, charts, log] = rest.layout(&Layout::vertical([
            Constraint::Length(10),
            Constraint::Length(CHART_HEIGHT),
            Constraint::Min(4),
        ]));
        if area.width >= SIDE_BY_SIDE {
            let [latency, stats, commands] = figures.layout(&Layout::horizontal([
                Constraint::Fill(1),
                Constraint::Length(96),
                Constraint::Length(56),
            ]));
            render_latency(app, frame, latency);
            render_stats(app, frame, stats);
            render_commands(app, frame, commands);
        } else {
            let [latency, stats] = figures.layout(&Layout::horizontal([
                Constraint::Fill(1),
                Constraint::Length(96),
            ]));
            render_latency(app, frame, latency);
            render_stats(app, frame, stats);
        }
        // The histogram: its y-axis, then 8 bins of 3 bars of 3 columns and a gap.
        let [chart, histogram] = charts.layout(&Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(89),
        ]));
        render_latency_chart(app, frame, chart);
        render_command_histogram(app, frame, histogram);
        render_log_and_processes(app, frame, log);
    } else if area.width >= SIDE_BY_SIDE {
        let [figures, log] = rest.layout(&Layout::vertical([
            Constraint::Length(10),
            Constraint::Min(4),
        ]));
        let [latency, stats, commands] = figures.layout(&Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(96),
            Constraint::Length(56),
        ]));
        render_latency(app, frame, latency);
        render_stats(app, frame, stats);
        render_commands(app, frame, commands);
        render_log_and_processes(app, frame, log);
    } else {
        let [stats, bottom] = rest.layout(&Layout::vertical([
            Constraint::Length(7),
            Constraint::Min(4),
        ]));
        render_stats(app, frame, stats);
        let [latency, log] = bottom.layout(&Layout::horizontal([Constraint::Fill(1); 2]));
        render_latency(app, frame, latency);
        render_log_and_processes(app, frame, log);
    }
}

/// The log, and beside it the process pane when the row is wide enough for both.
fn render_log_and_processes(app: &App, frame: &mut Frame, area: Rect) {
    const PROCESSES: u16 = 56;
    if area.width >= PROCESSES + 40 {
        let [log, procs] = area.layout(&Layout::horizontal([
            Constraint::Fill(1),
            Constraint::Length(PROCESSES),
        ]));
        render_log(app, frame, log);
        render_processes(app, frame, procs);
    } else if area.width >= PROCESSES && area.height >= 12 {
        let [log, procs] = area.layout(&Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(7),
        ]));
        render_log(app, frame, log);
        render_processes(app, frame, procs);
    } else {
        render_log(app, frame, area);
    }
}

/// The newest error, on a row of its own above everything until Esc acknowledges it: the log
/// may have scrolled it away, or the view may have no log at all.
fn render_alert(app: &App, frame: &mut Frame, area: Rect) {
    let Some(alert) = &app.alert else { return };
    let t = app.theme;
    let tail = " · Esc dismisses ";
    let room = usize::from(area.width).saturating_sub(tail.chars().count() + 3);
    let message: String = alert
        .message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = Line::from(vec![
        Span::styled(format!(" ! {}", fmt::fit(&message, room)), t.alert()),
        Span::styled(tail, t.alert()),
    ]);
    frame.render_widget(Paragraph::new(line).style(t.alert()), area);
}

/// The hints the footer offers in `view`, most useful first; help and quit always end it.
pub fn footer_hints(view: View) -> &'static [(Mode, Action, &'static str)] {
    use Action as A;
    use Mode::{Normal as N, Results as R};
    match view {
        View::Run => &[
            (N, A::Run, "run"),
            (N, A::Cancel, "cancel"),
            (N, A::CycleLoop, "loop"),
            (N, A::RedisUp, "up"),
            (N, A::RedisDown, "down"),
            (N, A::Export, "zip"),
            (N, A::ToggleGateway, "gw"),
            (N, A::Sweep, "sweep"),
            (N, A::Share, "share"),
            (N, A::EditWorkload, "edit"),
            (N, A::NextView, "view"),
        ],
        View::Share => &[
            (N, A::Share, "share"),
            (N, A::Cancel, "cancel"),
            (N, A::Export, "zip"),
            (N, A::RedisUp, "up"),
            (N, A::RedisDown, "down"),
            (N, A::NextView, "view"),
        ],
        View::Sweep => &[
            (N, A::Sweep, "sweep"),
            (N, A::RttSweep, "rtt sweep"),
            (N, A::CycleLoop, "loop"),
            (N, A::Cancel, "cancel"),
            (N, A::NextView, "view"),
        ],
        View::Results => &[
            (R, A::OpenResult, "open"),
            (R, A::MarkResult, "mark 2→compare"),
            (R, A::SortResults, "sort"),
            (R, A::FilterResults, "filter"),
            (R, A::ResultsUp, "move"),
            (N, A::NextView, "view"),
        ],
        View::Compare => &[(N, A::PrevView, "results"), (N, A::NextView, "view")],
    }
}

/// The key hints of the current view, from the same table the handler uses: as many as fit,
/// then help and quit.
fn render_footer(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let line = if app.quitting {
        Line::from(Span::styled(
            " stopping the engine and Redis, then quitting…",
            t.warn(),
        ))
    } else {
        let hint = |mode: Mode, action: Action, word: &str| {
            // Only the first key of each action keeps the line short (↑/k → ↑).
            let key = first_key(mode, action);
            let key = if action == Action::ResultsUp {
                "↑↓".to_string()
            } else {
                key
            };
            vec![
                Span::styled(format!(" {key}"), t.key()),
                Span::styled(format!(" {word} "), t.label()),
            ]
        };
        let tail: Vec<Span> = [(Action::ToggleHelp, "help"), (Action::Quit, "quit")]
            .into_iter()
            .flat_map(|(a, w)| hint(Mode::Normal, a, w))
            .collect();
        let tail_w: usize = tail.iter().map(Span::width).sum();
        let mut spans = Vec::new();
        let mut used = 0;
        for &(mode, action, word) in footer_hints(app.view) {
            let h = hint(mode, action, word);
            let w: usize = h.iter().map(Span::width).sum();
            if used + w + tail_w > usize::from(area.width) {
                break;
            }
            used += w;
            spans.extend(h);
        }
        spans.extend(tail);
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), area);
}
