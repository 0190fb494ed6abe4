//! The Docker Engine client: connect, build, tag, push, inspect, remove.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    BuildImageOptions, PushImageOptionsBuilder, RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use futures_util::StreamExt;

use crate::builder::{Builder, BuilderChoice, choose_builder};
use crate::buildkit_progress::{BuildKitProgress, status_of};
use crate::context::{ContextPlan, ContextStats, stream_tar};
use crate::error::{BuildError, ConnectError, DockerError, PushError, Step};
use crate::input_digest::{BuildInputs, base_images, context_digest};
use stilt_core::image_ref::{ImageRef, content_tag};

/// Where `Docker::connect_with_defaults` goes when `DOCKER_HOST` is unset.
const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// The label put on every image BuildKit builds for stilt (through the build API's `labels`,
/// which BuildKit writes into the image config; the classic builder would add a `LABEL` step
/// for it, so classic builds do without it).
pub const BUILD_LABEL: &str = "dev.stilt.build";

/// A connected, version-negotiated Docker Engine client.
#[derive(Debug, Clone)]
pub struct DockerClient {
    docker: Docker,
    host: String,
    /// The engine's API version and OS, from `/version`.
    api_version: String,
    os: String,
    /// What `Builder::Auto` means here (an error: `DOCKER_BUILDKIT` is not a boolean).
    choice: Result<BuilderChoice, String>,
    /// The fallback to the classic builder was logged (once per client).
    fallback_logged: Arc<AtomicBool>,
}

/// One image build, mirroring Tilt's `docker_build` (paths already resolved by the caller).
#[derive(Debug, Clone, Default)]
pub struct BuildRequest {
    /// The image name the build is for (`my-app`, `localhost:5000/app`); a tag, if any, is
    /// ignored: the result is tagged `<name>:tilt-<16 hex of the image id>`.
    pub image_ref: String,
    /// The context directory.
    pub context: PathBuf,
    /// The Dockerfile (absolute, or relative to the current directory); `None` means
    /// `<context>/Dockerfile`. With `dockerfile_contents` too, the contents are sent in this
    /// file's place when it lies inside the context (else under a name of their own).
    pub dockerfile: Option<PathBuf>,
    pub dockerfile_contents: Option<String>,
    pub build_args: Vec<(String, String)>,
    pub target: Option<String>,
    /// `--network` for RUN steps.
    pub network: Option<String>,
    /// `host:ip` entries for RUN steps' `/etc/hosts` (the Engine API's `extrahosts`).
    pub extra_hosts: Vec<String>,
    pub cache_from: Vec<String>,
    /// Always attempt to pull a newer version of the base images.
    pub pull: bool,
    pub platform: Option<String>,
    /// Labels added to the image (besides `dev.stilt.build=1`).
    pub labels: Vec<(String, String)>,
    /// BuildKit-only options, refused by the classic builder.
    pub ssh: Vec<String>,
    pub secret: Vec<String>,
    /// Full refs to tag the result with as well (Tilt's `extra_tag`), e.g. `app:latest`.
    pub extra_tags: Vec<String>,
    /// Tilt's `only=`: paths relative to the context; only these are sent (plus the Dockerfile).
    pub only: Vec<String>,
    /// Tilt's `ignore=`: `.dockerignore`-syntax patterns, applied on top of `.dockerignore`.
    pub ignore: Vec<String>,
    pub builder: Builder,
    /// Disable the layer cache.
    pub no_cache: bool,
}

impl BuildRequest {
    pub fn new(image_ref: impl Into<String>, context: impl Into<PathBuf>) -> Self {
        Self { image_ref: image_ref.into(), context: context.into(), ..Self::default() }
    }
}

/// The result of a build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuiltImage {
    /// The image id (`sha256:…`, the config digest).
    pub id: String,
    /// `<name>:tilt-<16 hex>`: the content-addressed ref to deploy.
    pub ref_with_tag: String,
    /// `<name>:stilt-in-<32 hex>`: the input-addressed ref (see [`BuildInputs`]).
    pub input_ref: String,
    /// The registry (manifest) digest, known only once pushed: `None` after a build.
    pub digest: Option<String>,
}

/// The result of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    pub reference: String,
    /// `sha256:…` manifest digest reported by the registry.
    pub digest: Option<String>,
}

impl DockerClient {
    /// Connects to the daemon named by `DOCKER_HOST` (default `unix:///var/run/docker.sock`)
    /// and negotiates the API version.
    pub async fn connect() -> Result<Self, ConnectError> {
        let host = std::env::var("DOCKER_HOST").unwrap_or_else(|_| DEFAULT_DOCKER_HOST.into());
        let docker = Docker::connect_with_defaults().map_err(|source| ConnectError { host: host.clone(), source })?;
        Self::negotiate(docker, host).await
    }

    /// Connects to an explicit host (`unix://…`, `tcp://…`).
    pub async fn connect_to(host: &str) -> Result<Self, ConnectError> {
        let docker =
            Docker::connect_with_host(host).map_err(|source| ConnectError { host: host.to_string(), source })?;
        Self::negotiate(docker, host.to_string()).await
    }

    async fn negotiate(docker: Docker, host: String) -> Result<Self, ConnectError> {
        let docker = match docker.negotiate_version().await {
            Ok(docker) => docker,
            Err(source) => return Err(ConnectError { host, source }),
        };
        let version = match docker.version().await {
            Ok(v) => v,
            Err(source) => return Err(ConnectError { host, source }),
        };
        let client = Self {
            docker,
            host,
            api_version: version.api_version.unwrap_or_default(),
            os: version.os.unwrap_or_default(),
            choice: Ok(BuilderChoice { builder: Builder::Classic, fallback_reason: None }),
            fallback_logged: Arc::default(),
        };
        Ok(client.with_buildkit_env(std::env::var("DOCKER_BUILDKIT").ok().as_deref()))
    }

    /// This client with `Builder::Auto` decided as if `DOCKER_BUILDKIT` were `value` (`connect`
    /// reads the real variable).
    #[must_use]
    pub fn with_buildkit_env(mut self, value: Option<&str>) -> Self {
        self.choice = choose_builder(value, &self.api_version, &self.os);
        self.fallback_logged = Arc::default();
        self
    }

    /// The builder `Builder::Auto` stands for on this engine.
    pub fn default_builder(&self) -> Builder {
        self.choice.as_ref().map_or(Builder::Classic, |c| c.builder)
    }

    /// The builder that runs `req`, logging (once per client) why it is not BuildKit.
    fn resolve_builder(&self, req: &BuildRequest, log: &mut impl FnMut(&str)) -> Result<Builder, BuildError> {
        if req.builder != Builder::Auto {
            return Ok(req.builder);
        }
        let choice = self
            .choice
            .as_ref()
            .map_err(|reason| BuildError::InvalidRequest { image: req.image_ref.clone(), reason: reason.clone() })?;
        if let Some(reason) = &choice.fallback_reason
            && !self.fallback_logged.swap(true, Ordering::SeqCst)
        {
            log(&format!("Building with the classic Docker builder, not BuildKit: {reason}"));
        }
        Ok(choice.builder)
    }

    /// The daemon address this client talks to.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The underlying bollard client.
    pub fn bollard(&self) -> &Docker {
        &self.docker
    }

    /// Builds an image, streaming the context and the build output (line by line into `log`),
    /// then tags it `<name>:tilt-<16 hex>`, `<name>:stilt-in-<inputs>` and with every extra tag.
    pub async fn build(&self, req: &BuildRequest, log: impl FnMut(&str)) -> Result<BuiltImage, BuildError> {
        self.build_with_inputs(req, None, log).await
    }

    /// The inputs of `req` (see [`BuildInputs`]): reads the context once and asks the engine
    /// for the id of each image the Dockerfile builds on.
    pub async fn build_inputs(&self, req: &BuildRequest) -> Result<BuildInputs, BuildError> {
        let image = req.image_ref.clone();
        let (_, plan, dockerfile) = plan_context(req)?;
        let context = tokio::task::spawn_blocking(move || context_digest(&plan))
            .await
            .map_err(|e| BuildError::Context { image: image.clone(), source: std::io::Error::other(e.to_string()) })?
            .map_err(|source| BuildError::Context { image: image.clone(), source })?;
        let mut images = Vec::new();
        for r in base_images(&dockerfile) {
            // `FROM $BASE`: the build args (counted) decide; there is nothing to resolve.
            let id = if r.contains('$') { None } else { self.image_id(&r).await.ok().flatten() };
            images.push((r, id));
        }
        Ok(BuildInputs {
            context,
            dockerfile,
            build_args: req.build_args.clone(),
            target: req.target.clone(),
            platform: req.platform.clone(),
            network: req.network.clone(),
            extra_hosts: req.extra_hosts.clone(),
            labels: req.labels.clone(),
            images,
        })
    }

    /// The id of the image an earlier build with these `inputs` left in the engine's store
    /// (`<name>:stilt-in-<digest>`), if any.
    pub async fn local_input_image(&self, name: &str, inputs: &BuildInputs) -> Result<Option<String>, DockerError> {
        self.image_id(&format!("{name}:{}", inputs.tag())).await
    }

    /// [`build`](Self::build) with the inputs already computed by [`build_inputs`](Self::build_inputs).
    pub async fn build_with_inputs(
        &self,
        req: &BuildRequest,
        inputs: Option<BuildInputs>,
        mut log: impl FnMut(&str),
    ) -> Result<BuiltImage, BuildError> {
        let image = req.image_ref.clone();
        let inputs = match inputs {
            Some(i) => i,
            None => self.build_inputs(req).await?,
        };
        let name = ImageRef::parse(&req.image_ref)
            .map_err(|e| BuildError::InvalidRequest { image: image.clone(), reason: e.to_string() })?
            .name();
        let extra_tags = req
            .extra_tags
            .iter()
            .map(|t| ImageRef::parse(t))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| BuildError::InvalidRequest { image: image.clone(), reason: format!("extra tag: {e}") })?;
        let builder = self.resolve_builder(req, &mut log)?;
        check_builder_options(req, builder)?;
        let (dockerfile_name, plan, _) = plan_context(req)?;
        let options = build_options(req, builder, &dockerfile_name);

        let (body, tar_thread) = stream_tar(plan);
        // The stream (and with it the request body) is dropped before the tar thread is
        // awaited, so a thread blocked on a full channel sees the receiver go away.
        let outcome = {
            let mut stream =
                std::pin::pin!(self.docker.build_image(options, None, Some(bollard::body_try_stream(body)),));
            consume_build_output(&mut stream, &mut log).await
        };

        // A context that could not be read explains a failed upload better than the daemon.
        // After a failure the daemon may not have read the whole context: do not wait long.
        let wait = if outcome.failure.is_some() { Duration::from_secs(5) } else { Duration::from_secs(600) };
        match tokio::time::timeout(wait, tar_thread).await.unwrap_or(Ok(Ok(ContextStats::default()))) {
            Ok(Err(source)) => return Err(BuildError::Context { image, source }),
            Err(join) => {
                return Err(BuildError::Context { image, source: std::io::Error::other(join.to_string()) });
            }
            Ok(Ok(_stats)) => {}
        }
        if let Some(message) = outcome.failure {
            if let Some(failed) = outcome.buildkit.failed() {
                return Err(BuildError::Failed { image, step: failed.step(), message: failed.message(&message) });
            }
            return Err(BuildError::Failed { image, step: outcome.last_step, message: message.trim().to_string() });
        }
        let id = match (outcome.image_id, outcome.short_id) {
            (Some(id), _) => id,
            (None, Some(short)) => self
                .docker
                .inspect_image(&short)
                .await
                .ok()
                .and_then(|i| i.id)
                .ok_or_else(|| BuildError::NoImageId { image: image.clone() })?,
            (None, None) => return Err(BuildError::NoImageId { image }),
        };

        let tag = content_tag(&id).map_err(|_| BuildError::NoImageId { image: image.clone() })?;
        self.tag(&id, &name, &tag).await.map_err(|source| BuildError::Docker { image: image.clone(), source })?;
        let input_tag = inputs.tag();
        self.tag(&id, &name, &input_tag).await.map_err(|source| BuildError::Docker { image: image.clone(), source })?;
        for extra in &extra_tags {
            self.tag(&id, &extra.name(), extra.tag.as_deref().unwrap_or("latest"))
                .await
                .map_err(|source| BuildError::Docker { image: image.clone(), source })?;
        }
        Ok(BuiltImage {
            ref_with_tag: format!("{name}:{tag}"),
            input_ref: format!("{name}:{input_tag}"),
            id,
            digest: None,
        })
    }

    /// Tags `image` (id or ref) as `repo:tag`.
    pub async fn tag(&self, image: &str, repo: &str, tag: &str) -> Result<(), BollardError> {
        self.docker.tag_image(image, Some(TagImageOptionsBuilder::default().repo(repo).tag(tag).build())).await
    }

    /// Pushes `image_ref` (`name[:tag]`, tag defaulting to `latest`) through the Engine API,
    /// with progress lines (rate-limited) in `log`.
    pub async fn push(&self, image_ref: &str, mut log: impl FnMut(&str)) -> Result<PushedImage, PushError> {
        let r = ImageRef::parse(image_ref)
            .map_err(|e| PushError { reference: image_ref.to_string(), message: e.to_string() })?;
        let tag = r.tag.clone().unwrap_or_else(|| "latest".into());
        let reference = r.with_tag(&tag);
        let fail = |message: String| PushError { reference: reference.clone(), message };
        let mut stream =
            self.docker.push_image(&r.name(), Some(PushImageOptionsBuilder::default().tag(&tag).build()), None);
        let mut progress = ProgressLimiter::default();
        let mut digest = None;
        while let Some(item) = stream.next().await {
            match item {
                Ok(info) => {
                    if let Some(msg) = info.error_detail.and_then(|d| d.message) {
                        return Err(fail(msg));
                    }
                    if let Some(status) = &info.status {
                        if let Some(d) = parse_push_digest(status) {
                            digest = Some(d);
                        }
                        if let Some(line) = progress.line(None, status, info.progress_detail.as_ref()) {
                            log(&line);
                        }
                    }
                }
                Err(e) => return Err(fail(daemon_message(&e))),
            }
        }
        Ok(PushedImage { reference, digest })
    }

    /// Whether the daemon has `image` (a ref or an id).
    pub async fn image_exists(&self, image: &str) -> Result<bool, DockerError> {
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(BollardError::DockerResponseServerError { status_code: 404, .. }) => Ok(false),
            Err(source) => Err(DockerError { action: format!("inspect image {image:?}"), source }),
        }
    }

    /// The id (`sha256:…`) of `image` (a ref or an id), or `None` when the daemon has no such image.
    pub async fn image_id(&self, image: &str) -> Result<Option<String>, DockerError> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(i.id),
            Err(BollardError::DockerResponseServerError { status_code: 404, .. }) => Ok(None),
            Err(source) => Err(DockerError { action: format!("inspect image {image:?}"), source }),
        }
    }

    /// Removes an image (forced: every tag of it goes). A missing image is not an error.
    pub async fn remove_image(&self, image: &str) -> Result<(), DockerError> {
        match self
            .docker
            .remove_image(image, Some(RemoveImageOptionsBuilder::default().force(true).build()), None)
            .await
        {
            Ok(_) | Err(BollardError::DockerResponseServerError { status_code: 404, .. }) => Ok(()),
            Err(source) => Err(DockerError { action: format!("remove image {image:?}"), source }),
        }
    }
}

/// What the build output said.
#[derive(Default)]
struct BuildOutcome {
    last_step: Option<Step>,
    image_id: Option<String>,
    /// From `Successfully built <short id>` (when no `aux` id came).
    short_id: Option<String>,
    failure: Option<String>,
    /// BuildKit's progress, as log lines.
    buildkit: BuildKitProgress,
}

impl BuildOutcome {
    fn line(&mut self, line: &str, log: &mut impl FnMut(&str)) {
        if let Some(step) = Step::parse(line) {
            self.last_step = Some(step);
        }
        if let Some(id) = line.strip_prefix("Successfully built ") {
            self.short_id = Some(id.trim().to_string());
        }
        log(line);
    }
}

impl BuildOutcome {
    /// The image id (classic and BuildKit) or BuildKit's progress.
    fn aux(&mut self, aux: Option<bollard::models::BuildInfoAux>, log: &mut impl FnMut(&str)) {
        let Some(aux) = aux else { return };
        if let Some(status) = status_of(&aux) {
            self.buildkit.update(status, log);
        } else if let bollard::models::BuildInfoAux::Default(a) = aux
            && let Some(id) = a.id
        {
            self.image_id = Some(id);
        }
    }
}

/// Reads the build stream to its end (or its first error), logging whole lines.
async fn consume_build_output(
    stream: &mut (impl futures_util::Stream<Item = Result<bollard::models::BuildInfo, BollardError>> + Unpin),
    log: &mut impl FnMut(&str),
) -> BuildOutcome {
    let mut out = BuildOutcome::default();
    let mut lines = LineSplitter::default();
    let mut progress = ProgressLimiter::default();
    while let Some(item) = stream.next().await {
        let info = match item {
            Ok(info) => info,
            Err(e) => {
                out.failure = Some(daemon_message(&e));
                break;
            }
        };
        if let Some(text) = &info.stream {
            for line in lines.push(text) {
                out.line(&line, log);
            }
        }
        if let Some(status) = &info.status
            && let Some(line) = progress.line(info.id.as_deref(), status, info.progress_detail.as_ref())
        {
            out.line(&line, log);
        }
        if let Some(msg) = info.error_detail.and_then(|d| d.message) {
            out.failure = Some(msg);
            break;
        }
        out.aux(info.aux, log);
        if out.failure.is_some() {
            break;
        }
    }
    if let Some(rest) = lines.finish() {
        out.line(&rest, log);
    }
    out
}

fn check_builder_options(req: &BuildRequest, builder: Builder) -> Result<(), BuildError> {
    let invalid = |reason: String| Err(BuildError::InvalidRequest { image: req.image_ref.clone(), reason });
    for (option, values) in [("ssh", &req.ssh), ("secret", &req.secret)] {
        if values.is_empty() {
            continue;
        }
        return invalid(if builder == Builder::Classic {
            format!("{option}= needs BuildKit; the classic Docker builder cannot do it")
        } else {
            format!("{option}= is not supported by stilt's BuildKit session yet")
        });
    }
    if req.extra_hosts.len() > 1 {
        // The Engine API takes one `extrahosts` query value per entry; bollard's options
        // carry a single string.
        return invalid(format!("at most one extra_hosts entry is supported (got {})", req.extra_hosts.len()));
    }
    Ok(())
}

/// Validates paths and decides where the Dockerfile goes in the tar: (its name there, the plan,
/// its text).
fn plan_context(req: &BuildRequest) -> Result<(String, ContextPlan, String), BuildError> {
    let image = || req.image_ref.clone();
    let context = &req.context;
    if !context.is_dir() {
        return Err(BuildError::ContextNotFound { image: image(), path: context.clone() });
    }
    let in_context = req.dockerfile.as_ref().and_then(|p| relative_inside(context, p));
    let (name, contents, text) = if let Some(text) = &req.dockerfile_contents {
        // With a `dockerfile` inside the context, the contents are sent in its place (so
        // BuildKit, which does not apply the sent .dockerignore, sees no extra file).
        let name = in_context.unwrap_or_else(|| synthetic_dockerfile_name(text.as_bytes()));
        (name, Some(text.clone().into_bytes()), text.clone())
    } else {
        let path = req.dockerfile.clone().unwrap_or_else(|| context.join("Dockerfile"));
        if !path.is_file() {
            return Err(BuildError::DockerfileNotFound { image: image(), path });
        }
        let bytes = std::fs::read(&path).map_err(|source| BuildError::Context {
            image: image(),
            source: std::io::Error::new(source.kind(), format!("{}: {source}", path.display())),
        })?;
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(rel) = relative_inside(context, &path) {
            (rel, None, text)
        } else {
            (synthetic_dockerfile_name(&bytes), Some(bytes), text)
        }
    };
    let plan = ContextPlan::new(context, &req.ignore, &req.only, (name.clone(), contents))
        .map_err(|e| BuildError::InvalidRequest { image: image(), reason: e.to_string() })?;
    Ok((name, plan, text))
}

/// `path` relative to `root` with `/` separators, when it lies inside it.
fn relative_inside(root: &Path, path: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let path = path.canonicalize().ok()?;
    let rel = path.strip_prefix(&root).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    let joined = parts?.join("/");
    (!joined.is_empty()).then_some(joined)
}

/// A name no context file has, like the docker CLI's `.dockerfile.<random>`, but derived from
/// the Dockerfile's bytes: the same Dockerfile gives the same context, so BuildKit's cache for
/// `COPY .` and the input digest stay the same from build to build.
fn synthetic_dockerfile_name(contents: &[u8]) -> String {
    format!(".dockerfile.stilt-{}", &blake3::hash(contents).to_hex()[..16])
}

/// A unique BuildKit session id.
fn session_id() -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("stilt-{:x}{:x}", std::process::id(), nanos)
}

fn build_options(req: &BuildRequest, builder: Builder, dockerfile: &str) -> BuildImageOptions {
    let mut labels: HashMap<String, String> = req.labels.iter().cloned().collect();
    if builder == Builder::BuildKit {
        labels.insert(BUILD_LABEL.into(), "1".into());
    }
    let mut options = BuildImageOptions {
        dockerfile: dockerfile.to_string(),
        rm: true,
        forcerm: true,
        nocache: req.no_cache,
        labels: (!labels.is_empty()).then_some(labels),
        buildargs: (!req.build_args.is_empty()).then(|| req.build_args.iter().cloned().collect()),
        target: req.target.clone().unwrap_or_default(),
        networkmode: req.network.clone(),
        extrahosts: req.extra_hosts.first().cloned(),
        cachefrom: (!req.cache_from.is_empty()).then(|| req.cache_from.clone()),
        pull: req.pull.then(|| "1".to_string()),
        platform: req.platform.clone().unwrap_or_default(),
        ..BuildImageOptions::default()
    };
    if builder == Builder::BuildKit {
        options.version = bollard::query_parameters::BuilderVersion::BuilderBuildKit;
        options.session = Some(session_id());
    }
    options
}

/// The message of a daemon error, without bollard's wrapping.
fn daemon_message(e: &BollardError) -> String {
    match e {
        BollardError::DockerStreamError { error } => error.clone(),
        BollardError::DockerResponseServerError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// `latest: digest: sha256:… size: 528` → `sha256:…`.
fn parse_push_digest(status: &str) -> Option<String> {
    let rest = status.split_once("digest: ")?.1;
    let d = rest.split_whitespace().next()?;
    d.starts_with("sha256:").then(|| d.to_string())
}

/// Reassembles the daemon's `stream` fragments into whole lines.
#[derive(Default)]
struct LineSplitter {
    partial: String,
}

impl LineSplitter {
    fn push(&mut self, text: &str) -> Vec<String> {
        self.partial.push_str(text);
        let mut out = Vec::new();
        while let Some(i) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=i).collect();
            let line = line.trim_end_matches(['\n', '\r']);
            if !line.trim().is_empty() {
                out.push(line.to_string());
            }
        }
        out
    }

    fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.partial);
        (!rest.trim().is_empty()).then(|| rest.trim_end().to_string())
    }
}

/// Turns status/progress messages into log lines: every change of status is logged, a
/// repeated status (e.g. `Pushing` with a byte count) at most once per second per layer.
#[derive(Default)]
struct ProgressLimiter {
    last: HashMap<String, (String, Instant)>,
}

impl ProgressLimiter {
    const INTERVAL: Duration = Duration::from_secs(1);

    fn line(
        &mut self,
        id: Option<&str>,
        status: &str,
        detail: Option<&bollard::models::ProgressDetail>,
    ) -> Option<String> {
        let key = id.unwrap_or_default().to_string();
        let now = Instant::now();
        let progress = detail.and_then(|d| match (d.current, d.total) {
            (Some(c), Some(t)) if t > 0 => Some(format!("{}/{}", human(c), human(t))),
            (Some(c), _) if c > 0 => Some(human(c)),
            _ => None,
        });
        if let Some((last_status, at)) = self.last.get(&key)
            && last_status == status
            && now.duration_since(*at) < Self::INTERVAL
        {
            return None;
        }
        self.last.insert(key, (status.to_string(), now));
        let mut line = String::new();
        if let Some(id) = id.filter(|i| !i.is_empty()) {
            line.push_str(id);
            line.push_str(": ");
        }
        line.push_str(status);
        if let Some(p) = progress {
            line.push(' ');
            line.push_str(&p);
        }
        Some(line)
    }
}

#[allow(clippy::cast_precision_loss)]
fn human(bytes: i64) -> String {
    const MB: f64 = 1024.0 * 1024.0;
    let b = bytes as f64;
    if b >= MB {
        format!("{:.1}MB", b / MB)
    } else if b >= 1024.0 {
        format!("{:.1}kB", b / 1024.0)
    } else {
        format!("{bytes}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_reassembled() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push("Step 1/2 : FR"), Vec::<String>::new());
        assert_eq!(s.push("OM x\n ---> abc\n\npart"), vec!["Step 1/2 : FROM x", " ---> abc"]);
        assert_eq!(s.finish().as_deref(), Some("part"));
    }

    #[test]
    fn progress_is_rate_limited() {
        let mut p = ProgressLimiter::default();
        let d = bollard::models::ProgressDetail { current: Some(2048), total: Some(4096) };
        assert_eq!(p.line(Some("abc"), "Pushing", Some(&d)).as_deref(), Some("abc: Pushing 2.0kB/4.0kB"));
        assert_eq!(p.line(Some("abc"), "Pushing", Some(&d)), None);
        assert_eq!(p.line(Some("def"), "Pushing", None).as_deref(), Some("def: Pushing"));
        assert_eq!(p.line(Some("abc"), "Pushed", None).as_deref(), Some("abc: Pushed"));
    }

    #[test]
    fn push_digest_is_parsed() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(parse_push_digest(&format!("latest: digest: {d} size: 528")), Some(d));
        assert_eq!(parse_push_digest("Pushed"), None);
    }
}
