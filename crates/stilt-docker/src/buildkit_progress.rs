//! BuildKit's progress stream (vertices, their logs, their completion) as readable log lines,
//! in the shape `docker build --progress=plain` prints them, and the failing step with its
//! output for the error message.
//!
//! ```text
//! #3 [2/3] COPY a.txt /a.txt
//! #3 DONE 0.1s
//! #4 [3/3] RUN make
//! #4 cc -o app main.c
//! #4 ERROR: executor failed running [/bin/sh -c make]: exit code: 2
//! ```
//!
//! Kept apart from the client so the rendering is a pure, unit-tested fold over status messages.

use std::collections::HashMap;

use bollard::models::BuildInfoAux;

use crate::error::Step;

/// Lines of a failing step's output kept for the error message.
const FAILED_OUTPUT_LINES: usize = 20;

/// What happened to one vertex (one build step, or an internal one like `load build context`).
#[derive(Debug, Default)]
struct VertexState {
    number: usize,
    name: String,
    announced: bool,
    done: bool,
    /// A log line not yet ended by `\n`.
    partial: String,
    /// The last lines of output, for the error message.
    tail: Vec<String>,
}

/// The first step that failed, with what it printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailedVertex {
    pub name: String,
    pub error: String,
    pub output: Vec<String>,
}

impl FailedVertex {
    /// `[3/3] RUN make` (or `[stage 3/3] RUN make`) as a [`Step`].
    pub fn step(&self) -> Option<Step> {
        let rest = self.name.strip_prefix('[')?;
        let (nums, instruction) = rest.split_once("] ")?;
        let nums = nums.rsplit(' ').next()?;
        let (index, total) = nums.split_once('/')?;
        Some(Step {
            index: index.parse().ok()?,
            total: total.parse().ok()?,
            instruction: instruction.trim().to_string(),
        })
    }

    /// The error and the step's last output lines, for `BuildError::Failed`.
    pub fn message(&self, daemon_message: &str) -> String {
        let mut m = if daemon_message.trim().is_empty() { self.error.clone() } else { daemon_message.trim().into() };
        if !self.output.is_empty() {
            m.push_str("; its output ended with:\n");
            m.push_str(&self.output.iter().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n"));
        }
        m
    }
}

/// Folds BuildKit status messages into log lines.
#[derive(Debug, Default)]
pub struct BuildKitProgress {
    vertices: HashMap<String, VertexState>,
    failed: Option<FailedVertex>,
}

impl BuildKitProgress {
    /// The first failed step, once one has failed.
    pub fn failed(&self) -> Option<&FailedVertex> {
        self.failed.as_ref()
    }

    /// Logs what `status` adds.
    pub fn update(&mut self, status: &bollard_buildkit_status::StatusResponse, log: &mut impl FnMut(&str)) {
        for v in &status.vertexes {
            let next = self.vertices.len() + 1;
            let state = self.vertices.entry(v.digest.clone()).or_insert_with(|| VertexState {
                number: next,
                name: v.name.clone(),
                ..VertexState::default()
            });
            if !state.announced && (v.started.is_some() || v.cached) {
                state.announced = true;
                log(&format!("#{} {}", state.number, state.name));
            }
            if v.completed.is_some() && !state.done {
                state.done = true;
                if !state.partial.is_empty() {
                    let rest = std::mem::take(&mut state.partial);
                    push_line(state, &rest, log);
                }
                if !v.error.is_empty() {
                    log(&format!("#{} ERROR: {}", state.number, v.error));
                    if self.failed.is_none() && !is_cancellation(&v.error) {
                        self.failed = Some(FailedVertex {
                            name: state.name.clone(),
                            error: v.error.clone(),
                            output: state.tail.clone(),
                        });
                    }
                } else if v.cached {
                    log(&format!("#{} CACHED", state.number));
                } else {
                    let secs = match (&v.started, &v.completed) {
                        (Some(s), Some(c)) => seconds_between(s.seconds, s.nanos, c.seconds, c.nanos),
                        _ => 0.0,
                    };
                    log(&format!("#{} DONE {secs:.1}s", state.number));
                }
            }
        }
        for l in &status.logs {
            let Some(state) = self.vertices.get_mut(&l.vertex) else { continue };
            state.partial.push_str(&String::from_utf8_lossy(&l.msg));
            while let Some(i) = state.partial.find('\n') {
                let line: String = state.partial.drain(..=i).collect();
                push_line(state, line.trim_end_matches(['\n', '\r']), log);
            }
        }
    }
}

fn push_line(state: &mut VertexState, line: &str, log: &mut impl FnMut(&str)) {
    if line.trim().is_empty() {
        return;
    }
    log(&format!("#{} {line}", state.number));
    state.tail.push(line.to_string());
    if state.tail.len() > FAILED_OUTPUT_LINES {
        state.tail.remove(0);
    }
}

/// Other steps stopped because one failed: not the cause.
fn is_cancellation(error: &str) -> bool {
    error.contains("context canceled")
}

#[allow(clippy::cast_precision_loss)]
fn seconds_between(s_secs: i64, s_nanos: i32, e_secs: i64, e_nanos: i32) -> f64 {
    let ns = (e_secs - s_secs) as f64 * 1e9 + f64::from(e_nanos - s_nanos);
    (ns / 1e9).max(0.0)
}

/// The status type bollard hands over in `BuildInfoAux::BuildKit`.
pub mod bollard_buildkit_status {
    pub use bollard::moby::buildkit::v1::StatusResponse;
}

/// The BuildKit status in a build stream item, if it is one.
pub fn status_of(aux: &BuildInfoAux) -> Option<&bollard_buildkit_status::StatusResponse> {
    match aux {
        BuildInfoAux::BuildKit(s) => Some(s),
        BuildInfoAux::Default(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::bollard_buildkit_status::StatusResponse;
    use super::*;
    use bollard::moby::buildkit::v1::{Vertex, VertexLog};

    /// A vertex started at `start` and (if given) completed at `end`, as (seconds, nanos).
    fn timed(mut v: Vertex, start: (i64, i32), end: Option<(i64, i32)>) -> Vertex {
        let mut t = v.started.take().unwrap_or_default();
        (t.seconds, t.nanos) = start;
        v.started = Some(t);
        if let Some(end) = end {
            let mut t = v.started.unwrap_or_default();
            (t.seconds, t.nanos) = end;
            v.completed = Some(t);
        }
        v
    }

    fn vertex(digest: &str, name: &str) -> Vertex {
        Vertex { digest: digest.into(), name: name.into(), ..Vertex::default() }
    }

    fn run(updates: &[StatusResponse]) -> (BuildKitProgress, Vec<String>) {
        let mut p = BuildKitProgress::default();
        let mut lines = Vec::new();
        for u in updates {
            p.update(u, &mut |l: &str| lines.push(l.to_string()));
        }
        (p, lines)
    }

    #[test]
    fn renders_like_progress_plain() {
        let copy = timed(vertex("d1", "[2/3] COPY a.txt /a.txt"), (10, 0), None);
        let copy_done = timed(copy.clone(), (10, 0), Some((10, 250_000_000)));
        let run_v = timed(vertex("d2", "[3/3] RUN cat /a.txt"), (11, 0), None);
        let run_done = timed(run_v.clone(), (11, 0), Some((12, 0)));
        let mut cached = timed(vertex("d3", "[1/3] FROM base"), (9, 0), Some((9, 0)));
        cached.cached = true;
        let log = |v: &str, m: &str| VertexLog { vertex: v.into(), msg: m.as_bytes().to_vec(), ..VertexLog::default() };
        let (p, lines) = run(&[
            StatusResponse { vertexes: vec![cached, copy], ..StatusResponse::default() },
            StatusResponse { vertexes: vec![copy_done, run_v], ..StatusResponse::default() },
            StatusResponse { logs: vec![log("d2", "hello "), log("d2", "world\nsecond")], ..StatusResponse::default() },
            StatusResponse { vertexes: vec![run_done], ..StatusResponse::default() },
        ]);
        assert_eq!(
            lines,
            [
                "#1 [1/3] FROM base",
                "#1 CACHED",
                "#2 [2/3] COPY a.txt /a.txt",
                "#2 DONE 0.2s",
                "#3 [3/3] RUN cat /a.txt",
                "#3 hello world",
                "#3 second",
                "#3 DONE 1.0s",
            ]
        );
        assert_eq!(p.failed(), None);
    }

    #[test]
    fn the_failing_step_is_named_with_its_output() {
        let v = timed(vertex("d", "[stage 2/2] RUN echo oops && false"), (1, 0), None);
        let log = VertexLog { vertex: "d".into(), msg: b"oops\n".to_vec(), ..VertexLog::default() };
        let failed = Vertex {
            error: "executor failed running [/bin/sh -c echo oops && false]: exit code: 1".into(),
            ..timed(v.clone(), (1, 0), Some((2, 0)))
        };
        let other = Vertex {
            error: "context canceled".into(),
            ..timed(vertex("o", "[other 2/2] RUN sleep 9"), (1, 0), Some((2, 0)))
        };
        let (p, lines) = run(&[
            StatusResponse { vertexes: vec![v], logs: vec![log], ..StatusResponse::default() },
            StatusResponse { vertexes: vec![other, failed], ..StatusResponse::default() },
        ]);
        assert!(lines.contains(&"#1 oops".to_string()), "{lines:?}");
        assert!(
            lines.contains(&"#1 ERROR: executor failed running [/bin/sh -c echo oops && false]: exit code: 1".into())
        );
        let f = p.failed().unwrap();
        assert_eq!(f.step(), Some(Step { index: 2, total: 2, instruction: "RUN echo oops && false".into() }));
        assert_eq!(
            f.message(""),
            "executor failed running [/bin/sh -c echo oops && false]: exit code: 1; its output ended with:\n    oops"
        );
    }
}
