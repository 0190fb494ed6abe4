//! Images a Dockerfile builds on (`FROM`, `COPY --from=`), so a build can depend on another
//! build of the same Tiltfile (Tilt's `dockerfile.FindImages`). Build stages are not images;
//! `ARG` defaults and `build_args` are substituted.

use std::collections::BTreeMap;

/// The images `text` refers to, in order, without duplicates.
pub(crate) fn find_images(text: &str, build_args: &[(String, String)]) -> Vec<String> {
    let mut args: BTreeMap<String, String> = BTreeMap::new();
    let overrides: BTreeMap<&str, &str> = build_args.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut stages: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for line in logical_lines(text) {
        let mut words = line.split_whitespace();
        let Some(instr) = words.next() else { continue };
        let rest: Vec<&str> = words.collect();
        match instr.to_ascii_uppercase().as_str() {
            "ARG" => {
                for a in rest {
                    let (k, default) = a.split_once('=').map_or((a, ""), |(k, v)| (k, v));
                    let v = overrides.get(k).map_or_else(|| unquote(default), |v| (*v).to_string());
                    args.insert(k.to_string(), v);
                }
            }
            "FROM" => {
                let mut parts = rest.iter().filter(|w| !w.starts_with("--"));
                let Some(image) = parts.next() else { continue };
                let image = substitute(image, &args);
                let rest_words: Vec<&&str> = parts.collect();
                let is_stage = stages.contains(&image.to_lowercase());
                if let [as_kw, alias] = rest_words.as_slice()
                    && as_kw.eq_ignore_ascii_case("as")
                {
                    stages.push(alias.to_lowercase());
                }
                if !is_stage && image != "scratch" && !out.contains(&image) {
                    out.push(image);
                }
            }
            "COPY" | "ADD" => {
                for w in rest {
                    if let Some(from) = w.strip_prefix("--from=") {
                        let from = substitute(from, &args);
                        let is_stage = stages.contains(&from.to_lowercase()) || from.parse::<usize>().is_ok();
                        if !is_stage && !out.contains(&from) {
                            out.push(from);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn unquote(s: &str) -> String {
    s.trim_matches('"').trim_matches('\'').to_string()
}

/// `$X`, `${X}`, `${X:-default}` from `args`.
fn substitute(s: &str, args: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(body) = after.strip_prefix('{') {
            let Some(end) = body.find('}') else {
                out.push_str(&rest[i..]);
                return out;
            };
            let expr = &body[..end];
            let (key, default) = expr.split_once(":-").map_or((expr, None), |(k, d)| (k, Some(d)));
            match args.get(key).filter(|v| !v.is_empty()) {
                Some(v) => out.push_str(v),
                None => out.push_str(default.unwrap_or("")),
            }
            rest = &body[end + 1..];
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            out.push_str(args.get(&after[..end]).map_or("", String::as_str));
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    out
}

/// Instructions with `\` continuations joined, comments and blank lines dropped.
fn logical_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for raw in text.lines() {
        let line = raw.trim();
        if cur.is_empty() && (line.is_empty() || line.starts_with('#')) {
            continue;
        }
        if let Some(stripped) = line.strip_suffix('\\') {
            cur.push_str(stripped);
            cur.push(' ');
        } else {
            cur.push_str(line);
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::find_images;

    #[test]
    fn froms_and_copies() {
        let df = "ARG BASE=pixeltilt-base\nFROM tiltdev/restart-helper:2025 as restart-helper\n\nFROM ${BASE}\nCOPY --from=restart-helper /x /\nCOPY --from=other/img:1 /y /\nFROM scratch";
        assert_eq!(find_images(df, &[]), vec!["tiltdev/restart-helper:2025", "pixeltilt-base", "other/img:1"]);
        assert_eq!(find_images("ARG B=a\nFROM $B\n", &[("B".into(), "c".into())]), vec!["c"]);
    }
}
