//! What the image and compose tests need from `scripts/test-env`: a real Docker daemon
//! (DOCKER_HOST) and the base image built there. They fail loudly, never skip, without it.

use crate::harness::{Stilt, stilt_bin};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

const NOT_UP: &str = "the Docker test environment is not up: run `scripts/test-env up` and \
                      `eval \"$(scripts/test-env env)\"` (scripts/test runs both)";

/// The base image every test Dockerfile starts `FROM`.
pub fn base_image() -> String {
    std::env::var("DOCKER_HOST").unwrap_or_else(|_| panic!("{NOT_UP} (DOCKER_HOST is not set)"));
    std::env::var("STILT_TEST_BASE_IMAGE").unwrap_or_else(|_| panic!("{NOT_UP} (STILT_TEST_BASE_IMAGE is not set)"))
}

/// A name no other test (or earlier run) uses: lowercase, fit for images and compose projects.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{prefix}{}x{}x{nanos:x}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Replaces `BASE` and `UNIQ` in test files.
pub fn fill(text: &str, uniq: &str) -> String {
    text.replace("BASE", &base_image()).replace("UNIQ", uniq)
}

/// Runs `stilt down` for the Tiltfile in `dir` when dropped, so containers never outlive a test.
pub struct Down(pub PathBuf);

impl Drop for Down {
    fn drop(&mut self) {
        let _ = run_down(&self.0, &["--delete-volumes"]);
    }
}

/// `stilt down [extra]` in `dir`.
pub fn run_down(dir: &Path, extra: &[&str]) -> std::process::Output {
    Command::new(stilt_bin()).arg("down").args(extra).current_dir(dir).output().unwrap()
}

/// `docker ps -a` names of a compose project's containers.
pub fn project_containers(project: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args(["ps", "-a", "--format", "{{.Names}}", "--filter"])
        .arg(format!("label=com.docker.compose.project={project}"))
        .output()
        .expect("the docker CLI (Debian's docker.io) runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).collect()
}

/// A Stilt run whose files have `BASE`/`UNIQ` filled in.
pub fn stilt_with(uniq: &str, tiltfile: &str, files: &[(&str, &str)]) -> Stilt {
    let mut s = Stilt::tiltfile(&fill(tiltfile, uniq));
    for (path, text) in files {
        s = s.file(path, &fill(text, uniq));
    }
    s
}

/// `docker logs` of a container (stdout and stderr): what it printed, independent of how much
/// of it stilt had logged when it exited.
pub fn container_logs(name: &str) -> String {
    let out = Command::new("docker").args(["logs", name]).output().expect("the docker CLI runs");
    assert!(out.status.success(), "docker logs {name}: {}", String::from_utf8_lossy(&out.stderr));
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}
