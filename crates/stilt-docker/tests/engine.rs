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

/// A log line without BuildKit's `#N ` vertex prefix.
fn output(line: &str) -> &str {
    let l = line.trim();
    match l.strip_prefix('#').and_then(|r| r.split_once(' ')) {
        Some((n, rest)) if n.bytes().all(|b| b.is_ascii_digit()) => rest.trim(),
        _ => l,
    }
}

fn has_line(lines: &[String], want: &str) -> bool {
    lines.iter().any(|l| output(l) == want)
}

/// The `/ctx/...` paths a `RUN find /ctx | sort` step printed.
fn listed(lines: &[String]) -> Vec<String> {
    lines.iter().map(|l| output(l).to_string()).filter(|l| l.starts_with("/ctx")).collect()
}

/// The `created_by` of each history entry the build added on top of the base image.
async fn added_history(docker: &DockerClient, id: &str) -> Vec<String> {
    let base = docker.bollard().image_history(&base()).await.unwrap().len();
    let mut h = docker.bollard().image_history(id).await.unwrap();
    h.reverse(); // oldest first
    h.into_iter().skip(base).map(|e| e.created_by).collect()
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
    for builder in [Builder::Auto, Builder::Classic] {
        let mut req = BuildRequest::new("stilt-docker-test/basic", dir.path());
        req.build_args = vec![("GREETING".into(), "howdy".into())];
        req.labels = vec![("team".into(), "stilt".into())];
        req.extra_tags = vec!["stilt-docker-test/basic:extra".into()];
        req.builder = builder;

        let (res, lines) = build(&docker, &req).await;
        let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
        if builder == Builder::Classic {
            // The classic builder turns `labels` into a LABEL step: step 5 of 5.
            assert!(lines.iter().any(|l| l.starts_with("Step 1/5 : FROM ")), "{lines:#?}");
        } else {
            assert_eq!(docker.default_builder(), Builder::BuildKit, "the test engine supports BuildKit");
            assert!(
                lines.iter().any(|l| l.starts_with('#') && l.ends_with("] FROM docker.io/stilt-test/busybox:latest")),
                "{lines:#?}"
            );
            assert!(lines.iter().any(|l| l.starts_with('#') && l.contains(" DONE ")), "{lines:#?}");
        }
        assert!(has_line(&lines, "greeting=howdy"), "{lines:#?}");
        assert!(has_line(&lines, "hello-from-context"), "{lines:#?}");

        assert!(built.id.starts_with("sha256:"), "{built:?}");
        assert_eq!(built.ref_with_tag, format!("stilt-docker-test/basic:tilt-{}", &built.id[7..23]));
        assert!(built.input_ref.starts_with("stilt-docker-test/basic:stilt-in-"), "{built:?}");
        assert_eq!(built.digest, None);
        assert!(docker.image_exists(&built.ref_with_tag).await.unwrap());
        assert!(docker.image_exists(&built.input_ref).await.unwrap());
        assert!(docker.image_exists("stilt-docker-test/basic:extra").await.unwrap());

        let inspect = docker.bollard().inspect_image(&built.id).await.unwrap();
        let labels = inspect.config.unwrap().labels.unwrap();
        let stilt_label = (builder != Builder::Classic).then_some("1");
        assert_eq!(labels.get("dev.stilt.build").map(String::as_str), stilt_label, "{builder:?}");
        assert_eq!(labels.get("team").map(String::as_str), Some("stilt"));

        docker.remove_image(&built.id).await.unwrap();
        assert!(!docker.image_exists(&built.ref_with_tag).await.unwrap());
    }
}

/// Labels go through the build API: BuildKit writes them into the image config, so the
/// image's history has exactly the Dockerfile's steps. (The classic builder would add a
/// `LABEL` step for them, so stilt puts no label of its own on classic builds.)
#[tokio::test]
async fn no_extra_dockerfile_steps() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nCOPY a.txt /a.txt\nRUN cat /a.txt\n", base()));
    write(dir.path(), "a.txt", "a\n");
    for builder in [Builder::BuildKit, Builder::Classic] {
        let mut req = BuildRequest::new("stilt-docker-test/history", dir.path());
        req.builder = builder;
        let (res, lines) = build(&docker, &req).await;
        let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
        let added = added_history(&docker, &built.id).await;
        assert_eq!(added.len(), 2, "{builder:?}: {added:#?}");
        assert!(added[0].contains("COPY") && added[0].contains("/a.txt"), "{builder:?}: {added:#?}");
        assert!(added[1].contains("cat /a.txt"), "{builder:?}: {added:#?}");
        assert!(!added.iter().any(|h| h.contains("LABEL")), "{builder:?}: {added:#?}");
        let labels =
            docker.bollard().inspect_image(&built.id).await.unwrap().config.unwrap().labels.unwrap_or_default();
        let want = (builder == Builder::BuildKit).then_some("1");
        assert_eq!(labels.get("dev.stilt.build").map(String::as_str), want, "{builder:?}");
        docker.remove_image(&built.id).await.unwrap();
    }
}

#[tokio::test]
async fn docker_buildkit_0_falls_back_to_classic_and_says_so_once() {
    let docker = docker().await.with_buildkit_env(Some("0"));
    assert_eq!(docker.default_builder(), Builder::Classic);
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nRUN echo classic-run\n", base()));
    let req = BuildRequest::new("stilt-docker-test/fallback", dir.path());
    let mut all = Vec::new();
    for _ in 0..2 {
        let (res, lines) = build(&docker, &req).await;
        let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
        assert!(lines.iter().any(|l| l.starts_with("Step 2/2 : RUN echo classic-run")), "{lines:#?}");
        docker.remove_image(&built.id).await.unwrap();
        all.extend(lines);
    }
    let notes: Vec<_> = all.iter().filter(|l| l.contains("classic Docker builder")).collect();
    assert_eq!(
        notes,
        ["Building with the classic Docker builder, not BuildKit: DOCKER_BUILDKIT=0 asks for the classic builder"],
        "{all:#?}"
    );

    let bad = docker.with_buildkit_env(Some("maybe"));
    let (res, _) = build(&bad, &req).await;
    assert_eq!(
        res.unwrap_err().to_string(),
        "failed to build image \"stilt-docker-test/fallback\": DOCKER_BUILDKIT environment variable expects \
         boolean value: invalid syntax \"maybe\""
    );
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
    let text = format!("FROM {}\nCOPY . /ctx\nRUN find /ctx | sort\n", base());
    let synthetic = format!("/ctx/.dockerfile.stilt-{}", &blake3_hex(&text)[..16]);
    for builder in [Builder::Classic, Builder::BuildKit] {
        let dir = tempfile::tempdir().unwrap();
        let ctx = dir.path().join("ctx");
        write(&ctx, "a.txt", "a");
        // The classic builder drops the synthetic Dockerfile and the .dockerignore naming it;
        // Engine 20.10's BuildKit applies no .dockerignore to an uploaded context, so they stay.
        let hidden: Vec<String> = if builder == Builder::Classic {
            vec!["/ctx".into(), "/ctx/a.txt".into()]
        } else {
            vec!["/ctx".into(), synthetic.clone(), "/ctx/.dockerignore".into(), "/ctx/a.txt".into()]
        };

        let mut req = BuildRequest::new("stilt-docker-test/contents", &ctx);
        req.builder = builder;
        req.dockerfile_contents = Some(text.clone());
        let (res, lines) = build(&docker, &req).await;
        let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
        assert_eq!(listed(&lines), hidden, "{builder:?}: {lines:#?}");
        docker.remove_image(&built.id).await.unwrap();

        write(dir.path(), "build/Dockerfile.dev", &text);
        let mut req = BuildRequest::new("stilt-docker-test/outside", &ctx);
        req.builder = builder;
        req.dockerfile = Some(dir.path().join("build/Dockerfile.dev"));
        let (res, lines) = build(&docker, &req).await;
        let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
        assert_eq!(listed(&lines), hidden, "{builder:?}: {lines:#?}");
        docker.remove_image(&built.id).await.unwrap();

        // Contents for a Dockerfile inside the context (image dependencies written in): sent in
        // its place, so no extra file on either builder.
        write(&ctx, "Dockerfile", "FROM nothing-to-see\n");
        let mut req = BuildRequest::new("stilt-docker-test/replaced", &ctx);
        req.builder = builder;
        req.dockerfile = Some(ctx.join("Dockerfile"));
        req.dockerfile_contents = Some(text.clone());
        let (res, lines) = build(&docker, &req).await;
        let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
        assert_eq!(listed(&lines), ["/ctx", "/ctx/Dockerfile", "/ctx/a.txt"], "{builder:?}: {lines:#?}");
        docker.remove_image(&built.id).await.unwrap();
        std::fs::remove_file(ctx.join("Dockerfile")).unwrap();

        // A Dockerfile in a subdirectory of the context, excluded by .dockerignore: still used.
        write(&ctx, "docker/app.Dockerfile", &text);
        write(&ctx, ".dockerignore", "docker\n");
        let mut req = BuildRequest::new("stilt-docker-test/subdir", &ctx);
        req.builder = builder;
        req.dockerfile = Some(ctx.join("docker/app.Dockerfile"));
        let (res, lines) = build(&docker, &req).await;
        let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
        // The classic builder drops the Dockerfile (listed in .dockerignore) after reading it;
        // its empty parent directory stays, exactly as with `docker build -f docker/app.Dockerfile .`.
        let mut want = vec!["/ctx", "/ctx/.dockerignore", "/ctx/a.txt", "/ctx/docker"];
        if builder == Builder::BuildKit {
            want.push("/ctx/docker/app.Dockerfile");
        }
        assert_eq!(listed(&lines), want, "{builder:?}: {lines:#?}");
        docker.remove_image(&built.id).await.unwrap();
    }
}

fn blake3_hex(text: &str) -> String {
    blake3::hash(text.as_bytes()).to_hex().to_string()
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
async fn failing_run_names_the_step_classic() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nRUN echo before\nRUN false\nRUN echo never\n", base()));
    let mut req = BuildRequest::new("stilt-docker-test/bad", dir.path());
    req.builder = Builder::Classic;
    let (res, lines) = build(&docker, &req).await;
    let err = res.unwrap_err();
    assert_eq!(
        err.to_string(),
        "failed to build image \"stilt-docker-test/bad\": step 3/4 \"RUN false\": \
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
    req.builder = Builder::Classic;
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
    // bollard's build session serves no secrets or ssh agent: refused clearly under BuildKit too.
    req.builder = Builder::Auto;
    let (res, _) = build(&docker, &req).await;
    assert_eq!(
        res.unwrap_err().to_string(),
        "failed to build image \"stilt-docker-test/bad\": secret= is not supported by stilt's BuildKit session yet"
    );
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

/// A registry on 127.0.0.1 that answers 403 DENIED to everything: its port.
fn denying_registry() -> u16 {
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
    port
}

#[tokio::test]
async fn registry_answering_403_is_a_clear_error() {
    let docker = docker().await;
    let port = denying_registry();
    let name = format!("127.0.0.1:{port}/stilt-docker-test/denied");
    let built = small_image(&docker, &name).await;
    let err = docker.push(&built.ref_with_tag, |_| {}).await.unwrap_err();
    let msg = err.to_string();
    println!("{msg}");
    assert!(msg.starts_with(&format!("failed to push image \"{}\": ", built.ref_with_tag)), "{msg}");
    assert!(msg.contains("403") || msg.to_lowercase().contains("denied"), "{msg}");
    docker.remove_image(&built.id).await.unwrap();
}

/// BuildKit (the default) on the engine's default network: RUN steps run, their output is in the
/// log as `#N` lines, and a failing RUN is named with its output.
#[tokio::test]
async fn buildkit_builds_and_names_the_failing_step_with_its_output() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nCOPY a.txt /a.txt\nRUN cat /a.txt\n", base()));
    write(dir.path(), "a.txt", "from-buildkit\n");
    let req = BuildRequest::new("stilt-docker-test/buildkit", dir.path());
    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert!(lines.iter().any(|l| l.starts_with('#') && l.ends_with(" from-buildkit")), "{lines:#?}");
    assert!(lines.iter().any(|l| l.starts_with('#') && l.ends_with("[3/3] RUN cat /a.txt")), "{lines:#?}");
    assert!(built.ref_with_tag.starts_with("stilt-docker-test/buildkit:tilt-"));
    docker.remove_image(&built.id).await.unwrap();

    write(
        dir.path(),
        "Dockerfile",
        &format!("FROM {}\nRUN echo before\nRUN echo oops-on-stderr >&2 && false\nRUN echo never\n", base()),
    );
    let (res, lines) = build(&docker, &req).await;
    let err = res.unwrap_err();
    let msg = err.to_string();
    println!("{msg}");
    assert!(matches!(err, BuildError::Failed { step: Some(_), .. }), "{err:?}");
    assert!(
        msg.starts_with(
            "failed to build image \"stilt-docker-test/buildkit\": step 3/4 \"RUN echo oops-on-stderr >&2 && false\": "
        ),
        "{msg}\n{lines:#?}"
    );
    assert!(msg.contains("exit code: 1"), "{msg}");
    assert!(msg.ends_with("its output ended with:\n    oops-on-stderr"), "{msg}");
    assert!(has_line(&lines, "before"), "{lines:#?}");
    assert!(!has_line(&lines, "never"), "{lines:#?}");
}

// ---------------------------------------------------------------- input-addressed tags

#[tokio::test]
async fn input_tag_is_stable_and_follows_the_inputs() {
    let docker = docker().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "Dockerfile", &format!("FROM {}\nCOPY . /ctx\n", base()));
    write(dir.path(), "a.txt", "a");
    write(dir.path(), ".dockerignore", "*.log\n");
    let req = BuildRequest::new("stilt-docker-test/inputs", dir.path());
    let inputs = docker.build_inputs(&req).await.unwrap();
    let base_id = docker.image_id(&base()).await.unwrap();
    assert_eq!(inputs.images, [(base(), base_id)], "the base image counts by its id");
    assert_eq!(docker.local_input_image("stilt-docker-test/inputs", &inputs).await.unwrap(), None);

    let (res, lines) = build(&docker, &req).await;
    let built = res.unwrap_or_else(|e| panic!("{e}\n{}", lines.join("\n")));
    assert_eq!(built.input_ref, format!("stilt-docker-test/inputs:{}", inputs.tag()));
    let found = docker.local_input_image("stilt-docker-test/inputs", &inputs).await.unwrap();
    assert_eq!(found.as_deref(), Some(built.id.as_str()));

    write(dir.path(), "debug.log", "ignored");
    assert_eq!(docker.build_inputs(&req).await.unwrap().tag(), inputs.tag(), "ignored files do not count");
    write(dir.path(), "a.txt", "b");
    let changed = docker.build_inputs(&req).await.unwrap();
    assert_ne!(changed.tag(), inputs.tag());
    assert_eq!(docker.local_input_image("stilt-docker-test/inputs", &changed).await.unwrap(), None);
    docker.remove_image(&built.id).await.unwrap();
}

#[tokio::test]
async fn registry_lookup_of_input_tags() {
    use stilt_docker::RegistryLookup;
    use stilt_docker::registry_lookup::lookup;
    let docker = docker().await;
    let registry = env("STILT_TEST_REGISTRY");
    let name = format!("{registry}/stilt-docker-test/lookup-{}", std::process::id());
    let built = small_image(&docker, &name).await;
    assert_eq!(lookup(&built.input_ref).await, RegistryLookup::NotFound);
    docker.push(&built.input_ref, |_| {}).await.unwrap();
    assert_eq!(lookup(&built.input_ref).await, RegistryLookup::Found { image_id: built.id.clone() });
    assert_eq!(lookup(&format!("{name}:stilt-in-0000")).await, RegistryLookup::NotFound);
    docker.remove_image(&built.id).await.unwrap();

    // Nothing listening, a registry that refuses, a registry elsewhere: unavailable, never found.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let refused = lookup(&format!("127.0.0.1:{port}/x:stilt-in-1")).await;
    assert!(matches!(&refused, RegistryLookup::Unavailable(m) if m.contains("refused")), "{refused:?}");
    let port = denying_registry();
    let denied = lookup(&format!("127.0.0.1:{port}/x:stilt-in-1")).await;
    assert_eq!(
        denied,
        RegistryLookup::Unavailable(format!(
            "registry 127.0.0.1:{port} answered \"HTTP/1.1 403 Forbidden\": stilt test registry is read-only"
        ))
    );
    assert!(matches!(lookup("gcr.io/p/x:stilt-in-1").await, RegistryLookup::Unavailable(_)));
}
