//! Snapshots against real S3-compatible servers (moto and s3rver, both running the same
//! suite): round trips with every key compared, corruption refused, an upload killed before
//! its manifest, the store unreachable at stop and at start, wrong credentials, secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod s3_support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use redwhisk::profile::Profile;
use redwhisk::snapshots::{SnapshotStore, catalog};
use s3_support::*;

fn require_redis() {
    assert!(
        Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok(),
        "redis-server is not installed: run `bash scripts/ci-setup.sh`"
    );
}

fn store(w: &World, profile: &std::path::Path, s3: &S3Server) -> SnapshotStore {
    let p = Profile::load(profile).unwrap();
    SnapshotStore::open_with(p.snapshots.as_ref().unwrap(), &w.name, &s3.settings()).unwrap()
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

/// Write n keys, stop (snapshot), wipe the data dir, start (restore), compare every key.
fn round_trip(kind: Kind, n: u64, persistence: &str) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let p = w.profile("p", persistence, &s3.endpoint(), "");
    let ps = p.to_str().unwrap();
    let env = s3.env();
    let up = ok(w.cli(&["redis", "up", "-p", ps], &env));
    assert!(text(&up).contains("no snapshot in"), "{}", text(&up));
    let before = {
        let mut c = w.redis();
        write_keys(&mut c, n, "rt");
        dump(&mut c)
    };
    assert_eq!(before.len() as u64, n);
    let down = ok(w.cli(&["redis", "down", "-p", ps], &env));
    assert!(text(&down).contains("uploaded"), "{}", text(&down));
    w.wipe();
    let up = ok(w.cli(&["redis", "up", "-p", ps, "--output", "json"], &env));
    let j: serde_json::Value = serde_json::from_slice(&up.stdout).unwrap();
    let r = &j["cold_start"]["restore"];
    assert!(r["id"].is_string(), "{}", text(&up));
    assert_eq!(r["keys_expected"], n);
    assert_eq!(j["cold_start"]["keys_restored"], n);
    let after = dump(&mut w.redis());
    assert_eq!(lost(&before, &after), 0, "keys lost after restore");
    assert_eq!(digest(&before), digest(&after));
    ok(w.cli(&["redis", "down", "-p", ps], &env));
    // Two snapshots now; the manifest names the persistence and the Redis version.
    let s = store(&w, &p, &s3);
    let cat = rt().block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.complete.len(), 2);
    let m = &cat.complete[0];
    assert_eq!(
        m.redis_version.as_deref().map(|v| v.starts_with('7')),
        Some(true)
    );
    assert!(m.persistence.starts_with(persistence));
    assert_eq!(m.keys, Some(n));
}

/// Flip one byte of the uploaded RDB: the restore is refused, naming the object.
fn corruption(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let ps = p.to_str().unwrap();
    let env = s3.env();
    ok(w.cli(&["redis", "up", "-p", ps], &env));
    write_keys(&mut w.redis(), 2000, "c");
    ok(w.cli(&["redis", "down", "-p", ps], &env));
    let s = store(&w, &p, &s3);
    let rt = rt();
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    let id = cat.latest().unwrap().id.clone();
    let obj = s.object(&id, "dump.rdb");
    rt.block_on(async {
        use object_store::ObjectStore;
        let mut bytes = s
            .store
            .get(&obj)
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x5a;
        s.store.put(&obj, bytes.into()).await.unwrap();
    });
    w.wipe();
    let up = w.cli(&["redis", "up", "-p", ps], &env);
    let t = text(&up);
    assert_eq!(up.status.code(), Some(1), "{t}");
    assert!(t.contains(&format!("snapshot {id} is corrupt")), "{t}");
    assert!(t.contains(&s.url_of(&obj)), "names the object: {t}");
    assert!(t.contains("sha256"), "{t}");
    assert!(
        t.contains("Restore an older snapshot"),
        "says what to do: {t}"
    );
    assert!(
        !w.data_dir().join("dump.rdb").exists(),
        "nothing was placed"
    );
    assert!(
        !w.data_dir().join("redwhisk.state.json").exists(),
        "Redis did not start"
    );
}

/// kill -9 between the files and the manifest: no manifest, the previous snapshot stays the
/// latest, the upload is pending, and the next stop uploads and prunes the debris.
fn killed_mid_upload(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let p = w.profile("p", "aof", &s3.endpoint(), "keep = 1");
    let ps = p.to_str().unwrap();
    let env = s3.env();
    ok(w.cli(&["redis", "up", "-p", ps], &env));
    write_keys(&mut w.redis(), 1000, "first");
    ok(w.cli(&["redis", "down", "-p", ps], &env));
    let s = store(&w, &p, &s3);
    let rt = rt();
    let first = rt
        .block_on(catalog::list(&s, &w.name))
        .unwrap()
        .latest()
        .unwrap()
        .id
        .clone();
    ok(w.cli(&["redis", "up", "-p", ps], &env));
    write_keys(&mut w.redis(), 1500, "second");
    let mut child = Command::new(env!("CARGO_BIN_EXE_redwhisk"))
        .args(["redis", "down", "-p", ps])
        .current_dir(w.dir.path())
        .env("HOME", w.dir.path().join("home"))
        .env(redwhisk::snapshots::upload::PAUSE_ENV, "60000")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    loop {
        let line = lines
            .next()
            .expect("stderr ended before the pause")
            .unwrap();
        seen.push(line.clone());
        if line.contains("pausing") {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(
        cat.latest().unwrap().id,
        first,
        "the previous snapshot stays the latest"
    );
    assert_eq!(cat.complete.len(), 1);
    assert_eq!(
        cat.incomplete.len(),
        1,
        "the files without a manifest: {seen:?}"
    );
    assert!(w.data_dir().join("snapshot-pending.json").exists());
    // Redis was stopped before the upload; the local data is intact and starts as is.
    let up = ok(w.cli(&["redis", "up", "-p", ps], &env));
    assert!(
        !text(&up).contains("restoring"),
        "local data wins: {}",
        text(&up)
    );
    assert_eq!(dump(&mut w.redis()).len(), 1500);
    ok(w.cli(&["redis", "down", "-p", ps], &env));
    assert!(!w.data_dir().join("snapshot-pending.json").exists());
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.complete.len(), 1, "keep = 1");
    assert_ne!(cat.latest().unwrap().id, first);
    assert!(
        cat.incomplete.is_empty(),
        "older debris pruned: {:?}",
        cat.incomplete
    );
    w.wipe();
    ok(w.cli(&["redis", "up", "-p", ps], &env));
    assert_eq!(dump(&mut w.redis()).len(), 1500);
    ok(w.cli(&["redis", "down", "-p", ps], &env));
}

/// The store dies before a stop: Redis stops with its data on disk, the stop fails clearly,
/// the upload is pending; the next start uses the local data with a warning; the next stop
/// with the store back uploads it.
fn unreachable_at_stop_and_start(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let good = w.profile("good", "rdb", &s3.endpoint(), "");
    let dead = w.profile(
        "dead",
        "rdb",
        &format!("http://127.0.0.1:{}", free_port()),
        "",
    );
    let (good, dead) = (good.to_str().unwrap(), dead.to_str().unwrap());
    let env = s3.env();
    ok(w.cli(&["redis", "up", "-p", good], &env));
    write_keys(&mut w.redis(), 3000, "u");
    let before = dump(&mut w.redis());
    let down = w.cli(&["redis", "down", "-p", dead], &env);
    let t = text(&down);
    assert_eq!(down.status.code(), Some(1), "{t}");
    assert!(t.contains("redis stopped (graceful)"), "{t}");
    assert!(t.contains("upload is pending"), "{t}");
    assert!(
        t.contains("Connection refused") || t.contains("connect"),
        "{t}"
    );
    assert!(w.data_dir().join("dump.rdb").exists(), "data on local disk");
    assert!(w.data_dir().join("snapshot-pending.json").exists());
    let st = ok(w.cli(&["redis", "status", "-p", dead], &env));
    assert!(text(&st).contains("stopped"), "{}", text(&st));
    // Start with the store unreachable and local data: a warning, then the local data.
    let up = ok(w.cli(&["redis", "up", "-p", dead], &env));
    assert!(
        text(&up).contains("starting from the local data"),
        "{}",
        text(&up)
    );
    assert_eq!(lost(&before, &dump(&mut w.redis())), 0);
    // The next stop with the store reachable uploads what was pending.
    let down = ok(w.cli(&["redis", "down", "-p", good], &env));
    assert!(text(&down).contains("uploaded"), "{}", text(&down));
    assert!(!w.data_dir().join("snapshot-pending.json").exists());
    w.wipe();
    // An empty data dir with the store unreachable: refused, not started empty.
    let up = w.cli(&["redis", "up", "-p", dead], &env);
    assert_eq!(up.status.code(), Some(1), "{}", text(&up));
    assert!(text(&up).contains("failed"), "{}", text(&up));
    assert!(!w.data_dir().join("redwhisk.state.json").exists());
    ok(w.cli(&["redis", "up", "-p", good], &env));
    assert_eq!(lost(&before, &dump(&mut w.redis())), 0);
    ok(w.cli(&["redis", "down", "-p", good], &env));
}

/// The CLI: list, show, restore, prune, with --output json; and no secret anywhere.
fn cli_and_secrets(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "keep = 2");
    let ps = p.to_str().unwrap();
    let env = s3.env();
    let mut outputs = Vec::new();
    for round in 0..3 {
        outputs.push(ok(w.cli(&["redis", "up", "-p", ps], &env)));
        write_keys(&mut w.redis(), 100 * (round + 1), "cli");
        outputs.push(ok(w.cli(&["redis", "down", "-p", ps], &env)));
    }
    let list = ok(w.cli(&["snapshots", "list", "-p", ps, "--output", "json"], &env));
    let cat: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let complete = cat["complete"].as_array().unwrap();
    assert_eq!(complete.len(), 2, "keep = 2");
    assert_eq!(complete[0]["keys"], 300);
    let id = complete[1]["id"].as_str().unwrap().to_string();
    let show = ok(w.cli(
        &["snapshots", "show", &id, "-p", ps, "--output", "json"],
        &env,
    ));
    let m: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(m["keys"], 200);
    assert_eq!(m["files"][0]["path"], "dump.rdb");
    assert_eq!(m["files"][0]["sha256"].as_str().unwrap().len(), 64);
    // Restore the older one over local data: the local files are moved aside, not deleted.
    let r = ok(w.cli(&["snapshots", "restore", &id, "-p", ps], &env));
    assert!(text(&r).contains("moved to"), "{}", text(&r));
    ok(w.cli(&["redis", "up", "-p", ps], &env));
    assert_eq!(dump(&mut w.redis()).len(), 200);
    outputs.push(ok(w.cli(&["redis", "down", "-p", ps], &env)));
    let text_list = ok(w.cli(&["snapshots", "list", "-p", ps], &env));
    assert!(String::from_utf8_lossy(&text_list.stdout).contains("keep 2"));
    let pr = ok(w.cli(
        &[
            "snapshots",
            "prune",
            "-p",
            ps,
            "--keep",
            "1",
            "--output",
            "json",
        ],
        &env,
    ));
    let pj: serde_json::Value = serde_json::from_slice(&pr.stdout).unwrap();
    assert_eq!(pj["deleted"].as_array().unwrap().len(), 1);
    let bad = w.cli(&["snapshots", "show", "nope", "-p", ps], &env);
    assert!(
        text(&bad).contains("is not a snapshot id"),
        "{}",
        text(&bad)
    );
    // A run with the profile: results and logs too.
    let run = w.cli(&["run", "-p", ps, "-n", "2", "--output", "json"], &env);
    assert!(run.status.success(), "{}", text(&run));
    outputs.extend([list, show, r, text_list, pr, bad, run]);
    for o in &outputs {
        let t = text(o);
        assert!(!t.contains(&s3.secret), "secret in output: {t}");
    }
    let hits = search_tree(w.dir.path(), &s3.secret)
        .into_iter()
        .filter(|p| !p.starts_with(s3.dir.path()))
        .collect::<Vec<_>>();
    assert!(hits.is_empty(), "secret found in {hits:?}");
    assert!(
        w.dir.path().join("results").exists(),
        "the run wrote results"
    );
}

/// Wrong credentials at stop. s3rver refuses an unknown access key id (it does not verify V4
/// signatures, and moto's server checks nothing by default), so the wrong key id is the fault.
#[test]
fn wrong_credentials_at_stop_s3rver() {
    require_redis();
    let s3 = S3Server::start(Kind::S3rver);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "restore = \"none\"");
    let ps = p.to_str().unwrap();
    ok(w.cli(&["redis", "up", "-p", ps], &s3.env()));
    write_keys(&mut w.redis(), 500, "w");
    let wrong_secret = unique("wrong-secret-Xy7");
    let env = vec![
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            "AKIAWRONGKEYID".to_string(),
        ),
        ("AWS_SECRET_ACCESS_KEY".to_string(), wrong_secret.clone()),
    ];
    let down = w.cli(&["redis", "down", "-p", ps], &env);
    let t = text(&down);
    assert_eq!(down.status.code(), Some(1), "{t}");
    assert!(t.contains("InvalidAccessKeyId"), "{t}");
    assert!(t.contains("upload is pending"), "{t}");
    assert!(!t.contains(&wrong_secret), "{t}");
    assert!(w.data_dir().join("dump.rdb").exists());
    // No credentials at all: a clear error too.
    ok(w.cli(&["redis", "up", "-p", ps], &s3.env()));
    let down = w.cli(&["redis", "down", "-p", ps], &[]);
    assert!(text(&down).contains("no S3 credentials"), "{}", text(&down));
    ok(w.cli(&["redis", "up", "-p", ps], &s3.env()));
    ok(w.cli(&["redis", "down", "-p", ps], &s3.env()));
    assert!(!w.data_dir().join("snapshot-pending.json").exists());
}

/// AWS_PROFILE with ~/.aws/credentials and ~/.aws/config (endpoint from the config file).
#[test]
fn aws_profile_files_moto() {
    require_redis();
    let s3 = S3Server::start(Kind::Moto);
    let w = World::new();
    let aws = w.dir.path().join("home/.aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!("[default]\naws_access_key_id = nope\naws_secret_access_key = nope\n[ci]\naws_access_key_id = {}\naws_secret_access_key = {}\n", s3.key_id, s3.secret),
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile ci]\nregion = eu-west-1\nendpoint_url = {}\n",
            s3.endpoint()
        ),
    )
    .unwrap();
    let path = w.dir.path().join("p.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"{}\"\n[redis]\ndata_dir = \"{}\"\n[snapshots]\nurl = \"s3://{BUCKET}/viaprofile\"\nallow_http = true\n",
            w.name,
            w.data_dir().display()
        ),
    )
    .unwrap();
    let ps = path.to_str().unwrap();
    let env = vec![("AWS_PROFILE".to_string(), "ci".to_string())];
    ok(w.cli(&["redis", "up", "-p", ps], &env));
    write_keys(&mut w.redis(), 100, "prof");
    ok(w.cli(&["redis", "down", "-p", ps], &env));
    let l = ok(w.cli(&["snapshots", "list", "-p", ps, "--output", "json"], &env));
    let cat: serde_json::Value = serde_json::from_slice(&l.stdout).unwrap();
    assert_eq!(cat["complete"].as_array().unwrap().len(), 1);
    let missing = w.cli(
        &["snapshots", "list", "-p", ps],
        &[("AWS_PROFILE".into(), "nope".into())],
    );
    assert!(
        text(&missing).contains("AWS_PROFILE=nope: no [nope] section"),
        "{}",
        text(&missing)
    );
}

macro_rules! suite {
    ($($name:ident => $body:expr;)*) => {
        mod moto {
            use super::*;
            $( #[test] fn $name() { ($body)(Kind::Moto) } )*
        }
        mod s3rver {
            use super::*;
            $( #[test] fn $name() { ($body)(Kind::S3rver) } )*
        }
    };
}

suite! {
    round_trip_10k_rdb => |k| round_trip(k, 10_000, "rdb");
    round_trip_10k_aof => |k| round_trip(k, 10_000, "aof");
    round_trip_100k_rdb => |k| round_trip(k, 100_000, "rdb");
    corrupt_object_is_refused => corruption;
    kill_9_before_manifest => killed_mid_upload;
    store_unreachable_at_stop_and_start => unreachable_at_stop_and_start;
    cli_and_no_secret_anywhere => cli_and_secrets;
}
