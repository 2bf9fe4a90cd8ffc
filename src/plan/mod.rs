//! The plan: what stands between an account and its desired state, step by step.
//!
//! [`diff`] is pure and deterministic: the same desired state, inventory and caller
//! always give the same plan, sorted per resource. Each [`Change`] is a typed operation
//! ([`Op`]) at an [`Address`] for a [`Reason`]; the exact API call it makes is derived
//! from the operation by [`call`], so a plan can be audited against the API reference.

mod address;
mod call;
mod decision;
mod diff;
pub mod offboard;
mod op;
mod protection;
mod reason;
mod restore;

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::model::{ApiCall, Inventory, Kind};

pub use address::{Address, BadAddress, Part, PrincipalKind, Resource};
pub use call::{call, call_with_password, read_back, shows_restored};
pub use decision::{Decision, kind_of, not_kept as decision_not_kept};
pub use diff::{diff, fetch_kinds, recycled_name};
pub use op::{Entity, Op, Principal, Tagged, UserProfile};
pub use protection::{Protection, protection};
pub use reason::{Reason, Why};
pub use restore::{Restore, restore};

/// Version of the plan's JSON form.
/// 2: each change carries its typed operation (`op`).
pub const FORMAT_VERSION: u32 = 2;

/// Everything a run would do, with what it keeps and what it refuses to touch.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Plan {
    pub format_version: u32,
    pub account_id: String,
    /// The kinds the desired state manages: anything of them that is not kept is removed.
    pub managed: Vec<Kind>,
    /// The steps, grouped per resource (sub-steps first, then the resource itself).
    pub changes: Vec<Change>,
    /// What would be removed but must not be: the caller's own identity and what it depends on.
    #[serde(default)]
    pub protected: Vec<Protected>,
    /// What a managed kind keeps, and by which rule.
    #[serde(default)]
    pub kept: Vec<Kept>,
    /// What no rule keeps and the plan still does not remove, each with why (and until
    /// when): users held by the idle guard or in quarantine after their deactivation,
    /// entities a `created_before` rule cannot date.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<Held>,
    /// When the plan was made, when a decision depended on it (offboarding dates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_at: Option<String>,
    /// Keep rules that matched nothing (a typo in a rule removes what it meant to keep).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmatched_rules: Vec<String>,
    /// Unmatched keep rules whose most likely target the plan deletes (or purges): `apply`
    /// refuses such a plan unless `--allow-unmatched-keep`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missed_keeps: Vec<MissedKeep>,
    /// SHA-256 of the inventory the plan was built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory_fingerprint: Option<String>,
}

/// One step: one API call.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Stable and unique, e.g. `user.alice/access_key.LTAI4Fabc`.
    pub address: Address,
    pub op: Op,
    /// Why the step is needed.
    pub reason: Reason,
    /// What the plan shows of the target as it is (boxed: most steps have none, and a
    /// plan at the quotas holds over a hundred thousand steps).
    pub before: Option<Box<serde_json::Value>>,
    /// What the plan shows of the target as it will be (changes in place).
    pub after: Option<Box<serde_json::Value>>,
    /// The rule of the file that decided the step, with its line.
    pub decided_by: Option<Decision>,
}

impl Change {
    /// The resource the step belongs to, e.g. `user.alice`.
    pub fn resource(&self) -> &Resource {
        &self.address.resource
    }

    pub fn action(&self) -> Action {
        self.op.action()
    }

    /// Exactly the request the step makes.
    pub fn call(&self) -> ApiCall {
        call(&self.op)
    }

    /// Why the step is needed, in words.
    pub fn why(&self) -> Why<'_> {
        self.reason.text(&self.address)
    }
}

/// The JSON form: the address and its resource, the action, the typed operation, the
/// reason in words and the API call it makes (derived, for reviewers to audit).
impl Serialize for Change {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let fields = 6
            + usize::from(self.before.is_some())
            + usize::from(self.after.is_some())
            + usize::from(self.decided_by.is_some());
        let mut st = s.serialize_struct("Change", fields)?;
        st.serialize_field("address", &self.address)?;
        st.serialize_field("resource", &self.address.resource_address())?;
        st.serialize_field("action", &self.action())?;
        st.serialize_field("op", &self.op)?;
        st.serialize_field("reason", &self.why())?;
        st.serialize_field("call", &self.call())?;
        if let Some(d) = &self.decided_by {
            st.serialize_field("decided_by", d)?;
        }
        if let Some(b) = &self.before {
            st.serialize_field("before", b)?;
        }
        if let Some(a) = &self.after {
            st.serialize_field("after", a)?;
        }
        st.end()
    }
}

/// What a step does to its address.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    /// Attaches a policy to a principal.
    Attach,
    /// Adds a user to a group.
    AddMember,
    Update,
    /// Sets tags on a resource.
    Tag,
    /// Removes tags from a resource.
    Untag,
    /// Sets a setting to the declared value.
    Set,
    /// Deletes an entity.
    Delete,
    /// Detaches a policy from a principal.
    Detach,
    /// Removes a user from a group.
    RemoveMember,
    /// Unbinds an MFA device from its user.
    Unbind,
    /// Switches an access key or a user's console logon off.
    Deactivate,
    /// Switches an access key or a user's console logon back on.
    Reactivate,
    /// Sets a setting back to the account's initial value.
    Reset,
    /// Clears a setting.
    Clear,
    /// Deletes an item from the recycle bin for good.
    Purge,
    /// Brings a deleted user or key back from the recycle bin.
    Restore,
}

impl Action {
    /// Removes something (counted as "to destroy").
    pub fn is_destroy(self) -> bool {
        matches!(
            self,
            Action::Delete | Action::Detach | Action::RemoveMember | Action::Unbind | Action::Purge
        )
    }

    /// Takes something away: a destroy, or switching a key or console logon off. "Already gone"
    /// finishes such a step, and such a step must never reach the caller's own identity.
    pub fn is_removal(self) -> bool {
        self.is_destroy() || self == Action::Deactivate
    }

    /// Adds something (counted as "to add"): a creation, an attachment, a membership.
    pub fn is_create(self) -> bool {
        matches!(
            self,
            Action::Create | Action::Attach | Action::AddMember | Action::Restore
        )
    }

    /// Changes something in place (counted as "to change").
    pub fn is_change(self) -> bool {
        !self.is_create() && !self.is_destroy()
    }

    /// `+`, `~` or `-`.
    pub fn symbol(self) -> char {
        if self.is_create() {
            '+'
        } else if self.is_destroy() {
            '-'
        } else {
            '~'
        }
    }

    /// The word a plan prints: `delete`, `detach`, `remove member`...
    pub fn verb(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Attach => "attach",
            Action::AddMember => "add member",
            Action::Update => "update",
            Action::Tag => "tag",
            Action::Untag => "untag",
            Action::Set => "set",
            Action::Delete => "delete",
            Action::Detach => "detach",
            Action::RemoveMember => "remove member",
            Action::Unbind => "unbind",
            Action::Deactivate => "deactivate",
            Action::Reactivate => "reactivate",
            Action::Reset => "reset",
            Action::Clear => "clear",
            Action::Purge => "purge",
            Action::Restore => "restore",
        }
    }
}

/// Something that would be removed but is the caller's, with why it stays.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Protected {
    pub address: Address,
    pub reason: String,
}

/// Something of a managed kind that stays, with the rule that keeps it.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Kept {
    pub address: Address,
    pub rule: String,
    /// The line of the keep rule (absent when kept by what it hangs off, or for a rule
    /// built in code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// Something the plan does not remove (yet) although no rule keeps it, with why and
/// until when: a `created_before` rule cannot date it, or offboarding holds it (the idle
/// guard, the quarantine).
#[derive(Serialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Held {
    pub address: Address,
    pub reason: String,
    /// The line of the rule that holds it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// When the user was deactivated (its `ramstate:deactivated` record).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deactivated_at: Option<String>,
    /// When its quarantine ends: it may be deleted after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletable_after: Option<String>,
    /// The last use that holds it (a key's last use or the last console logon).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
}

/// A keep rule that matches nothing while the plan deletes the entity it most likely
/// meant: its near name (a typo), or the same name in another case.
#[derive(Serialize, Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MissedKeep {
    /// The rule as the warning prints it: `keep.users: name Ci-bot (line 5)`.
    pub rule: String,
    /// The rule's line in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The entity the plan deletes (`user.ci-bot`), or purges from the recycle bin.
    pub meant: Address,
}

impl std::fmt::Display for MissedKeep {
    /// `keep.users: name Ci-bot (line 5) matches nothing, and the plan deletes user.ci-bot`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if matches!(self.meant.resource, Resource::RecycledUser(_)) {
            "purges"
        } else {
            "deletes"
        };
        write!(
            f,
            "{} matches nothing, and the plan {verb} {}, which it most likely meant",
            self.rule, self.meant
        )
    }
}

/// Counts for the last line of a plan.
#[derive(Serialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// Not removed yet (see [`Plan::held`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub held: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            held: self.held.len(),
            ..Summary::default()
        };
        for c in &self.changes {
            let action = c.action();
            if action.is_create() {
                s.add += 1;
            } else if action.is_destroy() {
                s.destroy += 1;
            } else {
                s.change += 1;
            }
        }
        s
    }

    /// The resources the plan touches, in plan order, without repeats.
    pub fn resources(&self) -> Vec<&Resource> {
        let mut out: Vec<&Resource> = Vec::new();
        for c in &self.changes {
            if out.last() != Some(&c.resource()) {
                out.push(c.resource());
            }
        }
        out
    }

    pub fn change(&self, address: &str) -> Option<&Change> {
        let address: Address = address.parse().ok()?;
        self.changes.iter().find(|c| c.address == address)
    }
}

/// SHA-256 (hex) of the inventory's JSON form: a saved plan is stale when it changes.
/// What changes by merely using the account (last login, last key use) and what only a
/// seed carries (secrets, emulator settings) are left out, so reading an account does not
/// make its plans stale.
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
    let bytes = serde_json::to_vec(&inv).expect("an inventory is plain data");
    hex::encode(Sha256::digest(&bytes))
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod offboard_tests;
