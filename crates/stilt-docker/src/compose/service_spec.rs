//! `ServiceSpec`: one compose service read from its merged, interpolated configuration into
//! typed fields, every syntax variant normalised and every path and name resolved, so running
//! it is a plain translation to the Engine API.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::build::ComposeBuild;
use super::duration::duration;
use super::env_file::read_env_files;
use super::error::ComposeError;
use super::healthcheck::Healthcheck;
use super::keys;
use super::network::{Link, NetworkAttachment};
use super::port::{PortMapping, parse_expose};
use super::project::ComposeProject;
use super::value::{
    boolean, byte_size, command, describe, integer, key_values, mapping, scalar, string_map, string_or_list, strings,
    with_host_env,
};
use super::volume::{VolumeContext, VolumeMount};

/// A compose service, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::struct_excessive_bools)] // one flag per compose key
pub struct ServiceSpec {
    /// The service name.
    pub name: String,
    /// The project's name.
    pub project: String,
    pub image: Option<String>,
    pub build: Option<ComposeBuild>,
    pub command: Option<Vec<String>>,
    /// `Some(vec![])` clears the image's entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// `env_file` variables overridden by `environment`.
    pub environment: BTreeMap<String, String>,
    pub ports: Vec<PortMapping>,
    /// Container ports exposed without publishing them: `3000/tcp`.
    pub expose: Vec<String>,
    pub volumes: Vec<VolumeMount>,
    /// `tmpfs:` mounts: container path → mount options (`size=64m`, or empty).
    pub tmpfs: BTreeMap<String, String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub healthcheck: Option<Healthcheck>,
    /// The services this one depends on (`depends_on` and `links`), in order, without
    /// conditions: the engine decides when to start it.
    pub depends_on: Vec<String>,
    /// The container's name: `container_name:`, or `<project>-<service>-1`.
    pub container_name: String,
    pub hostname: Option<String>,
    pub domainname: Option<String>,
    pub tty: bool,
    pub stdin_open: bool,
    pub restart: Option<Restart>,
    pub links: Vec<Link>,
    /// Ordered: the first is the network the container is created on.
    pub networks: Vec<NetworkAttachment>,
    /// `host:ip` entries for `/etc/hosts`.
    pub extra_hosts: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_opt: Vec<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub security_opt: Vec<String>,
    pub group_add: Vec<String>,
    pub sysctls: BTreeMap<String, String>,
    pub privileged: bool,
    pub init: Option<bool>,
    pub stop_signal: Option<String>,
    pub stop_grace_period: Option<Duration>,
    pub pid: Option<String>,
    pub read_only: bool,
    pub shm_size: Option<i64>,
    /// `mem_limit` in bytes.
    pub mem_limit: Option<i64>,
    /// `cpus` in billionths of a CPU.
    pub nano_cpus: Option<i64>,
    pub ulimits: Vec<Ulimit>,
}

/// `restart:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restart {
    No,
    Always,
    OnFailure { max_retries: Option<i64> },
    UnlessStopped,
}

/// One `ulimits:` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ulimit {
    pub name: String,
    pub soft: i64,
    pub hard: i64,
}

impl ServiceSpec {
    /// Reads `service`'s configuration (compose files merged, `${VAR}`s interpolated).
    pub fn from_config(project: &ComposeProject, service: &str, config: &Value) -> Result<Self, ComposeError> {
        let map = config
            .as_object()
            .ok_or_else(|| ComposeError::config(service, format!("expected a mapping, got {}", describe(config))))?;
        keys::SERVICE.check(service, map)?;
        let r = Reader { service, map };

        let image = r.read("image", scalar)?;
        let build = r.get("build").map(|v| ComposeBuild::parse(service, &project.working_dir, v)).transpose()?;
        if image.is_none() && build.is_none() {
            return Err(ComposeError::config(service, "neither `image` nor `build` is set"));
        }
        if let Some(policy) = r.read("pull_policy", scalar)? {
            check_pull_policy(service, &policy)?;
        }

        let mut environment = BTreeMap::new();
        if let Some(files) = r.get("env_file") {
            environment.extend(read_env_files(service, &project.working_dir, files)?);
        }
        environment.extend(with_host_env(r.read("environment", key_values)?.unwrap_or_default()));

        let mut ports = Vec::new();
        for entry in r.entries("ports")? {
            ports.extend(PortMapping::parse(service, entry)?);
        }
        let mut expose = Vec::new();
        for entry in r.entries("expose")? {
            expose.extend(parse_expose(service, entry)?);
        }
        let volume_cx = VolumeContext { service, project: &project.name, working_dir: &project.working_dir };
        let volumes =
            r.entries("volumes")?.iter().map(|v| VolumeMount::parse(&volume_cx, v)).collect::<Result<_, _>>()?;
        let links: Vec<Link> = r.entries("links")?.iter().map(|v| Link::parse(service, v)).collect::<Result<_, _>>()?;

        let mut depends_on = r.read("depends_on", dependencies)?.unwrap_or_default();
        for link in &links {
            if !depends_on.contains(&link.service) {
                depends_on.push(link.service.clone());
            }
        }

        Ok(Self {
            name: service.to_string(),
            project: project.name.clone(),
            image,
            build,
            command: r.read("command", command)?,
            entrypoint: r.read("entrypoint", command)?,
            environment,
            ports,
            expose,
            volumes,
            tmpfs: r.read("tmpfs", tmpfs)?.unwrap_or_default(),
            working_dir: r.read("working_dir", scalar)?,
            user: r.read("user", scalar)?,
            labels: r.read("labels", string_map)?.unwrap_or_default(),
            healthcheck: r.get("healthcheck").map(|v| healthcheck(service, v)).transpose()?,
            depends_on,
            container_name: r
                .read("container_name", scalar)?
                .unwrap_or_else(|| project.default_container_name(service)),
            hostname: r.read("hostname", scalar)?,
            domainname: r.read("domainname", scalar)?,
            tty: r.flag("tty")?,
            stdin_open: r.flag("stdin_open")?,
            restart: r.read("restart", restart)?,
            links,
            networks: NetworkAttachment::parse_all(service, project, r.get("networks"))?,
            extra_hosts: r.read("extra_hosts", extra_hosts)?.unwrap_or_default(),
            dns: r.read("dns", string_or_list)?.unwrap_or_default(),
            dns_search: r.read("dns_search", string_or_list)?.unwrap_or_default(),
            dns_opt: r.read("dns_opt", strings)?.unwrap_or_default(),
            cap_add: r.read("cap_add", strings)?.unwrap_or_default(),
            cap_drop: r.read("cap_drop", strings)?.unwrap_or_default(),
            security_opt: r.read("security_opt", strings)?.unwrap_or_default(),
            group_add: r.read("group_add", strings)?.unwrap_or_default(),
            sysctls: r.read("sysctls", string_map)?.unwrap_or_default(),
            privileged: r.flag("privileged")?,
            init: r.read("init", boolean)?,
            stop_signal: r.read("stop_signal", scalar)?,
            stop_grace_period: r.read("stop_grace_period", duration)?,
            pid: r.read("pid", scalar)?,
            read_only: r.flag("read_only")?,
            shm_size: r.read("shm_size", byte_size)?,
            mem_limit: r.read("mem_limit", byte_size)?,
            nano_cpus: r.read("cpus", nano_cpus)?,
            ulimits: r.get("ulimits").map(|v| ulimits(service, v)).transpose()?.unwrap_or_default(),
        })
    }

    /// The image to run: `image:`, or compose v2's default for a built service,
    /// `<project>-<service>` (lowercase).
    pub fn image_name(&self) -> String {
        self.image.clone().unwrap_or_else(|| format!("{}-{}", self.project, self.name).to_lowercase())
    }
}

/// Reads keys of one service mapping, naming the key in every error.
struct Reader<'a> {
    service: &'a str,
    map: &'a Map<String, Value>,
}

impl Reader<'_> {
    /// The value of `key`; `null` counts as unset, as in compose.
    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn read<T>(&self, key: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Result<Option<T>, ComposeError> {
        self.get(key).map(parse).transpose().map_err(|why| ComposeError::invalid(self.service, key, why))
    }

    fn flag(&self, key: &str) -> Result<bool, ComposeError> {
        Ok(self.read(key, boolean)?.unwrap_or(false))
    }

    /// The items of a list-valued key (none when unset).
    fn entries(&self, key: &str) -> Result<&[Value], ComposeError> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => {
                Err(ComposeError::invalid(self.service, key, format!("expected a list, got {}", describe(other))))
            }
        }
    }
}

fn check_pull_policy(service: &str, policy: &str) -> Result<(), ComposeError> {
    match policy {
        "never" | "missing" | "if_not_present" => Ok(()),
        "always" | "build" | "daily" | "weekly" => Err(ComposeError::config(
            service,
            format!("pull_policy {policy:?} is not supported by stilt yet (stilt never pulls in CI)"),
        )),
        p if p.starts_with("every_") => Err(ComposeError::config(
            service,
            format!("pull_policy {policy:?} is not supported by stilt yet (stilt never pulls in CI)"),
        )),
        other => Err(ComposeError::invalid(service, "pull_policy", format!("unknown policy {other:?}"))),
    }
}

/// `depends_on`: a list of names, or a mapping of name → conditions (conditions dropped).
fn dependencies(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Object(map) => Ok(map.keys().cloned().collect()),
        other => strings(other),
    }
}

fn healthcheck(service: &str, v: &Value) -> Result<Healthcheck, ComposeError> {
    let map = mapping(v).map_err(|why| ComposeError::invalid(service, "healthcheck", why))?;
    Healthcheck::parse(service, map)
}

fn restart(v: &Value) -> Result<Restart, String> {
    let text = scalar(v)?;
    Ok(match text.as_str() {
        "no" | "false" => Restart::No,
        "always" => Restart::Always,
        "unless-stopped" => Restart::UnlessStopped,
        "on-failure" => Restart::OnFailure { max_retries: None },
        other => match other.strip_prefix("on-failure:").map(str::parse) {
            Some(Ok(n)) => Restart::OnFailure { max_retries: Some(n) },
            _ => return Err(format!("expected no, always, on-failure[:N] or unless-stopped, got {text:?}")),
        },
    })
}

/// `tmpfs`: a path or a list of `PATH[:OPTIONS]`.
fn tmpfs(v: &Value) -> Result<BTreeMap<String, String>, String> {
    string_or_list(v)?
        .into_iter()
        .map(|entry| {
            let (path, options) = entry.split_once(':').unwrap_or((&entry, ""));
            if !path.starts_with('/') {
                return Err(format!("the container path {path:?} must be absolute"));
            }
            Ok((path.to_string(), options.to_string()))
        })
        .collect()
}

/// `["host:ip", "host=ip"]` or `{host: ip}` / `{host: [ip, ip]}` → `host:ip` entries.
fn extra_hosts(v: &Value) -> Result<Vec<String>, String> {
    let pair = |host: &str, ip: &str| -> Result<String, String> {
        let ip = ip.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() || ip.is_empty() {
            return Err(format!("expected HOST:IP, got {host:?} → {ip:?}"));
        }
        Ok(format!("{host}:{ip}"))
    };
    match v {
        Value::Object(map) => {
            let mut hosts = Vec::new();
            for (host, ips) in map {
                for ip in string_or_list(ips)? {
                    hosts.push(pair(host, &ip)?);
                }
            }
            Ok(hosts)
        }
        other => strings(other)?
            .iter()
            .map(|entry| {
                let (host, ip) = entry
                    .split_once('=')
                    .or_else(|| entry.split_once(':'))
                    .ok_or_else(|| format!("expected HOST:IP, got {entry:?}"))?;
                pair(host, ip)
            })
            .collect(),
    }
}

fn nano_cpus(v: &Value) -> Result<i64, String> {
    let cpus: f64 = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|c| c.is_finite() && *c >= 0.0)
    .ok_or_else(|| format!("expected a number of CPUs, got {}", describe(v)))?;
    #[allow(clippy::cast_possible_truncation)] // a CPU count times 1e9 fits easily
    Ok((cpus * 1e9).round() as i64)
}

/// `ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}`.
fn ulimits(service: &str, v: &Value) -> Result<Vec<Ulimit>, ComposeError> {
    let map = mapping(v).map_err(|why| ComposeError::invalid(service, "ulimits", why))?;
    let mut limits = Vec::new();
    for (name, limit) in map {
        let invalid = |why: String| ComposeError::invalid(service, &format!("ulimits.{name}"), why);
        let (soft, hard) = match limit {
            Value::Object(both) => {
                keys::ULIMIT.check(service, both)?;
                let get = |key: &str| {
                    both.get(key).ok_or_else(|| format!("needs `{key}`")).and_then(integer).map_err(invalid)
                };
                (get("soft")?, get("hard")?)
            }
            single => {
                let n = integer(single).map_err(invalid)?;
                (n, n)
            }
        };
        limits.push(Ulimit { name: name.clone(), soft, hard });
    }
    Ok(limits)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use serde_json::json;

    use super::*;
    use crate::compose::volume::MountKind;

    fn project() -> ComposeProject {
        ComposeProject { name: "proj".into(), working_dir: "/work/app".into(), config_files: vec![] }
    }

    fn spec(config: &Value) -> Result<ServiceSpec, String> {
        ServiceSpec::from_config(&project(), "web", config).map_err(|e| e.to_string())
    }

    #[test]
    fn every_key_in_its_list_form() {
        // Two halves: one `json!` this large exceeds the macro recursion limit.
        let mut config = json!({
            "image": "app:dev",
            "build": {"context": "./app", "args": ["V=1"]},
            "command": ["sh", "-c", "echo hi"],
            "entrypoint": "/bin/tini --",
            "environment": ["A=1", "EMPTY="],
            "ports": ["3000:3000", 8080],
            "expose": ["9000"],
            "volumes": ["./src:/src:ro", "data:/data"],
            "tmpfs": ["/run:size=64m", "/tmp"],
            "working_dir": "/src",
            "user": 1000,
            "labels": ["team=core", "flag"],
            "healthcheck": {"test": "true", "interval": "1s"},
            "depends_on": ["db"],
            "container_name": "custom",
            "hostname": "web1",
            "domainname": "example.test",
        });
        let rest = json!({
            "tty": true,
            "stdin_open": "true",
            "restart": "on-failure:3",
            "links": ["cache:redis"],
            "networks": ["back"],
            "extra_hosts": ["gw:10.0.0.1", "v6=::1"],
            "dns": "8.8.8.8",
            "dns_search": ["example.test"],
            "dns_opt": ["ndots:1"],
            "cap_add": ["NET_ADMIN"],
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges:true"],
            "group_add": ["audio"],
            "sysctls": ["net.core.somaxconn=1024"],
            "privileged": true,
            "init": true,
            "stop_signal": "SIGINT",
            "stop_grace_period": "1m30s",
            "pid": "host",
            "read_only": true,
            "shm_size": "64m",
            "mem_limit": "1g",
            "cpus": 0.5,
            "ulimits": {"nproc": 65535, "nofile": {"soft": 20000, "hard": 40000}},
            "pull_policy": "missing",
            "platform": "linux/amd64",
            "profiles": ["debug"],
            "deploy": {"replicas": 1},
            "logging": {"driver": "json-file"},
            "x-stilt": {"anything": true},
        });
        config.as_object_mut().unwrap().extend(rest.as_object().unwrap().clone());
        let s = spec(&config).unwrap();
        assert_eq!(s.name, "web");
        assert_eq!(s.image_name(), "app:dev");
        assert_eq!(s.build.as_ref().unwrap().context, PathBuf::from("/work/app/app"));
        assert_eq!(s.command.as_deref().unwrap(), ["sh", "-c", "echo hi"]);
        assert_eq!(s.entrypoint.as_deref().unwrap(), ["/bin/tini", "--"]);
        assert_eq!(s.environment, BTreeMap::from([("A".into(), "1".into()), ("EMPTY".into(), String::new())]));
        assert_eq!(s.ports.len(), 2);
        assert_eq!(s.expose, ["9000/tcp"]);
        assert_eq!(s.volumes[1].kind, MountKind::Volume { name: Some("proj_data".into()), nocopy: false });
        assert_eq!(s.tmpfs, BTreeMap::from([("/run".into(), "size=64m".into()), ("/tmp".into(), String::new())]));
        assert_eq!(s.working_dir.as_deref(), Some("/src"));
        assert_eq!(s.user.as_deref(), Some("1000"));
        assert_eq!(s.labels, BTreeMap::from([("flag".into(), String::new()), ("team".into(), "core".into())]));
        assert_eq!(s.healthcheck.unwrap().interval, Some(Duration::from_secs(1)));
        assert_eq!(s.depends_on, ["db", "cache"]);
        assert_eq!(s.container_name, "custom");
        assert_eq!((s.hostname.as_deref(), s.domainname.as_deref()), (Some("web1"), Some("example.test")));
        assert!(s.tty && s.stdin_open && s.privileged && s.read_only);
        assert_eq!(s.restart, Some(Restart::OnFailure { max_retries: Some(3) }));
        assert_eq!(s.links, [Link { service: "cache".into(), alias: "redis".into() }]);
        assert_eq!(s.networks.iter().map(|n| n.docker_name.as_str()).collect::<Vec<_>>(), ["proj_back"]);
        assert_eq!(s.extra_hosts, ["gw:10.0.0.1", "v6:::1"]);
        assert_eq!(
            (s.dns, s.dns_search, s.dns_opt),
            (vec!["8.8.8.8".into()], vec!["example.test".into()], vec!["ndots:1".into()])
        );
        assert_eq!((s.cap_add, s.cap_drop), (vec!["NET_ADMIN".into()], vec!["ALL".into()]));
        assert_eq!(s.security_opt, ["no-new-privileges:true"]);
        assert_eq!(s.group_add, ["audio"]);
        assert_eq!(s.sysctls, BTreeMap::from([("net.core.somaxconn".into(), "1024".into())]));
        assert_eq!(s.init, Some(true));
        assert_eq!(s.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(s.stop_grace_period, Some(Duration::from_secs(90)));
        assert_eq!(s.pid.as_deref(), Some("host"));
        assert_eq!((s.shm_size, s.mem_limit, s.nano_cpus), (Some(64 << 20), Some(1 << 30), Some(500_000_000)));
        assert_eq!(
            s.ulimits,
            [
                Ulimit { name: "nofile".into(), soft: 20000, hard: 40000 },
                Ulimit { name: "nproc".into(), soft: 65535, hard: 65535 }
            ]
        );
    }

    #[test]
    fn mapping_forms_and_defaults() {
        let s = spec(&json!({
            "build": "./app",
            "command": "sh -c 'echo hello; sleep 300'",
            "environment": {"N": 1, "B": true, "STILT_SURELY_UNSET_VAR": null},
            "labels": {"n": 2},
            "depends_on": {"db": {"condition": "service_healthy"}},
            "networks": {"default": null, "back": {"aliases": ["api"]}},
            "extra_hosts": {"gw": "10.0.0.1", "multi": ["10.0.0.2", "10.0.0.3"]},
            "restart": "unless-stopped",
            "entrypoint": [],
            "healthcheck": {"disable": true},
            "image": null,
        }))
        .unwrap();
        assert_eq!(s.image, None);
        assert_eq!(s.image_name(), "proj-web");
        assert_eq!(s.command.as_deref().unwrap(), ["sh", "-c", "echo hello; sleep 300"]);
        assert_eq!(s.entrypoint.as_deref(), Some(&[][..]));
        assert_eq!(s.environment, BTreeMap::from([("B".into(), "true".into()), ("N".into(), "1".into())]));
        assert_eq!(s.labels, BTreeMap::from([("n".into(), "2".into())]));
        assert_eq!(s.depends_on, ["db"]);
        assert_eq!(
            s.networks.iter().map(|n| n.docker_name.as_str()).collect::<Vec<_>>(),
            ["proj_back", "proj_default"]
        );
        assert_eq!(s.networks[0].aliases, ["api"]);
        assert_eq!(s.extra_hosts, ["gw:10.0.0.1", "multi:10.0.0.2", "multi:10.0.0.3"]);
        assert_eq!(s.restart, Some(Restart::UnlessStopped));
        assert_eq!(s.healthcheck.unwrap().test.unwrap(), ["NONE"]);
        assert_eq!(s.container_name, "proj-web-1");
        assert_eq!(s.networks.len(), 2);

        let minimal = spec(&json!({"image": "x"})).unwrap();
        assert_eq!(minimal.networks.iter().map(|n| n.docker_name.as_str()).collect::<Vec<_>>(), ["proj_default"]);
        assert!(!minimal.tty && minimal.restart.is_none() && minimal.healthcheck.is_none());
    }

    #[test]
    fn invalid_services_are_named() {
        assert_eq!(
            spec(&json!({"imgae": "x"})).unwrap_err(),
            "failed to read compose service \"web\": unknown key \"imgae\" (did you mean \"image\"?)"
        );
        assert_eq!(
            spec(&json!({"image": "x", "frobnicate": 1})).unwrap_err(),
            "failed to read compose service \"web\": unknown key \"frobnicate\""
        );
        assert_eq!(
            spec(&json!({"image": "x", "secrets": ["s"]})).unwrap_err(),
            "failed to read compose service \"web\": key \"secrets\" is not supported by stilt yet"
        );
        assert!(spec(&json!({"image": "x", "pull_policy": "always"})).unwrap_err().contains("never pulls"));
        assert!(spec(&json!({"image": "x", "pull_policy": "sometimes"})).unwrap_err().contains("unknown policy"));
        assert!(spec(&json!({"image": "x", "restart": "maybe"})).unwrap_err().contains("key \"restart\""));
        assert!(spec(&json!({"image": "x", "tty": "yes please"})).unwrap_err().contains("key \"tty\""));
        assert!(spec(&json!({"image": "x", "ports": "80"})).unwrap_err().contains("expected a list"));
        assert!(spec(&json!({"image": "x", "command": "echo 'oops"})).unwrap_err().contains("key \"command\""));
        assert!(spec(&json!({"image": "x", "stop_grace_period": "soon"})).unwrap_err().contains("stop_grace_period"));
        assert!(spec(&json!({"image": "x", "ulimits": {"nofile": {"soft": 1}}})).unwrap_err().contains("needs `hard`"));
        assert!(spec(&json!({"command": "true"})).unwrap_err().contains("neither `image` nor `build`"));
        assert!(spec(&json!(["image"])).unwrap_err().contains("expected a mapping"));
    }
}
