//! Kubernetes resource assembly (tilt-ci-semantics §7.1): workloads, names, Service
//! attachment, `k8s_resource`, `uncategorized`, kinds and locators.

use super::{Fixture, at, loc};
use stilt_core::manifest::K8sTarget;
use stilt_core::{ResourceTarget, TiltfileResult};

pub(crate) fn k8s<'a>(r: &'a TiltfileResult, name: &str) -> &'a K8sTarget {
    let m = r.manifests.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no resource {name}"));
    match &m.target {
        ResourceTarget::K8s(t) => t,
        other => panic!("{name} is not k8s: {other:?}"),
    }
}

pub(crate) fn names(r: &TiltfileResult) -> Vec<&str> {
    r.manifests.iter().map(|m| m.name.as_str()).collect()
}

fn kinds(t: &K8sTarget) -> Vec<String> {
    t.objects
        .iter()
        .map(|o| format!("{}/{}", o["kind"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap()))
        .collect()
}

pub(crate) const APP: &str = "
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, tier: fe}}
    spec:
      containers:
      - name: web
        image: web-image
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: b}
";

#[test]
fn workloads_services_and_uncategorized() {
    let f = Fixture::result_only();
    f.file("app.yaml", APP);
    f.file(
        "db.yaml",
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: data}\nspec:\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: pg, image: postgres:16}]}\n",
    );
    let r = f.ok("k8s_yaml(['app.yaml', 'db.yaml'])\n");
    assert_eq!(names(&r), vec!["web", "db", "uncategorized"]);
    assert_eq!(kinds(k8s(&r, "web")), vec!["Service/web", "Deployment/web"]);
    assert_eq!(kinds(k8s(&r, "uncategorized")), vec!["ConfigMap/settings"]);
    assert_eq!(k8s(&r, "uncategorized").pod_readiness.as_str(), "ignore");
    assert_eq!(k8s(&r, "web").pod_readiness.as_str(), "wait");
    assert_eq!(r.enabled_resources, vec!["web", "db", "uncategorized"]);
    let l = &k8s(&r, "db").image_locations[0];
    assert_eq!(
        (l.path.to_string().as_str(), l.image.as_str(), l.build_ref.as_deref()),
        ("{.spec.template.spec.containers[0].image}", "postgres:16", None)
    );
}

#[test]
fn names_are_the_shortest_unique_form() {
    let f = Fixture::result_only();
    let dep = |name: &str, ns: &str, kind: &str| {
        format!(
            "---\napiVersion: apps/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    spec: {{containers: [{{name: c, image: busybox}}]}}\n"
        )
    };
    f.file(
        "all.yaml",
        &(dep("a", "x", "Deployment")
            + &dep("a", "x", "StatefulSet")
            + &dep("a", "z", "Deployment")
            + &dep("b", "x", "Deployment")),
    );
    let r = f.ok("k8s_yaml('all.yaml')\n");
    assert_eq!(names(&r), vec!["a:deployment:x", "a:statefulset", "a:deployment:z", "b"]);
    f.file("dup.yaml", &(dep("a", "x", "Deployment") + &dep("a", "x", "Deployment")));
    let e = f.err("k8s_yaml('dup.yaml', allow_duplicates=True)\n");
    assert!(e.message.starts_with("Duplicate YAML Entity(s): [a:deployment:x:apps]"), "{}", e.message);
    let e = f.err("k8s_yaml('dup.yaml')\n");
    assert!(e.message.starts_with("Error in k8s_yaml: Duplicate YAML Entity: a:deployment:x:apps"), "{}", e.message);
    assert_eq!(at(&e), loc("Tiltfile", 1, 1));
}

#[test]
fn k8s_resource_renames_groups_and_merges_options() {
    let f = Fixture::result_only();
    f.file("app.yaml", APP);
    let r = f.ok(
        "k8s_yaml('app.yaml')
k8s_resource('web', new_name='frontend', port_forwards=['8080:80', 9000, 'localhost:1:2', port_forward(5000, name='x')], labels='fe', resource_deps=['cfg'], trigger_mode=TRIGGER_MODE_MANUAL, auto_init=False, extra_pod_selectors={'a': 'b'})
k8s_resource('frontend', labels=['web'], links=['localhost:8080'])
k8s_resource(new_name='cfg', objects=['settings:configmap'])
",
    );
    assert_eq!(names(&r), vec!["frontend", "cfg"]);
    let m = &r.manifests[0];
    assert_eq!(m.labels, vec!["fe", "web"]);
    assert_eq!(m.resource_deps, vec!["cfg"]);
    assert_eq!(m.trigger_mode, stilt_core::TriggerMode::Manual);
    assert!(!m.auto_init);
    assert_eq!(m.links[0].url, "http://localhost:8080");
    let t = k8s(&r, "frontend");
    let pf: Vec<(u32, u32, &str)> =
        t.port_forwards.iter().map(|p| (p.local_port, p.container_port, p.host.as_str())).collect();
    assert_eq!(pf, vec![(8080, 80, ""), (9000, 0, ""), (1, 2, "localhost"), (5000, 0, "")]);
    assert_eq!(t.extra_pod_selectors[0]["a"], "b");
    assert_eq!(kinds(k8s(&r, "cfg")), vec!["ConfigMap/settings"]);
    assert_eq!(k8s(&r, "cfg").pod_readiness.as_str(), "ignore");
}

#[test]
fn k8s_resource_errors() {
    let f = Fixture::result_only();
    f.file("app.yaml", APP);
    let e = f.err("k8s_yaml('app.yaml')\n\nk8s_resource('nope', new_name='x')\n");
    assert_eq!(e.message, "Error in k8s_resource: specified unknown resource \"nope\". known k8s resources: web");
    assert_eq!(at(&e), loc("Tiltfile", 3, 1));
    let e = f.err("k8s_yaml('app.yaml')\nk8s_resource(new_name='g', objects=['missing'])\n");
    assert!(e.message.starts_with("Error in k8s_resource: No object identified by the fragment \"missing\" could be found. Possible objects are: \"web:Deployment:default\""), "{}", e.message);
    let e = f.err("k8s_yaml('app.yaml')\nk8s_resource(new_name='g', objects=['web'])\n");
    assert!(e.message.contains("\"web\" is not a unique fragment"), "{}", e.message);
    let e = f.err("k8s_yaml('app.yaml')\nk8s_resource(new_name='g', objects=['web:service'])\n");
    assert!(e.message.contains("could be found in remaining YAML"), "{}", e.message);
    let e = f.err("k8s_resource(objects=['a'])\n");
    assert_eq!(
        e.message,
        "Error in k8s_resource: k8s_resource has only non-workload objects but doesn't provide a new_name"
    );
    let e = f.err("k8s_resource('web', port_forwards='x:y')\n");
    assert!(e.message.contains("Expected a port forward of the form"), "{}", e.message);
    let e = f.err("k8s_resource('web', bogus=1)\n");
    assert_eq!(e.message, "Error in k8s_resource: k8s_resource: unexpected keyword argument bogus");
    let e = f.err("k8s_resource(1)\n");
    assert_eq!(e.message, "Error in k8s_resource: k8s_resource: for parameter workload: got int, want string");
    let e = f.err("k8s_resource('web', pod_readiness='maybe')\n");
    assert!(e.message.contains("Invalid value. Allowed: {ignore, wait, succeeded}. Got: maybe"), "{}", e.message);
}

/// `pod_readiness=` and `discovery_strategy=` are typed at load: a bad value is an error at the
/// call with Tilt's message, never a silent default.
#[test]
fn bad_pod_readiness_and_discovery_strategy_name_the_call() {
    let f = Fixture::result_only();
    let e = f.err("x = 1\nk8s_resource('web', discovery_strategy='all')\n");
    assert_eq!(
        e.message,
        "Error in k8s_resource: k8s_resource: for parameter discovery_strategy: Invalid. Must be one of: \"default\", \"selectors-only\". Actual: \"all\""
    );
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
    let e = f.err("k8s_kind('Thing', pod_readiness='Wait')\n");
    assert!(e.message.contains("Invalid value. Allowed: {ignore, wait, succeeded}. Got: Wait"), "{}", e.message);
    assert_eq!(at(&e), loc("Tiltfile", 1, 1));
}

#[test]
fn yaml_that_is_not_kubernetes() {
    let f = Fixture::result_only();
    f.file("bad.yaml", "foo: bar\n");
    let e = f.err("\nk8s_yaml('bad.yaml')\n");
    assert!(e.message.starts_with("Error in k8s_yaml: Error reading yaml from "), "{}", e.message);
    assert!(e.message.ends_with("bad.yaml: Object 'Kind' is missing in '{\"foo\":\"bar\"}'"), "{}", e.message);
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
    let e = f.err("k8s_yaml(blob('- a\\n- b\\n'))\n");
    assert!(e.message.contains("cannot unmarshal array"), "{}", e.message);
    let e = f.err("k8s_yaml(blob(''))\n");
    assert_eq!(e.message, "Error in k8s_yaml: Empty or Invalid YAML Resource Detected");
    let e = f.err("k8s_yaml('missing.yaml')\n");
    assert!(e.message.ends_with("missing.yaml: no such file or directory"), "{}", e.message);
    let e = f.err("k8s_yaml(3)\n");
    assert_eq!(e.message, "Error in k8s_yaml: expected blob | string | list of (string | blob), got int");
}

#[test]
fn kinds_locators_and_filter_yaml() {
    let f = Fixture::result_only();
    f.file("cr.yaml", "apiVersion: x.dev/v1\nkind: Thing\nmetadata: {name: t1}\nspec: {image: my-img}\n---\napiVersion: x.dev/v1\nkind: Other\nmetadata: {name: o1}\n");
    f.file("Dockerfile", "FROM scratch\n");
    let r = f.ok("k8s_yaml('cr.yaml')\nk8s_kind('Thing', image_json_path='{.spec.image}')\nk8s_kind('^other$', pod_readiness='ignore')\ndocker_build('my-img', '.')\n");
    assert_eq!(names(&r), vec!["t1", "o1"]);
    assert_eq!(k8s(&r, "t1").images[0].image_ref, "my-img");
    assert_eq!(k8s(&r, "t1").image_locations[0].path.to_string(), "{.spec.image}");
    assert_eq!(k8s(&r, "o1").pod_readiness.as_str(), "ignore");
    let e = f.err("k8s_kind('A', 'b')\n");
    assert_eq!(e.message, "Error in k8s_kind: k8s_kind: got 2 arguments, want at most 1");
    f.file("app.yaml", APP);
    let r = f.ok("a, b = filter_yaml('app.yaml', kind='^service$')\nprint(str(a))\nk8s_yaml(b)\nc, d = filter_yaml('app.yaml', labels={'app': 'web'})\nprint(len(str(c)) > 0, 'ConfigMap' in str(d))\n");
    assert_eq!(names(&r), vec!["web", "uncategorized"]);
    assert!(f.logs().iter().any(|l| l == "kind: Service"), "{:?}", f.logs());
    assert!(f.logs().iter().any(|l| l == "True True"), "{:?}", f.logs());
}

#[test]
fn workload_to_resource_function_names_workloads() {
    let f = Fixture::result_only();
    f.file("app.yaml", APP);
    let r = f.ok("def name(id):\n    return id.namespace + '-' + id.kind.lower() + '-' + id.name\nworkload_to_resource_function(name)\nk8s_yaml('app.yaml')\nk8s_resource('default-deployment-web', labels=['x'])\n");
    assert_eq!(names(&r), vec!["default-deployment-web", "uncategorized"]);
}

#[test]
fn custom_deploy_and_allowed_contexts() {
    let f = Fixture::result_only();
    let r = f.ok(
        "k8s_custom_deploy('app', apply_cmd='kubectl apply -f x -o yaml', delete_cmd=['kubectl', 'delete', '-f', 'x'], deps=['src'], container_selector='c', live_update=[sync('src', '/app')])\nk8s_resource('app', port_forwards=8080)\nallow_k8s_contexts(['a', 'b'])\nallow_k8s_contexts('a')\nprint(k8s_context(), k8s_namespace())\n",
    );
    let ResourceTarget::K8sCustomDeploy(t) = &r.manifests[0].target else { panic!() };
    assert_eq!(t.apply_cmd.argv, vec!["sh", "-c", "kubectl apply -f x -o yaml"]);
    assert_eq!(t.images[0].image_ref, "k8s_custom_deploy:app");
    assert!(t.images[0].live_update_only);
    assert_eq!(t.port_forwards[0].local_port, 8080);
    assert_eq!(r.cluster.allowed_k8s_contexts, vec!["a", "b"]);
    assert!(f.logs().contains(&" default".to_string()), "{:?}", f.logs());
}

#[test]
fn production_contexts_are_refused_like_tilt() {
    let mut f = Fixture::result_only();
    let kc = |ctx: &str, cluster: &str| {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: {ctx}\ncontexts:\n- name: {ctx}\n  context: {{cluster: {cluster}, namespace: team}}\n"
        )
    };
    f.file("kc-prod", &kc("prod", "gke_proj_zone_prod"));
    f.file("kc-kind", &kc("kind-dev", "kind-dev"));
    f.file("app.yaml", APP);
    f.env.insert("KUBECONFIG".into(), f.path("kc-prod").display().to_string());
    let e = f.err("x = local('true')\n");
    assert!(
        e.message
            .starts_with("Error in local: Refusing to run 'local' because prod might be a production kube context."),
        "{}",
        e.message
    );
    let e = f.err("k8s_yaml('app.yaml')\n");
    assert!(e.message.starts_with("Stop! prod might be production."), "{}", e.message);
    f.ok("allow_k8s_contexts(k8s_context())\nlocal('true')\nk8s_yaml('app.yaml')\nprint(k8s_namespace())\n");
    assert_eq!(f.logs().last().unwrap(), "team");
    f.env.insert("KUBECONFIG".into(), f.path("kc-kind").display().to_string());
    f.ok("local('true')\nk8s_yaml('app.yaml')\n");
}

#[test]
fn context_flag_decides_what_the_tiltfile_sees() {
    let mut f = Fixture::result_only();
    f.file(
        "kc",
        "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\ncontexts:\n\
         - {name: kind-dev, context: {cluster: kind-dev}}\n- {name: prod, context: {cluster: gke_p_z_prod, namespace: team}}\n",
    );
    f.file("app.yaml", APP);
    f.env.insert("KUBECONFIG".into(), f.path("kc").display().to_string());
    f.ok("print(k8s_context())\nk8s_yaml('app.yaml')\n");
    assert_eq!(f.logs().last().unwrap(), "kind-dev");
    // `--context prod` makes the same Tiltfile see prod, and the safety rule applies to it.
    f.kube_context = Some("prod".into());
    let e = f.err("k8s_yaml('app.yaml')\n");
    assert!(e.message.starts_with("Stop! prod might be production."), "{}", e.message);
    f.ok("allow_k8s_contexts('prod')\nprint(k8s_context() + ' ' + k8s_namespace())\nk8s_yaml('app.yaml')\n");
    assert_eq!(f.logs().last().unwrap(), "prod team");
}
