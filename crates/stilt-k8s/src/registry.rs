//! The registry a cluster advertises for images built on this machine (KEP-1755, "Local
//! Registry Hosting"), which Tilt prefers over the Tiltfile's `default_registry`.
//!
//! Looked up once per run, in Tilt's order: the ConfigMap `kube-public/local-registry-hosting`
//! (key `localRegistryHosting.v1`), then the first node's `tilt.dev/registry` /
//! `kind.x-k8s.io/registry` annotations. Not found or forbidden means "none".

use crate::Cluster;
use crate::error::K8sError;
use k8s_openapi::api::core::v1::{ConfigMap, Node};
use kube::Api;
use kube::api::ListParams;
use serde::Deserialize;

/// A registry the cluster advertises.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LocalRegistry {
    /// Where this machine pushes (`localhost:5000`).
    pub host: String,
    /// Where the cluster's container runtime pulls from, if different (`registry:5000`).
    pub host_from_cluster: String,
    /// Where it was found, for the log.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HostingV1 {
    #[serde(default)]
    host: String,
    #[serde(default)]
    host_from_cluster_network: String,
    #[serde(default)]
    host_from_container_runtime: String,
}

impl LocalRegistry {
    /// Parses the `localRegistryHosting.v1` value.
    fn from_hosting(yaml: &str) -> Result<LocalRegistry, String> {
        let h: HostingV1 = serde_saphyr::from_str(yaml).map_err(|e| e.to_string())?;
        let from_cluster = if h.host_from_container_runtime.is_empty() {
            h.host_from_cluster_network
        } else {
            h.host_from_container_runtime
        };
        Ok(LocalRegistry {
            host: h.host,
            host_from_cluster: from_cluster,
            source: "ConfigMap kube-public/local-registry-hosting".into(),
        })
    }
}

impl Cluster {
    /// The registry this cluster advertises, if any.
    pub async fn local_registry(&self) -> Result<Option<LocalRegistry>, K8sError> {
        let cms: Api<ConfigMap> = Api::namespaced(self.client.clone(), "kube-public");
        match cms.get_opt("local-registry-hosting").await {
            Ok(Some(cm)) => {
                if let Some(v) = cm.data.as_ref().and_then(|d| d.get("localRegistryHosting.v1")) {
                    let r = LocalRegistry::from_hosting(v).map_err(|message| K8sError::Object {
                        action: "read",
                        object: "ConfigMap kube-public/local-registry-hosting".into(),
                        message,
                    })?;
                    if !r.host.is_empty() {
                        return Ok(Some(r));
                    }
                }
            }
            Ok(None) => {}
            Err(kube::Error::Api(s)) if s.code == 403 => {}
            Err(e) => return Err(self.object_error("read", "ConfigMap kube-public/local-registry-hosting", e)),
        }
        let nodes: Api<Node> = Api::all(self.client.clone());
        let list = match nodes.list(&ListParams::default().limit(1)).await {
            Ok(l) => l,
            Err(kube::Error::Api(s)) if s.code == 403 => return Ok(None),
            Err(e) => return Err(self.object_error("list", "nodes", e)),
        };
        let Some(node) = list.items.first() else { return Ok(None) };
        let ann = node.metadata.annotations.clone().unwrap_or_default();
        let name = node.metadata.name.clone().unwrap_or_default();
        for (key, from_cluster_key) in
            [("tilt.dev/registry", "tilt.dev/registry-from-cluster"), ("kind.x-k8s.io/registry", "")]
        {
            if let Some(host) = ann.get(key).filter(|h| !h.is_empty()) {
                return Ok(Some(LocalRegistry {
                    host: host.clone(),
                    host_from_cluster: ann.get(from_cluster_key).cloned().unwrap_or_default(),
                    source: format!("annotation {key} of node {name}"),
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::LocalRegistry;

    #[test]
    fn reads_kep_1755_hosting() {
        let r = LocalRegistry::from_hosting(
            "host: \"localhost:5001\"\nhostFromContainerRuntime: \"kind-registry:5000\"\nhelp: \"https://kind.sigs.k8s.io/docs/user/local-registry/\"\n",
        )
        .unwrap();
        assert_eq!(r.host, "localhost:5001");
        assert_eq!(r.host_from_cluster, "kind-registry:5000");
        let r = LocalRegistry::from_hosting("host: localhost:5000\nhostFromClusterNetwork: reg:5000\n").unwrap();
        assert_eq!(r.host_from_cluster, "reg:5000");
        assert!(LocalRegistry::from_hosting("host: [").is_err());
    }
}
