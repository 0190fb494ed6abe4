//! Image builds as data: refs, registries, Dockerfile dependencies, live update steps.

use super::Fixture;
use super::k8s::{APP, k8s, names};
use stilt_core::manifest::{ImageBuild, LiveUpdateStep};

#[test]
fn docker_build_matches_yaml_and_orders_dependencies() {
    let f = Fixture::result_only();
    f.file("app.yaml", APP);
    f.file("base.dockerfile", "FROM alpine\n");
    f.file("web/Dockerfile", "ARG BASE=my-base\nFROM ${BASE} AS build\nFROM build\n");
    let r = f.ok(
        "k8s_yaml('app.yaml')\ndocker_build('my-base', '.', dockerfile='base.dockerfile', only=['web'])\ndocker_build('web-image', 'web', entrypoint='/bin/web', live_update=[sync('web', '/app'), run('make', trigger='web/x')], build_args={'A': 'b'})\n",
    );
    let t = k8s(&r, "web");
    let refs: Vec<&str> = t.images.iter().map(|i| i.image_ref.as_str()).collect();
    assert_eq!(refs, vec!["my-base", "web-image"]);
    assert_eq!(t.images[1].image_deps, vec!["my-base"]);
    assert_eq!(
        t.images[1].entrypoint.as_deref(),
        Some(&["sh".to_string(), "-c".to_string(), "/bin/web".to_string()][..])
    );
    let ImageBuild::Docker(b) = &t.images[1].build else { panic!() };
    assert_eq!(b.context, f.path("web"));
    assert_eq!(b.dockerfile.as_deref(), Some(f.path("web/Dockerfile").as_path()));
    assert_eq!(b.build_args, vec![("A".to_string(), "b".to_string())]);
    assert!(matches!(&t.images[1].live_update[0], LiveUpdateStep::Sync { remote_path, .. } if remote_path == "/app"));
    assert_eq!(t.image_locations[0].build_ref.as_deref(), Some("web-image"));
}

#[test]
fn refs_tags_and_registries() {
    let f = Fixture::result_only();
    f.file("Dockerfile", "FROM scratch\n");
    f.file("app.yaml", &APP.replace("image: web-image", "image: gcr.io/p/web:v2"));
    let r = f.ok("k8s_yaml('app.yaml')\ndocker_build('gcr.io/p/web', '.')\ndefault_registry('localhost:5000', host_from_cluster='registry:5000')\n");
    let i = &k8s(&r, "web").images[0];
    assert_eq!(
        (i.local_ref.as_str(), i.cluster_ref.as_str(), i.match_exact),
        ("localhost:5000/gcr.io_p_web", "registry:5000/gcr.io_p_web", false)
    );
    // Two builds of one repository with different tags match exactly.
    let r = f.ok("k8s_yaml('app.yaml')\ndocker_build('gcr.io/p/web:v1', '.')\ndocker_build('gcr.io/p/web:v2', '.')\n");
    assert_eq!(k8s(&r, "web").images[0].image_ref, "gcr.io/p/web:v2");
    assert!(
        f.warnings().join("\n").contains("Image not used in any deploy config:\n    ✕ gcr.io/p/web:v1"),
        "{:?}",
        f.warnings()
    );
    let e = f.err("docker_build('Foo/Bar', '.')\n");
    assert_eq!(
        e.message,
        "Error in docker_build: Argument 1 (ref): can't parse \"Foo/Bar\": repository name must be lowercase"
    );
    let e = f.err("default_registry('a')\ndefault_registry('b')\n");
    assert_eq!(e.message, "Error in default_registry: default registry already defined");
    let e = f.err("docker_build('a', '.')\ndocker_build('a', '.')\n");
    assert_eq!(e.message, "Error in docker_build: Image for ref \"a\" has already been defined");
}

#[test]
fn docker_build_argument_errors() {
    let f = Fixture::result_only();
    f.file("Dockerfile", "FROM scratch\n");
    let e = f.err("docker_build('a', '.', bogus=1)\n");
    assert_eq!(e.message, "Error in docker_build: docker_build: unexpected keyword argument bogus");
    let e = f.err("docker_build('a', '.', dockerfile='Dockerfile', dockerfile_contents='FROM x')\n");
    assert_eq!(
        e.message,
        "Error in docker_build: Cannot specify both dockerfile and dockerfile_contents keyword arguments"
    );
    let e = f.err("docker_build('a', 'nope')\n");
    assert!(
        e.message.starts_with("Error in docker_build: error reading dockerfile: open ")
            && e.message.ends_with("nope/Dockerfile: no such file or directory"),
        "{}",
        e.message
    );
    let e = f.err("docker_build('a', '.', only=['*.go'])\n");
    assert_eq!(e.message, "Error in docker_build: 'only' does not support '*' file globs. Must be a real path: *.go");
    let e = f.err("docker_build('a', '.', live_update=[1])\n");
    assert!(e.message.contains("must be a list of live update steps"), "{}", e.message);
    let e = f.err("docker_build('a', '.', live_update=[run('x'), sync('.', '/a')])\n");
    assert_eq!(e.message, "Error in docker_build: all sync steps must precede all run steps");
    let e = f.err("docker_build(1, '.')\n");
    assert_eq!(e.message, "Error in docker_build: docker_build: for parameter ref: got int, want string");
    let e = f.err("custom_build('a', '', [])\n");
    assert_eq!(e.message, "Error in custom_build: Argument 2 (command) can't be empty");
    let e = f.err("custom_build('a', 'make', 'dep', nope=1)\n");
    assert_eq!(e.message, "Error in custom_build: custom_build: unexpected keyword argument nope");
}

#[test]
fn step_values_have_tilt_types() {
    let f = Fixture::result_only();
    f.ok("print(type(sync('.', '/a')), type(run('x')), type(fall_back_on('a')), type(initial_sync()), type(restart_container()))\n");
    assert_eq!(
        f.logs().last().unwrap(),
        "live_update_sync_step live_update_run_step live_update_fall_back_on_step live_update_initial_sync_step live_update_restart_container_step"
    );
}

#[test]
fn custom_build_and_compose() {
    let f = Fixture::result_only();
    f.file("dc.yml", "services:\n  web:\n    image: ${IMG:-my/web}\n    ports: ['8000:80']\n    links: [db]\n  db:\n    image: postgres\n");
    f.file("dc2.yml", "services:\n  web:\n    environment: {A: b}\n  extra:\n    image: x\n    profiles: [debug]\n");
    let r = f.ok("docker_compose(['dc.yml', 'dc2.yml'])\ncustom_build('my/web', 'make image', ['src'], tag='dev')\ndc_resource('web', labels=['app'], resource_deps=['db'])\n");
    assert_eq!(names(&r), vec!["db", "web"]);
    let m = &r.manifests[1];
    assert_eq!(m.labels, vec!["app"]);
    assert_eq!(m.resource_deps, vec!["db"]);
    let stilt_core::ResourceTarget::DockerCompose(t) = &m.target else { panic!() };
    assert_eq!(t.image.as_deref(), Some("my/web"));
    assert_eq!(t.published_ports, vec![8000]);
    assert_eq!(t.service_config["environment"]["A"], "b");
    assert_eq!(
        t.project_name,
        r.tiltfile_path.parent().unwrap().file_name().unwrap().to_string_lossy().to_lowercase().replace('.', "")
    );
    assert!(matches!(&t.images[0].build, ImageBuild::Custom(c) if c.tag == "dev"));
    let e = f.err("docker_compose('dc.yml')\ndc_resource('nope')\n");
    assert!(
        e.message.starts_with("Error in dc_resource: no Docker Compose service found with name \"nope\""),
        "{}",
        e.message
    );
    let e = f.err("docker_compose('dc.yml')\ndefault_registry('r')\n");
    assert_eq!(e.message, "default_registry is not supported with docker compose");
}
