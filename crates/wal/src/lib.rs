//! Segmented, CRC-framed, preallocated write-ahead log of raft entries, hard state and snapshot markers
