//! Service `volumes:` entries (short `SOURCE:TARGET:MODE` and long syntax): bind mounts with
//! paths resolved against the project directory, project-scoped named volumes, anonymous
//! volumes and tmpfs mounts.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::error::ComposeError;
use super::keys;
use super::project::resolve_path;
use super::value::{boolean, byte_size, describe, integer, mapping, scalar};

/// One mount of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeMount {
    pub kind: MountKind,
    /// The absolute path inside the container.
    pub target: String,
    pub read_only: bool,
}

/// What is mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountKind {
    Bind {
        /// Absolute host path.
        source: PathBuf,
        /// Create a missing host directory (the short syntax always does, like `docker run -v`).
        create_host_path: bool,
        /// `z` or `Z`.
        selinux: Option<String>,
        /// `rprivate`, `shared`, …
        propagation: Option<String>,
    },
    Volume {
        /// The Docker volume name (`<project>_<name>`), or `None` for an anonymous volume.
        name: Option<String>,
        nocopy: bool,
    },
    Tmpfs {
        size: Option<i64>,
        mode: Option<i64>,
    },
}

const PROPAGATIONS: [&str; 6] = ["private", "rprivate", "shared", "rshared", "slave", "rslave"];

/// What a volume entry needs to know about its project.
pub(super) struct VolumeContext<'a> {
    pub service: &'a str,
    pub project: &'a str,
    pub working_dir: &'a Path,
}

impl VolumeMount {
    pub(super) fn parse(cx: &VolumeContext<'_>, entry: &Value) -> Result<Self, ComposeError> {
        match entry {
            Value::String(text) => parse_short(cx, text)
                .map_err(|why| ComposeError::invalid(cx.service, "volumes", format!("{text:?}: {why}"))),
            Value::Object(map) => parse_long(cx, map),
            other => {
                Err(ComposeError::invalid(cx.service, "volumes", format!("expected a volume, got {}", describe(other))))
            }
        }
    }

    /// The project volume this mount needs created, if any.
    pub fn named_volume(&self) -> Option<&str> {
        match &self.kind {
            MountKind::Volume { name, .. } => name.as_deref(),
            _ => None,
        }
    }
}

/// `[SOURCE:]TARGET[:MODE]`.
fn parse_short(cx: &VolumeContext<'_>, text: &str) -> Result<VolumeMount, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let (source, target, mode) = match parts.as_slice() {
        [target] => (None, *target, None),
        [source, target] => (Some(*source), *target, None),
        [source, target, mode] => (Some(*source), *target, Some(*mode)),
        _ => return Err("expected [SOURCE:]TARGET[:MODE]".into()),
    };
    check_target(target)?;
    let mut read_only = false;
    let (mut selinux, mut propagation, mut nocopy) = (None, None, false);
    for option in mode.into_iter().flat_map(|m| m.split(',')) {
        match option {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "z" | "Z" => selinux = Some(option.to_string()),
            p if PROPAGATIONS.contains(&p) => propagation = Some(p.to_string()),
            "nocopy" => nocopy = true,
            "consistent" | "cached" | "delegated" => {}
            _ => return Err(format!("unknown mode {option:?}")),
        }
    }
    let kind = match source {
        None => MountKind::Volume { name: None, nocopy },
        Some(source) if is_path(source) => {
            MountKind::Bind { source: host_path(cx.working_dir, source)?, create_host_path: true, selinux, propagation }
        }
        Some(name) => MountKind::Volume { name: Some(volume_name(cx.project, name)?), nocopy },
    };
    Ok(VolumeMount { kind, target: target.to_string(), read_only })
}

fn parse_long(cx: &VolumeContext<'_>, map: &Map<String, Value>) -> Result<VolumeMount, ComposeError> {
    let service = cx.service;
    keys::VOLUME.check(service, map)?;
    let field = |key: &str| map.get(key).filter(|v| !v.is_null());
    let invalid = |key: &str, why: String| ComposeError::invalid(service, &format!("volumes.{key}"), why);
    let text = |key: &str| field(key).map(|v| scalar(v).map_err(|why| invalid(key, why))).transpose();
    let table = |key: &str, table: &keys::KeyTable| -> Result<Option<&Map<String, Value>>, ComposeError> {
        let Some(v) = field(key) else { return Ok(None) };
        let m = mapping(v).map_err(|why| invalid(key, why))?;
        table.check(service, m)?;
        Ok(Some(m))
    };
    let sub = |m: Option<&Map<String, Value>>, key: &str| m.and_then(|m| m.get(key)).filter(|v| !v.is_null()).cloned();

    let target = text("target")?.ok_or_else(|| invalid("target", "a long-syntax volume needs `target`".into()))?;
    check_target(&target).map_err(|why| invalid("target", why))?;
    let read_only =
        field("read_only").map(boolean).transpose().map_err(|why| invalid("read_only", why))?.unwrap_or(false);
    let source = text("source")?.filter(|s| !s.is_empty());
    let kind = match text("type")?.as_deref() {
        Some("bind") => {
            let bind = table("bind", &keys::VOLUME_BIND)?;
            let source = source.ok_or_else(|| invalid("source", "a bind mount needs `source`".into()))?;
            let opt = |key: &str| -> Result<Option<String>, ComposeError> {
                sub(bind, key).map(|v| scalar(&v).map_err(|why| invalid(&format!("bind.{key}"), why))).transpose()
            };
            let create_host_path = sub(bind, "create_host_path")
                .map(|v| boolean(&v))
                .transpose()
                .map_err(|why| invalid("bind.create_host_path", why))?
                .unwrap_or(false);
            let selinux = opt("selinux")?;
            if let Some(s) = selinux.as_deref().filter(|s| !matches!(*s, "z" | "Z")) {
                return Err(invalid("bind.selinux", format!("expected z or Z, got {s:?}")));
            }
            let propagation = opt("propagation")?;
            if let Some(p) = propagation.as_deref().filter(|p| !PROPAGATIONS.contains(p)) {
                return Err(invalid("bind.propagation", format!("unknown propagation {p:?}")));
            }
            MountKind::Bind {
                source: host_path(cx.working_dir, &source).map_err(|why| invalid("source", why))?,
                create_host_path,
                selinux,
                propagation,
            }
        }
        Some("volume") => {
            let volume = table("volume", &keys::VOLUME_VOLUME)?;
            let nocopy = sub(volume, "nocopy")
                .map(|v| boolean(&v))
                .transpose()
                .map_err(|why| invalid("volume.nocopy", why))?
                .unwrap_or(false);
            let name = source.map(|s| volume_name(cx.project, &s)).transpose().map_err(|why| invalid("source", why))?;
            MountKind::Volume { name, nocopy }
        }
        Some("tmpfs") => {
            let tmpfs = table("tmpfs", &keys::VOLUME_TMPFS)?;
            let size =
                sub(tmpfs, "size").map(|v| byte_size(&v)).transpose().map_err(|why| invalid("tmpfs.size", why))?;
            let mode =
                sub(tmpfs, "mode").map(|v| file_mode(&v)).transpose().map_err(|why| invalid("tmpfs.mode", why))?;
            MountKind::Tmpfs { size, mode }
        }
        Some(other @ ("npipe" | "cluster" | "image")) => {
            return Err(ComposeError::config(service, format!("volume type {other:?} is not supported by stilt yet")));
        }
        Some(other) => return Err(invalid("type", format!("unknown volume type {other:?}"))),
        None => return Err(invalid("type", "a long-syntax volume needs `type`".into())),
    };
    Ok(VolumeMount { kind, target, read_only })
}

/// `1777` as written (octal digits) or a number already.
fn file_mode(v: &Value) -> Result<i64, String> {
    match v {
        Value::String(s) => {
            i64::from_str_radix(s.trim_start_matches("0o"), 8).map_err(|_| format!("invalid mode {s:?}"))
        }
        other => integer(other),
    }
}

fn check_target(target: &str) -> Result<(), String> {
    if target.starts_with('/') { Ok(()) } else { Err(format!("the container path {target:?} must be absolute")) }
}

fn is_path(source: &str) -> bool {
    source.starts_with(['/', '.', '~'])
}

/// An absolute, normalised host path: relative paths are against the project directory, `~`
/// is `$HOME`.
fn host_path(working_dir: &Path, source: &str) -> Result<PathBuf, String> {
    Ok(match source.strip_prefix('~') {
        Some(rest) => {
            let home = std::env::var_os("HOME").ok_or("`~` in a bind mount, but HOME is not set")?;
            resolve_path(Path::new(&home), rest.trim_start_matches('/'))
        }
        None => resolve_path(working_dir, source),
    })
}

/// A named volume's Docker name: `<project>_<name>`.
fn volume_name(project: &str, name: &str) -> Result<String, String> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        return Err(format!("invalid volume name {name:?}"));
    }
    Ok(format!("{project}_{name}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(v: &Value) -> Result<VolumeMount, String> {
        let cx = VolumeContext { service: "web", project: "p", working_dir: Path::new("/proj") };
        VolumeMount::parse(&cx, v).map_err(|e| e.to_string())
    }

    fn bind(source: &str, create: bool) -> MountKind {
        MountKind::Bind { source: source.into(), create_host_path: create, selinux: None, propagation: None }
    }

    #[test]
    fn short_syntax() {
        assert_eq!(
            parse(&json!("./data:/data")).unwrap(),
            VolumeMount { kind: bind("/proj/data", true), target: "/data".into(), read_only: false }
        );
        assert_eq!(
            parse(&json!("../shared/x:/x:ro,z")).unwrap(),
            VolumeMount {
                kind: MountKind::Bind {
                    source: "/shared/x".into(),
                    create_host_path: true,
                    selinux: Some("z".into()),
                    propagation: None
                },
                target: "/x".into(),
                read_only: true
            }
        );
        assert_eq!(parse(&json!("/abs:/abs:rw")).unwrap().kind, bind("/abs", true));
        assert_eq!(
            parse(&json!("db-data:/var/lib/db:nocopy")).unwrap().kind,
            MountKind::Volume { name: Some("p_db-data".into()), nocopy: true }
        );
        assert_eq!(parse(&json!("/cache")).unwrap().kind, MountKind::Volume { name: None, nocopy: false });
    }

    #[test]
    fn long_syntax() {
        assert_eq!(
            parse(&json!({"type": "bind", "source": "./src", "target": "/src", "read_only": true,
                         "bind": {"create_host_path": true, "propagation": "rshared"}}))
            .unwrap(),
            VolumeMount {
                kind: MountKind::Bind {
                    source: "/proj/src".into(),
                    create_host_path: true,
                    selinux: None,
                    propagation: Some("rshared".into())
                },
                target: "/src".into(),
                read_only: true
            }
        );
        assert_eq!(parse(&json!({"type": "bind", "source": "/a", "target": "/a"})).unwrap().kind, bind("/a", false));
        assert_eq!(
            parse(&json!({"type": "volume", "source": "data", "target": "/d", "volume": {"nocopy": true}}))
                .unwrap()
                .kind,
            MountKind::Volume { name: Some("p_data".into()), nocopy: true }
        );
        assert_eq!(
            parse(&json!({"type": "tmpfs", "target": "/t", "tmpfs": {"size": "64m", "mode": "1777"}})).unwrap().kind,
            MountKind::Tmpfs { size: Some(64 << 20), mode: Some(0o1777) }
        );
    }

    #[test]
    fn malformed_volumes() {
        assert!(parse(&json!("./a:relative")).unwrap_err().contains("must be absolute"));
        assert!(parse(&json!("a:/b:bogus")).unwrap_err().contains("unknown mode \"bogus\""));
        assert!(parse(&json!("a:/b:c:d")).unwrap_err().contains("expected [SOURCE:]TARGET[:MODE]"));
        assert!(parse(&json!({"type": "npipe", "target": "/x"})).unwrap_err().contains("not supported"));
        assert!(
            parse(&json!({"type": "volume", "target": "/x", "volume": {"subpath": "a"}}))
                .unwrap_err()
                .contains("key \"volumes.volume.subpath\" is not supported by stilt yet")
        );
        assert!(parse(&json!({"source": "a", "target": "/x"})).unwrap_err().contains("needs `type`"));
    }
}
