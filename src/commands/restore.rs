//! `ramstate restore BACKUP [--user NAME…]`: bring back what an apply deleted, from the
//! backup it wrote. Plan first (restores from the recycle bin, then the declared creates
//! and updates), then the same account pin, confirmation and walk as `apply`, and the same
//! check that the account converged: a second restore of the same backup plans nothing.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use miette::{IntoDiagnostic, Result, miette};

use crate::apply;
use crate::cli::RestoreArgs;
use crate::config::DesiredState;
use crate::model::{Inventory, Kind};
use crate::plan::{Address, Op, Plan, Restore};
use crate::render::ApplyOutcome;
use crate::settings::Settings;

use super::apply::{confirm, initial_passwords, review, show, walk};
use super::diff::{check_account, fetch_checked, read_desired};
use super::{Connection, Outcome};

/// What a restore reads: the entities a backup declares, and the recycle bin.
const KINDS: [Kind; 5] = [
    Kind::Users,
    Kind::Groups,
    Kind::Roles,
    Kind::Policies,
    Kind::RecycleBin,
];

pub async fn run(settings: &Settings, args: &RestoreArgs) -> Result<Outcome> {
    let source = args.backup.display().to_string();
    let text = read_desired(&args.backup)?;
    let desired = crate::config::parse(&text, &source)?;
    if desired.backup.is_none() {
        return Err(miette!(
            help = "a backup is what `ramstate apply` writes before it deletes (it prints `backup: PATH`)",
            "{source} is not a backup: it has no `backup:` section"
        ));
    }
    let wanted = args
        .account_id
        .clone()
        .or_else(|| desired.account_id.clone())
        .ok_or_else(|| {
            miette!(
                help =
                    "add `account: { id: \"<16-digit id>\" }` to the backup, or pass --account-id",
                "restore needs to know which account it is meant for"
            )
        })?;
    let conn = Connection::open(settings).await?;
    check_account(&desired, Some(&wanted), &conn.caller)?;
    let kinds: BTreeSet<Kind> = KINDS.into_iter().collect();
    let inventory = fetch_checked(&conn, &desired, &kinds).await?;
    let Restore { plan, notes } = planned(&desired, &inventory, &conn, settings, args)?;
    let graph = crate::graph::build_from(plan)?;
    let plan = graph.plan();

    review(plan, settings, args.output)?;
    crate::render::restore_notes_text(&notes, &mut std::io::stderr().lock()).into_diagnostic()?;
    if plan.is_empty() {
        let report = apply::ApplyReport::default();
        show(
            &ApplyOutcome::new(plan, &graph, &report, Some(plan)),
            args.output,
        )?;
        return Ok(Outcome::Clean);
    }
    let passwords = initial_passwords(plan, settings)?;
    if !args.auto_approve && !confirm(&conn.caller.account_id)? {
        eprintln!(
            "Restore cancelled: no account ID {} was typed; nothing was changed. (To restore without a prompt, pass --auto-approve.)",
            conn.caller.account_id
        );
        return Ok(Outcome::Incomplete);
    }

    let (report, cancel) = walk(&conn, settings, &graph, inventory, passwords).await;

    let remaining = if report.interrupted {
        None
    } else {
        converge(
            &conn,
            &desired,
            &kinds,
            settings,
            args,
            &report.done(&graph),
            &cancel,
        )
        .await?
    };
    let outcome = ApplyOutcome::new(plan, &graph, &report, remaining.as_ref());
    show(&outcome, args.output)?;
    std::io::stdout().flush().into_diagnostic()?;
    Ok(if outcome.converged() {
        Outcome::Clean
    } else {
        Outcome::Incomplete
    })
}

/// The restore plan; a console logon whose initial password is not in the environment
/// is left out, with a note saying which variable brings it back.
fn planned(
    desired: &DesiredState,
    inventory: &Inventory,
    conn: &Connection,
    settings: &Settings,
    args: &RestoreArgs,
) -> Result<Restore> {
    let backup = desired.backup.as_ref().expect("checked to be a backup");
    let mut r = crate::plan::restore(desired, backup, inventory, &conn.caller, &args.users)
        .map_err(|e| miette!(help = "name users the backup declares", "{e}"))?;
    let mut missing = Vec::new();
    r.plan.changes.retain(|c| match &c.op {
        Op::CreateLoginProfile {
            user, password_env, ..
        } if settings.env.get(password_env).is_none() => {
            missing.push(format!(
                "{user}'s console logon is not restored: set {password_env} to an initial password and restore again"
            ));
            false
        }
        _ => true,
    });
    r.notes.extend(missing);
    Ok(r)
}

/// Re-fetch and plan the restore again: what is left (RAM is eventually consistent, so a
/// step seen to succeed that still shows as pending is read again a few times).
async fn converge(
    conn: &Connection,
    desired: &DesiredState,
    kinds: &BTreeSet<Kind>,
    settings: &Settings,
    args: &RestoreArgs,
    done: &BTreeSet<&Address>,
    cancel: &AtomicBool,
) -> Result<Option<Plan>> {
    let mut wait = Duration::from_secs(1);
    let mut attempt = 0;
    loop {
        let inv = conn.fetch(kinds).await?;
        let remaining = planned(desired, &inv, conn, settings, args)?.plan;
        attempt += 1;
        if attempt > 3 || !remaining.changes.iter().any(|c| done.contains(&c.address)) {
            return Ok(Some(remaining));
        }
        if cancel.load(Ordering::SeqCst) {
            eprintln!("Interrupted during the final check.");
            return Ok(None);
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}
