//! The one cause walker: an error and its `source()` chain as one line
//! (`failed to x: failed to y: cause`), for logs, the Session and reports, where a `Debug` chain
//! would be unreadable.
//!
//! stilt's own errors never interpolate their cause (they mark it `#[source]`), so the chain is
//! rendered here and only here — by the binary and by stilt-k8s for kube's transport errors.
//! Third-party errors (bollard, hyper, kube) sometimes do print their cause as well; such a
//! cause is said once.

/// `a: b: c` from an error and its sources (a cause the text already ends with is not repeated).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.ends_with(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("failed to a: {0}")]
    struct Prints(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("failed to b")]
    struct Quiet(#[source] std::io::Error);

    #[derive(Debug, thiserror::Error)]
    #[error("failed to c")]
    struct Outer(#[source] Quiet);

    #[test]
    fn every_cause_once() {
        assert_eq!(error_chain(&Prints(std::io::Error::other("root"))), "failed to a: root");
        assert_eq!(error_chain(&Quiet(std::io::Error::other("root"))), "failed to b: root");
        assert_eq!(error_chain(&Outer(Quiet(std::io::Error::other("root")))), "failed to c: failed to b: root");
    }
}
