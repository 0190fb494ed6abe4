//! Which target a Session target is: its resource and what it does (`web:update`), as a type.
//!
//! Tilt's target names are the contract of the Session (`<resource>:update`, `:serve`,
//! `:runtime`, and `tiltfile:update` for the Tiltfile load), and the reporters and the failure
//! classes depend on what a target is. [`TargetId`] is that meaning; it is turned into the
//! name string (and read back from one) only here.

use crate::exit_code::FailureClass;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The Session name of the Tiltfile's load target.
pub const TILTFILE_TARGET: &str = "tiltfile:update";

/// The resource name in [`TILTFILE_TARGET`].
const TILTFILE_RESOURCE: &str = "tiltfile";

/// What a target does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetKind {
    /// `:update`: a `cmd`, an image build and deploy, or the Tiltfile load.
    Update,
    /// `:serve`: a local resource's `serve_cmd`.
    Serve,
    /// `:runtime`: a Kubernetes or compose resource's pods or container.
    Runtime,
}

impl TargetKind {
    /// The name suffix, without the colon.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Update => "update",
            TargetKind::Serve => "serve",
            TargetKind::Runtime => "runtime",
        }
    }
}

/// A target: the resource it belongs to and its kind. Displays (and serialises) as Tilt's name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetId {
    /// The resource's name (`tiltfile` for the Tiltfile target).
    pub resource: String,
    /// What the target does.
    pub kind: TargetKind,
}

impl TargetId {
    /// The target `resource:kind`.
    pub fn new(resource: impl Into<String>, kind: TargetKind) -> Self {
        TargetId { resource: resource.into(), kind }
    }

    /// The Tiltfile's load target, [`TILTFILE_TARGET`].
    pub fn tiltfile() -> Self {
        TargetId::new(TILTFILE_RESOURCE, TargetKind::Update)
    }

    /// Whether this is the Tiltfile's load target.
    pub fn is_tiltfile(&self) -> bool {
        self.kind == TargetKind::Update && self.resource == TILTFILE_RESOURCE
    }

    /// Reads a Session target name (`web:serve`). `None` for a name without a known suffix.
    pub fn parse(name: &str) -> Option<Self> {
        let (resource, kind) = name.rsplit_once(':')?;
        let kind = match kind {
            "update" => TargetKind::Update,
            "serve" => TargetKind::Serve,
            "runtime" => TargetKind::Runtime,
            _ => return None,
        };
        Some(TargetId::new(resource, kind))
    }

    /// How a run fails when this target failed: the Tiltfile did not load, an update failed, a
    /// `serve_cmd` exited, or a runtime is in error.
    pub fn failure_class(&self) -> FailureClass {
        match self.kind {
            _ if self.is_tiltfile() => FailureClass::TiltfileError,
            TargetKind::Update => FailureClass::UpdateFailed,
            TargetKind::Serve => FailureClass::ServeExited,
            TargetKind::Runtime => FailureClass::RuntimeError,
        }
    }
}

impl fmt::Display for TargetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.resource, self.kind.as_str())
    }
}

impl Serialize for TargetId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TargetId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        TargetId::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("not a target name: {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ["web:update", "web:serve", "my:db:runtime", TILTFILE_TARGET, ":update"] {
            let id = TargetId::parse(name).unwrap();
            assert_eq!(id.to_string(), name);
            assert_eq!(serde_json::to_value(&id).unwrap(), serde_json::json!(name));
        }
        assert_eq!(TargetId::parse("my:db:runtime").unwrap().resource, "my:db");
        assert_eq!(TargetId::tiltfile().to_string(), TILTFILE_TARGET);
        assert!(TargetId::parse(TILTFILE_TARGET).unwrap().is_tiltfile());
        assert!(!TargetId::parse("tiltfile:serve").unwrap().is_tiltfile());
        assert_eq!(TargetId::parse("web"), None);
        assert_eq!(TargetId::parse("web:build"), None);
        assert!(serde_json::from_value::<TargetId>(serde_json::json!("web")).is_err());
    }

    #[test]
    fn failure_classes() {
        let class = |n: &str| TargetId::parse(n).unwrap().failure_class();
        assert_eq!(class(TILTFILE_TARGET), FailureClass::TiltfileError);
        assert_eq!(class("a:update"), FailureClass::UpdateFailed);
        assert_eq!(class("a:serve"), FailureClass::ServeExited);
        assert_eq!(class("a:runtime"), FailureClass::RuntimeError);
    }
}
