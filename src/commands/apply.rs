//! `ramstate apply [FILE|SAVED_PLAN]`: load the plan (or verify a saved one), pin the
//! account, confirm, execute, check that the account converged, render.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use miette::{IntoDiagnostic, Result, miette};

use crate::apply::{self, step};
use crate::cli::{ApplyArgs, PlanFormat, ReportFormat};
use crate::config::DesiredState;
use crate::model::{Caller, Inventory, Kind};
use crate::plan::{Address, Plan};
use crate::render::ApplyOutcome;
use crate::settings::Settings;

use super::diff::{check_account, read_desired, render};
use super::progress::ApplyProgress;
use super::saved::{self, SavedPlan};
use super::{Connection, Outcome, use_color};

pub async fn run(settings: &Settings, args: &ApplyArgs) -> Result<Outcome> {
    let path = args
        .file
        .clone()
        .unwrap_or_else(|| settings.default_desired_file.clone());
    let text = read_desired(&path)?;
    let saved_plan = saved::read_if_saved(&text, &path)?;
    let (desired_text, source) = match &saved_plan {
        Some(s) => (s.desired_text.clone(), s.desired_source.clone()),
        None => (text, path.display().to_string()),
    };
    let desired = crate::config::parse(&desired_text, &source)?;
    // A saved plan is checked against a plan made at its own time (its deactivation
    // records carry that time); the final check plans at that time too, so that users
    // deactivated by this run read as just deactivated.
    let desired = match saved_plan.as_ref().and_then(SavedPlan::planned_at) {
        Some(at) => super::diff::planned_at(desired, at, args.ignore_idle_guard),
        None => super::diff::planned_now(desired, args.ignore_idle_guard),
    };

    let wanted = args
        .account_id
        .clone()
        .or_else(|| desired.account_id.clone())
        .or_else(|| saved_plan.as_ref().map(|s| s.account_id.clone()))
        .ok_or_else(|| {
            miette!(
                help = "add `account: { id: \"<16-digit id>\" }` to the file, or pass --account-id",
                "apply needs to know which account it is meant for"
            )
        })?;

    let conn = Connection::open(settings).await?;
    check_account(&desired, Some(&wanted), &conn.caller)?;
    let kinds = crate::plan::fetch_kinds(&desired.kinds_in_play());
    let inventory = super::diff::fetch_for(&conn, &desired).await?;
    let plan = crate::plan::diff(&desired, &inventory, &conn.caller);
    if let Some(saved) = &saved_plan {
        verify_saved(saved, &plan, &inventory, &conn.caller)?;
    }
    // Checked before asking, so nothing is approved that cannot run. The graph keeps the
    // plan: one copy of every step, however large the account.
    let graph = crate::graph::build_from(plan)?;
    let plan = graph.plan();

    review(plan, settings, args.output)?;
    refuse_missed_keeps(plan, args.allow_unmatched_keep)?;
    if plan.is_empty() {
        let report = apply::ApplyReport::default();
        show(
            &ApplyOutcome::new(plan, &graph, &report, Some(plan)),
            args.output,
        )?;
        return Ok(Outcome::Clean);
    }
    // Initial passwords come from the environment the file names; all are checked
    // before anything is asked or changed.
    let passwords = initial_passwords(plan, settings)?;
    // What the plan deletes is written down before anything is asked or changed.
    super::backup::write_before_delete(settings, args.backup_dir.as_deref(), plan, &inventory)?;
    if !args.auto_approve && !confirm(&conn.caller.account_id)? {
        eprintln!(
            "Apply cancelled: no account ID {} was typed; nothing was changed. (To apply without a prompt, as in CI, pass --auto-approve.)",
            conn.caller.account_id
        );
        return Ok(Outcome::Incomplete);
    }

    let (report, cancel) = walk(&conn, settings, &graph, inventory, passwords).await;
    super::tasks::remember(
        settings.cache_dir.as_deref(),
        &conn.caller.account_id,
        report.deletion_tasks.clone(),
    );

    let remaining = if report.interrupted {
        None
    } else {
        let done = report.done(&graph);
        let deactivated = crate::plan::offboard::deactivated_by(&plan.changes, &done);
        converge(&conn, &desired, &kinds, &done, &cancel)
            .await?
            .map(|left| crate::plan::offboard::without_next_phase(left, &deactivated))
    };
    let outcome = ApplyOutcome::new(plan, &graph, &report, remaining.as_ref());
    show(&outcome, args.output)?;
    if remaining.is_none() {
        super::status::say("Run `ramstate diff` to see what is left.");
    }
    Ok(if outcome.converged() {
        Outcome::Clean
    } else {
        Outcome::Incomplete
    })
}

/// A keep rule that matches nothing while the plan deletes what it most likely meant is
/// a typo about to delete what the file wanted kept: refused before anything is asked or
/// changed, unless the caller says the plan is right.
fn refuse_missed_keeps(plan: &Plan, allowed: bool) -> Result<()> {
    match crate::render::missed_keeps_message(plan) {
        Some(message) if !allowed => Err(miette!(
            help = "fix the keep rules (their lines are named above), or pass --allow-unmatched-keep to apply the plan as it is",
            "refusing to apply: {message}\nnothing was changed"
        )),
        Some(message) => {
            eprintln!("warning: {message}\napplying anyway (--allow-unmatched-keep)");
            Ok(())
        }
        None => Ok(()),
    }
}

/// A saved plan applies only when it is still what this caller would plan now: for the
/// same account, made from this very inventory, with the same steps.
fn verify_saved(
    saved: &SavedPlan,
    fresh: &Plan,
    inventory: &Inventory,
    caller: &Caller,
) -> Result<()> {
    if saved.account_id != caller.account_id {
        return Err(miette!(
            "refusing to apply: the saved plan is for account {}, the credentials belong to {}",
            saved.account_id,
            caller.account_id
        ));
    }
    if saved.inventory_fingerprint() != Some(crate::plan::fingerprint(inventory).as_str()) {
        return Err(miette!(
            help = "make a new plan with `ramstate diff FILE --out PLAN` and review it",
            "refusing to apply a stale plan: the account changed since the plan was made"
        ));
    }
    // The saved steps must be what this caller, with this desired state, would plan:
    // a plan made by someone else (or edited) could take away this caller's access.
    let steps = serde_json::to_value(&fresh.changes).into_diagnostic()?;
    if saved.plan.get("changes") != Some(&steps) {
        return Err(miette!(
            help = "make the plan with the credentials that will apply it: `ramstate diff FILE --out PLAN`",
            "refusing to apply: the saved plan differs from what these credentials would plan for its desired state (made by another caller, or edited)"
        ));
    }
    Ok(())
}

/// The plan to review: on stdout as text; with `-o json` on stderr, so that stdout holds
/// one JSON document, the outcome.
pub(super) fn review(plan: &Plan, settings: &Settings, format: ReportFormat) -> Result<()> {
    if format == ReportFormat::Json {
        let color = use_color(settings.color, std::io::stderr().is_terminal());
        return render(plan, PlanFormat::Text, color, &mut std::io::stderr().lock());
    }
    let color = use_color(settings.color, std::io::stdout().is_terminal());
    let mut out = super::status::stdout();
    render(plan, PlanFormat::Text, color, &mut out)?;
    out.flush().into_diagnostic()
}

/// Walks `graph` with the caller protected and progress shown, after the approval (apply
/// and restore alike); `inventory` is let go before the walk. Returns the report and the
/// interrupt flag the walk watched.
pub(super) async fn walk(
    conn: &Connection,
    settings: &Settings,
    graph: &crate::graph::ApplyGraph,
    inventory: Inventory,
    passwords: BTreeMap<String, String>,
) -> (apply::ApplyReport, Arc<AtomicBool>) {
    let cancel = watch_for_interrupts();
    let options = apply::Options {
        parallelism: settings.parallelism,
        // Defence in depth: the plan never targets the caller, and the walk refuses it anyway.
        protection: crate::plan::protection(&inventory, &conn.caller),
    };
    drop(inventory);
    let runner = step::ClientRunner {
        client: &conn.client,
        policy: step::StepPolicy::default(),
        passwords,
    };
    let progress = ApplyProgress::new(graph);
    let report = apply::execute(graph, &runner, &options, &cancel, &progress).await;
    progress.finish();
    (report, cancel)
}

/// Ctrl-C stops the walk from starting new steps; a second one quits at once.
pub(super) fn watch_for_interrupts() -> Arc<AtomicBool> {
    let cancel = Arc::new(AtomicBool::new(false));
    // Detached: it watches until the process exits after the command.
    let flag = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            flag.store(true, Ordering::SeqCst);
            eprintln!(
                "\nInterrupted: letting the calls in flight finish, starting no new ones. Press Ctrl-C again to quit at once."
            );
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "Interrupted again: quitting; calls in flight may or may not have happened."
                );
                std::process::exit(130);
            }
        }
    });
    cancel
}

/// Re-fetch what the file manages and plan again: what is left. RAM is eventually
/// consistent, so when a step we saw succeed still shows as pending, read again a few
/// times before concluding. `None` when interrupted meanwhile.
async fn converge(
    conn: &Connection,
    desired: &DesiredState,
    kinds: &BTreeSet<Kind>,
    done: &BTreeSet<&Address>,
    cancel: &AtomicBool,
) -> Result<Option<Plan>> {
    let mut remaining = crate::plan::diff(desired, &conn.fetch(kinds).await?, &conn.caller);
    let mut wait = Duration::from_secs(1);
    for _ in 0..3 {
        if !remaining.changes.iter().any(|c| done.contains(&c.address)) {
            break;
        }
        if cancel.load(Ordering::SeqCst) {
            eprintln!("Interrupted during the final check.");
            return Ok(None);
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
        remaining = crate::plan::diff(desired, &conn.fetch(kinds).await?, &conn.caller);
    }
    Ok(Some(remaining))
}

/// The apply's result on stdout (text or JSON). In text, how each failed, refused or
/// unrun step ended goes to stderr with the progress lines.
pub(super) fn show(outcome: &ApplyOutcome<'_>, format: ReportFormat) -> Result<()> {
    let mut out = super::status::stdout();
    match format {
        ReportFormat::Json => crate::render::apply_json(outcome, &mut out),
        ReportFormat::Text => {
            // The tally is status; under --quiet it is told only when a step did not succeed.
            let t = outcome.report.tally();
            let all_done = t.failed + t.refused + t.skipped + t.not_run == 0;
            let steps = if all_done && super::status::quiet() {
                Ok(())
            } else {
                crate::render::apply_steps_text(outcome, &mut std::io::stderr().lock())
            };
            steps.and_then(|_| crate::render::apply_result_text(outcome, &mut out))
        }
    }
    .into_diagnostic()?;
    out.flush().into_diagnostic()
}

/// The initial password of each login profile the plan creates, from the variable the
/// file names for it.
pub(super) fn initial_passwords(
    plan: &Plan,
    settings: &Settings,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for c in &plan.changes {
        if let crate::plan::Op::CreateLoginProfile {
            user, password_env, ..
        } = &c.op
        {
            let Some(p) = settings.env.get(password_env) else {
                return Err(miette!(
                    help = format!(
                        "set {password_env} to the initial console password of {user} (the user changes it at first logon when password_reset_required is true)"
                    ),
                    "refusing to apply: {c} creates user {user}'s console logon, and the environment variable {password_env} that holds its initial password is not set",
                    c = c.address
                ));
            };
            out.insert(password_env.clone(), p.to_string());
        }
    }
    Ok(out)
}

/// Ask for the account ID on the terminal (or standard input).
pub(super) fn confirm(account_id: &str) -> Result<bool> {
    eprint!(
        "\nramstate will make the changes above in account {account_id}.\nType the account ID to approve: "
    );
    std::io::stderr().flush().into_diagnostic()?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .into_diagnostic()?;
    Ok(line.trim() == account_id)
}
