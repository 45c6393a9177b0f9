//! The `nodejs20.x` runtime.

use super::error::LambdaError;
use super::image::Layer;

fn not_yet() -> LambdaError {
    LambdaError::Config(
        "runtime = \"nodejs20.x\" is not supported yet; use \"provided.al2023\"".into(),
    )
}

/// Add node, its libraries, `aws-lambda-ric` and the function to the image.
pub fn add_node_runtime(_layer: &mut Layer) -> Result<(), LambdaError> {
    Err(not_yet())
}

/// What the emulator starts as the Node.js runtime.
pub fn entry_command() -> Vec<String> {
    vec![super::image::BOOTSTRAP_PATH.to_string()]
}

/// The function's files at the zip's root (`index.js` and what it loads).
pub fn task_files() -> Result<Vec<(String, Vec<u8>)>, LambdaError> {
    Err(not_yet())
}
