//! Readers for the loosely typed values of a compose file. Compose accepts several spellings
//! of most things (`"3"` or `3`, a list of `K=V` or a mapping, a string or a list): these turn
//! one JSON value into one Rust shape, or say in words what was wrong with it.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// How a value reads in an error message: `"abc"`, `3`, `a list`, `a mapping`.
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        other => other.to_string(),
    }
}

fn expected(what: &str, v: &Value) -> String {
    format!("expected {what}, got {}", describe(v))
}

/// A string, number or boolean, as text.
pub(super) fn scalar(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(expected("a string", other)),
    }
}

pub(super) fn boolean(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        other => Err(expected("true or false", other)),
    }
}

pub(super) fn integer(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .ok_or_else(|| expected("an integer", v))
}

pub(super) fn mapping(v: &Value) -> Result<&Map<String, Value>, String> {
    v.as_object().ok_or_else(|| expected("a mapping", v))
}

/// A list of scalars.
pub(super) fn strings(v: &Value) -> Result<Vec<String>, String> {
    v.as_array().ok_or_else(|| expected("a list", v))?.iter().map(scalar).collect()
}

/// One scalar or a list of them.
pub(super) fn string_or_list(v: &Value) -> Result<Vec<String>, String> {
    if v.is_array() { strings(v) } else { Ok(vec![scalar(v)?]) }
}

/// `command` / `entrypoint`: a list as is, a string split like a shell would (no expansion).
pub(super) fn command(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::String(s) => shell_words(s),
        Value::Array(_) => strings(v),
        other => Err(expected("a string or a list", other)),
    }
}

/// `["A=1", "B"]` or `{A: 1, B: null}` → `[("A", Some("1")), ("B", None)]`.
pub(super) fn key_values(v: &Value) -> Result<Vec<(String, Option<String>)>, String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|item| {
                let s = scalar(item)?;
                Ok(match s.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (s, None),
                })
            })
            .collect(),
        Value::Object(map) => {
            map.iter().map(|(k, v)| Ok((k.clone(), if v.is_null() { None } else { Some(scalar(v)?) }))).collect()
        }
        other => Err(expected("a list or a mapping", other)),
    }
}

/// Key-value pairs where a key without a value means an empty one (`labels`, `sysctls`).
pub(super) fn string_map(v: &Value) -> Result<BTreeMap<String, String>, String> {
    Ok(key_values(v)?.into_iter().map(|(k, v)| (k, v.unwrap_or_default())).collect())
}

/// Fills in variables listed without a value from stilt's own environment, dropping those
/// it does not have either (compose's rule for `environment`, `env_file` and build args).
pub(super) fn with_host_env(pairs: Vec<(String, Option<String>)>) -> Vec<(String, String)> {
    pairs
        .into_iter()
        .filter_map(|(k, v)| {
            let v = v.or_else(|| std::env::var(&k).ok())?;
            Some((k, v))
        })
        .collect()
}

/// Splits a command line into words the way a POSIX shell does, without any expansion:
/// `sh -c 'echo a; b'` → `["sh", "-c", "echo a; b"]`.
pub(super) fn shell_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(format!("unterminated single quote in {line:?}")),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('$' | '`' | '"' | '\\')) => w.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(format!("unterminated double quote in {line:?}")),
                        },
                        Some(c) => w.push(c),
                        None => return Err(format!("unterminated double quote in {line:?}")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err(format!("trailing backslash in {line:?}")),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// A byte count: a number, or Docker's units (`64m`, `1.5g`, `512kb`; powers of 1024).
pub(super) fn byte_size(v: &Value) -> Result<i64, String> {
    let text = match v {
        Value::Number(n) => return n.as_i64().filter(|n| *n >= 0).ok_or_else(|| expected("a byte size", v)),
        Value::String(s) => s.trim().to_ascii_lowercase(),
        other => return Err(expected("a byte size", other)),
    };
    let invalid = || format!("invalid byte size {text:?} (expected e.g. 512k, 64m, 1g)");
    let digits_end = text.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(text.len());
    let (number, unit) = text.split_at(digits_end);
    let number: f64 = number.parse().map_err(|_| invalid())?;
    let unit = unit.trim_start();
    let unit = unit.strip_suffix('b').unwrap_or(unit);
    let unit = unit.strip_suffix('i').unwrap_or(unit);
    let exponent = match unit {
        "" => 0,
        "k" => 1,
        "m" => 2,
        "g" => 3,
        "t" => 4,
        "p" => 5,
        _ => return Err(invalid()),
    };
    #[allow(clippy::cast_possible_truncation)] // byte sizes are far below 2^63
    Ok((number * 1024f64.powi(exponent)) as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn shell_words_follow_posix_quoting() {
        assert_eq!(shell_words("sh -c 'echo hello; sleep 300'").unwrap(), ["sh", "-c", "echo hello; sleep 300"]);
        assert_eq!(shell_words(r#"echo "a \"b\" \$c" d\ e ''"#).unwrap(), ["echo", r#"a "b" $c"#, "d e", ""]);
        assert_eq!(shell_words("  a\tb  ").unwrap(), ["a", "b"]);
        assert!(shell_words("echo 'oops").unwrap_err().contains("unterminated single quote"));
    }

    #[test]
    fn key_values_from_lists_and_mappings() {
        let want = vec![("A".to_string(), Some("1".to_string())), ("B".to_string(), None)];
        assert_eq!(key_values(&json!(["A=1", "B"])).unwrap(), want);
        assert_eq!(key_values(&json!({"A": 1, "B": null})).unwrap(), want);
        assert_eq!(key_values(&json!(["X=a=b"])).unwrap(), [("X".to_string(), Some("a=b".to_string()))]);
        assert_eq!(key_values(&json!("A=1")).unwrap_err(), "expected a list or a mapping, got \"A=1\"");
    }

    #[test]
    fn byte_sizes_use_binary_units() {
        assert_eq!(byte_size(&json!(1024)).unwrap(), 1024);
        assert_eq!(byte_size(&json!("64m")).unwrap(), 64 << 20);
        assert_eq!(byte_size(&json!("1.5G")).unwrap(), 3 << 29);
        assert_eq!(byte_size(&json!("512kb")).unwrap(), 512 << 10);
        assert_eq!(byte_size(&json!("2 MiB")).unwrap(), 2 << 20);
        assert!(byte_size(&json!("lots")).is_err());
    }

    #[test]
    fn scalars_accept_numbers_and_booleans() {
        assert_eq!(scalar(&json!(1000)).unwrap(), "1000");
        assert_eq!(scalar(&json!(true)).unwrap(), "true");
        assert!(scalar(&json!([1])).is_err());
        assert!(boolean(&json!("TRUE")).unwrap());
        assert_eq!(integer(&json!("3")).unwrap(), 3);
    }
}
