//! Global settings: `update_settings`, `ci_settings`, `version_settings`, `secret_settings`,
//! `analytics_settings`, `watch_settings`, `docker_prune_settings`, `trigger_mode`,
//! `TRIGGER_MODE_*`, `enable_feature`, `disable_feature`, `disable_snapshots`, `set_team`,
//! `experimental_*`.

use super::add;
use crate::LogLevel;
use crate::args::Args;
use crate::context::Ctx;
use crate::errors::BResult;
use crate::go_compat::parse_duration;
use crate::values::TriggerModeValue;
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::{Value, ValueLike};
use stilt_core::TriggerMode;

/// The Tilt version stilt claims compatibility with (for `version_settings(constraint=)`).
pub(crate) const TILT_VERSION: &str = "0.37.6";

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "update_settings", update_settings);
    add(b, "ci_settings", ci_settings);
    add(b, "version_settings", version_settings);
    add(b, "secret_settings", secret_settings);
    add(b, "analytics_settings", analytics_settings);
    add(b, "watch_settings", watch_settings);
    add(b, "docker_prune_settings", docker_prune_settings);
    add(b, "trigger_mode", trigger_mode);
    add(b, "enable_feature", enable_feature);
    add(b, "disable_feature", disable_feature);
    add(b, "disable_snapshots", disable_snapshots);
    add(b, "set_team", set_team);
    add(b, "experimental_analytics_report", experimental_analytics_report);
    add(b, "experimental_telemetry_cmd", experimental_telemetry_cmd);
    add(b, "experimental_metrics_settings", experimental_metrics_settings);
    b.set("TRIGGER_MODE_AUTO", TriggerModeValue(TriggerMode::Auto));
    b.set("TRIGGER_MODE_MANUAL", TriggerModeValue(TriggerMode::Manual));
}

type R<'v> = BResult<Value<'v>>;

fn update_settings<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let params = &[
        "max_parallel_updates?",
        "k8s_upsert_timeout_secs?",
        "suppress_unused_image_warnings?",
        "k8s_server_side_apply?",
    ];
    let a = Args::unpack(name, params, args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let mpu = a.int(0)?;
    let timeout = a.int(1)?;
    let suppress = match a.get(2) {
        None => None,
        Some(_) => Some(a.str_or_list(2)?),
    };
    let ssa = match a.get(3).filter(|v| !v.is_none()) {
        None => None,
        Some(v) => Some(match (v.unpack_bool(), v.unpack_str()) {
            (Some(b), _) => b.to_string(),
            (None, Some(s)) if ["true", "false", "auto"].contains(&s.to_ascii_lowercase().as_str()) => {
                s.to_ascii_lowercase()
            }
            _ => {
                return Err(format!("k8s_server_side_apply must be one of: true, false, auto (got {v})").into());
            }
        }),
    };
    if let Some(n) = mpu
        && n < 1
    {
        return Err(format!("max number of parallel updates must be >= 1(got: {n})").into());
    }
    if let Some(n) = timeout
        && n < 1
    {
        return Err(format!("minimum k8s upsert timeout is 1s; got {n}s").into());
    }
    let mut st = ctx.state.borrow_mut();
    let us = &mut st.update_settings;
    if let Some(n) = mpu {
        us.max_parallel_updates = n.unsigned_abs();
    }
    if let Some(n) = timeout {
        us.k8s_upsert_timeout_secs = n.unsigned_abs();
    }
    if let Some(s) = suppress {
        us.suppress_unused_image_warnings = s;
    }
    if let Some(s) = ssa {
        us.k8s_server_side_apply = s;
    }
    Ok(Value::new_none())
}

fn ci_settings<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["k8s_grace_period?", "timeout?", "readiness_timeout?"], args, eval.heap())?;
    let mut parsed = [None, None, None];
    for (i, slot) in parsed.iter_mut().enumerate() {
        if let Some(v) = a.get(i) {
            let s = v.unpack_str().ok_or_else(|| a.err(i, &format!("Expected string. Got: {}", v.get_type())))?;
            *slot = Some(parse_duration(s).map_err(|e| a.err(i, &e))?);
        }
    }
    let ctx = Ctx::get(eval);
    let mut st = ctx.state.borrow_mut();
    let [grace, timeout, readiness] = parsed;
    let ci = &mut st.ci_settings;
    if grace.is_some() {
        ci.k8s_grace_period = grace;
    }
    if timeout.is_some() {
        ci.timeout = timeout;
    }
    if readiness.is_some() {
        ci.readiness_timeout = readiness;
    }
    Ok(Value::new_none())
}

fn version_settings<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["check_updates?", "constraint?"], args, eval.heap())?;
    let ctx = Ctx::get(eval);
    let check = a.bool_or(0, ctx.state.borrow().version_settings.check_updates)?;
    let constraint = a.str_or(1, "")?;
    {
        let mut st = ctx.state.borrow_mut();
        st.version_settings.check_updates = check;
        if !constraint.is_empty() {
            st.version_settings.constraint.clone_from(&constraint);
        }
    }
    if !constraint.is_empty() {
        let ok = semver_range_matches(&constraint, TILT_VERSION)
            .map_err(|e| format!("error parsing version constraint: {e}"))?;
        if !ok {
            return Err(format!(
                "you are running Tilt version {TILT_VERSION}, which doesn't match the version constraint specified in your Tiltfile: '{constraint}'"
            )
            .into());
        }
    }
    Ok(Value::new_none())
}

fn secret_settings<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["disable_scrub"], args, eval.heap())?;
    let v = a.bool_or(0, false)?;
    Ctx::get(eval).state.borrow_mut().disable_secret_scrub = v;
    Ok(Value::new_none())
}

fn analytics_settings<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["enable"], args, eval.heap())?;
    let v = a.bool_or(0, false)?;
    Ctx::get(eval).state.borrow_mut().analytics_enabled = Some(v);
    Ok(Value::new_none())
}

fn watch_settings<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["ignore?"], args, eval.heap())?;
    let ignore = a.str_or_list(0)?;
    Ctx::get(eval).state.borrow_mut().cluster.watch_ignores.extend(ignore);
    Ok(Value::new_none())
}

fn docker_prune_settings<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let params = &["disable?", "max_age_mins?", "num_builds?", "interval_hrs?", "keep_recent?"];
    let a = Args::unpack(name, params, args, eval.heap())?;
    let settings = stilt_core::manifest::DockerPruneSettings {
        disable: a.bool_or(0, false)?,
        max_age_mins: a.int(1)?.unwrap_or(360),
        num_builds: a.int(2)?.unwrap_or(0),
        interval_hrs: a.int(3)?.unwrap_or(1),
        keep_recent: a.int(4)?.unwrap_or(2),
    };
    Ctx::get(eval).state.borrow_mut().cluster.docker_prune = Some(settings);
    Ok(Value::new_none())
}

fn trigger_mode<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["trigger_mode"], args, eval.heap())?;
    let Some(mode) = a.get(0).and_then(ValueLike::downcast_ref::<TriggerModeValue>).map(|m| m.0) else {
        return Err(a.type_err(0, "TriggerMode"));
    };
    let ctx = Ctx::get(eval);
    let here = ctx.call_site(eval);
    let mut st = ctx.state.borrow_mut();
    if let Some((_, at)) = &st.trigger_mode {
        let at = at.as_ref().map_or_else(String::new, ToString::to_string);
        return Err(format!("{name} can only be called once. It was already called at {at}").into());
    }
    st.trigger_mode = Some((mode, here));
    Ok(Value::new_none())
}

fn set_feature<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>, on: bool) -> R<'v> {
    let a = Args::unpack(name, &["msg"], args, eval.heap())?;
    let flag = a.req_str(0)?;
    Ctx::get(eval).state.borrow_mut().features.insert(flag, on);
    Ok(Value::new_none())
}

fn enable_feature<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    set_feature(name, args, eval, true)
}

fn disable_feature<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    set_feature(name, args, eval, false)
}

fn disable_snapshots<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    Args::unpack(name, &[], args, eval.heap())?;
    Ctx::get(eval).state.borrow_mut().features.insert("snapshots".to_string(), false);
    Ok(Value::new_none())
}

fn set_team<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> R<'v> {
    let a = Args::unpack(name, &["team_id"], args, eval.heap())?;
    let id = a.req_str(0)?;
    if id.is_empty() {
        return Err("team_id cannot be empty".into());
    }
    let ctx = Ctx::get(eval);
    let mut st = ctx.state.borrow_mut();
    if let Some(old) = &st.team_id {
        return Err(format!("team_id set multiple times (to '{old}' and '{id}')").into());
    }
    st.team_id = Some(id);
    Ok(Value::new_none())
}

fn experimental_analytics_report<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> R<'v> {
    let a = Args::unpack(name, &["tags"], args, eval.heap())?;
    a.str_map(0)?;
    Ok(Value::new_none())
}

fn experimental_telemetry_cmd<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> R<'v> {
    Args::unpack(name, &["cmd", "cmd_bat?", "period?", "dir?"], args, eval.heap())?;
    Ok(Value::new_none())
}

#[expect(clippy::unnecessary_wraps, reason = "a builtin handler returns a Result")]
fn experimental_metrics_settings<'v>(
    name: &'static str,
    _args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> R<'v> {
    Ctx::get(eval).log(LogLevel::Warn, &format!("{name}() is deprecated and has no effect"));
    Ok(Value::new_none())
}

/// blang/semver-style range check: comparators separated by spaces (AND) and `||` (OR);
/// operators `>`, `>=`, `<`, `<=`, `=`, `==`, `!=`, `!`; missing components count as 0.
pub(crate) fn semver_range_matches(range: &str, version: &str) -> Result<bool, String> {
    let v = parse_version(version)?;
    let mut any = false;
    for alt in range.split("||") {
        let mut all = true;
        let comparators: Vec<&str> = alt.split_whitespace().collect();
        if comparators.is_empty() {
            return Err(format!("Could not get version from string: {:?}", alt.trim()));
        }
        for c in comparators {
            let (op, rest) = split_op(c);
            let want = parse_version(rest)?;
            let ok = match op {
                ">" => v > want,
                ">=" => v >= want,
                "<" => v < want,
                "<=" => v <= want,
                "!=" | "!" => v != want,
                _ => v == want,
            };
            all &= ok;
        }
        any |= all;
    }
    Ok(any)
}

fn split_op(c: &str) -> (&str, &str) {
    for op in [">=", "<=", "==", "!=", ">", "<", "=", "!"] {
        if let Some(rest) = c.strip_prefix(op) {
            return (op, rest);
        }
    }
    ("", c)
}

fn parse_version(s: &str) -> Result<(u64, u64, u64), String> {
    let core = s.trim_start_matches('v').split(['-', '+']).next().unwrap_or("");
    let mut parts = core.split('.');
    let num = |p: Option<&str>| -> Result<u64, String> {
        match p {
            None | Some("x" | "X" | "*") => Ok(0),
            Some(p) => p.parse().map_err(|_| format!("Could not get version from string: {s:?}")),
        }
    };
    let major = num(parts.next())?;
    Ok((major, num(parts.next())?, num(parts.next())?))
}

#[cfg(test)]
mod tests {
    use super::semver_range_matches as m;

    #[test]
    fn ranges() {
        assert!(m(">=0.17.0", "0.37.6").unwrap());
        assert!(m(">=0.30.0 <0.40.0", "0.37.6").unwrap());
        assert!(!m(">=0.38.0", "0.37.6").unwrap());
        assert!(m("<0.1.0 || >=0.37.6", "0.37.6").unwrap());
        assert!(m("abc", "0.37.6").is_err());
    }
}
