//! The subset of Kubernetes JSONPath Tilt's image locators use: `{.a.b}`, `{.a[*].b}`,
//! `{.a[0].b}`, `{.a['b.c']}` (braces optional).

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(usize),
    All,
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonPath {
    steps: Vec<Step>,
}

impl JsonPath {
    pub(crate) fn parse(text: &str) -> Result<JsonPath, String> {
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
    pub(crate) fn find<'a>(&self, root: &'a Value) -> Vec<(String, &'a Value)> {
        let mut cur: Vec<(String, &Value)> = vec![(String::new(), root)];
        for step in &self.steps {
            let mut next = Vec::new();
            for (ptr, v) in cur {
                match (step, v) {
                    (Step::Field(f), Value::Object(m)) => {
                        if let Some(x) = m.get(f) {
                            next.push((format!("{ptr}/{}", f.replace('~', "~0").replace('/', "~1")), x));
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
}
