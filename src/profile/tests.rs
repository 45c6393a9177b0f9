use super::*;

fn parse(text: &str) -> Result<Profile, ProfileError> {
    Profile::parse(text, "t.toml", "t", None)
}

#[test]
fn embedded_default_is_valid() {
    let p = Profile::embedded_default().unwrap();
    assert_eq!(p.name, "local");
    assert!(matches!(p.redis.backend, Backend::Process { .. }));
    assert!(matches!(p.platform, PlatformConfig::Local(_)));
    assert_eq!(p.workload.invocations, 100);
    assert_eq!(p.workload.records, 1000);
}

#[test]
fn unknown_field_names_line() {
    let e = parse("[redis]\nbackend = \"process\"\nbakend = 1\n").unwrap_err();
    let msg = e.to_string();
    assert!(msg.starts_with("t.toml:3: unknown field `bakend`"), "{msg}");
}

#[test]
fn bad_enum_lists_choices() {
    let e = parse("[redis]\npersistence = \"aofx\"\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.toml: redis.persistence: \"aofx\" is not valid; use one of \"none\", \"rdb\", \"aof\""
    );
}

#[test]
fn url_password_is_split_out() {
    let p = parse("[redis]\nbackend = \"external\"\nurl = \"redis://:s3cret@127.0.0.1:6379/0\"\n")
        .unwrap();
    match &p.redis.backend {
        Backend::External { url, .. } => assert_eq!(url, "redis://127.0.0.1:6379/0"),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.redis.password.as_ref().unwrap().expose(), "s3cret");
    let json = serde_json::to_string(&p).unwrap();
    assert!(!json.contains("s3cret"));
}

#[test]
fn overrides_apply_last_and_are_checked() {
    let p = parse("").unwrap();
    let p = Overrides {
        invocations: Some(7),
        records: Some(10),
        ..Default::default()
    }
    .applied_to(&p)
    .unwrap();
    assert_eq!((p.workload.invocations, p.workload.records), (7, 10));
    let err = Overrides {
        invocations: Some(0),
        ..Default::default()
    }
    .applied_to(&p)
    .unwrap_err();
    // The flag is the culprit, not the profile file.
    assert_eq!(
        err.to_string(),
        "--invocations/-n: 0 is out of range; use a value from 1 to 10000000 (the limits of `workload.invocations` in a profile)"
    );
}

#[test]
fn the_editors_persistence_and_platform_apply_and_a_remote_platform_needs_the_file() {
    use crate::model::workload::{PersistenceChoice, PlatformChoice};
    let p = parse("[redis]\npersistence = \"rdb\"\nsave = [\"60 5\"]\n").unwrap();
    let edited = Overrides {
        persistence: Some(PersistenceChoice::AofEverysec),
        platform: Some(PlatformChoice::LocalWarm),
        ..Default::default()
    }
    .applied_to(&p)
    .unwrap();
    assert_eq!(edited.redis.persistence.label(), "aof-everysec");
    assert_eq!(edited.platform.choice(), PlatformChoice::LocalWarm);
    // RDB keeps the profile's own save points; over another kind it takes Redis' defaults.
    let rdb = Overrides {
        persistence: Some(PersistenceChoice::Rdb),
        ..Default::default()
    };
    assert_eq!(
        rdb.applied_to(&p).unwrap().redis.persistence,
        p.redis.persistence
    );
    assert_eq!(
        rdb.applied_to(&edited).unwrap().redis.persistence,
        parse("").unwrap().redis.persistence
    );
    let err = Overrides {
        platform: Some(PlatformChoice::OpenWhisk),
        ..Default::default()
    }
    .applied_to(&p)
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("platform") && err.contains("is local in the file"),
        "{err}"
    );
}

#[test]
fn persistence_server_args() {
    let p = parse("[redis]\npersistence = \"aof\"\nappendfsync = \"always\"\n").unwrap();
    assert_eq!(p.redis.persistence.label(), "aof-always");
    assert!(
        p.redis
            .persistence
            .server_args()
            .contains(&"always".to_string())
    );
}

/// Every TOML block in docs/kubernetes.md is a valid profile (only real keys), and the
/// password line the page appends to the first one lands in `[redis]`.
#[test]
fn kubernetes_doc_examples_are_valid_profiles() {
    let doc = include_str!("../../docs/kubernetes.md");
    let blocks: Vec<&str> = doc
        .split("```toml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert_eq!(blocks.len(), 2, "the page has two TOML examples");
    for block in &blocks {
        let p = parse(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        assert!(matches!(p.redis.backend, Backend::External { .. }));
        assert!(matches!(p.platform, PlatformConfig::OpenWhisk(_)));
    }
    let rendered = format!("{}password = \"not-a-real-one\"\n", blocks[0]);
    let p = parse(&rendered).unwrap();
    assert_eq!(p.redis.password.unwrap().expose(), "not-a-real-one");
    // An external cluster: an empty [redis.cluster]; its shape is not ours to give.
    let p =
        parse("[redis]\nbackend = \"external\"\nurl = \"redis://h\"\n[redis.cluster]\n").unwrap();
    assert!(p.redis.is_cluster() && p.redis.owned_cluster().is_none());
    let err = parse(
        "[redis]\nbackend = \"external\"\nurl = \"redis://h\"\n[redis.cluster]\nshards = 3\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("remove `shards` and `replicas`"), "{err}");
}
