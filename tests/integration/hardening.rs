//! Hostile input (issue 16): a busy Tiltfile load obeys `--timeout` and signals, `read_file`
//! and `local()` are bounded, deep nesting never aborts, Secrets and `--mask-env` values never
//! reach a sink, a non-UTF-8 Tiltfile loads.

use crate::docker_env::unique;
use crate::harness::{Output, Stilt, wait_for_file};
use crate::k8s_env::{Namespace, namespace_yaml};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// Nested `while True:` loops: the load never ends by itself.
const BUSY: &str = "local_resource('a', cmd='true')\nwhile True:\n    while True:\n        pass\n";

/// The run ends within `within` of `since` (generous: the machine is shared; the real number is
/// measured by `scripts/bench-hardening`).
fn assert_quick(out_at: Instant, since: Instant, within: Duration) {
    let took = out_at.duration_since(since);
    assert!(took < within, "took {took:?} after the deadline or signal");
}

fn reports_written(out: &Output, exit: i32) {
    out.expect_code(exit);
    assert!(out.junit.is_some(), "JUnit written");
    assert_eq!(out.report()["stilt"]["exitCode"], exit);
    assert!(out.stderr.trim_end().lines().last().unwrap_or_default().starts_with("Error: "), "{}", out.stderr);
}

#[test]
fn a_busy_load_obeys_the_timeout() {
    let run = Stilt::tiltfile(BUSY).args(&["--timeout", "2s"]);
    let start = Instant::now();
    let out = run.run();
    let done = Instant::now();
    reports_written(&out, 3);
    assert!(out.stderr.contains("Error: Timeout after 2s"), "{}", out.stderr);
    assert_quick(done, start + Duration::from_secs(2), Duration::from_secs(10));
}

#[test]
fn ci_settings_timeout_is_not_needed_for_a_busy_load_to_stop_on_sigterm() {
    let run = Stilt::tiltfile(&format!("local('echo started > started.txt')\n{BUSY}"));
    let child = run.spawn();
    wait_for_file(&run.dir.path().join("started.txt"), 30);
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), Signal::SIGTERM).unwrap();
    let out = run.collect(child);
    reports_written(&out, 143);
    assert_quick(Instant::now(), sent, Duration::from_secs(10));
}

#[test]
fn sigint_stops_a_busy_load() {
    let run = Stilt::tiltfile(&format!("local('echo started > started.txt')\n{BUSY}"));
    let child = run.spawn();
    wait_for_file(&run.dir.path().join("started.txt"), 30);
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), Signal::SIGINT).unwrap();
    reports_written(&run.collect(child), 130);
}

#[test]
fn read_file_of_an_endless_file_fails_clearly() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true')\nx = read_file('/dev/zero')\n").run();
    reports_written(&out, 5);
    assert!(out.stderr.contains("Tiltfile:2:"), "{}", out.stderr);
    assert!(out.stderr.contains("larger than 256 MiB"), "{}", out.stderr);
}

#[test]
fn local_output_is_bounded() {
    let out =
        Stilt::tiltfile("local_resource('a', cmd='true')\nx = local('head -c 300000000 /dev/zero', quiet=True)\n")
            .run();
    reports_written(&out, 5);
    assert!(out.stdout.contains("error: the output is larger than 256 MiB"), "{}", out.stdout);
    assert!(out.junit.as_deref().unwrap().contains("larger than 256 MiB"));
}

#[test]
fn a_slow_local_is_stopped_by_the_timeout() {
    let run =
        Stilt::tiltfile("local_resource('a', cmd='true')\nlocal('echo $$ > local.pid; exec sleep 300', quiet=True)\n")
            .args(&["--timeout", "2s"]);
    let dir = run.dir.path().to_path_buf();
    let out = run.run();
    reports_written(&out, 3);
    let pid: i32 = std::fs::read_to_string(dir.join("local.pid")).unwrap().trim().parse().unwrap();
    assert!(!crate::harness::pid_alive(pid), "the local() process survived");
}

#[test]
fn while_loops_break_and_continue_as_before() {
    let out = Stilt::tiltfile(
        "i = 0\nn = 0\nwhile True:\n    i += 1\n    if i % 2:\n        continue\n    n += 1\n    if i >= 100000:\n        break\nlocal_resource('r%d' % n, cmd='true')\n",
    )
    .run();
    out.expect_code(0);
    assert!(out.stdout.contains("r50000"), "{}", out.stdout);
}

fn nested(open: &str, close: &str, n: usize) -> String {
    format!("local_resource('a', cmd='true')\nx = {}1{}\n", open.repeat(n), close.repeat(n))
}

#[test]
fn deep_nesting_loads_like_tilt() {
    for src in [
        nested("[", "]", 50_000),
        nested("(", ")", 50_000),
        nested("-", "", 50_000),
        format!("local_resource('a', cmd='true')\nx = 1{}\n", "+1".repeat(30_000)),
    ] {
        let out = Stilt::tiltfile(&src).run();
        out.expect_code(0);
        assert!(out.junit.is_some());
    }
}

#[test]
fn nesting_past_the_limit_is_a_located_error() {
    for src in [nested("[", "]", 150_000), nested("-", "", 150_000), nested("(", ")", 150_000)] {
        let out = Stilt::tiltfile(&src).run();
        reports_written(&out, 5);
        assert!(out.stderr.contains("Tiltfile:2:"), "{}", out.stderr);
        assert!(out.stderr.contains("nested too deeply"), "{}", out.stderr);
    }
}

#[test]
fn a_non_utf8_tiltfile_loads_with_replacement_characters() {
    let run = Stilt::tiltfile("");
    std::fs::write(run.dir.path().join("Tiltfile"), b"# caf\xe9\nlocal_resource('a', cmd='echo caf\xe9-ok')\n")
        .unwrap();
    let out = run.run();
    out.expect_code(0);
    assert!(out.stdout.contains("caf\u{fffd}-ok"), "{}", out.stdout);
}

/// A Secret in namespace UNIQ (deployed to the test cluster: Secrets are Kubernetes objects).
const SECRET_YAML: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\n  namespace: UNIQ\nstringData:\n  password: pa55word-value\ndata:\n  token: dG9rZW4tc2VjcmV0LXZhbHVl\n  pin: MTIzNA==\n";

/// `stilt ci` of `tiltfile` with `secret.yaml` holding [`SECRET_YAML`] in a namespace of its own.
fn with_secret(tiltfile: &str) -> (Namespace, Stilt) {
    let u = unique("sec");
    let yaml = format!("{}{}", namespace_yaml(&u), SECRET_YAML.replace("UNIQ", &u));
    (Namespace(u), Stilt::tiltfile(tiltfile).file("secret.yaml", &yaml))
}

/// Every sink: terminal, log dir, JUnit, JSON report, GitHub summary and annotations.
#[test]
fn secrets_and_masked_env_values_never_reach_a_sink() {
    let (_ns, run) = with_secret(
        "k8s_yaml('secret.yaml')\n\
         local_resource('leak', cmd='echo pw=pa55word-value tok=token-secret-value pin=1234 env=$MY_TOKEN; echo pa55word-value >&2; exit 1')\n",
    );
    let run = run.env("MY_TOKEN", "env-token-value").env("GITHUB_STEP_SUMMARY", "").args(&[
        "--mask-env",
        "MY_TOKEN",
        "--ci-output",
        "github",
    ]);
    let summary = run.dir.path().join("summary.md");
    let run = run.env("GITHUB_STEP_SUMMARY", summary.to_str().unwrap());
    let out = run.run();
    out.expect_code(1);
    let logs = std::fs::read_to_string(out.dir.join("out/logs/leak.log")).unwrap();
    let report = serde_json::to_string(out.report()).unwrap();
    let summary = std::fs::read_to_string(&summary).unwrap();
    let junit = out.junit.clone().unwrap();
    // `::add-mask::VALUE` is how GitHub is told what to hide; the runner never shows it.
    let stdout = out.stdout.lines().filter(|l| !l.starts_with("::add-mask::")).collect::<Vec<_>>().join("\n");
    for (sink, text) in [
        ("stdout", &stdout),
        ("stderr", &out.stderr),
        ("log file", &logs),
        ("JUnit", &junit),
        ("JSON", &report),
        ("summary", &summary),
    ] {
        for raw in ["pa55word-value", "token-secret-value", "env-token-value", "cGE1NXdvcmQtdmFsdWU="] {
            assert!(!text.contains(raw), "{raw} in the {sink}:\n{text}");
        }
    }
    assert!(logs.contains("pw=[redacted secret db-creds:password] tok=[redacted secret db-creds:token]"), "{logs}");
    assert!(logs.contains("pin=1234"), "values shorter than 5 bytes are kept, as in Tilt: {logs}");
    assert!(logs.contains("env=***"), "{logs}");
    assert!(out.stdout.contains("[redacted secret db-creds:password]"), "{}", out.stdout);
    assert!(junit.contains("[redacted secret db-creds:password]"), "{junit}");
    assert!(out.stdout.contains("::add-mask::pa55word-value"), "GitHub masks the value too: {}", out.stdout);
    let annotations: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("::error")).collect();
    assert!(!annotations.is_empty(), "{}", out.stdout);
}

#[test]
fn secrets_logged_during_the_load_are_redacted_in_files() {
    let (_ns, run) = with_secret(
        "local('echo early pa55word-value')\nk8s_yaml('secret.yaml')\nlocal('echo late pa55word-value')\nlocal_resource('a', cmd='true')\n",
    );
    let out = run.args(&["--output-snapshot-on-exit", "out/snapshot.json"]).run();
    out.expect_code(0);
    assert!(out.stdout.contains("late [redacted secret db-creds:password]"), "live, once known: {}", out.stdout);
    let tiltfile_log = std::fs::read_to_string(out.dir.join("out/logs/Tiltfile.log")).unwrap();
    assert!(tiltfile_log.contains("early [redacted secret db-creds:password]"), "{tiltfile_log}");
    assert!(!out.junit.clone().unwrap().contains("pa55word-value"));
    // Tilt's snapshot holds the live view's log, which saw the early line before the Secret
    let snapshot = std::fs::read_to_string(out.dir.join("out/snapshot.json")).unwrap();
    assert!(snapshot.contains("early [redacted secret db-creds:password]"), "{snapshot}");
    assert!(!snapshot.contains("pa55word-value"), "{snapshot}");
}

#[test]
fn disable_scrub_keeps_secret_values() {
    let (_ns, run) = with_secret(
        "secret_settings(disable_scrub=True)\nk8s_yaml('secret.yaml')\nlocal_resource('a', cmd='echo pa55word-value')\n",
    );
    let out = run.run();
    out.expect_code(0);
    assert!(out.stdout.contains("pa55word-value"), "{}", out.stdout);
}
