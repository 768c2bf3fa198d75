//! The two streams a member pulls from each peer.

use std::fmt;

use raft::eraftpb::{Message, MessageType};

/// Which stream: `msgapp` carries MsgAppend only, `message` everything else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum StreamKind {
    MsgApp,
    Message,
}

impl StreamKind {
    pub(crate) const ALL: [StreamKind; 2] = [StreamKind::MsgApp, StreamKind::Message];

    /// The path segment in `/raft/stream/{kind}/{from}`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            StreamKind::MsgApp => "msgapp",
            StreamKind::Message => "message",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<StreamKind> {
        StreamKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The stream a message prefers: MsgAppend goes to `msgapp`.
    pub(crate) fn preferred_for(msg: &Message) -> StreamKind {
        if msg.get_msg_type() == MessageType::MsgAppend {
            StreamKind::MsgApp
        } else {
            StreamKind::Message
        }
    }
}

impl fmt::Display for StreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // etcd's names in its logs ("stream MsgApp v2", "stream Message").
        f.write_str(match self {
            StreamKind::MsgApp => "stream MsgApp v2",
            StreamKind::Message => "stream Message",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_names_round_trip() {
        for kind in StreamKind::ALL {
            assert_eq!(StreamKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(StreamKind::parse("msgappv2"), None);
    }

    #[test]
    fn only_append_prefers_msgapp() {
        let mut msg = Message::default();
        msg.set_msg_type(MessageType::MsgAppend);
        assert_eq!(StreamKind::preferred_for(&msg), StreamKind::MsgApp);
        msg.set_msg_type(MessageType::MsgAppendResponse);
        assert_eq!(StreamKind::preferred_for(&msg), StreamKind::Message);
    }
}
