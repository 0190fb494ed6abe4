//! Builds one image of a resource: `docker_build` through the Docker Engine API (stilt-docker),
//! `custom_build` by running the user's command and checking that the image it promised exists.
//!
//! Output goes to the resource's build log as it comes. The result is an [`ImageBuildRecord`],
//! which the dispatcher keeps (so a second resource using the same image does not rebuild it)
//! and the reports show (ref, id, digest, duration, built or reused).
//!
//! With `--reuse-images`, a `docker_build` whose inputs (stilt-docker's `BuildInputs`) match an
//! image an earlier build left in the engine's store as `<name>:stilt-in-<digest>` is not built:
//! that image is deployed, under its `tilt-<hash>` content tag like a fresh build.

use super::dockerfile_refs::{BuiltDep, inject};
use super::exec_msg::ExecMsg;
use super::local_process::{command_env, spawn};
use super::process_registry::ProcessRegistry;
use crate::error_chain::error_chain;
use crate::event::LogSource;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use stilt_core::FailureClass;
use stilt_core::manifest::{CustomBuild, DockerBuild, ImageBuild, ImageTarget};
use stilt_docker::{BuildRequest, DockerClient, ImageRef, content_tag};
use tokio::sync::OnceCell;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

/// What one image build produced. Serialized into the JSON report (`stilt.targets[].images`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageBuildRecord {
    /// The ref as the Tiltfile wrote it (the build's selector).
    pub image: String,
    /// `docker_build`, `custom_build` or `compose` (a compose service's own `build:`).
    pub builder: &'static str,
    /// The content-addressed ref that was deployed (`app:tilt-0123456789abcdef`).
    #[serde(rename = "ref")]
    pub built_ref: String,
    /// The image id (`sha256:…`); empty when `skips_local_docker` hid the image from us.
    pub image_id: String,
    /// The registry digest, once pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The ref pushed to a registry, if it was pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pushed_ref: Option<String>,
    /// Seconds the build took.
    pub duration_seconds: f64,
    /// `built`, or `reused` (`--reuse-images`: an image with the same inputs was deployed).
    pub outcome: BuildOutcome,
    /// `<name>:stilt-in-<digest of the inputs>` (docker_build and compose builds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_ref: Option<String>,
}

/// Whether an image was built in this run or an earlier build's image was reused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum BuildOutcome {
    #[default]
    Built,
    Reused,
}

/// Records the push of `image` (as `pushed_ref`, with its registry digest) on each of its
/// records among `records`.
pub fn record_push<'a>(
    records: impl Iterator<Item = &'a mut ImageBuildRecord>,
    image: &str,
    pushed_ref: &str,
    digest: Option<&String>,
) {
    for rec in records.filter(|r| r.image == image) {
        rec.digest = digest.cloned();
        rec.pushed_ref = Some(pushed_ref.to_string());
    }
}

/// Why an update (build or deploy) failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateError {
    /// The message for the log, the target and the reports.
    pub message: String,
    /// The environment (Docker daemon) was unusable, not the user's build: exit 4.
    pub environment: bool,
}

impl UpdateError {
    /// A failure of the user's build or deploy.
    pub fn update(message: impl Into<String>) -> Self {
        UpdateError { message: message.into(), environment: false }
    }
}

/// One Docker connection for the whole run, made the first time a resource needs it, and the
/// run's image-reuse setting.
#[derive(Debug, Clone, Default)]
pub struct DockerHandle {
    client: Arc<OnceCell<DockerClient>>,
    /// `--reuse-images`.
    reuse_images: bool,
}

impl DockerHandle {
    /// A handle whose `docker_build`s reuse images with unchanged inputs when `reuse_images`.
    pub fn new(reuse_images: bool) -> Self {
        Self { client: Arc::default(), reuse_images }
    }

    /// The client, connecting (and negotiating the API version) on first use.
    pub async fn get(&self) -> Result<DockerClient, UpdateError> {
        self.client.get_or_try_init(DockerClient::connect).await.cloned().map_err(|e| UpdateError {
            message: format!("{}: is the Docker daemon running, and DOCKER_HOST right?", error_chain(&e)),
            environment: e.class() == FailureClass::Environment,
        })
    }
}

/// What a build needs from its surroundings.
#[derive(Debug, Clone)]
pub struct BuildEnv {
    /// The Docker connection.
    pub docker: DockerHandle,
    /// Environment for `custom_build` commands.
    pub env: BTreeMap<String, String>,
    /// Ask commands for colour.
    pub color: bool,
    /// Where `custom_build` process groups are registered (killed at teardown).
    pub registry: ProcessRegistry,
    /// `default_registry` host, for `$EXPECTED_REGISTRY`.
    pub default_registry: Option<String>,
    /// The dispatcher.
    pub tx: UnboundedSender<ExecMsg>,
    /// The resource whose log gets the output.
    pub resource: usize,
}

impl BuildEnv {
    /// Sends one build-log line.
    pub fn log(&self, line: impl Into<String>) {
        let _ = self.tx.send(ExecMsg::Output { resource: self.resource, source: LogSource::Build, line: line.into() });
    }
}

/// Builds `target`, on top of the already built `deps`.
pub async fn build_image(
    env: &BuildEnv,
    target: &ImageTarget,
    deps: &[BuiltDep],
) -> Result<ImageBuildRecord, UpdateError> {
    let start = Instant::now();
    let (builder, built_ref, image_id) = match &target.build {
        ImageBuild::Docker(b) => {
            let req = docker_request(target, b, deps);
            let docker = env.docker.get().await?;
            let inputs = docker.build_inputs(&req).await.map_err(|e| UpdateError::update(error_chain(&e)))?;
            if env.docker.reuse_images
                && let Some(reused) = reuse_local(env, &docker, &req, &inputs, start).await?
            {
                return Ok(reused);
            }
            env.log(format!("Building Dockerfile for image {}", target.image_ref));
            let built = docker
                .build_with_inputs(&req, Some(inputs), |line| env.log(line))
                .await
                .map_err(|e| UpdateError::update(error_chain(&e)))?;
            let mut rec = built_record(env, &target.image_ref, "docker_build", built.ref_with_tag, built.id, start);
            rec.input_ref = Some(built.input_ref);
            return Ok(rec);
        }
        ImageBuild::Custom(c) => {
            let (r, id) = custom_build(env, target, c, deps).await?;
            ("custom_build", r, id)
        }
        ImageBuild::None => return Err(UpdateError::update(format!("image {} has no build", target.image_ref))),
    };
    Ok(built_record(env, &target.image_ref, builder, built_ref, image_id, start))
}

/// The image an earlier build with the same inputs left in the engine's store, tagged and
/// recorded as this run's build of `req`; `None` when there is none.
async fn reuse_local(
    env: &BuildEnv,
    docker: &DockerClient,
    req: &BuildRequest,
    inputs: &stilt_docker::BuildInputs,
    start: Instant,
) -> Result<Option<ImageBuildRecord>, UpdateError> {
    let environment = |e: &dyn std::error::Error| UpdateError { message: error_chain(e), environment: true };
    let name = ImageRef::parse(&req.image_ref).map_err(|e| UpdateError::update(e.to_string()))?.name();
    let Some(id) = docker.local_input_image(&name, inputs).await.map_err(|e| environment(&e))? else {
        return Ok(None);
    };
    let input_ref = format!("{name}:{}", inputs.tag());
    let tag = content_tag(&id).map_err(|e| UpdateError::update(e.to_string()))?;
    docker.tag(&id, &name, &tag).await.map_err(|e| environment(&e))?;
    for extra in &req.extra_tags {
        let r = ImageRef::parse(extra).map_err(|e| UpdateError::update(e.to_string()))?;
        docker.tag(&id, &r.name(), r.tag.as_deref().unwrap_or("latest")).await.map_err(|e| environment(&e))?;
    }
    let built_ref = format!("{name}:{tag}");
    env.log(format!("Reusing image {input_ref} as {built_ref} (inputs unchanged)"));
    Ok(Some(ImageBuildRecord {
        image: req.image_ref.clone(),
        builder: "docker_build",
        built_ref,
        image_id: id,
        digest: None,
        pushed_ref: None,
        duration_seconds: start.elapsed().as_secs_f64(),
        outcome: BuildOutcome::Reused,
        input_ref: Some(input_ref),
    }))
}

/// Builds a compose service's own `build:` section (no `docker_build` for its image).
pub async fn build_compose_image(
    env: &BuildEnv,
    image: &str,
    req: BuildRequest,
) -> Result<ImageBuildRecord, UpdateError> {
    let start = Instant::now();
    env.log(format!("Building image {image} from its compose build section"));
    let b = engine_build(env, &req).await?;
    let mut rec = built_record(env, image, "compose", b.ref_with_tag, b.id, start);
    rec.input_ref = Some(b.input_ref);
    Ok(rec)
}

/// Builds `req` through the Docker Engine API, its output in the build log.
async fn engine_build(env: &BuildEnv, req: &BuildRequest) -> Result<stilt_docker::BuiltImage, UpdateError> {
    let docker = env.docker.get().await?;
    docker.build(req, |line| env.log(line)).await.map_err(|e| UpdateError::update(error_chain(&e)))
}

/// Logs the finished build of `image` and records it (not pushed yet).
fn built_record(
    env: &BuildEnv,
    image: &str,
    builder: &'static str,
    built_ref: String,
    image_id: String,
    start: Instant,
) -> ImageBuildRecord {
    env.log(format!("Built image {built_ref}"));
    ImageBuildRecord {
        image: image.to_string(),
        builder,
        built_ref,
        image_id,
        digest: None,
        pushed_ref: None,
        duration_seconds: start.elapsed().as_secs_f64(),
        outcome: BuildOutcome::Built,
        input_ref: None,
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The Engine API request for a `docker_build`, with dependency images swapped in.
fn docker_request(target: &ImageTarget, b: &DockerBuild, deps: &[BuiltDep]) -> BuildRequest {
    let injected = inject(&b.dockerfile_contents, deps);
    // The user's Dockerfile as it is, or (in its place) with dependency images written in.
    let (dockerfile, dockerfile_contents) = match (injected, &b.dockerfile) {
        (Some(text), path) => (path.clone(), Some(text)),
        (None, Some(path)) => (Some(path.clone()), None),
        (None, None) => (None, Some(b.dockerfile_contents.clone())),
    };
    BuildRequest {
        image_ref: target.local_ref.clone(),
        context: b.context.clone(),
        dockerfile,
        dockerfile_contents,
        build_args: b.build_args.clone(),
        target: non_empty(&b.target),
        network: non_empty(&b.network),
        extra_hosts: b.extra_hosts.clone(),
        cache_from: b.cache_from.clone(),
        pull: b.pull,
        platform: non_empty(&b.platform),
        ssh: b.ssh.clone(),
        secret: b.secret.clone(),
        extra_tags: b.extra_tag.clone(),
        only: b.only.clone(),
        ignore: b.ignore.clone(),
        ..BuildRequest::default()
    }
}

/// Runs a `custom_build` command and finds the image it made: `(deployed ref, image id)`.
async fn custom_build(
    env: &BuildEnv,
    target: &ImageTarget,
    c: &CustomBuild,
    deps: &[BuiltDep],
) -> Result<(String, String), UpdateError> {
    let name = ImageRef::parse(&target.local_ref)
        .map_err(|e| UpdateError::update(format!("custom_build {}: {e}", target.image_ref)))?
        .name();
    let tag = if c.tag.is_empty() {
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        format!("tilt-build-{secs}")
    } else {
        c.tag.clone()
    };
    let expected = format!("{name}:{tag}");
    let mut vars = command_env(&env.env, &c.command, env.color);
    vars.insert("EXPECTED_REF".into(), expected.clone());
    vars.insert("EXPECTED_IMAGE".into(), name.clone());
    vars.insert("EXPECTED_TAG".into(), tag.clone());
    if let Some(host) = &env.default_registry {
        vars.insert("EXPECTED_REGISTRY".into(), host.clone());
        vars.insert("REGISTRY_HOST".into(), host.clone());
    }
    for (i, d) in deps.iter().enumerate() {
        vars.insert(format!("TILT_IMAGE_MAP_{i}"), d.selector.clone());
        vars.insert(format!("TILT_IMAGE_{i}"), d.built_ref.clone());
    }
    env.log(format!("Custom Build: Injecting Environment Variables\n  EXPECTED_REF={expected}"));
    env.log(format!("Running cmd: {}", c.command.display()));
    run_command(env, &c.command, vars).await?;

    if c.skips_local_docker {
        let r = if c.outputs_image_ref_to.is_empty() { expected } else { read_ref_file(&c.outputs_image_ref_to)? };
        return Ok((r, String::new()));
    }
    let docker = env.docker.get().await?;
    let (found_ref, how): (String, String) = if c.outputs_image_ref_to.is_empty() {
        (expected.clone(), "tag it with $EXPECTED_REF".to_string())
    } else {
        (read_ref_file(&c.outputs_image_ref_to)?, format!("write its ref to {}", c.outputs_image_ref_to))
    };
    let id = docker
        .image_id(&found_ref)
        .await
        .map_err(|e| UpdateError { message: error_chain(&e), environment: e.class() == FailureClass::Environment })?
        .ok_or_else(|| {
            UpdateError::update(format!(
                "custom_build command {:?} exited 0 but image {found_ref} does not exist: the command must build \
                 the image and {how}",
                c.command.display()
            ))
        })?;
    if !c.outputs_image_ref_to.is_empty() || !c.tag.is_empty() {
        return Ok((found_ref, id));
    }
    // Tilt's content-addressed tag, so the deployed ref changes only when the image does.
    let content = content_tag(&id).map_err(|e| UpdateError::update(e.to_string()))?;
    docker
        .tag(&id, &name, &content)
        .await
        .map_err(|e| UpdateError { message: format!("failed to tag {found_ref}: {e}"), environment: true })?;
    Ok((format!("{name}:{content}"), id))
}

/// The ref a command wrote to `outputs_image_ref_to`.
fn read_ref_file(path: &str) -> Result<String, UpdateError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| UpdateError::update(format!("failed to read the image ref custom_build wrote to {path}: {e}")))?;
    let r = text.trim().to_string();
    ImageRef::parse(&r)
        .map_err(|e| UpdateError::update(format!("custom_build wrote a bad image ref to {path}: {e}")))?;
    Ok(r)
}

/// Runs a command as a process group registered for teardown, its output in the build log.
async fn run_command(env: &BuildEnv, cmd: &stilt_core::Cmd, vars: BTreeMap<String, String>) -> Result<(), UpdateError> {
    let (tx, mut rx) = unbounded_channel();
    spawn(cmd, vars, env.resource, LogSource::Build, tx, &env.registry);
    while let Some(msg) = rx.recv().await {
        match msg {
            ExecMsg::Output { line, .. } => env.log(line),
            ExecMsg::Exited { failure: None, .. } => return Ok(()),
            ExecMsg::Exited { failure: Some(f), .. } => {
                return Err(UpdateError::update(format!("Command {:?} failed: {f}", cmd.display())));
            }
            _ => {}
        }
    }
    Err(UpdateError::update(format!("Command {:?} vanished", cmd.display())))
}
