//! The CI wrappers, executed locally against the real `stilt`:
//!
//! - `action.yml` run step by step the way the GitHub runner runs a composite action (inputs and
//!   defaults, `${{ }}` expressions, per-step `GITHUB_OUTPUT`/`GITHUB_STEP_SUMMARY` files,
//!   `if:` conditions, `bash -eo pipefail`); `uses:` steps (actions/upload-artifact) are recorded,
//!   not run. The summary, annotations and outputs of a passing and a failing run are goldens.
//! - `ci-templates/install.sh` against a `file://` "release" (checksum verified), a fake cargo
//!   (the fallback) and bad platforms/versions.
//! - the CircleCI orb's `run-ci` command and the GitLab template's scripts, run with the
//!   shells those systems use.
//!
//! Update the goldens with `INSTA_UPDATE=always cargo test --test integration ci_action` and review.

use crate::harness::stilt_bin;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

pub fn yaml(rel: &str) -> Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap();
    serde_saphyr::from_str::<Value>(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Every document of a multi-document YAML file (`---` lines between them).
pub fn yaml_documents(rel: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(Path::new(ROOT).join(rel)).unwrap();
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line == "---" {
            docs.push(String::new());
        } else {
            let d = docs.last_mut().unwrap();
            d.push_str(line);
            d.push('\n');
        }
    }
    docs.iter()
        .filter(|d| d.lines().any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')))
        .map(|d| serde_saphyr::from_str::<Value>(d).unwrap_or_else(|e| panic!("{rel}: {e}")))
        .collect()
}

fn str_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// A copy of `tests/scenarios/<name>` as a fresh workspace.
pub fn workspace(scenario: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = Path::new(ROOT).join("tests/scenarios").join(scenario);
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    dir
}

/// `key=value` and `key<<DELIM … DELIM` lines of a `GITHUB_OUTPUT` file (later keys win).
pub fn parse_outputs(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(l) = lines.next() {
        if let Some((k, delim)) = l.split_once("<<") {
            let mut v = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                v.push(l);
            }
            out.insert(k.to_string(), v.join("\n"));
        } else if let Some((k, v)) = l.split_once('=') {
            out.insert(k.to_string(), v.to_string());
        }
    }
    out
}

/// One step as the emulated runner saw it.
#[derive(Debug, Default)]
pub struct StepRun {
    pub id: String,
    pub ran: bool,
    pub uses: Option<String>,
    pub with: BTreeMap<String, String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub outputs: BTreeMap<String, String>,
    pub summary: String,
}

/// The whole action run.
pub struct ActionRun {
    pub steps: Vec<StepRun>,
    pub outputs: BTreeMap<String, String>,
    /// The first failing step's exit code (the action's), 0 if none failed.
    pub code: i32,
}

impl ActionRun {
    pub fn step(&self, id: &str) -> &StepRun {
        self.steps.iter().find(|s| s.id == id).unwrap_or_else(|| panic!("no step {id}"))
    }
    pub fn stdout(&self) -> String {
        self.steps.iter().map(|s| s.stdout.as_str()).collect()
    }
    pub fn stderr(&self) -> String {
        self.steps.iter().map(|s| s.stderr.as_str()).collect()
    }
    /// Lines the runner would treat as workflow commands.
    pub fn commands(&self) -> Vec<String> {
        self.stdout().lines().filter(|l| l.starts_with("::")).map(str::to_string).collect()
    }
    pub fn errors(&self) -> Vec<String> {
        self.commands().into_iter().filter(|l| l.starts_with("::error")).collect()
    }
}

/// A local stand-in for the GitHub runner executing `action.yml`.
pub struct ActionRunner {
    action: Value,
    inputs: BTreeMap<String, String>,
    env: BTreeMap<String, String>,
    workspace: PathBuf,
    tmp: TempDir,
}

struct Ctx<'a> {
    inputs: &'a BTreeMap<String, String>,
    steps: &'a [StepRun],
}

impl Ctx<'_> {
    fn value(&self, expr: &str) -> String {
        let e = expr.trim();
        if let Some(lit) = e.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
            return lit.to_string();
        }
        if let Some(name) = e.strip_prefix("inputs.") {
            return self.inputs.get(name).cloned().unwrap_or_else(|| panic!("undeclared input {name}"));
        }
        if let Some(rest) = e.strip_prefix("steps.") {
            let (id, out) = rest.split_once(".outputs.").unwrap_or_else(|| panic!("unsupported expression {e}"));
            return self
                .steps
                .iter()
                .find(|s| s.id == id)
                .and_then(|s| s.outputs.get(out).cloned())
                .unwrap_or_default();
        }
        match e {
            // `uses: ./` in a workflow of this repository: no ref, no repository
            "github.action_ref" | "github.action_repository" | "github.token" => String::new(),
            _ => panic!("the emulated runner does not support the expression `{e}`"),
        }
    }

    fn interpolate(&self, s: &str) -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${{") {
            out.push_str(&rest[..i]);
            let end = rest[i..].find("}}").expect("unclosed ${{") + i;
            out.push_str(&self.value(&rest[i + 3..end]));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// `if:` with `&&`, `==`, `!=`, `always()`, `success()`, `failure()`; implicitly
    /// `success() && …` without a status function, as on GitHub.
    fn condition(&self, cond: Option<&str>, failed: bool) -> bool {
        let Some(cond) = cond else { return !failed };
        let cond = cond.trim().trim_start_matches("${{").trim_end_matches("}}");
        assert!(!cond.contains("||"), "the emulated runner does not support `||`: {cond}");
        let mut status = None;
        let mut all = true;
        for term in cond.split("&&").map(str::trim) {
            let v = match term {
                "always()" => {
                    status = Some(true);
                    true
                }
                "success()" => {
                    status = Some(!failed);
                    !failed
                }
                "failure()" => {
                    status = Some(failed);
                    failed
                }
                t if t.contains("!=") => {
                    let (a, b) = t.split_once("!=").unwrap();
                    self.value(a) != self.value(b)
                }
                t if t.contains("==") => {
                    let (a, b) = t.split_once("==").unwrap();
                    self.value(a) == self.value(b)
                }
                t => !self.value(t).is_empty(),
            };
            all &= v;
        }
        if status.is_none() { !failed && all } else { all }
    }
}

impl ActionRunner {
    /// The action in this repository, run in `workspace`, with the test binary as `STILT_BIN`.
    pub fn new(workspace: &Path) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let mut env = BTreeMap::new();
        env.insert("STILT_BIN".to_string(), stilt_bin().to_string());
        // no status API: tests run in parallel and must not race for port 10350
        env.insert("TILT_PORT".to_string(), "0".to_string());
        ActionRunner { action: yaml("action.yml"), inputs: BTreeMap::new(), env, workspace: workspace.into(), tmp }
    }

    pub fn input(mut self, k: &str, v: &str) -> Self {
        assert!(self.action["inputs"].get(k).is_some(), "action.yml has no input {k}");
        self.inputs.insert(k.into(), v.into());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.insert(k.into(), v.into());
        self
    }

    pub fn without_env(mut self, k: &str) -> Self {
        self.env.remove(k);
        self
    }

    pub fn run(self) -> ActionRun {
        let mut inputs = BTreeMap::new();
        for (k, spec) in self.action["inputs"].as_object().unwrap() {
            let v = self.inputs.get(k).cloned().unwrap_or_else(|| str_of(&spec["default"]));
            inputs.insert(k.clone(), v);
        }
        let tmp = self.tmp.path();
        let home = tmp.join("home");
        std::fs::create_dir_all(&home).unwrap();
        let mut steps: Vec<StepRun> = Vec::new();
        let mut code = 0;
        for (i, step) in self.action["runs"]["steps"].as_array().unwrap().iter().enumerate() {
            let id = step["id"].as_str().map_or_else(|| format!("step{i}"), str::to_string);
            let ctx = Ctx { inputs: &inputs, steps: &steps };
            let mut run = StepRun { id, ..StepRun::default() };
            if !ctx.condition(step["if"].as_str(), code != 0) {
                steps.push(run);
                continue;
            }
            if let Some(uses) = step["uses"].as_str() {
                run.uses = Some(uses.to_string());
                for (k, v) in step["with"].as_object().into_iter().flatten() {
                    run.with.insert(k.clone(), ctx.interpolate(&str_of(v)));
                }
                run.ran = true;
                steps.push(run);
                continue;
            }
            assert_eq!(step["shell"], "bash", "every run step sets shell: bash");
            let script = tmp.join(format!("step{i}.sh"));
            std::fs::write(&script, step["run"].as_str().unwrap()).unwrap();
            let output = tmp.join(format!("output{i}"));
            let summary = tmp.join(format!("summary{i}"));
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"]).arg(&script);
            cmd.env_clear()
                .env("PATH", std::env::var("PATH").unwrap())
                .env("HOME", &home)
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_ACTION_PATH", ROOT)
                .env("GITHUB_WORKSPACE", &self.workspace)
                .env("GITHUB_OUTPUT", &output)
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("GITHUB_PATH", tmp.join("path"))
                .env("GITHUB_ENV", tmp.join("env"))
                .env("GITHUB_SERVER_URL", "https://github.com")
                .env("GITHUB_REPOSITORY", "acme/shop")
                .env("GITHUB_RUN_ID", "4242")
                .env("GITHUB_JOB", "test")
                .env("RUNNER_OS", "Linux")
                .env("RUNNER_ARCH", "X64")
                .env("RUNNER_TEMP", tmp)
                .env("RUNNER_TOOL_CACHE", tmp.join("toolcache"))
                .env("NO_COLOR", "1");
            cmd.envs(&self.env);
            for (k, v) in step["env"].as_object().into_iter().flatten() {
                cmd.env(k, ctx.interpolate(&str_of(v)));
            }
            cmd.current_dir(&self.workspace).stdin(Stdio::null());
            let out = cmd.output().unwrap();
            run.ran = true;
            run.code = out.status.code().unwrap_or(-1);
            run.stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            run.stderr = String::from_utf8_lossy(&out.stderr).into_owned();
            run.outputs = parse_outputs(&std::fs::read_to_string(&output).unwrap_or_default());
            run.summary = std::fs::read_to_string(&summary).unwrap_or_default();
            if run.code != 0 && code == 0 {
                code = run.code;
            }
            steps.push(run);
        }
        let ctx = Ctx { inputs: &inputs, steps: &steps };
        let outputs = self.action["outputs"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), ctx.interpolate(v["value"].as_str().unwrap())))
            .collect();
        ActionRun { steps, outputs, code }
    }
}

/// Replaces durations (`0.1s`, `12.3s`, `2m05s`, `1h02m`, `48.5ms`) with `[DUR]`.
pub fn redact_durations(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    let digits = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        j
    };
    while i < b.len() {
        let starts = b[i].is_ascii_digit() && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'.'));
        if starts {
            let mut j = digits(i);
            if j < b.len() && b[j] == b'.' && j + 1 < b.len() && b[j + 1].is_ascii_digit() {
                j = digits(j + 1);
            }
            let unit_end = if s[j..].starts_with("ms") {
                Some(j + 2)
            } else if s[j..].starts_with('s') {
                Some(j + 1)
            } else if (s[j..].starts_with('m') || s[j..].starts_with('h'))
                && j + 3 < b.len()
                && b[j + 1].is_ascii_digit()
                && b[j + 2].is_ascii_digit()
                && matches!(b[j + 3], b's' | b'm')
            {
                Some(j + 4)
            } else {
                None
            };
            if let Some(e) = unit_end.filter(|&e| e == b.len() || !b[e].is_ascii_alphanumeric()) {
                out.push_str("[DUR]");
                i = e;
                continue;
            }
            out.push_str(&s[i..j]);
            i = j;
            continue;
        }
        let ch = s[i..].chars().next().unwrap();
        out.push(ch);
        i += ch.len_utf8();
    }
    out
}

/// Paths and times out of a text, for goldens.
pub fn redact(s: &str, dir: &Path) -> String {
    let canon = dir.canonicalize().unwrap().display().to_string();
    let raw = dir.display().to_string();
    let mut s = s.replace(&canon, "[WS]").replace(&raw, "[WS]");
    // the random `::stop-commands::` token
    if let Some(i) = s.find("::stop-commands::") {
        let token: String = s[i + 17..].chars().take_while(char::is_ascii_alphanumeric).collect();
        if !token.is_empty() {
            s = s.replace(&token, "[TOKEN]");
        }
    }
    redact_durations(&s)
}

#[test]
fn duration_redaction() {
    assert_eq!(
        redact_durations("in 0.1s · 12.3s | 2m05s x 1h02m (48.5ms) 0042 failed v0.1.0 abc1s"),
        "in [DUR] · [DUR] | [DUR] x [DUR] ([DUR]) 0042 failed v0.1.0 abc1s"
    );
}

fn golden(run: &ActionRun, ws: &Path, name: &str) {
    let r = |s: &str| redact(s, ws);
    insta::assert_snapshot!(format!("{name}_summary"), r(&run.step("run").summary));
    insta::assert_snapshot!(format!("{name}_commands"), r(&run.commands().join("\n")));
    let mut outs = String::from("# action outputs\n");
    for (k, v) in &run.outputs {
        outs.push_str(&format!("{k}={v}\n"));
    }
    outs.push_str("# run step outputs\n");
    for (k, v) in &run.step("run").outputs {
        outs.push_str(&format!("{k}={v}\n"));
    }
    let upload = run.step("upload");
    outs.push_str(&format!("# upload step: ran={} uses={:?}\n", upload.ran, upload.uses));
    for (k, v) in &upload.with {
        outs.push_str(&format!("{k}={v}\n"));
    }
    insta::assert_snapshot!(format!("{name}_outputs"), r(&outs));
}

#[test]
fn action_on_a_passing_run() {
    let ws = workspace("pass");
    let run = ActionRunner::new(ws.path()).input("timeout", "2m").run();
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout(), run.stderr());
    assert_eq!(run.outputs["result"], "success");
    assert_eq!(run.outputs["exit-code"], "0");
    assert!(run.errors().is_empty(), "{:?}", run.errors());
    assert!(ws.path().join("stilt-reports/junit.xml").is_file());
    assert!(run.step("upload").ran, "artifacts are uploaded by default");
    assert!(!run.step("link").ran, "no artifact URL without a real upload");
    golden(&run, ws.path(), "action_pass");
}

#[test]
fn action_on_a_failing_run_exits_with_stilts_code() {
    let ws = workspace("fail");
    let run = ActionRunner::new(ws.path()).input("junit-path", "out/junit.xml").run();
    assert_eq!(run.code, 1, "stdout:\n{}\nstderr:\n{}", run.stdout(), run.stderr());
    assert_eq!(run.step("run").code, 1);
    assert_eq!(run.outputs["result"], "failure");
    assert_eq!(run.outputs["exit-code"], "1");
    assert_eq!(run.outputs["failed-resources"], "migrate");
    assert!(run.outputs["junit-path"].ends_with("/out/junit.xml"));
    assert_eq!(run.errors().len(), 1, "one annotation for the one failed target");
    let upload = run.step("upload");
    assert!(upload.ran, "the upload runs after a failure (if: always())");
    assert_eq!(upload.uses.as_deref(), Some("actions/upload-artifact@v4"));
    golden(&run, ws.path(), "action_fail");
}

#[test]
fn action_inputs_reach_stilt() {
    let ws = workspace("args");
    std::fs::create_dir_all(ws.path().join("sub")).unwrap();
    std::fs::rename(ws.path().join("Tiltfile"), ws.path().join("sub/Tiltfile.ci")).unwrap();
    let run = ActionRunner::new(ws.path())
        .input("working-directory", "sub")
        .input("tiltfile", "Tiltfile.ci")
        .input("args", "--log-source 'build' -- web")
        .input("report-path", "reports/r.json")
        .input("upload-artifacts", "false")
        .input("namespace", "team-a")
        .run();
    assert_eq!(run.code, 0, "stdout:\n{}\nstderr:\n{}", run.stdout(), run.stderr());
    assert!(ws.path().join("sub/web.ran").exists(), "the Tiltfile argument selected web");
    assert!(!ws.path().join("sub/db.ran").exists());
    assert_eq!(Path::new(&run.outputs["report-path"]), ws.path().join("sub/reports/r.json"));
    assert!(ws.path().join("sub/reports/r.json").is_file());
    assert!(!run.step("upload").ran, "upload-artifacts: false");
    // JUnit `file` is relative to $GITHUB_WORKSPACE, where reporters resolve it
    let junit = std::fs::read_to_string(ws.path().join("sub/stilt-reports/junit.xml")).unwrap();
    assert!(junit.contains(r#"file="sub/Tiltfile.ci""#), "{junit}");
    assert!(!junit.contains(r#"file="Tiltfile.ci""#), "{junit}");
}

struct Case {
    what: &'static str,
    inputs: &'static [(&'static str, &'static str)],
    env: &'static [(&'static str, &'static str)],
    step: &'static str,
    code: i32,
    message: &'static str,
}

fn bad_input_cases() -> Vec<Case> {
    vec![
        Case {
            what: "bad timeout",
            inputs: &[("timeout", "ten minutes")],
            env: &[],
            step: "run",
            code: 2,
            message: "timeout 'ten minutes' is not a duration",
        },
        Case {
            what: "missing Tiltfile",
            inputs: &[("tiltfile", "deploy/Tiltfile")],
            env: &[],
            step: "run",
            code: 5,
            message: "Tiltfile not found: 'deploy/Tiltfile'",
        },
        Case {
            what: "missing working directory",
            inputs: &[("working-directory", "nope")],
            env: &[],
            step: "run",
            code: 2,
            message: "working-directory 'nope' does not exist",
        },
        Case {
            what: "bad boolean",
            inputs: &[("upload-artifacts", "yes")],
            env: &[],
            step: "run",
            code: 2,
            message: "upload-artifacts must be 'true' or 'false'",
        },
        Case {
            what: "bad fail-on-error",
            inputs: &[("fail-on-error", "no")],
            env: &[],
            step: "run",
            code: 2,
            message: "fail-on-error must be 'true' or 'false'",
        },
        Case {
            what: "bad retention-days",
            inputs: &[("retention-days", "a week")],
            env: &[],
            step: "run",
            code: 2,
            message: "retention-days must be a number of days",
        },
        Case {
            what: "bad mask-env",
            inputs: &[("mask-env", "$TOKEN")],
            env: &[],
            step: "run",
            code: 2,
            message: "mask-env must name environment variables",
        },
        Case {
            what: "unbalanced quotes",
            inputs: &[("args", "--log-level 'warn")],
            env: &[],
            step: "run",
            code: 2,
            message: "args: cannot split",
        },
        Case {
            what: "unknown OS",
            inputs: &[],
            env: &[("RUNNER_OS", "Windows"), ("STILT_BIN", "")],
            step: "install",
            code: 4,
            message: "unsupported runner Windows/X64",
        },
        Case {
            what: "unknown arch",
            inputs: &[],
            env: &[("RUNNER_ARCH", "ARM"), ("STILT_BIN", "")],
            step: "install",
            code: 4,
            message: "unsupported runner Linux/ARM",
        },
        Case {
            what: "bad version",
            inputs: &[("version", "newest")],
            env: &[("STILT_BIN", "")],
            step: "install",
            code: 2,
            message: "version 'newest' is not a release",
        },
    ]
}

#[test]
fn action_bad_inputs_fail_with_one_line() {
    for c in bad_input_cases() {
        let ws = workspace("pass");
        let mut runner = ActionRunner::new(ws.path());
        for (k, v) in c.inputs {
            runner = runner.input(k, v);
        }
        for (k, v) in c.env {
            runner = if v.is_empty() { runner.without_env(k) } else { runner.env(k, v) };
        }
        let run = runner.run();
        assert_eq!(run.code, c.code, "{}: stdout:\n{}\nstderr:\n{}", c.what, run.stdout(), run.stderr());
        let errors = run.errors();
        assert_eq!(errors.len(), 1, "{}: exactly one annotation: {errors:?}", c.what);
        assert!(errors[0].contains(c.message), "{}: {}", c.what, errors[0]);
        assert!(!errors[0].contains('\n'));
        assert_eq!(run.stderr(), "", "{}: no shell noise", c.what);
        assert_eq!(run.step(c.step).code, c.code, "{}", c.what);
        assert!(!ws.path().join("stilt-reports").exists(), "{}: stilt did not run", c.what);
        assert!(!run.step("upload").ran, "{}: nothing to upload", c.what);
        assert_eq!(run.outputs["exit-code"], if c.step == "run" { c.code.to_string() } else { String::new() });
    }
}

#[test]
fn action_reports_a_stilt_usage_error_in_one_line() {
    for (args, needle) in [
        ("--log-level loud", "invalid value 'loud' for '--log-level <LOG_LEVEL>'"),
        ("--bogus-flag", "unexpected argument '--bogus-flag' found"),
    ] {
        let ws = workspace("pass");
        let run = ActionRunner::new(ws.path()).input("args", args).run();
        assert_eq!(run.code, 2, "{args}: {}{}", run.stdout(), run.stderr());
        let errors = run.errors();
        assert_eq!(errors.len(), 1, "{args}: {errors:?}");
        assert!(errors[0].starts_with("::error title=stilt ci failed (Usage)::"), "{}", errors[0]);
        assert!(errors[0].contains(needle), "{}", errors[0]);
        assert!(!errors[0].contains("file="), "the command line is at fault, not the Tiltfile: {}", errors[0]);
        assert_eq!(run.outputs["result"], "failure");
        assert_eq!(run.outputs["exit-code"], "2");
        assert_eq!(run.outputs["failure-class"], "Usage");
        assert!(run.outputs["error"].contains(needle), "{:?}", run.outputs["error"]);
        assert!(ws.path().join("stilt-reports/junit.xml").is_file(), "{args}: the reports are written");
        assert!(run.step("upload").ran, "and uploaded");
    }
}

#[test]
fn action_declares_every_output_stilt_writes() {
    let ws = workspace("fail");
    let run = ActionRunner::new(ws.path()).run();
    assert_eq!(run.code, 1);
    let action = yaml("action.yml");
    let declared = action["outputs"].as_object().unwrap();
    for k in run.step("run").outputs.keys().filter(|k| *k != "artifact-name") {
        assert!(declared.contains_key(k), "stilt writes {k} to $GITHUB_OUTPUT but action.yml does not declare it");
    }
    for k in ["passed", "failed", "skipped", "aborted", "failure-class", "failed-target", "error", "version"] {
        assert!(declared.contains_key(k), "{k}");
    }
    assert_eq!(run.outputs["version"], "local", "the install step's version (STILT_BIN)");
    assert_eq!(run.outputs["failed"], "1");
    assert_eq!(run.outputs["failed-target"], "migrate:update");
    assert_eq!(run.outputs["failure-class"], "UpdateFailed");
}

#[test]
fn action_fail_on_error_mask_env_and_retention_days() {
    let ws = workspace("fail");
    let run = ActionRunner::new(ws.path())
        .input("fail-on-error", "false")
        .input("mask-env", "DEPLOY_TOKEN OTHER_ONE")
        .input("retention-days", "3")
        .env("DEPLOY_TOKEN", "s3cret-value")
        .run();
    assert_eq!(run.code, 0, "fail-on-error: false lets the step pass: {}{}", run.stdout(), run.stderr());
    assert_eq!(run.outputs["exit-code"], "1", "the verdict stays in the outputs");
    assert_eq!(run.outputs["result"], "failure");
    assert!(run.stdout().contains("::add-mask::s3cret-value"), "mask-env reached stilt: {}", run.stdout());
    assert!(run.stderr().contains("--mask-env OTHER_ONE: the variable is not set or empty"), "{}", run.stderr());
    assert_eq!(run.step("upload").with["retention-days"], "3");
    assert!(!run.step("down").ran && !run.step("stage-down").ran, "down is off by default");
}

#[test]
fn action_down_registers_a_post_step_that_runs_stilt_down() {
    let ws = workspace("pass");
    let run = ActionRunner::new(ws.path()).input("down", "true").run();
    assert_eq!(run.code, 0, "{}{}", run.stdout(), run.stderr());
    let stage = run.step("stage-down");
    assert!(stage.ran && stage.code == 0, "{stage:?}");
    let down = run.step("down");
    assert_eq!(down.uses.as_deref(), Some("./.stilt-action/post"), "a local action with a post step");
    let post = ws.path().join(".stilt-action/post");
    let meta = serde_saphyr::from_str::<Value>(&std::fs::read_to_string(post.join("action.yml")).unwrap()).unwrap();
    assert_eq!(meta["runs"]["post"], "post.js");
    assert_eq!(meta["runs"]["post-if"], "always()");
    for k in down.with.keys() {
        assert!(meta["inputs"].get(k).is_some(), "the post action declares input {k}");
    }
    // the post step as the runner runs it: node, with the inputs as INPUT_* variables
    let node = which("node");
    assert!(node.is_ok() || std::env::var("STILT_CI_TOOLS_REQUIRED").as_deref() != Ok("1"), "node is needed");
    let Ok(node) = node else { return };
    let mut c = Command::new(node);
    c.arg(post.join("post.js")).current_dir(ws.path()).env("TILT_PORT", "0");
    for (k, v) in &down.with {
        c.env(format!("INPUT_{}", k.to_uppercase()), v);
    }
    let out = c.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("stilt down in "), "{text}");
    assert!(!text.contains("::warning"), "stilt down succeeded: {text}");
    // a bad value is a bad input
    let ws = workspace("pass");
    let run = ActionRunner::new(ws.path()).input("down", "yes").run();
    assert_eq!(run.code, 2);
    assert!(run.errors()[0].contains("down must be 'true' or 'false'"), "{:?}", run.errors());
}

// ---- install.sh ----------------------------------------------------------------------------

struct Install {
    tmp: TempDir,
    env: BTreeMap<String, String>,
}

impl Install {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("home")).unwrap();
        Install { tmp, env: BTreeMap::new() }
    }
    fn env(mut self, k: &str, v: &str) -> Self {
        self.env.insert(k.into(), v.into());
        self
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }
    /// A fake release of the test binary under `rel/` (asset + `.sha256`).
    fn release(&self, rel: &str, target: &str) -> String {
        let dir = self.path(rel);
        std::fs::create_dir_all(&dir).unwrap();
        let stage = self.path("stage");
        std::fs::create_dir_all(&stage).unwrap();
        std::fs::copy(stilt_bin(), stage.join("stilt")).unwrap();
        let asset = format!("stilt-{target}.tar.gz");
        let ok = Command::new("tar").arg("-czf").arg(dir.join(&asset)).arg("-C").arg(&stage).arg("stilt").status();
        assert!(ok.unwrap().success());
        let sum = Command::new("sha256sum").arg(&asset).current_dir(&dir).output().unwrap();
        std::fs::write(dir.join(format!("{asset}.sha256")), sum.stdout).unwrap();
        format!("file://{}", dir.display())
    }
    fn run(&self, shell: &str) -> (i32, String, String) {
        let out = Command::new(shell)
            .arg(Path::new(ROOT).join("ci-templates/install.sh"))
            .env_clear()
            .env("PATH", self.env.get("PATH").cloned().unwrap_or_else(|| std::env::var("PATH").unwrap()))
            .env("HOME", self.path("home"))
            .envs(self.env.iter().filter(|(k, _)| *k != "PATH"))
            .current_dir(self.tmp.path())
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

#[test]
fn install_downloads_verifies_and_reports_the_binary() {
    for shell in ["sh", "bash"] {
        let t = Install::new();
        let base = t.release("rel", "aarch64-apple-darwin");
        let (out, path, cache) = (t.path("out"), t.path("path"), t.path("cache"));
        let t = t
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &out.display().to_string())
            .env("GITHUB_PATH", &path.display().to_string())
            .env("RUNNER_OS", "macOS")
            .env("RUNNER_ARCH", "ARM64")
            .env("RUNNER_TOOL_CACHE", &cache.display().to_string())
            .env("STILT_DOWNLOAD_BASE", &base)
            .env("STILT_ACTION_REF", "v1.2.3");
        let (code, stdout, stderr) = t.run(shell);
        assert_eq!(code, 0, "{shell}: {stdout}{stderr}");
        let bin = t.path("cache/stilt/1.2.3/aarch64-apple-darwin/stilt");
        assert!(bin.is_file(), "{shell}: the action's tag is the default version");
        let outs = parse_outputs(&std::fs::read_to_string(t.path("out")).unwrap());
        assert_eq!(Path::new(&outs["path"]), bin);
        assert_eq!(outs["version"], "1.2.3");
        assert_eq!(
            std::fs::read_to_string(t.path("path")).unwrap().trim(),
            bin.parent().unwrap().display().to_string()
        );
        assert!(stdout.contains("stilt installed: "), "{stdout}");
    }
}

#[test]
fn install_from_a_major_ref_picks_the_newest_release_of_that_series() {
    let t = Install::new();
    let base = t.release("rel", "x86_64-unknown-linux-musl");
    // the GitHub API's shape: newest first is not guaranteed, pre-releases and other majors mixed in
    let list = r#"[
  {"tag_name": "v0.10.0-rc.1", "prerelease": true},
  {"tag_name": "v1.0.0", "prerelease": false},
  {"tag_name": "v0.9.2", "prerelease": false},
  {
    "tag_name": "v0.10.1",
    "prerelease": false
  },
  {"tag_name": "v0.2.0", "prerelease": false}
]"#;
    std::fs::write(t.path("releases.json"), list).unwrap();
    let releases = format!("file://{}", t.path("releases.json").display());
    let out = t.path("out").display().to_string();
    let cache = t.path("cache").display().to_string();
    for (ref_, want) in [("v0", "0.10.1"), ("v0.9", "0.9.2"), ("1", "1.0.0")] {
        let t2 = Install::new()
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &out)
            .env("RUNNER_OS", "Linux")
            .env("RUNNER_ARCH", "X64")
            .env("RUNNER_TOOL_CACHE", &cache)
            .env("STILT_DOWNLOAD_BASE", &base)
            .env("STILT_RELEASES_URL", &releases)
            .env("STILT_ACTION_REF", ref_);
        let (code, stdout, stderr) = t2.run("sh");
        assert_eq!(code, 0, "{ref_}: {stdout}{stderr}");
        assert!(
            stdout.contains(&format!("resolves to the newest release of that series, v{want}")),
            "{ref_}: {stdout}"
        );
        let outs = parse_outputs(&std::fs::read_to_string(&out).unwrap());
        assert_eq!(outs["version"], want, "{ref_}");
        assert!(t.path(&format!("cache/stilt/{want}/x86_64-unknown-linux-musl/stilt")).is_file(), "{ref_}");
    }
    let t3 = Install::new()
        .env("GITHUB_ACTIONS", "true")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("STILT_RELEASES_URL", &releases)
        .env("STILT_VERSION", "v7");
    let (code, stdout, stderr) = t3.run("sh");
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert!(stdout.starts_with("::error title=stilt install::no v7.x release of stilt found at "), "{stdout}");
}

#[test]
fn install_refuses_a_checksum_mismatch() {
    let t = Install::new();
    let base = t.release("rel", "x86_64-unknown-linux-musl");
    std::fs::write(
        t.path("rel/stilt-x86_64-unknown-linux-musl.tar.gz.sha256"),
        "0000000000000000000000000000000000000000000000000000000000000000  stilt-x86_64-unknown-linux-musl.tar.gz\n",
    )
    .unwrap();
    let dir = t.path("bin").display().to_string();
    let t = t
        .env("GITHUB_ACTIONS", "true")
        .env("RUNNER_OS", "Linux")
        .env("RUNNER_ARCH", "X64")
        .env("STILT_DOWNLOAD_BASE", &base)
        .env("STILT_INSTALL_DIR", &dir);
    let (code, stdout, stderr) = t.run("sh");
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with("::error title=stilt install::checksum mismatch for stilt-x86_64-unknown-linux-musl.tar.gz")
    );
    assert_eq!(stderr, "");
    assert!(!t.path("bin/stilt").exists(), "nothing installed");
}

#[test]
fn install_falls_back_to_cargo_install_locked() {
    let t = Install::new();
    let fake = t.path("fakebin");
    std::fs::create_dir_all(&fake).unwrap();
    let log = t.path("cargo.args");
    std::fs::write(
        fake.join("cargo"),
        format!(
            "#!/bin/sh\necho \"$@\" > '{}'\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\" && cp '{}' \"$2/bin/stilt\"\n",
            log.display(),
            stilt_bin()
        ),
    )
    .unwrap();
    Command::new("chmod").arg("+x").arg(fake.join("cargo")).status().unwrap();
    let path = format!("{}:{}", fake.display(), std::env::var("PATH").unwrap());
    let dir = t.path("bin").display().to_string();
    let t = t
        .env("PATH", &path)
        .env("STILT_VERSION", "v1.2.3")
        .env("STILT_REPOSITORY", "acme/stilt")
        .env("STILT_DOWNLOAD_BASE", "file:///nonexistent/release")
        .env("STILT_INSTALL_DIR", &dir);
    let (code, stdout, stderr) = t.run("sh");
    assert_eq!(code, 0, "{stdout}{stderr}");
    let args = std::fs::read_to_string(&log).unwrap();
    assert!(args.starts_with("install --locked --root "), "{args}");
    assert!(args.trim_end().ends_with("--git https://github.com/acme/stilt --tag v1.2.3 stilt"), "{args}");
    assert!(t.path("bin/stilt").is_file());
    assert!(stderr.contains("building with cargo install --locked"), "{stderr}");
}

#[test]
fn install_without_a_download_or_cargo_fails_in_one_line() {
    let t = Install::new();
    // a PATH with the basics but no cargo
    let bin = t.path("minimal");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["sh", "uname", "grep", "sed", "mkdir", "mktemp", "rm", "cut", "head", "curl", "sha256sum", "dirname"] {
        if let Ok(p) = which(tool) {
            std::os::unix::fs::symlink(p, bin.join(tool)).unwrap();
        }
    }
    let dir = t.path("out").display().to_string();
    let t = t
        .env("PATH", &bin.display().to_string())
        .env("STILT_REPOSITORY", "acme/stilt")
        .env("STILT_DOWNLOAD_BASE", "file:///nonexistent/release")
        .env("STILT_INSTALL_DIR", &dir);
    let (code, stdout, stderr) = t.run("sh");
    assert_eq!(code, 4, "{stdout}{stderr}");
    assert_eq!(stdout, "");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("and cargo is not installed to build stilt instead"), "{stderr}");
}

fn which(tool: &str) -> Result<PathBuf, ()> {
    std::env::var("PATH").unwrap().split(':').map(|d| Path::new(d).join(tool)).find(|p| p.is_file()).ok_or(())
}

// ---- the CircleCI orb and the GitLab template ----------------------------------------------

#[test]
fn templates_embed_install_sh_verbatim() {
    let script = std::fs::read_to_string(Path::new(ROOT).join("ci-templates/install.sh")).unwrap();
    let orb = yaml("ci-templates/circleci/orb.yml");
    let included =
        std::fs::read_to_string(Path::new(ROOT).join("ci-templates/circleci/src/scripts/install.sh")).unwrap();
    assert_eq!(included, script, "the orb source includes install.sh itself (a symlink)");
    assert_eq!(
        str_of(&orb["commands"]["install"]["steps"][0]["run"]["command"]),
        script,
        "run ci-templates/circleci/pack"
    );
    let hint = "run python3 ci-templates/embed-install.py after editing ci-templates/install.sh";
    let gitlab = yaml("ci-templates/gitlab/stilt.gitlab-ci.yml");
    assert_eq!(str_of(&gitlab[".stilt-ci"]["script"][0]), script, "GitLab template: {hint}");
    let component = &yaml_documents("templates/stilt.yml")[1];
    let job = component.as_object().unwrap().values().next().unwrap();
    assert_eq!(str_of(&job["script"][0]), script, "GitLab component: {hint}");
    assert_eq!(job["script"], gitlab[".stilt-ci"]["script"], "the component runs the template's script");
}

#[test]
fn orb_is_packed_from_its_source() {
    let out = Command::new("python3")
        .arg(Path::new(ROOT).join("ci-templates/circleci/pack"))
        .arg("--check")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // the pack merges the directories as `circleci orb pack` does
    let orb = yaml("ci-templates/circleci/orb.yml");
    let src = Path::new(ROOT).join("ci-templates/circleci/src");
    for kind in ["commands", "jobs", "executors", "examples"] {
        let mut names: Vec<String> = std::fs::read_dir(src.join(kind))
            .unwrap()
            .map(|e| e.unwrap().path().file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        let mut packed: Vec<String> = orb[kind].as_object().unwrap().keys().cloned().collect();
        packed.sort();
        assert_eq!(names, packed, "{kind}");
        for n in &names {
            let file = serde_saphyr::from_str::<Value>(
                &std::fs::read_to_string(src.join(kind).join(format!("{n}.yml"))).unwrap(),
            )
            .unwrap();
            assert_eq!(file["description"], orb[kind][n]["description"], "{kind}/{n}");
        }
    }
    let run_ci = str_of(&orb["commands"]["run_ci"]["steps"][0]["run"]["command"]);
    assert_eq!(run_ci, std::fs::read_to_string(src.join("scripts/run_ci.sh")).unwrap(), "<<include()>> resolved");
}

/// Every `run` step of an orb component's steps, also inside `when`/`unless`.
fn runs<'a>(steps: &'a Value, out: &mut Vec<&'a Value>) {
    for s in steps.as_array().into_iter().flatten() {
        if let Some(r) = s.get("run") {
            out.push(r);
        }
        if let Some(w) = s.get("when").or_else(|| s.get("unless")) {
            runs(&w["steps"], out);
        }
    }
}

/// The orb-tools review rules that need no network (RC006/RC007 fetch the URLs):
/// RC001 source_url, RC002 descriptions, RC003 an example, RC004 example names, RC005 a detailed
/// description, RC008 named run steps, RC009 long commands included from scripts/, RC010
/// snake_case component and parameter names.
#[test]
fn orb_source_follows_the_orb_tools_review_rules() {
    let src = Path::new(ROOT).join("ci-templates/circleci/src");
    let read = |p: &Path| serde_saphyr::from_str::<Value>(&std::fs::read_to_string(p).unwrap()).unwrap();
    let orb = read(&src.join("@orb.yml"));
    assert!(orb["display"]["source_url"].is_string(), "RC001");
    assert!(str_of(&orb["description"]).len() >= 64, "RC005");
    let examples: Vec<PathBuf> = std::fs::read_dir(src.join("examples")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!examples.is_empty(), "RC003");
    for e in &examples {
        assert!(!e.file_name().unwrap().to_string_lossy().contains("example"), "RC004: {e:?}");
        assert!(!str_of(&read(e)["description"]).is_empty(), "RC002: {e:?}");
    }
    for kind in ["jobs", "commands", "executors"] {
        for e in std::fs::read_dir(src.join(kind)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(!name.contains('-'), "RC010: {kind}/{name}");
            let c = read(&p);
            assert!(!str_of(&c["description"]).is_empty(), "RC002: {kind}/{name}");
            for param in c["parameters"].as_object().into_iter().flatten().map(|(k, _)| k) {
                assert!(!param.contains('-'), "RC010: {kind}/{name} parameter {param}");
            }
            let mut rs = Vec::new();
            runs(&c["steps"], &mut rs);
            for r in rs {
                assert!(r.is_object() && r["name"].is_string(), "RC008: {kind}/{name}: {r}");
                let cmd = str_of(&r["command"]);
                assert!(cmd.len() <= 64 || cmd.starts_with("<<include(scripts/"), "RC009: {kind}/{name}: {cmd}");
            }
        }
    }
}

/// Replaces `<< parameters.x >>` with `params[x]` or the parameter's default.
fn orb_params(text: &str, spec: &Value, params: &BTreeMap<&str, &str>) -> String {
    let mut out = text.to_string();
    for (name, p) in spec.as_object().unwrap() {
        let v = params.get(name.as_str()).map_or_else(|| str_of(&p["default"]), |v| (*v).to_string());
        out = out.replace(&format!("<< parameters.{name} >>"), &v);
    }
    assert!(!out.contains("<< parameters."), "unknown parameter in {out}");
    out
}

/// A directory with `stilt` pointing at the test binary, for PATH.
fn stilt_on_path(tmp: &Path) -> String {
    let bin = tmp.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(stilt_bin(), bin.join("stilt")).unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

fn run_orb_command(scenario: &str, params: &BTreeMap<&str, &str>) -> (TempDir, i32, String) {
    let ws = workspace(scenario);
    let tmp = tempfile::tempdir().unwrap();
    let orb = yaml("ci-templates/circleci/orb.yml");
    let cmd = &orb["commands"]["run_ci"];
    let run = &cmd["steps"][0]["run"];
    let mut c = Command::new("bash");
    // CircleCI's default shell for run steps
    c.args(["-eo", "pipefail", "-c"]).arg(orb_params(run["command"].as_str().unwrap(), &cmd["parameters"], params));
    c.env_clear().env("PATH", stilt_on_path(tmp.path())).env("HOME", tmp.path()).env("CIRCLECI", "true");
    c.env("TILT_PORT", "0");
    for (k, v) in run["environment"].as_object().unwrap() {
        c.env(k, orb_params(&str_of(v), &cmd["parameters"], params));
    }
    let wd = orb_params(run["working_directory"].as_str().unwrap(), &cmd["parameters"], params);
    let out = c.current_dir(ws.path().join(wd)).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (ws, out.status.code().unwrap_or(-1), text)
}

#[test]
fn orb_run_ci_command_runs_stilt_and_stores_its_reports() {
    let (ws, code, text) = run_orb_command("pass", &BTreeMap::new());
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("stilt ci summary: success (exit code 0)"), "CircleCI gets the plain summary: {text}");
    let orb = yaml("ci-templates/circleci/orb.yml");
    let cmd = &orb["commands"]["run_ci"];
    let store = orb_params(
        cmd["steps"][1]["when"]["steps"][0]["store_test_results"]["path"].as_str().unwrap(),
        &cmd["parameters"],
        &BTreeMap::new(),
    );
    assert!(ws.path().join(&store).is_file(), "store_test_results points at the JUnit file: {store}");
    for s in &cmd["steps"][1]["when"]["steps"].as_array().unwrap()[..] {
        let (_, body) = s.as_object().unwrap().iter().next().unwrap();
        assert_eq!(body["when"], "always", "stored also when stilt fails: {s}");
        let path = orb_params(body["path"].as_str().unwrap(), &cmd["parameters"], &BTreeMap::new());
        assert!(ws.path().join(&path).exists(), "{path}");
    }

    let params = BTreeMap::from([("args", "--log-level 'error' -- api"), ("timeout", "1m")]);
    let (ws, code, text) = run_orb_command("fail", &params);
    assert_eq!(code, 1, "the step exits with stilt's code: {text}");
    assert!(text.contains("--log-dir stilt-reports/logs --log-level error -- api"), "{text}");
    assert!(ws.path().join("stilt-reports/junit/stilt.xml").is_file());
}

/// The GitLab job `job` (template or component) as the runner runs it: the user's own
/// `before_script` (which replaces an extended one), then the job's `script`.
fn gitlab_script(job: &Value, user_before_script: &str) -> String {
    assert!(job.get("before_script").is_none(), "the install must not live in before_script");
    let mut script = format!("{user_before_script}\n");
    for line in job["script"].as_array().unwrap() {
        script.push_str(&str_of(line));
        script.push('\n');
    }
    script
}

/// Runs a GitLab job's script in `ws` with a user's own `before_script` first, the way a runner
/// would (GitLab expands `$CI_PROJECT_DIR` in the job's variables); returns the exit code and
/// stdout+stderr.
fn run_gitlab_job(job: &Value, ws: &Path, user_before_script: &str) -> (Option<i32>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = Command::new("sh");
    c.args(["-e", "-c", &gitlab_script(job, user_before_script)]);
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("HOME", tmp.path())
        .env("GITLAB_CI", "true")
        .env("CI_PROJECT_DIR", ws)
        .env("STILT_BIN", stilt_bin())
        .env("TILT_PORT", "0");
    for (k, v) in job["variables"].as_object().unwrap() {
        c.env(k, str_of(v).replace("$CI_PROJECT_DIR", &ws.display().to_string()));
    }
    let out = c.current_dir(ws).output().unwrap();
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn gitlab_component_runs_with_its_input_defaults() {
    let docs = yaml_documents("templates/stilt.yml");
    let inputs = docs[0]["spec"]["inputs"].as_object().unwrap();
    // GitLab interpolates $[[ inputs.x ]] before the job runs
    let mut text = std::fs::read_to_string(Path::new(ROOT).join("templates/stilt.yml")).unwrap();
    text = text.split("\n---\n").nth(1).unwrap().to_string();
    for (k, v) in inputs {
        let v = if k == "timeout" { "1m".to_string() } else { str_of(&v["default"]) };
        text = text.replace(&format!("$[[ inputs.{k} ]]"), &v);
    }
    assert!(!text.contains("$[["), "every input is declared: {text}");
    let job: Value = serde_saphyr::from_str::<Value>(&text).unwrap()["stilt"].clone();
    assert_eq!(job["stage"], "test");
    let ws = workspace("pass");
    let (code, text) = run_gitlab_job(&job, ws.path(), "echo user before_script");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("stilt ci summary: success"), "{text}");
    assert!(text.contains("--timeout 1m"), "the input reached stilt: {text}");
    assert!(ws.path().join(str_of(&job["artifacts"]["reports"]["junit"])).is_file());
}

#[test]
fn gitlab_template_installs_and_runs_stilt_with_sections() {
    for (scenario, want) in [("pass", 0), ("fail", 1)] {
        let ws = workspace(scenario);
        let t = yaml("ci-templates/gitlab/stilt.gitlab-ci.yml");
        let job = &t[".stilt-ci"];
        // a job that sets its own before_script keeps the install (no `stilt: command not found`)
        let (code, text) = run_gitlab_job(job, ws.path(), "echo my own before_script; export MY_SETUP=done");
        assert_eq!(code, Some(want), "{text}");
        assert!(text.contains("\x1b[0Ksection_start:"), "{text}");
        assert!(text.contains("stilt ci summary: "), "{text}");
        assert!(ws.path().join(".stilt/bin/stilt").exists(), "installed into STILT_INSTALL_DIR");
        let junit = str_of(&job["artifacts"]["reports"]["junit"]);
        assert!(ws.path().join(&junit).is_file(), "{junit}");
        assert_eq!(job["artifacts"]["when"], "always");
        assert!(job["artifacts"]["paths"].as_array().unwrap().iter().any(|p| p == "stilt-reports/"));
    }
}
