//! Error messages and positions.

use super::{Fixture, at, loc};

#[test]
fn missing_tiltfile() {
    let f = Fixture::new();
    let e = f.run(&[]).expect_err("no Tiltfile");
    assert_eq!(
        e.message,
        format!(
            "No Tiltfile found at paths '{}'. Check out https://docs.tilt.dev/tutorial.html",
            f.path("Tiltfile").display()
        )
    );
    assert_eq!(e.location, None);
}

#[test]
fn syntax_error() {
    let f = Fixture::new();
    let e = f.err("x = 1\ny = (\n");
    assert!(e.message.starts_with("Parse error"), "{}", e.message);
    assert_eq!(at(&e), loc("Tiltfile", 3, 1));
}

#[test]
fn undefined_variable() {
    let f = Fixture::new();
    let e = f.err("x = 1\nprint(y)\n");
    assert_eq!(e.message, "Variable `y` not found, did you mean `x`?");
    assert_eq!(at(&e), loc("Tiltfile", 2, 7));
}

#[test]
fn traceback_through_functions() {
    let f = Fixture::new();
    let e = f.err("def inner():\n    fail('boom')\ndef outer():\n    inner()\nouter()\n");
    assert_eq!(e.message, "Error in fail: boom");
    assert_eq!(at(&e), loc("Tiltfile", 2, 5));
    let p = f.path("Tiltfile").display().to_string();
    assert_eq!(
        e.traceback,
        vec![format!("{p}:5:1: in <toplevel>"), format!("{p}:4:5: in outer"), format!("{p}:2:5: in inner")]
    );
}

#[test]
fn wrong_argument_type() {
    let f = Fixture::new();
    let e = f.err("local_resource('a', 'true', auto_init='yes')\n");
    assert_eq!(e.message, "Error in local_resource: local_resource: for parameter auto_init: got string, want bool");
    assert_eq!(at(&e), loc("Tiltfile", 1, 1));
}

#[test]
fn unknown_keyword_and_arity() {
    let f = Fixture::new();
    let e = f.err("x = 1\nlocal_resource('a', 'true', tags=['x'])\n");
    assert_eq!(e.message, "Error in local_resource: local_resource: unexpected keyword argument tags");
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
    let e = f.err("local_resource('a', 'true', cmdd='x')\n");
    assert_eq!(
        e.message,
        "Error in local_resource: local_resource: unexpected keyword argument cmdd (did you mean cmd?)"
    );
    let e = f.err("read_file('a', 'b', 'c')\n");
    assert_eq!(e.message, "Error in read_file: read_file: got 3 arguments, want at most 2");
    let e = f.err("local_resource(cmd='true')\n");
    assert_eq!(e.message, "Error in local_resource: local_resource: missing argument for name");
}

#[test]
fn missing_files() {
    let f = Fixture::new();
    let e = f.err("x = 1\n  \nread_file('nope.txt')\n");
    assert_eq!(
        e.message,
        format!("Error in read_file: open {}: no such file or directory", f.path("nope.txt").display())
    );
    assert_eq!(at(&e), loc("Tiltfile", 3, 1));

    let e = f.err("load('nope.star', 'x')\n");
    let p = f.path("nope.star").display().to_string();
    assert_eq!(
        e.message,
        format!("cannot load nope.star: error reading file {p}: open {p}: no such file or directory")
    );
    assert_eq!(at(&e), loc("Tiltfile", 1, 1));

    let e = f.err("\ninclude('nope.star')\n");
    assert_eq!(e.message, format!("Error in include: error reading file {p}: open {p}: no such file or directory"));
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
}

#[test]
fn load_of_undefined_symbol() {
    let f = Fixture::new();
    f.file("lib.star", "A = 1\n");
    let e = f.err("load('lib.star', 'A', 'B')\n");
    assert_eq!(e.message, "load: name B not found in module lib.star");
    assert_eq!(at(&e), loc("Tiltfile", 1, 23));
}

#[test]
fn load_and_include_cycles() {
    let f = Fixture::new();
    f.file("a.star", "load('b.star', 'B')\nA = 1\n");
    f.file("b.star", "x = 1\nload('a.star', 'A')\nB = 2\n");
    let e = f.err("load('a.star', 'A')\n");
    assert_eq!(e.message, format!("cannot load a.star: Circular load: {}", f.path("a.star").display()));
    assert_eq!(at(&e), loc("b.star", 2, 1));
    let main = f.path("Tiltfile").display().to_string();
    let a = f.path("a.star").display().to_string();
    let b = f.path("b.star").display().to_string();
    assert_eq!(
        e.traceback,
        vec![
            format!("{main}:1:1: in <toplevel>"),
            format!("{a}:1:1: in <toplevel>"),
            format!("{b}:2:1: in <toplevel>")
        ]
    );

    f.file("self.star", "include('self.star')\n");
    let e = f.err("include('self.star')\n");
    assert_eq!(e.message, format!("Error in include: Circular load: {}", f.path("self.star").display()));
    assert_eq!(at(&e), loc("self.star", 1, 1));
}

#[test]
fn errors_inside_loaded_files_point_there() {
    let f = Fixture::new();
    f.file("lib.star", "def helper():\n    return read_file('missing')\n\nX = 1\nfail('lib failed')\n");
    let e = f.err("print('start')\nload('lib.star', 'X')\n");
    assert_eq!(e.message, "Error in fail: lib failed");
    assert_eq!(at(&e), loc("lib.star", 5, 1));
    assert_eq!(e.traceback.len(), 2);
    assert!(e.traceback[0].ends_with("Tiltfile:2:1: in <toplevel>"), "{:?}", e.traceback);

    // A function from a loaded file, called from the main file.
    f.file("lib2.star", "def helper():\n    fail('from helper')\n");
    let e = f.err("load('lib2.star', 'helper')\n\nhelper()\n");
    assert_eq!(at(&e), loc("lib2.star", 2, 5));
}

#[test]
fn resource_dep_cycle_and_self_dep() {
    let f = Fixture::new();
    let e = f.err("local_resource('a', 'true', resource_deps=['b'])\nlocal_resource('b', 'true', resource_deps=['c'])\nlocal_resource('c', 'true', resource_deps=['a'])\n");
    assert_eq!(e.message, "cycle detected in resource dependency graph: a -> b -> c -> a");
    assert_eq!(at(&e), loc("Tiltfile", 1, 1));

    let e = f.err("x = 1\n\nlocal_resource('me', 'true', resource_deps=['me'])\n");
    assert_eq!(e.message, "resource me specified a dependency on itself");
    assert_eq!(at(&e), loc("Tiltfile", 3, 1));
}

#[test]
fn duplicate_resource_names() {
    let f = Fixture::new();
    let e = f.err("local_resource('a', 'true')\nlocal_resource('a', 'false')\n");
    assert_eq!(e.message, "Error in local_resource: local_resource named \"a\" already exists");
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
}

#[test]
fn bad_duration_in_ci_settings() {
    let f = Fixture::new();
    let e = f.err("ci_settings(timeout='10m')\nci_settings(timeout='abc')\n");
    assert_eq!(e.message, "Error in ci_settings: ci_settings: for parameter timeout: time: invalid duration \"abc\"");
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
    let e = f.err("ci_settings(readiness_timeout=5)\n");
    assert_eq!(
        e.message,
        "Error in ci_settings: ci_settings: for parameter readiness_timeout: Expected string. Got: int"
    );
}

#[test]
fn unsupported_builtins_fail_at_the_call() {
    let f = Fixture::new();
    let e = f.err("x = 1\nif x:\n    k8s_custom_deploy('a', 'x', 'y', [])\n");
    assert_eq!(e.message, "Error in k8s_custom_deploy: stilt does not support k8s_custom_deploy yet");
    assert_eq!(at(&e), loc("Tiltfile", 3, 5));
    // In `stilt ci`, what would start or deploy something fails; buttons are data.
    let e = f.err("v1alpha1.ui_button(name='b')\nv1alpha1.cmd(name='c', args=['true'])\n");
    assert_eq!(e.message, "Error in v1alpha1.cmd: stilt does not support v1alpha1.cmd yet");
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
    let e = f.err("v1alpha1.kubernetes_apply(name='k', yaml='')\n");
    assert_eq!(e.message, "Error in v1alpha1.kubernetes_apply: stilt does not support v1alpha1.kubernetes_apply yet");
}

#[test]
fn fail_and_builtin_errors_in_starlark_builtins() {
    let f = Fixture::new();
    let e = f.err("fail('Required command \\'helm\\' not found in PATH')\n");
    assert_eq!(e.message, "Error in fail: Required command 'helm' not found in PATH");
    let e = f.err("x = len(1)\n");
    assert_eq!(e.message, "Operation `len()` not supported on type `int`");
    assert_eq!(at(&e), loc("Tiltfile", 1, 5));
    let e = f.err("x = 1\ny = 'a'.startswith(1, 2, 3, 4)\n");
    assert!(e.message.starts_with("Error in startswith: "), "{}", e.message);
    assert_eq!(at(&e), loc("Tiltfile", 2, 5));
}
