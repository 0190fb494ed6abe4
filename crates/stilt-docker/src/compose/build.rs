//! A service's `build:` section. stilt does not build here: the engine turns this into an
//! image build and hands the resulting ref to `compose_up`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::error::ComposeError;
use super::keys;
use super::project::resolve_path;
use super::value::{describe, key_values, scalar, with_host_env};

/// What to build for a service; paths are absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeBuild {
    /// The context directory (relative ones are against the project directory).
    pub context: PathBuf,
    /// The Dockerfile (relative ones are against the context); `None` means `<context>/Dockerfile`.
    pub dockerfile: Option<PathBuf>,
    /// Build args; an arg listed without a value takes it from stilt's environment (and is
    /// left out when that is unset), like compose.
    pub args: Vec<(String, String)>,
    pub target: Option<String>,
}

impl ComposeBuild {
    pub(super) fn parse(service: &str, working_dir: &Path, value: &Value) -> Result<Self, ComposeError> {
        let invalid = |key: &str, why: String| ComposeError::invalid(service, key, why);
        let map = match value {
            Value::String(context) => {
                return Ok(Self {
                    context: context_dir(service, working_dir, context)?,
                    dockerfile: None,
                    args: Vec::new(),
                    target: None,
                });
            }
            Value::Object(map) => map,
            other => return Err(invalid("build", format!("expected a path or a mapping, got {}", describe(other)))),
        };
        keys::BUILD.check(service, map)?;
        let field = |key: &str| map.get(key).filter(|v| !v.is_null());
        let text =
            |key: &str| field(key).map(|v| scalar(v).map_err(|why| invalid(&format!("build.{key}"), why))).transpose();
        let context = context_dir(service, working_dir, text("context")?.as_deref().unwrap_or("."))?;
        let dockerfile = text("dockerfile")?.map(|d| resolve_path(&context, d));
        let args = field("args").map(key_values).transpose().map_err(|why| invalid("build.args", why))?;
        let args = with_host_env(args.unwrap_or_default());
        Ok(Self { context, dockerfile, args, target: text("target")? })
    }
}

fn context_dir(service: &str, working_dir: &Path, context: &str) -> Result<PathBuf, ComposeError> {
    if context.contains("://") || context.starts_with("git@") {
        return Err(ComposeError::config(
            service,
            format!("a remote build context ({context:?}) is not supported by stilt yet"),
        ));
    }
    Ok(resolve_path(working_dir, context))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: &Value) -> Result<ComposeBuild, String> {
        ComposeBuild::parse("web", Path::new("/proj"), v).map_err(|e| e.to_string())
    }

    #[test]
    fn short_and_long_forms() {
        assert_eq!(
            parse(&json!("./app")).unwrap(),
            ComposeBuild { context: "/proj/app".into(), dockerfile: None, args: vec![], target: None }
        );
        let b = parse(&json!({"context": "app", "dockerfile": "Dockerfile.dev", "target": "dev",
                             "args": ["A=1", "STILT_SURELY_UNSET_ARG"], "x-note": 1}))
        .unwrap();
        assert_eq!(b.context, Path::new("/proj/app"));
        assert_eq!(b.dockerfile.as_deref(), Some(Path::new("/proj/app/Dockerfile.dev")));
        assert_eq!(b.args, [("A".to_string(), "1".to_string())]);
        assert_eq!(b.target.as_deref(), Some("dev"));
        assert_eq!(parse(&json!({"args": {"N": 2}})).unwrap().args, [("N".to_string(), "2".to_string())]);
        assert_eq!(parse(&json!({})).unwrap().context, Path::new("/proj"));
    }

    #[test]
    fn unsupported_build_keys() {
        assert_eq!(
            parse(&json!({"context": ".", "ssh": ["default"]})).unwrap_err(),
            "failed to read compose service \"web\": key \"build.ssh\" is not supported by stilt yet"
        );
        assert!(parse(&json!({"contxt": "."})).unwrap_err().contains("(did you mean \"build.context\"?)"));
        assert!(parse(&json!("https://github.com/x/y.git")).unwrap_err().contains("remote build context"));
    }
}
