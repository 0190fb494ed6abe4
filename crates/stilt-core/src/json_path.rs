//! JSONPath, once: the subset of Kubernetes JSONPath Tilt's image locators use (`{.a.b}`,
//! `{.a[*].b}`, `{.a[0].b}`, `{.a['b.c']}`, braces and a leading `$` optional), and
//! [`ImagePath`], where an image sits in an object.
//!
//! The Tiltfile gives JSONPaths (`k8s_kind(image_json_path=...)`); stilt-tiltfile finds the
//! fields they reach as JSON pointers, and the manifest keeps those pointers, so the deploy
//! step sets images with `pointer_mut` and never parses a path again. The JSONPath spelling
//! (`{.spec.template.spec.containers[0].image}`) is only for display: it is what
//! `stilt alpha tiltfile-result` prints, as Tilt does.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
    All,
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    /// Parses `text`; the error is the message a Tiltfile user sees.
    pub fn parse(text: &str) -> Result<JsonPath, String> {
        let t = text.trim();
        let inner = t.strip_prefix('{').and_then(|x| x.strip_suffix('}')).unwrap_or(t);
        let bad = || format!("unrecognized JSONPath {text:?}");
        let mut steps = Vec::new();
        let chars: Vec<char> = inner.chars().collect();
        let mut i = 0;
        if chars.first() == Some(&'$') {
            i = 1;
        }
        while i < chars.len() {
            match chars[i] {
                '.' => {
                    i += 1;
                    let start = i;
                    while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                        i += 1;
                    }
                    if i == start {
                        return Err(bad());
                    }
                    steps.push(Step::Field(chars[start..i].iter().collect()));
                }
                '[' => {
                    let end = chars[i..].iter().position(|c| *c == ']').ok_or_else(bad)? + i;
                    let body: String = chars[i + 1..end].iter().collect();
                    let body = body.trim();
                    if body == "*" {
                        steps.push(Step::All);
                    } else if let Ok(n) = body.parse::<usize>() {
                        steps.push(Step::Index(n));
                    } else if let Some(q) = body
                        .strip_prefix('\'')
                        .and_then(|b| b.strip_suffix('\''))
                        .or_else(|| body.strip_prefix('"').and_then(|b| b.strip_suffix('"')))
                    {
                        steps.push(Step::Field(q.to_string()));
                    } else {
                        return Err(bad());
                    }
                    i = end + 1;
                }
                _ => return Err(bad()),
            }
        }
        Ok(JsonPath { steps })
    }

    /// Every value the path reaches, with its JSON pointer.
    pub fn find<'a>(&self, root: &'a Value) -> Vec<(String, &'a Value)> {
        let mut cur: Vec<(String, &Value)> = vec![(String::new(), root)];
        for step in &self.steps {
            let mut next = Vec::new();
            for (ptr, v) in cur {
                match (step, v) {
                    (Step::Field(f), Value::Object(m)) => {
                        if let Some(x) = m.get(f) {
                            next.push((format!("{ptr}/{}", escape_token(f)), x));
                        }
                    }
                    (Step::Index(n), Value::Array(a)) => {
                        if let Some(x) = a.get(*n) {
                            next.push((format!("{ptr}/{n}"), x));
                        }
                    }
                    (Step::All, Value::Array(a)) => {
                        next.extend(a.iter().enumerate().map(|(n, x)| (format!("{ptr}/{n}"), x)));
                    }
                    (Step::All, Value::Object(m)) => {
                        next.extend(m.iter().map(|(k, x)| (format!("{ptr}/{k}"), x)));
                    }
                    _ => {}
                }
            }
            cur = next;
        }
        cur
    }

    /// The one JSON pointer this path names, if it has no wildcard.
    fn concrete_pointer(&self) -> Option<String> {
        let mut ptr = String::new();
        for step in &self.steps {
            match step {
                Step::Field(f) => ptr.push_str(&format!("/{}", escape_token(f))),
                Step::Index(n) => ptr.push_str(&format!("/{n}")),
                Step::All => return None,
            }
        }
        Some(ptr)
    }
}

fn escape_token(t: &str) -> String {
    t.replace('~', "~0").replace('/', "~1")
}

/// The JSONPath spelling of a JSON pointer, as Tilt prints image locations:
/// `/spec/containers/0/image` → `{.spec.containers[0].image}`.
pub fn pointer_to_jsonpath(ptr: &str) -> String {
    let mut out = String::from("{");
    for part in ptr.split('/').filter(|p| !p.is_empty()) {
        if part.chars().all(|c| c.is_ascii_digit()) {
            out.push_str(&format!("[{part}]"));
        } else {
            out.push('.');
            out.push_str(part);
        }
    }
    out.push('}');
    out
}

/// Where an image sits in a Kubernetes object: a JSON pointer
/// (`/spec/template/spec/containers/0/image`). Displays and serialises as its JSONPath
/// (`{.spec.template.spec.containers[0].image}`), and reads back from one without wildcards.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImagePath(String);

impl ImagePath {
    /// The location at a JSON pointer (as [`JsonPath::find`] returns them).
    pub fn from_pointer(pointer: impl Into<String>) -> Self {
        ImagePath(pointer.into())
    }

    /// Reads a JSONPath that names one field (no `[*]`).
    pub fn parse(jsonpath: &str) -> Result<Self, String> {
        let ptr = JsonPath::parse(jsonpath)?
            .concrete_pointer()
            .ok_or_else(|| format!("unsupported JSONPath {jsonpath:?}: an image location names one field, not [*]"))?;
        if ptr.is_empty() {
            return Err(format!("empty JSONPath {jsonpath:?}"));
        }
        Ok(ImagePath(ptr))
    }

    /// The JSON pointer.
    pub fn pointer(&self) -> &str {
        &self.0
    }

    /// The pointer's reference tokens, unescaped (`["spec", "containers", "0", "image"]`).
    pub fn tokens(&self) -> Vec<String> {
        self.0.split('/').skip(1).map(|t| t.replace("~1", "/").replace("~0", "~")).collect()
    }
}

impl fmt::Display for ImagePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&pointer_to_jsonpath(&self.0))
    }
}

impl Serialize for ImagePath {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ImagePath {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ImagePath::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds() {
        let v: Value = serde_json::from_str(r#"{"spec":{"image":"a","cs":[{"image":"b"},{"image":"c"}]}}"#).unwrap();
        let p = JsonPath::parse("{.spec.cs[*].image}").unwrap();
        let found: Vec<String> = p.find(&v).iter().map(|(p, v)| format!("{p}={v}")).collect();
        assert_eq!(found, vec!["/spec/cs/0/image=\"b\"", "/spec/cs/1/image=\"c\""]);
        assert_eq!(JsonPath::parse(".spec.image").unwrap().find(&v).len(), 1);
        assert!(JsonPath::parse("{spec}").is_err());
    }

    #[test]
    fn image_paths_are_pointers_shown_as_jsonpath() {
        let p = ImagePath::parse("{.spec.containers[0].image}").unwrap();
        assert_eq!(p.pointer(), "/spec/containers/0/image");
        assert_eq!(p.to_string(), "{.spec.containers[0].image}");
        assert_eq!(serde_json::to_value(&p).unwrap(), serde_json::json!("{.spec.containers[0].image}"));
        assert_eq!(serde_json::from_value::<ImagePath>(serde_json::json!("{.spec.containers[0].image}")).unwrap(), p);
        assert_eq!(ImagePath::parse("$.spec.image").unwrap().pointer(), "/spec/image");
        let annotated = ImagePath::parse("{.metadata.annotations['example.com/image']}").unwrap();
        assert_eq!(annotated.pointer(), "/metadata/annotations/example.com~1image");
        assert_eq!(annotated.tokens(), vec!["metadata", "annotations", "example.com/image"]);
        assert_eq!(
            ImagePath::from_pointer("/spec/volumes/1/image/reference").to_string(),
            "{.spec.volumes[1].image.reference}"
        );
        assert!(ImagePath::parse("{spec.image}").is_err());
        assert!(ImagePath::parse("{.spec[?(@.x)]}").is_err());
        assert!(ImagePath::parse("{.spec.containers[0}").is_err());
        assert!(ImagePath::parse("{.spec.containers[*].image}").unwrap_err().contains("[*]"));
        assert!(ImagePath::parse("{..image}").is_err());
        assert!(ImagePath::parse("{}").unwrap_err().starts_with("empty JSONPath"));
    }
}
