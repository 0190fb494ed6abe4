//! A Tiltfile that failed to load: the message Tilt would print, and where.

use crate::location::SourceLocation;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A Tiltfile load failure. `message` is one paragraph such as
/// `Error in local_resource: unexpected keyword argument "foo"`; `location` is the innermost
/// Tiltfile position (the call that failed); `traceback` holds `file:line:col: in <fn>` frames,
/// outermost first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TiltfileError {
    /// The error text, without position.
    pub message: String,
    /// Where it happened, if known.
    pub location: Option<SourceLocation>,
    /// Call-stack frames, outermost first, each `path:line:col: in name`.
    pub traceback: Vec<String>,
}

impl TiltfileError {
    /// An error with no position (e.g. "Tiltfile not found").
    pub fn new(message: impl Into<String>) -> Self {
        TiltfileError { message: message.into(), location: None, traceback: Vec::new() }
    }

    /// One line: `path:line:col: message` (or just the message).
    pub fn one_line(&self) -> String {
        let first = self.message.lines().next().unwrap_or("");
        match &self.location {
            Some(loc) => format!("{loc}: {first}"),
            None => first.to_string(),
        }
    }
}

impl fmt::Display for TiltfileError {
    /// Tilt's layout (Go starlark's `EvalError.Backtrace`): a traceback, then `Error in <fn>: …`
    /// for a builtin's failure or `Error: …` otherwise (`Error: cannot load ext://x: …`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.traceback.is_empty() {
            writeln!(f, "Traceback (most recent call last):")?;
            for frame in &self.traceback {
                writeln!(f, "  {frame}")?;
            }
            if !self.message.starts_with("Error in ") && !self.message.starts_with("Error: ") {
                f.write_str("Error: ")?;
            }
        } else if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for TiltfileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceback_ends_with_go_starlarks_error_line() {
        let frames = vec!["/p/Tiltfile:1:1: in <toplevel>".to_string()];
        let e =
            TiltfileError { message: "cannot load ext://x: boom".into(), location: None, traceback: frames.clone() };
        assert_eq!(
            e.to_string(),
            "Traceback (most recent call last):\n  /p/Tiltfile:1:1: in <toplevel>\nError: cannot load ext://x: boom"
        );
        let e = TiltfileError { message: "Error in fail: no".into(), location: None, traceback: frames };
        assert!(e.to_string().ends_with("\nError in fail: no"), "{e}");
        assert_eq!(TiltfileError::new("plain").to_string(), "plain");
    }
}
