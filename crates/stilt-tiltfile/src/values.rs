//! Starlark value types Tilt adds: blobs, trigger modes, links, probes and namespaces.

#![expect(
    unsafe_code,
    reason = "starlark's ProvidesStaticType derive emits an unsafe impl, and its iterator protocol (`Forever`) is made of `unsafe fn`s; none of them does anything unsafe"
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

/// The endless iterable a rewritten `while` loops over (`for _while_N in _stilt_forever:`),
/// so `while` is unbounded as in Tilt. Stateless: it is its own iterator and yields `None`
/// forever; a busy loop is stopped by the evaluator's cancel check.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct Forever;
starlark_simple_value!(Forever);

/// The global name of [`Forever`].
pub(crate) const FOREVER: &str = "_stilt_forever";

impl fmt::Display for Forever {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(FOREVER)
    }
}

#[starlark_value(type = "_stilt_forever")]
impl<'v> StarlarkValue<'v> for Forever {
    unsafe fn iterate(&self, me: Value<'v>, _heap: Heap<'v>) -> starlark::Result<Value<'v>> {
        Ok(me)
    }

    unsafe fn iter_next(&self, _index: usize, _heap: Heap<'v>) -> Option<Value<'v>> {
        Some(Value::new_none())
    }

    unsafe fn iter_stop(&self) {}
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

/// Defines one live-update step value type with Tilt's `type()` name.
macro_rules! step_type {
    ($ty:ident, $name:literal) => {
        #[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
        pub(crate) struct $ty(#[allocative(skip)] pub(crate) stilt_core::manifest::LiveUpdateStep);
        starlark_simple_value!($ty);

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", step_display(&self.0))
            }
        }

        #[starlark_value(type = $name)]
        impl<'v> StarlarkValue<'v> for $ty {
            fn equals(&self, other: Value<'v>) -> starlark::Result<bool> {
                Ok(other.downcast_ref::<$ty>().is_some_and(|o| o.0 == self.0))
            }
        }
    };
}

step_type!(SyncStepValue, "live_update_sync_step");
step_type!(RunStepValue, "live_update_run_step");
step_type!(FallBackOnStepValue, "live_update_fall_back_on_step");
step_type!(InitialSyncStepValue, "live_update_initial_sync_step");
step_type!(RestartContainerStepValue, "live_update_restart_container_step");

fn step_display(step: &stilt_core::manifest::LiveUpdateStep) -> String {
    use stilt_core::manifest::LiveUpdateStep as S;
    match step {
        S::Sync { local_path, remote_path } => format!("sync(\"{}\", \"{remote_path}\")", local_path.display()),
        S::Run { cmd, .. } => format!("run({cmd:?})"),
        S::FallBackOn { paths } => format!("fall_back_on({paths:?})"),
        S::InitialSync => "initial_sync()".to_string(),
        S::RestartContainer => "restart_container()".to_string(),
    }
}

/// Allocates the value of a live-update step.
pub(crate) fn alloc_step(heap: Heap<'_>, step: stilt_core::manifest::LiveUpdateStep) -> Value<'_> {
    use stilt_core::manifest::LiveUpdateStep as S;
    match step {
        s @ S::Sync { .. } => heap.alloc(SyncStepValue(s)),
        s @ S::Run { .. } => heap.alloc(RunStepValue(s)),
        s @ S::FallBackOn { .. } => heap.alloc(FallBackOnStepValue(s)),
        s @ S::InitialSync => heap.alloc(InitialSyncStepValue(s)),
        s @ S::RestartContainer => heap.alloc(RestartContainerStepValue(s)),
    }
}

/// The step held by a live-update step value.
pub(crate) fn step_of(v: Value<'_>) -> Option<stilt_core::manifest::LiveUpdateStep> {
    if let Some(s) = v.downcast_ref::<SyncStepValue>() {
        return Some(s.0.clone());
    }
    if let Some(s) = v.downcast_ref::<RunStepValue>() {
        return Some(s.0.clone());
    }
    if let Some(s) = v.downcast_ref::<FallBackOnStepValue>() {
        return Some(s.0.clone());
    }
    if let Some(s) = v.downcast_ref::<InitialSyncStepValue>() {
        return Some(s.0.clone());
    }
    v.downcast_ref::<RestartContainerStepValue>().map(|s| s.0.clone())
}

/// `port_forward(...)`.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct PortForwardValue(#[allocative(skip)] pub(crate) stilt_core::manifest::PortForward);
starlark_simple_value!(PortForwardValue);

impl fmt::Display for PortForwardValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "port_forward({}, {}, name={:?})", self.0.local_port, self.0.container_port, self.0.name)
    }
}

#[starlark_value(type = "port_forward")]
#[expect(clippy::elidable_lifetime_names, reason = "the starlark_value macro needs a named lifetime")]
impl<'v> StarlarkValue<'v> for PortForwardValue {}

/// A `v1alpha1.*` spec helper's value: a typed dict-like record (Tilt's `type()` is the spec
/// name, e.g. `v1alpha1.ui_text_input_spec`).
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct SpecValue {
    pub(crate) type_name: &'static str,
    #[allocative(skip)]
    pub(crate) json: serde_json::Value,
}
starlark_simple_value!(SpecValue);

impl fmt::Display for SpecValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.type_name, self.json)
    }
}

#[starlark_value(type = "v1alpha1_spec")]
impl<'v> StarlarkValue<'v> for SpecValue {
    fn get_attr(&self, attribute: &str, heap: Heap<'v>) -> Option<Value<'v>> {
        let key = crate::go_compat::snake_to_camel(attribute);
        self.json.get(&key).map(|v| crate::builtins::data::to_starlark(heap, v))
    }

    fn equals(&self, other: Value<'v>) -> starlark::Result<bool> {
        Ok(other.downcast_ref::<SpecValue>().is_some_and(|o| o.json == self.json && o.type_name == self.type_name))
    }
}

/// `local_git_repo(path)`: `.paths(p)` joins `p` onto the repo root.
#[derive(Debug, ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct GitRepoValue(pub(crate) String);
starlark_simple_value!(GitRepoValue);

impl fmt::Display for GitRepoValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "local_git_repo({:?})", self.0)
    }
}

#[starlark_value(type = "git_repo")]
#[expect(clippy::elidable_lifetime_names, reason = "the starlark_value macro needs a named lifetime")]
impl<'v> StarlarkValue<'v> for GitRepoValue {
    fn get_methods() -> Option<&'static starlark::environment::Methods> {
        starlark::methods_static!(RES = git_repo::git_repo_methods);
        Some(RES.methods())
    }
}

mod git_repo {
    #![allow(clippy::unnecessary_wraps, reason = "methods generated by starlark_module return a Result")]
    use super::GitRepoValue;
    use starlark::values::{Value, ValueLike};

    #[starlark::starlark_module]
    pub(super) fn git_repo_methods(builder: &mut starlark::environment::MethodsBuilder) {
        fn paths<'v>(this: Value<'v>, path: &str) -> anyhow::Result<String> {
            let root = this.downcast_ref::<GitRepoValue>().map(|r| r.0.clone()).unwrap_or_default();
            Ok(crate::go_compat::join(&[root.as_str(), path]))
        }
    }
}
