//! The Lambda control plane against moto's server (a real Lambda API implementation, not
//! written here): `redwhisk lambda deploy` creates, then updates a function; a role that IAM
//! does not know, an endpoint where nothing listens, no credentials at all; credentials from
//! the environment and from `AWS_PROFILE` with a temporary ~/.aws. The functions are checked
//! with the `aws` CLI against the same server. Needs moto_server and aws (scripts/ci-setup.sh)
//! and the static `bootstrap` (the dist build).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Moto {
    child: Child,
    url: String,
}

impl Moto {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start moto_server ({e}): run scripts/ci-setup.sh (pip moto[server])")
            });
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not listen on {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The `aws` CLI against this server, with dummy credentials.
    fn aws(&self, args: &[&str]) -> Output {
        let home = tempfile::tempdir().unwrap();
        let out = Command::new("aws")
            .args([
                "--endpoint-url",
                &self.url,
                "--region",
                "us-east-1",
                "--output",
                "json",
            ])
            .args(args)
            .env("HOME", home.path())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("the aws CLI (scripts/ci-setup.sh installs awscli)");
        assert!(
            out.status.success(),
            "aws {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn create_role(&self, name: &str) -> String {
        let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        let out = self.aws(&[
            "iam",
            "create-role",
            "--role-name",
            name,
            "--assume-role-policy-document",
            doc,
        ]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v["Role"]["Arn"].as_str().unwrap().to_string()
    }

    fn function(&self, name: &str) -> serde_json::Value {
        let out = self.aws(&[
            "lambda",
            "get-function-configuration",
            "--function-name",
            name,
        ]);
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A temporary HOME with a profile file; `redwhisk lambda deploy` runs with no AWS variables
/// but those a test sets.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn profile(&self, platform: &str) -> PathBuf {
        let path = self.dir.path().join("aws-test.toml");
        std::fs::write(
            &path,
            format!("name = \"aws-test\"\n[platform]\nkind = \"lambda\"\n{platform}\n"),
        )
        .unwrap();
        path
    }

    fn deploy(&self, profile: &Path, env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
        c.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["lambda", "deploy", "--profile"])
            .arg(profile)
            .env("HOME", self.dir.path())
            .env("AWS_CONFIG_FILE", self.dir.path().join(".aws/config"))
            .env(
                "AWS_SHARED_CREDENTIALS_FILE",
                self.dir.path().join(".aws/credentials"),
            )
            // Never ask an instance metadata service: nothing but loopback is reachable.
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for k in [
            "AWS_PROFILE",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_LAMBDA",
            "AWS_REGION",
            "AWS_DEFAULT_REGION",
            "AWS_WEB_IDENTITY_TOKEN_FILE",
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        ] {
            c.env_remove(k);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        let started = Instant::now();
        let out = c.output().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "deploy took {:?}",
            started.elapsed()
        );
        out
    }
}

const ENV_CREDS: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", "AKIAREDWHISKTEST"),
    ("AWS_SECRET_ACCESS_KEY", "redwhisk-test-secret-not-printed"),
];

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout: {}\nstderr: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn create_then_update_with_credentials_from_the_environment() {
    let moto = Moto::start();
    let role = moto.create_role("redwhisk-lambda");
    let env = Env::new();
    let p = env.profile(&format!(
        "function_name = \"rw-create\"\nendpoint = \"{}\"\nrole_arn = \"{role}\"\nmemory_mb = 512\ntimeout = 30",
        moto.url
    ));
    let out = env.deploy(&p, &ENV_CREDS);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("created Lambda function `rw-create`"), "{t}");
    assert!(
        !t.contains("redwhisk-test-secret-not-printed"),
        "secret printed: {t}"
    );
    let f = moto.function("rw-create");
    assert_eq!(f["Runtime"], "provided.al2023");
    assert_eq!(f["Handler"], "bench");
    assert_eq!(f["MemorySize"], 512);
    assert_eq!(f["Timeout"], 30);
    assert_eq!(f["Role"], role.as_str());
    assert_eq!(f["State"], "Active");

    // The same function again, with other settings: an update, not a second create.
    let p = env.profile(&format!(
        "function_name = \"rw-create\"\nendpoint = \"{}\"\nrole_arn = \"{role}\"\nmemory_mb = 1024\ntimeout = 45",
        moto.url
    ));
    let out = env.deploy(&p, &ENV_CREDS);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("updated Lambda function `rw-create`"), "{t}");
    let f = moto.function("rw-create");
    assert_eq!(f["MemorySize"], 1024);
    assert_eq!(f["Timeout"], 45);
    assert_eq!(f["LastUpdateStatus"], "Successful");
}

#[test]
fn a_role_iam_does_not_know_is_refused_with_the_step_named() {
    let moto = Moto::start();
    let env = Env::new();
    let p = env.profile(&format!(
        "function_name = \"rw-norole\"\nendpoint = \"{}\"\nrole_arn = \"arn:aws:iam::123456789012:role/no-such-role\"",
        moto.url
    ));
    let out = env.deploy(&p, &ENV_CREDS);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("CreateFunction of function `rw-norole`"), "{t}");
    assert!(t.contains("role"), "{t}");
}

#[test]
fn an_endpoint_where_nothing_listens_fails_in_bounded_time_naming_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = Env::new();
    let url = format!("http://127.0.0.1:{port}");
    let p = env.profile(&format!(
        "function_name = \"rw-noend\"\nendpoint = \"{url}\"\nregion = \"eu-nowhere-1\"\nrole_arn = \"arn:aws:iam::123456789012:role/r\""
    ));
    let out = env.deploy(&p, &ENV_CREDS);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains(&url), "{t}");
    assert!(t.contains("GetFunctionConfiguration"), "{t}");
}

#[test]
fn credentials_from_aws_profile_and_none_at_all() {
    let moto = Moto::start();
    let role = moto.create_role("redwhisk-lambda");
    let env = Env::new();
    let p = env.profile(&format!(
        "function_name = \"rw-prof\"\nrole_arn = \"{role}\""
    ));
    let endpoint = [("AWS_ENDPOINT_URL_LAMBDA", moto.url.as_str())];

    // No credentials anywhere: a clear error, not a hang.
    let out = env.deploy(&p, &endpoint);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.to_lowercase().contains("credential"), "{t}");

    // A named profile in a temporary ~/.aws, chosen by AWS_PROFILE.
    let aws = env.dir.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[redwhisk-test]\naws_access_key_id = AKIAPROFILETEST\naws_secret_access_key = profile-secret-not-printed\n",
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        "[profile redwhisk-test]\nregion = us-east-1\n",
    )
    .unwrap();
    let out = env.deploy(
        &p,
        &[
            ("AWS_ENDPOINT_URL_LAMBDA", moto.url.as_str()),
            ("AWS_PROFILE", "redwhisk-test"),
        ],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("created Lambda function `rw-prof`"), "{t}");
    assert!(
        t.contains(&moto.url),
        "the endpoint from AWS_ENDPOINT_URL_LAMBDA: {t}"
    );
    assert!(!t.contains("profile-secret-not-printed"), "{t}");
    assert_eq!(moto.function("rw-prof")["Handler"], "bench");
}

/// With the Lambda endpoint on loopback, the credential chain never asks the EC2 instance
/// metadata service (on a real machine 169.254.169.254, outside loopback). Here metadata is
/// not disabled and its endpoint is a local listener that counts connections: none may come.
#[test]
fn a_loopback_endpoint_never_asks_the_instance_metadata_service() {
    let moto = Moto::start();
    let env = Env::new();
    let p = env.profile(
        "function_name = \"rw-imds\"\nrole_arn = \"arn:aws:iam::123456789012:role/redwhisk\"",
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let imds = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let out = env.deploy(
        &p,
        &[
            ("AWS_ENDPOINT_URL_LAMBDA", moto.url.as_str()),
            ("AWS_EC2_METADATA_DISABLED", "false"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.as_str()),
        ],
    );
    let t = text(&out);
    assert!(!out.status.success(), "no credentials anywhere: {t}");
    assert!(t.to_lowercase().contains("credential"), "{t}");
    // A connection completes into the listen backlog even though nothing accepts it.
    assert!(
        listener.accept().is_err(),
        "the instance metadata service was asked: {t}"
    );
}
