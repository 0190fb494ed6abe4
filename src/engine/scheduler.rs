//! Which resource starts next, as a pure query over [`EngineState`] (Tilt's
//! `buildcontrol.NextTargetToBuild`).
//!
//! The dispatcher asks repeatedly, applying each start before asking again, so a start that
//! blocks others (an unparallelizable local resource) is seen by the next question. Resources
//! that cannot start get a [`HoldReason`] that becomes their `waitReason`.

use super::engine_state::EngineState;
use super::hold_reason::HoldReason;
use std::collections::{BTreeMap, HashMap};
use stilt_core::ResourceTarget;

/// The answer: what to start now (at most one) and why the others wait.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Schedule {
    /// Index of the resource to start, if any.
    pub start: Option<usize>,
    /// Holds of resources that want to start but may not, by index.
    pub holds: BTreeMap<usize, HoldReason>,
}

/// Whether resource `i` is Tilt's `uncategorized` (the Kubernetes objects no workload claimed).
fn is_uncategorized(state: &EngineState, i: usize) -> bool {
    let m = &state.resources[i].manifest;
    m.name == "uncategorized" && matches!(m.target, ResourceTarget::K8s(_))
}

/// Computes the next start and the holds.
pub fn next_to_start(state: &EngineState) -> Schedule {
    let updating: Vec<usize> = (0..state.resources.len()).filter(|&i| state.resources[i].is_updating()).collect();
    let local_blocking = updating.iter().any(|&i| state.resources[i].is_unparallelizable_local());
    let slots_free = updating.len() < state.max_parallel_updates;

    // Images being built by running updates: a resource needing one waits, then reuses it.
    let building: Vec<&str> = updating
        .iter()
        .flat_map(|&i| state.resources[i].manifest.image_targets())
        .map(|t| t.image_ref.as_str())
        .filter(|r| state.built_image(r).is_none())
        .collect();

    // `uncategorized` holds the other Kubernetes resources until it has been applied.
    let uncategorized = (0..state.resources.len()).find(|&i| is_uncategorized(state, i));
    let uncategorized_pending = uncategorized.is_some_and(|u| {
        let r = &state.resources[u];
        r.enabled && (r.is_updating() || r.wants_initial_update())
    });

    // Names resolved once per question: a lookup per dependency would make every question
    // quadratic in the number of resources.
    let index: HashMap<&str, usize> =
        state.resources.iter().enumerate().map(|(i, r)| (r.manifest.name.as_str(), i)).collect();

    let mut schedule = Schedule::default();
    // Tilt's pick order: local resources, then `uncategorized`, then Kubernetes resources
    // without built images, then the rest — each in manifest order.
    let rank = |i: usize| {
        let r = &state.resources[i];
        if r.manifest.local().is_some() {
            0
        } else if Some(i) == uncategorized {
            1
        } else if matches!(r.manifest.target, ResourceTarget::K8s(_)) && r.manifest.image_targets().is_empty() {
            2
        } else {
            3
        }
    };
    let mut order: Vec<usize> = (0..state.resources.len()).collect();
    order.sort_by_key(|&i| rank(i));
    for i in order {
        let r = &state.resources[i];
        if !r.wants_initial_update() {
            continue;
        }
        let hold = if local_blocking {
            Some(HoldReason::WaitingForLocal)
        } else if r.is_unparallelizable_local() && !updating.is_empty() {
            Some(HoldReason::IsUnparallelizableLocal)
        } else if r.manifest.resource_deps.iter().any(|dep| {
            // Unknown deps were reported at load time and are ignored here.
            index.get(dep.as_str()).is_some_and(|&d| !state.resources[d].ever_ready)
        }) {
            Some(HoldReason::WaitingForDep)
        } else if r.manifest.image_targets().iter().any(|t| building.contains(&t.image_ref.as_str())) {
            Some(HoldReason::BuildingComponent)
        } else if uncategorized_pending
            && Some(i) != uncategorized
            && matches!(r.manifest.target, ResourceTarget::K8s(_) | ResourceTarget::K8sCustomDeploy(_))
        {
            Some(HoldReason::WaitingForUncategorized)
        } else {
            None
        };
        match hold {
            Some(h) => {
                schedule.holds.insert(i, h);
            }
            None if schedule.start.is_none() && slots_free => schedule.start = Some(i),
            None => {}
        }
    }
    schedule
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::engine_state::{ResourceState, TiltfilePhase, UpdatePhase};
    use chrono::Utc;
    use stilt_core::{CiSettings, Cmd, LocalTarget, Manifest, ResourceTarget, TriggerMode};

    fn local(name: &str, deps: &[&str], parallel: bool) -> Manifest {
        Manifest {
            name: name.into(),
            resource_deps: deps.iter().map(|s| (*s).to_string()).collect(),
            trigger_mode: TriggerMode::Auto,
            auto_init: true,
            labels: vec![],
            links: vec![],
            declared_at: None,
            target: ResourceTarget::Local(LocalTarget {
                update_cmd: Some(Cmd { argv: vec!["true".into()], dir: "/".into(), env: vec![] }),
                serve_cmd: None,
                deps: vec![],
                ignore: vec![],
                allow_parallel: parallel,
                readiness_probe: None,
            }),
        }
    }

    fn state(ms: Vec<Manifest>, max: usize) -> EngineState {
        EngineState {
            resources: ms.into_iter().map(|m| ResourceState::new(m, true)).collect(),
            max_parallel_updates: max,
            tiltfile: TiltfilePhase::Loading { start: Utc::now() },
            tiltfile_path: "/Tiltfile".into(),
            ci: CiSettings { k8s_grace_period: None, timeout: None, readiness_timeout: None },
            start_time: Utc::now(),
            pid: 1,
            environment_failure: None,
        }
    }

    fn run(st: &mut EngineState, i: usize) {
        st.resources[i].update = UpdatePhase::Running { start: Utc::now() };
    }

    fn finish(st: &mut EngineState, i: usize) {
        let now = Utc::now();
        st.resources[i].update = UpdatePhase::Done { start: now, finish: now, error: None };
        st.resources[i].ever_ready = true;
    }

    fn k8s(name: &str, image: Option<&str>) -> Manifest {
        let images = image
            .map(|r| {
                serde_json::from_value(serde_json::json!({
                    "ref": r, "normalizedRef": r, "localRef": r, "clusterRef": r, "matchExact": false,
                    "matchInEnvVars": false, "build": "none", "imageDeps": [], "liveUpdate": [],
                    "entrypoint": null, "containerArgs": null, "liveUpdateOnly": false, "declaredAt": null
                }))
                .unwrap()
            })
            .into_iter()
            .collect();
        let mut m = local(name, &[], true);
        m.target = ResourceTarget::K8s(stilt_core::manifest::K8sTarget {
            objects: vec![],
            image_locations: vec![],
            images,
            port_forwards: vec![],
            extra_pod_selectors: vec![],
            pod_readiness: stilt_core::manifest::PodReadiness::Wait,
            discovery_strategy: None,
        });
        m
    }

    #[test]
    fn uncategorized_goes_first_and_holds_kubernetes_resources() {
        // Manifest order: a built workload, a deploy-only one, uncategorized, a local resource.
        let mut st = state(
            vec![k8s("built", Some("app")), k8s("plain", None), k8s("uncategorized", None), local("l", &[], true)],
            3,
        );
        assert_eq!(next_to_start(&st).start, Some(3), "local resources first");
        run(&mut st, 3);
        assert_eq!(next_to_start(&st).start, Some(2), "then uncategorized");
        run(&mut st, 2);
        let s = next_to_start(&st);
        assert_eq!(s.start, None);
        assert_eq!(s.holds.get(&0), Some(&HoldReason::WaitingForUncategorized));
        assert_eq!(s.holds.get(&1), Some(&HoldReason::WaitingForUncategorized));
        finish(&mut st, 2);
        assert_eq!(next_to_start(&st).start, Some(1), "deploy-only resources before ones with builds");
        run(&mut st, 1);
        assert_eq!(next_to_start(&st).start, Some(0));
    }

    #[test]
    fn unparallelizable_locals_run_one_at_a_time_in_order() {
        let mut st = state(vec![local("a", &[], false), local("b", &[], false)], 3);
        assert_eq!(next_to_start(&st).start, Some(0));
        run(&mut st, 0);
        let s = next_to_start(&st);
        assert_eq!(s.start, None);
        assert_eq!(s.holds.get(&1), Some(&HoldReason::WaitingForLocal));
        finish(&mut st, 0);
        assert_eq!(next_to_start(&st).start, Some(1));
    }

    #[test]
    fn parallel_locals_fill_slots_and_block_serial_ones() {
        let mut st = state(
            vec![local("p1", &[], true), local("p2", &[], true), local("s", &[], false), local("p3", &[], true)],
            2,
        );
        assert_eq!(next_to_start(&st).start, Some(0));
        run(&mut st, 0);
        let s = next_to_start(&st);
        assert_eq!(s.start, Some(1));
        assert_eq!(s.holds.get(&2), Some(&HoldReason::IsUnparallelizableLocal));
        run(&mut st, 1);
        let s = next_to_start(&st);
        assert_eq!(s.start, None, "slots are full");
        assert_eq!(s.holds.get(&2), Some(&HoldReason::IsUnparallelizableLocal));
        assert!(!s.holds.contains_key(&3), "a slot wait is not a hold");
    }

    #[test]
    fn deps_gate_until_ever_ready() {
        let mut st = state(vec![local("b", &["a"], true), local("a", &[], true)], 3);
        let s = next_to_start(&st);
        assert_eq!(s.start, Some(1));
        assert_eq!(s.holds.get(&0), Some(&HoldReason::WaitingForDep));
        run(&mut st, 1);
        assert_eq!(next_to_start(&st).start, None);
        finish(&mut st, 1);
        assert_eq!(next_to_start(&st).start, Some(0));
    }

    #[test]
    fn disabled_and_manual_init_resources_never_start() {
        let mut st = state(vec![local("a", &[], true), local("b", &[], true)], 3);
        st.resources[0].enabled = false;
        st.resources[1].manifest.auto_init = false;
        assert_eq!(next_to_start(&st), Schedule::default());
    }
}
