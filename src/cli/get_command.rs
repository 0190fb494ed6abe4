//! `stilt get session` and `stilt describe session`: read the Session from a running
//! `stilt ci` over its status API, or from a running Tilt through the `tilt-<port>` entry of
//! Tilt's client config (HTTPS with Tilt's CA and bearer token).

use super::args::{GetArgs, OutputFormat};
use super::describe::describe_text;
use crate::server::tilt_client_config::{self, Endpoint, TiltClientConfig, api_server_name};
use std::sync::Arc;
use std::time::Duration;
use stilt_core::ExitCode;
use stilt_core::session::sort_keys;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

/// Where to send the request: the `tilt-<port>` entry of Tilt's client config when there is one
/// (a real Tilt's API server is HTTPS on its own port, with a token; stilt's is the status port),
/// else the status port directly.
fn endpoint(args: &GetArgs) -> Endpoint {
    let local = matches!(args.host.as_str(), "localhost" | "127.0.0.1" | "");
    let registered = local
        .then(TiltClientConfig::from_env)
        .flatten()
        .and_then(|c| c.read().ok())
        .and_then(|doc| tilt_client_config::endpoint(&doc, &api_server_name(args.port)));
    registered.unwrap_or_else(|| {
        let host = if local { "127.0.0.1" } else { args.host.as_str() };
        Endpoint { server: format!("http://{host}:{}", args.port), token: None, ca_data: None }
    })
}

fn agent(ep: &Endpoint) -> Result<ureq::Agent, String> {
    let mut cfg =
        ureq::Agent::config_builder().http_status_as_error(false).timeout_global(Some(Duration::from_secs(10)));
    if let Some(ca) = &ep.ca_data {
        use base64::Engine;
        let pem = base64::engine::general_purpose::STANDARD
            .decode(ca.trim())
            .map_err(|e| format!("the certificate-authority-data of {} is not base64: {e}", ep.server))?;
        let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
            .filter_map(Result::ok)
            .filter_map(|item| match item {
                ureq::tls::PemItem::Certificate(c) => Some(c),
                _ => None,
            })
            .collect();
        cfg = cfg.tls_config(
            TlsConfig::builder().provider(TlsProvider::Rustls).root_certs(RootCerts::Specific(Arc::new(certs))).build(),
        );
    }
    Ok(cfg.build().into())
}

fn fetch(args: &GetArgs) -> Result<serde_json::Value, String> {
    let path = match &args.name {
        Some(name) => format!("/apis/tilt.dev/v1alpha1/sessions/{name}"),
        None => "/apis/tilt.dev/v1alpha1/sessions".to_string(),
    };
    let ep = endpoint(args);
    let url = format!("{}{path}", ep.server.trim_end_matches('/'));
    let mut req = agent(&ep)?.get(&url).header("Accept", "application/json");
    if let Some(t) = &ep.token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut resp = req.call().map_err(|e| {
        format!("failed to reach a running stilt at {url}: {e} (is `stilt ci` running with --port {}?)", args.port)
    })?;
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().map_err(|e| format!("failed to read the response from {url}: {e}"))?;
    let body: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("failed to parse the response from {url}: {e}"))?;
    if status != 200 {
        let msg = body.get("message").and_then(|m| m.as_str()).unwrap_or("unexpected response");
        return Err(format!(
            "Error from server ({}): {msg}",
            body.get("reason").and_then(|r| r.as_str()).unwrap_or("Unknown")
        ));
    }
    Ok(as_kubectl_list(body))
}

/// A `SessionList` as kubectl prints a list: `{"apiVersion": "v1", "kind": "List", …}`.
fn as_kubectl_list(body: serde_json::Value) -> serde_json::Value {
    if body.get("kind").and_then(|k| k.as_str()).is_some_and(|k| k.ends_with("List") && k != "List") {
        return sort_keys(serde_json::json!({
            "apiVersion": "v1",
            "kind": "List",
            "items": body.get("items").cloned().unwrap_or_else(|| serde_json::json!([])),
            "metadata": {"resourceVersion": ""},
        }));
    }
    body
}

/// JSON as YAML. Goes through a plain value type: starlark turns on serde_json's
/// `arbitrary_precision`, under which `serde_json::Number` serialises as a private map in any
/// non-JSON format.
pub fn to_yaml(v: &serde_json::Value) -> Result<String, serde_saphyr::ser::Error> {
    serde_saphyr::to_string(&Plain::from(v))
}

#[derive(serde::Serialize)]
#[serde(untagged)]
enum Plain {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Plain>),
    Map(std::collections::BTreeMap<String, Plain>),
}

impl From<&serde_json::Value> for Plain {
    fn from(v: &serde_json::Value) -> Self {
        use serde_json::Value;
        match v {
            Value::Null => Plain::Null,
            Value::Bool(b) => Plain::Bool(*b),
            Value::Number(n) => n
                .as_i64()
                .map(Plain::Int)
                .or_else(|| n.as_u64().map(Plain::UInt))
                .unwrap_or_else(|| Plain::Float(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => Plain::Str(s.clone()),
            Value::Array(a) => Plain::Seq(a.iter().map(Plain::from).collect()),
            Value::Object(m) => Plain::Map(m.iter().map(|(k, v)| (k.clone(), Plain::from(v))).collect()),
        }
    }
}

/// `stilt get session`.
pub fn get(args: &GetArgs) -> ExitCode {
    match fetch(args) {
        Ok(v) => {
            match args.output {
                // kubectl indents JSON with four spaces.
                OutputFormat::Json => {
                    let mut buf = Vec::new();
                    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
                    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
                    serde::Serialize::serialize(&v, &mut ser).expect("json");
                    buf.push(b'\n');
                    // A closed pipe (`| head`) is not an error worth a panic.
                    let _ = std::io::Write::write_all(&mut std::io::stdout(), &buf);
                }
                OutputFormat::Yaml => match to_yaml(&v) {
                    Ok(y) => {
                        let _ = std::io::Write::write_all(&mut std::io::stdout(), y.as_bytes());
                    }
                    Err(e) => {
                        eprintln!("Error: failed to render YAML: {e}");
                        return ExitCode::ENVIRONMENT;
                    }
                },
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::ENVIRONMENT
        }
    }
}

/// `stilt describe session`.
pub fn describe(args: &GetArgs) -> ExitCode {
    match fetch(args) {
        Ok(v) => {
            let items: Vec<serde_json::Value> = match v.get("items").and_then(|i| i.as_array()) {
                Some(items) => items.clone(),
                None => vec![v],
            };
            let texts: Vec<String> = items.iter().map(describe_text).collect();
            print!("{}", texts.join("\n\n"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::ENVIRONMENT
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn yaml_numbers_render_as_numbers() {
        let v = serde_json::json!({"status": {"pid": 4242, "done": false, "ratio": 1.5}, "kind": "Session"});
        let y = super::to_yaml(&v).unwrap();
        assert!(y.contains("pid: 4242"), "{y}");
        assert!(y.contains("ratio: 1.5"), "{y}");
        assert!(y.contains("kind: Session"), "{y}");
    }
}
