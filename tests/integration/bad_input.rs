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

#[test]
fn bad_duration_flag_is_a_usage_error() {
    let out = Stilt::tiltfile("local_resource('a', cmd='true')\n").args(&["--timeout", "soon"]).no_reports().run();
    out.expect_code(2);
    assert!(out.stderr.contains("invalid duration \"soon\""), "{}", out.stderr);
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
