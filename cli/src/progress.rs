//! The progress bar: only when standard error is a terminal.

use lms_bulk_upload::Progress;
use std::io::IsTerminal;

pub struct ProgressBar {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressBar {
    /// A bar for `total` rows, hidden when stderr is not a terminal or `quiet`.
    pub fn new(total: u64, quiet: bool) -> ProgressBar {
        let show = !quiet && std::io::stderr().is_terminal() && total > 0;
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows ({per_sec}, {eta} left) {msg}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        ProgressBar { bar }
    }

    /// The callback for the engine.
    pub fn callback<'a>(&self) -> Box<dyn FnMut(Progress) + 'a> {
        let bar = self.bar.clone();
        Box::new(move |p: Progress| {
            if let Some(bar) = &bar {
                bar.set_position(p.done);
                if p.failed > 0 && p.done.is_multiple_of(64) {
                    bar.set_message(format!("{} failed", p.failed));
                }
            }
        })
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
