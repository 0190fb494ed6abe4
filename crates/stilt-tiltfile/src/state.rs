//! What a Tiltfile declared while it ran, before it is turned into a
//! [`TiltfileResult`](stilt_core::TiltfileResult).

use std::collections::BTreeMap;
use std::path::PathBuf;
use stilt_core::manifest::VersionSettings;
use stilt_core::{CiSettings, Manifest, SourceLocation, TriggerMode, UpdateSettings};

/// The model collected by the builtins. Plain data; ordered containers only.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The evaluator-owned environment (`os.putenv`, `os.environ`), seen by `local()`.
    pub(crate) env: BTreeMap<String, String>,
    /// Declared resources, in declaration order, with their own trigger mode if they set one.
    pub(crate) resources: Vec<DeclaredResource>,
    /// `trigger_mode(...)`: the default for resources that set none, and where it was set.
    pub(crate) trigger_mode: Option<(TriggerMode, Option<SourceLocation>)>,
    pub(crate) ci_settings: CiSettings,
    pub(crate) update_settings: UpdateSettings,
    pub(crate) disable_secret_scrub: bool,
    pub(crate) version_settings: VersionSettings,
    pub(crate) features: BTreeMap<String, bool>,
    pub(crate) analytics_enabled: Option<bool>,
    pub(crate) team_id: Option<String>,
    /// Files executed or read, in first-seen order.
    pub(crate) watched_paths: Vec<PathBuf>,
    pub(crate) config: ConfigState,
}

/// A resource plus the parts resolved only after the Tiltfile finished.
#[derive(Debug)]
pub(crate) struct DeclaredResource {
    /// The manifest; its `trigger_mode` is replaced by the resolved one at the end.
    pub(crate) manifest: Manifest,
    /// `trigger_mode=` if given.
    pub(crate) trigger_mode: Option<TriggerMode>,
}

/// `config.*` state.
#[derive(Debug, Default)]
pub(crate) struct ConfigState {
    /// Settings by name.
    pub(crate) defs: BTreeMap<String, ConfigDef>,
    /// The setting that collects positional args (`args=True`).
    pub(crate) positional: Option<String>,
    /// Directory `config.parse()` was called from.
    pub(crate) parse_dir: Option<PathBuf>,
    /// `config.set_enabled_resources` / `config.clear_enabled_resources`.
    pub(crate) enabled: EnabledOverride,
}

/// One `config.define_*` setting.
#[derive(Debug, Clone)]
pub(crate) struct ConfigDef {
    pub(crate) kind: ConfigKind,
    pub(crate) usage: String,
}

/// The type of a config setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConfigKind {
    String,
    StringList,
    Bool,
    Object,
}

/// What `config.set_enabled_resources` / `clear_enabled_resources` asked for.
#[derive(Debug, Default, Clone)]
pub(crate) enum EnabledOverride {
    /// Neither was called.
    #[default]
    Unset,
    /// `set_enabled_resources(list)` (empty = all).
    Set(Vec<String>),
    /// `clear_enabled_resources()`: none.
    Clear,
}
