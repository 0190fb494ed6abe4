//! Small re-implementations of Go library behaviour whose output users see: `filepath`
//! joining/cleaning, `%q` quoting, `os` error texts and `time.ParseDuration` errors.

use std::io;
use std::path::{Path, PathBuf};

/// Go's `filepath.Clean` for Unix paths (stilt-core's one copy of `path.Clean`).
pub(crate) use stilt_core::go_path::clean;

/// Go's `filepath.Join`: joins the non-empty elements and cleans the result.
pub(crate) fn join<S: AsRef<str>>(parts: &[S]) -> String {
    let nonempty: Vec<&str> = parts.iter().map(AsRef::as_ref).filter(|p| !p.is_empty()).collect();
    if nonempty.is_empty() {
        return String::new();
    }
    clean(&nonempty.join("/"))
}

/// Resolves `path` against `dir` (unless absolute) and cleans it, like Tilt's `AbsPath`.
pub(crate) fn abs_path(dir: &Path, path: &str) -> PathBuf {
    if path.starts_with('/') {
        PathBuf::from(clean(path))
    } else {
        PathBuf::from(join(&[dir.to_string_lossy().as_ref(), path]))
    }
}

/// Go's `filepath.Base`.
pub(crate) fn base(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return "/".to_string();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_string()
}

/// Go's `filepath.Dir`.
pub(crate) fn dir(path: &str) -> String {
    let cut = path.rfind('/').map_or(0, |i| i + 1);
    clean(&path[..cut])
}

/// Go's `filepath.Rel` for two absolute (or two relative) cleaned paths.
pub(crate) fn rel(base: &str, target: &str) -> Result<String, String> {
    let b = clean(base);
    let t = clean(target);
    if b.starts_with('/') != t.starts_with('/') {
        return Err(format!("Rel: can't make {target} relative to {base}"));
    }
    if b == t {
        return Ok(".".to_string());
    }
    let bp: Vec<&str> = b.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    let tp: Vec<&str> = t.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    let common = bp.iter().zip(&tp).take_while(|(a, b)| a == b).count();
    if bp[common..].contains(&"..") {
        return Err(format!("Rel: can't make {target} relative to {base}"));
    }
    let mut out: Vec<&str> = vec![".."; bp.len() - common];
    out.extend(&tp[common..]);
    Ok(if out.is_empty() { ".".to_string() } else { out.join("/") })
}

/// Go's `%q` for a string.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_control() => {
                let n = u32::from(c);
                if n < 0x100 {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{n:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text Go's `os` package gives for an I/O error: `open /x: no such file or directory`.
pub(crate) fn io_error(op: &str, path: &Path, err: &io::Error) -> String {
    let reason = match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        io::ErrorKind::IsADirectory => return format!("read {}: is a directory", path.display()),
        io::ErrorKind::NotADirectory => "not a directory".to_string(),
        _ => {
            let s = err.to_string();
            // Drop Rust's " (os error N)" suffix and lower-case like Go's strerror.
            let s = s.split(" (os error").next().unwrap_or(&s).to_string();
            let mut chars = s.chars();
            chars.next().map_or(s.clone(), |c| c.to_lowercase().collect::<String>() + chars.as_str())
        }
    };
    format!("{op} {}: {reason}", path.display())
}

/// Parses a Go duration, returning Go's `time.ParseDuration` error text on failure.
pub(crate) fn parse_duration(s: &str) -> Result<stilt_core::GoDuration, String> {
    stilt_core::GoDuration::parse(s).map_err(|_| {
        let q = quote(s);
        let body = s.trim_start_matches(['+', '-']);
        let unit_start = body.find(|c: char| !(c.is_ascii_digit() || c == '.'));
        match unit_start {
            None if !body.is_empty() && body != "0" => {
                format!("time: missing unit in duration {q}")
            }
            Some(i) if i > 0 => {
                let unit: String = body[i..].chars().take_while(|c| !(c.is_ascii_digit() || *c == '.')).collect();
                if ["ns", "us", "µs", "μs", "ms", "s", "m", "h"].contains(&unit.as_str()) {
                    format!("time: invalid duration {q}")
                } else {
                    format!("time: unknown unit {} in duration {q}", quote(&unit))
                }
            }
            _ => format!("time: invalid duration {q}"),
        }
    })
}

/// Python's `shlex.quote` (what Tilt documents for `shlex.quote`).
pub(crate) fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".to_string();
    }
    let safe = s.chars().all(|c| c.is_alphanumeric() || "@%+=:,./-_".contains(c));
    if safe { s.to_string() } else { format!("'{}'", s.replace('\'', "'\"'\"'")) }
}

/// `snake_case` → `camelCase` (Tilt's API field names).
pub(crate) fn snake_to_camel(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// A case-insensitive, unanchored regexp (Go's `regexp.Compile("(?i)" + p)`). ASCII-only
/// patterns compile without Unicode tables, which is much faster; others fall back.
pub(crate) fn regex_ci(pattern: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .unicode(false)
        .build()
        .or_else(|_| regex::RegexBuilder::new(pattern).case_insensitive(true).build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_behave_like_go() {
        assert_eq!(join(&["/x", "", "y/../z"]), "/x/z");
        assert_eq!(base("/a/b/"), "b");
        assert_eq!(base(""), ".");
        assert_eq!(dir("/a/b"), "/a");
        assert_eq!(dir("b"), ".");
        assert_eq!(rel("/a/b", "/a/c/d").unwrap(), "../c/d");
        assert_eq!(rel("/a", "/a").unwrap(), ".");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("go env \"x\"\n"), "\"go env \\\"x\\\"\\n\"");
        assert_eq!(shell_quote("abc"), "abc");
        assert_eq!(shell_quote("a b'c"), "'a b'\"'\"'c'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn duration_errors() {
        assert_eq!(parse_duration("abc").unwrap_err(), "time: invalid duration \"abc\"");
        assert_eq!(parse_duration("10").unwrap_err(), "time: missing unit in duration \"10\"");
        assert_eq!(parse_duration("10x").unwrap_err(), "time: unknown unit \"x\" in duration \"10x\"");
        assert!(parse_duration("1h30m").is_ok());
    }
}
