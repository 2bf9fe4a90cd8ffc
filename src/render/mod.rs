//! Writers for plans, inventories and readiness reports, into any `Write`.
//!
//! Text reads the same with and without colour: colour only repeats what the
//! symbols and words already say.

mod apply;
mod explain;
mod graph;
mod inventory;
mod plan;
mod readiness;
mod recycle_bin;
mod restore;

pub use apply::{ApplyOutcome, apply_json, apply_result_text, apply_steps_text};
pub use explain::{explain_json, explain_text};
pub use graph::{COLLAPSE_ABOVE, GraphOptions, graph_dot, graph_mermaid};
pub use inventory::{inventory_text, inventory_text_styled};
pub use plan::{header, missed_keeps_message, plan_json, plan_markdown, plan_text, summary_line};
pub use readiness::{readiness_json, readiness_markdown, readiness_text};
pub use recycle_bin::{RecycleBinReport, recycle_bin_json, recycle_bin_report, recycle_bin_text};
pub use restore::restore_notes_text;

/// ANSI styling that disappears when colour is off.
#[derive(Clone, Copy)]
pub(crate) struct Paint {
    on: bool,
}

impl Paint {
    pub(crate) fn new(on: bool) -> Self {
        Paint { on }
    }
    fn wrap(self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
    pub(crate) fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub(crate) fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub(crate) fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
    pub(crate) fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub(crate) fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
}

/// `a, b and c`.
pub(crate) fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// `n thing` / `n things`.
pub(crate) fn count(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}
