//! Tilt's webview `View` (pkg/webview/view.go, log.go): what Tilt's web UI, `tilt logs` (over the
//! `/ws/view` websocket) and `tilt snapshot view` read. stilt sends it on the websocket and
//! writes it, wrapped as a `Snapshot` (`{view, createdAt}`), for `--output-snapshot-on-exit`.
//!
//! The log is a list of segments, each naming a span; spans map to resource names. A checkpoint
//! is a segment index: `logList.fromCheckpoint..toCheckpoint` is the slice a message carries, so a
//! client that already has the first N segments asks for (and gets) only the rest.

use crate::micro_time;
use crate::session::{API_VERSION, Session, sort_keys};
use crate::ui_resource::{
    Pods, ResourceInfo, TILTFILE_RESOURCE, build_span_id, runtime_span_id, tiltfile_span_id, ui_resources,
};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

/// Tilt's log levels as the webview spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentLevel {
    /// `INFO`.
    Info,
    /// `WARN`.
    Warn,
    /// `ERROR`.
    Error,
}

impl SegmentLevel {
    fn as_str(self) -> &'static str {
        match self {
            SegmentLevel::Info => "INFO",
            SegmentLevel::Warn => "WARN",
            SegmentLevel::Error => "ERROR",
        }
    }
}

/// One log line as a webview segment.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSegment {
    /// Owning resource; `None` for Tiltfile/global lines (Tilt's `(Tiltfile)` span).
    pub resource: Option<String>,
    /// Runtime (not build) output.
    pub runtime: bool,
    /// Severity.
    pub level: SegmentLevel,
    /// The line, without its newline.
    pub text: String,
    /// When it was produced.
    pub time: DateTime<Utc>,
}

impl LogSegment {
    /// The span this segment belongs to.
    pub fn span_id(&self) -> String {
        match (&self.resource, self.runtime) {
            (None, _) => tiltfile_span_id(),
            (Some(r), false) => build_span_id(r),
            (Some(r), true) => runtime_span_id(r),
        }
    }

    /// The resource name the span maps to.
    pub fn manifest_name(&self) -> &str {
        self.resource.as_deref().unwrap_or(TILTFILE_RESOURCE)
    }

    /// Bytes this segment holds (for buffer bounds).
    pub fn size(&self) -> usize {
        self.text.len() + self.resource.as_ref().map_or(0, String::len) + 48
    }
}

/// `logList` for `segments`, which start at checkpoint `from`. An empty slice is Tilt's "no new
/// logs" (`fromCheckpoint: -1`).
pub fn log_list(segments: &[LogSegment], from: usize) -> Value {
    if segments.is_empty() {
        return json!({"fromCheckpoint": -1, "toCheckpoint": -1});
    }
    let mut spans = Map::new();
    let segs: Vec<Value> = segments
        .iter()
        .map(|s| {
            let span = s.span_id();
            spans.entry(span.clone()).or_insert_with(|| json!({"manifestName": s.manifest_name()}));
            let mut text = s.text.clone();
            text.push('\n');
            json!({"spanId": span, "time": micro_time::format(&s.time), "text": text, "level": s.level.as_str()})
        })
        .collect();
    let mut list = json!({"spans": spans, "segments": segs, "toCheckpoint": checkpoint(from + segments.len())});
    // Go's omitempty drops a zero checkpoint.
    if from > 0 {
        list["fromCheckpoint"] = Value::from(checkpoint(from));
    }
    list
}

fn checkpoint(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The `UISession` object (`uisessions/Tiltfile`).
pub fn ui_session(session: &Session, version: &str) -> Value {
    let mut status = json!({
        "featureFlags": [],
        "runningTiltBuild": {"version": version},
        "versionSettings": {},
        "tiltStartTime": session.status.start_time.as_ref().map(micro_time::format_seconds),
        "tiltfileKey": session.spec.tiltfile_path,
    });
    if session.status.done && !session.status.error.is_empty() {
        status["fatalError"] = Value::from(session.status.error.clone());
    }
    sort_keys(json!({
        "apiVersion": API_VERSION,
        "kind": "UISession",
        "metadata": {
            "name": session.metadata.name,
            "uid": format!("{}-ui", session.metadata.uid),
            "resourceVersion": session.metadata.resource_version,
            "creationTimestamp": session.metadata.creation_timestamp.as_ref().map(micro_time::format_seconds),
        },
        "spec": {},
        "status": status,
    }))
}

/// What a view carries besides the log.
#[derive(Debug, Clone, Copy)]
pub struct ViewParts<'a> {
    /// The live Session.
    pub session: &'a Session,
    /// Tiltfile facts per resource (empty before the load).
    pub resources: &'a [ResourceInfo],
    /// Pods last seen per Kubernetes resource.
    pub pods: &'a Pods,
    /// `runningTiltBuild.version`.
    pub version: &'a str,
}

/// The complete view Tilt sends first on `/ws/view` and serves at `/api/view`
/// (`webview.CompleteView`): session, every UIResource, the log from `from`, `isComplete`.
pub fn complete_view(parts: ViewParts<'_>, segments: &[LogSegment], from: usize) -> Value {
    let mut view = json!({
        "uiSession": ui_session(parts.session, parts.version),
        "uiResources": ui_resources(parts.session, parts.resources, parts.pods),
        "logList": log_list(segments, from),
        "tiltStartTime": parts.session.status.start_time.as_ref().map(micro_time::format),
        "isComplete": true,
    });
    if let Some(key) = Some(&parts.session.spec.tiltfile_path).filter(|k| !k.is_empty()) {
        view["tiltfileKey"] = Value::from(key.clone());
    }
    view
}

/// A log-only update (`webview.LogUpdate`), optionally with changed UI objects.
pub fn log_update(
    parts: Option<ViewParts<'_>>,
    segments: &[LogSegment],
    from: usize,
    start: Option<&DateTime<Utc>>,
) -> Value {
    let mut view = json!({"tiltStartTime": start.map(micro_time::format)});
    if !segments.is_empty() {
        view["logList"] = log_list(segments, from);
    }
    if let Some(p) = parts {
        view["uiSession"] = ui_session(p.session, p.version);
        view["uiResources"] = Value::from(ui_resources(p.session, p.resources, p.pods));
    }
    view
}

/// The snapshot document `tilt snapshot view` opens (`webview.Snapshot`).
pub fn snapshot(view: Value, created_at: &DateTime<Utc>) -> Value {
    let mut doc = Map::new();
    doc.insert("view".into(), view);
    doc.insert("createdAt".into(), Value::from(micro_time::format(created_at)));
    Value::Object(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(resource: Option<&str>, runtime: bool, text: &str) -> LogSegment {
        LogSegment {
            resource: resource.map(str::to_string),
            runtime,
            level: SegmentLevel::Info,
            text: text.into(),
            time: "2026-01-02T03:04:05Z".parse().unwrap(),
        }
    }

    #[test]
    fn log_list_names_spans_and_checkpoints() {
        let segs = [
            seg(None, false, "Loading Tiltfile"),
            seg(Some("web"), false, "building"),
            seg(Some("web"), true, "serving"),
        ];
        let l = log_list(&segs, 0);
        assert_eq!(l["toCheckpoint"], 3);
        assert!(l.get("fromCheckpoint").is_none(), "{l}");
        assert_eq!(l["segments"][0]["spanId"], "tiltfile:(Tiltfile):1");
        assert_eq!(l["segments"][1]["spanId"], "build:web");
        assert_eq!(l["segments"][2]["text"], "serving\n");
        assert_eq!(l["spans"]["runtime:web"]["manifestName"], "web");
        assert_eq!(l["spans"]["tiltfile:(Tiltfile):1"]["manifestName"], "(Tiltfile)");
        let later = log_list(&segs[2..], 2);
        assert_eq!(later["fromCheckpoint"], 2);
        assert_eq!(later["toCheckpoint"], 3);
        assert_eq!(log_list(&[], 3)["fromCheckpoint"], -1);
    }
}
