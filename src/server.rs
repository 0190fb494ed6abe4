//! The status API: serves the live Session over HTTP at Tilt's paths, so `stilt get session`
//! (and scripts using curl) can watch a run.

pub mod status_server;
