//! GitHub Actions: workflow commands on stdout, `$GITHUB_STEP_SUMMARY`, `$GITHUB_OUTPUT`.
//!
//! Limits respected (spec/landscape.md §3.2): a step summary above 1024 KiB is rejected, so the
//! Markdown is cut to fit what the step has left; GitHub shows about 10 error and 10 warning
//! annotations per step (50 per job) and drops the rest silently, so stilt prints at most 10 of
//! each and the summary says how many more there were.

use super::{Ctx, Status, TILTFILE_RESOURCE, fmt_secs, one_line};
use crate::report::run_summary::{TargetOutcome, TargetSummary};
use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;

/// GitHub rejects a step summary above this.
pub const STEP_SUMMARY_MAX: usize = 1024 * 1024;
/// Room left for whatever else the step writes to its summary.
const SUMMARY_MARGIN: usize = 8 * 1024;
/// Error annotations GitHub shows per step.
pub const MAX_ERRORS: usize = 10;
/// Warning annotations GitHub shows per step.
pub const MAX_WARNINGS: usize = 10;
/// Log lines quoted in an error annotation.
const ANNOTATION_LOG_LINES: usize = 10;
/// Log lines quoted per failed target in the summary.
const SUMMARY_LOG_LINES: usize = 40;
/// Characters of a reason shown in a table cell.
const CELL_REASON_CHARS: usize = 300;

/// Escapes a workflow-command message (`%`, CR, LF) and drops other control characters.
pub fn escape_data(s: &str) -> String {
    printable(&s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A"))
}

/// `s` without control characters (BEL, FF, backspace, ESC, DEL, C1, a stray CR…) except LF
/// and tab: what processes print must not reach the step summary or a workflow command raw.
pub fn printable(s: &str) -> String {
    if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return s.to_string();
    }
    s.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect()
}

/// Escapes a workflow-command property value (data escapes plus `:` and `,`).
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// A random token for `::stop-commands::` and output delimiters.
pub fn random_token() -> String {
    use std::hash::{BuildHasher, RandomState};
    let a = RandomState::new().hash_one(std::process::id());
    let b = RandomState::new().hash_one(chrono::Utc::now().timestamp_nanos_opt());
    format!("{a:016x}{b:016x}")
}

/// Everything for GitHub, in order: groups, annotations, summary file, outputs file.
pub fn finish(ctx: &Ctx<'_>, out: &mut dyn Write) -> Vec<String> {
    let mut errors = Vec::new();
    groups(ctx, out, &random_token());
    let notes = annotations(ctx, out);
    if let Some(path) = ctx.env.get("GITHUB_STEP_SUMMARY") {
        let used = std::fs::metadata(path).map_or(0, |m| usize::try_from(m.len()).unwrap_or(usize::MAX));
        let budget = STEP_SUMMARY_MAX.saturating_sub(used).saturating_sub(SUMMARY_MARGIN);
        let md = printable(&summary(ctx, &notes, budget));
        if let Err(e) = append(Path::new(path), &md) {
            errors.push(format!("failed to write the step summary to {path}: {e}"));
        }
    }
    if let Some(path) = ctx.env.get("GITHUB_OUTPUT") {
        let text = outputs(ctx, &random_token());
        if let Err(e) = append(Path::new(path), &text) {
            errors.push(format!("failed to write step outputs to {path}: {e}"));
        }
    }
    errors
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(text.as_bytes())
}

/// One collapsed group per resource (Tiltfile first) holding its log tail. Replayed lines are
/// wrapped in `::stop-commands::` so a `::error::` a process printed is not announced twice.
pub fn groups(ctx: &Ctx<'_>, out: &mut dyn Write, token: &str) {
    for r in ctx.replayed_resources() {
        let status = r.status();
        let mut title = format!("{} {}: {}", status.icon(), r.name, status.word());
        if let Some(class) = r.failure_class() {
            title.push_str(&format!(" ({class})"));
        }
        if status != Status::Skipped {
            title.push_str(&format!(" in {}", fmt_secs(r.seconds())));
        }
        let _ = writeln!(out, "::group::{}", escape_data(&ctx.mask.redact(&title)));
        let tail = ctx.shown_tail(r.name);
        if tail.is_empty() {
            let _ = writeln!(out, "(no output)");
        } else {
            let _ = writeln!(out, "::stop-commands::{token}");
            let _ = out.write_all(printable(&tail).as_bytes());
            let _ = writeln!(out, "::{token}::");
        }
        if let Some(f) = ctx.log_file(r.name).filter(|_| !tail.is_empty()) {
            let _ = writeln!(out, "(full log: {})", ctx.show_path(&f));
        }
        let _ = writeln!(out, "::endgroup::");
    }
}

/// What the annotations left out, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AnnotationNotes {
    /// Error annotations not printed.
    pub errors_dropped: usize,
    /// Warning annotations not printed.
    pub warnings_dropped: usize,
}

/// `::error` per failed target at its declaration (at most [`MAX_ERRORS`]); a run-level error
/// when the run failed without a failed target; `::warning` per Tiltfile warning.
pub fn annotations(ctx: &Ctx<'_>, out: &mut dyn Write) -> AnnotationNotes {
    let mut errors: Vec<String> = Vec::new();
    for t in ctx.targets_by_status() {
        let TargetOutcome::Failed { class, message } = &t.outcome else { continue };
        if *class == stilt_core::FailureClass::Usage {
            continue; // the command line, not the Tiltfile: the run-level error below says it
        }
        let mut props = Vec::new();
        if let Some(loc) = &t.declared_at {
            props.push(format!("file={}", escape_property(&ctx.show_path(&loc.file))));
            props.push(format!("line={}", loc.line));
            props.push(format!("col={}", loc.col));
        } else if t.resource == TILTFILE_RESOURCE {
            props.push(format!("file={}", escape_property(&ctx.show_path(ctx.view.tiltfile))));
        }
        props.push(format!("title={}", escape_property(&format!("stilt: {} failed ({})", t.name, class.as_str()))));
        let mut msg = message.clone();
        let lines = ctx.log_lines(&t.resource, ANNOTATION_LOG_LINES);
        if !lines.is_empty() {
            msg.push_str(&format!("\n\nLast lines of {}'s log:\n{}", t.resource, lines.join("\n")));
        }
        errors.push(format!("::error {}::{}", props.join(","), escape_data(&ctx.mask.redact(&msg))));
    }
    if errors.is_empty()
        && let Some(f) = ctx.view.failure
    {
        let title = escape_property(&format!("stilt ci failed ({})", f.class.as_str()));
        errors.push(format!("::error title={title}::{}", escape_data(&ctx.mask.redact(&f.message))));
    }
    let file = escape_property(&ctx.show_path(ctx.view.tiltfile));
    let warnings: Vec<String> = ctx
        .warnings
        .iter()
        .map(|w| format!("::warning file={file},title=Tiltfile warning::{}", escape_data(&ctx.mask.redact(w))))
        .collect();
    for line in errors.iter().take(MAX_ERRORS).chain(warnings.iter().take(MAX_WARNINGS)) {
        let _ = writeln!(out, "{line}");
    }
    AnnotationNotes {
        errors_dropped: errors.len().saturating_sub(MAX_ERRORS),
        warnings_dropped: warnings.len().saturating_sub(MAX_WARNINGS),
    }
}

/// Text for a Markdown table cell or inline HTML: escapes HTML and pipes, keeps one line.
fn cell(s: &str) -> String {
    html(s).replace('|', "\\|").replace('\n', "<br>")
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn artifacts_url(ctx: &Ctx<'_>) -> Option<String> {
    let server = ctx.env.get("GITHUB_SERVER_URL")?;
    let repo = ctx.env.get("GITHUB_REPOSITORY")?;
    let run = ctx.env.get("GITHUB_RUN_ID")?;
    Some(format!("{server}/{repo}/actions/runs/{run}#artifacts"))
}

/// The Markdown step summary, at most `budget` bytes.
pub fn summary(ctx: &Ctx<'_>, notes: &AnnotationNotes, budget: usize) -> String {
    let v = ctx.view;
    let counts = ctx.counts_text();
    let mut head = String::new();
    let _ = match v.failure {
        None => writeln!(head, "## ✅ stilt ci: all resources healthy\n"),
        Some(f) => match &f.target {
            Some(t) => writeln!(head, "## ❌ stilt ci failed: `{}` ({})\n", cell(t), f.class.as_str()),
            None => writeln!(head, "## ❌ stilt ci failed ({})\n", f.class.as_str()),
        },
    };
    let _ = writeln!(
        head,
        "`{}` · exit code {} · {counts} · {}\n",
        cell(&ctx.show_path(v.tiltfile)),
        v.exit_code,
        fmt_secs(v.duration.as_secs_f64()),
    );
    if let Some(f) = v.failure {
        let _ = writeln!(head, "> {}\n", cell(&ctx.mask.redact(&f.message)));
    }
    head.push_str("| | Target | Resource | Status | Duration | Failure | Reason | Log |\n");
    head.push_str("|---|---|---|---|---:|---|---|---|\n");
    let link = artifacts_url(ctx);
    let rows: Vec<String> = ctx.targets_by_status().into_iter().map(|t| row(ctx, t, link.as_deref())).collect();
    let details: Vec<String> = ctx
        .targets_by_status()
        .into_iter()
        .filter(|t| matches!(t.outcome, TargetOutcome::Failed { .. }))
        .map(|t| failure_details(ctx, t))
        .collect();

    let mut foot = String::new();
    let mut files = Vec::new();
    if let Some(p) = v.junit {
        files.push(format!("JUnit `{}`", cell(&ctx.show_path(p))));
    }
    if let Some(p) = v.report_json {
        files.push(format!("JSON `{}`", cell(&ctx.show_path(p))));
    }
    if let Some(p) = v.log_dir {
        files.push(format!("logs `{}/`", cell(&ctx.show_path(p))));
    }
    if !files.is_empty() {
        let _ = write!(foot, "\nReports: {}", files.join(", "));
        match &link {
            Some(l) => {
                let _ = writeln!(foot, " — in this run's [artifacts]({l}) when uploaded.");
            }
            None => foot.push_str(".\n"),
        }
    }
    if notes.errors_dropped > 0 {
        let _ = writeln!(
            foot,
            "\n{} more failed targets were not annotated (GitHub shows at most {MAX_ERRORS} error annotations per step).",
            notes.errors_dropped
        );
    }
    if notes.warnings_dropped > 0 {
        let _ = writeln!(
            foot,
            "\n{} more Tiltfile warnings were not annotated (GitHub shows at most {MAX_WARNINGS} warning annotations per step).",
            notes.warnings_dropped
        );
    }
    foot.push('\n');
    fit(&head, &rows, &details, &foot, budget)
}

/// Assembles within `budget`: header and footer always; then table rows; then failure details.
fn fit(head: &str, rows: &[String], details: &[String], foot: &str, budget: usize) -> String {
    const RESERVE: usize = 200;
    let mut out = head.to_string();
    let mut shown = 0;
    for r in rows {
        if out.len() + r.len() + foot.len() + RESERVE > budget {
            break;
        }
        out.push_str(r);
        shown += 1;
    }
    if shown < rows.len() {
        let _ = writeln!(
            out,
            "\n… {} more targets not shown: the step summary is capped at 1 MiB; see the JSON report.",
            rows.len() - shown
        );
    }
    let mut dropped = 0;
    for d in details {
        if shown < rows.len() || out.len() + d.len() + foot.len() + RESERVE > budget {
            dropped += 1;
            continue;
        }
        out.push_str(d);
    }
    if dropped > 0 && shown == rows.len() {
        let _ = writeln!(out, "\n… log excerpts of {dropped} failed targets left out to stay under 1 MiB.");
    }
    out.push_str(foot);
    if out.len() > budget {
        // Even the header does not fit what is left of the step's summary: say so in one line.
        let line = "stilt ci: summary omitted — this step's summary is full (GitHub's limit is 1 MiB).\n";
        return if line.len() <= budget { line.to_string() } else { String::new() };
    }
    out
}

fn row(ctx: &Ctx<'_>, t: &TargetSummary, link: Option<&str>) -> String {
    let status = Status::of(&t.outcome);
    let (class, reason) = match &t.outcome {
        TargetOutcome::Passed => (String::new(), String::new()),
        TargetOutcome::Failed { class, message } => (format!("`{}`", class.as_str()), message.clone()),
        TargetOutcome::Skipped { reason } | TargetOutcome::Aborted { reason } => (String::new(), reason.clone()),
    };
    let duration = if status == Status::Skipped { "—".to_string() } else { fmt_secs(t.duration_seconds) };
    let log = match ctx.log_file(&t.resource) {
        Some(p) => {
            let shown = cell(&ctx.show_path(&p));
            match link {
                Some(l) => format!("[`{shown}`]({l})"),
                None => format!("`{shown}`"),
            }
        }
        None => String::new(),
    };
    format!(
        "| {} | `{}` | {} | {} | {} | {} | {} | {} |\n",
        status.icon(),
        cell(&t.name),
        cell(&t.resource),
        status.word(),
        duration,
        class,
        cell(&one_line(&ctx.mask.redact(&reason), CELL_REASON_CHARS)),
        log
    )
}

fn failure_details(ctx: &Ctx<'_>, t: &TargetSummary) -> String {
    let TargetOutcome::Failed { class, message } = &t.outcome else { return String::new() };
    let mut s = String::new();
    let _ = writeln!(s, "\n<details open><summary><b>{}</b> failed: {}</summary>\n", html(&t.name), class.as_str());
    if let Some(loc) = &t.declared_at {
        let _ = writeln!(s, "Declared at `{}:{}`.\n", cell(&ctx.show_path(&loc.file)), loc.line);
    }
    let _ = writeln!(s, "<pre>{}</pre>\n", html(&ctx.mask.redact(message)));
    let lines = ctx.log_lines(&t.resource, SUMMARY_LOG_LINES);
    if !lines.is_empty() {
        let _ = writeln!(s, "Last {} lines of `{}`'s log:\n", lines.len(), cell(&t.resource));
        let _ = writeln!(s, "<pre>{}</pre>\n", html(&lines.join("\n")));
    }
    s.push_str("</details>\n");
    s
}

/// `$GITHUB_OUTPUT` lines. Multi-line values use a random heredoc delimiter.
pub fn outputs(ctx: &Ctx<'_>, token: &str) -> String {
    let v = ctx.view;
    let (passed, failed, skipped, aborted) = ctx.counts();
    let show = |p: Option<&Path>| p.map(|p| p.display().to_string()).unwrap_or_default();
    let pairs: Vec<(&str, String)> = vec![
        ("result", if v.failure.is_none() { "success".into() } else { "failure".into() }),
        ("exit-code", v.exit_code.to_string()),
        ("failure-class", v.failure.map(|f| f.class.as_str().to_string()).unwrap_or_default()),
        ("failed-target", v.failure.and_then(|f| f.target.clone()).unwrap_or_default()),
        ("failed-resources", ctx.failed_resources().join(",")),
        ("passed", passed.to_string()),
        ("failed", failed.to_string()),
        ("skipped", skipped.to_string()),
        ("aborted", aborted.to_string()),
        ("error", v.failure.map(|f| f.message.clone()).unwrap_or_default()),
        ("junit-path", show(v.junit)),
        ("report-path", show(v.report_json)),
        ("log-dir", show(v.log_dir)),
    ];
    let mut out = String::new();
    for (k, val) in &pairs {
        let val = printable(&ctx.mask.redact(val).replace('\r', ""));
        if val.contains('\n') {
            let delim = format!("ghadelimiter_{token}");
            let _ = writeln!(out, "{k}<<{delim}\n{val}\n{delim}");
        } else {
            let _ = writeln!(out, "{k}={val}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{CiEnv, RunView, mask::Masker};
    use super::*;
    use crate::event::Failure;
    use std::collections::BTreeMap;
    use std::time::Duration;
    use stilt_core::{ExitCode, FailureClass, SourceLocation, TargetType};

    fn target(name: &str, outcome: TargetOutcome) -> TargetSummary {
        TargetSummary {
            name: name.into(),
            id: stilt_core::TargetId::parse(name),
            resource: name.split(':').next().unwrap().into(),
            target_type: TargetType::Job,
            outcome,
            start: None,
            duration_seconds: 1.5,
            declared_at: Some(SourceLocation { file: "/ws/Tiltfile".into(), line: 7, col: 1 }),
            images: Vec::new(),
            pods: Vec::new(),
        }
    }

    fn failed(name: &str, msg: &str) -> TargetSummary {
        target(name, TargetOutcome::Failed { class: FailureClass::UpdateFailed, message: msg.into() })
    }

    fn with_ctx<R>(targets: &[TargetSummary], failure: Option<&Failure>, f: impl FnOnce(&Ctx<'_>) -> R) -> R {
        let view = RunView {
            targets,
            exit_code: if failure.is_some() { ExitCode::RESOURCE_FAILED } else { ExitCode::SUCCESS },
            failure,
            tiltfile: Path::new("/ws/Tiltfile"),
            duration: Duration::from_secs(3),
            junit: Some(Path::new("/ws/out/junit.xml")),
            report_json: None,
            log_dir: Some(Path::new("/ws/out/logs")),
        };
        let env = CiEnv::capture(&|k| (k == "GITHUB_WORKSPACE").then(|| "/ws".to_string()));
        let mut mask = Masker::default();
        mask.add("hunter2");
        let logs = BTreeMap::new();
        let warnings: Vec<String> = (0..12).map(|i| format!("warning {i}")).collect();
        let filter = crate::report::log_stream::LogFilter::default();
        let ctx = Ctx {
            view: &view,
            env: &env,
            mask: &mask,
            logs: &logs,
            shown: &logs,
            filter: &filter,
            warnings: &warnings,
        };
        f(&ctx)
    }

    #[test]
    fn escapes_workflow_commands() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
        assert_eq!(escape_data("ding\x07 page\x0c\x1b[0m\tx"), "ding page[0m\tx");
    }

    #[test]
    fn control_characters_do_not_reach_the_summary_annotations_or_outputs() {
        let nasty = "bell\x07 formfeed\x0c backspace\x08 del\x7f c1\u{85} vt\x0b end";
        let targets = [failed("api:update", nasty)];
        let failure = Failure { message: nasty.into(), class: FailureClass::UpdateFailed, target: None };
        let notes = AnnotationNotes::default();
        let md = with_ctx(&targets, Some(&failure), |ctx| printable(&summary(ctx, &notes, STEP_SUMMARY_MAX)));
        let mut ann = Vec::new();
        with_ctx(&targets, Some(&failure), |ctx| annotations(ctx, &mut ann));
        let ann = String::from_utf8(ann).unwrap();
        let outs = with_ctx(&targets, Some(&failure), |ctx| outputs(ctx, "tok"));
        for (what, text) in [("summary", &md), ("annotations", &ann), ("outputs", &outs)] {
            assert!(text.contains("bell formfeed backspace del c1 vt end"), "{what}: {text:?}");
            assert!(!text.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{what}: {text:?}");
        }
    }

    #[test]
    fn caps_annotations_and_says_how_many_more() {
        let targets: Vec<TargetSummary> = (0..13).map(|i| failed(&format!("r{i:02}:update"), "boom")).collect();
        let failure = Failure { message: "boom".into(), class: FailureClass::UpdateFailed, target: None };
        let mut out = Vec::new();
        let notes = with_ctx(&targets, Some(&failure), |ctx| annotations(ctx, &mut out));
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().filter(|l| l.starts_with("::error ")).count(), 10);
        assert_eq!(text.lines().filter(|l| l.starts_with("::warning ")).count(), 10);
        assert_eq!(notes, AnnotationNotes { errors_dropped: 3, warnings_dropped: 2 });
        assert!(
            text.contains("::error file=Tiltfile,line=7,col=1,title=stilt%3A r00%3Aupdate failed (UpdateFailed)::boom")
        );
        let md = with_ctx(&targets, Some(&failure), |ctx| summary(ctx, &notes, STEP_SUMMARY_MAX));
        assert!(md.contains("3 more failed targets were not annotated"), "{md}");
        assert!(md.contains("2 more Tiltfile warnings were not annotated"), "{md}");
    }

    #[test]
    fn summary_fits_the_budget() {
        let long = "x".repeat(5000);
        let targets: Vec<TargetSummary> = (0..500).map(|i| failed(&format!("r{i:03}:update"), &long)).collect();
        let failure = Failure { message: "boom".into(), class: FailureClass::UpdateFailed, target: None };
        let notes = AnnotationNotes::default();
        let full = with_ctx(&targets, Some(&failure), |ctx| summary(ctx, &notes, STEP_SUMMARY_MAX));
        assert!(full.len() <= STEP_SUMMARY_MAX);
        assert!(full.contains("log excerpts of"), "details are dropped before rows");
        let small = with_ctx(&targets, Some(&failure), |ctx| summary(ctx, &notes, 20_000));
        assert!(small.len() <= 20_000, "{}", small.len());
        assert!(small.contains("more targets not shown"));
        assert!(small.contains("Reports: JUnit `out/junit.xml`"), "the footer stays");
        let tiny = with_ctx(&targets, Some(&failure), |ctx| summary(ctx, &notes, 100));
        assert!(tiny.starts_with("stilt ci: summary omitted"));
        assert_eq!(with_ctx(&targets, Some(&failure), |ctx| summary(ctx, &notes, 10)), "");
    }

    #[test]
    fn masks_and_escapes_the_summary_and_outputs() {
        let targets = vec![failed("api:update", "token hunter2 | <b>bad</b>\nsecond line")];
        let failure = Failure {
            message: "token hunter2\nsecond line".into(),
            class: FailureClass::UpdateFailed,
            target: Some("api:update".into()),
        };
        let md = with_ctx(&targets, Some(&failure), |ctx| summary(ctx, &AnnotationNotes::default(), STEP_SUMMARY_MAX));
        assert!(!md.contains("hunter2"));
        assert!(md.contains("token *** \\| &lt;b&gt;bad&lt;/b&gt;…"), "{md}");
        let outs = with_ctx(&targets, Some(&failure), |ctx| outputs(ctx, "TOKEN"));
        assert!(outs.contains("error<<ghadelimiter_TOKEN\ntoken ***\nsecond line\nghadelimiter_TOKEN\n"), "{outs}");
        assert!(outs.contains("failed-resources=api\n"));
        assert!(outs.contains("log-dir=/ws/out/logs\n"));
    }
}
