//! Watching the pods a resource owns.
//!
//! A resource's pods are found by label: every pod template stilt applies carries
//! `tilt.dev/pod-template-hash` (see `stilt_core::k8s_objects`), so one set-based selector per
//! namespace finds exactly the pods of the templates just applied — pods of an older template
//! (a previous ReplicaSet) carry another hash and are never seen. `extra_pod_selectors` add
//! more watches. Each change delivers the whole current set, as the apiserver's JSON.

use crate::Cluster;
use futures_util::StreamExt;
use futures_util::stream::select_all;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use serde_json::Value;
use std::collections::BTreeMap;

/// One pod watch: a namespace (empty = all) and a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodWatch {
    /// Namespace; empty watches every namespace.
    pub namespace: String,
    /// Label selector (`tilt.dev/pod-template-hash in (a,b)`).
    pub selector: String,
}

/// Watches `watches` until the task is dropped; calls `on_change` with every pod seen (each
/// once, by uid) after each change, and `on_error` when a watch fails (it is retried with
/// backoff; the same error again is not reported twice in a row).
pub async fn watch_pods(
    cluster: Cluster,
    watches: Vec<PodWatch>,
    mut on_change: impl FnMut(Vec<Value>) + Send,
    mut on_error: impl FnMut(String) + Send,
) {
    let streams = watches.iter().enumerate().map(|(i, w)| {
        let api: Api<Pod> = if w.namespace.is_empty() {
            Api::all(cluster.client.clone())
        } else {
            Api::namespaced(cluster.client.clone(), &w.namespace)
        };
        watcher::watcher(api, watcher::Config::default().labels(&w.selector))
            .default_backoff()
            .map(move |e| (i, e))
            .boxed()
    });
    let mut events = select_all(streams);
    // (watch, namespace, name) → pod
    let mut pods: BTreeMap<(usize, String, String), Value> = BTreeMap::new();
    let mut last_error = String::new();
    let key = |i: usize, p: &Pod| {
        (i, p.metadata.namespace.clone().unwrap_or_default(), p.metadata.name.clone().unwrap_or_default())
    };
    while let Some((i, event)) = events.next().await {
        let emit = match event {
            Ok(Event::Init) => {
                pods.retain(|k, _| k.0 != i);
                false
            }
            Ok(Event::InitApply(p)) => {
                pods.insert(key(i, &p), serde_json::to_value(&p).unwrap_or(Value::Null));
                false
            }
            Ok(Event::InitDone) => {
                last_error.clear();
                true
            }
            Ok(Event::Apply(p)) => {
                pods.insert(key(i, &p), serde_json::to_value(&p).unwrap_or(Value::Null));
                true
            }
            Ok(Event::Delete(p)) => {
                pods.remove(&key(i, &p));
                true
            }
            Err(e) => {
                let text = e.to_string();
                if text != last_error {
                    on_error(text.clone());
                    last_error = text;
                }
                false
            }
        };
        if emit {
            let mut seen = std::collections::HashSet::new();
            let all: Vec<Value> = pods
                .values()
                .filter(|p| seen.insert(p.pointer("/metadata/uid").and_then(Value::as_str).unwrap_or("").to_string()))
                .cloned()
                .collect();
            on_change(all);
        }
    }
}
