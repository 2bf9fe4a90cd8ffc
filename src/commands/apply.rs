//! `ramstate apply [FILE|SAVED_PLAN]`: pin the account, show the plan, ask, walk the graph,
//! then re-fetch and re-diff: success only when the account converged.

use std::collections::BTreeSet;
use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use miette::{IntoDiagnostic, Result, miette};

use crate::apply::executor::{self, StepResult, StepStatus};
use crate::apply::{self as applying, step};
use crate::cli::{ApplyArgs, PlanFormat};
use crate::plan::Change;
use crate::settings::Settings;

use super::diff::{check_account, read_desired, render};
use super::progress::ApplyProgress;
use super::saved;
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
    let kinds = crate::plan::fetch_kinds(&desired.kinds());
    let inventory = conn.fetch(&kinds).await?;

    let plan = match saved_plan {
        Some(s) => {
            if s.account_id != conn.caller.account_id {
                return Err(miette!(
                    "refusing to apply: the saved plan is for account {}, the credentials belong to {}",
                    s.account_id,
                    conn.caller.account_id
                ));
            }
            if s.plan.inventory_fingerprint.as_deref()
                != Some(crate::plan::fingerprint(&inventory).as_str())
            {
                return Err(miette!(
                    help = "make a new plan with `ramstate diff FILE --out PLAN` and review it",
                    "refusing to apply a stale plan: the account changed since the plan was made"
                ));
            }
            // The saved steps must be what this caller, with this desired state, would plan:
            // a plan made by someone else (or edited) could take away this caller's access.
            let fresh = crate::plan::diff(&desired, &inventory, &conn.caller);
            if fresh.changes != s.plan.changes {
                return Err(miette!(
                    help = "make the plan with the credentials that will apply it: `ramstate diff FILE --out PLAN`",
                    "refusing to apply: the saved plan differs from what these credentials would plan for its desired state (made by another caller, or edited)"
                ));
            }
            s.plan
        }
        None => crate::plan::diff(&desired, &inventory, &conn.caller),
    };

    let color = use_color(settings.color, std::io::stdout().is_terminal());
    {
        let mut out = std::io::stdout().lock();
        render(&plan, PlanFormat::Text, color, &mut out)?;
        out.flush().into_diagnostic()?;
    }
    if plan.is_empty() {
        return Ok(Outcome::Clean);
    }

    // Checked before asking, so nothing is approved that cannot run.
    let graph = crate::graph::build(&plan)?;

    if !args.auto_approve && !confirm(&conn.caller.account_id)? {
        eprintln!(
            "Apply cancelled: no account ID {} was typed; nothing was changed. (To apply without a prompt, as in CI, pass --auto-approve.)",
            conn.caller.account_id
        );
        return Ok(Outcome::Incomplete);
    }

    let steps: Vec<&Change> = (0..graph.len()).map(|i| graph.step(i)).collect();
    // Defence in depth: the plan never targets the caller, and the walk refuses it anyway.
    let refusals: Vec<Option<String>> = steps
        .iter()
        .map(|c| applying::touches_caller(c, &conn.caller))
        .collect();
    let deps: Vec<Vec<usize>> = (0..graph.len()).map(|i| graph.dependencies(i)).collect();

    let cancel = Arc::new(AtomicBool::new(false));
    // Watches for Ctrl-C until the command ends (detached; the process exits after `run`).
    let _watcher = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.store(true, Ordering::SeqCst);
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
        })
    };
    let policy = step::StepPolicy::default();
    let deletion_tasks = step::DeletionTasks::default();
    let progress = ApplyProgress::new(&steps);
    let shapes: Vec<executor::Shape> = steps.iter().map(|c| step::shape(c)).collect();
    let statuses = executor::execute_shaped(
        &deps,
        &shapes,
        settings.parallelism,
        &cancel,
        &progress,
        |i| {
            let (client, change, refusal) = (&conn.client, steps[i], &refusals[i]);
            let (policy, tasks) = (&policy, &deletion_tasks);
            async move {
                match refusal {
                    Some(why) => StepResult::Failed { error: why.clone() },
                    None => step::run(client, change, policy, tasks).await,
                }
            }
        },
    )
    .await;
    progress.finish();
    super::tasks::remember(
        settings.cache_dir.as_deref(),
        &conn.caller.account_id,
        deletion_tasks.into_inner().unwrap_or_default(),
    );

    let interrupted = cancel.load(Ordering::SeqCst);
    summarise(&steps, &statuses, interrupted);

    if interrupted {
        eprintln!("Run `ramstate diff` to see what is left.");
        return Ok(Outcome::Incomplete);
    }

    // Converged? Re-fetch what the file manages and plan again. RAM is eventually
    // consistent: when a step we saw succeed still shows as pending, read again a few
    // times before concluding.
    let done: BTreeSet<&str> = steps
        .iter()
        .zip(&statuses)
        .filter(|(_, s)| s.is_done())
        .map(|(c, _)| c.address.as_str())
        .collect();
    let mut remaining = crate::plan::diff(&desired, &conn.fetch(&kinds).await?, &conn.caller);
    let mut wait = Duration::from_secs(1);
    for _ in 0..3 {
        if cancel.load(Ordering::SeqCst) {
            eprintln!(
                "Interrupted during the final check; run `ramstate diff` to see what is left."
            );
            return Ok(Outcome::Incomplete);
        }
        if !remaining
            .changes
            .iter()
            .any(|c| done.contains(c.address.as_str()))
        {
            break;
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
        remaining = crate::plan::diff(&desired, &conn.fetch(&kinds).await?, &conn.caller);
    }
    let failed = statuses.iter().any(|s| !s.is_done());
    if remaining.is_empty() && !failed {
        println!("Apply complete. The account matches the desired state.");
        return Ok(Outcome::Clean);
    }
    if !remaining.is_empty() {
        println!(
            "\nThe account has not converged: {} change(s) still pending:",
            remaining.changes.len()
        );
        for c in &remaining.changes {
            println!("  {} {}", c.address, c.call);
        }
    }
    Ok(Outcome::Incomplete)
}

/// Ask for the account ID on the terminal (or standard input).
fn confirm(account_id: &str) -> Result<bool> {
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

fn summarise(steps: &[&Change], statuses: &[StepStatus], interrupted: bool) {
    let count = |f: fn(&StepStatus) -> bool| statuses.iter().filter(|s| f(s)).count();
    let done = count(StepStatus::is_done);
    let failed = count(|s| matches!(s, StepStatus::Failed { .. }));
    let skipped = count(|s| matches!(s, StepStatus::Skipped { .. }));
    let not_run = count(|s| matches!(s, StepStatus::NotRun));
    eprintln!(
        "\n{done} step(s) done, {failed} failed, {skipped} skipped because of a failure, {not_run} not run."
    );
    for (i, s) in statuses.iter().enumerate() {
        if let StepStatus::Failed { error } = s {
            let blocked = statuses
                .iter()
                .filter(|t| matches!(t, StepStatus::Skipped { root } if *root == i))
                .count();
            eprintln!(
                "  failed: {} ({})\n    {error}",
                steps[i].address, steps[i].call
            );
            if blocked > 0 {
                eprintln!("    {blocked} dependent step(s) were skipped");
            }
        }
    }
    if interrupted {
        eprintln!("Interrupted before the end; not run:");
        for (i, s) in statuses.iter().enumerate() {
            if *s == StepStatus::NotRun {
                eprintln!("  {} ({})", steps[i].address, steps[i].call);
            }
        }
    }
}
