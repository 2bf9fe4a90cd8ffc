//! Plans as text (Terraform-like), JSON and Markdown.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::{Paint, and_list, count};
use crate::model::Kind;
use crate::plan::{Action, Change, Plan, Summary};

/// The plain words at the top of every plan: what is managed and what that means.
pub fn header(plan: &Plan) -> Vec<String> {
    let mut lines = vec![format!("Plan for account {}.", plan.account_id)];
    let collections: Vec<&str> = plan
        .managed
        .iter()
        .filter(|k| {
            !matches!(
                k,
                Kind::DefaultDomain | Kind::AccountAlias | Kind::RecycleBin
            )
        })
        .map(|k| k.as_str())
        .collect();
    if collections.is_empty() {
        lines.push("No collections are managed: no user, group, role or policy is removed.".into());
    } else {
        lines.push(format!(
            "Managing {}: everything of these kinds that is not kept is removed.",
            and_list(&collections)
        ));
    }
    let mut settings = Vec::new();
    if plan.managed.contains(&Kind::DefaultDomain) {
        settings.push(format!(
            "the default domain is reset to {}.onaliyun.com",
            plan.account_id
        ));
    }
    if plan.managed.contains(&Kind::AccountAlias) {
        settings.push("the account alias is cleared".to_string());
    }
    if plan.managed.contains(&Kind::RecycleBin) {
        settings.push("the recycle bin is purged for good".to_string());
    }
    if !settings.is_empty() {
        let s: Vec<&str> = settings.iter().map(String::as_str).collect();
        lines.push(format!("Also {}.", and_list(&s)));
    }
    lines
}

/// `Plan: 0 to add, 1 to change, 8 to destroy.` or the no-changes sentence.
pub fn summary_line(plan: &Plan) -> String {
    if plan.is_empty() {
        return "No changes. The account matches the desired state.".to_string();
    }
    let Summary {
        add,
        change,
        destroy,
    } = plan.summary();
    format!("Plan: {add} to add, {change} to change, {destroy} to destroy.")
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}

/// Field lines of a change: `key: old -> new` or `key = value`.
fn fields(c: &Change) -> Vec<String> {
    let empty = serde_json::Map::new();
    let before = c
        .before
        .as_ref()
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let after = c
        .after
        .as_ref()
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let mut out = Vec::new();
    if c.after.is_some() {
        let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
        keys.sort();
        keys.dedup();
        for k in keys {
            let b = before
                .get(k)
                .map(value_text)
                .unwrap_or_else(|| "(none)".into());
            let a = after
                .get(k)
                .map(value_text)
                .unwrap_or_else(|| "(none)".into());
            if a != b {
                out.push(format!("{k}: {b} -> {a}"));
            }
        }
    } else {
        for (k, v) in before {
            out.push(format!("{k} = {}", value_text(v)));
        }
    }
    out
}

fn symbol(p: Paint, a: Action) -> String {
    let s = a.symbol().to_string();
    match a.symbol() {
        '+' => p.green(&s),
        '-' => p.red(&s),
        _ => p.yellow(&s),
    }
}

/// The plan as people read it in a terminal.
pub fn plan_text(plan: &Plan, w: &mut dyn Write, color: bool) -> io::Result<()> {
    let p = Paint::new(color);
    for line in header(plan) {
        writeln!(w, "{}", p.bold(&line))?;
    }
    let mut current = "";
    for c in &plan.changes {
        if c.resource != current {
            current = &c.resource;
            writeln!(w)?;
            writeln!(w, "  {}", p.bold(&format!("# {current}")))?;
        }
        writeln!(
            w,
            "  {} {} {}",
            symbol(p, c.action),
            c.action.verb(),
            c.address
        )?;
        writeln!(w, "      {}", c.call)?;
        writeln!(w, "      {}", p.dim(&format!("why: {}", c.reason)))?;
        for f in fields(c) {
            writeln!(w, "      {f}")?;
        }
    }
    if !plan.protected.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            p.bold("Protected (the caller's identity and what it needs; never removed):")
        )?;
        for x in &plan.protected {
            writeln!(w, "  ! {}: {}", x.address, x.reason)?;
        }
    }
    if !plan.kept.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", p.bold(&format!("Kept ({}):", plan.kept.len())))?;
        for k in &plan.kept {
            writeln!(w, "  = {}: {}", k.address, k.rule)?;
        }
    }
    if !plan.unmatched_rules.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            p.yellow("Warning: these keep rules match nothing (a typo here removes what the rule meant to keep):")
        )?;
        for r in &plan.unmatched_rules {
            writeln!(w, "  ? {r}")?;
        }
    }
    writeln!(w)?;
    writeln!(w, "{}", p.bold(&summary_line(plan)))?;
    Ok(())
}

#[derive(Serialize)]
struct PlanWithSummary<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    summary: Summary,
}

/// The plan as JSON (the `Plan` value plus its summary), newline-terminated.
pub fn plan_json(plan: &Plan, w: &mut dyn Write) -> io::Result<()> {
    let v = PlanWithSummary {
        plan,
        summary: plan.summary(),
    };
    serde_json::to_writer_pretty(&mut *w, &v)?;
    writeln!(w)
}

fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The plan as a pull-request comment.
pub fn plan_markdown(plan: &Plan, w: &mut dyn Write) -> io::Result<()> {
    let head = header(plan);
    writeln!(w, "### {}", head[0].trim_end_matches('.'))?;
    writeln!(w)?;
    for line in &head[1..] {
        writeln!(w, "{line}")?;
    }
    writeln!(w)?;
    writeln!(w, "**{}**", summary_line(plan))?;
    let resources = plan.resources();
    if !resources.is_empty() {
        writeln!(w)?;
        writeln!(w, "| | Step | API call | Why |")?;
        writeln!(w, "|---|---|---|---|")?;
        for c in &plan.changes {
            writeln!(
                w,
                "| `{}` | `{}` | `{}` | {} |",
                c.action.symbol(),
                md(&c.address),
                md(&c.call.to_string()),
                md(&c.reason)
            )?;
        }
        writeln!(w)?;
        writeln!(
            w,
            "{} across {}.",
            count(plan.changes.len(), "step"),
            count(resources.len(), "resource")
        )?;
    }
    if !plan.protected.is_empty() {
        writeln!(w)?;
        writeln!(w, "#### Protected")?;
        writeln!(w)?;
        for x in &plan.protected {
            writeln!(w, "- `{}`: {}", md(&x.address), md(&x.reason))?;
        }
    }
    if !plan.unmatched_rules.is_empty() {
        writeln!(w)?;
        writeln!(w, "> **Warning:** these keep rules match nothing:")?;
        for r in &plan.unmatched_rules {
            writeln!(w, "> - `{}`", md(r))?;
        }
    }
    if !plan.kept.is_empty() {
        writeln!(w)?;
        writeln!(w, "<details><summary>Kept ({})</summary>", plan.kept.len())?;
        writeln!(w)?;
        for k in &plan.kept {
            writeln!(w, "- `{}`: {}", md(&k.address), md(&k.rule))?;
        }
        writeln!(w)?;
        writeln!(w, "</details>")?;
    }
    Ok(())
}
