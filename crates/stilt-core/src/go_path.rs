//! Go's `path.Clean` (which is also `filepath.Clean` on Unix), once: `.dockerignore` patterns
//! (stilt-docker, as moby cleans them) and Tiltfile paths (stilt-tiltfile, as Tilt cleans them)
//! must normalise exactly as Go does, because users see the results in errors and build contexts.

/// Go's `path.Clean` for `/`-separated paths: drops empty and `.` segments, resolves `..`
/// lexically (never above `/`), and returns `.` for an empty result.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_string();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn cleans_like_go() {
        assert_eq!(clean("a//b/./c/.."), "a/b");
        assert_eq!(clean("./"), ".");
        assert_eq!(clean(""), ".");
        assert_eq!(clean("/../a"), "/a");
        assert_eq!(clean("../a"), "../a");
        assert_eq!(clean("foo/"), "foo");
        assert_eq!(clean("a/../../b/./c/"), "../b/c");
        assert_eq!(clean("/"), "/");
    }
}
