//! The local emulator's image, built here with no registry (as `image build-local` builds the
//! Redis one): `FROM scratch` plus the AWS Lambda Runtime Interface Emulator and the function's
//! runtime, imported from a tar of host files.
//!
//! - `provided.al2023`: `/var/runtime/bootstrap`, the static native actions on `lambda_runtime`.
//! - `nodejs20.x`: the host's `node` and the libraries `ldd` lists, `/var/runtime` holding the
//!   `aws-lambda-ric` npm package (3.x) and its `bootstrap`, and `/var/task/index.js`.

use std::path::{Path, PathBuf};

use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::error::LambdaError;
use crate::event::EventSink;
use crate::profile::LambdaRuntime;
use crate::rootfs::Tar;

/// Where the emulator binary lives inside the image.
pub const RIE_PATH: &str = "/usr/local/bin/aws-lambda-rie";
/// The runtime's entry point inside the image.
pub const BOOTSTRAP_PATH: &str = "/var/runtime/bootstrap";
/// The environment variable naming the emulator binary on the host.
pub const RIE_ENV: &str = "REDWHISK_LAMBDA_RIE";

/// The host's `aws-lambda-rie`: `$REDWHISK_LAMBDA_RIE`, else on `PATH`.
pub fn find_rie() -> Result<PathBuf, LambdaError> {
    if let Some(p) = std::env::var_os(RIE_ENV).filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(LambdaError::Missing {
                what: format!(
                    "the Runtime Interface Emulator at {} ({RIE_ENV})",
                    p.display()
                ),
                hint: "the file does not exist; fix the path or unset the variable".into(),
            })
        };
    }
    find_on_path("aws-lambda-rie").ok_or_else(|| LambdaError::Missing {
        what: "the AWS Lambda Runtime Interface Emulator (`aws-lambda-rie`)".into(),
        hint: format!("install it with scripts/ci-setup.sh (it takes it from the aws-sam-cli wheel: `pip download aws-sam-cli --no-deps`, samcli/local/rapid/aws-lambda-rie-x86_64), or set {RIE_ENV}"),
    })
}

pub(crate) fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Files to put into the image: (path inside, mode, bytes).
#[derive(Default)]
pub struct Layer {
    pub files: Vec<(String, u32, Vec<u8>)>,
}

impl Layer {
    pub fn add(&mut self, path: impl Into<String>, mode: u32, data: Vec<u8>) {
        self.files.push((path.into(), mode, data));
    }

    /// A tag that changes whenever a file does: an image is built once per content.
    fn tag(&self, runtime: LambdaRuntime) -> String {
        let mut h = Sha256::new();
        for (p, m, d) in &self.files {
            h.update(p.as_bytes());
            h.update(m.to_le_bytes());
            h.update((d.len() as u64).to_le_bytes());
            h.update(d);
        }
        let digest = hex::encode(h.finalize());
        let flavour = match runtime {
            LambdaRuntime::ProvidedAl2023 => "provided",
            LambdaRuntime::Nodejs20 => "nodejs20",
        };
        format!("redwhisk/lambda-{flavour}:{}", &digest[..12])
    }

    fn tar(&self) -> Result<Vec<u8>, LambdaError> {
        let mut tar = Tar::default();
        let mut dirs: Vec<String> = Vec::new();
        let mut dir = |tar: &mut Tar, d: &str, mode: u32| -> Result<(), LambdaError> {
            if !dirs.iter().any(|x| x == d) {
                tar.dir(d, mode)
                    .map_err(|e| LambdaError::Config(e.to_string()))?;
                dirs.push(d.to_string());
            }
            Ok(())
        };
        dir(&mut tar, "tmp", 0o1777)?;
        for d in [
            "var",
            "var/task",
            "var/runtime",
            "opt",
            "etc",
            "usr",
            "usr/local",
            "usr/local/bin",
        ] {
            dir(&mut tar, d, 0o755)?;
        }
        for (path, _, _) in &self.files {
            let mut acc = String::new();
            let parent = Path::new(path.trim_start_matches('/')).parent();
            for part in parent.iter().flat_map(|p| p.iter()) {
                if !acc.is_empty() {
                    acc.push('/');
                }
                acc.push_str(&part.to_string_lossy());
                dir(&mut tar, &acc, 0o755)?;
            }
        }
        for (path, mode, data) in &self.files {
            tar.file(path, *mode, data)
                .map_err(|e| LambdaError::Config(e.to_string()))?;
        }
        Ok(tar.finish())
    }
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>, LambdaError> {
    std::fs::read(path).map_err(|e| LambdaError::Missing {
        what: format!("{}", path.display()),
        hint: format!("cannot read it: {e}"),
    })
}

/// Make sure the image for `layer` exists (built when missing); returns its tag.
pub async fn ensure(
    docker: &Docker,
    runtime: LambdaRuntime,
    layer: &Layer,
    events: &EventSink,
) -> Result<String, LambdaError> {
    let tag = layer.tag(runtime);
    if docker.inspect_image(&tag).await.is_ok() {
        return Ok(tag);
    }
    let bytes = layer.tar()?;
    events.info(format!(
        "building the local Lambda image {tag} ({} files, {} KiB, no registry)",
        layer.files.len(),
        bytes.len() / 1024
    ));
    let (repo, t) = tag.rsplit_once(':').unwrap_or((tag.as_str(), "latest"));
    let opts = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(repo)
        .tag(t)
        .changes(vec![
            format!("ENTRYPOINT [\"{RIE_PATH}\"]"),
            "WORKDIR /var/task".into(),
            "ENV LAMBDA_TASK_ROOT=/var/task LAMBDA_RUNTIME_DIR=/var/runtime PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin TZ=:UTC".into(),
        ])
        .build();
    let mut stream = docker.create_image(Some(opts), Some(bollard::body_full(bytes.into())), None);
    while let Some(item) = stream.next().await {
        item.map_err(|source| LambdaError::Docker {
            what: format!("import {tag}"),
            source,
        })?;
    }
    Ok(tag)
}
