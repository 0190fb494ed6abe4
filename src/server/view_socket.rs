//! The web port's view API that `tilt logs` (and `tilt snapshot create`) use:
//! `GET /api/websocket_token` (session-token gated) hands out the CSRF token; `/ws/view?csrf=…`
//! is a websocket that first sends the complete webview `View` (session, UIResources, the whole
//! buffered log) and then, as the run goes on, log-only updates from the client's checkpoint
//! (plus the UI objects when the Session changes). When the run ends the remaining lines are
//! sent and the socket is closed, so `tilt logs -f` exits. `GET /api/view` is the complete view
//! as one JSON document.

use super::api_objects::json_response;
use super::status_server::ServerState;
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::time::Duration;
use stilt_core::webview::{ViewParts, complete_view, log_update};

/// Pause after a change before sending, so bursts of lines go in one message (Tilt: 200 ms).
const DEBOUNCE: Duration = Duration::from_millis(100);

fn forbidden(msg: &str) -> Response {
    (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{msg}\n")).into_response()
}

/// `GET /api/websocket_token`.
pub async fn websocket_token(State(st): State<ServerState>, headers: HeaderMap) -> Response {
    if let Err(r) = st.auth.check(&headers) {
        return forbidden(r.message());
    }
    ([(header::CONTENT_TYPE, "text/plain")], st.auth.csrf.clone()).into_response()
}

fn full_view(st: &ServerState) -> (Value, usize) {
    let session = st.sessions.borrow().clone();
    let resources = st.live.resources();
    let pods = st.live.pods();
    let (from, segments) = st.live.since(0);
    let parts = ViewParts { session: &session, resources: &resources, pods: &pods, version: &st.version };
    (complete_view(parts, &segments, from), from + segments.len())
}

/// `GET /api/view`.
pub async fn view_json(State(st): State<ServerState>, headers: HeaderMap) -> Response {
    if let Err(r) = st.auth.check(&headers) {
        return forbidden(r.message());
    }
    json_response(StatusCode::OK, &full_view(&st).0)
}

/// `GET /ws/view`.
pub async fn view_websocket(State(st): State<ServerState>, uri: Uri, ws: WebSocketUpgrade) -> Response {
    let csrf = uri.query().unwrap_or("").split('&').find_map(|kv| kv.strip_prefix("csrf="));
    if csrf != Some(st.auth.csrf.as_str()) {
        return forbidden("websocket: request origin not allowed by Upgrader.CheckOrigin");
    }
    ws.on_upgrade(move |socket| stream(socket, st))
}

async fn send(socket: &mut WebSocket, v: &Value) -> bool {
    socket.send(Message::Text(v.to_string().into())).await.is_ok()
}

/// Counts an open socket for as long as it lives.
struct Open(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn stream(mut socket: WebSocket, st: ServerState) {
    st.open_sockets.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _open = Open(st.open_sockets.clone());
    let mut logs = st.live.log_changes();
    let mut sessions = st.sessions.clone();
    let mut resources = st.live.resource_changes();
    let mut shutdown = st.shutdown.clone();
    let (view, mut checkpoint) = full_view(&st);
    logs.mark_unchanged();
    sessions.mark_unchanged();
    resources.mark_unchanged();
    if !send(&mut socket, &view).await {
        return;
    }
    // The engine drops its Session sender when the run ends; the log goes on until shutdown.
    let mut sessions_open = true;
    loop {
        let mut objects_changed = false;
        let finished = tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => continue,
            },
            _ = logs.changed() => false,
            r = sessions.changed(), if sessions_open => { sessions_open = r.is_ok(); objects_changed = true; false }
            _ = resources.changed() => { objects_changed = true; false }
            _ = shutdown.wait_for(|done| *done) => true,
        };
        if !finished {
            tokio::time::sleep(DEBOUNCE).await;
        }
        objects_changed |= sessions.has_changed().unwrap_or(false) || resources.has_changed().unwrap_or(false);
        logs.mark_unchanged();
        let session = sessions.borrow_and_update().clone();
        let infos = resources.borrow_and_update().clone();
        let pods = st.live.pods();
        let (from, segments) = st.live.since(checkpoint);
        if !segments.is_empty() || objects_changed {
            let parts = objects_changed.then_some(ViewParts {
                session: &session,
                resources: &infos,
                pods: &pods,
                version: &st.version,
            });
            let update = log_update(parts, &segments, from, session.status.start_time.as_ref());
            if !send(&mut socket, &update).await {
                return;
            }
            checkpoint = from + segments.len();
        }
        if finished || *shutdown.borrow() {
            let _ = socket.send(Message::Close(None)).await;
            return;
        }
    }
}
