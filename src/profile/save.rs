//! Writing the console's workload edit back into a profile file, keeping everything else in it
//! (comments, order, formatting) as it was: `toml_edit` changes only the values the edit sets
//! (`[workload]`, `redis.persistence` and `redis.appendfsync`, `platform.keep_warm`). The new text is validated as a profile before it replaces the file, and it
//! replaces it atomically (a temporary file renamed over it), so a bad edit never costs data.

use std::path::Path;

use toml_edit::{DocumentMut, Item, Table, value};

use super::Profile;
use super::error::ProfileError;
use crate::model::workload::WorkloadEdit;

/// Set the edit's values in `[workload]` of the profile file at `path`.
pub fn save_workload(path: &Path, edit: &WorkloadEdit) -> Result<(), ProfileError> {
    let file = path.display().to_string();
    let io = |source| ProfileError::Io {
        file: file.clone(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let new = edited_text(&text, &file, edit)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "profile".into());
    // The result must still be a valid profile, or the file is left as it is.
    Profile::parse(&new, &file, &stem, Some(path.to_path_buf()))?;
    let tmp = path.with_extension("toml.redwhisk-tmp");
    std::fs::write(&tmp, &new).map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _same_mode = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _gone = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// `text` with the edit's values in its `[workload]` table (created when missing).
pub fn edited_text(text: &str, file: &str, edit: &WorkloadEdit) -> Result<String, ProfileError> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1);
        ProfileError::Syntax {
            file: file.to_string(),
            line,
            message: e.message().trim().replace('\n', " "),
        }
    })?;
    let w = table_mut(&mut doc, "workload", file)?;
    // Each value keeps the comment after the old one (`records = 1000  # the paper: …`).
    if let Some(n) = edit.invocations {
        set_kept(w, "invocations", value(i64::from(n)));
    }
    if let Some(n) = edit.concurrency {
        set_kept(w, "concurrency", value(i64::from(n)));
    }
    if let Some(n) = edit.records {
        set_kept(w, "records", value(i64::from(n)));
    }
    if let Some(m) = edit.mode {
        set_kept(w, "mode", value(m.as_str()));
    }
    if let Some(c) = edit.persistence {
        use crate::model::workload::PersistenceChoice as P;
        let r = table_mut(&mut doc, "redis", file)?;
        let (kind, fsync) = match c {
            P::None => ("none", None),
            P::Rdb => ("rdb", None),
            P::AofEverysec => ("aof", Some("everysec")),
            P::AofAlways => ("aof", Some("always")),
        };
        set_kept(r, "persistence", value(kind));
        // `save` and `appendfsync` of the other kind stay: only the chosen kind reads them.
        if let Some(f) = fsync {
            set_kept(r, "appendfsync", value(f));
        }
    }
    if let Some(c) = edit.platform {
        let p = table_mut(&mut doc, "platform", file)?;
        let kind = p.get("kind").and_then(Item::as_str).unwrap_or("local");
        if kind != "local" || !c.is_local() {
            return Err(ProfileError::Invalid {
                file: file.to_string(),
                field: "platform".into(),
                message: format!(
                    "is {kind} in the file; the editor saves only the embedded platform's keep_warm, so switching to {} is for the next runs only (edit [platform] in the file to change it for good)",
                    c.as_str()
                ),
            });
        }
        set_kept(
            p,
            "keep_warm",
            value(c == crate::model::workload::PlatformChoice::LocalWarm),
        );
    }
    Ok(doc.to_string())
}

/// The table `name` of `doc` (created when missing).
fn table_mut<'d>(
    doc: &'d mut DocumentMut,
    name: &str,
    file: &str,
) -> Result<&'d mut dyn toml_edit::TableLike, ProfileError> {
    if !doc.contains_key(name) {
        doc.insert(name, Item::Table(Table::new()));
    }
    doc[name]
        .as_table_like_mut()
        .ok_or_else(|| ProfileError::Invalid {
            file: file.to_string(),
            field: name.into(),
            message: format!("is not a table; write it as a [{name}] section"),
        })
}

/// Set `key` in `t`, keeping the comment after its old value.
fn set_kept(t: &mut dyn toml_edit::TableLike, key: &str, v: Item) {
    let decor = t
        .get(key)
        .and_then(Item::as_value)
        .map(|old| old.decor().clone());
    t.insert(key, v);
    if let (Some(decor), Some(new)) = (decor, t.get_mut(key).and_then(Item::as_value_mut)) {
        *new.decor_mut() = decor;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mode;

    #[test]
    fn only_the_edited_values_change_and_comments_stay() {
        let text = include_str!("../../profiles/local.toml");
        let edit = WorkloadEdit {
            invocations: Some(7),
            concurrency: None,
            records: Some(50),
            mode: Some(Mode::Pipelined),
            ..Default::default()
        };
        let new = edited_text(text, "local.toml", &edit).unwrap();
        let changed: Vec<(&str, &str)> = text
            .lines()
            .zip(new.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert_eq!(changed.len(), 3, "{changed:?}");
        assert_eq!(text.lines().count(), new.lines().count());
        assert!(new.contains("invocations = 7 "), "{new}");
        assert!(new.contains("# the paper: 100 invocations"));
        assert!(new.contains("records = 50 "));
        assert!(new.contains("mode = \"pipelined\" "));
        let p = Profile::parse(&new, "local.toml", "local", None).unwrap();
        assert_eq!((p.workload.invocations, p.workload.records), (7, 50));
        assert_eq!(p.workload.concurrency, 1);
    }

    #[test]
    fn persistence_and_the_embedded_platform_are_saved_with_their_comments() {
        use crate::model::workload::{PersistenceChoice, PlatformChoice};
        let text = "# mine\n[redis]\nbackend = \"process\"\npersistence = \"rdb\"  # why\nsave = [\"60 1\"]\n";
        let edit = WorkloadEdit {
            persistence: Some(PersistenceChoice::AofAlways),
            platform: Some(PlatformChoice::LocalWarm),
            ..Default::default()
        };
        let new = edited_text(text, "p.toml", &edit).unwrap();
        assert!(new.contains("persistence = \"aof\"  # why"), "{new}");
        assert!(new.contains("appendfsync = \"always\""), "{new}");
        assert!(
            new.contains("save = [\"60 1\"]"),
            "the rdb points stay: {new}"
        );
        let p = Profile::parse(&new, "p.toml", "p", None).unwrap();
        assert_eq!(p.redis.persistence.choice(), PersistenceChoice::AofAlways);
        assert_eq!(p.platform.choice(), PlatformChoice::LocalWarm);
        // Back to rdb: its own save points again; keep_warm false.
        let back = WorkloadEdit {
            persistence: Some(PersistenceChoice::Rdb),
            platform: Some(PlatformChoice::Local),
            ..Default::default()
        };
        let again = edited_text(&new, "p.toml", &back).unwrap();
        let p = Profile::parse(&again, "p.toml", "p", None).unwrap();
        assert_eq!(
            p.redis.persistence,
            crate::profile::Persistence::Rdb {
                save: vec![crate::profile::SavePoint {
                    seconds: 60,
                    changes: 1
                }]
            }
        );
        assert_eq!(p.platform.choice(), PlatformChoice::Local);
    }

    #[test]
    fn a_remote_platform_is_never_rewritten() {
        use crate::model::workload::PlatformChoice;
        let text = "[platform]\nkind = \"openwhisk\"\napihost = \"https://127.0.0.1:9\"\n";
        let edit = WorkloadEdit {
            platform: Some(PlatformChoice::Local),
            ..Default::default()
        };
        let err = edited_text(text, "ow.toml", &edit).unwrap_err().to_string();
        assert!(
            err.contains("ow.toml") && err.contains("is openwhisk in the file"),
            "{err}"
        );
    }

    #[test]
    fn a_profile_without_a_workload_section_gets_one() {
        let text = "[redis]\nbackend = \"process\"\n";
        let edit = WorkloadEdit {
            concurrency: Some(4),
            ..Default::default()
        };
        let new = edited_text(text, "p.toml", &edit).unwrap();
        let p = Profile::parse(&new, "p.toml", "p", None).unwrap();
        assert_eq!(p.workload.concurrency, 4);
        assert!(new.starts_with("[redis]\nbackend = \"process\"\n"));
    }

    #[test]
    fn a_file_that_is_not_toml_is_named_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[workload\n").unwrap();
        let err = save_workload(&path, &WorkloadEdit::default()).unwrap_err();
        assert!(err.to_string().contains("bad.toml:"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[workload\n");
    }

    #[test]
    fn an_edit_that_makes_the_profile_invalid_is_refused_and_the_file_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.toml");
        let text = "[workload]\ninvocations = 10 # ten\n";
        std::fs::write(&path, text).unwrap();
        let edit = WorkloadEdit {
            invocations: Some(0),
            ..Default::default()
        };
        let err = save_workload(&path, &edit).unwrap_err();
        assert!(err.to_string().contains("invocations"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        let ok = WorkloadEdit {
            invocations: Some(12),
            ..Default::default()
        };
        save_workload(&path, &ok).unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[workload]\ninvocations = 12 # ten\n"
        );
    }
}
