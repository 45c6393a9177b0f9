//! The engine as the console drives it: commands in, typed events out — a run, an export of
//! its results, a share experiment with per-cycle progress, and a clean shutdown.
//! Needs redis-server; fails loudly without it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use redwhisk::engine::{EngineOptions, spawn_engine};
use redwhisk::event::{EngineCommand, EngineEvent, Phase};
use tokio::sync::mpsc::UnboundedReceiver;

async fn until_finished(events: &mut UnboundedReceiver<EngineEvent>) -> (Vec<EngineEvent>, Phase) {
    let mut seen = Vec::new();
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(300), events.recv())
            .await
            .expect("the engine went quiet")
            .expect("the engine stopped");
        if let EngineEvent::RunFinished { outcome, .. } = &ev {
            let outcome = *outcome;
            seen.push(ev);
            return (seen, outcome);
        }
        seen.push(ev);
    }
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
    let (engine, mut events, task) = spawn_engine(EngineOptions {
        results_root: Some(dir.path().join("results")),
        ..Default::default()
    });

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
    let msg = next_log(&mut events).await;
    let zip = msg
        .strip_prefix("exported the last run to ")
        .unwrap_or_else(|| panic!("{msg}"));
    assert!(std::path::Path::new(zip).is_file(), "{zip}");

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

    engine.send(EngineCommand::Shutdown);
    tokio::time::timeout(Duration::from_secs(60), task)
        .await
        .unwrap()
        .unwrap();
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
