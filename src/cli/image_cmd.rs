//! `redwhisk image build-local`: a Redis image for hosts without a registry.

use std::process::ExitCode;

use anyhow::Context;

use super::redis_cmd::stderr_events;
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
pub async fn run(action: ImageAction) -> anyhow::Result<ExitCode> {
    match action {
        ImageAction::BuildLocal { tag } => {
            let (sink, printer) = stderr_events();
            let result = build_local(&tag, &sink).await;
            drop(sink);
            let _printed = printer.await;
            let id = result.with_context(|| format!("image build-local --tag {tag}"))?;
            println!("built {tag} ({id})");
            Ok(ExitCode::SUCCESS)
        }
    }
}
