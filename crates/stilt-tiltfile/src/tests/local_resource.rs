//! `local_resource`, `test`, trigger modes, links, labels, probes, enabled set from args.

use super::{Fixture, at, loc};
use stilt_core::{Link, ProbeAction, TriggerMode};

#[test]
fn full_local_resource() {
    let f = Fixture::new();
    f.file("sub/x", "");
    let r = f.ok(r"
local_resource(
    'api',
    cmd='make build',
    deps=['src', '/abs/dep'],
    trigger_mode=TRIGGER_MODE_MANUAL,
    resource_deps=['db'],
    ignore='*.tmp',
    auto_init=True,
    serve_cmd=['./server', '--port', '8080'],
    allow_parallel=True,
    links=['localhost:8080', link('http://x/y', 'docs')],
    labels=['backend', 'api'],
    env={'A': '1', 'B': '2'},
    serve_env={'PORT': '8080'},
    readiness_probe=probe(period_secs=5, http_get=http_get_action(port=8080, path='/health')),
    dir='sub',
    serve_dir='/tmp',
)
local_resource('db', serve_cmd='postgres')
");
    assert_eq!(r.manifests.len(), 2);
    let m = &r.manifests[0];
    assert_eq!(m.name, "api");
    assert_eq!(m.resource_deps, vec!["db"]);
    assert_eq!(m.trigger_mode, TriggerMode::Manual);
    assert_eq!(m.labels, vec!["backend", "api"]);
    assert_eq!(
        m.links,
        vec![
            Link { url: "http://localhost:8080".to_string(), name: String::new() },
            Link { url: "http://x/y".to_string(), name: "docs".to_string() }
        ]
    );
    assert_eq!(at_decl(m), loc("Tiltfile", 2, 1));
    let l = m.local().expect("local");
    let up = l.update_cmd.as_ref().expect("update");
    assert_eq!(up.argv, vec!["sh", "-c", "make build"]);
    assert_eq!(up.dir, f.path("sub"));
    assert_eq!(up.env, vec![("A".to_string(), "1".to_string()), ("B".to_string(), "2".to_string())]);
    let serve = l.serve_cmd.as_ref().expect("serve");
    assert_eq!(serve.argv, vec!["./server", "--port", "8080"]);
    assert_eq!(serve.dir, std::path::PathBuf::from("/tmp"));
    assert_eq!(serve.env, vec![("PORT".to_string(), "8080".to_string())]);
    assert_eq!(l.deps, vec![f.path("src"), std::path::PathBuf::from("/abs/dep")]);
    assert_eq!(l.ignore, vec!["*.tmp"]);
    assert!(l.allow_parallel);
    let p = l.readiness_probe.as_ref().expect("probe");
    assert_eq!(p.period_secs, 5);
    assert_eq!(p.timeout_secs, 1);
    assert_eq!(
        p.action,
        ProbeAction::HttpGet {
            host: "localhost".to_string(),
            port: 8080,
            scheme: "http".to_string(),
            path: "/health".to_string()
        }
    );
    let db = r.manifests[1].local().expect("local");
    assert!(db.update_cmd.is_none());
    assert_eq!(db.serve_cmd.as_ref().expect("serve").dir, f.root.clone());
    // Serve-only resources may run in parallel (Tilt's rule).
    assert!(db.allow_parallel);
    assert_eq!(r.enabled_resources, vec!["api", "db"]);
}

fn at_decl(m: &stilt_core::Manifest) -> (String, u32, u32) {
    let d = m.declared_at.as_ref().expect("declared_at");
    (d.file.file_name().expect("name").to_string_lossy().into_owned(), d.line, d.col)
}

#[test]
fn positional_order_matches_go() {
    let f = Fixture::new();
    let r = f.ok("local_resource('a', 'echo hi', ['d'], TRIGGER_MODE_MANUAL, ['b'], ['i'], False, 'serve', '', '', True)\nlocal_resource('b', 'true')\n");
    let m = &r.manifests[0];
    assert_eq!(m.trigger_mode, TriggerMode::Manual);
    assert!(!m.auto_init);
    assert_eq!(m.resource_deps, vec!["b"]);
    let l = m.local().expect("local");
    assert_eq!(l.ignore, vec!["i"]);
    assert_eq!(l.serve_cmd.as_ref().expect("serve").argv, vec!["sh", "-c", "serve"]);
    assert!(l.allow_parallel);
}

#[test]
fn global_trigger_mode_and_test_alias() {
    let f = Fixture::new();
    let r = f.ok("local_resource('a', 'true')\ntrigger_mode(TRIGGER_MODE_MANUAL)\ntest('t', 'go test ./...')\nlocal_resource('c', 'true', trigger_mode=TRIGGER_MODE_AUTO)\n");
    assert_eq!(r.manifests[0].trigger_mode, TriggerMode::Manual);
    assert_eq!(r.manifests[2].trigger_mode, TriggerMode::Auto);
    assert!(r.manifests[1].local().expect("local").allow_parallel);
    assert!(f.warnings()[0].starts_with("test() is deprecated"));
    let e = f.err("trigger_mode(TRIGGER_MODE_MANUAL)\ntrigger_mode(TRIGGER_MODE_AUTO)\n");
    assert_eq!(
        e.message,
        format!(
            "Error in trigger_mode: trigger_mode can only be called once. It was already called at {}:1:1",
            f.path("Tiltfile").display()
        )
    );
}

#[test]
fn validation_errors() {
    let f = Fixture::new();
    let e = f.err("local_resource('a')\n");
    assert_eq!(
        e.message,
        "Error in local_resource: local_resource must have a cmd and/or a serve_cmd, but both were empty"
    );
    let e = f.err("local_resource('a', serve_cmd='x', dir='sub')\n");
    assert_eq!(
        e.message,
        "Error in local_resource: local_resource: 'dir' only affects 'cmd', not 'serve_cmd'. Did you mean to use 'serve_dir' instead?"
    );
    let e = f.err("local_resource('a', 'x', serve_dir='sub')\n");
    assert_eq!(e.message, "Error in local_resource: local_resource: 'serve_dir' specified but 'serve_cmd' is empty");
    let e = f.err("local_resource('a', 'x', labels=['bad label'])\n");
    assert!(e.message.contains("Invalid label \"bad label\""), "{}", e.message);
    let e = f.err("local_resource('a', 'x', resource_deps='b')\n");
    assert_eq!(
        e.message,
        "Error in local_resource: local_resource: for parameter resource_deps: got string, want sequence"
    );
    f.ok("local_resource('a', 'x', readiness_probe=probe(exec=exec_action(['true'])))\n");
    assert!(f.warnings().iter().any(|w| w.contains("Ignoring readiness probe for local resource \"a\"")));
}

#[test]
fn unknown_resource_deps_are_warned_and_dropped() {
    let f = Fixture::new();
    let r = f.ok("local_resource('a', 'true', resource_deps=['ghost'])\n");
    assert!(r.manifests[0].resource_deps.is_empty());
    assert_eq!(f.warnings(), vec!["resource a specified a dependency on unknown resource ghost - dependency ignored"]);
}

#[test]
fn args_select_resources_and_their_deps() {
    let f = Fixture::new();
    f.file(
        "Tiltfile",
        "local_resource('a', 'true', resource_deps=['b'])\nlocal_resource('b', 'true', resource_deps=['c'])\nlocal_resource('c', 'true')\nlocal_resource('d', 'true')\n",
    );
    let r = f.run(&["a"]).expect("ok");
    assert_eq!(r.enabled_resources, vec!["a", "b", "c"]);
    let r = f.run(&["d"]).expect("ok");
    assert_eq!(r.enabled_resources, vec!["d"]);
    let e = f.run(&["x", "a"]).expect_err("unknown");
    assert_eq!(
        e.message,
        "You specified some resources that could not be found: \"x\"\nIs this a typo? Existing resources in Tiltfile: \"b\", \"c\", \"d\""
    );
}

#[test]
fn probes_and_actions() {
    let f = Fixture::new();
    let r = f.ok("local_resource('s', serve_cmd='x', readiness_probe=probe(initial_delay_secs=2, tcp_socket=tcp_socket_action(5432)))\n");
    let p = r.manifests[0].local().expect("local").readiness_probe.clone().expect("probe");
    assert_eq!(p.initial_delay_secs, 2);
    assert_eq!(p.failure_threshold, 3);
    assert_eq!(p.action, ProbeAction::TcpSocket { host: "localhost".to_string(), port: 5432 });
    let e = f.err("probe()\n");
    assert_eq!(e.message, "Error in probe: exactly one of exec, http_get, or tcp_socket must be specified");
    let e = f.err("\nexec_action('ls')\n");
    assert_eq!(e.message, "Error in exec_action: exec_action: for parameter command: got string, want sequence");
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
}
