//! Command line: clap arguments, validated into per-command configs, dispatched to commands
//! that return an [`ExitCode`](stilt_core::ExitCode).

pub mod args;
pub mod ci_command;
pub mod ci_config;
pub mod describe;
pub mod down_command;
pub mod get_command;
pub mod tiltfile_result;
pub mod usage_error;

use args::{AlphaCommand, Cli, Command, GetWhat};
use clap::Parser;
use stilt_core::ExitCode;

/// The Tiltfile path of `-f FILE`, made absolute against the current directory.
pub(crate) fn absolute_tiltfile(file: &std::path::Path) -> std::path::PathBuf {
    if file.is_absolute() {
        file.to_path_buf()
    } else {
        std::env::current_dir().map_or_else(|_| file.to_path_buf(), |d| d.join(file))
    }
}

/// Parses argv and runs the command. Never returns.
/// Runs `f` on one tokio thread: the engine and its executors mostly wait, and a process's
/// exit, the dispatcher's reaction and the next fork then happen without waking another thread
/// (measured faster than 2 workers on 2 cores: `scripts/bench`). Blocking work (Tiltfile load,
/// build contexts, reports) runs on the blocking pool.
///
/// When `f` is done (reports written, processes reaped) the runtime is shut down without
/// waiting for blocking tasks: a Tiltfile evaluation that ignores its cancel flag (stuck in a
/// builtin) must not keep the process alive.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("failed to start the tokio runtime");
    let out = rt.block_on(f);
    rt.shutdown_background();
    out
}

/// `start_time` is when the process started (the global timeout counts from there).
pub fn main(start_time: chrono::DateTime<chrono::Utc>) -> ! {
    let command_line: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let cli = match Cli::try_parse_from(&command_line) {
        Ok(c) => c,
        Err(e) => std::process::exit(usage_error::handle(&e, &command_line, start_time).0),
    };
    let code = match cli.command {
        Command::Version => {
            println!("stilt v{} (runs Tiltfiles like tilt v0.37.6 `tilt ci`)", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Ci(args) => block_on(ci_command::run(ci_config::CiConfig::from_arguments(args, start_time))),
        Command::Down(args) => block_on(down_command::run(args)),
        Command::Get { what: GetWhat::Session(args) } => get_command::get(&args),
        Command::Describe { what: GetWhat::Session(args) } => get_command::describe(&args),
        Command::Alpha { what: AlphaCommand::TiltfileResult(args) } => tiltfile_result::run(&args),
    };
    std::process::exit(code.0);
}
