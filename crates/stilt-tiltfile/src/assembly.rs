//! Turning what the Tiltfile declared into resources, after it ran (Tilt's `assemble()`):
//!
//! 1. **Images**: refs rewritten for `default_registry`; builds that share a repository with
//!    different tags match exactly; dependencies between builds from Dockerfile `FROM` /
//!    `COPY --from` and `custom_build(image_deps=)`.
//! 2. **Workloads**: objects with any container image (or a `k8s_kind` match) become resources,
//!    named by the shortest unique `name[:kind[:namespace[:group]]]` (or
//!    `workload_to_resource_function`); Services whose selector matches a workload's pod
//!    template join it.
//! 3. **`k8s_resource` calls**, in order: merge options, rename, create `new_name` groups, pull
//!    `objects=` out of the remaining pool.
//! 4. Image targets per resource (dependencies first), objects in apply order, the rest of the
//!    pool as `uncategorized`; docker-compose services with their images.
//!
//! Resource order is Tilt's: `k8s_custom_deploy` resources, workloads in YAML order,
//! `k8s_resource(new_name=..., objects=...)` groups, docker-compose services; local resources
//! and `uncategorized` are appended by the caller.

use crate::LogLevel;
use crate::context::Ctx;
use crate::k8s::{self, ImageField};
use crate::state::{ImageDecl, K8sObject, State};
use regex::Regex;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use stilt_core::image_ref::{ImageRef, RefSelector, replace_registry};
use stilt_core::json_path::{ImagePath, JsonPath};
use stilt_core::manifest::{
    DiscoveryStrategy, DockerComposeTarget, ImageTarget, K8sImageLocation, K8sKindInfo, K8sTarget, PodReadiness,
    PortForward,
};
use stilt_core::{Link, Manifest, ResourceTarget, SourceLocation, TiltfileError, TriggerMode};

/// The hidden global of the module that called `workload_to_resource_function`.
pub(crate) const WORKLOAD_NAMER_GLOBAL: &str = "__stilt_workload_to_resource_function__";

/// What assembly produced.
pub(crate) struct Assembled {
    /// k8s and docker-compose resources, in Tilt's order (trigger modes still `None` = default).
    pub(crate) manifests: Vec<(Manifest, Option<TriggerMode>)>,
    /// The `uncategorized` resource, if objects were left over.
    pub(crate) uncategorized: Option<Manifest>,
}

fn err(message: String, location: Option<SourceLocation>) -> TiltfileError {
    TiltfileError { message, location, traceback: Vec::new() }
}

/// Builds with their selectors and resolved dependencies.
struct Images {
    decls: Vec<ImageDecl>,
    selectors: Vec<RefSelector>,
    deps: Vec<Vec<usize>>,
    env_matchers: Vec<usize>,
}

impl Images {
    fn new(st: &State) -> Images {
        let decls = st.images.clone();
        let parsed: Vec<ImageRef> = decls
            .iter()
            .map(|d| ImageRef::parse(&d.target.image_ref).expect("refs are validated when a build is declared"))
            .collect();
        let mut selectors: Vec<RefSelector> =
            parsed.iter().map(|r| RefSelector { image: r.clone(), exact: r.tag.is_some() }).collect();
        // Two builds of one repository with different tags: all of them match exactly.
        for i in 0..selectors.len() {
            let shared =
                (0..selectors.len()).any(|j| j != i && parsed[j].normalized_name() == parsed[i].normalized_name());
            if shared {
                selectors[i].exact = true;
            }
        }
        let mut images = Images { deps: vec![Vec::new(); decls.len()], env_matchers: Vec::new(), decls, selectors };
        for i in 0..images.decls.len() {
            let mut deps = Vec::new();
            for r in &images.decls[i].dep_refs {
                if let Ok(r) = ImageRef::parse(r)
                    && let Some(j) = images.find(&r)
                    && j != i
                    && !deps.contains(&j)
                {
                    deps.push(j);
                }
            }
            images.deps[i] = deps;
            images.decls[i].target.match_exact = images.selectors[i].exact;
        }
        images.env_matchers = (0..images.decls.len()).filter(|i| images.decls[*i].target.match_in_env_vars).collect();
        let reg = st.cluster.default_registry.clone();
        for d in &mut images.decls {
            if let (Some(reg), Ok(r)) = (&reg, ImageRef::parse(&d.target.image_ref)) {
                d.target.local_ref = replace_registry(&reg.host, &r, &reg.single_name);
                let cluster_host = if reg.host_from_cluster.is_empty() { &reg.host } else { &reg.host_from_cluster };
                d.target.cluster_ref = replace_registry(cluster_host, &r, &reg.single_name);
            }
        }
        images
    }

    /// The first build (in declaration order) whose selector matches `r`.
    fn find(&self, r: &ImageRef) -> Option<usize> {
        self.selectors.iter().position(|s| s.matches(r))
    }

    /// Targets for `ids` and their dependencies, dependencies first.
    fn targets(&self, ids: &[usize]) -> Result<Vec<ImageTarget>, String> {
        #[derive(Clone, Copy, PartialEq)]
        enum Claim {
            None,
            Pending,
            Done,
        }
        fn walk(img: &Images, ids: &[usize], claim: &mut Vec<Claim>, out: &mut Vec<ImageTarget>) -> Result<(), String> {
            for &id in ids {
                match claim[id] {
                    Claim::Done => continue,
                    Claim::Pending => {
                        return Err(format!("Image dependency cycle: {}", img.decls[id].target.image_ref));
                    }
                    Claim::None => {}
                }
                claim[id] = Claim::Pending;
                walk(img, &img.deps[id], claim, out)?;
                let mut t = img.decls[id].target.clone();
                t.image_deps = img.deps[id].iter().map(|d| img.decls[*d].target.image_ref.clone()).collect();
                out.push(t);
                claim[id] = Claim::Done;
            }
            Ok(())
        }
        let mut claim = vec![Claim::None; self.decls.len()];
        let mut out = Vec::new();
        walk(self, ids, &mut claim, &mut out)?;
        Ok(out)
    }
}

/// Compiled `k8s_kind` / `k8s_image_json_path` selectors.
struct Locators {
    kinds: Vec<(K8sKindInfo, Option<Regex>, Option<Regex>)>,
}

impl Locators {
    fn new(st: &State) -> Locators {
        let ci = |p: &str| crate::go_compat::regex_ci(p).ok();
        Locators { kinds: st.cluster.k8s_kinds.iter().map(|k| (k.clone(), ci(&k.kind), ci(&k.api_version))).collect() }
    }

    fn matching<'a>(&'a self, o: &'a Json) -> impl Iterator<Item = &'a K8sKindInfo> + 'a {
        self.kinds.iter().filter_map(move |(k, kind_re, api_re)| {
            let ok = kind_re.as_ref().is_some_and(|r| r.is_match(k8s::kind(o)))
                && api_re.as_ref().is_some_and(|r| r.is_match(k8s::api_version(o)))
                && (k.name.is_empty() || k.name == k8s::name(o))
                && (k.namespace.is_empty() || k.namespace == k8s::namespace(o));
            ok.then_some(k)
        })
    }

    fn is_workload_kind(&self, o: &Json) -> bool {
        self.matching(o).any(|k| k.is_workload)
    }

    fn pod_readiness(&self, o: &Json) -> Option<PodReadiness> {
        self.matching(o).filter_map(|k| k.pod_readiness).last()
    }

    /// Image fields found by locators.
    fn images(&self, o: &Json) -> Vec<ImageField> {
        let mut out = Vec::new();
        for k in self.matching(o) {
            for p in &k.image_json_paths {
                let Ok(jp) = JsonPath::parse(p) else { continue };
                for (ptr, v) in jp.find(o) {
                    if let Some(s) = v.as_str() {
                        out.push(ImageField {
                            path: ImagePath::from_pointer(ptr),
                            image: s.to_string(),
                            in_env: false,
                        });
                    }
                }
            }
            if let Some(obj) = &k.image_object
                && let Ok(jp) = JsonPath::parse(&obj.json_path)
            {
                for (ptr, v) in jp.find(o) {
                    let repo = v.get(&obj.repo_field).and_then(Json::as_str).unwrap_or("");
                    let tag = v.get(&obj.tag_field).and_then(Json::as_str).unwrap_or("");
                    if !repo.is_empty() {
                        let image = if tag.is_empty() { repo.to_string() } else { format!("{repo}:{tag}") };
                        out.push(ImageField { path: ImagePath::from_pointer(ptr), image, in_env: false });
                    }
                }
            }
        }
        out
    }
}

/// Images in an object: containers (typed kinds), locators, and env values that match a
/// `match_in_env_vars` build. Unparseable images are skipped.
fn find_images(o: &Json, loc: &Locators, img: &Images) -> Vec<(ImageField, ImageRef)> {
    let with_env = !img.env_matchers.is_empty();
    let mut fields = k8s::container_images(o, with_env);
    fields.extend(loc.images(o));
    fields
        .into_iter()
        .filter_map(|f| {
            let r = ImageRef::parse(&f.image).ok()?;
            if f.in_env && !img.env_matchers.iter().any(|i| img.selectors[*i].matches(&r)) {
                return None;
            }
            Some((f, r))
        })
        .collect()
}

/// A k8s resource while it is being assembled.
struct Res {
    name: String,
    objects: Vec<K8sObject>,
    custom: Option<usize>,
    manual: bool,
    port_forwards: Vec<PortForward>,
    extra_pod_selectors: Vec<BTreeMap<String, String>>,
    trigger_mode: Option<TriggerMode>,
    auto_init: Option<bool>,
    resource_deps: Vec<String>,
    links: Vec<Link>,
    labels: Vec<String>,
    pod_readiness: Option<PodReadiness>,
    discovery_strategy: Option<DiscoveryStrategy>,
    declared_at: Option<SourceLocation>,
}

impl Res {
    fn new(name: String, declared_at: Option<SourceLocation>) -> Res {
        Res {
            name,
            objects: Vec::new(),
            custom: None,
            manual: false,
            port_forwards: Vec::new(),
            extra_pod_selectors: Vec::new(),
            trigger_mode: None,
            auto_init: None,
            resource_deps: Vec::new(),
            links: Vec::new(),
            labels: Vec::new(),
            pod_readiness: None,
            discovery_strategy: None,
            declared_at,
        }
    }
}

fn quoted_list<'a>(items: impl Iterator<Item = &'a str>) -> String {
    items.map(crate::go_compat::quote).collect::<Vec<_>>().join(", ")
}

/// Assembles k8s and docker-compose resources.
pub(crate) fn assemble(ctx: &Ctx, st: &mut State) -> Result<Assembled, TiltfileError> {
    let images = Images::new(st);
    let loc = Locators::new(st);
    let mut pool: Vec<K8sObject> = std::mem::take(&mut st.k8s_objects);

    // Workloads.
    let (workloads, rest): (Vec<K8sObject>, Vec<K8sObject>) =
        pool.drain(..).partition(|e| loc.is_workload_kind(&e.obj) || !find_images(&e.obj, &loc, &images).is_empty());
    pool = rest;
    let names = match &st.workload_namer {
        Some((file, at)) => call_namer(ctx, file, at.as_ref(), &workloads)?,
        None => unique_names(&workloads)?,
    };

    let mut res = initial_resources(st, workloads, names, &mut pool)?;
    apply_k8s_resource_calls(st, &mut res, &mut pool)?;
    let mut used = vec![false; images.decls.len()];
    let mut manifests = k8s_manifests(st, res, &loc, &images, &mut used)?;
    manifests.extend(compose_manifests(st, &images, &mut used)?);
    warn_unused_images(ctx, st, &images, &used, &manifests);
    let uncategorized = if pool.is_empty() {
        None
    } else {
        let declared_at = pool[0].declared_at.clone();
        let (target, _) =
            k8s_target(pool, &loc, &images, true, Some(PodReadiness::Ignore)).map_err(|e| err(e, None))?;
        Some(manifest(
            "uncategorized".to_string(),
            Vec::new(),
            None,
            Vec::new(),
            Vec::new(),
            declared_at,
            ResourceTarget::K8s(target),
        ))
    };
    Ok(Assembled { manifests, uncategorized })
}

/// `k8s_custom_deploy` resources, then one resource per workload with its Services.
fn initial_resources(
    st: &State,
    workloads: Vec<K8sObject>,
    names: Vec<String>,
    pool: &mut Vec<K8sObject>,
) -> Result<Vec<Res>, TiltfileError> {
    let mut res: Vec<Res> = Vec::new();
    for (i, c) in st.custom_deploys.iter().enumerate() {
        let mut r = Res::new(c.name.clone(), c.declared_at.clone());
        r.custom = Some(i);
        res.push(r);
    }
    for (w, name) in workloads.into_iter().zip(names) {
        if res.iter().any(|r| r.name == name) {
            return Err(err(
                format!("k8s_resource named {} already exists", crate::go_compat::quote(&name)),
                w.declared_at,
            ));
        }
        let mut r = Res::new(name, w.declared_at.clone());
        let templates = k8s::pod_template_labels(&w.obj);
        let w_ns = k8s::raw_namespace(&w.obj).to_string();
        r.objects.push(w);
        for labels in templates {
            let (matched, rest): (Vec<K8sObject>, Vec<K8sObject>) = std::mem::take(pool).into_iter().partition(|e| {
                let ns = k8s::raw_namespace(&e.obj);
                k8s::selector_matches(&e.obj, &labels)
                    && (ns.is_empty() || ns == w_ns || (w_ns.is_empty() && ns == k8s::DEFAULT_NAMESPACE))
            });
            r.objects.extend(matched);
            *pool = rest;
        }
        res.push(r);
    }

    Ok(res)
}

/// `k8s_resource(...)` calls, in order.
fn apply_k8s_resource_calls(st: &State, res: &mut Vec<Res>, pool: &mut Vec<K8sObject>) -> Result<(), TiltfileError> {
    // k8s_resource calls, in order.
    for opts in st.k8s_opts.clone() {
        let idx = if opts.workload.is_empty() {
            if res.iter().any(|r| r.name == opts.new_name) {
                return Err(err(
                    format!("k8s_resource named {} already exists", crate::go_compat::quote(&opts.new_name)),
                    opts.declared_at,
                ));
            }
            let mut r = Res::new(opts.new_name.clone(), opts.declared_at.clone());
            r.manual = true;
            res.push(r);
            res.len() - 1
        } else {
            let Some(i) = res.iter().position(|r| r.name == opts.workload) else {
                let known = res.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ");
                return Err(err(
                    format!(
                        "Error in k8s_resource: specified unknown resource {}. known k8s resources: {known}",
                        crate::go_compat::quote(&opts.workload)
                    ),
                    opts.declared_at,
                ));
            };
            i
        };
        if !opts.workload.is_empty() && !opts.new_name.is_empty() && opts.new_name != res[idx].name {
            if res.iter().any(|r| r.name == opts.new_name) {
                return Err(err(
                    format!(
                        "Error in k8s_resource: specified to rename {} to {}, but there is already a resource with that name",
                        crate::go_compat::quote(&res[idx].name),
                        crate::go_compat::quote(&opts.new_name)
                    ),
                    opts.declared_at,
                ));
            }
            res[idx].name.clone_from(&opts.new_name);
        }
        take_objects(res, idx, &opts, pool)?;
        let r = &mut res[idx];
        r.port_forwards.extend(opts.port_forwards);
        r.extra_pod_selectors.extend(opts.extra_pod_selectors);
        if opts.trigger_mode.is_some() {
            r.trigger_mode = opts.trigger_mode;
        }
        if opts.auto_init.is_some() {
            r.auto_init = opts.auto_init;
        }
        if opts.pod_readiness.is_some() {
            r.pod_readiness = opts.pod_readiness;
        }
        if opts.discovery_strategy.is_some() {
            r.discovery_strategy = opts.discovery_strategy;
        }
        r.resource_deps.extend(opts.resource_deps);
        r.links.extend(opts.links);
        for l in opts.labels {
            if !r.labels.contains(&l) {
                r.labels.push(l);
            }
        }
        if !r.manual && opts.declared_at.is_some() {
            r.declared_at = opts.declared_at;
        }
    }

    Ok(())
}

/// Moves the objects named by `k8s_resource(objects=...)` from the pool into `res[idx]`.
fn take_objects(
    res: &mut [Res],
    idx: usize,
    opts: &crate::state::K8sResourceOpts,
    pool: &mut Vec<K8sObject>,
) -> Result<(), TiltfileError> {
    for o in &opts.objects {
        let frag = o.to_lowercase();
        let all: Vec<&Json> =
            res.iter().flat_map(|r| r.objects.iter().map(|e| &e.obj)).chain(pool.iter().map(|e| &e.obj)).collect();
        let matches: Vec<&Json> = all.iter().copied().filter(|e| k8s::potential_names(e, 1).contains(&frag)).collect();
        if matches.is_empty() {
            let names: Vec<String> = all.iter().map(|e| k8s::full_name(e)).collect();
            return Err(err(
                format!(
                    "Error in k8s_resource: No object identified by the fragment {} could be found. Possible objects are: {}",
                    crate::go_compat::quote(o),
                    quoted_list(names.iter().map(String::as_str))
                ),
                opts.declared_at.clone(),
            ));
        }
        if matches.len() > 1 {
            let names: Vec<String> = matches.iter().map(|e| k8s::full_name(e)).collect();
            return Err(err(
                format!(
                    "Error in k8s_resource: {} is not a unique fragment. Objects that match {} are {}",
                    crate::go_compat::quote(o),
                    crate::go_compat::quote(o),
                    quoted_list(names.iter().map(String::as_str))
                ),
                opts.declared_at.clone(),
            ));
        }
        let Some(pi) = pool.iter().position(|e| k8s::potential_names(&e.obj, 1).contains(&frag)) else {
            let names: Vec<String> = pool.iter().map(|e| k8s::full_name(&e.obj)).collect();
            return Err(err(
                format!(
                    "Error in k8s_resource: No object identified by the fragment {} could be found in remaining YAML. Valid remaining fragments are: {}",
                    crate::go_compat::quote(o),
                    quoted_list(names.iter().map(String::as_str))
                ),
                opts.declared_at.clone(),
            ));
        };
        let e = pool.remove(pi);
        res[idx].objects.push(e);
    }
    Ok(())
}

/// Manifests of the k8s resources (custom deploys and object groups).
fn k8s_manifests(
    st: &State,
    res: Vec<Res>,
    loc: &Locators,
    images: &Images,
    used: &mut [bool],
) -> Result<Vec<(Manifest, Option<TriggerMode>)>, TiltfileError> {
    let mut manifests = Vec::new();
    for r in res {
        let (target, ids) = if let Some(ci) = r.custom {
            let c = &st.custom_deploys[ci];
            let mut ids = Vec::new();
            for d in &c.target.image_deps {
                if let Ok(dr) = ImageRef::parse(d)
                    && let Some(i) = images.find(&dr)
                    && !ids.contains(&i)
                {
                    ids.push(i);
                }
            }
            let mut t = c.target.clone();
            t.images = images.targets(&ids).map_err(|e| err(e, r.declared_at.clone()))?;
            t.images.extend(c.live_update_image.clone());
            t.port_forwards = r.port_forwards;
            t.extra_pod_selectors = r.extra_pod_selectors;
            t.pod_readiness = r.pod_readiness.unwrap_or(PodReadiness::Wait);
            (ResourceTarget::K8sCustomDeploy(t), ids)
        } else {
            if r.objects.is_empty() {
                return Err(err(
                    format!(
                        "resource {}: could not associate any k8s YAML with this resource",
                        crate::go_compat::quote(&r.name)
                    ),
                    r.declared_at,
                ));
            }
            let (mut target, ids) = k8s_target(r.objects, loc, images, r.manual, r.pod_readiness)
                .map_err(|e| err(e, r.declared_at.clone()))?;
            target.port_forwards = r.port_forwards;
            target.extra_pod_selectors = r.extra_pod_selectors;
            target.discovery_strategy = r.discovery_strategy;
            (ResourceTarget::K8s(target), ids)
        };
        for i in &ids {
            used[*i] = true;
        }
        let m = manifest(r.name, r.resource_deps, r.auto_init, r.labels, r.links, r.declared_at, target);
        manifests.push((m, r.trigger_mode));
    }

    Ok(manifests)
}

/// Manifests of the docker-compose services.
fn compose_manifests(
    st: &State,
    images: &Images,
    used: &mut [bool],
) -> Result<Vec<(Manifest, Option<TriggerMode>)>, TiltfileError> {
    let mut manifests = Vec::new();
    // docker-compose services.
    let dc_count = st.compose.iter().map(|p| p.services.len()).sum::<usize>();
    if dc_count > 0 && st.cluster.default_registry.is_some() {
        return Err(err("default_registry is not supported with docker compose".to_string(), None));
    }
    for p in &st.compose {
        for (svc, conf) in &p.services {
            let opts: Vec<&crate::state::DcResourceOpts> = st
                .dc_opts
                .iter()
                .filter(|o| o.name == *svc && (o.project_name.is_empty() || o.project_name == p.name))
                .collect();
            let image = opts
                .iter()
                .rev()
                .find_map(|o| o.image.clone())
                .or_else(|| conf.get("image").and_then(Json::as_str).map(str::to_string));
            let mut ids = Vec::new();
            if let Some(i) = image.as_deref().and_then(|s| ImageRef::parse(s).ok()).and_then(|r| images.find(&r)) {
                ids.push(i);
                used[i] = true;
            }
            let mut deps = crate::builtins::compose::depends_on(conf);
            let mut labels: Vec<String> = Vec::new();
            let mut links = Vec::new();
            let mut trigger = None;
            let mut auto_init = None;
            let mut name = svc.clone();
            for o in &opts {
                for d in &o.resource_deps {
                    if !deps.contains(d) {
                        deps.push(d.clone());
                    }
                }
                for l in &o.labels {
                    if !labels.contains(l) {
                        labels.push(l.clone());
                    }
                }
                links.extend(o.links.iter().cloned());
                if o.trigger_mode.is_some() {
                    trigger = o.trigger_mode;
                }
                if o.auto_init.is_some() {
                    auto_init = o.auto_init;
                }
                if !o.new_name.is_empty() {
                    name.clone_from(&o.new_name);
                }
            }
            let target = DockerComposeTarget {
                project_name: p.name.clone(),
                config_paths: p.config_paths.clone(),
                project_path: p.project_path.clone(),
                service: svc.clone(),
                service_config: conf.clone(),
                image,
                published_ports: published_ports(conf),
                images: images.targets(&ids).map_err(|e| err(e, p.declared_at.clone()))?,
            };
            let m = manifest(
                name,
                deps,
                auto_init,
                labels,
                links,
                p.declared_at.clone(),
                ResourceTarget::DockerCompose(target),
            );
            manifests.push((m, trigger));
        }
    }

    Ok(manifests)
}

/// Builds nobody deploys: Tilt warns (unless suppressed).
fn warn_unused_images(
    ctx: &Ctx,
    st: &State,
    images: &Images,
    used: &[bool],
    manifests: &[(Manifest, Option<TriggerMode>)],
) {
    let suppressed = &st.update_settings.suppress_unused_image_warnings;
    for (i, d) in images.decls.iter().enumerate() {
        if used[i] || manifests.iter().any(|(m, _)| m.image_targets().iter().any(|t| t.image_ref == d.target.image_ref))
        {
            continue;
        }
        if suppressed.iter().any(|s| s == "*" || *s == d.target.image_ref) {
            continue;
        }
        ctx.log(
            LogLevel::Warn,
            &format!(
                "Image not used in any deploy config:\n    ✕ {}\nSkipping this image build\nIf this is deliberate, suppress this warning with: update_settings(suppress_unused_image_warnings=[{}])",
                d.target.image_ref,
                crate::go_compat::quote(&d.target.image_ref)
            ),
        );
    }
}

fn manifest(
    name: String,
    resource_deps: Vec<String>,
    auto_init: Option<bool>,
    labels: Vec<String>,
    links: Vec<Link>,
    declared_at: Option<SourceLocation>,
    target: ResourceTarget,
) -> Manifest {
    Manifest {
        name,
        resource_deps,
        trigger_mode: TriggerMode::Auto,
        auto_init: auto_init.unwrap_or(true),
        labels,
        links,
        declared_at,
        target,
    }
}

fn published_ports(conf: &Json) -> Vec<u32> {
    let Some(Json::Array(ports)) = conf.get("ports") else {
        return Vec::new();
    };
    ports
        .iter()
        .filter_map(|p| match p {
            Json::String(s) => {
                let no_proto = s.split('/').next().unwrap_or(s);
                let fields: Vec<&str> = no_proto.split(':').collect();
                let published = match fields.len() {
                    3 => fields[1],
                    2 => fields[0],
                    _ => return None,
                };
                published.split('-').next()?.parse().ok()
            }
            Json::Object(m) => match m.get("published") {
                Some(Json::String(s)) => s.parse().ok(),
                Some(Json::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The target of a k8s resource: objects in apply order, image locations, image targets.
fn k8s_target(
    objects: Vec<K8sObject>,
    loc: &Locators,
    images: &Images,
    manual: bool,
    pod_readiness: Option<PodReadiness>,
) -> Result<(K8sTarget, Vec<usize>), String> {
    let mut objs: Vec<Json> = objects.into_iter().map(|e| e.obj).collect();
    objs.sort_by_key(k8s::kind_rank);
    let mut ids: Vec<usize> = Vec::new();
    let mut locations = Vec::new();
    let mut has_workload = false;
    let mut kind_readiness = None;
    for (oi, o) in objs.iter().enumerate() {
        let found = find_images(o, loc, images);
        has_workload |= !found.is_empty()
            || loc.is_workload_kind(o)
            || !k8s::pod_template_paths(o).is_empty()
            || k8s::kind(o) == "Pod";
        if kind_readiness.is_none() {
            kind_readiness = loc.pod_readiness(o).or_else(|| builtin_pod_readiness(o));
        }
        for (f, r) in found {
            let build = images.find(&r);
            if let Some(b) = build
                && !ids.contains(&b)
            {
                ids.push(b);
            }
            locations.push(K8sImageLocation {
                object: oi,
                path: f.path,
                image: f.image,
                build_ref: build.map(|b| images.decls[b].target.image_ref.clone()),
                injected_ref: build.map(|b| images.decls[b].target.cluster_ref.clone()),
            });
        }
    }
    let readiness = if let Some(r) = pod_readiness.or(kind_readiness) {
        r
    } else if has_workload || !manual {
        PodReadiness::Wait
    } else {
        PodReadiness::Ignore
    };
    let target = K8sTarget {
        objects: objs,
        image_locations: locations,
        images: images.targets(&ids)?,
        port_forwards: Vec::new(),
        extra_pod_selectors: Vec::new(),
        pod_readiness: readiness,
        discovery_strategy: None,
    };
    Ok((target, ids))
}

/// Tilt's built-in kinds (`k8s_kind` defaults): a Job is ready when it succeeded, a
/// CronJob's pods are not waited for.
fn builtin_pod_readiness(o: &Json) -> Option<PodReadiness> {
    match (k8s::api_version(o), k8s::kind(o)) {
        ("batch/v1", "Job") => Some(PodReadiness::Succeeded),
        ("batch/v1", "CronJob") => Some(PodReadiness::Ignore),
        _ => None,
    }
}

/// Tilt's `UniqueNames`: the shortest name each workload wants alone.
fn unique_names(workloads: &[K8sObject]) -> Result<Vec<String>, TiltfileError> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for w in workloads {
        for n in k8s::potential_names(&w.obj, 1) {
            *counts.entry(n).or_default() += 1;
        }
    }
    workloads
        .iter()
        .map(|w| {
            let names = k8s::potential_names(&w.obj, 1);
            names.iter().find(|n| counts.get(*n) == Some(&1)).cloned().ok_or_else(|| {
                err(
                    format!(
                        "Duplicate YAML Entity(s): [{}] has been detected across one or more resources.  Only one specification per entity can be applied to the cluster; to ensure expected behavior, remove the duplicate specifications.",
                        names.last().cloned().unwrap_or_default()
                    ),
                    w.declared_at.clone(),
                )
            })
        })
        .collect()
}

/// Names workloads with the function given to `workload_to_resource_function`.
fn call_namer(
    ctx: &Ctx,
    file: &std::path::Path,
    at: Option<&SourceLocation>,
    workloads: &[K8sObject],
) -> Result<Vec<String>, TiltfileError> {
    use starlark::environment::Module;
    use starlark::eval::Evaluator;
    use starlark::values::structs::AllocStruct;
    let fail = |m: String| err(format!("Error in workload_to_resource_function: {m}"), at.cloned());
    let module = crate::loader::executed_module(ctx, file)
        .ok_or_else(|| fail("the module defining the function did not finish".into()))?;
    let f = module.get(WORKLOAD_NAMER_GLOBAL).map_err(|e| fail(e.to_string()))?;
    let mut names: Vec<String> = Vec::new();
    Module::with_temp_heap(|m| -> Result<(), TiltfileError> {
        let heap = m.heap();
        let fv = heap.access_owned_frozen_value(&f);
        let mut eval = Evaluator::new(&m);
        eval.extra = Some(ctx);
        for w in workloads {
            let g = k8s::group(&w.obj);
            let id = heap.alloc(AllocStruct([
                ("name", heap.alloc(k8s::name(&w.obj))),
                ("kind", heap.alloc(k8s::kind(&w.obj))),
                ("namespace", heap.alloc(k8s::namespace(&w.obj))),
                ("group", heap.alloc(g)),
            ]));
            let v = eval.eval_function(fv, &[id], &[]).map_err(|e| fail(e.without_diagnostic().to_string()))?;
            let name =
                v.unpack_str().ok_or_else(|| fail(format!("function must return a string, got {}", v.get_type())))?;
            if let Some(prev) = names.iter().position(|n| n == name) {
                return Err(fail(format!(
                    "returned the same name {} for {} and {}",
                    crate::go_compat::quote(name),
                    k8s::full_name(&workloads[prev].obj),
                    k8s::full_name(&w.obj)
                )));
            }
            names.push(name.to_string());
        }
        Ok(())
    })?;
    Ok(names)
}
