//! A write interrupted by a crash tears the tail of the last segment; open repairs it.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

use etcd_wal::Wal;

use crate::common::{edit, entries, entry_records, hs, opts, records, segments};

const SIZE: u64 = 1 << 16;

/// A WAL holding entries 1..=5 (term 1), one save each; returns its only segment.
fn five_entries(dir: &Path) -> std::path::PathBuf {
    let mut wal = Wal::create(dir, b"", opts(SIZE)).unwrap();
    for i in 1..=5 {
        wal.save(Some(&hs(1, i - 1)), &entries(i..=i, 1)).unwrap();
    }
    drop(wal);
    let segs = segments(dir);
    assert_eq!(segs.len(), 1);
    segs[0].clone()
}

/// Opens the damaged WAL, expects entries 1..=4, then checks appends continue there.
fn assert_repaired_and_writable(dir: &Path) {
    let (mut wal, contents) = Wal::open(dir, opts(SIZE)).unwrap();
    assert_eq!(contents.entries, entries(1..=4, 1));
    assert_eq!(wal.last_index(), 4);
    wal.save(None, &entries(5..=6, 2)).unwrap();
    drop(wal);
    let (_wal, contents) = Wal::open(dir, opts(SIZE)).unwrap();
    let mut expected = entries(1..=4, 1);
    expected.extend(entries(5..=6, 2));
    assert_eq!(contents.entries, expected);
}

#[test]
fn file_truncated_mid_record() {
    let dir = tempfile::tempdir().unwrap();
    let seg = five_entries(dir.path());
    let last = *entry_records(&seg).last().unwrap();
    // The hard state record after entry 5 goes too.
    OpenOptions::new()
        .write(true)
        .open(&seg)
        .unwrap()
        .set_len((last.offset + 20) as u64)
        .unwrap();
    assert_repaired_and_writable(dir.path());
    assert_eq!(
        fs::metadata(&seg).unwrap().len(),
        SIZE,
        "preallocation restored"
    );
}

#[test]
fn zeroed_header_with_payload_left() {
    let dir = tempfile::tempdir().unwrap();
    let seg = five_entries(dir.path());
    let last = *entry_records(&seg).last().unwrap();
    let end = records(&seg).last().map(|r| r.offset + r.len).unwrap();
    edit(&seg, |d| {
        d[last.offset..last.offset + 12].fill(0);
        d[last.offset + last.len..end].fill(0);
    });
    assert_repaired_and_writable(dir.path());
}

#[test]
fn zeroed_record() {
    let dir = tempfile::tempdir().unwrap();
    let seg = five_entries(dir.path());
    let last = *entry_records(&seg).last().unwrap();
    edit(&seg, |d| d[last.offset..].fill(0));
    assert_repaired_and_writable(dir.path());
}

#[test]
fn flipped_bits_in_the_last_record_are_repaired_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let seg = five_entries(dir.path());
    let last = *entry_records(&seg).last().unwrap();
    let end = records(&seg).last().map(|r| r.offset + r.len).unwrap();
    edit(&seg, |d| {
        d[last.offset + 20] ^= 0x10;
        d[last.offset + last.len..end].fill(0);
    });

    let log = LogBuf::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_ansi(false)
        .finish();
    // tracing caches each callsite's interest process-wide, asking the subscriber of
    // whichever thread reaches it first: a sibling test repairing a WAL with no subscriber
    // would disable the warning for this thread too (seen once in CI). A global subscriber
    // that takes every event and drops it keeps every callsite enabled; this thread's own
    // subscriber still gets the events.
    let _ = tracing::subscriber::set_global_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(std::io::sink)
            .finish(),
    );
    let opened =
        tracing::subscriber::with_default(subscriber, || Wal::open(dir.path(), opts(SIZE)));
    let (wal, contents) = opened.unwrap();
    assert_eq!(contents.entries, entries(1..=4, 1));
    drop(wal);

    let text = log.text();
    assert!(text.contains("WARN"), "{text}");
    assert!(text.contains(&seg.display().to_string()), "{text}");
    assert!(text.contains(&format!("offset={}", last.offset)), "{text}");
    assert!(text.contains("discarded_bytes="), "{text}");
    let data = fs::read(&seg).unwrap();
    assert!(data[last.offset..].iter().all(|&b| b == 0), "tail zeroed");
    assert_repaired_and_writable(dir.path());
}

#[test]
fn torn_hard_state_falls_back_to_the_previous_one() {
    let dir = tempfile::tempdir().unwrap();
    let seg = five_entries(dir.path());
    let last = *records(&seg).last().unwrap();
    assert_ne!(last.record_type, crate::common::TYPE_ENTRY);
    edit(&seg, |d| d[last.offset + 14] ^= 1);
    let (_wal, contents) = Wal::open(dir.path(), opts(SIZE)).unwrap();
    assert_eq!(contents.entries, entries(1..=5, 1));
    assert_eq!(contents.hard_state, Some(hs(1, 3)));
}

/// Collects what a tracing subscriber writes.
#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl LogBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for LogBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuf {
    type Writer = LogBuf;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
