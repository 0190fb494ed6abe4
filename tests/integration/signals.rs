//! SIGINT/SIGTERM: everything stops, reports are written, exit 130/143, no process survives.

use crate::harness::{Stilt, pid_alive, wait_for_file};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

fn interrupt(sig: Signal, code: i32) {
    let run = Stilt::tiltfile(
        "local_resource('srv', serve_cmd='sleep 300 & echo $! > child.pid; echo $$ > srv.pid; wait')\n\
         local_resource('job', cmd='echo $$ > job.pid; sleep 300', allow_parallel=True)\n",
    );
    let child = run.spawn();
    let dir = run.dir.path().to_path_buf();
    let pids: Vec<i32> = ["child.pid", "srv.pid", "job.pid"]
        .iter()
        .map(|f| wait_for_file(&dir.join(f), 30).trim().parse().unwrap())
        .collect();
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), sig).unwrap();
    let out = run.collect(child);
    out.expect_code(code);
    let expected = if sig == Signal::SIGINT { "interrupted by SIGINT" } else { "terminated by SIGTERM" };
    assert!(out.stderr.contains(&format!("Error: {expected}")), "{}", out.stderr);
    for pid in pids {
        assert!(!pid_alive(pid), "pid {pid} survived {sig}");
    }
    // it ran, so not skipped; cut short, not failed by itself
    assert!(
        matches!(&out.case("job:update").status, quick_junit::TestCaseStatus::NonSuccess { kind: quick_junit::NonSuccessKind::Error, ty: Some(t), .. } if t.as_str() == "Aborted"),
        "{:?}",
        out.case("job:update").status
    );
    assert_eq!(out.report()["stilt"]["exitCode"], code);
}

#[test]
fn sigint_stops_everything_and_writes_reports() {
    interrupt(Signal::SIGINT, 130);
}

#[test]
fn sigterm_stops_everything_and_writes_reports() {
    interrupt(Signal::SIGTERM, 143);
}

#[test]
fn sigterm_during_tiltfile_load_kills_the_local_command() {
    let run = Stilt::tiltfile(
        "local('echo $$ > local.pid; sleep 300 & echo $! > child.pid; wait')\nlocal_resource('a', cmd='true')\n",
    );
    let child = run.spawn();
    let dir = run.dir.path().to_path_buf();
    let pids: Vec<i32> =
        ["local.pid", "child.pid"].iter().map(|f| wait_for_file(&dir.join(f), 30).trim().parse().unwrap()).collect();
    kill(Pid::from_raw(i32::try_from(child.id()).unwrap()), Signal::SIGTERM).unwrap();
    let out = run.collect(child);
    out.expect_code(143);
    for pid in pids {
        assert!(!pid_alive(pid), "local() process {pid} survived SIGTERM during load");
    }
    assert!(out.junit.is_some() && out.report.is_some(), "reports are written");
}
