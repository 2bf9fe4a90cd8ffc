//! What an apply did: the step tally and failures (text, on stderr with the progress
//! lines), the result line, and the whole outcome as one JSON document for CI.

use std::io::{self, Write};

use serde::Serialize;
use serde::ser::SerializeSeq;

use crate::apply::executor::StepStatus;
use crate::apply::{ApplyReport, Tally};
use crate::graph::ApplyGraph;
use crate::plan::{Address, Plan};

/// An apply's plan, graph, report and, unless interrupted, what the final check found left.
pub struct ApplyOutcome<'a> {
    pub plan: &'a Plan,
    pub graph: &'a ApplyGraph,
    pub report: &'a ApplyReport,
    /// The plan made after the apply; `None` when it was not made (interrupted).
    pub remaining: Option<&'a Plan>,
}

impl<'a> ApplyOutcome<'a> {
    pub fn new(
        plan: &'a Plan,
        graph: &'a ApplyGraph,
        report: &'a ApplyReport,
        remaining: Option<&'a Plan>,
    ) -> Self {
        ApplyOutcome {
            plan,
            graph,
            report,
            remaining,
        }
    }

    /// Every step done and nothing left to change.
    pub fn converged(&self) -> bool {
        !self.report.interrupted
            && self.report.all_done()
            && self.remaining.is_some_and(Plan::is_empty)
    }
}

/// The tally and each step that did not end well, with what it held up.
pub fn apply_steps_text(o: &ApplyOutcome<'_>, w: &mut dyn Write) -> io::Result<()> {
    let report = o.report;
    if report.statuses.is_empty() {
        return Ok(());
    }
    let Tally {
        done,
        failed,
        refused,
        skipped,
        not_run,
    } = report.tally();
    let refused = if refused > 0 {
        format!(", {refused} refused")
    } else {
        String::new()
    };
    writeln!(
        w,
        "\n{done} step(s) done, {failed} failed{refused}, {skipped} skipped because of a failure, {not_run} not run."
    )?;
    for (i, s) in report.statuses.iter().enumerate() {
        let (word, text) = match s {
            StepStatus::Failed { error } => ("failed", error),
            StepStatus::Refused { why } => ("refused", why),
            _ => continue,
        };
        let c = o.graph.step(i);
        writeln!(w, "  {word}: {} ({})\n    {text}", c.address, c.call())?;
        let blocked = report
            .statuses
            .iter()
            .filter(|t| matches!(t, StepStatus::Skipped { root } if *root == i))
            .count();
        if blocked > 0 {
            writeln!(w, "    {blocked} dependent step(s) were skipped")?;
        }
    }
    if report.interrupted {
        writeln!(w, "Interrupted before the end; not run:")?;
        for (i, s) in report.statuses.iter().enumerate() {
            if *s == StepStatus::NotRun {
                let c = o.graph.step(i);
                writeln!(w, "  {} ({})", c.address, c.call())?;
            }
        }
    }
    Ok(())
}

/// The last word: converged, or what is still pending.
pub fn apply_result_text(o: &ApplyOutcome<'_>, w: &mut dyn Write) -> io::Result<()> {
    if o.report.statuses.is_empty() {
        return Ok(());
    }
    let Some(remaining) = o.remaining else {
        return Ok(());
    };
    if o.converged() {
        return writeln!(w, "Apply complete. The account matches the desired state.");
    }
    if !remaining.is_empty() {
        writeln!(
            w,
            "\nThe account has not converged: {} change(s) still pending:",
            remaining.changes.len()
        )?;
        for c in &remaining.changes {
            writeln!(w, "  {} {}", c.address, c.call())?;
        }
    }
    Ok(())
}

/// Steps with how each ended, serialised without copying the graph.
struct Steps<'a>(&'a ApplyOutcome<'a>);

#[derive(Serialize)]
struct StepEntry<'a> {
    address: &'a Address,
    call: crate::model::ApiCall,
    #[serde(flatten)]
    status: &'a StepStatus,
}

impl Serialize for Steps<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let mut seq = s.serialize_seq(Some(o.report.statuses.len()))?;
        for (i, status) in o.report.statuses.iter().enumerate() {
            let c = o.graph.step(i);
            seq.serialize_element(&StepEntry {
                address: &c.address,
                call: c.call(),
                status,
            })?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    account_id: &'a str,
    converged: bool,
    interrupted: bool,
    tally: Tally,
    plan: super::plan::PlanWithSummary<'a>,
    steps: Steps<'a>,
    /// What the final check found still to change (`null` when it did not run).
    remaining: Option<super::plan::PlanWithSummary<'a>>,
}

/// The outcome as one JSON document, newline-terminated.
pub fn apply_json(o: &ApplyOutcome<'_>, w: &mut dyn Write) -> io::Result<()> {
    let doc = Document {
        format_version: crate::plan::FORMAT_VERSION,
        account_id: &o.plan.account_id,
        converged: o.converged() || (o.plan.is_empty() && o.remaining.is_some()),
        interrupted: o.report.interrupted,
        tally: o.report.tally(),
        plan: super::plan::PlanWithSummary::new(o.plan),
        steps: Steps(o),
        remaining: o.remaining.map(super::plan::PlanWithSummary::new),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}
