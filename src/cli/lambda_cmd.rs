//! `redwhisk lambda deploy`: deploy a built-in action to the profile's Lambda (AWS, any endpoint
//! speaking the Lambda API, or the local emulator) and wait until it can be invoked; `redwhisk
//! lambda invoke`: one invocation, its record printed as JSON. What `run` does first and per
//! invocation, on its own (docs/lambda.md gives the `aws` CLI equivalents).

use anyhow::Context;

use super::exit::Exit;
use super::headless::Headless;
use super::printer::Show;
use crate::platform::{BuiltinAction, Platform};
use crate::profile::{Overrides, PlatformConfig};

/// Lambda commands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LambdaAction {
    /// CreateFunction (or UpdateFunctionCode + UpdateFunctionConfiguration), then wait for
    /// State Active and LastUpdateStatus Successful.
    Deploy {
        /// A profile name or a path to a .toml file with `[platform] kind = "lambda"`.
        #[arg(long)]
        profile: Option<String>,
        /// Which built-in action: bench, writer or reader.
        #[arg(long, default_value = "bench")]
        action: String,
        /// The function name (default: the profile's `platform.function_name`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Deploy then invoke once with the given JSON parameters; prints the activation record.
    Invoke {
        #[arg(long)]
        profile: Option<String>,
        #[arg(long, default_value = "bench")]
        action: String,
        /// The parameters, a JSON object.
        #[arg(long, default_value = "{}")]
        params: String,
        /// Invoke the function as it is deployed (AWS only; the local emulator has nothing
        /// running before a deploy).
        #[arg(long)]
        no_deploy: bool,
    },
}

fn action_of(name: &str) -> anyhow::Result<BuiltinAction> {
    match name {
        "bench" => Ok(BuiltinAction::Bench),
        "writer" => Ok(BuiltinAction::Writer),
        "reader" => Ok(BuiltinAction::Reader),
        other => anyhow::bail!(
            "--action: \"{other}\" is not a built-in action; use bench, writer or reader"
        ),
    }
}

fn lambda_platform(profile: Option<&str>) -> anyhow::Result<(Platform, String)> {
    let profile = super::args::load_profile(profile, &Overrides::default())?;
    let PlatformConfig::Lambda(cfg) = &profile.platform else {
        anyhow::bail!(
            "profile `{}` has platform kind `{}`; `redwhisk lambda` needs kind = \"lambda\"",
            profile.name,
            profile.platform.label()
        );
    };
    let name = cfg.function_name.clone();
    let platform = Platform::new(&profile).context("cannot set up the Lambda platform")?;
    Ok((platform, name))
}

/// Dispatch one `lambda` subcommand.
pub async fn run(action: LambdaAction) -> anyhow::Result<Exit> {
    match action {
        LambdaAction::Deploy {
            profile,
            action,
            name,
        } => {
            let which = action_of(&action)?;
            let (platform, default_name) = lambda_platform(profile.as_deref())?;
            let name = name.unwrap_or(default_name);
            let job = Headless::new(Show::host());
            let result = platform.deploy(which, &name, &job.sink).await;
            job.finish().await;
            platform.close().await;
            result
                .with_context(|| format!("cannot deploy {action} as Lambda function `{name}`"))?;
            println!("deployed {action} as `{name}`");
            Ok(Exit::Success)
        }
        LambdaAction::Invoke {
            profile,
            action,
            params,
            no_deploy,
        } => {
            let which = action_of(&action)?;
            let params: serde_json::Value = serde_json::from_str(&params).context(
                "--params is not JSON; write e.g. '{\"host\":\"127.0.0.1\",\"port\":6379}'",
            )?;
            let (platform, name) = lambda_platform(profile.as_deref())?;
            let job = Headless::new(Show::host());
            let deployed = if no_deploy {
                Ok(())
            } else {
                platform.deploy(which, &name, &job.sink).await
            };
            job.finish().await;
            let result = match deployed {
                Ok(()) => platform.invoke(&name, params).await,
                Err(e) => Err(e),
            };
            platform.close().await;
            let record =
                result.with_context(|| format!("cannot invoke Lambda function `{name}`"))?;
            println!("{}", serde_json::to_string_pretty(&record)?);
            Ok(if record.success() {
                Exit::Success
            } else {
                Exit::Failures
            })
        }
    }
}
