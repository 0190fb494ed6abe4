//! Real Tilt's CLI (v0.37.6, built by scripts/install-ci-tools) against a running `stilt ci`:
//! `tilt get`/`describe` find stilt through the `tilt-<port>` entry stilt writes into Tilt's
//! client config, `tilt logs` reads the run's log over `/ws/view`, and the
//! `--output-snapshot-on-exit` file loads with Tilt's own snapshot types and log store
//! (tilt-snapshot-check). Each test gets its own `TILT_DEV_DIR`, so nothing touches `~/.tilt-dev`.
//!
//! Without the tilt binary these tests say so and pass, unless `STILT_CI_TOOLS_REQUIRED=1`,
//! where they fail.

use crate::harness::{Stilt, free_port, wait_for_file};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TILT_VERSION: &str = "v0.37.6";

fn tool_dir() -> PathBuf {
    if let Ok(d) = std::env::var("STILT_TILT_DIR") {
        return PathBuf::from(d);
    }
    let cache = std::env::var("XDG_CACHE_HOME")
        .map_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache"), PathBuf::from);
    cache.join("stilt").join(format!("tilt-{TILT_VERSION}"))
}

/// `(tilt, tilt-snapshot-check)`, or `None` (after saying why) when missing and not required.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let bin = tool_dir().join("bin");
    let (tilt, check) = (bin.join("tilt"), bin.join("tilt-snapshot-check"));
    if tilt.is_file() && check.is_file() {
        return Some((tilt, check));
    }
    let msg = format!("tilt {TILT_VERSION} is not built in {}; run scripts/install-ci-tools", bin.display());
    assert!(std::env::var("STILT_CI_TOOLS_REQUIRED").as_deref() != Ok("1"), "{msg}");
    eprintln!("skipping: {msg}");
    None
}

/// A Tilt settings dir of its own.
struct DevDir {
    dir: tempfile::TempDir,
    tilt: PathBuf,
}

impl DevDir {
    fn new(tilt: &Path) -> Self {
        DevDir { dir: tempfile::tempdir().unwrap(), tilt: tilt.to_path_buf() }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.tilt);
        c.args(args)
            .env("TILT_DEV_DIR", self.path())
            .env("HOME", self.path())
            .env("TILT_DISABLE_ANALYTICS", "1")
            // Tilt's cloud status check goes to loopback, never out.
            .env("TILT_CLOUD_ADDRESS", "127.0.0.1:1")
            .env("NO_COLOR", "1")
            .env_remove("TILT_CONFIG")
            .env_remove("TILT_PORT")
            .env_remove("TILT_HOST")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null());
        c
    }

    fn tilt(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs tilt, asserting success, and returns stdout.
    fn tilt_ok(&self, args: &[&str]) -> String {
        let out = self.tilt(args);
        assert!(
            out.status.success(),
            "tilt {args:?} failed ({:?})\n--- stdout\n{}\n--- stderr\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn tilt_json(&self, args: &[&str]) -> Value {
        let text = self.tilt_ok(args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("tilt {args:?}: {e}\n{text}"))
    }

    fn config(&self) -> String {
        std::fs::read_to_string(self.path().join("config")).unwrap_or_default()
    }

    fn stilt(&self, run: Stilt) -> Stilt {
        run.env("TILT_DEV_DIR", self.path().to_str().unwrap()).env("TILT_DISABLE_ANALYTICS", "1")
    }
}

/// Loads a snapshot file with tilt-snapshot-check (Tilt's own types and log store) and returns
/// its summary.
fn check_snapshot(check: &Path, file: &Path) -> Value {
    let out = Command::new(check).arg(file).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Polls `f` until it returns `Some`, for up to `secs`.
fn eventually<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn names(list: &Value) -> Vec<String> {
    list["items"].as_array().unwrap().iter().map(|i| i["metadata"]["name"].as_str().unwrap().to_string()).collect()
}

fn uiresource<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {list}"))
}

const GATED: &str = "\
local_resource('build', cmd='echo built-line', labels=['backend'])
local_resource('gate', serve_cmd='echo yes > started; echo serving-line; exec sleep 300',
    readiness_probe=probe(period_secs=1, exec=exec_action(['test', '-f', 'go'])))
local_resource('after', cmd='echo after-line', resource_deps=['gate'])
";

/// Lets a gated run finish (writes its `go` file) when dropped, so a failed assertion does not
/// leave the run waiting for its timeout.
struct Release(PathBuf);

impl Drop for Release {
    fn drop(&mut self) {
        let _ = std::fs::write(&self.0, "");
    }
}

/// A UIResource list with what differs between any two runs blanked: ids, versions, times,
/// span ids (Tilt numbers builds, stilt names them by resource).
fn comparable(list: &Value) -> Vec<Value> {
    fn blank_times(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    if (k.ends_with("Time") || k.ends_with("Since")) && !x.is_null() {
                        *x = Value::from("<time>");
                    } else if k == "spanID" || k == "uid" {
                        *x = Value::from("<id>");
                    } else {
                        blank_times(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(blank_times),
            _ => {}
        }
    }
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let mut item = item.clone();
            let meta = item["metadata"].as_object_mut().unwrap();
            for k in ["managedFields", "resourceVersion", "creationTimestamp"] {
                meta.remove(k);
            }
            blank_times(&mut item);
            // stilt does not report the serve_cmd's pid (documented).
            if let Some(local) = item["status"].get_mut("localResourceInfo").and_then(Value::as_object_mut) {
                local.remove("pid");
            }
            item
        })
        .collect()
}

fn wait_exit(child: &mut Child, secs: u64) -> Option<std::process::ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(secs) {
        if let Some(s) = child.try_wait().unwrap() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// `tilt logs` (plain, one resource, `--json`) while the gated run waits.
fn assert_logs_so_far(dev: &DevDir, p: &str) {
    // The log so far, with Tilt's resource prefixes.
    let logs = dev.tilt_ok(&["logs", "--port", p]);
    assert!(logs.lines().any(|l| l.contains("build") && l.contains("│") && l.ends_with("built-line")), "{logs}");
    assert!(logs.contains("serving-line"), "{logs}");
    let build_only = dev.tilt_ok(&["logs", "build", "--port", p]);
    assert!(build_only.contains("built-line") && !build_only.contains("serving-line"), "{build_only}");

    let line: Value = dev
        .tilt_ok(&["logs", "build", "--json", "--port", p])
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|l| l["message"] == "built-line")
        .unwrap();
    assert_eq!((line["resource"].as_str(), line["source"].as_str()), (Some("build"), Some("build")), "{line}");
}

#[test]
fn tilt_get_describe_logs_and_snapshot_against_stilt() {
    let Some((tilt, check)) = tools() else { return };
    let dev = DevDir::new(&tilt);
    let port = free_port();
    let p = port.to_string();
    let run = dev.stilt(Stilt::tiltfile(GATED)).args(&["--port", &p, "--output-snapshot-on-exit", "out/snapshot.json"]);
    let child = run.spawn();
    let _release = Release(run.dir.path().join("go"));
    wait_for_file(&run.dir.path().join("started"), 60);
    assert!(dev.config().contains(&format!("tilt-{port}")), "{}", dev.config());

    // The build has finished and the gate is up (not ready): what Tilt's CLI sees.
    let resources = eventually(60, "build to finish", || {
        let v = dev.tilt_json(&["get", "uiresources", "--port", &p, "-o", "json"]);
        (uiresource(&v, "build")["status"]["updateStatus"] == "ok").then_some(v)
    });
    assert_eq!(names(&resources), ["(Tiltfile)", "build", "gate", "after"]);
    let build = uiresource(&resources, "build");
    assert_eq!(build["status"]["runtimeStatus"], "not_applicable");
    assert_eq!(build["metadata"]["labels"]["backend"], "backend");
    assert_eq!(build["status"]["localResourceInfo"], serde_json::json!({}));
    let gate = uiresource(&resources, "gate");
    assert_eq!(gate["status"]["runtimeStatus"], "pending");
    let after = uiresource(&resources, "after");
    assert_eq!(after["status"]["updateStatus"], "pending");
    assert_eq!(after["status"]["waiting"]["reason"], "waiting-for-dep");

    let one = dev.tilt_json(&["get", "uiresource", "build", "--port", &p, "-o", "json"]);
    assert_eq!(one["kind"], "UIResource");
    let table = dev.tilt_ok(&["get", "uiresources", "--port", &p]);
    assert!(table.starts_with("NAME") && table.contains("CREATED AT"), "{table}");
    assert!(table.lines().any(|l| l.starts_with("(Tiltfile)")), "{table}");

    let session = dev.tilt_json(&["get", "session", "--port", &p, "-o", "json"]);
    assert_eq!(session["kind"], "List");
    assert_eq!(session["items"][0]["kind"], "Session");
    let session = dev.tilt_json(&["get", "session", "Tiltfile", "--port", &p, "-o", "json"]);
    assert_eq!(session["metadata"]["name"], "Tiltfile");
    assert_eq!(session["status"]["done"], false);
    assert_eq!(session["spec"]["exitCondition"], "ci");
    let targets: Vec<&str> =
        session["status"]["targets"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(targets, ["after:update", "build:update", "gate:serve", "tiltfile:update"]);

    let described = dev.tilt_ok(&["describe", "session", "--port", &p]);
    assert!(described.contains("Name:") && described.contains("Tiltfile"), "{described}");
    let field = |name: &str| {
        described.lines().find_map(|l| l.trim().strip_prefix(name).map(|v| v.trim().to_string())).unwrap_or_default()
    };
    assert_eq!(field("Exit Condition:"), "ci", "{described}");
    assert_eq!(field("Done:"), "false", "{described}");

    assert_logs_so_far(&dev, &p);

    // `tilt snapshot create` reads /api/view; Tilt's own types load what it saved.
    let created = dev.path().join("created.json");
    dev.tilt_ok(&["snapshot", "create", "--port", &p, created.to_str().unwrap()]);
    let saved = check_snapshot(&check, &created);
    assert_eq!(saved["resources"][2]["name"], "gate");
    assert_eq!(saved["resources"][2]["runtimeStatus"], "pending");

    // `tilt logs -f` follows until the run ends, and sees lines printed after it started.
    let mut follow =
        dev.command(&["logs", "-f", "--port", &p]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(run.dir.path().join("go"), "").unwrap();
    let out = run.collect(child);
    out.expect_code(0);
    let status = wait_exit(&mut follow, 20);
    if status.is_none() {
        let _ = follow.kill();
    }
    let followed = follow.wait_with_output().unwrap();
    let followed_text = String::from_utf8_lossy(&followed.stdout);
    assert!(status.is_some_and(|s| s.success()), "tilt logs -f did not exit cleanly: {status:?}\n{followed_text}");
    assert!(followed_text.contains("built-line") && followed_text.contains("after-line"), "{followed_text}");

    // At exit the context is gone again: Tilt's own message.
    assert!(!dev.config().contains(&format!("tilt-{port}")), "{}", dev.config());
    let gone = dev.tilt(&["get", "session", "--port", &p]);
    assert!(!gone.status.success());
    let err = String::from_utf8_lossy(&gone.stderr);
    assert!(err.contains(&format!("No tilt apiserver found: tilt-{port}")), "{err}");

    // The snapshot, read with Tilt's own types (unknown fields rejected) and log store.
    let snap = out.dir.join("out/snapshot.json");
    let summary = check_snapshot(&check, &snap);
    let rs: Vec<(&str, &str, &str)> = summary["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (r["name"].as_str().unwrap(), r["updateStatus"].as_str().unwrap(), r["runtimeStatus"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        rs,
        [
            ("(Tiltfile)", "ok", "not_applicable"),
            ("build", "ok", "not_applicable"),
            ("gate", "not_applicable", "ok"),
            ("after", "ok", "not_applicable")
        ]
    );
    assert_eq!(summary["resources"][3]["conditions"]["Ready"], "True");
    let log = summary["log"].as_str().unwrap();
    assert!(log.contains("built-line") && log.contains("after-line") && log.contains("Loading Tiltfile"), "{log}");
    assert!(summary["tiltfileKey"].as_str().unwrap().ends_with("Tiltfile"));
    // The stilt report is not written there any more.
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(&snap).unwrap()).unwrap();
    assert!(raw.get("stilt").is_none() && raw["view"]["uiResources"].is_array());
}

#[test]
fn snapshot_of_a_failed_run_carries_the_error() {
    let Some((tilt, check)) = tools() else { return };
    let dev = DevDir::new(&tilt);
    let out = dev
        .stilt(Stilt::tiltfile("local_resource('bad', cmd='echo about-to-fail; exit 3')\n"))
        .args(&["--output-snapshot-on-exit", "out/snapshot.json"])
        .run();
    out.expect_code(1);
    let summary = check_snapshot(&check, &out.dir.join("out/snapshot.json"));
    let bad = &summary["resources"][1];
    assert_eq!(bad["name"], "bad");
    assert_eq!(bad["updateStatus"], "error");
    assert!(bad["lastError"].as_str().unwrap().contains('3'), "{bad}");
    assert_eq!(bad["conditions"]["Ready"], "False");
    assert!(summary["log"].as_str().unwrap().contains("about-to-fail"));
}

#[test]
fn two_stilts_on_two_ports_are_both_visible_to_tilt() {
    let Some((tilt, _)) = tools() else { return };
    let dev = DevDir::new(&tilt);
    let serve = "local_resource('s', serve_cmd='echo yes > started; exec sleep 300', \
                 readiness_probe=probe(period_secs=1, exec=exec_action(['test', '-f', 'go'])))\n";
    let (p1, p2) = (free_port().to_string(), free_port().to_string());
    let a = dev.stilt(Stilt::tiltfile(serve)).args(&["--port", &p1]);
    let b = dev.stilt(Stilt::tiltfile(serve)).args(&["--port", &p2]);
    let (ca, cb) = (a.spawn(), b.spawn());
    wait_for_file(&a.dir.path().join("started"), 60);
    wait_for_file(&b.dir.path().join("started"), 60);
    let path = |p: &str| {
        let v = dev.tilt_json(&["get", "session", "Tiltfile", "--port", p, "-o", "json"]);
        v["spec"]["tiltfilePath"].as_str().unwrap().to_string()
    };
    let (pa, pb) = (path(&p1), path(&p2));
    assert!(pa.starts_with(a.dir.path().to_str().unwrap()), "{pa}");
    assert!(pb.starts_with(b.dir.path().to_str().unwrap()), "{pb}");

    // The first one ends; the second is still registered and served.
    std::fs::write(a.dir.path().join("go"), "").unwrap();
    a.collect(ca).expect_code(0);
    assert!(!dev.config().contains(&format!("tilt-{p1}")));
    assert_eq!(path(&p2), pb);
    std::fs::write(b.dir.path().join("go"), "").unwrap();
    b.collect(cb).expect_code(0);
    assert!(!dev.config().contains("tilt-"), "{}", dev.config());
}

#[test]
fn a_stale_context_is_replaced_and_other_entries_survive() {
    let Some((tilt, _)) = tools() else { return };
    let dev = DevDir::new(&tilt);
    let port = free_port();
    let p = port.to_string();
    // A run killed with SIGKILL left its entry behind; a real Tilt's entry sits next to it.
    let stale = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: ''\npreferences: {{}}\nclusters:\n\
         - name: tilt-{port}\n  cluster:\n    server: http://127.0.0.1:1\n\
         - name: tilt-default\n  cluster:\n    server: https://127.0.0.1:45555\n    certificate-authority-data: Q0E=\n\
         contexts:\n- name: tilt-{port}\n  context:\n    cluster: tilt-{port}\n    user: tilt-{port}\n\
         - name: tilt-default\n  context:\n    cluster: tilt-default\n    user: tilt-default\n\
         users:\n- name: tilt-{port}\n  user:\n    token: dead\n- name: tilt-default\n  user:\n    token: real-tilt\n"
    );
    std::fs::write(dev.path().join("config"), &stale).unwrap();
    let run = dev
        .stilt(Stilt::tiltfile(
            "local_resource('s', serve_cmd='echo yes > started; exec sleep 300', \
             readiness_probe=probe(period_secs=1, exec=exec_action(['test', '-f', 'go'])))\n",
        ))
        .args(&["--port", &p]);
    let child = run.spawn();
    wait_for_file(&run.dir.path().join("started"), 60);
    let v = dev.tilt_json(&["get", "session", "Tiltfile", "--port", &p, "-o", "json"]);
    assert_eq!(v["kind"], "Session");
    let during = dev.config();
    assert!(
        during.contains(&format!("http://127.0.0.1:{port}")) && !during.contains("http://127.0.0.1:1\n"),
        "{during}"
    );
    std::fs::write(run.dir.path().join("go"), "").unwrap();
    run.collect(child).expect_code(0);
    let after = dev.config();
    assert!(!after.contains(&format!("tilt-{port}")), "{after}");
    assert!(after.contains("https://127.0.0.1:45555") && after.contains("real-tilt"), "{after}");
}

/// The same Tiltfile under real `tilt ci` and under `stilt ci`, at the same point (the build done,
/// the gated server up but not ready, its dependent waiting): Tilt's CLI gets the same
/// UIResources from both, and `stilt get session` reads the real Tilt (HTTPS, Tilt's CA, token).
#[test]
fn uiresources_match_real_tilt_ci_and_stilt_get_reads_real_tilt() {
    let Some((tilt, _)) = tools() else { return };
    let dev = DevDir::new(&tilt);
    // A source-built tilt serves its web UI from a webpack dev server it starts with yarn: a stub
    // that installs nothing and idles is enough for the API.
    let bin = dev.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let yarn = bin.join("yarn");
    std::fs::write(&yarn, "#!/bin/sh\n[ \"$1\" = install ] && exit 0\nexec sleep 600\n").unwrap();
    std::fs::set_permissions(&yarn, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let real_dir = tempfile::tempdir().unwrap();
    std::fs::write(real_dir.path().join("Tiltfile"), GATED).unwrap();
    let _release_real = Release(real_dir.path().join("go"));
    let (tilt_port, web_port) = (free_port().to_string(), free_port().to_string());
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let mut real = dev
        .command(&["ci", "--port", &tilt_port, "--webdev-port", &web_port])
        .current_dir(real_dir.path())
        .env("PATH", &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let wait_phase = |port: &str| {
        eventually(90, "the build to finish and the dependent to wait", || {
            let out = dev.tilt(&["get", "uiresources", "--port", port, "-o", "json"]);
            let v: Value = serde_json::from_slice(&out.stdout).ok()?;
            let status = |name: &str, field: &str| {
                let item = v["items"].as_array()?.iter().find(|i| i["metadata"]["name"] == name)?;
                Some(item["status"][field].clone())
            };
            let ready = status("build", "updateStatus")? == "ok"
                && status("gate", "runtimeStatus")? == "pending"
                && status("after", "waiting")?["reason"] == "waiting-for-dep";
            ready.then_some(v)
        })
    };
    let real_list = wait_phase(&tilt_port);

    // stilt's own client reads the real Tilt through its client-config entry.
    let got = Command::new(crate::harness::stilt_bin())
        .args(["get", "session", "Tiltfile", "-o", "json", "--port", &tilt_port])
        .env("TILT_DEV_DIR", dev.path())
        .env_remove("TILT_CONFIG")
        .env_remove("TILT_PORT")
        .output()
        .unwrap();
    assert!(got.status.success(), "{}", String::from_utf8_lossy(&got.stderr));
    let session: Value = serde_json::from_slice(&got.stdout).unwrap();
    assert_eq!(session["kind"], "Session");
    assert_eq!(session["spec"]["tiltfilePath"], real_dir.path().join("Tiltfile").to_str().unwrap());

    let stilt_port = free_port().to_string();
    let run = dev.stilt(Stilt::tiltfile(GATED)).args(&["--port", &stilt_port]);
    let child = run.spawn();
    let _release = Release(run.dir.path().join("go"));
    let ours_list = wait_phase(&stilt_port);
    let by_name = |mut v: Vec<Value>| {
        v.sort_by_key(|i| i["metadata"]["name"].as_str().unwrap_or_default().to_string());
        v
    };
    let (a, b) = (by_name(comparable(&real_list)), by_name(comparable(&ours_list)));
    for (t, s) in a.iter().zip(&b) {
        assert_eq!(s, t, "stilt's UIResource (left) differs from real Tilt's (right)");
    }
    assert_eq!(a.len(), b.len());

    std::fs::write(real_dir.path().join("go"), "").unwrap();
    std::fs::write(run.dir.path().join("go"), "").unwrap();
    run.collect(child).expect_code(0);
    let status = wait_exit(&mut real, 60);
    if status.is_none() {
        let _ = real.kill();
    }
    let out = real.wait_with_output().unwrap();
    assert!(status.is_some_and(|s| s.success()), "tilt ci: {status:?}\n{}", String::from_utf8_lossy(&out.stdout));
}
