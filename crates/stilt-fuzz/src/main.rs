//! `stilt-fuzz`: see the crate docs (`src/lib.rs`) and `scripts/fuzz`.
//!
//! ```text
//! stilt-fuzz [run] [--seconds N] [--target all|tiltfile|yaml] [--seed N] [--corpus DIR]... [--out DIR]
//! stilt-fuzz replay FILE...      # each FILE under a `tiltfile/` or `yaml/` directory
//! ```
//!
//! Exit 0: no crash; 1: crashes found (saved under `<out>/crashes/`); 2: bad arguments.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use stilt_fuzz::{CaseOutcome, EXIT_PANIC, Rng, Stats, Target};
use stilt_tiltfile::CancelFlag;

struct Opts {
    seconds: u64,
    targets: Vec<Target>,
    seed: u64,
    corpus: Vec<PathBuf>,
    out: PathBuf,
}

fn usage(msg: &str) -> ! {
    eprintln!("stilt-fuzz: {msg}");
    eprintln!(
        "usage: stilt-fuzz [run] [--seconds N] [--target all|tiltfile|yaml] [--seed N] [--corpus DIR]... [--out DIR]\n       stilt-fuzz replay FILE..."
    );
    std::process::exit(2);
}

fn default_seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds")
}

fn parse(args: &[String]) -> Opts {
    let mut o = Opts {
        seconds: 60,
        targets: Target::ALL.to_vec(),
        seed: u64::try_from(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos())
                & u128::from(u64::MAX),
        )
        .unwrap_or(1),
        corpus: vec![default_seeds()],
        out: PathBuf::from("target/fuzz"),
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut val = || it.next().cloned().unwrap_or_else(|| usage(&format!("{a} needs a value")));
        match a.as_str() {
            "--seconds" => o.seconds = val().parse().unwrap_or_else(|_| usage("--seconds: not a number")),
            "--seed" => o.seed = val().parse().unwrap_or_else(|_| usage("--seed: not a number")),
            "--corpus" => o.corpus.push(PathBuf::from(val())),
            "--out" => o.out = PathBuf::from(val()),
            "--target" => {
                let v = val();
                o.targets = if v == "all" {
                    Target::ALL.to_vec()
                } else {
                    vec![Target::parse(&v).unwrap_or_else(|| usage(&format!("unknown target {v}")))]
                };
            }
            other => usage(&format!("unknown argument {other}")),
        }
    }
    o
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("worker") => worker(&args[1..]),
        Some("replay") => std::process::exit(replay(&args[1..])),
        Some("run") => std::process::exit(run(&parse(&args[1..]))),
        _ => std::process::exit(run(&parse(&args))),
    }
}

/// Why a worker ended badly, if it did.
fn crash_kind(status: ExitStatus) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(0), _) => None,
        (Some(EXIT_PANIC), _) => Some("panic".to_string()),
        (Some(stilt_fuzz::EXIT_HANG), _) => Some("hang".to_string()),
        (Some(c), _) => Some(format!("exit {c}")),
        (None, Some(s)) => Some(format!("signal {s}")),
        (None, None) => Some("unknown".to_string()),
    }
}

fn run(o: &Opts) -> i32 {
    let crashes_dir = o.out.join("crashes");
    let _ = std::fs::create_dir_all(&crashes_dir);
    let per_target = Duration::from_secs(o.seconds) / u32::try_from(o.targets.len().max(1)).unwrap_or(1);
    let exe = std::env::current_exe().expect("own path");
    let mut crashes = 0;
    let mut rng = Rng::new(o.seed);
    println!(
        "stilt-fuzz: seed {} for {}s over {:?}",
        o.seed,
        o.seconds,
        o.targets.iter().map(|t| t.name()).collect::<Vec<_>>()
    );
    for &target in &o.targets {
        let until = Instant::now() + per_target;
        while let Some(left) = until.checked_duration_since(Instant::now()).filter(|d| d.as_millis() > 200) {
            let seed = rng.next_u64();
            let current = o.out.join(format!("current-{}.bin", target.name()));
            let mut cmd = Command::new(&exe);
            cmd.arg("worker").arg(target.name()).arg(seed.to_string()).arg(left.as_millis().to_string()).arg(&current);
            cmd.args(&o.corpus);
            let status = match cmd.status() {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("stilt-fuzz: cannot start a worker: {e}");
                    return 2;
                }
            };
            if let Some(kind) = crash_kind(status) {
                crashes += 1;
                let saved = crashes_dir.join(target.name()).join(format!("{seed:016x}.bin"));
                let _ = std::fs::create_dir_all(saved.parent().unwrap_or(&crashes_dir));
                let _ = std::fs::copy(&current, &saved);
                println!("stilt-fuzz: CRASH ({kind}) in {}: input saved to {}", target.name(), saved.display());
            }
        }
    }
    println!("stilt-fuzz: {crashes} crash(es)");
    i32::from(crashes > 0)
}

fn replay(files: &[String]) -> i32 {
    let exe = std::env::current_exe().expect("own path");
    let mut failed = 0;
    for f in files {
        let path = Path::new(f);
        let target = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|n| Target::parse(&n.to_string_lossy()))
            .unwrap_or(Target::Tiltfile);
        let status = Command::new(&exe).arg("worker").arg(target.name()).arg("replay").arg("0").arg(path).status();
        match status.map(crash_kind) {
            Ok(None) => println!("stilt-fuzz: ok {f}"),
            Ok(Some(kind)) => {
                failed += 1;
                println!("stilt-fuzz: CRASH ({kind}) replaying {f}");
            }
            Err(e) => {
                failed += 1;
                println!("stilt-fuzz: cannot replay {f}: {e}");
            }
        }
    }
    i32::from(failed > 0)
}

/// `worker TARGET SEED|replay MILLIS CURRENT [CORPUS...]`: fuzzes until MILLIS elapse, writing
/// each input to CURRENT first; with `replay`, runs CURRENT once.
fn worker(args: &[String]) -> ! {
    let [target, seed, millis, current, corpus @ ..] = args else { usage("worker: bad arguments") };
    let target = Target::parse(target).unwrap_or_else(|| usage("worker: bad target"));
    let current = PathBuf::from(current);
    let scratch = std::env::temp_dir().join(format!("stilt-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&scratch);
    let epoch = Instant::now();
    let started = Arc::new(AtomicU64::new(0));
    let cancel = Arc::new(std::sync::Mutex::new(CancelFlag::default()));
    stilt_fuzz::spawn_watchdog(epoch, Arc::clone(&started), Arc::clone(&cancel), scratch.join("hang"));
    let run_one = |input: &[u8]| {
        let flag = CancelFlag::default();
        if let Ok(mut c) = cancel.lock() {
            *c = flag.clone();
        }
        started.store(u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX).max(1), Ordering::Relaxed);
        let outcome = stilt_fuzz::run_case(target, input, &scratch, &flag);
        started.store(0, Ordering::Relaxed);
        if outcome == CaseOutcome::Panicked {
            eprintln!("stilt-fuzz: the evaluator panicked");
            std::process::exit(EXIT_PANIC);
        }
        outcome
    };
    if seed == "replay" {
        let input = std::fs::read(&current).unwrap_or_else(|e| usage(&format!("{}: {e}", current.display())));
        run_one(&input);
        let _ = std::fs::remove_dir_all(&scratch);
        std::process::exit(0);
    }
    let seed: u64 = seed.parse().unwrap_or_else(|_| usage("worker: bad seed"));
    let until = epoch + Duration::from_millis(millis.parse().unwrap_or(1000));
    let dirs: Vec<PathBuf> = corpus.iter().map(PathBuf::from).collect();
    let seeds = stilt_fuzz::load_seeds(target, &dirs);
    if seeds.is_empty() {
        usage(&format!("no {} seeds in {dirs:?}", target.name()));
    }
    let mut rng = Rng::new(seed);
    let mut stats = Stats::default();
    while Instant::now() < until {
        let mut input = seeds[rng.below(seeds.len())].clone();
        stilt_fuzz::mutate(&mut rng, target, &mut input, &seeds);
        let _ = std::fs::write(&current, &input);
        if run_one(&input) == CaseOutcome::Loaded {
            stats.loaded += 1;
        }
        stats.cases += 1;
    }
    println!("stilt-fuzz worker: {} cases={} loaded={}", target.name(), stats.cases, stats.loaded);
    let _ = std::fs::remove_dir_all(&scratch);
    std::process::exit(0);
}
