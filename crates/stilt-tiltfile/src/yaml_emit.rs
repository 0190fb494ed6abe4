//! A small YAML emitter in the style of `sigs.k8s.io/yaml` (what Tilt's `encode_yaml` uses):
//! sorted keys, two-space indentation, sequences not indented under their key, quoting only
//! where a plain scalar would change meaning.

use serde_json::Value;

/// Serializes one document (ends with a newline).
pub(crate) fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => emit_map(m, 0, &mut out),
        Value::Array(a) if !a.is_empty() => emit_seq(a, 0, &mut out),
        scalar => {
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
    out
}

fn pad(n: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn is_block(v: &Value) -> bool {
    matches!(v, Value::Object(m) if !m.is_empty()) || matches!(v, Value::Array(a) if !a.is_empty())
}

fn emit_map(m: &serde_json::Map<String, Value>, indent: usize, out: &mut String) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            pad(indent, out);
        }
        out.push_str(&string_text(k));
        out.push(':');
        match v {
            Value::Object(inner) if !inner.is_empty() => {
                out.push('\n');
                pad(indent + 2, out);
                emit_map(inner, indent + 2, out);
            }
            Value::Array(items) if !items.is_empty() => {
                out.push('\n');
                pad(indent, out);
                emit_seq(items, indent, out);
            }
            scalar => {
                out.push(' ');
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn emit_seq(items: &[Value], indent: usize, out: &mut String) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            pad(indent, out);
        }
        out.push_str("- ");
        match v {
            Value::Object(m) if is_block(v) => emit_map(m, indent + 2, out),
            Value::Array(a) if is_block(v) => emit_seq(a, indent + 2, out),
            scalar => {
                out.push_str(&scalar_text(scalar));
                out.push('\n');
            }
        }
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string_text(s),
        Value::Array(_) => "[]".to_string(),
        Value::Object(_) => "{}".to_string(),
    }
}

fn string_text(s: &str) -> String {
    let ambiguous = matches!(
        s.to_ascii_lowercase().as_str(),
        "" | "~" | "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n"
    ) || s.parse::<f64>().is_ok()
        || s.starts_with("0x")
        || s.starts_with("0o");
    let plain_chars = s.chars().all(|c| c.is_alphanumeric() || " _./-:()@%+=,~$".contains(c));
    let edges_ok = !s.starts_with([' ', '-', ':', '@', '%', '~', ',']) && !s.ends_with([' ', ':']);
    if !ambiguous && plain_chars && edges_ok && !s.contains(": ") && !s.contains(" #") {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::to_yaml;

    #[test]
    fn k8s_style() {
        let v: serde_json::Value = serde_json::from_str(
            r#"{"kind": "Pod", "metadata": {"name": "x", "labels": {"a": "true"}}, "spec": {"containers": [{"name": "c", "args": ["-v", "1"]}], "n": 3}, "e": [], "z": null}"#,
        )
        .unwrap();
        assert_eq!(
            to_yaml(&v),
            "e: []\nkind: Pod\nmetadata:\n  labels:\n    a: \"true\"\n  name: x\nspec:\n  containers:\n  - args:\n    - \"-v\"\n    - \"1\"\n    name: c\n  \"n\": 3\nz: null\n"
        );
    }
}
