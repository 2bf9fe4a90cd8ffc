//! Which line of the file decided each step: for a removal, the line that manages the
//! kind (no keep rule matched); for a sub-step, the decision of the resource it unblocks;
//! for a setting, the setting's line; for a declared resource, its declaration (or the
//! declared list that governs a membership, attachment or tag). `explain` and the plan's
//! JSON print it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Address, Change, Reason, Resource};
use crate::config::DesiredState;
use crate::model::Kind;

/// The rule of the file that decided a step.
#[derive(Serialize, Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The rule in words, e.g. `manage: users, and no keep rule matches`; shared by
    /// every step it decides (a plan at the quotas has over a hundred thousand).
    pub rule: std::sync::Arc<str>,
    /// Its line in the file (absent for a desired state built in code).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rule)?;
        if let Some(line) = self
            .line
            .filter(|l| !self.rule.contains(&format!("line {l}")))
        {
            write!(f, " (line {line})")?;
        }
        Ok(())
    }
}

/// The kind whose management a resource falls under; `None` for the account settings
/// that are only ever declared (password policy, security preference), which no
/// `manage` entry governs.
pub fn kind_of(resource: &Resource) -> Option<Kind> {
    match resource {
        Resource::PasswordPolicy | Resource::SecurityPreference => None,
        r => Some(r.kind()),
    }
}

/// Why an entity of a managed kind goes: its kind is managed and no keep rule matches.
pub fn not_kept(desired: &DesiredState, kind: Kind) -> Decision {
    let rules = desired.keep.get(&kind).map_or(0, Vec::len);
    let rule = match rules {
        0 => format!("manage: {kind}, and keep.{kind} has no rules"),
        1 => format!("manage: {kind}, and its one keep.{kind} rule does not match"),
        n => format!("manage: {kind}, and none of the {n} keep.{kind} rules matches"),
    };
    Decision {
        rule: rule.into(),
        line: desired.manage_lines.get(&kind).copied(),
    }
}

fn setting(desired: &DesiredState, kind: Kind, value: &str) -> Decision {
    Decision {
        rule: format!("{kind}: {value}").into(),
        line: desired.manage_lines.get(&kind).copied(),
    }
}

/// The decision behind each change, filled in place.
pub fn decide(desired: &DesiredState, changes: &mut [Change]) {
    // Resource-level decisions first: sub-steps take the decision of what they unblock.
    let mut own: BTreeMap<Address, Decision> = BTreeMap::new();
    for c in changes.iter() {
        if let Some(d) = direct(desired, &c.reason, c.resource()) {
            own.insert(c.address.resource_address(), d);
        }
    }
    for c in changes.iter_mut() {
        c.decided_by = match &c.reason {
            Reason::Blocks
            | Reason::DeactivateFirst
            | Reason::FinishDeactivation { .. }
            | Reason::MemberStays
            | Reason::PrincipalStays => own
                .get(&c.address.resource_address())
                .cloned()
                .or_else(|| kind_of(c.resource()).map(|k| not_kept(desired, k))),
            // Room for a declared policy's new version: decided by that declaration.
            Reason::VersionCap { policy } => own
                .get(&Resource::Policy(policy.as_str().into()).address())
                .cloned(),
            other => direct(desired, other, c.resource()),
        };
    }
    // Most steps share a handful of rules: keep one copy of each text.
    let mut texts: std::collections::HashSet<std::sync::Arc<str>> =
        std::collections::HashSet::new();
    for d in changes.iter_mut().filter_map(|c| c.decided_by.as_mut()) {
        match texts.get(&d.rule) {
            Some(shared) => d.rule = shared.clone(),
            None => {
                texts.insert(d.rule.clone());
            }
        }
    }
}

/// The decision a reason names by itself, without looking at other steps.
fn direct(desired: &DesiredState, reason: &Reason, resource: &Resource) -> Option<Decision> {
    match reason {
        Reason::NotKept(kind) => Some(not_kept(desired, *kind)),
        Reason::Deactivate { .. }
        | Reason::QuarantineOver { .. }
        | Reason::IdleGuardIgnored { .. } => Some(not_kept(desired, Kind::Users)),
        Reason::PolicyNotKept
        | Reason::ServiceLinkedRoleNotKept { .. }
        | Reason::DeviceNotKept { .. } => kind_of(resource).map(|k| not_kept(desired, k)),
        Reason::DefaultDomain { .. } => Some(setting(desired, Kind::DefaultDomain, "reset")),
        Reason::AccountAlias { .. } => Some(setting(desired, Kind::AccountAlias, "clear")),
        Reason::PurgeAccessKey | Reason::PurgeUser | Reason::PurgeAfterDelete => {
            Some(setting(desired, Kind::RecycleBin, "purge"))
        }
        Reason::Declared { line } | Reason::Drifted { line, .. } => Some(Decision {
            rule: format!("declared in resources.{}", declared_section(resource)).into(),
            line: Some(*line),
        }),
        Reason::Governed { line, list } => Some(Decision {
            rule: format!("{list} are declared").into(),
            line: Some(*line),
        }),
        Reason::Backup { line, .. } => Some(Decision {
            rule: "recorded in the backup".into(),
            line: Some(*line),
        }),
        Reason::Blocks
        | Reason::DeactivateFirst
        | Reason::FinishDeactivation { .. }
        | Reason::Reactivate { .. }
        | Reason::MemberStays
        | Reason::PrincipalStays
        | Reason::VersionCap { .. } => None,
    }
}

/// The list under `resources:` that declares a resource.
fn declared_section(resource: &Resource) -> &'static str {
    match kind_of(resource) {
        Some(k) if !k.is_setting() => k.as_str(),
        _ => "account",
    }
}
