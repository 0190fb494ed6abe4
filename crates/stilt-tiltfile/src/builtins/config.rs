//! `config.*`: Tiltfile settings from `tilt_config.json` and `tilt ci -- <args>`, and the
//! enabled-resource overrides.
//!
//! `config.parse()` follows Go's `flag` package (`--name value`, `--name=value`, `-name`,
//! bool flags without a value, parsing stops at the first non-flag or `--`), then collects
//! the remaining args into the `args=True` setting. Values from the command line win over
//! the JSON file. Only settings that were actually set appear in the returned dict.

use super::Ns;
use crate::LogLevel;
use crate::args::Args;
use crate::context::Ctx;
use crate::errors::BResult;
use crate::state::{ConfigDef, ConfigKind, EnabledOverride};
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::dict::AllocDict;
use starlark::values::list::AllocList;
use starlark::values::{Heap, Value};
use std::collections::BTreeMap;

pub(crate) fn register(b: &mut GlobalsBuilder) {
    let mut ns = Ns::new(b, "config");
    ns.func("config.define_string", define_string)
        .func("config.define_string_list", define_string_list)
        .func("config.define_bool", define_bool)
        .func("config.define_object", define_object)
        .func("config.parse", parse)
        .func("config.set_enabled_resources", set_enabled_resources)
        .func("config.clear_enabled_resources", clear_enabled_resources);
    let v = ns.build(Some((&["main_path", "main_dir", "tilt_subcommand"], config_attr)));
    b.set("config", v);
}

type R<'v> = BResult<Value<'v>>;

fn config_attr<'v>(attr: &str, heap: Heap<'v>) -> Option<Value<'v>> {
    Ctx::with_current(|ctx| {
        let s = match attr {
            "main_path" => ctx.main_path.to_string_lossy().into_owned(),
            "main_dir" => ctx.main_path.parent().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
            "tilt_subcommand" => ctx.subcommand.clone(),
            _ => return None,
        };
        Some(heap.alloc(s))
    })
    .flatten()
}

fn define<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
    kind: ConfigKind,
) -> R<'v> {
    let a = Args::unpack(name, &["name", "args?", "usage?"], args, eval.heap())?;
    let setting = a.req_str(0)?;
    let is_args = a.bool_or(1, false)?;
    let usage = a.str_or(2, "")?;
    if setting.is_empty() {
        return Err("'name' is required".into());
    }
    let ctx = Ctx::get(eval);
    let mut st = ctx.state.borrow_mut();
    let cfg = &mut st.config;
    if cfg.parse_dir.is_some() {
        return Err(format!("{name} cannot be called after config.parse is called").into());
    }
    if cfg.defs.contains_key(&setting) {
        return Err(format!("{setting} defined multiple times").into());
    }
    if is_args {
        if let Some(other) = &cfg.positional {
            return Err(format!("both {setting} and {other} are defined as positional args").into());
        }
        cfg.positional = Some(setting.clone());
    }
    cfg.defs.insert(setting, ConfigDef { kind, usage });
    Ok(Value::new_none())
}

fn define_string<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    define(name, args, eval, ConfigKind::String)
}

fn define_string_list<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    define(name, args, eval, ConfigKind::StringList)
}

fn define_bool<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    define(name, args, eval, ConfigKind::Bool)
}

fn define_object<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    define(name, args, eval, ConfigKind::Object)
}

/// A parsed setting value.
#[derive(Debug, Clone)]
enum SettingValue {
    Str(String),
    List(Vec<String>),
    Bool(bool),
    Object(serde_json::Value),
}

impl SettingValue {
    fn empty(kind: ConfigKind) -> Self {
        match kind {
            ConfigKind::String => SettingValue::Str(String::new()),
            ConfigKind::StringList => SettingValue::List(Vec::new()),
            ConfigKind::Bool => SettingValue::Bool(false),
            ConfigKind::Object => SettingValue::Object(serde_json::Value::Object(serde_json::Map::new())),
        }
    }

    /// Go `flag.Value.Set` for one command-line occurrence.
    fn set(&mut self, text: &str, already_set: bool) -> Result<(), String> {
        match self {
            SettingValue::Str(s) => {
                if already_set {
                    return Err("string settings can only be specified once".to_string());
                }
                *s = text.to_string();
            }
            SettingValue::List(l) => l.push(text.to_string()),
            SettingValue::Bool(b) => {
                *b = parse_go_bool(text).ok_or_else(|| "parse error".to_string())?;
            }
            SettingValue::Object(o) => {
                let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
                if !v.is_object() {
                    return Err(format!("expected a JSON object, got {text}"));
                }
                *o = v;
            }
        }
        Ok(())
    }

    fn from_json(kind: ConfigKind, v: &serde_json::Value) -> Result<Self, String> {
        match (kind, v) {
            (ConfigKind::String, serde_json::Value::String(s)) => Ok(SettingValue::Str(s.clone())),
            (ConfigKind::StringList, serde_json::Value::Array(items)) => items
                .iter()
                .map(|x| x.as_str().map(str::to_string).ok_or_else(|| format!("expected string, got {x}")))
                .collect::<Result<Vec<_>, _>>()
                .map(SettingValue::List),
            (ConfigKind::Bool, serde_json::Value::Bool(b)) => Ok(SettingValue::Bool(*b)),
            (ConfigKind::Object, serde_json::Value::Object(_)) => Ok(SettingValue::Object(v.clone())),
            (ConfigKind::String, _) => Err(format!("expected string, got {}", json_type(v))),
            (ConfigKind::StringList, _) => Err(format!("expected array, got {}", json_type(v))),
            (ConfigKind::Bool, _) => Err(format!("expected bool, got {}", json_type(v))),
            (ConfigKind::Object, _) => Err(format!("expected object, got {}", json_type(v))),
        }
    }

    fn to_starlark<'v>(&self, heap: Heap<'v>) -> Value<'v> {
        match self {
            SettingValue::Str(s) => heap.alloc(s.as_str()),
            SettingValue::List(l) => heap.alloc(AllocList(l.iter().map(String::as_str))),
            SettingValue::Bool(b) => Value::new_bool(*b),
            SettingValue::Object(o) => super::data::to_starlark(heap, o),
        }
    }
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn parse<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    Args::unpack(name, &[], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let wd = ctx.cwd();
    let (defs, positional) = {
        let mut st = ctx.state.borrow_mut();
        let cfg = &mut st.config;
        if let Some(seen) = &cfg.parse_dir
            && *seen != wd
        {
            return Err(format!(
                "{name} can only be called from one Tiltfile working directory per run. It was called from {} and {}",
                seen.display(),
                wd.display()
            )
            .into());
        }
        cfg.parse_dir = Some(wd.clone());
        (cfg.defs.clone(), cfg.positional.clone())
    };
    let config_path = wd.join("tilt_config.json");
    ctx.record_read(&config_path);
    let mut values: BTreeMap<String, SettingValue> = BTreeMap::new();
    match std::fs::read_to_string(&config_path) {
        Ok(text) => {
            let json: serde_json::Value = serde_json::from_str(&text)
                .map_err(|e| format!("error parsing json from {}: {e}", config_path.display()))?;
            let serde_json::Value::Object(map) = json else {
                return Err(format!("error parsing json from {}: expected a JSON object", config_path.display()).into());
            };
            for (k, v) in &map {
                let Some(def) = defs.get(k) else {
                    return Err(format!("{} specified unknown setting name '{k}'", config_path.display()).into());
                };
                let val = SettingValue::from_json(def.kind, v)
                    .map_err(|e| format!("{} specified invalid value for setting {k}: {e}", config_path.display()))?;
                values.insert(k.clone(), val);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("error opening {}: {e}", config_path.display()).into()),
    }
    let from_args = match parse_flags(&defs, positional.as_deref(), &ctx.args) {
        Ok(v) => v,
        Err(e) => {
            ctx.log(LogLevel::Info, &format!("{e}\n{}", usage(&defs, positional.as_deref())));
            return Err(e.into());
        }
    };
    values.extend(from_args);
    let heap = eval.heap();
    Ok(heap.alloc(AllocDict(values.iter().map(|(k, v)| (k.as_str(), v.to_starlark(heap))))))
}

/// Go `flag.FlagSet.Parse` plus positional collection. Returns only the settings set.
fn parse_flags(
    defs: &BTreeMap<String, ConfigDef>,
    positional: Option<&str>,
    args: &[String],
) -> Result<BTreeMap<String, SettingValue>, String> {
    let mut out: BTreeMap<String, SettingValue> = BTreeMap::new();
    let mut i = 0;
    while i < args.len() {
        let s = &args[i];
        if s.len() < 2 || !s.starts_with('-') {
            break;
        }
        i += 1;
        let mut body = &s[1..];
        if let Some(rest) = body.strip_prefix('-') {
            if rest.is_empty() {
                break; // "--" terminates the flags
            }
            body = rest;
        }
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(format!("bad flag syntax: {s}"));
        }
        let (name, value) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let def = match defs.get(name) {
            Some(d) if Some(name) != positional => d,
            _ if name == "help" || name == "h" => return Err("flag: help requested".to_string()),
            _ => return Err(format!("flag provided but not defined: -{name}")),
        };
        let already = out.contains_key(name);
        let slot = out.entry(name.to_string()).or_insert_with(|| SettingValue::empty(def.kind));
        if def.kind == ConfigKind::Bool {
            let v = value.unwrap_or("true");
            slot.set(v, already)
                .map_err(|e| format!("invalid boolean value {} for -{name}: {e}", crate::go_compat::quote(v)))?;
            continue;
        }
        let v = match value {
            Some(v) => v.to_string(),
            None if i < args.len() => {
                i += 1;
                args[i - 1].clone()
            }
            None => return Err(format!("flag needs an argument: -{name}")),
        };
        slot.set(&v, already)
            .map_err(|e| format!("invalid value {} for flag -{name}: {e}", crate::go_compat::quote(&v)))?;
    }
    let rest = &args[i..];
    if !rest.is_empty() {
        let Some(pos) = positional else {
            return Err("positional args were specified, but none were expected (no setting defined with args=True)"
                .to_string());
        };
        let kind = defs.get(pos).map_or(ConfigKind::StringList, |d| d.kind);
        let mut slot = SettingValue::empty(kind);
        for (n, a) in rest.iter().enumerate() {
            slot.set(a, n > 0).map_err(|e| format!("error setting positional arg {pos}: {e}"))?;
        }
        out.insert(pos.to_string(), slot);
    }
    Ok(out)
}

/// Go's flag usage text.
fn usage(defs: &BTreeMap<String, ConfigDef>, positional: Option<&str>) -> String {
    let mut out = String::from("Usage:");
    for (name, def) in defs {
        if Some(name.as_str()) == positional {
            continue;
        }
        let mut line = format!("  -{name}");
        if def.kind != ConfigKind::Bool {
            line.push_str(" value");
        }
        if line.len() <= 4 {
            line.push('\t');
        } else {
            line.push_str("\n    \t");
        }
        line.push_str(&def.usage.replace('\n', "\n    \t"));
        out.push('\n');
        out.push_str(&line);
    }
    out
}

fn set_enabled_resources<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["resources"], args, eval.heap())?;
    let list = a.str_or_list(0).map_err(|_| "resources must be a list of string")?;
    Ctx::get(eval).state.borrow_mut().config.enabled = EnabledOverride::Set(list);
    Ok(Value::new_none())
}

fn clear_enabled_resources<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> R<'v> {
    Args::unpack(name, &[], args, eval.heap())?;
    Ctx::get(eval).state.borrow_mut().config.enabled = EnabledOverride::Clear;
    Ok(Value::new_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defs() -> BTreeMap<String, ConfigDef> {
        let mut d = BTreeMap::new();
        for (n, k) in [("to-run", ConfigKind::StringList), ("debug", ConfigKind::Bool), ("env", ConfigKind::String)] {
            d.insert(n.to_string(), ConfigDef { kind: k, usage: String::new() });
        }
        d
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| (*x).to_string()).collect()
    }

    #[test]
    fn flags_like_go() {
        let out = parse_flags(&defs(), Some("to-run"), &s(&["--env=dev", "-debug", "a", "b"])).unwrap();
        assert!(matches!(&out["env"], SettingValue::Str(x) if x == "dev"));
        assert!(matches!(out["debug"], SettingValue::Bool(true)));
        assert!(matches!(&out["to-run"], SettingValue::List(l) if *l == s(&["a", "b"])));
        let out = parse_flags(&defs(), None, &s(&["--env", "prod"])).unwrap();
        assert!(matches!(&out["env"], SettingValue::Str(x) if x == "prod"));
        assert_eq!(parse_flags(&defs(), None, &s(&["--nope"])).unwrap_err(), "flag provided but not defined: -nope");
        assert_eq!(parse_flags(&defs(), None, &s(&["--env"])).unwrap_err(), "flag needs an argument: -env");
        assert_eq!(
            parse_flags(&defs(), None, &s(&["x"])).unwrap_err(),
            "positional args were specified, but none were expected (no setting defined with args=True)"
        );
        assert_eq!(
            parse_flags(&defs(), None, &s(&["--debug=maybe"])).unwrap_err(),
            "invalid boolean value \"maybe\" for -debug: parse error"
        );
    }
}
