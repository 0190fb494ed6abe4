//! `load('ext://NAME')`: extension repos and extensions, resolved like Tilt's `ExtensionRepo` /
//! `Extension` reconcilers.
//!
//! - The repo named `default` is `https://github.com/tilt-dev/tilt-extensions`, unless
//!   [`EXTENSIONS_REPO_ENV`](crate::EXTENSIONS_REPO_ENV) points it at a local directory or
//!   another URL (offline use, tests).
//! - `v1alpha1.extension_repo(name, url, ref, load_host, git_subpath)` adds repos
//!   (`https://`, `http://` or `file://`); `v1alpha1.extension(name, repo_name, repo_path,
//!   args)` points an extension name at a repo and path. Without one, `ext://NAME` is path
//!   `NAME` of repo `default`.
//! - `file://` repos are used in place (absolute paths only, no `ref`). URL repos are cloned
//!   with `git` into `$XDG_DATA_HOME/tilt-dev/tilt_modules/<host>/<path>` (Tilt's layout, so a
//!   checkout Tilt made is reused); an existing checkout is updated once per run
//!   (`git pull --ff-only`) and used as is when that fails (offline). A repo that cannot be
//!   cloned and has no checkout is an error.
//! - The extension is `<checkout>/<git_subpath>/<repo_path>/Tiltfile`.

use crate::context::Ctx;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use stilt_core::manifest::{ApiObject, LoadedExtension};

/// The public extension registry.
pub(crate) const DEFAULT_REPO_URL: &str = "https://github.com/tilt-dev/tilt-extensions";

/// `v1alpha1.extension_repo(...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RepoSpec {
    pub(crate) url: String,
    pub(crate) git_ref: String,
    pub(crate) load_host: String,
    pub(crate) git_subpath: String,
    /// A local directory standing in for the default repo: it is exposed at
    /// `~/.cache/stilt/extensions/tilt_modules/github.com/tilt-dev/tilt-extensions` (a
    /// symlink), so extensions that look for their `tilt_modules` ancestor find it as with Tilt.
    pub(crate) mirror_of_default: bool,
}

/// `v1alpha1.extension(...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExtSpec {
    pub(crate) repo_name: String,
    pub(crate) repo_path: String,
    pub(crate) args: Vec<String>,
}

/// Repos, extensions, and checkouts resolved during this evaluation.
#[derive(Debug, Default)]
pub(crate) struct ExtState {
    pub(crate) repos: BTreeMap<String, RepoSpec>,
    pub(crate) exts: BTreeMap<String, ExtSpec>,
    /// Repo name → checkout directory (or the error resolving it).
    resolved: BTreeMap<String, Result<PathBuf, String>>,
}

/// Tilt's object name for an extension module name (`a/b` → `a-b`).
pub(crate) fn object_name(module: &str) -> String {
    module.replace('/', "-")
}

fn default_repo(env: &BTreeMap<String, String>) -> RepoSpec {
    let (url, mirror) = match env.get(crate::EXTENSIONS_REPO_ENV).filter(|v| !v.is_empty()) {
        Some(v) if v.starts_with("file://") => (v.clone(), true),
        Some(v) if v.contains("://") => (v.clone(), false),
        Some(v) => (format!("file://{v}"), true),
        None => (DEFAULT_REPO_URL.to_string(), false),
    };
    RepoSpec {
        url,
        git_ref: String::new(),
        load_host: String::new(),
        git_subpath: String::new(),
        mirror_of_default: mirror,
    }
}

/// The Tiltfile of extension `module` (`ext://<module>`), fetching its repo if needed.
pub(crate) fn resolve(ctx: &Ctx, module: &str) -> Result<PathBuf, String> {
    let obj = object_name(module);
    let spec = ctx.ext.borrow().exts.get(&obj).cloned().unwrap_or_else(|| ExtSpec {
        repo_name: "default".to_string(),
        repo_path: module.to_string(),
        args: Vec::new(),
    });
    let repo = {
        let ext = ctx.ext.borrow();
        match ext.repos.get(&spec.repo_name) {
            Some(r) => r.clone(),
            None if spec.repo_name == "default" => default_repo(&ctx.state.borrow().env),
            None => return Err(format!("loading extension {obj}: extension repo {} not found", spec.repo_name)),
        }
    };
    let cached = ctx.ext.borrow().resolved.get(&spec.repo_name).cloned();
    let checkout = if let Some(r) = cached {
        r
    } else {
        let r = resolve_repo(ctx, &spec.repo_name, &repo);
        ctx.ext.borrow_mut().resolved.insert(spec.repo_name.clone(), r.clone());
        r
    }
    .map_err(|e| format!("loading extension repo {}: {e}", spec.repo_name))?;
    let base = if repo.git_subpath.is_empty() { checkout.clone() } else { checkout.join(&repo.git_subpath) };
    let tiltfile =
        PathBuf::from(crate::go_compat::join(&[base.to_string_lossy().as_ref(), spec.repo_path.as_str(), "Tiltfile"]));
    if !tiltfile.starts_with(&checkout) {
        return Err(format!("loading extension {obj}: invalid repo path: {}", spec.repo_path));
    }
    if !tiltfile.is_file() {
        return Err(format!("loading extension {obj}: no extension tiltfile found at {}", tiltfile.display()));
    }
    record(ctx, module, &obj, &spec, &repo, &tiltfile);
    Ok(tiltfile)
}

fn record(ctx: &Ctx, module: &str, obj: &str, spec: &ExtSpec, repo: &RepoSpec, tiltfile: &Path) {
    let mut st = ctx.state.borrow_mut();
    if st.extensions.iter().any(|e| e.name == module) {
        return;
    }
    st.extensions.push(LoadedExtension {
        name: module.to_string(),
        repo_name: spec.repo_name.clone(),
        repo_path: spec.repo_path.clone(),
        path: tiltfile.to_path_buf(),
    });
    if !st.api_objects.iter().any(|o| o.kind == "ExtensionRepo" && o.name == spec.repo_name) {
        let mut rs = serde_json::Map::new();
        rs.insert("url".into(), repo.url.clone().into());
        if !repo.git_ref.is_empty() {
            rs.insert("ref".into(), repo.git_ref.clone().into());
        }
        st.api_objects.push(ApiObject {
            kind: "ExtensionRepo".into(),
            name: spec.repo_name.clone(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            spec: serde_json::Value::Object(rs),
        });
    }
    if !st.api_objects.iter().any(|o| o.kind == "Extension" && o.name == obj) {
        let mut annotations = BTreeMap::new();
        annotations.insert("tilt.dev/extension-load".to_string(), module.to_string());
        st.api_objects.push(ApiObject {
            kind: "Extension".into(),
            name: obj.to_string(),
            labels: BTreeMap::new(),
            annotations,
            spec: serde_json::json!({"repoName": spec.repo_name, "repoPath": spec.repo_path, "args": spec.args}),
        });
    }
}

/// `$XDG_DATA_HOME/tilt-dev/tilt_modules` (Tilt's download directory).
fn modules_dir(env: &BTreeMap<String, String>) -> Option<PathBuf> {
    let data = match env.get("XDG_DATA_HOME").filter(|v| v.starts_with('/')) {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env.get("HOME")?).join(".local/share"),
    };
    Some(data.join("tilt-dev").join("tilt_modules"))
}

fn resolve_repo(ctx: &Ctx, name: &str, repo: &RepoSpec) -> Result<PathBuf, String> {
    if let Some(path) = repo.url.strip_prefix("file://") {
        if !repo.git_ref.is_empty() {
            return Err("spec.ref not supported on file:// repos".to_string());
        }
        if !path.starts_with('/') {
            return Err(format!("file paths must be absolute. Url: {}", repo.url));
        }
        let p = PathBuf::from(path);
        return match std::fs::metadata(&p) {
            Ok(m) if m.is_dir() && repo.mirror_of_default => Ok(mirror(&ctx.state.borrow().env, &p).unwrap_or(p)),
            Ok(m) if m.is_dir() => Ok(p),
            Ok(_) => Err("loading: not a directory".to_string()),
            Err(e) => Err(format!("loading: {}", crate::go_compat::io_error("stat", &p, &e))),
        };
    }
    let import_path = repo
        .url
        .strip_prefix("https://")
        .or_else(|| repo.url.strip_prefix("http://"))
        .ok_or_else(|| format!("invalid: URL must start with 'https://': {}", repo.url))?
        .trim_end_matches('/')
        .trim_end_matches(".git");
    let env = ctx.state.borrow().env.clone();
    let dest = modules_dir(&env).ok_or("loading download destination: $HOME is not set")?.join(import_path);
    if dest.is_dir() {
        if let Err(e) = git(&env, Some(&dest), &["pull", "--ff-only", "--quiet"]) {
            ctx.log(
                crate::LogLevel::Warn,
                &format!(
                    "extension repo {name}: could not update {} ({e}); using the existing checkout",
                    dest.display()
                ),
            );
        }
    } else {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("loading download destination: {e}"))?;
        }
        let dest_s = dest.to_string_lossy().into_owned();
        if let Err(e) = git(&env, None, &["clone", "--quiet", &repo.url, &dest_s]) {
            let _ = std::fs::remove_dir_all(&dest);
            return Err(format!("download error: {e}"));
        }
    }
    if !repo.git_ref.is_empty() {
        git(&env, Some(&dest), &["fetch", "--quiet", "origin"]).ok();
        git(&env, Some(&dest), &["checkout", "--quiet", &repo.git_ref])
            .map_err(|e| format!("sync to ref {}: {e}", repo.git_ref))?;
    }
    Ok(dest)
}

/// Exposes `dir` at the default repo's place in a stilt-owned `tilt_modules` tree (a symlink).
fn mirror(env: &BTreeMap<String, String>, dir: &Path) -> Option<PathBuf> {
    let cache = match env.get("XDG_CACHE_HOME").filter(|v| v.starts_with('/')) {
        Some(c) => PathBuf::from(c),
        None => PathBuf::from(env.get("HOME")?).join(".cache"),
    };
    let link = cache.join("stilt/extensions/tilt_modules").join(DEFAULT_REPO_URL.trim_start_matches("https://"));
    if std::fs::read_link(&link).ok().as_deref() != Some(dir) {
        std::fs::create_dir_all(link.parent()?).ok()?;
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(dir, &link).ok()?;
    }
    Some(link)
}

/// Runs git without prompting; the error is its last stderr line.
fn git(env: &BTreeMap<String, String>, dir: Option<&Path>, args: &[&str]) -> Result<(), String> {
    if Ctx::with_current(|c| c.mode == crate::EvalMode::Sandboxed).unwrap_or(false) {
        return Err("git: processes are disabled in a sandboxed evaluation".to_string());
    }
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    cmd.args(args)
        .env_clear()
        .envs(env)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = cmd.output().map_err(|e| format!("git: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("").trim().to_string();
    Err(format!("git {}: {}", args[0], if last.is_empty() { out.status.to_string() } else { last }))
}
