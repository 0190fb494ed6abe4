//! `stilt ci`'s configuration, made once from the command line and the environment before any
//! work starts (the model is just's `Config::from_arguments`): the run then reads plain fields
//! instead of flags, and nothing later re-derives a default or re-reads the environment.

use super::args::CiArgs;
use crate::report::log_stream::LogFilter;
use crate::report::reporter::ReporterConfig;
use chrono::{DateTime, Utc};
use std::io::IsTerminal;
use std::path::PathBuf;
use stilt_core::GoDuration;

/// Where the status API listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusApi {
    /// `--host` (`localhost` binds 127.0.0.1).
    pub host: String,
    /// `--port`, never 0.
    pub port: u16,
}

/// Everything a `stilt ci` run is told.
#[derive(Debug, Clone)]
pub struct CiConfig {
    /// The Tiltfile, absolute.
    pub tiltfile: PathBuf,
    /// `--timeout` (a Tiltfile's `ci_settings(timeout=)` overrides it); `0s` disables it.
    pub timeout: GoDuration,
    /// The status API; `None` for `--port 0`.
    pub status_api: Option<StatusApi>,
    /// `--context`.
    pub context: Option<String>,
    /// `--namespace`.
    pub namespace: Option<String>,
    /// Arguments after `--`, for `config.parse()`.
    pub tiltfile_args: Vec<String>,
    /// ANSI colour on the terminal.
    pub color: bool,
    /// Terminal filter, report files and CI output.
    pub reporter: ReporterConfig,
    /// When the process started: the global timeout counts from here.
    pub start_time: DateTime<Utc>,
    /// `--reuse-images`: deploy the image of unchanged build inputs instead of building it.
    pub reuse_images: bool,
}

impl CiConfig {
    /// The configuration of `args` (already checked by clap: durations, ports, enums) for a
    /// process that started at `start_time`. Reads the environment once: colour (`TERM`,
    /// `NO_COLOR`, a TTY), the CI system and the masked variables.
    pub fn from_arguments(args: CiArgs, start_time: DateTime<Utc>) -> CiConfig {
        let color = use_color();
        let reporter = ReporterConfig {
            filter: LogFilter { resources: args.log_resource, source: args.log_source, level: args.log_level },
            color,
            log_dir: args.log_dir,
            junit: args.junit,
            report_json: args.report_json,
            snapshot: args.output_snapshot_on_exit,
            ci: crate::report::ci_output::CiConfig::from_args(args.ci_output, &args.mask_env),
            live: None,
            mask_env: args.mask_env,
        };
        CiConfig {
            tiltfile: super::absolute_tiltfile(&args.file),
            timeout: args.timeout,
            status_api: (args.port != 0).then_some(StatusApi { host: args.host, port: args.port }),
            context: args.context,
            namespace: args.namespace,
            tiltfile_args: args.tiltfile_args,
            color,
            reporter,
            start_time,
            reuse_images: args.reuse_images,
        }
    }
}

/// Whether to colour the terminal output (TTY, `TERM` not `dumb`, no `NO_COLOR`).
pub fn use_color() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
        && std::env::var_os("NO_COLOR").is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::args::{Cli, Command};
    use clap::Parser;

    fn config(flags: &[&str]) -> CiConfig {
        let cli = Cli::try_parse_from([&["stilt", "ci"], flags].concat()).unwrap();
        let Command::Ci(args) = cli.command else { panic!("not ci") };
        CiConfig::from_arguments(args, "2026-08-08T19:20:00Z".parse().unwrap())
    }

    #[test]
    fn flags_become_plain_fields() {
        let c = config(&["--port", "0", "-f", "sub/Tiltfile", "--timeout", "90s", "--junit", "j.xml", "--", "a"]);
        assert_eq!(c.status_api, None, "--port 0 disables the status API");
        assert!(c.tiltfile.is_absolute() && c.tiltfile.ends_with("sub/Tiltfile"), "{}", c.tiltfile.display());
        assert_eq!(c.timeout, GoDuration::from_secs(90));
        assert_eq!(c.reporter.junit.as_deref(), Some(std::path::Path::new("j.xml")));
        assert_eq!(c.tiltfile_args, ["a"]);
        let c = config(&["--port", "10399", "--host", "127.0.0.1"]);
        assert_eq!(c.status_api, Some(StatusApi { host: "127.0.0.1".into(), port: 10399 }));
        assert_eq!(c.timeout, GoDuration::from_secs(30 * 60), "tilt ci's default");
    }
}
