//! Bad input to `stilt alpha tiltfile-result`: exit 5, `Error in <builtin>: <message>` on
//! stderr, and the `file:line` of the call.

use crate::harness::stilt_bin;
use std::process::Command;

pub struct Failed {
    pub code: Option<i32>,
    pub stderr: String,
}

/// Runs `tiltfile-result` on `src` (with extra files) in a temp dir.
pub fn run(src: &str, files: &[(&str, &str)], env: &[(&str, &str)]) -> Failed {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Tiltfile"), src).unwrap();
    for (p, c) in files {
        let p = dir.path().join(p);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, c).unwrap();
    }
    let mut c = Command::new(stilt_bin());
    c.args(["alpha", "tiltfile-result"]).current_dir(dir.path()).env("HOME", dir.path()).env_remove("KUBECONFIG");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Failed { code: out.status.code(), stderr: String::from_utf8_lossy(&out.stderr).into_owned() }
}

/// Asserts exit 5, an `Error in <builtin>: ` line containing `needle`, and `Tiltfile:<line>:`.
pub fn expect(out: &Failed, builtin: &str, needle: &str, line: u32) {
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    let err = out
        .stderr
        .lines()
        .find(|l| l.starts_with(&format!("Error in {builtin}: ")) || l.contains(&format!(": Error in {builtin}: ")))
        .unwrap_or_else(|| panic!("no `Error in {builtin}:` line in\n{}", out.stderr));
    assert!(out.stderr.contains(needle), "expected {needle:?} in\n{}", out.stderr);
    assert!(out.stderr.contains(&format!("Tiltfile:{line}:")), "expected Tiltfile:{line}: in\n{}\n({err})", out.stderr);
}

/// Builtins with a call passing an argument of the wrong type.
const WRONG_TYPE: &[(&str, &str)] = &[
    ("docker_build", "docker_build(1, '.')"),
    ("custom_build", "custom_build(1, 'make', [])"),
    ("default_registry", "default_registry(1)"),
    ("k8s_yaml", "k8s_yaml(1)"),
    ("k8s_resource", "k8s_resource(1)"),
    ("k8s_kind", "k8s_kind(1)"),
    ("k8s_image_json_path", "k8s_image_json_path(1, kind='x')"),
    ("k8s_custom_deploy", "k8s_custom_deploy(1, 'a', 'b', [])"),
    ("filter_yaml", "filter_yaml(1)"),
    ("workload_to_resource_function", "workload_to_resource_function(1)"),
    ("k8s_context", "k8s_context(1)"),
    ("k8s_namespace", "k8s_namespace(1)"),
    ("allow_k8s_contexts", "allow_k8s_contexts(1)"),
    ("port_forward", "port_forward('x')"),
    ("helm", "helm(1)"),
    ("kustomize", "kustomize(1)"),
    ("local_git_repo", "local_git_repo(1)"),
    ("docker_compose", "docker_compose(1)"),
    ("dc_resource", "dc_resource(1)"),
    ("sync", "sync(1, '/a')"),
    ("run", "run(1)"),
    ("fall_back_on", "fall_back_on(1)"),
    ("initial_sync", "initial_sync(1)"),
    ("restart_container", "restart_container(1)"),
    ("local", "local(1)"),
    ("local_resource", "local_resource(1, cmd='x')"),
    ("read_file", "read_file(1)"),
    ("watch_file", "watch_file(1)"),
    ("listdir", "listdir(1)"),
    ("blob", "blob(1)"),
    ("read_json", "read_json(1)"),
    ("read_yaml", "read_yaml(1)"),
    ("read_yaml_stream", "read_yaml_stream(1)"),
    ("decode_json", "decode_json(1)"),
    ("decode_yaml", "decode_yaml(1)"),
    ("decode_yaml_stream", "decode_yaml_stream(1)"),
    ("encode_yaml_stream", "encode_yaml_stream(1)"),
    ("include", "include(1)"),
    ("load_dynamic", "load_dynamic(1)"),
    ("warn", "warn(1)"),
    ("fail", "fail(1)"),
    ("update_settings", "update_settings(max_parallel_updates='x')"),
    ("ci_settings", "ci_settings(timeout=1)"),
    ("secret_settings", "secret_settings('x')"),
    ("version_settings", "version_settings(check_updates='x')"),
    ("analytics_settings", "analytics_settings('x')"),
    ("watch_settings", "watch_settings(ignore=1)"),
    ("docker_prune_settings", "docker_prune_settings(disable='x')"),
    ("trigger_mode", "trigger_mode(1)"),
    ("enable_feature", "enable_feature(1)"),
    ("disable_feature", "disable_feature(1)"),
    ("disable_snapshots", "disable_snapshots(1)"),
    ("set_team", "set_team(1)"),
    ("link", "link(1)"),
    ("probe", "probe(initial_delay_secs='x')"),
    ("exec_action", "exec_action(1)"),
    ("http_get_action", "http_get_action('x')"),
    ("tcp_socket_action", "tcp_socket_action('x')"),
    ("config.define_string", "config.define_string(1)"),
    ("config.define_string_list", "config.define_string_list(1)"),
    ("config.define_bool", "config.define_bool(1)"),
    ("config.define_object", "config.define_object(1)"),
    ("config.set_enabled_resources", "config.set_enabled_resources(1)"),
    ("os.getenv", "os.getenv(1)"),
    ("os.putenv", "os.putenv(1, 'x')"),
    ("os.path.join", "os.path.join(1)"),
    ("os.path.exists", "os.path.exists(1)"),
    ("shlex.quote", "shlex.quote(1)"),
    ("v1alpha1.cmd", "v1alpha1.cmd(name=1)"),
    ("v1alpha1.ui_button", "v1alpha1.ui_button(name='b', text=1)"),
    ("v1alpha1.extension_repo", "v1alpha1.extension_repo(name='r', url=1)"),
    ("v1alpha1.extension", "v1alpha1.extension(name='e', repo_name=1)"),
    ("v1alpha1.config_map", "v1alpha1.config_map(name='c', data=1)"),
    ("v1alpha1.file_watch", "v1alpha1.file_watch(name='f', watched_paths=1)"),
    ("v1alpha1.kubernetes_apply", "v1alpha1.kubernetes_apply(name='k', timeout=1)"),
    ("v1alpha1.kubernetes_discovery", "v1alpha1.kubernetes_discovery(name='k', cluster=1)"),
    ("v1alpha1.ui_text_input_spec", "v1alpha1.ui_text_input_spec(default_value=1)"),
    ("v1alpha1.start_on_spec", "v1alpha1.start_on_spec(ui_buttons='x')"),
    ("v1alpha1.probe", "v1alpha1.probe(period_seconds='x')"),
];

/// Each builtin's wrong argument type fails in that builtin, at the call.
#[test]
fn wrong_types_fail_in_the_builtin() {
    let mut bad = Vec::new();
    for (builtin, call) in WRONG_TYPE {
        let out = run(&format!("x = 1\n{call}\n"), &[], &[]);
        let line = out.stderr.lines().find(|l| l.starts_with(&format!("Error in {builtin}: ")));
        if out.code != Some(5) || line.is_none() || !out.stderr.contains("Tiltfile:2:1") {
            bad.push(format!("{call}: exit {:?}\n{}", out.code, out.stderr));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Each builtin rejects an unknown keyword in go.starlark.net's words.
#[test]
fn unknown_keywords_fail_in_the_builtin() {
    let mut bad = Vec::new();
    for (builtin, _) in WRONG_TYPE {
        if ["fail", "warn"].contains(builtin) {
            continue;
        }
        let out = run(&format!("\n{builtin}(bogus_kw=1)\n"), &[], &[]);
        let want = format!("Error in {builtin}: {builtin}: unexpected keyword argument bogus_kw");
        if out.code != Some(5) || !out.stderr.contains(&want) || !out.stderr.contains("Tiltfile:2:1") {
            bad.push(format!("{builtin}: exit {:?}\n{}", out.code, out.stderr));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn extension_that_does_not_exist() {
    let exts = tempfile::tempdir().unwrap();
    let out = run(
        "\nload('ext://no_such_extension', 'x')\n",
        &[],
        &[("STILT_EXTENSIONS_REPO", exts.path().to_str().unwrap())],
    );
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "cannot load ext://no_such_extension: loading extension no_such_extension: no extension tiltfile found at "
        ),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Tiltfile:2:1"), "{}", out.stderr);
}

#[test]
fn unreachable_extension_repo_without_cache() {
    let out = run(
        "v1alpha1.extension_repo(name='r', url='https://127.0.0.1:9/x/y')\nv1alpha1.extension(name='e', repo_name='r', repo_path='e')\nload('ext://e', 'x')\n",
        &[],
        &[],
    );
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(
        out.stderr.contains("cannot load ext://e: loading extension repo r: download error: git clone: "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("Tiltfile:3:1"), "{}", out.stderr);
}

#[test]
fn load_of_a_symbol_the_file_does_not_define() {
    let out = run("x = 1\nload('lib.star', 'nope')\n", &[("lib.star", "yes = 1\n")], &[]);
    assert_eq!(out.code, Some(5), "{}", out.stderr);
    assert!(out.stderr.contains("load: name nope not found in module lib.star"), "{}", out.stderr);
    assert!(out.stderr.contains("Tiltfile:2:"), "{}", out.stderr);
}

#[test]
fn yaml_that_is_not_kubernetes_objects() {
    let out = run("\nk8s_yaml('x.yaml')\n", &[("x.yaml", "just: data\n")], &[]);
    expect(&out, "k8s_yaml", "Object 'Kind' is missing in '{\"just\":\"data\"}'", 2);
}

#[test]
fn helm_chart_directory_missing() {
    let out = run("\n\nhelm('charts/missing')\n", &[], &[]);
    expect(&out, "helm", "Could not read Helm chart directory", 3);
    assert!(out.stderr.contains("charts/missing\": does not exist"), "{}", out.stderr);
}

#[test]
fn kustomize_failure() {
    let out = run("k8s_yaml(kustomize('k'))\n", &[("k/kustomization.yaml", "resources: [missing.yaml]\n")], &[]);
    expect(&out, "kustomize", "failed.", 1);
    assert!(
        out.stderr.contains("command \"kubectl kustomize k\" failed.")
            || out.stderr.contains("command \"kustomize build k\" failed."),
        "{}",
        out.stderr
    );
}

#[test]
fn ci_mode_still_refuses_what_it_cannot_run() {
    // `stilt ci` must not silently accept resources it cannot run (see also
    // bad_input::unsupported_builtin_names_itself).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Tiltfile"),
        "local_resource('a', cmd='true')\nk8s_custom_deploy('a', 'x', 'y', [])\n",
    )
    .unwrap();
    let out = Command::new(stilt_bin())
        .args(["ci", "--port", "0"])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stilt does not support k8s_custom_deploy yet"));
}
