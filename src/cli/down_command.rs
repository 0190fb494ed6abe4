//! `stilt down [-f FILE] [--context C] [--namespace NS] [--delete-namespaces] [--delete-volumes]
//! [-- ARGS]`: removes what `stilt ci` left running (Tilt's `tilt down`). The Tiltfile is
//! evaluated again (as data: nothing is built). The Kubernetes objects of the enabled resources
//! are deleted, last resource and last object first, except objects annotated
//! `tilt.dev/down-policy: keep` and — unless `--delete-namespaces` — Namespaces. Each
//! docker-compose project is taken down once: its containers and networks, and its volumes with
//! `--delete-volumes`. Local resources need nothing: `stilt ci` stops their processes when it
//! exits.
//!
//! Exit codes: 0 done; 1 something could not be removed (every error is printed, nothing is
//! skipped because of an earlier one); 4 the Docker daemon or the cluster is unreachable; 5 the
//! Tiltfile did not load.

use crate::error_chain::error_chain;
use clap::Args;
use std::collections::BTreeSet;
use std::path::PathBuf;
use stilt_core::{ExitCode, ResourceTarget, TiltfileResult};
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
    /// Also delete Namespace objects the Tiltfile declares.
    #[arg(long = "delete-namespaces")]
    pub delete_namespaces: bool,
    /// Kubernetes context to use.
    #[arg(long)]
    pub context: Option<String>,
    /// Default namespace for objects without one.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Tiltfile arguments as `stilt ci` takes them: bare words, and everything after `--`.
    #[arg(value_name = "TILTFILE_ARGS")]
    pub tiltfile_args: Vec<String>,
}

/// Runs the command.
pub async fn run(args: DownArgs) -> ExitCode {
    let mut opts = super::tiltfile_result::data_eval_options(&args.file, args.tiltfile_args.clone(), "down");
    opts.kube_context.clone_from(&args.context);
    opts.kube_namespace.clone_from(&args.namespace);
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
    let mut objects: Vec<serde_json::Value> = Vec::new();
    for m in result.manifests.iter().filter(|m| enabled.contains(m.name.as_str())) {
        match &m.target {
            ResourceTarget::DockerCompose(t) if !projects.contains(&t.project_name.as_str()) => {
                projects.push(&t.project_name);
            }
            ResourceTarget::K8s(t) => objects.extend(t.objects.iter().cloned()),
            ResourceTarget::K8sCustomDeploy(_) => {
                eprintln!("WARNING: stilt does not run k8s_custom_deploy yet: resource {} left alone", m.name);
            }
            _ => {}
        }
    }
    if projects.is_empty() && objects.is_empty() {
        println!("Nothing to take down.");
        return ExitCode::SUCCESS;
    }
    let mut code = ExitCode::SUCCESS;
    if !objects.is_empty() {
        code = delete_objects(&args, &result, objects).await;
    }
    if !projects.is_empty() {
        let compose = down_compose(&args, &projects).await;
        if code == ExitCode::SUCCESS {
            code = compose;
        }
    }
    code
}

/// Deletes the Kubernetes objects (in reverse of `objects`' order).
async fn delete_objects(args: &DownArgs, result: &TiltfileResult, objects: Vec<serde_json::Value>) -> ExitCode {
    let keep = |o: &serde_json::Value| {
        o.pointer("/metadata/annotations/tilt.dev~1down-policy").and_then(serde_json::Value::as_str) == Some("keep")
    };
    let mut to_delete = Vec::new();
    for o in objects {
        let name = stilt_core::k8s_objects::object_display_name(&o);
        if keep(&o) {
            println!("Keeping {name} (annotation tilt.dev/down-policy: keep)");
        } else if o.get("kind").and_then(serde_json::Value::as_str) == Some("Namespace") && !args.delete_namespaces {
            println!("Keeping {name} (pass --delete-namespaces to delete namespaces)");
        } else {
            to_delete.push(o);
        }
    }
    let cluster = match stilt_k8s::Cluster::connect(
        &result.environment,
        args.context.as_deref(),
        args.namespace.as_deref(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            eprintln!("Error: {}", error_chain(&e));
            return if e.is_environment() { ExitCode::ENVIRONMENT } else { ExitCode::RESOURCE_FAILED };
        }
    };
    let timeout = result.update_settings.k8s_upsert_timeout();
    match cluster.delete(&to_delete, timeout).await {
        Ok(deleted) => {
            println!("Deleted {} Kubernetes objects from context {}", deleted.len(), cluster.context);
            for d in deleted {
                println!("  → {d}");
            }
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("Error: {}", error_chain(e));
            }
            if errors.iter().all(stilt_k8s::K8sError::is_environment) {
                ExitCode::ENVIRONMENT
            } else {
                ExitCode::RESOURCE_FAILED
            }
        }
    }
}

/// Takes each compose project down.
async fn down_compose(args: &DownArgs, projects: &[&str]) -> ExitCode {
    let docker = match DockerClient::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("Error: {}", error_chain(&e));
            return ExitCode::ENVIRONMENT;
        }
    };
    let mut failed = false;
    let options = DownOptions { remove_volumes: args.delete_volumes, stop_timeout: None };
    for &project in projects {
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
