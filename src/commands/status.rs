//! Status lines on stderr (what a command did besides its result: a saved plan, a hint,
//! each finished apply step), silenced by `--quiet`. Results go to stdout, errors and
//! prompts to stderr, whatever `--quiet` says.

use std::sync::atomic::{AtomicBool, Ordering};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Set once, from `--quiet`, before the command runs.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// One status line on stderr, unless `--quiet`.
pub fn say(line: impl std::fmt::Display) {
    if !quiet() {
        eprintln!("{line}");
    }
}
