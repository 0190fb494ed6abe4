//! The build context: which files are sent (`.dockerignore`, Tilt's `ignore=`/`only=`), and the
//! tar stream itself, written on a blocking thread into a bounded channel so the context is
//! never held whole in memory.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::ignore::{PatternError, PatternMatcher};

/// Size of one chunk handed to the HTTP body.
const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the tar thread and the request (bounds memory to ~CHUNK × this).
const CHANNEL_DEPTH: usize = 8;

/// What goes into the context tar.
#[derive(Debug)]
pub struct ContextPlan {
    pub root: PathBuf,
    /// The context's own `.dockerignore`.
    dockerignore: PatternMatcher,
    /// Tilt's `ignore=` patterns.
    ignore: PatternMatcher,
    /// Tilt's `only=`, as `**` + `!<path>` patterns (Tilt's translation).
    only: PatternMatcher,
    /// Paths (relative, `/`-separated) sent whatever the patterns say, with the bytes to send
    /// when they are not read from the context (`None`: read the file).
    always: Vec<(String, Option<Vec<u8>>)>,
}

/// Counts, for logs and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ContextStats {
    pub files: u64,
    pub bytes: u64,
}

impl ContextPlan {
    /// `dockerfile`: where the daemon reads the Dockerfile — a path inside the context
    /// (relative, `/`-separated), read from disk (`None`) or sent with these contents instead,
    /// or a synthetic name with its contents.
    pub(crate) fn new(
        root: &Path,
        ignore: &[String],
        only: &[String],
        dockerfile: (String, Option<Vec<u8>>),
    ) -> Result<Self, PatternError> {
        let di_path = root.join(".dockerignore");
        let di_text = fs::read_to_string(&di_path).ok();
        let dockerignore = PatternMatcher::from_dockerignore(di_text.as_deref().unwrap_or_default())?;
        let ignore = PatternMatcher::new(ignore)?;
        let only = if only.is_empty() {
            PatternMatcher::default()
        } else {
            let mut pats = vec!["**".to_string()];
            pats.extend(only.iter().map(|o| format!("!{o}")));
            PatternMatcher::new(&pats)?
        };
        let mut always = Vec::new();
        let (df_name, df_contents) = dockerfile;
        // Contents for a path the context has replace that file (image dependencies written
        // into the user's Dockerfile); contents under a name it does not have are hidden.
        if df_contents.is_some() && !root.join(&df_name).exists() {
            // Like the docker CLI with a Dockerfile from outside the context: send it under a
            // unique name and list that name in the .dockerignore we send, so the daemon drops
            // it from the context after reading it (COPY . never sees it).
            // A context without a .dockerignore must not gain one either: list it too.
            let mut di = di_text.clone().unwrap_or_default().into_bytes();
            di.extend_from_slice(format!("\n{df_name}\n").as_bytes());
            if di_text.is_none() {
                di.extend_from_slice(b".dockerignore\n");
            }
            always.push((".dockerignore".to_string(), Some(di)));
        } else if di_text.is_some() {
            always.push((".dockerignore".to_string(), None));
        }
        always.push((df_name, df_contents));
        Ok(Self { root: root.to_path_buf(), dockerignore, ignore, only, always })
    }

    fn excluded(&self, rel: &str) -> bool {
        self.dockerignore.matches(rel) || self.ignore.matches(rel) || self.only.matches(rel)
    }

    /// For an excluded directory: can the walk skip it entirely?
    fn can_skip_dir(&self, rel: &str) -> bool {
        [&self.dockerignore, &self.ignore, &self.only].iter().any(|m| m.matches(rel) && !m.may_reinclude_below(rel))
    }

    /// Writes the whole context as a tar to `out`.
    pub fn write_tar<W: Write>(&self, out: W) -> io::Result<(W, ContextStats)> {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        let mut stats = ContextStats::default();
        self.visit(&mut |entry| match entry {
            Entry::Synthetic { name, bytes } => {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                h.set_size(bytes.len() as u64);
                h.set_mtime(0);
                tar.append_data(&mut h, name, bytes)?;
                stats.files += 1;
                stats.bytes += bytes.len() as u64;
                Ok(())
            }
            Entry::Disk { rel, path, meta } => append_entry(&mut tar, path, rel, meta, &mut stats),
        })?;
        let out = tar.into_inner()?;
        Ok((out, stats))
    }

    /// Every entry sent, in the tar's order: the `always` entries, then the walk.
    pub(crate) fn visit(&self, f: &mut dyn FnMut(Entry<'_>) -> io::Result<()>) -> io::Result<()> {
        for (name, contents) in &self.always {
            if let Some(bytes) = contents {
                f(Entry::Synthetic { name, bytes })?;
            } else {
                let path = self.root.join(name);
                let meta = fs::metadata(&path).map_err(|e| annotate(&e, &path))?;
                f(Entry::Disk { rel: name, path: &path, meta: &meta })?;
            }
        }
        self.walk(&self.root, "", f)
    }

    fn walk(&self, dir: &Path, rel_dir: &str, f: &mut dyn FnMut(Entry<'_>) -> io::Result<()>) -> io::Result<()> {
        let mut entries = fs::read_dir(dir)
            .map_err(|e| annotate(&e, dir))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| annotate(&e, dir))?;
        entries.sort_by_key(fs::DirEntry::file_name);
        for entry in entries {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: file name is not UTF-8", entry.path().display()),
                ));
            };
            let rel = if rel_dir.is_empty() { name.to_string() } else { format!("{rel_dir}/{name}") };
            if self.always.iter().any(|(a, _)| *a == rel) {
                continue;
            }
            let path = entry.path();
            let meta = fs::symlink_metadata(&path).map_err(|e| annotate(&e, &path))?;
            if self.excluded(&rel) {
                if meta.is_dir() && !self.can_skip_dir(&rel) {
                    self.walk(&path, &rel, f)?;
                }
                continue;
            }
            f(Entry::Disk { rel: &rel, path: &path, meta: &meta })?;
            if meta.is_dir() {
                self.walk(&path, &rel, f)?;
            }
        }
        Ok(())
    }
}

/// One entry of the context.
pub(crate) enum Entry<'a> {
    /// Bytes stilt makes up (a Dockerfile from outside the context, the `.dockerignore` naming it).
    Synthetic { name: &'a str, bytes: &'a [u8] },
    /// A file, directory or symlink of the context directory.
    Disk { rel: &'a str, path: &'a Path, meta: &'a fs::Metadata },
}

fn annotate(e: &io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn append_entry<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &Path,
    rel: &str,
    meta: &fs::Metadata,
    stats: &mut ContextStats,
) -> io::Result<()> {
    let mut h = tar::Header::new_gnu();
    h.set_metadata_in_mode(meta, tar::HeaderMode::Complete);
    // As the docker CLI does (ChownOpts 0:0): the daemon owns what it extracts.
    h.set_uid(0);
    h.set_gid(0);
    h.set_username("")?;
    h.set_groupname("")?;
    let ft = meta.file_type();
    if ft.is_dir() {
        h.set_size(0);
        tar.append_data(&mut h, format!("{rel}/"), io::empty()).map_err(|e| annotate(&e, path))
    } else if ft.is_symlink() {
        let target = fs::read_link(path).map_err(|e| annotate(&e, path))?;
        h.set_size(0);
        tar.append_link(&mut h, rel, target).map_err(|e| annotate(&e, path))
    } else if ft.is_file() {
        let f = fs::File::open(path).map_err(|e| annotate(&e, path))?;
        stats.files += 1;
        stats.bytes += meta.len();
        tar.append_data(&mut h, rel, f).map_err(|e| annotate(&e, path))
    } else {
        // Sockets, fifos, devices: the docker CLI sends them as headers only; skip them.
        Ok(())
    }
}

/// A `Write` that hands fixed-size chunks to the HTTP body through a bounded channel,
/// blocking the tar thread while the daemon is slower than the disk.
struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    fn send_buf(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(io::ErrorKind::BrokenPipe, "the Docker daemon stopped reading the build context")
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() >= CHUNK {
            self.send_buf()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_buf()
    }
}

/// Starts writing the context tar on a blocking thread. Returns the byte stream for the
/// request body and the thread's handle (its error, if any, explains a failed upload).
pub(crate) fn stream_tar(
    plan: ContextPlan,
) -> (
    impl futures_util::Stream<Item = io::Result<Bytes>> + Send + 'static,
    tokio::task::JoinHandle<io::Result<ContextStats>>,
) {
    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_DEPTH);
    let handle = tokio::task::spawn_blocking(move || {
        let writer = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(CHUNK) };
        match plan.write_tar(writer) {
            Ok((mut w, stats)) => {
                w.flush()?;
                Ok(stats)
            }
            Err(e) => {
                // Fail the body too, so the request is aborted instead of sending a truncated tar.
                let _ = tx.blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
                Err(e)
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) });
    (stream, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, rel: &str, text: &str) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn names(plan: &ContextPlan) -> Vec<String> {
        let (buf, _) = plan.write_tar(Vec::new()).unwrap();
        let mut ar = tar::Archive::new(buf.as_slice());
        let mut out: Vec<String> =
            ar.entries().unwrap().map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned()).collect();
        out.sort();
        out
    }

    fn plan(root: &Path, ignore: &[&str], only: &[&str]) -> ContextPlan {
        let s = |v: &[&str]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        ContextPlan::new(root, &s(ignore), &s(only), ("Dockerfile".into(), None)).unwrap()
    }

    #[test]
    fn dockerignore_ignore_and_only() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        write(r, "Dockerfile", "FROM x");
        write(r, ".dockerignore", "*.log\nbuild\n!build/keep.txt\nDockerfile\n");
        write(r, "a.txt", "a");
        write(r, "b.log", "b");
        write(r, "build/out.bin", "o");
        write(r, "build/keep.txt", "k");
        write(r, "src/main.rs", "m");
        write(r, "src/gen/x.rs", "x");
        write(r, "node_modules/m/index.js", "i");

        assert_eq!(
            names(&plan(r, &[], &[])),
            vec![
                ".dockerignore",
                "Dockerfile",
                "a.txt",
                "build/keep.txt",
                "node_modules/",
                "node_modules/m/",
                "node_modules/m/index.js",
                "src/",
                "src/gen/",
                "src/gen/x.rs",
                "src/main.rs",
            ]
        );
        assert_eq!(
            names(&plan(r, &["node_modules", "src/gen"], &[])),
            vec![".dockerignore", "Dockerfile", "a.txt", "build/keep.txt", "src/", "src/main.rs"]
        );
        assert_eq!(
            names(&plan(r, &[], &["src/gen", "a.txt"])),
            vec![".dockerignore", "Dockerfile", "a.txt", "src/gen/", "src/gen/x.rs"]
        );
    }

    #[test]
    fn synthetic_dockerfile_is_listed_in_the_sent_dockerignore() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "a.txt", "a");
        let plan =
            ContextPlan::new(d.path(), &[], &[], (".dockerfile.stilt-1".into(), Some(b"FROM x\n".to_vec()))).unwrap();
        let (buf, stats) = plan.write_tar(Vec::new()).unwrap();
        assert_eq!(stats.files, 3);
        let mut ar = tar::Archive::new(buf.as_slice());
        let mut di = String::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            if e.path().unwrap().to_str() == Some(".dockerignore") {
                io::Read::read_to_string(&mut e, &mut di).unwrap();
            }
        }
        assert_eq!(di, "\n.dockerfile.stilt-1\n.dockerignore\n");
    }
}
