//! The App driven by keys and fake engine events; the state and the screen are both checked.

use std::path::PathBuf;
use std::time::Duration;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::{code, key, screen, text};
use crate::event::{EngineCommand, EngineEvent, Level, Phase};
use crate::tui::demo::{activation, epoch, idle_app, run_start_events, running_app};
use crate::tui::keys::Mode;
use crate::tui::theme::Theme;

fn profile(name: &str) -> String {
    name.to_string()
}

#[test]
fn switching_profiles_with_arrows_tab_and_digits() {
    let mut app = idle_app(Theme::new(false));
    assert_eq!(app.selected_name(), "local");
    let c = app.on_key(&code(KeyCode::Right));
    assert_eq!(
        c,
        Some(EngineCommand::RedisStatus {
            profile: profile("docker")
        })
    );
    assert_eq!(app.selected_name(), "docker");
    app.on_key(&code(KeyCode::Tab));
    assert_eq!(app.selected_name(), "broken");
    app.on_key(&code(KeyCode::Tab));
    assert_eq!(app.selected_name(), "local", "wraps around");
    app.on_key(&code(KeyCode::Left));
    assert_eq!(app.selected_name(), "broken", "wraps backwards");
    app.on_key(&key('2'));
    assert_eq!(app.selected_name(), "docker");
    assert!(app.on_key(&key('9')).is_none(), "no 9th profile");
    assert_eq!(app.selected_name(), "docker");

    let screen_text = text(&screen(&app, 200, 60));
    assert!(
        screen_text.contains("docker redis · aof-everysec · openwhisk platform"),
        "{screen_text}"
    );
    assert!(screen_text.contains("redis:7-alpine"), "{screen_text}");
}

#[test]
fn an_invalid_profile_is_not_run() {
    let mut app = idle_app(Theme::new(false));
    app.on_key(&key('3'));
    assert!(app.on_key(&key('r')).is_none());
    let last = app.log.lines.back().unwrap();
    assert_eq!(last.level, Level::Error);
    assert!(
        last.message.contains("unknown field `bakend`"),
        "{}",
        last.message
    );
}

#[test]
fn run_progress_and_finish() {
    let mut app = idle_app(Theme::new(false));
    let c = app.on_key(&key('r'));
    assert_eq!(
        c,
        Some(EngineCommand::Run {
            profile: profile("local")
        })
    );
    assert!(!app.run_active(), "active only once the engine says so");
    for ev in run_start_events(20) {
        app.apply(ev);
    }
    assert!(app.run_active());
    for i in 0..5 {
        app.apply(EngineEvent::Activation(Box::new(activation(i))));
    }
    app.tick(epoch() + chrono::Duration::seconds(2));
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("5/20"), "{s}");
    assert!(s.contains("invoking"), "{s}");
    assert!(s.contains("2.5 inv/s"), "5 in 2 s: {s}");
    assert!(s.contains("ETA 6.0s"), "15 left at 2.5/s: {s}");
    assert!(s.contains("cold 1  warm 4"), "{s}");
    assert!(s.contains("c0.0 s1.8 r15.2 =17.0ms"), "{s}");
    let wide = text(&screen(&app, 200, 60));
    assert!(
        wide.contains("create 0.0 · start 1.8 · ready 15.2 = 17.0 ms"),
        "{wide}"
    );

    // Pressing r again during a run is refused without bothering the engine.
    assert!(app.on_key(&key('r')).is_none());
    // So is switching profiles.
    assert!(app.on_key(&code(KeyCode::Right)).is_none());
    assert_eq!(app.selected_name(), "local");

    for i in 5..20 {
        app.apply(EngineEvent::Activation(Box::new(activation(i))));
    }
    app.apply(EngineEvent::RunFinished {
        outcome: Phase::Done,
        results_dir: Some(PathBuf::from("results/x")),
        elapsed: Duration::from_secs(8),
    });
    app.tick(epoch() + chrono::Duration::seconds(9));
    assert!(!app.run_active());
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("20/20"), "{s}");
    assert!(s.contains("done"), "{s}");
    assert!(s.contains("total  20"), "stats rows carry n: {s}");

    let c = app.on_key(&key('e'));
    assert_eq!(c, Some(EngineCommand::Export));
    let last = &app.log.lines.back().unwrap().message;
    assert!(last.contains("zipping results/x (run.json"), "{last}");
    app.apply(EngineEvent::Exported {
        path: PathBuf::from("results/x.zip"),
    });
    let last = &app.log.lines.back().unwrap().message;
    assert!(last.contains("as the zip results/x.zip"), "{last}");
}

#[test]
fn cancel_sends_cancel_and_shows_the_outcome() {
    let mut app = running_app(Theme::new(false), 20, 6, 3, false);
    let c = app.on_key(&key('x'));
    assert_eq!(c, Some(EngineCommand::Cancel));
    app.apply(EngineEvent::Phase(Phase::Cancelled));
    app.apply(EngineEvent::RunFinished {
        outcome: Phase::Cancelled,
        results_dir: Some(PathBuf::from("results/y")),
        elapsed: Duration::from_secs(3),
    });
    app.tick(app.now);
    assert!(!app.run_active());
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("cancelled"), "{s}");
    assert!(s.contains("6/20"), "{s}");
    assert!(app.on_key(&key('x')).is_none(), "nothing left to cancel");
}

#[test]
fn quit_asks_while_a_run_is_active() {
    let mut app = running_app(Theme::new(false), 20, 6, 3, false);
    assert!(app.on_key(&key('q')).is_none());
    assert_eq!(app.mode, Mode::ConfirmQuit);
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("Quit?"), "{s}");
    assert!(
        s.contains("y/q/Ctrl-C quit"),
        "hint comes from the key table: {s}"
    );
    // Keys of the normal mode do nothing under the question.
    assert!(app.on_key(&key('r')).is_none());
    app.on_key(&key('n'));
    assert_eq!(app.mode, Mode::Normal);
    assert!(!app.quitting);

    app.on_key(&key('q'));
    let c = app.on_key(&key('y'));
    assert_eq!(c, Some(EngineCommand::Shutdown));
    assert!(app.quitting);
    assert_eq!(app.mode, Mode::Normal);
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("stopping the engine and Redis"), "{s}");
    assert!(
        app.on_key(&key('r')).is_none(),
        "no commands after Shutdown"
    );
}

#[test]
fn quit_when_idle_needs_no_question() {
    let mut app = idle_app(Theme::new(false));
    let c = app.on_key(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(c, Some(EngineCommand::Shutdown));
    assert!(app.quitting);
}

#[test]
fn redis_keys_name_the_selected_profile() {
    let mut app = idle_app(Theme::new(false));
    app.on_key(&key('2'));
    assert_eq!(
        app.on_key(&key('u')),
        Some(EngineCommand::RedisUp {
            profile: profile("docker")
        })
    );
    assert_eq!(
        app.on_key(&key('d')),
        Some(EngineCommand::RedisDown {
            profile: profile("docker")
        })
    );
    assert_eq!(
        app.on_key(&key('s')),
        Some(EngineCommand::Share {
            profile: profile("docker")
        })
    );
}

#[test]
fn help_toggles_and_lists_the_key_table() {
    let mut app = idle_app(Theme::new(false));
    app.on_key(&key('?'));
    assert_eq!(app.mode, Mode::Help);
    let s = text(&screen(&app, 200, 60));
    // The editor's and the report's own keys are listed in them (see
    // `the_workload_editor_…` and `a_report_overlay_…`).
    for b in crate::tui::keys::KEYS
        .iter()
        .filter(|b| !matches!(b.mode, Mode::Edit | Mode::Report))
    {
        assert!(s.contains(b.help), "help lacks {:?}: {s}", b.help);
    }
    app.on_key(&code(KeyCode::Esc));
    assert_eq!(app.mode, Mode::Normal);
}

#[test]
fn log_scrolls_and_clear_empties_it() {
    let mut app = idle_app(Theme::new(false));
    for i in 0..30 {
        app.apply(EngineEvent::Log {
            level: Level::Info,
            message: format!("line {i:02}"),
        });
    }
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("line 29") && !s.contains("line 20"), "{s}");
    app.on_key(&code(KeyCode::PageUp));
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("line 19") && !s.contains("line 29"), "{s}");
    assert!(s.contains("10 rows up"), "{s}");
    // New lines do not move a scrolled view.
    app.apply(EngineEvent::Log {
        level: Level::Warn,
        message: "line 30".into(),
    });
    assert!(text(&screen(&app, 80, 24)).contains("line 19"));
    app.on_key(&code(KeyCode::End));
    assert!(text(&screen(&app, 80, 24)).contains("line 30"));
    app.on_key(&key('c'));
    assert!(app.log.lines.is_empty());
}

#[test]
fn long_log_lines_wrap_instead_of_being_cut() {
    let mut app = idle_app(Theme::new(false));
    let long = "Redis did not start: redis-server exited before it answered PING; \
                see /tmp/redwhisk/local/redis.log for why (fix the profile, then press u)";
    app.apply(EngineEvent::Log {
        level: Level::Error,
        message: long.into(),
    });
    // Too tall for the log pane of an 80×24 screen: its end shows (that is where the fix and
    // the paths are), and ↑ reaches its start, one row at a time.
    let small = text(&screen(&app, 80, 24));
    assert!(small.contains("then press u)"), "{small}");
    assert!(!small.contains("04:30:00 Redis did not start:"), "{small}");
    for _ in 0..20 {
        app.on_key(&code(KeyCode::Up));
        screen(&app, 80, 24);
    }
    let top = text(&screen(&app, 80, 24));
    assert!(top.contains("04:30:00 Redis did not start:"), "{top}");
    assert!(top.contains("rows up"), "{top}");
    // ↓ as often brings the last row back; End too, at once.
    for _ in 0..20 {
        app.on_key(&code(KeyCode::Down));
        screen(&app, 80, 24);
    }
    assert!(text(&screen(&app, 80, 24)).contains("then press u)"));
    app.on_key(&code(KeyCode::Home));
    screen(&app, 80, 24);
    app.on_key(&code(KeyCode::End));
    assert!(text(&screen(&app, 80, 24)).contains("then press u)"));
    app.on_key(&code(KeyCode::Esc));
    let s = text(&screen(&app, 120, 40));
    // The log is the right half of the bottom panes: strip the stamp and the indent, rejoin.
    let joined = s
        .lines()
        .skip_while(|l| !l.contains("Log ("))
        .filter_map(|l| l.split('│').nth(3))
        .map(|cell| cell.get(9..).unwrap_or("").trim())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(joined.contains(long), "{joined}\n{s}");
}

/// An error flashes in a row of its own above the header until Esc acknowledges it, even once
/// newer lines have pushed it out of the log.
#[test]
fn errors_flash_in_the_header_until_acknowledged() {
    let mut app = idle_app(Theme::new(false));
    app.apply(EngineEvent::Log {
        level: Level::Error,
        message: "cannot use Redis at 127.0.0.1:1: connection refused".into(),
    });
    for i in 0..30 {
        app.apply(EngineEvent::Log {
            level: Level::Info,
            message: format!("line {i:02}"),
        });
    }
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let s = text(&screen(&app, w, h));
        let first = s.lines().next().unwrap();
        assert!(
            first.contains("! cannot use Redis at 127.0.0.1:1") && first.contains("Esc dismisses"),
            "{s}"
        );
    }
    // Too long for the row: cut with an ellipsis, never silently.
    app.apply(EngineEvent::Log {
        level: Level::Error,
        message: "x".repeat(200),
    });
    let s = text(&screen(&app, 80, 24));
    assert!(
        s.lines().next().unwrap().contains("x… · Esc dismisses"),
        "{s}"
    );
    app.on_key(&code(KeyCode::Esc));
    assert!(app.alert.is_none());
    let s = text(&screen(&app, 80, 24));
    assert!(!s.contains("Esc dismisses"), "{s}");
}

#[test]
fn a_failed_invocation_is_counted_and_shown() {
    let app = running_app(Theme::new(false), 20, 12, 6, true);
    let stats = &app.run.as_ref().unwrap().stats;
    assert_eq!(stats.completed, 12);
    assert_eq!(stats.failed, 1);
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("failed   1"), "{s}");
    assert!(s.contains("total  11"), "n counts the parsed results: {s}");
}

#[test]
fn a_failed_start_ends_the_run() {
    let mut app = idle_app(Theme::new(false));
    app.apply(run_start_events(20).remove(0));
    app.apply(EngineEvent::Log {
        level: Level::Error,
        message: "Redis did not start: no such file".into(),
    });
    app.apply(EngineEvent::RunFinished {
        outcome: Phase::Failed,
        results_dir: None,
        elapsed: Duration::from_millis(40),
    });
    assert!(!app.run_active());
    assert!(app.last_results.is_none());
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("failed"), "{s}");
    assert!(s.contains("Redis did not start"), "{s}");
}

#[test]
fn views_results_marks_and_open_go_through_the_engine() {
    use crate::engine::library::list;
    use crate::tui::views::View;
    let mut app = idle_app(Theme::new(true));
    assert_eq!(app.on_key(&key('v')), None, "Run → Share");
    assert_eq!(app.view, View::Share);
    assert_eq!(app.on_key(&key('v')), None, "Share → Sweep");
    assert_eq!(app.view, View::Sweep);
    // Reaching Results asks the engine for a listing: the UI reads no directory itself.
    assert!(matches!(
        app.on_key(&key('v')),
        Some(EngineCommand::ListResults)
    ));
    assert_eq!(app.view, View::Results);
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console");
    app.apply(EngineEvent::ResultsListed(list(&root)));
    let runs: Vec<_> = app
        .results
        .entries
        .iter()
        .map(|e| e.kind == crate::engine::library::Kind::Run)
        .collect();
    // Enter opens the selected entry.
    let first = app.results.entries[0].dir.clone();
    assert!(matches!(
        app.on_key(&code(KeyCode::Enter)),
        Some(EngineCommand::OpenResult { dir }) if dir == first
    ));
    // ↓ moves the cursor in this view (not the log); Space marks runs; the second mark compares.
    let run_rows: Vec<usize> = (0..runs.len()).filter(|&i| runs[i]).collect();
    assert_eq!(run_rows.len(), 2);
    app.results.selected = 0;
    for _ in 0..run_rows[0] {
        app.on_key(&code(KeyCode::Down));
    }
    assert_eq!(app.on_key(&key(' ')), None);
    assert_eq!(app.results.marked, vec![run_rows[0]]);
    app.results.selected = run_rows[1];
    let Some(EngineCommand::CompareResults { a, b }) = app.on_key(&key(' ')) else {
        panic!("the second mark compares");
    };
    assert_eq!(a, app.results.entries[run_rows[0]].dir);
    assert_eq!(b, app.results.entries[run_rows[1]].dir);
    // Other keys still work in the Results view.
    assert_eq!(app.on_key(&key('?')), None);
    assert_eq!(app.mode, Mode::Help);
}

fn gateway_snapshot(
    state: crate::gateway::GatewayState,
    reason: &str,
) -> crate::gateway::GatewaySnapshot {
    crate::gateway::GatewaySnapshot {
        profile: "local".into(),
        listen: "127.0.0.1:6390".into(),
        state,
        reason: reason.into(),
        open: 2,
        pending: 0,
        total: 153,
        bytes_up: 48_213,
        bytes_down: 1_204_332,
        wakes: 3,
        wake_failures: 0,
        refused: 1,
        last_wake_ms: Some(17.3),
        idle_left_ms: None,
    }
}

/// `g` starts the gateway for the selected profile and, while it serves, stops it; the pane
/// shows its state from the gateway's events, and goes once the gateway has closed.
#[test]
fn g_toggles_the_gateway_and_its_pane_follows_the_events() {
    use crate::gateway::{GatewayEvent, GatewayState};
    let mut app = idle_app(Theme::new(false));
    assert_eq!(
        app.on_key(&key('g')),
        Some(EngineCommand::GatewayStart {
            profile: profile("local")
        })
    );
    assert!(!text(&screen(&app, 80, 24)).contains("Gateway"));
    app.apply(EngineEvent::Gateway(GatewayEvent::State(gateway_snapshot(
        GatewayState::Awake,
        "Redis answered PING after 17.3 ms; 1 waiting client(s) spliced",
    ))));
    let small = text(&screen(&app, 80, 24));
    assert!(small.contains("Gateway · local"), "{small}");
    assert!(small.contains("open 2  waiting 0  total 153"), "{small}");
    assert!(small.contains("3  failed 0  last 17.3 ms"), "{small}");
    assert!(small.contains("g gw"), "the footer names the key: {small}");
    let wide = text(&screen(&app, 200, 60));
    assert!(
        wide.contains("Gateway · local") && wide.contains(" Redis "),
        "{wide}"
    );
    assert_eq!(app.on_key(&key('g')), Some(EngineCommand::GatewayStop));
    let mut closed = gateway_snapshot(GatewayState::Closed, "shut down");
    closed.open = 0;
    app.apply(EngineEvent::Gateway(GatewayEvent::State(closed)));
    assert!(!text(&screen(&app, 80, 24)).contains("Gateway ·"));
    assert!(matches!(
        app.on_key(&key('g')),
        Some(EngineCommand::GatewayStart { .. })
    ));
}

/// A profile that does not load is not served.
#[test]
fn g_on_an_invalid_profile_says_why() {
    let mut app = idle_app(Theme::new(false));
    app.on_key(&key('3'));
    assert!(app.on_key(&key('g')).is_none());
    assert_eq!(app.log.lines.back().unwrap().level, Level::Error);
}

/// Issue 25 item 3: the Redis status is asked for every second while Redis runs (uptime, keys
/// and memory follow the writes), not while it is stopped.
#[test]
fn the_redis_status_is_polled_while_redis_runs() {
    let mut app = idle_app(Theme::new(false));
    let t0 = epoch();
    assert_eq!(app.status_due(t0), None, "stopped: nothing to ask");
    app.apply(EngineEvent::RedisState(
        crate::redis_host::RedisState::Running,
    ));
    let ask = Some(EngineCommand::RedisStatus {
        profile: profile("local"),
    });
    assert_eq!(app.status_due(t0), ask);
    assert_eq!(
        app.status_due(t0 + chrono::Duration::milliseconds(500)),
        None
    );
    assert_eq!(
        app.status_due(t0 + chrono::Duration::milliseconds(1000)),
        ask
    );
    app.apply(EngineEvent::RedisStatus(crate::tui::demo::status(
        crate::redis_host::RedisState::Running,
        854,
    )));
    assert!(text(&screen(&app, 80, 24)).contains("keys 854"));
}

/// The process pane's sample names the profile's Redis container when it runs in Docker (the
/// engine adds its row from the Docker stats API), and no container otherwise.
#[test]
fn the_process_sample_names_the_redis_container() {
    let mut app = idle_app(Theme::new(false));
    let t0 = epoch();
    assert_eq!(
        app.processes_due(t0),
        None,
        "nothing live: nothing to sample"
    );
    app.apply(EngineEvent::RedisState(
        crate::redis_host::RedisState::Running,
    ));
    let mut st = crate::tui::demo::status(crate::redis_host::RedisState::Running, 1);
    st.container = None;
    st.pid = Some(4242);
    app.apply(EngineEvent::RedisStatus(st.clone()));
    assert_eq!(
        app.processes_due(t0),
        Some(EngineCommand::SampleProcesses {
            redis_pid: Some(4242),
            containers: vec![],
            functions: false,
        })
    );
    st.container = Some("redwhisk-docker".into());
    st.pid = None;
    app.apply(EngineEvent::RedisStatus(st));
    assert_eq!(
        app.processes_due(t0 + chrono::Duration::seconds(1)),
        Some(EngineCommand::SampleProcesses {
            redis_pid: None,
            containers: vec!["redwhisk-docker".into()],
            functions: false,
        })
    );
    // A live run of a profile on the local Lambda asks for its function containers too.
    if let Ok(i) = &mut app.profiles[0].info {
        i.platform = "lambda".into();
    }
    for ev in run_start_events(5) {
        app.apply(ev);
    }
    assert!(matches!(
        app.processes_due(t0 + chrono::Duration::seconds(2)),
        Some(EngineCommand::SampleProcesses {
            functions: true,
            ..
        })
    ));
}

/// Issue 25 item 3: the quit question goes once the run it asks about has ended, and a
/// recorded run is not opened over a live one.
#[test]
fn the_quit_question_goes_when_the_run_ends() {
    let mut app = running_app(Theme::new(false), 20, 12, 6, false);
    app.on_key(&key('q'));
    assert_eq!(app.mode, Mode::ConfirmQuit);
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console/r1000-local");
    let record = crate::results::RunRecord::read(&dir).unwrap();
    app.apply(EngineEvent::RunOpened {
        dir,
        record: Box::new(record),
    });
    assert!(app.run_active(), "the live run stays");
    assert!(
        app.log
            .lines
            .back()
            .unwrap()
            .message
            .contains("once it ends")
    );
    app.apply(EngineEvent::RunFinished {
        outcome: Phase::Done,
        results_dir: None,
        elapsed: Duration::from_secs(6),
    });
    assert_eq!(app.mode, Mode::Normal);
    assert!(!text(&screen(&app, 80, 24)).contains("A run is active"));
}

/// Issue 25 item 8: the footer offers each view's own keys, with the words the help uses, and
/// always help and quit; `e` says it zips; `w` is offered.
#[test]
fn the_footer_offers_each_views_keys() {
    use crate::tui::views::View;
    let mut app = idle_app(Theme::new(false));
    for view in View::ALL {
        app.view = view;
        let s = text(&screen(&app, 80, 24));
        let footer = s.lines().last().unwrap().to_string();
        assert!(
            footer.contains("? help") && footer.contains("q quit"),
            "{footer}"
        );
        for &(mode, action, _) in crate::tui::ui::footer_hints(view) {
            let keys = crate::tui::keys::keys_for(mode, action);
            assert!(!keys.is_empty(), "{action:?} has no key in {mode:?}");
        }
        match view {
            View::Run => {
                assert!(
                    footer.contains("w sweep") && footer.contains("e zip"),
                    "{footer}"
                );
            }
            View::Results => {
                assert!(
                    footer.contains("Enter open") && footer.contains("/ filter"),
                    "{footer}"
                );
            }
            View::Sweep => assert!(footer.contains("W rtt sweep"), "{footer}"),
            _ => {}
        }
    }
    app.mode = Mode::Help;
    assert!(text(&screen(&app, 120, 40)).contains("zip the last results"));
}

/// Issue 25 item 9: Results lists sweeps beside runs and shares and reopens them; it sorts by
/// date, p50, p99 and throughput; `/` filters; Home/End move in the list (not the log); Space on
/// a share row says why it cannot be marked.
#[test]
fn results_list_every_kind_sort_filter_and_move() {
    use crate::engine::library::{Kind, list};
    use crate::tui::views::{SortKey, View};
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console");
    let root = tempfile::tempdir().unwrap();
    for d in ["r1000-local", "r2000-local", "share-local"] {
        let to = root.path().join(d);
        std::fs::create_dir_all(&to).unwrap();
        for f in std::fs::read_dir(fixtures.join(d)).unwrap().flatten() {
            std::fs::copy(f.path(), to.join(f.file_name())).unwrap();
        }
    }
    let sweep = root.path().join("sweep-local");
    std::fs::create_dir_all(&sweep).unwrap();
    std::fs::copy(fixtures.join("sweep-one.json"), sweep.join("sweep.json")).unwrap();
    let entries = list(root.path());
    let kinds: Vec<Kind> = entries.iter().map(|e| e.kind).collect();
    assert!(kinds.contains(&Kind::Sweep), "{kinds:?}");
    let sweep_entry = entries.iter().find(|e| e.kind == Kind::Sweep).unwrap();
    assert!(sweep_entry.throughput.is_some_and(|v| v > 0.0));

    let mut app = idle_app(Theme::new(false));
    app.on_key(&key('v'));
    app.on_key(&key('v'));
    app.on_key(&key('v'));
    assert_eq!(app.view, View::Results);
    app.apply(EngineEvent::ResultsListed(entries));
    let s = text(&screen(&app, 120, 40));
    for word in ["sweep", "share", "run", "p50 ms", "p99 ms", "inv/s"] {
        assert!(s.contains(word), "{word}: {s}");
    }
    // End and Home move the cursor, not the log.
    app.on_key(&code(KeyCode::End));
    assert_eq!(app.results.selected, 3);
    app.on_key(&code(KeyCode::Home));
    assert_eq!(app.results.selected, 0);
    // S sorts: p50 ascending puts the fastest run first; throughput descending the busiest.
    app.on_key(&key('S'));
    assert_eq!(app.results.sort, SortKey::P50);
    // The cursor stays on its entry; the first row is the lowest.
    let p50 = |app: &crate::tui::app::App| app.results.entries[app.results.order[0]].p50_ms;
    let lowest = app
        .results
        .entries
        .iter()
        .filter_map(|e| e.p50_ms)
        .fold(f64::INFINITY, f64::min);
    assert_eq!(p50(&app), Some(lowest));
    app.on_key(&key('S'));
    app.on_key(&key('S'));
    assert_eq!(app.results.sort, SortKey::Throughput);
    let top = app.results.entries[app.results.order[0]]
        .throughput
        .unwrap();
    assert!(
        app.results
            .entries
            .iter()
            .all(|e| e.throughput.unwrap_or(0.0) <= top)
    );
    // / filters as typed; Enter keeps the filter, Esc clears it.
    app.on_key(&key('/'));
    for c in "share".chars() {
        app.on_key(&key(c));
    }
    assert_eq!(app.results.order.len(), 1);
    app.on_key(&code(KeyCode::Enter));
    assert!(!app.results.filtering);
    let s = text(&screen(&app, 120, 40));
    assert!(s.contains("1 of 4") && s.contains("filter: share"), "{s}");
    // Space on the share row says why, and marks nothing.
    assert_eq!(app.on_key(&key(' ')), None);
    assert!(app.results.marked.is_empty());
    let last = &app.log.lines.back().unwrap().message;
    assert!(
        last.contains("only case study 1 runs can be compared"),
        "{last}"
    );
    app.on_key(&key('/'));
    app.on_key(&code(KeyCode::Esc));
    assert_eq!(app.results.order.len(), 4);
    // Esc and a key pressed at once come as Alt and the key: the filter is cleared and the
    // key acts (S sorts), it is not typed.
    app.on_key(&key('/'));
    app.on_key(&key('x'));
    let sort = app.results.sort;
    app.on_key(&KeyEvent::new(KeyCode::Char('S'), KeyModifiers::ALT));
    assert!(!app.results.filtering && app.results.filter.is_empty());
    assert_eq!(app.results.order.len(), 4);
    assert_ne!(app.results.sort, sort, "Alt-S did not sort");
    // Enter on the sweep opens it in the Sweep view once the engine has read it.
    let text_sweep = std::fs::read_to_string(sweep.join("sweep.json")).unwrap();
    let report: crate::model::sweep::SweepReport = serde_json::from_str(&text_sweep).unwrap();
    app.apply(EngineEvent::SweepOpened(Box::new(report)));
    assert_eq!(app.view, View::Sweep);
    let s = text(&screen(&app, 120, 40));
    assert!(s.contains("6/6 steps") && s.contains("← knee"), "{s}");
    assert!(!s.contains("so far"), "{s}");
    for _ in 0..6 {
        if app.view != View::Results {
            app.on_key(&key('v'));
        }
    }
    assert_eq!(app.view, View::Results);
    // Ctrl keys are never typed: Ctrl-C quits while the filter takes text, keeping it.
    app.on_key(&key('/'));
    app.on_key(&key('s'));
    let quit = app.on_key(&KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.results.filter, "s");
    assert!(!app.results.filtering);
    assert!(
        app.quitting && quit == Some(EngineCommand::Shutdown),
        "Ctrl-C while filtering did not quit"
    );
}

/// Issue 25 item 9: Compare names what differs between the two runs.
#[test]
fn compare_warns_about_mismatched_workloads() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/console");
    let a = crate::results::RunRecord::read(&fixtures.join("r1000-local")).unwrap();
    let mut b = crate::results::RunRecord::read(&fixtures.join("r2000-local")).unwrap();
    b.summary.workload.concurrency = 4;
    b.summary.outcome = Phase::Cancelled;
    let w = crate::compare::workload_mismatches(&a.summary, &b.summary);
    assert!(
        w.iter()
            .any(|w| w.starts_with("records differ: A 1000 against B 2000")),
        "{w:?}"
    );
    assert!(
        w.iter().any(|w| w.starts_with("concurrency differs")),
        "{w:?}"
    );
    assert!(w.iter().any(|w| w.starts_with("B was cancelled")), "{w:?}");
    assert!(crate::compare::workload_mismatches(&a.summary, &a.summary).is_empty());
    let mut app = idle_app(Theme::new(false));
    let mut c = crate::compare::compare(
        &crate::compare::Side::from_run("A", &a),
        &crate::compare::Side::from_run("B", &b),
    );
    c.warnings = w;
    app.apply(EngineEvent::Compared(Box::new(c)));
    let s = text(&screen(&app, 120, 40));
    assert!(s.contains("! records differ: A 1000 against B 2000"), "{s}");
}

/// Issue 25 item 10: the keys Redis held before the first invocation show in the Run pane.
#[test]
fn keys_at_the_start_of_a_run_are_shown() {
    let mut app = idle_app(Theme::new(false));
    for ev in run_start_events(20) {
        app.apply(ev);
    }
    app.apply(EngineEvent::RedisStatus(crate::tui::demo::status(
        crate::redis_host::RedisState::Running,
        854,
    )));
    assert_eq!(
        app.run.as_ref().unwrap().keys_at_start,
        Some(0),
        "the first status counts"
    );
    let mut app = idle_app(Theme::new(false));
    let events = run_start_events(20);
    for ev in events
        .into_iter()
        .filter(|e| !matches!(e, EngineEvent::RedisStatus(_)))
    {
        app.apply(ev);
    }
    app.apply(EngineEvent::RedisStatus(crate::tui::demo::status(
        crate::redis_host::RedisState::Running,
        854,
    )));
    app.apply(EngineEvent::Activation(Box::new(activation(0))));
    app.apply(EngineEvent::RedisStatus(crate::tui::demo::status(
        crate::redis_host::RedisState::Running,
        900,
    )));
    assert_eq!(app.run.as_ref().unwrap().keys_at_start, Some(854));
    app.tick(epoch() + chrono::Duration::seconds(1));
    let s = text(&screen(&app, 120, 40));
    assert!(s.contains("keys at start 854"), "{s}");
}

/// Issue 25 item 10: the workload editor changes the selected profile's invocations,
/// concurrency, records and mode for its next runs; its keys are listed in it; Esc leaves the
/// profile as it was; `0` goes back to the file's values.
#[test]
fn the_workload_editor_changes_the_next_runs() {
    use crate::model::workload::WorkloadEdit;
    let mut app = idle_app(Theme::new(false));
    app.on_key(&key('E'));
    assert_eq!(app.mode, Mode::Edit);
    let s = text(&screen(&app, 80, 24));
    assert!(s.contains("Workload of `local` for the next runs"), "{s}");
    for b in crate::tui::keys::KEYS
        .iter()
        .filter(|b| b.mode == Mode::Edit)
    {
        assert!(s.contains(b.help), "the editor lacks {:?}: {s}", b.help);
    }
    // invocations 100 → 200; concurrency 1 → 2; mode → pipelined.
    app.on_key(&code(KeyCode::Right));
    app.on_key(&code(KeyCode::Down));
    app.on_key(&code(KeyCode::Right));
    app.on_key(&code(KeyCode::Down));
    app.on_key(&code(KeyCode::Down));
    app.on_key(&code(KeyCode::Right));
    let s = text(&screen(&app, 120, 40));
    assert!(
        s.contains("* file: 100") && s.contains("* file: sequential"),
        "{s}"
    );
    let cmd = app.on_key(&code(KeyCode::Enter));
    assert_eq!(
        cmd,
        Some(EngineCommand::EditWorkload {
            profile: profile("local"),
            edit: WorkloadEdit {
                invocations: Some(200),
                concurrency: Some(2),
                records: None,
                mode: Some(crate::model::Mode::Pipelined),
                persistence: None,
                platform: None,
            },
        })
    );
    assert_eq!(app.mode, Mode::Normal);
    let s = text(&screen(&app, 120, 40));
    assert!(
        s.contains("200 × 1000 records"),
        "the header shows the next run's: {s}"
    );
    let last = &app.log.lines.back().unwrap().message;
    assert!(last.contains("not saved to its file"), "{last}");
    // Esc closes without a change; 0 then Enter goes back to the file's.
    app.on_key(&key('E'));
    app.on_key(&code(KeyCode::Right));
    assert_eq!(app.on_key(&code(KeyCode::Esc)), None);
    assert!(text(&screen(&app, 120, 40)).contains("200 × 1000 records"));
    app.on_key(&key('E'));
    app.on_key(&key('0'));
    assert_eq!(
        app.on_key(&code(KeyCode::Enter)),
        Some(EngineCommand::EditWorkload {
            profile: profile("local"),
            edit: WorkloadEdit::default(),
        })
    );
    assert!(text(&screen(&app, 120, 40)).contains("100 × 1000 records"));
}

/// Issue 25: the editor also sets Redis persistence (round none → rdb → aof-everysec →
/// aof-always) and the platform (the file's, then the embedded platform's two ways) for the
/// next runs, and `s` saves them.
#[test]
fn the_editor_sets_persistence_and_platform() {
    use crate::model::workload::{PersistenceChoice, PlatformChoice, WorkloadEdit};
    let mut app = idle_app(Theme::new(false));
    app.on_key(&key('E'));
    for _ in 0..4 {
        app.on_key(&code(KeyCode::Down));
    }
    // persistence rdb → aof-everysec → aof-always; ← from there goes back one.
    app.on_key(&code(KeyCode::Right));
    app.on_key(&code(KeyCode::Right));
    app.on_key(&code(KeyCode::Right));
    app.on_key(&code(KeyCode::Left));
    app.on_key(&code(KeyCode::Down));
    // platform local → local-warm.
    app.on_key(&code(KeyCode::Right));
    for (w, h) in [(80, 24), (120, 40), (200, 60)] {
        let s = text(&screen(&app, w, h));
        for want in [
            "aof-always",
            "* file: rdb",
            "local-warm",
            "* file: local",
            "persistence",
            "platform",
        ] {
            assert!(s.contains(want), "{w}×{h} lacks {want}: {s}");
        }
    }
    let cmd = app.on_key(&code(KeyCode::Enter));
    assert_eq!(
        cmd,
        Some(EngineCommand::EditWorkload {
            profile: profile("local"),
            edit: WorkloadEdit {
                persistence: Some(PersistenceChoice::AofAlways),
                platform: Some(PlatformChoice::LocalWarm),
                ..Default::default()
            },
        })
    );
    let last = &app.log.lines.back().unwrap().message;
    assert!(
        last.contains("persistence aof-always, platform local-warm"),
        "{last}"
    );
    // The platform goes round the file's and the embedded platform's two ways.
    app.on_key(&key('E'));
    for _ in 0..5 {
        app.on_key(&code(KeyCode::Down));
    }
    app.on_key(&code(KeyCode::Right));
    assert_eq!(
        app.editor.unwrap().now.platform,
        PlatformChoice::Local,
        "local-warm → local (the file's)"
    );
    app.on_key(&code(KeyCode::Right));
    // `s` saves every value; the platform only when it changed.
    let Some(EngineCommand::SaveWorkload { edit, .. }) = app.on_key(&key('s')) else {
        panic!("s saves");
    };
    assert_eq!(edit.persistence, Some(PersistenceChoice::AofAlways));
    assert_eq!(edit.platform, Some(PlatformChoice::LocalWarm));
    assert_eq!(
        app.file_workload["local"].platform,
        PlatformChoice::LocalWarm
    );
}

/// Issue 25 item 9: a failover opened from Results is a report overlay that scrolls with its
/// own keys (the view under it keeps its cursor) and closes with Esc.
#[test]
fn a_report_overlay_scrolls_and_closes() {
    let mut app = idle_app(Theme::new(true));
    app.view = crate::tui::views::View::Results;
    let report: String = (0..100).map(|i| format!("line {i}\n")).collect();
    app.apply(EngineEvent::ReportOpened {
        dir: "results/f".into(),
        title: "failover on `c`".into(),
        text: report,
    });
    assert_eq!(app.mode, Mode::Report);
    // Drawn at 80×24: 24 − header − footer − borders − the key line = 19 text rows.
    let shown = |app: &crate::tui::app::App| text(&screen(app, 80, 24));
    assert!(shown(&app).contains("line 0 "), "{}", shown(&app));
    let rows = app.report.as_ref().unwrap().rows.get();
    assert!(rows >= 10, "{rows}");
    app.on_key(&code(KeyCode::Down));
    app.on_key(&key('j'));
    assert_eq!(app.report.as_ref().unwrap().top, 2);
    assert!(!shown(&app).contains("line 1 "));
    assert!(shown(&app).contains("line 2 "));
    app.on_key(&code(KeyCode::PageDown));
    assert_eq!(app.report.as_ref().unwrap().top, 2 + rows - 1);
    app.on_key(&code(KeyCode::End));
    let s = shown(&app);
    assert!(s.contains("line 99 ") && !s.contains("line 0 "), "{s}");
    assert!(
        s.contains(&format!("rows {}–100 of 100", 100 - rows + 1)),
        "{s}"
    );
    // Past the end it stays at the last page; Home is the first line again.
    app.on_key(&code(KeyCode::Down));
    assert_eq!(app.report.as_ref().unwrap().top, 100 - rows);
    app.on_key(&code(KeyCode::Home));
    assert_eq!(app.report.as_ref().unwrap().top, 0);
    // The Results keys do not reach the list while the report is up; Esc closes it.
    let selected = app.results.selected;
    app.on_key(&key('S'));
    assert_eq!(app.results.selected, selected);
    assert_eq!(app.on_key(&code(KeyCode::Esc)), None);
    assert_eq!(app.mode, Mode::Normal);
    assert!(app.report.is_none());
    assert!(!shown(&app).contains("line 0 "));
}
