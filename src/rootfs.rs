//! A root file system for an image built `FROM scratch` with no registry (the local Redis image,
//! the local Lambda's): a minimal ustar writer, enough for regular files and directories (the
//! `tar` crate would do, but this is 80 lines and adds no dependency), and the libraries a
//! binary needs, from `ldd`'s output.

/// The shared libraries (and the dynamic loader) a binary needs, from `ldd`'s output.
pub fn parse_ldd(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, rest)) => rest.trim(),
                None => l,
            };
            let path = path.split(" (").next().unwrap_or("").trim();
            path.starts_with('/').then(|| path.to_string())
        })
        .collect()
}

/// An in-memory tar archive under construction.
#[derive(Default)]
pub struct Tar {
    buf: Vec<u8>,
}

const BLOCK: usize = 512;

/// Why an entry could not be added.
#[derive(Debug, thiserror::Error)]
pub enum TarError {
    /// No split of the name fits ustar's 155-byte prefix and 100-byte name fields.
    #[error("path too long for a tar header: {0}")]
    PathTooLong(String),
}

impl Tar {
    /// Add a directory (`path` without a leading slash).
    pub fn dir(&mut self, path: &str, mode: u32) -> Result<(), TarError> {
        let name = format!("{}/", path.trim_matches('/'));
        self.header(&name, mode, 0, b'5')
    }

    /// Add a regular file.
    pub fn file(&mut self, path: &str, mode: u32, data: &[u8]) -> Result<(), TarError> {
        self.header(path.trim_start_matches('/'), mode, data.len() as u64, b'0')?;
        self.buf.extend_from_slice(data);
        let pad = (BLOCK - data.len() % BLOCK) % BLOCK;
        self.buf.extend(std::iter::repeat_n(0u8, pad));
        Ok(())
    }

    /// End the archive (two zero blocks) and return its bytes.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.extend(std::iter::repeat_n(0u8, 2 * BLOCK));
        self.buf
    }

    fn header(&mut self, name: &str, mode: u32, size: u64, kind: u8) -> Result<(), TarError> {
        let mut h = [0u8; BLOCK];
        let (prefix, short) = split_name(name)?;
        h[..short.len()].copy_from_slice(short.as_bytes());
        octal(&mut h[100..108], u64::from(mode));
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], 0);
        h[156] = kind;
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[345..345 + prefix.len()].copy_from_slice(prefix.as_bytes());
        // The checksum is computed with its own field read as spaces.
        h[148..156].copy_from_slice(b"        ");
        let sum: u64 = h.iter().map(|b| u64::from(*b)).sum();
        let text = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(text.as_bytes());
        self.buf.extend_from_slice(&h);
        Ok(())
    }
}

/// ustar keeps names over 100 bytes as prefix (155) + '/' + name (100).
fn split_name(name: &str) -> Result<(&str, &str), TarError> {
    if name.len() <= 100 {
        return Ok(("", name));
    }
    name.char_indices()
        .filter(|(_, c)| *c == '/')
        .map(|(i, _)| (&name[..i], &name[i + 1..]))
        .find(|(p, n)| p.len() <= 155 && n.len() <= 100 && !n.is_empty())
        .ok_or_else(|| TarError::PathTooLong(name.to_string()))
}

/// Zero-padded octal, NUL-terminated, filling the field.
fn octal(field: &mut [u8], value: u64) {
    let width = field.len() - 1;
    let text = format!("{value:0width$o}");
    field[..width].copy_from_slice(&text.as_bytes()[text.len() - width..]);
    field[width] = 0;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_tar_reads_it() {
        let mut t = Tar::default();
        t.dir("usr/bin", 0o755).unwrap();
        t.file("/usr/bin/hello", 0o755, b"hi there\n").unwrap();
        let long = format!("{}/x.txt", "d".repeat(120));
        t.file(&long, 0o644, b"x").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.tar");
        std::fs::write(&path, t.finish()).unwrap();
        let out = std::process::Command::new("tar")
            .arg("-tvf")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list = String::from_utf8_lossy(&out.stdout);
        assert!(list.contains("usr/bin/hello"), "{list}");
        assert!(list.contains("-rwxr-xr-x"), "{list}");
        assert!(list.contains(&long), "{list}");
    }

    #[test]
    fn a_name_no_split_fits_is_refused_with_its_path() {
        let mut t = Tar::default();
        let name = format!("{}/x", "d".repeat(200));
        let e = t.file(&name, 0o644, b"x").unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("path too long for a tar header: {name}")
        );
    }
}
