//! The fuzzer in the test suite: every saved regression input is replayed (each once crashed
//! stilt), then a short bounded fuzzing run over the seed corpus must find no crash.

use std::path::Path;
use std::process::Command;

const EXE: &str = env!("CARGO_BIN_EXE_stilt-fuzz");

fn regressions() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut out = Vec::new();
    for target in ["tiltfile", "yaml"] {
        for e in std::fs::read_dir(root.join(target)).expect("regressions dir").flatten() {
            if e.path().extension().is_some_and(|x| x == "bin") {
                out.push(e.path().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn regressions_replay_without_crashing() {
    let files = regressions();
    assert!(!files.is_empty(), "the regression inputs are missing");
    let out = Command::new(EXE).arg("replay").args(&files).output().expect("run stilt-fuzz");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.matches("stilt-fuzz: ok ").count(), files.len(), "{stdout}");
}

#[test]
fn a_short_fuzzing_run_finds_no_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seconds = std::env::var("STILT_FUZZ_SECONDS").unwrap_or_else(|_| "40".to_string());
    let out = Command::new(EXE)
        .args(["run", "--seconds", &seconds, "--seed", "16", "--out"])
        .arg(dir.path())
        .output()
        .expect("run stilt-fuzz");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("stilt-fuzz: 0 crash(es)"), "{stdout}");
    for target in ["tiltfile", "yaml"] {
        let cases: u64 = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("stilt-fuzz worker: {target} cases=")))
            .filter_map(|l| l.split("cases=").nth(1)?.split_whitespace().next()?.parse::<u64>().ok())
            .sum();
        assert!(cases > 20, "too few {target} cases ran: {stdout}");
    }
}
