//! End-to-end tests: write files into a temp dir, evaluate, check the result or the error.

#![allow(clippy::many_single_char_names, reason = "one-letter fixture names (f, r, e, m) read well in tests")]

mod builtins;
mod config;
mod corpus;
mod dialect;
mod errors;
mod extensions;
mod images;
mod k8s;
mod local_resource;
mod render;

use crate::{EvalOptions, LogLevel, evaluate};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use stilt_core::{TiltfileError, TiltfileResult};

/// A temp dir holding a Tiltfile and friends.
pub(crate) struct Fixture {
    dir: tempfile::TempDir,
    root: PathBuf,
    logs: Arc<Mutex<Vec<(LogLevel, String)>>>,
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) mode: crate::EvalMode,
    /// `--context`.
    pub(crate) kube_context: Option<String>,
}

impl Fixture {
    pub(crate) fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(dir.path()).expect("canonicalize");
        let mut env = BTreeMap::new();
        env.insert("PATH".to_string(), std::env::var("PATH").unwrap_or_default());
        Fixture { dir, root, logs: Arc::default(), env, mode: crate::EvalMode::Ci, kube_context: None }
    }

    /// A fixture evaluated as data (`stilt alpha tiltfile-result`).
    pub(crate) fn result_only() -> Self {
        let mut f = Fixture::new();
        f.mode = crate::EvalMode::ResultOnly;
        f.env.insert("HOME".to_string(), f.root.display().to_string());
        f
    }

    /// Absolute path of `rel` inside the fixture.
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    /// Writes `rel` (creating parent dirs).
    pub(crate) fn file(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, content).expect("write");
        p
    }

    /// Evaluates `Tiltfile` with `args`.
    pub(crate) fn run(&self, args: &[&str]) -> Result<TiltfileResult, TiltfileError> {
        let logs = Arc::clone(&self.logs);
        let _ = &self.dir;
        evaluate(EvalOptions {
            tiltfile: self.path("Tiltfile"),
            args: args.iter().map(|s| (*s).to_string()).collect(),
            subcommand: "ci".to_string(),
            env: self.env.clone(),
            log: Arc::new(move |level, line| {
                logs.lock().expect("lock").push((level, line.to_string()));
            }),
            on_spawn: None,
            mode: self.mode,
            kube_context: self.kube_context.clone(),
            kube_namespace: None,
            cancel: crate::CancelFlag::default(),
        })
    }

    /// Writes the Tiltfile and evaluates it, expecting success.
    pub(crate) fn ok(&self, src: &str) -> TiltfileResult {
        self.file("Tiltfile", src);
        match self.run(&[]) {
            Ok(r) => r,
            Err(e) => panic!("unexpected error: {e}\nat {:?}", e.location),
        }
    }

    /// Writes the Tiltfile and evaluates it, expecting an error.
    pub(crate) fn err(&self, src: &str) -> TiltfileError {
        self.file("Tiltfile", src);
        self.run(&[]).expect_err("expected an error")
    }

    /// The log lines so far.
    pub(crate) fn logs(&self) -> Vec<String> {
        self.logs.lock().expect("lock").iter().map(|(_, l)| l.clone()).collect()
    }

    /// The warning lines so far.
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.logs.lock().expect("lock").iter().filter(|(l, _)| *l == LogLevel::Warn).map(|(_, l)| l.clone()).collect()
    }
}

/// `(file name, line, col)` of an error's location.
pub(crate) fn at(e: &TiltfileError) -> (String, u32, u32) {
    let loc = e.location.as_ref().unwrap_or_else(|| panic!("no location in {e:?}"));
    let name = loc.file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    (name, loc.line, loc.col)
}

/// Shorthand for expected locations.
pub(crate) fn loc(file: &str, line: u32, col: u32) -> (String, u32, u32) {
    (file.to_string(), line, col)
}

/// Load time of a ~30 KB synthetic Tiltfile. Run with
/// `cargo test -p stilt-tiltfile --release perf_ -- --ignored --nocapture`.
#[test]
#[ignore = "timing; run explicitly in release"]
fn perf_synthetic_30kb_tiltfile() {
    let f = Fixture::new();
    let mut src = String::from(
        "def svc(name, port, deps=[]):\n    labels = [name.split('-')[0]]\n    env = {'PORT': str(port), 'NAME': name.upper()}\n    local_resource(name, cmd='echo build %s' % name, serve_cmd=['./run', '--port', str(port)], resource_deps=deps, labels=labels, env=env, links=['localhost:%d' % port])\n\n",
    );
    let mut i = 0;
    while src.len() < 30 * 1024 {
        let deps = if i > 0 { format!("['svc-{}']", i - 1) } else { "[]".to_string() };
        src.push_str(&format!(
            "# service {i}\nsettings_{i} = {{'replicas': {r}, 'image': 'repo/svc-{i}:' + str({i}), 'tags': [x * 2 for x in range(5)]}}\nif settings_{i}['replicas'] > 1:\n    svc('svc-{i}', {port}, deps={deps})\nelse:\n    svc('svc-{i}', {port}, {deps})\n",
            r = i % 3,
            port = 8000 + i,
        ));
        i += 1;
    }
    f.file("Tiltfile", &src);
    let start = std::time::Instant::now();
    let r = f.run(&[]).expect("ok");
    let first = start.elapsed();
    let mut times: Vec<std::time::Duration> = (0..20)
        .map(|_| {
            let start = std::time::Instant::now();
            f.run(&[]).expect("ok");
            start.elapsed()
        })
        .collect();
    times.sort();
    println!(
        "{} bytes, {} resources: first {first:?}, then min {:?} median {:?} max {:?}",
        src.len(),
        r.manifests.len(),
        times[0],
        times[10],
        times[19]
    );
}
