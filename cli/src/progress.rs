//! The progress bar: only when standard error is a terminal.

use lms_bulk_upload::Progress;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// No estimate before this long, nor before this many rows: the first rows include the
/// set-up (the database, the first hashes) and would promise minutes for a job of seconds.
const ETA_AFTER: Duration = Duration::from_secs(2);
const ETA_AFTER_ROWS: u64 = 8;

pub struct ProgressBar {
    bar: Option<indicatif::ProgressBar>,
}

/// The time left, from the rate so far; `None` until the rate means something.
pub fn eta(done: u64, total: u64, elapsed: Duration) -> Option<Duration> {
    if done < ETA_AFTER_ROWS.min(total) || done == 0 || elapsed < ETA_AFTER {
        return None;
    }
    let left = total.saturating_sub(done);
    let per_row = elapsed.as_secs_f64() / done as f64;
    Some(Duration::from_secs_f64(per_row * left as f64))
}

/// `12s left`, `3m 05s left`; empty while there is no estimate.
pub fn eta_text(eta: Option<Duration>) -> String {
    let Some(eta) = eta else {
        return String::new();
    };
    let secs = eta.as_secs();
    if secs < 60 {
        format!("{secs}s left")
    } else {
        format!("{}m {:02}s left", secs / 60, secs % 60)
    }
}

impl ProgressBar {
    /// A bar for `total` rows, hidden when stderr is not a terminal or `quiet`.
    pub fn new(total: u64, quiet: bool) -> ProgressBar {
        let show = !quiet && std::io::stderr().is_terminal() && total > 0;
        let bar = show.then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} rows {prefix} {msg}",
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
        let started = Instant::now();
        Box::new(move |p: Progress| {
            if let Some(bar) = &bar {
                bar.set_position(p.done);
                bar.set_prefix(eta_text(eta(p.done, p.total, started.elapsed())));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_estimate_until_the_rate_means_something() {
        // A 3-second job: nothing shown at the start, then what is really left.
        assert_eq!(eta(0, 100, Duration::ZERO), None);
        assert_eq!(eta(1, 100, Duration::from_millis(300)), None);
        assert_eq!(eta(50, 100, Duration::from_millis(1500)), None);
        let left = eta(60, 100, Duration::from_secs(3)).unwrap();
        assert_eq!(left, Duration::from_secs(2));
        assert_eq!(eta_text(Some(left)), "2s left");
        assert_eq!(eta_text(Some(Duration::from_secs(185))), "3m 05s left");
        assert_eq!(eta_text(None), "");
    }
}
