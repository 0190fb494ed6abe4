//! The reporter task: folds the event stream into the terminal log, the log directory, and —
//! when the run finishes — the JUnit file, the JSON report and the final `SUCCESS`/`Error:` line.
//!
//! It runs on a blocking thread so terminal and file writes never stall the engine.
//!
//! Every event goes through the [`Redactor`] first, so no sink sees a Secret's value or a
//! `--mask-env` value. Secrets become known when the Tiltfile has loaded; the Tiltfile's own
//! lines logged before then are redacted retroactively where stilt still holds them: the log
//! dir's `Tiltfile.log` is written when the load ends, and the tails quoted in JUnit and CI
//! output are redacted when rendered. Only the live terminal shows them as they were (as
//! Tilt's does; on GitHub the values are `::add-mask::`ed as soon as they are known).

use super::ci_output::{CiConfig, CiOutput, RunView};
use super::json_report::{self, RunFacts};
use super::junit_report::{self, JunitContext};
use super::log_dir::LogDir;
use super::log_stream::{LogFilter, LogStream};
use super::log_tail::LogTail;
use super::redactor::Redactor;
use super::run_summary::{TargetSummary, summarize};
use super::tilt_snapshot;
use crate::event::{Event, Failure, LogSource, Outcome};
use crate::exec::image_build::{ImageBuildRecord, record_push};
use crate::server::live_view::{DEFAULT_LOG_BYTES, LiveView};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use stilt_core::{ExitCode, FailureClass, Session, TargetKind, TiltfileError, TiltfileResult};
use tokio::sync::mpsc::UnboundedReceiver;

/// Lines kept per target for JUnit `system-out`.
const TAIL_LINES: usize = 200;
/// Bytes kept per target for JUnit `system-out`.
const TAIL_BYTES: usize = 64 * 1024;

/// Where reports go.
#[derive(Debug, Clone, Default)]
pub struct ReporterConfig {
    /// Terminal filter.
    pub filter: LogFilter,
    /// ANSI colour on the terminal.
    pub color: bool,
    /// `--log-dir`.
    pub log_dir: Option<PathBuf>,
    /// `--junit`.
    pub junit: Option<PathBuf>,
    /// `--report-json`.
    pub report_json: Option<PathBuf>,
    /// `--output-snapshot-on-exit`: Tilt's webview snapshot.
    pub snapshot: Option<PathBuf>,
    /// The log and resource facts shared with the status API (the reporter keeps its own when
    /// `None`; the snapshot is built from it).
    pub live: Option<Arc<LiveView>>,
    /// `--ci-output` (GitHub/GitLab/CircleCI conventions), if any.
    pub ci: Option<CiConfig>,
    /// `--mask-env`: variables whose values are replaced by `***` everywhere (the CI
    /// config's masks when `ci` is set).
    pub mask_env: Vec<String>,
}

/// What the reporter did, for the exit path.
#[derive(Debug, Default)]
pub struct ReporterResult {
    /// Report files that could not be written, with the reason.
    pub write_errors: Vec<String>,
}

impl ReporterResult {
    /// The run's exit code once the reports are written: a run that passed fails with
    /// [`FailureClass::ReportFailed`] when a report could not be written (a missing JUnit file
    /// must not read as a pass); a failed run keeps its own code.
    pub fn exit_code(&self, run: ExitCode) -> ExitCode {
        if run == ExitCode::SUCCESS && !self.write_errors.is_empty() {
            FailureClass::ReportFailed.exit_code()
        } else {
            run
        }
    }
}

/// `outcome`, failed with [`FailureClass::ReportFailed`] if it passed but `write_errors` is not
/// empty (the last error is the message).
fn with_write_errors(outcome: &Outcome, write_errors: &[String]) -> Outcome {
    match (&outcome.failure, write_errors.last()) {
        (None, Some(e)) => Outcome {
            failure: Some(Failure { message: e.clone(), class: FailureClass::ReportFailed, target: None }),
            exit_code: FailureClass::ReportFailed.exit_code(),
        },
        _ => outcome.clone(),
    }
}

/// Prints a failure message to stderr with `Error: …` as the last line: a message's further
/// lines (a hint, a failing step's output) come first, and a first line that introduces them
/// (`…; its output ended with:`) then points up to them.
fn print_error_last(text: &str) {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let mut more = false;
    for line in lines {
        more = true;
        let _ = writeln!(std::io::stderr(), "{line}");
    }
    match first.strip_suffix(':') {
        Some(intro) if more => {
            let _ = writeln!(std::io::stderr(), "Error: {intro} (the lines above)");
        }
        _ => {
            let _ = writeln!(std::io::stderr(), "Error: {first}");
        }
    }
}

/// Runs the reporter until `RunFinished` (or the channel closes).
pub fn spawn_reporter(cfg: ReporterConfig, rx: UnboundedReceiver<Event>) -> tokio::task::JoinHandle<ReporterResult> {
    tokio::task::spawn_blocking(move || Reporter::new(cfg).run(rx))
}

struct Reporter {
    cfg: ReporterConfig,
    stream: LogStream<std::io::Stdout>,
    log_dir: Option<LogDir>,
    tails: HashMap<(Option<String>, bool), LogTail>,
    /// The loaded Tiltfile, shared with the engine (never copied).
    loaded: Option<Arc<TiltfileResult>>,
    tiltfile: PathBuf,
    start: DateTime<Utc>,
    load_time: Option<Duration>,
    tiltfile_error: Option<Arc<TiltfileError>>,
    ci: Option<CiOutput>,
    /// Images built, by resource.
    images: BTreeMap<String, Vec<ImageBuildRecord>>,
    pods: BTreeMap<String, Vec<stilt_core::k8s_pod::PodSummary>>,
    live: Arc<LiveView>,
    result: ReporterResult,
    redactor: Redactor,
    /// Tiltfile lines for the log dir, held until the load ends (secrets known then).
    loading: Option<Vec<crate::event::LogLine>>,
}

impl Reporter {
    fn new(cfg: ReporterConfig) -> Self {
        let mut result = ReporterResult::default();
        let log_dir = cfg.log_dir.as_deref().and_then(|d| match LogDir::create(d) {
            Ok(l) => Some(l),
            Err(e) => {
                result.write_errors.push(crate::error_chain::error_chain(&e));
                None
            }
        });
        let mask = if let Some(c) = &cfg.ci {
            c.mask.clone()
        } else {
            let mut m = super::ci_output::mask::Masker::default();
            for w in m.add_env(&cfg.mask_env, &|k| std::env::var(k).ok()) {
                let _ = writeln!(std::io::stderr(), "stilt: {w}");
            }
            m
        };
        Reporter {
            live: cfg.live.clone().unwrap_or_else(|| LiveView::new(DEFAULT_LOG_BYTES)),
            redactor: Redactor::new(mask),
            loading: log_dir.as_ref().map(|_| Vec::new()),
            ci: cfg.ci.clone().map(|c| CiOutput::new(c, cfg.filter.clone())),
            stream: LogStream::new(std::io::stdout(), cfg.filter.clone(), cfg.color),
            cfg,
            log_dir,
            tails: HashMap::new(),
            loaded: None,
            tiltfile: PathBuf::new(),
            start: Utc::now(),
            load_time: None,
            tiltfile_error: None,
            images: BTreeMap::new(),
            pods: BTreeMap::new(),
            result,
        }
    }

    fn run(mut self, mut rx: UnboundedReceiver<Event>) -> ReporterResult {
        if let Some(ci) = &mut self.ci {
            ci.start(&mut std::io::stdout()); // `::add-mask::` before anything else
        }
        while let Some(ev) = rx.blocking_recv() {
            if let Event::TiltfileLoaded { result, .. } = &ev {
                let added = self.redactor.add_result(result);
                for v in &added {
                    if let Some(ci) = &mut self.ci {
                        ci.add_mask(v, &mut std::io::stdout());
                    }
                }
                if !added.is_empty() {
                    // The load's own lines reached the live view before these were known.
                    self.live.scrub(|text| self.redactor.redact_string(text));
                }
            }
            if matches!(ev, Event::TiltfileLoaded { .. } | Event::TiltfileFailed { .. } | Event::RunFinished { .. }) {
                self.flush_loading();
            }
            let ev = self.redactor.redact_event(ev);
            match ev {
                Event::RunStarted { tiltfile, start_time, status_url } => {
                    self.tiltfile = tiltfile;
                    self.start = start_time;
                    let line = match status_url {
                        Some(u) => format!("stilt {} started; status API on {u}", env!("CARGO_PKG_VERSION")),
                        None => format!("stilt {} started (status API disabled)", env!("CARGO_PKG_VERSION")),
                    };
                    let _ = writeln!(std::io::stdout(), "{line}");
                }
                Event::TiltfileLoaded { result, duration } => {
                    self.live.loaded(&result.manifests);
                    self.loaded = Some(result);
                    self.load_time = Some(duration);
                }
                Event::TiltfileFailed { error } => self.tiltfile_error = Some(error),
                Event::Log(line) => {
                    self.live.log(&line);
                    self.stream.write(&line);
                    if let Some(ci) = &mut self.ci {
                        ci.log(&line);
                    }
                    match &mut self.loading {
                        Some(held) if line.resource.is_none() => held.push(line.clone()),
                        _ => self.write_log_dir(&line),
                    }
                    let key = (line.resource.as_deref().map(str::to_string), line.source == LogSource::Runtime);
                    self.tails.entry(key).or_insert_with(|| LogTail::new(TAIL_LINES, TAIL_BYTES)).push(&line.text);
                }
                Event::ImageBuilt { resource, record } => {
                    self.images.entry(resource.to_string()).or_default().push(record);
                }
                Event::ImagePushed { image, pushed_ref, digest } => {
                    record_push(self.images.values_mut().flatten(), &image, &pushed_ref, digest.as_ref());
                }
                Event::PodsChanged { resource, pods } => {
                    self.live.pods_changed(&resource, &pods);
                    self.pods.insert(resource.to_string(), pods);
                }
                Event::SessionChanged(_) => {}
                Event::RunFinished { session, outcome } => {
                    self.finish(&session, &outcome);
                    break;
                }
            }
        }
        self.result
    }

    fn write_log_dir(&mut self, line: &crate::event::LogLine) {
        if let Some(dir) = &mut self.log_dir
            && let Err(e) = dir.write(line)
        {
            let msg = crate::error_chain::error_chain(&e);
            if !self.result.write_errors.contains(&msg) {
                self.result.write_errors.push(msg);
            }
        }
    }

    /// Writes the Tiltfile lines held during the load, redacted with what is known now.
    fn flush_loading(&mut self) {
        for mut line in self.loading.take().unwrap_or_default() {
            self.redactor.redact_line(&mut line);
            self.write_log_dir(&line);
        }
    }

    fn tail_for(&self, t: &TargetSummary) -> String {
        let key = match &t.id {
            Some(id) if id.is_tiltfile() => (None, false),
            id => (Some(t.resource.clone()), id.as_ref().is_some_and(|id| id.kind != TargetKind::Update)),
        };
        let mut out = String::new();
        for p in &t.pods {
            out.push_str(&p.line());
            out.push('\n');
        }
        for i in &t.images {
            let verb = match i.outcome {
                crate::exec::image_build::BuildOutcome::Built => "Built",
                crate::exec::image_build::BuildOutcome::Reused => "Reused (inputs unchanged)",
            };
            out.push_str(&format!(
                "{verb} image {} as {} ({}, {:.1}s)\n",
                i.image,
                i.built_ref,
                if i.image_id.is_empty() { "id unknown" } else { i.image_id.as_str() },
                i.duration_seconds
            ));
        }
        out.push_str(&self.tails.get(&key).map(LogTail::render).unwrap_or_default());
        if let (Some(dir), false) = (&self.log_dir, out.is_empty()) {
            out.push_str(&format!("[[ATTACHMENT|{}]]\n", dir.path_for(t.log_resource()).display()));
        }
        self.redactor.redact(&out).into_owned()
    }

    fn finish(&mut self, session: &Session, outcome: &Outcome) {
        self.stream.flush();
        let now = Utc::now();
        let err_at = self.tiltfile_error.as_ref().and_then(|e| e.location.clone());
        let manifests = self.loaded.as_ref().map_or(&[][..], |r| &r.manifests[..]);
        let targets = summarize(session, outcome, manifests, err_at.as_ref(), &self.images, &self.pods, now);
        let duration = (now - self.start).to_std().unwrap_or_default();
        if let Some(dir) = &mut self.log_dir {
            let names: Vec<String> = manifests.iter().map(|m| m.name.clone()).collect();
            if let Err(e) = dir.finish(&names) {
                self.result.write_errors.push(crate::error_chain::error_chain(&e));
            }
        }
        if let Some(path) = self.cfg.junit.clone() {
            let ctx = JunitContext {
                start: self.start,
                duration,
                tiltfile: &self.tiltfile,
                exit_code: outcome.exit_code,
                error: outcome.failure.as_ref().map(|f| f.message.as_str()),
            };
            let xml = junit_report::render(&targets, &ctx, &|t| self.tail_for(t));
            self.write_file(&path, xml.as_bytes(), "JUnit report");
        }
        if let Some(path) = self.cfg.snapshot.clone() {
            let mut text = serde_json::to_string(&tilt_snapshot::render(session, &self.live, &now)).expect("json");
            text.push('\n');
            self.write_file(&path, text.as_bytes(), "Tilt snapshot");
        }
        // From here on, a report that could not be written is the run's failure if it passed.
        let outcome = &with_write_errors(outcome, &self.result.write_errors);
        if let Some(path) = self.cfg.report_json.clone() {
            let failure = outcome.failure.as_ref().map(|f| (f.class.as_str(), f.message.as_str(), f.target.as_deref()));
            let facts = RunFacts {
                exit_code: outcome.exit_code.0,
                failure,
                duration_seconds: duration.as_secs_f64(),
                tiltfile_load_seconds: self.load_time.map(|d| d.as_secs_f64()),
                tiltfile_error: self.tiltfile_error.as_deref(),
                log_dir: self.cfg.log_dir.as_deref(),
            };
            let log_dir = self.log_dir.as_ref();
            let doc = json_report::render(session, &targets, &facts, &|t| {
                log_dir.map(|d| d.path_for(t.log_resource()).display().to_string())
            });
            let mut text = serde_json::to_string_pretty(&doc).expect("json");
            text.push('\n');
            self.write_file(&path, text.as_bytes(), "JSON report");
        }
        if let Some(ci) = &mut self.ci {
            let view = RunView {
                targets: &targets,
                exit_code: outcome.exit_code,
                failure: outcome.failure.as_ref(),
                tiltfile: &self.tiltfile,
                duration,
                junit: self.cfg.junit.as_deref(),
                report_json: self.cfg.report_json.as_deref(),
                log_dir: self.log_dir.as_ref().and(self.cfg.log_dir.as_deref()),
            };
            let errors = ci.finish(&view, &mut std::io::stdout());
            self.result.write_errors.extend(errors);
        }
        let outcome = &with_write_errors(outcome, &self.result.write_errors);
        // The error that became the run's failure is printed once, as the `Error:` line.
        let shown = match &outcome.failure {
            Some(f) if f.class == FailureClass::ReportFailed => self.result.write_errors.len() - 1,
            _ => self.result.write_errors.len(),
        };
        for e in &self.result.write_errors[..shown] {
            let _ = writeln!(std::io::stderr(), "stilt: {e}");
        }
        match &outcome.failure {
            None => {
                let msg = "SUCCESS. All workloads are healthy.";
                if self.cfg.color {
                    let _ = writeln!(std::io::stdout(), "\x1b[32m{msg}\x1b[0m");
                } else {
                    let _ = writeln!(std::io::stdout(), "{msg}");
                }
            }
            Some(f) => {
                let text = match (&self.tiltfile_error, f.class) {
                    (Some(e), FailureClass::TiltfileError) => e.one_line(),
                    _ => f.message.clone(),
                };
                let _ = std::io::stdout().flush();
                print_error_last(&text);
            }
        }
        let _ = std::io::stdout().flush();
    }

    fn write_file(&mut self, path: &Path, bytes: &[u8], what: &str) {
        let res = (|| {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            // Write whole-file atomically-ish: truncate (Tilt's snapshot did not, #8 in the spec).
            std::fs::write(path, bytes)
        })();
        if let Err(e) = res {
            self.result.write_errors.push(format!("failed to write {what} to {}: {e}", path.display()));
        }
    }
}
