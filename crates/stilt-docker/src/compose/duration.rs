//! Go-style durations (`10s`, `1m30s`, `500ms`, `1.5h`), the syntax compose uses for
//! healthcheck timings and `stop_grace_period`.

use std::time::Duration;

use serde_json::Value;

use super::value::describe;

/// Reads a duration value: a Go duration string (a bare `0` is allowed).
pub(super) fn duration(v: &Value) -> Result<Duration, String> {
    match v {
        Value::String(s) => parse_go_duration(s),
        Value::Number(n) if n.as_u64() == Some(0) => Ok(Duration::ZERO),
        other => Err(format!("expected a duration like \"10s\" or \"1m30s\", got {}", describe(other))),
    }
}

#[allow(clippy::cast_precision_loss)] // only a bound
const MAX_NANOS: f64 = u64::MAX as f64;

fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let invalid = |why: &str| format!("invalid duration {text:?}: {why}");
    let s = text.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
    if s.starts_with('-') {
        return Err(invalid("durations cannot be negative"));
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.is_empty() {
        return Err(invalid("empty"));
    }
    // Nanoseconds: every unit is a whole number of them, so `500ms` is exact.
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let number_end = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let value: f64 = number.parse().map_err(|_| invalid("expected a number before each unit"))?;
        let unit_end = after.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let nanos = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            "" => return Err(invalid("missing unit (ns, us, ms, s, m or h)")),
            _ => return Err(invalid(&format!("unknown unit {unit:?}"))),
        };
        total += value * nanos;
        rest = after;
    }
    if total >= MAX_NANOS {
        return Err(invalid("out of range"));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // checked above, never negative
    Ok(Duration::from_nanos(total.round() as u64))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(duration(&json!("10s")).unwrap(), Duration::from_secs(10));
        assert_eq!(duration(&json!("1m30s")).unwrap(), Duration::from_secs(90));
        assert_eq!(duration(&json!("500ms")).unwrap(), Duration::from_millis(500));
        assert_eq!(duration(&json!("1.5h")).unwrap(), Duration::from_secs(5400));
        assert_eq!(duration(&json!("2h3m4s")).unwrap(), Duration::from_secs(7384));
        assert_eq!(duration(&json!("0")).unwrap(), Duration::ZERO);
        assert_eq!(duration(&json!(0)).unwrap(), Duration::ZERO);
        assert!(duration(&json!("10")).unwrap_err().contains("missing unit"));
        assert!(duration(&json!("5d")).unwrap_err().contains("unknown unit \"d\""));
        assert!(duration(&json!("-1s")).is_err());
        assert!(duration(&json!(10)).is_err());
    }
}
