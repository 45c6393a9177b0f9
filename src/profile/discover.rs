//! Finding profiles: `./profiles/*.toml`, then the user's config directory.

use std::path::{Path, PathBuf};

use super::{Profile, ProfileError};

/// A profile file found on disk (or the embedded default), loaded or with its error.
#[derive(Debug)]
pub struct ProfileEntry {
    pub name: String,
    pub path: Option<PathBuf>,
    pub profile: Result<Profile, ProfileError>,
}

/// `$XDG_CONFIG_HOME/redwhisk/profiles` (or `~/.config/redwhisk/profiles`).
pub fn user_profile_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("REDWHISK_CONFIG_DIR") {
        return Some(PathBuf::from(dir).join("profiles"));
    }
    dirs::config_dir().map(|d| d.join("redwhisk").join("profiles"))
}

fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("profiles")];
    dirs.extend(user_profile_dir());
    dirs
}

fn toml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

/// Every profile file found, in search order, listed by the profile's name (its `name` field,
/// else its file name). Two files with one name are both listed with the error `--profile`
/// would give for either (they would share a data directory and a container name). If no
/// profile is named `local`, the embedded default is listed first.
pub fn list_profiles() -> Vec<ProfileEntry> {
    let mut out: Vec<ProfileEntry> = Vec::new();
    let mut seen_paths: Vec<PathBuf> = Vec::new();
    for dir in search_dirs() {
        for path in toml_files(&dir) {
            // The same file reached twice (a search directory listed twice) is listed once.
            let real = path.canonicalize().unwrap_or_else(|_| path.clone());
            if seen_paths.contains(&real) {
                continue;
            }
            seen_paths.push(real);
            let profile = Profile::load(&path);
            let name = match &profile {
                Ok(p) => p.name.clone(),
                Err(_) => path
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            };
            out.push(ProfileEntry {
                name,
                path: Some(path),
                profile,
            });
        }
    }
    let sources: Vec<(String, String)> = out
        .iter()
        .filter_map(|e| e.profile.as_ref().ok())
        .map(|p| (p.name.clone(), p.display_source()))
        .collect();
    for e in &mut out {
        let Ok(p) = &e.profile else { continue };
        let mine = p.display_source();
        if let Some((_, other)) = sources.iter().find(|(n, s)| *n == p.name && *s != mine) {
            e.profile = Err(ProfileError::DuplicateName {
                name: p.name.clone(),
                first: mine,
                second: other.clone(),
            });
        }
    }
    if !out.iter().any(|e| e.name == "local") {
        out.insert(
            0,
            ProfileEntry {
                name: "local".into(),
                path: None,
                profile: Profile::embedded_default(),
            },
        );
    }
    out
}

/// Resolve `--profile`: a path to a .toml file, or a name searched in the profile directories.
pub fn find_profile(name_or_path: &str) -> Result<Profile, ProfileError> {
    let as_path = Path::new(name_or_path);
    if name_or_path.ends_with(".toml") || name_or_path.contains('/') {
        return unique(Profile::load(as_path)?);
    }
    for dir in search_dirs() {
        let candidate = dir.join(format!("{name_or_path}.toml"));
        if candidate.is_file() {
            return unique(Profile::load(&candidate)?);
        }
    }
    // A file whose `name` field (not its file name) is the one asked for.
    if let Some(p) = others_named(name_or_path, None).into_iter().next() {
        return unique(p);
    }
    if name_or_path == "local" {
        return Profile::embedded_default();
    }
    Err(ProfileError::NotFound {
        name: name_or_path.to_string(),
        searched: search_dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Profiles in the search directories named `name`, other than the file `except`.
fn others_named(name: &str, except: Option<&Path>) -> Vec<Profile> {
    let except = except.and_then(|p| p.canonicalize().ok());
    search_dirs()
        .iter()
        .flat_map(|d| toml_files(d))
        .filter(|path| except.is_none() || path.canonicalize().ok() != except)
        .filter_map(|path| Profile::load(&path).ok())
        .filter(|p| p.name == name)
        .collect()
}

/// Refuse a profile whose name another profile file also uses: they would share a data
/// directory and a container name.
fn unique(p: Profile) -> Result<Profile, ProfileError> {
    match others_named(&p.name, p.source.as_deref()).first() {
        Some(other) => Err(ProfileError::DuplicateName {
            name: p.name.clone(),
            first: p.display_source(),
            second: other.display_source(),
        }),
        None => Ok(p),
    }
}

/// The profile used when none is named: `local` from the search path, else the embedded one.
pub fn default_profile() -> Result<Profile, ProfileError> {
    find_profile("local")
}
