//! CI-native output (`--ci-output auto|github|gitlab|circleci|none`): one more fold of the event
//! stream. It keeps a capped log tail per resource while the run goes, and at `RunFinished`
//! renders the same [`run_summary::summarize`](super::run_summary::summarize) results JUnit and
//! JSON use — never a second classification.
//!
//! - GitHub Actions: `::add-mask::` first, then (at the end) one collapsed `::group::` per
//!   resource with its log tail, `::error`/`::warning` annotations (capped), a Markdown table
//!   appended to `$GITHUB_STEP_SUMMARY` (capped at 1 MiB per step) and `$GITHUB_OUTPUT` values.
//! - GitLab CI: one collapsible `section_start`/`section_end` per resource, then a plain summary.
//! - CircleCI: a plain summary (CircleCI has no log markup; results come from
//!   `store_test_results` on the JUnit file).
//!
//! The live terminal stream is untouched; see docs/ci.md for why groups come at the end.

pub mod github;
pub mod gitlab;
pub mod mask;
pub mod plain;

use super::log_dir::{file_name, strip_ansi};
use super::log_stream::LogFilter;
use super::log_tail::LogTail;
use super::run_summary::{TargetOutcome, TargetSummary};
use crate::event::{Failure, Level, LogLine};
use mask::Masker;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use stilt_core::ExitCode;

/// Lines kept per resource for groups, sections and the summary's failure details.
const TAIL_LINES: usize = 200;
/// Bytes kept per resource.
const TAIL_BYTES: usize = 64 * 1024;
/// The resource name used for Tiltfile (and global) lines, as in the Session.
pub const TILTFILE_RESOURCE: &str = "(Tiltfile)";

/// `--ci-output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CiOutputArg {
    /// Detect from `GITHUB_ACTIONS`, `GITLAB_CI`, `CIRCLECI`.
    #[default]
    Auto,
    /// GitHub Actions workflow commands, step summary and outputs.
    Github,
    /// GitLab collapsible sections and a plain summary.
    Gitlab,
    /// A plain summary (CircleCI has no log markup).
    Circleci,
    /// Nothing beyond the terminal log.
    None,
}

/// A CI system stilt has conventions for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiSystem {
    /// GitHub Actions.
    Github,
    /// GitLab CI.
    Gitlab,
    /// CircleCI.
    Circleci,
}

impl CiOutputArg {
    /// The system to write for, detecting it from the environment for `auto`.
    pub fn resolve(self, env: &dyn Fn(&str) -> Option<String>) -> Option<CiSystem> {
        let is_true = |k: &str| env(k).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        match self {
            CiOutputArg::Github => Some(CiSystem::Github),
            CiOutputArg::Gitlab => Some(CiSystem::Gitlab),
            CiOutputArg::Circleci => Some(CiSystem::Circleci),
            CiOutputArg::Auto if is_true("GITHUB_ACTIONS") => Some(CiSystem::Github),
            CiOutputArg::Auto if is_true("GITLAB_CI") => Some(CiSystem::Gitlab),
            CiOutputArg::Auto if is_true("CIRCLECI") => Some(CiSystem::Circleci),
            CiOutputArg::Auto | CiOutputArg::None => None,
        }
    }
}

/// The environment variables CI output reads, captured once (so tests can pass their own).
#[derive(Debug, Clone, Default)]
pub struct CiEnv(BTreeMap<String, String>);

/// Every variable [`CiEnv`] captures.
const CI_VARS: [&str; 7] = [
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "GITHUB_WORKSPACE",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_RUN_ID",
    "CI_PROJECT_DIR",
];

impl CiEnv {
    /// From a lookup function (the process environment in production).
    pub fn capture(env: &dyn Fn(&str) -> Option<String>) -> Self {
        CiEnv(CI_VARS.iter().filter_map(|k| env(k).map(|v| ((*k).to_string(), v))).collect())
    }

    /// A non-empty variable.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// The directory paths are shown relative to: the workspace, else the current directory.
    pub fn base_dir(&self) -> Option<PathBuf> {
        self.get("GITHUB_WORKSPACE")
            .or_else(|| self.get("CI_PROJECT_DIR"))
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok())
    }
}

/// What CI output to produce (part of the reporter configuration).
#[derive(Debug, Clone)]
pub struct CiConfig {
    /// The system.
    pub system: CiSystem,
    /// Its environment.
    pub env: CiEnv,
    /// Secrets to mask.
    pub mask: Masker,
}

impl CiConfig {
    /// From `--ci-output` and `--mask-env`, reading the process environment. Unset mask
    /// variables are reported on stderr. `None` when no CI output is wanted.
    pub fn from_args(arg: CiOutputArg, mask_env: &[String]) -> Option<CiConfig> {
        let env = |k: &str| std::env::var(k).ok();
        let system = arg.resolve(&env)?;
        let mut mask = Masker::default();
        for w in mask.add_env(mask_env, &env) {
            eprintln!("stilt: {w}");
        }
        Some(CiConfig { system, env: CiEnv::capture(&env), mask })
    }
}

/// Everything about a finished run that CI output shows.
#[derive(Debug, Clone)]
pub struct RunView<'a> {
    /// Per-target results from `run_summary::summarize`.
    pub targets: &'a [TargetSummary],
    /// Process exit code.
    pub exit_code: ExitCode,
    /// The run's failure, if any.
    pub failure: Option<&'a Failure>,
    /// Absolute Tiltfile path.
    pub tiltfile: &'a Path,
    /// Whole run.
    pub duration: Duration,
    /// `--junit`.
    pub junit: Option<&'a Path>,
    /// `--report-json`.
    pub report_json: Option<&'a Path>,
    /// `--log-dir`.
    pub log_dir: Option<&'a Path>,
}

/// The CI fold.
pub struct CiOutput {
    cfg: CiConfig,
    filter: LogFilter,
    logs: BTreeMap<String, LogTail>,
    shown: BTreeMap<String, LogTail>,
    warnings: Vec<String>,
}

impl CiOutput {
    /// A fold for `cfg`. `filter` is the terminal's (`--log-resource`, `--log-source`,
    /// `--log-level`): the replayed groups/sections honour it like the live log does; the
    /// summary and annotations quote the unfiltered log.
    pub fn new(cfg: CiConfig, filter: LogFilter) -> Self {
        CiOutput { cfg, filter, logs: BTreeMap::new(), shown: BTreeMap::new(), warnings: Vec::new() }
    }

    /// Printed before anything else: GitHub's `::add-mask::` lines.
    pub fn start(&mut self, out: &mut dyn Write) {
        if self.cfg.system == CiSystem::Github {
            for v in self.cfg.mask.values() {
                let _ = writeln!(out, "::add-mask::{}", github::escape_data(v));
            }
            let _ = out.flush();
        }
    }

    /// Masks a value discovered during the run (a Kubernetes Secret, later).
    pub fn add_mask(&mut self, value: &str, out: &mut dyn Write) {
        let added = self.cfg.mask.add(value);
        if self.cfg.system == CiSystem::Github {
            for v in added {
                let _ = writeln!(out, "::add-mask::{}", github::escape_data(&v));
            }
        }
    }

    /// Folds one log line.
    pub fn log(&mut self, line: &LogLine) {
        let resource = line.resource.as_deref().unwrap_or(TILTFILE_RESOURCE);
        let text = strip_ansi(&line.text);
        let text = match line.level {
            Level::Info => text,
            Level::Warn => format!("WARNING: {text}"),
            Level::Error => format!("ERROR: {text}"),
        };
        if line.level == Level::Warn && line.resource.is_none() {
            self.warnings.push(strip_ansi(&line.text));
        }
        if self.filter.matches(line) {
            self.shown.entry(resource.to_string()).or_insert_with(|| LogTail::new(TAIL_LINES, TAIL_BYTES)).push(&text);
        }
        self.logs.entry(resource.to_string()).or_insert_with(|| LogTail::new(TAIL_LINES, TAIL_BYTES)).push(&text);
    }

    /// Writes everything for the finished run: terminal markup to `out`, files from the
    /// environment. Returns the files that could not be written.
    pub fn finish(&mut self, view: &RunView<'_>, out: &mut dyn Write) -> Vec<String> {
        let ctx = Ctx {
            view,
            env: &self.cfg.env,
            mask: &self.cfg.mask,
            logs: &self.logs,
            shown: &self.shown,
            filter: &self.filter,
            warnings: &self.warnings,
        };
        let errors = match self.cfg.system {
            CiSystem::Github => github::finish(&ctx, out),
            CiSystem::Gitlab => {
                gitlab::sections(&ctx, out, unix_now());
                let _ = out.write_all(plain::summary(&ctx).as_bytes());
                Vec::new()
            }
            CiSystem::Circleci => {
                let _ = out.write_all(plain::summary(&ctx).as_bytes());
                Vec::new()
            }
        };
        let _ = out.flush();
        errors
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// What the renderers share.
pub struct Ctx<'a> {
    /// The run.
    pub view: &'a RunView<'a>,
    /// CI environment.
    pub env: &'a CiEnv,
    /// Secrets.
    pub mask: &'a Masker,
    /// Log tails per resource.
    pub logs: &'a BTreeMap<String, LogTail>,
    /// The same, only lines the terminal filter lets through (for groups and sections).
    pub shown: &'a BTreeMap<String, LogTail>,
    /// The terminal filter.
    pub filter: &'a LogFilter,
    /// Tiltfile warnings (`warn()`), in order.
    pub warnings: &'a [String],
}

/// One resource with its targets, for groups and sections.
pub struct ResourceView<'a> {
    /// Resource name (`(Tiltfile)` for the Tiltfile).
    pub name: &'a str,
    /// Its targets.
    pub targets: Vec<&'a TargetSummary>,
}

impl ResourceView<'_> {
    /// The worst outcome of its targets: failed, then skipped, then passed.
    pub fn status(&self) -> Status {
        self.targets.iter().map(|t| Status::of(&t.outcome)).max().unwrap_or(Status::Passed)
    }

    /// The class of its first failed target.
    pub fn failure_class(&self) -> Option<&'static str> {
        self.targets.iter().find_map(|t| match &t.outcome {
            TargetOutcome::Failed { class, .. } => Some(class.as_str()),
            _ => None,
        })
    }

    /// Sum of its targets' durations.
    pub fn seconds(&self) -> f64 {
        self.targets.iter().map(|t| t.duration_seconds).sum()
    }
}

/// A target's status, ordered by how much a reader cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    /// Passed.
    Passed,
    /// Skipped.
    Skipped,
    /// Started and cut short by another failure or a signal.
    Aborted,
    /// Failed.
    Failed,
}

impl Status {
    /// Of an outcome.
    pub fn of(o: &TargetOutcome) -> Status {
        match o {
            TargetOutcome::Passed => Status::Passed,
            TargetOutcome::Failed { .. } => Status::Failed,
            TargetOutcome::Skipped { .. } => Status::Skipped,
            TargetOutcome::Aborted { .. } => Status::Aborted,
        }
    }

    /// `passed` / `failed` / `skipped`.
    pub fn word(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Skipped => "skipped",
            Status::Aborted => "aborted",
            Status::Failed => "failed",
        }
    }

    /// An icon for Markdown and group titles.
    pub fn icon(self) -> &'static str {
        match self {
            Status::Passed => "✅",
            Status::Skipped => "⏭️",
            Status::Aborted => "⏹️",
            Status::Failed => "❌",
        }
    }
}

impl Ctx<'_> {
    /// Resources in display order: the Tiltfile first, then by name.
    pub fn resources(&self) -> Vec<ResourceView<'_>> {
        let mut by_name: BTreeMap<&str, Vec<&TargetSummary>> = BTreeMap::new();
        for t in self.view.targets {
            by_name.entry(t.resource.as_str()).or_default().push(t);
        }
        for r in self.logs.keys() {
            by_name.entry(r.as_str()).or_default();
        }
        let mut out: Vec<ResourceView<'_>> =
            by_name.into_iter().map(|(name, targets)| ResourceView { name, targets }).collect();
        out.sort_by_key(|r| r.name != TILTFILE_RESOURCE);
        out
    }

    /// Targets in reading order: failed, then skipped, then passed; by name within each.
    pub fn targets_by_status(&self) -> Vec<&TargetSummary> {
        let mut ts: Vec<&TargetSummary> = self.view.targets.iter().collect();
        ts.sort_by(|a, b| Status::of(&b.outcome).cmp(&Status::of(&a.outcome)).then_with(|| a.name.cmp(&b.name)));
        ts
    }

    /// (passed, failed, skipped, aborted).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let n = |s: Status| self.view.targets.iter().filter(|t| Status::of(&t.outcome) == s).count();
        (n(Status::Passed), n(Status::Failed), n(Status::Skipped), n(Status::Aborted))
    }

    /// `N passed, N failed, N skipped` (`, N aborted` when some were).
    pub fn counts_text(&self) -> String {
        let (passed, failed, skipped, aborted) = self.counts();
        let mut s = format!("{passed} passed, {failed} failed, {skipped} skipped");
        if aborted > 0 {
            s.push_str(&format!(", {aborted} aborted"));
        }
        s
    }

    /// Resources with a failed target, in name order.
    pub fn failed_resources(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self
            .view
            .targets
            .iter()
            .filter(|t| Status::of(&t.outcome) == Status::Failed)
            .map(|t| t.resource.as_str())
            .collect();
        v.dedup();
        v
    }

    /// A path relative to the workspace (or current directory) when inside it.
    pub fn show_path(&self, p: &Path) -> String {
        self.env
            .base_dir()
            .and_then(|b| {
                let b = b.canonicalize().unwrap_or(b);
                let p = p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
                p.strip_prefix(&b).ok().map(Path::to_path_buf)
            })
            .map_or_else(|| p.display().to_string(), |r| r.display().to_string())
    }

    /// A resource's log file under `--log-dir`.
    pub fn log_file(&self, resource: &str) -> Option<PathBuf> {
        let res = (resource != TILTFILE_RESOURCE).then_some(resource);
        self.view.log_dir.map(|d| d.join(file_name(res)))
    }

    /// The last `n` lines of a resource's log, masked.
    pub fn log_lines(&self, resource: &str, n: usize) -> Vec<String> {
        let Some(tail) = self.logs.get(resource) else { return Vec::new() };
        let text = self.mask.redact(&tail.render());
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(n)..].iter().map(|s| (*s).to_string()).collect()
    }

    /// Resources to replay as groups/sections: all, or those `--log-resource` selects.
    pub fn replayed_resources(&self) -> Vec<ResourceView<'_>> {
        let wanted = &self.filter.resources;
        self.resources().into_iter().filter(|r| wanted.is_empty() || wanted.iter().any(|w| w == r.name)).collect()
    }

    /// The kept tail of a resource's log as the terminal filter shows it, masked.
    pub fn shown_tail(&self, resource: &str) -> String {
        self.shown.get(resource).map(|t| self.mask.redact(&t.render())).unwrap_or_default()
    }

    /// The one-line headline: `success` or what failed.
    pub fn headline(&self) -> String {
        match self.view.failure {
            None => "success".to_string(),
            Some(f) => match &f.target {
                Some(t) => format!("failure: {t} ({})", f.class.as_str()),
                None => format!("failure ({})", f.class.as_str()),
            },
        }
    }
}

/// `12.3s`, `4m05s`, `1h02m`.
pub fn fmt_secs(secs: f64) -> String {
    if secs < 60.0 {
        return format!("{secs:.1}s");
    }
    let whole = Duration::from_secs_f64(secs.max(0.0)).as_secs();
    if whole < 3600 {
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h{:02}m", whole / 3600, whole % 3600 / 60)
    }
}

/// The first line of `s`, cut to `max` characters with `…`.
pub fn one_line(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or_default();
    let cut = first.chars().count() > max || s.lines().nth(1).is_some();
    let mut out: String = first.chars().take(max).collect();
    if cut {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_the_ci_system() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_string())
        };
        assert_eq!(CiOutputArg::Auto.resolve(&env(&[("GITHUB_ACTIONS", "true")])), Some(CiSystem::Github));
        assert_eq!(CiOutputArg::Auto.resolve(&env(&[("GITLAB_CI", "true")])), Some(CiSystem::Gitlab));
        assert_eq!(CiOutputArg::Auto.resolve(&env(&[("CIRCLECI", "true")])), Some(CiSystem::Circleci));
        assert_eq!(CiOutputArg::Auto.resolve(&env(&[("CI", "true")])), None);
        assert_eq!(CiOutputArg::None.resolve(&env(&[("GITHUB_ACTIONS", "true")])), None);
        assert_eq!(CiOutputArg::Gitlab.resolve(&env(&[])), Some(CiSystem::Gitlab));
    }

    #[test]
    fn masks_announced_at_start_and_when_added() {
        let mut mask = Masker::default();
        mask.add("first-secret");
        let cfg = CiConfig { system: CiSystem::Github, env: CiEnv::default(), mask };
        let mut ci = CiOutput::new(cfg.clone(), LogFilter::default());
        let mut out = Vec::new();
        ci.start(&mut out);
        ci.add_mask("later 100%\nsecond", &mut out);
        ci.add_mask("first-secret", &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::add-mask::first-secret\n::add-mask::later 100%25%0Asecond\n::add-mask::later 100%25\n::add-mask::second\n"
        );
        let mut gitlab = CiOutput::new(CiConfig { system: CiSystem::Gitlab, ..cfg }, LogFilter::default());
        let mut out = Vec::new();
        gitlab.start(&mut out);
        gitlab.add_mask("x-secret", &mut out);
        assert!(out.is_empty(), "GitLab has no runtime masking; stilt only redacts its own output");
        assert_eq!(gitlab.cfg.mask.redact("a x-secret"), "a ***");
    }

    #[test]
    fn formats_durations_and_lines() {
        assert_eq!(fmt_secs(0.04), "0.0s");
        assert_eq!(fmt_secs(59.94), "59.9s");
        assert_eq!(fmt_secs(125.0), "2m05s");
        assert_eq!(fmt_secs(3725.0), "1h02m");
        assert_eq!(one_line("abc\ndef", 10), "abc…");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("abc", 3), "abc");
    }
}
