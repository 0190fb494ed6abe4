//! Smoke run over the research corpus (`shared/corpus`): every fixture is copied to a temp
//! dir and evaluated as data; our first error line is printed next to Tilt's. The assertions
//! live in `tests/integration/tiltfile_result.rs` (`corpus_matches_tilt`). Run with
//! `cargo test -p stilt-tiltfile corpus_ -- --ignored --nocapture`.

use crate::{EvalOptions, evaluate};
use std::path::Path;
use std::sync::Arc;

#[test]
#[ignore = "needs ../shared/corpus; prints a comparison"]
fn corpus_smoke() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    let Ok(index) = std::fs::read_to_string(shared.join("corpus/INDEX.tsv")) else {
        println!("no corpus");
        return;
    };
    let oracle = std::fs::read_to_string(shared.join("corpus-oracle/INDEX.tsv")).unwrap_or_default();
    for row in index.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (id, path) = (cols[0], cols[2]);
        let tilt = oracle
            .lines()
            .find(|l| l.starts_with(&format!("{id}\t")))
            .map_or("?", |l| l.split('\t').nth(2).unwrap_or(""));
        let tmp = tempfile::tempdir().expect("tmp");
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(shared.join("corpus").join(id))
            .arg(tmp.path())
            .status()
            .expect("cp");
        assert!(status.success());
        let root = std::fs::canonicalize(tmp.path().join(id)).expect("root");
        let mut env = std::collections::BTreeMap::new();
        env.insert("PATH".to_string(), std::env::var("PATH").unwrap_or_default());
        env.insert("HOME".to_string(), tmp.path().display().to_string());
        env.insert(crate::EXTENSIONS_REPO_ENV.to_string(), shared.join("tilt-extensions").display().to_string());
        let result = evaluate(EvalOptions {
            tiltfile: root.join(path),
            args: Vec::new(),
            subcommand: "ci".to_string(),
            env,
            log: Arc::new(|_, _| {}),
            on_spawn: None,
            mode: crate::EvalMode::ResultOnly,
            kube_context: None,
            kube_namespace: None,
            cancel: crate::CancelFlag::default(),
        });
        let ours = match &result {
            Ok(r) => format!("ok ({} resources)", r.manifests.len()),
            Err(e) => e.one_line().replace(&root.display().to_string(), "$FIXTURE"),
        };
        println!("{id}\n  tilt:  {tilt}\n  stilt: {ours}");
    }
}
