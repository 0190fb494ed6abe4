//! `env_file:`: reading the dotenv files a service names (relative to the project directory),
//! in compose's syntax: `KEY=value`, `export KEY=value`, quoted values, `#` comments.

use std::path::Path;

use serde_json::Value;

use super::error::ComposeError;
use super::keys;
use super::project::resolve_path;
use super::value::{boolean, describe, scalar, with_host_env};

/// Every variable of every file, in order (a later file overrides an earlier one).
pub(super) fn read_env_files(
    service: &str,
    working_dir: &Path,
    value: &Value,
) -> Result<Vec<(String, String)>, ComposeError> {
    let invalid = |why: String| ComposeError::invalid(service, "env_file", why);
    let entries = match value {
        Value::Array(items) => items.as_slice(),
        single => std::slice::from_ref(single),
    };
    let mut vars = Vec::new();
    for entry in entries {
        let (path, required) = match entry {
            Value::Object(map) => {
                keys::ENV_FILE.check(service, map)?;
                let path = map.get("path").ok_or_else(|| invalid("an entry needs `path`".into()))?;
                let required = map.get("required").filter(|v| !v.is_null()).map(boolean).transpose();
                (scalar(path).map_err(invalid)?, required.map_err(invalid)?.unwrap_or(true))
            }
            Value::String(path) => (path.clone(), true),
            other => return Err(invalid(format!("expected a path, got {}", describe(other)))),
        };
        let path = resolve_path(working_dir, path);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => continue,
            Err(source) => return Err(ComposeError::EnvFile { service: service.to_string(), path, source }),
        };
        let parsed = parse_dotenv(&text).map_err(|why| invalid(format!("{}: {why}", path.display())))?;
        vars.extend(with_host_env(parsed));
    }
    Ok(vars)
}

/// Parses dotenv text; a bare `KEY` (no `=`) has no value (compose takes it from the
/// environment).
fn parse_dotenv(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut vars = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, line)) = lines.next() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").map_or(line, str::trim_start);
        let Some((key, raw)) = line.split_once('=') else {
            vars.push((line.to_string(), None));
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(format!("line {}: invalid variable name {key:?}", index + 1));
        }
        let raw = raw.trim_start();
        let value = if let Some(quoted) = raw.strip_prefix('"') {
            // A double-quoted value may span lines and has backslash escapes.
            let mut text = quoted.to_string();
            loop {
                if let Some(value) = close_double_quoted(&text) {
                    break value;
                }
                let (_, next) = lines.next().ok_or_else(|| format!("line {}: unterminated quote", index + 1))?;
                text.push('\n');
                text.push_str(next);
            }
        } else if let Some(quoted) = raw.strip_prefix('\'') {
            let end = quoted.find('\'').ok_or_else(|| format!("line {}: unterminated quote", index + 1))?;
            quoted[..end].to_string()
        } else {
            let value = raw.find(" #").map_or(raw, |i| &raw[..i]);
            value.trim_end().to_string()
        };
        vars.push((key.to_string(), Some(value)));
    }
    Ok(vars)
}

/// The value of a double-quoted string whose opening quote is already consumed, when `text`
/// contains its closing quote.
fn close_double_quoted(text: &str) -> Option<String> {
    let mut value = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                'n' => value.push('\n'),
                'r' => value.push('\r'),
                't' => value.push('\t'),
                other => value.push(other),
            },
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(pairs: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
        pairs.iter().map(|(k, v)| ((*k).to_string(), Some((*v).to_string()))).collect()
    }

    #[test]
    fn dotenv_syntax() {
        let text = "# comment\n\nA=1\nexport B = two words # trailing\nC=\"quoted # not a comment\\n\"\n\
                    D='single $x'\nE=\"multi\nline\"\nF=\nG=a=b\n";
        assert_eq!(
            parse_dotenv(text).unwrap(),
            some(&[
                ("A", "1"),
                ("B", "two words"),
                ("C", "quoted # not a comment\n"),
                ("D", "single $x"),
                ("E", "multi\nline"),
                ("F", ""),
                ("G", "a=b"),
            ])
        );
        assert_eq!(parse_dotenv("BARE\n").unwrap(), [("BARE".to_string(), None)]);
        assert!(parse_dotenv("A=\"open\n").unwrap_err().contains("unterminated quote"));
        assert!(parse_dotenv("A B=1\n").unwrap_err().contains("invalid variable name"));
    }

    #[test]
    fn files_resolve_against_the_project_and_may_be_optional() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.env"), "X=1\nY=1\n").unwrap();
        std::fs::write(dir.path().join("b.env"), "Y=2\n").unwrap();
        let value = serde_json::json!(["a.env", {"path": "b.env"}, {"path": "missing.env", "required": false}]);
        let vars = read_env_files("web", dir.path(), &value).unwrap();
        assert_eq!(vars, [("X".into(), "1".into()), ("Y".into(), "1".into()), ("Y".into(), "2".into())]);
        let err = read_env_files("web", dir.path(), &serde_json::json!("missing.env")).unwrap_err();
        assert!(err.to_string().starts_with("failed to read compose service \"web\": env_file "), "{err}");
        assert!(std::error::Error::source(&err).is_some());
    }
}
