//! Golden JUnit and JSON reports of a deterministic failing run, with times, pids and paths
//! redacted. Update with `INSTA_UPDATE=always cargo test --test integration golden` and review.

use crate::harness::Stilt;
use serde_json::Value;

fn redact_attr(xml: &str, attr: &str, placeholder: &str) -> String {
    let needle = format!(" {attr}=\"");
    let mut out = String::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&needle) {
        out.push_str(&rest[..i + needle.len()]);
        rest = &rest[i + needle.len()..];
        let end = rest.find('"').unwrap();
        out.push_str(placeholder);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn redact_json(v: &mut Value, dir: &str) {
    match v {
        Value::Object(map) => {
            for (k, val) in map.iter_mut() {
                let timeish = matches!(
                    k.as_str(),
                    "startTime"
                        | "finishTime"
                        | "lastReadyTime"
                        | "creationTimestamp"
                        | "durationSeconds"
                        | "loadSeconds"
                );
                if (timeish && !val.is_null()) || matches!(k.as_str(), "uid" | "pid" | "resourceVersion") {
                    *val = Value::from("[redacted]");
                } else {
                    redact_json(val, dir);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| redact_json(i, dir)),
        Value::String(s) => *s = s.replace(dir, "[DIR]"),
        _ => {}
    }
}

#[test]
fn golden_reports_of_a_failing_run() {
    let out = Stilt::scenario("fail").run();
    out.expect_code(1);
    let dir = out.dir.canonicalize().unwrap().display().to_string();
    let raw_dir = out.dir.display().to_string();
    let mut junit = out.junit.clone().unwrap().replace(&dir, "[DIR]").replace(&raw_dir, "[DIR]");
    for (attr, ph) in [("timestamp", "[TIMESTAMP]"), ("time", "[TIME]")] {
        junit = redact_attr(&junit, attr, ph);
    }
    let junit: String = junit
        .lines()
        .map(|l| {
            if l.starts_with("Successfully loaded Tiltfile (") {
                "Successfully loaded Tiltfile ([DURATION])"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("fail_junit", junit);

    let mut report = out.report().clone();
    redact_json(&mut report, &raw_dir);
    insta::assert_snapshot!("fail_report_json", serde_json::to_string_pretty(&report).unwrap());
}
