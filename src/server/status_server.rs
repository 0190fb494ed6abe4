//! The status API on `--host:--port` (default `localhost:10350`, bound to 127.0.0.1): one HTTP
//! listener that is both Tilt's API server (for `tilt get`/`describe`, through the `tilt-<port>`
//! entry stilt writes into Tilt's client config) and the parts of Tilt's web port that `tilt logs`
//! uses. Routes:
//! - `/api`, `/apis`, `/apis/tilt.dev/v1alpha1` — discovery ([`super::api_discovery`]);
//! - `/apis/tilt.dev/v1alpha1/{sessions,uiresources,uisessions}[/NAME[/status]]` ([`super::api_objects`]);
//! - `/api/websocket_token`, `/ws/view`, `/api/view` ([`super::view_socket`]);
//! - `/healthz` — `ok`.
//!
//! Handlers read the latest Session from a watch channel and the log from the [`LiveView`]; they
//! never block the engine.

use super::api_discovery::{api_group_list, api_resource_list, api_versions};
use super::api_objects::{get_one, get_status, json_response, list};
use super::hud_auth::HudAuth;
use super::live_view::LiveView;
use super::tilt_client_config::{Entry, TiltClientConfig, api_server_name, tilt_dev_dir};
use super::view_socket::{view_json, view_websocket, websocket_token};
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use stilt_core::Session;
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

/// What every handler reads.
#[derive(Clone)]
pub struct ServerState {
    /// The live Session.
    pub sessions: watch::Receiver<Arc<Session>>,
    /// Log and resource facts.
    pub live: Arc<LiveView>,
    /// Session and CSRF tokens.
    pub auth: Arc<HudAuth>,
    /// `true` once the run is over: websockets flush and close.
    pub shutdown: watch::Receiver<bool>,
    /// `runningTiltBuild.version`.
    pub version: String,
    /// Websockets open now.
    pub open_sockets: Arc<AtomicUsize>,
}

/// The router over `state`.
pub fn router(state: ServerState) -> Router {
    Router::new()
        .route("/api", get(|| async { json_response(StatusCode::OK, &api_versions()) }))
        .route("/apis", get(|| async { json_response(StatusCode::OK, &api_group_list()) }))
        .route("/apis/tilt.dev/v1alpha1", get(|| async { json_response(StatusCode::OK, &api_resource_list()) }))
        .route("/apis/tilt.dev/v1alpha1/{plural}", get(list))
        .route("/apis/tilt.dev/v1alpha1/{plural}/{name}", get(get_one))
        .route("/apis/tilt.dev/v1alpha1/{plural}/{name}/{sub}", get(get_status))
        .route("/api/websocket_token", get(websocket_token))
        .route("/api/view", get(view_json))
        .route("/ws/view", get(view_websocket))
        .route("/healthz", get(|| async { "ok" }))
        .with_state(state)
}

/// A running status API, registered in Tilt's client config.
pub struct StatusServer {
    task: tokio::task::JoinHandle<()>,
    shutdown: watch::Sender<bool>,
    open_sockets: Arc<AtomicUsize>,
    registration: Option<(TiltClientConfig, Entry)>,
}

/// How long `stop` lets open websockets flush the last lines.
const FLUSH_GRACE: Duration = Duration::from_secs(2);

impl StatusServer {
    /// Serves on `listener` and registers `tilt-<port>` in Tilt's client config. A config that
    /// cannot be written is reported through `warn` and leaves the API usable over plain HTTP.
    pub fn start(
        listener: TcpListener,
        sessions: watch::Receiver<Arc<Session>>,
        live: Arc<LiveView>,
        warn: &dyn Fn(String),
    ) -> StatusServer {
        let env = |k: &str| std::env::var(k).ok();
        let dev_dir = tilt_dev_dir(&env);
        let auth = Arc::new(HudAuth::load(dev_dir.as_deref()));
        let (shutdown, shutdown_rx) = watch::channel(false);
        let addr = listener.local_addr().ok();
        let open_sockets = Arc::new(AtomicUsize::new(0));
        let state = ServerState {
            sessions,
            live,
            auth,
            shutdown: shutdown_rx,
            version: env!("CARGO_PKG_VERSION").to_string(),
            open_sockets: open_sockets.clone(),
        };
        let app = router(state);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let registration = addr.and_then(|addr| {
            let config = TiltClientConfig::from_env()?;
            let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
            let host = if host.contains(':') { format!("[{host}]") } else { host };
            let entry = Entry {
                name: api_server_name(addr.port()),
                server: format!("http://{host}:{}", addr.port()),
                token: super::hud_auth::random_hex(32),
            };
            match config.register(&entry) {
                Ok(()) => Some((config, entry)),
                Err(e) => {
                    warn(format!("Tilt's CLI will not find this run: {}", crate::error_chain::error_chain(&e)));
                    None
                }
            }
        });
        StatusServer { task, shutdown, open_sockets, registration }
    }

    /// The client-config entry, if written.
    pub fn entry(&self) -> Option<&Entry> {
        self.registration.as_ref().map(|(_, e)| e)
    }

    /// Ends the run: open websockets send what is left and close, the server stops, and the
    /// client-config entry is removed (if it is still ours).
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        // Let `tilt logs -f` receive the last lines and the close frame.
        let deadline = tokio::time::Instant::now() + FLUSH_GRACE;
        while self.open_sockets.load(Ordering::SeqCst) > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.task.abort();
        if let Some((config, entry)) = self.registration {
            let _ = tokio::task::spawn_blocking(move || config.unregister(&entry)).await;
        }
    }
}
