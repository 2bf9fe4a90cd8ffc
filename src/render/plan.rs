//! Plans as text (Terraform-like), JSON and Markdown.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::{Paint, and_list, count};
use crate::model::Kind;
use crate::plan::{Action, Change, Held, Plan, Summary};

/// The plain words at the top of every plan: what is managed and what that means.
pub fn header(plan: &Plan) -> Vec<String> {
    let mut lines = vec![format!("Plan for account {}.", plan.account_id)];
    let collections: Vec<&str> = plan
        .managed
        .iter()
        .filter(|k| !k.is_setting())
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
            "the default domain is reset to {}",
            crate::model::initial_domain(&plan.account_id)
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
    if plan.is_empty() && !plan.held.is_empty() {
        let n = plan.held.len();
        return format!("No changes now; {n} held, not removed yet (see Held).");
    }
    if plan.is_empty() {
        if plan.protected.is_empty() {
            return "No changes. The account matches the desired state.".to_string();
        }
        // What is protected would be removed by anyone else: saying "matches" would be wrong.
        let n = plan.protected.len();
        let what = if n == 1 {
            "1 protected entity".to_string()
        } else {
            format!("{n} protected entities")
        };
        return format!(
            "No changes. The account matches the desired state except for {what} that ramstate never removes (the caller's own identity)."
        );
    }
    let Summary {
        add,
        change,
        destroy,
        held,
    } = plan.summary();
    if held > 0 {
        return format!(
            "Plan: {add} to add, {change} to change, {destroy} to destroy, {held} held."
        );
    }
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
        .as_deref()
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let after = c
        .after
        .as_deref()
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
            if a == b {
                continue;
            }
            match (before.get(k), after.get(k)) {
                // Documents: a line diff of their normalised JSON.
                (
                    b @ (Some(Value::Object(_)) | Some(Value::Null) | None),
                    Some(a @ Value::Object(_)),
                ) if is_document(k) => {
                    out.push(format!("{k}:"));
                    out.extend(document_diff(b.unwrap_or(&Value::Null), a));
                }
                _ => out.push(format!("{k}: {b} -> {a}")),
            }
        }
    } else {
        for (k, v) in before {
            out.push(format!("{k} = {}", value_text(v)));
        }
    }
    out
}

fn is_document(key: &str) -> bool {
    matches!(key, "document" | "trust_policy")
}

/// `- ` and `+ ` lines where two documents differ, `  ` lines around them.
fn document_diff(before: &Value, after: &Value) -> Vec<String> {
    let pretty = |v: &Value| match v {
        Value::Null => String::new(),
        v => serde_json::to_string_pretty(v).expect("JSON values serialise") + "\n",
    };
    let (a, b) = (pretty(before), pretty(after));
    let diff = similar::TextDiff::from_lines(&a, &b);
    let mut out = Vec::new();
    for group in diff.grouped_ops(2) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => "- ",
                    similar::ChangeTag::Insert => "+ ",
                    similar::ChangeTag::Equal => "  ",
                };
                out.push(format!("  {sign}{}", change.value().trim_end_matches('\n')));
            }
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
    let mut current = None;
    for c in &plan.changes {
        if current != Some(c.resource()) {
            current = Some(c.resource());
            writeln!(w)?;
            writeln!(w, "  {}", p.bold(&format!("# {}", c.resource())))?;
        }
        let action = c.action();
        writeln!(w, "  {} {} {}", symbol(p, action), action.verb(), c.address)?;
        writeln!(w, "      {}", c.call())?;
        writeln!(w, "      {}", p.dim(&format!("why: {}", c.why())))?;
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
    if !plan.held.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            p.bold(&format!(
                "Held (not kept, not removed yet) ({}):",
                plan.held.len()
            ))
        )?;
        for h in &plan.held {
            writeln!(w, "  ~ {}: {}", h.address, h.reason)?;
            for line in held_dates(h) {
                writeln!(w, "      {line}")?;
            }
        }
    }
    if !plan.kept.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", p.bold(&format!("Kept ({}):", plan.kept.len())))?;
        for k in &plan.kept {
            writeln!(w, "  = {}: {}", k.address, k.rule)?;
        }
    }
    let warned: Vec<&String> = plan
        .unmatched_rules
        .iter()
        .filter(|r| !plan.missed_keeps.iter().any(|m| r.starts_with(&m.rule)))
        .collect();
    if !warned.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "{}",
            p.yellow("Warning: these keep rules match nothing (a typo here removes what the rule meant to keep):")
        )?;
        for r in warned {
            writeln!(w, "  ? {r}")?;
        }
    }
    missed_keeps_text(plan, w, p)?;
    writeln!(w)?;
    writeln!(w, "{}", p.bold(&summary_line(plan)))?;
    Ok(())
}

/// The keep rules that match nothing while the plan deletes what they meant: the last
/// thing before the summary, so it is what a reader sees.
fn missed_keeps_text(plan: &Plan, w: &mut dyn Write, p: Paint) -> io::Result<()> {
    if plan.missed_keeps.is_empty() {
        return Ok(());
    }
    writeln!(w)?;
    writeln!(
        w,
        "{}",
        p.red(&p.bold(
            "Error: these keep rules match nothing, and the plan deletes what they most likely meant to keep:"
        ))
    )?;
    for m in &plan.missed_keeps {
        writeln!(w, "  ! {m}")?;
    }
    writeln!(
        w,
        "  `ramstate apply` refuses this plan: fix the rules, or pass --allow-unmatched-keep to apply it as it is."
    )
}

/// The refusal `apply` (and `diff --detailed-exitcode`) ends with when keep rules match
/// nothing while the plan deletes what they meant: each rule, its line and the entity.
pub fn missed_keeps_message(plan: &Plan) -> Option<String> {
    if plan.missed_keeps.is_empty() {
        return None;
    }
    let list: Vec<String> = plan.missed_keeps.iter().map(|m| format!("  {m}")).collect();
    Some(format!(
        "{} keep rule{} match{} nothing while the plan deletes what {} most likely meant to keep:\n{}",
        plan.missed_keeps.len(),
        if plan.missed_keeps.len() == 1 {
            ""
        } else {
            "s"
        },
        if plan.missed_keeps.len() == 1 {
            "es"
        } else {
            ""
        },
        if plan.missed_keeps.len() == 1 {
            "it"
        } else {
            "they"
        },
        list.join("\n")
    ))
}

/// `deactivated_at = ...`, `deletable_after = ...`, `last_used = ...` of a held entity.
fn held_dates(h: &Held) -> Vec<String> {
    [
        ("deactivated_at", &h.deactivated_at),
        ("deletable_after", &h.deletable_after),
        ("last_used", &h.last_used),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k} = {v}")))
    .collect()
}

/// A plan with its summary, as its JSON form shows it.
#[derive(Serialize)]
pub(super) struct PlanWithSummary<'a> {
    #[serde(flatten)]
    plan: &'a Plan,
    summary: Summary,
}

impl<'a> PlanWithSummary<'a> {
    pub(super) fn new(plan: &'a Plan) -> Self {
        PlanWithSummary {
            plan,
            summary: plan.summary(),
        }
    }
}

/// The plan as JSON (the `Plan` value plus its summary), newline-terminated.
pub fn plan_json(plan: &Plan, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, &PlanWithSummary::new(plan))?;
    writeln!(w)
}

/// Text inside a code span of a table cell: only `|` (GFM splits cells on it even there)
/// and line breaks need care.
pub(super) fn md(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Plain Markdown text: characters that would start emphasis, links, HTML or code are
/// escaped, so a rule like `glob *-admin*` reads as written. An underscore inside a word
/// (`virtual_mfa_devices`) never starts emphasis and stays as it is.
pub(super) fn md_text(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let in_word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            '_' if in_word(i.checked_sub(1)) && in_word(Some(i + 1)) => out.push(c),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// The plan as a pull-request comment.
pub fn plan_markdown(plan: &Plan, w: &mut dyn Write) -> io::Result<()> {
    let head = header(plan);
    writeln!(w, "### {}", head[0].trim_end_matches('.'))?;
    writeln!(w)?;
    for line in &head[1..] {
        writeln!(w, "{}", md_text(line))?;
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
                c.action().symbol(),
                md(&c.address.to_string()),
                md(&c.call().to_string()),
                md_text(&c.why().to_string())
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
            writeln!(
                w,
                "- `{}`: {}",
                md(&x.address.to_string()),
                md_text(&x.reason)
            )?;
        }
    }
    if !plan.missed_keeps.is_empty() {
        writeln!(w)?;
        writeln!(
            w,
            "> **Error:** these keep rules match nothing, and the plan deletes what they most likely meant to keep (`ramstate apply` refuses it unless `--allow-unmatched-keep`):"
        )?;
        for m in &plan.missed_keeps {
            writeln!(w, "> - {}", md_text(&m.to_string()))?;
        }
    }
    if !plan.held.is_empty() {
        writeln!(w)?;
        writeln!(w, "#### Held (not kept, not removed yet)")?;
        writeln!(w)?;
        for h in &plan.held {
            let dates = held_dates(h);
            let dates = if dates.is_empty() {
                String::new()
            } else {
                format!(" ({})", dates.join(", "))
            };
            writeln!(
                w,
                "- `{}`: {}{}",
                md(&h.address.to_string()),
                md_text(&h.reason),
                md_text(&dates)
            )?;
        }
    }
    if !plan.unmatched_rules.is_empty() {
        writeln!(w)?;
        writeln!(w, "> **Warning:** these keep rules match nothing:")?;
        for r in &plan.unmatched_rules {
            writeln!(w, "> - {}", md_text(r))?;
        }
    }
    if !plan.kept.is_empty() {
        writeln!(w)?;
        writeln!(w, "<details><summary>Kept ({})</summary>", plan.kept.len())?;
        writeln!(w)?;
        for k in &plan.kept {
            writeln!(
                w,
                "- `{}`: {}",
                md(&k.address.to_string()),
                md_text(&k.rule)
            )?;
        }
        writeln!(w)?;
        writeln!(w, "</details>")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Kept, Op, Protected, Reason, Resource};

    fn plan(changes: Vec<Change>, protected: Vec<Protected>, kept: Vec<Kept>) -> Plan {
        Plan {
            format_version: crate::plan::FORMAT_VERSION,
            account_id: "5123456789012345".into(),
            managed: vec![Kind::Users],
            changes,
            protected,
            kept,
            held: vec![],
            planned_at: None,
            unmatched_rules: vec!["keep.users: glob *-admin* (line 7)".into()],
            missed_keeps: vec![],
            inventory_fingerprint: None,
        }
    }

    fn delete_user(name: &str) -> Change {
        Change {
            address: Resource::User(name.into()).address(),
            op: Op::DeleteUser {
                name: name.into(),
                id: Default::default(),
            },
            reason: Reason::NotKept(Kind::Users),
            before: None,
            after: None,
            decided_by: None,
        }
    }

    fn caller() -> Vec<Protected> {
        vec![
            Protected {
                address: "group.admins".parse().unwrap(),
                reason: "the caller's user ops is a member".into(),
            },
            Protected {
                address: "user.ops".parse().unwrap(),
                reason: "the caller's own user: ramstate runs as it".into(),
            },
        ]
    }

    #[test]
    fn no_changes_with_protected_entities_does_not_claim_the_account_matches() {
        let line = summary_line(&plan(vec![], caller(), vec![]));
        assert_eq!(
            line,
            "No changes. The account matches the desired state except for 2 protected entities that ramstate never removes (the caller's own identity)."
        );
        let one = summary_line(&plan(vec![], caller()[1..].to_vec(), vec![]));
        assert!(one.contains("except for 1 protected entity that"), "{one}");
        assert_eq!(
            summary_line(&plan(vec![], vec![], vec![])),
            "No changes. The account matches the desired state."
        );
    }

    #[test]
    fn markdown_escapes_rule_text_so_globs_do_not_turn_into_emphasis() {
        let kept = vec![Kept {
            address: "user.ci_bot".parse().unwrap(),
            rule: "keep.users: glob *_bot* (line 5)".into(),
            line: Some(5),
        }];
        let mut out = Vec::new();
        plan_markdown(&plan(vec![delete_user("bob")], caller(), kept), &mut out).unwrap();
        let md = String::from_utf8(out).unwrap();
        assert!(
            md.contains("- `user.ci_bot`: keep.users: glob \\*\\_bot\\* (line 5)"),
            "{md}"
        );
        assert!(
            md.contains("> - keep.users: glob \\*-admin\\* (line 7)"),
            "{md}"
        );
        assert!(
            md.contains("| `-` | `user.bob` | `DeleteUser UserName=bob` | users are managed and no keep rule matches |"),
            "{md}"
        );
        assert!(
            md.contains("- `user.ops`: the caller's own user: ramstate runs as it"),
            "{md}"
        );
    }

    #[test]
    fn a_missed_keep_is_an_error_block_before_the_summary_and_not_repeated_as_a_warning() {
        let mut pl = plan(vec![delete_user("ci-bot")], vec![], vec![]);
        pl.unmatched_rules = vec![
            "keep.users: name Ci-bot (line 5); did you mean ci-bot?".into(),
            "keep.users: glob *-admin* (line 7)".into(),
        ];
        pl.missed_keeps = vec![crate::plan::MissedKeep {
            rule: "keep.users: name Ci-bot (line 5)".into(),
            line: Some(5),
            meant: "user.ci-bot".parse().unwrap(),
        }];
        let mut out = Vec::new();
        plan_text(&pl, &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        let error = text
            .find("Error: these keep rules match nothing")
            .expect(&text);
        assert!(error < text.find("Plan: ").unwrap(), "{text}");
        assert!(text.contains("  ! keep.users: name Ci-bot (line 5) matches nothing, and the plan deletes user.ci-bot, which it most likely meant\n"), "{text}");
        assert!(
            text.contains("  ? keep.users: glob *-admin* (line 7)\n"),
            "{text}"
        );
        assert!(!text.contains("  ? keep.users: name Ci-bot"), "{text}");
        let message = missed_keeps_message(&pl).unwrap();
        assert!(message.starts_with("1 keep rule matches nothing while the plan deletes what it most likely meant to keep:"), "{message}");
        let mut md = Vec::new();
        plan_markdown(&pl, &mut md).unwrap();
        assert!(String::from_utf8(md).unwrap().contains("> **Error:**"));
    }
}
