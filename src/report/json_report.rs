//! `--report-json FILE`: the Session object exactly as `tilt get session -o json` prints it,
//! plus a `stilt` section (documented in docs/reports.md) with the outcome, exit code, failure
//! class and per-target durations.

use super::run_summary::TargetSummary;
use serde_json::{Value, json};
use stilt_core::session::sort_keys;
use stilt_core::{Session, TiltfileError};

/// Run-level facts for the `stilt` section.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    /// Exit code.
    pub exit_code: i32,
    /// Failure, if any: (class, message, target).
    pub failure: Option<(&'a str, &'a str, Option<&'a str>)>,
    /// Whole-run seconds.
    pub duration_seconds: f64,
    /// Tiltfile load seconds, if it loaded.
    pub tiltfile_load_seconds: Option<f64>,
    /// The Tiltfile error, if it failed.
    pub tiltfile_error: Option<&'a TiltfileError>,
    /// `--log-dir`, if given.
    pub log_dir: Option<&'a std::path::Path>,
}

/// Builds the report document.
pub fn render(
    session: &Session,
    targets: &[TargetSummary],
    facts: &RunFacts<'_>,
    log_file: &dyn Fn(&TargetSummary) -> Option<String>,
) -> Value {
    let mut doc = session.to_api_json();
    let targets: Vec<Value> = targets
        .iter()
        .map(|t| {
            let mut v = serde_json::to_value(t).expect("summary serialises");
            if let Some(f) = log_file(t) {
                v["logFile"] = Value::from(f);
            }
            v
        })
        .collect();
    let stilt = json!({
        "version": env!("CARGO_PKG_VERSION"),
        "exitCode": facts.exit_code,
        "result": if facts.failure.is_none() { "success" } else { "failure" },
        "failureClass": facts.failure.map(|f| f.0),
        "error": facts.failure.map(|f| f.1),
        "failedTarget": facts.failure.and_then(|f| f.2),
        "durationSeconds": facts.duration_seconds,
        "tiltfile": {
            "loadSeconds": facts.tiltfile_load_seconds,
            "error": facts.tiltfile_error.map(|e| json!({
                "message": e.message,
                "location": e.location,
                "traceback": e.traceback,
            })),
        },
        "logDir": facts.log_dir.map(|d| d.display().to_string()),
        "targets": targets,
    });
    doc.as_object_mut().expect("object").insert("stilt".into(), stilt);
    sort_keys(doc)
}
