//! kubectl-style `describe` text for an API object: header fields, then every other field
//! recursively with camelCase keys humanised (`tiltfilePath` → `Tiltfile Path`).

use serde_json::Value;
use std::fmt::Write;

/// `apiVersion` → `API Version`; keys containing digits stay as they are.
pub fn humanize(key: &str) -> String {
    if key.chars().any(|c| c.is_ascii_digit()) {
        return key.to_string();
    }
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
        .into_iter()
        .map(|w| match w.to_ascii_lowercase().as_str() {
            "api" => "API".to_string(),
            "uid" => "UID".to_string(),
            "ci" => "Ci".to_string(),
            _ => {
                let mut cs = w.chars();
                cs.next().map_or_else(String::new, |f| f.to_ascii_uppercase().to_string() + cs.as_str())
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<nil>".to_string(),
        other => other.to_string(),
    }
}

fn walk(out: &mut String, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(map) => {
            for (k, val) in map {
                match val {
                    Value::Object(m) if m.is_empty() => {
                        let _ = writeln!(out, "{pad}{}:", humanize(k));
                    }
                    Value::Object(_) | Value::Array(_) => {
                        let _ = writeln!(out, "{pad}{}:", humanize(k));
                        walk(out, val, indent + 2);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{}:  {}", humanize(k), scalar(val));
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(_) | Value::Array(_) => walk(out, item, indent),
                    _ => {
                        let _ = writeln!(out, "{pad}{}", scalar(item));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

/// The describe text of one object.
pub fn describe_text(obj: &Value) -> String {
    let mut out = String::new();
    let meta = obj.get("metadata").cloned().unwrap_or(Value::Null);
    let _ = writeln!(out, "Name:         {}", meta.get("name").map(scalar).unwrap_or_default());
    let _ = writeln!(out, "Namespace:    ");
    let _ = writeln!(out, "Labels:       <none>");
    let annotations = meta.get("annotations").and_then(Value::as_object).map_or_else(
        || "<none>".into(),
        |m| m.iter().map(|(k, v)| format!("{k}: {}", scalar(v))).collect::<Vec<_>>().join("\n              "),
    );
    let _ = writeln!(out, "Annotations:  {annotations}");
    let mut rest = obj.clone();
    if let Some(m) = rest.as_object_mut()
        && let Some(Value::Object(meta)) = m.get_mut("metadata")
    {
        for k in ["name", "namespace", "labels", "annotations"] {
            meta.remove(k);
        }
    }
    walk(&mut out, &rest, 0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanizes_like_kubectl() {
        assert_eq!(humanize("apiVersion"), "API Version");
        assert_eq!(humanize("tiltfilePath"), "Tiltfile Path");
        assert_eq!(humanize("uid"), "UID");
        assert_eq!(humanize("k8sGracePeriod"), "k8sGracePeriod");
        assert_eq!(humanize("lastReadyTime"), "Last Ready Time");
    }
}
