//! `.dockerignore` patterns with Docker's semantics (moby `patternmatcher` + `ignorefile`).
//!
//! No crate on crates.io implements these rules (`use-dockerignore` only classifies lines;
//! `ignore`/`globset` are gitignore-flavoured: `[!…]` negation, no `filepath.Clean`, different
//! `**` and parent-directory rules), so this is a port of moby's own translation of a pattern
//! into a regular expression:
//!
//! - each line is trimmed; `#…` lines and blank lines are skipped; `!` makes an exception;
//! - the pattern is cleaned like Go's `filepath.Clean` and a leading `/` is dropped, so
//!   `/foo`, `./foo` and `foo/` all mean `foo`;
//! - `*` and `?` never match `/`; `[…]` is a class (`^` negates); `\` escapes;
//!   `**/` (and `**` not at the end) matches any number of directories including none;
//!   a trailing `**` matches anything;
//! - a pattern matches a path when it matches the path itself or one of its parent
//!   directories; the last matching line decides.

use regex::Regex;
use stilt_core::go_path::clean;

/// One compiled line.
#[derive(Debug, Clone)]
struct Pattern {
    /// The cleaned pattern text, without `!`.
    text: String,
    exclusion: bool,
    regex: Regex,
}

/// A list of ignore patterns (one `.dockerignore` file, or Tilt's `ignore=`/`only=`).
#[derive(Debug, Clone, Default)]
pub struct PatternMatcher {
    patterns: Vec<Pattern>,
    has_exclusions: bool,
}

/// A pattern Docker would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid ignore pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

impl PatternMatcher {
    /// Parses the text of a `.dockerignore` file (moby `ignorefile.ReadAll`, then
    /// `patternmatcher.New`).
    pub fn from_dockerignore(text: &str) -> Result<Self, PatternError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut lines = Vec::new();
        for raw in text.lines() {
            // Comments are recognised before trimming, as Docker does.
            if raw.starts_with('#') {
                continue;
            }
            let mut line = raw.trim();
            if line.is_empty() {
                continue;
            }
            let invert = line.starts_with('!');
            if invert {
                line = line[1..].trim();
            }
            let mut pattern = String::new();
            if !line.is_empty() {
                pattern = clean(line);
                if pattern.len() > 1 && pattern.starts_with('/') {
                    pattern.remove(0);
                }
            }
            if invert {
                pattern.insert(0, '!');
            }
            lines.push(pattern);
        }
        Self::new(&lines)
    }

    /// Compiles patterns given one per entry (Tilt's `ignore=` and `only=` lists): the same
    /// syntax as `.dockerignore` lines.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<Self, PatternError> {
        let mut out = Self::default();
        for p in patterns {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            let (exclusion, body) = match p.strip_prefix('!') {
                Some("") => {
                    return Err(PatternError {
                        pattern: p.to_string(),
                        reason: "illegal exclusion pattern: \"!\"".into(),
                    });
                }
                Some(rest) => (true, rest),
                None => (false, p),
            };
            let mut text = clean(body);
            if text.len() > 1 && text.starts_with('/') {
                text.remove(0);
            }
            let regex = compile(&text).map_err(|reason| PatternError { pattern: p.to_string(), reason })?;
            out.has_exclusions |= exclusion;
            out.patterns.push(Pattern { text, exclusion, regex });
        }
        Ok(out)
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether any line is an exception (`!…`).
    pub fn has_exclusions(&self) -> bool {
        self.has_exclusions
    }

    /// Whether `path` (relative to the context, `/`-separated, no trailing `/`) is excluded
    /// (moby `MatchesOrParentMatches`).
    pub fn matches(&self, path: &str) -> bool {
        let parent = match path.rfind('/') {
            Some(i) => &path[..i],
            None => "",
        };
        let mut matched = false;
        for pattern in &self.patterns {
            // An inclusion cannot change an already-excluded path, nor an exception a kept one.
            if pattern.exclusion != matched {
                continue;
            }
            let mut hit = pattern.regex.is_match(path);
            if !hit && !parent.is_empty() {
                // Does the pattern match one of the parent directories?
                hit = parent
                    .match_indices('/')
                    .map(|(i, _)| &parent[..i])
                    .chain(std::iter::once(parent))
                    .any(|prefix| pattern.regex.is_match(prefix));
            }
            if hit {
                matched = !pattern.exclusion;
            }
        }
        matched
    }

    /// For an excluded directory: whether an exception could re-include something below it,
    /// so the walk must still descend (moby `TarWithOptions`).
    pub fn may_reinclude_below(&self, dir: &str) -> bool {
        if !self.has_exclusions {
            return false;
        }
        let dir_slash = format!("{dir}/");
        self.patterns.iter().filter(|p| p.exclusion).any(|p| format!("{}/", p.text).starts_with(&dir_slash))
    }
}

/// moby `Pattern.compile`: translate a cleaned pattern into an anchored regex.
fn compile(pattern: &str) -> Result<Regex, String> {
    validate_go_match_syntax(pattern)?;
    let mut re = String::from("^");
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        i += 1;
        match ch {
            '*' => {
                if chars.get(i) == Some(&'*') {
                    i += 1;
                    // Treat `**/` as `**`.
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    }
                    if i >= chars.len() {
                        re.push_str(".*");
                    } else {
                        re.push_str("(.*/)?");
                    }
                } else {
                    re.push_str("[^/]*");
                }
            }
            '?' => re.push_str("[^/]"),
            '.' | '+' | '(' | ')' | '|' | '{' | '}' | '$' => {
                re.push('\\');
                re.push(ch);
            }
            '\\' => {
                if let Some(&next) = chars.get(i) {
                    i += 1;
                    re.push_str(&regex::escape(&next.to_string()));
                } else {
                    re.push_str("\\\\");
                }
            }
            '[' => {
                // Copy the class through; escape what the regex crate would read specially
                // (`[` nesting and `&&`/`--`/`~~` set operations) but Go does not.
                re.push('[');
                let mut first = true;
                while i < chars.len() && (first || chars[i] != ']') {
                    let c = chars[i];
                    i += 1;
                    if first && c == '^' {
                        re.push('^');
                        continue;
                    }
                    first = false;
                    match c {
                        '\\' if i < chars.len() => {
                            re.push_str(&regex::escape(&chars[i].to_string()));
                            i += 1;
                        }
                        '[' | '&' | '~' => {
                            re.push('\\');
                            re.push(c);
                        }
                        '-' if chars.get(i) == Some(&'-') => re.push_str("\\-"),
                        _ => re.push(c),
                    }
                }
                if i < chars.len() {
                    i += 1; // ']'
                }
                re.push(']');
            }
            _ => re.push_str(&regex::escape(&ch.to_string())),
        }
    }
    re.push('$');
    Regex::new(&re).map_err(|e| e.to_string())
}

/// The syntax errors of Go's `filepath.Match`, which Docker checks each pattern against.
fn validate_go_match_syntax(pattern: &str) -> Result<(), String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    let bad = || Err("syntax error in pattern".to_string());
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                if i + 1 >= chars.len() {
                    return bad();
                }
                i += 2;
            }
            '[' => {
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                let mut n = 0;
                loop {
                    let Some(&c) = chars.get(i) else {
                        return bad();
                    };
                    if c == ']' && n > 0 {
                        i += 1;
                        break;
                    }
                    let lo = class_char(&chars, &mut i).ok_or("syntax error in pattern")?;
                    if chars.get(i) == Some(&'-') {
                        i += 1;
                        let hi = class_char(&chars, &mut i).ok_or("syntax error in pattern")?;
                        if hi < lo {
                            return bad();
                        }
                    }
                    n += 1;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn class_char(chars: &[char], i: &mut usize) -> Option<char> {
    let c = *chars.get(*i)?;
    if c == '-' || c == ']' {
        return None;
    }
    *i += 1;
    if c == '\\' {
        let e = *chars.get(*i)?;
        *i += 1;
        return Some(e);
    }
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(patterns: &[&str], path: &str) -> bool {
        PatternMatcher::new(patterns).unwrap().matches(path)
    }

    /// moby/patternmatcher `TestMatches` (single patterns).
    #[test]
    fn moby_single_pattern_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("**", "file", true),
            ("**", "file/", true),
            ("**/", "file", true),
            ("**/", "file/", true),
            ("**", "/", true),
            ("**/", "/", true),
            ("**", "dir/file", true),
            ("**/", "dir/file", true),
            ("**", "dir/file/", true),
            ("**/", "dir/file/", true),
            ("**/**", "dir/file", true),
            ("**/**", "dir/file/", true),
            ("dir/**", "dir/file", true),
            ("dir/**", "dir/file/", true),
            ("dir/**", "dir/dir2/file", true),
            ("dir/**", "dir/dir2/file/", true),
            ("**/dir", "dir", true),
            ("**/dir", "dir/file", true),
            ("**/dir2/*", "dir/dir2/file", true),
            ("**/dir2/*", "dir/dir2/file/", true),
            ("**/dir2/**", "dir/dir2/dir3/file", true),
            ("**/dir2/**", "dir/dir2/dir3/file/", true),
            ("**file", "file", true),
            ("**file", "dir/file", true),
            ("**/file", "dir/file", true),
            ("**file", "dir/dir/file", true),
            ("**/file", "dir/dir/file", true),
            ("**/file*", "dir/dir/file", true),
            ("**/file*", "dir/dir/file.txt", true),
            ("**/file*txt", "dir/dir/file.txt", true),
            ("**/file*.txt", "dir/dir/file.txt", true),
            ("**/file*.txt*", "dir/dir/file.txt", true),
            ("**/**/*.txt", "dir/dir/file.txt", true),
            ("**/**/*.txt2", "dir/dir/file.txt", false),
            ("**/*.txt", "file.txt", true),
            ("**/**/*.txt", "file.txt", true),
            ("a**/*.txt", "a/file.txt", true),
            ("a**/*.txt", "a/dir/file.txt", true),
            ("a**/*.txt", "a/dir/dir/file.txt", true),
            ("a/*.txt", "a/dir/file.txt", false),
            ("a/*.txt", "a/file.txt", true),
            ("a/*.txt**", "a/file.txt", true),
            ("a[b-d]e", "ae", false),
            ("a[b-d]e", "ace", true),
            ("a[b-d]e", "aae", false),
            ("a[^b-d]e", "aze", true),
            (".*", ".foo", true),
            (".*", "foo", false),
            ("abc.def", "abcdef", false),
            ("abc.def", "abc.def", true),
            ("abc.def", "abcZdef", false),
            ("abc?def", "abcZdef", true),
            ("abc?def", "abcdef", false),
            ("a\\\\", "a\\", true),
            ("**/foo/bar", "foo/bar", true),
            ("**/foo/bar", "dir/foo/bar", true),
            ("**/foo/bar", "dir/dir2/foo/bar", true),
            ("abc/**", "abc", false),
            ("abc/**", "abc/def", true),
            ("abc/**", "abc/def/ghi", true),
            ("**/.foo", ".foo", true),
            ("**/.foo", "bar.foo", false),
            ("a(b)c/def", "a(b)c/def", true),
            ("a(b)c/def", "a(b)c/xyz", false),
            ("a.|)$(}+{bc", "a.|)$(}+{bc", true),
            (
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl",
                true,
            ),
            ("dist/*.whl", "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", true),
        ];
        for (pattern, path, want) in cases {
            assert_eq!(m(&[pattern], path), *want, "pattern {pattern:?} path {path:?}");
        }
    }

    /// moby/patternmatcher multi-pattern cases.
    #[test]
    fn moby_multi_pattern_cases() {
        assert!(!m(&["**", "!util/docker/web"], "util/docker/web/foo"));
        assert!(m(&["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo"));
        assert!(!m(
            &["**", "!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"],
            "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"
        ));
        assert!(!m(&["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl"));
    }

    /// moby `TestMatchesWithMalformedPatterns` and the bare `!`.
    #[test]
    fn malformed_patterns_are_errors() {
        assert!(PatternMatcher::new(&["["]).is_err());
        assert!(PatternMatcher::new(&["[^"]).is_err());
        assert!(PatternMatcher::new(&["a\\"]).is_err());
        assert!(PatternMatcher::new(&["[z-a]"]).is_err());
        assert!(PatternMatcher::new(&["!"]).is_err());
        assert!(PatternMatcher::from_dockerignore("foo\n!\n").is_err());
    }

    /// moby `TestWildcardMatches` / `TestPatternMatches` / `TestExclusionPatternMatchesPatternBefore`
    /// / `TestPatternMatchesFolderExclusions` / `TestPatternMatchesFolderWithSlashExclusions`
    /// / `TestPatternMatchesFolderWildcardExclusions` / `TestExclusionPatternMatchesPatternAfter`.
    #[test]
    fn moby_exclusion_cases() {
        assert!(m(&["*"], "fileutils.go"));
        assert!(m(&["*.go"], "fileutils.go"));
        assert!(m(&["**", "!fileutils.go"], "docs/README.md"));
        assert!(!m(&["docs", "!docs/README.md"], "docs/README.md"));
        assert!(!m(&["docs/", "!docs/README.md"], "docs/README.md"));
        assert!(!m(&["docs/*", "!docs/README.md"], "docs/README.md"));
        assert!(m(&["!fileutils.go", "*.go"], "fileutils.go"));
        assert!(!m(&["*.go", "!fileutils.go"], "fileutils.go"));
    }

    /// moby `TestMatchesOrParentMatches` (parent directories).
    #[test]
    fn parent_directories_match() {
        assert!(m(&["node_modules"], "node_modules/a/b.js"));
        assert!(m(&["a/b"], "a/b/c/d"));
        assert!(!m(&["a/b"], "a/bc/d"));
        assert!(m(&["*/b"], "a/b/c"));
        assert!(!m(&["b"], "a/b/c"));
        assert!(m(&["**/b"], "a/b/c"));
    }

    #[test]
    fn dockerignore_file_parsing() {
        let pm = PatternMatcher::from_dockerignore(
            "\u{feff}# comment\n  \n/abs/path\n./dot\nfoo/\n ! keep/me \n  # not a comment\n",
        )
        .unwrap();
        let texts: Vec<_> = pm.patterns.iter().map(|p| (p.exclusion, p.text.as_str())).collect();
        assert_eq!(
            texts,
            vec![(false, "abs/path"), (false, "dot"), (false, "foo"), (true, "keep/me"), (false, "# not a comment"),]
        );
        assert!(pm.matches("abs/path/x"));
        assert!(!pm.matches("abs"));
        assert!(pm.matches("foo"));
    }

    #[test]
    fn reinclusion_forces_descent_only_where_it_can_apply() {
        let pm = PatternMatcher::new(&["a", "!a/b/c", "x/**"]).unwrap();
        assert!(pm.may_reinclude_below("a"));
        assert!(pm.may_reinclude_below("a/b"));
        assert!(!pm.may_reinclude_below("x"));
        assert!(!PatternMatcher::new(&["a"]).unwrap().may_reinclude_below("a"));
    }
}
