//! Progress of a wait on standard error: a spinner line with the elapsed time and the
//! current state on a terminal, otherwise one line per change of state.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// How often the spinner redraws.
const SPIN_INTERVAL: Duration = Duration::from_millis(120);

const SPINNER_FRAMES: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Shows what a wait is at; cloneable into the finisher's progress callback.
#[derive(Clone)]
pub struct Progress {
    shared: Arc<Shared>,
}

struct Shared {
    started: Instant,
    spinner: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    current: String,
    frame: usize,
    stopped: bool,
}

impl Progress {
    /// Starts showing progress under `title`; with `spinner`, a task redraws the line
    /// until [`Progress::finish`].
    pub fn start(title: &str, spinner: bool) -> Progress {
        let progress = Progress {
            shared: Arc::new(Shared {
                started: Instant::now(),
                spinner,
                state: Mutex::new(State {
                    current: title.to_string(),
                    ..State::default()
                }),
            }),
        };
        if spinner {
            let ticking = progress.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(SPIN_INTERVAL).await;
                    if !ticking.redraw() {
                        break;
                    }
                }
            });
        } else {
            progress.line(title);
        }
        progress
    }

    /// Records the current state (the finisher's waiting reason).
    pub fn update(&self, reason: &str) {
        let changed = {
            let mut state = self.lock();
            let changed = state.current != reason;
            state.current = reason.to_string();
            changed
        };
        if changed && !self.shared.spinner {
            self.line(reason);
        }
    }

    /// Stops the spinner and leaves a last line with the total time (unless the last
    /// line already says the same).
    pub fn finish(&self, last_words: &str) {
        let (was_stopped, already_said) = {
            let mut state = self.lock();
            let already_said = !self.shared.spinner && state.current == last_words;
            (std::mem::replace(&mut state.stopped, true), already_said)
        };
        if was_stopped || already_said {
            return;
        }
        if self.shared.spinner {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "\r\x1b[2K");
            let _ = stderr.flush();
        }
        self.line(last_words);
    }

    fn elapsed(&self) -> String {
        elapsed_text(self.shared.started.elapsed())
    }

    fn line(&self, text: &str) {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "[{:>6}] {text}", self.elapsed());
    }

    /// Draws the next spinner frame; `false` once stopped.
    fn redraw(&self) -> bool {
        let (frame, current) = {
            let mut state = self.lock();
            if state.stopped {
                return false;
            }
            state.frame = (state.frame + 1) % SPINNER_FRAMES.len();
            (SPINNER_FRAMES[state.frame], state.current.clone())
        };
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\r\x1b[2K{frame} {:>6}  {current}", self.elapsed());
        let _ = stderr.flush();
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// `7s`, `2m05s`, `1h02m`.
pub fn elapsed_text(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs();
    match (seconds / 3600, seconds % 3600 / 60, seconds % 60) {
        (0, 0, seconds) => format!("{seconds}s"),
        (0, minutes, seconds) => format!("{minutes}m{seconds:02}s"),
        (hours, minutes, _) => format!("{hours}h{minutes:02}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_time_reads_like_a_stopwatch() {
        assert_eq!(elapsed_text(Duration::from_secs(7)), "7s");
        assert_eq!(elapsed_text(Duration::from_secs(125)), "2m05s");
        assert_eq!(elapsed_text(Duration::from_secs(3720)), "1h02m");
    }
}
