//! A command line clap rejects (unknown flag, `--timeout bogus`, `--port 99999`, a bad
//! `TILT_PORT`): clap's message, exit 2, and — for `stilt ci` — the reports anyway.
//!
//! CI reads the JUnit file, the JSON report and the step outputs, not the terminal, so a typo
//! in a flag must still produce them. The flags naming those files are found by a lenient scan
//! of argv (the strict parse just failed), then the usual reporter folds a run that failed
//! before it started: the Tiltfile target fails with class `Usage`. `Error: …` is the last line
//! on stderr either way.

use crate::engine::engine_state::{EngineState, TiltfilePhase};
use crate::engine::scheduler::Schedule;
use crate::engine::session_builder::{SessionIdentity, build_session, build_targets};
use crate::event::{Event, Failure, Outcome};
use crate::report::ci_output::{CiConfig, CiOutputArg};
use crate::report::log_stream::LogFilter;
use crate::report::reporter::{ReporterConfig, spawn_reporter};
use chrono::{DateTime, Utc};
use clap::ValueEnum;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;
use stilt_core::{CiSettings, ExitCode, FailureClass, GoDuration, TILTFILE_TARGET, TiltfileError};

/// The report-related flags of a `stilt ci` command line, read without validating anything.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LenientCiArgs {
    /// `-f/--file`.
    pub file: Option<PathBuf>,
    /// `--junit`.
    pub junit: Option<PathBuf>,
    /// `--report-json`.
    pub report_json: Option<PathBuf>,
    /// `--output-snapshot-on-exit`.
    pub snapshot: Option<PathBuf>,
    /// `--log-dir`.
    pub log_dir: Option<PathBuf>,
    /// `--ci-output`, when its value is one stilt knows.
    pub ci_output: Option<CiOutputArg>,
    /// `--mask-env` (repeatable, comma-separated).
    pub mask_env: Vec<String>,
}

impl LenientCiArgs {
    /// Scans `stilt ci …` (`argv[0]` is the program); `None` for any other subcommand.
    /// `--flag value` and `--flag=value` both count, the last one wins, `--` ends the flags.
    pub fn scan(argv: &[OsString]) -> Option<LenientCiArgs> {
        let words: Vec<String> = argv.iter().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
        if words.first().map(String::as_str) != Some("ci") {
            return None;
        }
        let mut out = LenientCiArgs::default();
        let mut i = 1;
        while i < words.len() {
            let a = &words[i];
            if a == "--" {
                break;
            }
            let (name, inline) = match a.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
                _ => (a.as_str(), None),
            };
            let known = matches!(
                name,
                "-f" | "--file"
                    | "--junit"
                    | "--report-json"
                    | "--output-snapshot-on-exit"
                    | "--log-dir"
                    | "--ci-output"
                    | "--mask-env"
            );
            if !known {
                i += 1;
                continue;
            }
            let value = if let Some(v) = inline {
                v
            } else {
                i += 1;
                let Some(v) = words.get(i) else { break };
                v.clone()
            };
            match name {
                "-f" | "--file" => out.file = Some(value.into()),
                "--junit" => out.junit = Some(value.into()),
                "--report-json" => out.report_json = Some(value.into()),
                "--output-snapshot-on-exit" => out.snapshot = Some(value.into()),
                "--log-dir" => out.log_dir = Some(value.into()),
                "--ci-output" => out.ci_output = CiOutputArg::from_str(&value, true).ok(),
                _ => out.mask_env.extend(value.split(',').filter(|v| !v.is_empty()).map(str::to_string)),
            }
            i += 1;
        }
        Some(out)
    }
}

/// The one-line form of clap's error (`unexpected argument '--bogus' found`).
pub fn one_line(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("bad command line");
    first.strip_prefix("error: ").unwrap_or(first).trim().to_string()
}

/// Prints clap's message and returns the exit code: 0 for `--help`/`--version`, else 2 after
/// writing `stilt ci`'s reports (when its flags name them) and `Error: …` as the last line.
pub fn handle(e: &clap::Error, argv: &[OsString], start_time: DateTime<Utc>) -> ExitCode {
    let _ = e.print();
    if !e.use_stderr() {
        return ExitCode::SUCCESS;
    }
    let message = one_line(e);
    match LenientCiArgs::scan(argv) {
        Some(ci) => report(&ci, message, start_time),
        None => eprintln!("Error: {message}"),
    }
    ExitCode::USAGE
}

/// Runs the reporter over a run that failed with `message` before anything started. The
/// reporter prints `Error: <message>` last.
fn report(args: &LenientCiArgs, message: String, start_time: DateTime<Utc>) {
    let tiltfile = super::absolute_tiltfile(args.file.as_deref().unwrap_or_else(|| "Tiltfile".as_ref()));
    let env_ci_output = std::env::var("STILT_CI_OUTPUT").ok().and_then(|v| CiOutputArg::from_str(&v, true).ok());
    let ci_output = args.ci_output.or(env_ci_output).unwrap_or_default();
    let mut mask_env = args.mask_env.clone();
    if mask_env.is_empty()
        && let Ok(v) = std::env::var("STILT_MASK_ENV")
    {
        mask_env.extend(v.split(',').filter(|v| !v.is_empty()).map(str::to_string));
    }
    let cfg = ReporterConfig {
        filter: LogFilter::default(),
        color: false,
        log_dir: args.log_dir.clone(),
        junit: args.junit.clone(),
        report_json: args.report_json.clone(),
        snapshot: args.snapshot.clone(),
        ci: CiConfig::from_args(ci_output, &mask_env),
        live: None,
        mask_env,
    };
    let now = Utc::now();
    // A session with nothing but the failed Tiltfile target, and no timeouts in force.
    let mut state = EngineState::loading(tiltfile.clone(), GoDuration::from_secs(0), start_time, now);
    state.tiltfile = TiltfilePhase::Failed {
        start: now,
        finish: now,
        error: Arc::new(TiltfileError::new(format!("stilt ci did not start: {message}"))),
    };
    state.ci = CiSettings { k8s_grace_period: None, timeout: None, readiness_timeout: None };
    state.max_parallel_updates = 1;
    let identity = SessionIdentity { uid: String::new() };
    let targets = build_targets(&state, &Schedule::default(), now);
    let session = Arc::new(build_session(&state, targets, &identity, 1, true, message.clone()));
    let failure = Failure { message, class: FailureClass::Usage, target: Some(TILTFILE_TARGET.into()) };
    let outcome = Outcome { exit_code: FailureClass::Usage.exit_code(), failure: Some(failure) };
    super::block_on(async move {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let reporter = spawn_reporter(cfg, rx);
        let _ = tx.send(Event::RunFinished { session, outcome });
        drop(tx);
        let _ = reporter.await;
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(words: &[&str]) -> Option<LenientCiArgs> {
        let argv: Vec<OsString> = std::iter::once("stilt").chain(words.iter().copied()).map(OsString::from).collect();
        LenientCiArgs::scan(&argv)
    }

    #[test]
    fn finds_report_flags_in_both_spellings_and_stops_at_the_separator() {
        let a = scan(&[
            "ci",
            "--bogus",
            "--junit",
            "j.xml",
            "--report-json=r.json",
            "-f",
            "deploy/Tiltfile",
            "--ci-output",
            "GitHub",
            "--mask-env",
            "A,B",
            "--",
            "--junit",
            "other.xml",
        ])
        .unwrap();
        assert_eq!(a.junit, Some("j.xml".into()));
        assert_eq!(a.report_json, Some("r.json".into()));
        assert_eq!(a.file, Some("deploy/Tiltfile".into()));
        assert_eq!(a.ci_output, Some(CiOutputArg::Github));
        assert_eq!(a.mask_env, ["A", "B"]);
    }

    #[test]
    fn other_subcommands_and_a_dangling_flag() {
        assert_eq!(scan(&["down", "--junit", "j.xml"]), None);
        assert_eq!(scan(&["ci", "--junit"]), Some(LenientCiArgs::default()));
        assert_eq!(scan(&["ci", "--ci-output", "jenkins"]).unwrap().ci_output, None);
    }
}
