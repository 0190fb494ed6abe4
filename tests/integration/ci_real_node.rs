//! `stilt ci` on the real node of `scripts/test-env up --real-node` (a kubelet with Debian's
//! containerd beside kwok's fake node): the image stilt builds and pushes is pulled by containerd
//! under the name stilt injected and really runs (readiness probe, logs); a ref the node cannot
//! pull fails with containerd's own `ErrImagePull`, and stilt's error names the host it tried; a
//! real crash loop and a real OOM kill fail by the readiness timeout, their exit recorded.
//!
//! Pods get there by tolerating the node's taint and selecting its label (docs/test-env.md).
//! Without the real node these tests say so and pass, unless `STILT_TEST_REAL_NODE_REQUIRED=1`
//! (scripts/test sets it when it started the real node): then they fail.

use crate::docker_env::{stilt_with, unique};
use crate::harness::Output;
use crate::k8s_env::{Namespace, kubectl, kubectl_result, namespace_yaml, registry, restricted_kubeconfig};

/// The real node's name when it is up and Ready; `None` (said on stderr) when it is not and
/// `STILT_TEST_REAL_NODE_REQUIRED` is not `1`.
fn real_node() -> Option<String> {
    let name = std::env::var("STILT_TEST_KUBE_REAL_NODE").unwrap_or_default();
    let ready = !name.is_empty() && {
        let (ok, out, _) =
            kubectl_result(&["get", "node", &name, "-o", "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}"]);
        ok && out == "True"
    };
    if ready {
        return Some(name);
    }
    let msg = format!(
        "the real node ({name:?}, STILT_TEST_KUBE_REAL_NODE) is not up and Ready: run `scripts/test-env up --real-node`"
    );
    assert!(std::env::var("STILT_TEST_REAL_NODE_REQUIRED").as_deref() != Ok("1"), "{msg}");
    eprintln!("skipping: {msg}");
    None
}

/// `sh -c` of the `web` container by default: print `/web.txt`, then serve it with busybox `httpd`.
const SERVE: &str = "cat /web.txt; mkdir -p /www; cp /web.txt /www/index.html; exec httpd -f -p 8080 -h /www";

/// A Deployment `web` in namespace UNIQ running IMAGE on the real node with [`SERVE`], ready
/// once the HTTP probe answers.
fn web_yaml(uniq: &str, image: &str) -> String {
    web_yaml_with(uniq, image, SERVE, "")
}

/// Like [`web_yaml`] with the container's `sh -c` SCRIPT and EXTRA container fields (YAML flow
/// entries, e.g. `resources: {…}`).
fn web_yaml_with(uniq: &str, image: &str, script: &str, extra: &str) -> String {
    let label = std::env::var("STILT_TEST_REAL_NODE_LABEL").unwrap_or_else(|_| "stilt.dev/real-node".into());
    format!(
        "{ns}apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: {uniq}}}\nspec:\n  \
         selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      \
         nodeSelector: {{{label}: \"true\"}}\n      \
         tolerations: [{{key: {label}, operator: Exists, effect: NoSchedule}}]\n      \
         terminationGracePeriodSeconds: 1\n      containers:\n      - name: web\n        image: {image}\n        \
         command: [sh, -c, '{script}']\n        \
         readinessProbe: {{httpGet: {{path: /, port: 8080}}, periodSeconds: 1}}\n{extra}",
        ns = namespace_yaml(uniq),
        extra = if extra.is_empty() { String::new() } else { format!("        {extra}\n") }
    )
}

fn error_of(out: &Output) -> String {
    out.report()["status"]["error"].as_str().unwrap_or_default().to_string()
}

/// The first pod of `app=web` in `ns`, as JSON.
fn web_pod(ns: &str) -> serde_json::Value {
    let pods: serde_json::Value =
        serde_json::from_str(&kubectl(&["-n", ns, "get", "pods", "-l", "app=web", "-o", "json"])).unwrap();
    pods["items"][0].clone()
}

#[test]
fn a_built_image_is_pulled_from_the_registry_and_run_by_the_real_node() {
    let Some(node) = real_node() else { return };
    let u = unique("rn");
    let _ns = Namespace(u.clone());
    let out = stilt_with(
        &u,
        "k8s_yaml('app.yaml')\ndocker_build('stilt-it/rn-UNIQ', '.')\n",
        &[
            ("Dockerfile", "FROM BASE\nRUN echo built-for-UNIQ > /web.txt\n"),
            ("app.yaml", &web_yaml(&u, &format!("stilt-it/rn-{u}"))),
        ],
    )
    .args(&["--timeout", "120s"])
    .run();
    out.expect_code(0);
    assert!(out.stdout.contains("SUCCESS. All workloads are healthy."), "{}", out.stdout);
    let images = out.stilt_target("web:update")["images"].as_array().unwrap().clone();
    let pushed = images[0]["pushedRef"].as_str().unwrap().to_string();
    let repo = format!("{}/stilt-it_rn-{u}", registry());
    assert!(pushed.starts_with(&format!("{repo}:tilt-")), "{pushed}");
    // The kubelet ran it on the real node, and containerd pulled exactly that repository.
    let pod = web_pod(&u);
    assert_eq!(pod["spec"]["nodeName"], node.as_str(), "{pod}");
    let status = &pod["status"]["containerStatuses"][0];
    assert_eq!(status["image"], pushed.as_str(), "{status}");
    assert!(status["imageID"].as_str().unwrap().starts_with(&format!("{repo}@sha256:")), "{status}");
    assert_eq!(status["ready"], true, "{status}");
    // A real process wrote what the Dockerfile built into the image.
    let name = pod["metadata"]["name"].as_str().unwrap();
    let logs = kubectl(&["-n", &u, "logs", name]);
    assert_eq!(logs.trim(), format!("built-for-{u}"));
}

#[test]
fn a_ref_the_node_cannot_pull_fails_with_containerds_err_image_pull_naming_the_host() {
    let Some(_node) = real_node() else { return };
    let u = unique("rnpull");
    let _ns = Namespace(u.clone());
    // No registry is advertised to this context: stilt pushes to default_registry's host but
    // injects host_from_cluster's, where nothing listens (the classic "pushed where the node
    // cannot pull" mistake).
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = restricted_kubeconfig(dir.path(), "kind-rn-restricted");
    let out = stilt_with(
        &u,
        &format!(
            "k8s_yaml('app.yaml')\ndocker_build('stilt-it/rnpull-UNIQ', '.')\n\
             default_registry('{}', host_from_cluster='127.0.0.1:9')\n",
            registry()
        ),
        &[
            ("Dockerfile", "FROM BASE\nRUN echo x > /web.txt\n"),
            ("app.yaml", &web_yaml(&u, &format!("stilt-it/rnpull-{u}"))),
        ],
    )
    .env("KUBECONFIG", kubeconfig.to_str().unwrap())
    .args(&["--timeout", "120s"])
    .run();
    out.expect_code(1);
    let error = error_of(&out);
    assert!(error.contains("in error state due to container web"), "{error}");
    // The injected ref names the host; containerd's own pull error says why it failed there
    // (kubelet's later back-off message only repeats the ref).
    assert!(error.contains("127.0.0.1:9/stilt-it_rnpull-"), "{error}");
    if error.contains("ErrImagePull") {
        assert!(error.contains("dial tcp 127.0.0.1:9") && error.contains("connection refused"), "{error}");
    } else {
        assert!(error.contains("ImagePullBackOff"), "{error}");
    }
}

/// `stilt ci --timeout 100s` of `ci_settings(readiness_timeout='20s')` and `web` built from
/// BASE on the real node, its container running `sh -c SCRIPT` with EXTRA fields.
fn run_built(prefix: &str, script: &str, extra: &str) -> (Namespace, Output) {
    let u = unique(prefix);
    let ns = Namespace(u.clone());
    let tiltfile = format!(
        "ci_settings(readiness_timeout='20s')\nk8s_yaml('app.yaml')\ndocker_build('stilt-it/{prefix}-UNIQ', '.')\n"
    );
    let out = stilt_with(
        &u,
        &tiltfile,
        &[
            ("Dockerfile", "FROM BASE\nRUN echo x > /web.txt\n"),
            ("app.yaml", &web_yaml_with(&u, &format!("stilt-it/{prefix}-{u}"), script, extra)),
        ],
    )
    .args(&["--timeout", "100s"])
    .run();
    (ns, out)
}

/// The `web` container's last termination (`lastState`, or `state` before the first restart).
fn last_termination(ns: &str) -> serde_json::Value {
    let pod = web_pod(ns);
    let status = &pod["status"]["containerStatuses"][0];
    let last = &status["lastState"]["terminated"];
    if last.is_null() { status["state"]["terminated"].clone() } else { last.clone() }
}

#[test]
fn a_really_crash_looping_container_fails_by_the_readiness_timeout_and_its_output_is_logged() {
    if real_node().is_none() {
        return;
    }
    // As in Tilt, a crash loop in a Running pod is only "not ready": it fails by the readiness timeout.
    let (ns, out) = run_built("rncrash", "echo about to fail; exit 3", "");
    out.expect_code(3);
    assert_eq!(error_of(&out), "Readiness timeout after 20s: target web:runtime not ready");
    // The process really ran and exited 3, was restarted, and stilt logged what it printed.
    let terminated = last_termination(&ns.0);
    assert_eq!(terminated["exitCode"], 3, "{terminated}");
    assert_eq!(terminated["reason"], "Error", "{terminated}");
    assert!(out.stdout.contains("about to fail"), "{}", out.stdout);
    assert!(out.stdout.contains("CrashLoopBackOff"), "{}", out.stdout);
}

#[test]
fn a_real_oom_kill_under_a_memory_limit_shows_as_oom_killed() {
    if real_node().is_none() {
        return;
    }
    // busybox tail keeps its whole (newline-free) input in memory: the 20 MiB cgroup limit kills it.
    let (ns, out) = run_built("rnoom", "head -c 300m /dev/zero | tail", "resources: {limits: {memory: 20Mi}}");
    out.expect_code(3);
    assert_eq!(error_of(&out), "Readiness timeout after 20s: target web:runtime not ready");
    let terminated = last_termination(&ns.0);
    assert_eq!(terminated["reason"], "OOMKilled", "{terminated}");
    assert_eq!(terminated["exitCode"], 137, "{terminated}");
}
