//! Saved plans (`diff --out FILE`, then `apply FILE`): the plan, the desired-state text it
//! came from, the account, and a fingerprint of the inventory it was built from. Apply
//! refuses a saved plan when the account changed since.

use std::path::Path;

use miette::{IntoDiagnostic, Result, WrapErr, miette};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::Inventory;
use crate::plan::Plan;

pub const SAVED_PLAN_FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Marks the file as a saved plan, and its format.
    pub ramstate_saved_plan: u32,
    pub account_id: String,
    /// SHA-256 over the inventory the plan was built from (see [`fingerprint`]).
    pub fingerprint: String,
    /// Where the desired state came from, and its text, so apply can check convergence.
    pub desired_source: String,
    pub desired_text: String,
    pub plan: Plan,
}

/// A digest of what the plan depends on. Fields that change by merely using the account
/// (last login, last key use) are left out, so reading an account does not make its plans stale.
pub fn fingerprint(inventory: &Inventory) -> String {
    let mut inv = inventory.clone();
    inv.emulator = None;
    for user in &mut inv.users {
        user.last_login_date = None;
        for key in &mut user.access_keys {
            key.last_used_date = None;
            key.secret = None;
        }
    }
    let bytes = serde_json::to_vec(&inv).expect("inventory serialises");
    hex::encode(Sha256::digest(&bytes))
}

/// Read a file that is either a saved plan (JSON with `ramstate_saved_plan`) or not (`None`).
pub fn read_if_saved(text: &str, path: &Path) -> Result<Option<SavedPlan>> {
    let looks_saved = text.trim_start().starts_with('{') && text.contains("\"ramstate_saved_plan\"");
    if !looks_saved {
        return Ok(None);
    }
    let saved: SavedPlan = serde_json::from_str(text)
        .into_diagnostic()
        .wrap_err_with(|| format!("{} looks like a saved plan but cannot be read", path.display()))?;
    if saved.ramstate_saved_plan != SAVED_PLAN_FORMAT {
        return Err(miette!(
            "{} is a saved plan of format {}, this ramstate reads format {SAVED_PLAN_FORMAT}",
            path.display(),
            saved.ramstate_saved_plan
        ));
    }
    Ok(Some(saved))
}

pub fn write(path: &Path, saved: &SavedPlan) -> Result<()> {
    let text = serde_json::to_string_pretty(saved).into_diagnostic()?;
    std::fs::write(path, text + "\n")
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write the plan to {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessKey, KeyStatus, User};

    fn inv() -> Inventory {
        let mut inv = Inventory::default();
        inv.account.id = "1234567890123456".into();
        inv.users.push(User {
            name: "alice".into(),
            access_keys: vec![AccessKey {
                id: "LTAI1".into(),
                secret: None,
                status: KeyStatus::Active,
                create_date: None,
                last_used_date: Some("2026-01-01T00:00:00Z".into()),
            }],
            ..User::default()
        });
        inv
    }

    #[test]
    fn using_a_key_does_not_change_the_fingerprint() {
        let a = inv();
        let mut b = inv();
        b.users[0].access_keys[0].last_used_date = Some("2026-11-24T00:00:00Z".into());
        b.users[0].last_login_date = Some("2026-11-24T00:00:00Z".into());
        assert_eq!(fingerprint(&a), fingerprint(&b));
    }

    #[test]
    fn a_changed_account_changes_the_fingerprint() {
        let a = inv();
        let mut b = inv();
        b.users[0].access_keys[0].status = KeyStatus::Inactive;
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
