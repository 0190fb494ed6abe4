//! Every exit code stilt can return, in one place (README's table is generated from the same
//! list by hand: keep them in sync).
//!
//! `tilt ci` exits 1 for every failure; stilt keeps 0/1 for success/resource failure so scripts
//! that test `$? -ne 0` keep working, and gives the other classes their own codes so CI can tell
//! a broken Tiltfile from a broken service from a slow one.

use crate::target_id::TargetId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A process exit code with a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ExitCode(pub i32);

impl ExitCode {
    /// All workloads became healthy.
    pub const SUCCESS: ExitCode = ExitCode(0);
    /// A resource failed: a `cmd` exited non-zero, a `serve_cmd` exited, a build or deploy
    /// failed, a workload crashed. Also a run whose workloads passed but whose report (JUnit,
    /// JSON, log directory, CI summary) could not be written: CI would otherwise read a missing
    /// report as a pass.
    pub const RESOURCE_FAILED: ExitCode = ExitCode(1);
    /// Bad command line or configuration (unknown flag, bad `--timeout`, bad `TILT_PORT`).
    pub const USAGE: ExitCode = ExitCode(2);
    /// The global `--timeout`/`ci_settings(timeout=)` or the readiness timeout ran out.
    pub const TIMEOUT: ExitCode = ExitCode(3);
    /// The environment stilt needs is unusable: status port already in use, Docker daemon or
    /// cluster unreachable.
    pub const ENVIRONMENT: ExitCode = ExitCode(4);
    /// The Tiltfile failed to load (not found, syntax error, runtime error, `fail()`, bad
    /// arguments). Same code as `tilt alpha tiltfile-result`.
    pub const TILTFILE: ExitCode = ExitCode(5);
    /// Interrupted by SIGINT (128 + 2).
    pub const SIGINT: ExitCode = ExitCode(130);
    /// Terminated by SIGTERM (128 + 15).
    pub const SIGTERM: ExitCode = ExitCode(143);

    /// Every documented code with its meaning, for `--help` and the README.
    pub const TABLE: [(ExitCode, &'static str); 8] = [
        (ExitCode::SUCCESS, "all resources healthy"),
        (
            ExitCode::RESOURCE_FAILED,
            "a resource failed (cmd, serve_cmd, build, deploy, runtime) or a report could not be written",
        ),
        (ExitCode::USAGE, "bad command line or configuration"),
        (ExitCode::TIMEOUT, "global timeout or readiness timeout"),
        (ExitCode::ENVIRONMENT, "environment unusable (port in use, daemon/cluster unreachable)"),
        (ExitCode::TILTFILE, "Tiltfile failed to load"),
        (ExitCode::SIGINT, "interrupted (SIGINT)"),
        (ExitCode::SIGTERM, "terminated (SIGTERM)"),
    ];
}

impl fmt::Display for ExitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Why a run (or one target) failed. Used as the JUnit failure `type`, in the JSON report and
/// to pick the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FailureClass {
    /// The Tiltfile did not load.
    TiltfileError,
    /// An update (`cmd`, image build, apply) failed.
    UpdateFailed,
    /// A `serve_cmd` exited.
    ServeExited,
    /// A runtime target (pod, container) is in an error state.
    RuntimeError,
    /// A k8s runtime error outlived `k8s_grace_period`.
    GraceExceeded,
    /// A server target stayed not-ready longer than the readiness timeout.
    ReadinessTimeout,
    /// The whole run exceeded its timeout.
    GlobalTimeout,
    /// The status port, Docker daemon or cluster was unusable.
    Environment,
    /// SIGINT.
    Interrupted,
    /// SIGTERM.
    Terminated,
    /// Bad flags or configuration.
    Usage,
    /// The workloads passed but a report (JUnit, JSON, log directory, CI summary) could not be
    /// written.
    ReportFailed,
}

impl FailureClass {
    /// The exit code for a run that failed this way.
    pub fn exit_code(self) -> ExitCode {
        match self {
            FailureClass::TiltfileError => ExitCode::TILTFILE,
            FailureClass::UpdateFailed
            | FailureClass::ServeExited
            | FailureClass::RuntimeError
            | FailureClass::GraceExceeded
            | FailureClass::ReportFailed => ExitCode::RESOURCE_FAILED,
            FailureClass::ReadinessTimeout | FailureClass::GlobalTimeout => ExitCode::TIMEOUT,
            FailureClass::Environment => ExitCode::ENVIRONMENT,
            FailureClass::Interrupted => ExitCode::SIGINT,
            FailureClass::Terminated => ExitCode::SIGTERM,
            FailureClass::Usage => ExitCode::USAGE,
        }
    }

    /// The name used in reports (`UpdateFailed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::TiltfileError => "TiltfileError",
            FailureClass::UpdateFailed => "UpdateFailed",
            FailureClass::ServeExited => "ServeExited",
            FailureClass::RuntimeError => "RuntimeError",
            FailureClass::GraceExceeded => "GraceExceeded",
            FailureClass::ReadinessTimeout => "ReadinessTimeout",
            FailureClass::GlobalTimeout => "GlobalTimeout",
            FailureClass::Environment => "Environment",
            FailureClass::Interrupted => "Interrupted",
            FailureClass::Terminated => "Terminated",
            FailureClass::Usage => "Usage",
            FailureClass::ReportFailed => "ReportFailed",
        }
    }

    /// The class of a failed target, from its Session name ([`TargetId::failure_class`]; a
    /// name that is no target's is a runtime error).
    pub fn of_target(name: &str) -> FailureClass {
        TargetId::parse(name).map_or(FailureClass::RuntimeError, |id| id.failure_class())
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
