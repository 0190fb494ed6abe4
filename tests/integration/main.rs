//! One integration-test binary: runs the real `stilt` binary on scenario folders
//! (`tests/scenarios/<name>/Tiltfile`) and inline Tiltfiles, and checks exit codes, output,
//! reports and processes.

mod bad_input;
mod ci_action;
mod ci_compose;
mod ci_images;
mod ci_k8s;
mod ci_local;
mod ci_output;
mod ci_real_node;
mod docker_env;
mod golden;
mod hardening;
mod harness;
mod k8s_env;
mod signals;
mod status_api;
mod tilt_cli;
mod tiltfile_result;
