//! The engine as the console drives it: commands in, typed events out — a run, an export of
//! its results, a share experiment with per-cycle progress, and a clean shutdown.
//! Needs redis-server; fails loudly without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use redwhisk::engine::{EngineHandle, EngineOptions, spawn_engine};
use redwhisk::event::{EngineCommand, EngineEvent, Phase};
use tokio::sync::mpsc::UnboundedReceiver;

async fn until_finished(events: &mut UnboundedReceiver<EngineEvent>) -> (Vec<EngineEvent>, Phase) {
    let mut seen = Vec::new();
    loop {
        let ev = match tokio::time::timeout(Duration::from_secs(300), events.recv()).await {
            Ok(ev) => ev.expect("the engine stopped"),
            Err(_) => panic!("the engine went quiet; the events so far: {seen:#?}"),
        };
        if let EngineEvent::RunFinished { outcome, .. } = &ev {
            let outcome = *outcome;
            seen.push(ev);
            return (seen, outcome);
        }
        seen.push(ev);
    }
}

/// An engine whose results go under `dir/results`.
fn engine_in(
    dir: &std::path::Path,
) -> (
    EngineHandle,
    UnboundedReceiver<EngineEvent>,
    tokio::task::JoinHandle<()>,
) {
    spawn_engine(EngineOptions {
        results_root: Some(dir.join("results")),
        ..Default::default()
    })
}

/// `Shutdown`, and the engine task ends within 60 s.
async fn shut_down(engine: &EngineHandle, task: tokio::task::JoinHandle<()>) {
    engine.send(EngineCommand::Shutdown);
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("the engine did not end within 60 s of Shutdown")
        .unwrap();
}

async fn next_log(events: &mut UnboundedReceiver<EngineEvent>) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            EngineEvent::Log { message, .. } => return message,
            _ => continue,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_export_share_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("engine-test.toml");
    std::fs::write(
        &profile,
        format!(
            "[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n[workload]\ninvocations = 4\nrecords = 30\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let profile = profile.display().to_string();
    let (engine, mut events, task) = engine_in(dir.path());

    engine.send(EngineCommand::Export);
    assert!(
        next_log(&mut events)
            .await
            .starts_with("no finished run to export yet")
    );

    engine.send(EngineCommand::Run {
        profile: profile.clone(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Done);
    let activations = seen
        .iter()
        .filter(|e| matches!(e, EngineEvent::Activation(_)))
        .count();
    assert_eq!(activations, 4);
    assert!(seen.iter().any(|e| matches!(e, EngineEvent::ColdStart(_))));

    engine.send(EngineCommand::Export);
    let zip = loop {
        match tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .unwrap()
            .unwrap()
        {
            EngineEvent::Exported { path } => break path,
            EngineEvent::Log { message, .. } => panic!("expected Exported, got a log: {message}"),
            _ => continue,
        }
    };
    assert!(zip.is_file(), "{}", zip.display());
    assert_eq!(zip.extension().and_then(|e| e.to_str()), Some("zip"));

    engine.send(EngineCommand::Share {
        profile: profile.clone(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Done);
    let cycles = seen
        .iter()
        .filter(|e| matches!(e, EngineEvent::ShareCycle { .. }))
        .count();
    assert_eq!(cycles, 8 * 20, "the whole matrix, 20 cycles per cell");
    let planned = seen.iter().find_map(|e| match e {
        EngineEvent::RunStarted { planned, .. } => Some(*planned),
        _ => None,
    });
    assert_eq!(planned, Some(160));

    shut_down(&engine, task).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_profile_ends_the_run_with_failed() {
    let (engine, mut events, task) = spawn_engine(EngineOptions::default());
    engine.send(EngineCommand::Run {
        profile: "tests/invalid_profiles/zero_invocations.toml".into(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Failed);
    assert!(seen.iter().any(|e| matches!(e, EngineEvent::Log { message, .. } if message.contains("workload.invocations"))));
    engine.send(EngineCommand::Shutdown);
    task.await.unwrap();
}

/// Events until one matches, with a deadline that names what was awaited.
async fn until(
    events: &mut UnboundedReceiver<EngineEvent>,
    what: &str,
    pred: impl Fn(&EngineEvent) -> bool,
) -> Vec<EngineEvent> {
    let mut seen = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(60), events.recv())
            .await
            .unwrap_or_else(|_| panic!("no {what} within 60 s; saw {seen:?}"))
            .unwrap_or_else(|| panic!("the engine stopped before {what}; saw {seen:?}"));
        let hit = pred(&ev);
        seen.push(ev);
        if hit {
            return seen;
        }
    }
}

fn log_starting(ev: &EngineEvent, prefix: &str) -> bool {
    matches!(ev, EngineEvent::Log { message, .. } if message.starts_with(prefix))
}

/// `u` on a Redis that never answers (a TCP listener that accepts and stays silent, readiness
/// timeout 600 s): Cancel stops the start, and Shutdown ends the engine long before the
/// readiness wait would have.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_redis_up_does_not_hold_up_cancel_or_shutdown() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("silent.toml");
    std::fs::write(
        &profile,
        format!(
            "[redis]\nbackend = \"external\"\nurl = \"redis://127.0.0.1:{port}/0\"\nready_timeout_ms = 600000\n"
        ),
    )
    .unwrap();
    let profile = profile.display().to_string();
    let (engine, mut events, task) = spawn_engine(EngineOptions::default());
    let starting = |e: &EngineEvent| {
        matches!(
            e,
            EngineEvent::RedisState(redwhisk::redis_host::RedisState::Starting)
        )
    };

    engine.send(EngineCommand::RedisUp {
        profile: profile.clone(),
    });
    until(&mut events, "Redis starting", starting).await;
    // the loop still takes commands while the start waits
    engine.send(EngineCommand::RedisStatus {
        profile: profile.clone(),
    });
    engine.send(EngineCommand::RedisUp {
        profile: profile.clone(),
    });
    until(&mut events, "the busy warning", |e| {
        log_starting(e, "a Redis operation is in progress")
    })
    .await;
    engine.send(EngineCommand::Cancel);
    until(&mut events, "the cancelled start", |e| {
        log_starting(e, "Redis start cancelled")
    })
    .await;

    // The cancelled task ends just after its last message: retry while it is still busy.
    for attempt in 0.. {
        assert!(attempt < 50, "the cancelled Redis operation never ended");
        engine.send(EngineCommand::RedisUp {
            profile: profile.clone(),
        });
        let seen = until(&mut events, "Redis starting again or busy", |e| {
            starting(e) || log_starting(e, "a Redis operation is in progress")
        })
        .await;
        if seen.last().is_some_and(starting) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    engine.send(EngineCommand::Shutdown);
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .expect("Shutdown waited for the Redis start")
        .unwrap();
    silent.abort();
}

/// Quitting the console saves and stops a Redis it started with `u`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quitting_stops_a_redis_started_with_u() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u-then-quit.toml");
    std::fs::write(
        &path,
        format!(
            "[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let profile = path.display().to_string();
    let (engine, mut events, task) = spawn_engine(EngineOptions::default());
    engine.send(EngineCommand::RedisUp {
        profile: profile.clone(),
    });
    let seen = until(&mut events, "redis up", |e| log_starting(e, "redis up at")).await;
    assert!(
        seen.iter().any(|e| matches!(e, EngineEvent::ColdStart(_))),
        "the engine reports the cold start: {seen:?}"
    );
    let p = redwhisk::profile::find_profile(&profile).unwrap();
    let host = redwhisk::redis_host::RedisHost::new(&p).unwrap();
    assert_eq!(
        host.status().await.unwrap().state,
        redwhisk::redis_host::RedisState::Running
    );
    shut_down(&engine, task).await;
    let mut rest = Vec::new();
    while let Ok(ev) = events.try_recv() {
        rest.push(ev);
    }
    assert!(
        rest.iter()
            .any(|e| log_starting(e, "quitting: saving and stopping the Redis of")),
        "{rest:?}"
    );
    assert_eq!(
        host.status().await.unwrap().state,
        redwhisk::redis_host::RedisState::Stopped
    );
}

fn gateway_state(ev: &EngineEvent, state: redwhisk::gateway::GatewayState) -> bool {
    matches!(ev, EngineEvent::Gateway(redwhisk::gateway::GatewayEvent::State(s)) if s.state == state)
}

/// `g` as the console sends it: the gateway serves the profile's Redis (asleep until a client
/// connects); a run, `u` or `d` for that profile is refused while it does; stopping it saves
/// and stops Redis, and the data is there for the next start. Quitting stops a gateway too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_gateway_owns_its_profiles_redis_until_stopped() {
    use redwhisk::gateway::GatewayState;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gw-console.toml");
    std::fs::write(
        &path,
        format!(
            "[redis]\nbackend = \"process\"\npersistence = \"rdb\"\npassword = \"console-gw-pw\"\ndata_dir = \"{}\"\n[gateway]\nlisten = \"127.0.0.1:0\"\nidle_ms = 60000\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let profile = path.display().to_string();
    let (engine, mut events, task) = spawn_engine(EngineOptions::default());
    engine.send(EngineCommand::GatewayStart {
        profile: profile.clone(),
    });
    let seen = until(&mut events, "gateway asleep", |e| {
        gateway_state(e, GatewayState::Asleep)
    })
    .await;
    let listen = seen
        .iter()
        .find_map(|e| match e {
            EngineEvent::Gateway(redwhisk::gateway::GatewayEvent::State(s)) => {
                Some(s.listen.clone())
            }
            _ => None,
        })
        .unwrap();
    // A client wakes Redis through the gateway.
    let mut c = BufReader::new(tokio::net::TcpStream::connect(&listen).await.unwrap());
    c.get_mut()
        .write_all(b"AUTH console-gw-pw\r\nSET kept yes\r\n")
        .await
        .unwrap();
    for want in ["+OK\r\n", "+OK\r\n"] {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(60), c.read_line(&mut line))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(line, want);
    }
    until(&mut events, "gateway awake", |e| {
        gateway_state(e, GatewayState::Awake)
    })
    .await;
    // The gateway owns this profile's Redis: no run, no `u`, no `d`.
    for cmd in [
        EngineCommand::Run {
            profile: profile.clone(),
        },
        EngineCommand::RedisDown {
            profile: profile.clone(),
        },
    ] {
        engine.send(cmd);
        let msg = next_log(&mut events).await;
        assert!(msg.starts_with("the gateway owns the Redis of"), "{msg}");
    }
    engine.send(EngineCommand::GatewayStart {
        profile: profile.clone(),
    });
    assert!(
        next_log(&mut events)
            .await
            .starts_with("a gateway already serves")
    );
    drop(c);
    engine.send(EngineCommand::GatewayStop);
    until(&mut events, "gateway closed", |e| {
        gateway_state(e, GatewayState::Closed)
    })
    .await;
    let p = redwhisk::profile::find_profile(&profile).unwrap();
    let mut host = redwhisk::redis_host::RedisHost::new(&p).unwrap();
    assert_eq!(
        host.status().await.unwrap().state,
        redwhisk::redis_host::RedisState::Stopped
    );
    // Saved on the way down: a plain start has the key.
    let ep = host
        .up(&redwhisk::event::EventSink::new().0)
        .await
        .unwrap()
        .endpoint;
    let client = redis::Client::open(ep.connection_info().unwrap()).unwrap();
    let mut con = client.get_multiplexed_async_connection().await.unwrap();
    let v: Option<String> = redis::cmd("GET")
        .arg("kept")
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(v.as_deref(), Some("yes"));
    host.down(
        redwhisk::redis_host::StopMode::Graceful,
        &redwhisk::event::EventSink::new().0,
    )
    .await
    .unwrap();
    // Quitting with a gateway serving stops it (and its Redis).
    engine.send(EngineCommand::GatewayStart {
        profile: profile.clone(),
    });
    until(&mut events, "gateway asleep again", |e| {
        gateway_state(e, GatewayState::Asleep)
    })
    .await;
    shut_down(&engine, task).await;
    let mut rest = Vec::new();
    while let Ok(ev) = events.try_recv() {
        rest.push(ev);
    }
    assert!(
        rest.iter().any(|e| gateway_state(e, GatewayState::Closed)),
        "{rest:?}"
    );
}

/// `w` in the console: the engine runs a sweep as one job — each step a run the console sees
/// live (RunStarted per step), a SweepStep as each finishes, the steps in the order planned,
/// then one RunFinished pointing at the sweep's directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_reports_each_step_as_it_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("sweep-engine.toml");
    std::fs::write(
        &profile,
        format!(
            "[redis]\nbackend = \"process\"\npersistence = \"none\"\ndata_dir = \"{}\"\n[workload]\ninvocations = 2\nrecords = 10\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let (engine, mut events, task) = engine_in(dir.path());
    engine.send(EngineCommand::Sweep {
        profile: profile.display().to_string(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Done);
    let planned: Vec<u32> = seen
        .iter()
        .find_map(|e| match e {
            EngineEvent::SweepStarted { concurrencies, .. } => Some(concurrencies.clone()),
            _ => None,
        })
        .expect("SweepStarted");
    assert_eq!(planned, redwhisk::engine::sweep::CONSOLE_CONCURRENCIES);
    let steps: Vec<u32> = seen
        .iter()
        .filter_map(|e| match e {
            EngineEvent::SweepStep(s) => Some(s.concurrency),
            _ => None,
        })
        .collect();
    assert_eq!(steps, planned, "one step per concurrency, in order");
    let runs = seen
        .iter()
        .filter(|e| matches!(e, EngineEvent::RunStarted { .. }))
        .count();
    assert_eq!(runs, planned.len(), "each step is a run the console shows");
    // Each step's figures come after its run's activations.
    let first_step = seen
        .iter()
        .position(|e| matches!(e, EngineEvent::SweepStep(_)))
        .unwrap();
    assert!(
        seen[..first_step]
            .iter()
            .any(|e| matches!(e, EngineEvent::Activation(_)))
    );
    match seen.last() {
        Some(EngineEvent::RunFinished {
            results_dir: Some(d),
            ..
        }) => assert!(d.join("sweep.json").is_file(), "{}", d.display()),
        other => panic!("{other:?}"),
    }
    shut_down(&engine, task).await;
}

/// How many invocations the run among `seen` planned.
fn planned(seen: &[EngineEvent]) -> u32 {
    seen.iter()
        .find_map(|e| match e {
            EngineEvent::RunStarted { planned, .. } => Some(*planned),
            _ => None,
        })
        .unwrap()
}

/// The console's workload editor: an edit sent for a profile sets its next runs' invocations
/// and records (the file is not touched); an empty edit goes back to the file's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_workload_edit_sets_the_next_runs_of_the_profile() {
    use redwhisk::model::workload::WorkloadEdit;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edit-test.toml");
    let text = format!(
        "# kept as written\n[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n[workload]\ninvocations = 4\nrecords = 30\n",
        dir.path().join("data").display()
    );
    std::fs::write(&path, &text).unwrap();
    let profile = path.display().to_string();
    let (engine, mut events, task) = engine_in(dir.path());
    engine.send(EngineCommand::EditWorkload {
        profile: profile.clone(),
        edit: WorkloadEdit {
            invocations: Some(2),
            records: Some(10),
            ..Default::default()
        },
    });
    engine.send(EngineCommand::Run {
        profile: profile.clone(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Done);
    assert_eq!(planned(&seen), 2);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the file is untouched"
    );
    engine.send(EngineCommand::EditWorkload {
        profile: profile.clone(),
        edit: WorkloadEdit::default(),
    });
    engine.send(EngineCommand::Run { profile });
    let (seen, _) = until_finished(&mut events).await;
    assert_eq!(planned(&seen), 4);
    shut_down(&engine, task).await;
}

/// The console's editor saved into the profile's file (`s`): only the edited values change,
/// the comments stay, the next run uses them; an edit the profile would refuse leaves the file
/// as it was and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_workload_edit_is_written_into_the_profile_file() {
    use redwhisk::model::workload::WorkloadEdit;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("save-test.toml");
    let text = format!(
        "# kept as written\n[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n[workload]\ninvocations = 4  # four\nrecords = 30\n",
        dir.path().join("data").display()
    );
    std::fs::write(&path, &text).unwrap();
    let profile = path.display().to_string();
    let (engine, mut events, task) = engine_in(dir.path());
    engine.send(EngineCommand::SaveWorkload {
        profile: profile.clone(),
        edit: WorkloadEdit {
            invocations: Some(3),
            records: Some(10),
            ..Default::default()
        },
    });
    engine.send(EngineCommand::Run {
        profile: profile.clone(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Done);
    assert_eq!(planned(&seen), 3);
    let saved = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        saved,
        text.replace("invocations = 4  # four", "invocations = 3  # four")
            .replace("records = 30", "records = 10")
    );
    assert!(seen.iter().any(|e| matches!(e,
        EngineEvent::Log { message, .. } if message.contains("saved the workload") && message.contains("save-test.toml"))));

    engine.send(EngineCommand::SaveWorkload {
        profile: profile.clone(),
        edit: WorkloadEdit {
            invocations: Some(0),
            ..Default::default()
        },
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let refused = loop {
        let e = tokio::time::timeout_at(deadline, events.recv())
            .await
            .expect("an answer to the save")
            .unwrap();
        if let EngineEvent::Log { message, .. } = e
            && message.contains("was not saved")
        {
            break message;
        }
    };
    assert!(refused.contains("invocations"), "{refused}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), saved);
    shut_down(&engine, task).await;
}

/// The run.json of the run `seen` ends with.
fn run_json(seen: &[EngineEvent]) -> serde_json::Value {
    let dir = seen
        .iter()
        .find_map(|e| match e {
            EngineEvent::RunFinished { results_dir, .. } => results_dir.clone(),
            _ => None,
        })
        .expect("a results directory");
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

/// Cold activations of a run.
fn colds(seen: &[EngineEvent]) -> usize {
    seen.iter()
        .filter(|e| matches!(e, EngineEvent::Activation(a) if a.is_cold()))
        .count()
}

/// The editor's persistence and platform: the next run uses them (run.json and the cold
/// count say so) and saving writes them into the file with its comments; a platform the file
/// cannot hold (the embedded one over an OpenWhisk profile) is used for the next runs and not
/// saved, and the file's [platform] stays as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistence_and_platform_edits_set_the_next_runs_and_save_what_the_file_can_hold() {
    use redwhisk::model::workload::{PersistenceChoice, PlatformChoice, WorkloadEdit};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pp.toml");
    let text = format!(
        "# kept\n[redis]\nbackend = \"process\"\npersistence = \"rdb\"  # the default\ndata_dir = \"{}\"\n[workload]\ninvocations = 4\nrecords = 10\n",
        dir.path().join("data").display()
    );
    std::fs::write(&path, &text).unwrap();
    let profile = path.display().to_string();
    let (engine, mut events, task) = engine_in(dir.path());
    // The file's: rdb, a process per activation (which reports no initTime).
    engine.send(EngineCommand::Run {
        profile: profile.clone(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Done);
    assert_eq!(run_json(&seen)["redis"]["persistence"], "rdb");
    assert_eq!(colds(&seen), 0);
    engine.send(EngineCommand::EditWorkload {
        profile: profile.clone(),
        edit: WorkloadEdit {
            persistence: Some(PersistenceChoice::AofAlways),
            platform: Some(PlatformChoice::LocalWarm),
            ..Default::default()
        },
    });
    engine.send(EngineCommand::Run {
        profile: profile.clone(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Done);
    assert_eq!(run_json(&seen)["redis"]["persistence"], "aof-always");
    assert_eq!(colds(&seen), 1, "warm processes: only the first is cold");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "not saved");
    // Saved: the file holds them, its comment kept, and it is still a valid profile.
    engine.send(EngineCommand::SaveWorkload {
        profile: profile.clone(),
        edit: WorkloadEdit {
            persistence: Some(PersistenceChoice::None),
            platform: Some(PlatformChoice::LocalWarm),
            ..Default::default()
        },
    });
    engine.send(EngineCommand::Run {
        profile: profile.clone(),
    });
    let (seen, _) = until_finished(&mut events).await;
    assert_eq!(run_json(&seen)["redis"]["persistence"], "none");
    assert_eq!(colds(&seen), 1);
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains("persistence = \"none\"  # the default") && saved.starts_with("# kept"),
        "{saved}"
    );
    assert!(
        saved.contains("[platform]") && saved.contains("keep_warm = true"),
        "{saved}"
    );
    redwhisk::profile::find_profile(&profile).expect("still a valid profile");

    // An OpenWhisk profile switched to the embedded platform: the run is local, the file's
    // [platform] is untouched, and the engine says why it was not saved.
    let ow = dir.path().join("ow.toml");
    let ow_text = format!(
        "[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n[workload]\ninvocations = 3\nrecords = 10\n[platform]\nkind = \"openwhisk\"  # the real one\napihost = \"https://127.0.0.1:9\"\n",
        dir.path().join("data-ow").display()
    );
    std::fs::write(&ow, &ow_text).unwrap();
    let ow_profile = ow.display().to_string();
    engine.send(EngineCommand::SaveWorkload {
        profile: ow_profile.clone(),
        edit: WorkloadEdit {
            records: Some(20),
            platform: Some(PlatformChoice::Local),
            ..Default::default()
        },
    });
    engine.send(EngineCommand::Run {
        profile: ow_profile.clone(),
    });
    let (seen, outcome) = until_finished(&mut events).await;
    assert_eq!(outcome, Phase::Done, "{seen:#?}");
    assert!(seen.iter().any(|e| matches!(e,
        EngineEvent::Log { message, .. } if message.contains("the platform local is used for the next runs") && message.contains("not saved"))));
    assert_eq!(run_json(&seen)["platform"], "local");
    assert_eq!(
        std::fs::read_to_string(&ow).unwrap(),
        ow_text.replace("records = 10", "records = 20"),
        "the records saved, [platform] as it was"
    );
    shut_down(&engine, task).await;
}

/// A consumer that starts the next run on `RunFinished` (a script, the console's repeat) is
/// never refused: the engine has let go of the run before it announces its end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_on_run_finished_is_never_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("again.toml");
    std::fs::write(
        &path,
        format!(
            "[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n[workload]\ninvocations = 1\nrecords = 5\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let profile = path.display().to_string();
    let (engine, mut events, task) = engine_in(dir.path());
    for round in 0..20 {
        engine.send(EngineCommand::Run {
            profile: profile.clone(),
        });
        // The run starts, or the engine says at once why not.
        loop {
            match tokio::time::timeout(Duration::from_secs(300), events.recv()).await {
                Ok(Some(EngineEvent::RunStarted { .. })) => break,
                Ok(Some(EngineEvent::Log { message, .. }))
                    if message.contains("already active") =>
                {
                    panic!("round {round}: refused: {message}")
                }
                Ok(Some(_)) => continue,
                other => panic!("round {round}: no start: {other:?}"),
            }
        }
        let (seen, outcome) = until_finished(&mut events).await;
        assert_eq!(outcome, Phase::Done, "round {round}: {seen:#?}");
    }
    shut_down(&engine, task).await;
}
