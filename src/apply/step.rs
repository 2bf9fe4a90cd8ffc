//! One step of an apply: the API call a plan change names, with the rules that make a
//! walk safe to re-run. "Already gone" finishes a removal step (and only that step); a
//! conflict right after our own detach is retried briefly, because RAM is eventually
//! consistent; a creation is never blindly retried; a service-linked role deletion is an
//! asynchronous task, polled with backoff up to a deadline.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use crate::api::deletion::{DeletionStatus, DeletionTask, TaskState, deletion_status_call};
use crate::api::{ApiError, Client, ErrorKind};
use crate::apply::Runner;
use crate::apply::executor::{Shape, StepResult};
use crate::plan::{Change, Op};

/// Timing rules for steps.
#[derive(Debug, Clone)]
pub struct StepPolicy {
    /// How often a `DeleteConflict.*` is retried before it counts as a failure.
    pub conflict_retries: u32,
    /// First wait before such a retry; doubles each time.
    pub conflict_backoff: Duration,
    /// First wait between deletion-status polls of a service-linked role; each later
    /// wait is half as long again, up to `poll_max_interval`.
    pub poll_interval: Duration,
    /// Longest wait between polls.
    pub poll_max_interval: Duration,
    /// Give up polling after this long.
    pub poll_deadline: Duration,
}

impl Default for StepPolicy {
    fn default() -> Self {
        StepPolicy {
            conflict_retries: 4,
            conflict_backoff: Duration::from_millis(500),
            poll_interval: Duration::from_millis(500),
            poll_max_interval: Duration::from_secs(5),
            poll_deadline: Duration::from_secs(300),
        }
    }
}

/// How a change's step spends its time, for the walk's scheduling: a service-linked role
/// deletion polls an asynchronous task for seconds, so it starts early and holds no slot.
pub fn shape(change: &Change) -> Shape {
    if change.op.is_deletion_task() {
        // Its polls take seconds where a call takes tens of milliseconds.
        Shape {
            cost: 100,
            waits: true,
        }
    } else {
        Shape::CALL
    }
}

/// The deletion tasks a walk started: service-linked role name → `DeletionTaskId`.
pub type DeletionTasks = std::sync::Mutex<BTreeMap<String, String>>;

/// Runs steps against the API with the client.
pub struct ClientRunner<'a> {
    pub client: &'a Client,
    pub policy: StepPolicy,
    /// Initial passwords of the login profiles to create, by the environment variable
    /// the file names. Never printed.
    pub passwords: BTreeMap<String, String>,
}

impl Runner for ClientRunner<'_> {
    async fn run(&self, change: &Change, tasks: &DeletionTasks) -> StepResult {
        if change.op.action() == crate::plan::Action::Restore {
            return restore(self.client, change).await;
        }
        if adds(&change.op) {
            return create(self.client, change, &self.policy, &self.passwords).await;
        }
        run(self.client, change, &self.policy, tasks).await
    }
}

/// A step that brings something new into being: sent again only once it is known not to
/// have happened.
fn adds(op: &Op) -> bool {
    op.action().is_create() || matches!(op, Op::CreatePolicyVersion { .. })
}

/// Adding a membership or an attachment twice is harmless: the second says it exists.
fn repeatable(op: &Op) -> bool {
    matches!(op, Op::AddMember { .. } | Op::AttachPolicy { .. })
}

/// Run a creation. An uncertain outcome (a dropped connection, a timeout, a server
/// error) is read back: if the thing exists (for a policy version: the default document
/// is the declared one) the step is done, else it is sent again. `EntityAlreadyExists`
/// after such an attempt means the earlier one took effect. What the account does not
/// show yet right after its own creation (eventual consistency) is waited for briefly.
pub async fn create(
    client: &Client,
    change: &Change,
    policy: &StepPolicy,
    passwords: &BTreeMap<String, String>,
) -> StepResult {
    let call = match &change.op {
        Op::CreateLoginProfile { password_env, .. } => match passwords.get(password_env) {
            Some(p) => crate::plan::call_with_password(&change.op, p),
            None => {
                return StepResult::Failed {
                    error: format!(
                        "the environment variable {password_env} holds no initial password"
                    ),
                };
            }
        },
        _ => change.call(),
    };
    let secrets: Vec<&str> = passwords.values().map(String::as_str).collect();
    let fail = |e: &ApiError| StepResult::Failed {
        error: crate::api::client::scrub(&describe(e), &secrets),
    };
    let mut uncertain = false;
    let mut wait = policy.conflict_backoff;
    for _ in 0..=policy.conflict_retries {
        match client.call_once(&call).await {
            Ok(_) => return StepResult::Done,
            Err(e) if e.kind == ErrorKind::AlreadyExists => {
                return if uncertain || repeatable(&change.op) {
                    StepResult::Done
                } else {
                    StepResult::Failed {
                        error: format!(
                            "{}; it appeared since the plan was made: run `ramstate diff` again",
                            describe(&e)
                        ),
                    }
                };
            }
            Err(e)
                if matches!(
                    e.kind,
                    ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Transient
                ) =>
            {
                uncertain = true;
                if took_effect(client, &change.op).await {
                    return StepResult::Done;
                }
            }
            // What this step needs was created a moment ago and is not visible yet.
            Err(e) if e.kind == ErrorKind::NotFound || e.kind == ErrorKind::Conflict => {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => return fail(&e),
        }
    }
    StepResult::Failed {
        error: format!(
            "{} did not succeed after {} attempts",
            call.action,
            policy.conflict_retries + 1
        ),
    }
}

/// Run a restore from the recycle bin. When the bin no longer holds the thing (or the
/// name is taken), it is read back: already there (restored by an earlier run, or with
/// its user, as some accounts restore a user's keys) is done; anything else fails.
pub async fn restore(client: &Client, change: &Change) -> StepResult {
    let call = change.call();
    let Err(e) = client.call(&call).await else {
        return StepResult::Done;
    };
    if matches!(e.kind, ErrorKind::NotFound | ErrorKind::AlreadyExists)
        && let Some(read) = crate::plan::read_back(&change.op)
        && let Ok(answer) = client.call(&read).await
        && crate::plan::shows_restored(&change.op, &answer)
    {
        return StepResult::Done;
    }
    StepResult::Failed {
        error: describe(&e),
    }
}

/// Whether an uncertain creation happened, by reading it back.
async fn took_effect(client: &Client, op: &Op) -> bool {
    let Some(read) = crate::plan::read_back(op) else {
        return false;
    };
    match client.call(&read).await {
        Ok(body) => match op {
            Op::CreatePolicyVersion { document, .. } => {
                let want = serde_json::from_str(document)
                    .ok()
                    .map(|d| crate::config::normalise(&d));
                let have = crate::api::wire::default_policy_document(&body)
                    .and_then(|d| serde_json::from_str(&d).ok())
                    .map(|d| crate::config::normalise(&d));
                want.is_some() && want == have
            }
            _ => true,
        },
        Err(_) => false,
    }
}

/// Run one plan change against the API. Deletion tasks it starts are recorded in `tasks`.
pub async fn run(
    client: &Client,
    change: &Change,
    policy: &StepPolicy,
    tasks: &DeletionTasks,
) -> StepResult {
    let call = change.call();
    if let Op::DeleteServiceLinkedRole { name } = &change.op {
        return delete_service_linked_role(client, name, &call, policy, tasks).await;
    }
    let action = change.action();
    let removal = action.is_removal();
    let idempotent = !action.is_create();
    let mut wait = policy.conflict_backoff;
    let mut attempt = 0;
    loop {
        let outcome = if idempotent {
            client.call(&call).await
        } else {
            // A create that timed out may have happened: never repeat it blindly.
            client.call_once(&call).await
        };
        match outcome {
            Ok(_) => return StepResult::Done,
            Err(e) if removal && e.kind == ErrorKind::NotFound => {
                return StepResult::AlreadyGone { code: e.code };
            }
            Err(e) if e.kind == ErrorKind::Conflict && attempt < policy.conflict_retries => {
                attempt += 1;
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
            Err(e) => {
                return StepResult::Failed {
                    error: describe(&e),
                };
            }
        }
    }
}

fn describe(e: &ApiError) -> String {
    match &e.request_id {
        Some(id) => format!("{}: {} (RequestId {id})", e.code, e.message),
        None => format!("{}: {}", e.code, e.message),
    }
}

async fn delete_service_linked_role(
    client: &Client,
    role: &str,
    call: &crate::model::ApiCall,
    policy: &StepPolicy,
    tasks: &DeletionTasks,
) -> StepResult {
    let task: DeletionTask = match client.call_as(call).await {
        Ok(t) => t,
        Err(e) if e.kind == ErrorKind::NotFound => return StepResult::AlreadyGone { code: e.code },
        Err(e) => {
            return StepResult::Failed {
                error: describe(&e),
            };
        }
    };
    tasks
        .lock()
        .expect("task log lock")
        .insert(role.to_string(), task.deletion_task_id.clone());
    let status_call = deletion_status_call(&task.deletion_task_id);
    poll_deletion(policy, || client.call_as::<DeletionStatus>(&status_call))
        .await
        .unwrap_or_else(|error| StepResult::Failed { error })
}

/// Poll a deletion task until it settles, with exponential backoff and a deadline.
pub async fn poll_deletion<F, Fut>(policy: &StepPolicy, mut poll: F) -> Result<StepResult, String>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<DeletionStatus, ApiError>>,
{
    let started = tokio::time::Instant::now();
    let mut wait = policy.poll_interval;
    loop {
        tokio::time::sleep(wait).await;
        let status = poll().await.map_err(|e| describe(&e))?;
        match status.state() {
            TaskState::Succeeded => return Ok(StepResult::Done),
            TaskState::Failed => {
                let why = status
                    .reason
                    .map(|r| r.explain())
                    .unwrap_or_else(|| "no reason given".into());
                return Err(format!("the deletion task failed: {why}"));
            }
            TaskState::InternalError => {
                return Err("the deletion task ended with INTERNAL_ERROR; try again later".into());
            }
            TaskState::Running => {}
        }
        if started.elapsed() + wait > policy.poll_deadline {
            return Err(format!(
                "the deletion task was still {} after {}s; it may finish later: run `ramstate diff` again",
                status.status,
                policy.poll_deadline.as_secs()
            ));
        }
        wait = wait.mul_f64(1.5).min(policy.poll_max_interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn status(s: &str) -> DeletionStatus {
        DeletionStatus {
            status: s.into(),
            reason: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn polling_returns_done_once_the_task_succeeds() {
        let polls = AtomicU32::new(0);
        let out = poll_deletion(&StepPolicy::default(), || {
            let n = polls.fetch_add(1, Ordering::SeqCst);
            async move { Ok(status(if n < 3 { "IN_PROGRESS" } else { "SUCCEEDED" })) }
        })
        .await;
        assert_eq!(out, Ok(StepResult::Done));
        assert_eq!(polls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn polling_gives_up_at_the_deadline() {
        let policy = StepPolicy::default();
        let started = tokio::time::Instant::now();
        let out = poll_deletion(&policy, || async { Ok(status("IN_PROGRESS")) }).await;
        let err = out.unwrap_err();
        assert!(err.contains("still IN_PROGRESS after 300s"), "{err}");
        assert!(started.elapsed() <= policy.poll_deadline);
        assert!(started.elapsed() >= policy.poll_deadline - policy.poll_max_interval * 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_task_names_the_resources_that_use_the_role() {
        let body = r#"{"Status":"FAILED","RequestId":"x","Reason":{"Message":"role in use",
            "RoleUsages":{"RoleUsage":[{"Region":"cn-hangzhou","Resources":{"Resource":["i-1","i-2"]}},
            {"Region":"cn-beijing","Resources":{"Resource":["i-3"]}}]}}}"#;
        let parsed: DeletionStatus = serde_json::from_str(body).unwrap();
        let out = poll_deletion(&StepPolicy::default(), || {
            let parsed = parsed.clone();
            async move { Ok(parsed) }
        })
        .await;
        assert_eq!(
            out.unwrap_err(),
            "the deletion task failed: role in use; in use in cn-hangzhou by i-1, i-2; in use in cn-beijing by i-3"
        );
    }
}
