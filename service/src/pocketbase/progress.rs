//! How far an import got. On a terminal the CLI draws a spinner while the source is read and a
//! bar while a large import writes; anywhere else (a pipe, a log collector, JSON logs) nothing
//! is drawn, so only the summary reaches the output.

use std::io::IsTerminal as _;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Rows below which the write is over before a bar would help.
pub const LARGE_IMPORT_ROWS: u64 = 1_000;

/// The import's progress events. Every method defaults to nothing.
pub trait Progress: Sync {
    /// The source is being read (and, for a backup zip, unpacked).
    fn reading(&self, _source: &str) {}
    /// The write transaction starts: `rows` to insert or update, all tables together.
    fn writing(&self, _rows: u64) {}
    /// `rows` more were written (still uncommitted).
    fn written(&self, _rows: u64) {}
    /// Done, or failed: remove what was drawn.
    fn finish(&self) {}
}

/// Draws nothing.
pub struct Silent;

impl Progress for Silent {}

/// A spinner and a bar on stderr.
pub struct TerminalProgress {
    bar: ProgressBar,
}

impl TerminalProgress {
    /// `None` unless stderr is a terminal and the logs are for people (not JSON).
    pub fn on_stderr(json_logs: bool) -> Option<Self> {
        if json_logs || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        Some(Self { bar })
    }
}

impl Progress for TerminalProgress {
    fn reading(&self, source: &str) {
        self.bar.set_style(ProgressStyle::default_spinner());
        self.bar.set_message(format!("reading {source}"));
        self.bar.enable_steady_tick(Duration::from_millis(120));
    }

    fn writing(&self, rows: u64) {
        if rows < LARGE_IMPORT_ROWS {
            self.bar.finish_and_clear();
            return;
        }
        // A fixed template: indicatif's own parser, so a typo is a test failure, not a panic.
        let style = ProgressStyle::with_template(
            "importing {bar:40} {human_pos}/{human_len} rows ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        self.bar.set_length(rows);
        self.bar.set_position(0);
        self.bar.set_message("");
        self.bar.set_style(style);
        // Drawn now, not at the next tick of the rate limiter: a write faster than one draw
        // interval would otherwise never show its bar.
        self.bar.force_draw();
    }

    fn written(&self, rows: u64) {
        self.bar.inc(rows);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
