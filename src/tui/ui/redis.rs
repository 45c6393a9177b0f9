//! The Redis pane: backend, image, state, endpoint, uptime, keys, memory, persistence, last
//! save, and the last cold start broken into create / start / ready.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::fmt::{self, pane};
use crate::redis_host::{NodeStatus, RedisState};
use crate::tui::app::App;

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

fn kv<'a>(app: &App, key: &'static str, value: impl Into<Span<'a>>) -> Vec<Span<'a>> {
    vec![
        Span::styled(format!("{key:<9}"), app.theme.label()),
        value.into(),
    ]
}

/// The Redis pane.
pub fn render_redis(app: &App, frame: &mut Frame, area: Rect) {
    let t = app.theme;
    let r = &app.redis;
    let st = r.status.as_ref();
    let info = app.selected_profile().and_then(|p| p.info.as_ref().ok());
    let backend = st
        .map(|s| s.backend.clone())
        .or_else(|| info.map(|i| i.backend.clone()))
        .unwrap_or_else(|| "-".into());
    let image = st
        .and_then(|s| s.image.clone())
        .or_else(|| info.and_then(|i| i.image.clone()));
    let mut backend_spans = kv(app, "backend", backend);
    if let Some(image) = image {
        backend_spans.push(Span::styled(format!("  {image}"), t.dim()));
    }

    let mut state = kv(app, "state", "");
    if matches!(r.state, RedisState::Starting | RedisState::Stopping) {
        // Two frames per glyph: a 20 fps console turns the spinner at 10 Hz.
        let glyph = SPINNER[(app.frame / 2) as usize % SPINNER.len()];
        state.push(Span::styled(format!("{glyph} "), t.warn()));
    }
    state.push(Span::styled(r.state.label(), t.redis_state(r.state)));
    if let Some(pull) = &r.pull {
        state.push(Span::styled(format!("  {pull}"), t.dim()));
    }

    let endpoint = st
        .and_then(|s| s.endpoint.clone())
        .unwrap_or_else(|| "-".into());
    let dash = || "-".to_string();
    let uptime = st.and_then(|s| s.uptime_s).map_or_else(dash, fmt::uptime);
    let keys = st.and_then(|s| s.keys).map_or_else(dash, |k| k.to_string());
    let mem = st.and_then(|s| s.used_memory).map_or_else(dash, fmt::bytes);
    let persistence = st
        .map(|s| s.persistence.clone())
        .or_else(|| info.map(|i| i.persistence.clone()))
        .unwrap_or_else(dash);
    let saved = st
        .and_then(|s| s.last_save)
        .map_or_else(dash, |at| at.format("%H:%M:%S").to_string());
    // A recorded run opened from Results shows its own cold start, marked as such.
    let recorded = app.run.as_ref().and_then(|run| run.recorded_cold.as_ref());
    let cold = match recorded.or(r.cold_start.as_ref()) {
        Some(c) => {
            let parts = cold_parts(c);
            let mark = if recorded.is_some() {
                " (recorded)"
            } else {
                ""
            };
            let join = |short: bool| {
                let steps: Vec<String> = parts
                    .iter()
                    .map(|(name, v)| match short {
                        true => format!("{}{}", &name[..1], fmt::ms(*v)),
                        false => format!("{name} {}", fmt::ms(*v)),
                    })
                    .collect();
                match short {
                    true => format!("{} ={}ms{mark}", steps.join(" "), fmt::ms(c.total_ms)),
                    false => format!("{} = {} ms{mark}", steps.join(" · "), fmt::ms(c.total_ms)),
                }
            };
            // 9 columns of label plus the borders; narrow panes get the initials, then `…`.
            let room = usize::from(area.width).saturating_sub(11);
            let full = join(false);
            if full.width() <= room {
                Span::raw(full)
            } else {
                Span::raw(fmt::fit(&join(true), room))
            }
        }
        None => Span::styled("none yet", t.dim()),
    };

    let lines = [
        Line::from(backend_spans),
        Line::from(state),
        Line::from(kv(app, "endpoint", endpoint)),
        match st.and_then(|s| s.nodes.as_ref()) {
            Some(nodes) => Line::from(nodes_line(app, nodes, &keys)),
            None => Line::from(kv(
                app,
                "uptime",
                format!("{uptime}  keys {keys}  mem {mem}"),
            )),
        },
        Line::from(persist_line(app, &persistence, &saved, area.width)),
        Line::from(kv(app, "cold", cold)),
    ];
    let block = pane(t, " Redis ");
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // From 90 columns a second column beside the four short rows: the process or container,
    // the version, the data directory, and why it failed when it did. The persistence and
    // cold-start rows keep the whole width.
    // (A cluster's node row is long too: it keeps the whole width.)
    let n_short: u16 = if st.and_then(|s| s.nodes.as_ref()).is_some() {
        3
    } else {
        4
    };
    let [top, bottom] = inner.layout(&ratatui::layout::Layout::vertical([
        ratatui::layout::Constraint::Length(n_short),
        ratatui::layout::Constraint::Fill(1),
    ]));
    let (left, right) = fmt::split_wide(top);
    let (short, long) = match right {
        Some(_) => lines.split_at(usize::from(n_short).min(lines.len())),
        None => (&lines[..], &[][..]),
    };
    let whole = if right.is_some() { left } else { inner };
    frame.render_widget(
        Paragraph::new(fmt::fit_lines(short.to_vec(), whole.width)),
        whole,
    );
    if right.is_some() {
        frame.render_widget(
            Paragraph::new(fmt::fit_lines(long.to_vec(), bottom.width)),
            bottom,
        );
    }
    if let Some(right) = right {
        let dash = || "-".to_string();
        let who = match st.and_then(|s| s.container.clone()) {
            Some(c) => kv(app, "container", c.chars().take(12).collect::<String>()),
            None => kv(
                app,
                "pid",
                st.and_then(|s| s.pid).map_or_else(dash, |p| p.to_string()),
            ),
        };
        let mut more = vec![
            Line::from(who),
            Line::from(kv(
                app,
                "version",
                st.and_then(|s| s.redis_version.clone())
                    .unwrap_or_else(dash),
            )),
            Line::from(kv(
                app,
                "data",
                Span::styled(
                    st.and_then(|s| s.data_dir.clone()).unwrap_or_else(dash),
                    t.dim(),
                ),
            )),
        ];
        if let Some(problem) = st.and_then(|s| s.problem.clone()) {
            more.push(Line::from(kv(
                app,
                "problem",
                Span::styled(problem, t.error()),
            )));
        }
        frame.render_widget(Paragraph::new(fmt::fit_lines(more, right.width)), right);
    }
}

/// The steps of a cold start that add up to its total: the snapshot restore and the image
/// when there were any, create, start, ready, and `other` for the time between them (the
/// state file, the identity checks, a cluster forming, the network path measured).
pub(crate) fn cold_parts(c: &crate::redis_host::ColdStart) -> Vec<(&'static str, f64)> {
    let mut parts = Vec::new();
    if let Some(r) = &c.restore {
        parts.push(("restore", r.total_ms));
    }
    if c.image_ms > 0.0 {
        parts.push(("image", c.image_ms));
    }
    parts.extend([
        ("create", c.create_ms),
        ("start", c.start_ms),
        ("ready", c.ready_ms),
    ]);
    let known: f64 = parts.iter().map(|(_, v)| v).sum();
    let other = c.total_ms - known;
    // Below what one decimal shows, the parts already add up.
    if other >= 0.05 {
        parts.push(("other", other));
    }
    parts
}

/// A cluster's nodes on one row: `M5461` a master and the slots it serves, `r` a replica, `x`
/// a node that is down, each coloured by its state; then the keys over all masters.
fn nodes_line<'a>(app: &App, nodes: &[NodeStatus], keys: &str) -> Vec<Span<'a>> {
    let t = app.theme;
    let mut spans = vec![Span::styled(format!("{:<9}", "nodes"), app.theme.label())];
    for n in nodes {
        let slots = n.slot_count();
        let (text, style) = match (n.role.as_str(), n.state.as_str()) {
            ("master", "ok") => (format!("M{slots}"), t.ok()),
            ("master", _) => (format!("M{slots}!"), t.warn()),
            ("replica", "ok") => ("r".to_string(), t.ok()),
            ("replica", _) => ("r!".to_string(), t.warn()),
            _ => ("x".to_string(), t.error()),
        };
        spans.push(Span::styled(text, style));
        spans.push(Span::raw(" "));
    }
    spans.push(Span::styled(format!(" keys {keys}"), t.dim()));
    spans
}

/// `persist rdb  saved 12:00:01`, then the last snapshot when the profile has `[snapshots]`
/// (id, size, age, upload time; the id shortened when the pane is narrow). The pane has no
/// spare row, so the snapshot shares this one.
fn persist_line<'a>(app: &App, persistence: &str, saved: &str, width: u16) -> Vec<Span<'a>> {
    let t = app.theme;
    let r = &app.redis;
    let mut spans = kv(app, "persist", format!("{persistence}  saved {saved}"));
    let room = usize::from(width).saturating_sub(11 + persistence.len() + saved.len() + 8);
    if let Some(s) = &r.snapshot {
        let age = u64::try_from((app.now - s.created_at).num_seconds().max(0)).unwrap_or(0);
        let (size, age, up) = (fmt::bytes(s.bytes), fmt::uptime(age), fmt::ms(s.upload_ms));
        let full = format!("  snap {} {size} {age} ago up {up} ms", s.id);
        let id = s.id.as_str();
        let short = format!("  snap …{} {size} {age}", &id[id.len().saturating_sub(4)..]);
        spans.push(Span::styled(
            if full.width() <= room { full } else { short },
            t.dim(),
        ));
    }
    if r.snapshot_pending {
        spans.push(Span::styled("  upload pending", t.warn()));
    }
    spans
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use crate::event::EngineEvent;
    use crate::snapshots::{SnapshotEvent, SnapshotId, SnapshotSummary};
    use crate::tui::demo::idle_app;
    use crate::tui::theme::Theme;

    fn screen(app: &crate::tui::app::App, w: u16) -> String {
        let mut t = Terminal::new(TestBackend::new(w, 8)).unwrap();
        t.draw(|f| super::render_redis(app, f, f.area())).unwrap();
        let buf = t.backend().buffer().clone();
        buf.content().iter().map(|c| c.symbol()).collect()
    }

    #[test]
    fn a_cluster_shows_its_nodes_roles_slots_and_states() {
        use crate::redis_host::{NodeStatus, RedisState};
        let mut app = idle_app(Theme::new(true));
        let node = |i: u16, role: &str, slots: &str, state: &str| NodeStatus {
            index: i,
            addr: format!("127.0.0.1:{}", 7000 + i),
            port: 7000 + i,
            role: role.into(),
            slots: slots.into(),
            master: None,
            keys: Some(1),
            state: state.into(),
        };
        let mut s = crate::tui::demo::status(RedisState::Running, 300);
        s.nodes = Some(vec![
            node(0, "down", "", "stopped"),
            node(1, "master", "5461-10921", "ok"),
            node(2, "master", "10922-16383", "ok"),
            node(3, "master", "0-5460", "ok"),
            node(4, "replica", "", "ok"),
            node(5, "replica", "", "fail"),
        ]);
        app.apply(EngineEvent::RedisStatus(s));
        let text = screen(&app, 70);
        assert!(
            text.contains("nodes    x M5461 M5462 M5461 r r!  keys 300"),
            "{text}"
        );
    }

    /// Issue 25 item 6: the parts shown add up to the total shown.
    #[test]
    fn the_cold_start_parts_add_up_to_the_total() {
        let mut app = idle_app(Theme::new(true));
        let mut c = crate::tui::demo::cold_start();
        c.create_ms = 0.0;
        c.start_ms = 1.7;
        c.ready_ms = 30.3;
        c.total_ms = 42.7;
        let parts = super::cold_parts(&c);
        let sum: f64 = parts.iter().map(|(_, v)| v).sum();
        assert!((sum - 42.7).abs() < 1e-9, "{parts:?}");
        assert_eq!(parts.last().unwrap().0, "other");
        app.apply(EngineEvent::ColdStart(c.clone()));
        let wide = screen(&app, 100);
        assert!(
            wide.contains("create 0.0 · start 1.7 · ready 30.3 · other 10.7 = 42.7 ms"),
            "{wide}"
        );
        let narrow = screen(&app, 40);
        assert!(narrow.contains("c0.0 s1.7 r30.3 o10.7 =42.7ms"), "{narrow}");
        // Exact parts: no `other`.
        c.total_ms = 32.0;
        assert!(!super::cold_parts(&c).iter().any(|(n, _)| *n == "other"));
    }

    #[test]
    fn shows_the_last_snapshot_and_a_pending_upload() {
        let mut app = idle_app(Theme::new(true));
        let id = SnapshotId::parse("20261203T091229207Z-c3f7").unwrap();
        app.apply(EngineEvent::Snapshot(SnapshotEvent::Uploaded(
            SnapshotSummary {
                id,
                created_at: app.now - chrono::Duration::seconds(125),
                bytes: 40_332,
                files: 3,
                keys: Some(100),
                upload_ms: 24.0,
            },
        )));
        let wide = screen(&app, 110);
        assert!(wide.contains("snap 20261203T091229207Z-c3f7"), "{wide}");
        assert!(wide.contains("ago up 24"), "{wide}");
        let narrow = screen(&app, 60);
        assert!(narrow.contains("snap …c3f7"), "{narrow}");
        app.apply(EngineEvent::Snapshot(SnapshotEvent::Pending {
            error: "x".into(),
        }));
        assert!(screen(&app, 110).contains("upload pending"));
    }
}
