//! A mutation fuzzer on stable Rust for the two places stilt reads untrusted text: the
//! Tiltfile evaluator (source bytes → the `tiltfile-result` document) and Kubernetes YAML
//! intake (`k8s_yaml`). Run it with `scripts/fuzz [SECONDS]`; `cargo test -p stilt-fuzz`
//! replays the regressions and fuzzes briefly.
//!
//! **Why not cargo-fuzz:** it needs a nightly compiler; this harness needs none and still
//! finds what matters here (aborts, panics, hangs): it mutates seeds (byte flips, inserted
//! Starlark/YAML tokens, deleted and repeated ranges, splices, deep nesting) and evaluates
//! each case in a worker process, so an abort (stack overflow) is caught by the supervisor,
//! which saves the input under `target/fuzz/crashes/`. A saved crash, once fixed, goes into
//! `crates/stilt-fuzz/regressions/<target>/` and is replayed by every test run.
//!
//! Cases are evaluated in [`EvalMode::Sandboxed`]: a mutated `local('rm …')` never runs.
//! Each case is cancelled after [`CASE_CANCEL_AFTER`] (a mutated `while True:`); a case still
//! running [`CASE_HANG_AFTER`] later is a hang and fails the run like a crash.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use stilt_tiltfile::{CancelFlag, EvalMode, EvalOptions};

/// A case is cancelled after this long.
pub const CASE_CANCEL_AFTER: Duration = Duration::from_secs(2);
/// A case that has not returned this long after its cancellation is a hang.
pub const CASE_HANG_AFTER: Duration = Duration::from_secs(10);
/// Exit code of a worker that found a panic.
pub const EXIT_PANIC: i32 = 101;
/// Exit code of a worker that found a hang.
pub const EXIT_HANG: i32 = 102;

/// What is fuzzed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Tiltfile source bytes → `tiltfile-result`.
    Tiltfile,
    /// A YAML file given to `k8s_yaml` (and `decode_yaml_stream`).
    Yaml,
}

impl Target {
    /// Both targets.
    pub const ALL: [Target; 2] = [Target::Tiltfile, Target::Yaml];

    /// `tiltfile` / `yaml`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Tiltfile => "tiltfile",
            Target::Yaml => "yaml",
        }
    }

    /// From [`Target::name`].
    pub fn parse(s: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == s)
    }

    /// Tokens worth inserting.
    fn dictionary(self) -> &'static [&'static [u8]] {
        match self {
            Target::Tiltfile => TILTFILE_TOKENS,
            Target::Yaml => YAML_TOKENS,
        }
    }
}

/// Starlark and Tiltfile tokens the mutator inserts.
const TILTFILE_TOKENS: &[&[u8]] = &[
    b"(",
    b")",
    b"[",
    b"]",
    b"{",
    b"}",
    b"'",
    b"\"",
    b"'''",
    b"\\",
    b"\n",
    b"\t",
    b"    ",
    b":",
    b",",
    b"=",
    b"-",
    b"+",
    b"**",
    b"%",
    b"not ",
    b" and ",
    b" or ",
    b" if ",
    b" else ",
    b"lambda x: x",
    b"while True:\n  pass\n",
    b"for x in range(3):\n",
    b"def f(*a, **k):\n  return f\n",
    b"None",
    b"True",
    b"load('",
    b"include('",
    b"local('true')",
    b"read_file('Tiltfile')",
    b"k8s_yaml(",
    b"local_resource('r', cmd='true')",
    b"docker_build('img', '.')",
    b"fail('x')",
    b"exit()",
    b"str(",
    b"\xff\xfe",
    b"\xc3(",
    b"\x00",
    b"0x",
    b"1e400",
    b"-0",
    b"9999999999999999999999",
    b"[x for x in ",
    b"{k: v for k, v in ",
    b"%s",
    b"%d",
    b".format(",
    b"os.getenv('HOME')",
    b"config.parse()",
    b"encode_json(",
    b"decode_yaml(",
    b"blob(",
    b"struct(",
    b"\r\n",
    b"#",
];

/// YAML and Kubernetes tokens the mutator inserts.
const YAML_TOKENS: &[&[u8]] = &[
    b"---\n",
    b"\n",
    b"  ",
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"'",
    b"\"",
    b"&a ",
    b"*a",
    b"<<: *a",
    b"!!binary ",
    b"!!str ",
    b"kind: Secret\n",
    b"kind: Deployment\n",
    b"apiVersion: v1\n",
    b"metadata:\n  name: x\n",
    b"data:\n  k: aGVsbG8=\n",
    b"stringData:\n  k: hello-world\n",
    b"spec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: img\n",
    b"kind: List\nitems:\n",
    b"null",
    b"~",
    b"0o777",
    b"1e400",
    b"\t",
    b"\xff",
    b"? ",
    b"|\n",
    b">-\n",
    b"%YAML 1.2\n",
    b"...\n",
    b"#",
];

/// xorshift64*: fast, seedable, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (0 is replaced).
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next_u64() % (n.max(1) as u64)).unwrap_or(0)
    }
}

/// Mutates `input` in place with one to four edits, drawing splices from `seeds`.
pub fn mutate(rng: &mut Rng, target: Target, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    let dict = target.dictionary();
    for _ in 0..=rng.below(4) {
        let len = input.len();
        let at = rng.below(len + 1);
        match rng.below(9) {
            0 if len > 0 => input[at.min(len - 1)] ^= 1 << rng.below(8),
            1 => input.insert(at, u8::try_from(rng.below(256)).unwrap_or(0)),
            2 | 3 => {
                let tok = dict[rng.below(dict.len())];
                input.splice(at..at, tok.iter().copied());
            }
            4 if len > 0 => {
                let end = (at + 1 + rng.below(64)).min(len);
                input.drain(at.min(len - 1)..end);
            }
            5 if len > 0 => {
                let start = at.min(len - 1);
                let end = (start + 1 + rng.below(32)).min(len);
                let piece: Vec<u8> = input[start..end].to_vec();
                for _ in 0..=rng.below(8) {
                    input.splice(start..start, piece.iter().copied());
                }
            }
            6 if !seeds.is_empty() => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let s = rng.below(other.len());
                    let e = (s + 1 + rng.below(256)).min(other.len());
                    input.splice(at..at, other[s..e].iter().copied());
                }
            }
            7 => {
                // Deep nesting: the parser's and compiler's recursion.
                let (open, close): (&[u8], &[u8]) = match rng.below(4) {
                    0 => (b"(", b")"),
                    1 => (b"[", b"]"),
                    2 => (b"-", b""),
                    _ => (b"1+", b"1"),
                };
                let n = 1 << rng.below(15);
                let mut nest = open.repeat(n);
                nest.extend(close.repeat(n));
                input.splice(at..at, nest);
            }
            _ => {
                if len > 1 {
                    let a = rng.below(len);
                    let b = rng.below(len);
                    input.swap(a, b);
                }
            }
        }
    }
    input.truncate(1 << 20);
}

/// Seeds of `target`: every file in `dirs` (one level, then `<dir>/<target>/`).
pub fn load_seeds(target: Target, dirs: &[PathBuf]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for d in dirs {
        for dir in [d.clone(), d.join(target.name())] {
            let Ok(rd) = std::fs::read_dir(&dir) else { continue };
            let mut paths: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect();
            paths.sort();
            for p in paths {
                let yamlish = p.extension().is_some_and(|e| e == "yaml" || e == "yml");
                if (target == Target::Yaml) == yamlish
                    && let Ok(b) = std::fs::read(&p)
                {
                    out.push(b);
                }
            }
        }
    }
    out
}

/// How one case ended (crashes end the worker process instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseOutcome {
    /// Loaded; the result serialized.
    Loaded,
    /// A Tiltfile error (the expected answer to most mutations).
    Failed,
    /// The evaluator panicked: a bug.
    Panicked,
}

/// Runs one case in `dir` (a scratch directory of this worker).
pub fn run_case(target: Target, input: &[u8], dir: &Path, cancel: &CancelFlag) -> CaseOutcome {
    let tiltfile = dir.join("Tiltfile");
    let written = match target {
        Target::Tiltfile => std::fs::write(&tiltfile, input),
        Target::Yaml => std::fs::write(dir.join("objects.yaml"), input).and_then(|()| {
            std::fs::write(
                &tiltfile,
                "objs = decode_yaml_stream(read_file('objects.yaml'))\nk8s_yaml('objects.yaml')\n",
            )
        }),
    };
    if written.is_err() {
        return CaseOutcome::Failed;
    }
    let mut env = std::collections::BTreeMap::new();
    env.insert("HOME".to_string(), dir.display().to_string());
    env.insert("PATH".to_string(), String::new());
    env.insert("KUBECONFIG".to_string(), dir.join("no-kubeconfig").display().to_string());
    env.insert(stilt_tiltfile::EXTENSIONS_REPO_ENV.to_string(), dir.join("no-extensions").display().to_string());
    let result = stilt_tiltfile::evaluate(EvalOptions {
        tiltfile: tiltfile.clone(),
        args: Vec::new(),
        subcommand: "ci".to_string(),
        env,
        log: Arc::new(|_, _| {}),
        on_spawn: None,
        mode: EvalMode::Sandboxed,
        kube_context: None,
        kube_namespace: None,
        cancel: cancel.clone(),
    });
    match result {
        Ok(r) => {
            // The `tiltfile-result` document, and the secrets reporters would learn.
            let _ = serde_json::to_string(&r);
            let mut secrets = stilt_core::secret_set::SecretSet::default();
            for m in &r.manifests {
                if let stilt_core::ResourceTarget::K8s(k) = &m.target {
                    for o in &k.objects {
                        secrets.add_object(o);
                    }
                }
            }
            let _ = secrets.scrub("probe text");
            CaseOutcome::Loaded
        }
        Err(e) if e.message.starts_with("internal error") => CaseOutcome::Panicked,
        Err(e) => {
            let _ = e.to_string();
            CaseOutcome::Failed
        }
    }
}

/// Cancels slow cases and ends the process on a hang. `started` holds the start of the
/// running case in ms since `epoch` (0 = idle).
pub fn spawn_watchdog(
    epoch: Instant,
    started: Arc<AtomicU64>,
    cancel: Arc<std::sync::Mutex<CancelFlag>>,
    on_hang: PathBuf,
) {
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(50));
            let s = started.load(Ordering::Relaxed);
            if s == 0 {
                continue;
            }
            let now = u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
            let running = Duration::from_millis(now.saturating_sub(s));
            if running > CASE_CANCEL_AFTER {
                cancel.lock().map(|c| c.cancel()).ok();
            }
            if running > CASE_CANCEL_AFTER + CASE_HANG_AFTER {
                eprintln!(
                    "stilt-fuzz: a case still runs {running:?} after it started (cancelled at {CASE_CANCEL_AFTER:?})"
                );
                let _ = std::fs::write(&on_hang, b"hang");
                std::process::exit(EXIT_HANG);
            }
        }
    });
}

/// Counts of one worker's run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Cases run.
    pub cases: u64,
    /// Cases that loaded.
    pub loaded: u64,
}
