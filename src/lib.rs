//! stilt: runs a project's Tiltfile the way `tilt ci` does — load, run, wait until healthy,
//! exit with a code — and writes reports CI systems understand.
//!
//! Pipeline: Tiltfile ([`stilt_tiltfile`]) → plain data ([`stilt_core::manifest`]) →
//! [`engine`] (pure scheduler, one dispatcher owning state) → [`exec`] (local processes,
//! probes) → session snapshot → pure verdict ([`stilt_core::verdict`]) → [`report`]ers folding
//! one [`event`] stream, and the status API ([`server`]). [`cli`] wires it together.

pub mod cli;
pub mod engine;
pub mod error_chain;
pub mod event;
pub mod exec;
pub mod report;
pub mod server;

use chrono::{DateTime, Utc};
use std::sync::OnceLock;

static START: OnceLock<DateTime<Utc>> = OnceLock::new();

/// The process start time (the global timeout counts from here). The first call fixes it;
/// `main` calls it first thing.
pub fn process_start_time() -> DateTime<Utc> {
    *START.get_or_init(Utc::now)
}
