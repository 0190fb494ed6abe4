//! `stilt ci` building images against the real Docker daemon of `scripts/test-env`:
//! docker_build (dependencies, content tags, failures naming the step), custom_build
//! ($EXPECTED_REF, outputs_image_ref_to, missing image), unused-image warnings, reports.

use crate::docker_env::{Down, base_image, container_logs, stilt_with, unique};
use crate::harness::StatusExt;
use quick_junit::{NonSuccessKind, TestCaseStatus};

const COMPOSE_APP: &str = "services:\n  app:\n    image: stilt-it/app-UNIQ\n    \
                           command: [\"sh\", \"-c\", \"cat /base.txt; echo app is up; sleep 300\"]\n";

fn is_content_tag(r: &str, name: &str) -> bool {
    r.strip_prefix(&format!("{name}:tilt-")).is_some_and(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn images_of<'a>(out: &'a crate::harness::Output, target: &str) -> &'a Vec<serde_json::Value> {
    out.stilt_target(target)["images"]
        .as_array()
        .unwrap_or_else(|| panic!("{target} has no images: {}", out.report()["stilt"]))
}

fn failure_message(status: &TestCaseStatus) -> String {
    match status {
        TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, message, .. } => {
            message.as_ref().unwrap().to_string()
        }
        s => panic!("not a failure: {s:?}"),
    }
}

#[test]
fn image_dependencies_build_first_and_the_service_runs_the_built_ref() {
    let u = unique("img");
    let out = stilt_with(
        &u,
        "docker_build('stilt-it/base-UNIQ', 'base')\n\
         docker_build('stilt-it/app-UNIQ', 'app', extra_tag='stilt-it/app-UNIQ:extra')\n\
         docker_compose('compose.yml', project_name='UNIQ')\n",
        &[
            ("base/Dockerfile", "FROM BASE\nRUN echo base-token-UNIQ > /base.txt\n"),
            ("app/Dockerfile", "FROM stilt-it/base-UNIQ\nRUN echo building app\n"),
            ("compose.yml", COMPOSE_APP),
        ],
    )
    .args(&["--timeout", "90s"])
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(0);
    // The app image was built on this run's base image: the container prints its file.
    let logs = container_logs(&format!("{u}-app-1"));
    assert!(logs.contains(&format!("base-token-{u}")) && logs.contains("app is up"), "{logs}");
    let images = images_of(&out, "app:update");
    assert_eq!(images.len(), 2, "{images:?}");
    assert_eq!(images[0]["image"], format!("stilt-it/base-{u}"), "the dependency is built first");
    assert_eq!(images[1]["image"], format!("stilt-it/app-{u}"));
    for (i, name) in [(0, format!("stilt-it/base-{u}")), (1, format!("stilt-it/app-{u}"))] {
        let r = images[i]["ref"].as_str().unwrap();
        assert!(is_content_tag(r, &name), "{r}");
        assert!(images[i]["imageId"].as_str().unwrap().starts_with("sha256:"));
        assert!(images[i]["durationSeconds"].as_f64().unwrap() > 0.0);
        assert_eq!(images[i]["builder"], "docker_build");
    }
    // The tag is the first 16 hex digits of the image id.
    let id = images[1]["imageId"].as_str().unwrap();
    assert!(images[1]["ref"].as_str().unwrap().ends_with(&id["sha256:".len().."sha256:".len() + 16]));
    assert_eq!(out.target_state("app:runtime")["active"]["ready"], true);
    let extra = std::process::Command::new("docker")
        .args(["image", "inspect", "--format", "{{.Id}}", &format!("stilt-it/app-{u}:extra")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&extra.stdout).trim(), id, "extra_tag points at the built image");
    // JUnit: the update case names the built images.
    let case = out.case("app:update");
    assert!(case.status.is_success_case());
    assert!(
        case.system_out.unwrap().as_str().contains(&format!("Built image stilt-it/app-{u} as stilt-it/app-{u}:tilt-"))
    );
}

#[test]
fn a_failing_run_step_fails_the_update_naming_the_step() {
    let u = unique("img");
    let out = stilt_with(
        &u,
        "docker_build('stilt-it/app-UNIQ', '.')\ndocker_compose('compose.yml', project_name='UNIQ')\n",
        &[
            ("Dockerfile", "FROM BASE\nRUN echo preparing\nRUN echo boom-UNIQ && exit 7\n"),
            ("compose.yml", COMPOSE_APP),
        ],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(1);
    // Step 3 of the user's file, as BuildKit numbers it (no step of stilt's own), with its output.
    assert!(out.stderr.contains("step 3/3 \"RUN echo boom-"), "{}", out.stderr);
    assert!(out.stderr.contains("exit code: 7"), "{}", out.stderr);
    // The step's output comes before the `Error:` line, which stays last and points up to it.
    let last = out.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("Error: ") && last.ends_with("its output ended with (the lines above)"), "{}", out.stderr);
    let output_at = out.stderr.find(&format!("    boom-{u}")).expect("the step's output on stderr");
    assert!(output_at < out.stderr.rfind("Error: ").unwrap(), "{}", out.stderr);
    let case = out.case("app:update");
    let msg = failure_message(&case.status);
    assert!(msg.contains("failed to build image") && msg.contains("step 3/3"), "{msg}");
    assert!(case.system_out.unwrap().as_str().contains(&format!("boom-{u}")), "the build log tail is in system-out");
    assert_eq!(out.report()["stilt"]["failureClass"], "UpdateFailed");
    assert!(out.case("app:runtime").status.is_skipped_case());
}

#[test]
fn dockerfile_syntax_error_and_missing_context_fail_the_update() {
    let u = unique("img");
    let out = stilt_with(
        &u,
        "docker_build('stilt-it/app-UNIQ', '.')\ndocker_compose('compose.yml', project_name='UNIQ')\n",
        &[("Dockerfile", "FROMM BASE\n"), ("compose.yml", COMPOSE_APP)],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(1);
    assert!(out.stderr.to_lowercase().contains("unknown instruction: fromm"), "{}", out.stderr);

    let u = unique("img");
    let out = stilt_with(
        &u,
        "docker_build('stilt-it/app-UNIQ', 'no-such-dir', dockerfile='Dockerfile')\n\
         docker_compose('compose.yml', project_name='UNIQ')\n",
        &[("Dockerfile", "FROM BASE\n"), ("compose.yml", COMPOSE_APP)],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(1);
    assert!(out.stderr.contains("no-such-dir\" does not exist"), "{}", out.stderr);
}

#[test]
fn a_missing_dockerfile_is_a_tiltfile_error() {
    let u = unique("img");
    let out = stilt_with(&u, "docker_build('stilt-it/app-UNIQ', '.')\n", &[]).run();
    out.expect_code(5);
    assert!(out.stderr.contains("Dockerfile: no such file or directory"), "{}", out.stderr);
    assert!(out.stderr.contains("Tiltfile:1:"), "names the call: {}", out.stderr);
}

#[test]
fn an_unreachable_daemon_is_an_environment_failure() {
    let u = unique("img");
    let out = stilt_with(
        &u,
        "docker_build('stilt-it/app-UNIQ', '.')\ndocker_compose('compose.yml', project_name='UNIQ')\n",
        &[("Dockerfile", "FROM BASE\n"), ("compose.yml", COMPOSE_APP)],
    )
    .env("DOCKER_HOST", "unix:///nonexistent/stilt-docker.sock")
    .run();
    out.expect_code(4);
    assert!(
        out.stderr.contains("failed to connect to the Docker daemon at unix:///nonexistent/stilt-docker.sock"),
        "{}",
        out.stderr
    );
    assert_eq!(out.report()["stilt"]["failureClass"], "Environment");
    assert_eq!(out.report()["stilt"]["failedTarget"], "app:update");
}

#[test]
fn custom_build_gets_expected_ref_and_is_retagged_by_content() {
    let u = unique("img");
    let out = stilt_with(
        &u,
        "custom_build('stilt-it/app-UNIQ', 'echo \"$EXPECTED_IMAGE|$EXPECTED_TAG\" > vars.txt && \
         docker build -q -t $EXPECTED_REF .', ['.'])\n\
         docker_compose('compose.yml', project_name='UNIQ')\n",
        &[("Dockerfile", "FROM BASE\nRUN echo base-token-UNIQ > /base.txt\n"), ("compose.yml", COMPOSE_APP)],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(0);
    let vars = std::fs::read_to_string(out.dir.join("vars.txt")).unwrap();
    let (image, tag) = vars.trim().split_once('|').unwrap();
    assert_eq!(image, format!("stilt-it/app-{u}"));
    assert!(tag.starts_with("tilt-build-"), "{tag}");
    let images = images_of(&out, "app:update");
    assert_eq!(images[0]["builder"], "custom_build");
    assert!(is_content_tag(images[0]["ref"].as_str().unwrap(), &format!("stilt-it/app-{u}")), "{images:?}");
    assert!(container_logs(&format!("{u}-app-1")).contains(&format!("base-token-{u}")));
}

#[test]
fn custom_build_outputs_image_ref_to_names_the_image() {
    let u = unique("img");
    let out = stilt_with(
        &u,
        "custom_build('stilt-it/app-UNIQ', 'docker build -q -t stilt-it/app-UNIQ:mine . && \
         echo stilt-it/app-UNIQ:mine > ref.txt', ['.'], outputs_image_ref_to='ref.txt')\n\
         docker_compose('compose.yml', project_name='UNIQ')\n",
        &[("Dockerfile", "FROM BASE\nRUN echo base-token-UNIQ > /base.txt\n"), ("compose.yml", COMPOSE_APP)],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(0);
    assert_eq!(images_of(&out, "app:update")[0]["ref"], format!("stilt-it/app-{u}:mine"));
}

#[test]
fn custom_build_that_makes_no_image_fails_clearly() {
    let u = unique("img");
    let out = stilt_with(
        &u,
        "custom_build('stilt-it/app-UNIQ', 'echo pretending to build', ['.'])\n\
         docker_compose('compose.yml', project_name='UNIQ')\n",
        &[("compose.yml", COMPOSE_APP)],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(1);
    assert!(out.stderr.contains("exited 0 but image stilt-it/app-"), "{}", out.stderr);
    assert!(out.stderr.contains("tag it with $EXPECTED_REF"), "{}", out.stderr);
    assert!(out.log_file("app").contains("pretending to build"));
}

#[test]
fn unused_images_warn_unless_suppressed() {
    let _ = base_image();
    let out = stilt_with(
        "",
        "docker_build('stilt-it/unused', '.')\nlocal_resource('ok', 'true')\n",
        &[("Dockerfile", "FROM BASE\n")],
    )
    .run();
    out.expect_code(0);
    assert!(out.stdout.contains("Image not used in any deploy config"), "{}", out.stdout);
    assert!(out.stdout.contains("stilt-it/unused"), "{}", out.stdout);
    let out = stilt_with(
        "",
        "docker_build('stilt-it/unused', '.')\nlocal_resource('ok', 'true')\n\
         update_settings(suppress_unused_image_warnings=['stilt-it/unused'])\n",
        &[("Dockerfile", "FROM BASE\n")],
    )
    .run();
    out.expect_code(0);
    assert!(!out.stdout.contains("Image not used"), "{}", out.stdout);
}

#[test]
fn two_services_share_one_build() {
    let u = unique("img");
    let out = stilt_with(
        &u,
        "docker_build('stilt-it/app-UNIQ', '.')\ndocker_compose('compose.yml', project_name='UNIQ')\n",
        &[
            ("Dockerfile", "FROM BASE\nRUN echo base-token-UNIQ > /base.txt\n"),
            (
                "compose.yml",
                "services:\n  one:\n    image: stilt-it/app-UNIQ\n    command: [\"sleep\", \"300\"]\n  \
                 two:\n    image: stilt-it/app-UNIQ\n    command: [\"sleep\", \"300\"]\n",
            ),
        ],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(0);
    let built: usize =
        ["one:update", "two:update"].iter().map(|t| out.stilt_target(t)["images"].as_array().map_or(0, Vec::len)).sum();
    assert_eq!(built, 1, "built once, reused by the other service");
    assert!(out.stdout.contains("already built in this run"), "{}", out.stdout);
}

/// `--reuse-images`: a second run with the same inputs deploys the first run's image instead of
/// building; a changed input builds again. The reports say which.
#[test]
fn reuse_images_deploys_the_image_of_unchanged_inputs() {
    let u = unique("reuse");
    let tiltfile = "docker_build('stilt-it/app-UNIQ', 'app')\ndocker_compose('compose.yml', project_name='UNIQ')\n";
    let run = |token: &str| {
        let dockerfile = "FROM BASE\nCOPY token.txt /base.txt\nRUN echo building-UNIQ\n";
        let out = stilt_with(
            &u,
            tiltfile,
            &[("app/Dockerfile", dockerfile), ("app/token.txt", token), ("compose.yml", COMPOSE_APP)],
        )
        .args(&["--timeout", "90s", "--reuse-images"])
        .run();
        let _down = Down(out.dir.clone());
        out.expect_code(0);
        out
    };
    let first = run("one");
    let second = run("one");
    let third = run("two");
    let image = |out: &crate::harness::Output| images_of(out, "app:update")[0].clone();
    let (a, b, c) = (image(&first), image(&second), image(&third));
    assert_eq!(a["outcome"], "built", "{a}");
    assert_eq!(b["outcome"], "reused", "{b}");
    assert_eq!(c["outcome"], "built", "{c}");
    let input_ref = a["inputRef"].as_str().unwrap();
    assert!(input_ref.starts_with(&format!("stilt-it/app-{u}:stilt-in-")), "{a}");
    assert_eq!(b["inputRef"], a["inputRef"]);
    assert_ne!(c["inputRef"], a["inputRef"], "a changed file is a changed input");
    assert_eq!(b["ref"], a["ref"], "the reused image keeps its content tag");
    assert_eq!(b["imageId"], a["imageId"]);
    assert!(is_content_tag(b["ref"].as_str().unwrap(), &format!("stilt-it/app-{u}")));
    let log = |out: &crate::harness::Output| format!("{}{}", out.stdout, out.stderr);
    let (second_log, third_log) = (log(&second), log(&third));
    assert!(second_log.contains(&format!("Reusing image {input_ref} as ")), "{second_log}");
    assert!(second_log.contains("(inputs unchanged)"), "{second_log}");
    assert!(!second_log.contains(&format!("building-{u}")), "nothing was built: {second_log}");
    assert!(third_log.contains(&format!("building-{u}")), "{third_log}");
    let case = second.case("app:update");
    assert!(case.system_out.unwrap().as_str().contains("Reused (inputs unchanged) image"), "JUnit says reused");
}
