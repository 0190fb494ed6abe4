//! A service's `healthcheck:`, normalised to the Engine API's test forms (`CMD`, `CMD-SHELL`,
//! `NONE`) and durations.

use std::time::Duration;

use serde_json::{Map, Value};

use super::duration::duration;
use super::error::ComposeError;
use super::keys;
use super::value::{boolean, integer, scalar, strings};

/// The healthcheck to configure; unset fields inherit the image's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Healthcheck {
    /// `["CMD", …]`, `["CMD-SHELL", "…"]` or `["NONE"]` (disabled).
    pub test: Option<Vec<String>>,
    pub interval: Option<Duration>,
    pub timeout: Option<Duration>,
    pub start_period: Option<Duration>,
    pub start_interval: Option<Duration>,
    pub retries: Option<i64>,
}

impl Healthcheck {
    pub(super) fn parse(service: &str, map: &Map<String, Value>) -> Result<Self, ComposeError> {
        keys::HEALTHCHECK.check(service, map)?;
        let field = |key: &str| map.get(key).filter(|v| !v.is_null());
        let invalid = |key: &str, why: String| ComposeError::invalid(service, &format!("healthcheck.{key}"), why);
        let time = |key: &str| field(key).map(duration).transpose().map_err(|why| invalid(key, why));
        let disabled =
            field("disable").map(boolean).transpose().map_err(|why| invalid("disable", why))?.unwrap_or(false);
        let test = if disabled {
            Some(vec!["NONE".to_string()])
        } else {
            field("test").map(test).transpose().map_err(|why| invalid("test", why))?
        };
        Ok(Self {
            test,
            interval: time("interval")?,
            timeout: time("timeout")?,
            start_period: time("start_period")?,
            start_interval: time("start_interval")?,
            retries: field("retries").map(integer).transpose().map_err(|why| invalid("retries", why))?,
        })
    }
}

/// A string is a shell command (or `NONE`); a list must start with `CMD`, `CMD-SHELL` or `NONE`.
fn test(v: &Value) -> Result<Vec<String>, String> {
    if v.is_array() {
        let list = strings(v)?;
        return match list.first().map(String::as_str) {
            Some("CMD" | "CMD-SHELL" | "NONE") => Ok(list),
            _ => Err("a list must start with \"CMD\", \"CMD-SHELL\" or \"NONE\"".into()),
        };
    }
    let command = scalar(v)?;
    Ok(if command == "NONE" { vec![command] } else { vec!["CMD-SHELL".into(), command] })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: &Value) -> Result<Healthcheck, String> {
        Healthcheck::parse("web", v.as_object().unwrap()).map_err(|e| e.to_string())
    }

    #[test]
    fn test_forms_and_timings() {
        let h = parse(&json!({"test": "curl -f http://localhost", "interval": "1m30s", "timeout": "10s",
                             "start_period": "500ms", "start_interval": "1s", "retries": 3}))
        .unwrap();
        assert_eq!(
            h,
            Healthcheck {
                test: Some(vec!["CMD-SHELL".into(), "curl -f http://localhost".into()]),
                interval: Some(Duration::from_secs(90)),
                timeout: Some(Duration::from_secs(10)),
                start_period: Some(Duration::from_millis(500)),
                start_interval: Some(Duration::from_secs(1)),
                retries: Some(3),
            }
        );
        assert_eq!(parse(&json!({"test": ["CMD", "true"]})).unwrap().test.unwrap(), ["CMD", "true"]);
        assert_eq!(parse(&json!({"test": "NONE"})).unwrap().test.unwrap(), ["NONE"]);
        assert_eq!(parse(&json!({"disable": true, "test": "x"})).unwrap().test.unwrap(), ["NONE"]);
        assert_eq!(parse(&json!({"interval": "2s"})).unwrap().test, None);
    }

    #[test]
    fn malformed_healthchecks() {
        assert!(parse(&json!({"test": ["curl"]})).unwrap_err().contains("must start with"));
        assert!(parse(&json!({"interval": "ten"})).unwrap_err().contains("key \"healthcheck.interval\""));
        assert!(parse(&json!({"retires": 3})).unwrap_err().contains("did you mean \"healthcheck.retries\"?"));
    }
}
