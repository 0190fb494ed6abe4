//! `stilt ci --ci-output …` on real runs: detection, masking, GitHub annotations for Tiltfile
//! errors, GitLab sections and the CircleCI plain summary (goldens), and the checks that need
//! the CI tools `scripts/install-ci-tools` installs (check-jsonschema, junitparser, xmllint,
//! shellcheck): the JUnit file as the reporters' parsers read it and as the Ant XSD describes it,
//! and every workflow/action/orb/template against its published schema.
//!
//! Without the tools those checks say so and pass, unless `STILT_CI_TOOLS_REQUIRED=1`
//! (`scripts/test` sets it after installing them).

use crate::ci_action::{redact, yaml};
use crate::harness::{Output, StatusExt, Stilt};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn no_ci(s: Stilt) -> Stilt {
    // whatever CI this test itself runs on
    s.env("GITHUB_ACTIONS", "false").env("GITLAB_CI", "false").env("CIRCLECI", "false").env("STILT_CI_OUTPUT", "auto")
}

#[test]
fn no_ci_output_outside_ci_or_when_disabled() {
    let s = no_ci(Stilt::scenario("fail"));
    let summary = s.dir.path().join("summary.md");
    let out = s.env("GITHUB_STEP_SUMMARY", &summary.display().to_string()).run();
    out.expect_code(1);
    assert!(!out.stdout.lines().any(|l| l.starts_with("::")), "{}", out.stdout);
    assert!(!out.stdout.contains("stilt ci summary"));
    assert!(!summary.exists());

    let s = no_ci(Stilt::scenario("fail")).env("GITHUB_ACTIONS", "true").args(&["--ci-output", "none"]);
    let summary = s.dir.path().join("summary.md");
    let out = s.env("GITHUB_STEP_SUMMARY", &summary.display().to_string()).run();
    assert!(!out.stdout.lines().any(|l| l.starts_with("::")), "{}", out.stdout);
    assert!(!summary.exists());
}

#[test]
fn github_is_detected_and_secrets_are_masked_everywhere() {
    let secret = "s3cr3t-t0ken-value";
    let s = no_ci(Stilt::tiltfile(
        "local_resource('deploy', cmd='echo using token=$DEPLOY_TOKEN; echo \"denied for $DEPLOY_TOKEN\" >&2; exit 7')\n",
    ));
    let d = s.dir.path().to_path_buf();
    let out = s
        .env("GITHUB_ACTIONS", "true")
        .env("STILT_MASK_ENV", "DEPLOY_TOKEN,UNSET_ONE")
        .env("DEPLOY_TOKEN", secret)
        .env("GITHUB_STEP_SUMMARY", &d.join("summary.md").display().to_string())
        .env("GITHUB_OUTPUT", &d.join("output").display().to_string())
        .env("GITHUB_WORKSPACE", &d.display().to_string())
        .run();
    out.expect_code(1);
    let first = out.stdout.lines().next().unwrap();
    assert_eq!(first, format!("::add-mask::{secret}"), "the mask comes before anything else");
    for l in out.stdout.lines().skip(1).filter(|l| l.contains(secret)) {
        assert!(l.contains(" │ "), "only the live log (which the runner masks) shows the value: {l}");
    }
    assert!(out.stdout.contains("using token=***"), "the replayed group is masked:\n{}", out.stdout);
    let summary = std::fs::read_to_string(d.join("summary.md")).unwrap();
    let outputs = std::fs::read_to_string(d.join("output")).unwrap();
    assert!(!summary.contains(secret) && summary.contains("denied for ***"), "{summary}");
    assert!(!outputs.contains(secret), "{outputs}");
    let errors: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0]
            .starts_with("::error file=Tiltfile,line=1,col=1,title=stilt%3A deploy%3Aupdate failed (UpdateFailed)::")
    );
    assert!(!errors[0].contains(secret) && errors[0].contains("denied for ***"), "{}", errors[0]);
    assert!(out.stderr.contains("--mask-env UNSET_ONE: the variable is not set or empty"), "{}", out.stderr);
    assert!(out.stderr.trim_end().lines().last().unwrap().starts_with("Error: "), "Error: stays the last line");
}

#[test]
fn github_annotates_a_tiltfile_error_at_its_line() {
    let s = no_ci(Stilt::tiltfile("local_resource('a', cmd='true')\n\nfail('config is broken')\n"));
    let d = s.dir.path().to_path_buf();
    let out = s
        .args(&["--ci-output", "github"])
        .env("GITHUB_WORKSPACE", &d.display().to_string())
        .env("GITHUB_OUTPUT", &d.join("output").display().to_string())
        .run();
    out.expect_code(5);
    let errors: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{}", out.stdout);
    assert!(
        errors[0].starts_with(
            "::error file=Tiltfile,line=3,col=1,title=stilt%3A tiltfile%3Aupdate failed (TiltfileError)::"
        ),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("config is broken"));
    let outputs = std::fs::read_to_string(d.join("output")).unwrap();
    assert!(outputs.contains("result=failure\nexit-code=5\nfailure-class=TiltfileError\n"), "{outputs}");
}

#[test]
fn github_run_level_failure_without_a_failed_target() {
    // a busy status port: Environment, no target to blame
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = no_ci(Stilt::scenario("pass")).args(&["--ci-output", "github", "--port", &port]).run();
    out.expect_code(4);
    let errors: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{}", out.stdout);
    assert!(errors[0].starts_with("::error title=stilt ci failed (Environment)::"), "{}", errors[0]);
}

fn from(text: &str, marker: &str) -> String {
    text.find(marker).map_or_else(String::new, |i| text[i..].to_string())
}

#[test]
fn gitlab_sections_golden() {
    let out = no_ci(Stilt::scenario("fail")).args(&["--ci-output", "gitlab"]).run();
    out.expect_code(1);
    let mut text = from(&out.stdout, "\x1b[0Ksection_start:");
    // section timestamps
    for marker in ["section_start:", "section_end:"] {
        let mut rest = text.as_str();
        let mut done = String::new();
        while let Some(i) = rest.find(marker) {
            done.push_str(&rest[..i + marker.len()]);
            rest = &rest[i + marker.len()..];
            let end = rest.find(':').unwrap();
            done.push_str("[TS]");
            rest = &rest[end..];
        }
        done.push_str(rest);
        text = done;
    }
    let text = redact(&text, &out.dir).replace('\x1b', "<ESC>").replace('\r', "<CR>");
    let text: String =
        text.lines()
            .map(|l| {
                if l.starts_with("Successfully loaded Tiltfile (") { "Successfully loaded Tiltfile ([DUR])" } else { l }
            })
            .collect::<Vec<_>>()
            .join("\n");
    insta::assert_snapshot!("ci_output_gitlab_fail", text);
}

#[test]
fn circleci_plain_summary_golden() {
    let out = no_ci(Stilt::scenario("pass")).env("CIRCLECI", "true").run();
    out.expect_code(0);
    assert!(!out.stdout.contains("section_start") && !out.stdout.lines().any(|l| l.starts_with("::")));
    insta::assert_snapshot!("ci_output_circleci_pass", redact(&from(&out.stdout, "stilt ci summary:"), &out.dir));
    let out = no_ci(Stilt::scenario("fail")).env("CIRCLECI", "true").run();
    insta::assert_snapshot!("ci_output_circleci_fail", redact(&from(&out.stdout, "stilt ci summary:"), &out.dir));
}

// ---- checks with the CI tools ----------------------------------------------------------------

/// The tools' venv: `$STILT_CI_VENV`, else `~/.cache/stilt/venv`.
fn venv() -> PathBuf {
    std::env::var_os("STILT_CI_VENV").map_or_else(
        || PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/stilt/venv"),
        PathBuf::from,
    )
}

fn on_path(tool: &str) -> Option<PathBuf> {
    std::env::var("PATH").ok()?.split(':').map(|d| Path::new(d).join(tool)).find(|p| p.is_file())
}

/// The tools, or `None` (after saying why) when they are missing and not required.
fn tools() -> Option<Tools> {
    let python = venv().join("bin/python");
    let check_jsonschema = venv().join("bin/check-jsonschema");
    let ok_py = python.is_file()
        && Command::new(&python).args(["-c", "import junitparser"]).output().is_ok_and(|o| o.status.success());
    let found = (ok_py, check_jsonschema.is_file(), on_path("xmllint"), on_path("shellcheck"));
    if let (true, true, Some(xmllint), Some(shellcheck)) = found {
        return Some(Tools { python, check_jsonschema, xmllint, shellcheck });
    }
    let msg = format!(
        "CI tools missing (junitparser venv: {}, check-jsonschema: {}, xmllint: {}, shellcheck: {}); run scripts/install-ci-tools",
        found.0,
        found.1,
        found.2.is_some(),
        found.3.is_some()
    );
    assert!(std::env::var("STILT_CI_TOOLS_REQUIRED").as_deref() != Ok("1"), "{msg}");
    eprintln!("skipping: {msg}");
    None
}

struct Tools {
    python: PathBuf,
    check_jsonschema: PathBuf,
    xmllint: PathBuf,
    shellcheck: PathBuf,
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn check_junit(t: &Tools, out: &Output) {
    let junit = out.dir.join("out/junit.xml");
    let script = Path::new(ROOT).join("tests/ci/junit_check.py");
    // 1. junitparser sees the same outcome per target as stilt's JSON report
    let cases: Value = serde_json::from_str(&run_ok(Command::new(&t.python).arg(&script).arg("cases").arg(&junit)))
        .expect("junit_check.py prints JSON");
    let targets = out.report()["stilt"]["targets"].as_array().unwrap();
    assert_eq!(cases.as_array().unwrap().len(), targets.len());
    for t in targets {
        let c = cases.as_array().unwrap().iter().find(|c| c["name"] == t["name"]).expect("a case per target");
        let want = match (t["status"].as_str().unwrap(), t["class"].as_str()) {
            ("passed", _) => "passed",
            ("skipped", _) => "skipped",
            ("aborted", _) | ("failed", Some("TiltfileError" | "GlobalTimeout" | "Environment" | "Usage")) => "error",
            ("failed", _) => "failure",
            other => panic!("{other:?}"),
        };
        assert_eq!(c["result"], want, "{c}");
        if t["status"] == "aborted" {
            assert_eq!(c["type"], "Aborted", "{c}");
        } else if want == "failure" || want == "error" {
            assert_eq!(c["type"], t["class"], "{c}");
            assert!(!c["message"].as_str().unwrap_or_default().is_empty(), "{c}");
        }
        assert!(c["classname"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
        assert!(c["time"].as_f64().is_some(), "{c}");
        if let Some(line) = t["declaredAt"]["line"].as_u64() {
            assert_eq!(c["line"], line.to_string(), "{c}");
            assert!(c["file"].as_str().is_some(), "{c}");
        }
    }
    // 2. the strict Ant XSD, on the Ant view of the file (junit_check.py lists what that changes)
    let ant = out.dir.join("out/junit.ant.xml");
    run_ok(Command::new(&t.python).arg(&script).arg("ant").arg(&junit).arg(&ant));
    run_ok(
        Command::new(&t.xmllint)
            .arg("--noout")
            .arg("--schema")
            .arg(Path::new(ROOT).join("tests/ci/JUnit.xsd"))
            .arg(&ant),
    );
    // 3. Jenkins xUnit's JUnit rules (tests/ci/xunit-junit.xsd), on the file minus only the
    //    documented extension attributes; and the raw file fails it exactly on those
    let xunit_xsd = Path::new(ROOT).join("tests/ci/xunit-junit.xsd");
    let view = out.dir.join("out/junit.xunit.xml");
    let out_view = Command::new(&t.python).arg(&script).arg("xunit").arg(&junit).arg(&view).output().unwrap();
    assert!(out_view.status.success());
    let removed = String::from_utf8_lossy(&out_view.stderr).into_owned();
    run_ok(Command::new(&t.xmllint).arg("--noout").arg("--schema").arg(&xunit_xsd).arg(&view));
    let raw = Command::new(&t.xmllint).arg("--noout").arg("--schema").arg(&xunit_xsd).arg(&junit).output().unwrap();
    let complaints = String::from_utf8_lossy(&raw.stderr).into_owned();
    for line in complaints.lines().filter(|l| l.contains("Schemas validity error")) {
        assert!(
            ["'skipped'", "'timestamp'", "'file'", "'line'"].iter().any(|a| line.contains(&format!("attribute {a}"))),
            "the raw file breaks xUnit's rules only on documented extensions: {line}"
        );
    }
    assert!(removed.contains("testcase@file removed") || !junit_has(&junit, " file=\""), "{removed}");
}

fn junit_has(path: &Path, needle: &str) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle))
}

#[test]
fn xunit_schema_rejects_what_jenkins_xunit_rejects() {
    let Some(t) = tools() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let xsd = Path::new(ROOT).join("tests/ci/xunit-junit.xsd");
    let check = |name: &str, xml: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, xml).unwrap();
        Command::new(&t.xmllint).arg("--noout").arg("--schema").arg(&xsd).arg(&p).output().unwrap().status.success()
    };
    let ok = r#"<testsuites name="s" tests="1" failures="0" errors="0" time="1.5"><testsuite name="x" tests="1" failures="0" errors="0" time="1,234.5"><properties><property name="a" value="b"/></properties><testcase name="c" classname="k" time="0.1"><failure type="T" message="m">body</failure><system-out>out</system-out></testcase></testsuite></testsuites>"#;
    assert!(check("ok.xml", ok), "a plain file validates");
    assert!(
        !check("case-file.xml", &ok.replace(r#"classname="k""#, r#"classname="k" file="Tiltfile""#)),
        "testcase@file is not in xUnit's schema"
    );
    assert!(!check("no-tests.xml", &ok.replace(r#"name="x" tests="1""#, r#"name="x""#)), "testsuite@tests is required");
    assert!(!check("bad-time.xml", &ok.replace(r#"time="1,234.5""#, r#"time="1.5s""#)), "time is a number");
    assert!(!check("no-name.xml", &ok.replace(r#"<testcase name="c" "#, "<testcase ")), "testcase@name is required");
}

#[test]
fn junit_reads_right_in_junitparser_and_validates_against_the_ant_xsd() {
    let Some(t) = tools() else { return };
    for (name, s, code) in [
        ("pass", Stilt::scenario("pass"), 0),
        ("fail", Stilt::scenario("fail"), 1),
        ("tiltfile error", Stilt::tiltfile("local_resource('a', cmd='true')\nfail('no')\n"), 5),
        (
            "timeout",
            Stilt::tiltfile("local_resource('slow', cmd='sleep 30')\nlocal_resource('b', cmd='true')\n")
                .args(&["--timeout", "1s"]),
            3,
        ),
    ] {
        let out = no_ci(s).run();
        assert_eq!(out.code, code, "{name}");
        check_junit(&t, &out);
    }
}

#[test]
fn action_workflows_orb_and_templates_validate_against_their_schemas() {
    let Some(t) = tools() else { return };
    let root = Path::new(ROOT);
    let validate = |schema: &str, files: &[PathBuf]| {
        assert!(!files.is_empty(), "nothing to validate against {schema}");
        run_ok(Command::new(&t.check_jsonschema).arg("--builtin-schema").arg(schema).args(files));
    };
    let yamls = |dir: &str| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
            .collect();
        v.sort();
        v
    };
    validate("vendor.github-actions", &[root.join("action.yml")]);
    let workflows: Vec<PathBuf> = yamls(".github/workflows").into_iter().chain(yamls("examples/github")).collect();
    assert!(workflows.iter().any(|p| p.ends_with("release.yml")) && workflows.iter().any(|p| p.ends_with("ci.yml")));
    validate("vendor.github-workflows", &workflows);
    validate("vendor.gitlab-ci", &[root.join("ci-templates/gitlab/stilt.gitlab-ci.yml")]);
    // the CI/CD component: its `spec:` header and its job document, each as GitLab reads them
    let tmp_component = tempfile::tempdir().unwrap();
    let docs: Vec<Value> = crate::ci_action::yaml_documents("templates/stilt.yml");
    assert_eq!(docs.len(), 2, "spec header, then the jobs");
    assert!(docs[0]["spec"]["inputs"].as_object().is_some_and(|i| i.contains_key("timeout")), "{}", docs[0]);
    let mut parts = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let p = tmp_component.path().join(format!("component-{i}.json"));
        std::fs::write(&p, serde_json::to_string(d).unwrap()).unwrap();
        parts.push(p);
    }
    validate("vendor.gitlab-ci", &parts);
    // the packed orb (ci-templates/circleci/pack, as `circleci orb pack`; the CLI cannot be
    // downloaded here), it and every usage example it ships validate as CircleCI config
    let tmp = tempfile::tempdir().unwrap();
    let mut circle = vec![root.join("ci-templates/circleci/orb.yml"), root.join("examples/circleci/config.yml")];
    let orb = yaml("ci-templates/circleci/orb.yml");
    for (name, ex) in orb["examples"].as_object().unwrap() {
        let p = tmp.path().join(format!("{name}.json"));
        std::fs::write(&p, serde_json::to_string(&ex["usage"]).unwrap()).unwrap();
        circle.push(p);
    }
    validate("vendor.circle-ci", &circle);
    // the shell the wrappers run
    let mut sh = Command::new(&t.shellcheck);
    sh.arg("-s").arg("sh").arg(root.join("ci-templates/install.sh"));
    run_ok(&mut sh);
    run_ok(
        Command::new(&t.shellcheck)
            .arg(root.join("ci-templates/github/run.sh"))
            .arg(root.join("ci-templates/github/artifact-link.sh"))
            .arg(root.join("ci-templates/github/stage-post.sh"))
            .arg(root.join("ci-templates/github/post/down.sh"))
            .arg(root.join("ci-templates/circleci/src/scripts/run_ci.sh"))
            .arg(root.join("ci-templates/circleci/src/scripts/create_kind_cluster.sh")),
    );
}

/// actionlint (built by scripts/install-ci-tools from the Go module proxy), or `None` after
/// saying why when it is missing and not required.
fn actionlint() -> Option<PathBuf> {
    let cached = std::env::var_os("STILT_TOOLS_DIR")
        .map_or_else(
            || PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/stilt/tools"),
            PathBuf::from,
        )
        .join("bin/actionlint");
    if let Some(p) = Some(cached).filter(|p| p.is_file()).or_else(|| on_path("actionlint")) {
        return Some(p);
    }
    let msg = "actionlint missing (~/.cache/stilt/tools/bin/actionlint); run scripts/install-ci-tools";
    assert!(std::env::var("STILT_CI_TOOLS_REQUIRED").as_deref() != Ok("1"), "{msg}");
    eprintln!("skipping: {msg}");
    None
}

#[test]
fn actionlint_accepts_every_workflow_and_example() {
    let Some(lint) = actionlint() else { return };
    let root = Path::new(ROOT);
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [".github/workflows", "examples/github"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yml" || x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.iter().any(|p| p.ends_with("release.yml")), "{files:?}");
    // with shellcheck on PATH, actionlint also checks every `run:` script
    let out = Command::new(&lint).args(&files).current_dir(root).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "actionlint:\n{text}");

    // and it does catch what this project once shipped: a retired runner label, an output the
    // action does not declare
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join(".github/workflows")).unwrap();
    std::fs::create_dir_all(tmp.path().join(".git")).unwrap(); // actionlint's project root
    std::fs::copy(root.join("action.yml"), tmp.path().join("action.yml")).unwrap();
    let bad = "on: push\njobs:\n  a:\n    runs-on: macos-13\n    steps:\n      - id: s\n        uses: ./\n      - run: echo \"$X\"\n        env:\n          X: ${{ steps.s.outputs.no-such-output }}\n";
    std::fs::write(tmp.path().join(".github/workflows/bad.yml"), bad).unwrap();
    let out = Command::new(&lint).arg(".github/workflows/bad.yml").current_dir(tmp.path()).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(text.contains("label \"macos-13\" is unknown"), "{text}");
    assert!(text.contains("property \"no-such-output\" is not defined"), "{text}");
}

#[test]
fn a_target_cut_short_by_a_parallel_failure_is_aborted_not_skipped() {
    let tf = "local_resource('a', cmd='sleep 0.5; exit 1', allow_parallel=True)\n\
              local_resource('b', cmd='echo b-started; sleep 30', allow_parallel=True)\n\
              local_resource('c', cmd='true', resource_deps=['b'])\n";
    let out = no_ci(Stilt::tiltfile(tf)).args(&["--ci-output", "circleci"]).run();
    out.expect_code(1);
    let b = out.stilt_target("b:update");
    assert_eq!(b["status"], "aborted", "b's cmd ran: {b}");
    assert!(
        b["reason"].as_str().unwrap().starts_with("aborted: run failed on a:update (b:update was still running"),
        "{b}"
    );
    let case = out.case("b:update");
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind: quick_junit::NonSuccessKind::Error, ty, description, ..
        } => {
            assert_eq!(ty.as_ref().map(quick_junit::XmlString::as_str), Some("Aborted"));
            assert!(description.as_ref().is_some_and(|d| d.as_str().contains("b-started")), "the body quotes its log");
        }
        other => panic!("b:update: {other:?}"),
    }
    assert_eq!(out.stilt_target("c:update")["status"], "skipped", "c never started");
    assert!(out.case("c:update").status.is_skipped_case());
    assert!(out.stdout.contains("1 passed, 1 failed, 1 skipped, 1 aborted"), "{}", out.stdout);
}

#[test]
fn github_groups_follow_the_terminal_filter() {
    let tf = "local_resource('a', cmd='echo from-a')\nlocal_resource('b', cmd='echo from-b')\n";
    let out = no_ci(Stilt::tiltfile(tf)).args(&["--ci-output", "github", "--log-resource", "a"]).run();
    out.expect_code(0);
    let groups: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::group::")).collect();
    assert_eq!(groups.len(), 1, "{}", out.stdout);
    assert!(groups[0].starts_with("::group::✅ a: passed in "), "{}", groups[0]);
    assert!(!out.stdout.contains("from-b"), "{}", out.stdout);
}
