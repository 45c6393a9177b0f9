//! The actions redwhisk deploys.

/// Which built-in action to deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BuiltinAction {
    Bench,
    Writer,
    Reader,
}

impl BuiltinAction {
    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinAction::Bench => "bench",
            BuiltinAction::Writer => "writer",
            BuiltinAction::Reader => "reader",
        }
    }
}
