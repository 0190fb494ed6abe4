//! Bounded per-target log memory, so reports can show the end of each target's log without
//! holding a whole run's output.

use std::collections::VecDeque;

/// Keeps the last `max_lines` lines (and at most `max_bytes` bytes).
#[derive(Debug, Clone)]
pub struct LogTail {
    lines: VecDeque<String>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
    dropped: usize,
}

impl LogTail {
    /// An empty tail with these caps.
    pub fn new(max_lines: usize, max_bytes: usize) -> Self {
        LogTail { lines: VecDeque::new(), bytes: 0, max_lines, max_bytes, dropped: 0 }
    }

    /// Adds a line, dropping the oldest ones past the caps. A line longer than a quarter of the
    /// byte cap is cut to that (with a note), so one huge line cannot push every line before it
    /// out of the tail.
    pub fn push(&mut self, line: &str) {
        if line.is_empty() && self.lines.is_empty() {
            return;
        }
        let line = cut_long_line(line, self.max_bytes / 4);
        self.bytes += line.len() + 1;
        self.lines.push_back(line);
        while self.lines.len() > self.max_lines || (self.bytes > self.max_bytes && self.lines.len() > 1) {
            if let Some(old) = self.lines.pop_front() {
                self.bytes -= old.len() + 1;
                self.dropped += 1;
            }
        }
    }

    /// The kept lines joined, with a note when older lines were dropped.
    pub fn render(&self) -> String {
        let mut s = String::new();
        if self.dropped > 0 {
            s.push_str(&format!("[… {} earlier lines omitted; see the full log file …]\n", self.dropped));
        }
        for l in &self.lines {
            s.push_str(l);
            s.push('\n');
        }
        s
    }

    /// Whether nothing was logged.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// `line` itself, or its first `limit` bytes (at a char boundary) and how much was cut.
fn cut_long_line(line: &str, limit: usize) -> String {
    if line.len() <= limit.max(1) {
        return line.to_string();
    }
    let mut end = limit;
    while end > 0 && !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{} [… {} more bytes of this line; see the full log file …]", &line[..end], line.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_tail() {
        let mut t = LogTail::new(2, 1000);
        for l in ["a", "b", "c"] {
            t.push(l);
        }
        assert_eq!(t.render(), "[… 1 earlier lines omitted; see the full log file …]\nb\nc\n");
    }

    #[test]
    fn one_huge_line_does_not_wipe_the_lines_before_it() {
        let mut t = LogTail::new(200, 64 * 1024);
        for i in 0..10 {
            t.push(&format!("before {i}"));
        }
        t.push(&"é".repeat(50_000)); // 100 000 bytes, over the whole cap
        t.push("after");
        let out = t.render();
        assert!(out.starts_with("before 0\n"), "nothing dropped: {}", &out[..40]);
        assert!(out.contains("more bytes of this line; see the full log file"));
        assert!(out.ends_with("after\n"));
        assert!(out.len() < 20_000, "{}", out.len());
    }
}
