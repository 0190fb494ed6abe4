//! Which Kubernetes product a cluster is, from the name of the cluster the current context
//! points at (Tilt's `clusterid`). Two decisions hang on it: the `allow_k8s_contexts` safety
//! rule (local development clusters are allowed without asking) and how built images reach the
//! cluster (kind loads them into its nodes, Docker-runtime clusters see the local daemon's
//! images, everything else pulls from a registry).

use serde::{Deserialize, Serialize};

/// A Kubernetes product, as Tilt names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterProduct {
    /// No current context.
    None,
    /// minikube.
    Minikube,
    /// Docker Desktop.
    DockerDesktop,
    /// Google Kubernetes Engine.
    Gke,
    /// Amazon EKS.
    Eks,
    /// kind (Kubernetes in Docker).
    Kind,
    /// MicroK8s.
    Microk8s,
    /// CodeReady Containers.
    Crc,
    /// Krucible.
    Krucible,
    /// k3d.
    K3d,
    /// Rancher Desktop.
    RancherDesktop,
    /// Colima.
    Colima,
    /// OrbStack.
    Orbstack,
    /// Anything else (a remote or unrecognised cluster).
    Unknown,
}

impl ClusterProduct {
    /// The product of the cluster named `cluster` (empty: no current context).
    pub fn from_cluster_name(cluster: &str) -> ClusterProduct {
        const PREFIXES: &[(&str, ClusterProduct)] = &[
            ("minikube", ClusterProduct::Minikube),
            ("docker-for-desktop-cluster", ClusterProduct::DockerDesktop),
            ("docker-desktop", ClusterProduct::DockerDesktop),
            ("gke", ClusterProduct::Gke),
            ("arn:aws:eks:", ClusterProduct::Eks),
            ("kind-", ClusterProduct::Kind),
            ("microk8s", ClusterProduct::Microk8s),
            ("api-crc-testing", ClusterProduct::Crc),
            ("krucible-", ClusterProduct::Krucible),
            ("k3d-", ClusterProduct::K3d),
            ("rancher-desktop", ClusterProduct::RancherDesktop),
            ("colima", ClusterProduct::Colima),
        ];
        match cluster {
            "" => ClusterProduct::None,
            "kind" => ClusterProduct::Kind,
            "orbstack" => ClusterProduct::Orbstack,
            c if c.ends_with(".eksctl.io") => ClusterProduct::Eks,
            c => PREFIXES.iter().find(|(p, _)| c.starts_with(p)).map_or(ClusterProduct::Unknown, |(_, p)| *p),
        }
    }

    /// Tilt's name for it (`kind`, `docker-desktop`, …; empty for none).
    pub fn as_str(self) -> &'static str {
        match self {
            ClusterProduct::None => "",
            ClusterProduct::Minikube => "minikube",
            ClusterProduct::DockerDesktop => "docker-desktop",
            ClusterProduct::Gke => "gke",
            ClusterProduct::Eks => "eks",
            ClusterProduct::Kind => "kind",
            ClusterProduct::Microk8s => "microk8s",
            ClusterProduct::Crc => "crc",
            ClusterProduct::Krucible => "krucible",
            ClusterProduct::K3d => "k3d",
            ClusterProduct::RancherDesktop => "rancher-desktop",
            ClusterProduct::Colima => "colima",
            ClusterProduct::Orbstack => "orbstack",
            ClusterProduct::Unknown => "unknown",
        }
    }

    /// A local development cluster: deploying there needs no `allow_k8s_contexts`.
    pub fn is_dev_cluster(self) -> bool {
        !matches!(self, ClusterProduct::Gke | ClusterProduct::Eks | ClusterProduct::Unknown)
    }

    /// Its nodes run images straight from the local Docker daemon, so nothing is pushed or
    /// loaded. Tilt also checks that the daemon *is* the cluster's runtime (`minikube
    /// docker-env`, the colima profile, …); stilt trusts the product name (a registry, advertised
    /// or `default_registry`, still makes it push).
    pub fn shares_docker_daemon(self) -> bool {
        matches!(
            self,
            ClusterProduct::DockerDesktop
                | ClusterProduct::RancherDesktop
                | ClusterProduct::Colima
                | ClusterProduct::Orbstack
                | ClusterProduct::Minikube
        )
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterProduct as P;

    #[test]
    fn products_from_cluster_names_like_tilt() {
        for (name, want) in [
            ("", P::None),
            ("kind", P::Kind),
            ("kind-stilt", P::Kind),
            ("kindling", P::Unknown),
            ("k3d-dev", P::K3d),
            ("docker-desktop", P::DockerDesktop),
            ("docker-for-desktop-cluster", P::DockerDesktop),
            ("minikube", P::Minikube),
            ("gke_proj_zone_name", P::Gke),
            ("arn:aws:eks:us-east-1:1:cluster/x", P::Eks),
            ("prod.us-east-1.eksctl.io", P::Eks),
            ("orbstack", P::Orbstack),
            ("orbstack-2", P::Unknown),
            ("stilt-remote", P::Unknown),
        ] {
            assert_eq!(P::from_cluster_name(name), want, "{name}");
        }
        assert!(P::Kind.is_dev_cluster() && P::None.is_dev_cluster());
        assert!(!P::Gke.is_dev_cluster() && !P::Unknown.is_dev_cluster());
        assert!(P::DockerDesktop.shares_docker_daemon() && !P::Kind.shares_docker_daemon());
    }
}
