//! `--junit FILE`: one `<testcase>` per Session target, written with quick-junit (which strips
//! ANSI and control characters, so CI parsers accept the file).
//!
//! Mapping (see docs/reports.md): suite `stilt`; case `name` = target name, `classname` =
//! resource; `<failure type=CLASS message=REASON>` for resource failures, `<error>` for a
//! Tiltfile error or the global timeout; `<skipped>` for targets that never ran or were cut
//! short; `system-out` = the capped tail of that target's log; `file`/`line` = where the
//! resource was declared, relative to the repository: `$GITHUB_WORKSPACE` on GitHub, else the
//! root of the git work tree holding the Tiltfile, else the current directory (reporters such
//! as mikepenz/action-junit-report resolve it against the repository root).
//!
//! The failure/error body is the message plus the last [`BODY_LOG_LINES`] lines of the target's
//! log (GitLab shows only the body); `system-out` keeps the longer tail.
//!
//! quick-junit drops every control character except LF and CR, tabs included (its ANSI
//! stripper does); tabs are carried through it as a private-use character and put back.

use super::run_summary::{TargetOutcome, TargetSummary};
use chrono::{DateTime, Utc};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::{Path, PathBuf};
use std::time::Duration;
use stilt_core::{ExitCode, FailureClass};

/// Log lines quoted in a failure/error body.
pub const BODY_LOG_LINES: usize = 30;
/// Stands for a tab while the text passes through quick-junit.
const TAB: char = '\u{E009}';

fn keep_tabs(s: &str) -> String {
    s.replace(TAB, " ").replace('\t', &TAB.to_string())
}

/// The last `n` log lines of a rendered tail, without the omission note and attachment line.
fn last_log_lines(tail: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = tail
        .lines()
        .filter(|l| {
            let attachment = l.starts_with("[[ATTACHMENT|");
            let omitted = l.starts_with("[… ") && l.ends_with(" …]");
            !attachment && !omitted
        })
        .collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// The directory `file` attributes are relative to: `GITHUB_WORKSPACE` when set, else the git
/// work tree containing `tiltfile`, else `cwd`.
pub fn report_base(github_workspace: Option<&Path>, tiltfile: &Path, cwd: Option<&Path>) -> Option<PathBuf> {
    if let Some(w) = github_workspace.filter(|w| !w.as_os_str().is_empty()) {
        return Some(w.canonicalize().unwrap_or_else(|_| w.to_path_buf()));
    }
    let start = tiltfile.canonicalize().unwrap_or_else(|_| tiltfile.to_path_buf());
    if let Some(root) = start.ancestors().skip(1).find(|d| d.join(".git").exists()) {
        return Some(root.to_path_buf());
    }
    cwd.map(|c| c.canonicalize().unwrap_or_else(|_| c.to_path_buf()))
}

/// `file` relative to `base` when it lies inside it, else as given.
fn relative_to(file: &Path, base: Option<&Path>) -> String {
    let abs = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    base.and_then(|b| abs.strip_prefix(b).ok()).map_or_else(|| file.display().to_string(), |p| p.display().to_string())
}

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
    let workspace = std::env::var_os("GITHUB_WORKSPACE").map(PathBuf::from);
    let base = report_base(workspace.as_deref(), ctx.tiltfile, cwd.as_deref());
    for t in targets {
        let out = log_for(t);
        let status = match &t.outcome {
            TargetOutcome::Passed => TestCaseStatus::success(),
            TargetOutcome::Failed { class, message } => {
                let kind = match class {
                    FailureClass::TiltfileError
                    | FailureClass::GlobalTimeout
                    | FailureClass::Environment
                    | FailureClass::Usage => NonSuccessKind::Error,
                    _ => NonSuccessKind::Failure,
                };
                let mut s = TestCaseStatus::non_success(kind);
                s.set_type(class.as_str());
                s.set_message(keep_tabs(message.lines().next().unwrap_or_default()));
                let mut body = message.clone();
                let lines = last_log_lines(&out, BODY_LOG_LINES);
                if !lines.is_empty() {
                    body.push_str(&format!("\n\nLast {} lines of the log:\n{}", lines.len(), lines.join("\n")));
                }
                s.set_description(keep_tabs(&body));
                s
            }
            TargetOutcome::Skipped { reason } => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(reason.clone());
                s
            }
            TargetOutcome::Aborted { reason } => {
                // it ran, so not <skipped>; it did not fail by itself, so an <error> (JUnit's
                // "did not complete") rather than a <failure>
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_type("Aborted");
                s.set_message(keep_tabs(reason));
                let mut body = reason.clone();
                let lines = last_log_lines(&out, BODY_LOG_LINES);
                if !lines.is_empty() {
                    body.push_str(&format!("\n\nLast {} lines of the log:\n{}", lines.len(), lines.join("\n")));
                }
                s.set_description(keep_tabs(&body));
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
            case.extra.insert("file".into(), relative_to(&loc.file, base.as_deref()).into());
            case.extra.insert("line".into(), loc.line.to_string().into());
        }
        if !out.is_empty() {
            case.set_system_out(keep_tabs(&out));
        }
        suite.add_test_case(case);
    }
    report.add_test_suite(suite);
    report.to_string().expect("serialising to a String cannot fail").replace(TAB, "\t")
}

#[cfg(test)]
mod tests {
    use super::*;
    use stilt_core::{SourceLocation, TargetType};

    fn target(outcome: TargetOutcome, file: &Path) -> TargetSummary {
        TargetSummary {
            name: "api:update".into(),
            id: stilt_core::TargetId::parse("api:update"),
            resource: "api".into(),
            target_type: TargetType::Job,
            outcome,
            start: None,
            duration_seconds: 0.5,
            declared_at: Some(SourceLocation { file: file.to_path_buf(), line: 3, col: 1 }),
            images: Vec::new(),
            pods: Vec::new(),
        }
    }

    fn render_one(t: &TargetSummary, log: &str) -> String {
        let ctx = JunitContext {
            start: Utc::now(),
            duration: Duration::from_secs(1),
            tiltfile: Path::new("/nowhere/Tiltfile"),
            exit_code: ExitCode::RESOURCE_FAILED,
            error: None,
        };
        render(std::slice::from_ref(t), &ctx, &|_| log.to_string())
    }

    #[test]
    fn tabs_survive_in_system_out_and_the_body() {
        let failed = TargetOutcome::Failed { class: FailureClass::UpdateFailed, message: "exit\tstatus 1".into() };
        let xml = render_one(&target(failed, Path::new("/nowhere/Tiltfile")), "col1\tcol2\n\x07bell\n");
        assert!(xml.contains("<system-out>col1\tcol2\nbell\n</system-out>"), "{xml}");
        assert!(xml.contains("exit\tstatus 1\n\nLast 2 lines of the log:\ncol1\tcol2\nbell"), "{xml}");
        assert!(!xml.contains(TAB) && !xml.contains('\x07'), "{xml}");
    }

    #[test]
    fn the_body_quotes_the_last_30_log_lines_and_system_out_keeps_more() {
        let log: String = (1..=100).fold(String::new(), |mut s, i| {
            s.push_str(&format!("line {i}\n"));
            s
        }) + "[[ATTACHMENT|/logs/api.log]]\n";
        let failed = TargetOutcome::Failed { class: FailureClass::UpdateFailed, message: "cmd failed".into() };
        let xml = render_one(&target(failed, Path::new("/nowhere/Tiltfile")), &log);
        let body_start = xml.find("cmd failed\n\nLast 30 lines of the log:\nline 71\n").expect(&xml);
        let body = &xml[body_start..xml[body_start..].find("</failure>").unwrap() + body_start];
        assert!(body.ends_with("line 100"), "{body}");
        assert!(!body.contains("line 70\n") && !body.contains("ATTACHMENT"), "{body}");
        assert!(xml.contains("<system-out>line 1\n"), "system-out keeps the longer tail");
    }

    #[test]
    fn file_is_relative_to_the_workspace_then_the_git_root() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(repo.path().join(".git")).unwrap();
        std::fs::create_dir_all(repo.path().join("deploy")).unwrap();
        let tiltfile = repo.path().join("deploy/Tiltfile");
        std::fs::write(&tiltfile, "").unwrap();
        let deploy = repo.path().join("deploy");
        let base = report_base(None, &tiltfile, Some(&deploy));
        assert_eq!(relative_to(&tiltfile, base.as_deref()), "deploy/Tiltfile", "the git root, not the cwd");
        let base = report_base(Some(repo.path()), &tiltfile, Some(&deploy));
        assert_eq!(relative_to(&tiltfile, base.as_deref()), "deploy/Tiltfile");
        let outside = tempfile::tempdir().unwrap();
        let lone = outside.path().join("Tiltfile");
        std::fs::write(&lone, "").unwrap();
        let base = report_base(None, &lone, Some(outside.path()));
        assert_eq!(relative_to(&lone, base.as_deref()), "Tiltfile", "no git tree: the cwd");
    }
}
