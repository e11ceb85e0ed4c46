//! A progress bar on stderr for long runs: hidden when stderr is not a terminal, with
//! `--quiet`, and during a run's first seconds (short runs never show one). Scenarios call
//! [`Progress::start`] per phase and [`Progress::inc`] per operation.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A run shorter than this shows no bar.
const SHOW_AFTER: Duration = Duration::from_secs(2);

/// One bar, shared by a scenario's tasks.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    /// Whether the bar has been given a visible draw target yet (std Mutex: held for no await).
    shown: Mutex<bool>,
}

impl Progress {
    /// A bar if `enabled` and stderr is a terminal; otherwise a no-op.
    pub fn new(enabled: bool) -> Progress {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::hidden());
            if let Ok(style) =
                ProgressStyle::with_template("{msg:>16} [{elapsed_precise}] {wide_bar} {pos}/{len}")
            {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, started: Instant::now(), shown: Mutex::new(false) }
    }

    /// A new phase of `len` steps (operations, or milliseconds for timed phases).
    pub fn start(&self, message: &str, len: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_owned());
            bar.set_length(len);
            bar.set_position(0);
            self.maybe_show(bar);
        }
    }

    pub fn inc(&self, steps: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(steps);
            self.maybe_show(bar);
        }
    }

    pub fn set(&self, position: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(position);
            self.maybe_show(bar);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn maybe_show(&self, bar: &ProgressBar) {
        if self.started.elapsed() < SHOW_AFTER {
            return;
        }
        if let Ok(mut shown) = self.shown.lock()
            && !*shown
        {
            *shown = true;
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }
}
