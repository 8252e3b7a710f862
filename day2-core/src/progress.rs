//! Progress on stderr for a person at a terminal: one spinner line per wait (what is
//! waited for, how long so far, the time left), drawn by `indicatif`, and nothing at
//! all anywhere else (a pipe, a file, a captured in-process run, a test).
//!
//! The terminal is the process's own, so this module keeps one display per process:
//! [`crate::cli::main`] turns it on when stderr is a terminal ([`enable`]); a run
//! driven in-process by the xtask shares the xtask's. A line appears only once its
//! wait has lasted [`SHOW_AFTER`], so quick waits never flicker.
//!
//! **Nothing shares a line with progress.** Every byte the binaries write on a
//! terminal goes through [`Suspended`] (set up by `cli::main`), which clears the
//! progress lines, writes, and lets them be drawn again below: a record line or a
//! message always starts at the beginning of an empty line.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

/// Waits shorter than this show nothing (the "longer than about a second").
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// How often the line is redrawn (spinner frame, time left).
const TICK: Duration = Duration::from_millis(100);

/// The longest line drawn, in characters; longer messages are cut with `…`.
const MAX_LINE: usize = 160;

/// The spinner's frames, plain ASCII so every terminal shows them.
const FRAMES: [char; 4] = ['|', '/', '-', '\\'];

/// The process's progress display, once [`enable`]d.
static DISPLAY: OnceLock<MultiProgress> = OnceLock::new();

/// How many progress lines exist now; writes skip the clearing when there are none.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Turns progress on for this process, drawing on stderr. Called by the binaries'
/// `main` when stderr is a terminal; never by in-process or test runs.
pub fn enable() {
    DISPLAY.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
}

/// Whether progress lines are drawn in this process.
pub fn enabled() -> bool {
    DISPLAY.get().is_some()
}

/// Runs `write` with every progress line cleared from the terminal, then lets them be
/// drawn again: what `write` prints starts on a line of its own.
pub fn suspend<R>(write: impl FnOnce() -> R) -> R {
    match DISPLAY.get() {
        Some(display) if ACTIVE.load(Ordering::Acquire) > 0 => display.suspend(write),
        _ => write(),
    }
}

/// A writer that clears the progress lines around each write ([`suspend`]): the
/// binaries wrap their stdout (when it is a terminal) and stderr in it.
#[derive(Debug)]
pub struct Suspended<W>(pub W);

impl<W: Write> Write for Suspended<W> {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let inner = &mut self.0;
        suspend(|| inner.write(bytes))
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let inner = &mut self.0;
        suspend(|| inner.write_all(bytes).and_then(|()| inner.flush()))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// One wait's progress line. Hidden unless progress is [`enable`]d; removed from the
/// terminal when dropped.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    message: Arc<Mutex<String>>,
}

impl Progress {
    /// A spinner for a wait: `what` it waits for and, with a `deadline` (measured from
    /// now), the time left, e.g. `/ waiting for primary at http://…: warming (12s, 588s left)`.
    pub fn wait(what: impl Into<String>, deadline: Option<Duration>) -> Progress {
        Progress::start(what.into(), None, deadline)
    }

    /// A counter: `done of total` beside `what` (a bounded run of `total` steps).
    pub fn count(
        what: impl Into<String>,
        total: Option<u64>,
        deadline: Option<Duration>,
    ) -> Progress {
        Progress::start(what.into(), total, deadline)
    }

    fn start(what: String, total: Option<u64>, deadline: Option<Duration>) -> Progress {
        let message = Arc::new(Mutex::new(what));
        let Some(display) = DISPLAY.get() else {
            return Progress { bar: None, message };
        };
        let shared = Arc::clone(&message);
        let line = move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
            let elapsed = state.elapsed();
            if elapsed < SHOW_AFTER {
                return;
            }
            let text = shared.lock().map(|m| m.clone()).unwrap_or_default();
            let _ = out.write_str(&render(&text, elapsed, deadline, state.pos(), total));
        };
        let style = ProgressStyle::with_template("{line}")
            .expect("a constant template")
            .with_key("line", line);
        let bar =
            ProgressBar::with_draw_target(total, ProgressDrawTarget::hidden()).with_style(style);
        let bar = display.add(bar);
        ACTIVE.fetch_add(1, Ordering::AcqRel);
        bar.enable_steady_tick(TICK);
        Progress {
            bar: Some(bar),
            message,
        }
    }

    /// Says what is being waited for now (the state seen, the step running).
    pub fn message(&self, text: impl Into<String>) {
        if self.bar.is_none() {
            return;
        }
        if let Ok(mut message) = self.message.lock() {
            *message = text.into();
        }
    }

    /// Counts `n` more steps done.
    pub fn inc(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Whether this line is drawn at all (progress enabled).
    pub fn is_drawn(&self) -> bool {
        self.bar.is_some()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            if let Some(display) = DISPLAY.get() {
                display.remove(&bar);
            }
            ACTIVE.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The text of a progress line: spinner, message, counter, time so far and left.
fn render(
    what: &str,
    elapsed: Duration,
    deadline: Option<Duration>,
    done: u64,
    total: Option<u64>,
) -> String {
    let frame = FRAMES[(elapsed.as_millis() / TICK.as_millis()) as usize % FRAMES.len()];
    let mut line = format!("{frame} ");
    // A message is a person's text and may hold anything a server sent: control
    // characters would move the cursor, so they are shown escaped.
    let what = crate::text::printable(what);
    let budget = MAX_LINE.saturating_sub(40);
    if what.chars().count() > budget {
        line.extend(what.chars().take(budget.saturating_sub(1)));
        line.push('…');
    } else {
        line.push_str(&what);
    }
    let mut facts = Vec::new();
    match total {
        Some(total) => facts.push(format!("{done} of {total}")),
        None if done > 0 => facts.push(format!("{done} done")),
        None => {}
    }
    facts.push(format!("{}s", elapsed.as_secs()));
    if let Some(deadline) = deadline {
        let left = deadline.saturating_sub(elapsed);
        facts.push(format!("{}s left", left.as_secs()));
    }
    let _ = write!(line, " ({})", facts.join(", "));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_what_how_long_and_the_time_left() {
        let line = render(
            "waiting for primary",
            Duration::from_millis(12_300),
            Some(Duration::from_secs(600)),
            0,
            None,
        );
        assert_eq!(&line[1..], " waiting for primary (12s, 587s left)");
        let line = render("sampling", Duration::from_secs(3), None, 7, Some(30));
        assert_eq!(&line[1..], " sampling (7 of 30, 3s)");
    }

    #[test]
    fn long_or_hostile_messages_stay_on_one_line() {
        let line = render(
            &format!("\u{1b}[2J{}", "x".repeat(500)),
            Duration::from_secs(2),
            None,
            0,
            None,
        );
        assert!(!line.contains('\u{1b}'), "{line:?}");
        assert!(line.chars().count() <= MAX_LINE, "{}", line.chars().count());
        assert!(line.contains('…'));
    }

    #[test]
    fn without_a_terminal_nothing_is_drawn() {
        // Tests never call `enable`: a progress line is a no-op.
        let progress = Progress::wait("anything", None);
        assert!(!progress.is_drawn());
        progress.message("still nothing");
        let mut out = Vec::new();
        Suspended(&mut out).write_all(b"record\n").unwrap();
        assert_eq!(out, b"record\n");
    }
}
