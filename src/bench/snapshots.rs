//! `bench snapshots`: what snapshots to S3-compatible storage cost per dataset size,
//! against `aws s3 cp` of the same file to and from the same server in the same run.
//!
//! Per size (keys written with pipelined SETs into a process-backend Redis, persistence rdb),
//! alternated run by run, baseline first:
//! - save: `RedisHost::down(Graceful)` (SHUTDOWN SAVE, wait for the exit) — no baseline;
//! - upload: `snapshots::upload::upload` (streamed, multipart above 8 MiB, a listing and the
//!   generation claim, then the manifest)
//!   against `aws s3 cp dump.rdb s3://…` (target ≤ 1.1×);
//! - download: the download part of the restore (streamed to a staging file with the sha256,
//!   fsynced) against `aws s3 cp s3://… FILE` (target ≤ 1.1×); the restore's total (download,
//!   sha256 check, `redis-check-rdb`, place) is reported beside it;
//! - restore to ready: what a start on an empty data directory with `restore = "latest"` does
//!   (`snapshots::before_start`, then `RedisHost::up`): list, download, verify, place, start,
//!   load → PONG (the keys counted after the start).
//!
//! `aws s3 cp` is a Python program: each copy pays the interpreter's start. That fixed cost is
//! measured too (`aws s3api head-bucket`: start + one small request) and the ratios are also
//! given against the copy minus it ("net"), which is what matters as sizes grow.
//!
//! The S3 server is moto's (`moto_server`, started on a free loopback port with throwaway keys,
//! as tests/snapshots_s3.rs starts it) unless `--endpoint` names one (keys from the AWS
//! environment then).

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{BenchError, Context, Result, free_port, median, ms, throwaway_profile};
use crate::event::EventSink;
use crate::profile::{Persistence, Profile, SavePoint};
use crate::redis_host::{RedisHost, StopMode};
use crate::snapshots::credentials::{self, AwsSettings};
use crate::snapshots::local::RDB_FILE;
use crate::snapshots::{
    PreStop, RestorePolicy, SnapshotConfig, SnapshotStore, catalog, restore, upload,
};

/// The target of both comparisons.
pub const TARGET_RATIO: f64 = 1.1;
const WAIT: Duration = Duration::from_secs(60);
/// The bucket created on the moto server the bench starts.
const BUCKET: &str = "redwhisk-bench";

/// What to run.
#[derive(Debug, Clone)]
pub struct SnapshotBenchOptions {
    /// Dataset sizes in keys.
    pub sizes: Vec<u64>,
    /// Alternated repetitions per size.
    pub runs: u32,
    /// An existing store (endpoint, bucket) instead of a moto server started here.
    pub store: Option<(String, String)>,
}

/// One dataset size, medians in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotBenchRow {
    pub keys: u64,
    /// Size of dump.rdb.
    pub bytes: u64,
    pub runs: u32,
    pub save_ms: f64,
    pub upload_ms: f64,
    pub baseline_upload_ms: f64,
    pub upload_ratio: f64,
    pub download_ms: f64,
    pub baseline_download_ms: f64,
    pub download_ratio: f64,
    /// The AWS CLI's fixed cost: `aws s3api head-bucket` (interpreter start + one request).
    pub baseline_fixed_ms: f64,
    /// upload_ms / (baseline_upload_ms - baseline_fixed_ms); `None` when the copy took no
    /// longer than the fixed cost (the transfer is lost in the CLI's start-up noise).
    pub upload_ratio_net: Option<f64>,
    /// download_ms / (baseline_download_ms - baseline_fixed_ms); `None` likewise.
    pub download_ratio_net: Option<f64>,
    /// Download + sha256 check + redis-check-rdb + place.
    pub restore_ms: f64,
    /// `RedisHost::up` with an empty data directory: restore, start, load → PONG.
    pub restore_to_ready_ms: f64,
    /// Keys missing after a restore (any run).
    pub keys_lost: u64,
    pub upload_target_met: bool,
    pub download_target_met: bool,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotBench {
    pub server: String,
    pub baseline: String,
    pub target: String,
    pub rows: Vec<SnapshotBenchRow>,
}

/// A moto server this bench started; killed when dropped.
struct Moto {
    _child: tokio::process::Child,
    _dir: tempfile::TempDir,
}

fn random_token(len: usize) -> String {
    rand::Rng::sample_iter(rand::rng(), rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Where the bench's objects go, with the keys both sides use.
struct Target {
    endpoint: String,
    bucket: String,
    /// The environment `aws` runs with (the keys included: never printed).
    aws_env: Vec<(String, String)>,
    settings: AwsSettings,
    _moto: Option<Moto>,
}

async fn start_moto() -> Result<Target> {
    let dir = tempfile::tempdir()?;
    let port = free_port()?;
    let log = std::fs::File::create(dir.path().join("moto.log"))?;
    let child = tokio::process::Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .ctx("cannot run moto_server: install it with `pip install 'moto[server]'` (scripts/ci-setup.sh does)")?;
    let endpoint = format!("http://127.0.0.1:{port}");
    let end = Instant::now() + WAIT;
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if Instant::now() > end {
            return Err(BenchError::msg(format!(
                "moto_server did not listen on 127.0.0.1:{port} within {WAIT:?}: {}",
                std::fs::read_to_string(dir.path().join("moto.log")).unwrap_or_default()
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // moto accepts any key pair: throwaway ones, never shown.
    let env = vec![
        ("AWS_ACCESS_KEY_ID".to_string(), "AKIABENCH".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), random_token(32)),
    ];
    let settings =
        credentials::static_keys(&|k| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
            .map_err(BenchError::msg)?;
    let t = Target {
        aws_env: aws_env(env),
        endpoint,
        bucket: BUCKET.into(),
        settings,
        _moto: Some(Moto {
            _child: child,
            _dir: dir,
        }),
    };
    aws(&t, &["s3api", "create-bucket", "--bucket", BUCKET])
        .await
        .map_err(|e| BenchError::msg(format!("creating the bench bucket on moto: {e}")))?;
    Ok(t)
}

/// The baseline's environment: the keys, a region, no metadata-service probing.
fn aws_env(mut env: Vec<(String, String)>) -> Vec<(String, String)> {
    if std::env::var_os("AWS_REGION").is_none() && std::env::var_os("AWS_DEFAULT_REGION").is_none()
    {
        env.push(("AWS_DEFAULT_REGION".into(), "us-east-1".into()));
    }
    env.push(("AWS_EC2_METADATA_DISABLED".into(), "true".into()));
    env
}

async fn existing(endpoint: String, bucket: String) -> Result<Target> {
    let settings = credentials::from_chain(Some(&endpoint))
        .await
        .map_err(BenchError::msg)?;
    Ok(Target {
        endpoint,
        bucket,
        aws_env: aws_env(Vec::new()),
        settings,
        _moto: None,
    })
}

/// Run the AWS CLI against the target; its time in ms.
async fn aws(t: &Target, args: &[&str]) -> Result<f64> {
    let started = Instant::now();
    let out = tokio::process::Command::new("aws")
        .args(["--endpoint-url", &t.endpoint])
        .args(args)
        .envs(t.aws_env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .output()
        .await
        .ctx("cannot run the AWS CLI (`aws`): install it with `pip install awscli` (scripts/ci-setup.sh does)")?;
    let took = ms(started.elapsed());
    if !out.status.success() {
        return Err(BenchError::msg(format!(
            "baseline: aws {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(took)
}

/// The Redis side: process backend, rdb. The snapshot calls are made by the bench itself
/// (the store gets the bench's keys, not the process environment's).
fn bench_profile(name: &str, dir: &Path) -> Result<Profile> {
    Ok(throwaway_profile("bench-snap", false, dir)?
        .renamed(name)
        .with_persistence(Persistence::Rdb {
            save: vec![SavePoint {
                seconds: 3600,
                changes: 1,
            }],
        })
        .without_snapshots())
}

fn snapshot_config(t: &Target) -> SnapshotConfig {
    SnapshotConfig {
        url: format!("s3://{}/bench", t.bucket),
        bucket: t.bucket.clone(),
        prefix: "bench".into(),
        endpoint: Some(t.endpoint.clone()),
        region: None,
        allow_http: t.endpoint.starts_with("http://"),
        path_style: None,
        keep: 1000,
        on_stop: true,
        restore: RestorePolicy::Latest,
    }
}

/// n keys, as the snapshot tests write them (values of 10–60 bytes).
async fn fill(ep: &crate::redis_host::Endpoint, n: u64) -> Result<()> {
    let client = redis::Client::open(ep.connection_info()?).ctx("bench: redis client")?;
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .ctx("bench: connect to Redis")?;
    let mut i = 0;
    while i < n {
        let end = (i + 5000).min(n);
        let mut p = redis::pipe();
        for j in i..end {
            p.cmd("SET")
                .arg(format!("k:{j}"))
                .arg(format!("bench-{j}-{}", "v".repeat((j % 32) as usize)))
                .ignore();
        }
        p.query_async::<()>(&mut con)
            .await
            .ctx("bench: writing the keys")?;
        i = end;
    }
    Ok(())
}

fn net_ratio(ours: f64, baseline: f64, fixed: f64) -> Option<f64> {
    let net = baseline - fixed;
    (net > 0.0).then(|| ours / net)
}

async fn remove_rdb(dir: &Path) -> Result<()> {
    let f = dir.join(RDB_FILE);
    tokio::fs::remove_file(&f)
        .await
        .with_ctx(|| format!("removing {}", f.display()))
}

async fn bench_size(t: &Target, keys: u64, runs: u32) -> Result<SnapshotBenchRow> {
    let dir = tempfile::tempdir().ctx("bench: a temporary directory")?;
    let name = format!(
        "bench-snap-{}-{keys}-{}",
        std::process::id(),
        random_token(4)
    );
    let profile = bench_profile(&name, dir.path())?;
    let data = profile.redis.data_dir.clone();
    let store = SnapshotStore::open_with(&snapshot_config(t), &name, &t.settings)?;
    let events = EventSink::discard();
    // Not timed: the dataset, and its first save.
    let mut host = RedisHost::new(&profile)?;
    let started = host.up(&events).await.ctx("bench: start Redis")?;
    fill(&started.endpoint, keys).await.ctx("bench: fill")?;
    let t0 = Instant::now();
    host.down(StopMode::Graceful, &events)
        .await
        .ctx("bench: stop")?;
    let mut save = vec![ms(t0.elapsed())];
    let bytes = tokio::fs::metadata(data.join(RDB_FILE))
        .await
        .ctx("bench: no dump.rdb after SHUTDOWN SAVE")?
        .len();
    let base_key = format!("baseline/{name}/{RDB_FILE}");
    let base_url = format!("s3://{}/{base_key}", t.bucket);
    let rdb = data.join(RDB_FILE);
    let rdb_s = rdb.to_string_lossy().into_owned();
    let copy = dir.path().join("baseline-download.rdb");
    let copy_s = copy.to_string_lossy().into_owned();
    let pre = PreStop {
        redis_version: None,
        keys: Some(keys),
    };
    let (mut up, mut up_b, mut down, mut down_b, mut restore, mut ready) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut fixed = Vec::new();
    let mut lost = 0u64;
    for run in 0..runs {
        fixed.push(aws(t, &["s3api", "head-bucket", "--bucket", &t.bucket]).await?);
        up_b.push(aws(t, &["s3", "cp", "--only-show-errors", &rdb_s, &base_url]).await?);
        let t0 = Instant::now();
        upload::upload(&store, &data, &name, "rdb", &pre)
            .await
            .ctx("bench: upload")?;
        up.push(ms(t0.elapsed()));
        down_b.push(aws(t, &["s3", "cp", "--only-show-errors", &base_url, &copy_s]).await?);
        if tokio::fs::metadata(&copy).await?.len() != bytes {
            return Err(BenchError::msg(
                "baseline: aws s3 cp downloaded a file of another size than dump.rdb",
            ));
        }
        tokio::fs::remove_file(&copy).await?;
        // A new VM: no local data. What a start with `restore = "latest"` does
        // (`snapshots::before_start`): list, pick the newest complete snapshot (the one just
        // uploaded), download + verify + place it; then start Redis and wait for it to load.
        remove_rdb(&data).await?;
        let t0 = Instant::now();
        let cat = catalog::list(&store, &name)
            .await
            .ctx("bench: list snapshots")?;
        let id = cat
            .latest()
            .ok_or_else(|| BenchError::msg("bench: the uploaded snapshot is not listed"))?
            .id
            .clone();
        let r = restore::restore(&store, &id, &data, &restore::Target::of(&profile))
            .await
            .ctx("bench: restore")?;
        let started = host.up(&events).await.ctx("bench: start after restore")?;
        ready.push(ms(t0.elapsed()));
        let cold = started
            .cold_start
            .ok_or_else(|| BenchError::msg("bench: the restored Redis was adopted, not started"))?;
        down.push(r.download_ms);
        restore.push(r.total_ms);
        lost = lost.max(keys.saturating_sub(cold.keys_restored));
        let t0 = Instant::now();
        host.down(StopMode::Graceful, &events)
            .await
            .with_ctx(|| format!("bench: stop (run {})", run + 1))?;
        save.push(ms(t0.elapsed()));
    }
    // Leave nothing behind in the store.
    let _ = aws(t, &["s3", "rm", "--only-show-errors", &base_url]).await;
    let _ = catalog::prune(&store, &name, 0).await;
    let (upload_ms, baseline_upload_ms) = (median(&up), median(&up_b));
    let (download_ms, baseline_download_ms) = (median(&down), median(&down_b));
    let (upload_ratio, download_ratio) = (
        upload_ms / baseline_upload_ms,
        download_ms / baseline_download_ms,
    );
    let fixed = median(&fixed);
    Ok(SnapshotBenchRow {
        keys,
        bytes,
        runs,
        save_ms: median(&save),
        upload_ms,
        baseline_upload_ms,
        upload_ratio,
        download_ms,
        baseline_download_ms,
        download_ratio,
        baseline_fixed_ms: fixed,
        upload_ratio_net: net_ratio(upload_ms, baseline_upload_ms, fixed),
        download_ratio_net: net_ratio(download_ms, baseline_download_ms, fixed),
        restore_ms: median(&restore),
        restore_to_ready_ms: median(&ready),
        keys_lost: lost,
        upload_target_met: upload_ratio <= TARGET_RATIO,
        download_target_met: download_ratio <= TARGET_RATIO,
    })
}

/// Every size, one after the other, against one server.
pub async fn run(o: &SnapshotBenchOptions) -> Result<SnapshotBench> {
    if o.runs == 0 {
        return Err(BenchError::Usage("--runs must be at least 1".into()));
    }
    if o.sizes.is_empty() || o.sizes.contains(&0) {
        return Err(BenchError::Usage(
            "--sizes needs one or more key counts of at least 1, e.g. --sizes 10000,100000".into(),
        ));
    }
    let t = match &o.store {
        Some((e, b)) => existing(e.clone(), b.clone()).await?,
        None => start_moto().await?,
    };
    let mut rows = Vec::new();
    for &keys in &o.sizes {
        rows.push(
            bench_size(&t, keys, o.runs)
                .await
                .map_err(|e| BenchError::Failed {
                    what: format!("bench snapshots at {keys} keys"),
                    cause: e.to_string(),
                })?,
        );
    }
    Ok(SnapshotBench {
        server: if t._moto.is_some() {
            format!("moto_server at {}", t.endpoint)
        } else {
            t.endpoint.clone()
        },
        baseline: "`aws s3 cp` of the same dump.rdb to and from the same server".into(),
        target: format!(
            "upload and download within {TARGET_RATIO}x of aws s3 cp (the whole command, as a user runs it)"
        ),
        rows,
    })
}
