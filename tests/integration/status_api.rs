//! The status API while a run is in progress, read by `stilt get session` and `describe`.

use crate::harness::{Stilt, free_port, stilt_bin, wait_for_file};
use std::process::Command;

fn stilt_in(dev: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(stilt_bin())
        .args(args)
        .env_remove("TILT_PORT")
        .env_remove("TILT_CONFIG")
        .env("TILT_DEV_DIR", dev)
        .output()
        .unwrap()
}

#[test]
fn get_and_describe_session_while_running() {
    let port = free_port().to_string();
    // Tilt's client config of this test only: `stilt get` finds the run through its entry.
    let dev = tempfile::tempdir().unwrap();
    let stilt = |args: &[&str]| stilt_in(dev.path(), args);
    let run = Stilt::tiltfile(
        "local_resource('gate', serve_cmd='echo yes > started; exec sleep 300', readiness_probe=probe(period_secs=1, exec=exec_action(['test', '-f', 'go'])))\n\
         local_resource('after', cmd='echo after', resource_deps=['gate'])\n",
    )
    .args(&["--port", &port])
    .env("TILT_DEV_DIR", dev.path().to_str().unwrap());
    let child = run.spawn();
    let dir = run.dir.path().to_path_buf();
    wait_for_file(&dir.join("started"), 30);

    let out = stilt(&["get", "session", "Tiltfile", "-o", "json", "--port", &port]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "Session");
    assert_eq!(v["metadata"]["name"], "Tiltfile");
    assert_eq!(v["status"]["done"], false);
    let names: Vec<&str> =
        v["status"]["targets"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["after:update", "gate:serve", "tiltfile:update"]);
    assert_eq!(v["status"]["targets"][0]["state"]["waiting"]["waitReason"], "waiting-for-dep");

    let out = stilt(&["get", "session", "-o", "json", "--port", &port]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["kind"], "List");
    assert_eq!(v["items"][0]["kind"], "Session");

    let out = stilt(&["get", "session", "Tiltfile", "-o", "yaml", "--port", &port]);
    let yaml = String::from_utf8_lossy(&out.stdout);
    assert!(yaml.contains("kind: Session"), "{yaml}");
    assert!(yaml.lines().any(|l| l.trim().strip_prefix("pid: ").is_some_and(|p| p.parse::<u32>().is_ok())), "{yaml}");

    let out = stilt(&["describe", "session", "--port", &port]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Name:         Tiltfile"), "{text}");
    assert!(text.contains("Exit Condition:  ci"), "{text}");

    // Without the client-config entry, the status port is asked directly.
    let elsewhere = tempfile::tempdir().unwrap();
    let out = stilt_in(elsewhere.path(), &["get", "session", "Tiltfile", "-o", "json", "--port", &port]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(std::fs::read_to_string(dev.path().join("config")).unwrap().contains(&format!("tilt-{port}")));

    let out = stilt(&["get", "session", "nope", "--port", &port]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"nope\" not found"));

    std::fs::write(dir.join("go"), "").unwrap();
    let out = run.collect(child);
    out.expect_code(0);
}

#[test]
fn get_session_without_a_server_fails_clearly() {
    let port = free_port().to_string();
    let dev = tempfile::tempdir().unwrap();
    let out = stilt_in(dev.path(), &["get", "session", "--port", &port]);
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed to reach a running stilt"));
}

#[test]
fn sigterm_removes_the_tilt_client_config_entry() {
    let port = free_port().to_string();
    let dev = tempfile::tempdir().unwrap();
    let run = Stilt::tiltfile(
        "local_resource('s', serve_cmd='echo yes > started; exec sleep 300', \
         readiness_probe=probe(period_secs=1, exec=exec_action(['test', '-f', 'go'])))\n",
    )
    .args(&["--port", &port])
    .env("TILT_DEV_DIR", dev.path().to_str().unwrap());
    let child = run.spawn();
    wait_for_file(&run.dir.path().join("started"), 30);
    let config = dev.path().join("config");
    assert!(std::fs::read_to_string(&config).unwrap().contains(&format!("tilt-{port}")));
    let pid = nix::unistd::Pid::from_raw(i32::try_from(child.id()).unwrap());
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    run.collect(child).expect_code(143);
    let after = std::fs::read_to_string(&config).unwrap();
    assert!(!after.contains(&format!("tilt-{port}")), "{after}");
}
