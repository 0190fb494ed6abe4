//! Points a Dockerfile at the images this run built (Tilt's `dockerfile.InjectImageDependencies`).
//!
//! `docker_build('app', ...)` whose Dockerfile says `FROM base` must build on the `base` image
//! this run just built (`base:tilt-<hex>`), not on whatever `base:latest` the daemon has. The
//! `FROM` image and every `COPY/ADD --from=` image that a dependency's ref selects are
//! replaced; build stages, `scratch` and other images are left alone. Lines are rewritten in
//! place, so the step numbers the daemon reports still match the user's file.

use stilt_docker::ImageRef;

/// One built dependency: the ref the Tiltfile wrote (its selector) and what to use instead.
#[derive(Debug, Clone)]
pub struct BuiltDep {
    /// The `docker_build`/`custom_build` ref as written (`base`, `gcr.io/p/base:dev`).
    pub selector: String,
    /// The built, content-tagged ref (`base:tilt-0123456789abcdef`).
    pub built_ref: String,
}

/// `text` with dependency images replaced, or `None` when nothing matched.
pub fn inject(text: &str, deps: &[BuiltDep]) -> Option<String> {
    if deps.is_empty() {
        return None;
    }
    let mut changed = false;
    let mut stages: Vec<String> = Vec::new();
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let mut words = trimmed.split_whitespace();
        let instr = words.next().unwrap_or_default().to_ascii_uppercase();
        let rewritten = match instr.as_str() {
            "FROM" => rewrite_from(trimmed, deps, &mut stages),
            "COPY" | "ADD" => rewrite_copy_from(trimmed, deps, &stages),
            _ => None,
        };
        if let Some(r) = rewritten {
            changed = true;
            out.push_str(indent);
            out.push_str(&r);
        } else {
            out.push_str(line);
        }
    }
    changed.then_some(out)
}

/// The built ref for `image` when a dependency selects it.
fn replacement<'a>(image: &str, deps: &'a [BuiltDep]) -> Option<&'a str> {
    let r = ImageRef::parse(image).ok()?;
    deps.iter().find_map(|d| {
        let sel = ImageRef::parse(&d.selector).ok()?;
        let same_name = sel.normalized_name() == r.normalized_name();
        let tag_ok = sel.tag.is_none() || sel.tag == r.tag;
        (same_name && tag_ok).then_some(d.built_ref.as_str())
    })
}

fn rewrite_from(line: &str, deps: &[BuiltDep], stages: &mut Vec<String>) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    // FROM [--platform=...] image [AS name]
    let image_at = words.iter().skip(1).position(|w| !w.starts_with("--")).map(|i| i + 1)?;
    let image = words[image_at];
    let is_stage = stages.contains(&image.to_lowercase());
    if words.get(image_at + 1).is_some_and(|w| w.eq_ignore_ascii_case("as"))
        && let Some(alias) = words.get(image_at + 2)
    {
        stages.push(alias.to_lowercase());
    }
    if is_stage {
        return None;
    }
    let built = replacement(image, deps)?;
    Some(replace_word(line, image_at, built))
}

fn rewrite_copy_from(line: &str, deps: &[BuiltDep], stages: &[String]) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let (i, from) = words.iter().enumerate().find_map(|(i, w)| w.strip_prefix("--from=").map(|f| (i, f)))?;
    if stages.contains(&from.to_lowercase()) || from.parse::<usize>().is_ok() {
        return None;
    }
    let built = replacement(from, deps)?;
    Some(replace_word(line, i, &format!("--from={built}")))
}

/// `line` with its `n`th whitespace-separated word replaced, other spacing kept.
fn replace_word(line: &str, n: usize, with: &str) -> String {
    let mut out = String::with_capacity(line.len() + with.len());
    let mut word = 0;
    let mut in_word = false;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            in_word = false;
            out.push(c);
            continue;
        }
        if !in_word {
            in_word = true;
            if word == n {
                let end = line[i..].find(char::is_whitespace).map_or(line.len(), |e| i + e);
                out.push_str(with);
                while chars.peek().is_some_and(|(j, _)| *j < end) {
                    chars.next();
                }
                in_word = false;
                word += 1;
                continue;
            }
            word += 1;
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(selector: &str, built: &str) -> BuiltDep {
        BuiltDep { selector: selector.into(), built_ref: built.into() }
    }

    #[test]
    fn replaces_from_and_copy_from_of_dependencies_only() {
        let text = "FROM base AS build\nRUN make\nFROM --platform=linux/amd64 other:1\n\
                    COPY --from=build /a /a\nCOPY --from=base /b /b\nCOPY --from=0 /c /c\n";
        let deps = [dep("base", "base:tilt-0123456789abcdef")];
        let out = inject(text, &deps).unwrap();
        assert_eq!(
            out,
            "FROM base:tilt-0123456789abcdef AS build\nRUN make\nFROM --platform=linux/amd64 other:1\n\
             COPY --from=build /a /a\nCOPY --from=base:tilt-0123456789abcdef /b /b\nCOPY --from=0 /c /c\n"
        );
        assert_eq!(out.lines().count(), text.lines().count(), "line numbers are kept");
    }

    #[test]
    fn matches_like_tilt_selectors() {
        let deps = [dep("docker.io/library/base", "base:tilt-1"), dep("gcr.io/p/app:dev", "gcr.io/p/app:tilt-2")];
        assert_eq!(inject("FROM base:latest\n", &deps).unwrap(), "FROM base:tilt-1\n", "no tag in selector: any tag");
        assert_eq!(inject("from gcr.io/p/app:dev\n", &deps).unwrap(), "from gcr.io/p/app:tilt-2\n");
        assert_eq!(inject("FROM gcr.io/p/app:prod\n", &deps), None, "tagged selector: exact tag only");
        assert_eq!(inject("FROM scratch\n", &deps), None);
        assert_eq!(inject("FROM base\n", &[]), None);
    }

    #[test]
    fn a_stage_named_like_a_dependency_is_a_stage() {
        let deps = [dep("base", "base:tilt-1")];
        let out = inject("FROM busybox AS base\nFROM base\n", &deps);
        assert_eq!(out, None);
    }
}
