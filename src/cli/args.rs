//! The clap argument tree. Flag names and defaults follow `tilt ci` (§1.1 of the spec), plus
//! stilt's report flags.

use crate::report::ci_output::CiOutputArg;
use crate::report::log_stream::{LevelFilter, SourceFilter};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use stilt_core::GoDuration;

/// stilt: run a Tiltfile in CI the way `tilt ci` does, with reports CI systems understand.
#[derive(Debug, Parser)]
#[command(name = "stilt", version, about, after_help = exit_code_help())]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

fn exit_code_help() -> String {
    let mut s = String::from("Exit codes:\n");
    for (code, what) in stilt_core::ExitCode::TABLE {
        s.push_str(&format!("  {:>3}  {what}\n", code.0));
    }
    s
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Tiltfile until every resource is healthy (exit 0) or something fails.
    Ci(CiArgs),
    /// Remove what `stilt ci` left running: docker-compose containers, networks (and volumes).
    Down(crate::cli::down_command::DownArgs),
    /// Print API objects of a running `stilt ci` (like `tilt get`).
    Get {
        /// The object kind.
        #[command(subcommand)]
        what: GetWhat,
    },
    /// Describe API objects of a running `stilt ci` (like `tilt describe`).
    Describe {
        /// The object kind.
        #[command(subcommand)]
        what: GetWhat,
    },
    /// Experimental commands (like `tilt alpha`).
    Alpha {
        /// The command.
        #[command(subcommand)]
        what: AlphaCommand,
    },
    /// Print the version.
    Version,
}

/// `stilt alpha ...`.
#[derive(Debug, Subcommand)]
pub enum AlphaCommand {
    /// Evaluate the Tiltfile without building or deploying anything and print the result as
    /// JSON (docs/tiltfile-result.md). Exit 0 when it loads, 5 when it fails.
    TiltfileResult(super::tiltfile_result::TiltfileResultArgs),
}

/// Object kinds for `get` / `describe`.
#[derive(Debug, Subcommand)]
pub enum GetWhat {
    /// The Session object.
    #[command(alias = "sessions")]
    Session(GetArgs),
}

/// Output format for `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// JSON, like kubectl.
    Json,
    /// YAML.
    Yaml,
}

/// `stilt get session [NAME] -o json|yaml [--port N]`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// Object name (the one Session is `Tiltfile`); omit for a List.
    pub name: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "json")]
    pub output: OutputFormat,
    /// Port of the running stilt.
    #[arg(long, env = "TILT_PORT", default_value_t = 10350)]
    pub port: u16,
    /// Host of the running stilt.
    #[arg(long, env = "TILT_HOST", default_value = "localhost")]
    pub host: String,
}

/// `stilt ci` flags.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// Path to the Tiltfile.
    #[arg(short = 'f', long = "file", default_value = "Tiltfile")]
    pub file: PathBuf,
    /// Timeout for the whole run (Go duration, e.g. 30m, 90s; 0 disables; negative is an
    /// error). A Tiltfile's `ci_settings(timeout=...)` overrides it, as in Tilt.
    #[arg(long, default_value = "30m", value_parser = parse_timeout, allow_hyphen_values = true)]
    pub timeout: GoDuration,
    /// Port for the status API (0 disables).
    #[arg(long, env = "TILT_PORT", default_value_t = 10350, allow_hyphen_values = true)]
    pub port: u16,
    /// Host for the status API (`localhost` binds 127.0.0.1).
    #[arg(long, env = "TILT_HOST", default_value = "localhost")]
    pub host: String,
    /// Kubernetes context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// Default Kubernetes namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Write a JUnit XML report here (also on failure, timeout and signals).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the JSON report (Session object + `stilt` section) here.
    #[arg(long = "report-json", value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Write Tilt's webview snapshot here (`tilt snapshot view FILE` opens it).
    #[arg(long = "output-snapshot-on-exit", value_name = "FILE")]
    pub output_snapshot_on_exit: Option<PathBuf>,
    /// Write one log file per resource into this directory.
    #[arg(long = "log-dir", value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Only print logs of these resources (repeatable).
    #[arg(long = "log-resource", value_name = "R")]
    pub log_resource: Vec<String>,
    /// Only print build or runtime logs.
    #[arg(long = "log-source", value_enum, default_value = "all")]
    pub log_source: SourceFilter,
    /// Only print lines of this level.
    #[arg(long = "log-level", value_enum)]
    pub log_level: Option<LevelFilter>,
    /// CI-native output: step summary, annotations, groups/sections, outputs (docs/ci.md).
    /// `auto` detects GITHUB_ACTIONS, GITLAB_CI and CIRCLECI.
    #[arg(long = "ci-output", value_enum, env = "STILT_CI_OUTPUT", default_value = "auto")]
    pub ci_output: CiOutputArg,
    /// Mask the value of this environment variable in CI output (repeatable, or comma-separated
    /// in STILT_MASK_ENV); on GitHub also announced with `::add-mask::` first.
    #[arg(long = "mask-env", value_name = "VAR", env = "STILT_MASK_ENV", value_delimiter = ',')]
    pub mask_env: Vec<String>,
    /// Deploy, instead of building, the image an earlier build with the same inputs left
    /// (tagged `<name>:stilt-in-<digest>`); docs/images.md says what counts as an input.
    #[arg(long = "reuse-images", env = "STILT_REUSE_IMAGES", value_parser = clap::builder::BoolishValueParser::new())]
    pub reuse_images: bool,
    /// Tiltfile arguments, as `tilt ci` takes them: bare words (resource names for the default
    /// `config.parse()`) anywhere, and everything after `--` (flags for the Tiltfile's own
    /// `config.define_*`). A word starting with `-` before `--` is one of stilt's flags, so an
    /// unknown one is a usage error (exit 2) instead of a resource name.
    #[arg(value_name = "TILTFILE_ARGS")]
    pub tiltfile_args: Vec<String>,
}

/// `--timeout`: a Go duration that is not negative (`0` disables the timeout). Go and Tilt
/// accept `-1s` and then silently run without a timeout; stilt refuses it (README).
pub(crate) fn parse_timeout(s: &str) -> Result<GoDuration, String> {
    let d = GoDuration::parse(s).map_err(|e| e.to_string())?;
    if d.as_nanos() < 0 {
        return Err(format!("negative duration {s:?}: use 0 to disable the timeout"));
    }
    Ok(d)
}
