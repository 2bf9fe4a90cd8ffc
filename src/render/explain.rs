//! `explain` as text or JSON.

use std::io::{self, Write};

use super::Paint;
use crate::explain::{Explanation, StepRef, Verdict};

/// Version of the JSON form of an explanation.
pub const EXPLAIN_FORMAT_VERSION: u32 = 1;

pub fn explain_text(e: &Explanation, w: &mut dyn Write, color: bool) -> io::Result<()> {
    let p = Paint::new(color);
    let verdict = match e.verdict {
        Verdict::Kept => p.green("kept"),
        Verdict::Created => p.green("created"),
        Verdict::Declared => p.green("declared"),
        Verdict::Removed => p.red("removed"),
        Verdict::Changed => p.yellow("changed"),
        Verdict::Protected => p.yellow("protected"),
        Verdict::Held => p.yellow("held"),
        Verdict::NotManaged => p.dim("not managed"),
    };
    writeln!(w, "{}: {verdict}", p.bold(&e.address.to_string()))?;
    if let Some(d) = &e.decided_by {
        writeln!(w, "  decided by   {d}")?;
    }
    if let Some(reason) = &e.held {
        writeln!(w, "  held         {reason}")?;
    }
    if let Some(reason) = &e.protected {
        writeln!(w, "  protected    {reason}; it stays")?;
    }
    if let Some(reason) = &e.held {
        writeln!(w, "  held         {reason}")?;
    }
    for (i, r) in e.rules_tried.iter().enumerate() {
        let label = if i == 0 {
            "not matched "
        } else {
            "            "
        };
        writeln!(w, "  {label} {r}")?;
    }
    if e.verdict == Verdict::NotManaged {
        match e.kind {
            Some(kind) => writeln!(
                w,
                "  ramstate does not touch {} while the file does not manage {kind}.",
                e.address
            )?,
            None => writeln!(
                w,
                "  ramstate does not touch {} unless the file declares it.",
                e.address
            )?,
        }
        return Ok(());
    }
    steps(w, p, "steps", &e.steps, true)?;
    steps(w, p, "waits for", &e.waits_for, false)?;
    steps(w, p, "unblocks", &e.unblocks, false)?;
    Ok(())
}

fn steps(w: &mut dyn Write, p: Paint, label: &str, list: &[StepRef], why: bool) -> io::Result<()> {
    if list.is_empty() {
        return writeln!(w, "  {label:<12} {}", p.dim("nothing"));
    }
    for (i, s) in list.iter().enumerate() {
        let l = if i == 0 { label } else { "" };
        writeln!(w, "  {l:<12} {} {}: {}", s.action, s.address, s.call)?;
        if why {
            writeln!(w, "  {:<12}   {}", "", p.dim(&format!("why: {}", s.reason)))?;
        }
    }
    Ok(())
}

pub fn explain_json(e: &Explanation, w: &mut dyn Write) -> io::Result<()> {
    let mut v = serde_json::to_value(e).map_err(io::Error::other)?;
    if let Some(m) = v.as_object_mut() {
        m.insert("format_version".into(), EXPLAIN_FORMAT_VERSION.into());
    }
    serde_json::to_writer_pretty(&mut *w, &v).map_err(io::Error::other)?;
    writeln!(w)
}
