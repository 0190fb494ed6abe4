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

#[test]
fn helm_without_a_helm_binary_fails_with_tilts_message() {
    let mut f = Fixture::result_only();
    let empty = f.path("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    f.env.insert("PATH".into(), empty.display().to_string());
    f.file("chart/Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
    let e = f.err("\nk8s_yaml(helm('chart'))\n");
    assert_eq!(e.message, "Error in helm: Unable to find Helm installation. Make sure `helm` is on your $PATH.");
    assert_eq!(e.location.as_ref().map(|l| l.line), Some(2));
}

#[test]
fn kustomize_bin_is_relative_to_the_tiltfile_directory() {
    let f = Fixture::result_only();
    let args = f.path("deploy/args.txt");
    let fake = f.file(
        "deploy/tools/kustomize",
        &format!(
            "#!/bin/sh\necho \"$@\" > '{}'\nprintf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata: {{name: from-fake}}\\n'\n",
            args.display()
        ),
    );
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    f.file("deploy/k/kustomization.yaml", "resources: []\n");
    // the included Tiltfile's directory, not the main one's nor the process's
    f.file("deploy/Tiltfile", "k8s_yaml(kustomize('k', kustomize_bin='tools/kustomize', flags=['--enable-helm']))\n");
    let r = f.ok("include('deploy/Tiltfile')\n");
    assert_eq!(names(&r), vec!["uncategorized"]);
    assert_eq!(super::k8s::k8s(&r, "uncategorized").objects[0]["metadata"]["name"], "from-fake");
    assert_eq!(
        std::fs::read_to_string(&args).unwrap().trim(),
        "build --enable-helm k",
        "flags before the path, as Tilt"
    );

    f.file("deploy/Tiltfile", "kustomize('k', kustomize_bin='nope/kustomize')\n");
    let e = f.err("include('deploy/Tiltfile')\n");
    let missing = f.path("deploy/nope/kustomize");
    assert_eq!(
        e.message,
        format!(
            "Error in kustomize: exec: \"{}\": stat {}: no such file or directory",
            missing.display(),
            missing.display()
        )
    );
}
