//! Go-style durations (`"90s"`, `"1h30m"`, `"30m0s"`).
//!
//! Tilt parses `--timeout` and `ci_settings(...)` with Go's `time.ParseDuration` and prints them
//! with `Duration.String()`; the Session JSON and the timeout messages use that text, so stilt
//! parses and prints exactly the same forms.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// A duration that parses and prints like Go's `time.Duration`. May be negative (Go allows it;
/// Tilt treats `<= 0` timeouts as disabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct GoDuration {
    nanos: i128,
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}")]
pub struct ParseDurationError {
    input: String,
    reason: String,
}

impl GoDuration {
    /// Zero duration.
    pub const ZERO: GoDuration = GoDuration { nanos: 0 };

    /// From whole seconds.
    pub fn from_secs(secs: i64) -> Self {
        GoDuration { nanos: i128::from(secs) * 1_000_000_000 }
    }

    /// From a std duration.
    pub fn from_std(d: Duration) -> Self {
        GoDuration { nanos: i128::try_from(d.as_nanos()).unwrap_or(i128::MAX) }
    }

    /// Nanoseconds (signed).
    pub fn as_nanos(self) -> i128 {
        self.nanos
    }

    /// Whether the duration is `<= 0`, which Tilt reads as "disabled" for timeouts.
    pub fn is_disabled(self) -> bool {
        self.nanos <= 0
    }

    /// As a std duration; negative values clamp to zero.
    pub fn to_std(self) -> Duration {
        if self.nanos <= 0 {
            return Duration::ZERO;
        }
        let secs = u64::try_from(self.nanos / 1_000_000_000).unwrap_or(u64::MAX);
        let sub = u32::try_from(self.nanos % 1_000_000_000).unwrap_or(0);
        Duration::new(secs, sub)
    }

    /// Parses Go's duration syntax: an optional sign, then one or more `<decimal><unit>` with
    /// units `ns`, `us`, `µs`, `μs`, `ms`, `s`, `m`, `h`. `"0"` alone is allowed.
    pub fn parse(input: &str) -> Result<Self, ParseDurationError> {
        let err = |reason: &str| ParseDurationError { input: input.to_string(), reason: reason.to_string() };
        let mut s = input;
        let mut neg = false;
        if let Some(rest) = s.strip_prefix('-') {
            neg = true;
            s = rest;
        } else if let Some(rest) = s.strip_prefix('+') {
            s = rest;
        }
        if s == "0" {
            return Ok(GoDuration::ZERO);
        }
        if s.is_empty() {
            return Err(err("empty duration"));
        }
        let mut total: f64 = 0.0;
        let mut exact: i128 = 0;
        let mut all_integral = true;
        while !s.is_empty() {
            let num_len = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
            let num = &s[..num_len];
            if num.is_empty() || num == "." {
                return Err(err("expected a number"));
            }
            s = &s[num_len..];
            let unit_len = s.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(s.len());
            let unit = &s[..unit_len];
            s = &s[unit_len..];
            let scale: i128 = match unit {
                "ns" => 1,
                "us" | "µs" | "μs" => 1_000,
                "ms" => 1_000_000,
                "s" => 1_000_000_000,
                "m" => 60_000_000_000,
                "h" => 3_600_000_000_000,
                "" => return Err(err("missing unit (ns, us, ms, s, m or h)")),
                _ => return Err(err(&format!("unknown unit {unit:?}"))),
            };
            if num.contains('.') {
                all_integral = false;
                let v: f64 = num.parse().map_err(|_| err("bad number"))?;
                #[expect(clippy::cast_precision_loss, reason = "fractional input is approximate anyway")]
                {
                    total += v * scale as f64;
                }
            } else {
                let v: i128 = num.parse().map_err(|_| err("number too large"))?;
                exact = exact
                    .checked_add(v.checked_mul(scale).ok_or_else(|| err("overflow"))?)
                    .ok_or_else(|| err("overflow"))?;
            }
        }
        #[expect(clippy::cast_possible_truncation, reason = "durations fit in i128 nanoseconds")]
        let nanos = if all_integral { exact } else { exact + total.round() as i128 };
        if nanos > i128::from(i64::MAX) {
            return Err(err("overflow"));
        }
        Ok(GoDuration { nanos: if neg { -nanos } else { nanos } })
    }
}

impl fmt::Display for GoDuration {
    /// Prints like Go's `Duration.String()`: `1h30m0s`, `5m0s`, `1.5s`, `500ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut n = self.nanos;
        if n == 0 {
            return f.write_str("0s");
        }
        let sign = if n < 0 { "-" } else { "" };
        n = n.abs();
        if n < 1_000_000_000 {
            // Sub-second: pick the largest unit that keeps the integer part non-zero.
            let (unit, scale) = if n < 1_000 {
                ("ns", 1)
            } else if n < 1_000_000 {
                ("µs", 1_000)
            } else {
                ("ms", 1_000_000)
            };
            return write!(f, "{sign}{}{unit}", frac(n, scale));
        }
        let hours = n / 3_600_000_000_000;
        n %= 3_600_000_000_000;
        let mins = n / 60_000_000_000;
        n %= 60_000_000_000;
        let secs = frac(n, 1_000_000_000);
        if hours > 0 {
            write!(f, "{sign}{hours}h{mins}m{secs}s")
        } else if mins > 0 {
            write!(f, "{sign}{mins}m{secs}s")
        } else {
            write!(f, "{sign}{secs}s")
        }
    }
}

/// `n / scale` as a decimal with trailing zeros trimmed (Go's `fmtFrac`).
fn frac(n: i128, scale: i128) -> String {
    let int = n / scale;
    let rem = n % scale;
    if rem == 0 {
        return int.to_string();
    }
    let width = scale.to_string().len() - 1;
    let digits = format!("{rem:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        GoDuration::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_forms() {
        assert_eq!(GoDuration::parse("90s").unwrap(), GoDuration::from_secs(90));
        assert_eq!(GoDuration::parse("1h30m").unwrap(), GoDuration::from_secs(5400));
        assert_eq!(GoDuration::parse("0").unwrap(), GoDuration::ZERO);
        assert_eq!(GoDuration::parse("1.5s").unwrap().as_nanos(), 1_500_000_000);
        assert_eq!(GoDuration::parse("-2m").unwrap(), GoDuration::from_secs(-120));
        assert_eq!(GoDuration::parse("300ms").unwrap().as_nanos(), 300_000_000);
    }

    #[test]
    fn rejects_bad_input() {
        for bad in ["", "10", "abc", "5x", "1h2", "s", "."] {
            assert!(GoDuration::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn prints_like_go() {
        let cases = [
            ("30m", "30m0s"),
            ("5m", "5m0s"),
            ("1m", "1m0s"),
            ("30s", "30s"),
            ("1h30m", "1h30m0s"),
            ("1.5s", "1.5s"),
            ("500ms", "500ms"),
            ("0s", "0s"),
            ("2h", "2h0m0s"),
            ("1500us", "1.5ms"),
        ];
        for (input, want) in cases {
            assert_eq!(GoDuration::parse(input).unwrap().to_string(), want, "{input}");
        }
    }
}
