//! The networks a service joins (`networks:`, list or mapping; `default` when unset) and its
//! legacy `links:`, resolved to the project's Docker network names.

use serde_json::Value;

use super::error::ComposeError;
use super::keys;
use super::project::ComposeProject;
use super::value::{describe, integer, mapping, scalar, strings};

/// One network a service's container is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkAttachment {
    /// The name in the compose file (`default`, `backend`).
    pub name: String,
    /// The Docker network: `<project>_<name>`.
    pub docker_name: String,
    /// Extra DNS names on this network (the service name is always one).
    pub aliases: Vec<String>,
    /// Higher first; the first network is the one the container is created on.
    pub priority: i64,
}

/// `links: ["db:database"]`: `alias` resolves to the `service`'s container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub service: String,
    pub alias: String,
}

impl NetworkAttachment {
    /// Reads `networks:` (absent: the project's default network), ordered by priority then name.
    pub(super) fn parse_all(
        service: &str,
        project: &ComposeProject,
        value: Option<&Value>,
    ) -> Result<Vec<Self>, ComposeError> {
        let invalid = |key: &str, why: String| ComposeError::invalid(service, key, why);
        let attach = |name: &str, aliases: Vec<String>, priority: i64| Self {
            name: name.to_string(),
            docker_name: project.scoped(name),
            aliases,
            priority,
        };
        let mut networks = match value {
            None => vec![attach("default", Vec::new(), 0)],
            Some(list @ Value::Array(_)) => strings(list)
                .map_err(|why| invalid("networks", why))?
                .iter()
                .map(|n| attach(n, Vec::new(), 0))
                .collect(),
            Some(Value::Object(map)) => {
                let mut networks = Vec::new();
                for (name, settings) in map {
                    if settings.is_null() {
                        networks.push(attach(name, Vec::new(), 0));
                        continue;
                    }
                    let settings = mapping(settings).map_err(|why| invalid(&format!("networks.{name}"), why))?;
                    keys::NETWORK.check(service, settings)?;
                    let field = |key: &str| settings.get(key).filter(|v| !v.is_null());
                    let aliases = field("aliases")
                        .map(strings)
                        .transpose()
                        .map_err(|why| invalid(&format!("networks.{name}.aliases"), why))?;
                    let priority = field("priority")
                        .map(integer)
                        .transpose()
                        .map_err(|why| invalid(&format!("networks.{name}.priority"), why))?;
                    networks.push(attach(name, aliases.unwrap_or_default(), priority.unwrap_or(0)));
                }
                networks
            }
            Some(other) => {
                return Err(invalid("networks", format!("expected a list or a mapping, got {}", describe(other))));
            }
        };
        networks.sort_by(|a, b| b.priority.cmp(&a.priority).then_with(|| a.name.cmp(&b.name)));
        Ok(networks)
    }
}

impl Link {
    /// Reads one `links:` entry: `service` or `service:alias`.
    pub(super) fn parse(service: &str, entry: &Value) -> Result<Self, ComposeError> {
        let text = scalar(entry).map_err(|why| ComposeError::invalid(service, "links", why))?;
        let (target, alias) = text.split_once(':').unwrap_or((&text, &text));
        if target.is_empty() || alias.is_empty() {
            return Err(ComposeError::invalid(service, "links", format!("expected SERVICE[:ALIAS], got {text:?}")));
        }
        Ok(Self { service: target.to_string(), alias: alias.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn project() -> ComposeProject {
        ComposeProject { name: "p".into(), working_dir: "/proj".into(), config_files: vec![] }
    }

    fn names(value: Option<&Value>) -> Vec<(String, String, Vec<String>)> {
        NetworkAttachment::parse_all("web", &project(), value)
            .unwrap()
            .into_iter()
            .map(|n| (n.name, n.docker_name, n.aliases))
            .collect()
    }

    #[test]
    fn networks_in_every_form() {
        assert_eq!(names(None), [("default".into(), "p_default".into(), vec![])]);
        assert_eq!(
            names(Some(&json!(["front", "back"]))),
            [("back".into(), "p_back".into(), vec![]), ("front".into(), "p_front".into(), vec![])]
        );
        assert_eq!(
            names(Some(&json!({"default": null, "back": {"aliases": ["api"], "priority": 10}}))),
            [("back".into(), "p_back".into(), vec!["api".into()]), ("default".into(), "p_default".into(), vec![])]
        );
        let err = NetworkAttachment::parse_all("web", &project(), Some(&json!({"b": {"ipv4_address": "1.2.3.4"}})));
        assert!(err.unwrap_err().to_string().contains("key \"networks.ipv4_address\" is not supported by stilt yet"));
    }

    #[test]
    fn links() {
        assert_eq!(Link::parse("web", &json!("db")).unwrap(), Link { service: "db".into(), alias: "db".into() });
        assert_eq!(Link::parse("web", &json!("db:sql")).unwrap(), Link { service: "db".into(), alias: "sql".into() });
        assert!(Link::parse("web", &json!("db:")).is_err());
    }
}
