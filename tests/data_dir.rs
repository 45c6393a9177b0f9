//! `redis.data_dir` rules (issue 10): a directory redwhisk did not create is never chmod-ed, one
//! other users can write is refused with one message naming the setting, a relative path means
//! the same to Docker as to redis-server (no stray named volume), and a password file others
//! can read is tightened to 0600. Real redis-server and Docker; fails loudly without them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

#[path = "host_support/mod.rs"]
mod support;

fn redwhisk(cwd: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_redwhisk"));
    c.current_dir(cwd)
        .env("REDWHISK_CONFIG_DIR", cwd.join("config"));
    c
}

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

#[test]
fn a_shared_directory_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let profile = dir.path().join("shared.toml");
    std::fs::write(
        &profile,
        format!(
            "[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n",
            shared.display()
        ),
    )
    .unwrap();
    let out = redwhisk(dir.path())
        .args(["redis", "up", "-p"])
        .arg(&profile)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("redis.data_dir"), "{err}");
    assert!(
        err.contains("other users can write to it (mode 1777)"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}/redwhisk", shared.display())),
        "{err}"
    );
    assert_eq!(mode(&shared), 0o1777, "the shared directory was changed");
    assert_eq!(
        std::fs::read_dir(&shared).unwrap().count(),
        0,
        "something was written"
    );
}

#[test]
fn a_data_dir_that_is_a_file_is_one_message_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let profile = dir.path().join("file.toml");
    std::fs::write(
        &profile,
        format!(
            "[redis]\nbackend = \"process\"\ndata_dir = \"{}\"\n",
            file.display()
        ),
    )
    .unwrap();
    let out = redwhisk(dir.path())
        .args(["redis", "up", "-p"])
        .arg(&profile)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("redis.data_dir").count(), 1, "{err}");
    assert_eq!(err.matches("is not a directory").count(), 1, "{err}");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn an_existing_private_directory_keeps_its_mode_and_a_readable_password_file_is_tightened() {
    support::require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o750)).unwrap();
    let pw = data.join("redwhisk.password");
    std::fs::write(&pw, "copied-in-password\n").unwrap();
    std::fs::set_permissions(&pw, std::fs::Permissions::from_mode(0o644)).unwrap();
    let profile = dir.path().join("private.toml");
    std::fs::write(
        &profile,
        format!(
            "[redis]\nbackend = \"process\"\nport = 0\ndata_dir = \"{}\"\n",
            data.display()
        ),
    )
    .unwrap();
    let up = redwhisk(dir.path())
        .args(["redis", "up", "-p"])
        .arg(&profile)
        .output()
        .unwrap();
    let down = redwhisk(dir.path())
        .args(["redis", "down", "-p"])
        .arg(&profile)
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert_eq!(mode(&data), 0o750, "an existing directory is not chmod-ed");
    assert_eq!(mode(&pw), 0o600, "the password file was left readable");
    assert_eq!(
        std::fs::read_to_string(&pw).unwrap(),
        "copied-in-password\n"
    );
    // The secret is not on the screen either.
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&up.stdout),
        String::from_utf8_lossy(&up.stderr)
    );
    assert!(!all.contains("copied-in-password"), "{all}");
}

#[test]
fn a_relative_data_dir_is_the_same_directory_for_docker_no_named_volume() {
    let dir = tempfile::tempdir().unwrap();
    let name = support::unique("reldata");
    let profile = dir.path().join(format!("{name}.toml"));
    std::fs::write(
        &profile,
        format!(
            "[redis]\nbackend = \"docker\"\nimage = \"{}\"\npull = false\nnetwork = \"host\"\nport = 0\npersistence = \"rdb\"\ndata_dir = \"{name}\"\n",
            redwhisk::redis_host::image::LOCAL_TAG
        ),
    )
    .unwrap();
    let p = redwhisk::profile::find_profile(profile.to_str().unwrap()).unwrap();
    let _c = support::Cleanup { profile: p.clone() };
    let up = redwhisk(dir.path())
        .args(["redis", "up", "-p"])
        .arg(&profile)
        .output()
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let down = redwhisk(dir.path())
        .args(["redis", "down", "-p"])
        .arg(&profile)
        .output()
        .unwrap();
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    // The relative path was taken from the current directory, for the bind mount too.
    assert!(dir.path().join(&name).join("redwhisk.conf").is_file());
    assert!(
        dir.path().join(&name).join("dump.rdb").is_file(),
        "the save went elsewhere"
    );
    let volumes = Command::new("docker")
        .args(["volume", "ls", "-q"])
        .output()
        .expect("docker is required");
    let volumes = String::from_utf8_lossy(&volumes.stdout);
    assert!(
        !volumes.lines().any(|v| v == name),
        "a stray named volume `{name}` was created"
    );
}

/// `redis status` names where Redis listens (`redis.bind`), not only where this host connects.
#[test]
fn status_shows_the_listen_address_of_the_bind() {
    support::require_redis_server();
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("bind.toml");
    std::fs::write(
        &profile,
        format!(
            "[redis]\nbackend = \"process\"\nbind = \"127.0.0.2\"\nport = 0\ndata_dir = \"{}\"\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = redwhisk(dir.path())
            .args(args)
            .arg("-p")
            .arg(&profile)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run(&["redis", "up"]);
    let status: serde_json::Value =
        serde_json::from_str(&run(&["redis", "status", "--output", "json"])).unwrap();
    run(&["redis", "down"]);
    let listen = status["listen"].as_str().unwrap();
    assert!(listen.starts_with("127.0.0.2:"), "{status:#}");
    let port = listen.rsplit_once(':').unwrap().1;
    assert!(
        status["endpoint"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{port}/0")),
        "{status:#}"
    );
}
