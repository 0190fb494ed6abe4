//! Docker image references, parsed once for every stage of stilt.
//!
//! The Tiltfile (ref validation, image matching, `default_registry` renaming) and the Docker
//! client (build, tag, push) must agree on what a reference is, so the one parser lives here.
//! It follows `github.com/docker/distribution/reference` (`ParseNormalizedNamed`, with its grammar
//! and error texts, without a regex engine), plus Tilt's `container.RefSelector` (which build
//! an image in a manifest selects), `container.ReplaceRegistry` (the name an image gets under a
//! registry) and its content-addressed tag (`tilt-<16 hex of the image id>`).
//!
//! An [`ImageRef`] keeps the name as written (`busybox`, `docker.io/library/busybox`), which is
//! what the Docker client tags and pushes, and derives the normalized (`docker.io/library/busybox`)
//! and familiar (`busybox`) forms that references are compared by.

use std::fmt;

/// The prefix of Tilt's content-addressed tags (`tilt-<16 hex>`).
pub const TAG_PREFIX: &str = "tilt-";

/// Docker Hub's registry host in normalized names.
pub const DEFAULT_DOMAIN: &str = "docker.io";

/// Docker Hub's old host name, normalized to [`DEFAULT_DOMAIN`].
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";

/// distribution's `NameTotalLengthMax`, checked on the normalized name.
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A parsed reference: `[domain/]path[:tag][@digest]`, as written.
///
/// `==` compares the text as written (`busybox` ≠ `docker.io/library/busybox`); compare
/// [`ImageRef::normalized_name`] or [`ImageRef::normalized_string`] for meaning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// The registry host as written (`gcr.io`, `localhost:5000`), `None` for Docker Hub short
    /// names (`busybox`, `team/app`).
    pub domain: Option<String>,
    /// The repository path as written, e.g. `busybox`, `library/busybox` or `team/app`.
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

/// A reference that does not parse (or an image id too short for a content tag).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {reference:?}: {reason}")]
pub struct RefError {
    /// The text that was parsed.
    pub reference: String,
    /// distribution's error text, e.g. `repository name must be lowercase`, `invalid reference format`.
    pub reason: String,
}

impl ImageRef {
    /// `reference.ParseNormalizedNamed`: accepts what `docker` accepts, fails with its error texts
    /// (in [`RefError::reason`]).
    pub fn parse(s: &str) -> Result<Self, RefError> {
        let err = |reason: String| RefError { reference: s.to_string(), reason };
        if s.len() == 64 && s.bytes().all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c)) {
            return Err(err(format!("invalid repository name ({s}), cannot specify 64-byte hexadecimal strings")));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote_name = remainder.split(':').next().unwrap_or(&remainder);
        if remote_name.to_lowercase() != remote_name {
            return Err(err("repository name must be lowercase".to_string()));
        }
        let full = format!("{domain}/{remainder}");
        let Some((name, tag, digest)) = match_reference(&full) else {
            if match_reference(&full.to_lowercase()).is_some() {
                return Err(err("repository name must be lowercase".to_string()));
            }
            return Err(err("invalid reference format".to_string()));
        };
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(err(format!("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters")));
        }
        // The tag and digest are the same in `s` as in `full`: strip them to get the name as written.
        let mut written = s.split_once('@').map_or(s, |(n, _)| n);
        if let Some(t) = tag {
            written = &written[..written.len() - t.len() - 1];
        }
        let (domain, path) = match written.split_once('/') {
            Some((first, rest)) if names_domain(first) => (Some(first.to_string()), rest),
            _ => (None, written),
        };
        Ok(Self { domain, path: path.to_string(), tag: tag.map(str::to_string), digest: digest.map(str::to_string) })
    }

    /// Whether the image is on Docker Hub (no domain, `docker.io` or `index.docker.io`).
    pub fn is_docker_hub(&self) -> bool {
        matches!(self.domain.as_deref(), None | Some(DEFAULT_DOMAIN | LEGACY_DEFAULT_DOMAIN))
    }

    /// The normalized registry host: `docker.io` for Docker Hub, else the domain as written.
    pub fn normalized_domain(&self) -> &str {
        if self.is_docker_hub() { DEFAULT_DOMAIN } else { self.domain.as_deref().unwrap_or_default() }
    }

    /// The normalized path: `library/busybox` for an official Docker Hub image.
    pub fn normalized_path(&self) -> String {
        if self.is_docker_hub() && !self.path.contains('/') {
            format!("library/{}", self.path)
        } else {
            self.path.clone()
        }
    }

    /// The name as written, without tag or digest: what the Docker client tags and pushes.
    pub fn name(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// distribution's `Name()`: the fully qualified name, `docker.io/library/busybox` (no tag).
    pub fn normalized_name(&self) -> String {
        format!("{}/{}", self.normalized_domain(), self.normalized_path())
    }

    /// distribution's `String()`: the normalized name plus `:tag` and `@digest`.
    pub fn normalized_string(&self) -> String {
        self.with_tag_and_digest(self.normalized_name())
    }

    /// `FamiliarName`, the name as `docker` prints it: `busybox`, `team/app`, `gcr.io/proj/app`.
    pub fn familiar_name(&self) -> String {
        if self.is_docker_hub() {
            self.path.strip_prefix("library/").filter(|p| !p.contains('/')).unwrap_or(&self.path).to_string()
        } else {
            self.name()
        }
    }

    /// `FamiliarString`: the familiar name plus `:tag` and `@digest`.
    pub fn familiar_string(&self) -> String {
        self.with_tag_and_digest(self.familiar_name())
    }

    /// `name:tag` with the name as written (the tag replaced; any digest dropped).
    pub fn with_tag(&self, tag: &str) -> String {
        format!("{}:{tag}", self.name())
    }

    /// `name` plus this ref's `:tag` and `@digest`.
    fn with_tag_and_digest(&self, mut name: String) -> String {
        if let Some(t) = &self.tag {
            name.push(':');
            name.push_str(t);
        }
        if let Some(d) = &self.digest {
            name.push('@');
            name.push_str(d);
        }
        name
    }
}

/// The reference as written: name plus `:tag` and `@digest`.
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.with_tag_and_digest(self.name()))
    }
}

/// Tilt's `RefSelector`: a build ref without tag matches any image of the same repository;
/// with a tag (or when forced exact) only the same full ref.
#[derive(Debug, Clone)]
pub struct RefSelector {
    pub image: ImageRef,
    pub exact: bool,
}

impl RefSelector {
    /// Whether `other` is an image this selector picks (compared normalized).
    pub fn matches(&self, other: &ImageRef) -> bool {
        if self.exact {
            self.image.normalized_string() == other.normalized_string()
        } else {
            self.image.normalized_name() == other.normalized_name()
        }
    }
}

/// Tilt's `escapeName`: `/`, `:` and `@` become `_`.
pub fn escape_name(s: &str) -> String {
    s.replace(['/', ':', '@'], "_")
}

/// Whether `r`'s familiar name already lives under `host` (a registry hard-coded in the ref).
fn under_host(host: &str, r: &ImageRef) -> bool {
    r.familiar_name().strip_prefix(host).is_some_and(|rest| rest.starts_with('/'))
}

/// The ref (familiar, with the tag) an image gets when pushed to `host` (stilt's
/// `default_registry` renaming of a Tiltfile image):
///
/// - no registry, or the familiar name already under `<host>/`: the familiar string;
/// - `single_name`: `<host>/<single_name>`, a tag becoming `:<escaped base name>-<tag>`;
/// - else `<host>/<familiar name with / : @ → _>[:<tag>]`.
pub fn replace_registry(host: &str, r: &ImageRef, single_name: &str) -> String {
    if host.is_empty() || under_host(host, r) {
        return r.familiar_string();
    }
    let familiar = r.familiar_name();
    let mut out = if single_name.is_empty() {
        format!("{host}/{}", escape_name(&familiar))
    } else {
        format!("{host}/{single_name}")
    };
    if let Some(t) = &r.tag {
        out.push(':');
        if !single_name.is_empty() {
            out.push_str(&escape_name(familiar.rsplit('/').next().unwrap_or(&familiar)));
            out.push('-');
        }
        out.push_str(t);
    }
    out
}

/// Tilt's `container.ReplaceRegistry`: the name (no tag, no digest) an image is pushed under
/// when a registry applies (`default_registry(host, single_name=…)` or a discovered local
/// registry), validated like Tilt does:
///
/// - no registry, or the familiar name already under `<host>/`: the name as written;
/// - `single_name`: `<host>/<single_name>`;
/// - else `<host>/<familiar name with / : @ → _>`.
pub fn replace_registry_name(host: &str, r: &ImageRef, single_name: &str) -> Result<String, RefError> {
    if host.is_empty() || under_host(host, r) {
        return Ok(r.name());
    }
    let new = if single_name.is_empty() {
        format!("{host}/{}", escape_name(&r.familiar_name()))
    } else {
        format!("{host}/{single_name}")
    };
    ImageRef::parse(&new).map(|r| r.name())
}

/// The content-addressed tag of an image id (`sha256:<hex>` or bare hex): `tilt-<first 16 hex>`.
pub fn content_tag(image_id: &str) -> Result<String, RefError> {
    let hex = image_id.split_once(':').map_or(image_id, |(_, h)| h);
    if hex.len() < 16 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RefError {
            reference: image_id.to_string(),
            reason: "image id too short for a content tag".to_string(),
        });
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

/// distribution's `splitDockerDomain` test: whether the first component of a name with a `/`
/// is a registry host rather than the start of a Docker Hub path.
fn names_domain(first: &str) -> bool {
    first.contains(['.', ':']) || first == "localhost" || first.to_lowercase() != first
}

/// distribution's `splitDockerDomain`: `(domain, remainder)`, normalized (`docker.io`,
/// `library/` for official images).
fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.split_once('/') {
        Some((first, rest)) if names_domain(first) => (first.to_string(), rest.to_string()),
        _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == LEGACY_DEFAULT_DOMAIN {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("library/{remainder}");
    }
    (domain, remainder)
}

/// Matches distribution's anchored `ReferenceRegexp`: `(name, tag, digest)`.
fn match_reference(s: &str) -> Option<(&str, Option<&str>, Option<&str>)> {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if digest.is_some_and(|d| !is_digest(d)) {
        return None;
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].find(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if tag.is_some_and(|t| !is_tag(t)) {
        return None;
    }
    let mut comps = name.split('/');
    let first = comps.next()?;
    let rest_ok = comps.all(is_path_component);
    let first_ok = is_path_component(first) || (name.contains('/') && is_domain(first));
    (first_ok && rest_ok).then_some((name, tag, digest))
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`: a path component.
fn is_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
            return false;
        }
    }
    true
}

/// `host(:port)?` where host is dot-separated `[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?` labels
/// or a bracketed IPv6 address.
fn is_domain(d: &str) -> bool {
    let (host, port) = match d.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && (!h.starts_with('[') || h.ends_with(']')) => (h, Some(p)),
        _ => (d, None),
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|x| x.is_ascii_digit()))
    {
        return false;
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return !v6.is_empty() && v6.bytes().all(|x| x.is_ascii_hexdigit() || x == b':');
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        })
}

/// `[\w][\w.-]{0,127}`.
fn is_tag(t: &str) -> bool {
    let w = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = t.as_bytes();
    !b.is_empty() && b.len() <= 128 && w(b[0]) && b.iter().all(|x| w(*x) || *x == b'.' || *x == b'-')
}

/// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][[:xdigit:]]{32,}`.
fn is_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else { return false };
    hex.len() >= 32
        && hex.bytes().all(|x| x.is_ascii_hexdigit())
        && alg.split(['-', '_', '+', '.']).all(|part| {
            let b = part.as_bytes();
            !b.is_empty() && b[0].is_ascii_alphabetic() && b.iter().all(u8::is_ascii_alphanumeric)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ImageRef {
        ImageRef::parse(s).unwrap()
    }

    fn reason(s: &str) -> String {
        ImageRef::parse(s).unwrap_err().reason
    }

    #[test]
    fn normalizes_like_docker() {
        let r = parse("nginx");
        assert_eq!(r.normalized_name(), "docker.io/library/nginx");
        assert_eq!(r.familiar_name(), "nginx");
        let r = parse("gcr.io/proj/app:v1");
        assert_eq!(r.normalized_name(), "gcr.io/proj/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(parse("localhost:5000/x").normalized_domain(), "localhost:5000");
        assert_eq!(parse("tilt.dev/express-redis-app").normalized_domain(), "tilt.dev");
        let r = parse("index.docker.io/team/app:v1");
        assert_eq!(r.normalized_string(), "docker.io/team/app:v1");
        assert_eq!(r.familiar_string(), "team/app:v1");
        assert_eq!(r.name(), "index.docker.io/team/app");
    }

    #[test]
    fn errors_like_docker() {
        assert_eq!(reason("YOUR_REGISTRY_HERE/cloud-provider-equinix-metal"), "repository name must be lowercase");
        assert_eq!(reason("Foo"), "repository name must be lowercase");
        assert_eq!(reason("a b"), "invalid reference format");
        assert_eq!(reason(""), "invalid reference format");
        assert_eq!(reason("a:b:c"), "invalid reference format");
        assert!(ImageRef::parse("a__b/c-d---e.f_g:v1.2-x@sha256:0123456789abcdef0123456789abcdef").is_ok());
        assert!(ImageRef::parse("a___b").is_err());
        assert!(ImageRef::parse("[::1]:5000/x").is_ok());
        let hex = "0123456789abcdef".repeat(4);
        assert_eq!(
            reason(&hex),
            format!("invalid repository name ({hex}), cannot specify 64-byte hexadecimal strings")
        );
        // The limit applies to the normalized name (`docker.io/library/…`).
        assert!(ImageRef::parse(&"a".repeat(255 - "docker.io/library/".len())).is_ok());
        assert_eq!(
            reason(&"a".repeat(256 - "docker.io/library/".len())),
            "repository name must not be more than 255 characters"
        );
        let e = ImageRef::parse("Foo").unwrap_err();
        assert_eq!(e.to_string(), "invalid image reference \"Foo\": repository name must be lowercase");
    }

    #[test]
    fn parses_references() {
        let r = parse("busybox");
        assert_eq!((r.domain.as_deref(), r.path.as_str(), r.tag.as_deref()), (None, "busybox", None));
        assert_eq!(r.familiar_name(), "busybox");
        assert_eq!(r.normalized_name(), "docker.io/library/busybox");

        let r = parse("localhost:5000/team/app:v1");
        assert_eq!(r.domain.as_deref(), Some("localhost:5000"));
        assert_eq!(r.path, "team/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        assert_eq!(r.familiar_name(), "localhost:5000/team/app");
        assert_eq!(r.with_tag("tilt-0123456789abcdef"), "localhost:5000/team/app:tilt-0123456789abcdef");

        let r = parse("docker.io/library/busybox:latest");
        assert_eq!(r.familiar_name(), "busybox");
        assert_eq!(r.name(), "docker.io/library/busybox");
        let r = parse("stilt-test/busybox:latest");
        assert_eq!(r.familiar_name(), "stilt-test/busybox");
        assert_eq!(r.normalized_name(), "docker.io/stilt-test/busybox");

        let d = format!("sha256:{}", "a".repeat(64));
        let r = parse(&format!("gcr.io/p/app:1@{d}"));
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        assert_eq!(r.to_string(), format!("gcr.io/p/app:1@{d}"));
        let r = parse(&format!("busybox@{d}"));
        assert_eq!((r.name(), r.tag.as_deref(), r.to_string()), ("busybox".to_string(), None, format!("busybox@{d}")));

        for bad in ["", "UPPER", "a//b", "app:", "app:-x", "-app", "a@sha256:zz", "a:b:c", "a..b/c", "a@1sha:"] {
            assert!(ImageRef::parse(bad).is_err(), "{bad:?} should not parse");
        }
    }

    #[test]
    fn selectors_match_normalized() {
        let any_tag = RefSelector { image: parse("app"), exact: false };
        assert!(any_tag.matches(&parse("docker.io/library/app:v2")));
        assert!(!any_tag.matches(&parse("team/app")));
        let exact = RefSelector { image: parse("app:v1"), exact: true };
        assert!(exact.matches(&parse("docker.io/library/app:v1")));
        assert!(!exact.matches(&parse("app:v2")));
        assert!(!exact.matches(&parse("app")));
    }

    #[test]
    fn registry_rewrite() {
        let rr = |host, name| replace_registry(host, &parse(name), "");
        assert_eq!(rr("localhost:5000", "dockercoins/worker"), "localhost:5000/dockercoins_worker");
        assert_eq!(rr("localhost:5000", "gcr.io/proj/app"), "localhost:5000/gcr.io_proj_app");
        assert_eq!(rr("localhost:5000", "localhost:5000/app"), "localhost:5000/app");
        // The tag stays (prefixed by the base name with `single_name`).
        assert_eq!(rr("localhost:5000", "gcr.io/proj/app:v1"), "localhost:5000/gcr.io_proj_app:v1");
        assert_eq!(rr("", "docker.io/library/app:v1"), "app:v1");
        assert_eq!(replace_registry("myreg.com", &parse("gcr.io/foo/frontend:v1"), "dev"), "myreg.com/dev:frontend-v1");
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
            assert_eq!(replace_registry_name(host, &parse(name), "").unwrap(), want, "{host} {name}");
        }
    }

    #[test]
    fn single_name_rewrites_and_tags() {
        assert_eq!(
            replace_registry_name("123.dkr.ecr.us-east-1.amazonaws.com", &parse("gcr.io/foo/frontend"), "dev").unwrap(),
            "123.dkr.ecr.us-east-1.amazonaws.com/dev"
        );
        // Already under the host: untouched, even with single_name.
        assert_eq!(replace_registry_name("myreg.com", &parse("myreg.com/x"), "dev").unwrap(), "myreg.com/x");
        // What is produced must parse.
        assert!(replace_registry_name("myreg.com", &parse("x"), "Dev").is_err());
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
