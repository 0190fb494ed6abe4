//! Image references (distribution's grammar, reduced to what stilt needs), Tilt's registry
//! rewriting (`default_registry`) and the content-addressed tag.

use std::fmt;

/// The prefix of Tilt's content-addressed tags (`tilt-<16 hex>`).
pub const TAG_PREFIX: &str = "tilt-";

/// A parsed image reference: `[domain/]path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host as written (`None` for Docker Hub short names).
    pub domain: Option<String>,
    /// The repository path, e.g. `library/busybox` or `team/app`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// A reference that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct RefError {
    pub reference: String,
    pub reason: &'static str,
}

impl ImageRef {
    pub fn parse(s: &str) -> Result<Self, RefError> {
        let err = |reason| RefError { reference: s.to_string(), reason };
        if s.is_empty() {
            return Err(err("empty reference"));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                let (algo, hex) = d.split_once(':').ok_or_else(|| err("bad digest"))?;
                if algo.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(err("bad digest"));
                }
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let t = &rest[last_slash + i + 1..];
                if !valid_tag(t) {
                    return Err(err("bad tag"));
                }
                (&rest[..last_slash + i], Some(t.to_string()))
            }
            None => (rest, None),
        };
        let (domain, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (Some(first.to_string()), rest)
            }
            _ => (None, name),
        };
        if let Some(d) = &domain
            && (d.is_empty() || d.starts_with([':', '.', '-']))
        {
            return Err(err("bad registry host"));
        }
        if path.is_empty() || !path.split('/').all(valid_path_component) {
            return Err(err("repository name must be lowercase letters, digits and separators (. _ __ -)"));
        }
        if name.len() > 255 {
            return Err(err("repository name longer than 255 characters"));
        }
        Ok(Self { domain, path: path.to_string(), tag, digest })
    }

    fn is_docker_hub(&self) -> bool {
        matches!(self.domain.as_deref(), None | Some("docker.io" | "index.docker.io"))
    }

    /// The name as `docker` prints it: `busybox`, `team/app`, `gcr.io/proj/app` (no tag).
    pub fn familiar_name(&self) -> String {
        if self.is_docker_hub() {
            self.path.strip_prefix("library/").filter(|p| !p.contains('/')).unwrap_or(&self.path).to_string()
        } else {
            format!("{}/{}", self.domain.as_deref().unwrap_or_default(), self.path)
        }
    }

    /// The fully qualified name: `docker.io/library/busybox` (no tag).
    pub fn normalized_name(&self) -> String {
        if self.is_docker_hub() {
            if self.path.contains('/') {
                format!("docker.io/{}", self.path)
            } else {
                format!("docker.io/library/{}", self.path)
            }
        } else {
            format!("{}/{}", self.domain.as_deref().unwrap_or_default(), self.path)
        }
    }

    /// The name as written, without tag or digest.
    pub fn name(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// `name:tag` (the tag replaced; any digest dropped).
    pub fn with_tag(&self, tag: &str) -> String {
        format!("{}:{tag}", self.name())
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Tilt's `escapeName`: `/`, `:` and `@` become `_`.
pub fn escape_name(s: &str) -> String {
    s.replace(['/', ':', '@'], "_")
}

/// Tilt's `replaceRegistry`: the name (no tag) an image is pushed under when a registry
/// applies (`default_registry(host, single_name=…)` or a discovered local registry).
///
/// - no registry: the name as written;
/// - the familiar name already under `<host>/`: unchanged;
/// - `single_name`: `<host>/<single_name>`;
/// - else `<host>/<familiar name with / : @ → _>`.
pub fn replace_registry(reference: &str, registry_host: &str, single_name: &str) -> Result<String, RefError> {
    let r = ImageRef::parse(reference)?;
    if registry_host.is_empty() {
        return Ok(r.name());
    }
    let familiar = r.familiar_name();
    if familiar.starts_with(&format!("{registry_host}/")) {
        return Ok(r.name());
    }
    let new = if single_name.is_empty() {
        format!("{registry_host}/{}", escape_name(&familiar))
    } else {
        format!("{registry_host}/{single_name}")
    };
    // Validate what we produced, as Tilt does.
    ImageRef::parse(&new).map(|r| r.name())
}

/// The content-addressed tag of an image id (`sha256:<hex>` or bare hex): `tilt-<first 16 hex>`.
pub fn content_tag(image_id: &str) -> Result<String, RefError> {
    let hex = image_id.split_once(':').map_or(image_id, |(_, h)| h);
    if hex.len() < 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RefError { reference: image_id.to_string(), reason: "image id too short for a content tag" });
    }
    Ok(format!("{TAG_PREFIX}{}", &hex[..16]))
}

/// The content tag with `single_name` (every image shares one repository): the original
/// name's escaped base name, then `-tilt-<16 hex>`, e.g. `frontend-tilt-3f9c2a7d1e0b4c55`.
pub fn single_name_content_tag(original_ref: &str, image_id: &str) -> Result<String, RefError> {
    let r = ImageRef::parse(original_ref)?;
    let familiar = r.familiar_name();
    let base = familiar.rsplit('/').next().unwrap_or(&familiar);
    Ok(format!("{}-{}", escape_name(base), content_tag(image_id)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references() {
        let r = ImageRef::parse("busybox").unwrap();
        assert_eq!((r.domain.as_deref(), r.path.as_str(), r.tag.as_deref()), (None, "busybox", None));
        assert_eq!(r.familiar_name(), "busybox");
        assert_eq!(r.normalized_name(), "docker.io/library/busybox");

        let r = ImageRef::parse("localhost:5000/team/app:v1").unwrap();
        assert_eq!(r.domain.as_deref(), Some("localhost:5000"));
        assert_eq!(r.path, "team/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.familiar_name(), "localhost:5000/team/app");
        assert_eq!(r.with_tag("tilt-0123456789abcdef"), "localhost:5000/team/app:tilt-0123456789abcdef");

        let r = ImageRef::parse("docker.io/library/busybox:latest").unwrap();
        assert_eq!(r.familiar_name(), "busybox");
        let r = ImageRef::parse("stilt-test/busybox:latest").unwrap();
        assert_eq!(r.familiar_name(), "stilt-test/busybox");
        assert_eq!(r.normalized_name(), "docker.io/stilt-test/busybox");

        let d = format!("sha256:{}", "a".repeat(64));
        let r = ImageRef::parse(&format!("gcr.io/p/app:1@{d}")).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.to_string(), format!("gcr.io/p/app:1@{d}"));

        for bad in ["", "UPPER", "a//b", "app:", "app:-x", "-app", "a@sha256:zz", "a:b:c"] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    /// Tilt's `TestReplaceNamed`, `TestReplaceTaggedRefDomain`, `TestReplaceRefForCluster`.
    #[test]
    fn tilt_registry_rewrites() {
        let cases = [
            ("myreg.com", "gcr.io/foo/bar", "myreg.com/gcr.io_foo_bar"),
            ("myreg.com", "gcr.io/foo/bar:deadbeef", "myreg.com/gcr.io_foo_bar"),
            (
                "aws_account_id.dkr.ecr.region.amazonaws.com/bar",
                "gcr.io/baz/foo/bar",
                "aws_account_id.dkr.ecr.region.amazonaws.com/bar/gcr.io_baz_foo_bar",
            ),
            ("gcr.io/foo", "docker.io/library/busybox", "gcr.io/foo/busybox"),
            ("gcr.io/foo", "bar", "gcr.io/foo/bar"),
            ("myreg.com", "myreg.com/bar", "myreg.com/bar"),
            ("myreg.com:5000", "myreg.com:5000/bar", "myreg.com:5000/bar"),
            ("myreg.com:5000", "myreg.com/bar", "myreg.com:5000/myreg.com_bar"),
            ("myreg.com", "myreg.com:5000/bar", "myreg.com/myreg.com_5000_bar"),
            ("localhost:5000", "dockercoins/worker", "localhost:5000/dockercoins_worker"),
            ("localhost:1234", "gcr.io/foo/bar", "localhost:1234/gcr.io_foo_bar"),
            ("registry:1234", "gcr.io/foo/bar", "registry:1234/gcr.io_foo_bar"),
            ("", "gcr.io/foo/bar:1", "gcr.io/foo/bar"),
        ];
        for (host, name, want) in cases {
            assert_eq!(replace_registry(name, host, "").unwrap(), want, "{host} {name}");
        }
    }

    #[test]
    fn single_name_rewrites_and_tags() {
        assert_eq!(
            replace_registry("gcr.io/foo/frontend", "123.dkr.ecr.us-east-1.amazonaws.com", "dev").unwrap(),
            "123.dkr.ecr.us-east-1.amazonaws.com/dev"
        );
        // Already under the host: untouched, even with single_name.
        assert_eq!(replace_registry("myreg.com/x", "myreg.com", "dev").unwrap(), "myreg.com/x");
        let id = "sha256:3f9c2a7d1e0b4c55aa00112233445566778899aabbccddeeff00112233445566";
        assert_eq!(single_name_content_tag("gcr.io/foo/frontend:v1", id).unwrap(), "frontend-tilt-3f9c2a7d1e0b4c55");
    }

    #[test]
    fn content_tags() {
        let id = "sha256:3f9c2a7d1e0b4c55aa00112233445566778899aabbccddeeff00112233445566";
        assert_eq!(content_tag(id).unwrap(), "tilt-3f9c2a7d1e0b4c55");
        assert_eq!(content_tag("3f9c2a7d1e0b4c55aa").unwrap(), "tilt-3f9c2a7d1e0b4c55");
        assert!(content_tag("sha256:abc").is_err());
        assert!(content_tag("sha256:zzzzzzzzzzzzzzzzzz").is_err());
    }
}
