//! Plain data shared by every stage of stilt, and the pure rules over it.
//!
//! The pipeline is Tiltfile → [`TiltfileResult`] (manifests) → engine → [`Session`] snapshot →
//! [`verdict`] → reporters. This crate holds the data that crosses those stage boundaries and
//! the rules every stage must agree on, so it depends on nothing heavy (serde, serde_json,
//! chrono, thiserror, sha1) and every other crate can depend on it.
//! Where to start: [`manifest`] for what a Tiltfile means (its typed vocabulary:
//! [`manifest::PodReadiness`], [`json_path::ImagePath`], …), [`session`] for the live status that
//! `stilt get session` prints, [`target_id`] for what a Session target is, [`verdict`] for the
//! exit rules, [`exit_code`] for exit codes and failure classes, [`error_chain`] for how an error
//! and its causes are rendered, [`k8s_objects`] / [`k8s_pod`] for the Kubernetes rules.

pub mod cluster_product;
pub mod duration;
pub mod error_chain;
pub mod exit_code;
pub mod go_path;
pub mod image_ref;
pub mod json_path;
pub mod k8s_objects;
pub mod k8s_pod;
pub mod location;
pub mod manifest;
pub mod micro_time;
pub mod secret_set;
pub mod session;
pub mod target_id;
pub mod tiltfile_error;
pub mod ui_resource;
pub mod verdict;
pub mod webview;

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
pub use target_id::{TILTFILE_TARGET, TargetId, TargetKind};
pub use tiltfile_error::TiltfileError;
pub use verdict::{EnvironmentFailure, Verdict, verdict};
