//! `redwhisk image build-local`: a Redis image for hosts without a registry.

use anyhow::Context;

use super::exit::Exit;
use super::headless::Headless;
use super::printer::Show;
use crate::redis_host::image::{LOCAL_TAG, build_local};

/// Image commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ImageAction {
    /// Build a Redis image from this host's `redis-server` and the libraries `ldd` lists,
    /// imported as a tar through the Docker API (no registry, no base image needed).
    BuildLocal {
        /// The tag to give the image.
        #[arg(long, default_value = LOCAL_TAG)]
        tag: String,
    },
}

/// Dispatch one `image` subcommand.
pub async fn run(action: ImageAction) -> anyhow::Result<Exit> {
    match action {
        ImageAction::BuildLocal { tag } => {
            let job = Headless::new(Show::host());
            let result = build_local(&tag, &job.sink).await;
            job.finish().await;
            let id = result.with_context(|| format!("image build-local --tag {tag}"))?;
            println!("built {tag} ({id})");
            Ok(Exit::Success)
        }
    }
}
