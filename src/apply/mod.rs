//! Apply: walk the plan's graph and make each step's API call.
//!
//! [`execute`] is the whole of it, for `ramstate apply` and the benchmark alike: the
//! walk in dependency order within a bound ([`executor`]), the refusal of any step that
//! would affect something protected (whatever the plan says), each step's shape for
//! scheduling and the bookkeeping of the deletion tasks it starts; it returns an
//! [`ApplyReport`]. What a step sends, and how it retries, is the [`Runner`]'s business
//! ([`step::ClientRunner`] for the real API).

pub mod executor;
pub mod step;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::graph::ApplyGraph;
use crate::plan::{Address, Change, Entity, Protection};
use executor::{Reporter, StepResult, StepStatus};
use step::DeletionTasks;

/// Runs one step: sends its call (and whatever the step needs around it).
pub trait Runner {
    /// Deletion tasks the step starts are recorded in `tasks`.
    fn run(&self, change: &Change, tasks: &DeletionTasks) -> impl Future<Output = StepResult>;
}

/// How an apply runs.
#[derive(Debug, Clone)]
pub struct Options {
    /// Steps in flight at once (steps that mostly wait do not count).
    pub parallelism: usize,
    /// What no step may affect: the caller's identity and what it depends on.
    pub protection: Protection,
}

/// What an apply did: how each step of the graph ended (`statuses[i]` is step `i`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApplyReport {
    pub statuses: Vec<StepStatus>,
    /// Service-linked role name → the deletion task started for it.
    pub deletion_tasks: BTreeMap<String, String>,
    /// Stopped by the user before every step ran.
    pub interrupted: bool,
}

/// Counts of an apply's steps by how they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    pub done: usize,
    pub failed: usize,
    pub refused: usize,
    pub skipped: usize,
    pub not_run: usize,
}

impl ApplyReport {
    pub fn tally(&self) -> Tally {
        let mut t = Tally::default();
        for s in &self.statuses {
            match s {
                StepStatus::Done | StepStatus::AlreadyGone { .. } => t.done += 1,
                StepStatus::Failed { .. } => t.failed += 1,
                StepStatus::Refused { .. } => t.refused += 1,
                StepStatus::Skipped { .. } => t.skipped += 1,
                StepStatus::NotRun => t.not_run += 1,
            }
        }
        t
    }

    /// Every step done (or already gone).
    pub fn all_done(&self) -> bool {
        self.statuses.iter().all(StepStatus::is_done)
    }

    /// The addresses of the steps of `graph` that are done.
    pub fn done<'g>(&self, graph: &'g ApplyGraph) -> BTreeSet<&'g Address> {
        self.statuses
            .iter()
            .enumerate()
            .filter(|(_, s)| s.is_done())
            .map(|(i, _)| &graph.step(i).address)
            .collect()
    }
}

/// Why a step must not run: it affects something protected.
pub fn refusal(change: &Change, protection: &Protection) -> Option<String> {
    change.op.affects().iter().find_map(|e| {
        protection.reason(e).map(|why| {
            format!(
                "refused: {} would affect {} ({why})",
                change.call().action,
                describe(e)
            )
        })
    })
}

fn describe(e: &Entity) -> String {
    match e {
        Entity::User(n) => format!("user {n}"),
        Entity::Group(n) => format!("group {n}"),
        Entity::Role(n) => format!("role {n}"),
        Entity::Policy(n) => format!("policy {n}"),
        Entity::AccessKey(k) => format!("access key {k}"),
        Entity::VirtualMfaDevice(s) => format!("MFA device {s}"),
        Entity::SamlProvider(n) => format!("SAML provider {n}"),
        Entity::OidcProvider(n) => format!("OIDC provider {n}"),
        Entity::RecycledUser(id) => format!("recycled user {id}"),
        Entity::PolicyVersionSlot(p) => format!("the versions of policy {p}"),
        Entity::DeactivationRecord(u) => format!("the deactivation record of user {u}"),
    }
}

/// Walk `graph`, running each step with `runner` once everything it depends on is done,
/// at most `options.parallelism` at a time. A step that would affect something protected
/// is refused without a call, and everything that depends on it is skipped, as after a
/// failure. Setting `cancel` starts no new step and lets the ones in flight finish.
pub async fn execute<R: Runner>(
    graph: &ApplyGraph,
    runner: &R,
    options: &Options,
    cancel: &AtomicBool,
    reporter: &dyn Reporter,
) -> ApplyReport {
    let refusals: Vec<Option<String>> = (0..graph.len())
        .map(|i| refusal(graph.step(i), &options.protection))
        .collect();
    let shapes: Vec<executor::Shape> = (0..graph.len())
        .map(|i| step::shape(graph.step(i)))
        .collect();
    let tasks = DeletionTasks::default();
    let statuses = executor::walk(graph, &shapes, options.parallelism, cancel, reporter, |i| {
        let (change, refusal, tasks) = (graph.step(i), &refusals[i], &tasks);
        async move {
            match refusal {
                Some(why) => StepResult::Refused { why: why.clone() },
                None => runner.run(change, tasks).await,
            }
        }
    })
    .await;
    ApplyReport {
        statuses,
        deletion_tasks: tasks.into_inner().unwrap_or_default(),
        interrupted: cancel.load(Ordering::SeqCst),
    }
}

#[cfg(test)]
mod tests;
