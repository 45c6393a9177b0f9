//! The S3 snapshots take their credentials from the standard AWS chain (aws-config): a profile
//! in a config file named by AWS_CONFIG_FILE, a `credential_process`, a web identity token
//! exchanged at moto's STS, and a clear, fast error when there are none. Against s3rver (which
//! refuses an unknown access key id, so a wrong key from the chain shows) and moto's server.
//! The CLI runs with AWS_EC2_METADATA_DISABLED (`World::cli`): nothing leaves loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod s3_support;

use std::path::Path;
use std::time::{Duration, Instant};

use s3_support::{BUCKET, Kind, S3Server, World, ok, text};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `snapshots list --output json` succeeds and finds the (empty) store.
fn lists(w: &World, profile: &Path, env: &[(String, String)]) {
    let out = ok(w.cli(
        &[
            "snapshots",
            "list",
            "-p",
            profile.to_str().unwrap(),
            "--output",
            "json",
        ],
        env,
    ));
    let cat: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(cat["complete"].as_array().is_some(), "{cat}");
}

/// A `[snapshots]` profile without an endpoint: it comes from the AWS settings.
fn profile_without_endpoint(w: &World) -> std::path::PathBuf {
    let path = w.dir.path().join("p.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"{}\"\n[redis]\ndata_dir = \"{}\"\n[snapshots]\nurl = \"s3://{BUCKET}/creds\"\nallow_http = true\n",
            w.name,
            w.data_dir().display()
        ),
    )
    .unwrap();
    path
}

#[test]
fn aws_profile_in_a_config_file_named_by_aws_config_file() {
    let s3 = S3Server::start(Kind::S3rver);
    let w = World::new();
    let config = w.dir.path().join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[default]\naws_access_key_id = WRONGKEY\naws_secret_access_key = wrong\n[profile lab]\naws_access_key_id = {}\naws_secret_access_key = {}\nregion = eu-west-1\nendpoint_url = {}\n",
            s3.key_id,
            s3.secret,
            s3.endpoint()
        ),
    )
    .unwrap();
    let p = profile_without_endpoint(&w);
    let c = config.to_str().unwrap();
    lists(
        &w,
        &p,
        &env(&[("AWS_CONFIG_FILE", c), ("AWS_PROFILE", "lab")]),
    );
    // The default profile's key is not one s3rver knows: the profile really picked the keys.
    let wrong = w.cli(
        &["snapshots", "list", "-p", p.to_str().unwrap()],
        &env(&[("AWS_CONFIG_FILE", c), ("AWS_ENDPOINT_URL", &s3.endpoint())]),
    );
    assert!(!wrong.status.success());
    assert!(
        text(&wrong).contains("InvalidAccessKeyId"),
        "{}",
        text(&wrong)
    );
    // A profile the file does not have is named, with the ones it has.
    let missing = w.cli(
        &["snapshots", "list", "-p", p.to_str().unwrap()],
        &env(&[("AWS_CONFIG_FILE", c), ("AWS_PROFILE", "nope")]),
    );
    let t = text(&missing);
    assert!(t.contains("AWS_PROFILE=nope: no [nope] section"), "{t}");
    assert!(t.contains("default, lab"), "{t}");
    assert!(!t.contains(&s3.secret) || s3.secret == "S3RVER");
}

#[test]
fn credential_process_supplies_the_keys_once_per_command() {
    let s3 = S3Server::start(Kind::S3rver);
    let w = World::new();
    let calls = w.dir.path().join("calls");
    let script = w.dir.path().join("creds.sh");
    // Temporary credentials valid for an hour, as `credential_process` returns them; each call
    // is counted.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho x >> {}\nexp=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"{}\", \"SecretAccessKey\": \"{}\", \"SessionToken\": \"tok\", \"Expiration\": \"%s\"}}' \"$exp\"\n",
            calls.display(),
            s3.key_id,
            s3.secret
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", script.to_str().unwrap()])
        .status()
        .unwrap();
    let config = w.dir.path().join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile proc]\ncredential_process = {}\nregion = us-east-1\n",
            script.display()
        ),
    )
    .unwrap();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let e = env(&[
        ("AWS_CONFIG_FILE", config.to_str().unwrap()),
        ("AWS_PROFILE", "proc"),
    ]);
    lists(&w, &p, &e);
    let n = std::fs::read_to_string(&calls).unwrap().lines().count();
    assert_eq!(n, 1, "the chain's credentials are cached for the command");

    // A process that fails is named as the step that failed.
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'sso session expired' >&2\nexit 3\n",
    )
    .unwrap();
    let failed = w.cli(&["snapshots", "list", "-p", p.to_str().unwrap()], &e);
    let t = text(&failed);
    assert!(!failed.status.success());
    assert!(t.contains("the AWS credentials could not be loaded"), "{t}");
    assert!(
        t.contains("credential_process") || t.contains("exit"),
        "{t}"
    );
}

#[test]
fn web_identity_token_is_exchanged_at_sts() {
    let s3 = S3Server::start(Kind::Moto);
    let w = World::new();
    let token = w.dir.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyZWR3aGlzayJ9.").unwrap();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    // moto's server is STS too: the web identity step calls AssumeRoleWithWebIdentity there.
    let e = env(&[
        ("AWS_WEB_IDENTITY_TOKEN_FILE", token.to_str().unwrap()),
        (
            "AWS_ROLE_ARN",
            "arn:aws:iam::123456789012:role/redwhisk-snapshots",
        ),
        ("AWS_ROLE_SESSION_NAME", "redwhisk-test"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_STS", &s3.endpoint()),
    ]);
    lists(&w, &p, &e);
    let log = std::fs::read_to_string(s3.dir.path().join("server.log")).unwrap_or_default();
    assert!(
        log.contains("AssumeRoleWithWebIdentity") || log.contains("\"POST / HTTP"),
        "moto saw no STS call: {log}"
    );
}

#[test]
fn no_credentials_at_all_fail_fast_with_how_to_give_them() {
    let s3 = S3Server::start(Kind::S3rver);
    let w = World::new();
    let p = w.profile("p", "rdb", &s3.endpoint(), "");
    let t0 = Instant::now();
    let out = w.cli(&["snapshots", "list", "-p", p.to_str().unwrap()], &[]);
    let took = t0.elapsed();
    let t = text(&out);
    assert!(!out.status.success());
    assert!(t.contains("no S3 credentials"), "{t}");
    assert!(
        t.contains("AWS_ACCESS_KEY_ID") && t.contains("AWS_PROFILE"),
        "{t}"
    );
    assert!(took < Duration::from_secs(15), "{took:?}");
}
