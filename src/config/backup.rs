//! `backup:`: what an apply recorded before it deleted users, groups, roles or custom
//! policies, beyond what their declarations under `resources:` say: each user's ID (the
//! recycle bin is keyed by it), its access keys (IDs and statuses, never a secret) and
//! its MFA device (informative: a device binding cannot be restored).
//!
//! ```yaml
//! backup:
//!   written: 2026-12-02T01:02:03Z
//!   users:
//!     - name: alice
//!       id: "200000000001"
//!       access_keys: [{ id: LTAI4Fabc, status: Active }]
//!       mfa_device: acs:ram::5123456789012345:mfa/alice
//! ```
//!
//! A file with this section is still a desired-state file: `ramstate diff` reads it
//! (the section changes no plan), `ramstate restore` acts on it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use yaml_serde::Value;

use super::{Checker, Seg, push, val};
use crate::model::{KeyStatus, LoginProfileStatus};

/// What a backup holds beyond the declarations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    /// When the backup was written (UTC, RFC 3339).
    pub written: String,
    /// The users the apply deleted; each is also declared under `resources.users`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<BackupUser>,
    /// Attachments of a deleted custom policy (declared under `resources.policies`) to
    /// users, groups and roles that stayed, so a restore attaches it to them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<BackupAttachment>,
}

/// A deleted custom policy's attachment to a principal that was not deleted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupAttachment {
    /// The custom policy's name.
    pub policy: String,
    /// `user`, `group` or `role`.
    pub principal_type: BackupPrincipalType,
    /// The user, group or role name.
    pub principal: String,
}

/// What kind of principal a policy was attached to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum BackupPrincipalType {
    /// A RAM user.
    User,
    /// A user group.
    Group,
    /// A RAM role.
    Role,
}

/// A deleted user as the recycle bin and a restore need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupUser {
    /// The user name, as declared under `resources.users`.
    pub name: String,
    /// The user's ID: the recycle bin keeps a deleted user under it.
    pub id: String,
    /// The user's access keys: IDs and statuses (never a secret).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<BackupKey>,
    /// The serial number of the MFA device bound to the user. Informative: a restore
    /// cannot bind it again; the user must.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_device: Option<String>,
    /// `Inactive` when the user had a console logon that was switched off (the
    /// declaration's `console_logon` says only that there was one): a restore creates it
    /// switched off again. Absent: Active, or no console logon.
    #[serde(default, skip_serializing_if = "LoginProfileStatus::is_active")]
    pub console_logon_status: LoginProfileStatus,
}

/// An access key as it was: its ID and status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackupKey {
    /// The AccessKey ID (`LTAI...`).
    pub id: String,
    /// `Active` or `Inactive`: what a restore sets it to again.
    pub status: KeyStatus,
}

impl Backup {
    pub fn user(&self, name: &str) -> Option<&BackupUser> {
        self.users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }
}

impl Checker<'_> {
    /// Reads `backup:`; each user it lists must be declared under `resources.users`.
    pub(super) fn backup(&mut self, v: &Value, declared: &super::Declared) -> Option<Backup> {
        let path = val(&[], "backup");
        let b: Backup = match yaml_serde::from_value(v.clone()) {
            Ok(b) => b,
            Err(e) => {
                // Point at the user whose entry is wrong, when one is.
                let (path, e) = match v.get("users") {
                    Some(Value::Sequence(items)) => items
                        .iter()
                        .enumerate()
                        .find_map(|(i, item)| {
                            yaml_serde::from_value::<BackupUser>(item.clone())
                                .err()
                                .map(|e| (push(&val(&path, "users"), Seg::Index(i)), e))
                        })
                        .unwrap_or((path, e)),
                    _ => (path, e),
                };
                self.problem(
                    path,
                    format!("`backup`: {}", super::strip_location(&e.to_string())),
                    "not a valid backup section",
                    Some(
                        "a backup section has `written` and `users` (each with `name`, `id`, `access_keys`, `mfa_device`)"
                            .into(),
                    ),
                );
                return None;
            }
        };
        let users = val(&path, "users");
        let mut seen = std::collections::BTreeSet::new();
        for (i, u) in b.users.iter().enumerate() {
            let at = val(&push(&users, Seg::Index(i)), "name");
            if !seen.insert(u.name.to_lowercase()) {
                self.problem(
                    at,
                    format!("`{}` is listed twice in `backup.users`", u.name),
                    "duplicate",
                    None,
                );
            } else if declared.user(&u.name).is_none() {
                self.problem(
                    at,
                    format!(
                        "backup user `{}` is not declared under `resources.users`",
                        u.name
                    ),
                    "not declared",
                    Some("a backup declares each user it lists; was the file edited?".into()),
                );
            }
        }
        let attachments = val(&path, "attachments");
        for (i, a) in b.attachments.iter().enumerate() {
            if declared.policy(&a.policy).is_none() {
                self.problem(
                    val(&push(&attachments, Seg::Index(i)), "policy"),
                    format!(
                        "backup attachment of policy `{}` names a policy that is not declared under `resources.policies`",
                        a.policy
                    ),
                    "not declared",
                    Some("a backup declares each deleted policy it re-attaches; was the file edited?".into()),
                );
            }
        }
        Some(b)
    }
}
