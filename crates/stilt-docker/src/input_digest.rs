//! The digest of a build's inputs: everything the image a build produces depends on, so that
//! an image tagged `<name>:stilt-in-<digest>` by an earlier run can be deployed instead of
//! building again (`stilt ci --reuse-images`).
//!
//! What counts (docs/images.md, "Reusing images"): every context entry that is sent (after
//! `.dockerignore`, `ignore=` and `only=`) by path, kind, permission bits and content (a
//! symlink by its target); the Dockerfile text as sent (image dependencies already written
//! into it); build args; target; platform; network and extra hosts (RUN steps can see them);
//! labels; and the image id of every image the Dockerfile builds on (`FROM`, `COPY --from`)
//! that the engine has — a dependency built in this run is one of them. Not counted: mtimes,
//! owners (the daemon owns what it extracts), `cache_from` and `pull` (they change how fast,
//! not what). Each field is written with its length before it, so two different input sets
//! never feed the hash the same bytes.

use std::fs;
use std::io::{self, Read};
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;

use crate::context::{ContextPlan, Entry};

/// The tag prefix of input-addressed tags.
pub const INPUT_TAG_PREFIX: &str = "stilt-in-";

/// Hex digits of the digest in a tag (128 bits of BLAKE3).
const DIGEST_HEX: usize = 32;

/// Everything a build's result depends on (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BuildInputs {
    /// [`context_digest`] of the context as sent.
    pub context: String,
    /// The Dockerfile text as sent to the daemon.
    pub dockerfile: String,
    pub build_args: Vec<(String, String)>,
    pub target: Option<String>,
    pub platform: Option<String>,
    pub network: Option<String>,
    pub extra_hosts: Vec<String>,
    pub labels: Vec<(String, String)>,
    /// Each image the Dockerfile names (`FROM`, `COPY --from`), with its image id when the
    /// engine has it (`None`: counted by its ref only).
    pub images: Vec<(String, Option<String>)>,
}

impl BuildInputs {
    /// The inputs' digest: 32 hex digits. Pure: the same inputs give the same digest.
    pub fn digest(&self) -> String {
        let mut h = Fields::default();
        h.str("stilt-build-inputs/v1");
        h.str(&self.context);
        h.str(&self.dockerfile);
        let mut args = self.build_args.clone();
        args.sort();
        h.pairs(&args);
        h.opt(self.target.as_deref());
        h.opt(self.platform.as_deref());
        h.opt(self.network.as_deref());
        h.list(&self.extra_hosts);
        let mut labels = self.labels.clone();
        labels.sort();
        h.pairs(&labels);
        h.len(self.images.len());
        for (r, id) in &self.images {
            h.str(r);
            h.opt(id.as_deref());
        }
        h.hex()
    }

    /// `stilt-in-<digest>`.
    pub fn tag(&self) -> String {
        format!("{INPUT_TAG_PREFIX}{}", self.digest())
    }
}

/// Length-prefixed fields into one hash.
#[derive(Default)]
struct Fields(blake3::Hasher);

impl Fields {
    fn len(&mut self, n: usize) {
        self.0.update(&(n as u64).to_le_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.0.update(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt(&mut self, s: Option<&str>) {
        match s {
            None => {
                self.0.update(&[0]);
            }
            Some(s) => {
                self.0.update(&[1]);
                self.str(s);
            }
        }
    }
    fn list(&mut self, items: &[String]) {
        self.len(items.len());
        for i in items {
            self.str(i);
        }
    }
    fn pairs(&mut self, items: &[(String, String)]) {
        self.len(items.len());
        for (k, v) in items {
            self.str(k);
            self.str(v);
        }
    }
    fn hex(&self) -> String {
        self.0.finalize().to_hex()[..DIGEST_HEX].to_string()
    }
}

/// The digest of the context as it is sent (the entries of the tar, in order): path, kind,
/// permission bits and content of each. Reads every file once.
pub(crate) fn context_digest(plan: &ContextPlan) -> io::Result<String> {
    let mut h = Fields::default();
    h.str("stilt-context/v1");
    let mut buf = vec![0u8; 64 * 1024];
    plan.visit(&mut |entry| {
        match entry {
            Entry::Synthetic { name, bytes } => {
                h.str("f");
                h.str(name);
                h.len(0o644);
                h.bytes(bytes);
            }
            Entry::Disk { rel, path, meta } => {
                let ft = meta.file_type();
                #[cfg(unix)]
                let mode = meta.permissions().mode() & 0o7777;
                #[cfg(not(unix))]
                let mode = if meta.permissions().readonly() { 0o444 } else { 0o644 };
                if ft.is_dir() {
                    h.str("d");
                    h.str(rel);
                    h.len(mode as usize);
                } else if ft.is_symlink() {
                    h.str("l");
                    h.str(rel);
                    let target = fs::read_link(path)?;
                    h.str(&target.to_string_lossy());
                } else if ft.is_file() {
                    h.str("f");
                    h.str(rel);
                    h.len(mode as usize);
                    let mut f = fs::File::open(path)
                        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
                    h.len(usize::try_from(meta.len()).unwrap_or(usize::MAX));
                    loop {
                        let n = f.read(&mut buf)?;
                        if n == 0 {
                            break;
                        }
                        h.0.update(&buf[..n]);
                    }
                }
            }
        }
        Ok(())
    })?;
    Ok(h.hex())
}

/// The images a Dockerfile builds on: `FROM` images and `COPY/ADD --from=` images that are
/// not build stages, `scratch` or stage indexes, in order, each once.
pub fn base_images(dockerfile: &str) -> Vec<String> {
    let mut stages: Vec<String> = Vec::new();
    let mut out: Vec<String> = Vec::new();
    let push = |image: &str, stages: &[String], out: &mut Vec<String>| {
        let lower = image.to_lowercase();
        if lower != "scratch"
            && !stages.contains(&lower)
            && image.parse::<usize>().is_err()
            && !out.iter().any(|o| o == image)
        {
            out.push(image.to_string());
        }
    };
    for line in dockerfile.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(instr) = words.first().map(|w| w.to_ascii_uppercase()) else { continue };
        match instr.as_str() {
            "FROM" => {
                let Some(at) = words.iter().skip(1).position(|w| !w.starts_with("--")).map(|i| i + 1) else { continue };
                push(words[at], &stages, &mut out);
                if words.get(at + 1).is_some_and(|w| w.eq_ignore_ascii_case("as"))
                    && let Some(alias) = words.get(at + 2)
                {
                    stages.push(alias.to_lowercase());
                }
            }
            "COPY" | "ADD" => {
                if let Some(from) = words.iter().find_map(|w| w.strip_prefix("--from=")) {
                    push(from, &stages, &mut out);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn ctx(root: &Path) -> String {
        let plan = ContextPlan::new(root, &[], &[], ("Dockerfile".into(), None)).unwrap();
        context_digest(&plan).unwrap()
    }

    fn inputs() -> BuildInputs {
        BuildInputs {
            context: "c0ffee".into(),
            dockerfile: "FROM base\nRUN make\n".into(),
            build_args: vec![("A".into(), "1".into()), ("B".into(), "2".into())],
            target: Some("app".into()),
            platform: Some("linux/amd64".into()),
            network: None,
            extra_hosts: vec![],
            labels: vec![],
            images: vec![("base".into(), Some("sha256:aaa".into()))],
        }
    }

    type Change = Box<dyn Fn(&mut BuildInputs)>;

    #[test]
    fn every_single_input_changes_the_digest() {
        let base = inputs();
        let d = base.digest();
        assert_eq!(d.len(), 32);
        assert_eq!(d, inputs().digest(), "pure");
        assert_eq!(base.tag(), format!("stilt-in-{d}"));
        let mut args_reordered = inputs();
        args_reordered.build_args.reverse();
        assert_eq!(args_reordered.digest(), d, "build args are a set");

        let changes: Vec<(&str, Change)> = vec![
            ("context", Box::new(|i| i.context = "c0ffef".into())),
            ("dockerfile", Box::new(|i| i.dockerfile.push('\n'))),
            ("build arg value", Box::new(|i| i.build_args[0].1 = "2".into())),
            ("build arg added", Box::new(|i| i.build_args.push(("C".into(), String::new())))),
            ("target", Box::new(|i| i.target = Some("test".into()))),
            ("no target", Box::new(|i| i.target = None)),
            ("empty target", Box::new(|i| i.target = Some(String::new()))),
            ("platform", Box::new(|i| i.platform = Some("linux/arm64".into()))),
            ("network", Box::new(|i| i.network = Some("host".into()))),
            ("extra host", Box::new(|i| i.extra_hosts.push("h:1.2.3.4".into()))),
            ("label", Box::new(|i| i.labels.push(("k".into(), "v".into())))),
            ("base image id", Box::new(|i| i.images[0].1 = Some("sha256:bbb".into()))),
            ("base image unresolved", Box::new(|i| i.images[0].1 = None)),
            ("another image", Box::new(|i| i.images.push(("other".into(), None)))),
        ];
        let mut seen = vec![d.clone()];
        for (what, change) in changes {
            let mut i = inputs();
            change(&mut i);
            let di = i.digest();
            assert!(!seen.contains(&di), "changing the {what} did not change the digest");
            seen.push(di);
        }
        // Field boundaries are part of the hash: moving a character between fields changes it.
        let mut a = inputs();
        a.build_args = vec![("AB".into(), "C".into())];
        let mut b = inputs();
        b.build_args = vec![("A".into(), "BC".into())];
        assert_ne!(a.digest(), b.digest());
    }

    #[test]
    fn context_digest_follows_content_mode_and_path_but_not_ignored_files() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(r, "Dockerfile", "FROM x\nCOPY . /app\n");
        write(r, "src/main.rs", "fn main() {}");
        write(r, ".dockerignore", "*.log\ntmp\n");
        let first = ctx(r);
        assert_eq!(ctx(r), first, "deterministic");

        // Excluded by .dockerignore: no change.
        write(r, "debug.log", "noise");
        write(r, "tmp/cache.bin", "noise");
        assert_eq!(ctx(r), first, "ignored files do not count");
        // mtime alone: no change.
        let f = fs::File::options().write(true).open(r.join("src/main.rs")).unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        drop(f);
        assert_eq!(ctx(r), first, "mtimes do not count");

        // Content.
        write(r, "src/main.rs", "fn main() { }");
        let content = ctx(r);
        assert_ne!(content, first);
        // Path (same content, another name).
        fs::rename(r.join("src/main.rs"), r.join("src/lib.rs")).unwrap();
        let path = ctx(r);
        assert_ne!(path, content);
        // Mode.
        #[cfg(unix)]
        {
            fs::set_permissions(r.join("src/lib.rs"), fs::Permissions::from_mode(0o755)).unwrap();
            assert_ne!(ctx(r), path, "mode counts");
        }
        // A new file that is sent.
        write(r, "README", "r");
        let with_readme = ctx(r);
        // The .dockerignore itself is sent, so it counts too.
        write(r, ".dockerignore", "*.log\ntmp\nREADME\n");
        assert_ne!(ctx(r), with_readme);
    }

    #[test]
    fn base_images_skip_stages_scratch_and_indexes() {
        let text = "FROM --platform=linux/amd64 golang:1.22 AS build\nRUN make\nFROM scratch\n\
                    COPY --from=build /a /a\nCOPY --from=0 /b /b\nCOPY --from=tools:1 /c /c\nFROM base:tilt-1\n\
                    from golang:1.22\n";
        assert_eq!(base_images(text), ["golang:1.22", "tools:1", "base:tilt-1"]);
    }
}
