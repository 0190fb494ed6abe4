//! The errors of the Kubernetes boundary. [`K8sError::class`] separates "the cluster cannot be
//! reached" or "no usable kubeconfig" (the environment's failure, exit 4) from "the cluster
//! refused this object" (the resource's failure, exit 1).
//!
//! A kube error is never interpolated into a message: it is the `#[source]`, wrapped in
//! [`KubeCause`] so that an API error reads as the apiserver's message, and the chain is
//! rendered once, by [`stilt_core::error_chain`].

use kube::config::KubeconfigError;
use std::fmt;
use stilt_core::FailureClass;
use thiserror::Error;

/// A Kubernetes operation that failed.
#[derive(Debug, Error)]
pub enum K8sError {
    /// No usable kubeconfig / context (stilt's own words).
    #[error("failed to load the kubeconfig: {0}")]
    Config(String),
    /// The kubeconfig could not be read, merged or turned into a client configuration.
    #[error("failed to load the kubeconfig{}", what.as_ref().map(|w| format!(": {w}")).unwrap_or_default())]
    Kubeconfig {
        /// Which step (`failed to read /home/u/.kube/config`, `context "kind-x"`), if one is named.
        what: Option<String>,
        /// kube's reason.
        #[source]
        source: KubeconfigError,
    },
    /// The client could not be built from the configuration.
    #[error("failed to load the kubeconfig")]
    Client {
        /// kube's reason.
        #[source]
        source: KubeCause,
    },
    /// The apiserver could not be reached.
    #[error("failed to reach the Kubernetes cluster of context {context:?} at {server}")]
    Unreachable {
        /// Context name.
        context: String,
        /// Server URL.
        server: String,
        /// What the client said.
        #[source]
        source: KubeCause,
    },
    /// The apiserver answered with an error about an object.
    #[error("failed to {action} {object}")]
    Refused {
        /// `apply`, `delete`, `find the API of`.
        action: &'static str,
        /// `Deployment/web` (namespace-qualified when namespaced).
        object: String,
        /// The apiserver's answer.
        #[source]
        source: KubeCause,
    },
    /// An object could not be handled, in stilt's own words (a timeout, not an object).
    #[error("failed to {action} {object}: {message}")]
    Object {
        /// `apply`, `delete`, `read`.
        action: &'static str,
        /// `Deployment/web` (namespace-qualified when namespaced).
        object: String,
        /// What went wrong.
        message: String,
    },
}

impl K8sError {
    /// Whose failure this is: the environment's (no kubeconfig, cluster unreachable) or the
    /// resource's (an object the cluster refused).
    pub fn class(&self) -> FailureClass {
        match self {
            K8sError::Config(_)
            | K8sError::Kubeconfig { .. }
            | K8sError::Client { .. }
            | K8sError::Unreachable { .. } => FailureClass::Environment,
            K8sError::Refused { .. } | K8sError::Object { .. } => FailureClass::UpdateFailed,
        }
    }

    /// Whether the failure is the environment's (`class()` is [`FailureClass::Environment`]).
    pub fn is_environment(&self) -> bool {
        self.class() == FailureClass::Environment
    }

    /// Whether the failure is about one object (refused or not handled), not the connection.
    pub(crate) fn is_about_object(&self) -> bool {
        matches!(self, K8sError::Refused { .. } | K8sError::Object { .. })
    }
}

/// A kube error as a cause: an API error reads as the apiserver's message (its status is the
/// answer, not a chain), any other error as kube says it, with kube's own causes after it.
#[derive(Debug)]
pub struct KubeCause(pub kube::Error);

impl fmt::Display for KubeCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            kube::Error::Api(s) => f.write_str(&s.message),
            other => other.fmt(f),
        }
    }
}

impl std::error::Error for KubeCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.0 {
            kube::Error::Api(_) => None,
            other => other.source(),
        }
    }
}

/// Whether a kube error means the apiserver was not reached at all.
pub(crate) fn is_transport(e: &kube::Error) -> bool {
    matches!(e, kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::HttpError(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use stilt_core::error_chain::error_chain;

    #[test]
    fn api_errors_read_as_the_apiserver_message() {
        let status = kube::core::Status::failure("Deployment.apps \"web\" is invalid", "Invalid").with_code(422);
        let e = K8sError::Refused {
            action: "apply",
            object: "Deployment default/web".into(),
            source: KubeCause(kube::Error::Api(Box::new(status))),
        };
        assert_eq!(error_chain(&e), "failed to apply Deployment default/web: Deployment.apps \"web\" is invalid");
        assert_eq!(e.class(), FailureClass::UpdateFailed);
        assert!(!e.is_environment());
        assert_eq!(K8sError::Config("x".into()).class(), FailureClass::Environment);
    }
}
