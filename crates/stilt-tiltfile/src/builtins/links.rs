//! UI links and readiness probes: `link`, `probe`, `exec_action`, `http_get_action`,
//! `tcp_socket_action`.

use super::add;
use crate::args::Args;
use crate::errors::BResult;
use crate::values::{ActionValue, LinkValue, ProbeValue};
use starlark::environment::GlobalsBuilder;
use starlark::eval::{Arguments, Evaluator};
use starlark::values::{Value, ValueLike};
use stilt_core::{Link, Probe, ProbeAction};

pub(crate) fn register(b: &mut GlobalsBuilder) {
    add(b, "link", link);
    add(b, "probe", probe);
    add(b, "exec_action", exec_action);
    add(b, "http_get_action", http_get_action);
    add(b, "tcp_socket_action", tcp_socket_action);
}

/// A link from a URL: scheme-less URLs get `http://`.
pub(crate) fn parse_link(url: &str, name: &str) -> Result<Link, String> {
    if url.is_empty() {
        return Err("url empty".to_string());
    }
    let url = if url.contains("://") { url.to_string() } else { format!("http://{url}") };
    if url.contains(char::is_whitespace) {
        return Err(format!("parsing {url:?}: invalid character in URL"));
    }
    Ok(Link { url, name: name.to_string() })
}

fn link<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["url", "name?"], args, eval.heap())?;
    let l = parse_link(&a.req_str(0)?, &a.str_or(1, "")?)?;
    Ok(eval.heap().alloc(LinkValue(l)))
}

const PROBE_PARAMS: &[&str] = &[
    "initial_delay_secs?",
    "timeout_secs?",
    "period_secs?",
    "success_threshold?",
    "failure_threshold?",
    "exec?",
    "http_get?",
    "tcp_socket?",
];

fn probe<'v>(name: &'static str, args: &Arguments<'v, '_>, eval: &mut Evaluator<'v, '_, '_>) -> BResult<Value<'v>> {
    let a = Args::unpack(name, PROBE_PARAMS, args, eval.heap())?;
    let int = |i: usize, d: i32| a.int(i).map(|v| v.unwrap_or(d));
    let mut actions = Vec::new();
    for (i, want) in [(5, "exec_action"), (6, "http_get_action"), (7, "tcp_socket_action")] {
        if let Some(v) = a.get(i).filter(|v| !v.is_none()) {
            let act = v.downcast_ref::<ActionValue>().ok_or_else(|| a.type_err(i, want))?;
            actions.push(act.0.clone());
        }
    }
    if actions.len() != 1 {
        return Err("exactly one of exec, http_get, or tcp_socket must be specified".into());
    }
    let p = Probe {
        initial_delay_secs: int(0, 0)?,
        timeout_secs: int(1, 1)?,
        period_secs: int(2, 10)?,
        success_threshold: int(3, 1)?,
        failure_threshold: int(4, 3)?,
        action: actions.remove(0),
    };
    Ok(eval.heap().alloc(ProbeValue(p)))
}

fn exec_action<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["command"], args, eval.heap())?;
    let command = a.str_list(0)?;
    Ok(eval.heap().alloc(ActionValue(ProbeAction::Exec { command })))
}

fn http_get_action<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["port", "host?", "scheme?", "path?"], args, eval.heap())?;
    let port = a.int(0)?.unwrap_or(0);
    let action = ProbeAction::HttpGet {
        host: a.str_or(1, "localhost")?,
        port,
        scheme: a.str_or(2, "http")?,
        path: a.str_or(3, "")?,
    };
    Ok(eval.heap().alloc(ActionValue(action)))
}

fn tcp_socket_action<'v>(
    name: &'static str,
    args: &Arguments<'v, '_>,
    eval: &mut Evaluator<'v, '_, '_>,
) -> BResult<Value<'v>> {
    let a = Args::unpack(name, &["port", "host?"], args, eval.heap())?;
    let port = a.int(0)?.unwrap_or(0);
    let action = ProbeAction::TcpSocket { host: a.str_or(1, "localhost")?, port };
    Ok(eval.heap().alloc(ActionValue(action)))
}
