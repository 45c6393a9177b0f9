//! ElastiCache-style Redis: an external `rediss://` server with an AUTH token. Debian's real
//! `redis-server`, started with `--tls-port` (and `--port 0`: no plain port) and
//! `--requirepass`, its CA and certificate (SAN IP:127.0.0.1 and DNS:localhost) made by
//! `openssl` in a temporary directory. Shown: case study 1 through `redwhisk run` with the
//! native and the Node.js actions, the writer and reader (case study 2's actions) over TLS,
//! and the mistakes a user makes (a wrong token, a CA not given, the wrong scheme for the
//! port), each a clear message in bounded time that never shows the token.
//! Needs redis-server (built with TLS), openssl, node + `npm ci --prefix actions/nodejs`, and
//! the static native actions for the OpenWhisk test (`scripts/test-all.sh` builds them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use redwhisk::event::EventSink;
use redwhisk::platform::BuiltinAction;
use redwhisk::platform::openwhisk::OpenWhiskPlatform;
use redwhisk::platform::openwhisk::config::resolve;
use redwhisk::profile::{ActionKind, OpenWhiskConfig};
use redwhisk::secret::Secret;
use redwhisk_actions::BenchResult;
use redwhisk_actions::protocol::{ReaderResult, WriterResult};
use serde_json::{Value, json};
use support::openwhisk_server::{GUEST_AUTH, ServerConfig, start_server};

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is required for the TLS tests (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA `name`.pem/.key in `dir`.
fn make_ca(dir: &Path, name: &str) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            &format!("{name}.key"),
            "-out",
            &format!("{name}.pem"),
            "-days",
            "1",
            "-subj",
            &format!("/CN=redwhisk test {name}"),
        ],
    );
}

/// `ca.pem` (trusted by the tests that give it), `other-ca.pem` (a CA that did not sign the
/// server), and `srv.pem` / `srv.key` signed by `ca`, for 127.0.0.1 and localhost.
fn make_certs(dir: &Path) {
    make_ca(dir, "ca");
    make_ca(dir, "other-ca");
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "srv.key",
            "-out",
            "srv.csr",
            "-subj",
            "/CN=localhost",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth,clientAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "srv.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "srv.pem",
            "-days",
            "1",
            "-extfile",
            "ext.cnf",
        ],
    );
}

/// A TLS-only `redis-server` with a password on 127.0.0.1, and a plain one (for the
/// wrong-scheme cases); both killed on drop.
struct TlsRedis {
    port: u16,
    plain_port: u16,
    password: String,
    dir: tempfile::TempDir,
    children: Vec<Child>,
}

impl Drop for TlsRedis {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn wait_listening(port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "redis-server on {port} exited ({status}); does it support TLS? {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        assert!(
            Instant::now() < deadline,
            "redis-server did not listen on {port} within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl TlsRedis {
    fn start() -> TlsRedis {
        let dir = tempfile::tempdir().unwrap();
        make_certs(dir.path());
        let password = format!("tok-{:016x}", rand::random::<u64>());
        let port = support::free_port();
        let log = dir.path().join("tls.log");
        let mut tls = Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--tls-cert-file", "srv.pem", "--tls-key-file", "srv.key"])
            .args(["--tls-ca-cert-file", "ca.pem", "--tls-auth-clients", "no"])
            .args(["--requirepass", &password])
            .args(["--save", "", "--appendonly", "no", "--logfile", "tls.log"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is required for this test (apt-get install redis-server)");
        wait_listening(port, &mut tls, &log);
        let plain_port = support::free_port();
        let plain_log = dir.path().join("plain.log");
        let mut plain = Command::new("redis-server")
            .args(["--port", &plain_port.to_string(), "--bind", "127.0.0.1"])
            .args(["--requirepass", &password])
            .args(["--save", "", "--appendonly", "no", "--logfile", "plain.log"])
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(plain_port, &mut plain, &plain_log);
        TlsRedis {
            port,
            plain_port,
            password,
            dir,
            children: vec![tls, plain],
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.path("ca.pem")).unwrap()
    }

    /// DBSIZE through `redis-cli --tls` (the server's own client, as a witness).
    fn dbsize(&self) -> u64 {
        let out = Command::new("redis-cli")
            .env("REDISCLI_AUTH", &self.password)
            .args(["--tls", "--cacert"])
            .arg(self.path("ca.pem"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "DBSIZE"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("DBSIZE: {text}"))
    }
}

fn bench_params(host: &str, port: u16, password: &str, tls: bool, ca: Option<&str>) -> Value {
    let mut p = json!({"host": host, "port": port, "password": password, "records": 50,
        "value_size": 16, "tls": tls});
    if let Some(ca) = ca {
        p["tls_ca"] = json!(ca);
    }
    p
}

/// `execute` on a blocking thread, with the time it took.
fn timed(name: &str, params: Value) -> (Result<Value, String>, Duration) {
    let t = Instant::now();
    let r = redwhisk_actions::execute(name, params).map_err(|e| e.to_string());
    (r, t.elapsed())
}

#[test]
fn native_bench_writer_and_reader_speak_tls_with_the_given_ca() {
    let r = TlsRedis::start();
    let ca = r.ca_pem();
    for host in ["127.0.0.1", "localhost"] {
        let (res, _) = timed(
            "bench",
            bench_params(host, r.port, &r.password, true, Some(&ca)),
        );
        let res: BenchResult = serde_json::from_value(res.unwrap()).unwrap();
        assert_eq!((res.mismatches, res.errors), (0, 0), "{host}");
        assert_eq!(
            res.round_trips.connect, 4,
            "TCP + TLS handshake + AUTH + PING"
        );
    }
    assert_eq!(r.dbsize(), 0, "the bench deletes what it wrote");
    // Case study 2's actions: the reader finds every key the writer stored, over TLS.
    let common = json!({"host": "127.0.0.1", "port": r.port, "password": r.password,
        "tls": true, "tls_ca": ca, "keys": 2500, "value_size": 32, "key_prefix": "rw-tls"});
    let w: WriterResult =
        serde_json::from_value(redwhisk_actions::execute("writer", common.clone()).unwrap())
            .unwrap();
    assert_eq!((w.keys_written, w.errors), (2500, 0));
    assert_eq!(r.dbsize(), 2500);
    let mut rp = common;
    rp["seed"] = json!(w.seed);
    rp["expected_digest"] = json!(w.digest);
    let rd: ReaderResult =
        serde_json::from_value(redwhisk_actions::execute("reader", rp).unwrap()).unwrap();
    let rd = serde_json::to_value(&rd).unwrap();
    assert_eq!(rd["found"], 2500, "{rd}");
    assert_eq!(rd["mismatches"], 0, "{rd}");
}

#[test]
fn native_actions_name_each_tls_mistake_in_bounded_time() {
    let r = TlsRedis::start();
    let ca = r.ca_pem();
    let bound = Duration::from_secs(10);

    let (res, took) = timed(
        "bench",
        bench_params("127.0.0.1", r.port, "not-the-token", true, Some(&ca)),
    );
    let e = res.unwrap_err();
    assert!(e.contains("rejected the password"), "{e}");
    assert!(e.contains("redis.password"), "{e}");
    assert!(!e.contains("not-the-token"), "{e}");
    assert!(took < bound, "{took:?}");

    // The CA not given: the Mozilla roots do not know the test CA.
    let (res, took) = timed(
        "bench",
        bench_params("127.0.0.1", r.port, &r.password, true, None),
    );
    let e = res.unwrap_err();
    assert!(e.contains("UnknownIssuer"), "{e}");
    assert!(
        e.contains("`tls_ca`") && e.contains("redis.tls_ca_file"),
        "{e}"
    );
    assert!(!e.contains(&r.password), "{e}");
    assert!(took < bound, "{took:?}");

    // A CA that did not sign the server's certificate.
    let other = std::fs::read_to_string(r.path("other-ca.pem")).unwrap();
    let (res, _) = timed(
        "bench",
        bench_params("127.0.0.1", r.port, &r.password, true, Some(&other)),
    );
    assert!(res.unwrap_err().contains("redis.tls_ca_file"));

    // Plain text to the TLS port: the server drops the connection.
    let (res, took) = timed(
        "bench",
        bench_params("127.0.0.1", r.port, &r.password, false, None),
    );
    let e = res.unwrap_err();
    assert!(e.contains("use rediss://"), "{e}");
    assert!(!e.contains(&r.password), "{e}");
    assert!(took < bound, "{took:?}");

    // TLS to the plain port: no answer to the ClientHello until the connect deadline.
    let (res, took) = timed(
        "bench",
        bench_params("127.0.0.1", r.plain_port, &r.password, true, Some(&ca)),
    );
    let e = res.unwrap_err();
    assert!(e.contains("use redis://"), "{e}");
    assert!(took < bound, "{took:?}");
}

fn redwhisk() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// An external-Redis profile file: `url`, the token in `redis.password`, `extra` lines in
/// `[redis]`, and `platform` as the `[platform]` section.
fn profile(
    dir: &Path,
    name: &str,
    url: &str,
    password: &str,
    extra: &str,
    platform: &str,
) -> PathBuf {
    let file = dir.join(format!("{name}.toml"));
    std::fs::write(
        &file,
        format!(
            "[redis]\nbackend = \"external\"\nurl = \"{url}\"\npassword = \"{password}\"\nready_timeout_ms = 3000\n{extra}\n\
             [platform]\n{platform}\n[workload]\ninvocations = 6\nconcurrency = 2\nrecords = 100\n"
        ),
    )
    .unwrap();
    file
}

/// `redwhisk run --output json` on `profile`; stdout parsed, nothing of `secret` in any output
/// or result file.
fn run(profile: &Path, secret: &str, env: &[(&str, &Path)]) -> (Value, Output) {
    let work = tempfile::tempdir().unwrap();
    let mut c = redwhisk();
    c.env("REDWHISK_DATA_DIR", work.path().join("data"))
        .env_remove("REDWHISK_REDIS_CA_FILE")
        .args(["run", "--output", "json", "--profile"])
        .arg(profile)
        .arg("--results-dir")
        .arg(work.path().join("results"));
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{stdout}");
    assert!(!stdout.contains(secret) && !stderr.contains(secret));
    for entry in walk(&work.path().join("results")) {
        let text = String::from_utf8_lossy(&std::fs::read(&entry).unwrap()).to_string();
        assert!(
            !text.contains(secret),
            "the token is in {}",
            entry.display()
        );
    }
    (serde_json::from_str(&stdout).unwrap(), out)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn check_summary(doc: &Value, what: &str) {
    let s = &doc["summary"];
    assert_eq!(s["completed"], 6, "{what}: {s}");
    assert_eq!(s["succeeded"], 6, "{what}: {s}");
    assert_eq!(s["mismatches"], 0, "{what}: {s}");
    assert_eq!(s["per_command_us"]["write"]["n"], 600, "{what}: {s}");
}

#[test]
fn run_case_study_1_over_tls_on_the_embedded_platform() {
    let r = TlsRedis::start();
    let dir = tempfile::tempdir().unwrap();
    let file = profile(
        dir.path(),
        "tls-local",
        &format!("rediss://localhost:{}/0", r.port),
        &r.password,
        &format!("tls_ca_file = \"{}\"", r.path("ca.pem").display()),
        "kind = \"local\"",
    );
    let (doc, _) = run(&file, &r.password, &[]);
    check_summary(&doc, "local");
    assert_eq!(r.dbsize(), 0);
}

/// A run through the OpenWhisk test server with `kind` actions; the CA comes from the
/// environment variable this time.
async fn run_on_test_server(r: &TlsRedis, kind: &str) {
    let server = start_server(ServerConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let platform = format!(
        "kind = \"openwhisk\"\napihost = \"{}\"\nauth = \"{GUEST_AUTH}\"\naction_kind = \"{kind}\"\naction_name = \"rw-tls-{kind}\"\npoll_deadline_ms = 60000\n",
        server.apihost()
    );
    let file = profile(
        dir.path(),
        &format!("tls-ow-{kind}"),
        &format!("rediss://127.0.0.1:{}", r.port),
        &r.password,
        "",
        &platform,
    );
    let ca = r.path("ca.pem");
    let secret = r.password.clone();
    let (doc, _) = tokio::task::spawn_blocking(move || {
        run(&file, &secret, &[("REDWHISK_REDIS_CA_FILE", ca.as_path())])
    })
    .await
    .unwrap();
    server.shutdown().await;
    check_summary(&doc, kind);
    assert_eq!(doc["platform"], "openwhisk");
}

#[tokio::test]
async fn run_case_study_1_over_tls_with_nodejs_actions() {
    support::require_node();
    let r = TlsRedis::start();
    run_on_test_server(&r, "nodejs").await;
    assert_eq!(r.dbsize(), 0);
}

#[tokio::test]
async fn run_case_study_1_over_tls_with_the_static_native_actions() {
    let r = TlsRedis::start();
    run_on_test_server(&r, "native").await;
    assert_eq!(r.dbsize(), 0);
}

/// The Node.js writer and reader (case study 2's actions), and their errors, over TLS.
#[tokio::test]
async fn nodejs_writer_reader_and_errors_over_tls() {
    support::require_node();
    let r = TlsRedis::start();
    let ca = r.ca_pem();
    let server = start_server(ServerConfig::default()).await.unwrap();
    let ow = OpenWhiskConfig {
        apihost: Some(server.apihost()),
        auth: Some(Secret::new(server.auth())),
        namespace: "_".into(),
        insecure: false,
        action_name: "redwhisk-bench".into(),
        action_kind: ActionKind::Nodejs,
        nodejs_kind: "nodejs:20".into(),
        memory_mb: 256,
        redis_host_for_actions: None,
        poll_deadline: Duration::from_secs(60),
        fetch_logs: false,
    };
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    let p = OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_secs(60)).unwrap();
    for (action, name) in [
        (BuiltinAction::Bench, "b"),
        (BuiltinAction::Writer, "w"),
        (BuiltinAction::Reader, "r"),
    ] {
        p.deploy(action, name, &EventSink::discard()).await.unwrap();
    }
    let common = json!({"host": "localhost", "port": r.port, "password": r.password,
        "tls": true, "tls_ca": ca, "keys": 2500, "value_size": 32, "key_prefix": "rw-tls-node"});
    let a = p.invoke("w", common.clone()).await.unwrap();
    assert!(a.success(), "{:?}", a.response);
    let w: WriterResult = serde_json::from_value(a.response.result.clone()).unwrap();
    assert_eq!((w.keys_written, w.errors), (2500, 0));
    let mut rp = common;
    rp["seed"] = json!(w.seed);
    rp["expected_digest"] = json!(w.digest);
    let a = p.invoke("r", rp).await.unwrap();
    assert!(a.success(), "{:?}", a.response);
    let rd = &a.response.result;
    assert_eq!(rd["found"], 2500, "{rd}");
    assert_eq!(rd["mismatches"], 0, "{rd}");

    let error_of = |v: &Value| v["error"].as_str().unwrap_or_default().to_string();
    let a = p
        .invoke(
            "b",
            bench_params("127.0.0.1", r.port, "not-the-token", true, Some(&ca)),
        )
        .await
        .unwrap();
    let e = error_of(&a.response.result);
    assert!(
        e.contains("rejected the password") && e.contains("redis.password"),
        "{e}"
    );
    assert!(!e.contains("not-the-token"), "{e}");
    let a = p
        .invoke(
            "b",
            bench_params("127.0.0.1", r.port, &r.password, true, None),
        )
        .await
        .unwrap();
    let e = error_of(&a.response.result);
    assert!(
        e.contains("not trusted") && e.contains("redis.tls_ca_file"),
        "{e}"
    );
    assert!(!e.contains(&r.password), "{e}");
    let t = Instant::now();
    let a = p
        .invoke(
            "b",
            bench_params("127.0.0.1", r.port, &r.password, false, None),
        )
        .await
        .unwrap();
    let e = error_of(&a.response.result);
    assert!(e.contains("use rediss://"), "{e}");
    let a = p
        .invoke(
            "b",
            bench_params("127.0.0.1", r.plain_port, &r.password, true, Some(&ca)),
        )
        .await
        .unwrap();
    let e = error_of(&a.response.result);
    assert!(e.contains("use redis://"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    server.shutdown().await;
}

/// `redwhisk redis up` (what every command does first) on each mistake: exit code, message,
/// time, and no token anywhere.
#[test]
fn redwhisk_names_each_tls_mistake_in_bounded_time() {
    let r = TlsRedis::start();
    let dir = tempfile::tempdir().unwrap();
    let ca = format!("tls_ca_file = \"{}\"", r.path("ca.pem").display());
    let up = |file: &Path, secret: &str| {
        let t = Instant::now();
        let out = redwhisk()
            .env_remove("REDWHISK_REDIS_CA_FILE")
            .args(["redis", "up", "--profile"])
            .arg(file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(!out.status.success(), "{stdout}");
        assert!(!err.contains(secret) && !stdout.contains(secret), "{err}");
        (err, t.elapsed())
    };
    let tls_url = format!("rediss://localhost:{}", r.port);

    let f = profile(
        dir.path(),
        "wrong-token",
        &tls_url,
        "not-the-token",
        &ca,
        "kind = \"local\"",
    );
    let (err, took) = up(&f, "not-the-token");
    assert!(
        err.contains("refused the password") && err.contains("redis.password"),
        "{err}"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");

    let f = profile(
        dir.path(),
        "no-ca",
        &tls_url,
        &r.password,
        "",
        "kind = \"local\"",
    );
    let (err, took) = up(&f, &r.password);
    assert!(
        err.contains("UnknownIssuer") && err.contains("redis.tls_ca_file"),
        "{err}"
    );
    assert!(
        took < Duration::from_secs(10),
        "a certificate is not retried: {took:?}"
    );

    let other = format!("tls_ca_file = \"{}\"", r.path("other-ca.pem").display());
    let f = profile(
        dir.path(),
        "other-ca",
        &tls_url,
        &r.password,
        &other,
        "kind = \"local\"",
    );
    let (err, _) = up(&f, &r.password);
    assert!(err.contains("other-ca.pem"), "{err}");

    let missing = "tls_ca_file = \"/nonexistent/ca.pem\"";
    let f = profile(
        dir.path(),
        "missing-ca",
        &tls_url,
        &r.password,
        missing,
        "kind = \"local\"",
    );
    let (err, _) = up(&f, &r.password);
    assert!(
        err.contains("redis.tls_ca_file") && err.contains("/nonexistent/ca.pem"),
        "{err}"
    );

    // The wrong scheme for the port: bounded by ready_timeout_ms (3 s here).
    let plain_to_tls = format!("redis://127.0.0.1:{}", r.port);
    let f = profile(
        dir.path(),
        "plain-to-tls",
        &plain_to_tls,
        &r.password,
        "",
        "kind = \"local\"",
    );
    let (err, took) = up(&f, &r.password);
    assert!(err.contains("use rediss://"), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");
    let tls_to_plain = format!("rediss://localhost:{}", r.plain_port);
    let f = profile(
        dir.path(),
        "tls-to-plain",
        &tls_to_plain,
        &r.password,
        &ca,
        "kind = \"local\"",
    );
    let (err, took) = up(&f, &r.password);
    assert!(err.contains("use redis://"), "{err}");
    assert!(took < Duration::from_secs(20), "{took:?}");

    // A CA file on a plain URL is a mistake too.
    let f = profile(
        dir.path(),
        "ca-plain",
        &plain_to_tls,
        &r.password,
        &ca,
        "kind = \"local\"",
    );
    let (err, _) = up(&f, &r.password);
    assert!(
        err.contains("redis.tls_ca_file") && err.contains("rediss://"),
        "{err}"
    );
}

/// A three-master Redis Cluster speaking only TLS (`--tls-cluster yes`: the bus and the
/// announced ports too), password-protected, formed with `redis-cli --tls --cluster create`;
/// killed on drop. ElastiCache cluster mode with in-transit encryption, on loopback.
struct TlsCluster {
    ports: Vec<u16>,
    children: Vec<Child>,
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A port p with p and p + 10000 (its cluster bus) both free.
fn free_cluster_port(taken: &[u16]) -> u16 {
    for _ in 0..200 {
        let p = support::free_port();
        if p > 55535 || taken.contains(&p) {
            continue;
        }
        if std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
    panic!("no free port pair (p, p + 10000) on 127.0.0.1 after 200 tries");
}

/// `redis-cli --tls` on `port`, killed after 60 s (`timeout`: a cluster that never joins
/// keeps `--cluster create` waiting forever).
fn tls_cli(r: &TlsRedis, port: u16, args: &[&str]) -> (bool, String) {
    let out = Command::new("timeout")
        .args(["60", "redis-cli"])
        .env("REDISCLI_AUTH", &r.password)
        .args(["--tls", "--cacert"])
        .arg(r.path("ca.pem"))
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

impl TlsCluster {
    /// Uses `r`'s certificates and password.
    fn start(r: &TlsRedis) -> TlsCluster {
        let mut c = TlsCluster {
            ports: Vec::new(),
            children: Vec::new(),
        };
        for _ in 0..3 {
            let port = free_cluster_port(&c.ports);
            let dir = r.path(&format!("node-{port}"));
            std::fs::create_dir(&dir).unwrap();
            let log = dir.join("redis.log");
            let mut child = Command::new("redis-server")
                .args(["--port", "0", "--tls-port", &port.to_string()])
                .args(["--bind", "127.0.0.1", "--tls-cluster", "yes"])
                .args([
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                ])
                .arg("--tls-cert-file")
                .arg(r.path("srv.pem"))
                .arg("--tls-key-file")
                .arg(r.path("srv.key"))
                .arg("--tls-ca-cert-file")
                .arg(r.path("ca.pem"))
                .args(["--tls-auth-clients", "no"])
                .args(["--requirepass", &r.password, "--masterauth", &r.password])
                .args(["--save", "", "--appendonly", "no", "--logfile"])
                .arg(&log)
                .current_dir(&dir)
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            wait_listening(port, &mut child, &log);
            c.children.push(child);
            c.ports.push(port);
        }
        let mut create = vec!["--cluster".to_string(), "create".to_string()];
        create.extend(c.ports.iter().map(|p| format!("127.0.0.1:{p}")));
        create.push("--cluster-yes".into());
        let create: Vec<&str> = create.iter().map(String::as_str).collect();
        let (ok, out) = tls_cli(r, c.ports[0], &create);
        assert!(ok && out.contains("All 16384 slots covered"), "{out}");
        let deadline = Instant::now() + Duration::from_secs(30);
        for &port in &c.ports {
            loop {
                let (_, info) = tls_cli(r, port, &["CLUSTER", "INFO"]);
                if info.contains("cluster_state:ok") && info.contains("cluster_size:3") {
                    break;
                }
                assert!(Instant::now() < deadline, "node {port}: {info}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        c
    }

    fn dbsizes(&self, r: &TlsRedis) -> Vec<u64> {
        self.ports
            .iter()
            .map(|&p| {
                let (_, out) = tls_cli(r, p, &["DBSIZE"]);
                out.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("DBSIZE: {out}"))
            })
            .collect()
    }
}

/// ElastiCache cluster mode over TLS: the native cluster client in-process (every master
/// reached over TLS), `redwhisk run` on an external `rediss://` cluster profile, and the
/// Node.js cluster client through the OpenWhisk test server.
#[tokio::test]
async fn cluster_mode_over_tls_native_run_and_nodejs() {
    support::require_node();
    let r = TlsRedis::start();
    let cluster = TlsCluster::start(&r);
    let ca = r.ca_pem();
    let seed = cluster.ports[1];

    let mut params = bench_params("127.0.0.1", seed, &r.password, true, Some(&ca));
    params["cluster"] = json!(true);
    params["records"] = json!(300);
    let res = tokio::task::spawn_blocking({
        let params = params.clone();
        move || redwhisk_actions::execute("bench", params)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(res["cluster"]["nodes"], 3, "{res}");
    assert_eq!(
        (res["mismatches"].as_u64(), res["errors"].as_u64()),
        (Some(0), Some(0))
    );
    // Without the CA: refused on the seed already, naming the setting.
    let mut untrusted = params.clone();
    untrusted.as_object_mut().unwrap().remove("tls_ca");
    let e = tokio::task::spawn_blocking(move || redwhisk_actions::execute("bench", untrusted))
        .await
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(e.contains("redis.tls_ca_file"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let file = profile(
        dir.path(),
        "tls-cluster",
        &format!("rediss://127.0.0.1:{seed}"),
        &r.password,
        &format!(
            "tls_ca_file = \"{}\"\n[redis.cluster]\nseeds = [\"rediss://127.0.0.1:{}\"]",
            r.path("ca.pem").display(),
            cluster.ports[2]
        ),
        "kind = \"local\"",
    );
    let secret = r.password.clone();
    let (doc, _) = tokio::task::spawn_blocking(move || run(&file, &secret, &[]))
        .await
        .unwrap();
    check_summary(&doc, "cluster");

    let server = start_server(ServerConfig::default()).await.unwrap();
    let ow = OpenWhiskConfig {
        apihost: Some(server.apihost()),
        auth: Some(Secret::new(server.auth())),
        namespace: "_".into(),
        insecure: false,
        action_name: "redwhisk-bench".into(),
        action_kind: ActionKind::Nodejs,
        nodejs_kind: "nodejs:20".into(),
        memory_mb: 256,
        redis_host_for_actions: None,
        poll_deadline: Duration::from_secs(60),
        fetch_logs: false,
    };
    let resolved = resolve(&ow, &|_| None, None).unwrap();
    let p = OpenWhiskPlatform::from_resolved(&ow, resolved, Duration::from_secs(60)).unwrap();
    p.deploy(BuiltinAction::Bench, "b", &EventSink::discard())
        .await
        .unwrap();
    let a = p.invoke("b", params).await.unwrap();
    assert!(a.success(), "{:?}", a.response);
    let res = &a.response.result;
    assert_eq!(res["cluster"]["nodes"], 3, "{res}");
    assert_eq!(res["mismatches"], 0, "{res}");
    assert_eq!(
        res["round_trips"]["connect"], 8,
        "seed TCP+TLS+AUTH+CLUSTER NODES, masters TCP+TLS+AUTH, PING: {res}"
    );
    server.shutdown().await;
    assert_eq!(
        cluster.dbsizes(&r),
        vec![0, 0, 0],
        "every bench deleted its keys"
    );
}
