//! Tilt's builtins, one area per file, and the [`Globals`] they form.
//!
//! Every builtin is a [`TiltBuiltin`]: a name (dotted for namespace members, as Tilt names
//! them in errors, e.g. `config.parse`) and a plain function. The function unpacks its own
//! arguments with [`Args`](crate::args::Args) (Go's rules and texts) and reaches the
//! evaluation through [`Ctx::get`](crate::context::Ctx::get). A failure becomes
//! `Error in <name>: <message>`.
//!
//! To add an area: create a file with a `register(&mut GlobalsBuilder)` function and call it
//! from [`globals`]. To implement a builtin listed in [`unsupported`], remove it there.

#![expect(
    unsafe_code,
    reason = "starlark's ProvidesStaticType derive emits an unsafe impl; this module has no hand-written unsafe"
)]

use crate::errors::BResult;
use crate::values::{DynAttr, Namespace};
use allocative::Allocative;
use starlark::environment::{Globals, GlobalsBuilder, LibraryExtension};
use starlark::eval::{Arguments, Evaluator};
use starlark::starlark_simple_value;
use starlark::values::{FrozenValue, NoSerialize, ProvidesStaticType, StarlarkValue, Value, starlark_value};
use std::fmt;
use std::sync::OnceLock;

pub(crate) mod compose;
pub(crate) mod config;
pub(crate) mod data;
pub(crate) mod docker;
pub(crate) mod environ;
pub(crate) mod flow;
pub(crate) mod k8s;
pub(crate) mod links;
pub(crate) mod local;
pub(crate) mod local_resource;
pub(crate) mod os;
pub(crate) mod render;
pub(crate) mod settings;
pub(crate) mod unsupported;
pub(crate) mod v1alpha1;

/// The function behind a builtin.
pub(crate) type Handler =
    for<'v> fn(&'static str, &Arguments<'v, '_>, &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>>;

/// A Tilt builtin function value (`type()` is `builtin_function_or_method`, as in Go).
#[derive(ProvidesStaticType, NoSerialize, Allocative)]
pub(crate) struct TiltBuiltin {
    name: &'static str,
    #[allocative(skip)]
    handler: Handler,
}
starlark_simple_value!(TiltBuiltin);

impl fmt::Debug for TiltBuiltin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TiltBuiltin({})", self.name)
    }
}

impl fmt::Display for TiltBuiltin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<built-in function {}>", self.name)
    }
}

#[starlark_value(type = "builtin_function_or_method")]
impl<'v> StarlarkValue<'v> for TiltBuiltin {
    fn invoke(
        &self,
        _me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        (self.handler)(self.name, args, eval).map_err(|f| f.into_starlark(self.name))
    }
}

/// Registers builtin `name` at the top level.
pub(crate) fn add(b: &mut GlobalsBuilder, name: &'static str, handler: Handler) {
    b.set(name, TiltBuiltin { name, handler });
}

/// Builds a namespace value member by member.
pub(crate) struct Ns<'a> {
    b: &'a GlobalsBuilder,
    name: &'static str,
    members: Vec<(&'static str, FrozenValue)>,
}

impl<'a> Ns<'a> {
    pub(crate) fn new(b: &'a GlobalsBuilder, name: &'static str) -> Self {
        Ns { b, name, members: Vec::new() }
    }

    /// Adds builtin `full_name` (e.g. `os.path.join`) under its last component.
    pub(crate) fn func(&mut self, full_name: &'static str, handler: Handler) -> &mut Self {
        let short = full_name.rsplit('.').next().unwrap_or(full_name);
        self.members.push((short, self.b.alloc(TiltBuiltin { name: full_name, handler })));
        self
    }

    /// Adds a constant member.
    pub(crate) fn value(&mut self, name: &'static str, v: FrozenValue) -> &mut Self {
        self.members.push((name, v));
        self
    }

    /// The namespace value, with optional per-evaluation attributes.
    pub(crate) fn build(self, dynamic: Option<(&'static [&'static str], DynAttr)>) -> FrozenValue {
        self.b.alloc(Namespace { name: self.name, members: self.members, dynamic })
    }
}

/// The globals every Tiltfile sees; built once per process.
pub(crate) fn globals() -> &'static Globals {
    static GLOBALS: OnceLock<Globals> = OnceLock::new();
    GLOBALS.get_or_init(|| {
        let mut b = GlobalsBuilder::extended_by(&[
            LibraryExtension::StructType,
            LibraryExtension::SetType,
            LibraryExtension::Print,
        ]);
        unsupported::register(&mut b);
        docker::register(&mut b);
        k8s::register(&mut b);
        compose::register(&mut b);
        render::register(&mut b);
        v1alpha1::register(&mut b);
        flow::register(&mut b);
        b.set(crate::values::FOREVER, crate::values::Forever);
        local::register(&mut b);
        local_resource::register(&mut b);
        data::register(&mut b);
        os::register(&mut b);
        config::register(&mut b);
        settings::register(&mut b);
        links::register(&mut b);
        b.build()
    })
}
