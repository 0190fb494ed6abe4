//! The `stilt` binary; everything lives in the library.

fn main() {
    stilt::process_start_time();
    stilt::cli::main();
}
