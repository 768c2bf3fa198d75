//! Wraps an accepted connection so that, if it speaks HTTP/2, every request header block
//! passes through [`fix_header_block`] before h2 parses it. Everything else (HTTP/1.1,
//! DATA and control frames, the write side) passes through untouched; only HEADERS and
//! CONTINUATION frames are buffered whole.

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::hpack_authority::fix_header_block;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
const FRAME_HEADER: usize = 9;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// The largest frame we send on to h2 (its default SETTINGS_MAX_FRAME_SIZE).
const MAX_FRAME: usize = 16_384;

enum State {
    /// Deciding between HTTP/2 (preface) and anything else.
    Preface,
    /// Not HTTP/2: plain pass-through.
    Passthrough,
    /// At a frame boundary.
    FrameStart,
    /// Forwarding `remaining` payload bytes of a frame that needs no change.
    Forward(usize),
}

/// A header block being collected across HEADERS + CONTINUATION frames.
struct PendingHeaders {
    /// Original frames' bytes, sent unchanged if the block needs no fix.
    raw: Vec<u8>,
    stream_id: u32,
    /// HEADERS flags other than PADDED/END_HEADERS, and the PRIORITY fields if present.
    flags: u8,
    priority: Option<[u8; 5]>,
    block: Vec<u8>,
}

pub struct AuthorityFixStream<IO> {
    inner: IO,
    state: State,
    /// Bytes read from `inner`, not yet examined.
    input: BytesMut,
    /// Bytes ready for the reader.
    output: BytesMut,
    pending: Option<PendingHeaders>,
}

impl<IO> AuthorityFixStream<IO> {
    pub fn new(inner: IO) -> Self {
        AuthorityFixStream {
            inner,
            state: State::Preface,
            input: BytesMut::new(),
            output: BytesMut::new(),
            pending: None,
        }
    }

    /// Moves what can be decided from `input` to `output`.
    fn process(&mut self) -> io::Result<()> {
        loop {
            match self.state {
                State::Preface => {
                    let n = self.input.len().min(PREFACE.len());
                    if self.input[..n] != PREFACE[..n] {
                        self.state = State::Passthrough;
                    } else if n == PREFACE.len() {
                        self.output.put(self.input.split_to(n));
                        self.state = State::FrameStart;
                    } else {
                        return Ok(());
                    }
                }
                State::Passthrough => {
                    let all = self.input.split();
                    self.output.put(all);
                    return Ok(());
                }
                State::Forward(remaining) => {
                    let n = remaining.min(self.input.len());
                    self.output.put(self.input.split_to(n));
                    if n == remaining {
                        self.state = State::FrameStart;
                    } else {
                        self.state = State::Forward(remaining - n);
                        return Ok(());
                    }
                }
                State::FrameStart => {
                    if self.input.len() < FRAME_HEADER {
                        return Ok(());
                    }
                    let len = (usize::from(self.input[0]) << 16)
                        | (usize::from(self.input[1]) << 8)
                        | usize::from(self.input[2]);
                    let kind = self.input[3];
                    if kind != HEADERS && kind != CONTINUATION && self.pending.is_none() {
                        self.output.put(self.input.split_to(FRAME_HEADER));
                        self.state = State::Forward(len);
                        continue;
                    }
                    if self.input.len() < FRAME_HEADER + len {
                        self.input.reserve(FRAME_HEADER + len - self.input.len());
                        return Ok(());
                    }
                    let frame = self.input.split_to(FRAME_HEADER + len);
                    self.header_frame(&frame);
                }
            }
        }
    }

    /// Handles one HEADERS or CONTINUATION frame (or any frame that interrupts a header
    /// block, which is a protocol error h2 will report: pass it on unchanged).
    fn header_frame(&mut self, frame: &[u8]) {
        let kind = frame[3];
        let flags = frame[4];
        let stream_id = u32::from_be_bytes([frame[5], frame[6], frame[7], frame[8]]) & 0x7fff_ffff;
        let payload = &frame[FRAME_HEADER..];
        match (kind, self.pending.take()) {
            (HEADERS, None) => {
                let mut body = payload;
                let mut pad = 0usize;
                if flags & PADDED != 0 {
                    let Some((&p, rest)) = body.split_first() else {
                        return self.output.put_slice(frame);
                    };
                    pad = usize::from(p);
                    body = rest;
                }
                let mut priority = None;
                if flags & PRIORITY != 0 {
                    if body.len() < 5 {
                        return self.output.put_slice(frame);
                    }
                    let mut p = [0u8; 5];
                    p.copy_from_slice(&body[..5]);
                    priority = Some(p);
                    body = &body[5..];
                }
                if pad > body.len() {
                    return self.output.put_slice(frame);
                }
                let block = &body[..body.len() - pad];
                let kept_flags = flags & !(PADDED | END_HEADERS);
                if flags & END_HEADERS != 0 {
                    // A whole block in one frame (nearly every request): no copies.
                    return match fix_header_block(block) {
                        None => self.output.put_slice(frame),
                        Some(fixed) => self.emit_headers(stream_id, kept_flags, priority, &fixed),
                    };
                }
                let pending = PendingHeaders {
                    raw: frame.to_vec(),
                    stream_id,
                    flags: kept_flags,
                    priority,
                    block: block.to_vec(),
                };
                self.collected(pending, flags & END_HEADERS != 0);
            }
            (CONTINUATION, Some(mut pending)) if stream_id == pending.stream_id => {
                pending.raw.extend_from_slice(frame);
                pending.block.extend_from_slice(payload);
                self.collected(pending, flags & END_HEADERS != 0);
            }
            (_, pending) => {
                if let Some(p) = pending {
                    self.output.put_slice(&p.raw);
                }
                self.output.put_slice(frame);
            }
        }
    }

    fn collected(&mut self, pending: PendingHeaders, complete: bool) {
        if !complete {
            self.pending = Some(pending);
            return;
        }
        match fix_header_block(&pending.block) {
            None => self.output.put_slice(&pending.raw),
            Some(block) => {
                self.emit_headers(pending.stream_id, pending.flags, pending.priority, &block)
            }
        }
    }

    /// Writes `block` as HEADERS (+ CONTINUATION) frames of at most MAX_FRAME bytes.
    fn emit_headers(&mut self, stream_id: u32, flags: u8, priority: Option<[u8; 5]>, block: &[u8]) {
        let prio_len = if priority.is_some() { 5 } else { 0 };
        let first = block.len().min(MAX_FRAME - prio_len);
        let (head, mut rest) = block.split_at(first);
        let mut flags = flags;
        if rest.is_empty() {
            flags |= END_HEADERS;
        }
        self.frame_header(head.len() + prio_len, HEADERS, flags, stream_id);
        if let Some(prio) = priority {
            self.output.put_slice(&prio);
        }
        self.output.put_slice(head);
        while !rest.is_empty() {
            let n = rest.len().min(MAX_FRAME);
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let flags = if rest.is_empty() { END_HEADERS } else { 0 };
            self.frame_header(n, CONTINUATION, flags, stream_id);
            self.output.put_slice(chunk);
        }
    }

    fn frame_header(&mut self, len: usize, kind: u8, flags: u8, stream_id: u32) {
        self.output.put_slice(&(len as u32).to_be_bytes()[1..]);
        self.output.put_u8(kind);
        self.output.put_u8(flags);
        self.output.put_u32(stream_id);
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for AuthorityFixStream<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.output.is_empty() {
                let n = this.output.len().min(buf.remaining());
                buf.put_slice(&this.output[..n]);
                this.output.advance(n);
                return Poll::Ready(Ok(()));
            }
            // Pass-through needs no copy through our buffers.
            if matches!(this.state, State::Passthrough) && this.input.is_empty() {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            // Uninitialised: zeroing 16 KiB on every read showed in profiles.
            let mut chunk = [MaybeUninit::<u8>::uninit(); 16 * 1024];
            let mut rb = ReadBuf::uninit(&mut chunk);
            ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
            if rb.filled().is_empty() {
                // EOF: hand over whatever is left as is.
                if let Some(p) = this.pending.take() {
                    this.output.put_slice(&p.raw);
                }
                let rest = this.input.split();
                this.output.put(rest);
                if this.output.is_empty() {
                    return Poll::Ready(Ok(()));
                }
                continue;
            }
            this.input.extend_from_slice(rb.filled());
            this.process()?;
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for AuthorityFixStream<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
        let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
        f.push(kind);
        f.push(flags);
        f.extend_from_slice(&stream.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    async fn through(input: Vec<u8>) -> Vec<u8> {
        let (mut a, b) = tokio::io::duplex(1 << 20);
        let mut s = AuthorityFixStream::new(b);
        // Dribble the input in small pieces to exercise partial frames.
        let writer = tokio::spawn(async move {
            for chunk in input.chunks(7) {
                a.write_all(chunk).await.unwrap();
            }
        });
        let mut out = Vec::new();
        let mut buf = [0u8; 5];
        loop {
            match tokio::time::timeout(std::time::Duration::from_millis(200), s.read(&mut buf))
                .await
            {
                Ok(Ok(0)) | Err(_) => break,
                Ok(Ok(n)) => out.extend_from_slice(&buf[..n]),
                Ok(Err(e)) => panic!("{e}"),
            }
        }
        writer.await.unwrap();
        out
    }

    #[tokio::test]
    async fn http1_passes_through() {
        let req = b"GET /version HTTP/1.1\r\nHost: x\r\n\r\n".to_vec();
        assert_eq!(through(req.clone()).await, req);
    }

    #[tokio::test]
    async fn bad_authority_is_fixed_and_other_frames_are_untouched() {
        let mut block = vec![0x83, 0x41, 10];
        block.extend_from_slice(b"http://a:1");
        let settings = frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100]);
        let data = frame(0x0, 0x1, 1, b"\0\0\0\0\0");
        // Header block split over HEADERS (padded) + CONTINUATION.
        let mut padded = vec![2u8];
        padded.extend_from_slice(&block[..4]);
        padded.extend_from_slice(&[0, 0]);
        let mut input = PREFACE.to_vec();
        input.extend(&settings);
        input.extend(frame(HEADERS, PADDED, 1, &padded));
        input.extend(frame(CONTINUATION, END_HEADERS, 1, &block[4..]));
        input.extend(&data);
        let out = through(input).await;

        let mut fixed_block = vec![0x83, 0x41, 10];
        fixed_block.extend_from_slice(b"http:x@a:1");
        let mut expected = PREFACE.to_vec();
        expected.extend(&settings);
        expected.extend(frame(HEADERS, END_HEADERS, 1, &fixed_block));
        expected.extend(&data);
        assert_eq!(out, expected);
    }

    #[tokio::test]
    async fn a_whole_block_in_one_frame_is_fixed_keeping_its_priority() {
        // The connection preface and one HEADERS frame (with PRIORITY) whose block is
        // `:method: GET` and `:authority: <authority>`.
        let stream = |authority: &[u8]| {
            let prio = [0, 0, 0, 3, 15];
            let block = [&[0x83, 0x41, authority.len() as u8][..], authority].concat();
            let mut bytes = PREFACE.to_vec();
            bytes.extend(frame(
                HEADERS,
                END_HEADERS | PRIORITY,
                5,
                &[prio.as_slice(), &block].concat(),
            ));
            bytes
        };
        let out = through(stream(b"http://a:1")).await;
        assert_eq!(out, stream(b"http:x@a:1"));
    }

    #[tokio::test]
    async fn good_headers_are_forwarded_byte_for_byte() {
        let mut block = vec![0x83, 0x41, 9];
        block.extend_from_slice(b"127.0.0.1");
        let mut input = PREFACE.to_vec();
        input.extend(frame(
            HEADERS,
            END_HEADERS | PADDED,
            3,
            &[[1u8].as_slice(), &block, &[0]].concat(),
        ));
        assert_eq!(through(input.clone()).await, input);
    }
}
