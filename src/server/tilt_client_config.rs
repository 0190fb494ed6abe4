//! Tilt's client config: the kubeconfig-format file in which every running Tilt registers itself
//! as `tilt-<port>` (`tilt-default` on 10350), so `tilt get --port N` finds its API server.
//! stilt registers the same way while `stilt ci` runs and removes its entries at exit.
//!
//! Where (Tilt's `ProvideConfigAccess` and wmclient's `GetTiltDevDir`): `$TILT_CONFIG` if set,
//! else `<dir>/config` with `<dir>` = `$TILT_DEV_DIR`, `$WMDAEMON_HOME`, `$WINDMILL_DIR`,
//! `~/.windmill` if it exists, else `~/.tilt-dev`. Changes happen under an exclusive `flock` of
//! `<config>.lock`, the lock Tilt itself takes, so concurrent instances never lose each other's
//! entries. Removal deletes only entries that are still ours (same server URL and token): a
//! stale `tilt-<port>` left by a killed run is simply overwritten by the next run on that port
//! (nothing else can be listening there once stilt holds the port).

use serde_json::{Map, Value, json};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reading or writing Tilt's client config failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    /// Lock, read or write failure.
    #[error("failed to {action} Tilt's client config {}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a kubeconfig.
    #[error("Tilt's client config {} is not valid YAML", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    /// Rendering failed.
    #[error("failed to render Tilt's client config {}", path.display())]
    Render {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: Box<serde_saphyr::ser::Error>,
    },
}

/// Tilt's name for the instance on `port` (`model.DefaultAPIServerName`... `tilt-default` on 10350).
pub fn api_server_name(port: u16) -> String {
    if port == 10350 { "tilt-default".to_string() } else { format!("tilt-{port}") }
}

/// Tilt's settings directory (`~/.tilt-dev`), as wmclient resolves it.
pub fn tilt_dev_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(d) = set("TILT_DEV_DIR").or_else(|| set("WMDAEMON_HOME")).or_else(|| set("WINDMILL_DIR")) {
        return Some(std::path::absolute(&d).unwrap_or_else(|_| PathBuf::from(d)));
    }
    let home = PathBuf::from(set("HOME")?);
    let windmill = home.join(".windmill");
    Some(if windmill.exists() { windmill } else { home.join(".tilt-dev") })
}

/// The client config file Tilt's CLI reads.
pub fn config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(list) = env("TILT_CONFIG").filter(|v| !v.is_empty()) {
        // client-go takes the first of a `:`-separated list.
        if let Some(first) = list.split(':').find(|p| !p.is_empty()) {
            return Some(PathBuf::from(first));
        }
    }
    tilt_dev_dir(env).map(|d| d.join("config"))
}

/// One instance's entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `tilt-<port>`.
    pub name: String,
    /// The API server URL (`http://127.0.0.1:<port>`).
    pub server: String,
    /// Bearer token written for the instance; also marks the entries as this run's.
    pub token: String,
}

fn named_list<'a>(doc: &'a mut Map<String, Value>, key: &str) -> &'a mut Vec<Value> {
    let v = doc.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
    if !v.is_array() {
        *v = Value::Array(Vec::new());
    }
    v.as_array_mut().expect("array")
}

fn upsert(list: &mut Vec<Value>, name: &str, item: Value) {
    list.retain(|e| e.get("name").and_then(Value::as_str) != Some(name));
    list.push(item);
    list.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
}

fn doc_object(doc: Value) -> Map<String, Value> {
    match doc {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `doc` with `entry`'s cluster, context and user added, replacing any of the same name.
pub fn with_entry(doc: Value, entry: &Entry) -> Value {
    let mut m = doc_object(doc);
    m.entry("apiVersion").or_insert_with(|| json!("v1"));
    m.entry("kind").or_insert_with(|| json!("Config"));
    m.entry("preferences").or_insert_with(|| json!({}));
    m.entry("current-context").or_insert_with(|| json!(""));
    let n = entry.name.as_str();
    upsert(named_list(&mut m, "clusters"), n, json!({"name": n, "cluster": {"server": entry.server}}));
    upsert(named_list(&mut m, "contexts"), n, json!({"name": n, "context": {"cluster": n, "user": n}}));
    upsert(named_list(&mut m, "users"), n, json!({"name": n, "user": {"token": entry.token}}));
    Value::Object(m)
}

/// `doc` without `entry`'s three entries, if they are still this entry's (same server and
/// token); otherwise unchanged. The flag says whether anything was removed.
pub fn without_entry(doc: Value, entry: &Entry) -> (Value, bool) {
    let mut m = doc_object(doc);
    let n = entry.name.as_str();
    let named = |v: &Value| v.get("name").and_then(Value::as_str) == Some(n);
    let ours_cluster = m
        .get("clusters")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|c| named(c) && c["cluster"]["server"].as_str() == Some(entry.server.as_str())));
    let ours_user = m
        .get("users")
        .and_then(Value::as_array)
        .is_some_and(|l| l.iter().any(|u| named(u) && u["user"]["token"].as_str() == Some(entry.token.as_str())));
    if !(ours_cluster && ours_user) {
        return (Value::Object(m), false);
    }
    for key in ["clusters", "contexts", "users"] {
        named_list(&mut m, key).retain(|e| !named(e));
    }
    (Value::Object(m), true)
}

/// How to reach the instance registered as `name`: its server URL, bearer token and CA
/// certificate data (base64 PEM, Tilt's self-signed API server certificate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `https://127.0.0.1:<api port>` for Tilt, `http://127.0.0.1:<port>` for stilt.
    pub server: String,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// `certificate-authority-data`, if any.
    pub ca_data: Option<String>,
}

/// The endpoint of context `name` in `doc`.
pub fn endpoint(doc: &Value, name: &str) -> Option<Endpoint> {
    let find = |key: &str, item: &str, n: &str| -> Option<Value> {
        doc.get(key)?.as_array()?.iter().find(|e| e.get("name").and_then(Value::as_str) == Some(n))?.get(item).cloned()
    };
    let context = find("contexts", "context", name)?;
    let cluster = find("clusters", "cluster", context.get("cluster")?.as_str()?)?;
    let user = context.get("user").and_then(Value::as_str).and_then(|u| find("users", "user", u));
    let text = |v: Option<&Value>| v.and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    Some(Endpoint {
        server: text(cluster.get("server"))?,
        token: text(user.as_ref().and_then(|u| u.get("token"))),
        ca_data: text(cluster.get("certificate-authority-data")),
    })
}

/// The file, its lock and the edits.
#[derive(Debug, Clone)]
pub struct TiltClientConfig {
    path: PathBuf,
}

struct Locked {
    _lock: nix::fcntl::Flock<File>,
}

impl TiltClientConfig {
    /// The config at `path`.
    pub fn at(path: PathBuf) -> Self {
        TiltClientConfig { path }
    }

    /// The config Tilt's CLI reads in this environment.
    pub fn from_env() -> Option<Self> {
        config_path(&|k| std::env::var(k).ok()).map(Self::at)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, action: &'static str) -> impl FnOnce(std::io::Error) -> ClientConfigError + '_ {
        move |source| ClientConfigError::Io { action, path: self.path.clone(), source }
    }

    fn lock(&self) -> Result<Locked, ClientConfigError> {
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(self.io("create the directory of"))?;
        }
        let mut lock_path = self.path.clone().into_os_string();
        lock_path.push(".lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(self.io("open the lock file of"))?;
        let lock = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
            .map_err(|(_, errno)| (self.io("lock"))(std::io::Error::from(errno)))?;
        Ok(Locked { _lock: lock })
    }

    /// The parsed file (`null` when absent or empty).
    pub fn read(&self) -> Result<Value, ClientConfigError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Value::Null),
            Err(e) => return Err((self.io("read"))(e)),
        };
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_saphyr::from_str(&text)
            .map_err(|e| ClientConfigError::Parse { path: self.path.clone(), source: Box::new(e) })
    }

    fn write(&self, doc: &Value) -> Result<(), ClientConfigError> {
        let text = crate::cli::get_command::to_yaml(doc)
            .map_err(|e| ClientConfigError::Render { path: self.path.clone(), source: Box::new(e) })?;
        let tmp = self.path.with_extension(format!("stilt-{}.tmp", std::process::id()));
        let res = (|| {
            let mut f = OpenOptions::new().create(true).truncate(true).write(true).open(&tmp)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        })();
        if res.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        res.map_err(self.io("write"))
    }

    /// Adds (or replaces) `entry`.
    pub fn register(&self, entry: &Entry) -> Result<(), ClientConfigError> {
        let _lock = self.lock()?;
        let doc = self.read()?;
        self.write(&with_entry(doc, entry))
    }

    /// Removes `entry` if it is still ours; says whether it was.
    pub fn unregister(&self, entry: &Entry) -> Result<bool, ClientConfigError> {
        let _lock = self.lock()?;
        let doc = self.read()?;
        let (doc, removed) = without_entry(doc, entry);
        if removed {
            self.write(&doc)?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(port: u16, token: &str) -> Entry {
        Entry { name: api_server_name(port), server: format!("http://127.0.0.1:{port}"), token: token.into() }
    }

    #[test]
    fn names_follow_tilt() {
        assert_eq!(api_server_name(10350), "tilt-default");
        assert_eq!(api_server_name(10351), "tilt-10351");
    }

    #[test]
    fn locates_the_config_like_tilt() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_string())
        };
        assert_eq!(config_path(&env(&[("TILT_CONFIG", "/x/c:/y/d"), ("HOME", "/h")])), Some("/x/c".into()));
        assert_eq!(config_path(&env(&[("TILT_DEV_DIR", "/t"), ("HOME", "/h")])), Some("/t/config".into()));
        assert_eq!(config_path(&env(&[("WINDMILL_DIR", "/w"), ("HOME", "/h")])), Some("/w/config".into()));
        assert_eq!(
            config_path(&env(&[("HOME", "/nonexistent-home")])),
            Some("/nonexistent-home/.tilt-dev/config".into())
        );
        assert_eq!(config_path(&env(&[])), None);
    }

    #[test]
    fn adds_replaces_and_removes_only_its_own_entries() {
        let other = json!({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "tilt-default", "cluster": {"server": "https://127.0.0.1:40000", "certificate-authority-data": "Q0E="}}],
            "contexts": [{"name": "tilt-default", "context": {"cluster": "tilt-default", "user": "tilt-default"}}],
            "users": [{"name": "tilt-default", "user": {"token": "real"}}],
        });
        let a = entry(10351, "a");
        let doc = with_entry(other.clone(), &a);
        assert_eq!(doc["clusters"].as_array().unwrap().len(), 2);
        // Sorted by name, as client-go writes them.
        assert_eq!(doc["clusters"][0]["cluster"]["server"], "http://127.0.0.1:10351");
        assert_eq!(doc["contexts"][0]["context"]["user"], "tilt-10351");
        assert_eq!(doc["clusters"][1]["cluster"]["certificate-authority-data"], "Q0E=");
        // A stale entry of the same name (a killed run) is replaced, not duplicated.
        let stale = with_entry(other.clone(), &entry(10351, "stale"));
        let doc2 = with_entry(stale, &a);
        assert_eq!(doc2, doc);
        // Removal needs both the server and the token to be ours.
        let (same, removed) = without_entry(doc.clone(), &entry(10351, "someone-else"));
        assert!(!removed);
        assert_eq!(same, doc);
        let (back, removed) = without_entry(doc, &a);
        assert!(removed);
        assert_eq!(back["clusters"], other["clusters"]);
        assert_eq!(back["users"], other["users"]);
    }

    #[test]
    fn finds_an_instances_endpoint() {
        let doc = with_entry(Value::Null, &entry(10351, "t"));
        let e = endpoint(&doc, "tilt-10351").unwrap();
        assert_eq!(e.server, "http://127.0.0.1:10351");
        assert_eq!(e.token.as_deref(), Some("t"));
        assert_eq!(e.ca_data, None);
        assert_eq!(endpoint(&doc, "tilt-default"), None);
    }

    #[test]
    fn register_and_unregister_round_trip_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = TiltClientConfig::at(dir.path().join("sub/config"));
        let a = entry(10352, "a");
        let b = entry(10353, "b");
        cfg.register(&a).unwrap();
        cfg.register(&b).unwrap();
        let doc = cfg.read().unwrap();
        assert_eq!(doc["contexts"].as_array().unwrap().len(), 2, "{doc}");
        assert!(cfg.unregister(&a).unwrap());
        assert!(!cfg.unregister(&a).unwrap(), "second removal finds nothing of ours");
        let doc = cfg.read().unwrap();
        assert_eq!(doc["contexts"][0]["name"], "tilt-10353");
        assert_eq!(doc["kind"], "Config");
    }
}
