//! Tilt's secret scrubbing (`pkg/model/secret.go`, `internal/tiltfile/k8s.go`), as pure data:
//! every value of every Kubernetes `Secret` the Tiltfile registers — `data` (base64-decoded)
//! and `stringData` — is replaced in log text, as is its base64 encoding, by
//! `[redacted secret <name>:<key>]`.
//!
//! **Why here:** the reporter applies it to every line and every report it writes, and the
//! rule (which values, which replacement, the minimum length) must be the same everywhere
//! and testable without a run.
//!
//! Like Tilt, values shorter than [`MIN_SECRET_LENGTH`] bytes are never scrubbed (a one-letter
//! value would blank the log), and the replacement names the Secret without its namespace
//! (Tilt's `fmt.Sprintf("[redacted secret %s:%s]", name, key)`). Values are replaced longest
//! first, so a value containing another is replaced whole (Tilt's order is a Go map's).

use std::borrow::Cow;

/// Tilt's `minSecretLengthToScrub`: shorter values are left alone.
pub const MIN_SECRET_LENGTH: usize = 5;

/// One secret value and what replaces it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Secret {
    value: String,
    encoded: String,
    replacement: String,
}

/// The secrets to scrub from text, keyed (like Tilt) by value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecretSet {
    secrets: Vec<Secret>,
}

impl SecretSet {
    /// Adds one value of Secret `name`, key `key` (Tilt's `AddSecret`). A value already known
    /// takes the newer name. Values that are not UTF-8 text cannot occur in stilt's (UTF-8)
    /// logs as such; their base64 form is still scrubbed.
    pub fn add(&mut self, name: &str, key: &str, value: &[u8]) {
        let text = String::from_utf8_lossy(value).into_owned();
        let secret = Secret {
            encoded: base64_encode(value),
            replacement: format!("[redacted secret {name}:{key}]"),
            value: text,
        };
        self.secrets.retain(|s| s.value != secret.value);
        self.secrets.push(secret);
        self.secrets.sort_by(|a, b| b.value.len().cmp(&a.value.len()).then_with(|| a.value.cmp(&b.value)));
    }

    /// Adds every value of `object` if it is a `v1` `Secret` (Tilt's `maybeExtractSecrets`).
    /// Returns the decoded values added (for CI masks), long enough to be scrubbed.
    pub fn add_object(&mut self, object: &serde_json::Value) -> Vec<String> {
        let is_secret = object.get("kind").and_then(serde_json::Value::as_str) == Some("Secret")
            && object.get("apiVersion").and_then(serde_json::Value::as_str).is_none_or(|v| v == "v1");
        if !is_secret {
            return Vec::new();
        }
        let name = object.pointer("/metadata/name").and_then(serde_json::Value::as_str).unwrap_or_default();
        let mut added = Vec::new();
        let fields = [("data", true), ("stringData", false)];
        for (field, encoded) in fields {
            let Some(map) = object.get(field).and_then(serde_json::Value::as_object) else { continue };
            for (key, v) in map {
                let Some(s) = v.as_str() else { continue };
                let bytes = if encoded {
                    match base64_decode(s) {
                        Some(b) => b,
                        None => continue,
                    }
                } else {
                    s.as_bytes().to_vec()
                };
                self.add(name, key, &bytes);
                if bytes.len() >= MIN_SECRET_LENGTH {
                    added.push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
        added
    }

    /// Whether nothing is scrubbed.
    pub fn is_empty(&self) -> bool {
        !self.secrets.iter().any(|s| s.value.len() >= MIN_SECRET_LENGTH)
    }

    /// `text` with every secret value (and its base64 encoding) replaced (Tilt's `Scrub`).
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        replace_all(text, &self.pairs().collect::<Vec<_>>())
    }

    /// Every (text to find, replacement) pair: each value long enough, and its base64 form.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.secrets
            .iter()
            .filter(|s| s.value.len() >= MIN_SECRET_LENGTH)
            .flat_map(|s| [(s.value.as_str(), s.replacement.as_str()), (s.encoded.as_str(), s.replacement.as_str())])
    }
}

/// Replaces every occurrence of each needle in one pass, the longest needle first where
/// several match at one place; replacements are never searched again (a value that occurs in
/// `[redacted secret …]` does not break it up).
pub fn replace_all<'a>(text: &'a str, pairs: &[(&str, &str)]) -> Cow<'a, str> {
    let mut present: Vec<(&str, &str)> =
        pairs.iter().copied().filter(|(n, _)| !n.is_empty() && text.contains(n)).collect();
    if present.is_empty() {
        return Cow::Borrowed(text);
    }
    present.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let rest = &text[i..];
        if let Some((n, r)) = present.iter().find(|(n, _)| rest.starts_with(n)) {
            out.push_str(r);
            i += n.len();
            continue;
        }
        let c = rest.chars().next().expect("i is on a char boundary");
        out.push(c);
        i += c.len_utf8();
    }
    Cow::Owned(out)
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional, whitespace ignored, as Kubernetes accepts
/// `data` values). `None` when it is not base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let digits = digits.strip_suffix(b"==").or_else(|| digits.strip_suffix(b"=")).unwrap_or(&digits);
    if digits.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for &c in digits {
        let v = u32::try_from(ALPHABET.iter().position(|&a| a == c)?).ok()?;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_round_trips() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "hunter2-\u{e9}"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).as_deref(), Some(s.as_bytes()), "{s}");
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert_eq!(base64_decode("Zm8"), Some(b"fo".to_vec()));
        assert_eq!(base64_decode("not base64!"), None);
    }

    #[test]
    fn scrubs_data_and_string_data_with_tilts_replacement() {
        let mut s = SecretSet::default();
        let secret = json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "ns1"},
            "data": {"token": base64_encode(b"tok-12345")},
            "stringData": {"password": "hunter2-long", "pin": "1234"}
        });
        let added = s.add_object(&secret);
        assert_eq!(added.len(), 2, "the 4-byte pin is too short: {added:?}");
        assert_eq!(
            s.scrub("pw=hunter2-long tok=tok-12345 b64=aHVudGVyMi1sb25n pin=1234"),
            "pw=[redacted secret db:password] tok=[redacted secret db:token] b64=[redacted secret db:password] pin=1234"
        );
        assert!(matches!(s.scrub("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn ignores_other_kinds_and_short_values() {
        let mut s = SecretSet::default();
        assert!(s.add_object(&json!({"kind": "ConfigMap", "data": {"a": "long-enough"}})).is_empty());
        s.add("x", "k", b"abcd");
        assert!(s.is_empty());
        assert_eq!(s.scrub("abcd"), "abcd");
        s.add("x", "k", b"abcde");
        assert_eq!(s.scrub("abcde"), "[redacted secret x:k]");
    }

    #[test]
    fn longest_value_first() {
        let mut s = SecretSet::default();
        s.add("a", "short", b"secret");
        s.add("a", "long", b"secret-and-more");
        assert_eq!(s.scrub("secret-and-more secret"), "[redacted secret a:long] [redacted secret a:short]");
    }
}
