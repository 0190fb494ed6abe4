//! One-line error text with every cause (`failed to x: failed to y: cause`), for logs and
//! reports where a `Debug` chain would be unreadable.

/// `a: b: c` from an error and its sources (a cause the error already ends with is not repeated).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        // Some errors already print their cause; say it once.
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

    #[test]
    fn every_cause_once() {
        assert_eq!(error_chain(&Prints(std::io::Error::other("root"))), "failed to a: root");
        assert_eq!(error_chain(&Quiet(std::io::Error::other("root"))), "failed to b: root");
    }
}
