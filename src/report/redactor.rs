//! The one place secrets are taken out of what stilt writes: the reporter passes every event
//! through [`Redactor::redact_event`] before any sink (terminal, log dir, JUnit, JSON, CI
//! output) sees it, and re-applies [`Redactor::redact`] to text it kept from before a secret
//! was known (log tails rendered into JUnit and CI output, the buffered Tiltfile log).
//!
//! Two sources: the values of every Kubernetes `Secret` of the loaded Tiltfile
//! ([`stilt_core::secret_set`], Tilt's rule and `[redacted secret <name>:<key>]`; off with
//! `secret_settings(disable_scrub=True)`), and `--mask-env VAR` values, replaced by `***`.

use super::ci_output::mask::{MASK, Masker};
use crate::event::{Event, Failure, LogLine, Outcome};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::borrow::Cow;
use std::sync::Arc;
use stilt_core::TiltfileResult;
use stilt_core::secret_set::{SecretSet, replace_all};

/// Secrets and masks applied to the event stream.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: SecretSet,
    mask: Masker,
}

impl Redactor {
    /// A redactor masking `mask`'s values.
    pub fn new(mask: Masker) -> Self {
        Redactor { secrets: SecretSet::default(), mask }
    }

    /// Learns the Secrets of a loaded Tiltfile (every Kubernetes object of every resource,
    /// `uncategorized` included), unless scrubbing is disabled. Returns the decoded values
    /// added, for CI masks.
    pub fn add_result(&mut self, result: &TiltfileResult) -> Vec<String> {
        if result.disable_secret_scrub {
            return Vec::new();
        }
        let mut added = Vec::new();
        for m in &result.manifests {
            if let stilt_core::ResourceTarget::K8s(k) = &m.target {
                for o in &k.objects {
                    added.extend(self.secrets.add_object(o));
                }
            }
        }
        added
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.mask.is_empty()
    }

    /// `text` with secrets replaced, then masked values.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.is_empty() {
            return Cow::Borrowed(text);
        }
        let pairs: Vec<(&str, &str)> =
            self.secrets.pairs().chain(self.mask.values().iter().map(|v| (v.as_str(), MASK))).collect();
        replace_all(text, &pairs)
    }

    /// Redacts `s` in place.
    pub fn redact_string(&self, s: &mut String) {
        if let Cow::Owned(r) = self.redact(s) {
            *s = r;
        }
    }

    /// Every string inside a serializable value (a Session, pod summaries, a Tiltfile error).
    fn redact_serde<T: Serialize + DeserializeOwned>(&self, v: T) -> T {
        if self.is_empty() {
            return v;
        }
        let Ok(mut json) = serde_json::to_value(&v) else { return v };
        if !self.redact_json(&mut json) {
            return v;
        }
        serde_json::from_value(json).unwrap_or(v)
    }

    /// Redacts every string (and object key) of `v`; whether anything changed.
    fn redact_json(&self, v: &mut serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) => match self.redact(s) {
                Cow::Owned(r) => {
                    *s = r;
                    true
                }
                Cow::Borrowed(_) => false,
            },
            serde_json::Value::Array(a) => a.iter_mut().fold(false, |ch, x| self.redact_json(x) | ch),
            serde_json::Value::Object(o) => {
                let mut changed = false;
                let entries = std::mem::take(o);
                for (k, mut x) in entries {
                    changed |= self.redact_json(&mut x);
                    let k = match self.redact(&k) {
                        Cow::Owned(r) => {
                            changed = true;
                            r
                        }
                        Cow::Borrowed(_) => k,
                    };
                    o.insert(k, x);
                }
                changed
            }
            _ => false,
        }
    }

    fn redact_failure(&self, mut f: Failure) -> Failure {
        self.redact_string(&mut f.message);
        f
    }

    /// The event with every text it carries redacted. `TiltfileLoaded` is passed unchanged
    /// (it is the source of the secrets; no sink prints it).
    pub fn redact_event(&self, ev: Event) -> Event {
        if self.is_empty() {
            return ev;
        }
        match ev {
            Event::Log(mut line) => {
                self.redact_line(&mut line);
                Event::Log(line)
            }
            Event::TiltfileFailed { error } => {
                Event::TiltfileFailed { error: Arc::new(self.redact_serde((*error).clone())) }
            }
            Event::PodsChanged { resource, pods } => Event::PodsChanged { resource, pods: self.redact_serde(pods) },
            Event::SessionChanged(s) => Event::SessionChanged(s),
            Event::RunFinished { session, outcome } => Event::RunFinished {
                session: Arc::new(self.redact_serde((*session).clone())),
                outcome: Outcome { failure: outcome.failure.map(|f| self.redact_failure(f)), ..outcome },
            },
            other @ (Event::RunStarted { .. }
            | Event::TiltfileLoaded { .. }
            | Event::ImageBuilt { .. }
            | Event::ImagePushed { .. }) => other,
        }
    }

    /// Redacts one log line in place.
    pub fn redact_line(&self, line: &mut LogLine) {
        self.redact_string(&mut line.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stilt_core::secret_set::base64_encode;

    fn redactor() -> Redactor {
        let mut mask = Masker::default();
        mask.add("masked-env-value");
        let mut r = Redactor::new(mask);
        r.secrets.add_object(&serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"},
            "data": {"token": base64_encode(b"s3cr3t-token")}
        }));
        r
    }

    #[test]
    fn redacts_secrets_and_masks() {
        let r = redactor();
        assert_eq!(r.redact("a s3cr3t-token b masked-env-value c"), "a [redacted secret creds:token] b *** c");
        assert!(matches!(r.redact("clean"), Cow::Borrowed(_)));
    }

    #[test]
    fn redacts_every_string_of_a_structure() {
        let r = redactor();
        let err = stilt_core::TiltfileError {
            message: "fail: s3cr3t-token".into(),
            location: None,
            traceback: vec!["masked-env-value".into()],
        };
        let out = r.redact_serde(err);
        assert_eq!(out.message, "fail: [redacted secret creds:token]");
        assert_eq!(out.traceback, vec!["***".to_string()]);
    }
}
