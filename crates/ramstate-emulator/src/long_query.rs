//! Request lines longer than the HTTP parser accepts.
//!
//! The official SDKs put every RPC parameter in the query string, even a 100,000
//! character `SAMLAssertion`, while the HTTP parser refuses request targets over 64 KiB.
//! [`LongQuery`] sits between the socket and the parser and follows the requests of a
//! connection (head, then `Content-Length` bytes of body): when a request line is too
//! long it moves the query string into the [`QUERY_HEADER`] header and leaves
//! [`MARKER`] as the query. A request with a chunked body ends the following: the rest
//! of that connection passes untouched.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The header that carries a moved query string.
pub const QUERY_HEADER: &str = "x-ramstate-long-query";
/// The query string left in the request line when the real one was moved.
pub const MARKER: &str = "ramstate-long-query";

/// Request lines up to this length pass untouched (the parser's own limit is 65,534).
const LIMIT: usize = 60 * 1024;
/// A head longer than this is not one the parser would take: pass it on as it is.
const GIVE_UP: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Reading a request head.
    Head,
    /// Passing on this many more body bytes.
    Body(u64),
    /// Passing everything on.
    Through,
}

/// A stream whose too-long request lines are rewritten.
pub struct LongQuery<S> {
    inner: S,
    mode: Mode,
    /// Read from `inner`, not yet looked at.
    input: Vec<u8>,
    /// Ready to hand on, from `pos`.
    output: Vec<u8>,
    pos: usize,
    /// How much of `input` is known to hold no head end.
    scanned: usize,
}

impl<S> LongQuery<S> {
    pub fn new(inner: S) -> Self {
        LongQuery {
            inner,
            mode: Mode::Head,
            input: Vec::new(),
            output: Vec::new(),
            pos: 0,
            scanned: 0,
        }
    }
}

/// A complete request head (through its blank line), rewritten when its request
/// line is too long, and what follows it: `Body(Content-Length)` or `Through` for a
/// chunked body.
fn rewrite(head: Vec<u8>) -> (Vec<u8>, Mode) {
    let text = String::from_utf8_lossy(&head);
    let mut length = 0u64;
    let mut next = Mode::Body(0);
    for line in text.split("\r\n").skip_while(|l| l.is_empty()).skip(1) {
        if let Some((name, value)) = line.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                match value.trim().parse() {
                    Ok(n) => length = n,
                    Err(_) => next = Mode::Through,
                }
            } else if name.trim().eq_ignore_ascii_case("transfer-encoding") {
                next = Mode::Through;
            }
        }
    }
    if next == Mode::Body(0) {
        next = Mode::Body(length);
    }
    let skip = head
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    let Some(line_len) = head[skip..].windows(2).position(|w| w == b"\r\n") else {
        return (head, next);
    };
    if line_len <= LIMIT {
        return (head, next);
    }
    let line = &head[skip..skip + line_len];
    let mut parts = line.splitn(3, |b| *b == b' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return (head, next);
    };
    let Some(q) = target.iter().position(|b| *b == b'?') else {
        return (head, next);
    };
    let (path, query) = (&target[..q], &target[q + 1..]);
    let mut out = Vec::with_capacity(head.len() + 64);
    out.extend_from_slice(&head[..skip]);
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(path);
    out.push(b'?');
    out.extend_from_slice(MARKER.as_bytes());
    out.push(b' ');
    out.extend_from_slice(version);
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(QUERY_HEADER.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(query);
    out.extend_from_slice(&head[skip + line_len..]);
    (out, next)
}

impl<S: AsyncRead + Unpin> LongQuery<S> {
    /// Reads more input; `Ok(false)` at the end of the stream.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let mut chunk = [0u8; 16 * 1024];
        let mut rb = ReadBuf::new(&mut chunk);
        match Pin::new(&mut self.inner).poll_read(cx, &mut rb) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Ready(Ok(())) => {
                self.input.extend_from_slice(rb.filled());
                Poll::Ready(Ok(!rb.filled().is_empty()))
            }
        }
    }

    /// Moves up to `n` input bytes to the output.
    fn pass(&mut self, n: usize) -> usize {
        let n = n.min(self.input.len());
        self.output.extend(self.input.drain(..n));
        n
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for LongQuery<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.pos < this.output.len() {
                let n = (this.output.len() - this.pos).min(buf.remaining());
                buf.put_slice(&this.output[this.pos..this.pos + n]);
                this.pos += n;
                if this.pos == this.output.len() {
                    this.output.clear();
                    this.pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            match this.mode {
                Mode::Through if this.input.is_empty() => {
                    return Pin::new(&mut this.inner).poll_read(cx, buf);
                }
                Mode::Through => {
                    this.pass(usize::MAX);
                }
                Mode::Body(0) => this.mode = Mode::Head,
                Mode::Body(left) if !this.input.is_empty() => {
                    let n = this.pass(usize::try_from(left).unwrap_or(usize::MAX));
                    this.mode = Mode::Body(left - n as u64);
                }
                Mode::Body(_) => {
                    if !std::task::ready!(this.fill(cx))? {
                        this.mode = Mode::Through;
                    }
                }
                Mode::Head => {
                    let from = this.scanned.saturating_sub(3);
                    let end = this.input[from..]
                        .windows(4)
                        .position(|w| w == b"\r\n\r\n")
                        .map(|i| from + i);
                    this.scanned = this.input.len();
                    if let Some(end) = end {
                        this.scanned = 0;
                        let head: Vec<u8> = this.input.drain(..end + 4).collect();
                        let (head, next) = rewrite(head);
                        this.output = head;
                        this.mode = next;
                    } else if this.input.len() > GIVE_UP {
                        this.mode = Mode::Through;
                    } else if !std::task::ready!(this.fill(cx))? {
                        this.mode = Mode::Through;
                        if this.input.is_empty() {
                            return Poll::Ready(Ok(()));
                        }
                    }
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for LongQuery<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Hands its bytes out a few at a time, as a socket may.
    struct Trickle<'a>(&'a [u8]);

    impl AsyncRead for Trickle<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self.0.len().min(7).min(buf.remaining());
            buf.put_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Poll::Ready(Ok(()))
        }
    }

    async fn through(input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        LongQuery::new(input).read_to_end(&mut out).await.unwrap();
        let mut trickled = Vec::new();
        LongQuery::new(Trickle(input))
            .read_to_end(&mut trickled)
            .await
            .unwrap();
        assert_eq!(out, trickled, "the result does not depend on read sizes");
        out
    }

    fn long_request(body: &str) -> (String, String) {
        let query = format!(
            "Action=AssumeRoleWithSAML&SAMLAssertion={}",
            "A".repeat(100_000)
        );
        let req = format!(
            "POST /?{query} HTTP/1.1\r\nhost: h\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        (query, req)
    }

    #[tokio::test]
    async fn short_request_lines_pass_untouched() {
        let req = b"POST /?Action=ListUsers HTTP/1.1\r\nhost: h\r\ncontent-length: 4\r\n\r\nbody";
        assert_eq!(through(req).await, req);
        assert_eq!(through(b"").await, b"");
        assert_eq!(through(b"no head end").await, b"no head end");
    }

    #[tokio::test]
    async fn a_long_query_moves_into_a_header() {
        let (query, req) = long_request("body");
        let out = String::from_utf8(through(req.as_bytes()).await).unwrap();
        assert_eq!(
            out,
            format!(
                "POST /?{MARKER} HTTP/1.1\r\n{QUERY_HEADER}: {query}\r\nhost: h\r\ncontent-length: 4\r\n\r\nbody"
            )
        );
    }

    #[tokio::test]
    async fn every_request_of_a_connection_is_looked_at_and_bodies_are_skipped() {
        // The first body looks like the end of a head; Content-Length says it is not.
        let first = "POST / HTTP/1.1\r\ncontent-length: 8\r\n\r\nab\r\n\r\ncd";
        let (query, second) = long_request("");
        let input = format!("{first}{second}");
        let out = String::from_utf8(through(input.as_bytes()).await).unwrap();
        assert_eq!(
            out,
            format!(
                "{first}POST /?{MARKER} HTTP/1.1\r\n{QUERY_HEADER}: {query}\r\nhost: h\r\ncontent-length: 0\r\n\r\n"
            )
        );
    }

    #[tokio::test]
    async fn after_a_chunked_body_the_rest_passes_untouched() {
        let chunked = "POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n";
        let (_, long) = long_request("");
        let input = format!("{chunked}{long}");
        assert_eq!(through(input.as_bytes()).await, input.as_bytes());
    }

    #[tokio::test]
    async fn a_long_target_without_a_query_is_left_to_the_parser() {
        let req = format!("GET /{} HTTP/1.1\r\n\r\n", "p".repeat(70_000));
        assert_eq!(through(req.as_bytes()).await, req.as_bytes());
    }
}
