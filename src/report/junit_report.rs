//! `--junit FILE`: one `<testcase>` per Session target, written with quick-junit (which strips
//! ANSI and control characters, so CI parsers accept the file).
//!
//! Mapping (see docs/reports.md): suite `stilt`; case `name` = target name, `classname` =
//! resource; `<failure type=CLASS message=REASON>` for resource failures, `<error>` for a
//! Tiltfile error or the global timeout; `<skipped>` for targets that never ran or were cut
//! short; `system-out` = the capped tail of that target's log; `file`/`line` = where the
//! resource was declared.

use super::run_summary::{TargetOutcome, TargetSummary};
use chrono::{DateTime, Utc};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::Path;
use std::time::Duration;
use stilt_core::{ExitCode, FailureClass};

/// Everything the JUnit file shows besides the targets.
#[derive(Debug, Clone)]
pub struct JunitContext<'a> {
    /// Run start.
    pub start: DateTime<Utc>,
    /// Run length.
    pub duration: Duration,
    /// Tiltfile path.
    pub tiltfile: &'a Path,
    /// Exit code.
    pub exit_code: ExitCode,
    /// Run-level error message, if failed.
    pub error: Option<&'a str>,
}

/// Renders the JUnit XML. `log_for(target)` gives the tail of a target's log.
pub fn render(targets: &[TargetSummary], ctx: &JunitContext<'_>, log_for: &dyn Fn(&TargetSummary) -> String) -> String {
    let mut report = Report::new("stilt ci");
    report.set_timestamp(ctx.start);
    report.set_time(ctx.duration);
    let mut suite = TestSuite::new("stilt");
    suite.set_timestamp(ctx.start);
    suite.set_time(ctx.duration);
    suite.add_property(Property::new("stilt.version", env!("CARGO_PKG_VERSION")));
    suite.add_property(Property::new("tiltfile", ctx.tiltfile.display().to_string()));
    suite.add_property(Property::new("exit_code", ctx.exit_code.to_string()));
    if let Some(e) = ctx.error {
        suite.add_property(Property::new("error", e));
    }
    let cwd = std::env::current_dir().ok();
    for t in targets {
        let status = match &t.outcome {
            TargetOutcome::Passed => TestCaseStatus::success(),
            TargetOutcome::Failed { class, message } => {
                let kind = match class {
                    FailureClass::TiltfileError | FailureClass::GlobalTimeout | FailureClass::Environment => {
                        NonSuccessKind::Error
                    }
                    _ => NonSuccessKind::Failure,
                };
                let mut s = TestCaseStatus::non_success(kind);
                s.set_type(class.as_str());
                s.set_message(message.lines().next().unwrap_or_default());
                s.set_description(message.clone());
                s
            }
            TargetOutcome::Skipped { reason } => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(reason.clone());
                s
            }
        };
        let mut case = TestCase::new(t.name.clone(), status);
        case.set_classname(if t.resource == "(Tiltfile)" { "tiltfile".to_string() } else { t.resource.clone() });
        case.set_time(Duration::from_secs_f64(t.duration_seconds.max(0.0)));
        if let Some(start) = t.start {
            case.set_timestamp(start);
        }
        if let Some(loc) = &t.declared_at {
            let file = cwd
                .as_ref()
                .and_then(|c| loc.file.strip_prefix(c).ok())
                .map_or_else(|| loc.file.display().to_string(), |p| p.display().to_string());
            case.extra.insert("file".into(), file.into());
            case.extra.insert("line".into(), loc.line.to_string().into());
        }
        let out = log_for(t);
        if !out.is_empty() {
            case.set_system_out(out);
        }
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.to_string().expect("serialising to a String cannot fail")
}
