//! The AWS Lambda custom runtime (`provided.al2023`) for the native actions: one `bootstrap`
//! serving bench, writer or reader, chosen by the function's handler (`_HANDLER`, default
//! `bench`). An action error goes back to the Runtime API as a function error whose type is
//! `ActionError` and whose message is the action's (never the Redis password).

use lambda_runtime::{Diagnostic, Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let handler = std::env::var("_HANDLER")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "bench".to_string());
    // A handler may be written "bootstrap.bench" or "bench".
    let name = handler.rsplit('.').next().unwrap_or("bench").to_string();
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let name = name.clone();
        async move {
            let out = tokio::task::spawn_blocking(move || {
                redwhisk_actions::execute(&name, event.payload)
            })
            .await
            .map_err(|e| Diagnostic {
                error_type: "Panic".into(),
                error_message: e.to_string(),
            })?;
            out.map_err(|e| Diagnostic {
                error_type: "ActionError".into(),
                error_message: e.to_string(),
            })
        }
    }))
    .await
}
