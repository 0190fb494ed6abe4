//! `stilt alpha tiltfile-result`: the corpus comparison against real Tilt, determinism,
//! extensions, and bad input (exit 5, `Error in <builtin>:`, file:line).

mod bad_input;
mod corpus;

use crate::harness::stilt_bin;
use corpus::{error_line, first_difference, oracle_facts, placeholders, run_fixture, shared_dir, stilt_facts};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn known_differences() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/known-differences.tsv"))
            .unwrap_or_default();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(a, b)| (a.trim().to_string(), b.trim().to_string())))
        .collect()
}

/// Compares every corpus fixture with what Tilt v0.37.6 printed.
#[test]
fn corpus_matches_tilt() {
    let shared = shared_dir();
    let tmp = tempfile::tempdir().unwrap();
    let tmp_root = std::fs::canonicalize(tmp.path()).unwrap();
    let index = std::fs::read_to_string(shared.join("corpus/INDEX.tsv")).unwrap();
    let oracle_index = std::fs::read_to_string(shared.join("corpus-oracle/INDEX.tsv")).unwrap();
    let oracle: BTreeMap<&str, (i32, &str)> = oracle_index
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Some((c[0], (c.get(1)?.parse().ok()?, c.get(2).copied().unwrap_or(""))))
        })
        .collect();
    let known = known_differences();
    let extensions = shared.join("tilt-extensions");
    let home = tmp_root.join("home");
    let mut table = Vec::new();
    let mut failures = Vec::new();
    for row in index.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (id, path) = (cols[0], cols[2]);
        let Some(&(tilt_code, tilt_error)) = oracle.get(id) else { continue };
        let (root, run) = run_fixture(&shared, &tmp_root, id, path, &[]);
        let ph = |s: &str| placeholders(s, &root, &extensions, &home);
        let diff: Option<String> = if run.code != tilt_code {
            Some(format!(
                "exit code: tilt {tilt_code}, stilt {} ({})",
                run.code,
                error_line(&ph(&run.stderr))
                    .map_or_else(|| ph(run.stderr.lines().last().unwrap_or("")), |(b, m)| format!("Error in {b}: {m}"))
            ))
        } else if tilt_code == 0 {
            let theirs: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(shared.join("corpus-oracle").join(format!("{id}.json"))).unwrap(),
            )
            .unwrap();
            let ours: serde_json::Value = serde_json::from_str(&ph(&run.stdout)).expect("stilt printed JSON");
            first_difference(&oracle_facts(&theirs), &stilt_facts(&ours))
        } else {
            match (error_line(tilt_error), error_line(&ph(&run.stderr))) {
                (Some((tb, tm)), Some((ob, om))) if tb == ob && tm == om => None,
                (Some((tb, tm)), Some((ob, om))) if tb == ob => {
                    Some(format!("same builtin ({tb}), message differs: tilt {tm:?}, stilt {om:?}"))
                }
                (t, o) => Some(format!("error: tilt {t:?}, stilt {o:?}")),
            }
        };
        let verdict = match (&diff, known.get(id)) {
            (None, _) => "match".to_string(),
            (Some(d), Some(reason)) => format!("known difference: {d} — {reason}"),
            (Some(d), None) => {
                failures.push(id.to_string());
                format!("MISMATCH: {d}")
            }
        };
        table.push(format!("{id:<62} exit {tilt_code}/{:<2} {verdict}", run.code));
    }
    println!("\n{:<62} exit tilt/stilt  result", "fixture");
    for line in &table {
        println!("{line}");
    }
    let matched = table.iter().filter(|l| l.ends_with(" match")).count();
    println!("{matched}/{} fixtures match Tilt", table.len());
    assert!(
        failures.is_empty(),
        "fixtures differing from Tilt and not listed in tests/corpus/known-differences.tsv: {failures:?}"
    );
}

/// The same Tiltfile and files give byte-identical output.
#[test]
fn output_is_deterministic() {
    let shared = shared_dir();
    let tmp = tempfile::tempdir().unwrap();
    let tmp_root = std::fs::canonicalize(tmp.path()).unwrap();
    for (id, path) in [
        ("tilt-dev__pixeltilt__Tiltfile", "Tiltfile"),
        ("kyverno__kyverno__Tiltfile", "Tiltfile"),
        ("GaloyMoney__lana-bank__dev__Tiltfile", "dev/Tiltfile"),
    ] {
        let (_, a) = run_fixture(&shared, &tmp_root, id, path, &[]);
        let (_, b) = run_fixture(&shared, &tmp_root, id, path, &[]);
        assert_eq!(a.code, 0, "{id}: {}", a.stderr);
        assert!(a.stdout == b.stdout, "{id}: two runs printed different JSON");
    }
}

/// Extensions of the registry copy that cannot load offline, and why (Tilt fails the same way).
const EXTENSIONS_THAT_CANNOT_LOAD: &[(&str, &str)] = &[
    ("coreos_prometheus", "downloads kube-prometheus with curl at load time (network)"),
    ("kubefwd", "runs its create-refresh-button.sh at load; helper scripts are not in the registry copy"),
    ("syncback", "runs its verify_rsync.sh at load; helper scripts are not in the registry copy"),
    ("tests", "fail()s on purpose: 'cannot be included directly'"),
];

/// Every extension of the registry loads (its top level runs) with its default arguments.
#[test]
fn every_registry_extension_loads() {
    let shared = shared_dir();
    let ext_root = shared.join("tilt-extensions");
    let mut names = Vec::new();
    collect_extensions(&ext_root, &ext_root, &mut names);
    names.sort();
    assert!(names.len() > 50, "{names:?}");
    let mut failures = Vec::new();
    for n in &names {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Tiltfile"), format!("load_dynamic('ext://{n}')\n")).unwrap();
        let out = Command::new(stilt_bin())
            .args(["alpha", "tiltfile-result"])
            .current_dir(dir.path())
            .env_clear()
            .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
            .env("HOME", dir.path())
            .env("STILT_EXTENSIONS_REPO", &ext_root)
            .output()
            .unwrap();
        let expected_failure = EXTENSIONS_THAT_CANNOT_LOAD.iter().any(|(e, _)| e == n);
        let ok = out.status.code() == Some(0);
        if ok == expected_failure {
            failures.push(format!("{n}: exit {:?}\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr)));
        }
        if ok {
            let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(result["extensions"][0]["name"], n.as_str());
        }
    }
    println!(
        "{} extensions, {} load, {} cannot load offline",
        names.len(),
        names.len() - EXTENSIONS_THAT_CANNOT_LOAD.len(),
        EXTENSIONS_THAT_CANNOT_LOAD.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn collect_extensions(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.join("Tiltfile").is_file() {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
            collect_extensions(root, &p, out);
        }
    }
}

/// The documented document: `apiVersion`/`kind`, resources with targets, no environment;
/// Tiltfile args after `--` reach `config.parse()`; logs go to stderr.
#[test]
fn prints_the_documented_json() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Tiltfile"),
        "config.define_string_list('to-run', args=True)\ncfg = config.parse()\nprint('args', cfg.get('to-run', []))\nlocal_resource('a', cmd='echo a')\nlocal_resource('b', serve_cmd='sleep 1', resource_deps=['a'])\nconfig.set_enabled_resources(cfg.get('to-run', []))\n",
    )
    .unwrap();
    let out = Command::new(stilt_bin())
        .args(["alpha", "tiltfile-result", "--", "b"])
        .current_dir(dir.path())
        .env("SECRET_TOKEN", "do-not-print")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("do-not-print"), "the environment must not be printed");
    assert!(String::from_utf8_lossy(&out.stderr).contains("args [\"b\"]"));
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["apiVersion"], "stilt.dev/v1alpha1");
    assert_eq!(v["kind"], "TiltfileResult");
    assert_eq!(v["enabledResources"], serde_json::json!(["a", "b"]));
    assert_eq!(v["manifests"][0]["target"]["local"]["updateCmd"]["argv"], serde_json::json!(["sh", "-c", "echo a"]));
    assert_eq!(v["manifests"][1]["resourceDeps"], serde_json::json!(["a"]));
}
