//! HTTP server on `--host:--port` (default `localhost:10350`, bound to 127.0.0.1) serving:
//! - `GET /apis/tilt.dev/v1alpha1/sessions` — a `List` with the one Session;
//! - `GET /apis/tilt.dev/v1alpha1/sessions/Tiltfile` — the Session;
//! - `GET /healthz` — `ok`.
//!
//! It reads the latest snapshot from a watch channel and never blocks the engine.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use stilt_core::Session;
use stilt_core::session::SESSION_NAME;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Failed to open the status port.
#[derive(Debug, thiserror::Error)]
pub enum BindError {
    /// Another process has the port.
    #[error(
        "stilt cannot start because you already have another process on port {port}\n\
         If you want to run multiple stilt (or Tilt) instances simultaneously,\n\
         use the --port flag or TILT_PORT env variable to set a custom port (0 disables the status API)"
    )]
    InUse {
        /// The port.
        port: u16,
    },
    /// The host did not resolve.
    #[error("failed to resolve --host {host:?}")]
    Resolve {
        /// The host.
        host: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Any other bind failure.
    #[error("failed to listen on {addr}")]
    Other {
        /// The address.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// The address to bind: `localhost` means 127.0.0.1 (never all interfaces).
pub async fn resolve(host: &str, port: u16) -> Result<SocketAddr, BindError> {
    let h = if host.is_empty() || host == "localhost" { "127.0.0.1" } else { host };
    let mut addrs = tokio::net::lookup_host((h, port))
        .await
        .map_err(|source| BindError::Resolve { host: host.to_string(), source })?;
    addrs
        .next()
        .ok_or_else(|| BindError::Resolve { host: host.to_string(), source: std::io::Error::other("no addresses") })
}

/// Binds the listener.
pub async fn bind(host: &str, port: u16) -> Result<TcpListener, BindError> {
    let addr = resolve(host, port).await?;
    TcpListener::bind(addr).await.map_err(|source| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            BindError::InUse { port }
        } else {
            BindError::Other { addr: addr.to_string(), source }
        }
    })
}

/// Serves until the task is aborted.
pub fn serve(listener: TcpListener, sessions: watch::Receiver<Arc<Session>>) -> tokio::task::JoinHandle<()> {
    let app = Router::new()
        .route("/apis/tilt.dev/v1alpha1/sessions", get(list))
        .route("/apis/tilt.dev/v1alpha1/sessions/{name}", get(one))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(sessions);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    })
}

fn json(status: StatusCode, v: &serde_json::Value) -> Response {
    let mut body = serde_json::to_string_pretty(v).expect("json");
    body.push('\n');
    (status, [("content-type", "application/json")], body).into_response()
}

async fn list(State(s): State<watch::Receiver<Arc<Session>>>) -> Response {
    let session = s.borrow().clone();
    json(StatusCode::OK, &session.list_json())
}

async fn one(State(s): State<watch::Receiver<Arc<Session>>>, Path(name): Path<String>) -> Response {
    if name != SESSION_NAME {
        return json(
            StatusCode::NOT_FOUND,
            &serde_json::json!({
                "apiVersion": "v1",
                "kind": "Status",
                "status": "Failure",
                "message": format!("sessions.tilt.dev \"{name}\" not found"),
                "reason": "NotFound",
                "code": 404,
            }),
        );
    }
    let session = s.borrow().clone();
    json(StatusCode::OK, &session.to_api_json())
}
