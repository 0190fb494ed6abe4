//! Kubernetes API discovery for the `tilt.dev/v1alpha1` group, which Tilt's CLI (client-go)
//! reads before any `get`/`describe`: `/api` (no legacy core group), `/apis` (the group list) and
//! `/apis/tilt.dev/v1alpha1` (the resources stilt serves, read-only).

use serde_json::{Value, json};

/// The group/version stilt serves.
pub const GROUP_VERSION: &str = "tilt.dev/v1alpha1";

/// The kinds stilt serves: (plural, singular, kind).
pub const RESOURCES: &[(&str, &str, &str)] = &[
    ("sessions", "session", "Session"),
    ("uiresources", "uiresource", "UIResource"),
    ("uisessions", "uisession", "UISession"),
];

/// `GET /api`: no core group (Tilt's apiserver answers 404 here; an empty list means the same to
/// client-go and reads better to curl).
pub fn api_versions() -> Value {
    json!({"kind": "APIVersions", "versions": [], "serverAddressByClientCIDRs": null})
}

/// `GET /apis`.
pub fn api_group_list() -> Value {
    let v = json!({"groupVersion": GROUP_VERSION, "version": "v1alpha1"});
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [{"name": "tilt.dev", "versions": [v], "preferredVersion": v}],
    })
}

/// `GET /apis/tilt.dev/v1alpha1`.
pub fn api_resource_list() -> Value {
    let mut resources = Vec::new();
    for (plural, singular, kind) in RESOURCES {
        resources.push(json!({
            "name": plural,
            "singularName": singular,
            "namespaced": false,
            "kind": kind,
            "verbs": ["get", "list"],
        }));
        resources.push(json!({
            "name": format!("{plural}/status"),
            "singularName": "",
            "namespaced": false,
            "kind": kind,
            "verbs": ["get"],
        }));
    }
    json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": GROUP_VERSION, "resources": resources})
}

/// A `metav1.Status` failure.
pub fn status_failure(code: u16, reason: &str, message: &str, details: Option<Value>) -> Value {
    let mut v = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    });
    if let Some(d) = details {
        v["details"] = d;
    }
    v
}

/// `<plural> "<name>" not found`, as the apiserver words it.
pub fn not_found(plural: &str, name: &str) -> Value {
    status_failure(
        404,
        "NotFound",
        &format!("{plural}.tilt.dev \"{name}\" not found"),
        Some(json!({"name": name, "group": "tilt.dev", "kind": plural})),
    )
}

/// The apiserver's default table (`NAME`, `CREATED AT`) for `objects`, which `tilt get` prints
/// when it asks for `as=Table`.
pub fn table(objects: &[Value]) -> Value {
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let meta = &o["metadata"];
            json!({
                "cells": [meta["name"], meta["creationTimestamp"]],
                "object": {
                    "kind": "PartialObjectMetadata",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": meta,
                },
            })
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": ""},
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0},
            {"name": "Created At", "type": "date", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0},
        ],
        "rows": rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_lists_the_served_kinds() {
        let l = api_resource_list();
        let names: Vec<&str> = l["resources"].as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
        assert!(names.contains(&"sessions") && names.contains(&"uiresources"), "{names:?}");
        assert_eq!(api_group_list()["groups"][0]["preferredVersion"]["groupVersion"], GROUP_VERSION);
        let t = table(&[json!({"metadata": {"name": "a", "creationTimestamp": "2026-01-01T00:00:00Z"}})]);
        assert_eq!(t["rows"][0]["cells"][0], "a");
        assert_eq!(not_found("sessions", "x")["message"], "sessions.tilt.dev \"x\" not found");
    }
}
