//! `stilt ci` running docker-compose services on the real Docker daemon of `scripts/test-env`:
//! readiness (health checks), depends_on order, exits, bad compose files, `stilt down`.

use crate::docker_env::{Down, container_logs, project_containers, run_down, stilt_with, unique};
use crate::harness::free_port;

#[test]
fn healthy_services_in_dependency_order_then_down_removes_them() {
    let u = unique("dc");
    let port = free_port();
    let out = stilt_with(
        &u,
        "docker_compose('compose.yml', project_name='UNIQ')\ndc_resource('web', labels=['backend'])\n",
        &[(
            "compose.yml",
            &format!(
                "services:\n  \
                 web:\n    image: BASE\n    \
                 command: [\"sh\", \"-c\", \"mkdir -p /www && echo hello-UNIQ > /www/index.html && sleep 1 && \
                 touch /tmp/ok && httpd -f -p 8080 -h /www\"]\n    \
                 ports: [\"127.0.0.1:{port}:8080\"]\n    \
                 healthcheck:\n      test: [\"CMD-SHELL\", \"test -f /tmp/ok\"]\n      interval: 1s\n      \
                 retries: 30\n  \
                 client:\n    image: BASE\n    depends_on:\n      web:\n        condition: service_healthy\n    \
                 command: [\"sh\", \"-c\", \"wget -qO- http://web:8080/ && sleep 300\"]\n"
            ),
        )],
    )
    .args(&["--timeout", "60s"])
    .run();
    let down = Down(out.dir.clone());
    out.expect_code(0);
    // client started after web was healthy and reached it by service name.
    let client = container_logs(&format!("{u}-client-1"));
    assert!(client.contains(&format!("hello-{u}")), "{client}");
    assert!(out.log_file("web").contains("waiting for its health check"), "{}", out.log_file("web"));
    assert_eq!(out.target_state("web:runtime")["active"]["ready"], true);
    assert_eq!(out.target_state("client:runtime")["active"]["ready"], true);
    // Services keep running after stilt ci exited, with their published port.
    let ports = std::process::Command::new("docker").args(["port", &format!("{u}-web-1")]).output().unwrap();
    assert!(String::from_utf8_lossy(&ports.stdout).contains(&format!("127.0.0.1:{port}")), "{ports:?}");
    let mut names = project_containers(&u);
    names.sort();
    assert_eq!(names, [format!("{u}-client-1"), format!("{u}-web-1")]);
    drop(down);
    assert!(project_containers(&u).is_empty(), "stilt down removed the containers");
    let again = run_down(&out.dir, &[]);
    assert!(again.status.success(), "down is idempotent: {}", String::from_utf8_lossy(&again.stderr));
}

#[test]
fn a_container_exiting_non_zero_fails_the_run() {
    let u = unique("dc");
    let out = stilt_with(
        &u,
        "docker_compose('compose.yml', project_name='UNIQ')\n",
        &[(
            "compose.yml",
            "services:\n  job:\n    image: BASE\n    command: [\"sh\", \"-c\", \"echo last words UNIQ; exit 3\"]\n",
        )],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(1);
    assert!(out.stderr.contains(&format!("Error: container {u}-job-1 exited with code 3")), "{}", out.stderr);
    assert_eq!(out.report()["stilt"]["failureClass"], "RuntimeError");
    assert_eq!(out.report()["stilt"]["failedTarget"], "job:runtime");
    let case = out.case("job:runtime");
    assert!(case.system_out.unwrap().as_str().contains(&format!("last words {u}")), "the container's log tail");
}

#[test]
fn a_container_exiting_zero_counts_as_done() {
    let u = unique("dc");
    let out = stilt_with(
        &u,
        "docker_compose('compose.yml', project_name='UNIQ')\n",
        &[("compose.yml", "services:\n  once:\n    image: BASE\n    command: [\"echo\", \"did it\"]\n")],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(0);
}

#[test]
fn an_unhealthy_container_fails_without_waiting_for_the_timeout() {
    let u = unique("dc");
    let start = std::time::Instant::now();
    let out = stilt_with(
        &u,
        "docker_compose('compose.yml', project_name='UNIQ')\n",
        &[(
            "compose.yml",
            "services:\n  db:\n    image: BASE\n    command: [\"sleep\", \"300\"]\n    healthcheck:\n      \
             test: [\"CMD-SHELL\", \"echo not accepting connections; exit 1\"]\n      interval: 1s\n      retries: 2\n",
        )],
    )
    .args(&["--timeout", "100s"])
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(1);
    assert!(out.stderr.contains(&format!("container {u}-db-1 is unhealthy")), "{}", out.stderr);
    assert!(out.stderr.contains("not accepting connections"), "{}", out.stderr);
    assert!(start.elapsed().as_secs() < 60, "failed on the health check, not the timeout");
}

#[test]
fn compose_build_section_is_built_by_stilt() {
    let u = unique("dc");
    let out = stilt_with(
        &u,
        "docker_compose('compose.yml', project_name='UNIQ')\n",
        &[
            ("svc/Dockerfile", "FROM BASE\nARG TOKEN\nRUN echo $TOKEN > /token.txt\n"),
            (
                "compose.yml",
                "services:\n  svc:\n    build:\n      context: ./svc\n      args:\n        TOKEN: tok-UNIQ\n    \
                 command: [\"sh\", \"-c\", \"cat /token.txt; sleep 300\"]\n",
            ),
        ],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(0);
    let logs = container_logs(&format!("{u}-svc-1"));
    assert!(logs.contains(&format!("tok-{u}")), "{logs}");
    let t = out.stilt_target("svc:update");
    assert_eq!(t["images"][0]["builder"], "compose");
    assert!(t["images"][0]["ref"].as_str().unwrap().starts_with(&format!("{u}-svc:tilt-")));
}

#[test]
fn an_unknown_compose_key_fails_the_load_naming_file_and_key() {
    let u = unique("dc");
    let out = stilt_with(
        &u,
        "docker_compose('compose.yml', project_name='UNIQ')\n",
        &[("compose.yml", "services:\n  web:\n    imagee: BASE\n")],
    )
    .run();
    out.expect_code(5);
    assert!(out.stderr.contains("unknown key \"imagee\""), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean \"image\""), "{}", out.stderr);
    assert!(out.stderr.contains("compose.yml"), "{}", out.stderr);
    assert!(out.stderr.contains("Tiltfile:1:"), "{}", out.stderr);
    assert!(project_containers(&u).is_empty(), "nothing started");
}

#[test]
fn a_missing_image_fails_the_update_and_says_stilt_never_pulls() {
    let u = unique("dc");
    let out = stilt_with(
        &u,
        "docker_compose('compose.yml', project_name='UNIQ')\n",
        &[("compose.yml", "services:\n  web:\n    image: stilt-it/never-built-UNIQ\n")],
    )
    .run();
    let _down = Down(out.dir.clone());
    out.expect_code(1);
    assert!(out.stderr.contains(&format!("stilt-it/never-built-{u}")), "{}", out.stderr);
    assert!(out.stderr.contains("not found locally"), "{}", out.stderr);
}
