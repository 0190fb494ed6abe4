//! `helm()` and `kustomize()` run their tools at load time.

use super::Fixture;
use super::k8s::names;

/// The directory holding helm, if it is installed (scripts/install-tools puts it in
/// `~/.cache/stilt/tools/bin`). With `STILT_HELM_REQUIRED=1` (scripts/test) it must be.
fn helm_path() -> Option<String> {
    let mut dirs: Vec<String> = std::env::var("PATH").unwrap_or_default().split(':').map(str::to_string).collect();
    if let Ok(h) = std::env::var("HOME") {
        dirs.push(format!("{h}/.cache/stilt/tools/bin"));
    }
    let found = dirs.iter().find(|d| std::path::Path::new(d).join("helm").is_file()).cloned();
    assert!(
        found.is_some() || std::env::var("STILT_HELM_REQUIRED").as_deref() != Ok("1"),
        "helm is required (scripts/install-tools) but not installed"
    );
    found
}

#[test]
fn helm_renders_a_local_chart() {
    let Some(dir) = helm_path() else {
        eprintln!("helm not installed: skipping (run scripts/install-tools)");
        return;
    };
    let mut f = Fixture::result_only();
    f.env.insert("PATH".into(), format!("{dir}:{}", f.env["PATH"]));
    f.file("chart/Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
    f.file("chart/values.yaml", "image: nginx\n");
    f.file(
        "chart/templates/app.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-app\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n        image: {{ .Values.image }}\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: t\n  annotations:\n    helm.sh/hook: test\nspec: {containers: [{name: t, image: busybox}]}\n",
    );
    f.file("v.yaml", "image: redis\n");
    let r = f.ok("k8s_yaml(helm('chart', name='rel', namespace='ns', values=['v.yaml'], set=['x=y']))\n");
    assert_eq!(names(&r), vec!["rel-app"]);
    let t = super::k8s::k8s(&r, "rel-app");
    assert_eq!(t.objects[0]["metadata"]["namespace"], "ns");
    assert_eq!(t.image_locations[0].image, "redis");
    let e = f.err("helm('nochart')\n");
    assert!(e.message.starts_with("Error in helm: Could not read Helm chart directory \""), "{}", e.message);
    assert!(e.message.ends_with("nochart\": does not exist"), "{}", e.message);
    f.file("broken/Chart.yaml", "apiVersion: v2\nname: broken\nversion: 0.1.0\n");
    f.file("broken/templates/x.yaml", "{{ .Values.nope.deeper }}\n");
    let e = f.err("helm('broken')\n");
    assert!(e.message.starts_with("Error in helm: command \"helm template chart "), "{}", e.message);
}

#[test]
fn kustomize_builds_or_fails_like_tilt() {
    let f = Fixture::result_only();
    if !crate::builtins::render::on_path_in(&f.env, "kubectl")
        && !crate::builtins::render::on_path_in(&f.env, "kustomize")
    {
        eprintln!("neither kustomize nor kubectl installed: skipping");
        return;
    }
    f.file("k/kustomization.yaml", "resources: [cm.yaml]\nnamePrefix: p-\n");
    f.file("k/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    let r = f.ok("k8s_yaml(kustomize('k'))\n");
    assert_eq!(names(&r), vec!["uncategorized"]);
    assert_eq!(super::k8s::k8s(&r, "uncategorized").objects[0]["metadata"]["name"], "p-c");
    f.file("bad/kustomization.yaml", "resources: [missing.yaml]\n");
    let e = f.err("\nkustomize('bad')\n");
    assert!(
        e.message.starts_with("Error in kustomize: command \"kubectl kustomize bad\" failed.")
            || e.message.starts_with("Error in kustomize: command \"kustomize build bad\" failed."),
        "{}",
        e.message
    );
    assert_eq!(super::at(&e), super::loc("Tiltfile", 2, 1));
}
