//! `stilt ci` deploying to the real control plane of `scripts/test-env` (kube-apiserver,
//! controllers, scheduler; kwok nodes run the pods and inject the faults named by the
//! `stilt.test/fault` label): images pushed where the cluster says, refs injected, pods
//! followed with Tilt's rules, failures named, `stilt down`.

use crate::docker_env::{stilt_with, unique};
use crate::harness::Output;
use crate::k8s_env::{
    Namespace, kubectl, kubectl_result, namespace_yaml, registry, registry_tags, restricted_kubeconfig,
};
use std::time::Instant;

/// A Deployment `web` in namespace UNIQ running `IMAGE`, with `LABELS` on its pods, and a
/// Service that Tilt groups with it.
const WEB: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: UNIQ}\nspec:\n  \
                   selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web LABELS}}\n    \
                   spec:\n      containers: [{name: web, image: IMAGE}]\n---\n\
                   apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: UNIQ}\nspec:\n  \
                   selector: {app: web}\n  ports: [{port: 80}]\n";

fn web_yaml(uniq: &str, image: &str, labels: &str) -> String {
    format!("{}{}", namespace_yaml(uniq), WEB.replace("IMAGE", image).replace(" LABELS", labels))
}

fn job_yaml(uniq: &str, labels: &str) -> String {
    format!(
        "{}apiVersion: batch/v1\nkind: Job\nmetadata: {{name: migrate, namespace: {uniq}}}\nspec:\n  backoffLimit: 0\n  \
         template:\n    metadata: {{labels: {{app: migrate{labels}}}}}\n    spec:\n      restartPolicy: Never\n      \
         containers: [{{name: m, image: busybox}}]\n",
        namespace_yaml(uniq)
    )
}

/// `stilt ci --timeout TIMEOUT` on `SETTINGS` then `k8s_yaml('app.yaml')`: the `web`
/// Deployment of busybox, its pods labelled `stilt.test/fault: FAULT` unless FAULT is empty,
/// in a namespace of its own (deleted when the returned guard drops).
fn run_web(prefix: &str, settings: &str, fault: &str, timeout: &str) -> (Namespace, Output) {
    let u = unique(prefix);
    let ns = Namespace(u.clone());
    let labels = if fault.is_empty() { String::new() } else { format!(", stilt.test/fault: {fault}") };
    let out = stilt_with(
        &u,
        &format!("{settings}k8s_yaml('app.yaml')\n"),
        &[("app.yaml", &web_yaml(&u, "busybox", &labels))],
    )
    .args(&["--timeout", timeout])
    .run();
    (ns, out)
}

/// `stilt ci --timeout TIMEOUT` on `TILTFILE`, which builds `stilt-it/web-UNIQ` for the `web`
/// Deployment (in a namespace of its own, deleted when the returned guard drops), through a
/// kubeconfig whose context `CONTEXT` may not read the registry ConfigMap or the nodes: no
/// registry is advertised. `extra_env` is added to stilt's environment.
fn run_built_web_restricted(
    prefix: &str,
    context: &str,
    tiltfile: &str,
    extra_env: &[(&str, &str)],
    timeout: &str,
) -> (Namespace, Output) {
    let u = unique(prefix);
    let ns = Namespace(u.clone());
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = restricted_kubeconfig(dir.path(), context);
    let mut stilt = stilt_with(
        &u,
        tiltfile,
        &[("Dockerfile", "FROM BASE\n"), ("app.yaml", &web_yaml(&u, &format!("stilt-it/web-{u}"), ""))],
    )
    .env("KUBECONFIG", kubeconfig.to_str().unwrap())
    .args(&["--timeout", timeout]);
    for (k, v) in extra_env {
        stilt = stilt.env(k, v);
    }
    (ns, stilt.run())
}

fn error_of(out: &Output) -> String {
    out.report()["status"]["error"].as_str().unwrap_or_default().to_string()
}

#[test]
fn built_image_goes_to_the_advertised_registry_and_the_deployment_becomes_ready() {
    let u = unique("k8s");
    let _ns = Namespace(u.clone());
    let out = stilt_with(
        &u,
        "k8s_yaml('app.yaml')\ndocker_build('stilt-it/web-UNIQ', '.')\n\
         default_registry('127.0.0.1:9')  # the cluster's KEP-1755 registry wins, as in Tilt\n",
        &[
            ("Dockerfile", "FROM BASE\nRUN echo web > /web.txt\n"),
            ("app.yaml", &web_yaml(&u, &format!("stilt-it/web-{u}"), "")),
        ],
    )
    .args(&["--timeout", "90s"])
    .run();
    out.expect_code(0);
    assert!(out.stdout.contains("SUCCESS. All workloads are healthy."), "{}", out.stdout);
    assert!(out.stdout.contains("default_registry(\"127.0.0.1:9\") is ignored"), "{}", out.stdout);
    // Pushed under the registry's name for the image, with the content tag.
    let images = out.stilt_target("web:update")["images"].as_array().unwrap().clone();
    let pushed = images[0]["pushedRef"].as_str().unwrap().to_string();
    let repo = format!("stilt-it_web-{u}");
    assert!(pushed.starts_with(&format!("{}/{repo}:tilt-", registry())), "{pushed}");
    assert!(images[0]["digest"].as_str().unwrap().starts_with("sha256:"), "{images:?}");
    let tag = pushed.rsplit(':').next().unwrap();
    assert!(registry_tags(&repo).contains(tag), "{}", registry_tags(&repo));
    // The Deployment runs exactly that ref, labelled like Tilt's, and its Service was grouped in.
    let image =
        kubectl(&["-n", &u, "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
    assert_eq!(image, pushed);
    let labels = kubectl(&["-n", &u, "get", "deployment", "web", "-o", "jsonpath={.spec.template.metadata.labels}"]);
    assert!(
        labels.contains("\"app.kubernetes.io/managed-by\":\"tilt\"") && labels.contains("tilt.dev/pod-template-hash"),
        "{labels}"
    );
    assert!(out.stdout.contains("→ web:service") && out.stdout.contains("→ web:deployment"), "{}", out.stdout);
    let runtime = out.target_state("web:runtime");
    assert_eq!(runtime["active"]["ready"], true, "{runtime}");
    assert!(out.stdout.contains("is ready (Running)"), "{}", out.stdout);
    // The pod's own log is followed into the resource's log and its JUnit case.
    assert!(out.stdout.contains("web │ stilt-test-env: container started (simulated by kwok)"), "{}", out.stdout);
    let case = out.case("web:runtime");
    let system_out = case.system_out.map(|s| s.as_str().to_string()).unwrap_or_default();
    assert!(system_out.contains("stilt-test-env: container started"), "{system_out}");
    assert!(
        system_out.contains(&format!("Pod {u}/web-")) && system_out.contains(": Running (ready 1/1, 0 restarts)"),
        "{system_out}"
    );
    // The JSON report lists the pod as kubectl would.
    let pods = out.stilt_target("web:runtime")["pods"].as_array().unwrap().clone();
    assert_eq!(pods.len(), 1, "{pods:?}");
    assert_eq!(
        (pods[0]["namespace"].as_str(), pods[0]["status"].as_str(), pods[0]["ready"].as_str()),
        (Some(u.as_str()), Some("Running"), Some("1/1"))
    );
}

#[test]
fn a_job_is_done_when_its_pod_succeeded() {
    let u = unique("k8sjob");
    let _ns = Namespace(u.clone());
    let out =
        stilt_with(&u, "k8s_yaml('job.yaml')\n", &[("job.yaml", &job_yaml(&u, ""))]).args(&["--timeout", "60s"]).run();
    out.expect_code(0);
    let t = out.report()["status"]["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "migrate:runtime")
        .unwrap()
        .clone();
    assert_eq!(t["type"], "job", "{t}");
    assert!(t["state"]["terminated"].is_object() && t["state"]["terminated"]["error"].is_null(), "{t}");
    assert!(out.stdout.contains("succeeded"), "{}", out.stdout);
}

#[test]
fn an_image_pull_error_fails_at_once_naming_pod_and_container() {
    let started = Instant::now();
    let (_ns, out) = run_web("k8spull", "", "image-pull", "120s");
    out.expect_code(1);
    let error = error_of(&out);
    assert!(error.contains("in error state due to container web") && error.contains("ErrImagePull"), "{error}");
    assert!(started.elapsed().as_secs() < 60, "did not fail at once: {:?}", started.elapsed());
    assert!(out.stderr.contains("Error: Pod web-"), "{}", out.stderr);
    let status = out.stilt_target("web:runtime")["pods"][0]["status"].as_str().unwrap().to_string();
    assert!(status == "ErrImagePull" || status == "ImagePullBackOff", "{status}");
}

#[test]
fn a_grace_period_tolerates_a_failing_pod_until_it_ends() {
    let started = Instant::now();
    let (_ns, out) = run_web("k8sgrace", "ci_settings(k8s_grace_period='4s')\n", "image-pull", "120s");
    out.expect_code(1);
    let error = error_of(&out);
    assert!(error.starts_with("exceeded grace period: Pod web-"), "{error}");
    assert!(started.elapsed().as_secs_f64() >= 4.0, "failed before the grace period ended");
}

#[test]
fn a_crash_looping_pod_fails_by_the_readiness_timeout() {
    let (_ns, out) = run_web("k8scrash", "ci_settings(readiness_timeout='3s')\n", "crashloop", "120s");
    out.expect_code(3);
    assert_eq!(error_of(&out), "Readiness timeout after 3s: target web:runtime not ready");
}

#[test]
fn a_failing_job_fails_the_run() {
    let u = unique("k8sjobfail");
    let _ns = Namespace(u.clone());
    let out = stilt_with(&u, "k8s_yaml('job.yaml')\n", &[("job.yaml", &job_yaml(&u, ", stilt.test/fault: fail"))])
        .args(&["--timeout", "120s"])
        .run();
    out.expect_code(1);
    let error = error_of(&out);
    assert!(error.contains("migrate-") && error.contains("exit code 1"), "{error}");
}

#[test]
fn an_unschedulable_pod_waits_until_the_timeout_names_it() {
    let (_ns, out) = run_web("k8ssched", "", "unschedulable", "6s");
    out.expect_code(3);
    assert_eq!(error_of(&out), "Timeout after 6s: 1 resources waiting (web:runtime Pending)");
    // The log says why it waits (the scheduler counts every node: 0/1 with kwok's alone, 0/2 with the real node).
    assert!(out.stdout.contains("Pending (unschedulable: 0/"), "{}", out.stdout);
    assert!(out.stdout.contains("didn't match Pod's node affinity/selector"), "{}", out.stdout);
}

#[test]
fn kind_without_a_registry_needs_the_kind_cli() {
    let (_ns, out) = run_built_web_restricted(
        "k8skind",
        "kind-restricted",
        "k8s_yaml('app.yaml')\ndocker_build('stilt-it/web-UNIQ', '.')\n",
        &[("PATH", "/usr/bin:/bin")],
        "60s",
    );
    out.expect_code(4);
    let error = error_of(&out);
    assert!(
        error.contains("failed to load stilt-it/web-")
            && error.contains("kind cluster \"restricted\"")
            && error.contains("the `kind` CLI is not on PATH"),
        "{error}"
    );
}

#[test]
fn default_registry_renames_the_push_and_host_from_cluster_goes_into_the_yaml() {
    let (ns, out) = run_built_web_restricted(
        "k8sreg",
        "ci-remote",
        &format!(
            "allow_k8s_contexts('ci-remote')\nk8s_yaml('app.yaml')\ndocker_build('stilt-it/web-UNIQ', '.')\n\
             default_registry('{}', host_from_cluster='registry.cluster.test:5000')\n",
            registry()
        ),
        &[],
        "90s",
    );
    let u = &ns.0;
    out.expect_code(0);
    let pushed = out.stilt_target("web:update")["images"][0]["pushedRef"].as_str().unwrap().to_string();
    let tag = pushed.rsplit(':').next().unwrap().to_string();
    assert_eq!(pushed, format!("{}/stilt-it_web-{u}:{tag}", registry()));
    let image =
        kubectl(&["-n", u, "get", "deployment", "web", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
    assert_eq!(image, format!("registry.cluster.test:5000/stilt-it_web-{u}:{tag}"));
}

#[test]
fn a_registry_refusing_the_push_fails_the_update() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let body = r#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#;
            let _ = write!(
                s,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let (ns, out) = run_built_web_restricted(
        "k8sdeny",
        "ci-remote",
        &format!(
            "allow_k8s_contexts('ci-remote')\nk8s_yaml('app.yaml')\ndocker_build('stilt-it/web-UNIQ', '.')\n\
             default_registry('127.0.0.1:{port}')\n"
        ),
        &[],
        "90s",
    );
    let u = &ns.0;
    out.expect_code(1);
    let error = error_of(&out);
    assert!(error.starts_with(&format!("failed to push 127.0.0.1:{port}/stilt-it_web-{u}:tilt-")), "{error}");
    let (found, _, _) = kubectl_result(&["-n", u, "get", "deployment", "web"]);
    assert!(!found, "nothing is applied after a failed push");
}

#[test]
fn an_unreachable_cluster_is_an_environment_failure() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters: [{{name: kind-gone, cluster: {{server: 'https://127.0.0.1:{port}', insecure-skip-tls-verify: true}}}}]\n\
             users: [{{name: u, user: {{token: t}}}}]\ncontexts: [{{name: kind-gone, context: {{cluster: kind-gone, user: u}}}}]\n\
             current-context: kind-gone\n"
        ),
    )
    .unwrap();
    let u = unique("k8sgone");
    let out = stilt_with(&u, "k8s_yaml('app.yaml')\n", &[("app.yaml", &web_yaml(&u, "busybox", ""))])
        .env("KUBECONFIG", kubeconfig.to_str().unwrap())
        .args(&["--timeout", "60s"])
        .run();
    out.expect_code(4);
    let error = error_of(&out);
    assert!(
        error.contains(&format!(
            "failed to reach the Kubernetes cluster of context \"kind-gone\" at https://127.0.0.1:{port}"
        )),
        "{error}"
    );
}

#[test]
fn an_unknown_kind_names_the_object() {
    let u = unique("k8scrd");
    let _ns = Namespace(u.clone());
    let yaml = format!(
        "{}apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w, namespace: {u}}}\nspec: {{size: 1}}\n",
        namespace_yaml(&u)
    );
    let out = stilt_with(&u, "k8s_yaml('w.yaml')\n", &[("w.yaml", &yaml)]).args(&["--timeout", "60s"]).run();
    out.expect_code(1);
    let error = error_of(&out);
    assert!(error.contains(&format!("Widget {u}/w")) && error.contains("the cluster has no kind Widget"), "{error}");
}

#[test]
fn stilt_down_deletes_the_objects_and_keeps_namespaces() {
    let (ns, out) = run_web("k8sdown", "", "", "60s");
    let u = ns.0.clone();
    out.expect_code(0);
    let down = crate::docker_env::run_down(&out.dir, &[]);
    let text = String::from_utf8_lossy(&down.stdout);
    assert!(down.status.success(), "{text}{}", String::from_utf8_lossy(&down.stderr));
    assert!(text.contains("→ web:deployment") && text.contains("→ web:service"), "{text}");
    assert!(text.contains(&format!("Keeping {u}:namespace")), "{text}");
    let (found, _, err) = kubectl_result(&["-n", &u, "get", "deployment", "web"]);
    assert!(!found && err.contains("NotFound"), "{err}");
    kubectl(&["get", "namespace", &u]);
    // Idempotent: a second down finds nothing to delete and succeeds.
    let again = crate::docker_env::run_down(&out.dir, &[]);
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
}

#[test]
fn a_custom_resource_follows_its_crd_in_the_same_run() {
    let u = unique("k8scr");
    let _ns = Namespace(u.clone());
    let group = format!("{u}.stilt.test");
    let crd = format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: gadgets.{group}}}\nspec:\n  \
         group: {group}\n  scope: Namespaced\n  names: {{plural: gadgets, singular: gadget, kind: Gadget}}\n  versions:\n  \
         - name: v1\n    served: true\n    storage: true\n    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}\n---\n\
         apiVersion: {group}/v1\nkind: Gadget\nmetadata: {{name: g, namespace: {u}}}\nspec: {{size: 3}}\n"
    );
    let out = stilt_with(&u, "k8s_yaml('crd.yaml')\n", &[("crd.yaml", &format!("{}{crd}", namespace_yaml(&u)))])
        .args(&["--timeout", "60s"])
        .run();
    let _crd = CrdGuard(format!("gadgets.{group}"));
    out.expect_code(0);
    assert!(
        out.stdout.contains(&format!("→ gadgets.{group}:customresourcedefinition"))
            && out.stdout.contains("→ g:gadget"),
        "{}",
        out.stdout
    );
    assert_eq!(kubectl(&["-n", &u, "get", &format!("gadgets.{group}"), "g", "-o", "jsonpath={.spec.size}"]), "3");
}

/// Deletes a CRD when dropped.
struct CrdGuard(String);

impl Drop for CrdGuard {
    fn drop(&mut self) {
        let _ = kubectl_result(&["delete", "crd", &self.0, "--wait=false", "--ignore-not-found"]);
    }
}
