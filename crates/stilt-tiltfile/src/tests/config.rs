//! `config.*` and the enabled set.

use super::Fixture;

const DEFS: &str = "config.define_string_list('to-run', args=True)\nconfig.define_bool('debug')\nconfig.define_string('env', usage='which env')\ncfg = config.parse()\nprint(cfg)\n";

#[test]
fn parse_args_and_json() {
    let f = Fixture::new();
    f.file("Tiltfile", DEFS);
    f.run(&["--debug", "--env=dev", "a", "b"]).expect("ok");
    assert_eq!(f.logs(), vec![r#"{"debug": True, "env": "dev", "to-run": ["a", "b"]}"#]);

    let g = Fixture::new();
    g.file("Tiltfile", DEFS);
    g.file("tilt_config.json", r#"{"env": "from-json", "to-run": ["x"]}"#);
    g.run(&["--env", "from-args"]).expect("ok");
    assert_eq!(g.logs(), vec![r#"{"env": "from-args", "to-run": ["x"]}"#]);
}

#[test]
fn parse_errors() {
    let f = Fixture::new();
    f.file("Tiltfile", DEFS);
    let e = f.run(&["--nope"]).expect_err("unknown flag");
    assert_eq!(e.message, "Error in config.parse: flag provided but not defined: -nope");
    assert!(f.logs().iter().any(|l| l == "Usage:"), "{:?}", f.logs());

    let g = Fixture::new();
    g.file("Tiltfile", "config.define_string('env')\nconfig.parse()\n");
    g.file("tilt_config.json", r#"{"other": 1}"#);
    let e = g.run(&[]).expect_err("unknown key");
    assert_eq!(
        e.message,
        format!(
            "Error in config.parse: {} specified unknown setting name 'other'",
            g.path("tilt_config.json").display()
        )
    );
    let e = g.run(&["pos"]).expect_err("positional");
    assert!(e.message.ends_with("specified unknown setting name 'other'"));

    let h = Fixture::new();
    let e = h.err("config.parse()\nconfig.define_bool('late')\n");
    assert_eq!(
        e.message,
        "Error in config.define_bool: config.define_bool cannot be called after config.parse is called"
    );
    let e = h.err("config.define_bool('x')\nconfig.define_bool('x')\n");
    assert_eq!(e.message, "Error in config.define_bool: x defined multiple times");
}

#[test]
fn parse_disables_args_as_resource_names() {
    let f = Fixture::new();
    f.file("Tiltfile", "config.define_string_list('to-run', args=True)\ncfg = config.parse()\nlocal_resource('a', 'true')\nlocal_resource('b', 'true')\n");
    let r = f.run(&["zzz"]).expect("args are config values, not resource names");
    assert_eq!(r.enabled_resources, vec!["a", "b"]);
}

#[test]
fn set_and_clear_enabled_resources() {
    let f = Fixture::new();
    f.file(
        "Tiltfile",
        "local_resource('a', 'true')\nlocal_resource('b', 'true', resource_deps=['a'])\nlocal_resource('c', 'true')\nconfig.set_enabled_resources(['b'])\n",
    );
    let r = f.run(&["c"]).expect("ok");
    assert_eq!(r.enabled_resources, vec!["a", "b"]);
    let r = f.ok("local_resource('a', 'true')\nconfig.clear_enabled_resources()\n");
    assert!(r.enabled_resources.is_empty());
    let r = f.ok("local_resource('a', 'true')\nconfig.set_enabled_resources([])\n");
    assert_eq!(r.enabled_resources, vec!["a"]);
}
