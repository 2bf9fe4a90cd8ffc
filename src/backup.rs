//! Backup before delete: what a plan is about to delete, as a file `ramstate restore`
//! reads (and `ramstate diff` too). Pure: the time is a parameter; writing the file is
//! the command's business.
//!
//! The file is the export format of the entities the plan deletes (users, groups, roles,
//! custom policies) with their memberships, attachments, tags, profile fields and console
//! logon settings, managing nothing, and a `backup:` section with what the declarations
//! cannot say: each user's ID, its access keys' IDs and statuses, its MFA device. Never a
//! secret (no key secret, no password).

use crate::config::{Backup, BackupAttachment, BackupKey, BackupPrincipalType, BackupUser};
use crate::export::Selection;
use crate::model::{Inventory, LoginProfileStatus};
use crate::plan::{Op, Plan};

/// What `plan` deletes that a backup holds.
pub fn selection(plan: &Plan) -> Selection {
    let mut s = Selection::default();
    for c in &plan.changes {
        match &c.op {
            Op::DeleteUser { name, .. } => {
                s.users.insert(name.to_string());
            }
            Op::DeleteGroup { name } => {
                s.groups.insert(name.to_string());
            }
            Op::DeleteRole { name } => {
                s.roles.insert(name.to_string());
            }
            Op::DeletePolicy { name } => {
                s.policies.insert(name.to_string());
            }
            _ => {}
        }
    }
    s
}

/// Each deleted custom policy's attachments to users, groups and roles that stay (a
/// deleted principal's own declaration lists its policies already).
fn attachments(s: &Selection, inv: &Inventory) -> Vec<BackupAttachment> {
    let deleted = |set: &std::collections::BTreeSet<String>, n: &str| {
        set.iter().any(|x| x.eq_ignore_ascii_case(n))
    };
    let custom = |p: &crate::model::PolicyRef| {
        (p.policy_type == crate::model::PolicyType::Custom && s.policies.contains(p.name.as_str()))
            .then(|| p.name.clone())
    };
    let mut out = Vec::new();
    let mut add = |kind: BackupPrincipalType, name: &str, policies: &[crate::model::PolicyRef]| {
        for policy in policies.iter().filter_map(custom) {
            out.push(BackupAttachment {
                policy: policy.into(),
                principal_type: kind,
                principal: name.to_string(),
            });
        }
    };
    for u in inv.users.iter().filter(|u| !deleted(&s.users, &u.name)) {
        add(BackupPrincipalType::User, &u.name, &u.policies);
    }
    for g in inv.groups.iter().filter(|g| !deleted(&s.groups, &g.name)) {
        add(BackupPrincipalType::Group, &g.name, &g.policies);
    }
    for r in inv.roles.iter().filter(|r| !deleted(&s.roles, &r.name)) {
        add(BackupPrincipalType::Role, &r.name, &r.policies);
    }
    out.sort();
    out
}

/// The backup of what `plan` deletes from `inventory`, written at `written` (RFC 3339,
/// UTC); `None` when the plan deletes none of the kinds a backup holds.
pub fn contents(plan: &Plan, inventory: &Inventory, written: &str) -> Option<String> {
    let selection = selection(plan);
    if selection.is_empty() {
        return None;
    }
    let users = inventory
        .users
        .iter()
        .filter(|u| selection.users.contains(&u.name))
        .map(|u| BackupUser {
            name: u.name.clone(),
            id: u.id.clone(),
            access_keys: u
                .access_keys
                .iter()
                .map(|k| BackupKey {
                    id: k.id.clone(),
                    status: k.status,
                })
                .collect(),
            mfa_device: u.mfa_device.clone(),
            console_logon_status: u
                .login_profile
                .as_ref()
                .map_or(LoginProfileStatus::Active, |lp| lp.status),
        })
        .collect();
    let section = Backup {
        written: written.to_string(),
        users,
        attachments: attachments(&selection, inventory),
    };
    Some(crate::export::backup(inventory, &selection, &section))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DesiredState, parse};
    use crate::model::{Caller, Kind};

    fn demo() -> Inventory {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/demo-account.yaml"
        ))
        .unwrap();
        yaml_serde::from_str(&text).unwrap()
    }

    fn root(inv: &Inventory) -> Caller {
        Caller {
            account_id: inv.account.id.clone(),
            arn: format!("acs:ram::{}:root", inv.account.id),
            identity_type: "Account".into(),
            ..Caller::default()
        }
    }

    #[test]
    fn a_backup_of_a_plan_that_deletes_users_parses_as_a_desired_state_managing_nothing() {
        let inv = demo();
        let plan = crate::plan::diff(
            &DesiredState::new([Kind::Users, Kind::Groups, Kind::Policies]),
            &inv,
            &root(&inv),
        );
        let text = contents(&plan, &inv, "2026-12-02T00:00:00Z").expect("users are deleted");
        let d = parse(&text, "backup.yaml").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
        assert!(d.managed.is_empty(), "{text}");
        let b = d.backup.expect("a backup section");
        let deleted = selection(&plan);
        assert_eq!(b.users.len(), deleted.users.len());
        for u in &b.users {
            let live = inv.users.iter().find(|x| x.name == u.name).unwrap();
            assert_eq!(u.id, live.id);
            assert_eq!(u.access_keys.len(), live.access_keys.len());
            assert!(d.declared.user(&u.name).is_some());
        }
        assert_eq!(d.declared.groups.len(), deleted.groups.len());
        for k in inv.users.iter().flat_map(|u| &u.access_keys) {
            if let Some(secret) = &k.secret {
                assert!(!text.contains(secret.as_str()), "{text}");
            }
        }
    }

    #[test]
    fn a_plan_that_deletes_no_user_group_role_or_policy_needs_no_backup() {
        let inv = demo();
        let plan = crate::plan::diff(&DesiredState::new([]), &inv, &root(&inv));
        assert_eq!(contents(&plan, &inv, "2026-12-02T00:00:00Z"), None);
    }
}
