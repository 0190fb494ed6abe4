//! The terminal log, formatted like `tilt ci`: resource lines prefixed with the name
//! right-aligned in 13 columns and ` │ `, Tiltfile lines unprefixed, `WARNING: `/`ERROR: ` on
//! warning and error lines, colour only on a TTY.

use crate::event::{Level, LogLine, LogSource};
use std::io::Write;

/// `--log-source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum SourceFilter {
    /// Everything.
    #[default]
    All,
    /// Update/build output only.
    Build,
    /// Runtime output only.
    Runtime,
}

/// `--log-level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LevelFilter {
    /// Only warnings (and headers).
    Warn,
    /// Only errors (and headers).
    Error,
}

/// Which lines to print.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// `--log-resource` names; empty = all.
    pub resources: Vec<String>,
    /// `--log-source`.
    pub source: SourceFilter,
    /// `--log-level`.
    pub level: Option<LevelFilter>,
}

impl LogFilter {
    /// Whether `line` is printed.
    pub fn matches(&self, line: &LogLine) -> bool {
        if !self.resources.is_empty() {
            let name = line.resource.as_deref().unwrap_or("(Tiltfile)");
            if !self.resources.iter().any(|r| r == name) {
                return false;
            }
        }
        match (self.source, line.source) {
            (SourceFilter::Build, LogSource::Runtime) | (SourceFilter::Runtime, LogSource::Build) => return false,
            _ => {}
        }
        match self.level {
            None => true,
            Some(_) if line.header => true,
            Some(LevelFilter::Warn) => line.level == Level::Warn,
            Some(LevelFilter::Error) => line.level == Level::Error,
        }
    }

    /// With exactly one resource selected, the prefix is dropped.
    pub fn suppress_prefix(&self) -> bool {
        self.resources.len() == 1
    }
}

/// Tilt's prefix: the name right-aligned in 13 bytes, longer names cut to 12 bytes + `…`
/// (cut on a character boundary, unlike Tilt, so UTF-8 stays valid).
pub fn prefix(name: &str) -> String {
    const WIDTH: usize = 13;
    if name.len() > WIDTH {
        let mut cut = WIDTH - 1;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}… │ ", &name[..cut])
    } else {
        format!("{name:>WIDTH$} │ ")
    }
}

/// Writes filtered, formatted lines.
pub struct LogStream<W: Write> {
    out: W,
    filter: LogFilter,
    color: bool,
}

impl<W: Write> LogStream<W> {
    /// A stream to `out`.
    pub fn new(out: W, filter: LogFilter, color: bool) -> Self {
        LogStream { out, filter, color }
    }

    /// Formats one line (without newline), or `None` if filtered out.
    pub fn format(&self, line: &LogLine) -> Option<String> {
        if !self.filter.matches(line) {
            return None;
        }
        let mut s = String::new();
        if let Some(name) = &line.resource
            && !self.filter.suppress_prefix()
        {
            if self.color {
                s.push_str("\x1b[2m");
                s.push_str(&prefix(name));
                s.push_str("\x1b[0m");
            } else {
                s.push_str(&prefix(name));
            }
        }
        let tag = match line.level {
            Level::Info => None,
            Level::Warn => Some(("WARNING: ", "\x1b[33m")),
            Level::Error => Some(("ERROR: ", "\x1b[31m")),
        };
        match tag {
            Some((t, c)) if self.color => s.push_str(&format!("{c}{t}\x1b[0m")),
            Some((t, _)) => s.push_str(t),
            None => {}
        }
        s.push_str(&line.text);
        Some(s)
    }

    /// Prints one line if it passes the filter.
    pub fn write(&mut self, line: &LogLine) {
        if let Some(s) = self.format(line) {
            let _ = writeln!(self.out, "{s}");
        }
    }

    /// Flushes.
    pub fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;
    use std::sync::Arc;

    fn line(res: Option<&str>, level: Level, source: LogSource, text: &str) -> LogLine {
        LogLine { resource: res.map(Arc::from), source, level, header: false, text: text.into(), time: Utc::now() }
    }

    #[test]
    fn prefix_is_13_wide_and_truncates() {
        assert_eq!(prefix("lint"), "         lint │ ");
        assert_eq!(prefix("k8s-server-example"), "k8s-server-e… │ ");
        assert_eq!(prefix("exactly13chrs"), "exactly13chrs │ ");
    }

    #[test]
    fn formats_and_filters() {
        let s = LogStream::new(Vec::new(), LogFilter::default(), false);
        assert_eq!(
            s.format(&line(Some("api"), Level::Error, LogSource::Build, "boom")).unwrap(),
            "          api │ ERROR: boom"
        );
        assert_eq!(s.format(&line(None, Level::Info, LogSource::Build, "Loading")).unwrap(), "Loading");
        let f = LogFilter { resources: vec!["api".into()], source: SourceFilter::Runtime, level: None };
        let s = LogStream::new(Vec::new(), f, false);
        assert_eq!(s.format(&line(Some("api"), Level::Info, LogSource::Runtime, "x")).unwrap(), "x");
        assert!(s.format(&line(Some("api"), Level::Info, LogSource::Build, "x")).is_none());
        assert!(s.format(&line(Some("web"), Level::Info, LogSource::Runtime, "x")).is_none());
        let f = LogFilter { resources: vec![], source: SourceFilter::All, level: Some(LevelFilter::Warn) };
        let s = LogStream::new(Vec::new(), f, false);
        assert!(s.format(&line(Some("a"), Level::Info, LogSource::Build, "x")).is_none());
        assert!(s.format(&line(Some("a"), Level::Warn, LogSource::Build, "x")).is_some());
    }
}
