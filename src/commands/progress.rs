//! Progress on stderr: a spinner while fetching and a bar while applying (shown only when
//! stderr is a terminal, and not under `--quiet`), and one line per finished apply step
//! (under `--quiet`, only the steps that did not succeed).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::apply::executor::{Reporter, StepStatus};
use crate::graph::ApplyGraph;

fn bar(len: Option<u64>) -> ProgressBar {
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    if std::io::stderr().is_terminal() && !super::status::quiet() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

pub struct FetchProgress {
    bar: ProgressBar,
    items: AtomicUsize,
}

impl FetchProgress {
    pub fn new() -> Self {
        let bar = bar(None);
        bar.set_style(
            ProgressStyle::with_template("{spinner} fetching inventory: {msg}")
                .expect("static template"),
        );
        FetchProgress {
            bar,
            items: AtomicUsize::new(0),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl crate::inventory::Progress for FetchProgress {
    fn fetched(&self, what: &str, n: usize) {
        let total = self.items.fetch_add(n, Ordering::Relaxed) + n;
        self.bar.set_message(format!("{total} items ({what})"));
    }
}

/// Reports each apply step as it finishes, naming its API call.
pub struct ApplyProgress<'a> {
    steps: &'a ApplyGraph,
    bar: ProgressBar,
    finished: AtomicUsize,
}

impl<'a> ApplyProgress<'a> {
    pub fn new(steps: &'a ApplyGraph) -> Self {
        let bar = bar(Some(steps.len() as u64));
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} steps").expect("static template"),
        );
        ApplyProgress {
            steps,
            bar,
            finished: AtomicUsize::new(0),
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Reporter for ApplyProgress<'_> {
    fn finished(&self, step: usize, status: &StepStatus) {
        let n = self.finished.fetch_add(1, Ordering::Relaxed) + 1;
        let total = self.steps.len();
        let call = self.steps.step(step).call();
        let line = match status {
            StepStatus::Done => format!("[{n}/{total}] done     {call}"),
            StepStatus::AlreadyGone { code } => {
                format!("[{n}/{total}] done     {call} (already gone: {code})")
            }
            StepStatus::Failed { error } => format!("[{n}/{total}] FAILED   {call}: {error}"),
            StepStatus::Refused { why } => format!("[{n}/{total}] REFUSED  {call}: {why}"),
            StepStatus::Skipped { root } => format!(
                "[{n}/{total}] skipped  {call} (because {} failed)",
                self.steps.step(*root).address
            ),
            StepStatus::NotRun => format!("[{n}/{total}] not run  {call}"),
        };
        // Under --quiet only the steps that did not succeed are told.
        let ok = matches!(status, StepStatus::Done | StepStatus::AlreadyGone { .. });
        if !(ok && super::status::quiet()) {
            self.bar.suspend(|| eprintln!("{line}"));
        }
        self.bar.inc(1);
    }
}
