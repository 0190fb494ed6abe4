//! stilt's Docker Engine executor: image builds through the Engine API (BuildKit whenever the
//! engine has it, else the classic builder) with the context streamed as a tar,
//! content-addressed tags, push, Tilt's registry-rewriting rules, `.dockerignore` ([`ignore`])
//! and docker-compose services ([`compose`]). Errors are typed per operation ([`BuildError`],
//! [`PushError`], [`ConnectError`], [`DockerError`], [`ComposeError`]) with the daemon's error as
//! the `#[source]` and a `class()` saying whether the environment or the resource failed.
//!
//! ```text
//! let docker = DockerClient::connect().await?;                 // DOCKER_HOST, negotiated
//! let built = docker.build(&BuildRequest::new("app", dir), |l| println!("{l}")).await?;
//! // built.ref_with_tag == "app:tilt-<16 hex of the image id>"
//! docker.push(&built.ref_with_tag, |l| println!("{l}")).await?;
//! ```

mod builder;
mod buildkit_progress;
mod client;
pub mod compose;
mod context;
mod error;
pub mod ignore;
mod input_digest;
pub mod registry_lookup;

pub use builder::{Builder, BuilderChoice, choose_builder};
pub use buildkit_progress::FailedVertex;
pub use client::{BUILD_LABEL, BuildRequest, BuiltImage, DockerClient, PushedImage};
pub use compose::{ComposeError, ComposeProject, ServiceSpec};
pub use context::{ContextPlan, ContextStats};
pub use error::{BuildError, ConnectError, DockerError, PushError, Step};
pub use ignore::{PatternError, PatternMatcher};
pub use input_digest::{BuildInputs, INPUT_TAG_PREFIX, base_images};
pub use registry_lookup::RegistryLookup;
pub use stilt_core::image_ref::{
    ImageRef, RefError, TAG_PREFIX, content_tag, escape_name, replace_registry, replace_registry_name,
    single_name_content_tag,
};
