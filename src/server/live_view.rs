//! What the reporter knows that the status API and the snapshot need besides the Session: the
//! run's log (a bounded in-memory buffer of webview segments, fed from the reporter's event
//! stream) and the Tiltfile's facts per resource (kind, labels, links, images).
//!
//! The buffer keeps the newest lines up to a byte bound, so a chatty run cannot grow stilt's
//! memory without limit; a client that asks for a checkpoint older than the oldest kept segment
//! gets everything still kept (Tilt's log store also truncates old lines).

use crate::event::{Level, LogLine, LogSource};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use stilt_core::Manifest;
use stilt_core::k8s_pod::PodSummary;
use stilt_core::ui_resource::{Pods, ResourceInfo};
use stilt_core::webview::{LogSegment, SegmentLevel};
use tokio::sync::watch;

/// Default bound of the log buffer.
pub const DEFAULT_LOG_BYTES: usize = 16 * 1024 * 1024;

struct Buffer {
    segments: VecDeque<LogSegment>,
    /// Checkpoint (absolute index) of `segments[0]`.
    first: usize,
    bytes: usize,
    max_bytes: usize,
}

/// The live log and resource facts, shared by the reporter (writer) and the server (reader).
pub struct LiveView {
    buffer: Mutex<Buffer>,
    /// Bumped to the end checkpoint on every appended line.
    log_end: watch::Sender<usize>,
    resources: watch::Sender<Arc<Vec<ResourceInfo>>>,
    pods: Mutex<Arc<Pods>>,
}

impl std::fmt::Debug for LiveView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveView").field("log_end", &*self.log_end.borrow()).finish_non_exhaustive()
    }
}

impl LiveView {
    /// An empty view whose log keeps at most `max_bytes`.
    pub fn new(max_bytes: usize) -> Arc<Self> {
        Arc::new(LiveView {
            buffer: Mutex::new(Buffer { segments: VecDeque::new(), first: 0, bytes: 0, max_bytes }),
            log_end: watch::Sender::new(0),
            resources: watch::Sender::new(Arc::new(Vec::new())),
            pods: Mutex::new(Arc::new(Pods::new())),
        })
    }

    /// Appends one log line.
    pub fn log(&self, line: &LogLine) {
        let seg = LogSegment {
            resource: line.resource.as_deref().map(str::to_string),
            runtime: line.source == LogSource::Runtime,
            level: match line.level {
                Level::Info => SegmentLevel::Info,
                Level::Warn => SegmentLevel::Warn,
                Level::Error => SegmentLevel::Error,
            },
            text: line.text.clone(),
            time: line.time,
        };
        let end = {
            let mut b = self.buffer.lock().expect("log buffer");
            b.bytes += seg.size();
            b.segments.push_back(seg);
            while b.bytes > b.max_bytes && b.segments.len() > 1 {
                let old = b.segments.pop_front().expect("non-empty");
                b.bytes -= old.size();
                b.first += 1;
            }
            b.first + b.segments.len()
        };
        self.log_end.send_replace(end);
    }

    /// Rewrites the text of every line still held (for Secret values that became known after
    /// they were logged: the Tiltfile's own lines during its load). Lines a websocket client
    /// already received stay as they were, as on the live terminal.
    pub fn scrub(&self, redact: impl Fn(&mut String)) {
        let mut b = self.buffer.lock().expect("log buffer");
        let mut bytes = 0;
        for seg in &mut b.segments {
            redact(&mut seg.text);
            bytes += seg.size();
        }
        b.bytes = bytes;
    }

    /// Records the loaded Tiltfile's resources.
    pub fn loaded(&self, manifests: &[Manifest]) {
        self.resources.send_replace(Arc::new(manifests.iter().map(ResourceInfo::from_manifest).collect()));
    }

    /// Records a Kubernetes resource's pods (and wakes the resource watchers).
    pub fn pods_changed(&self, resource: &str, pods: &[PodSummary]) {
        {
            let mut all = self.pods.lock().expect("pods");
            Arc::make_mut(&mut all).insert(resource.to_string(), pods.to_vec());
        }
        self.resources.send_modify(|_| {});
    }

    /// Pods last seen, by resource.
    pub fn pods(&self) -> Arc<Pods> {
        self.pods.lock().expect("pods").clone()
    }

    /// The kept segments from `checkpoint` on, and the checkpoint the first of them has.
    pub fn since(&self, checkpoint: usize) -> (usize, Vec<LogSegment>) {
        let b = self.buffer.lock().expect("log buffer");
        let from = checkpoint.max(b.first);
        let skip = from - b.first;
        (from, b.segments.iter().skip(skip).cloned().collect())
    }

    /// Watches the end checkpoint.
    pub fn log_changes(&self) -> watch::Receiver<usize> {
        self.log_end.subscribe()
    }

    /// The resource facts (empty before the Tiltfile loads).
    pub fn resources(&self) -> Arc<Vec<ResourceInfo>> {
        self.resources.borrow().clone()
    }

    /// Watches the resource facts.
    pub fn resource_changes(&self) -> watch::Receiver<Arc<Vec<ResourceInfo>>> {
        self.resources.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> LogLine {
        LogLine {
            resource: Some("r".into()),
            source: LogSource::Build,
            level: Level::Info,
            header: false,
            text: text.into(),
            time: chrono::Utc::now(),
        }
    }

    #[test]
    fn keeps_the_newest_lines_within_the_bound() {
        let v = LiveView::new(400);
        for i in 0..20 {
            v.log(&line(&format!("line {i:02} {}", "x".repeat(40))));
        }
        let (from, segs) = v.since(0);
        assert!(from > 0, "old lines were dropped");
        assert_eq!(from + segs.len(), 20);
        assert!(segs.last().unwrap().text.starts_with("line 19"));
        let (from2, rest) = v.since(18);
        assert_eq!((from2, rest.len()), (18, 2));
        assert_eq!(*v.log_changes().borrow(), 20);
    }
}
