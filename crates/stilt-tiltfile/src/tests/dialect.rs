//! Tilt's Starlark dialect, modules and paths.

use super::{Fixture, at, loc};

#[test]
fn top_level_control_set_recursion_and_reassignment() {
    let f = Fixture::new();
    f.ok(r#"
x = 1
x = x + 1
if x == 2:
    print("if ok")
for i in range(2):
    x += i
s = set([1, 2]) | set([3])
print("set", len(s))
def fact(n):
    return 1 if n <= 1 else n * fact(n - 1)
print("fact", fact(10))
def kw(a, *, b=2):
    return a + b
print("kw", kw(1, b=3))
os = "shadowed"
print(os)
"#);
    assert_eq!(f.logs(), vec!["if ok", "set 3", "fact 3628800", "kw 4", "shadowed"]);
}

#[test]
fn while_loops_run_and_keep_line_numbers() {
    let f = Fixture::new();
    f.ok(
        "i = 0\nwhile i < 3:\n    i += 1\n    if i == 2:\n        continue\n    print('i', i)\nj = 0\nwhile True: \n  j += 1\n  if j > 4: break\nprint('j', j)\n",
    );
    assert_eq!(f.logs(), vec!["i 1", "i 3", "j 5"]);

    let e = f.err("i = 0\nwhile i < 3:\n    i += 1\n    fail('in body')\n");
    assert_eq!(e.message, "Error in fail: in body");
    assert_eq!(at(&e), loc("Tiltfile", 4, 5));

    let e = f.err("i = 0\nwhile i < 3:\n    i += 1\nprint(undefined_name)\n");
    assert!(e.message.contains("Variable `undefined_name` not found"), "{}", e.message);
    assert_eq!(at(&e), loc("Tiltfile", 4, 7));

    // An error in the condition points at the condition in the `while` line.
    let e = f.err("x = 1\nwhile x < 'a':\n    x += 1\n");
    assert_eq!(at(&e), loc("Tiltfile", 2, 7));

    // A while inside a def, in a loaded file.
    f.file("lib.star", "def count(n):\n    c = 0\n    while c < n:\n        c += 1\n    return c\n");
    f.ok("load('lib.star', 'count')\nprint(count(7))\n");
    assert_eq!(f.logs().last().map(String::as_str), Some("7"));
}

#[test]
fn load_binds_only_in_loading_file_and_runs_once() {
    let f = Fixture::new();
    f.file("lib.star", "print('lib runs')\ndef helper():\n    return 'h'\nVALUE = 42\n");
    f.file("mid.star", "load('lib.star', 'helper')\nMID = helper()\n");
    f.ok("load('mid.star', 'MID')\nload('lib.star', v='VALUE')\nprint(MID, v)\n");
    assert_eq!(f.logs(), vec!["lib runs", "h 42"]);
    // `helper` was loaded into mid.star only: it is not re-exported.
    let e = f.err("load('mid.star', 'helper')\n");
    assert_eq!(e.message, "load: name helper not found in module mid.star");
    assert_eq!(at(&e), loc("Tiltfile", 1, 18));
}

#[test]
fn relative_paths_follow_the_executing_file() {
    let f = Fixture::new();
    f.file("sub/data.txt", "sub data");
    f.file("data.txt", "top data");
    f.file("sub/Tiltfile", "print(str(read_file('data.txt')))\nprint(os.getcwd())\nprint(__name__, __file__)\ndef reader():\n    return str(read_file('data.txt'))\n");
    f.ok("include('sub/Tiltfile')\nload('sub/Tiltfile', 'reader')\nprint(reader())\nprint(__name__)\n");
    let sub = f.path("sub");
    assert_eq!(
        f.logs(),
        vec![
            "sub data".to_string(),
            sub.display().to_string(),
            format!("Tiltfile {}", f.path("sub/Tiltfile").display()),
            // Called from the main Tiltfile: resolves against the main directory (Tilt's rule).
            "top data".to_string(),
            "__main__".to_string(),
        ]
    );
}

#[test]
fn load_dynamic_returns_globals() {
    let f = Fixture::new();
    f.file("vals.star", "A = 1\nB = 'two'\n_private = 3\n");
    f.ok("d = load_dynamic('vals.star')\nprint(sorted(d.keys()), d['B'])\n");
    assert_eq!(f.logs(), vec!["[\"A\", \"B\"] two"]);
}

#[test]
fn exit_stops_everything_cleanly() {
    let f = Fixture::new();
    f.file("inner.star", "local_resource('a', 'true')\nexit('bye')\nfail('not reached')\n");
    let r = f.ok("include('inner.star')\nfail('not reached either')\n");
    assert_eq!(r.manifests.len(), 1);
    assert_eq!(f.logs(), vec!["bye"]);
}

#[test]
fn deep_recursion_is_allowed() {
    let f = Fixture::new();
    f.ok("def d(n):\n    return 0 if n == 0 else 1 + d(n - 1)\nprint(d(900))\n");
    assert_eq!(f.logs(), vec!["900"]);
    let e = f.err("def inf(n):\n    return inf(n + 1)\ninf(0)\n");
    assert!(e.message.to_lowercase().contains("stack"), "{}", e.message);
}

#[test]
fn struct_and_module() {
    let f = Fixture::new();
    f.ok("s = struct(a=1, b='x')\nprint(s.a, s.b)\nm = module('m', c=3)\nprint(m.c)\n");
    assert_eq!(f.logs(), vec!["1 x", "3"]);
}

#[test]
fn a_tiltfile_with_invalid_utf8_loads_with_replacement_characters() {
    let f = Fixture::new();
    // Latin-1 bytes in a comment and in a string, as an old editor writes them
    let mut src = b"# caf\xe9\nprint('na\xefve')\n".to_vec();
    src.extend_from_slice(b"local_resource('a', cmd='true')\n");
    std::fs::write(f.path("Tiltfile"), src).unwrap();
    let r = f.run(&[]).expect("Tilt loads any bytes, so does stilt");
    assert_eq!(r.manifests.len(), 1);
    assert!(f.logs().iter().any(|l| l == "na\u{FFFD}ve"), "{:?}", f.logs());
}
