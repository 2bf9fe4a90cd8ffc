//! Service-linked role deletion tasks that apply started, remembered per account so that
//! `readiness` can tell, without changing anything, why a role is still there: it asks
//! the (read-only) GetServiceLinkedRoleDeletionStatus of the last task for that role.
//!
//! Stored as JSON in the settings' cache directory (`$XDG_CACHE_HOME/ramstate/`, or
//! `~/.cache/ramstate/`), one file per account. Losing the file loses only that explanation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::api::deletion::{DeletionStatus, TaskState, deletion_status_call};
use crate::model::Inventory;

use super::Connection;

fn path(cache_dir: Option<&Path>, account_id: &str) -> Option<PathBuf> {
    Some(cache_dir?.join(format!("{account_id}-deletion-tasks.json")))
}

/// Role name → DeletionTaskId of the last deletion apply started for it.
pub fn load(cache_dir: Option<&Path>, account_id: &str) -> BTreeMap<String, String> {
    path(cache_dir, account_id)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Remember new tasks next to the ones already known. Failing to write only costs the
/// explanation in a later `readiness`, so it is a warning, not an error.
pub fn remember(cache_dir: Option<&Path>, account_id: &str, new: BTreeMap<String, String>) {
    if new.is_empty() {
        return;
    }
    let Some(path) = path(cache_dir, account_id) else {
        return;
    };
    let mut all = load(cache_dir, account_id);
    all.extend(new);
    let written = path
        .parent()
        .map(std::fs::create_dir_all)
        .unwrap_or(Ok(()))
        .and_then(|_| {
            std::fs::write(
                &path,
                serde_json::to_string_pretty(&all).expect("a map of strings"),
            )
        });
    if let Err(e) = written {
        eprintln!(
            "warning: cannot record the deletion tasks in {}: {e}",
            path.display()
        );
    }
}

/// For each service-linked role still in the inventory whose last deletion task failed,
/// fill in the regions and resources that use it (read-only calls).
pub async fn explain_remaining_roles(
    cache_dir: Option<&Path>,
    conn: &Connection,
    inventory: &mut Inventory,
) {
    let known = load(cache_dir, &inventory.account.id);
    for role in inventory
        .roles
        .iter_mut()
        .filter(|r| r.is_service_linked() && r.usages.is_empty())
    {
        let Some(task) = known.get(&role.name) else {
            continue;
        };
        if let Ok(status) = conn
            .client
            .call_as::<DeletionStatus>(&deletion_status_call(task))
            .await
            && status.state() == TaskState::Failed
            && let Some(reason) = status.reason
        {
            role.usages = reason.usages();
        }
    }
}
