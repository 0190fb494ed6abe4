//! Published ports (`ports:`, short and long syntax, ranges expanded) and exposed-only ports
//! (`expose:`), normalised to what the Engine API's `PortBindings` / `ExposedPorts` want.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::error::ComposeError;
use super::keys;
use super::value::{describe, scalar};

const SHORT_SYNTAX: &str = "expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]";

/// One container port published on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortMapping {
    pub container_port: u16,
    /// `tcp`, `udp` or `sctp`.
    pub protocol: String,
    /// The host address to bind; `None` binds every address (`0.0.0.0`).
    pub host_ip: Option<String>,
    /// A port (`8080`) or a range (`8000-8010`) the daemon picks from; `None` for a random port.
    pub host_port: Option<String>,
}

impl PortMapping {
    /// The Engine API's key for the container side: `80/tcp`.
    pub fn container_key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol)
    }

    /// Reads one `ports:` entry; a range yields one mapping per port.
    pub(super) fn parse(service: &str, entry: &Value) -> Result<Vec<Self>, ComposeError> {
        let invalid = |reason: String| ComposeError::invalid(service, "ports", reason);
        match entry {
            Value::Number(_) | Value::String(_) => {
                let text = scalar(entry).map_err(invalid)?;
                parse_short(&text).map_err(|why| invalid(format!("invalid port {text:?}: {why}")))
            }
            Value::Object(map) => parse_long(service, map),
            other => Err(invalid(format!("expected a port mapping, got {}", describe(other)))),
        }
    }
}

/// `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`, ports possibly ranges, IPv6 in brackets.
fn parse_short(text: &str) -> Result<Vec<PortMapping>, String> {
    let (rest, protocol) = match text.rsplit_once('/') {
        Some((rest, protocol)) => (rest, protocol_name(protocol)?),
        None => (text, "tcp".to_string()),
    };
    let (host_ip, rest) = if let Some(bracketed) = rest.strip_prefix('[') {
        let (ip, after) = bracketed.split_once(']').ok_or(SHORT_SYNTAX)?;
        (Some(ip), after.strip_prefix(':').ok_or(SHORT_SYNTAX)?)
    } else {
        match rest.matches(':').count() {
            0 | 1 => (None, rest),
            2 => rest.split_once(':').map(|(ip, rest)| (Some(ip), rest)).ok_or(SHORT_SYNTAX)?,
            _ => return Err(format!("{SHORT_SYNTAX} (put an IPv6 host address in brackets)")),
        }
    };
    let (host, container) = match rest.split_once(':') {
        Some((host, container)) => (Some(host).filter(|h| !h.is_empty()), container),
        None => (None, rest),
    };
    mappings(host_ip, host, container, &protocol)
}

fn parse_long(service: &str, map: &Map<String, Value>) -> Result<Vec<PortMapping>, ComposeError> {
    keys::PORT.check(service, map)?;
    let read = |key: &str| -> Result<Option<String>, ComposeError> {
        map.get(key)
            .filter(|v| !v.is_null())
            .map(|v| scalar(v).map_err(|why| ComposeError::invalid(service, &format!("ports.{key}"), why)))
            .transpose()
    };
    let target =
        read("target")?.ok_or_else(|| ComposeError::invalid(service, "ports", "a long-syntax entry needs `target`"))?;
    let protocol = read("protocol")?
        .map(|p| protocol_name(&p))
        .transpose()
        .map_err(|why| ComposeError::invalid(service, "ports.protocol", why))?
        .unwrap_or_else(|| "tcp".into());
    match read("mode")?.as_deref() {
        None | Some("host" | "ingress") => {}
        Some(other) => {
            return Err(ComposeError::invalid(
                service,
                "ports.mode",
                format!("expected host or ingress, got {other:?}"),
            ));
        }
    }
    let host_ip = read("host_ip")?;
    let published = read("published")?;
    mappings(host_ip.as_deref(), published.as_deref().filter(|p| !p.is_empty()), &target, &protocol)
        .map_err(|why| ComposeError::invalid(service, "ports", why))
}

/// Pairs host and container ports (or ranges) into mappings.
fn mappings(
    host_ip: Option<&str>,
    host: Option<&str>,
    container: &str,
    protocol: &str,
) -> Result<Vec<PortMapping>, String> {
    if let Some(ip) = host_ip.filter(|ip| !ip.is_empty()) {
        ip.parse::<IpAddr>().map_err(|_| format!("invalid host IP {ip:?}"))?;
    }
    let host_ip = host_ip.filter(|ip| !ip.is_empty()).map(str::to_string);
    let (first, last) = port_range(container, false)?;
    let host = host.map(|h| port_range(h, true)).transpose()?;
    let mapping = |container_port: u16, host_port: Option<String>| PortMapping {
        container_port,
        protocol: protocol.to_string(),
        host_ip: host_ip.clone(),
        host_port,
    };
    Ok(match host {
        None => (first..=last).map(|p| mapping(p, None)).collect(),
        // One container port, a host range: the daemon picks a free port in the range.
        Some((h_first, h_last)) if first == last => {
            let host_port = if h_first == h_last { h_first.to_string() } else { format!("{h_first}-{h_last}") };
            vec![mapping(first, Some(host_port))]
        }
        Some((h_first, h_last)) if h_last - h_first == last - first => {
            (first..=last).zip(h_first..=h_last).map(|(c, h)| mapping(c, Some(h.to_string()))).collect()
        }
        Some(_) => return Err(format!("host range and container range {container:?} differ in length")),
    })
}

/// `8080` or `8000-8010`; a host port may be 0 (random).
fn port_range(text: &str, host: bool) -> Result<(u16, u16), String> {
    let port = |p: &str| -> Result<u16, String> {
        match p.trim().parse::<u16>() {
            Ok(0) if !host => Err("container port 0 is not a port".into()),
            Ok(n) => Ok(n),
            Err(_) => Err(format!("{p:?} is not a port number ({SHORT_SYNTAX})")),
        }
    };
    if let Some((a, b)) = text.split_once('-') {
        let (a, b) = (port(a)?, port(b)?);
        if a > b {
            return Err(format!("port range {text:?} ends before it starts"));
        }
        Ok((a, b))
    } else {
        let p = port(text)?;
        Ok((p, p))
    }
}

fn protocol_name(text: &str) -> Result<String, String> {
    let p = text.to_ascii_lowercase();
    match p.as_str() {
        "tcp" | "udp" | "sctp" => Ok(p),
        _ => Err(format!("unknown protocol {text:?} (expected tcp, udp or sctp)")),
    }
}

/// Reads one `expose:` entry (`3000`, `"3000-3005"`, `"53/udp"`) into `3000/tcp` keys.
pub(super) fn parse_expose(service: &str, entry: &Value) -> Result<Vec<String>, ComposeError> {
    let invalid = |why: String| ComposeError::invalid(service, "expose", why);
    let text = scalar(entry).map_err(invalid)?;
    let (ports, protocol) = match text.rsplit_once('/') {
        Some((ports, protocol)) => (ports, protocol_name(protocol).map_err(invalid)?),
        None => (text.as_str(), "tcp".to_string()),
    };
    let (first, last) = port_range(ports, false).map_err(|why| invalid(format!("invalid port {text:?}: {why}")))?;
    Ok((first..=last).map(|p| format!("{p}/{protocol}")).collect())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn m(container_port: u16, protocol: &str, host_ip: Option<&str>, host_port: Option<&str>) -> PortMapping {
        PortMapping {
            container_port,
            protocol: protocol.into(),
            host_ip: host_ip.map(Into::into),
            host_port: host_port.map(Into::into),
        }
    }

    fn parse(v: &Value) -> Result<Vec<PortMapping>, String> {
        PortMapping::parse("web", v).map_err(|e| e.to_string())
    }

    #[test]
    fn short_syntax() {
        assert_eq!(parse(&json!(8080)).unwrap(), [m(8080, "tcp", None, None)]);
        assert_eq!(parse(&json!("3000")).unwrap(), [m(3000, "tcp", None, None)]);
        assert_eq!(parse(&json!("3000:3000")).unwrap(), [m(3000, "tcp", None, Some("3000"))]);
        assert_eq!(parse(&json!("127.0.0.1:8080:80/tcp")).unwrap(), [m(80, "tcp", Some("127.0.0.1"), Some("8080"))]);
        assert_eq!(parse(&json!("127.0.0.1::80")).unwrap(), [m(80, "tcp", Some("127.0.0.1"), None)]);
        assert_eq!(parse(&json!("[::1]:8080:80")).unwrap(), [m(80, "tcp", Some("::1"), Some("8080"))]);
        assert_eq!(parse(&json!("53:53/UDP")).unwrap(), [m(53, "udp", None, Some("53"))]);
        assert_eq!(
            parse(&json!("9090-9091:8080-8081")).unwrap(),
            [m(8080, "tcp", None, Some("9090")), m(8081, "tcp", None, Some("9091"))]
        );
        assert_eq!(parse(&json!("8000-8010:80")).unwrap(), [m(80, "tcp", None, Some("8000-8010"))]);
        assert_eq!(parse(&json!("3000-3001")).unwrap(), [m(3000, "tcp", None, None), m(3001, "tcp", None, None)]);
    }

    #[test]
    fn long_syntax() {
        assert_eq!(
            parse(
                &json!({"target": 80, "published": "8080", "host_ip": "127.0.0.1", "protocol": "udp", "mode": "host"})
            )
            .unwrap(),
            [m(80, "udp", Some("127.0.0.1"), Some("8080"))]
        );
        assert_eq!(parse(&json!({"target": 80, "published": 8080})).unwrap(), [m(80, "tcp", None, Some("8080"))]);
        assert_eq!(
            parse(&json!({"target": 80, "name": "web", "app_protocol": "http"})).unwrap(),
            [m(80, "tcp", None, None)]
        );
        assert!(parse(&json!({"published": 80})).unwrap_err().contains("needs `target`"));
        assert!(
            parse(&json!({"target": 80, "publshed": 1})).unwrap_err().contains("did you mean \"ports.published\"?")
        );
    }

    #[test]
    fn malformed_ports_name_the_service_and_key() {
        assert_eq!(
            parse(&json!("abc")).unwrap_err(),
            "failed to read compose service \"web\": key \"ports\": invalid port \"abc\": \"abc\" is not a port number \
             (expected [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL])"
        );
        assert!(parse(&json!("70000")).is_err());
        assert!(parse(&json!("0")).is_err());
        assert!(parse(&json!("80/xtp")).unwrap_err().contains("unknown protocol"));
        assert!(parse(&json!("300.1.1.1:80:80")).unwrap_err().contains("invalid host IP"));
        assert!(parse(&json!("1-3:1-2")).unwrap_err().contains("differ in length"));
        assert!(parse(&json!("::1:80:80")).unwrap_err().contains("brackets"));
        assert!(parse(&json!([80])).is_err());
    }

    #[test]
    fn expose_entries() {
        assert_eq!(parse_expose("web", &json!(3000)).unwrap(), ["3000/tcp"]);
        assert_eq!(parse_expose("web", &json!("53/udp")).unwrap(), ["53/udp"]);
        assert_eq!(parse_expose("web", &json!("3000-3001")).unwrap(), ["3000/tcp", "3001/tcp"]);
        assert!(parse_expose("web", &json!("x")).is_err());
    }
}
