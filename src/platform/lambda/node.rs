//! The `nodejs20.x` runtime, as the paper ran it: `index.js` at the zip's root with
//! `exports.handler`, running the Node.js bench (actions/nodejs). On the local emulator the
//! image also holds the host's `node` (and the libraries `ldd` lists) and the `aws-lambda-ric`
//! npm package (3.x; it builds a native addon), the Runtime Interface Client that Lambda's own
//! Node.js images use.

use std::path::{Path, PathBuf};

use super::error::LambdaError;
use super::image::{Layer, find_on_path, read};
use crate::platform::BuiltinAction;
use crate::platform::openwhisk::package::node_source;

/// Where the runtime client's package lives inside the image.
const RIC_DIR: &str = "/var/runtime/aws-lambda-ric";
/// Where node lives inside the image.
const NODE_PATH: &str = "/var/lang/bin/node";
/// `$REDWHISK_LAMBDA_RIC_DIR`: the installed `aws-lambda-ric` package (default: under
/// `npm root -g`).
pub const RIC_ENV: &str = "REDWHISK_LAMBDA_RIC_DIR";
/// `$REDWHISK_NODE_MODULES`: the node_modules holding `redis` for the bench (default: the
/// source tree's actions/nodejs/node_modules, which `npm ci --prefix actions/nodejs` fills).
pub const MODULES_ENV: &str = "REDWHISK_NODE_MODULES";

/// The handler Lambda is given: `index.handler` (file `index.js`, export `handler`).
pub const HANDLER: &str = "index.handler";

/// What the emulator starts: node running the runtime client with the handler.
pub fn entry_command() -> Vec<String> {
    vec![
        NODE_PATH.to_string(),
        format!("{RIC_DIR}/bin/index.mjs"),
        HANDLER.to_string(),
    ]
}

/// `index.js`: the action's source (its top-level `main`) and a Lambda handler around it. An
/// `{error}` result is thrown, so Lambda reports a function error carrying the message.
pub fn index_js(action: BuiltinAction) -> String {
    format!(
        "{}\n// ---- redwhisk: the AWS Lambda entry point (runtime nodejs20.x, handler {HANDLER}) ----\nexports.handler = async (event) => {{\n  const result = await main(event);\n  if (result && result.error !== undefined) {{\n    const e = new Error(String(result.error));\n    e.name = 'ActionError';\n    throw e;\n  }}\n  return result;\n}};\n",
        node_source(action)
    )
}

/// The function's files at the zip's root: `index.js` and `node_modules` (the `redis` client).
pub fn task_files(action: BuiltinAction) -> Result<Vec<(String, Vec<u8>)>, LambdaError> {
    let mut files = vec![("index.js".to_string(), index_js(action).into_bytes())];
    let modules = node_modules_dir()?;
    for (rel, data) in walk(&modules)? {
        files.push((format!("node_modules/{rel}"), data));
    }
    Ok(files)
}

fn node_modules_dir() -> Result<PathBuf, LambdaError> {
    let dir = std::env::var_os(MODULES_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("actions/nodejs/node_modules")
        });
    if dir.join("redis").is_dir() {
        Ok(dir)
    } else {
        Err(LambdaError::Missing {
            what: format!("the `redis` npm package in {}", dir.display()),
            hint: format!(
                "run `npm ci --prefix actions/nodejs` in the source tree, or set {MODULES_ENV} to a node_modules holding redis 4.x"
            ),
        })
    }
}

fn ric_dir() -> Result<PathBuf, LambdaError> {
    if let Some(d) = std::env::var_os(RIC_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d));
    }
    let out = std::process::Command::new("npm")
        .args(["root", "-g"])
        .output()
        .map_err(|e| LambdaError::Missing {
            what: "npm (to find the global aws-lambda-ric package)".into(),
            hint: format!("{e}; install node and npm, or set {RIC_ENV}"),
        })?;
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("aws-lambda-ric");
    if dir.join("bin/index.mjs").is_file() {
        Ok(dir)
    } else {
        Err(LambdaError::Missing {
            what: format!(
                "the aws-lambda-ric npm package (looked in {})",
                dir.display()
            ),
            hint: format!(
                "install it with scripts/ci-setup.sh (`npm install -g aws-lambda-ric@3`; its native addon needs cmake, autoconf, automake, libtool, g++), or set {RIC_ENV}"
            ),
        })
    }
}

/// Add node, its libraries, `aws-lambda-ric` (and its addon's libraries) and the function.
pub fn add_node_runtime(layer: &mut Layer, action: BuiltinAction) -> Result<(), LambdaError> {
    let node = find_on_path("node").ok_or_else(|| LambdaError::Missing {
        what: "node (the nodejs20.x runtime copies the host's)".into(),
        hint: "install Node.js 20".into(),
    })?;
    let node = std::fs::canonicalize(&node).unwrap_or(node);
    let mut libs = ldd(&node)?;
    layer.add(NODE_PATH, 0o755, read(&node)?);
    let ric = ric_dir()?;
    // Only what runs: the entry script, the bundled client and its addon (its sources and the
    // curl it was built with stay out of the image).
    for (rel, data) in walk(&ric)? {
        if !(rel.starts_with("bin/") || rel.starts_with("dist/") || rel == "package.json") {
            continue;
        }
        if rel.ends_with(".node") {
            for l in ldd(&ric.join(&rel))? {
                if !libs.contains(&l) {
                    libs.push(l);
                }
            }
        }
        layer.add(format!("{RIC_DIR}/{rel}"), 0o755, data);
    }
    for lib in libs {
        let data = read(Path::new(&lib))?;
        layer.add(lib, 0o755, data);
    }
    for (rel, data) in task_files(action)? {
        layer.add(format!("/var/task/{rel}"), 0o644, data);
    }
    Ok(())
}

/// The shared libraries (and loader) `path` needs.
fn ldd(path: &Path) -> Result<Vec<String>, LambdaError> {
    let out = std::process::Command::new("ldd")
        .arg(path)
        .output()
        .map_err(|e| LambdaError::Missing {
            what: "ldd".into(),
            hint: e.to_string(),
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    if let Some(l) = text.lines().find(|l| l.contains("not found")) {
        return Err(LambdaError::Missing {
            what: format!("a library of {}", path.display()),
            hint: format!("ldd says: {}", l.trim()),
        });
    }
    Ok(crate::rootfs::parse_ldd(&text))
}

/// Every regular file under `root` (symbolic links and other files skipped), as
/// (relative path, bytes), in a stable order.
fn walk(root: &Path) -> Result<Vec<(String, Vec<u8>)>, LambdaError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| LambdaError::Missing {
                what: dir.display().to_string(),
                hint: format!("cannot list it: {e}"),
            })?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let Ok(ft) = e.file_type() else { continue };
            let path = e.path();
            if ft.is_dir() {
                stack.push(path);
            } else if ft.is_file() {
                let rel = path
                    .strip_prefix(root)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push((rel, read(&path)?));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}
