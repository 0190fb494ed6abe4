//! Docker image references with the rules and error texts of `github.com/docker/distribution/reference`
//! (`ParseNormalizedNamed`), plus Tilt's ref matching (`container.RefSelector`) and registry
//! rewriting (`container.ReplaceRegistry`).

const DEFAULT_DOMAIN: &str = "docker.io";
const NAME_TOTAL_LENGTH_MAX: usize = 255;

/// A parsed, normalized reference: `domain/path[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageRef {
    /// `docker.io`, `gcr.io`, `localhost:5000`…
    pub(crate) domain: String,
    /// `library/nginx`, `proj/app`…
    pub(crate) path: String,
    pub(crate) tag: Option<String>,
    pub(crate) digest: Option<String>,
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

/// Matches distribution's `ReferenceRegexp`: `(name, tag, digest)`.
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
    let rest_ok = comps.clone().all(is_path_component);
    let has_more = name.contains('/');
    let first_ok = is_path_component(first) || (has_more && is_domain(first));
    (first_ok && rest_ok).then_some((name, tag, digest))
}

fn split_docker_domain(name: &str) -> (String, String) {
    let (mut domain, mut remainder) = match name.find('/') {
        Some(i) => {
            let first = &name[..i];
            if !first.contains(['.', ':']) && first != "localhost" && first.to_lowercase() == first {
                (DEFAULT_DOMAIN.to_string(), name.to_string())
            } else {
                (first.to_string(), name[i + 1..].to_string())
            }
        }
        None => (DEFAULT_DOMAIN.to_string(), name.to_string()),
    };
    if domain == "index.docker.io" {
        domain = DEFAULT_DOMAIN.to_string();
    }
    if domain == DEFAULT_DOMAIN && !remainder.contains('/') {
        remainder = format!("library/{remainder}");
    }
    (domain, remainder)
}

impl ImageRef {
    /// `reference.ParseNormalizedNamed`.
    pub(crate) fn parse(s: &str) -> Result<ImageRef, String> {
        if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
            return Err(format!("invalid repository name ({s}), cannot specify 64-byte hexadecimal strings"));
        }
        let (domain, remainder) = split_docker_domain(s);
        let remote_name = remainder.split(':').next().unwrap_or(&remainder);
        if remote_name.to_lowercase() != remote_name {
            return Err("repository name must be lowercase".to_string());
        }
        let full = format!("{domain}/{remainder}");
        let Some((name, tag, digest)) = match_reference(&full) else {
            if full.is_empty() {
                return Err("repository name must have at least one component".to_string());
            }
            if match_reference(&full.to_lowercase()).is_some() {
                return Err("repository name must be lowercase".to_string());
            }
            return Err("invalid reference format".to_string());
        };
        if name.len() > NAME_TOTAL_LENGTH_MAX {
            return Err(format!("repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters"));
        }
        let (domain, path) = match name.split_once('/') {
            Some((d, p)) => (d.to_string(), p.to_string()),
            None => (String::new(), name.to_string()),
        };
        Ok(ImageRef { domain, path, tag: tag.map(str::to_string), digest: digest.map(str::to_string) })
    }

    /// `Name()`: `docker.io/library/nginx`.
    pub(crate) fn name(&self) -> String {
        if self.domain.is_empty() { self.path.clone() } else { format!("{}/{}", self.domain, self.path) }
    }

    /// `String()`: name plus `:tag` and `@digest`.
    pub(crate) fn full(&self) -> String {
        self.with_tag_and_digest(self.name())
    }

    /// `FamiliarName`: `nginx`, `gcr.io/proj/app`.
    pub(crate) fn familiar_name(&self) -> String {
        if self.domain == DEFAULT_DOMAIN {
            match self.path.strip_prefix("library/") {
                Some(rest) if !rest.contains('/') => rest.to_string(),
                _ => self.path.clone(),
            }
        } else {
            self.name()
        }
    }

    /// `FamiliarString`: familiar name plus tag and digest.
    pub(crate) fn familiar_string(&self) -> String {
        self.with_tag_and_digest(self.familiar_name())
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

/// Tilt's `RefSelector`: a build ref without tag matches any image of the same repository;
/// with a tag (or when forced exact) only the same full ref.
#[derive(Debug, Clone)]
pub(crate) struct RefSelector {
    pub(crate) image: ImageRef,
    pub(crate) exact: bool,
}

impl RefSelector {
    pub(crate) fn matches(&self, other: &ImageRef) -> bool {
        if self.exact { self.image.full() == other.full() } else { self.image.name() == other.name() }
    }
}

/// `container.ReplaceRegistry`: the ref an image gets when pushed to `host`.
pub(crate) fn replace_registry(host: &str, r: &ImageRef, single_name: &str) -> String {
    let familiar = r.familiar_name();
    if host.is_empty() || familiar.starts_with(&format!("{host}/")) {
        return r.familiar_string();
    }
    let escape = |s: &str| s.replace(['/', ':', '@'], "_");
    let mut out =
        if single_name.is_empty() { format!("{host}/{}", escape(&familiar)) } else { format!("{host}/{single_name}") };
    if let Some(t) = &r.tag {
        out.push(':');
        if !single_name.is_empty() {
            out.push_str(&escape(familiar.rsplit('/').next().unwrap_or(&familiar)));
            out.push('-');
        }
        out.push_str(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_docker() {
        let r = ImageRef::parse("nginx").unwrap();
        assert_eq!(r.name(), "docker.io/library/nginx");
        assert_eq!(r.familiar_name(), "nginx");
        let r = ImageRef::parse("gcr.io/proj/app:v1").unwrap();
        assert_eq!(r.name(), "gcr.io/proj/app");
        assert_eq!(r.tag.as_deref(), Some("v1"));
        let r = ImageRef::parse("localhost:5000/x").unwrap();
        assert_eq!(r.domain, "localhost:5000");
        assert_eq!(ImageRef::parse("tilt.dev/express-redis-app").unwrap().domain, "tilt.dev");
    }

    #[test]
    fn errors_like_docker() {
        assert_eq!(
            ImageRef::parse("YOUR_REGISTRY_HERE/cloud-provider-equinix-metal").unwrap_err(),
            "repository name must be lowercase"
        );
        assert_eq!(ImageRef::parse("Foo").unwrap_err(), "repository name must be lowercase");
        assert_eq!(ImageRef::parse("a b").unwrap_err(), "invalid reference format");
        assert_eq!(ImageRef::parse("").unwrap_err(), "invalid reference format");
        assert_eq!(ImageRef::parse("a:b:c").unwrap_err(), "invalid reference format");
        assert!(ImageRef::parse("a__b/c-d---e.f_g:v1.2-x@sha256:0123456789abcdef0123456789abcdef").is_ok());
        assert!(ImageRef::parse("a___b").is_err());
        assert!(ImageRef::parse("[::1]:5000/x").is_ok());
    }

    #[test]
    fn registry_rewrite() {
        let r = ImageRef::parse("dockercoins/worker").unwrap();
        assert_eq!(replace_registry("localhost:5000", &r, ""), "localhost:5000/dockercoins_worker");
        let r = ImageRef::parse("gcr.io/proj/app").unwrap();
        assert_eq!(replace_registry("localhost:5000", &r, ""), "localhost:5000/gcr.io_proj_app");
        let r = ImageRef::parse("localhost:5000/app").unwrap();
        assert_eq!(replace_registry("localhost:5000", &r, ""), "localhost:5000/app");
    }
}
