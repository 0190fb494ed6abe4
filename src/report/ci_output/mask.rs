//! Secret masking: a list of values that must never appear in what stilt writes for CI.
//!
//! On GitHub every value is announced with `::add-mask::` before anything else is printed, so
//! the runner hides it in the live log too; everywhere (GitHub, GitLab, CircleCI) stilt replaces
//! the values with `***` in the text it renders itself — the step summary, annotations, step
//! outputs, the per-resource groups and the plain-text summary.
//!
//! Sources today: `--mask-env NAME` / `STILT_MASK_ENV=A,B` (the values of those environment
//! variables) and [`Masker::add`]. Kubernetes Secrets are not read yet; when they are, the code
//! that reads a Secret calls `add` with each decoded value (and the reporter prints the new
//! `::add-mask::` line at once — lines printed before that cannot be masked retroactively).

/// The values to mask, longest first so a value containing another is replaced whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Masker {
    values: Vec<String>,
}

/// What replaces a masked value (GitHub's own replacement).
pub const MASK: &str = "***";

impl Masker {
    /// Adds a secret. A multi-line value is masked line by line too (GitHub matches masks per
    /// line). Empty and whitespace-only values are ignored. Returns the newly added values.
    pub fn add(&mut self, value: &str) -> Vec<String> {
        let mut added = Vec::new();
        let candidates = std::iter::once(value.trim_end_matches(['\r', '\n'])).chain(value.lines());
        for v in candidates {
            let v = v.trim_end_matches('\r');
            if v.trim().is_empty() || self.values.iter().any(|x| x == v) {
                continue;
            }
            self.values.push(v.to_string());
            added.push(v.to_string());
        }
        self.values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        added
    }

    /// Masks the values of the named environment variables. Returns a warning per name that is
    /// unset or empty.
    pub fn add_env(&mut self, names: &[String], env: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
        let mut warnings = Vec::new();
        for name in names.iter().map(|n| n.trim()).filter(|n| !n.is_empty()) {
            match env(name) {
                Some(v) if !v.trim().is_empty() => {
                    self.add(&v);
                }
                _ => warnings.push(format!("--mask-env {name}: the variable is not set or empty; nothing to mask")),
            }
        }
        warnings
    }

    /// The values, longest first.
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether there is nothing to mask.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// `text` with every value replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_longest_first_and_per_line() {
        let mut m = Masker::default();
        assert_eq!(m.add("hunter2"), vec!["hunter2"]);
        m.add("hunter2-long");
        m.add("line one\nline two\n");
        m.add("   ");
        assert_eq!(m.values()[0], "line one\nline two");
        assert_eq!(m.redact("pw=hunter2-long and hunter2"), "pw=*** and ***");
        assert_eq!(m.redact("got line two here"), "got *** here");
        assert!(m.add("hunter2").is_empty(), "no duplicates");
    }

    #[test]
    fn env_names_warn_when_unset() {
        let mut m = Masker::default();
        let env = |k: &str| (k == "TOKEN").then(|| "s3cr3t-value".to_string());
        let w = m.add_env(&["TOKEN".into(), "MISSING".into(), String::new()], &env);
        assert_eq!(m.values(), ["s3cr3t-value"]);
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("MISSING"));
    }
}
