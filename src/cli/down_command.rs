//! `stilt down [-f FILE] [--delete-volumes] [-- ARGS]`: removes what `stilt ci` left running
//! (Tilt's `tilt down`). The Tiltfile is evaluated again (as data: nothing is built) and each
//! docker-compose project of the enabled resources is taken down once: its containers and
//! networks, and its volumes with `--delete-volumes`. Local resources need nothing: `stilt ci`
//! stops their processes when it exits.
//!
//! Exit codes: 0 done; 1 something could not be removed (every error is printed, nothing is
//! skipped because of an earlier one); 4 the Docker daemon is unreachable; 5 the Tiltfile did
//! not load.

use crate::error_chain::error_chain;
use clap::Args;
use std::collections::BTreeSet;
use std::path::PathBuf;
use stilt_core::{ExitCode, ResourceTarget};
use stilt_docker::DockerClient;
use stilt_docker::compose::DownOptions;

/// `stilt down` flags.
#[derive(Debug, Args)]
pub struct DownArgs {
    /// Path to the Tiltfile.
    #[arg(short = 'f', long = "file", default_value = "Tiltfile")]
    pub file: PathBuf,
    /// Also remove the compose projects' volumes.
    #[arg(long = "delete-volumes")]
    pub delete_volumes: bool,
    /// Tiltfile arguments (after `--`), selecting resources as in `stilt ci`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub tiltfile_args: Vec<String>,
}

/// Runs the command.
pub async fn run(args: DownArgs) -> ExitCode {
    let opts = super::tiltfile_result::data_eval_options(&args.file, args.tiltfile_args.clone(), "down");
    let result = match tokio::task::spawn_blocking(move || stilt_tiltfile::evaluate(opts)).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            eprintln!("{e}");
            return ExitCode::TILTFILE;
        }
        Err(e) => {
            eprintln!("Error: Tiltfile evaluation crashed: {e}");
            return ExitCode::TILTFILE;
        }
    };
    let enabled: BTreeSet<&str> = result.enabled_resources.iter().map(String::as_str).collect();
    let mut projects: Vec<&str> = Vec::new();
    let mut k8s = 0;
    for m in result.manifests.iter().filter(|m| enabled.contains(m.name.as_str())) {
        match &m.target {
            ResourceTarget::DockerCompose(t) if !projects.contains(&t.project_name.as_str()) => {
                projects.push(&t.project_name);
            }
            ResourceTarget::K8s(_) | ResourceTarget::K8sCustomDeploy(_) => k8s += 1,
            _ => {}
        }
    }
    if k8s > 0 {
        eprintln!("WARNING: stilt does not deploy to Kubernetes yet: {k8s} Kubernetes resources left alone");
    }
    if projects.is_empty() {
        println!("Nothing to take down.");
        return ExitCode::SUCCESS;
    }
    let docker = match DockerClient::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("Error: {}", error_chain(&e));
            return ExitCode::ENVIRONMENT;
        }
    };
    let mut failed = false;
    let options = DownOptions { remove_volumes: args.delete_volumes, stop_timeout: None };
    for project in projects {
        match docker.compose_down(project, &options, |line| println!("{line}")).await {
            Ok(s) => println!(
                "Removed docker-compose project {project}: {} containers, {} networks, {} volumes",
                s.containers.len(),
                s.networks.len(),
                s.volumes.len()
            ),
            Err(e) => {
                eprintln!("Error: {}", error_chain(&e));
                failed = true;
            }
        }
    }
    if failed { ExitCode::RESOURCE_FAILED } else { ExitCode::SUCCESS }
}
