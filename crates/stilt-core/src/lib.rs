//! Plain data shared by every stage of stilt.
//!
//! The pipeline is Tiltfile → [`TiltfileResult`] (manifests) → engine → [`Session`] snapshot →
//! [`verdict`] → reporters. This crate holds the data that crosses those stage boundaries, so it
//! depends on nothing heavy (serde, chrono, thiserror) and every other crate can depend on it.
//! Where to start: [`manifest`] for what a Tiltfile means, [`session`] for the live status that
//! `stilt get session` prints, [`verdict`] for the exit rules, [`exit_code`] for exit codes.

pub mod cluster_product;
pub mod duration;
pub mod exit_code;
pub mod image_ref;
pub mod k8s_objects;
pub mod k8s_pod;
pub mod location;
pub mod manifest;
pub mod micro_time;
pub mod session;
pub mod tiltfile_error;
pub mod verdict;

pub use cluster_product::ClusterProduct;
pub use duration::GoDuration;
pub use exit_code::{ExitCode, FailureClass};
pub use image_ref::{ImageRef, RefError};
pub use location::SourceLocation;
pub use manifest::{
    CiSettings, Cmd, Link, LocalTarget, Manifest, Probe, ProbeAction, ResourceTarget, TiltfileResult, TriggerMode,
    UpdateSettings,
};
pub use session::{GraceStatus, Readiness, Session, Target, TargetState, TargetType};
pub use tiltfile_error::TiltfileError;
pub use verdict::{EnvironmentFailure, Verdict, verdict};
