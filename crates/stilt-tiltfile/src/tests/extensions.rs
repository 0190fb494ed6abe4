//! `load('ext://...')`: the default repo, `file://` repos, `v1alpha1.extension(...)`, caches.

use super::Fixture;

fn repo(f: &Fixture, dir: &str, ext: &str, body: &str) -> std::path::PathBuf {
    f.file(&format!("{dir}/{ext}/Tiltfile"), body);
    f.path(dir)
}

#[test]
fn default_repo_from_the_environment() {
    let mut f = Fixture::result_only();
    let r = repo(&f, "exts", "hello", "def hi(n):\n    return 'hi ' + n\nWHERE = os.getcwd()\n");
    f.env.insert(crate::EXTENSIONS_REPO_ENV.into(), r.display().to_string());
    let res = f.ok("load('ext://hello', 'hi', 'WHERE')\nprint(hi('x'), WHERE.endswith('tilt-extensions/hello'))\n");
    assert_eq!(f.logs().last().unwrap(), "hi x True");
    assert_eq!(res.extensions[0].name, "hello");
    assert_eq!(res.api_objects.iter().map(|o| o.kind.as_str()).collect::<Vec<_>>(), vec!["ExtensionRepo", "Extension"]);
    let e = f.err("load('ext://nope', 'x')\n");
    assert!(
        e.message.starts_with("cannot load ext://nope: loading extension nope: no extension tiltfile found at "),
        "{}",
        e.message
    );
    assert_eq!(super::at(&e), super::loc("Tiltfile", 1, 1));
    // printed as Tilt prints it: the traceback, then `Error: cannot load ext://…`
    let printed = e.to_string();
    let last = printed.lines().last().unwrap();
    assert!(last.starts_with("Error: cannot load ext://nope: loading extension nope: "), "{printed}");
    assert!(printed.starts_with("Traceback (most recent call last):\n"), "{printed}");
    let e = f.err("\nload('ext://hello', 'missing')\n");
    assert_eq!(e.message, "load: name missing not found in module ext://hello");
    assert_eq!(super::at(&e).1, 2);
}

#[test]
fn file_repos_and_extension_objects() {
    let f = Fixture::result_only();
    let r = repo(&f, "mine", "sub/tool", "X = 1\n");
    let src = format!(
        "v1alpha1.extension_repo(name='mine', url='file://{}')\nv1alpha1.extension(name='t', repo_name='mine', repo_path='sub/tool')\nload('ext://t', 'X')\nd = load_dynamic('ext://t')\nprint(X, d['X'])\n",
        r.display()
    );
    let res = f.ok(&src);
    assert_eq!(f.logs().last().unwrap(), "1 1");
    assert_eq!(res.extensions[0].repo_name, "mine");
    let e = f.err("v1alpha1.extension_repo(name='r', url='file://relative')\nv1alpha1.extension(name='t', repo_name='r', repo_path='x')\nload('ext://t', 'X')\n");
    assert_eq!(
        e.message,
        "cannot load ext://t: loading extension repo r: file paths must be absolute. Url: file://relative"
    );
    let e = f.err("v1alpha1.extension(name='t', repo_name='none', repo_path='x')\nload('ext://t', 'X')\n");
    assert_eq!(e.message, "cannot load ext://t: loading extension t: extension repo none not found");
}

#[test]
fn unreachable_repo_without_cache_fails_and_an_old_checkout_is_reused() {
    let f = Fixture::result_only();
    let url = "https://127.0.0.1:9/nobody/exts";
    let src = format!(
        "v1alpha1.extension_repo(name='r', url='{url}')\nv1alpha1.extension(name='e', repo_name='r', repo_path='e')\nload('ext://e', 'X')\nprint(X)\n"
    );
    let e = f.err(&src);
    assert!(
        e.message.starts_with("cannot load ext://e: loading extension repo r: download error: git clone: "),
        "{}",
        e.message
    );
    // A checkout from an earlier run (here: not even a git repo, so the update fails) is used.
    f.file(".local/share/tilt-dev/tilt_modules/127.0.0.1:9/nobody/exts/e/Tiltfile", "X = 'cached'\n");
    f.ok(&src);
    assert_eq!(f.logs().last().unwrap(), "cached");
    assert!(f.warnings().iter().any(|w| w.contains("using the existing checkout")), "{:?}", f.warnings());
}
