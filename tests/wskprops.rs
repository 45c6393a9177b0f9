//! `.wskprops` parsing and the wsk precedence (profile > WHISK_* > file > defaults).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use redwhisk::platform::openwhisk::OpenWhiskError;
use redwhisk::platform::openwhisk::config::{normalize_apihost, parse_props, resolve, split_auth};
use redwhisk::profile::{ActionKind, OpenWhiskConfig};
use redwhisk::secret::Secret;

fn cfg(apihost: Option<&str>, auth: Option<&str>) -> OpenWhiskConfig {
    OpenWhiskConfig {
        apihost: apihost.map(str::to_string),
        auth: auth.map(Secret::new),
        namespace: "_".into(),
        insecure: false,
        action_name: "redwhisk-bench".into(),
        action_kind: ActionKind::Native,
        nodejs_kind: "nodejs:20".into(),
        memory_mb: 256,
        redis_host_for_actions: None,
        poll_deadline: Duration::from_secs(60),
        fetch_logs: false,
    }
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

fn home_with(props: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join(".wskprops"), props).unwrap();
    home
}

#[test]
fn comments_blank_lines_and_spaces() {
    let p = parse_props(
        "# a comment\n\nAPIHOST = localhost:3233   # trailing comment\nAUTH=u:k\n  NAMESPACE=guest\n",
    );
    assert_eq!(p.get("APIHOST").map(String::as_str), Some("localhost:3233"));
    assert_eq!(p.get("AUTH").map(String::as_str), Some("u:k"));
    assert_eq!(p.get("NAMESPACE").map(String::as_str), Some("guest"));
    assert_eq!(p.len(), 3);
}

#[test]
fn values_containing_equals_are_skipped_like_wsk() {
    let p = parse_props("AUTH=uuid:key==\nAPIHOST=h\nJUSTAKEY\n=novalue\n");
    assert!(
        !p.contains_key("AUTH"),
        "a value with '=' splits into 3 parts and is lost"
    );
    assert_eq!(p.get("APIHOST").map(String::as_str), Some("h"));
    assert!(!p.contains_key("JUSTAKEY"));
    // "=novalue" splits into exactly two parts: an empty key, as in wsk.
    assert_eq!(p.get("").map(String::as_str), Some("novalue"));
}

#[test]
fn a_hash_inside_a_value_cuts_it_like_wsk() {
    let p = parse_props("AUTH=abc#def\n");
    assert_eq!(p.get("AUTH").map(String::as_str), Some("abc"));
}

#[test]
fn file_values_are_used_and_normalised() {
    let home =
        home_with("APIHOST=openwhisk.example:443/\nAUTH=uuid:secretkey\nNAMESPACE=ignored\n");
    let r = resolve(&cfg(None, None), &env_of(&[]), Some(home.path())).unwrap();
    assert_eq!(r.apihost, "https://openwhisk.example:443");
    assert_eq!(r.auth.expose(), "uuid:secretkey");
    assert_eq!(r.api_version, "v1");
    assert_eq!(
        r.namespace, "_",
        "NAMESPACE in the file is ignored, as wsk ignores it"
    );
    assert_eq!(split_auth(&r.auth), ("uuid", "secretkey"));
}

#[test]
fn env_overrides_the_file_and_the_profile_overrides_env() {
    let home = home_with("APIHOST=file-host\nAUTH=file:key\nAPIVERSION=v0\n");
    let env = env_of(&[
        ("WHISK_APIHOST", "http://env-host:3233"),
        ("WHISK_AUTH", "env:key"),
        ("WHISK_APIVERSION", "v1"),
    ]);
    let r = resolve(&cfg(None, None), &env, Some(home.path())).unwrap();
    assert_eq!(r.apihost, "http://env-host:3233");
    assert_eq!(r.auth.expose(), "env:key");
    assert_eq!(r.api_version, "v1");
    let r = resolve(
        &cfg(Some("http://profile-host"), Some("profile:key")),
        &env,
        Some(home.path()),
    )
    .unwrap();
    assert_eq!(r.apihost, "http://profile-host");
    assert_eq!(r.auth.expose(), "profile:key");
}

#[test]
fn wsk_config_file_replaces_the_home_file() {
    let home = home_with("APIHOST=home-host\nAUTH=home:key\n");
    let other = tempfile::tempdir().unwrap();
    let path = other.path().join("custom.props");
    std::fs::write(&path, "APIHOST=http://custom:1\nAUTH=custom:key\n").unwrap();
    let env = env_of(&[("WSK_CONFIG_FILE", path.to_str().unwrap())]);
    let r = resolve(&cfg(None, None), &env, Some(home.path())).unwrap();
    assert_eq!(r.apihost, "http://custom:1");
    assert_eq!(r.props_file.as_deref(), Some(path.as_path()));
}

#[test]
fn missing_keys_name_every_place_to_set_them() {
    let home = home_with("APIHOST=h\nAUTH=uuid:key=with=equals\n");
    let e = resolve(&cfg(None, None), &env_of(&[]), Some(home.path())).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, OpenWhiskError::Config(_)));
    assert!(
        msg.contains("WHISK_AUTH") && msg.contains(".wskprops") && msg.contains("'='"),
        "{msg}"
    );
    assert!(!msg.contains("with=equals"));

    let empty = tempfile::tempdir().unwrap();
    let e = resolve(&cfg(None, Some("u:k")), &env_of(&[]), Some(empty.path())).unwrap_err();
    assert!(e.to_string().contains("WHISK_APIHOST"), "{e}");
    assert!(e.to_string().contains("http://localhost:3233"), "{e}");
}

#[test]
fn a_key_without_colon_is_rejected_without_echoing_it() {
    let e = resolve(&cfg(Some("h"), Some("nocolonsecret")), &env_of(&[]), None).unwrap_err();
    assert!(e.to_string().contains("<uuid>:<key>"));
    assert!(!e.to_string().contains("nocolonsecret"));
    assert!(!format!("{e:?}").contains("nocolonsecret"));
}

#[test]
fn a_missing_props_file_is_not_an_error() {
    let r = resolve(
        &cfg(Some("localhost:3233"), Some("u:k")),
        &env_of(&[("WSK_CONFIG_FILE", "/nonexistent/wskprops")]),
        None,
    )
    .unwrap();
    assert_eq!(
        r.apihost, "https://localhost:3233",
        "https is the default scheme"
    );
    assert_eq!(
        r.props_file.as_deref(),
        Some(Path::new("/nonexistent/wskprops"))
    );
}

#[test]
fn apihost_normalisation() {
    assert_eq!(
        normalize_apihost("localhost:3233"),
        "https://localhost:3233"
    );
    assert_eq!(
        normalize_apihost("http://localhost:3233/"),
        "http://localhost:3233"
    );
    assert_eq!(normalize_apihost(" https://x// "), "https://x");
}

#[test]
fn the_resolved_config_never_shows_the_key() {
    let r = resolve(&cfg(Some("h"), Some("uuid:topsecret")), &env_of(&[]), None).unwrap();
    assert!(!format!("{r:?}").contains("topsecret"));
}
