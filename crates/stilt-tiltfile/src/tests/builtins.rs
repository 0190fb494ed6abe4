//! Happy paths (and a few failures) of the non-resource builtins.

use super::{Fixture, at, loc};
use stilt_core::GoDuration;

#[test]
fn local_runs_logs_and_returns_a_blob() {
    let f = Fixture::new();
    f.file("sub/marker", "");
    let r = f.ok(r"
out = local('echo hello; echo err >&2')
print(type(out), str(out).strip())
print(str(local(['ls'], dir='sub', quiet=True)).strip())
print(str(local('echo $FOO-$BAR', env={'BAR': 'b'}, echo_off=True)).strip())
os.putenv('FOO', 'f')
print(str(local('echo $FOO', quiet=True, echo_off=True)).strip())
print(str(local('cat', stdin='piped', quiet=True, echo_off=True)))
local('true')
");
    // stdout and stderr are separate pipes: their relative order is not defined.
    let mut logs = f.logs();
    logs[1..3].sort();
    assert_eq!(
        logs,
        vec![
            "local: echo hello; echo err >&2",
            " → err",
            " → hello",
            "blob hello",
            "local: ls",
            "marker",
            " → -b",
            "-b",
            "f",
            "piped",
            "local: true",
            " → [no output]",
        ]
    );
    assert_eq!(r.environment.get("FOO").map(String::as_str), Some("f"));
}

#[test]
fn local_failure_messages() {
    let f = Fixture::new();
    let e = f.err("x = 1\nlocal('echo out; exit 3')\n");
    assert_eq!(e.message, "Error in local: command \"echo out; exit 3\" failed.\nerror: exit status 3");
    assert_eq!(at(&e), loc("Tiltfile", 2, 1));
    let e = f.err("local('echo out; echo bad >&2; exit 1', quiet=True)\n");
    assert_eq!(
        e.message,
        "Error in local: command \"echo out; echo bad >&2; exit 1\" failed.\nerror: exit status 1\nstdout:\nout\n\nstderr:\nbad\n\n"
    );
    let e = f.err("local(['definitely-not-a-command-xyz', 'a b'])\n");
    assert_eq!(
        e.message,
        "Error in local: command \"definitely-not-a-command-xyz \\\"a b\\\"\" failed.\nerror: exec: \"definitely-not-a-command-xyz\": executable file not found in $PATH"
    );
}

#[test]
fn blobs_have_no_string_methods() {
    let f = Fixture::new();
    f.ok("b = blob('text')\nprint(type(b), str(b), bool(blob('')))\n");
    assert_eq!(f.logs(), vec!["blob text False"]);
    let e = f.err("blob('x').strip()\n");
    assert!(e.message.contains("strip"), "{}", e.message);
}

#[test]
fn read_and_decode_data() {
    let f = Fixture::new();
    f.file("c.json", r#"{"b": [1, 2.5, "x"], "a": null}"#);
    f.file("c.yaml", "name: demo\nitems:\n  - 1\n  - two\n");
    f.file("s.yaml", "a: 1\n---\nb: 2\n");
    f.ok(r"
print(read_json('c.json'))
print(read_yaml('c.yaml')['items'])
print(read_yaml_stream('s.yaml'))
print(read_json('missing.json', default={'d': 1}))
print(read_yaml('missing.yaml', default=[]))
print(str(read_file('missing.txt', default='dflt')))
print(decode_json('[1, true]'), decode_yaml(blob('k: v')), decode_yaml_stream('a: 1\n---\nb: 2'))
");
    assert_eq!(
        f.logs(),
        vec![
            r#"{"a": None, "b": [1, 2.5, "x"]}"#,
            r#"[1, "two"]"#,
            r#"[{"a": 1}, {"b": 2}]"#,
            r#"{"d": 1}"#,
            "[]",
            "dflt",
            r#"[1, True] {"k": "v"} [{"a": 1}, {"b": 2}]"#,
        ]
    );
    let e = f.err("decode_yaml('a: 1\\n---\\nb: 2')\n");
    assert_eq!(
        e.message,
        "Error in decode_yaml: expected a yaml document but found a yaml stream (documents separated by `---`). use decode_yaml_stream instead to decode a yaml stream"
    );
    let e = f.err("read_yaml('nope.yaml')\n");
    assert_eq!(
        e.message,
        format!("Error in read_yaml: open {}: no such file or directory", f.path("nope.yaml").display())
    );
}

#[test]
fn encode_data() {
    let f = Fixture::new();
    f.ok("print(str(encode_json({'b': [1, 'x'], 'a': True})))\nprint(str(encode_yaml({'k': 'v', 'l': [1, 2]})))\nprint(str(encode_yaml_stream([{'a': 1}, {'b': 2}])))\n");
    let logs = f.logs().join("\n");
    assert!(logs.starts_with("{\n  \"a\": true,\n  \"b\": [\n    1,\n    \"x\"\n  ]\n}"), "{logs}");
    assert!(logs.contains("k: v"), "{logs}");
    assert!(logs.contains("a: 1\n---\nb: 2"), "{logs}");
}

#[test]
fn files_listdir_and_watch() {
    let f = Fixture::new();
    f.file("d/b.txt", "");
    f.file("d/a.txt", "");
    f.file("d/sub/c.txt", "");
    let r = f.ok("print(listdir('d'))\nprint(len(listdir('d', recursive=True)))\nwatch_file('d/a.txt')\nprint(listdir('nothing'))\n");
    let d = f.path("d");
    assert_eq!(f.logs()[0], format!("[\"{}/a.txt\", \"{}/b.txt\"]", d.display(), d.display()));
    assert_eq!(f.logs()[1], "3");
    assert_eq!(f.logs()[2], "[]");
    assert!(r.watched_paths.contains(&f.path("d/a.txt")));
    assert_eq!(r.watched_paths[0], f.path("Tiltfile"));
}

#[test]
fn os_and_friends() {
    let f = Fixture::new();
    f.file("real.txt", "");
    let r = f.ok(r#"
os.putenv('A', '1')
os.environ['B'] = '2'
print(os.getenv('A'), os.environ['B'], os.getenv('NOPE', 'dflt'), 'B' in os.environ, os.environ.get('C', 'c'))
os.unsetenv('A')
print(os.getenv('A'), os.name)
print(os.path.join('a', 'b/../c'), os.path.basename('/x/y.txt'), os.path.dirname('/x/y.txt'))
print(os.path.exists('real.txt'), os.path.exists('fake.txt'))
print(os.path.relpath('/a/b/c', '/a'), os.path.abspath('q') == os.path.join(os.getcwd(), 'q'))
print(shlex.quote("it's"), type(sys.argv), config.tilt_subcommand)
print(config.main_path == __file__, config.main_dir == os.getcwd())
"#);
    assert_eq!(
        f.logs(),
        vec![
            "1 2 dflt True c",
            "None posix",
            "a/c y.txt /x",
            "True False",
            "b/c True",
            "'it'\"'\"'s' list ci",
            "True True",
        ]
    );
    assert_eq!(r.environment.get("B").map(String::as_str), Some("2"));
    assert!(!r.environment.contains_key("A"));
    assert!(std::env::var("B").is_err() || std::env::var("B").as_deref() != Ok("2"));
}

#[test]
fn print_and_warn_levels() {
    let f = Fixture::new();
    f.ok("print('a\\nb')\nwarn('careful')\n");
    assert_eq!(f.logs(), vec!["a", "b", "careful"]);
    assert_eq!(f.warnings(), vec!["careful"]);
}

#[test]
fn settings_are_recorded() {
    let f = Fixture::new();
    let r = f.ok(r"
update_settings(max_parallel_updates=5, k8s_upsert_timeout_secs=60, suppress_unused_image_warnings=['img'])
ci_settings(timeout='10m')
ci_settings(readiness_timeout='1m30s', k8s_grace_period='30s')
secret_settings(disable_scrub=True)
version_settings(check_updates=False, constraint='>=0.30.0')
enable_feature('foo')
disable_feature('bar')
disable_snapshots()
analytics_settings(False)
set_team('team-1')
watch_settings(ignore=['*.log'])
docker_prune_settings(disable=True, num_builds=3)
experimental_analytics_report({'k': 'v'})
");
    assert_eq!(r.update_settings.max_parallel_updates, 5);
    assert_eq!(r.update_settings.k8s_upsert_timeout_secs, 60);
    assert_eq!(r.update_settings.suppress_unused_image_warnings, vec!["img"]);
    assert_eq!(r.ci_settings.timeout, Some(GoDuration::from_secs(600)));
    assert_eq!(r.ci_settings.readiness_timeout, Some(GoDuration::from_secs(90)));
    assert_eq!(r.ci_settings.k8s_grace_period, Some(GoDuration::from_secs(30)));
    assert!(r.disable_secret_scrub);
    assert!(!r.version_settings.check_updates);
    assert_eq!(r.version_settings.constraint, ">=0.30.0");
    assert_eq!(r.features.get("foo"), Some(&true));
    assert_eq!(r.features.get("bar"), Some(&false));
    assert_eq!(r.features.get("snapshots"), Some(&false));
    assert_eq!(r.analytics_enabled, Some(false));
    assert_eq!(r.team_id.as_deref(), Some("team-1"));

    let e = f.err("version_settings(constraint='>=1.0.0')\n");
    assert_eq!(
        e.message,
        "Error in version_settings: you are running Tilt version 0.37.6, which doesn't match the version constraint specified in your Tiltfile: '>=1.0.0'"
    );
    let e = f.err("update_settings(max_parallel_updates=0)\n");
    assert_eq!(e.message, "Error in update_settings: max number of parallel updates must be >= 1(got: 0)");
    let e = f.err("set_team('a')\nset_team('b')\n");
    assert_eq!(e.message, "Error in set_team: team_id set multiple times (to 'a' and 'b')");
}

#[test]
fn determinism() {
    let f = Fixture::new();
    let src = "for n in ['z', 'a', 'm']:\n    local_resource(n, 'true', labels=[n])\nos.putenv('K', 'v')\nci_settings(timeout='1m')\n";
    let a = f.ok(src);
    let b = f.ok(src);
    assert_eq!(a, b);
    assert_eq!(serde_json::to_string(&a).expect("json"), serde_json::to_string(&b).expect("json"));
}

#[test]
fn putenv_takes_any_string_like_value_as_tilt_does() {
    let f = Fixture::new();
    f.ok(concat!(
        "os.putenv('J', encode_json({'a': 1}))\n",
        "os.putenv(blob('B'), blob('from a blob'))\n",
        "os.putenv('F', read_file('Tiltfile'))\n",
        "if os.getenv('J') != str(encode_json({'a': 1})): fail('J is ' + os.getenv('J'))\n",
        "if os.getenv('B') != 'from a blob': fail('B')\n",
        "if not os.getenv('F').startswith('os.putenv'): fail('F')\n",
        "os.unsetenv(blob('B'))\n",
        "if os.getenv('B') != None: fail('B is still set')\n",
        "local_resource('a', 'true')\n",
    ));
    let e = f.err("os.putenv('X', 1)\n");
    assert_eq!(
        e.message,
        "Error in os.putenv: os.putenv: for parameter value: Value should be convertible to string, but is type int"
    );
}
