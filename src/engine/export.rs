//! Export: a results directory packed as one zip next to it, for a paper or a capacity plan.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use zip::write::SimpleFileOptions;

/// Write `<dir>.zip` with every visible file of `dir` (run.json, invocations.csv, …) at the
/// archive root. Written under a temporary name, then renamed.
pub fn zip_dir(dir: &Path) -> io::Result<PathBuf> {
    let name = dir.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the results directory has no name",
        )
    })?;
    let target = dir.with_file_name(format!("{}.zip", name.to_string_lossy()));
    let tmp = dir.with_file_name(format!(".{}.zip.tmp", name.to_string_lossy()));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && !p
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    files.sort();
    let mut zip = zip::ZipWriter::new(File::create(&tmp)?);
    for path in files {
        let entry = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        zip.start_file(entry, SimpleFileOptions::default())
            .map_err(io::Error::other)?;
        zip.write_all(&std::fs::read(&path)?)?;
    }
    zip.finish().map_err(io::Error::other)?.sync_all()?;
    std::fs::rename(&tmp, &target)?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn packs_the_visible_files() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("20260101T000000Z-local");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("run.json"), "{}").unwrap();
        std::fs::write(dir.join("invocations.csv"), "a,b\n").unwrap();
        std::fs::write(dir.join(".partial"), "x").unwrap();
        let zip_path = zip_dir(&dir).unwrap();
        assert_eq!(zip_path, root.path().join("20260101T000000Z-local.zip"));
        let mut archive = zip::ZipArchive::new(File::open(&zip_path).unwrap()).unwrap();
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.unwrap().to_string())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        let mut s = String::new();
        archive
            .by_name("run.json")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        assert_eq!(s, "{}");
    }
}
