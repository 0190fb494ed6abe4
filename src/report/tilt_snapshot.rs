//! `--output-snapshot-on-exit FILE`: Tilt's webview snapshot (`{view: {uiSession, uiResources,
//! logList, …}, createdAt}`), the file `tilt snapshot view` opens. The view is the one the status
//! API's `/ws/view` sends first, taken when the run is over: the final Session's UIResources and
//! the buffered log. stilt's own report stays under `--report-json`.

use crate::server::live_view::LiveView;
use chrono::{DateTime, Utc};
use serde_json::Value;
use stilt_core::Session;
use stilt_core::webview::{ViewParts, complete_view, snapshot};

/// The snapshot document.
pub fn render(session: &Session, live: &LiveView, created_at: &DateTime<Utc>) -> Value {
    let resources = live.resources();
    let pods = live.pods();
    let (from, segments) = live.since(0);
    let parts = ViewParts { session, resources: &resources, pods: &pods, version: env!("CARGO_PKG_VERSION") };
    snapshot(complete_view(parts, &segments, from), created_at)
}
