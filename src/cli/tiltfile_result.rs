//! `stilt alpha tiltfile-result [-f FILE] [--timing] [-- ARGS]`: evaluate the Tiltfile as data
//! (nothing is built, deployed or started) and print the result as JSON on stdout.
//!
//! The JSON is documented in `docs/tiltfile-result.md`: the `TiltfileResult` model minus the
//! process environment, under `apiVersion`/`kind`, with sorted keys, so the same Tiltfile and
//! files give byte-identical output. The Tiltfile log goes to stderr. A Tiltfile that fails to
//! load prints Tilt's error (traceback, then `Error in <builtin>: <message>`) on stderr and
//! exits 5.

use clap::Args;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use stilt_core::{ExitCode, TiltfileResult};
use stilt_tiltfile::{EvalMode, EvalOptions, LogLevel};

/// `stilt alpha tiltfile-result` flags.
#[derive(Debug, Args)]
pub struct TiltfileResultArgs {
    /// Path to the Tiltfile.
    #[arg(short = 'f', long = "file", default_value = "Tiltfile")]
    pub file: PathBuf,
    /// Print load time (total, and without `local()`/helm/kustomize subprocesses) on stderr.
    #[arg(long)]
    pub timing: bool,
    /// Tiltfile arguments as `stilt ci` takes them: bare words, and everything after `--`.
    #[arg(value_name = "TILTFILE_ARGS")]
    pub tiltfile_args: Vec<String>,
}

/// The stable JSON document for a result.
pub fn to_json(result: &TiltfileResult) -> serde_json::Value {
    let mut v = serde_json::to_value(result).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.remove("environment");
        m.insert("apiVersion".into(), "stilt.dev/v1alpha1".into());
        m.insert("kind".into(), "TiltfileResult".into());
    }
    v
}

/// Options to evaluate the Tiltfile `file` as data (nothing is built or started), its log on
/// stderr; `stilt alpha tiltfile-result` and `stilt down` evaluate this way.
pub fn data_eval_options(file: &Path, args: Vec<String>, subcommand: &str) -> EvalOptions {
    EvalOptions {
        tiltfile: super::absolute_tiltfile(file),
        args,
        subcommand: subcommand.into(),
        env: std::env::vars().collect(),
        log: Arc::new(|level, line: &str| {
            let mut err = std::io::stderr().lock();
            let _ = match level {
                LogLevel::Info => writeln!(err, "{line}"),
                LogLevel::Warn => writeln!(err, "WARNING: {line}"),
            };
        }),
        on_spawn: None,
        mode: EvalMode::ResultOnly,
        kube_context: None,
        kube_namespace: None,
        cancel: stilt_tiltfile::CancelFlag::default(),
    }
}

/// Runs the command.
pub fn run(args: &TiltfileResultArgs) -> ExitCode {
    let opts = data_eval_options(&args.file, args.tiltfile_args.clone(), "tiltfile-result");
    let (result, stats) = stilt_tiltfile::evaluate_with_stats(opts);
    if args.timing {
        let own = stats.total.saturating_sub(stats.subprocess_time);
        eprintln!(
            "timing: total {:.3} ms, subprocesses {:.3} ms, load without subprocesses {:.3} ms",
            stats.total.as_secs_f64() * 1e3,
            stats.subprocess_time.as_secs_f64() * 1e3,
            own.as_secs_f64() * 1e3
        );
    }
    match result {
        Ok(r) => {
            let mut text = serde_json::to_string_pretty(&to_json(&r)).unwrap_or_default();
            text.push('\n');
            let mut out = std::io::stdout().lock();
            if out.write_all(text.as_bytes()).and_then(|()| out.flush()).is_err() {
                return ExitCode::RESOURCE_FAILED;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::TILTFILE
        }
    }
}
