//! Reporters: each folds the one [`Event`](crate::event::Event) stream into an output — the
//! terminal log stream, per-resource log files, the JUnit file, the JSON report, CI-native output.

pub mod ci_output;
pub mod json_report;
pub mod junit_report;
pub mod log_dir;
pub mod log_stream;
pub mod log_tail;
pub mod redactor;
pub mod reporter;
pub mod run_summary;
pub mod tilt_snapshot;
