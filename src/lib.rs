//! stilt: runs a project's Tiltfile the way `tilt ci` does — load, run, wait until healthy,
//! exit with a code — and writes reports CI systems understand.
//!
//! Pipeline: Tiltfile ([`stilt_tiltfile`]) → plain data ([`stilt_core::manifest`]) →
//! [`engine`] (pure reducer and scheduler, a dispatcher running their effects) → [`exec`]
//! (processes, probes, builds, deploys, watchers) → session snapshot → pure verdict
//! ([`stilt_core::verdict`]) → [`report`]ers folding one [`event`] stream, and the status API
//! ([`server`]). [`cli`] wires it together.

pub mod cli;
pub mod engine;
pub mod error_chain;
pub mod event;
pub mod exec;
pub mod report;
pub mod server;
