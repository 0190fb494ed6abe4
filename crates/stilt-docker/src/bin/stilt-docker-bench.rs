//! Benchmark driver for `scripts/bench-docker`: one build through stilt-docker, timed.
//!
//! `stilt-docker-bench CONTEXT [--image NAME] [--dockerfile PATH] [--no-cache] [--builder classic|buildkit] [-v]`
//! prints `image=<ref> id=<id> seconds=<wall>` on stdout; build output goes to stderr with `-v`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use stilt_docker::{BuildRequest, Builder, DockerClient};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut context = None;
    let mut image = "stilt-bench/stilt".to_string();
    let mut dockerfile = None;
    let mut no_cache = false;
    let mut verbose = false;
    let mut builder = Builder::Auto;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--image" => image = args.next().unwrap_or_default(),
            "--dockerfile" => dockerfile = args.next().map(PathBuf::from),
            "--no-cache" => no_cache = true,
            "-v" => verbose = true,
            "--builder" => {
                builder = match args.next().as_deref() {
                    Some("classic") => Builder::Classic,
                    Some("buildkit") => Builder::BuildKit,
                    _ => {
                        eprintln!("--builder takes classic or buildkit");
                        return ExitCode::from(2);
                    }
                }
            }
            _ if context.is_none() => context = Some(PathBuf::from(a)),
            _ => {
                eprintln!("usage: stilt-docker-bench CONTEXT [--image NAME] [--dockerfile PATH] [--no-cache] [-v]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(context) = context else {
        eprintln!("usage: stilt-docker-bench CONTEXT [--image NAME] [--dockerfile PATH] [--no-cache] [-v]");
        return ExitCode::from(2);
    };
    let docker = match DockerClient::connect().await {
        Ok(d) => d,
        Err(e) => {
            eprintln!("Error: {}", stilt_core::error_chain::error_chain(&e));
            return ExitCode::from(4);
        }
    };
    let mut req = BuildRequest::new(image, context);
    req.dockerfile = dockerfile;
    req.no_cache = no_cache;
    req.builder = builder;
    let start = Instant::now();
    match docker
        .build(&req, |l| {
            if verbose {
                eprintln!("{l}");
            }
        })
        .await
    {
        Ok(built) => {
            println!("image={} id={} seconds={:.3}", built.ref_with_tag, built.id, start.elapsed().as_secs_f64());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {}", stilt_core::error_chain::error_chain(&e));
            ExitCode::FAILURE
        }
    }
}
