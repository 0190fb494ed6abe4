//! A cheap upper bound of how deeply a Tiltfile nests, checked before parsing.
//!
//! **Why:** the `starlark` crate parses with recursive descent and compiles, freezes and drops
//! the syntax tree recursively, so a deeply nested expression (`[` × 50 000, a 30 000-term
//! `1+1+…`, 50 000 unary minus) needs stack in proportion. Go's Starlark (Tilt) grows its
//! stack up to 1 GB; a Rust thread's stack is fixed, and overflowing it aborts the process
//! with no report. So the evaluator runs on a thread with a big stack
//! ([`crate::eval`]'s `STACK_SIZE`) and refuses, with `file:line:col`, a file whose estimate
//! exceeds [`MAX_NESTING`] — a bound measured to fit that stack with room to spare (see
//! docs/tiltfile-result.md, "Limits").
//!
//! The estimate over-counts on purpose: per open bracket one level, plus every operator token
//! (`+`, `-`, `.`, `not`, `if`, `lambda`, …) since the last `,`, `;` or `=` at that bracket
//! depth, plus the indentation (in columns) of the statement. Real Tiltfiles stay below a few
//! hundred.

/// The largest nesting estimate accepted.
pub(crate) const MAX_NESTING: usize = 100_000;

/// Levels one `lambda` counts for (see [`keyword_weight`]).
pub(crate) const LAMBDA_WEIGHT: usize = 50;

/// Where the estimate first exceeded the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TooDeep {
    /// 1-based line of the rewritten text.
    pub(crate) line: u32,
    /// 1-based column (bytes).
    pub(crate) col: u32,
}

/// The running estimate: operator tokens since the last separator per open bracket (index 0:
/// the statement), and their sum plus one per open bracket.
struct Levels {
    counts: Vec<usize>,
    sum: usize,
}

impl Levels {
    fn add(&mut self, n: usize) {
        *self.counts.last_mut().expect("level 0 always exists") += n;
        self.sum += n;
    }

    /// A separator (`,` `;` `=`) or a new statement: the count of this level starts again.
    fn reset(&mut self) {
        let last = self.counts.last_mut().expect("level 0 always exists");
        self.sum -= *last;
        *last = 0;
    }

    fn open(&mut self) {
        self.counts.push(0);
        self.sum += 1;
    }

    fn close(&mut self) {
        if self.counts.len() > 1 {
            let n = self.counts.pop().unwrap_or(0);
            self.sum -= n + 1;
        }
    }
}

/// The weight of a keyword. A `lambda` is a function of its own and nested lambdas cost
/// quadratic time and memory to compile (measured, release: 2 000 nested take 0.5 s and
/// 190 MB, 8 000 take 8 s and 2.6 GB, and compiling cannot be cancelled), so one counts as
/// [`LAMBDA_WEIGHT`] levels: at most 2 000 nested lambdas.
fn keyword_weight(word: &str) -> usize {
    match word {
        "lambda" => LAMBDA_WEIGHT,
        "not" | "and" | "or" | "if" | "else" | "in" | "is" | "for" => 1,
        _ => 0,
    }
}

/// Checks `src` against `limit` (at most [`MAX_NESTING`]: the evaluator's stack decides).
pub(crate) fn check(src: &str, limit: usize) -> Result<(), TooDeep> {
    let b = src.as_bytes();
    let mut lv = Levels { counts: vec![0], sum: 0 };
    let mut indent = 0usize;
    let mut at_line_start = true;
    let (mut line, mut line_start) = (1usize, 0usize);
    let mut i = 0usize;
    while i < b.len() {
        if at_line_start && lv.counts.len() == 1 {
            let start = i;
            while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
                i += 1;
            }
            indent = i - start;
            at_line_start = false;
            continue;
        }
        at_line_start = false;
        let token_start = i;
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                let end = crate::while_rewrite::skip_string(b, i);
                for (k, &x) in b[i..end].iter().enumerate() {
                    if x == b'\n' {
                        line += 1;
                        line_start = i + k + 1;
                    }
                }
                i = end;
                continue;
            }
            b'\n' => {
                line += 1;
                line_start = i + 1;
                if lv.counts.len() == 1 {
                    lv.reset();
                    at_line_start = true;
                }
            }
            b'\\' if b.get(i + 1) == Some(&b'\n') => {
                i += 1;
                line += 1;
                line_start = i + 1;
            }
            b'(' | b'[' | b'{' => lv.open(),
            b')' | b']' | b'}' => lv.close(),
            b',' | b';' => lv.reset(),
            b'=' if !(matches!(b.get(i + 1), Some(b'=')) || i > 0 && b"=!<>+-*/%&|^".contains(&b[i - 1])) => lv.reset(),
            b'+' | b'-' | b'*' | b'/' | b'%' | b'|' | b'&' | b'^' | b'~' | b'<' | b'>' | b'.' | b'@' => lv.add(1),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i + 1 < b.len() && (b[i + 1].is_ascii_alphanumeric() || b[i + 1] == b'_') {
                    i += 1;
                }
                lv.add(keyword_weight(&src[token_start..=i]));
            }
            _ => {}
        }
        if lv.sum + indent > limit {
            return Err(too_deep(line, token_start - line_start));
        }
        i += 1;
    }
    Ok(())
}

fn too_deep(line: usize, col0: usize) -> TooDeep {
    TooDeep { line: u32::try_from(line).unwrap_or(u32::MAX), col: u32::try_from(col0 + 1).unwrap_or(u32::MAX) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(src: &str, limit: usize) -> bool {
        check(src, limit).is_ok()
    }

    #[test]
    fn counts_brackets_operators_and_indentation() {
        assert!(depth_ok("x = [[[1]]]\n", 3));
        assert!(!depth_ok("x = [[[[1]]]]\n", 3));
        assert!(depth_ok("x = 1+1+1\n", 2));
        assert!(!depth_ok("x = 1+1+1+1\n", 2));
        assert!(!depth_ok("x = - - - 1\n", 2));
        assert!(!depth_ok("x = not not not y\n", 2));
        // Separators reset the count: long flat lists are fine.
        assert!(depth_ok(&format!("x = [{}]\n", vec!["-1"; 1000].join(", ")), 3));
        assert!(depth_ok(&"x = 1 + 1\n".repeat(1000), 2));
        assert!(!depth_ok("if a:\n        x = 1\n", 5));
    }

    #[test]
    fn ignores_strings_and_comments() {
        assert!(depth_ok("x = '((((((((' # [[[[[[[[[[\ny = '''\n((((((\n'''\n", 2));
        assert!(depth_ok("x = r'\\'(((('\n", 2));
    }

    #[test]
    fn reports_the_position() {
        let src = "a = 1\nb = ((((1))))\n";
        assert_eq!(check(src, 3), Err(TooDeep { line: 2, col: 8 }));
    }

    #[test]
    fn the_default_limit_takes_what_tilt_loads() {
        let n = 50_000;
        let m = MAX_NESTING;
        assert!(check(&format!("x = {}1{}\n", "[".repeat(n), "]".repeat(n)), m).is_ok());
        assert!(check(&format!("x = {}1{}\n", "(".repeat(n), ")".repeat(n)), m).is_ok());
        assert!(check(&format!("x = {}1\n", "-".repeat(n)), m).is_ok());
        assert!(check(&format!("x = 1{}\n", "+1".repeat(30_000)), m).is_ok());
        assert!(check(&format!("x = {}1{}\n", "[".repeat(m + 1), "]".repeat(m + 1)), m).is_err());
        assert!(check(&format!("x = {}1\n", "lambda: ".repeat(m / LAMBDA_WEIGHT + 1)), m).is_err());
    }
}
