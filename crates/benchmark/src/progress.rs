//! The progress bar drawn on stderr while a benchmark runs (hidden when disabled).

use indicatif::{ProgressBar, ProgressStyle};

const TEMPLATE: &str = "{bar:40} {pos}/{len} [{elapsed_precise}] {per_sec}";

/// A bar of `len` steps, or a hidden one that costs nothing to advance.
pub(crate) fn bar(enabled: bool, len: u64) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
        bar.set_style(style);
    }
    bar
}
