//! Asks a registry whether it has an image (`stilt ci --reuse-images`): one Registry HTTP API
//! v2 manifest request, `GET /v2/<repo>/manifests/<tag>`, whose answer also carries the image
//! id (the manifest's `config.digest`), so the reused image can be deployed under the same
//! `tilt-<16 hex of the id>` tag a build would have given it.
//!
//! Only registries on this machine (`localhost`, `127.0.0.0/8`, `[::1]`) are asked, over plain
//! HTTP, as the Docker engine treats them (insecure by default): that is where a CI job's kind
//! or k3d registry lives. Any other registry, and any answer but 200 or 404, is `Unavailable`:
//! the caller builds as if the image were not there.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use stilt_core::image_ref::ImageRef;

/// How long one lookup may take (connect + answer).
const TIMEOUT: Duration = Duration::from_secs(5);
/// Largest manifest read (a single-platform manifest is ~1 kB).
const MAX_RESPONSE: usize = 1024 * 1024;

/// What a registry said about an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryLookup {
    /// It has it; the image id (`sha256:…`, the manifest's config digest).
    Found {
        image_id: String,
    },
    NotFound,
    /// The registry could not or would not say: why.
    Unavailable(String),
}

/// Looks `reference` (`host[:port]/repo:tag`) up in its registry.
pub async fn lookup(reference: &str) -> RegistryLookup {
    let r = match ImageRef::parse(reference) {
        Ok(r) => r,
        Err(e) => return RegistryLookup::Unavailable(e.to_string()),
    };
    let Some(domain) = r.domain.clone() else {
        return RegistryLookup::Unavailable(format!("{reference} names no registry"));
    };
    if !is_loopback_host(&domain) {
        return RegistryLookup::Unavailable(format!(
            "registry {domain} is not on this machine; stilt looks up only local registries (plain HTTP)"
        ));
    }
    let tag = r.tag.clone().unwrap_or_else(|| "latest".into());
    let addr = if has_port(&domain) { domain.clone() } else { format!("{domain}:80") };
    let request = format!(
        "GET /v2/{}/manifests/{tag} HTTP/1.1\r\nHost: {domain}\r\nAccept: {}\r\nConnection: close\r\n\r\n",
        r.path,
        [
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            "application/vnd.oci.image.index.v1+json",
        ]
        .join(", ")
    );
    match tokio::time::timeout(TIMEOUT, get(&addr, &request)).await {
        Err(_) => RegistryLookup::Unavailable(format!("registry {domain} did not answer within {TIMEOUT:?}")),
        Ok(Err(e)) => RegistryLookup::Unavailable(format!("registry {domain}: {e}")),
        Ok(Ok(response)) => parse_response(&domain, &response),
    }
}

async fn get(addr: &str, request: &str) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(addr).await?;
    s.write_all(request.as_bytes()).await?;
    let mut out = Vec::new();
    s.take(MAX_RESPONSE as u64).read_to_end(&mut out).await?;
    Ok(out)
}

/// Reads a (`Connection: close`) HTTP response to a manifest GET.
pub(crate) fn parse_response(domain: &str, response: &[u8]) -> RegistryLookup {
    let text = String::from_utf8_lossy(response);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status_line = head.lines().next().unwrap_or_default();
    let status: u16 = status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked { dechunk(body) } else { body.to_string() };
    match status {
        200 => {
            let json: serde_json::Value = match serde_json::from_str(&body) {
                Ok(j) => j,
                Err(e) => return RegistryLookup::Unavailable(format!("registry {domain}: manifest is not JSON: {e}")),
            };
            match json.pointer("/config/digest").and_then(|d| d.as_str()) {
                Some(d) if d.starts_with("sha256:") => RegistryLookup::Found { image_id: d.to_string() },
                _ => RegistryLookup::Unavailable(format!(
                    "registry {domain}: the manifest has no config digest (a multi-platform index?)"
                )),
            }
        }
        404 => RegistryLookup::NotFound,
        _ => {
            let why = serde_json::from_str::<serde_json::Value>(&body)
                .ok()
                .and_then(|j| j.pointer("/errors/0/message").and_then(|m| m.as_str()).map(str::to_string))
                .unwrap_or_default();
            let status_line = status_line.trim();
            RegistryLookup::Unavailable(if why.is_empty() {
                format!("registry {domain} answered {status_line:?}")
            } else {
                format!("registry {domain} answered {status_line:?}: {why}")
            })
        }
    }
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

fn has_port(domain: &str) -> bool {
    domain.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) && !domain.ends_with(']')
}

/// `localhost`, `127.x.x.x`, `[::1]` (with or without a port).
fn is_loopback_host(domain: &str) -> bool {
    let host = if domain.starts_with('[') {
        domain.split(']').next().unwrap_or_default().trim_start_matches('[')
    } else {
        domain.rsplit_once(':').map_or(domain, |(h, _)| h)
    };
    host == "localhost"
        || host.ends_with(".localhost")
        || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_registries_are_asked() {
        for h in ["localhost", "localhost:5000", "127.0.0.1:29500", "127.1.2.3", "[::1]:5000", "kind.localhost:5000"] {
            assert!(is_loopback_host(h), "{h}");
        }
        for h in ["gcr.io", "10.0.0.1:5000", "registry:5000", "localhostx:1"] {
            assert!(!is_loopback_host(h), "{h}");
        }
    }

    #[test]
    fn responses_are_read() {
        let ok = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"config\":{\"digest\":\"sha256:abc\"}}";
        assert_eq!(parse_response("r", ok.as_bytes()), RegistryLookup::Found { image_id: "sha256:abc".into() });
        let chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"con\r\n1d\r\nfig\":{\"digest\":\"sha256:abc\"}}\r\n0\r\n\r\n";
        assert_eq!(parse_response("r", chunked.as_bytes()), RegistryLookup::Found { image_id: "sha256:abc".into() });
        assert_eq!(parse_response("r", b"HTTP/1.1 404 Not Found\r\n\r\n{}"), RegistryLookup::NotFound);
        let denied = "HTTP/1.1 403 Forbidden\r\n\r\n{\"errors\":[{\"code\":\"DENIED\",\"message\":\"read-only\"}]}";
        assert_eq!(
            parse_response("r:1", denied.as_bytes()),
            RegistryLookup::Unavailable("registry r:1 answered \"HTTP/1.1 403 Forbidden\": read-only".into())
        );
        let index = "HTTP/1.1 200 OK\r\n\r\n{\"manifests\":[]}";
        assert!(matches!(parse_response("r", index.as_bytes()), RegistryLookup::Unavailable(_)));
    }
}
