//! `DockerClient::compose_logs`: a container's stdout and stderr from its start, followed, as
//! whole lines, whether the daemon sends multiplexed frames (no TTY) or raw TTY output.

use std::collections::VecDeque;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptionsBuilder;
use futures_util::{Stream, StreamExt};

use super::error::ComposeError;
use crate::DockerClient;

impl DockerClient {
    /// Follows a container's output: one item per line (`\r\n` and `\n` endings stripped);
    /// the stream ends when the container stops.
    pub fn compose_logs(
        &self,
        container_id: &str,
    ) -> impl Stream<Item = Result<String, ComposeError>> + Send + 'static {
        let options = LogsOptionsBuilder::default().follow(true).stdout(true).stderr(true).build();
        let chunks = self.bollard().logs(container_id, Some(options));
        let state = Lines { chunks, splitter: LineSplitter::default(), ready: VecDeque::new(), done: false };
        let action = format!("follow the logs of container {container_id:?}");
        futures_util::stream::unfold((state, action), |(mut state, action)| async move {
            let item = state.next(&action).await?;
            Some((item, (state, action)))
        })
    }
}

struct Lines<S> {
    chunks: S,
    splitter: LineSplitter,
    ready: VecDeque<Result<String, ComposeError>>,
    done: bool,
}

impl<S> Lines<S>
where
    S: Stream<Item = Result<LogOutput, bollard::errors::Error>> + Unpin,
{
    async fn next(&mut self, action: &str) -> Option<Result<String, ComposeError>> {
        loop {
            if let Some(item) = self.ready.pop_front() {
                return Some(item);
            }
            if self.done {
                return None;
            }
            match self.chunks.next().await {
                Some(Ok(chunk)) => self.ready.extend(self.splitter.push(&chunk).into_iter().map(Ok)),
                Some(Err(e)) => {
                    self.ready.extend(self.splitter.finish().into_iter().map(Ok));
                    self.ready.push_back(Err(ComposeError::docker(action)(e)));
                    self.done = true;
                }
                None => {
                    self.ready.extend(self.splitter.finish().into_iter().map(Ok));
                    self.done = true;
                }
            }
        }
    }
}

/// Reassembles lines from chunks that may end mid-line (or mid-character), keeping stdout and
/// stderr apart.
#[derive(Default)]
struct LineSplitter {
    /// Partial lines of stdout, stderr and TTY output.
    partial: [Vec<u8>; 3],
}

impl LineSplitter {
    fn push(&mut self, chunk: &LogOutput) -> Vec<String> {
        let buf = &mut self.partial[match chunk {
            LogOutput::StdOut { .. } | LogOutput::StdIn { .. } => 0,
            LogOutput::StdErr { .. } => 1,
            LogOutput::Console { .. } => 2,
        }];
        buf.extend_from_slice(chunk.as_ref());
        let mut lines = Vec::new();
        while let Some(end) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=end).collect();
            lines.push(text(&line[..end]));
        }
        lines
    }

    /// The unterminated last lines, when the output ends.
    fn finish(&mut self) -> Vec<String> {
        self.partial.iter_mut().filter(|b| !b.is_empty()).map(|b| text(&std::mem::take(b))).collect()
    }
}

fn text(line: &[u8]) -> String {
    String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned()
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn out(s: &'static [u8]) -> LogOutput {
        LogOutput::StdOut { message: Bytes::from_static(s) }
    }

    fn err(s: &'static [u8]) -> LogOutput {
        LogOutput::StdErr { message: Bytes::from_static(s) }
    }

    #[test]
    fn lines_span_chunks_per_stream() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(&out(b"hel")), Vec::<String>::new());
        assert_eq!(s.push(&err(b"oops\r\n")), ["oops"]);
        assert_eq!(s.push(&out(b"lo\n\nwor")), ["hello", ""]);
        assert_eq!(s.push(&out(b"ld\r\nla")), ["world"]);
        assert_eq!(s.push(&err(b"tail")), Vec::<String>::new());
        assert_eq!(s.finish(), ["la", "tail"]);
        assert_eq!(s.finish(), Vec::<String>::new());
    }

    #[test]
    fn utf8_split_across_chunks_survives() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(&LogOutput::Console { message: Bytes::from_static(b"caf\xc3") }), Vec::<String>::new());
        assert_eq!(s.push(&LogOutput::Console { message: Bytes::from_static(b"\xa9\r\n") }), ["café"]);
    }
}
