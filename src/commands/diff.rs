//! `ramstate diff FILE` (alias `plan`): what stands between the account and the desired
//! state. Never mutates.

use std::io::{IsTerminal, Write};

use miette::{IntoDiagnostic, Result, miette};

use crate::cli::{DiffArgs, PlanFormat};
use crate::config::DesiredState;
use crate::model::{Caller, Inventory};
use crate::plan::Plan;
use crate::settings::Settings;

use super::saved::{self, SavedPlan};
use super::{Connection, Outcome, use_color};

pub async fn run(settings: &Settings, args: &DiffArgs) -> Result<Outcome> {
    if args.graph && args.output != PlanFormat::Markdown {
        return Err(miette!(
            help = "use `ramstate graph FILE` for the graph alone",
            "--graph embeds the apply order in `-o markdown` only"
        ));
    }
    let text = read_desired(&args.file)?;
    let desired = crate::config::parse(&text, &args.file.display().to_string())?;
    let desired = planned_now(desired, args.ignore_idle_guard);
    let conn = Connection::open(settings).await?;
    check_account(&desired, None, &conn.caller)?;
    let inventory = fetch_for(&conn, &desired).await?;
    let plan = crate::plan::diff(&desired, &inventory, &conn.caller);

    let mut out = super::status::stdout();
    let color = use_color(settings.color, std::io::stdout().is_terminal());
    render(&plan, args.output, color, &mut out)?;
    if args.graph {
        super::graph::markdown_section(&plan, &mut out)?;
    }
    out.flush().into_diagnostic()?;

    if let Some(path) = &args.out {
        saved::write(
            path,
            &saved_plan(&plan, &inventory, &args.file.display().to_string(), text)?,
        )?;
        super::status::say(format_args!(
            "Saved the plan to {}; apply it with `ramstate apply {}`.",
            path.display(),
            path.display()
        ));
    }
    if let Some(message) = crate::render::missed_keeps_message(&plan) {
        if args.detailed_exitcode && !args.allow_unmatched_keep {
            return Err(miette!(
                help = "fix the keep rules (their lines are named above), or pass --allow-unmatched-keep if the plan is right",
                "{message}\n`ramstate apply` would refuse this plan"
            ));
        }
        if !args.allow_unmatched_keep {
            eprintln!(
                "warning: {message}\n`ramstate apply` refuses this plan unless --allow-unmatched-keep"
            );
        }
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() {
        Outcome::Pending
    } else {
        Outcome::Clean
    })
}

/// The inventory a plan of `desired` needs, with what the file declares checked against
/// it (members, groups and policies it names must exist or be declared).
pub async fn fetch_for(conn: &Connection, desired: &DesiredState) -> Result<Inventory> {
    fetch_checked(
        conn,
        desired,
        &crate::plan::fetch_kinds(&desired.kinds_in_play()),
    )
    .await
}

/// The inventory of `kinds`, with what `desired` declares checked against it.
pub async fn fetch_checked(
    conn: &Connection,
    desired: &DesiredState,
    kinds: &std::collections::BTreeSet<crate::model::Kind>,
) -> Result<Inventory> {
    let inventory = conn.fetch(kinds).await?;
    let system = if desired.declares_system_policies() {
        Some(
            crate::inventory::system_policy_names(&conn.client)
                .await
                .into_diagnostic()?,
        )
    } else {
        None
    };
    desired.check_references(&crate::config::Known {
        inventory: &inventory,
        system_policies: system.as_ref(),
    })?;
    Ok(inventory)
}

pub fn saved_plan(
    plan: &Plan,
    inventory: &Inventory,
    source: &str,
    text: String,
) -> Result<SavedPlan> {
    Ok(SavedPlan {
        ramstate_saved_plan: saved::SAVED_PLAN_FORMAT,
        account_id: inventory.account.id.clone(),
        desired_source: source.to_string(),
        desired_text: text,
        plan: serde_json::to_value(plan).into_diagnostic()?,
    })
}

pub fn render(plan: &Plan, format: PlanFormat, color: bool, out: &mut dyn Write) -> Result<()> {
    match format {
        PlanFormat::Text => crate::render::plan_text(plan, out, color),
        PlanFormat::Json => crate::render::plan_json(plan, out),
        PlanFormat::Markdown => crate::render::plan_markdown(plan, out),
    }
    .into_diagnostic()
}

/// The desired state planned at the clock's time: the one place a plan's "now" comes from.
pub fn planned_now(desired: DesiredState, ignore_idle_guard: bool) -> DesiredState {
    planned_at(desired, time::OffsetDateTime::now_utc(), ignore_idle_guard)
}

/// The desired state planned at `now`.
pub fn planned_at(
    mut desired: DesiredState,
    now: time::OffsetDateTime,
    ignore_idle_guard: bool,
) -> DesiredState {
    desired.now = Some(now);
    desired.ignore_idle_guard = ignore_idle_guard;
    desired
}

pub fn read_desired(path: &std::path::Path) -> Result<String> {
    Ok(crate::config::read(path)?)
}

/// Every account the run is pinned to (the file's `account.id`, `--account-id`) must be
/// the caller's.
pub fn check_account(desired: &DesiredState, flag: Option<&str>, caller: &Caller) -> Result<()> {
    let pins = [
        ("the file is for account", desired.account_id.as_deref()),
        ("--account-id names account", flag),
    ];
    for (what, id) in pins {
        if let Some(id) = id.filter(|id| *id != caller.account_id) {
            return Err(miette!(
                help = "check the credentials or profile in use, `account.id` in the file and --account-id",
                "refusing to run: {what} {id}, but the credentials belong to account {} ({})",
                caller.account_id,
                caller.arn
            ));
        }
    }
    Ok(())
}
