//! Checks what the engine will deploy before anything runs: every docker-compose service is
//! read into a [`ServiceSpec`] right after the Tiltfile loaded, so a typo in a compose file
//! fails the load (exit 5, naming the file and the service) instead of surfacing after the
//! image builds — Tilt reports these at load time too.

use crate::exec::resource_update::ComposeDeploy;
use std::collections::HashMap;
use stilt_core::{Manifest, ResourceTarget, TiltfileError};
use stilt_docker::compose::{ComposeProject, ServiceSpec};

/// The compose deploys of `manifests`, by resource index.
pub fn compose_deploys(manifests: &[Manifest]) -> Result<HashMap<usize, ComposeDeploy>, TiltfileError> {
    let mut out = HashMap::new();
    for (i, m) in manifests.iter().enumerate() {
        let ResourceTarget::DockerCompose(t) = &m.target else { continue };
        let project = ComposeProject {
            name: t.project_name.clone(),
            working_dir: t.project_path.clone(),
            config_files: t.config_paths.clone(),
        };
        let spec = ServiceSpec::from_config(&project, &t.service, &t.service_config).map_err(|e| {
            let files: Vec<String> = t.config_paths.iter().map(|p| p.display().to_string()).collect();
            TiltfileError {
                message: format!("{} (in {})", crate::error_chain::error_chain(&e), files.join(", ")),
                location: m.declared_at.clone(),
                traceback: Vec::new(),
            }
        })?;
        out.insert(i, ComposeDeploy { project, spec });
    }
    Ok(out)
}
