//! The gate Tilt puts on its web port's `/api/*` endpoints (internal/hud/server/server.go):
//! a session token that `tilt logs` and `tilt snapshot create` read from `<tilt dev dir>/token`
//! (created on first use) and send as `X-Tilt-Token` (browsers: the `Tilt-Token` cookie), plus a
//! per-process CSRF token, handed out by `/api/websocket_token`, that `/ws/view` requires.
//! `TILT_DISABLE_HUD_AUTH=1` switches the session-token check off, as in Tilt.

use axum::http::HeaderMap;
use std::io::Read;
use std::path::Path;

/// Tilt's header for the session token.
pub const TOKEN_HEADER: &str = "x-tilt-token";
/// Tilt's cookie for the session token.
pub const TOKEN_COOKIE: &str = "Tilt-Token";

/// Random hex from the kernel.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = f.read_exact(&mut buf);
    }
    if buf.iter().all(|b| *b == 0) {
        use std::hash::{BuildHasher, RandomState};
        for (i, chunk) in buf.chunks_mut(8).enumerate() {
            let h = RandomState::new().hash_one((i, std::process::id(), std::time::SystemTime::now()));
            for (d, s) in chunk.iter_mut().zip(h.to_le_bytes()) {
                *d = s;
            }
        }
    }
    buf.iter().fold(String::with_capacity(bytes * 2), |mut s, b| {
        use std::fmt::Write;
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A random UUID-shaped string (Tilt's token file holds a UUID).
pub fn random_uuid() -> String {
    let h = random_hex(16);
    format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No header, no cookie.
    Missing,
    /// Wrong token.
    Invalid,
}

impl Refusal {
    /// Tilt's response text.
    pub fn message(self) -> &'static str {
        match self {
            Refusal::Missing => "missing session token",
            Refusal::Invalid => "invalid session token",
        }
    }
}

/// The tokens of this run.
#[derive(Debug, Clone)]
pub struct HudAuth {
    /// The session token from the token file; `None` when it could not be read or written (then
    /// only `TILT_DISABLE_HUD_AUTH=1` clients get in).
    session_token: Option<String>,
    /// The websocket CSRF token.
    pub csrf: String,
}

impl HudAuth {
    /// Reads `<dir>/token`, creating it (mode 0700 dir, like Tilt) when absent.
    pub fn load(dir: Option<&Path>) -> Self {
        let session_token = dir.and_then(|d| {
            let path = d.join("token");
            match std::fs::read_to_string(&path) {
                Ok(t) => Some(t),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let t = random_uuid();
                    std::fs::create_dir_all(d).ok()?;
                    std::fs::write(&path, &t).ok()?;
                    Some(t)
                }
                Err(_) => None,
            }
        });
        HudAuth { session_token, csrf: random_uuid() }
    }

    /// With known tokens (tests).
    pub fn with_tokens(session_token: &str, csrf: &str) -> Self {
        HudAuth { session_token: Some(session_token.to_string()), csrf: csrf.to_string() }
    }

    /// Tilt's `requireToken`.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        if std::env::var("TILT_DISABLE_HUD_AUTH").is_ok_and(|v| v == "1") {
            return Ok(());
        }
        let candidate = headers
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_string)
            .or_else(|| cookie(headers, TOKEN_COOKIE))
            .ok_or(Refusal::Missing)?;
        if self.session_token.as_deref() == Some(candidate.as_str()) { Ok(()) } else { Err(Refusal::Invalid) }
    }
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(axum::http::header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|v| {
        v.split(';').find_map(|kv| {
            let (k, val) = kv.trim().split_once('=')?;
            (k == name).then(|| val.to_string())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_from_header_or_cookie() {
        let auth = HudAuth::with_tokens("secret", "c");
        let mut h = HeaderMap::new();
        assert_eq!(auth.check(&h), Err(Refusal::Missing));
        h.insert(TOKEN_HEADER, "wrong".parse().unwrap());
        assert_eq!(auth.check(&h), Err(Refusal::Invalid));
        h.insert(TOKEN_HEADER, "secret".parse().unwrap());
        assert_eq!(auth.check(&h), Ok(()));
        let mut c = HeaderMap::new();
        c.insert(axum::http::header::COOKIE, "a=b; Tilt-Token=secret".parse().unwrap());
        assert_eq!(auth.check(&c), Ok(()));
    }

    #[test]
    fn creates_the_token_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let a = HudAuth::load(Some(dir.path()));
        let b = HudAuth::load(Some(dir.path()));
        assert_eq!(a.session_token, b.session_token);
        assert_eq!(a.session_token.as_deref().map(str::len), Some(36));
        assert_ne!(a.csrf, b.csrf);
    }
}
