//! GitLab CI: one collapsible section per resource (`section_start`/`section_end`), failed
//! resources expanded, the rest collapsed.

use super::{Ctx, Status, fmt_secs};
use std::io::Write;

/// GitLab's section marker prefix/suffix (erase-line escapes around the marker).
const ERASE: &str = "\x1b[0K";

/// A section name GitLab accepts (`[A-Za-z0-9_.-]`), unique per resource.
pub fn section_name(index: usize, resource: &str) -> String {
    let safe: String = resource
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' })
        .collect();
    format!("stilt_{index}_{safe}")
}

/// Prints the sections; `now` is the Unix time stamped on the markers.
pub fn sections(ctx: &Ctx<'_>, out: &mut dyn Write, now: i64) {
    for (i, r) in ctx.replayed_resources().into_iter().enumerate() {
        let status = r.status();
        let name = section_name(i, r.name);
        let collapsed = status != Status::Failed;
        let mut title = format!("{} {}: {}", status.icon(), r.name, status.word());
        if let Some(class) = r.failure_class() {
            title.push_str(&format!(" ({class})"));
        }
        if status != Status::Skipped {
            title.push_str(&format!(" in {}", fmt_secs(r.seconds())));
        }
        let title = ctx.mask.redact(&title);
        let _ = write!(out, "{ERASE}section_start:{now}:{name}[collapsed={collapsed}]\r{ERASE}{title}\n");
        let tail = ctx.shown_tail(r.name);
        if tail.is_empty() {
            let _ = writeln!(out, "(no output)");
        } else {
            let _ = out.write_all(tail.as_bytes());
        }
        if let Some(f) = ctx.log_file(r.name).filter(|_| !tail.is_empty()) {
            let _ = writeln!(out, "(full log: {})", ctx.show_path(&f));
        }
        let _ = write!(out, "{ERASE}section_end:{now}:{name}\r{ERASE}\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_names_are_safe_and_unique() {
        assert_eq!(section_name(0, "(Tiltfile)"), "stilt_0__Tiltfile_");
        assert_eq!(section_name(3, "api/v1 x"), "stilt_3_api_v1_x");
    }
}
