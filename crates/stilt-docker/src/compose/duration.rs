//! Go-style durations (`10s`, `1m30s`, `500ms`, `1.5h`), the syntax compose uses for
//! healthcheck timings and `stop_grace_period`, read with stilt-core's [`GoDuration`] (the
//! parser of `--timeout` and `ci_settings`).

use std::time::Duration;

use serde_json::Value;
use stilt_core::GoDuration;

use super::value::describe;

/// Reads a duration value: a Go duration string (a bare `0` is allowed).
pub(super) fn duration(v: &Value) -> Result<Duration, String> {
    match v {
        Value::String(s) => {
            let d = GoDuration::parse(s.trim()).map_err(|e| e.to_string())?;
            if d.as_nanos() < 0 {
                return Err(format!("invalid duration {s:?}: durations cannot be negative"));
            }
            Ok(d.to_std())
        }
        Value::Number(n) if n.as_u64() == Some(0) => Ok(Duration::ZERO),
        other => Err(format!("expected a duration like \"10s\" or \"1m30s\", got {}", describe(other))),
    }
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
