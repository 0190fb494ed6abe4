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

    /// Adds a line, dropping the oldest ones past the caps.
    pub fn push(&mut self, line: &str) {
        if line.is_empty() && self.lines.is_empty() {
            return;
        }
        self.bytes += line.len() + 1;
        self.lines.push_back(line.to_string());
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
}
