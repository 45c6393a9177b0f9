//! Images: make sure the profile's image is present (pull with progress, or build the local
//! one), and `image build-local`: a Redis image made from the host's own `redis-server`.

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::StreamExt;

use super::error::HostError;
use super::{container, process};
use crate::event::{EngineEvent, EventSink};
use crate::rootfs::Tar;
pub(crate) use crate::rootfs::parse_ldd;

/// The tag `redwhisk image build-local` builds by default; when a profile names it and it is
/// missing, `up` builds it instead of pulling (there is no registry to pull it from).
pub const LOCAL_TAG: &str = "redwhisk/redis:local";

/// Where the server binary lives inside the local image.
const SERVER_PATH: &str = "/usr/bin/redis-server";

/// Make sure `image` is present locally: inspect, else build (local tag) or pull.
pub(crate) async fn ensure(
    docker: &Docker,
    image: &str,
    pull: bool,
    events: &EventSink,
) -> Result<(), HostError> {
    match docker.inspect_image(image).await {
        Ok(_) => return Ok(()),
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Err(e) => return Err(HostError::docker(format!("inspect image {image}"), e)),
    }
    if image == LOCAL_TAG {
        events.info(format!(
            "image {image} is missing: building it from this host's redis-server (as `redwhisk image build-local` does)"
        ));
        build_local_with(docker, image, events).await?;
        return Ok(());
    }
    if !pull {
        return Err(HostError::ImageMissing {
            image: image.into(),
            reason: "`pull = false` in the profile".into(),
        });
    }
    let (repo, tag) = split_tag(image);
    let opts = CreateImageOptionsBuilder::default()
        .from_image(repo)
        .tag(tag)
        .build();
    let mut stream = docker.create_image(Some(opts), None, None);
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => events.send(EngineEvent::Pull {
                status: info.status.unwrap_or_default(),
                current: info
                    .progress_detail
                    .as_ref()
                    .and_then(|p| p.current)
                    .and_then(|c| u64::try_from(c).ok()),
                total: info
                    .progress_detail
                    .as_ref()
                    .and_then(|p| p.total)
                    .and_then(|t| u64::try_from(t).ok()),
            }),
            Err(e) => {
                return Err(HostError::ImageMissing {
                    image: image.into(),
                    reason: format!("pull failed: {e}"),
                });
            }
        }
    }
    Ok(())
}

/// `repo[:tag]` → (repo, tag); a `:` before the last `/` is a registry port, not a tag.
pub(crate) fn split_tag(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// Build `tag` from the host's `redis-server` and the libraries `ldd` lists. Returns the image id.
pub async fn build_local(tag: &str, events: &EventSink) -> Result<String, HostError> {
    let docker = container::connect().await?;
    build_local_with(&docker, tag, events).await
}

pub(crate) async fn build_local_with(
    docker: &Docker,
    tag: &str,
    events: &EventSink,
) -> Result<String, HostError> {
    let bin = process::find_bin("redis-server")?;
    let out = tokio::process::Command::new("ldd")
        .arg(&bin)
        .output()
        .await
        .map_err(|e| HostError::BuildLocal(format!("cannot run `ldd`: {e}")))?;
    if !out.status.success() {
        return Err(HostError::BuildLocal(format!(
            "`ldd {}` failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let listing = String::from_utf8_lossy(&out.stdout);
    if let Some(line) = listing.lines().find(|l| l.contains("not found")) {
        return Err(HostError::BuildLocal(format!(
            "`ldd {}` reports a missing library: {}",
            bin.display(),
            line.trim()
        )));
    }
    let libs = parse_ldd(&listing);
    let mut tar = Tar::default();
    for d in ["usr", "usr/bin", "data", "tmp", "etc"] {
        let mode = if d == "tmp" { 0o1777 } else { 0o755 };
        tar.dir(d, mode)?;
    }
    let mut dirs: Vec<String> = Vec::new();
    for lib in &libs {
        let parent = std::path::Path::new(lib).parent();
        let mut acc = String::new();
        for part in parent.iter().flat_map(|p| p.iter()).skip(1) {
            acc = format!("{acc}/{}", part.to_string_lossy());
            if !dirs.contains(&acc) && acc != "/usr" && acc != "/usr/bin" {
                tar.dir(&acc, 0o755)?;
                dirs.push(acc.clone());
            }
        }
    }
    // Stored under the name `redis-server`: Debian links it to redis-check-rdb, and the binary
    // picks its mode from argv[0].
    let server = read(&bin).await?;
    tar.file(SERVER_PATH, 0o755, &server)?;
    for lib in &libs {
        let data = read(std::path::Path::new(lib)).await?;
        tar.file(lib, 0o755, &data)?;
    }
    let bytes = tar.finish();
    events.info(format!(
        "importing {tag}: {} with {} libraries ({} KiB)",
        bin.display(),
        libs.len(),
        bytes.len() / 1024
    ));
    let (repo, t) = split_tag(tag);
    let opts = CreateImageOptionsBuilder::default()
        .from_src("-")
        .repo(repo)
        .tag(t)
        .changes(vec![
            format!("ENTRYPOINT [\"{SERVER_PATH}\"]"),
            "WORKDIR /data".into(),
        ])
        .build();
    let mut stream = docker.create_image(Some(opts), Some(bollard::body_full(bytes.into())), None);
    while let Some(item) = stream.next().await {
        item.map_err(|e| HostError::docker(format!("import {tag}"), e))?;
    }
    let inspect = docker
        .inspect_image(tag)
        .await
        .map_err(|e| HostError::docker(format!("inspect {tag}"), e))?;
    Ok(inspect.id.unwrap_or_default())
}

async fn read(path: &std::path::Path) -> Result<Vec<u8>, HostError> {
    tokio::fs::read(path)
        .await
        .map_err(|e| HostError::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ldd_output() {
        let text = "\tlinux-vdso.so.1 (0x00007ff)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x1)\n\t/lib64/ld-linux-x86-64.so.2 (0x2)\n\tlibgone.so => not found\n";
        assert_eq!(
            parse_ldd(text),
            vec![
                "/lib/x86_64-linux-gnu/libc.so.6",
                "/lib64/ld-linux-x86-64.so.2"
            ]
        );
    }

    #[test]
    fn splits_tags() {
        assert_eq!(
            split_tag("redwhisk/redis:local"),
            ("redwhisk/redis", "local")
        );
        assert_eq!(split_tag("redis"), ("redis", "latest"));
        assert_eq!(split_tag("host:5000/redis"), ("host:5000/redis", "latest"));
    }
}
