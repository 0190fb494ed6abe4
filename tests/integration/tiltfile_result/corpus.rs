//! Same meaning as Tilt on the research corpus (`../shared/corpus`, oracle in
//! `../shared/corpus-oracle`): every fixture is copied to a temp dir named like the fixture and
//! loaded with `stilt alpha tiltfile-result` in its Tiltfile's directory, in an environment
//! like the oracle's (no network, no kubeconfig, `PATH` with only the system directories, the
//! extension repo at `../shared/tilt-extensions`).
//!
//! Compared facts, extracted from both sides: the exit code; for fixtures Tilt loads, the
//! resources (names and order; docker-compose services as a set, since Tilt's order for them
//! comes from a Go map), image refs per resource, `resource_deps`, the Kubernetes objects per
//! resource (normalized: empty values dropped, scalars as strings) and local commands (argv
//! and directory); for fixtures Tilt fails on, the builtin named in `Error in <builtin>:` and
//! the first line of the message. Paths use `$FIXTURE`, `$EXTENSIONS`, `$HOME`.
//!
//! A table is printed; mismatches not listed with a reason in
//! `tests/corpus/known-differences.tsv` fail the test.

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared` beside the repository.
pub fn shared_dir() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    assert!(
        p.join("corpus/INDEX.tsv").is_file(),
        "the research corpus is missing: expected {} (CI checks it out beside the repository)",
        p.display()
    );
    std::fs::canonicalize(p).unwrap()
}

/// The environment the oracle ran in.
pub fn oracle_env(home: &Path, extensions: &Path) -> Vec<(String, String)> {
    vec![
        ("PATH".into(), "/usr/sbin:/usr/bin:/sbin:/bin".into()),
        ("HOME".into(), home.display().to_string()),
        ("STILT_EXTENSIONS_REPO".into(), extensions.display().to_string()),
        ("LANG".into(), "C.UTF-8".into()),
    ]
}

/// One fixture's run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        let ft = e.file_type().unwrap();
        if ft.is_dir() {
            copy_dir(&e.path(), &dest);
        } else if ft.is_symlink() {
            let target = std::fs::read_link(e.path()).unwrap();
            std::os::unix::fs::symlink(target, dest).unwrap();
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
            let mut perm = std::fs::metadata(&dest).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
            std::fs::set_permissions(&dest, perm).unwrap();
        }
    }
}

/// Copies fixture `id` into `tmp/<id>` and runs `stilt alpha tiltfile-result` on it.
pub fn run_fixture(shared: &Path, tmp: &Path, id: &str, tiltfile: &str, extra: &[&str]) -> (PathBuf, Run) {
    let root = tmp.join(id);
    if !root.exists() {
        copy_dir(&shared.join("corpus").join(id), &root);
    }
    let root = std::fs::canonicalize(root).unwrap();
    let tf = root.join(tiltfile);
    let home = tmp.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut c = Command::new(crate::harness::stilt_bin());
    c.args(["alpha", "tiltfile-result", "-f"]).arg(&tf).args(extra).current_dir(tf.parent().unwrap()).env_clear();
    for (k, v) in oracle_env(&home, &shared.join("tilt-extensions")) {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    (root, run)
}

/// The facts compared for one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    pub name: String,
    pub compose: bool,
    pub images: Vec<String>,
    pub deps: Vec<String>,
    pub objects: Vec<Json>,
    pub commands: Vec<String>,
}

/// Drops empty values and turns scalars into strings, so typed (Tilt) and untyped (stilt)
/// renderings of one object compare equal.
pub fn normalize(v: &Json) -> Option<Json> {
    match v {
        Json::Null => None,
        Json::Bool(b) => Some(Json::String(b.to_string())),
        Json::Number(n) => Some(Json::String(n.to_string())),
        Json::String(s) if s.is_empty() => None,
        Json::String(s) => Some(Json::String(s.clone())),
        Json::Array(a) => {
            let items: Vec<Json> = a.iter().filter_map(normalize).collect();
            (!items.is_empty()).then_some(Json::Array(items))
        }
        Json::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                if k == "creationTimestamp" {
                    continue;
                }
                if let Some(x) = normalize(x) {
                    out.insert(k.clone(), x);
                }
            }
            (!out.is_empty()).then_some(Json::Object(out))
        }
    }
}

fn strs(v: &Json) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn cmd_fact(kind: &str, argv: &Json, dir: &Json) -> Option<String> {
    let argv = strs(argv);
    (!argv.is_empty()).then(|| format!("{kind}: {argv:?} in {}", dir.as_str().unwrap_or("")))
}

/// Facts of Tilt's result JSON.
pub fn oracle_facts(d: &Json) -> Vec<Facts> {
    let mut out = Vec::new();
    for m in d["Manifests"].as_array().into_iter().flatten() {
        let dt = &m["DeployTarget"];
        let mut deps = strs(&m["ResourceDependencies"]);
        deps.sort();
        let images: Vec<String> = m["ImageTargets"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| t["selector"].as_str().unwrap_or("").to_string())
            .collect();
        let objects = match dt.get("yaml").and_then(Json::as_str) {
            Some(y) if !y.trim().is_empty() => {
                serde_saphyr::from_multiple::<Json>(y).unwrap_or_default().iter().filter_map(normalize).collect()
            }
            _ => Vec::new(),
        };
        let mut commands = Vec::new();
        if let Some(u) = dt.get("UpdateCmdSpec").filter(|u| !u.is_null()) {
            commands.extend(cmd_fact("update", &u["args"], &u["dir"]));
        }
        if let Some(s) = dt.get("ServeCmd") {
            commands.extend(cmd_fact("serve", &s["Argv"], &s["Dir"]));
        }
        out.push(Facts {
            name: m["Name"].as_str().unwrap_or("").to_string(),
            compose: dt.get("ServiceYAML").is_some(),
            images,
            deps,
            objects,
            commands,
        });
    }
    out
}

/// Facts of stilt's result JSON, with paths replaced by placeholders.
pub fn stilt_facts(d: &Json) -> Vec<Facts> {
    let mut out = Vec::new();
    for m in d["manifests"].as_array().into_iter().flatten() {
        let (kind, t) =
            m["target"].as_object().and_then(|o| o.iter().next()).map_or(("", &Json::Null), |(k, v)| (k.as_str(), v));
        let mut deps = strs(&m["resourceDeps"]);
        deps.sort();
        let images: Vec<String> =
            t["images"].as_array().into_iter().flatten().map(|i| i["ref"].as_str().unwrap_or("").to_string()).collect();
        let objects: Vec<Json> = t["objects"].as_array().into_iter().flatten().filter_map(normalize).collect();
        let mut commands = Vec::new();
        if kind == "local" {
            for (k, f) in [("update", "updateCmd"), ("serve", "serveCmd")] {
                if let Some(c) = t.get(f).filter(|c| !c.is_null()) {
                    commands.extend(cmd_fact(k, &c["argv"], &c["dir"]));
                }
            }
        }
        out.push(Facts {
            name: m["name"].as_str().unwrap_or("").to_string(),
            compose: kind == "dockerCompose",
            images,
            deps,
            objects,
            commands,
        });
    }
    out
}

/// Where stilt exposes a local default extension repo (`STILT_EXTENSIONS_REPO`) so that
/// extensions find their `tilt_modules` ancestor, as in Tilt's layout.
pub fn extensions_mirror(home: &Path) -> PathBuf {
    home.join(".cache/stilt/extensions/tilt_modules/github.com/tilt-dev/tilt-extensions")
}

/// Replaces absolute paths with the oracle's placeholders.
pub fn placeholders(text: &str, fixture: &Path, extensions: &Path, home: &Path) -> String {
    text.replace(&extensions_mirror(home).display().to_string(), "$EXTENSIONS")
        .replace(&extensions.display().to_string(), "$EXTENSIONS")
        .replace(&fixture.display().to_string(), "$FIXTURE")
        .replace(&home.display().to_string(), "$HOME")
}

fn short(v: &impl std::fmt::Debug) -> String {
    let s = format!("{v:?}");
    if s.len() > 160 { format!("{}…", &s[..s.char_indices().nth(160).map_or(s.len(), |(i, _)| i)]) } else { s }
}

/// The first difference between two resource lists, if any.
pub fn first_difference(tilt: &[Facts], ours: &[Facts]) -> Option<String> {
    // Names and order; runs of docker-compose services compare as sets.
    let order = |fs: &[Facts]| -> Vec<Vec<String>> {
        let mut groups: Vec<(bool, Vec<String>)> = Vec::new();
        for f in fs {
            match groups.last_mut() {
                Some((true, g)) if f.compose => g.push(f.name.clone()),
                _ => groups.push((f.compose, vec![f.name.clone()])),
            }
        }
        groups
            .into_iter()
            .map(|(c, mut g)| {
                if c {
                    g.sort();
                }
                g
            })
            .collect()
    };
    if order(tilt) != order(ours) {
        let t: Vec<&str> = tilt.iter().map(|f| f.name.as_str()).collect();
        let o: Vec<&str> = ours.iter().map(|f| f.name.as_str()).collect();
        return Some(format!("resources: tilt {t:?}, stilt {o:?}"));
    }
    let by_name: BTreeMap<&str, &Facts> = ours.iter().map(|f| (f.name.as_str(), f)).collect();
    for t in tilt {
        let o = by_name[t.name.as_str()];
        if t.images != o.images {
            return Some(format!("{}: image refs: tilt {}, stilt {}", t.name, short(&t.images), short(&o.images)));
        }
        if t.deps != o.deps {
            return Some(format!("{}: resource_deps: tilt {:?}, stilt {:?}", t.name, t.deps, o.deps));
        }
        if t.commands != o.commands {
            return Some(format!(
                "{}: local commands: tilt {}, stilt {}",
                t.name,
                short(&t.commands),
                short(&o.commands)
            ));
        }
        if t.objects.len() != o.objects.len() {
            let ids = |v: &[Json]| -> Vec<String> {
                v.iter()
                    .map(|x| {
                        format!("{}/{}", x["kind"].as_str().unwrap_or(""), x["metadata"]["name"].as_str().unwrap_or(""))
                    })
                    .collect()
            };
            return Some(format!(
                "{}: k8s objects: tilt {}, stilt {}",
                t.name,
                short(&ids(&t.objects)),
                short(&ids(&o.objects))
            ));
        }
        for (a, b) in t.objects.iter().zip(&o.objects) {
            if a != b {
                return Some(format!(
                    "{}: k8s object {}/{} differs: {}",
                    t.name,
                    a["kind"].as_str().unwrap_or(""),
                    a["metadata"]["name"].as_str().unwrap_or(""),
                    json_diff(a, b, "")
                ));
            }
        }
    }
    None
}

/// Where two JSON values first differ, as `path: tilt X, stilt Y`.
fn json_diff(tilt: &Json, ours: &Json, path: &str) -> String {
    match (tilt, ours) {
        (Json::Object(left), Json::Object(right)) => {
            for key in left.keys().chain(right.keys()) {
                let (lv, rv) = (left.get(key), right.get(key));
                if lv != rv {
                    return match (lv, rv) {
                        (Some(lv), Some(rv)) => json_diff(lv, rv, &format!("{path}.{key}")),
                        _ => format!("{path}.{key}: tilt {}, stilt {}", short(&lv), short(&rv)),
                    };
                }
            }
            String::new()
        }
        (Json::Array(left), Json::Array(right)) if left.len() == right.len() => {
            for (i, (lv, rv)) in left.iter().zip(right).enumerate() {
                if lv != rv {
                    return json_diff(lv, rv, &format!("{path}[{i}]"));
                }
            }
            String::new()
        }
        _ => format!("{path}: tilt {}, stilt {}", short(tilt), short(ours)),
    }
}

/// `Error in <builtin>: <first line>` of an error text.
pub fn error_line(text: &str) -> Option<(String, String)> {
    text.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("Error in ")?;
        let (b, msg) = rest.split_once(": ")?;
        Some((b.to_string(), msg.to_string()))
    })
}
