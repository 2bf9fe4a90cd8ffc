//! One step of an apply: the API call a plan change names, with the rules that make a
//! walk safe to re-run. "Already gone" finishes a removal step (and only that step); a
//! conflict right after our own detach is retried briefly, because RAM is eventually
//! consistent; a creation is never blindly retried; a service-linked role deletion is an
//! asynchronous task, polled with backoff up to a deadline.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::Deserialize;

use crate::api::{ApiError, Client, ErrorKind};
use crate::apply::executor::{Shape, StepResult};
use crate::model::{ApiCall, Service};
use crate::plan::Change;

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
    if change.call.action == "DeleteServiceLinkedRole" {
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

/// Run one plan change against the API. Deletion tasks it starts are recorded in `tasks`.
pub async fn run(
    client: &Client,
    change: &Change,
    policy: &StepPolicy,
    tasks: &DeletionTasks,
) -> StepResult {
    if change.call.action == "DeleteServiceLinkedRole" {
        return delete_service_linked_role(client, &change.call, policy, tasks).await;
    }
    let removal = change.action.is_removal();
    let idempotent = !change.action.is_create();
    let mut wait = policy.conflict_backoff;
    let mut attempt = 0;
    loop {
        let outcome = if idempotent {
            client.call(&change.call).await
        } else {
            // A create that timed out may have happened: never repeat it blindly.
            client.call_once(&change.call).await
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

/// `GetServiceLinkedRoleDeletionStatus` as the wire carries it.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct DeletionStatus {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub reason: Option<DeletionReason>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct DeletionReason {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub role_usages: Option<RoleUsages>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct RoleUsages {
    #[serde(rename = "RoleUsage", default)]
    pub role_usage: Vec<RoleUsage>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct RoleUsage {
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub resources: Option<Resources>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Resources {
    #[serde(rename = "Resource", default)]
    pub resource: Vec<String>,
}

impl DeletionReason {
    /// The regions and resources still using the role, as the model holds them.
    pub fn usages(&self) -> Vec<crate::model::RoleUsage> {
        self.role_usages
            .iter()
            .flat_map(|u| &u.role_usage)
            .map(|u| crate::model::RoleUsage {
                region: u.region.clone(),
                resources: u
                    .resources
                    .as_ref()
                    .map(|r| r.resource.clone())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// `message; in use in cn-hangzhou by i-1, i-2; in cn-beijing by ...`
    pub fn explain(&self) -> String {
        let mut text = self.message.clone();
        for usage in self.role_usages.iter().flat_map(|u| &u.role_usage) {
            let resources = usage
                .resources
                .as_ref()
                .map(|r| r.resource.join(", "))
                .unwrap_or_default();
            text.push_str(&format!("; in use in {} by {}", usage.region, resources));
        }
        text
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeletionTask {
    deletion_task_id: String,
}

async fn delete_service_linked_role(
    client: &Client,
    call: &ApiCall,
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
    if let Some(role) = call.params.get("RoleName") {
        tasks
            .lock()
            .expect("task log lock")
            .insert(role.clone(), task.deletion_task_id.clone());
    }
    let status_call = deletion_status_call(&task.deletion_task_id);
    poll_deletion(policy, || client.call_as::<DeletionStatus>(&status_call))
        .await
        .unwrap_or_else(|error| StepResult::Failed { error })
}

/// The read-only call that tells how a deletion task stands.
pub fn deletion_status_call(task_id: &str) -> ApiCall {
    ApiCall::new(
        Service::ResourceManager,
        "GetServiceLinkedRoleDeletionStatus",
        [("DeletionTaskId", task_id)],
    )
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
        match status.status.as_str() {
            "SUCCEEDED" => return Ok(StepResult::Done),
            "FAILED" => {
                let why = status
                    .reason
                    .map(|r| r.explain())
                    .unwrap_or_else(|| "no reason given".into());
                return Err(format!("the deletion task failed: {why}"));
            }
            "INTERNAL_ERROR" => {
                return Err("the deletion task ended with INTERNAL_ERROR; try again later".into());
            }
            // IN_PROGRESS, NOT_STARTED, or anything newer: keep waiting.
            _ => {}
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
