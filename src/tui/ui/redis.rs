//! The Redis pane: backend, image, state, endpoint, uptime, keys, memory, persistence, last
//! save, and the last cold start broken into create / start / ready.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::{fmt, pane};
use crate::redis_host::RedisState;
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
    let cold = match &r.cold_start {
        Some(c) => {
            let (create, start, ready) = (
                fmt::ms(c.create_ms),
                fmt::ms(c.start_ms),
                fmt::ms(c.ready_ms),
            );
            let restore = c
                .restore
                .as_ref()
                .map(|r| format!("restore {} · ", fmt::ms(r.total_ms)))
                .unwrap_or_default();
            let full = format!(
                "{restore}create {create} · start {start} · ready {ready} = {} ms",
                fmt::ms(c.total_ms)
            );
            // 9 columns of label plus the borders; narrow panes get the initials.
            if full.chars().count() + 11 <= usize::from(area.width) {
                Span::raw(full)
            } else {
                Span::raw(format!("c {create} · s {start} · r {ready} ms"))
            }
        }
        None => Span::styled("none yet", t.dim()),
    };

    let mut lines = vec![
        Line::from(backend_spans),
        Line::from(state),
        Line::from(kv(app, "endpoint", endpoint)),
        Line::from(kv(
            app,
            "uptime",
            format!("{uptime}  keys {keys}  mem {mem}"),
        )),
        Line::from(kv(app, "persist", format!("{persistence}  saved {saved}"))),
        Line::from(kv(app, "cold", cold)),
    ];
    // Only profiles with snapshots get the line: the others keep their layout.
    if let Some(s) = &r.snapshot {
        let age = (app.now - s.created_at).num_seconds().max(0);
        let mut spans = kv(
            app,
            "snapshot",
            format!(
                "{}  {}  {} ago  up {} ms",
                s.id,
                fmt::bytes(s.bytes),
                fmt::uptime(u64::try_from(age).unwrap_or(0)),
                fmt::ms(s.upload_ms)
            ),
        );
        if r.snapshot_pending {
            spans.push(Span::styled("  upload pending", t.warn()));
        }
        lines.push(Line::from(spans));
    } else if r.snapshot_pending {
        lines.push(Line::from(kv(
            app,
            "snapshot",
            Span::styled("upload pending (data on local disk)", t.warn()),
        )));
    }
    let block = pane(t, " Redis ");
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
