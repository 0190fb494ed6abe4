//! YAML renderers run at load time, as Tilt does: `helm` (`helm template`), `kustomize`
//! (`kustomize build`, or `kubectl kustomize` when kustomize is not installed), and the legacy
//! `local_git_repo`. Commands run in the executing file's directory with the evaluator's
//! environment; their duration is reported to the caller as subprocess time.

use super::add;
use super::local::{RunSpec, cmd_display, run_command};
use crate::args::Args;
use crate::context::Ctx;
use crate::errors::BResult;
use crate::go_compat::quote;
use crate::values::{Blob, GitRepoValue};
use serde_json::Value as Json;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::Value;
use std::path::{Path, PathBuf};

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "helm", helm);
    add(b, "kustomize", kustomize);
    add(b, "local_git_repo", local_git_repo);
}

type R<'v> = BResult<Value<'v>>;

/// Runs `argv` quietly; a failure reads like Tilt's `execLocalCmd` error.
fn exec(ctx: &Ctx, argv: &[String], dir: &Path) -> BResult<String> {
    let env = ctx.state.borrow().env.clone();
    let started = std::time::Instant::now();
    let out = run_command(ctx, &RunSpec { argv, dir, env: &env, stdin: None, log_output: false });
    ctx.add_subprocess_time(started.elapsed());
    match out.error {
        None => Ok(String::from_utf8_lossy(&out.stdout).into_owned()),
        Some(e) => Err(format!(
            "command {} failed.\nerror: {e}\nstdout:\n{}\nstderr:\n{}\n",
            quote(&cmd_display(argv)),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into()),
    }
}

/// Whether `bin` is on the evaluator's `PATH`.
pub(crate) fn on_path(ctx: &Ctx, bin: &str) -> bool {
    on_path_in(&ctx.state.borrow().env, bin)
}

/// Whether `bin` is on the `PATH` of `env`.
pub(crate) fn on_path_in(env: &std::collections::BTreeMap<String, String>, bin: &str) -> bool {
    let path = env.get("PATH").map_or("", String::as_str);
    path.split(':').filter(|d| !d.is_empty()).any(|d| is_executable(&Path::new(d).join(bin)))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Kinds that are not namespaced (namespaces are not injected into them).
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "StorageClass",
    "PriorityClass",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "CSIDriver",
    "CSINode",
    "VolumeAttachment",
    "RuntimeClass",
    "IngressClass",
    "PodSecurityPolicy",
    "CertificateSigningRequest",
    "ComponentStatus",
    "FlowSchema",
    "PriorityLevelConfiguration",
];

fn helm<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let params = &["paths", "name?", "namespace?", "values?", "set?", "kube_version?", "skip_crds?"];
    let a = Args::unpack(name, params, args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let path = a.get(0).and_then(Value::unpack_str).ok_or_else(|| a.type_err(0, "string"))?;
    let chart = ctx.abs_path(path);
    let release = a.str_or(1, "chart")?;
    let namespace = a.str_or(2, "")?;
    let values: Vec<PathBuf> = a.str_or_list(3)?.iter().map(|v| ctx.abs_path(v)).collect();
    let set = a.str_or_list(4)?;
    let kube_version = a.str_or(5, "")?;
    let skip_crds = a.bool_or(6, false)?;
    match std::fs::metadata(&chart) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "Could not read Helm chart directory {}: does not exist",
                quote(&chart.to_string_lossy())
            )
            .into());
        }
        Err(e) => {
            return Err(format!("Could not read Helm chart directory {}: {e}", quote(&chart.to_string_lossy())).into());
        }
        Ok(m) if !m.is_dir() => {
            return Err(format!(
                "helm() may only be called on directories with Chart.yaml: {}",
                quote(&chart.to_string_lossy())
            )
            .into());
        }
        Ok(_) => {}
    }
    ctx.record_read(&chart);
    for v in &values {
        ctx.record_read(v);
    }
    if !on_path(ctx, "helm") {
        // Tilt's unableToFindHelmErrorMessage(), word for word
        return Err("Unable to find Helm installation. Make sure `helm` is on your $PATH.".into());
    }
    let mut cmd: Vec<String> = vec!["helm".into(), "template".into(), release, chart.to_string_lossy().into_owned()];
    if !namespace.is_empty() {
        cmd.extend(["--namespace".into(), namespace.clone()]);
    }
    if !kube_version.is_empty() {
        cmd.extend(["--kube-version".into(), kube_version]);
    }
    if !skip_crds {
        cmd.push("--include-crds".into());
    }
    for v in &values {
        cmd.extend(["--values".into(), v.to_string_lossy().into_owned()]);
    }
    for s in set {
        cmd.extend(["--set".into(), s]);
    }
    let out = exec(ctx, &cmd, &ctx.cwd())?;
    let objs = crate::k8s::parse_yaml(&out).map_err(|e| format!("parsing helm output: {e}"))?;
    let objs: Vec<Json> = objs
        .into_iter()
        .filter(|o| {
            let hook = o.pointer("/metadata/annotations/helm.sh~1hook").and_then(Json::as_str).unwrap_or("");
            !hook.split(',').any(|h| h.trim().starts_with("test"))
        })
        .map(|mut o| {
            if !namespace.is_empty()
                && crate::k8s::raw_namespace(&o).is_empty()
                && !CLUSTER_SCOPED.contains(&crate::k8s::kind(&o))
                && let Some(meta) = o.get_mut("metadata").and_then(Json::as_object_mut)
            {
                meta.insert("namespace".into(), Json::String(namespace.clone()));
            }
            o
        })
        .collect();
    Ok(eval.heap().alloc(Blob(crate::k8s::to_yaml_stream(&objs))))
}

fn kustomize<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["paths", "kustomize_bin?", "flags?"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let path = a.get(0).and_then(Value::unpack_str).ok_or_else(|| a.type_err(0, "string"))?.to_string();
    let bin = a.str_or(1, "")?;
    let flags = a.str_list(2)?;
    let abs = ctx.abs_path(&path);
    // Tilt unpacks `kustomize_bin` as a local path: relative to the Tiltfile's directory, and a
    // missing one is exec.LookPath's error, with no fallback.
    let mut cmd: Vec<String> = if !bin.is_empty() {
        let bin = ctx.abs_path(&bin);
        if let Err(e) = std::fs::metadata(&bin) {
            let shown = bin.to_string_lossy();
            return Err(format!("exec: {}: {}", quote(&shown), crate::go_compat::io_error("stat", &bin, &e)).into());
        }
        if !is_executable(&bin) {
            return Err(format!("exec: {}: permission denied", quote(&bin.to_string_lossy())).into());
        }
        vec![bin.to_string_lossy().into_owned(), "build".into()]
    } else if on_path(ctx, "kustomize") {
        vec!["kustomize".into(), "build".into()]
    } else if on_path(ctx, "kubectl") {
        vec!["kubectl".into(), "kustomize".into()]
    } else {
        return Err("Unable to find kustomize or kubectl in PATH".into());
    };
    // Tilt's argv: the binary, its flags, then the directory
    cmd.extend(flags);
    cmd.push(path);
    ctx.record_read(&abs);
    let out = exec(ctx, &cmd, &ctx.cwd())?;
    Ok(eval.heap().alloc(Blob(out)))
}

fn local_git_repo<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["paths"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let p = ctx.abs_path(&a.req_str(0)?);
    Ok(eval.heap().alloc(GitRepoValue(p.to_string_lossy().into_owned())))
}
