//! `bench gateway`: what the scale-to-zero gateway costs, against two baselines measured in the
//! same run: the same Redis direct, and HAProxy (TCP mode, one thread) in front of it.
//!
//! - throughput: `redis-benchmark -t get` at `-c 1`, `-c 50` and `-c 50 -P 100` against direct,
//!   HAProxy, and the gateway on each data path (one data thread; the shared multi-threaded
//!   runtime), alternated per repetition; the verdicts use the default path;
//!   requests/s, p50/p99 and CPU µs per request of each proxy process (and of Redis) from
//!   `/proc/<pid>/task/*/schedstat`;
//! - wake: a client's connect → first reply against a sleeping gateway, alternated with the
//!   backend's own cold start (`RedisHost::up`, start → PONG) on the same profile, once on an
//!   idle machine and once with a parallel `redis-benchmark -c 50` loading it;
//! - cycles: every wake reads the key written before the sleep; the count of lost keys.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio_util::sync::CancellationToken;

use super::{
    BenchError, Context, Result, csv_row, free_port, median, ms, quantile, redis_benchmark,
};
use crate::event::{EngineEvent, EventSink};
use crate::gateway::{DataPath, Gateway, GatewayEvent, GatewayOptions, GatewayState};
use crate::profile::duration::GATEWAY_IDLE;
use crate::profile::{Backend, Persistence, Profile, SavePoint};
use crate::redis_host::{RedisHost, StopMode};
use crate::secret::Secret;

/// What to run.
#[derive(Debug, Clone)]
pub struct GatewayBenchOptions {
    pub docker: bool,
    /// Requests per `-c 1` run; `-c 50` runs 5× and `-c 50 -P 100` 25× as many.
    pub requests: u32,
    /// Alternated repetitions of each redis-benchmark comparison.
    pub repeat: u32,
    /// Sleep/wake cycles per condition (idle, loaded), each alternated with a cold start.
    pub cycles: u32,
}

/// Who a redis-benchmark run talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Direct,
    Haproxy,
    /// The gateway with its connections on one dedicated thread ([`DataPath::OneThread`]).
    GatewayOneThread,
    /// The gateway with its connections on the shared multi-threaded runtime.
    GatewaySharedRuntime,
}

impl Target {
    pub fn label(self) -> &'static str {
        match self {
            Target::Direct => "direct",
            Target::Haproxy => "haproxy",
            Target::GatewayOneThread => "gateway, one thread",
            Target::GatewaySharedRuntime => "gateway, shared runtime",
        }
    }

    /// The gateway with its connections on `path`.
    pub fn gateway(path: DataPath) -> Target {
        match path {
            DataPath::OneThread => Target::GatewayOneThread,
            DataPath::SharedRuntime => Target::GatewaySharedRuntime,
        }
    }

    /// The gateway as shipped (its default data path).
    pub fn shipped() -> Target {
        Target::gateway(DataPath::default())
    }
}

const TARGETS: [Target; 4] = [
    Target::Direct,
    Target::Haproxy,
    Target::GatewayOneThread,
    Target::GatewaySharedRuntime,
];

/// One target at one load: medians over the repetitions.
#[derive(Debug, Clone, Serialize)]
pub struct TargetFigures {
    pub target: Target,
    pub rps: f64,
    pub p50_us: f64,
    pub p99_us: f64,
    /// CPU of the proxy process per request (none for direct).
    pub proxy_cpu_us_per_req: Option<f64>,
    /// CPU of Redis itself per request, in the same runs.
    pub redis_cpu_us_per_req: f64,
}

/// One redis-benchmark load shape.
#[derive(Debug, Clone, Serialize)]
pub struct LoadFigures {
    pub clients: u32,
    pub pipeline: u32,
    pub requests: u32,
    pub targets: Vec<TargetFigures>,
}

impl LoadFigures {
    pub fn get(&self, t: Target) -> Option<&TargetFigures> {
        self.targets.iter().find(|f| f.target == t)
    }
}

/// Wake against cold start, in one machine condition.
#[derive(Debug, Clone, Serialize)]
pub struct WakeFigures {
    /// A parallel `redis-benchmark -c 50` kept the machine busy.
    pub loaded: bool,
    pub cold_p50_ms: f64,
    pub cold_p99_ms: f64,
    pub wake_p50_ms: f64,
    pub wake_p99_ms: f64,
    pub wake_max_ms: f64,
}

/// Everything measured, in one run.
#[derive(Debug, Clone, Serialize)]
pub struct GatewayBench {
    pub backend: String,
    pub haproxy_version: String,
    /// The data path the gateway ships with: the verdicts and the wakes use it.
    pub default_data_path: DataPath,
    pub loads: Vec<LoadFigures>,
    /// The shipped gateway's rps ≥ HAProxy's on every load.
    pub as_fast_as_haproxy: bool,
    /// At `-c 50`: direct rps / gateway rps ≤ 1.3.
    pub within_1_3_of_direct_at_c50: bool,
    pub wake: Vec<WakeFigures>,
    /// Loaded: wake p99 ≤ 3 × wake p50.
    pub wake_tail_met: bool,
    pub cycles: u32,
    pub keys_lost: u32,
}

const PASSWORD_LEN: usize = 24;
const WAIT: Duration = Duration::from_secs(120);
const LOADS: [(u32, u32, u32); 3] = [(1, 1, 1), (50, 1, 5), (50, 100, 25)];

fn bench_profile(docker: bool, dir: &Path) -> Result<Profile> {
    let mut p = super::throwaway_profile("bench-gw", docker, dir)?;
    p.redis.persistence = Persistence::Rdb {
        save: vec![SavePoint {
            seconds: 3600,
            changes: 1,
        }],
    };
    // A fixed port: Redis comes back on it at every wake, so HAProxy keeps pointing at it.
    p.redis.port = free_port()?;
    // A throwaway password for a throwaway Redis on loopback: redis-benchmark only takes it as -a.
    let pw: String = rand::Rng::sample_iter(rand::rng(), rand::distr::Alphanumeric)
        .take(PASSWORD_LEN)
        .map(char::from)
        .collect();
    p.redis.password = Some(Secret::new(pw));
    p.gateway.listen = "127.0.0.1:0".parse()?;
    Ok(p)
}

/// A gateway served in-process, with its state changes readable.
struct Served {
    port: u16,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<crate::gateway::GatewayReport>,
    rx: tokio::sync::mpsc::UnboundedReceiver<EngineEvent>,
    state: GatewayState,
}

impl Served {
    async fn start(p: &Profile, idle: Duration, path: DataPath) -> Result<Served> {
        let (sink, rx) = EventSink::new();
        let mut opts = GatewayOptions::from_profile(p);
        opts.config.idle = GATEWAY_IDLE.check(idle).ctx("the gateway's idle time")?;
        opts.data_path = path;
        let gw = Gateway::bind(p, opts, &sink).await?;
        let port = gw.local_addr().port();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(gw.serve(sink, cancel.clone()));
        Ok(Served {
            port,
            cancel,
            task,
            rx,
            state: GatewayState::Asleep,
        })
    }

    /// Until the latest state is `want`.
    async fn until(&mut self, want: GatewayState) -> Result<()> {
        let end = Instant::now() + WAIT;
        loop {
            while let Ok(ev) = self.rx.try_recv() {
                if let EngineEvent::Gateway(GatewayEvent::State(s)) = ev {
                    self.state = s.state;
                }
            }
            if self.state == want {
                return Ok(());
            }
            match tokio::time::timeout_at(end.into(), self.rx.recv()).await {
                Ok(Some(EngineEvent::Gateway(GatewayEvent::State(s)))) => self.state = s.state,
                Ok(Some(_)) => {}
                _ => {
                    return Err(BenchError::msg(format!(
                        "the gateway did not become {} within {WAIT:?}",
                        want.label()
                    )));
                }
            }
        }
    }

    async fn stop(self) -> Result<()> {
        self.cancel.cancel();
        tokio::time::timeout(WAIT, self.task)
            .await
            .ctx("gateway shutdown")??;
        Ok(())
    }
}

/// AUTH + one inline command on a new connection; the reply's lines (a bulk's payload included).
async fn command(port: u16, password: &str, cmd: &str) -> Result<String> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.set_nodelay(true)?;
    s.write_all(format!("AUTH {password}\r\n{cmd}\r\n").as_bytes())
        .await?;
    let mut r = BufReader::new(s);
    let mut auth = String::new();
    r.read_line(&mut auth).await?;
    if auth != "+OK\r\n" {
        return Err(BenchError::msg(format!(
            "AUTH through port {port} answered {auth:?}"
        )));
    }
    let mut line = String::new();
    r.read_line(&mut line).await?;
    if line.starts_with('$') && !line.starts_with("$-1") {
        r.read_line(&mut line).await?;
    }
    Ok(line)
}

/// CPU time of every thread of `pid` so far, ns (`/proc/PID/task/*/schedstat`, first field).
fn cpu_ns(pid: u32) -> Result<u64> {
    let dir = PathBuf::from(format!("/proc/{pid}/task"));
    let mut total = 0u64;
    for task in std::fs::read_dir(&dir).with_ctx(|| format!("reading {}", dir.display()))? {
        let path = task?.path().join("schedstat");
        // A thread that ended between the listing and the read counts as nothing more.
        if let Ok(text) = std::fs::read_to_string(&path) {
            total += text
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(total)
}

/// One target's figures from one run: redis-benchmark's, proxy CPU µs/req, Redis CPU µs/req.
type Sample = (Run, Option<f64>, f64);

/// One redis-benchmark GET run.
#[derive(Clone, Copy)]
struct Run {
    rps: f64,
    p50_us: f64,
    p99_us: f64,
}

async fn get_benchmark(port: u16, password: &str, load: (u32, u32), n: u32) -> Result<Run> {
    let (clients, pipeline) = load;
    let args: Vec<String> = [
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-a",
        password,
        "-c",
        &clients.to_string(),
        "-P",
        &pipeline.to_string(),
        "-n",
        &n.to_string(),
        "-t",
        "get",
    ]
    .map(String::from)
    .into();
    let text = redis_benchmark(
        "redis-benchmark",
        &args,
        WAIT,
        "apt-get install redis-tools",
    )
    .await?;
    match csv_row(&text, "GET").as_deref() {
        Some([rps, _avg, _min, p50, _p95, p99, ..]) => Ok(Run {
            rps: *rps,
            p50_us: p50 * 1000.0,
            p99_us: p99 * 1000.0,
        }),
        _ => Err(BenchError::msg(format!(
            "unexpected redis-benchmark output: {text:?}"
        ))),
    }
}

/// HAProxy in TCP mode with one thread, in front of Redis on `redis_port`, as a child.
struct Haproxy {
    child: tokio::process::Child,
    pid: u32,
    port: u16,
    version: String,
}

const HAPROXY_HINT: &str = "HAProxy is the baseline of `bench gateway`: apt-get install haproxy (scripts/ci-setup.sh installs it)";

impl Haproxy {
    async fn start(dir: &Path, redis_port: u16) -> Result<Haproxy> {
        let version = tokio::process::Command::new("haproxy")
            .arg("-v")
            .output()
            .await
            .ctx(HAPROXY_HINT)?;
        let version = String::from_utf8_lossy(&version.stdout)
            .lines()
            .next()
            .unwrap_or("haproxy")
            .to_string();
        let port = free_port()?;
        let cfg = dir.join("haproxy.cfg");
        std::fs::write(
            &cfg,
            format!(
                "global\n  nbthread 1\n  maxconn 4096\n\
                 defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n  timeout server 1h\n\
                 listen redis\n  bind 127.0.0.1:{port}\n  server redis 127.0.0.1:{redis_port}\n"
            ),
        )
        .ctx("writing haproxy.cfg")?;
        let child = tokio::process::Command::new("haproxy")
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .ctx(HAPROXY_HINT)?;
        let pid = child
            .id()
            .ok_or_else(|| BenchError::msg("haproxy exited at once"))?;
        let end = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > end {
                return Err(BenchError::msg(format!(
                    "haproxy did not listen on 127.0.0.1:{port} within 10 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(Haproxy {
            child,
            pid,
            port,
            version,
        })
    }

    async fn stop(mut self) {
        let _gone = self.child.kill().await;
    }
}

/// The throughput comparison, every target alternated within each repetition.
async fn throughput(
    o: &GatewayBenchOptions,
    profile: &Profile,
    pw: &str,
    dir: &Path,
) -> Result<(Vec<LoadFigures>, String)> {
    // Both gateway flavours front the same Redis: the second adopts what the first woke.
    let mut one = Served::start(profile, Duration::from_secs(3600), DataPath::OneThread).await?;
    let mut shared =
        Served::start(profile, Duration::from_secs(3600), DataPath::SharedRuntime).await?;
    command(one.port, pw, "PING").await?;
    one.until(GatewayState::Awake).await?;
    command(shared.port, pw, "PING").await?;
    shared.until(GatewayState::Awake).await?;
    let redis_pid = redis_pid(profile).await?;
    let haproxy = Haproxy::start(dir, profile.redis.port).await?;
    let me = std::process::id();
    let mut loads = Vec::new();
    for (clients, pipeline, times) in LOADS {
        let n = o.requests.saturating_mul(times);
        let mut runs: Vec<Vec<Sample>> = vec![Vec::new(); TARGETS.len()];
        for _ in 0..o.repeat {
            for (i, t) in TARGETS.iter().enumerate() {
                let (port, proxy) = match t {
                    Target::Direct => (profile.redis.port, None),
                    Target::Haproxy => (haproxy.port, Some(haproxy.pid)),
                    Target::GatewayOneThread => (one.port, Some(me)),
                    Target::GatewaySharedRuntime => (shared.port, Some(me)),
                };
                let proxy_before = proxy.map(cpu_ns).transpose()?;
                let redis_before = cpu_ns(redis_pid)?;
                let run = get_benchmark(port, pw, (clients, pipeline), n).await?;
                let per_req = |ns: u64| ns as f64 / 1000.0 / f64::from(n);
                let redis_cpu = per_req(cpu_ns(redis_pid)?.saturating_sub(redis_before));
                let proxy_cpu = match (proxy, proxy_before) {
                    (Some(pid), Some(before)) => Some(per_req(cpu_ns(pid)?.saturating_sub(before))),
                    _ => None,
                };
                runs[i].push((run, proxy_cpu, redis_cpu));
            }
        }
        let targets = TARGETS
            .iter()
            .zip(runs)
            .map(|(t, rs)| {
                let col =
                    |f: &dyn Fn(&Sample) -> f64| median(&rs.iter().map(f).collect::<Vec<_>>());
                TargetFigures {
                    target: *t,
                    rps: col(&|r| r.0.rps),
                    p50_us: col(&|r| r.0.p50_us),
                    p99_us: col(&|r| r.0.p99_us),
                    proxy_cpu_us_per_req: (*t != Target::Direct)
                        .then(|| col(&|r| r.1.unwrap_or(f64::NAN))),
                    redis_cpu_us_per_req: col(&|r| r.2),
                }
            })
            .collect();
        loads.push(LoadFigures {
            clients,
            pipeline,
            requests: n,
            targets,
        });
    }
    let version = haproxy.version.clone();
    haproxy.stop().await;
    // The shared flavour adopted Redis: stopping it saves and stops Redis; the first then has
    // nothing left to stop.
    shared.stop().await?;
    one.stop().await?;
    Ok((loads, version))
}

/// The pid of the profile's redis-server: from the state file (process backend), or the
/// container's main process as the host sees it (docker).
async fn redis_pid(profile: &Profile) -> Result<u32> {
    let st = crate::redis_host::state::read(&profile.redis.data_dir)
        .await?
        .ok_or_else(|| BenchError::msg("no state file for the awake Redis"))?;
    if let Some(pid) = st.pid {
        return Ok(pid);
    }
    let Backend::Docker { container_name, .. } = &profile.redis.backend else {
        return Err(BenchError::msg(
            "no redis-server pid recorded in the state file",
        ));
    };
    let text = super::docker_cli(&["inspect", "-f", "{{.State.Pid}}", container_name]).await?;
    text.parse()
        .map_err(|_| BenchError::msg(format!("docker inspect gave no pid: {text:?}")))
}

/// A plain redis-server and `redis-benchmark -c 50` looping against it: the machine kept busy
/// while wakes are measured. Both are children, killed on drop.
struct Loader {
    server: tokio::process::Child,
    bench: tokio::process::Child,
}

impl Loader {
    async fn start(dir: &Path) -> Result<Loader> {
        let port = free_port()?;
        let data = dir.join("load");
        std::fs::create_dir_all(&data).ctx("creating the load server's directory")?;
        let server = tokio::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(&data)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .ctx("starting the load's redis-server (apt-get install redis-server)")?;
        let ep = super::plain_endpoint(port);
        crate::redis_host::wait_for_pong(&ep, Duration::from_secs(10)).await?;
        let bench = tokio::process::Command::new("redis-benchmark")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-c", "50", "-n", "100000000", "-t", "set,get", "-l", "-q"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .ctx("starting the load's redis-benchmark (apt-get install redis-tools)")?;
        Ok(Loader { server, bench })
    }

    async fn stop(mut self) {
        let _gone = self.bench.kill().await;
        let _gone = self.server.kill().await;
    }
}

/// `cycles` wakes of a sleeping gateway, each alternated with a bare cold start of the same
/// profile while the gateway sleeps. Returns the figures and the keys lost.
async fn wakes(
    o: &GatewayBenchOptions,
    profile: &Profile,
    pw: &str,
    loaded: bool,
) -> Result<(WakeFigures, u32)> {
    let events = EventSink::discard();
    let mut g = Served::start(profile, Duration::from_millis(20), DataPath::default()).await?;
    let (mut wake, mut cold) = (Vec::new(), Vec::new());
    let mut lost = 0;
    command(g.port, pw, "SET cyc0 0").await?;
    g.until(GatewayState::Asleep).await?;
    for i in 1..=o.cycles {
        let mut host = RedisHost::new(profile)?;
        let t = Instant::now();
        host.up(&events).await.ctx("bench: cold start")?;
        cold.push(ms(t.elapsed()));
        host.down(StopMode::Graceful, &events).await?;
        let t = Instant::now();
        let got = command(g.port, pw, &format!("GET cyc{}", i - 1)).await?;
        wake.push(ms(t.elapsed()));
        let want = format!("${}\r\n{}\r\n", (i - 1).to_string().len(), i - 1);
        if got != want {
            lost += 1;
        }
        command(g.port, pw, &format!("SET cyc{i} {i}")).await?;
        g.until(GatewayState::Asleep).await?;
    }
    g.stop().await?;
    let q = |v: &[f64], p: f64| quantile(v, p).unwrap_or(f64::NAN);
    Ok((
        WakeFigures {
            loaded,
            cold_p50_ms: median(&cold),
            cold_p99_ms: q(&cold, 0.99),
            wake_p50_ms: median(&wake),
            wake_p99_ms: q(&wake, 0.99),
            wake_max_ms: q(&wake, 1.0),
        },
        lost,
    ))
}

/// Run every measurement.
pub async fn run(o: &GatewayBenchOptions) -> Result<GatewayBench> {
    let dir = tempfile::tempdir()?;
    let profile = bench_profile(o.docker, dir.path())?;
    let pw = profile
        .redis
        .password
        .as_ref()
        .map(|p| p.expose().to_string())
        .unwrap_or_default();
    if o.docker {
        super::ensure_local_image(&EventSink::discard()).await?;
    }
    let (loads, haproxy_version) = throughput(o, &profile, &pw, dir.path()).await?;
    let (idle, lost_idle) = wakes(o, &profile, &pw, false).await?;
    let loader = Loader::start(dir.path()).await?;
    let loaded = wakes(o, &profile, &pw, true).await;
    loader.stop().await;
    let (loaded, lost_loaded) = loaded?;
    let rps = |l: &LoadFigures, t| l.get(t).map_or(f64::NAN, |f| f.rps);
    let as_fast = loads
        .iter()
        .all(|l| rps(l, Target::shipped()) >= rps(l, Target::Haproxy));
    let c50 = loads
        .iter()
        .find(|l| l.clients == 50 && l.pipeline == 1)
        .is_some_and(|l| rps(l, Target::Direct) / rps(l, Target::shipped()) <= 1.3);
    let tail = loaded.wake_p99_ms <= 3.0 * loaded.wake_p50_ms;
    Ok(GatewayBench {
        backend: profile.redis.backend.label().into(),
        haproxy_version,
        default_data_path: DataPath::default(),
        loads,
        as_fast_as_haproxy: as_fast,
        within_1_3_of_direct_at_c50: c50,
        wake: vec![idle, loaded],
        wake_tail_met: tail,
        cycles: o.cycles * 2,
        keys_lost: lost_idle + lost_loaded,
    })
}
