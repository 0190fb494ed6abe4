//! Kubernetes `MicroTime` serialisation: RFC 3339, UTC, exactly six fractional digits.
//!
//! The Session JSON must read like `tilt get session -o json`, whose timestamps look like
//! `2026-08-08T19:20:00.512345Z`; a zero time is `null`.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serializer};

/// Formats a timestamp as a MicroTime string.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Formats a timestamp as a metav1.Time string (whole seconds), used for `creationTimestamp`.
pub fn format_seconds(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// serde helper for `Option<DateTime<Utc>>` fields: `None` ⇒ `null`.
pub mod option {
    use super::{DateTime, Deserialize, Deserializer, Serializer, Utc};

    /// Serialises `Some(t)` as a MicroTime string and `None` as `null`.
    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    /// Reads a MicroTime string or `null`.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let v: Option<String> = Option::deserialize(d)?;
        v.map(|s| s.parse::<DateTime<Utc>>().map_err(serde::de::Error::custom)).transpose()
    }
}
