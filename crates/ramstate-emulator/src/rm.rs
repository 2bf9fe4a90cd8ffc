//! ResourceManager 2020-03-31: deleting service-linked roles through a polled task.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::error::{ErrorResponse, Params};
use super::state::{Identity, Principal, State, Task, TaskStatus, role_not_found};

type R = Result<Value, ErrorResponse>;

/// Runs one ResourceManager action; `None` when it has no such action.
pub fn handle(
    st: &mut State,
    _who: &Identity,
    action: &str,
    p: &Params,
    _now: OffsetDateTime,
) -> Option<R> {
    Some(match action {
        "DeleteServiceLinkedRole" => delete_service_linked_role(st, p),
        "GetServiceLinkedRoleDeletionStatus" => deletion_status(st, p),
        _ => return None,
    })
}

/// `AliyunServiceRoleForECS` → `ecs.aliyuncs.com`.
fn service_of(role: &str) -> String {
    let short = role
        .strip_prefix("AliyunServiceRoleFor")
        .unwrap_or(role)
        .to_lowercase();
    format!("{short}.aliyuncs.com")
}

fn delete_service_linked_role(st: &mut State, p: &Params) -> R {
    let name = p.required("RoleName")?;
    let rec = st.roles.get(name).ok_or_else(|| role_not_found(name))?;
    if !rec.role.is_service_linked() {
        return Err(ErrorResponse::invalid(
            "RoleName",
            None,
            format!("The role {name} is not a service-linked role."),
        ));
    }
    let usages = rec.role.usages.clone();
    let id = format!(
        "task/acs-service-role/{}/{name}/{}",
        service_of(name),
        uuid_like(st)
    );
    let arn = format!("acs:ram::{}:role/{}", st.account.id, name.to_lowercase());
    st.tasks.insert(
        id.clone(),
        Task {
            role: name.to_string(),
            polls_left: st.deletion_polls,
            status: TaskStatus::InProgress,
            message: format!(
                "Service-Linked Role {arn} cannot be deleted as it is in use by {}.",
                service_of(name)
            ),
            usages,
        },
    );
    Ok(json!({"DeletionTaskId": id}))
}

fn uuid_like(st: &mut State) -> String {
    let h = st.alnum(32).to_lowercase();
    let hex: String = h
        .chars()
        .map(|c| {
            let n = c as u32 % 16;
            char::from_digit(n, 16).unwrap_or('0')
        })
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn deletion_status(st: &mut State, p: &Params) -> R {
    let id = p.required("DeletionTaskId")?;
    let task = st.tasks.get_mut(id).ok_or_else(|| {
        ErrorResponse::not_found(
            "EntityNotExist.DeletionTask",
            format!("The deletion task does not exist: {id}."),
        )
    })?;
    if task.status == TaskStatus::InProgress {
        if task.polls_left > 0 {
            task.polls_left -= 1;
        } else if !task.usages.is_empty() {
            task.status = TaskStatus::Failed;
        } else {
            task.status = TaskStatus::Succeeded;
            let role = task.role.clone();
            st.roles.remove(&role);
            st.attachments
                .retain(|(k, n, _), _| !(*k == Principal::Role && *n == role));
        }
    }
    let task = &st.tasks[id];
    Ok(match task.status {
        TaskStatus::InProgress => json!({"Status": "IN_PROGRESS"}),
        TaskStatus::Succeeded => json!({"Status": "SUCCEEDED"}),
        TaskStatus::Failed => json!({
            "Status": "FAILED",
            "Reason": {
                "Message": task.message,
                "RoleUsages": {"RoleUsage": task.usages.iter().map(|u| json!({
                    "Region": u.region,
                    "Resources": {"Resource": u.resources},
                })).collect::<Vec<_>>()},
            },
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramstate_model::{Inventory, Service};

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn call(st: &mut State, action: &str, k: &str, v: &str) -> R {
        let map = [(k.to_string(), v.to_string())].into_iter().collect();
        handle(
            st,
            &Identity::Account,
            action,
            &Params::new(Service::ResourceManager, map),
            now(),
        )
        .unwrap()
    }

    #[test]
    fn service_linked_role_deletion_succeeds_after_the_configured_polls() {
        let inv: Inventory = yaml_serde::from_str(
            "account: {id: '1234567890123456'}\nroles: [{name: AliyunServiceRoleForECS}, {name: AliyunServiceRoleForLog, usages: [{region: cn-hangzhou, resources: [p1]}]}]\nemulator: {deletion_polls: 1}",
        )
        .unwrap();
        let mut st = State::from_seed(&inv, 1, now()).unwrap();
        let task = call(
            &mut st,
            "DeleteServiceLinkedRole",
            "RoleName",
            "AliyunServiceRoleForECS",
        )
        .unwrap();
        let id = task["DeletionTaskId"].as_str().unwrap().to_string();
        assert!(id.starts_with("task/acs-service-role/ecs.aliyuncs.com/AliyunServiceRoleForECS/"));
        let s = call(
            &mut st,
            "GetServiceLinkedRoleDeletionStatus",
            "DeletionTaskId",
            &id,
        )
        .unwrap();
        assert_eq!(s["Status"], "IN_PROGRESS");
        assert!(st.roles.contains_key("AliyunServiceRoleForECS"));
        let s = call(
            &mut st,
            "GetServiceLinkedRoleDeletionStatus",
            "DeletionTaskId",
            &id,
        )
        .unwrap();
        assert_eq!(s["Status"], "SUCCEEDED");
        assert!(!st.roles.contains_key("AliyunServiceRoleForECS"));

        let task = call(
            &mut st,
            "DeleteServiceLinkedRole",
            "RoleName",
            "AliyunServiceRoleForLog",
        )
        .unwrap();
        let id = task["DeletionTaskId"].as_str().unwrap().to_string();
        call(
            &mut st,
            "GetServiceLinkedRoleDeletionStatus",
            "DeletionTaskId",
            &id,
        )
        .unwrap();
        let s = call(
            &mut st,
            "GetServiceLinkedRoleDeletionStatus",
            "DeletionTaskId",
            &id,
        )
        .unwrap();
        assert_eq!(s["Status"], "FAILED");
        assert_eq!(
            s["Reason"]["RoleUsages"]["RoleUsage"][0]["Region"],
            "cn-hangzhou"
        );
        assert!(st.roles.contains_key("AliyunServiceRoleForLog"));
    }
}
