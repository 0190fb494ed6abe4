//! Builds, tags and pushes against the REAL Docker Engine and registry of `scripts/test-env`.
//! These tests fail (never skip) when that environment is not up.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;

use stilt_docker::{BuildError, BuildRequest, Builder, DockerClient};

mod common;

use common::{base, docker, env};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Runs a build without the layer cache (RUN output must show on every run), returning the
/// result and every log line.
async fn build(
    docker: &DockerClient,
    req: &BuildRequest,
) -> (Result<stilt_docker::BuiltImage, BuildError>, Vec<String>) {
    let mut lines = Vec::new();
    let req = BuildRequest { no_cache: true, ..req.clone() };
    let res = docker.build(&req, |l| lines.push(l.to_string())).await;
    (res, lines)
}

fn has_line(lines: &[String], want: &str) -> bool {
    lines.iter().any(|l| l.trim() == want)
}

/// The `/ctx/...` paths a `RUN find /ctx | sort` step printed.
fn listed(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| l.trim().to_string()).filter(|l| l.starts_with("/ctx")).collect()
}

#[tokio::test]
async fn builds_with_copy_run_arg_labels_and_content_tag() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        &format!(
            "FROM {}\nARG GREETING=unset\nCOPY . /ctx\nRUN echo \"greeting=$GREETING\" && cat /ctx/hello.txt\n",
            base()
        ),
    );
    write(dir.path(), "hello.txt", "hello-from-context\n");
    let mut req = BuildRequest::new("stilt-docker-test/basic", dir.path());
    req.build_args = vec![("GREETING".into(), "howdy".into())];
    req.labels = vec![("team".into(), "stilt".into())];
    req.extra_tags = vec!["stilt-docker-test/basic:extra".into()];

    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert!(lines.iter().any(|l| l.starts_with("Step 1/6 : FROM ")), "{lines:#?}");
    assert!(has_line(&lines, "greeting=howdy"), "{lines:#?}");
    assert!(has_line(&lines, "hello-from-context"), "{lines:#?}");

    assert!(built.id.starts_with("sha256:"), "{built:?}");
    assert_eq!(built.ref_with_tag, format!("stilt-docker-test/basic:tilt-{}", &built.id[7..23]));
    assert_eq!(built.digest, None);
    assert!(docker.image_exists(&built.ref_with_tag).await.unwrap());
    assert!(docker.image_exists("stilt-docker-test/basic:extra").await.unwrap());

    let inspect = docker.bollard().inspect_image(&built.id).await.unwrap();
    let labels = inspect.config.unwrap().labels.unwrap();
    assert_eq!(labels.get("dev.stilt.build").map(String::as_str), Some("1"));
    assert_eq!(labels.get("team").map(String::as_str), Some("stilt"));

    docker.remove_image(&built.id).await.unwrap();
    assert!(!docker.image_exists(&built.ref_with_tag).await.unwrap());
}

fn ignore_fixture(root: &Path) {
    write(root, "Dockerfile", &format!("FROM {}\nCOPY . /ctx\nRUN find /ctx | sort\n", base()));
    write(root, "app/main.txt", "m");
    write(root, "app/debug.log", "l");
    write(root, "secret/key.pem", "k");
    write(root, "secret/public.txt", "p");
    write(root, "docs/readme.md", "r");
    write(root, "top.txt", "t");
}

#[tokio::test]
async fn dockerignore_excludes_and_exceptions_reinclude() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    ignore_fixture(dir.path());
    write(dir.path(), ".dockerignore", "# comment\n**/*.log\n/secret\n!secret/public.txt\n");
    let req = BuildRequest::new("stilt-docker-test/ignore", dir.path());
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert_eq!(
        listed(&lines),
        [
            "/ctx",
            "/ctx/.dockerignore",
            "/ctx/Dockerfile",
            "/ctx/app",
            "/ctx/app/main.txt",
            "/ctx/docs",
            "/ctx/docs/readme.md",
            "/ctx/secret",
            "/ctx/secret/public.txt",
            "/ctx/top.txt",
        ],
        "{lines:#?}"
    );
    docker.remove_image(&built.id).await.unwrap();
}

#[tokio::test]
async fn tilt_ignore_and_only() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    ignore_fixture(dir.path());
    write(dir.path(), ".dockerignore", "**/*.log\n");

    let mut req = BuildRequest::new("stilt-docker-test/ignore-param", dir.path());
    req.ignore = vec!["docs".into(), "secret/*.pem".into()];
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert_eq!(
        listed(&lines),
        [
            "/ctx",
            "/ctx/.dockerignore",
            "/ctx/Dockerfile",
            "/ctx/app",
            "/ctx/app/main.txt",
            "/ctx/secret",
            "/ctx/secret/public.txt",
            "/ctx/top.txt",
        ],
        "{lines:#?}"
    );
    docker.remove_image(&built.id).await.unwrap();

    // only=: just these paths (still minus .dockerignore matches), plus the Dockerfile.
    let mut req = BuildRequest::new("stilt-docker-test/only", dir.path());
    req.only = vec!["app".into(), "top.txt".into()];
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert_eq!(
        listed(&lines),
        ["/ctx", "/ctx/.dockerignore", "/ctx/Dockerfile", "/ctx/app", "/ctx/app/main.txt", "/ctx/top.txt",],
        "{lines:#?}"
    );
    docker.remove_image(&built.id).await.unwrap();
}

#[tokio::test]
async fn dockerfile_contents_and_dockerfile_outside_the_context() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    let ctx = dir.path().join("ctx");
    write(&ctx, "a.txt", "a");
    let text = format!("FROM {}\nCOPY . /ctx\nRUN find /ctx | sort\n", base());

    let mut req = BuildRequest::new("stilt-docker-test/contents", &ctx);
    req.dockerfile_contents = Some(text.clone());
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    // The synthetic Dockerfile and the .dockerignore naming it are dropped by the daemon.
    assert_eq!(listed(&lines), ["/ctx", "/ctx/a.txt"], "{lines:#?}");
    docker.remove_image(&built.id).await.unwrap();

    write(dir.path(), "build/Dockerfile.dev", &text);
    let mut req = BuildRequest::new("stilt-docker-test/outside", &ctx);
    req.dockerfile = Some(dir.path().join("build/Dockerfile.dev"));
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert_eq!(listed(&lines), ["/ctx", "/ctx/a.txt"], "{lines:#?}");
    docker.remove_image(&built.id).await.unwrap();

    // A Dockerfile in a subdirectory of the context, excluded by .dockerignore: still used.
    write(&ctx, "docker/app.Dockerfile", &text);
    write(&ctx, ".dockerignore", "docker\n");
    let mut req = BuildRequest::new("stilt-docker-test/subdir", &ctx);
    req.dockerfile = Some(ctx.join("docker/app.Dockerfile"));
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    // The daemon drops the Dockerfile (listed in .dockerignore) after reading it; its empty
    // parent directory stays, exactly as with `docker build -f docker/app.Dockerfile .`.
    assert_eq!(listed(&lines), ["/ctx", "/ctx/.dockerignore", "/ctx/a.txt", "/ctx/docker"], "{lines:#?}");
    docker.remove_image(&built.id).await.unwrap();
}

#[tokio::test]
async fn multi_stage_target_network_and_extra_host() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Dockerfile",
        &format!(
            "FROM {b} AS one\nRUN echo stage-one && grep myhost /etc/hosts\n\
             FROM {b} AS two\nRUN echo stage-two\n",
            b = base()
        ),
    );
    let mut req = BuildRequest::new("stilt-docker-test/target", dir.path());
    req.target = Some("one".into());
    req.network = Some("none".into());
    req.extra_hosts = vec!["myhost:10.1.2.3".into()];
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert!(has_line(&lines, "stage-one"), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("10.1.2.3") && l.contains("myhost")), "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("stage-two")), "{lines:#?}");
    docker.remove_image(&built.id).await.unwrap();
}

// ---------------------------------------------------------------- bad input

#[tokio::test]
async fn missing_dockerfile_is_a_clear_error() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    let req = BuildRequest::new("stilt-docker-test/bad", dir.path());
    let (res, _) = build(&docker, &req).await;
    let err = res.unwrap_err();
    assert!(matches!(err, BuildError::DockerfileNotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "failed to build image \"stilt-docker-test/bad\": Dockerfile {:?} not found",
            dir.path().join("Dockerfile")
        )
    );
}

#[tokio::test]
async fn context_that_does_not_exist_is_a_clear_error() {
    let docker = docker().await;
    let req = BuildRequest::new("stilt-docker-test/bad", "/nonexistent/stilt/ctx");
    let (res, _) = build(&docker, &req).await;
    let err = res.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to build image \"stilt-docker-test/bad\": build context \"/nonexistent/stilt/ctx\" \
         does not exist or is not a directory"
    );
}

#[tokio::test]
async fn dockerfile_syntax_error_is_reported() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nFROBNICATE everything\n", base()));
    let req = BuildRequest::new("stilt-docker-test/bad", dir.path());
    let (res, lines) = build(&docker, &req).await;
    let err = res.unwrap_err();
    let msg = err.to_string();
    println!("{msg}");
    assert!(matches!(err, BuildError::Failed { .. }), "{err:?}");
    assert!(
        msg.starts_with("failed to build image \"stilt-docker-test/bad\": ")
            && msg.contains("unknown instruction: FROBNICATE"),
        "{msg}\n{lines:#?}"
    );
}

#[tokio::test]
async fn failing_run_names_the_step() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nRUN echo before\nRUN false\nRUN echo never\n", base()));
    let req = BuildRequest::new("stilt-docker-test/bad", dir.path());
    let (res, lines) = build(&docker, &req).await;
    let err = res.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to build image \"stilt-docker-test/bad\": step 3/5 \"RUN false\": \
         The command '/bin/sh -c false' returned a non-zero code: 1",
        "{lines:#?}"
    );
    assert!(has_line(&lines, "before"), "{lines:#?}");
    assert!(!has_line(&lines, "never"), "{lines:#?}");
    // The classic builder keeps the layers of the steps that succeeded: remove them (never
    // the base image).
    let base_id = docker.bollard().inspect_image(&base()).await.unwrap().id.unwrap();
    for layer in lines.iter().filter_map(|l| l.trim().strip_prefix("---> ")).rev() {
        let is_id = layer.len() == 12 && layer.bytes().all(|b| b.is_ascii_hexdigit());
        if is_id && !base_id.trim_start_matches("sha256:").starts_with(layer) {
            docker.remove_image(layer).await.ok();
        }
    }
}

#[tokio::test]
async fn classic_builder_refuses_ssh_and_secret() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\n", base()));
    let mut req = BuildRequest::new("stilt-docker-test/bad", dir.path());
    req.ssh = vec!["default".into()];
    let (res, _) = build(&docker, &req).await;
    assert_eq!(
        res.unwrap_err().to_string(),
        "failed to build image \"stilt-docker-test/bad\": ssh= needs BuildKit; \
         the classic Docker builder cannot do it"
    );
    req.ssh.clear();
    req.secret = vec!["id=x,src=/dev/null".into()];
    let (res, _) = build(&docker, &req).await;
    assert!(res.unwrap_err().to_string().contains("secret= needs BuildKit"));
    if !cfg!(feature = "buildkit") {
        req.secret.clear();
        req.builder = Builder::BuildKit;
        let (res, _) = build(&docker, &req).await;
        assert!(res.unwrap_err().to_string().contains("without the `buildkit` feature"));
    }
}

#[tokio::test]
async fn unreachable_daemon_is_a_clear_error() {
    let err = DockerClient::connect_to("unix:///nonexistent/stilt/docker.sock").await.unwrap_err();
    let msg = stilt_core::error_chain::error_chain(&err);
    assert!(
        msg.starts_with("failed to connect to the Docker daemon at unix:///nonexistent/stilt/docker.sock: "),
        "{msg}"
    );

    // `connect()` honours DOCKER_HOST: run the probe below in a child with it pointing nowhere.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_connect_from_env", "--nocapture", "--test-threads=1"])
        .env("DOCKER_HOST", "unix:///nonexistent/stilt/env.sock")
        .env("STILT_DOCKER_TEST_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("CHILD: failed to connect to the Docker daemon at unix:///nonexistent/stilt/env.sock: "),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Helper for `unreachable_daemon_is_a_clear_error` (does nothing unless run as its child).
#[tokio::test]
async fn child_connect_from_env() {
    if std::env::var("STILT_DOCKER_TEST_CHILD").is_err() {
        return;
    }
    let err = DockerClient::connect().await.unwrap_err();
    println!("CHILD: {}", stilt_core::error_chain::error_chain(&err));
}

// ---------------------------------------------------------------- push

async fn small_image(docker: &DockerClient, name: &str) -> stilt_docker::BuiltImage {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nCOPY x.txt /x.txt\n", base()));
    write(dir.path(), "x.txt", name);
    let (res, lines) = build(docker, &BuildRequest::new(name, dir.path())).await;
    res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")))
}

/// A minimal HTTP/1.0 GET, returning (status line + headers, body).
fn http_get(host: &str, path: &str, accept: &str) -> (String, String) {
    let mut s = TcpStream::connect(host).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {host}\r\nAccept: {accept}\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or((&resp, ""));
    (head.to_string(), body.to_string())
}

#[tokio::test]
async fn push_to_the_test_registry_and_read_it_back() {
    let docker = docker().await;
    let registry = env("STILT_TEST_REGISTRY");
    let name = format!("{registry}/stilt-docker-test/push");
    let built = small_image(&docker, &name).await;
    let mut lines = Vec::new();
    let pushed = docker
        .push(&built.ref_with_tag, |l| lines.push(l.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{lines:#?}"));
    assert_eq!(pushed.reference, built.ref_with_tag);
    let digest = pushed.digest.clone().expect("push reports a digest");
    assert!(lines.iter().any(|l| l.contains("Pushed") || l.contains("already exists")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains(&digest)), "{lines:#?}");

    let tag = built.ref_with_tag.rsplit(':').next().unwrap();
    let (head, body) = http_get(&registry, "/v2/stilt-docker-test/push/tags/list", "*/*");
    assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(body.contains(&format!("\"{tag}\"")), "{body}");
    let (head, _) = http_get(
        &registry,
        &format!("/v2/stilt-docker-test/push/manifests/{tag}"),
        "application/vnd.docker.distribution.manifest.v2+json",
    );
    assert!(head.to_ascii_lowercase().contains(&format!("docker-content-digest: {digest}")), "{head}");

    // Pull it back: remove it locally, then pull through the daemon.
    docker.remove_image(&built.id).await.unwrap();
    assert!(!docker.image_exists(&built.ref_with_tag).await.unwrap());
    let status = std::process::Command::new("docker").args(["pull", "-q", &built.ref_with_tag]).status().unwrap();
    assert!(status.success());
    assert!(docker.image_exists(&built.id).await.unwrap());
    docker.remove_image(&built.id).await.unwrap();
}

#[tokio::test]
async fn push_to_a_port_where_nothing_listens_is_a_clear_error() {
    let docker = docker().await;
    // A port that was free a moment ago.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let name = format!("127.0.0.1:{port}/stilt-docker-test/refused");
    let built = small_image(&docker, &name).await;
    let err = docker.push(&built.ref_with_tag, |_| {}).await.unwrap_err();
    let msg = err.to_string();
    println!("{msg}");
    assert!(
        msg.starts_with(&format!("failed to push image \"{}\": ", built.ref_with_tag))
            && msg.contains("connection refused"),
        "{msg}"
    );
    docker.remove_image(&built.id).await.unwrap();
}

#[tokio::test]
async fn registry_answering_403_is_a_clear_error() {
    let docker = docker().await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let body = r#"{"errors":[{"code":"DENIED","message":"stilt test registry is read-only"}]}"#;
            let _ = write!(
                conn,
                "HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let name = format!("127.0.0.1:{port}/stilt-docker-test/denied");
    let built = small_image(&docker, &name).await;
    let err = docker.push(&built.ref_with_tag, |_| {}).await.unwrap_err();
    let msg = err.to_string();
    println!("{msg}");
    assert!(msg.starts_with(&format!("failed to push image \"{}\": ", built.ref_with_tag)), "{msg}");
    assert!(msg.contains("403") || msg.to_lowercase().contains("denied"), "{msg}");
    docker.remove_image(&built.id).await.unwrap();
}

/// BuildKit through bollard's session (only with `--features buildkit`). This daemon has no
/// default bridge, so RUN steps need `network: none` under BuildKit (crates.md §4.2).
#[cfg(feature = "buildkit")]
#[tokio::test]
async fn buildkit_builds_and_names_the_failing_step() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nCOPY a.txt /a.txt\nRUN cat /a.txt\n", base()));
    write(dir.path(), "a.txt", "from-buildkit\n");
    let mut req = BuildRequest::new("stilt-docker-test/buildkit", dir.path());
    req.builder = Builder::BuildKit;
    req.network = Some("none".into());
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert!(lines.iter().any(|l| l.contains("from-buildkit")), "{lines:#?}");
    assert!(built.ref_with_tag.starts_with("stilt-docker-test/buildkit:tilt-"));
    docker.remove_image(&built.id).await.unwrap();

    write(dir.path(), "Dockerfile", &format!("FROM {}\nRUN false\n", base()));
    let (res, lines) = build(&docker, &req).await;
    let msg = res.unwrap_err().to_string();
    println!("{msg}");
    assert!(msg.contains("RUN false"), "{msg}\n{lines:#?}");
}
