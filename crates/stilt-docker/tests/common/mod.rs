//! What the daemon tests need from `scripts/test-env`, shared by `engine.rs` and `compose.rs`.
//! Every helper panics with the way to start the environment when it is not up: these tests
//! fail, never skip.

use stilt_docker::DockerClient;

const NOT_UP: &str = "the Docker test environment is not up: run `scripts/test-env up` and \
                      `eval \"$(scripts/test-env env)\"`";

/// A variable `scripts/test-env env` exports.
pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{NOT_UP} ({name} is not set)"))
}

/// A client for the test daemon.
pub async fn docker() -> DockerClient {
    env("DOCKER_HOST");
    DockerClient::connect().await.unwrap_or_else(|e| panic!("{NOT_UP}: {e}"))
}

/// The base image built by `scripts/test-env`.
pub fn base() -> String {
    env("STILT_TEST_BASE_IMAGE")
}
