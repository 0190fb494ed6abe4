//! The status API: serves the live Session, the UIResources and the log at Tilt's paths, so Tilt's
//! own CLI (`tilt get`, `tilt describe`, `tilt logs`), `stilt get session` and scripts using curl
//! can watch a run.

pub mod api_discovery;
pub mod api_objects;
pub mod hud_auth;
pub mod live_view;
pub mod status_server;
pub mod tilt_client_config;
pub mod view_socket;
