//! `--log-dir DIR`: one plain-text log file per resource (`<resource>.log`, the Tiltfile's in
//! `Tiltfile.log`), ANSI escapes removed, written as lines arrive so a killed run keeps them.

use crate::event::LogLine;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Failed to write a log file.
#[derive(Debug, thiserror::Error)]
#[error("failed to write log file {path}")]
pub struct LogDirError {
    path: PathBuf,
    #[source]
    source: std::io::Error,
}

/// The per-resource log files.
pub struct LogDir {
    dir: PathBuf,
    files: HashMap<String, BufWriter<File>>,
}

/// The file name for a resource (`None` = the Tiltfile).
pub fn file_name(resource: Option<&str>) -> String {
    let name = resource.unwrap_or("Tiltfile");
    let safe: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' }).collect();
    format!("{safe}.log")
}

/// Removes ANSI escape sequences (CSI and OSC) from a line.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || (c == '\x1b' && chars.peek() == Some(&'\\')) {
                        if c == '\x1b' {
                            chars.next();
                        }
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

impl LogDir {
    /// Creates the directory.
    pub fn create(dir: &Path) -> Result<Self, LogDirError> {
        std::fs::create_dir_all(dir).map_err(|source| LogDirError { path: dir.to_path_buf(), source })?;
        Ok(LogDir { dir: dir.to_path_buf(), files: HashMap::new() })
    }

    /// Path of a resource's file.
    pub fn path_for(&self, resource: Option<&str>) -> PathBuf {
        self.dir.join(file_name(resource))
    }

    /// Appends a line to its resource's file.
    pub fn write(&mut self, line: &LogLine) -> Result<(), LogDirError> {
        let name = file_name(line.resource.as_deref());
        let path = self.dir.join(&name);
        if !self.files.contains_key(&name) {
            let f = File::create(&path).map_err(|source| LogDirError { path: path.clone(), source })?;
            self.files.insert(name.clone(), BufWriter::new(f));
        }
        let w = self.files.get_mut(&name).expect("inserted above");
        writeln!(w, "{}", strip_ansi(&line.text)).map_err(|source| LogDirError { path, source })
    }

    /// Ensures a file exists for each resource (even silent ones) and flushes everything.
    pub fn finish(&mut self, resources: &[String]) -> Result<(), LogDirError> {
        for r in resources {
            let name = file_name(Some(r));
            if !self.files.contains_key(&name) {
                let path = self.dir.join(&name);
                let f = File::create(&path).map_err(|source| LogDirError { path, source })?;
                self.files.insert(name, BufWriter::new(f));
            }
        }
        for (name, w) in &mut self.files {
            w.flush().map_err(|source| LogDirError { path: self.dir.join(name), source })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_ansi_and_names_files() {
        assert_eq!(strip_ansi("\x1b[31mred\x1b[0m plain \x1b]0;title\x07x"), "red plain x");
        assert_eq!(file_name(Some("api/v1 x")), "api_v1_x.log");
        assert_eq!(file_name(None), "Tiltfile.log");
    }
}
