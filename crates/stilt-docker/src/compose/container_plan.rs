//! `ContainerPlan`: the translation of a `ServiceSpec` into the Engine API's container create
//! body, plus the networks to connect before start (daemons before API 1.44 accept a single
//! network at create time).

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, Mount, MountBindOptions,
    MountBindOptionsPropagationEnum, MountTmpfsOptions, MountType, MountVolumeOptions, NetworkingConfig, PortBinding,
    ResourcesUlimits, RestartPolicy, RestartPolicyNameEnum,
};

use super::network::NetworkAttachment;
use super::port::PortMapping;
use super::project::{
    CONFIG_FILES_LABEL, CONTAINER_NUMBER_LABEL, ComposeProject, MANAGED_LABEL, ONEOFF_LABEL, PROJECT_LABEL,
    SERVICE_LABEL, WORKING_DIR_LABEL,
};
use super::service_spec::{Restart, ServiceSpec};
use super::volume::MountKind;

/// How to create one service's container.
#[derive(Debug, Clone)]
pub(super) struct ContainerPlan {
    /// Attached to the service's first network.
    pub body: ContainerCreateBody,
    /// The service's other networks, to connect between create and start.
    pub extra_networks: Vec<(String, EndpointSettings)>,
}

impl ContainerPlan {
    pub(super) fn new(project: &ComposeProject, spec: &ServiceSpec, image: &str) -> Self {
        let mut endpoints: Vec<(String, EndpointSettings)> =
            spec.networks.iter().map(|n| (n.docker_name.clone(), endpoint(spec, n))).collect();
        // Links resolve on the network the container is created on.
        if let Some((_, first)) = endpoints.first_mut()
            && !spec.links.is_empty()
        {
            let links =
                spec.links.iter().map(|l| format!("{}:{}", project.default_container_name(&l.service), l.alias));
            first.links = Some(links.collect());
        }
        let mut endpoints = endpoints.into_iter();
        let primary = endpoints.next();
        let extra_networks = endpoints.collect();

        let mut exposed: Vec<String> = spec.ports.iter().map(PortMapping::container_key).collect();
        exposed.extend(spec.expose.iter().cloned());
        exposed.sort();
        exposed.dedup();

        let host_config = HostConfig {
            network_mode: spec.networks.first().map(|n| n.docker_name.clone()),
            port_bindings: (!spec.ports.is_empty()).then(|| port_bindings(spec)),
            binds: non_empty(binds(spec)),
            mounts: non_empty(mounts(spec)),
            tmpfs: (!spec.tmpfs.is_empty()).then(|| spec.tmpfs.clone().into_iter().collect()),
            restart_policy: spec.restart.map(restart_policy),
            extra_hosts: non_empty(spec.extra_hosts.clone()),
            dns: non_empty(spec.dns.clone()),
            dns_search: non_empty(spec.dns_search.clone()),
            dns_options: non_empty(spec.dns_opt.clone()),
            cap_add: non_empty(spec.cap_add.clone()),
            cap_drop: non_empty(spec.cap_drop.clone()),
            security_opt: non_empty(spec.security_opt.clone()),
            group_add: non_empty(spec.group_add.clone()),
            sysctls: (!spec.sysctls.is_empty()).then(|| spec.sysctls.clone().into_iter().collect()),
            privileged: spec.privileged.then_some(true),
            init: spec.init,
            pid_mode: spec.pid.clone(),
            readonly_rootfs: spec.read_only.then_some(true),
            shm_size: spec.shm_size,
            memory: spec.mem_limit,
            nano_cpus: spec.nano_cpus,
            ulimits: non_empty(
                spec.ulimits
                    .iter()
                    .map(|u| ResourcesUlimits { name: Some(u.name.clone()), soft: Some(u.soft), hard: Some(u.hard) })
                    .collect(),
            ),
            ..HostConfig::default()
        };

        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: spec.command.clone(),
            entrypoint: spec.entrypoint.clone(),
            env: non_empty(spec.environment.iter().map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some(labels(project, spec)),
            exposed_ports: non_empty(exposed),
            hostname: spec.hostname.clone(),
            domainname: spec.domainname.clone(),
            user: spec.user.clone(),
            working_dir: spec.working_dir.clone(),
            tty: spec.tty.then_some(true),
            open_stdin: spec.stdin_open.then_some(true),
            stop_signal: spec.stop_signal.clone(),
            // Whole seconds, rounded up: a grace period is a minimum.
            stop_timeout: spec
                .stop_grace_period
                .map(|d| i64::try_from(d.as_secs() + u64::from(d.subsec_nanos() > 0)).unwrap_or(i64::MAX)),
            healthcheck: spec.healthcheck.as_ref().map(|h| HealthConfig {
                test: h.test.clone(),
                interval: h.interval.map(nanos),
                timeout: h.timeout.map(nanos),
                start_period: h.start_period.map(nanos),
                start_interval: h.start_interval.map(nanos),
                retries: h.retries,
            }),
            host_config: Some(host_config),
            networking_config: primary
                .map(|(name, settings)| NetworkingConfig { endpoints_config: Some(HashMap::from([(name, settings)])) }),
            ..ContainerCreateBody::default()
        };
        Self { body, extra_networks }
    }
}

fn non_empty<T>(items: Vec<T>) -> Option<Vec<T>> {
    (!items.is_empty()).then_some(items)
}

fn nanos(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// DNS names on one network: the service name, the container name, then the network's aliases.
fn endpoint(spec: &ServiceSpec, network: &NetworkAttachment) -> EndpointSettings {
    let mut aliases = vec![spec.name.clone(), spec.container_name.clone()];
    for alias in &network.aliases {
        if !aliases.contains(alias) {
            aliases.push(alias.clone());
        }
    }
    EndpointSettings { aliases: Some(aliases), ..EndpointSettings::default() }
}

fn labels(project: &ComposeProject, spec: &ServiceSpec) -> HashMap<String, String> {
    let config_files: Vec<String> = project.config_files.iter().map(|p| p.display().to_string()).collect();
    let mut labels: HashMap<String, String> = spec.labels.clone().into_iter().collect();
    labels.extend([
        (PROJECT_LABEL.to_string(), project.name.clone()),
        (SERVICE_LABEL.to_string(), spec.name.clone()),
        (CONTAINER_NUMBER_LABEL.to_string(), "1".to_string()),
        (ONEOFF_LABEL.to_string(), "False".to_string()),
        (WORKING_DIR_LABEL.to_string(), project.working_dir.display().to_string()),
        (CONFIG_FILES_LABEL.to_string(), config_files.join(",")),
        (MANAGED_LABEL.to_string(), "true".to_string()),
    ]);
    labels
}

fn port_bindings(spec: &ServiceSpec) -> HashMap<String, Option<Vec<PortBinding>>> {
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for port in &spec.ports {
        let binding = PortBinding { host_ip: port.host_ip.clone(), host_port: port.host_port.clone() };
        bindings.entry(port.container_key()).or_default().get_or_insert_with(Vec::new).push(binding);
    }
    bindings
}

/// Bind mounts that may create their host directory, in `docker run -v` syntax.
fn binds(spec: &ServiceSpec) -> Vec<String> {
    spec.volumes
        .iter()
        .filter_map(|v| match &v.kind {
            MountKind::Bind { source, create_host_path: true, selinux, propagation } => {
                let options: Vec<&str> = [v.read_only.then_some("ro"), selinux.as_deref(), propagation.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect();
                let mut bind = format!("{}:{}", source.display(), v.target);
                if !options.is_empty() {
                    bind.push(':');
                    bind.push_str(&options.join(","));
                }
                Some(bind)
            }
            _ => None,
        })
        .collect()
}

/// Every other mount, through the `Mounts` API (a missing bind source is an error there).
fn mounts(spec: &ServiceSpec) -> Vec<Mount> {
    spec.volumes
        .iter()
        .filter_map(|v| {
            let mount = Mount { target: Some(v.target.clone()), read_only: Some(v.read_only), ..Mount::default() };
            Some(match &v.kind {
                MountKind::Bind { create_host_path: true, .. } => return None,
                MountKind::Bind { source, propagation, .. } => Mount {
                    typ: Some(MountType::BIND),
                    source: Some(source.display().to_string()),
                    bind_options: propagation.as_deref().and_then(|p| p.parse().ok()).map(
                        |p: MountBindOptionsPropagationEnum| MountBindOptions {
                            propagation: Some(p),
                            ..MountBindOptions::default()
                        },
                    ),
                    ..mount
                },
                MountKind::Volume { name, nocopy } => Mount {
                    typ: Some(MountType::VOLUME),
                    source: name.clone(),
                    volume_options: nocopy
                        .then(|| MountVolumeOptions { no_copy: Some(true), ..MountVolumeOptions::default() }),
                    ..mount
                },
                MountKind::Tmpfs { size, mode } => Mount {
                    typ: Some(MountType::TMPFS),
                    tmpfs_options: Some(MountTmpfsOptions {
                        size_bytes: *size,
                        mode: *mode,
                        ..MountTmpfsOptions::default()
                    }),
                    ..mount
                },
            })
        })
        .collect()
}

fn restart_policy(restart: Restart) -> RestartPolicy {
    let (name, maximum_retry_count) = match restart {
        Restart::No => (RestartPolicyNameEnum::NO, None),
        Restart::Always => (RestartPolicyNameEnum::ALWAYS, None),
        Restart::UnlessStopped => (RestartPolicyNameEnum::UNLESS_STOPPED, None),
        Restart::OnFailure { max_retries } => (RestartPolicyNameEnum::ON_FAILURE, max_retries),
    };
    RestartPolicy { name: Some(name), maximum_retry_count }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn plan(config: &serde_json::Value) -> ContainerPlan {
        let project = ComposeProject {
            name: "p".into(),
            working_dir: "/proj".into(),
            config_files: vec!["/proj/a.yaml".into(), "/proj/b.yaml".into()],
        };
        let spec = ServiceSpec::from_config(&project, "web", config).unwrap();
        ContainerPlan::new(&project, &spec, "built:tag")
    }

    #[test]
    fn service_maps_onto_the_engine_api() {
        let p = plan(&json!({
            "image": "ignored:latest",
            "command": "echo hi",
            "environment": {"B": "2", "A": "1"},
            "ports": ["127.0.0.1:8080:80", "8443:443/udp"],
            "expose": [9000],
            "volumes": ["./src:/src:ro", "data:/data", {"type": "bind", "source": "/etc/x", "target": "/x"},
                        {"type": "tmpfs", "target": "/cache", "tmpfs": {"size": 1024}}],
            "labels": {"team": "core"},
            "restart": "on-failure:2",
            "healthcheck": {"test": "true", "interval": "1s", "retries": 2},
            "stop_grace_period": "3s",
            "links": ["db:database"],
            "networks": {"default": null, "back": {"aliases": ["api"], "priority": 5}},
        }));
        let body = &p.body;
        assert_eq!(body.image.as_deref(), Some("built:tag"));
        assert_eq!(body.cmd.as_deref().unwrap(), ["echo", "hi"]);
        assert_eq!(body.env.as_deref().unwrap(), ["A=1", "B=2"]);
        assert_eq!(body.exposed_ports.as_deref().unwrap(), ["443/udp", "80/tcp", "9000/tcp"]);
        assert_eq!(body.stop_timeout, Some(3));
        let health = body.healthcheck.as_ref().unwrap();
        assert_eq!((health.interval, health.retries), (Some(1_000_000_000), Some(2)));

        let labels = body.labels.as_ref().unwrap();
        assert_eq!(labels["team"], "core");
        assert_eq!(labels["com.docker.compose.project"], "p");
        assert_eq!(labels["com.docker.compose.service"], "web");
        assert_eq!(labels["com.docker.compose.project.config_files"], "/proj/a.yaml,/proj/b.yaml");
        assert_eq!(labels["dev.stilt.managed"], "true");

        let host = body.host_config.as_ref().unwrap();
        assert_eq!(host.binds.as_deref().unwrap(), ["/proj/src:/src:ro"]);
        let mounts = host.mounts.as_ref().unwrap();
        assert_eq!(
            mounts.iter().map(|m| (m.typ, m.source.as_deref(), m.target.as_deref())).collect::<Vec<_>>(),
            [
                (Some(MountType::VOLUME), Some("p_data"), Some("/data")),
                (Some(MountType::BIND), Some("/etc/x"), Some("/x")),
                (Some(MountType::TMPFS), None, Some("/cache")),
            ]
        );
        let ports = host.port_bindings.as_ref().unwrap();
        let http = ports["80/tcp"].as_ref().unwrap();
        assert_eq!((http[0].host_ip.as_deref(), http[0].host_port.as_deref()), (Some("127.0.0.1"), Some("8080")));
        assert_eq!(ports["443/udp"].as_ref().unwrap()[0].host_port.as_deref(), Some("8443"));
        let restart = host.restart_policy.as_ref().unwrap();
        assert_eq!((restart.name, restart.maximum_retry_count), (Some(RestartPolicyNameEnum::ON_FAILURE), Some(2)));

        // Created on the highest-priority network, with links there; connected to the rest.
        assert_eq!(host.network_mode.as_deref(), Some("p_back"));
        let endpoints = body.networking_config.as_ref().unwrap().endpoints_config.as_ref().unwrap();
        let back = &endpoints["p_back"];
        assert_eq!(back.aliases.as_deref().unwrap(), ["web", "p-web-1", "api"]);
        assert_eq!(back.links.as_deref().unwrap(), ["p-db-1:database"]);
        assert_eq!(p.extra_networks.len(), 1);
        assert_eq!(p.extra_networks[0].0, "p_default");
        assert_eq!(p.extra_networks[0].1.links, None);
    }

    #[test]
    fn unset_keys_stay_unset() {
        let body = plan(&json!({"image": "x"})).body;
        assert_eq!(
            (body.cmd, body.entrypoint, body.env, body.exposed_ports, body.healthcheck),
            (None, None, None, None, None)
        );
        let host = body.host_config.unwrap();
        assert_eq!((host.binds, host.mounts, host.port_bindings, host.restart_policy), (None, None, None, None));
        assert_eq!(host.network_mode.as_deref(), Some("p_default"));
    }
}
