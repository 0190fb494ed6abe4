//! Bad input: each case gives a clear message (with file:line:col where it applies), its
//! documented exit code, and the reports are still written.

use crate::harness::{Output, Stilt};

/// Exit 5, `Error: <Tiltfile>:<line>:<col>: ...` containing `needle`, reports written.
fn expect_tiltfile_error(out: &Output, line_col: &str, needle: &str) {
    out.expect_code(5);
    let err_line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("Error: "))
        .unwrap_or_else(|| panic!("no Error line: {}", out.stderr));
    let at = format!("Tiltfile:{line_col}");
    assert!(err_line.contains(&at), "expected {at} in {err_line:?}");
    assert!(
        err_line.contains(needle) || out.stdout.contains(needle),
        "expected {needle:?} in\n{err_line}\n{}",
        out.stdout
    );
    assert_eq!(out.report()["stilt"]["failureClass"], "TiltfileError");
    assert_eq!(out.report()["stilt"]["exitCode"], 5);
    let case = out.case("tiltfile:update");
    assert!(
        matches!(case.status, quick_junit::TestCaseStatus::NonSuccess { kind: quick_junit::NonSuccessKind::Error, .. }),
        "{case:?}"
    );
    let junit = out.junit.as_deref().unwrap();
    assert!(
        junit.contains(&format!("line=\"{}\"", line_col.split(':').next().unwrap())),
        "file/line on the case: {junit}"
    );
}

#[test]
fn syntax_error() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true')\nx = (\n").run();
    out.expect_code(5);
    assert!(out.stderr.contains("Tiltfile:2:") || out.stderr.contains("Tiltfile:3:"), "{}", out.stderr);
    assert!(out.junit.is_some() && out.report.is_some());
}

#[test]
fn runtime_error_undefined_name() {
    let out = Stilt::tiltfile("x = 1\n\nprint(undefined_name)\n").run();
    expect_tiltfile_error(&out, "3:7", "undefined_name");
}

#[test]
fn wrong_argument_type() {
    let out = Stilt::tiltfile("\nlocal_resource(1, cmd='true')\n").run();
    expect_tiltfile_error(&out, "2:1", "local_resource");
}

#[test]
fn unknown_keyword_argument() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true', bogus=1)\n").run();
    expect_tiltfile_error(&out, "1:1", "bogus");
}

#[test]
fn missing_file_in_read_file() {
    let out = Stilt::tiltfile("\n\nread_file('nope.txt')\n").run();
    expect_tiltfile_error(&out, "3:1", "nope.txt");
}

#[test]
fn missing_file_in_load() {
    let out = Stilt::tiltfile("load('./missing.star', 'x')\n").run();
    out.expect_code(5);
    assert!(out.stderr.contains("missing.star"), "{}", out.stderr);
    assert!(out.stderr.contains("Tiltfile:1:"), "{}", out.stderr);
}

#[test]
fn missing_file_in_include() {
    let out = Stilt::tiltfile("\ninclude('./missing/Tiltfile')\n").run();
    expect_tiltfile_error(&out, "2:1", "missing");
}

#[test]
fn cycle_in_resource_deps() {
    let out = Stilt::tiltfile(
        "local_resource('a', cmd='true', resource_deps=['b'])\nlocal_resource('b', cmd='true', resource_deps=['a'])\n",
    )
    .run();
    out.expect_code(5);
    assert!(out.stderr.to_lowercase().contains("cycle"), "{}", out.stderr);
}

#[test]
fn unknown_resource_in_resource_deps_is_reported() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true', resource_deps=['nope'])\n").run();
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(all.contains("nope"), "the unknown name is named: {all}");
}

#[test]
fn duplicate_resource_names() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true')\nlocal_resource('a', cmd='true')\n").run();
    expect_tiltfile_error(&out, "2:1", "a");
}

#[test]
fn bad_duration_in_ci_settings() {
    let out = Stilt::tiltfile("ci_settings(timeout='ten minutes')\n").run();
    expect_tiltfile_error(&out, "1:1", "ten minutes");
}

/// Exit 2, clap's message on stderr, `Error: <needle…>` as the last line, and — since the
/// report flags were given — JUnit and JSON reports that say so.
fn expect_usage_error(out: &Output, needle: &str) {
    out.expect_code(2);
    let last = out.stderr.trim_end().lines().last().unwrap_or_default();
    assert!(last.starts_with("Error: ") && last.contains(needle), "last stderr line {last:?} in\n{}", out.stderr);
    assert!(out.stderr.contains(&format!("error: {}", &last["Error: ".len()..])), "clap's own message: {}", out.stderr);
    let report = out.report();
    assert_eq!(report["stilt"]["exitCode"], 2);
    assert_eq!(report["stilt"]["failureClass"], "Usage");
    let case = out.case("tiltfile:update");
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess { kind: quick_junit::NonSuccessKind::Error, message, ty, .. } => {
            assert_eq!(ty.as_ref().map(quick_junit::XmlString::as_str), Some("Usage"));
            assert!(message.as_ref().is_some_and(|m| m.as_str().contains(needle)), "{message:?}");
        }
        other => panic!("tiltfile:update should be an error: {other:?}"),
    }
}

#[test]
fn bad_duration_flag_is_a_usage_error() {
    let out = Stilt::tiltfile("local_resource('a', cmd='touch ran')\n").args(&["--timeout", "soon"]).run();
    expect_usage_error(&out, "invalid duration \"soon\"");
    assert!(!out.dir.join("ran").exists(), "nothing runs");
}

#[test]
fn negative_timeout_is_a_usage_error() {
    for spelling in [&["--timeout", "-1s"][..], &["--timeout=-5m"][..]] {
        let out = Stilt::tiltfile("local_resource('a', cmd='touch ran')\n").args(spelling).run();
        expect_usage_error(&out, "negative duration");
        assert!(!out.dir.join("ran").exists(), "nothing runs");
    }
}

#[test]
fn unknown_flag_is_a_usage_error_not_a_resource_name() {
    let out = Stilt::tiltfile("local_resource('a', cmd='touch ran')\n").args(&["--bogus", "--port", "0"]).run();
    expect_usage_error(&out, "unexpected argument '--bogus' found");
    assert!(!out.stderr.contains("could not be found"), "{}", out.stderr);
    assert!(!out.dir.join("ran").exists());
}

#[test]
fn port_out_of_range_is_a_usage_error() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true')\n").args(&["--port", "99999"]).run();
    expect_usage_error(&out, "99999");
}

#[test]
fn report_flags_are_found_in_both_spellings_after_the_bad_one() {
    let s = Stilt::tiltfile("local_resource('a', cmd='true')\n").no_reports();
    let d = s.dir.path().to_path_buf();
    let out = s.args(&["--nope", "--junit=j/junit.xml", "--report-json", "r.json", "--log-dir", "logs"]).run();
    out.expect_code(2);
    let junit = std::fs::read_to_string(d.join("j/junit.xml")).expect("JUnit written");
    assert!(junit.contains("type=\"Usage\""), "{junit}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(d.join("r.json")).unwrap()).unwrap();
    assert_eq!(report["stilt"]["exitCode"], 2);
    assert!(out.stderr.trim_end().lines().last().unwrap().starts_with("Error: unexpected argument '--nope'"));
}

#[test]
fn tiltfile_args_are_bare_words_or_after_the_separator() {
    let tf = "config.define_string_list('to-run', args=True)\nconfig.define_bool('flag')\ncfg = config.parse()\nfor n in cfg.get('to-run', []):\n    local_resource(n, cmd='touch %s.ran' % n)\nif cfg.get('flag'):\n    local_resource('flagged', cmd='touch flagged.ran')\n";
    // a bare word before a stilt flag, another after it, one more after `--`
    let out = Stilt::tiltfile(tf).no_port_flag().args(&["a", "--port", "0", "b", "--", "c"]).run();
    out.expect_code(0);
    for n in ["a", "b", "c"] {
        assert!(out.dir.join(format!("{n}.ran")).exists(), "{n}: {}{}", out.stdout, out.stderr);
    }
    assert!(!out.dir.join("flagged.ran").exists());
    // a Tiltfile flag after `--` (before the bare words, as Go's flag package wants)
    let out = Stilt::tiltfile(tf).args(&["--", "--flag", "d"]).run();
    out.expect_code(0);
    assert!(out.dir.join("flagged.ran").exists() && out.dir.join("d.ran").exists(), "{}", out.stdout);
    // without `--` the Tiltfile's flag is one of stilt's: a usage error
    let out = Stilt::tiltfile(tf).args(&["a", "--flag"]).run();
    expect_usage_error(&out, "unexpected argument '--flag' found");
}

#[test]
fn help_and_version_are_not_errors() {
    let out = Stilt::tiltfile("").no_reports().no_port_flag().args(&["--help"]).run();
    out.expect_code(0);
    assert!(out.stdout.contains("--timeout"), "{}", out.stdout);
    assert!(!out.stderr.contains("Error:"), "{}", out.stderr);
}

#[test]
fn other_commands_end_bad_flags_with_an_error_line() {
    let out = std::process::Command::new(crate::harness::stilt_bin()).args(["down", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.trim_end().lines().last().unwrap().starts_with("Error: unexpected argument '--bogus'"), "{stderr}");
}

#[test]
fn fail_builtin() {
    let out = Stilt::tiltfile("\nfail('missing tool: helm')\n").run();
    expect_tiltfile_error(&out, "2:1", "missing tool: helm");
}

#[test]
fn unsupported_builtin_names_itself() {
    let out = Stilt::tiltfile("\n\ndocker_build('img', '.')\n").run();
    expect_tiltfile_error(&out, "3:1", "docker_build");
}

#[test]
fn tiltfile_not_found() {
    let out = Stilt::tiltfile("").args(&["-f", "does/not/exist/Tiltfile"]).run();
    out.expect_code(5);
    assert!(out.stderr.contains("does/not/exist/Tiltfile"), "{}", out.stderr);
    assert_eq!(out.report()["stilt"]["failureClass"], "TiltfileError");
    assert!(out.junit.is_some());
}

#[test]
fn port_in_use_exits_4_with_reports() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let out = Stilt::tiltfile("local_resource('a', cmd='touch ran')\n").args(&["--port", &port]).run();
    out.expect_code(4);
    assert!(out.stderr.contains(&format!("another process on port {port}")), "{}", out.stderr);
    assert!(!out.dir.join("ran").exists(), "nothing runs when the port is taken");
    assert_eq!(out.report()["stilt"]["failureClass"], "Environment");
    assert!(out.junit.is_some());
    let last = out.stderr.trim_end().lines().last().unwrap();
    assert!(last.starts_with("Error: "), "the last line is the error, not a hint: {}", out.stderr);
}

#[test]
fn bad_tilt_port_env_is_a_usage_error() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true')\n")
        .env("TILT_PORT", "not-a-port")
        .no_port_flag()
        .no_reports()
        .run();
    out.expect_code(2);
    assert!(out.stderr.contains("not-a-port"), "{}", out.stderr);
    assert!(out.stderr.trim_end().lines().last().unwrap().starts_with("Error: "), "{}", out.stderr);
}

#[test]
fn tiltfile_without_resources_fails_at_once() {
    let out = Stilt::tiltfile("print('nothing here')\n").run();
    out.expect_code(5);
    assert!(out.stderr.contains("Error: the Tiltfile defines no resources"), "{}", out.stderr);
}

#[test]
fn unknown_resource_in_args() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true')\n").args(&["--", "nope"]).run();
    out.expect_code(5);
    assert!(out.stderr.contains("nope"), "{}", out.stderr);
}
