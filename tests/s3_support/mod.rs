//! Real S3-compatible servers nobody here wrote, started per test on a free loopback port:
//! moto's server (PyPI `moto[server]`) and s3rver (npm). `scripts/ci-setup.sh` installs both;
//! a missing one fails the test loudly. Also: profiles with `[snapshots]`, the CLI with a
//! chosen AWS environment, and a Redis client that digests every key.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The bucket every server starts with.
pub const BUCKET: &str = "redwhisk-snaps";
/// s3rver checks signatures against this key pair (its documented default).
pub const S3RVER_KEY: &str = "S3RVER";

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Moto,
    S3rver,
}

impl Kind {
    pub fn bin(self) -> &'static str {
        match self {
            Kind::Moto => "moto_server",
            Kind::S3rver => "s3rver",
        }
    }
}

fn on_path(bin: &str) -> bool {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .any(|d| d.join(bin).is_file())
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running S3 server; killed (by its pid) and its files removed on drop.
pub struct S3Server {
    pub kind: Kind,
    pub port: u16,
    child: Child,
    pub dir: tempfile::TempDir,
    /// The access key and secret this server accepts.
    pub key_id: String,
    pub secret: String,
}

impl S3Server {
    pub fn start(kind: Kind) -> Self {
        assert!(
            on_path(kind.bin()),
            "`{}` is not installed: run `bash scripts/ci-setup.sh` (moto: pip install 'moto[server]'; s3rver: npm install -g s3rver)",
            kind.bin()
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut cmd = match kind {
            Kind::Moto => {
                let mut c = Command::new("moto_server");
                c.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
                c
            }
            Kind::S3rver => {
                let data = dir.path().join("data");
                std::fs::create_dir_all(&data).unwrap();
                let mut c = Command::new("s3rver");
                c.arg("-d")
                    .arg(&data)
                    .args(["-a", "127.0.0.1", "-p", &port.to_string()])
                    .args(["--configure-bucket", BUCKET, "--no-vhost-buckets"]);
                c
            }
        };
        let child = cmd
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        // moto accepts any key; a distinctive secret makes the secrets test meaningful there.
        let (key_id, secret) = match kind {
            Kind::Moto => ("AKIAREDWHISKTEST".to_string(), unique("moto-secret-Zq9")),
            Kind::S3rver => (S3RVER_KEY.to_string(), S3RVER_KEY.to_string()),
        };
        let mut s = Self {
            kind,
            port,
            child,
            dir,
            key_id,
            secret,
        };
        s.wait_ready();
        if kind == Kind::Moto {
            // moto starts with no bucket; its server does not check signatures by default.
            let out = Command::new("curl")
                .args(["-sf", "-X", "PUT", &format!("{}/{BUCKET}", s.endpoint())])
                .output()
                .unwrap();
            assert!(out.status.success(), "creating the bucket on moto failed");
        }
        s
    }

    fn wait_ready(&mut self) {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(60) {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "{} exited ({status}) before it listened: {}",
                    self.kind.bin(),
                    std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "{} did not listen on {} within 60 s",
            self.kind.bin(),
            self.port
        );
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment the CLI gets: these keys, no AWS files.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID".into(), self.key_id.clone()),
            ("AWS_SECRET_ACCESS_KEY".into(), self.secret.clone()),
        ]
    }

    /// The same settings for in-process store access (to tamper with objects).
    pub fn settings(&self) -> redwhisk::snapshots::credentials::AwsSettings {
        let env = self.env();
        redwhisk::snapshots::credentials::static_keys(&|k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .unwrap()
    }

    /// Stop serving (the store becomes unreachable).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A test's world: a temp dir with a profiles folder, a data dir, and an isolated HOME.
pub struct World {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl World {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Self {
            dir,
            name: unique("snap"),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Write `<name>.toml` (profile `name` = the world's name, so every variant shares the
    /// data dir and the snapshot prefix) and return its path.
    pub fn profile(&self, file: &str, persistence: &str, endpoint: &str, extra: &str) -> PathBuf {
        let path = self.dir.path().join(format!("{file}.toml"));
        std::fs::write(
            &path,
            format!(
                "name = \"{}\"\n[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\npersistence = \"{persistence}\"\n\n[snapshots]\nurl = \"s3://{BUCKET}/ci\"\nendpoint = \"{endpoint}\"\nallow_http = true\n{extra}\n",
                self.name,
                self.data_dir().display()
            ),
        )
        .unwrap();
        path
    }

    /// Run the CLI with `env` (and nothing from the caller's AWS settings or HOME).
    pub fn cli(&self, args: &[&str], env: &[(String, String)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
        c.args(args)
            .current_dir(self.dir.path())
            .env("HOME", self.dir.path().join("home"))
            .env("REDWHISK_CONFIG_DIR", self.dir.path().join("config"))
            .stdin(Stdio::null());
        for k in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_PROFILE",
            "AWS_ENDPOINT_URL",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL_S3",
            "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_ROLE_ARN",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        ] {
            c.env_remove(k);
        }
        // Nothing here may leave loopback: never the EC2 instance metadata service.
        c.env("AWS_EC2_METADATA_DISABLED", "true");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    /// Stop whatever Redis the data dir's state file names (a test that panicked).
    pub fn kill_redis(&self) {
        let state = self.data_dir().join("redwhisk.state.json");
        if let Ok(text) = std::fs::read_to_string(state)
            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(pid) = v["pid"].as_u64()
        {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }

    /// Remove the data directory: what a new VM has.
    pub fn wipe(&self) {
        std::fs::remove_dir_all(self.data_dir()).unwrap();
    }

    /// A Redis connection to the running server (port from the state file, password file).
    pub fn redis(&self) -> redis::Connection {
        let state: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(self.data_dir().join("redwhisk.state.json")).unwrap(),
        )
        .unwrap();
        let port = state["port"].as_u64().unwrap();
        let pw = std::fs::read_to_string(self.data_dir().join("redwhisk.password")).unwrap();
        let url = format!("redis://:{}@127.0.0.1:{port}/0", pw.trim());
        redis::Client::open(url).unwrap().get_connection().unwrap()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        self.kill_redis();
    }
}

pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[track_caller]
pub fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

/// Write `n` keys `k:<i>` with values derived from `seed` (pipelined in batches).
pub fn write_keys(c: &mut redis::Connection, n: u64, seed: &str) {
    let mut i = 0;
    while i < n {
        let end = (i + 5000).min(n);
        let mut p = redis::pipe();
        for j in i..end {
            p.cmd("SET")
                .arg(format!("k:{j}"))
                .arg(format!("{seed}-{j}-{}", "v".repeat((j % 32) as usize)))
                .ignore();
        }
        p.query::<()>(c).unwrap();
        i = end;
    }
}

/// Every key and value, read back with SCAN + MGET.
pub fn dump(c: &mut redis::Connection) -> BTreeMap<String, String> {
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(c).unwrap();
    let mut out = BTreeMap::new();
    for chunk in keys.chunks(5000) {
        let vals: Vec<Option<String>> = redis::cmd("MGET").arg(chunk).query(c).unwrap();
        for (k, v) in chunk.iter().zip(vals) {
            out.insert(k.clone(), v.unwrap_or_default());
        }
    }
    out
}

/// A digest of every key and value.
pub fn digest(m: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    for (k, v) in m {
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// Keys of `before` missing or changed in `after`.
pub fn lost(before: &BTreeMap<String, String>, after: &BTreeMap<String, String>) -> usize {
    before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(*v))
        .count()
}

pub fn search_tree(root: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                hits.push(p);
            }
        }
    }
    hits
}
