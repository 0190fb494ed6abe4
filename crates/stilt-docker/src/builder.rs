//! Which builder runs a build: BuildKit whenever the engine can, the classic builder when it
//! cannot or when `DOCKER_BUILDKIT` says no — the rule Tilt applies (its `getDockerBuilderVersion`),
//! so a Tiltfile builds the same way under stilt as under `tilt ci`.
//!
//! Why BuildKit by default: it runs independent stages in parallel, skips stages the target does
//! not need, adds no step for `labels`, and builds a small image faster than the classic builder
//! (`stilt-docker-bench --builder`, `scripts/bench-images --builders`).

/// Which builder runs the build.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Builder {
    /// Whatever the engine and `DOCKER_BUILDKIT` allow: BuildKit if it can, else classic.
    #[default]
    Auto,
    /// The classic (legacy) builder: no gRPC session, plain `Step N/M` output.
    Classic,
    /// BuildKit through bollard's session.
    BuildKit,
}

/// The first Engine API version with BuildKit out of experimental (Docker 18.09).
const MIN_BUILDKIT_API: (u32, u32) = (1, 39);

/// The builder `Auto` stands for on one engine, and why it is not BuildKit when it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuilderChoice {
    pub builder: Builder,
    /// Said once in the build log when the classic builder is used instead of BuildKit.
    pub fallback_reason: Option<String>,
}

/// What `Auto` means for an engine with `api_version` on `os`, given `DOCKER_BUILDKIT`.
///
/// `DOCKER_BUILDKIT` is read like Go's `strconv.ParseBool` (as Tilt and the docker CLI do); a
/// value that is not a boolean is an error. `DOCKER_BUILDKIT=1` on an engine without BuildKit
/// still falls back (Tilt does too).
pub fn choose_builder(docker_buildkit: Option<&str>, api_version: &str, os: &str) -> Result<BuilderChoice, String> {
    let wanted = match docker_buildkit.filter(|v| !v.is_empty()) {
        None => None,
        Some(v) => Some(parse_go_bool(v).ok_or_else(|| {
            format!("DOCKER_BUILDKIT environment variable expects boolean value: invalid syntax {v:?}")
        })?),
    };
    if wanted == Some(false) {
        return Ok(BuilderChoice {
            builder: Builder::Classic,
            fallback_reason: Some("DOCKER_BUILDKIT=0 asks for the classic builder".into()),
        });
    }
    let supported = parse_api_version(api_version).is_some_and(|v| v >= MIN_BUILDKIT_API);
    let reason = if !os.is_empty() && !os.eq_ignore_ascii_case("linux") {
        Some(format!("the Docker engine runs on {os}, where BuildKit builds are not supported"))
    } else if supported {
        None
    } else {
        Some(format!("the Docker engine's API {api_version} is older than 1.39, which BuildKit needs"))
    };
    Ok(match reason {
        None => BuilderChoice { builder: Builder::BuildKit, fallback_reason: None },
        Some(r) => BuilderChoice { builder: Builder::Classic, fallback_reason: Some(r) },
    })
}

fn parse_go_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn parse_api_version(v: &str) -> Option<(u32, u32)> {
    let (major, minor) = v.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildkit_when_the_engine_supports_it() {
        let c = choose_builder(None, "1.41", "linux").unwrap();
        assert_eq!(c, BuilderChoice { builder: Builder::BuildKit, fallback_reason: None });
        assert_eq!(choose_builder(Some("1"), "1.39", "linux").unwrap().builder, Builder::BuildKit);
        assert_eq!(choose_builder(Some(""), "1.53", "").unwrap().builder, Builder::BuildKit);
    }

    #[test]
    fn classic_when_asked_or_unsupported_with_a_reason() {
        for v in ["0", "false", "F"] {
            let c = choose_builder(Some(v), "1.41", "linux").unwrap();
            assert_eq!(c.builder, Builder::Classic);
            assert_eq!(c.fallback_reason.as_deref(), Some("DOCKER_BUILDKIT=0 asks for the classic builder"));
        }
        let old = choose_builder(Some("1"), "1.38", "linux").unwrap();
        assert_eq!(old.builder, Builder::Classic);
        assert_eq!(
            old.fallback_reason.as_deref(),
            Some("the Docker engine's API 1.38 is older than 1.39, which BuildKit needs")
        );
        assert_eq!(choose_builder(None, "garbage", "linux").unwrap().builder, Builder::Classic);
        let win = choose_builder(None, "1.41", "windows").unwrap();
        assert_eq!(win.builder, Builder::Classic);
        assert!(win.fallback_reason.unwrap().contains("windows"));
    }

    #[test]
    fn a_non_boolean_docker_buildkit_is_an_error() {
        assert_eq!(
            choose_builder(Some("yes"), "1.41", "linux").unwrap_err(),
            "DOCKER_BUILDKIT environment variable expects boolean value: invalid syntax \"yes\""
        );
    }
}
