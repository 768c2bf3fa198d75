//! Wire encoding of raft messages: protobuf bodies, and the framing used on streams and
//! in snapshot requests (an 8-byte big-endian length followed by the protobuf bytes).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use protobuf::Message as _;
use raft::eraftpb::{Message, MessageType};

use crate::error::RaftHttpError;

/// The largest message we decode (etcd's `readBytesLimit`, 512 MiB).
pub(crate) const MAX_MESSAGE_BYTES: u64 = 512 * 1024 * 1024;

/// Size of a frame's length prefix.
pub(crate) const FRAME_HEADER_BYTES: usize = 8;

/// Encodes `msg` as a bare protobuf body (pipeline requests).
pub(crate) fn encode(msg: &Message) -> Result<Bytes, RaftHttpError> {
    msg.write_to_bytes()
        .map(Bytes::from)
        .map_err(|err| RaftHttpError::Encode {
            reason: err.to_string(),
        })
}

/// Decodes a bare protobuf body; the message may share `bytes`' memory.
pub(crate) fn decode(bytes: &Bytes) -> Result<Message, RaftHttpError> {
    Message::parse_from_carllerche_bytes(bytes).map_err(|err| RaftHttpError::Decode {
        reason: err.to_string(),
    })
}

/// Appends `msg` to `buf` as one frame; returns the frame's size in bytes.
pub(crate) fn encode_frame(msg: &Message, buf: &mut BytesMut) -> Result<usize, RaftHttpError> {
    let body = encode(msg)?;
    buf.reserve(FRAME_HEADER_BYTES + body.len());
    buf.put_u64(body.len() as u64);
    buf.extend_from_slice(&body);
    Ok(FRAME_HEADER_BYTES + body.len())
}

/// The keep-alive a stream writer sends while idle (etcd's `linkHeartbeatMessage`):
/// a MsgHeartbeat from 0 to 0, which raft never produces.
pub(crate) fn link_heartbeat() -> Message {
    let mut msg = Message::default();
    msg.set_msg_type(MessageType::MsgHeartbeat);
    msg
}

/// True for [`link_heartbeat`] messages, which readers skip.
pub(crate) fn is_link_heartbeat(msg: &Message) -> bool {
    msg.get_msg_type() == MessageType::MsgHeartbeat && msg.from == 0 && msg.to == 0
}

/// Splits a byte stream into frames, whatever the chunk boundaries.
#[derive(Default)]
pub(crate) struct FrameDecoder {
    buf: BytesMut,
}

impl FrameDecoder {
    /// Appends received bytes.
    pub(crate) fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete frame's payload, if one is buffered. Fails on a frame larger
    /// than [`MAX_MESSAGE_BYTES`] (the stream cannot be resynchronised after that).
    pub(crate) fn next_frame(&mut self) -> Result<Option<Bytes>, RaftHttpError> {
        if self.buf.len() < FRAME_HEADER_BYTES {
            return Ok(None);
        }
        let mut prefix = &self.buf[..FRAME_HEADER_BYTES];
        let size = prefix.get_u64();
        if size > MAX_MESSAGE_BYTES {
            return Err(RaftHttpError::MessageTooLarge {
                size,
                limit: MAX_MESSAGE_BYTES,
            });
        }
        // Bounded by MAX_MESSAGE_BYTES above, so the cast cannot truncate.
        let size = size as usize;
        if self.buf.len() < FRAME_HEADER_BYTES + size {
            self.buf.reserve(FRAME_HEADER_BYTES + size - self.buf.len());
            return Ok(None);
        }
        self.buf.advance(FRAME_HEADER_BYTES);
        Ok(Some(self.buf.split_to(size).freeze()))
    }

    /// The bytes received after the last complete frame.
    pub(crate) fn into_remainder(self) -> BytesMut {
        self.buf
    }

    /// True when no partial frame is buffered.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use raft::eraftpb::Entry;

    fn append(index: u64) -> Message {
        let mut msg = Message::default();
        msg.set_msg_type(MessageType::MsgAppend);
        msg.from = 1;
        msg.to = 2;
        msg.index = index;
        msg.entries.push(Entry {
            index: index + 1,
            data: Bytes::from(vec![7u8; 100]),
            ..Default::default()
        });
        msg
    }

    #[test]
    fn frames_survive_arbitrary_chunking() {
        let mut wire = BytesMut::new();
        let mut sizes = 0;
        for i in 0..5 {
            sizes += encode_frame(&append(i), &mut wire).unwrap();
        }
        assert_eq!(sizes, wire.len());
        let mut dec = FrameDecoder::default();
        let mut got = Vec::new();
        for chunk in wire.chunks(7) {
            dec.push(chunk);
            while let Some(frame) = dec.next_frame().unwrap() {
                got.push(decode(&frame).unwrap().index);
            }
        }
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert!(dec.is_empty());
    }

    #[test]
    fn oversized_frame_is_refused() {
        let mut dec = FrameDecoder::default();
        dec.push(&(MAX_MESSAGE_BYTES + 1).to_be_bytes());
        assert!(matches!(
            dec.next_frame(),
            Err(RaftHttpError::MessageTooLarge { .. })
        ));
    }

    #[test]
    fn garbage_does_not_decode() {
        assert!(decode(&Bytes::from_static(&[0xff, 0xff, 0xff])).is_err());
    }

    #[test]
    fn link_heartbeat_is_recognised_and_real_heartbeats_are_not() {
        let mut wire = BytesMut::new();
        encode_frame(&link_heartbeat(), &mut wire).unwrap();
        let mut dec = FrameDecoder::default();
        dec.push(&wire);
        let frame = dec.next_frame().unwrap().unwrap();
        assert!(is_link_heartbeat(&decode(&frame).unwrap()));
        let mut real = link_heartbeat();
        real.from = 1;
        real.to = 2;
        assert!(!is_link_heartbeat(&real));
    }
}
