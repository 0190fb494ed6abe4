//! The `stilt` binary; everything lives in the library.

fn main() {
    // First thing: the global timeout counts from the process start.
    let start_time = chrono::Utc::now();
    stilt::cli::main(start_time);
}
