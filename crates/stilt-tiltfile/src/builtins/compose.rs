//! docker-compose as data: `docker_compose` and `dc_resource`.
//!
//! Files are read and merged like `docker compose config` does for what Tilt needs: services
//! merged key by key in file order (maps recursively, `ports`/`expose`/`volumes`/… appended),
//! `${VAR}` / `${VAR:-default}` / `${VAR-default}` / `$VAR` interpolated from the environment
//! and the project's `.env` (or `env_file=`), services outside the active `profiles` dropped.
//! Services become resources in file order with their `depends_on` first (Tilt's own order
//! comes from a Go map and varies between runs). Nothing is started.

use super::add;
use super::local_resource::{label_list, link_list};
use crate::args::{Args, sequence};
use crate::context::Ctx;
use crate::errors::BResult;
use crate::state::{ComposeProject, DcResourceOpts};
use crate::values::{Blob, TriggerModeValue};
use serde_json::Value as Json;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::{Value, ValueLike};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "docker_compose", docker_compose);
    add(b, "dc_resource", dc_resource);
}

type R<'v> = BResult<Value<'v>>;

/// Keys whose sequences are concatenated when files are merged.
const APPEND_KEYS: &[&str] = &[
    "ports",
    "expose",
    "volumes",
    "dns",
    "dns_search",
    "tmpfs",
    "external_links",
    "extra_hosts",
    "env_file",
    "secrets",
    "configs",
    "devices",
    "cap_add",
    "cap_drop",
    "security_opt",
];

fn docker_compose<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let ctx = Ctx::get(eval);
    let params = &["configPaths", "env_file?", "project_name?", "profiles?", "wait?"];
    let a = Args::unpack(name, params, args, eval.heap())?;
    let v = a.get(0).unwrap_or_else(Value::new_none);
    let items = match sequence(v) {
        Some(items) => items,
        None => vec![v],
    };
    let mut sources: Vec<(Option<PathBuf>, String)> = Vec::new();
    for item in items {
        if let Some(p) = item.unpack_str() {
            let path = ctx.abs_path(p);
            ctx.record_read(&path);
            let text = std::fs::read_to_string(&path).map_err(|e| crate::go_compat::io_error("open", &path, &e))?;
            sources.push((Some(path), text));
        } else if let Some(b) = item.downcast_ref::<Blob>() {
            sources.push((None, b.0.clone()));
        } else {
            return Err(format!("expected blob | string | list of (string | blob), got {}", item.get_type()).into());
        }
    }
    if sources.is_empty() {
        return Err("Nothing to compose".into());
    }
    let project_dir = sources
        .iter()
        .find_map(|(p, _)| p.as_ref().and_then(|p| p.parent().map(Path::to_path_buf)))
        .unwrap_or_else(|| ctx.cwd());
    let env_file = match a.str(1)? {
        Some(f) if !f.is_empty() => Some(ctx.abs_path(&f)),
        _ => None,
    };
    let mut env = ctx.state.borrow().env.clone();
    let dotenv = env_file.clone().unwrap_or_else(|| project_dir.join(".env"));
    if let Ok(text) = std::fs::read_to_string(&dotenv) {
        ctx.record_read(&dotenv);
        for (k, v) in parse_dotenv(&text) {
            env.entry(k).or_insert(v);
        }
    } else if let Some(f) = &env_file {
        return Err(crate::go_compat::io_error("open", f, &std::io::Error::from(std::io::ErrorKind::NotFound)).into());
    }
    let profiles = match a.get(3) {
        Some(_) => a.str_or_list(3)?,
        None => env.get("COMPOSE_PROFILES").map(|p| p.split(',').map(str::to_string).collect()).unwrap_or_default(),
    };
    let mut top_name = String::new();
    let mut services: Vec<(String, Json)> = Vec::new();
    for (path, text) in &sources {
        let doc: Json = serde_saphyr::from_str(text).map_err(|e| {
            let from = path.as_ref().map_or_else(|| "blob".to_string(), |p| p.display().to_string());
            format!("failed to parse {from}: {}", e.to_string().lines().next().unwrap_or_default())
        })?;
        let doc = interpolate(&doc, &env)?;
        if let Some(n) = doc.get("name").and_then(Json::as_str) {
            top_name = n.to_string();
        }
        let Some(svcs) = doc.get("services").and_then(Json::as_object) else { continue };
        for (svc, conf) in svcs {
            match services.iter_mut().find(|(n, _)| n == svc) {
                Some((_, existing)) => merge(existing, conf, ""),
                None => services.push((svc.clone(), conf.clone())),
            }
        }
    }
    services.retain(|(_, c)| match c.get("profiles").and_then(Json::as_array) {
        Some(ps) if !ps.is_empty() => ps.iter().filter_map(Json::as_str).any(|p| profiles.iter().any(|x| x == p)),
        _ => true,
    });
    let project_name = match a.str(2)? {
        Some(n) if !n.is_empty() => n,
        _ if !top_name.is_empty() => top_name,
        _ => normalize_project_name(&crate::go_compat::base(&project_dir.to_string_lossy())),
    };
    let ordered = dependency_order(&services);
    let config_paths: Vec<PathBuf> = sources.iter().filter_map(|(p, _)| p.clone()).collect();
    let declared_at = ctx.call_site(eval);
    let mut st = ctx.state.borrow_mut();
    if let Some(existing) = st.compose.iter_mut().find(|p| p.name == project_name) {
        existing.config_paths.extend(config_paths);
        for (n, c) in ordered {
            match existing.services.iter_mut().find(|(x, _)| *x == n) {
                Some((_, e)) => merge(e, &c, ""),
                None => existing.services.push((n, c)),
            }
        }
    } else {
        st.compose.push(ComposeProject {
            name: project_name,
            project_path: project_dir,
            config_paths,
            services: ordered,
            declared_at,
        });
    }
    Ok(Value::new_none())
}

/// Compose's project name rule: lower-case, only `[a-z0-9_-]`.
fn normalize_project_name(s: &str) -> String {
    s.to_lowercase().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect()
}

fn merge(into: &mut Json, from: &Json, key: &str) {
    match (into, from) {
        (Json::Object(a), Json::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge(existing, v, k),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Json::Array(a), Json::Array(b)) if APPEND_KEYS.contains(&key) => {
            for v in b {
                if !a.contains(v) {
                    a.push(v.clone());
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// The names a service depends on (`depends_on` as a list or a map).
pub(crate) fn depends_on(conf: &Json) -> Vec<String> {
    let mut out: Vec<String> = match conf.get("depends_on") {
        Some(Json::Array(a)) => a.iter().filter_map(Json::as_str).map(str::to_string).collect(),
        Some(Json::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    };
    // Compose turns `links`, `volumes_from` and `network_mode: service:x` into dependencies.
    let mut implied: Vec<String> = Vec::new();
    if let Some(Json::Array(links)) = conf.get("links") {
        implied.extend(links.iter().filter_map(Json::as_str).map(|l| l.split(':').next().unwrap_or(l).to_string()));
    }
    if let Some(Json::Array(vf)) = conf.get("volumes_from") {
        implied.extend(
            vf.iter()
                .filter_map(Json::as_str)
                .filter(|v| !v.starts_with("container:"))
                .map(|v| v.trim_start_matches("service:").split(':').next().unwrap_or(v).to_string()),
        );
    }
    if let Some(svc) = conf.get("network_mode").and_then(Json::as_str).and_then(|n| n.strip_prefix("service:")) {
        implied.push(svc.to_string());
    }
    for d in implied {
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

/// Services in file order, each after the services it depends on.
fn dependency_order(services: &[(String, Json)]) -> Vec<(String, Json)> {
    fn visit(i: usize, services: &[(String, Json)], done: &mut Vec<bool>, on: &mut Vec<bool>, out: &mut Vec<usize>) {
        if done[i] || on[i] {
            return;
        }
        on[i] = true;
        for d in depends_on(&services[i].1) {
            if let Some(j) = services.iter().position(|(n, _)| *n == d) {
                visit(j, services, done, on, out);
            }
        }
        on[i] = false;
        done[i] = true;
        out.push(i);
    }
    let mut done = vec![false; services.len()];
    let mut on = vec![false; services.len()];
    let mut out = Vec::new();
    for i in 0..services.len() {
        visit(i, services, &mut done, &mut on, &mut out);
    }
    out.into_iter().map(|i| services[i].clone()).collect()
}

fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            let l = l.strip_prefix("export ").unwrap_or(l);
            let (k, v) = l.split_once('=')?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|x| x.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')))
                .unwrap_or(v);
            Some((k.trim().to_string(), v.to_string()))
        })
        .collect()
}

fn interpolate(v: &Json, env: &BTreeMap<String, String>) -> Result<Json, String> {
    Ok(match v {
        Json::String(s) => Json::String(interpolate_str(s, env)?),
        Json::Array(a) => Json::Array(a.iter().map(|x| interpolate(x, env)).collect::<Result<_, _>>()?),
        Json::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                out.insert(k.clone(), interpolate(x, env)?);
            }
            Json::Object(out)
        }
        other => other.clone(),
    })
}

fn interpolate_str(s: &str, env: &BTreeMap<String, String>) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(body) = after.strip_prefix('{') {
            let end = body.find('}').ok_or_else(|| format!("Invalid template: {s:?}"))?;
            let expr = &body[..end];
            let get = |k: &str| env.get(k).cloned();
            let val = if let Some((k, d)) = expr.split_once(":-") {
                get(k).filter(|v| !v.is_empty()).unwrap_or_else(|| d.to_string())
            } else if let Some((k, d)) = expr.split_once('-') {
                get(k).unwrap_or_else(|| d.to_string())
            } else if let Some((k, msg)) = expr.split_once(":?") {
                get(k)
                    .filter(|v| !v.is_empty())
                    .ok_or_else(|| format!("required variable {k} is missing a value: {msg}"))?
            } else if let Some((k, msg)) = expr.split_once('?') {
                get(k).ok_or_else(|| format!("required variable {k} is missing a value: {msg}"))?
            } else {
                get(expr).unwrap_or_default()
            };
            out.push_str(&val);
            rest = &body[end + 1..];
        } else {
            let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
            if end == 0 {
                out.push('$');
            } else {
                out.push_str(env.get(&after[..end]).map_or("", String::as_str));
            }
            rest = &after[end..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

const DC_RESOURCE_PARAMS: &[&str] = &[
    "name",
    "image?",
    "trigger_mode?",
    "resource_deps?",
    "infer_links?",
    "links?",
    "labels?",
    "auto_init?",
    "project_name?",
    "new_name?",
];

fn dc_resource<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let ctx = Ctx::get(eval);
    let a = Args::unpack(name, DC_RESOURCE_PARAMS, args, eval.heap())?;
    let svc = a.req_str(0)?;
    if svc.is_empty() {
        return Err("dc_resource: `name` must not be empty".into());
    }
    let image = match a.get(1).filter(|v| !v.is_none()) {
        None => None,
        Some(v) => {
            let s = v.unpack_str().ok_or_else(|| format!("image arg must be a string; got {}", v.get_type()))?;
            stilt_core::ImageRef::parse(s).map_err(|e| format!("parsing image {s:?}: {}", e.reason))?;
            Some(s.to_string())
        }
    };
    let trigger_mode = match a.get(2).filter(|v| !v.is_none()) {
        None => None,
        Some(v) => Some(v.downcast_ref::<TriggerModeValue>().ok_or_else(|| a.type_err(2, "TriggerMode"))?.0),
    };
    let resource_deps = match a.get(3).filter(|v| !v.is_none()) {
        None => Vec::new(),
        Some(v) => sequence(v)
            .ok_or_else(|| a.type_err(3, "sequence"))?
            .iter()
            .map(|x| {
                x.unpack_str().map(str::to_string).ok_or_else(|| {
                    format!("{name}: resource_deps: for parameter 1: got {}, want string", x.get_type()).into()
                })
            })
            .collect::<BResult<Vec<_>>>()?,
    };
    // `infer_links` (links from published ports) only matters for the UI.
    a.bool_or(4, true)?;
    let opts = DcResourceOpts {
        image,
        trigger_mode,
        resource_deps,
        links: link_list(&a, 5)?,
        labels: label_list(&a, 6)?,
        auto_init: match a.get(7) {
            None => None,
            Some(_) => Some(a.bool_or(7, true)?),
        },
        project_name: a.str_or(8, "")?,
        new_name: a.str_or(9, "")?,
        name: svc.clone(),
    };
    let mut st = ctx.state.borrow_mut();
    let known: Vec<&str> = st
        .compose
        .iter()
        .filter(|p| opts.project_name.is_empty() || p.name == opts.project_name)
        .flat_map(|p| p.services.iter().map(|(n, _)| n.as_str()))
        .collect();
    if !known.contains(&svc.as_str()) {
        return Err(format!(
            "no Docker Compose service found with name {svc:?}. Found these instead:\n\t{}",
            known.join("; ")
        )
        .into());
    }
    st.dc_opts.push(opts);
    Ok(Value::new_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpolates_like_compose() {
        let mut env = BTreeMap::new();
        env.insert("A".to_string(), "x".to_string());
        env.insert("E".to_string(), String::new());
        assert_eq!(interpolate_str("${A}-$A-${B:-d}-${E:-e}-${E-f}-$$", &env).unwrap(), "x-x-d-e--$");
    }

    #[test]
    fn orders_dependencies_first() {
        let s = |n: &str, d: &[&str]| (n.to_string(), serde_json::json!({"depends_on": d}));
        let order: Vec<String> =
            dependency_order(&[s("a", &["b"]), s("b", &[]), s("c", &["a"])]).into_iter().map(|x| x.0).collect();
        assert_eq!(order, vec!["b", "a", "c"]);
    }
}
