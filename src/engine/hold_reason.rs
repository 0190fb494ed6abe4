//! Why a resource is not starting yet. The strings are Tilt's, and become `waitReason`s.

/// A hold on a resource's first update (Tilt's `store.HoldReason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HoldReason {
    /// An unparallelizable local resource is updating: nothing else starts.
    WaitingForLocal,
    /// Something is updating: an unparallelizable local resource must wait.
    IsUnparallelizableLocal,
    /// A `resource_deps` entry has never been ready.
    WaitingForDep,
    /// An image this resource needs is being built by another resource's update.
    BuildingComponent,
    /// `uncategorized` (namespaces, CRDs, volumes, …) is being applied: Kubernetes resources
    /// wait for it.
    WaitingForUncategorized,
}

impl HoldReason {
    /// Tilt's wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            HoldReason::WaitingForLocal => "waiting-for-local",
            HoldReason::IsUnparallelizableLocal => "is-unparallelizable-local",
            HoldReason::WaitingForDep => "waiting-for-dep",
            HoldReason::BuildingComponent => "building-component",
            HoldReason::WaitingForUncategorized => "waiting-for-uncategorized",
        }
    }
}
