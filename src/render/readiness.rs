//! Readiness reports as text, JSON and Markdown.

use std::io::{self, Write};

use super::plan::{md, md_text};
use super::{Paint, count};
use crate::readiness::Readiness;

/// Names listed per item before the rest is counted.
const SHOWN: usize = 20;

/// One line per checklist item, then what to do.
pub fn readiness_text(r: &Readiness, w: &mut dyn Write, color: bool) -> io::Result<()> {
    let p = Paint::new(color);
    writeln!(
        w,
        "{}",
        p.bold(&format!("Account {}: closure checklist", r.account_id))
    )?;
    let width = r.items.iter().map(|i| i.title.len()).max().unwrap_or(0);
    for item in &r.items {
        let title = format!("{:<width$}", item.title);
        if item.ready() {
            writeln!(w, "  {} {title}  ready", p.green("ok"))?;
            continue;
        }
        let names: Vec<String> = item
            .blocking
            .iter()
            .take(SHOWN)
            .map(|b| match &b.detail {
                Some(d) => format!("{} ({d})", b.name),
                None => b.name.clone(),
            })
            .collect();
        let more = item.blocking.len().saturating_sub(SHOWN);
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        writeln!(
            w,
            "  {} {title}  {} blocking: {}{tail}",
            p.red("!!"),
            item.blocking.len(),
            names.join(", ")
        )?;
        for b in &item.blocking {
            for u in &b.usages {
                writeln!(
                    w,
                    "       {} is used in {} by {}",
                    b.name,
                    u.region,
                    if u.resources.is_empty() {
                        "unnamed resources".to_string()
                    } else {
                        u.resources.join(", ")
                    }
                )?;
            }
        }
    }
    writeln!(w)?;
    if r.ready() {
        writeln!(
            w,
            "{}",
            p.bold("Ready: nothing in RAM blocks closing this account.")
        )?;
    } else {
        let items = r.items.iter().filter(|i| !i.ready()).count();
        writeln!(
            w,
            "{}",
            p.bold(&format!(
                "Not ready: {} block{} closing ({}).",
                count(items, "item"),
                if items == 1 { "s" } else { "" },
                count(r.blocker_count(), "blocker")
            ))
        )?;
        // Everything but a service-linked role still in use can go in one apply.
        if r.items
            .iter()
            .any(|i| i.blocking.iter().any(|b| b.usages.is_empty()))
        {
            writeln!(
                w,
                "`ramstate apply` with a file that manages these kinds removes them (examples/empty-account.yaml manages every kind)."
            )?;
        }
        if r.items
            .iter()
            .any(|i| i.blocking.iter().any(|b| !b.usages.is_empty()))
        {
            writeln!(
                w,
                "A service-linked role in use can only be deleted once the resources listed above are released or deleted in their regions."
            )?;
        }
    }
    Ok(())
}

/// The readiness report as JSON, newline-terminated.
pub fn readiness_json(r: &Readiness, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, r)?;
    writeln!(w)
}

/// The readiness report as a Markdown table, for a pull request or an issue.
pub fn readiness_markdown(r: &Readiness, w: &mut dyn Write) -> io::Result<()> {
    writeln!(
        w,
        "### Account {}: closure checklist\n",
        md_text(&r.account_id)
    )?;
    writeln!(w, "| Item | Status | Blocking |")?;
    writeln!(w, "|---|---|---|")?;
    for item in &r.items {
        if item.ready() {
            writeln!(w, "| {} | ready | |", md_text(&item.title))?;
            continue;
        }
        let mut names: Vec<String> = item
            .blocking
            .iter()
            .map(|b| {
                let mut cell = format!("`{}`", md(&b.name));
                if let Some(d) = &b.detail {
                    cell.push_str(&format!(" ({})", md_text(d)));
                }
                for u in &b.usages {
                    cell.push_str(&format!(
                        "<br>used in {} by {}",
                        md_text(&u.region),
                        md_text(&u.resources.join(", "))
                    ));
                }
                cell
            })
            .collect();
        if names.len() > SHOWN {
            let more = names.len() - SHOWN;
            names.truncate(SHOWN);
            names.push(format!("and {more} more"));
        }
        writeln!(
            w,
            "| {} | **{} blocking** | {} |",
            md_text(&item.title),
            item.blocking.len(),
            names.join(", ")
        )?;
    }
    writeln!(w)?;
    if r.ready() {
        writeln!(w, "**Ready:** nothing in RAM blocks closing this account.")
    } else {
        let items = r.items.iter().filter(|i| !i.ready()).count();
        writeln!(
            w,
            "**Not ready:** {} block{} closing ({}).",
            count(items, "item"),
            if items == 1 { "s" } else { "" },
            count(r.blocker_count(), "blocker")
        )
    }
}
