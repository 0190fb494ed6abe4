//! A plain-text summary for CI systems without log markup for it (CircleCI, GitLab): one line
//! per target, failures first, with the reason and the log file.

use super::{Ctx, Status, fmt_secs, one_line};
use crate::report::run_summary::TargetOutcome;
use std::fmt::Write as _;

/// Characters of a reason shown per line.
const REASON_CHARS: usize = 200;

/// The summary text.
pub fn summary(ctx: &Ctx<'_>) -> String {
    let v = ctx.view;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "stilt ci summary: {} (exit code {}) — {} in {}",
        ctx.mask.redact(&ctx.headline()),
        v.exit_code,
        ctx.counts_text(),
        fmt_secs(v.duration.as_secs_f64())
    );
    let targets = ctx.targets_by_status();
    let width = targets.iter().map(|t| t.name.chars().count()).max().unwrap_or(6).max(6);
    let _ = writeln!(s, "  {:<7}  {:<width$}  {:>7}  DETAILS", "STATUS", "TARGET", "TIME");
    for t in targets {
        let status = Status::of(&t.outcome);
        let time = if status == Status::Skipped { "-".to_string() } else { fmt_secs(t.duration_seconds) };
        let details = match &t.outcome {
            TargetOutcome::Passed => String::new(),
            TargetOutcome::Failed { class, message } => {
                format!("{}: {}", class.as_str(), one_line(&ctx.mask.redact(message), REASON_CHARS))
            }
            TargetOutcome::Skipped { reason } | TargetOutcome::Aborted { reason } => {
                one_line(&ctx.mask.redact(reason), REASON_CHARS)
            }
        };
        let line = format!("  {:<7}  {:<width$}  {time:>7}  {details}", status.word(), t.name);
        let _ = writeln!(s, "{}", line.trim_end());
        if status == Status::Failed {
            if let Some(loc) = &t.declared_at {
                let _ = writeln!(
                    s,
                    "  {:<7}  {:<width$}  {:>7}  declared at {}:{}",
                    "",
                    "",
                    "",
                    ctx.show_path(&loc.file),
                    loc.line
                );
            }
            if let Some(f) = ctx.log_file(&t.resource) {
                let _ = writeln!(s, "  {:<7}  {:<width$}  {:>7}  log: {}", "", "", "", ctx.show_path(&f));
            }
        }
    }
    let mut files = Vec::new();
    if let Some(p) = v.junit {
        files.push(format!("JUnit {}", ctx.show_path(p)));
    }
    if let Some(p) = v.report_json {
        files.push(format!("JSON {}", ctx.show_path(p)));
    }
    if let Some(p) = v.log_dir {
        files.push(format!("logs {}/", ctx.show_path(p)));
    }
    if !files.is_empty() {
        let _ = writeln!(s, "reports: {}", files.join(", "));
    }
    s
}
