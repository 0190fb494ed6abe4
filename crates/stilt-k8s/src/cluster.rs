//! The connection to the cluster of the current (or `--context`) kubeconfig context.
//!
//! Made once per run, lazily: a Tiltfile without Kubernetes resources never reads the
//! kubeconfig. The kubeconfig is found as kubectl finds it (`$KUBECONFIG`, a `:`-separated list,
//! else `~/.kube/config`) in the environment the engine was given, not the process's.

use crate::error::{K8sError, KubeCause, is_transport};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiCapabilities, Scope};
use kube::{Api, Client, Config};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use stilt_core::ClusterProduct;

/// A connected cluster.
#[derive(Clone)]
pub struct Cluster {
    pub(crate) client: Client,
    /// Context name.
    pub context: String,
    /// Name of the cluster the context points at.
    pub cluster_name: String,
    /// Namespace for objects without one (`--namespace`, else the context's, else `default`).
    pub namespace: String,
    /// The apiserver URL.
    pub server: String,
    /// What product the cluster is.
    pub product: ClusterProduct,
    /// Resolved kinds, so each kind is discovered once per run.
    kinds: Arc<Mutex<HashMap<GroupVersionKind, (ApiResource, ApiCapabilities)>>>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("cluster_name", &self.cluster_name)
            .field("namespace", &self.namespace)
            .field("server", &self.server)
            .field("product", &self.product)
            .finish_non_exhaustive()
    }
}

fn kubeconfig_files(env: &BTreeMap<String, String>) -> Vec<PathBuf> {
    match env.get("KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(list) => list.split(':').filter(|p| !p.is_empty()).map(PathBuf::from).collect(),
        None => env.get("HOME").map(|h| vec![PathBuf::from(h).join(".kube/config")]).unwrap_or_default(),
    }
}

impl Cluster {
    /// Reads the kubeconfig `env` points at and connects to `context` (the current context if
    /// `None`), checking that the apiserver answers. Must run inside a Tokio runtime.
    pub async fn connect(
        env: &BTreeMap<String, String>,
        context: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Cluster, K8sError> {
        let files = kubeconfig_files(env);
        let mut merged: Option<Kubeconfig> = None;
        for f in files.iter().filter(|f| f.exists()) {
            let kc = Kubeconfig::read_from(f).map_err(|source| K8sError::Kubeconfig {
                what: Some(format!("failed to read {}", f.display())),
                source,
            })?;
            merged = Some(match merged {
                None => kc,
                Some(m) => m.merge(kc).map_err(|source| K8sError::Kubeconfig { what: None, source })?,
            });
        }
        let Some(kc) = merged else {
            let list: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
            return Err(K8sError::Config(format!(
                "no kubeconfig found (looked for {}); set KUBECONFIG or pass --context",
                if list.is_empty() { "$KUBECONFIG and $HOME/.kube/config".to_string() } else { list.join(", ") }
            )));
        };
        let context_name = context.map(str::to_string).or_else(|| kc.current_context.clone()).ok_or_else(|| {
            K8sError::Config("the kubeconfig has no current context; set one or pass --context".into())
        })?;
        let named = kc
            .contexts
            .iter()
            .find(|c| c.name == context_name)
            .ok_or_else(|| K8sError::Config(format!("context {context_name:?} is not in the kubeconfig")))?;
        let cluster_name = named.context.as_ref().map(|c| c.cluster.clone()).unwrap_or_default();
        let context_namespace = named.context.as_ref().and_then(|c| c.namespace.clone());
        let options = KubeConfigOptions { context: Some(context_name.clone()), ..KubeConfigOptions::default() };
        let config = Config::from_custom_kubeconfig(kc, &options)
            .await
            .map_err(|source| K8sError::Kubeconfig { what: Some(format!("context {context_name:?}")), source })?;
        let server = config.cluster_url.to_string();
        let client = Client::try_from(config).map_err(|e| K8sError::Client { source: KubeCause(e) })?;
        let namespace = namespace
            .filter(|n| !n.is_empty())
            .map(str::to_string)
            .or(context_namespace.filter(|n| !n.is_empty()))
            .unwrap_or_else(|| "default".to_string());
        let cluster = Cluster {
            client,
            product: ClusterProduct::from_cluster_name(&cluster_name),
            context: context_name,
            cluster_name,
            namespace,
            server,
            kinds: Arc::default(),
        };
        cluster.client.apiserver_version().await.map_err(|e| cluster.unreachable(e))?;
        Ok(cluster)
    }

    pub(crate) fn unreachable(&self, e: kube::Error) -> K8sError {
        K8sError::Unreachable { context: self.context.clone(), server: self.server.clone(), source: KubeCause(e) }
    }

    /// Maps a kube error about `object` to a [`K8sError`].
    pub(crate) fn object_error(&self, action: &'static str, object: &str, e: kube::Error) -> K8sError {
        if is_transport(&e) {
            self.unreachable(e)
        } else {
            K8sError::Refused { action, object: object.to_string(), source: KubeCause(e) }
        }
    }

    /// The API of `gvk` for objects in `namespace`. Found kinds are cached for the run; a kind
    /// not found is asked for again next time.
    pub(crate) async fn api_for(
        &self,
        gvk: &GroupVersionKind,
        namespace: Option<&str>,
        object: &str,
    ) -> Result<(Api<DynamicObject>, bool), K8sError> {
        let cached = self.kinds.lock().expect("kind cache").get(gvk).cloned();
        let (ar, caps) = if let Some(found) = cached {
            found
        } else {
            let found = kube::discovery::pinned_kind(&self.client, gvk).await.map_err(|e| match e {
                kube::Error::Api(s) if s.code == 404 => K8sError::Object {
                    action: "apply",
                    object: object.to_string(),
                    message: format!(
                        "the cluster has no kind {} in API group version {:?} (is its CRD installed?)",
                        gvk.kind,
                        if gvk.group.is_empty() {
                            gvk.version.clone()
                        } else {
                            format!("{}/{}", gvk.group, gvk.version)
                        }
                    ),
                },
                e => self.object_error("find the API of", object, e),
            })?;
            self.kinds.lock().expect("kind cache").insert(gvk.clone(), found.clone());
            found
        };
        let namespaced = caps.scope == Scope::Namespaced;
        let api = if namespaced {
            Api::namespaced_with(self.client.clone(), namespace.unwrap_or(&self.namespace), &ar)
        } else {
            Api::all_with(self.client.clone(), &ar)
        };
        Ok((api, namespaced))
    }
}
