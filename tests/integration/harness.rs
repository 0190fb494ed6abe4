//! A builder that runs `stilt ci` in a fresh temp dir and collects what it produced.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The binary under test.
pub fn stilt_bin() -> &'static str {
    env!("CARGO_BIN_EXE_stilt")
}

/// A `stilt ci` run to set up.
#[must_use]
pub struct Stilt {
    pub dir: TempDir,
    args: Vec<String>,
    env: Vec<(String, String)>,
    reports: bool,
    port_flag: bool,
}

/// What a run produced.
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub dir: PathBuf,
    pub junit: Option<String>,
    pub report: Option<serde_json::Value>,
    _keep: TempDir,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).unwrap();
        }
    }
}

impl Stilt {
    /// A run of `tests/scenarios/<name>`, copied to a temp dir.
    pub fn scenario(name: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios").join(name), dir.path());
        Stilt { dir, args: vec![], env: vec![], reports: true, port_flag: true }
    }

    /// A run of an inline Tiltfile.
    pub fn tiltfile(contents: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Tiltfile"), contents).unwrap();
        Stilt { dir, args: vec![], env: vec![], reports: true, port_flag: true }
    }

    /// Adds a file next to the Tiltfile.
    pub fn file(self, path: &str, contents: &str) -> Self {
        let p = self.dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
        self
    }

    /// Adds arguments after `ci`.
    pub fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|s| (*s).to_string()));
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Don't pass `--port 0` (so `TILT_PORT` applies).
    pub fn no_port_flag(mut self) -> Self {
        self.port_flag = false;
        self
    }

    /// Don't pass the report flags.
    pub fn no_reports(mut self) -> Self {
        self.reports = false;
        self
    }

    fn command(&self) -> Command {
        let mut c = Command::new(stilt_bin());
        c.arg("ci");
        if self.port_flag && !self.args.iter().any(|a| a == "--port") {
            c.args(["--port", "0"]);
        }
        if self.reports {
            let out = self.dir.path().join("out");
            c.arg("--junit").arg(out.join("junit.xml"));
            c.arg("--report-json").arg(out.join("report.json"));
            c.arg("--log-dir").arg(out.join("logs"));
        }
        c.args(&self.args).current_dir(self.dir.path()).env("NO_COLOR", "1").env_remove("TILT_PORT");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    /// Starts the run in the background.
    pub fn spawn(&self) -> Child {
        self.command().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()
    }

    /// Runs to completion (killing it after 120 s).
    pub fn run(self) -> Output {
        let child = self.spawn();
        self.collect(child)
    }

    /// Waits for a spawned run and collects its output.
    pub fn collect(self, mut child: Child) -> Output {
        let start = Instant::now();
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if start.elapsed() > Duration::from_secs(120) {
                child.kill().unwrap();
                panic!("stilt did not finish within 120 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        let dir = self.dir.path().to_path_buf();
        let junit = std::fs::read_to_string(dir.join("out/junit.xml")).ok();
        let report =
            std::fs::read_to_string(dir.join("out/report.json")).ok().map(|s| serde_json::from_str(&s).unwrap());
        Output {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            dir,
            junit,
            report,
            _keep: self.dir,
        }
    }
}

impl Output {
    /// Asserts the exit code, printing the output when it is wrong.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "exit code\n--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr);
        self
    }

    /// The parsed JUnit report (must exist and parse).
    pub fn junit(&self) -> quick_junit::Report {
        let xml = self.junit.as_deref().expect("JUnit report was not written");
        quick_junit::Report::deserialize_from_str(xml).expect("JUnit report parses")
    }

    /// The JSON report (must exist).
    pub fn report(&self) -> &serde_json::Value {
        self.report.as_ref().expect("JSON report was not written")
    }

    /// The test case for a target.
    pub fn case(&self, name: &str) -> quick_junit::TestCase {
        self.junit().test_suites[0]
            .test_cases
            .iter()
            .find(|c| c.name.as_str() == name)
            .unwrap_or_else(|| panic!("no testcase {name}"))
            .clone()
    }

    /// The session target state JSON.
    pub fn target_state(&self, name: &str) -> serde_json::Value {
        self.report()["status"]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no target {name}"))["state"]
            .clone()
    }

    /// A target's entry in the JSON report's `stilt.targets`.
    pub fn stilt_target(&self, name: &str) -> &serde_json::Value {
        self.report()["stilt"]["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap_or_else(|| panic!("no target {name} in stilt.targets"))
    }

    /// A resource's log file.
    pub fn log_file(&self, resource: &str) -> String {
        std::fs::read_to_string(self.dir.join("out/logs").join(format!("{resource}.log"))).unwrap()
    }
}

/// Whether a pid is alive and not a zombie.
pub fn pid_alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit_once(')').is_some_and(|(_, r)| r.split_whitespace().next() != Some("Z")))
}

/// Waits up to `secs` for a file to exist with content.
pub fn wait_for_file(path: &Path, secs: u64) -> String {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.trim().is_empty()
        {
            return s;
        }
        assert!(start.elapsed() < Duration::from_secs(secs), "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Convenience checks on JUnit statuses.
pub trait StatusExt {
    fn is_skipped_case(&self) -> bool;
    fn is_success_case(&self) -> bool;
}

impl StatusExt for quick_junit::TestCaseStatus {
    fn is_skipped_case(&self) -> bool {
        matches!(self, quick_junit::TestCaseStatus::Skipped { .. })
    }
    fn is_success_case(&self) -> bool {
        matches!(self, quick_junit::TestCaseStatus::Success { .. })
    }
}
