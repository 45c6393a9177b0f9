#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Fault injection against the real binary, a real redis-server and (in `faults_docker.rs`)
//! real Docker: signals, a frozen or killed Redis, a silent or wrong server, and concurrent
//! use of one profile. Each scenario checks the exit code, the message, the files on disk and
//! that no Redis is left running, and bounds the exit time with a generous hang detector.

mod fault_support;

use std::process::Command;
use std::time::Duration;

use fault_support::*;

/// SIGTERM / SIGHUP at each point of a run: the same clean cancel as Ctrl-C.
#[test]
fn signals_at_start_and_mid_run_cancel_cleanly() {
    require_redis_server();
    for (sig, code, name) in [(15, 143, "SIGTERM"), (1, 129, "SIGHUP")] {
        for point in [Point::Start, Point::MidRun] {
            let env = Env::new();
            let mut run = env.run(&["-n", "400", "-r", "300"]);
            run.reach(point);
            signal(run.pid(), sig);
            let out = run.finish(HANG);
            let ctx = format!("{name} at {point:?}:\n{}", out.stderr);
            assert_eq!(out.code, code, "{ctx}");
            assert!(out.stderr.contains(&format!("{name}: cancelling")), "{ctx}");
            match point {
                Point::Start => {
                    // Nothing was run; the results root holds no run directory at all, or a
                    // finished one (the start may have completed before the signal landed).
                    for dir in env.result_dirs() {
                        assert_finished(&dir);
                    }
                }
                _ => {
                    let doc = env.only_run_json();
                    assert_eq!(doc["outcome"], "cancelled", "{ctx}");
                    assert_eq!(doc["partial"], true, "{ctx}");
                    assert!(doc["redis"]["stop"]["was_running"] == true, "{ctx}");
                    assert!(env.data().join("dump.rdb").exists(), "saved: {ctx}");
                }
            }
            env.assert_no_redis();
        }
    }
}

/// A Redis frozen with SIGSTOP mid-run: named as "stopped answering", the run ends as
/// redis-lost (exit 3) with its results, and the frozen server is killed (it cannot save).
#[test]
fn frozen_redis_mid_run_is_named_and_the_run_ends() {
    require_redis_server();
    let env = Env::new();
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    let pid = env.redis_pid();
    signal(pid, 19); // SIGSTOP
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    assert_eq!(out.code, 3, "{ctx}");
    assert!(
        ctx.contains("stopped answering: no reply in 3000 ms"),
        "{ctx}"
    );
    assert!(ctx.contains("Redis died at invocation"), "{ctx}");
    let doc = env.only_run_json();
    assert_eq!(doc["outcome"], "redis-lost");
    assert_eq!(doc["partial"], true);
    let stop_error = doc["redis"]["stop_error"].as_str().unwrap_or_default();
    assert!(
        stop_error.contains(&format!("killed redis-server pid {pid}")),
        "{stop_error}"
    );
    assert!(!pid_alive(pid), "the frozen server is still there");
    env.assert_no_redis();
}

/// Frozen while it starts: the readiness deadline ends the wait with the reason.
#[test]
fn frozen_redis_during_start_is_bounded() {
    require_redis_server();
    let env = Env::new();
    // Long enough that the run cannot start, finish and remove its state file before this
    // test, on a loaded machine, gets to read the pid (three invocations once did: CI).
    let run = env.run(&["-n", "2000", "-r", "10"]);
    let pid = env.wait_redis_pid();
    signal(pid, 19);
    let out = run.finish(HANG);
    // Either the freeze landed before the first PONG (start fails), or just after it (the run
    // loses Redis); both end non-zero with the server gone.
    assert!(out.code == 1 || out.code == 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("stopped answering")
            || out.stderr.contains("did not answer PING within 3000 ms"),
        "{}",
        out.stderr
    );
    signal(pid, 18); // SIGCONT, in case it is still there
    env.assert_no_redis();
}

/// A Redis killed mid-run: "Redis died at invocation N", outcome redis-lost, exit 3.
#[test]
fn killed_redis_mid_run_is_named_and_the_run_ends() {
    require_redis_server();
    let env = Env::new();
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    signal(env.redis_pid(), 9);
    let out = run.finish(HANG);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("Redis died at invocation"),
        "{}",
        out.stderr
    );
    let doc = env.only_run_json();
    assert_eq!(doc["outcome"], "redis-lost");
    let completed = doc["summary"]["completed"].as_u64().unwrap();
    assert!(completed < 400, "the run went on after Redis died");
    assert!(!env.data().join("redwhisk.state.json").exists());
    env.assert_no_redis();
}

/// A second SIGTERM while the stop hangs (Redis frozen during the stop): the exit is forced,
/// the results are written, and the message says what was left running.
#[test]
fn second_signal_during_a_hung_stop_forces_the_exit() {
    require_redis_server();
    let env = Env::new();
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    let pid = env.redis_pid();
    signal(pid, 19);
    signal(run.pid(), 15);
    run.wait_line("[stopping redis]", HANG);
    signal(run.pid(), 15);
    let out = run.finish(HANG);
    assert_eq!(out.code, 143, "{}", out.stderr);
    assert!(out.stderr.contains("forced exit"), "{}", out.stderr);
    let doc = env.only_run_json();
    assert_eq!(doc["partial"], true);
    let stop_error = doc["redis"]["stop_error"].as_str().unwrap_or_default();
    // Either the force came first (left running, said so) or the stop's own deadline did
    // (killed, said so): never silence.
    assert!(
        stop_error.contains("may be left running") || stop_error.contains("killed redis-server"),
        "{stop_error}"
    );
    // Leave nothing behind ourselves.
    signal(pid, 9);
    signal(pid, 18);
    let t0 = std::time::Instant::now();
    while pid_alive(pid) && t0.elapsed() < HANG {
        std::thread::sleep(Duration::from_millis(10));
    }
    env.assert_no_redis();
}

/// `redis down` refuses a profile a live run owns; with --force it stops it and the run
/// reports Redis lost.
#[test]
fn redis_down_refuses_a_profile_in_use_unless_forced() {
    require_redis_server();
    let env = Env::new();
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    let down = env
        .redwhisk(&["redis", "down", "-p"])
        .arg(env.profile())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&down.stderr);
    assert_eq!(down.status.code(), Some(1), "{err}");
    assert!(err.contains("refusing to stop profile"), "{err}");
    assert!(err.contains(&format!("pid {}", run.pid())), "{err}");
    assert!(err.contains("--force"), "{err}");
    assert!(pid_alive(env.redis_pid()), "refused, yet Redis is gone");
    let forced = env
        .redwhisk(&["redis", "down", "--force", "-p"])
        .arg(env.profile())
        .output()
        .unwrap();
    assert!(
        forced.status.success(),
        "{}",
        String::from_utf8_lossy(&forced.stderr)
    );
    let out = run.finish(HANG);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(
        out.stderr.contains("Redis died at invocation"),
        "{}",
        out.stderr
    );
    env.assert_no_redis();
}

/// 10 runs of one profile started at the same instant, 20 times: exactly one runs, the others
/// fail at once with the lock error, and no redis-server of the profile is left.
#[test]
fn ten_concurrent_runs_of_one_profile_one_wins_each_time() {
    require_redis_server();
    let env = Env::new();
    for round in 0..20 {
        let results = env.dir.path().join(format!("round{round}"));
        // The same instant: all ten wait on one FIFO and are released by one write.
        let go = env.dir.path().join(format!("go{round}"));
        assert!(Command::new("mkfifo").arg(&go).status().unwrap().success());
        let mut runs: Vec<_> = (0..10)
            .map(|_| {
                let c = env.redwhisk(&[]);
                let mut sh = Command::new("sh");
                sh.current_dir(env.dir.path())
                    .envs(c.get_envs().filter_map(|(k, v)| Some((k, v?))))
                    .arg("-c")
                    .arg("read _ < \"$0\"; exec \"$@\"")
                    .arg(&go)
                    .arg(env!("CARGO_BIN_EXE_redwhisk"))
                    // Long enough (a few hundred ms) that the ten really overlap.
                    .args(["run", "-n", "8", "-r", "500", "-p"])
                    .arg(env.profile())
                    .arg("--results-dir")
                    .arg(&results);
                sh.stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let pids: Vec<u32> = runs.iter().map(std::process::Child::id).collect();
        wait_all_blocked_on_fifo(&pids);
        std::fs::write(&go, "\n".repeat(10)).unwrap();
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for (r, pid) in runs.drain(..).zip(&pids) {
            let out = wait_output(r, HANG);
            let err = String::from_utf8_lossy(&out.stderr).into_owned();
            match out.status.code() {
                Some(0) => winners.push(*pid),
                Some(1) => {
                    assert!(err.contains("is in use by pid"), "round {round}: {err}");
                    assert!(err.contains("nothing was started"), "round {round}: {err}");
                    losers.push(err);
                }
                other => panic!("round {round}: exit {other:?}: {err}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}");
        // Each loser was refused by the winner itself (it held the lock at that moment).
        for err in &losers {
            assert!(
                err.contains(&format!("pid {} (", winners[0])),
                "round {round}: {err}"
            );
        }
        let dirs: Vec<_> = std::fs::read_dir(&results).unwrap().collect();
        assert_eq!(
            dirs.len(),
            1,
            "round {round}: only the winner writes results"
        );
        env.assert_no_redis();
    }
}

/// An address that accepts TCP and never replies: `run` and `redis status` end within the
/// profile's ready_timeout_ms and say the server stopped answering.
#[test]
fn silent_external_server_is_bounded() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    // Accept and hold connections without a byte in reply.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let env = Env::external(&format!("redis://127.0.0.1:{port}"));
    let run = env.run(&["-n", "1"]);
    let out = run.finish(HANG);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("did not answer PING within 1500 ms"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("stopped answering"), "{}", out.stderr);
    assert!(env.result_dirs().is_empty());
    let status = env
        .redwhisk(&["redis", "status", "-p"])
        .arg(env.profile())
        .spawn_piped();
    let st = wait_output(status, HANG);
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(text.contains("failed"), "{text}");
    assert!(text.contains("stopped answering"), "{text}");
}

/// A server that is not Redis, and a name that does not resolve: messages that say so.
#[test]
fn wrong_server_and_dns_failure_are_named() {
    let http = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = http.local_addr().unwrap().port();
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for mut s in http.incoming().flatten() {
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n");
        }
    });
    let env = Env::external(&format!("redis://127.0.0.1:{port}"));
    let out = env.run(&["-n", "1"]).finish(HANG);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("does not speak the Redis protocol")
            && out.stderr.contains("HTTP/1.1 400"),
        "{}",
        out.stderr
    );
    // Final at the first answer: not retried until the ready timeout, no advice about loading.
    assert!(
        out.stderr
            .contains("cannot use Redis at redis://127.0.0.1:")
            && !out.stderr.contains("did not answer PING within")
            && !out.stderr.contains("loading"),
        "{}",
        out.stderr
    );
    let env = Env::external("redis://no-such-host.invalid:6379");
    let out = env.run(&["-n", "1"]).finish(HANG);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("cannot resolve host `no-such-host.invalid` (DNS)")
            && !out.stderr.contains("no answer from the resolver"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("Some("), "{}", out.stderr);
}

/// Wait (bounded) until every pid is blocked opening the FIFO.
fn wait_all_blocked_on_fifo(pids: &[u32]) {
    let t0 = std::time::Instant::now();
    while !pids.iter().all(|p| {
        std::fs::read_to_string(format!("/proc/{p}/wchan")).is_ok_and(|w| w == "wait_for_partner")
    }) {
        assert!(t0.elapsed() < HANG, "the runs never reached the start line");
        std::thread::sleep(Duration::from_millis(5));
    }
}

const HANG: Duration = Duration::from_secs(90);

/// kill -9 of redwhisk mid-run: the journal survives; `results repair` makes a valid run.json
/// marked partial + interrupted, dropping only a torn last record; the next run reaps the
/// orphaned Redis and finalises any journal left.
#[test]
fn kill_9_mid_run_leaves_a_journal_that_repair_finalises() {
    require_redis_server();
    let env = Env::new();
    for point in [Point::Start, Point::MidRun] {
        let mut run = env.run(&["-n", "400", "-r", "300"]);
        run.reach(point);
        if point == Point::MidRun {
            run.wait_activations(&env, 3);
        }
        signal(run.pid(), 9);
        let out = run.finish(HANG);
        assert_eq!(out.code, 137);
    }
    // Only the mid-run kill left a run directory (the start kill had none yet).
    let dirs = env.result_dirs();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let dir = &dirs[0];
    assert!(!dir.join("run.json").exists());
    // Tear the last record the way a cut write would.
    let journal = dir.join(".activations.jsonl.partial");
    let kept = std::fs::read_to_string(&journal).unwrap().lines().count();
    assert!(kept >= 3);
    append(&journal, "{\"activationId\":\"torn");
    append(&dir.join(".invocations.csv.partial"), "999,torn,succ");

    let out = env
        .redwhisk(&["results", "repair", "--results-dir"])
        .arg(env.results())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!("{kept} activations kept, 1 torn record dropped")),
        "{text}"
    );
    let doc = env.only_run_json();
    assert_eq!(doc["outcome"], "interrupted");
    assert_eq!(doc["partial"], true);
    assert_eq!(doc["interrupted"], true);
    assert_eq!(doc["activations"].as_array().unwrap().len(), kept);
    assert_eq!(doc["summary"]["completed"].as_u64().unwrap() as usize, kept);
    assert_schema_valid(&doc);
    let csv = std::fs::read_to_string(dir.join("invocations.csv")).unwrap();
    assert_eq!(csv.lines().count(), kept + 1, "header + kept rows");
    assert!(!csv.contains("torn"));

    // A second kill -9 mid-run, then a plain `run`: it reaps the orphaned Redis, finalises the
    // journal and says so.
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    run.wait_activations(&env, 2);
    signal(run.pid(), 9);
    run.finish(HANG);
    assert!(
        !redis_servers_in(&env.data()).is_empty(),
        "kill -9 leaves Redis running"
    );
    let out = env.run(&["-n", "2", "-r", "10"]).finish(HANG);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("reaped an orphan redis-server"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("finalised the interrupted run"),
        "{}",
        out.stderr
    );
    for d in env.result_dirs() {
        assert_finished(&d);
    }
    assert_eq!(env.result_dirs().len(), 3);
    env.assert_no_redis();
}

fn append(path: &std::path::Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(path).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn assert_schema_valid(doc: &serde_json::Value) {
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../schema/run.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}

/// Unmounts (lazily) the small tmpfs a test put under its data directory.
struct Mounted(std::path::PathBuf);

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// The disk fills up mid-run (a 2 MiB tmpfs as the data directory, filled to the last byte):
/// `SHUTDOWN SAVE` fails, the run says why, exits 4 (not 0), and run.json records the reason.
/// Needs root (CI runs as root) for the mount; fails loudly otherwise.
#[test]
fn a_full_disk_at_stop_is_exit_4_and_run_json_says_why() {
    require_redis_server();
    let env = Env::new();
    std::fs::create_dir_all(env.data()).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs"])
        .arg(env.data())
        .status()
        .expect("mount is required");
    assert!(
        mounted.success(),
        "mounting a tmpfs needs root (CI runs as root)"
    );
    let _m = Mounted(env.data());
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    // Fill the data directory's filesystem completely.
    {
        use std::io::Write;
        let mut f = std::fs::File::create(env.data().join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        loop {
            match f.write(&block) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = f.flush();
    }
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    assert_eq!(out.code, 4, "{ctx}");
    let doc = env.only_run_json();
    assert_eq!(doc["outcome"], "done", "{doc:#}");
    let stop_error = doc["redis"]["stop_error"].as_str().unwrap_or_default();
    assert!(!stop_error.is_empty(), "run.json does not say why: {doc:#}");
    eprintln!("stop_error: {stop_error}");
    assert!(ctx.contains(stop_error.lines().next().unwrap()), "{ctx}");
    // Make room again and stop what may be left, so the mount can go.
    std::fs::remove_file(env.data().join("filler")).unwrap();
    let _ = env
        .redwhisk(&["redis", "down", "--force", "-p"])
        .arg(env.profile())
        .status();
    env.assert_no_redis();
}

/// During the stop (a slow final save): SIGTERM does not abandon the save; every invocation
/// had finished, so the run is complete (`done`, exit 0) with Redis saved and stopped. A Redis killed -9 during
/// the stop is named, and nothing is left running.
#[test]
fn signal_and_kill_during_the_stop() {
    require_redis_server();
    // SIGTERM while SHUTDOWN SAVE runs.
    let env = Env::new();
    let mut run = env.run(&["-n", "300", "-r", "100"]);
    run.reach(Point::MidRun);
    env.slow_save(100);
    run.reach(Point::Stop);
    signal(run.pid(), 15);
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    // Every invocation had finished: the run is complete, so it is `done` and exits 0.
    assert_eq!(out.code, 0, "{ctx}");
    assert!(ctx.contains("SIGTERM: cancelling"), "{ctx}");
    let doc = env.only_run_json();
    assert_eq!(
        (&doc["outcome"], &doc["partial"]),
        (&"done".into(), &false.into()),
        "{doc:#}"
    );
    assert_eq!(doc["redis"]["stop"]["was_running"], true, "{doc:#}");
    assert!(env.data().join("dump.rdb").exists(), "not saved: {ctx}");
    env.assert_no_redis();

    // kill -9 of Redis while it saves.
    let env = Env::new();
    let mut run = env.run(&["-n", "300", "-r", "100"]);
    run.reach(Point::MidRun);
    env.slow_save(100);
    let pid = env.redis_pid();
    run.reach(Point::Stop);
    signal(pid, 9);
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    // Killed mid-save: the final save did not complete, and the run says so (exit 4).
    assert_eq!(out.code, 4, "{ctx}");
    let doc = env.only_run_json();
    let stop_error = doc["redis"]["stop_error"].as_str().unwrap_or_default();
    assert!(
        stop_error
            .contains("ended during SHUTDOWN (killed by signal 9) before its final save completed"),
        "{doc:#}"
    );
    assert!(!pid_alive(pid));
    env.assert_no_redis();
}

/// Redis frozen (SIGSTOP) in the middle of its final save (made slow: about 2 s): the stop
/// watches the save, names the freeze after `redis.stop_timeout_ms` without progress, and the
/// run ends with exit 4 in bounded time, leaving Redis as it is (its data is only in memory).
/// Resumed, the next `redis down` saves it and stops it cleanly.
#[test]
fn redis_frozen_during_the_final_save_is_named_and_left_as_it_is() {
    require_redis_server();
    let env = Env::new();
    env.set_redis("stop_timeout_ms = 1500");
    let mut run = env.run(&["-n", "300", "-r", "100"]);
    run.reach(Point::MidRun);
    env.slow_save(100);
    let pid = env.redis_pid();
    run.reach(Point::Stop);
    std::thread::sleep(Duration::from_millis(300));
    signal(pid, 19); // SIGSTOP
    let t0 = std::time::Instant::now();
    let out = run.finish(HANG);
    let waited = t0.elapsed();
    let ctx = out.stderr.clone();
    assert_eq!(out.code, 4, "{ctx}");
    let doc = env.only_run_json();
    let stop_error = doc["redis"]["stop_error"].as_str().unwrap_or_default();
    assert!(
        stop_error.contains("stopped making progress during its final save")
            && stop_error.contains(&format!("process {pid} stopped (state T")),
        "{doc:#}"
    );
    // Left as it is: alive, still recorded in the state file; nothing was killed.
    assert!(pid_alive(pid), "the frozen Redis was killed: {ctx}");
    assert_eq!(env.redis_pid(), pid);
    assert!(
        waited < Duration::from_secs(30),
        "the stop waited {waited:?}, not about stop_timeout_ms"
    );
    signal(pid, 18); // SIGCONT: the save resumes and completes.
    let down = wait_output(
        env.redwhisk(&["redis", "down", "-p"])
            .arg(env.profile())
            .spawn_piped(),
        HANG,
    );
    let text = String::from_utf8_lossy(&down.stderr);
    assert!(down.status.success(), "{text}");
    assert!(!pid_alive(pid), "{text}");
    assert!(env.data().join("dump.rdb").exists(), "not saved: {text}");
    env.assert_no_redis();
}

/// `redis down --crash` with a state file naming a live redis-server that is not this
/// profile's (another data directory, another password, the right start time): refused
/// before any signal, with what to do; that server keeps running.
#[test]
fn crash_stop_checks_the_server_is_ours_before_killing_it() {
    require_redis_server();
    let env = Env::new();
    // A stranger: its own directory and password.
    let other = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut stranger = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--requirepass", "not-the-profiles", "--save", ""])
        .arg("--dir")
        .arg(other.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = stranger.id();
    // Wait for it to listen.
    let t0 = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "stranger never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let start = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let start: u64 = start[start.rfind(')').unwrap() + 1..]
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    std::fs::create_dir_all(env.data()).unwrap();
    std::fs::write(
        env.data().join("redwhisk.state.json"),
        serde_json::json!({
            "backend": "process", "pid": pid, "pid_start": start, "container": null,
            "host": "127.0.0.1", "port": port, "started_at": "2026-01-01T00:00:00Z",
            "owner": {"kind": "detached"}
        })
        .to_string(),
    )
    .unwrap();
    let out = wait_output(
        env.redwhisk(&["redis", "down", "--crash", "-p"])
            .arg(env.profile())
            .spawn_piped(),
        HANG,
    );
    let text = String::from_utf8_lossy(&out.stderr);
    let alive = pid_alive(pid);
    let _ = stranger.kill();
    let _ = stranger.wait();
    assert!(alive, "a redis-server that is not ours was killed: {text}");
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!("refusing to signal pid {pid}"))
            && text.contains("not in redis.data_dir")
            && text.contains("nothing was stopped"),
        "{text}"
    );
}

/// redwhisk killed -9 while its Redis loads a large data set: the orphan is still loading when
/// the next run starts. That run waits for the load (LOADING), saves and stops the orphan, starts
/// its own server and runs: exit 0, every key kept, the reap said in one line.
#[test]
fn an_orphan_still_loading_is_waited_for_then_saved_and_stopped() {
    require_redis_server();
    let env = Env::new();
    env.set_redis("ready_timeout_ms = 60000");
    big_dump(&env.data(), 3_000_000);
    let mut run = env.run(&["-n", "2", "-r", "10"]);
    run.reach(Point::Start);
    let orphan = env.wait_redis_pid();
    signal(run.pid(), 9);
    assert_eq!(run.finish(HANG).code, 137);
    assert!(pid_alive(orphan));
    let out = env.run(&["-n", "2", "-r", "10"]).finish(HANG);
    let ctx = out.stderr.clone();
    assert_eq!(out.code, 0, "{ctx}");
    assert!(
        ctx.contains(&format!("reaped an orphan redis-server (pid {orphan}")),
        "{ctx}"
    );
    assert!(!pid_alive(orphan));
    let doc = env
        .result_dirs()
        .into_iter()
        .find(|d| d.join("run.json").exists())
        .map(|d| {
            serde_json::from_str::<serde_json::Value>(
                &std::fs::read_to_string(d.join("run.json")).unwrap(),
            )
            .unwrap()
        })
        .unwrap();
    assert_eq!(
        doc["redis"]["cold_start"]["keys_restored"], 3_000_000,
        "{doc:#}"
    );
    env.assert_no_redis();
}

/// redwhisk killed -9 while its Redis runs the final `SHUTDOWN SAVE` (made slow): the orphan
/// is still saving. `redis down` says so and waits for the save instead of reporting a failed
/// one; the next run, had it come first, does the same and starts once the orphan exits.
#[test]
fn an_orphan_still_saving_is_waited_for_by_down_and_by_the_next_run() {
    require_redis_server();
    for next in ["down", "run"] {
        let env = Env::new();
        let mut run = env.run(&["-n", "300", "-r", "100"]);
        run.reach(Point::MidRun);
        env.slow_save(150);
        let orphan = env.redis_pid();
        run.reach(Point::Stop);
        std::thread::sleep(Duration::from_millis(300));
        signal(run.pid(), 9);
        assert_eq!(run.finish(HANG).code, 137);
        assert!(
            pid_alive(orphan),
            "{next}: Redis did not outlive its starter"
        );
        let (code, ctx) = if next == "down" {
            let out = wait_output(
                env.redwhisk(&["redis", "down", "-p"])
                    .arg(env.profile())
                    .spawn_piped(),
                HANG,
            );
            let text = String::from_utf8_lossy(&out.stderr).to_string();
            assert!(
                text.contains(&format!(
                    "redis-server pid {orphan} is still saving (a SHUTDOWN already under way)"
                )),
                "{text}"
            );
            (out.status.code().unwrap_or(-1), text)
        } else {
            let out = env.run(&["-n", "2", "-r", "10"]).finish(HANG);
            assert!(
                out.stderr.contains("is still saving: waiting for it to finish")
                    && out.stderr.contains(&format!(
                        "reaped an orphan redis-server (pid {orphan}): it finished its final save and exited"
                    )),
                "{}",
                out.stderr
            );
            (out.code, out.stderr)
        };
        assert_eq!(code, 0, "{next}: {ctx}");
        assert!(!pid_alive(orphan), "{next}: {ctx}");
        assert!(
            !ctx.contains("left running with its data unsaved"),
            "{next}: {ctx}"
        );
        env.assert_no_redis();
    }
}

/// The one run.json of `env`'s results directory newer than `before` (a set of run dirs).
fn new_run_json(env: &Env, before: &[std::path::PathBuf]) -> serde_json::Value {
    let dirs: Vec<_> = env
        .result_dirs()
        .into_iter()
        .filter(|d| !before.contains(d))
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    assert_finished(&dirs[0]);
    serde_json::from_str(&std::fs::read_to_string(dirs[0].join("run.json")).unwrap()).unwrap()
}

/// A run cancelled mid-run deletes its own keys (its prefix, SCAN + UNLINK) before the final
/// save, counted in run.json and the report: the saved data set holds exactly what it held
/// before (100,000 keys), not those plus the cut invocations' keys. Keys of the run's prefix
/// found at a start (left by a run killed -9, here written by hand) are said in one line.
#[test]
fn a_cancelled_run_deletes_its_own_keys_and_leftovers_are_announced() {
    require_redis_server();
    let env = Env::new();
    big_dump(&env.data(), 100_000);
    let mut run = env.run(&["-n", "400", "-r", "300"]);
    run.reach(Point::MidRun);
    run.wait_activations(&env, 3);
    signal(run.pid(), 15);
    let out = run.finish(HANG);
    assert_eq!(out.code, 143, "{}", out.stderr);
    let doc = env.only_run_json();
    let deleted = doc["redis"]["prefix_keys_deleted"].as_u64();
    assert!(deleted.is_some(), "{doc:#}");
    assert!(
        out.stderr.contains("cancelled: deleted") && out.stderr.contains("prefix `rw:`"),
        "{}",
        out.stderr
    );
    assert_eq!(doc["redis"]["prefix_keys_at_start"], 0, "{doc:#}");

    // The next run finds the data set as it was before the cancelled one.
    let before = env.result_dirs();
    let out = env.run(&["-n", "1", "-r", "10"]).finish(HANG);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let doc = new_run_json(&env, &before);
    assert_eq!(
        doc["redis"]["cold_start"]["keys_restored"], 100_000,
        "{doc:#}"
    );
    assert!(!out.stderr.contains("already holds"), "{}", out.stderr);

    // Leftovers of this prefix (as a run killed -9 mid-invocation leaves them) are announced.
    let up = env
        .redwhisk(&["redis", "up", "-p"])
        .arg(env.profile())
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let text = std::fs::read_to_string(env.data().join("redwhisk.state.json")).unwrap();
    let st: serde_json::Value = serde_json::from_str(&text).unwrap();
    let pw = std::fs::read_to_string(env.data().join("redwhisk.password")).unwrap();
    let client =
        redis::Client::open(format!("redis://:{}@127.0.0.1:{}/", pw.trim(), st["port"])).unwrap();
    let mut con = client.get_connection().unwrap();
    for i in 0..7 {
        redis::cmd("SET")
            .arg(format!("rw:9:left:{i}"))
            .arg(i)
            .query::<()>(&mut con)
            .unwrap();
    }
    drop(con);
    let down = env
        .redwhisk(&["redis", "down", "-p"])
        .arg(env.profile())
        .output()
        .unwrap();
    assert!(down.status.success());
    let before = env.result_dirs();
    let out = env.run(&["-n", "1", "-r", "10"]).finish(HANG);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("Redis already holds 7 keys with this run's prefix `rw:`"),
        "{}",
        out.stderr
    );
    let doc = new_run_json(&env, &before);
    assert_eq!(doc["redis"]["prefix_keys_at_start"], 7, "{doc:#}");
    assert!(
        out.stdout
            .contains("Keys with this run's prefix already in Redis at the start: 7"),
        "{}",
        out.stdout
    );
    env.assert_no_redis();
}

/// A Redis frozen (SIGSTOP) during the final save, with a long `redis.stop_timeout_ms`: one
/// SIGTERM ends the wait at once (a save that makes progress would still be let finish, as
/// `signal_and_kill_during_the_stop` shows), exit 4, the frozen Redis left as it is.
#[test]
fn one_signal_ends_the_wait_for_a_frozen_final_save() {
    require_redis_server();
    let env = Env::new();
    env.set_redis("stop_timeout_ms = 600000");
    let mut run = env.run(&["-n", "300", "-r", "100"]);
    run.reach(Point::MidRun);
    env.slow_save(100);
    let pid = env.redis_pid();
    run.reach(Point::Stop);
    std::thread::sleep(Duration::from_millis(300));
    signal(pid, 19); // SIGSTOP
    std::thread::sleep(Duration::from_millis(300));
    signal(run.pid(), 15);
    let out = run.finish(HANG);
    let ctx = out.stderr.clone();
    let alive = pid_alive(pid);
    signal(pid, 18);
    let _ = wait_output(
        env.redwhisk(&["redis", "down", "-p"])
            .arg(env.profile())
            .spawn_piped(),
        HANG,
    );
    assert_eq!(out.code, 4, "{ctx}");
    assert!(ctx.contains("SIGTERM: cancelling"), "{ctx}");
    let doc = env.only_run_json();
    let stop_error = doc["redis"]["stop_error"].as_str().unwrap_or_default();
    assert!(
        stop_error.contains("stopped (state T") && stop_error.contains("the signal ended the wait"),
        "{doc:#}"
    );
    assert!(alive, "the frozen Redis was killed: {ctx}");
    env.assert_no_redis();
}
