//! Where something was declared in a Tiltfile, so errors and reports can point at it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// A position in a Tiltfile (or a file it loaded). Lines and columns are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLocation {
    /// Absolute path of the file.
    pub file: PathBuf,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub col: u32,
}

impl fmt::Display for SourceLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}
