//! A throwaway redis-server on a free loopback port, killed on drop. Tests that need Redis
//! fail loudly when redis-server is missing: they never pass by skipping.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestRedis {
    pub port: u16,
    pub password: Option<String>,
    child: Child,
    _dir: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind 127.0.0.1:0")
        .local_addr()
        .expect("local addr")
        .port()
}

impl TestRedis {
    pub fn start(password: Option<&str>) -> TestRedis {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("rw-test-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut cmd = Command::new("redis-server");
        cmd.args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no", "--dir"])
        .arg(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        if let Some(p) = password {
            cmd.args(["--requirepass", p]);
        }
        let child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start redis-server ({e}): these tests need redis-server 7 on PATH (apt-get install redis-server)")
        });
        let mut r = TestRedis {
            port,
            password: password.map(str::to_string),
            child,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if r.connection_opt().is_some() {
                return r;
            }
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!("redis-server exited early with {status} (port {port} taken?)");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server on port {port} never answered PING"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn connection_opt(&self) -> Option<redis::Connection> {
        let mut url = format!("redis://127.0.0.1:{}/", self.port);
        if let Some(p) = &self.password {
            url = format!("redis://:{p}@127.0.0.1:{}/", self.port);
        }
        let mut con = redis::Client::open(url).ok()?.get_connection().ok()?;
        redis::cmd("PING").query::<String>(&mut con).ok()?;
        Some(con)
    }

    /// A direct connection for checking what the actions left behind.
    pub fn connection(&self) -> redis::Connection {
        self.connection_opt()
            .expect("connect to the test redis-server")
    }

    /// The redis-server's process id (to freeze it with SIGSTOP, say).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn dbsize(&self) -> u64 {
        redis::cmd("DBSIZE")
            .query(&mut self.connection())
            .expect("DBSIZE")
    }

    /// From now on every SET fails with an OOM error reply (`maxmemory 1`); GET and DEL
    /// still work.
    pub fn refuse_writes(&self) {
        redis::cmd("CONFIG")
            .arg("SET")
            .arg("maxmemory")
            .arg("1")
            .exec(&mut self.connection())
            .expect("CONFIG SET maxmemory 1");
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self._dir);
    }
}
