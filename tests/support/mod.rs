//! Shared helpers for the integration tests: the OpenWhisk-compatible test server and a
//! password-protected `redis-server` child process. Missing tools make tests fail loudly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod openwhisk_server;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on 127.0.0.1 with a password and no persistence; killed on drop.
pub struct RedisProc {
    pub port: u16,
    pub password: String,
    child: Child,
}

impl RedisProc {
    pub fn start() -> RedisProc {
        let port = free_port();
        let password = format!("pw-{:016x}", rand::random::<u64>());
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args([
                "--requirepass",
                &password,
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server is required for this test (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        RedisProc {
            port,
            password,
            child,
        }
    }
}

impl Drop for RedisProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A loopback port that refuses connections and stays reserved while the socket lives: bound,
/// never listening. (A port from [`free_port`] is free only until a parallel test takes it.)
pub fn refusing_port() -> (socket2::Socket, u16) {
    let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    s.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .unwrap();
    let port = s.local_addr().unwrap().as_socket().unwrap().port();
    (s, port)
}

/// Node.js and the `redis` 4.x package the Node.js actions need; panics with the fix.
pub fn require_node() -> PathBuf {
    let ok = Command::new("node")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(ok, "node is required for this test (install Node.js 20)");
    let modules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("actions/nodejs/node_modules");
    assert!(
        modules.join("redis").exists(),
        "{} has no `redis` package: run `npm ci --prefix actions/nodejs`",
        modules.display()
    );
    modules
}
