//! Starlark value types Tilt adds: blobs, trigger modes, links, probes and namespaces.

#![expect(
    unsafe_code,
    reason = "starlark's ProvidesStaticType derive emits an unsafe impl; this module has no hand-written unsafe"
)]

use allocative::Allocative;
use starlark::starlark_simple_value;
use starlark::values::{
    FrozenValue, Heap, NoSerialize, ProvidesStaticType, StarlarkValue, Value, ValueLike, starlark_value,
};
use std::fmt;
use stilt_core::{Link, Probe, ProbeAction, TriggerMode};

/// Text returned by `local()`, `read_file()`, `blob()`… It has no string methods, is falsy
/// when empty, and `str(blob)` gives the text.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct Blob(pub(crate) String);
starlark_simple_value!(Blob);

impl fmt::Display for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[starlark_value(type = "blob")]
#[expect(clippy::elidable_lifetime_names, reason = "the starlark_value macro needs a named lifetime")]
impl<'v> StarlarkValue<'v> for Blob {
    fn to_bool(&self) -> bool {
        !self.0.is_empty()
    }

    fn collect_repr(&self, collector: &mut String) {
        collector.push_str(&self.0);
    }
}

/// `TRIGGER_MODE_AUTO` / `TRIGGER_MODE_MANUAL`.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct TriggerModeValue(#[allocative(skip)] pub(crate) TriggerMode);
starlark_simple_value!(TriggerModeValue);

impl fmt::Display for TriggerModeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            TriggerMode::Auto => "TRIGGER_MODE_AUTO",
            TriggerMode::Manual => "TRIGGER_MODE_MANUAL",
        })
    }
}

#[starlark_value(type = "TriggerMode")]
impl<'v> StarlarkValue<'v> for TriggerModeValue {
    fn equals(&self, other: Value<'v>) -> starlark::Result<bool> {
        Ok(other.downcast_ref::<TriggerModeValue>().is_some_and(|o| o.0 == self.0))
    }
}

/// `link(url, name)`.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct LinkValue(#[allocative(skip)] pub(crate) Link);
starlark_simple_value!(LinkValue);

impl fmt::Display for LinkValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link(url={:?}, name={:?})", self.0.url, self.0.name)
    }
}

#[starlark_value(type = "link")]
impl<'v> StarlarkValue<'v> for LinkValue {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        match attribute {
            "url" => Some(heap.alloc(self.0.url.as_str())),
            "name" => Some(heap.alloc(self.0.name.as_str())),
            _ => None,
        }
    }

    fn dir_attr(&self) -> Vec<String> {
        vec!["name".to_string(), "url".to_string()]
    }
}

/// `probe(...)`.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct ProbeValue(#[allocative(skip)] pub(crate) Probe);
starlark_simple_value!(ProbeValue);

impl fmt::Display for ProbeValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "probe(period_secs={}, ...)", self.0.period_secs)
    }
}

#[starlark_value(type = "probe")]
#[expect(clippy::elidable_lifetime_names, reason = "the starlark_value macro needs a named lifetime")]
impl<'v> StarlarkValue<'v> for ProbeValue {}

/// `exec_action` / `http_get_action` / `tcp_socket_action`.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct ActionValue(#[allocative(skip)] pub(crate) ProbeAction);
starlark_simple_value!(ActionValue);

impl fmt::Display for ActionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ProbeAction::Exec { command } => write!(f, "exec_action(command={command:?})"),
            ProbeAction::HttpGet { host, port, scheme, path } => {
                write!(f, "http_get_action(port={port}, host={host:?}, scheme={scheme:?}, path={path:?})")
            }
            ProbeAction::TcpSocket { host, port } => {
                write!(f, "tcp_socket_action(port={port}, host={host:?})")
            }
        }
    }
}

#[starlark_value(type = "probe_action")]
#[expect(clippy::elidable_lifetime_names, reason = "the starlark_value macro needs a named lifetime")]
impl<'v> StarlarkValue<'v> for ActionValue {}

/// Dynamic attribute lookup of a namespace (`config.main_path`…).
pub(crate) type DynAttr = for<'v> fn(&str, Heap<'v>) -> Option<Value<'v>>;

/// A dotted namespace such as `os`, `os.path` or `config` (Go: a starkit module).
#[derive(ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct Namespace {
    pub(crate) name: &'static str,
    pub(crate) members: Vec<(&'static str, FrozenValue)>,
    /// Attributes computed per evaluation, with their names for `dir()`.
    #[allocative(skip)]
    pub(crate) dynamic: Option<(&'static [&'static str], DynAttr)>,
}
starlark_simple_value!(Namespace);

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Namespace({})", self.name)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<module {}>", self.name)
    }
}

#[starlark_value(type = "module")]
impl<'v> StarlarkValue<'v> for Namespace {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        if let Some((_, v)) = self.members.iter().find(|(n, _)| *n == attribute) {
            return Some(v.to_value());
        }
        self.dynamic.and_then(|(names, f)| if names.contains(&attribute) { f(attribute, heap) } else { None })
    }

    fn dir_attr(&self) -> Vec<String> {
        let mut out: Vec<String> = self.members.iter().map(|(n, _)| (*n).to_string()).collect();
        if let Some((names, _)) = self.dynamic {
            out.extend(names.iter().map(|n| (*n).to_string()));
        }
        out.sort();
        out
    }
}
