//! Errors of the Kubernetes executor. `unreachable` separates "the cluster cannot be reached"
//! (an environment failure, exit 4) from "the cluster refused this object" (the resource's
//! failure, exit 1).

use thiserror::Error;

/// A Kubernetes operation that failed.
#[derive(Debug, Error)]
pub enum K8sError {
    /// No usable kubeconfig / context.
    #[error("failed to load the kubeconfig: {0}")]
    Config(String),
    /// The apiserver could not be reached.
    #[error("failed to reach the Kubernetes cluster of context {context:?} at {server}: {message}")]
    Unreachable {
        /// Context name.
        context: String,
        /// Server URL.
        server: String,
        /// What the client said.
        message: String,
    },
    /// The apiserver answered with an error about an object.
    #[error("failed to {action} {object}: {message}")]
    Object {
        /// `apply`, `delete`, `find the API of`.
        action: &'static str,
        /// `Deployment/web` (namespace-qualified when namespaced).
        object: String,
        /// The apiserver's message.
        message: String,
    },
}

impl K8sError {
    /// Whether the failure is the environment's (cluster unreachable, no kubeconfig).
    pub fn is_environment(&self) -> bool {
        matches!(self, K8sError::Config(_) | K8sError::Unreachable { .. })
    }
}

/// Text of a kube error: the apiserver's message for API errors, the transport chain otherwise.
pub(crate) fn kube_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                let t = s.to_string();
                if !text.contains(&t) {
                    text.push_str(": ");
                    text.push_str(&t);
                }
                source = s.source();
            }
            text
        }
    }
}

/// Whether a kube error means the apiserver was not reached at all.
pub(crate) fn is_transport(e: &kube::Error) -> bool {
    matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_))
}
