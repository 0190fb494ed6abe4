//! Which compose-spec keys stilt reads, ignores or refuses. A service is checked against these
//! tables before it is parsed, so a typo or an unimplemented feature is an error naming the
//! key, never a silently different container.

use serde_json::{Map, Value};

use super::error::ComposeError;

/// The keys allowed in one mapping of a compose file.
pub(super) struct KeyTable {
    /// Put before key names in messages: `""` for a service, `"build."` under `build`.
    pub prefix: &'static str,
    pub supported: &'static [&'static str],
    /// Valid compose keys that have nothing to do in stilt (accepted, without effect).
    pub ignored: &'static [&'static str],
    /// Valid compose keys stilt does not implement.
    pub unsupported: &'static [&'static str],
}

pub(super) const SERVICE: KeyTable = KeyTable {
    prefix: "",
    supported: &[
        "build",
        "cap_add",
        "cap_drop",
        "command",
        "container_name",
        "cpus",
        "depends_on",
        "dns",
        "dns_opt",
        "dns_search",
        "domainname",
        "entrypoint",
        "env_file",
        "environment",
        "expose",
        "extra_hosts",
        "group_add",
        "healthcheck",
        "hostname",
        "image",
        "init",
        "labels",
        "links",
        "mem_limit",
        "networks",
        "pid",
        "ports",
        "privileged",
        "pull_policy",
        "read_only",
        "restart",
        "security_opt",
        "shm_size",
        "stdin_open",
        "stop_grace_period",
        "stop_signal",
        "sysctls",
        "tmpfs",
        "tty",
        "ulimits",
        "user",
        "volumes",
        "working_dir",
    ],
    ignored: &["deploy", "logging", "platform", "profiles"],
    unsupported: &[
        "annotations",
        "attach",
        "blkio_config",
        "cgroup",
        "cgroup_parent",
        "configs",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpu_shares",
        "cpuset",
        "credential_spec",
        "develop",
        "device_cgroup_rules",
        "devices",
        "extends",
        "external_links",
        "gpus",
        "ipc",
        "isolation",
        "label_file",
        "mac_address",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "models",
        "network_mode",
        "oom_kill_disable",
        "oom_score_adj",
        "pids_limit",
        "post_start",
        "pre_stop",
        "provider",
        "pull_refresh_after",
        "runtime",
        "scale",
        "secrets",
        "storage_opt",
        "use_api_socket",
        "userns_mode",
        "uts",
        "volumes_from",
    ],
};

pub(super) const BUILD: KeyTable = KeyTable {
    prefix: "build.",
    supported: &["args", "context", "dockerfile", "target"],
    ignored: &[],
    unsupported: &[
        "additional_contexts",
        "cache_from",
        "cache_to",
        "dockerfile_inline",
        "entitlements",
        "extra_hosts",
        "isolation",
        "labels",
        "network",
        "no_cache",
        "platforms",
        "privileged",
        "provenance",
        "pull",
        "sbom",
        "secrets",
        "shm_size",
        "ssh",
        "tags",
        "ulimits",
    ],
};

pub(super) const PORT: KeyTable = KeyTable {
    prefix: "ports.",
    supported: &["host_ip", "mode", "protocol", "published", "target"],
    ignored: &["app_protocol", "name"],
    unsupported: &[],
};

pub(super) const VOLUME: KeyTable = KeyTable {
    prefix: "volumes.",
    supported: &["bind", "read_only", "source", "target", "tmpfs", "type", "volume"],
    ignored: &["consistency"],
    unsupported: &[],
};

pub(super) const VOLUME_BIND: KeyTable = KeyTable {
    prefix: "volumes.bind.",
    supported: &["create_host_path", "propagation", "selinux"],
    ignored: &[],
    unsupported: &[],
};

pub(super) const VOLUME_VOLUME: KeyTable =
    KeyTable { prefix: "volumes.volume.", supported: &["nocopy"], ignored: &[], unsupported: &["subpath"] };

pub(super) const VOLUME_TMPFS: KeyTable =
    KeyTable { prefix: "volumes.tmpfs.", supported: &["mode", "size"], ignored: &[], unsupported: &[] };

pub(super) const HEALTHCHECK: KeyTable = KeyTable {
    prefix: "healthcheck.",
    supported: &["disable", "interval", "retries", "start_interval", "start_period", "test", "timeout"],
    ignored: &[],
    unsupported: &[],
};

pub(super) const NETWORK: KeyTable = KeyTable {
    prefix: "networks.",
    supported: &["aliases", "priority"],
    ignored: &[],
    unsupported: &[
        "driver_opts",
        "gw_priority",
        "interface_name",
        "ipv4_address",
        "ipv6_address",
        "link_local_ips",
        "mac_address",
    ],
};

pub(super) const ENV_FILE: KeyTable =
    KeyTable { prefix: "env_file.", supported: &["path", "required"], ignored: &[], unsupported: &["format"] };

pub(super) const ULIMIT: KeyTable =
    KeyTable { prefix: "ulimits.", supported: &["hard", "soft"], ignored: &[], unsupported: &[] };

impl KeyTable {
    /// Fails on the first key (in name order) that is neither supported nor ignored;
    /// `x-*` extension keys are always allowed.
    pub(super) fn check(&self, service: &str, map: &Map<String, Value>) -> Result<(), ComposeError> {
        let mut keys: Vec<&String> = map.keys().collect();
        keys.sort();
        for key in keys {
            if key.starts_with("x-") || self.supported.contains(&key.as_str()) || self.ignored.contains(&key.as_str()) {
                continue;
            }
            let full = format!("{}{key}", self.prefix);
            if self.unsupported.contains(&key.as_str()) {
                return Err(ComposeError::config(service, format!("key {full:?} is not supported by stilt yet")));
            }
            let mut reason = format!("unknown key {full:?}");
            if let Some(near) = self.nearest(key) {
                reason.push_str(&format!(" (did you mean \"{}{near}\"?)", self.prefix));
            }
            return Err(ComposeError::config(service, reason));
        }
        Ok(())
    }

    /// The known key closest to `key`, when at most two edits away.
    fn nearest(&self, key: &str) -> Option<&'static str> {
        self.supported
            .iter()
            .chain(self.ignored)
            .chain(self.unsupported)
            .map(|known| (edit_distance(key, known), *known))
            .filter(|(d, _)| *d <= 2)
            .min()
            .map(|(_, known)| known)
    }
}

/// Optimal-string-alignment distance: insertions, deletions, substitutions and adjacent
/// transpositions each cost one.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1).min(rows[i][j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(edit_distance("imgae", "image"), 1);
        assert_eq!(edit_distance("port", "ports"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("volumes", "volumes"), 0);
    }

    #[test]
    fn tables_do_not_overlap() {
        for table in [&SERVICE, &BUILD, &PORT, &VOLUME, &HEALTHCHECK, &NETWORK, &ENV_FILE, &ULIMIT] {
            let mut all: Vec<&str> =
                table.supported.iter().chain(table.ignored).chain(table.unsupported).copied().collect();
            let n = all.len();
            all.sort_unstable();
            all.dedup();
            assert_eq!(all.len(), n, "a key is listed twice under {:?}", table.prefix);
        }
    }
}
