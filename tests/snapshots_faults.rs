//! Snapshot faults (issue 23, items 10 and 11) against moto's server and s3rver: a corrupt
//! manifest, a clock running ahead, a persistence change, a store that accepts connections
//! and never answers, two writers racing for a generation, the checksum header on uploads
//! and S3's region redirect (a loopback proxy in front of moto answers like S3 does).
//! Each CLI step is timed against a generous bound (a hang fails, a slow machine does not).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod s3_support;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use object_store::ObjectStore;
use redwhisk::profile::Profile;
use redwhisk::snapshots::upload::{self, PreStop};
use redwhisk::snapshots::{SnapshotStore, catalog};
use s3_support::*;

/// No step of these tests may take longer: a hang fails, slowness does not.
const BOUND: Duration = Duration::from_secs(90);

fn require_redis() {
    assert!(
        Command::new("redis-server")
            .arg("--version")
            .output()
            .is_ok(),
        "redis-server is not installed: run `bash scripts/ci-setup.sh`"
    );
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().unwrap()
}

fn store_at(w: &World, profile: &Path, s3: &S3Server) -> SnapshotStore {
    let p = Profile::load(profile).unwrap();
    SnapshotStore::open_with(p.snapshots.as_ref().unwrap(), &w.name, &s3.settings()).unwrap()
}

/// The CLI, timed against [`BOUND`].
#[track_caller]
fn timed(w: &World, args: &[&str], env: &[(String, String)]) -> (Output, Duration) {
    let t0 = Instant::now();
    let o = w.cli(args, env);
    let took = t0.elapsed();
    assert!(took < BOUND, "{args:?} took {took:?}: {}", text(&o));
    (o, took)
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(o)))
}

/// One unreadable manifest: `list` shows it as corrupt and the others as they are, a new VM
/// restores the newest valid snapshot, the next upload numbers past it, `show` explains,
/// and `prune` deletes it.
fn corrupt_manifest(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let ps = p.to_str().unwrap();
    let env = s3.env();
    ok(timed(&w, &["redis", "up", "-p", ps], &env).0);
    write_keys(&mut w.redis(), 500, "a");
    let first = dump(&mut w.redis());
    ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
    ok(timed(&w, &["redis", "up", "-p", ps], &env).0);
    write_keys(&mut w.redis(), 800, "b");
    ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
    let s = store_at(&w, &p, &s3);
    let rt = rt();
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.complete.len(), 2);
    let (good, bad) = (cat.complete[1].clone(), cat.complete[0].clone());
    assert_eq!((good.generation, bad.generation), (Some(1), Some(2)));
    rt.block_on(s.store.put(&s.manifest(&bad.id), "{ not json".into()))
        .unwrap();

    let (l, _) = timed(
        &w,
        &["snapshots", "list", "-p", ps, "--output", "json"],
        &env,
    );
    let j = json(&ok(l));
    assert_eq!(j["complete"].as_array().unwrap().len(), 1);
    assert_eq!(j["complete"][0]["id"], good.id.as_str());
    assert_eq!(j["corrupt"][0]["id"], bad.id.as_str());
    assert_eq!(
        j["corrupt"][0]["object"],
        s.url_of(&s.manifest(&bad.id)).as_str()
    );
    let (l, _) = timed(&w, &["snapshots", "list", "-p", ps], &env);
    let t = text(&ok(l));
    assert!(t.contains("corrupt"), "{t}");
    let (show, _) = timed(&w, &["snapshots", "show", bad.id.as_str(), "-p", ps], &env);
    let t = text(&show);
    assert_eq!(show.status.code(), Some(1), "{t}");
    assert!(t.contains("is not a valid manifest"), "{t}");
    assert!(
        t.contains("snapshots prune"),
        "names a command that works: {t}"
    );

    // A new VM restores the newest valid snapshot.
    w.wipe();
    let (up, _) = timed(&w, &["redis", "up", "-p", ps, "--output", "json"], &env);
    let j = json(&ok(up));
    assert_eq!(j["cold_start"]["restore"]["id"], good.id.as_str());
    assert_eq!(lost(&first, &dump(&mut w.redis())), 0);
    assert!(w.data_dir().join("dump.rdb").exists());
    // The next upload and its retention work; it numbers past the corrupt one's claim.
    ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.latest().unwrap().generation, Some(3));
    assert!(
        cat.corrupt.is_empty(),
        "retention deleted the corrupt one: {:?}",
        cat.corrupt
    );
    // `prune` by hand deletes a corrupt one too.
    rt.block_on(s.store.put(&s.manifest(&good.id), "[]".into()))
        .unwrap();
    let (pr, _) = timed(
        &w,
        &["snapshots", "prune", "-p", ps, "--output", "json"],
        &env,
    );
    let j = json(&ok(pr));
    assert_eq!(j["deleted"][0], good.id.as_str());
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert!(cat.corrupt.is_empty() && cat.complete.len() == 1);
}

/// A machine whose clock runs 5 minutes ahead uploads older data: the real newest (a
/// higher generation, an earlier date) is the one restored, and prune keeps it.
fn clock_skew(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let ps = p.to_str().unwrap();
    let env = s3.env();
    let mut ahead = env.clone();
    ahead.push((upload::CLOCK_SKEW_ENV.into(), "300".into()));
    ok(timed(&w, &["redis", "up", "-p", ps], &ahead).0);
    write_keys(&mut w.redis(), 1000, "old");
    ok(timed(&w, &["redis", "down", "-p", ps], &ahead).0);
    // Another machine, on time: a new VM restores that, then writes 1,000 keys more.
    w.wipe();
    ok(timed(&w, &["redis", "up", "-p", ps], &env).0);
    write_keys(&mut w.redis(), 2000, "new");
    let newest = dump(&mut w.redis());
    ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
    let s = store_at(&w, &p, &s3);
    let rt = rt();
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    let (real, skewed) = (&cat.complete[0], &cat.complete[1]);
    assert!(
        skewed.created_at > real.created_at,
        "the skewed one is dated later"
    );
    assert_eq!((real.generation, skewed.generation), (Some(2), Some(1)));
    assert_eq!(real.keys, Some(2000));
    w.wipe();
    let (up, _) = timed(&w, &["redis", "up", "-p", ps, "--output", "json"], &env);
    let j = json(&ok(up));
    assert_eq!(j["cold_start"]["restore"]["id"], real.id.as_str());
    assert_eq!(j["cold_start"]["keys_restored"], 2000);
    assert_eq!(lost(&newest, &dump(&mut w.redis())), 0);
    ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
    // Three snapshots now; keep 1 keeps the highest generation, whatever the dates.
    let (pr, _) = timed(
        &w,
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
    );
    let j = json(&ok(pr));
    let deleted: Vec<&str> = j["deleted"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(deleted.contains(&skewed.id.as_str()), "{deleted:?}");
    assert!(deleted.contains(&real.id.as_str()), "{deleted:?}");
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.complete.len(), 1);
    assert_eq!(cat.latest().unwrap().generation, Some(3));
}

/// AOF snapshot into an RDB profile and back: converted, every key there, exit 0.
fn persistence_change(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let aof = w.profile("aof", "aof", &s3.endpoint(), "");
    let rdb = w.profile("rdb", "rdb", &s3.endpoint(), "");
    let (aof, rdb) = (aof.to_str().unwrap(), rdb.to_str().unwrap());
    let env = s3.env();
    ok(timed(&w, &["redis", "up", "-p", aof], &env).0);
    write_keys(&mut w.redis(), 3000, "aof");
    let before = dump(&mut w.redis());
    ok(timed(&w, &["redis", "down", "-p", aof], &env).0);
    w.wipe();
    let (up, _) = timed(&w, &["redis", "up", "-p", rdb], &env);
    let t = text(&ok(up));
    assert!(t.contains("converted AOF → RDB"), "{t}");
    assert!(t.contains("3000 keys restored from snapshot"), "{t}");
    assert_eq!(lost(&before, &dump(&mut w.redis())), 0);
    assert!(w.data_dir().join("dump.rdb").exists());
    assert!(!w.data_dir().join("appendonlydir").exists());
    ok(timed(&w, &["redis", "down", "-p", rdb], &env).0);
    // And back: the RDB snapshot into the AOF profile.
    w.wipe();
    let (up, _) = timed(&w, &["redis", "up", "-p", aof], &env);
    let t = text(&ok(up));
    assert!(t.contains("converted RDB → AOF"), "{t}");
    assert_eq!(lost(&before, &dump(&mut w.redis())), 0);
    assert!(
        w.data_dir()
            .join("appendonlydir/appendonly.aof.1.base.rdb")
            .exists()
    );
    ok(timed(&w, &["redis", "down", "-p", aof], &env).0);
    // Its snapshot holds the keys (not an empty "latest").
    let s = store_at(&w, Path::new(aof), &s3);
    let cat = rt().block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.latest().unwrap().keys, Some(3000));
}

/// The safety net: a snapshot that says it held keys but loads none is refused, and Redis
/// is not left running empty (its next stop would upload an empty "latest").
fn never_starts_empty(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let ps = p.to_str().unwrap();
    let env = s3.env();
    ok(timed(&w, &["redis", "up", "-p", ps], &env).0);
    ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
    // The manifest is the uploader's word on the key count; make it claim 5 keys.
    let s = store_at(&w, &p, &s3);
    let rt = rt();
    let m = rt
        .block_on(catalog::list(&s, &w.name))
        .unwrap()
        .latest()
        .unwrap()
        .clone();
    let mut v = serde_json::to_value(&m).unwrap();
    v["keys"] = 5.into();
    rt.block_on(
        s.store
            .put(&s.manifest(&m.id), serde_json::to_vec(&v).unwrap().into()),
    )
    .unwrap();
    w.wipe();
    let (up, _) = timed(&w, &["redis", "up", "-p", ps], &env);
    let t = text(&up);
    assert_eq!(up.status.code(), Some(1), "{t}");
    assert!(t.contains("held 5 keys but Redis loaded none"), "{t}");
    let (st, _) = timed(&w, &["redis", "status", "-p", ps], &env);
    assert!(text(&st).contains("stopped"), "{}", text(&st));
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.complete.len(), 1, "no empty snapshot was uploaded");
}

/// Snapshots written before generations (manifest format 1, no claims) are listed with
/// generations derived from their order, restored, and numbered past by the next upload.
fn legacy_snapshots(kind: Kind) {
    require_redis();
    let s3 = S3Server::start(kind);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let ps = p.to_str().unwrap();
    let env = s3.env();
    for n in [200, 400] {
        ok(timed(&w, &["redis", "up", "-p", ps], &env).0);
        write_keys(&mut w.redis(), n, "legacy");
        ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
    }
    let newest = {
        ok(timed(&w, &["redis", "up", "-p", ps], &env).0);
        let d = dump(&mut w.redis());
        ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
        d
    };
    // Rewrite the store as an older redwhisk left it: format 1, no generation, no claims.
    let s = store_at(&w, &p, &s3);
    let rt = rt();
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.complete.len(), 3);
    for m in &cat.complete {
        let mut v = serde_json::to_value(m).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("generation");
        o.insert("format".into(), 1.into());
        rt.block_on(
            s.store
                .put(&s.manifest(&m.id), serde_json::to_vec(&v).unwrap().into()),
        )
        .unwrap();
        rt.block_on(s.store.delete(&s.claim(m.generation.unwrap())))
            .unwrap();
    }
    let (l, _) = timed(
        &w,
        &["snapshots", "list", "-p", ps, "--output", "json"],
        &env,
    );
    let j = json(&ok(l));
    let got: Vec<(String, u64, bool)> = j["complete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_string(),
                m["generation"].as_u64().unwrap(),
                m["generation_derived"].as_bool().unwrap(),
            )
        })
        .collect();
    let ids: Vec<String> = cat.complete.iter().map(|m| m.id.to_string()).collect();
    assert_eq!(
        got,
        [
            (ids[0].clone(), 3, true),
            (ids[1].clone(), 2, true),
            (ids[2].clone(), 1, true)
        ]
    );
    let (l, _) = timed(&w, &["snapshots", "list", "-p", ps], &env);
    assert!(text(&ok(l)).contains("(3)"));
    w.wipe();
    let (up, _) = timed(&w, &["redis", "up", "-p", ps, "--output", "json"], &env);
    let j = json(&ok(up));
    assert_eq!(j["cold_start"]["restore"]["id"], ids[0].as_str());
    assert_eq!(lost(&newest, &dump(&mut w.redis())), 0);
    ok(timed(&w, &["redis", "down", "-p", ps], &env).0);
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    let latest = cat.latest().unwrap();
    assert_eq!(
        (latest.generation, latest.generation_derived),
        (Some(4), false)
    );
}

/// Accepts TCP connections and never answers (nor closes them).
fn silent_store() -> (String, std::thread::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let h = std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in l.incoming().flatten() {
            held.push(c);
        }
    });
    (url, h)
}

#[test]
fn a_store_that_never_answers_fails_list_up_and_down_in_bounded_time() {
    require_redis();
    let (url, _h) = silent_store();
    let w = World::new();
    let p = w.profile("p", "rdb", &url, "");
    let none = w.profile("none", "rdb", &url, "restore = \"none\"");
    let (ps, none) = (p.to_str().unwrap(), none.to_str().unwrap());
    let env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), "AKIASILENT".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "silent".to_string()),
    ];
    let (l, took) = timed(&w, &["snapshots", "list", "-p", ps], &env);
    let t = text(&l);
    assert_eq!(l.status.code(), Some(1), "{t}");
    assert!(t.contains("list s3://"), "{t}");
    assert!(t.to_lowercase().contains("timed out"), "{t}");
    eprintln!("list against a silent store: {took:?}");
    // A new VM: refused (never started empty), in bounded time.
    let (up, took) = timed(&w, &["redis", "up", "-p", ps], &env);
    assert_eq!(up.status.code(), Some(1), "{}", text(&up));
    assert!(!w.data_dir().join("redwhisk.state.json").exists());
    eprintln!("up (new VM) against a silent store: {took:?}");
    // Started on purpose empty; the stop's upload gives up, the data stays on disk.
    ok(timed(&w, &["redis", "up", "-p", none], &env).0);
    write_keys(&mut w.redis(), 300, "silent");
    let (down, took) = timed(&w, &["redis", "down", "-p", none], &env);
    let t = text(&down);
    assert_eq!(down.status.code(), Some(1), "{t}");
    assert!(t.contains("upload is pending"), "{t}");
    assert_eq!(
        t.matches("upload is pending").count(),
        1,
        "the error is printed once: {t}"
    );
    assert!(w.data_dir().join("dump.rdb").exists());
    assert!(w.data_dir().join("snapshot-pending.json").exists());
    eprintln!("down against a silent store: {took:?}");
    // Local data: the start does not wait for the store beyond its lookup deadline.
    let (up, _) = timed(&w, &["redis", "up", "-p", ps], &env);
    let t = text(&ok(up));
    assert!(t.contains("starting from the local data"), "{t}");
    assert!(t.contains("300 keys loaded from local data"), "{t}");
    assert!(!t.contains("keys restored"), "{t}");
    assert_eq!(dump(&mut w.redis()).len(), 300);
    let _ = w.cli(&["redis", "down", "-p", none], &env);
}

/// A data directory with a dump.rdb of `n` bytes.
fn data_with_rdb(n: usize, fill: u8) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("dump.rdb"), vec![fill; n]).unwrap();
    d
}

#[test]
fn generations_race_moto_one_wins_the_other_takes_the_next() {
    let s3 = S3Server::start(Kind::Moto);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let s = store_at(&w, &p, &s3);
    let rt = rt();
    let id_a = redwhisk::snapshots::SnapshotId::new(chrono::Utc::now());
    let id_b = redwhisk::snapshots::SnapshotId::new(chrono::Utc::now());
    // Two writers claim generation 1 at once: moto honours If-None-Match: *.
    let (a, b) = rt
        .block_on(async { tokio::join!(upload::claim(&s, 1, &id_a), upload::claim(&s, 1, &id_b)) });
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a ^ b, "exactly one claim of generation 1 wins: {a} {b}");
    // The same race 30 times more (in another profile's store): one winner every time.
    let other = SnapshotStore::open_with(
        Profile::load(&p).unwrap().snapshots.as_ref().unwrap(),
        &format!("{}-race", w.name),
        &s3.settings(),
    )
    .unwrap();
    for n in 1..=30 {
        let (a, b) = rt.block_on(async {
            tokio::join!(
                upload::claim(&other, n, &id_a),
                upload::claim(&other, n, &id_b)
            )
        });
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(a ^ b, "generation {n}: {a} {b}");
    }
    // Whole uploads racing: both commit, with different generations.
    let (da, db) = (data_with_rdb(1000, b'a'), data_with_rdb(2000, b'b'));
    let pre = PreStop::default();
    let (ma, mb) = rt.block_on(async {
        tokio::join!(
            upload::upload(&s, da.path(), &w.name, "rdb", &pre),
            upload::upload(&s, db.path(), &w.name, "rdb", &pre)
        )
    });
    let (ma, mb) = (ma.unwrap(), mb.unwrap());
    let mut gens = [ma.generation.unwrap(), mb.generation.unwrap()];
    gens.sort_unstable();
    assert_eq!(gens, [2, 3], "past the claimed 1, one each");
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.latest().unwrap().generation, Some(3));
    // A listing sees every claim, so an upload numbers past them (an orphan claim of an
    // upload killed before its manifest is skipped) ...
    let next = cat.next_generation();
    assert_eq!(next, 4);
    assert!(rt.block_on(upload::claim(&s, next, &id_a)).unwrap());
    let d = data_with_rdb(10, b'c');
    let m = rt
        .block_on(upload::upload(&s, d.path(), &w.name, "rdb", &pre))
        .unwrap();
    assert_eq!(m.generation, Some(5));
    // ... and when other writers take every number it tries between its listing and its
    // claims, it fails and says why.
    for n in 6..6 + upload::CLAIM_ATTEMPTS {
        assert!(rt.block_on(upload::claim(&s, n, &id_a)).unwrap());
    }
    let e = rt
        .block_on(upload::claim_next(&s, &w.name, &id_b, 6))
        .unwrap_err()
        .to_string();
    assert!(e.contains("generations 6 to 10"), "{e}");
    assert!(e.contains("were all claimed by other uploads"), "{e}");
    assert!(e.contains("another machine is uploading"), "{e}");
}

/// s3rver ignores `If-None-Match: *` on PUT: both claims win there (docs/snapshots.md says
/// so; the order then falls back to creation time between equal generations).
#[test]
fn s3rver_ignores_if_none_match_so_both_claims_win() {
    let s3 = S3Server::start(Kind::S3rver);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let s = store_at(&w, &p, &s3);
    let rt = rt();
    let id_a = redwhisk::snapshots::SnapshotId::new(chrono::Utc::now());
    let id_b = redwhisk::snapshots::SnapshotId::new(chrono::Utc::now());
    assert!(rt.block_on(upload::claim(&s, 1, &id_a)).unwrap());
    assert!(rt.block_on(upload::claim(&s, 1, &id_b)).unwrap());
}

/// What the proxy saw of one request.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    redirected: bool,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A loopback proxy in front of moto that answers like S3 for a bucket in `region`: a
/// request signed for another region gets `301 PermanentRedirect` with
/// `x-amz-bucket-region` and no `Location`; the rest is forwarded (one request per
/// connection) and recorded.
async fn region_proxy(upstream: u16, region: &'static str) -> (u16, Arc<Mutex<Vec<Seen>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut c, _)) = l.accept().await else {
                return;
            };
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                let end = loop {
                    let n = c.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    head.extend_from_slice(&buf[..n]);
                    if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let text = String::from_utf8_lossy(&head[..end]).to_string();
                let mut lines = text.split("\r\n");
                let mut first = lines.next().unwrap_or("").split(' ');
                let method = first.next().unwrap_or("").to_string();
                let path = first.next().unwrap_or("").to_string();
                let headers: Vec<(String, String)> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect();
                let auth = headers
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                let redirected = !auth.contains(&format!("/{region}/s3/aws4_request"));
                log.lock().unwrap().push(Seen {
                    method,
                    path,
                    headers,
                    redirected,
                });
                if redirected {
                    let body = format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message><Bucket>{BUCKET}</Bucket></Error>"
                    );
                    let reply = format!(
                        "HTTP/1.1 301 Moved Permanently\r\nx-amz-bucket-region: {region}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = c.write_all(reply.as_bytes()).await;
                    return;
                }
                let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    return;
                };
                // One request per connection, so that each one passes through here.
                let mut fwd = text.trim_end_matches("\r\n").to_string();
                fwd = fwd
                    .split("\r\n")
                    .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                    .collect::<Vec<_>>()
                    .join("\r\n");
                fwd.push_str("\r\nConnection: close\r\n\r\n");
                if up.write_all(fwd.as_bytes()).await.is_err()
                    || up.write_all(&head[end..]).await.is_err()
                {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut c, &mut up).await;
            });
        }
    });
    (port, seen)
}

#[test]
fn region_redirect_is_followed_and_uploads_carry_sha256_checksums_moto() {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let s3 = S3Server::start(Kind::Moto);
    let rt = rt();
    let (port, seen) = rt.block_on(region_proxy(s3.port, "eu-west-1"));
    let w = World::new();
    // The profile names no region: us-east-1 is assumed, the bucket lives in eu-west-1.
    let p = w.profile("p", "rdb", &format!("http://127.0.0.1:{port}"), "");
    let s = store_at(&w, &p, &s3);
    assert_eq!(s.region(), "us-east-1");
    // 20 MiB: a multipart upload (3 parts) as well as the manifest's single PUT.
    let size = 20 * 1024 * 1024 + 5;
    let d = data_with_rdb(size, b'z');
    let bytes = std::fs::read(d.path().join("dump.rdb")).unwrap();
    let m = rt
        .block_on(async {
            tokio::time::timeout(
                BOUND,
                upload::upload(&s, d.path(), &w.name, "rdb", &PreStop::default()),
            )
            .await
        })
        .unwrap()
        .unwrap();
    assert_eq!(s.region(), "eu-west-1", "the client follows the redirect");
    assert_eq!(m.generation, Some(1));
    let cat = rt.block_on(catalog::list(&s, &w.name)).unwrap();
    assert_eq!(cat.latest().unwrap().id, m.id);
    let got = rt
        .block_on(async {
            s.store
                .get(&s.object(&m.id, "dump.rdb"))
                .await
                .unwrap()
                .bytes()
                .await
        })
        .unwrap();
    assert_eq!(got.len(), size);
    let seen = seen.lock().unwrap().clone();
    let redirected: Vec<&Seen> = seen.iter().filter(|r| r.redirected).collect();
    assert_eq!(
        redirected.len(),
        1,
        "one redirect, then the right region: {seen:?}"
    );
    // Every upload of data carries its SHA-256: the parts, the claim, the manifest.
    let puts: Vec<&Seen> = seen
        .iter()
        .filter(|r| r.method == "PUT" && !r.redirected)
        .collect();
    let parts: Vec<&&Seen> = puts
        .iter()
        .filter(|r| r.path.contains("partNumber="))
        .collect();
    assert_eq!(parts.len(), 3, "{puts:?}");
    for r in &puts {
        let sum = r.header("x-amz-checksum-sha256");
        assert!(
            sum.is_some_and(|v| v.len() == 44),
            "no SHA-256 checksum on {} {}: {:?}",
            r.method,
            r.path,
            r.headers
        );
    }
    // The first part's checksum is the SHA-256 of its bytes.
    let part_len = upload::part_size(size as u64);
    let first = parts
        .iter()
        .find(|r| r.path.contains("partNumber=1&") || r.path.ends_with("partNumber=1"))
        .unwrap();
    let want = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&bytes[..part_len]));
    assert_eq!(first.header("x-amz-checksum-sha256"), Some(want.as_str()));
    let create = seen
        .iter()
        .find(|r| r.method == "POST" && r.path.contains("uploads") && !r.redirected)
        .unwrap();
    assert_eq!(create.header("x-amz-checksum-algorithm"), Some("SHA256"));
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
    corrupt_manifest_is_listed_restored_past_and_pruned => corrupt_manifest;
    a_clock_ahead_does_not_make_older_data_the_latest => clock_skew;
    persistence_change_converts_both_ways => persistence_change;
    a_snapshot_that_held_keys_never_starts_empty => never_starts_empty;
    snapshots_without_a_generation_are_listed_restored_and_numbered_past => legacy_snapshots;
}

/// A loopback HTTP proxy that records the first line of each request (for HTTPS: the
/// `CONNECT host:443` that names the host) and refuses it: nothing leaves the machine.
fn recording_proxy() -> (u16, Arc<Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            let mut line = String::new();
            let _ = BufReader::new(&mut c).read_line(&mut line);
            log.lock().unwrap().push(line.trim().to_string());
            let _ = c.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        }
    });
    (port, seen)
}

/// On AWS (no endpoint) the bucket is addressed virtual-hosted, `path_style = true` puts it
/// back in the path. Seen through a loopback proxy (HTTPS_PROXY), which refuses everything.
#[test]
fn aws_is_addressed_virtual_hosted_unless_path_style() {
    let (port, seen) = recording_proxy();
    let w = World::new();
    let env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), "AKIAPROXYTEST".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "proxy".to_string()),
        (
            "HTTPS_PROXY".to_string(),
            format!("http://127.0.0.1:{port}"),
        ),
        ("NO_PROXY".to_string(), String::new()),
    ];
    for (file, extra, host) in [
        (
            "vhost",
            "",
            format!("CONNECT {BUCKET}.s3.eu-west-1.amazonaws.com:443"),
        ),
        (
            "path",
            "path_style = true\n",
            "CONNECT s3.eu-west-1.amazonaws.com:443".to_string(),
        ),
    ] {
        let path = w.dir.path().join(format!("{file}.toml"));
        std::fs::write(
            &path,
            format!(
                "name = \"{}\"\n[redis]\ndata_dir = \"{}\"\n[snapshots]\nurl = \"s3://{BUCKET}/aws\"\nregion = \"eu-west-1\"\n{extra}",
                w.name,
                w.data_dir().display()
            ),
        )
        .unwrap();
        seen.lock().unwrap().clear();
        let (l, _) = timed(
            &w,
            &["snapshots", "list", "-p", path.to_str().unwrap()],
            &env,
        );
        assert_eq!(l.status.code(), Some(1), "{}", text(&l));
        let lines = seen.lock().unwrap().clone();
        assert!(
            lines.first().is_some_and(|l| l.starts_with(&host)),
            "{file}: expected {host}, the proxy saw {lines:?}"
        );
    }
}
