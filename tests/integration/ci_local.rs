//! `stilt ci` on Tiltfiles of local resources: success, failure, timeouts, probes, deps, args,
//! parallelism, log filters, reports.

use crate::harness::{StatusExt, Stilt, free_port};

#[test]
fn passing_stack_succeeds_with_reports_and_log_files() {
    let out = Stilt::scenario("pass").run();
    out.expect_code(0);
    assert!(out.stdout.contains("SUCCESS. All workloads are healthy."), "{}", out.stdout);
    assert!(out.stdout.contains("         lint │ Running cmd: echo linting; echo \"lint ok\""), "{}", out.stdout);
    assert!(out.stdout.contains("         lint │ lint ok"), "{}", out.stdout);
    assert!(out.stdout.contains("Loading Tiltfile at: "), "{}", out.stdout);
    assert!(out.stdout.contains("Successfully loaded Tiltfile ("), "{}", out.stdout);
    // Deps: smoke ran after the server became ready.
    assert!(out.log_file("smoke").contains("smoke passed"));
    assert!(out.log_file("lint").contains("lint ok"));
    assert!(out.dir.join("out/logs/docs.log").exists(), "every resource gets a log file");
    // JSON report: the Session plus the stilt section.
    let r = out.report();
    assert_eq!(r["kind"], "Session");
    assert_eq!(r["apiVersion"], "tilt.dev/v1alpha1");
    assert_eq!(r["status"]["done"], true);
    assert_eq!(r["spec"]["exitCondition"], "ci");
    assert_eq!(r["stilt"]["exitCode"], 0);
    assert_eq!(r["stilt"]["result"], "success");
    assert_eq!(out.target_state("docs:update"), serde_json::json!({}));
    assert_eq!(out.target_state("server:serve")["active"]["ready"], true);
    // JUnit: a case per target, the on-demand one skipped.
    let junit = out.junit();
    let names: Vec<&str> = junit.test_suites[0].test_cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["build:update", "docs:update", "lint:update", "server:serve", "smoke:update", "tiltfile:update"]
    );
    assert!(out.case("docs:update").status.is_skipped_case());
    assert!(out.case("server:serve").status.is_success_case());
    assert_eq!(junit.failures, 0);
}

#[test]
fn failing_cmd_stops_the_run_and_is_a_junit_failure() {
    let out = Stilt::scenario("fail").run();
    out.expect_code(1);
    assert!(out.stderr.contains("Error: Command \"echo \\\"running migrations\\\""), "{}", out.stderr);
    assert!(out.stderr.contains("failed: exit status 3"), "{}", out.stderr);
    assert!(out.stdout.contains("      migrate │ ERROR: Build Failed: Command"), "{}", out.stdout);
    assert!(out.stdout.contains("migration 0042 failed"), "stderr of the command is in the log: {}", out.stdout);
    let case = out.case("migrate:update");
    match &case.status {
        quick_junit::TestCaseStatus::NonSuccess { kind, message, ty, .. } => {
            assert_eq!(*kind, quick_junit::NonSuccessKind::Failure);
            assert_eq!(ty.as_ref().unwrap().as_str(), "UpdateFailed");
            assert!(message.as_ref().unwrap().as_str().ends_with("failed: exit status 3"));
        }
        s => panic!("{s:?}"),
    }
    assert!(case.system_out.unwrap().as_str().contains("migration 0042 failed"));
    assert!(out.case("api:serve").status.is_skipped_case());
    assert!(!out.dir.join("api.ran").exists());
    let r = out.report();
    assert_eq!(r["stilt"]["failureClass"], "UpdateFailed");
    assert_eq!(r["stilt"]["failedTarget"], "migrate:update");
    assert_eq!(r["stilt"]["exitCode"], 1);
}

#[test]
fn global_timeout_exits_3_with_tilts_summary() {
    let out = Stilt::tiltfile("local_resource('slow', cmd='sleep 30')\nlocal_resource('after', cmd='true')\n")
        .args(&["--timeout", "1s"])
        .run();
    out.expect_code(3);
    assert!(
        out.stderr.contains("Error: Timeout after 1s: 1 resources waiting (after:update waiting-for-local), 1 resources not ready (slow:update)"),
        "{}",
        out.stderr
    );
    assert_eq!(out.report()["stilt"]["failureClass"], "GlobalTimeout");
}

#[test]
fn ci_settings_timeout_beats_the_flag() {
    let out = Stilt::tiltfile("ci_settings(timeout='1s')\nlocal_resource('slow', cmd='sleep 30')\n")
        .args(&["--timeout", "30m"])
        .run();
    out.expect_code(3);
    assert!(out.stderr.contains("Error: Timeout after 1s"), "{}", out.stderr);
    assert_eq!(out.report()["spec"]["ci"]["timeout"], "1s");
}

#[test]
fn readiness_timeout_fails_a_server_that_never_gets_ready() {
    let out = Stilt::tiltfile(
        "ci_settings(readiness_timeout='1s')\nlocal_resource('srv', serve_cmd='sleep 300', readiness_probe=probe(period_secs=1, exec=exec_action(['false'])))\n",
    )
    .run();
    out.expect_code(3);
    assert!(out.stderr.contains("Error: Readiness timeout after 1s: target srv:serve not ready"), "{}", out.stderr);
    assert!(out.stdout.contains("Readiness probe failed: exec probe false failed: exit status 1"), "{}", out.stdout);
}

#[test]
fn serve_cmd_exit_fails_the_run() {
    let out = Stilt::tiltfile(
        "local_resource('srv', serve_cmd='echo starting; exit 2')\nlocal_resource('x', cmd='sleep 5')\n",
    )
    .run();
    out.expect_code(1);
    assert!(out.stderr.contains("exited with non-zero status (exit status 2)"), "{}", out.stderr);
    assert_eq!(out.report()["stilt"]["failureClass"], "ServeExited");
}

#[test]
fn every_probe_kind_gates_dependents() {
    let (h, t) = (free_port(), free_port());
    let out = Stilt::scenario("probes").env("HTTP_PORT", &h.to_string()).env("TCP_PORT", &t.to_string()).run();
    out.expect_code(0);
    assert!(out.log_file("client").contains("all three ready"));
    for target in ["web:serve", "tcp:serve", "exec:serve"] {
        assert_eq!(out.target_state(target)["active"]["ready"], true, "{target}");
    }
}

#[test]
fn tiltfile_args_select_resources_and_their_deps() {
    let out = Stilt::scenario("args").args(&["--", "api"]).run();
    out.expect_code(0);
    assert!(out.dir.join("db.ran").exists() && out.dir.join("api.ran").exists());
    assert!(!out.dir.join("web.ran").exists());
    assert_eq!(out.target_state("web:update"), serde_json::json!({"disabled": {}}));
    assert!(out.case("web:update").status.is_skipped_case());
}

#[test]
fn config_parse_and_set_enabled_resources() {
    let out = Stilt::tiltfile(
        "config.define_string_list('to-run', args=True)\ncfg = config.parse()\nconfig.set_enabled_resources(cfg.get('to-run', []))\n\
         local_resource('a', cmd='touch a.ran')\nlocal_resource('b', cmd='touch b.ran')\n",
    )
    .args(&["--", "b"])
    .run();
    out.expect_code(0);
    assert!(!out.dir.join("a.ran").exists());
    assert!(out.dir.join("b.ran").exists());
}

#[test]
fn env_and_dir_reach_the_commands() {
    let out = Stilt::tiltfile(
        "local_resource('a', cmd='echo \"$GREETING from $(basename $PWD)\" > ../a.out', env={'GREETING': 'hello'}, dir='sub')\n\
         os.putenv('FROM_TILTFILE', 'yes')\nlocal_resource('b', cmd='echo $FROM_TILTFILE > b.out')\n",
    )
    .file("sub/.keep", "")
    .run();
    out.expect_code(0);
    assert_eq!(std::fs::read_to_string(out.dir.join("a.out")).unwrap(), "hello from sub\n");
    assert_eq!(std::fs::read_to_string(out.dir.join("b.out")).unwrap(), "yes\n");
}

#[test]
fn log_filters() {
    let tf = "local_resource('a', cmd='echo from-a')\nlocal_resource('b', serve_cmd='echo from-b-runtime; touch b.up; exec sleep 300', \
              readiness_probe=probe(period_secs=1, exec=exec_action(['test', '-f', 'b.up'])))\n";
    let out = Stilt::tiltfile(tf).args(&["--log-resource", "a"]).run();
    out.expect_code(0);
    assert!(out.stdout.lines().any(|l| l == "from-a"), "one resource: no prefix\n{}", out.stdout);
    assert!(!out.stdout.contains("from-b"), "{}", out.stdout);
    let out = Stilt::tiltfile(tf).args(&["--log-source", "runtime"]).run();
    assert!(out.stdout.contains("            b │ from-b-runtime"), "{}", out.stdout);
    assert!(!out.stdout.contains("from-a"), "{}", out.stdout);
    let out = Stilt::tiltfile("local_resource('a', cmd='echo noise')\nlocal_resource('b', cmd='exit 1')\n")
        .args(&["--log-level", "error"])
        .run();
    out.expect_code(1);
    assert!(!out.stdout.contains("noise"), "{}", out.stdout);
    assert!(out.stdout.contains("            b │ ERROR: Build Failed"), "{}", out.stdout);
}

#[test]
fn parallel_resources_overlap_and_serial_ones_do_not() {
    let step = |n: &str, p: &str| {
        format!(
            "local_resource('{n}', cmd='echo start-{n} >> log; sleep 0.3; echo end-{n} >> log', allow_parallel={p})\n"
        )
    };
    let out = Stilt::tiltfile(&[step("a", "True"), step("b", "True"), step("c", "True")].concat()).run();
    out.expect_code(0);
    let log = std::fs::read_to_string(out.dir.join("log")).unwrap();
    assert!(log.lines().take(3).all(|l| l.starts_with("start-")), "{log}");
    let out = Stilt::tiltfile(&[step("a", "False"), step("b", "False")].concat()).run();
    out.expect_code(0);
    assert_eq!(std::fs::read_to_string(out.dir.join("log")).unwrap(), "start-a\nend-a\nstart-b\nend-b\n");
}

#[test]
fn max_parallel_updates_from_update_settings() {
    let step = |n: &str| {
        format!(
            "local_resource('{n}', cmd='echo start-{n} >> log; sleep 0.3; echo end-{n} >> log', allow_parallel=True)\n"
        )
    };
    let tf = format!("update_settings(max_parallel_updates=1)\n{}{}", step("a"), step("b"));
    let out = Stilt::tiltfile(&tf).run();
    out.expect_code(0);
    assert_eq!(std::fs::read_to_string(out.dir.join("log")).unwrap(), "start-a\nend-a\nstart-b\nend-b\n");
}

#[test]
fn a_command_that_cannot_start_fails_clearly() {
    let out = Stilt::tiltfile("local_resource('a', cmd=['/nonexistent/tool', '--flag'])\n").run();
    out.expect_code(1);
    assert!(
        out.stderr
            .contains("Error: Command \"/nonexistent/tool --flag\" failed: failed to start \"/nonexistent/tool\""),
        "{}",
        out.stderr
    );
    let out = Stilt::tiltfile("local_resource('s', serve_cmd=['/nonexistent/server'])\n").run();
    out.expect_code(1);
    assert!(
        out.stderr.contains("Error: failed to start serve_cmd: failed to start \"/nonexistent/server\""),
        "{}",
        out.stderr
    );
}

#[test]
fn a_command_that_cannot_start_beside_others_fails_clearly() {
    // Two commands in one turn fork on the blocking pool (a lone one forks on the dispatcher).
    let tf = "local_resource('ok', cmd='sleep 0.2', allow_parallel=True)\n\
              local_resource('bad', cmd=['/nonexistent/tool'], allow_parallel=True)\n";
    let out = Stilt::tiltfile(tf).run();
    out.expect_code(1);
    assert!(
        out.stderr.contains("Error: Command \"/nonexistent/tool\" failed: failed to start \"/nonexistent/tool\""),
        "{}",
        out.stderr
    );
}

#[test]
fn commands_see_their_own_argv0_and_path() {
    // `$0` stays `sh` (not the resolved path), and a program is found on the Tiltfile's PATH.
    let out = Stilt::tiltfile(
        "local('chmod +x bin/mytool', quiet=True)\n\
         os.putenv('PATH', os.getcwd() + '/bin:' + os.getenv('PATH'))\n\
         local_resource('a', cmd='echo \"$0\" > zero.out; mytool > tool.out')\n\
         local_resource('b', cmd=['mytool'])\n",
    )
    .file("bin/mytool", "#!/bin/sh\necho from-mytool\n")
    .run();
    out.expect_code(0);
    assert_eq!(std::fs::read_to_string(out.dir.join("zero.out")).unwrap(), "sh\n");
    assert_eq!(std::fs::read_to_string(out.dir.join("tool.out")).unwrap(), "from-mytool\n");
    assert!(out.log_file("b").contains("from-mytool"));
}

#[test]
fn a_report_that_cannot_be_written_fails_a_passing_run() {
    // `blocker` is a file, so `blocker/junit.xml` cannot be created (even as root).
    let run = Stilt::tiltfile("local_resource('a', cmd='true')\n").file("blocker", "").no_reports();
    let junit = run.dir.path().join("blocker/junit.xml");
    let report = run.dir.path().join("out/report.json");
    let out = run.args(&["--junit", junit.to_str().unwrap(), "--report-json", report.to_str().unwrap()]).run();
    out.expect_code(1);
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with(&format!("Error: failed to write JUnit report to {}: ", junit.display())),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains("SUCCESS"), "{}", out.stdout);
    // The JSON report, written after the JUnit file, records why the run failed.
    let r = out.report();
    assert_eq!(r["stilt"]["exitCode"], 1);
    assert_eq!(r["stilt"]["failureClass"], "ReportFailed");
    assert_eq!(out.target_state("a:update")["terminated"]["error"], serde_json::Value::Null);
}

#[test]
fn a_report_that_cannot_be_written_keeps_a_failed_runs_code() {
    let run = Stilt::tiltfile("fail('missing tool: helm')\n").file("blocker", "").no_reports();
    let junit = run.dir.path().join("blocker/junit.xml");
    let out = run.args(&["--junit", junit.to_str().unwrap()]).run();
    out.expect_code(5);
    assert!(
        out.stderr.contains(&format!("stilt: failed to write JUnit report to {}: ", junit.display())),
        "{}",
        out.stderr
    );
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("Error: ") && last.contains("missing tool: helm"), "{}", out.stderr);
}
