//! The deployable artifacts, built by one function for both `redwhisk action package` and
//! the deploy step, so what a user deploys by hand with `wsk` is byte for byte what redwhisk
//! deploys.
//!
//! - Native (`wsk action update NAME bench.zip --native`): a zip whose root holds the static
//!   binary as `exec` (runtime-docker's `dockerskeleton` unpacks it into `/action` and runs
//!   `/action/exec`). The image is musl Alpine, so the binary must be statically linked.
//! - Node.js (`wsk action update NAME bench.js --kind nodejs:20`): the source file itself.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::platform::builtin::BuiltinAction;
use crate::profile::ActionKind;

/// The Node.js actions, compiled in so the binary can deploy them from anywhere.
pub const NODE_BENCH: &str = include_str!("../../../actions/nodejs/bench.js");
pub const NODE_WRITER: &str = include_str!("../../../actions/nodejs/writer.js");
pub const NODE_READER: &str = include_str!("../../../actions/nodejs/reader.js");

/// Environment variable naming the directory holding the static `bench`, `writer`, `reader`.
pub const BIN_DIR_ENV: &str = "REDWHISK_ACTIONS_DIR";

/// How to build the static action binaries (shown in errors and docs).
pub const BUILD_HINT: &str = "build them with `RUSTFLAGS=\"-C target-feature=+crt-static\" cargo build --profile dist -p redwhisk-actions --target x86_64-unknown-linux-gnu` \
in the redwhisk source tree (or run `redwhisk action package --build` there), then pass `--bin-dir target/x86_64-unknown-linux-gnu/dist` or set REDWHISK_ACTIONS_DIR to that directory";

/// Why an artifact could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("no static `{binary}` action binary found (looked in: {searched}); {hint}", hint = BUILD_HINT)]
    BinaryNotFound { binary: String, searched: String },
    #[error("{path} is not a statically linked x86-64 Linux executable ({why}); the OpenWhisk native image is musl Alpine, so {hint}", hint = BUILD_HINT)]
    NotStatic {
        path: PathBuf,
        #[source]
        why: ElfError,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the action zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("cannot build the action zip: {0}")]
    ZipIo(#[from] std::io::Error),
    #[error(
        "--build needs the redwhisk source tree, and {dir} (where this redwhisk was built from) has no Cargo.toml; build the actions where the source is, or pass --bin-dir"
    )]
    NoSourceTree { dir: PathBuf },
    #[error(
        "cannot run cargo to build the static actions: {source} (is the Rust toolchain installed and on PATH?)"
    )]
    CargoMissing {
        #[source]
        source: std::io::Error,
    },
    #[error("building the static actions failed ({status}); cargo's messages are above")]
    BuildFailed { status: std::process::ExitStatus },
}

/// The source tree this redwhisk was built from.
pub fn source_tree() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Build the static `bench`, `writer` and `reader` in the source tree `src` (cargo's output goes
/// to this process's stderr) and return the directory holding them.
pub fn build_static(src: &Path) -> Result<PathBuf, PackageError> {
    if !src.join("Cargo.toml").is_file() {
        return Err(PackageError::NoSourceTree {
            dir: src.to_path_buf(),
        });
    }
    let mut rustflags = std::env::var("RUSTFLAGS").unwrap_or_default();
    if !rustflags.contains("crt-static") {
        rustflags = format!("{rustflags} -C target-feature=+crt-static")
            .trim()
            .to_string();
    }
    let status = std::process::Command::new(std::env::var_os("CARGO").unwrap_or("cargo".into()))
        .args([
            "build",
            "--profile",
            "dist",
            "-p",
            "redwhisk-actions",
            "--target",
            "x86_64-unknown-linux-gnu",
        ])
        .current_dir(src)
        .env("RUSTFLAGS", rustflags)
        .stdout(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .status()
        .map_err(|source| PackageError::CargoMissing { source })?;
    if !status.success() {
        return Err(PackageError::BuildFailed { status });
    }
    Ok(src.join("target/x86_64-unknown-linux-gnu/dist"))
}

/// What gets sent as `exec` in the PUT body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionCode {
    /// A zip for the `blackbox` kind with image `openwhisk/dockerskeleton` (the `--native` form).
    NativeZip(Vec<u8>),
    /// JavaScript source for a Node.js kind such as `nodejs:20`.
    NodeSource { kind: String, source: String },
}

/// The docker image `wsk --native` uses.
pub const NATIVE_IMAGE: &str = "openwhisk/dockerskeleton";

/// The Node.js source of a built-in action.
pub fn node_source(action: BuiltinAction) -> &'static str {
    match action {
        BuiltinAction::Bench => NODE_BENCH,
        BuiltinAction::Writer => NODE_WRITER,
        BuiltinAction::Reader => NODE_READER,
    }
}

/// Build the artifact for `action` in the given flavour. `bin_dir` is where to look first for
/// the static binary (see [`locate_binary`]).
pub fn artifact(
    action: BuiltinAction,
    kind: ActionKind,
    nodejs_kind: &str,
    bin_dir: Option<&Path>,
) -> Result<ActionCode, PackageError> {
    match kind {
        ActionKind::Nodejs => Ok(ActionCode::NodeSource {
            kind: nodejs_kind.to_string(),
            source: node_source(action).to_string(),
        }),
        ActionKind::Native => {
            let path = locate_binary(action, bin_dir)?;
            let bytes = std::fs::read(&path).map_err(|source| PackageError::Read {
                path: path.clone(),
                source,
            })?;
            Ok(ActionCode::NativeZip(native_zip(&bytes)?))
        }
    }
}

/// A zip with `exec` (mode 0755) at its root, as `dockerskeleton` expects.
pub fn native_zip(exec: &[u8]) -> Result<Vec<u8>, PackageError> {
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(0o755);
        zip.start_file("exec", options)?;
        zip.write_all(exec)?;
        zip.finish()?;
    }
    Ok(cursor.into_inner())
}

/// Where the static binaries are looked for, in order: `bin_dir`, `$REDWHISK_ACTIONS_DIR`,
/// the directory of the running executable, and the source tree's
/// `target/x86_64-unknown-linux-gnu/dist`. A dynamically linked file is skipped with a reason,
/// so a debug build of `bench` next to `redwhisk` in `target/debug` is never deployed.
pub fn search_dirs(bin_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = bin_dir {
        dirs.push(d.to_path_buf());
    }
    if let Some(d) = std::env::var_os(BIN_DIR_ENV).filter(|d| !d.is_empty()) {
        dirs.push(PathBuf::from(d));
    }
    if let Some(d) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(d);
    }
    dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("target/x86_64-unknown-linux-gnu/dist"));
    dirs
}

/// Find the static binary of `action` (see [`search_dirs`]).
pub fn locate_binary(
    action: BuiltinAction,
    bin_dir: Option<&Path>,
) -> Result<PathBuf, PackageError> {
    locate_named(action.as_str(), bin_dir)
}

/// Find the static binary called `binary` (e.g. the Lambda `bootstrap`; see [`search_dirs`]).
pub fn locate_named(binary: &str, bin_dir: Option<&Path>) -> Result<PathBuf, PackageError> {
    let mut searched = Vec::new();
    for dir in search_dirs(bin_dir) {
        let path = dir.join(binary);
        match std::fs::read(&path) {
            Ok(bytes) => match check_static_elf(&bytes) {
                Ok(()) => return Ok(path),
                Err(why) => {
                    // An explicit directory that holds the wrong kind of file is an error to
                    // show, not something to skip past silently.
                    if Some(dir.as_path()) == bin_dir {
                        return Err(PackageError::NotStatic { path, why });
                    }
                    searched.push(format!("{} ({why})", path.display()));
                }
            },
            Err(_) => searched.push(path.display().to_string()),
        }
    }
    Err(PackageError::BinaryNotFound {
        binary: binary.to_string(),
        searched: searched.join(", "),
    })
}

/// Why a file is not a static x86-64 executable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("not a 64-bit little-endian ELF")]
    Not64BitLittleEndian,
    #[error("not built for x86-64")]
    NotX86_64,
    #[error("truncated ELF header")]
    Truncated,
    #[error("dynamically linked: it needs a program interpreter")]
    Dynamic,
}

/// Accept a 64-bit little-endian x86-64 ELF executable with no program interpreter
/// (`PT_INTERP`), i.e. one that runs without a dynamic loader (static or static-pie).
pub fn check_static_elf(bytes: &[u8]) -> Result<(), ElfError> {
    const PT_INTERP: u32 = 3;
    const EM_X86_64: u16 = 62;
    let u16_at = |o: usize| {
        bytes
            .get(o..o + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let u32_at = |o: usize| {
        bytes
            .get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| {
        bytes
            .get(o..o + 8)
            .map(|b| u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    };
    if bytes.get(0..4) != Some(b"\x7fELF".as_slice()) {
        return Err(ElfError::NotElf);
    }
    if bytes.get(4) != Some(&2) || bytes.get(5) != Some(&1) {
        return Err(ElfError::Not64BitLittleEndian);
    }
    if u16_at(0x12) != Some(EM_X86_64) {
        return Err(ElfError::NotX86_64);
    }
    let phoff = u64_at(0x20).ok_or(ElfError::Truncated)? as usize;
    let phentsize = u16_at(0x36).ok_or(ElfError::Truncated)? as usize;
    let phnum = u16_at(0x38).ok_or(ElfError::Truncated)? as usize;
    for i in 0..phnum {
        let p_type = u32_at(phoff + i * phentsize).ok_or(ElfError::Truncated)?;
        if p_type == PT_INTERP {
            return Err(ElfError::Dynamic);
        }
    }
    Ok(())
}

/// Write the Node.js files `<action>.js` into `out`. Returns the files written.
pub fn write_nodejs(out: &Path) -> Result<Vec<PathBuf>, PackageError> {
    std::fs::create_dir_all(out)?;
    let mut written = Vec::new();
    for action in ALL {
        let js = out.join(format!("{}.js", action.as_str()));
        std::fs::write(&js, node_source(action))?;
        written.push(js);
    }
    Ok(written)
}

/// Write every artifact into `out`: `<action>.js` and the native `<action>.zip`. Every static
/// binary is located before anything is written, so a missing one leaves `out` untouched.
pub fn write_all(out: &Path, bin_dir: Option<&Path>) -> Result<Vec<PathBuf>, PackageError> {
    let mut zips = Vec::new();
    for action in ALL {
        if let ActionCode::NativeZip(zip) = artifact(action, ActionKind::Native, "", bin_dir)? {
            zips.push((out.join(format!("{}.zip", action.as_str())), zip));
        }
    }
    let mut written = write_nodejs(out)?;
    for (path, zip) in zips {
        std::fs::write(&path, zip)?;
        written.push(path);
    }
    Ok(written)
}

const ALL: [BuiltinAction; 3] = [
    BuiltinAction::Bench,
    BuiltinAction::Writer,
    BuiltinAction::Reader,
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A minimal ELF64 x86-64 header with one program header of type `p_type`.
    fn elf_with(p_type: u32) -> Vec<u8> {
        let mut b = vec![0u8; 64 + 56];
        b[0..4].copy_from_slice(b"\x7fELF");
        b[4] = 2; // 64-bit
        b[5] = 1; // little-endian
        b[0x12..0x14].copy_from_slice(&62u16.to_le_bytes());
        b[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        b[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        b[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        b[64..68].copy_from_slice(&p_type.to_le_bytes());
        b
    }

    #[test]
    fn static_elf_is_accepted_and_interpreter_rejected() {
        assert!(check_static_elf(&elf_with(1)).is_ok());
        assert!(
            check_static_elf(&elf_with(3))
                .unwrap_err()
                .to_string()
                .contains("dynamically")
        );
        assert!(
            check_static_elf(b"#!/bin/sh\n")
                .unwrap_err()
                .to_string()
                .contains("not an ELF")
        );
        let mut arm = elf_with(1);
        arm[0x12] = 183;
        assert!(
            check_static_elf(&arm)
                .unwrap_err()
                .to_string()
                .contains("x86-64")
        );
        assert_eq!(
            check_static_elf(&elf_with(1)[..66]),
            Err(ElfError::Truncated)
        );
        // A real dynamically linked system binary.
        assert!(check_static_elf(&std::fs::read("/bin/sh").unwrap()).is_err());
    }

    #[test]
    fn native_zip_has_exec_at_its_root_and_executable() {
        let zip = native_zip(b"payload").unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        assert_eq!(archive.len(), 1);
        let mut f = archive.by_name("exec").unwrap();
        assert_eq!(f.unix_mode().map(|m| m & 0o777), Some(0o755));
        let mut s = String::new();
        std::io::Read::read_to_string(&mut f, &mut s).unwrap();
        assert_eq!(s, "payload");
    }
}
