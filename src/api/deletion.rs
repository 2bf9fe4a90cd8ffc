//! ResourceManager's asynchronous service-linked role deletion, as the wire carries it:
//! `DeleteServiceLinkedRole` answers a `DeletionTaskId`, and
//! `GetServiceLinkedRoleDeletionStatus` tells how the task stands.

use serde::Deserialize;

use crate::model::{ApiCall, RoleUsage, Service};

/// The answer of `DeleteServiceLinkedRole`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct DeletionTask {
    pub deletion_task_id: String,
}

/// The answer of `GetServiceLinkedRoleDeletionStatus`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct DeletionStatus {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub reason: Option<DeletionReason>,
}

/// Where a deletion task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// `NOT_STARTED`, `IN_PROGRESS`, or a status newer than this code knows.
    Running,
    Succeeded,
    Failed,
    InternalError,
}

impl DeletionStatus {
    pub fn state(&self) -> TaskState {
        match self.status.as_str() {
            "SUCCEEDED" => TaskState::Succeeded,
            "FAILED" => TaskState::Failed,
            "INTERNAL_ERROR" => TaskState::InternalError,
            _ => TaskState::Running,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct DeletionReason {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub role_usages: Option<WireRoleUsages>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct WireRoleUsages {
    #[serde(rename = "RoleUsage", default)]
    pub role_usage: Vec<WireRoleUsage>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct WireRoleUsage {
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub resources: Option<WireResources>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct WireResources {
    #[serde(rename = "Resource", default)]
    pub resource: Vec<String>,
}

impl DeletionReason {
    /// The regions and resources still using the role, as the model holds them.
    pub fn usages(&self) -> Vec<RoleUsage> {
        self.role_usages
            .iter()
            .flat_map(|u| &u.role_usage)
            .map(|u| RoleUsage {
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
        for usage in self.usages() {
            text.push_str(&format!(
                "; in use in {} by {}",
                usage.region,
                usage.resources.join(", ")
            ));
        }
        text
    }
}

/// The read-only call that tells how a deletion task stands.
pub fn deletion_status_call(task_id: &str) -> ApiCall {
    ApiCall::new(
        Service::ResourceManager,
        "GetServiceLinkedRoleDeletionStatus",
        [("DeletionTaskId", task_id)],
    )
}
