//! The control plane: the function's zip, then CreateFunction (or UpdateFunctionCode +
//! UpdateFunctionConfiguration for an existing one), then GetFunctionConfiguration until the
//! function is `Active` with `LastUpdateStatus` `Successful`, within a deadline.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::SdkError;
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationError;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{
    Architecture, FunctionCode, LastUpdateStatus, Runtime, State, VpcConfig,
};

use super::error::LambdaError;
use super::sdk::describe;
use crate::platform::BuiltinAction;
use crate::platform::openwhisk::package::locate_named;
use crate::profile::{LambdaConfig, LambdaRuntime};

/// How long a deployed function may take to become invocable.
pub const READY_DEADLINE: Duration = Duration::from_secs(300);

/// The function's zip: `bootstrap` (0755) at the root for `provided.al2023`, `index.js` (and
/// the Node.js bench it loads) for `nodejs20.x`.
pub fn package(
    runtime: LambdaRuntime,
    action: BuiltinAction,
    bin_dir: Option<&Path>,
) -> Result<Vec<u8>, LambdaError> {
    let mut files: Vec<(String, u32, Vec<u8>)> = Vec::new();
    match runtime {
        LambdaRuntime::ProvidedAl2023 => {
            let path = locate_named("bootstrap", bin_dir)?;
            files.push(("bootstrap".into(), 0o755, super::image::read(&path)?));
        }
        LambdaRuntime::Nodejs20 => {
            for (name, data) in super::node::task_files(action)? {
                files.push((name, 0o644, data));
            }
        }
    }
    let mut cursor = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut cursor);
        for (name, mode, data) in &files {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .unix_permissions(*mode);
            zip.start_file(name.as_str(), options)
                .map_err(|e| LambdaError::Config(format!("cannot build the zip: {e}")))?;
            zip.write_all(data)
                .map_err(|e| LambdaError::Config(format!("cannot build the zip: {e}")))?;
        }
        zip.finish()
            .map_err(|e| LambdaError::Config(format!("cannot build the zip: {e}")))?;
    }
    Ok(cursor.into_inner())
}

fn runtime_of(r: LambdaRuntime) -> Runtime {
    match r {
        LambdaRuntime::ProvidedAl2023 => Runtime::Providedal2023,
        LambdaRuntime::Nodejs20 => Runtime::Nodejs20x,
    }
}

fn vpc(cfg: &LambdaConfig) -> Option<VpcConfig> {
    (!cfg.vpc_subnet_ids.is_empty()).then(|| {
        VpcConfig::builder()
            .set_subnet_ids(Some(cfg.vpc_subnet_ids.clone()))
            .set_security_group_ids(Some(cfg.vpc_security_group_ids.clone()))
            .build()
    })
}

/// Create or update `name`; returns "created" or "updated".
pub async fn deploy(
    client: &Client,
    endpoint: &str,
    cfg: &LambdaConfig,
    action: BuiltinAction,
    name: &str,
    zip: Vec<u8>,
    deadline: Duration,
) -> Result<&'static str, LambdaError> {
    let api = |step: &'static str, detail: String| LambdaError::Api {
        step,
        function: name.to_string(),
        endpoint: endpoint.to_string(),
        detail,
    };
    let handler = super::emulator::handler(cfg.runtime, action);
    let timeout = i32::try_from(cfg.timeout.as_secs()).unwrap_or(900);
    let memory = i32::try_from(cfg.memory_mb).unwrap_or(10_240);
    let exists = match client
        .get_function_configuration()
        .function_name(name)
        .send()
        .await
    {
        Ok(_) => true,
        Err(SdkError::ServiceError(e))
            if matches!(
                e.err(),
                GetFunctionConfigurationError::ResourceNotFoundException(_)
            ) =>
        {
            false
        }
        Err(e) => return Err(api("GetFunctionConfiguration", describe(&e))),
    };
    let how = if exists {
        client
            .update_function_code()
            .function_name(name)
            .zip_file(Blob::new(zip))
            .send()
            .await
            .map_err(|e| api("UpdateFunctionCode", describe(&e)))?;
        wait_ready(client, endpoint, name, deadline).await?;
        let mut req = client
            .update_function_configuration()
            .function_name(name)
            .runtime(runtime_of(cfg.runtime))
            .handler(&handler)
            .memory_size(memory)
            .timeout(timeout)
            .set_vpc_config(vpc(cfg));
        if let Some(role) = &cfg.role_arn {
            req = req.role(role);
        }
        req.send()
            .await
            .map_err(|e| api("UpdateFunctionConfiguration", describe(&e)))?;
        "updated"
    } else {
        let role = cfg.role_arn.clone().ok_or_else(|| {
            LambdaError::Config(format!(
                "creating function `{name}` needs an execution role: set platform.role_arn (see docs/lambda.md)"
            ))
        })?;
        client
            .create_function()
            .function_name(name)
            .runtime(runtime_of(cfg.runtime))
            .role(role)
            .handler(&handler)
            .architectures(Architecture::X8664)
            .memory_size(memory)
            .timeout(timeout)
            .set_vpc_config(vpc(cfg))
            .code(FunctionCode::builder().zip_file(Blob::new(zip)).build())
            .send()
            .await
            .map_err(|e| api("CreateFunction", describe(&e)))?;
        "created"
    };
    wait_ready(client, endpoint, name, deadline).await?;
    Ok(how)
}

/// Poll GetFunctionConfiguration until `Active` and `Successful` (or no update status yet).
pub async fn wait_ready(
    client: &Client,
    endpoint: &str,
    name: &str,
    deadline: Duration,
) -> Result<(), LambdaError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        let c = client
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| LambdaError::Api {
                step: "GetFunctionConfiguration",
                function: name.to_string(),
                endpoint: endpoint.to_string(),
                detail: describe(&e),
            })?;
        let state = c.state().cloned();
        let update = c.last_update_status().cloned();
        if matches!(state, Some(State::Failed)) || matches!(update, Some(LastUpdateStatus::Failed))
        {
            return Err(LambdaError::DeployFailed {
                function: name.to_string(),
                reason: c
                    .state_reason()
                    .or(c.last_update_status_reason())
                    .unwrap_or("no reason given")
                    .to_string(),
            });
        }
        let active = matches!(state, Some(State::Active) | None);
        let updated = matches!(update, Some(LastUpdateStatus::Successful) | None);
        if active && updated {
            return Ok(());
        }
        if started.elapsed() + delay > deadline {
            return Err(LambdaError::DeployDeadline {
                function: name.to_string(),
                waited: started.elapsed(),
                state: state.map_or("-".into(), |s| s.as_str().to_string()),
                update: update.map_or("-".into(), |s| s.as_str().to_string()),
                reason: c
                    .state_reason()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default(),
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
