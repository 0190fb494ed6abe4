//! `while` support for a parser that has none.
//!
//! Tilt enables `while` in its Starlark dialect, but the `starlark` crate treats `while` as a
//! reserved word. Before parsing, every `while COND:` statement is rewritten to
//!
//! ```text
//! for _while_N in _stilt_forever:
//!     if not (COND): break
//!     <body>
//! ```
//!
//! where `_stilt_forever` ([`crate::values::Forever`]) never ends, so a `while` is unbounded
//! as in Tilt; a busy loop is stopped by the evaluator's cancel check (timeout, signal).
//! which keeps `break` and `continue` meaning the same (the condition is re-checked at the top
//! of every pass). The rewrite adds one line per `while`, so it also returns a [`LineMap`] that
//! translates every position in the rewritten text back to the original file; every location
//! the evaluator reports goes through it.
//!
//! The scanner understands comments, single- and triple-quoted strings (with escapes),
//! bracket nesting and backslash continuations, so a `while` inside a string, a comment or a
//! continuation line is left alone, and a condition may span several lines inside brackets.

/// The result of rewriting one file.
pub(crate) struct Rewritten {
    /// The source handed to the parser.
    pub(crate) source: String,
    /// Rewritten position → original position.
    pub(crate) map: LineMap,
}

/// Maps 1-based (line, column) positions of rewritten text to the original text.
#[derive(Debug, Clone, Default)]
pub(crate) struct LineMap {
    /// One entry per rewritten line (index 0 = line 1). Empty means "identity".
    lines: Vec<LineEntry>,
}

#[derive(Debug, Clone, Copy)]
struct LineEntry {
    /// 1-based line in the original text.
    orig_line: u32,
    /// Added to a rewritten column to get the original column.
    col_delta: i64,
    /// Smallest original column this line maps to (the start of a `while` condition, so
    /// errors spanning the generated `if not (…)` point at the condition).
    min_col: i64,
}

impl LineMap {
    /// Translates a 1-based rewritten position to the original one.
    pub(crate) fn translate(&self, line: u32, col: u32) -> (u32, u32) {
        let Some(entry) = line.checked_sub(1).and_then(|i| self.lines.get(i as usize)) else {
            return (line, col);
        };
        let col = (i64::from(col) + entry.col_delta).max(entry.min_col).max(1);
        (entry.orig_line, u32::try_from(col).unwrap_or(1))
    }
}

/// Rewrites every `while` statement of `src`. Returns `None` when there is nothing to rewrite
/// (the common case), so callers can use the original text unchanged.
pub(crate) fn rewrite(src: &str) -> Option<Rewritten> {
    if !src.contains("while") {
        return None;
    }
    let lines = split_lines(src);
    let starts = statement_starts(src, &lines);
    let whiles: Vec<usize> =
        (0..lines.len()).filter(|&i| starts[i] && starts_with_while(&src[lines[i].clone()])).collect();
    if whiles.is_empty() {
        return None;
    }

    let mut out = String::with_capacity(src.len() + whiles.len() * 48);
    let mut map = Vec::with_capacity(lines.len() + whiles.len() * 2);
    let mut counter = 0usize;
    let mut i = 0usize;
    while i < lines.len() {
        let line = &src[lines[i].clone()];
        if !(starts[i] && starts_with_while(line)) {
            push_line(&mut out, &mut map, line, i, 0);
            i += 1;
            continue;
        }
        if let Some(next) = rewrite_one(src, &lines, i, counter, &mut out, &mut map) {
            counter += 1;
            i = next;
        } else {
            // Malformed header (no colon): leave it for the parser to report.
            push_line(&mut out, &mut map, line, i, 0);
            i += 1;
        }
    }
    Some(Rewritten { source: out, map: LineMap { lines: map } })
}

/// Rewrites the `while` statement starting on line `i`; returns the index of the first line
/// after its header.
fn rewrite_one(
    src: &str,
    lines: &[std::ops::Range<usize>],
    i: usize,
    counter: usize,
    out: &mut String,
    map: &mut Vec<LineEntry>,
) -> Option<usize> {
    let line = &src[lines[i].clone()];
    let indent_len = line.len() - line.trim_start().len();
    let indent = &line[..indent_len];
    let cond_start = lines[i].start + indent_len + "while".len();
    let colon = find_header_colon(src, cond_start)?;
    let cond = &src[cond_start..colon];
    let last = line_index_of(lines, colon);
    let after_colon = &src[colon + 1..lines[last].end];
    let inline_body = {
        let t = after_colon.trim();
        (!t.is_empty() && !t.starts_with('#')).then_some(t)
    };
    let body_indent: String = if inline_body.is_some() {
        format!("{indent}    ")
    } else {
        lines[last + 1..]
            .iter()
            .map(|r| &src[r.clone()])
            .find(|l| {
                let t = l.trim();
                !t.is_empty() && !t.starts_with('#')
            })
            .map_or_else(|| format!("{indent}    "), |l| l[..l.len() - l.trim_start().len()].to_string())
    };

    push_line(out, map, &format!("{indent}for _while_{counter} in {}:", crate::values::FOREVER), i, 0);
    // `if not (COND): break`, keeping COND's own line breaks.
    let check = format!("{body_indent}if not ({cond}): break");
    let first_delta = to_i64(indent_len + "while".len()) - to_i64(body_indent.len() + "if not (".len());
    // 1-based original column of the condition's first non-blank character.
    let cond_col = to_i64(indent_len + "while".len() + (cond.len() - cond.trim_start().len()) + 1);
    for (k, part) in check.split('\n').enumerate() {
        if k == 0 {
            push_line_min(out, map, part, i, first_delta, cond_col);
        } else {
            push_line(out, map, part, i + k, 0);
        }
    }
    if let Some(body) = inline_body {
        let body_col = colon + 1 + (after_colon.len() - after_colon.trim_start().len()) - lines[last].start;
        push_line(out, map, &format!("{body_indent}{body}"), last, to_i64(body_col) - to_i64(body_indent.len()));
    }
    Some(last + 1)
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn push_line(out: &mut String, map: &mut Vec<LineEntry>, text: &str, orig_index: usize, col_delta: i64) {
    push_line_min(out, map, text, orig_index, col_delta, 1);
}

fn push_line_min(
    out: &mut String,
    map: &mut Vec<LineEntry>,
    text: &str,
    orig_index: usize,
    col_delta: i64,
    min_col: i64,
) {
    out.push_str(text);
    out.push('\n');
    map.push(LineEntry { orig_line: u32::try_from(orig_index + 1).unwrap_or(u32::MAX), col_delta, min_col });
}

/// Byte ranges of each line, without the line break.
fn split_lines(src: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in src.bytes().enumerate() {
        if b == b'\n' {
            let end = if i > start && src.as_bytes()[i - 1] == b'\r' { i - 1 } else { i };
            out.push(start..end);
            start = i + 1;
        }
    }
    if start < src.len() {
        out.push(start..src.len());
    }
    out
}

fn line_index_of(lines: &[std::ops::Range<usize>], offset: usize) -> usize {
    lines.partition_point(|r| r.end < offset).min(lines.len().saturating_sub(1))
}

fn starts_with_while(line: &str) -> bool {
    let t = line.trim_start();
    t.strip_prefix("while").is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
}

/// For each line: does it begin a new logical line (not inside brackets, a string, or after
/// a backslash continuation)?
fn statement_starts(src: &str, lines: &[std::ops::Range<usize>]) -> Vec<bool> {
    let bytes = src.as_bytes();
    let mut starts = vec![true; lines.len()];
    let mut depth = 0usize;
    let mut line = 0usize;
    let mut pos = 0usize;
    while pos < bytes.len() {
        match bytes[pos] {
            b'#' => {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                let end = skip_string(bytes, pos);
                for &b in &bytes[pos..end] {
                    if b == b'\n' {
                        line += 1;
                        if let Some(s) = starts.get_mut(line) {
                            *s = false;
                        }
                    }
                }
                pos = end;
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b'\\'
                if bytes.get(pos + 1) == Some(&b'\n')
                    || (bytes.get(pos + 1) == Some(&b'\r') && bytes.get(pos + 2) == Some(&b'\n')) =>
            {
                while bytes[pos] != b'\n' {
                    pos += 1;
                }
                line += 1;
                if let Some(s) = starts.get_mut(line) {
                    *s = false;
                }
            }
            b'\n' => {
                line += 1;
                if let Some(s) = starts.get_mut(line) {
                    *s = depth == 0;
                }
            }
            _ => {}
        }
        pos += 1;
    }
    starts
}

/// Returns the offset just past the string literal starting at `pos` (a quote character); also
/// used by the nesting pre-scan (`nesting.rs`), which must skip strings the same way.
pub(crate) fn skip_string(bytes: &[u8], pos: usize) -> usize {
    let q = bytes[pos];
    let triple = bytes.get(pos + 1) == Some(&q) && bytes.get(pos + 2) == Some(&q);
    let mut i = if triple { pos + 3 } else { pos + 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if !triple => return i, // unterminated: let the parser complain
            c if c == q => {
                if !triple {
                    return i + 1;
                }
                if bytes.get(i + 1) == Some(&q) && bytes.get(i + 2) == Some(&q) {
                    return i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// Finds the `:` that ends a `while` header, scanning from `start`.
fn find_header_colon(src: &str, start: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut depth = 0usize;
    let mut pos = start;
    while pos < bytes.len() {
        match bytes[pos] {
            b'#' => {
                while pos < bytes.len() && bytes[pos] != b'\n' {
                    pos += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                pos = skip_string(bytes, pos);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            b':' if depth == 0 => return Some(pos),
            b'\\' => pos += 1,
            b'\n' if depth == 0 => return None,
            _ => {}
        }
        pos += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_while_is_untouched() {
        assert!(rewrite("x = 1\nprint('while')\n").is_none());
        assert!(rewrite("while_x = 1\n").is_none());
        assert!(rewrite("s = '''\nwhile True:\n'''\n").is_none());
        assert!(rewrite("# while x:\n").is_none());
        assert!(rewrite("x = (1 +\nwhile_ )\n").is_none());
    }

    #[test]
    fn block_body() {
        let r = rewrite("i = 0\nwhile i < 3:\n    i += 1\nprint(i)\n").unwrap();
        assert_eq!(
            r.source,
            "i = 0\nfor _while_0 in _stilt_forever:\n    if not ( i < 3): break\n    i += 1\nprint(i)\n"
        );
        assert_eq!(r.map.translate(1, 1), (1, 1));
        assert_eq!(r.map.translate(2, 1), (2, 1));
        // `i` of the condition: rewritten col 14, original col 7.
        assert_eq!(r.map.translate(3, 14), (2, 7));
        assert_eq!(r.map.translate(4, 5), (3, 5));
        assert_eq!(r.map.translate(5, 1), (4, 1));
    }

    #[test]
    fn inline_body_and_multiline_condition() {
        let src = "while (a and\n       b): x = 1\ny = 2\n";
        let r = rewrite(src).unwrap();
        assert_eq!(
            r.source,
            "for _while_0 in _stilt_forever:\n    if not ( (a and\n       b)): break\n    x = 1\ny = 2\n"
        );
        assert_eq!(r.map.translate(3, 8), (2, 8));
        assert_eq!(r.map.translate(4, 5), (2, 12));
        assert_eq!(r.map.translate(5, 1), (3, 1));
    }

    #[test]
    fn nested_whiles_are_numbered() {
        let src = "def f():\n  while a:\n    while b:\n      pass\n";
        let r = rewrite(src).unwrap();
        assert!(r.source.contains("for _while_0 in"));
        assert!(r.source.contains("for _while_1 in"));
        assert_eq!(r.map.translate(6, 7), (4, 7));
    }
}
