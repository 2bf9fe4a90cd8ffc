//! Why a step is in the plan. Printed as one plain sentence, with the step's address
//! ([`Reason::text`]): a reason does not repeat the resource its step belongs to (a plan
//! at the quotas holds over a hundred thousand sub-steps that each name theirs).

use std::fmt;

use serde::{Serialize, Serializer};

use super::address::{Address, Part};
use crate::model::Kind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The kind is managed and no rule keeps the entity.
    NotKept(Kind),
    /// A custom policy that is not kept; its non-default versions go with it.
    PolicyNotKept,
    /// A service-linked role that is not kept; `in_use` lists the regions where
    /// resources still use it (its deletion fails until they are released).
    ServiceLinkedRoleNotKept { in_use: Vec<String> },
    /// A virtual MFA device that is not kept, and the user it is bound to (which goes).
    DeviceNotKept { bound_to: Option<String> },
    /// A sub-step without which the step's resource cannot be deleted.
    Blocks,
    /// A member that stays (the step's `member` part) leaves a group that goes.
    MemberStays,
    /// A principal that stays (the step's `attachment` part) loses a policy that goes.
    PrincipalStays,
    /// A switch turned off as part of the deactivation of the step's user.
    DeactivateFirst,
    /// `offboarding.deactivate_first`: a user that is not kept is deactivated now and
    /// deleted by a later run. `idle_ignored`: what the idle guard would have held it
    /// for, had `--ignore-idle-guard` not been given.
    Deactivate {
        deletable_after: String,
        idle_ignored: Option<String>,
    },
    /// A user was deactivated (recorded) but this is still Active: a run stopped
    /// halfway, or it was switched back on; finished now, keeping the first date.
    FinishDeactivation { since: String },
    /// A deactivated user is kept again: what was Active before comes back.
    Reactivate { since: String, kept_by: String },
    /// A deactivated user whose quarantine is over and that nothing used since.
    QuarantineOver {
        deactivated: String,
        days: u32,
        idle_ignored: Option<String>,
    },
    /// A user that is not kept, used within `min_idle_days`, removed anyway.
    IdleGuardIgnored { activity: String },
    /// The default domain differs from the account's own.
    DefaultDomain { now: String, initial: String },
    /// The account alias is set and managed.
    AccountAlias { alias: String },
    /// `recycle_bin: purge`: a recycled access key.
    PurgeAccessKey,
    /// `recycle_bin: purge`: a recycled user.
    PurgeUser,
    /// `recycle_bin: purge`: what the deletion of a user may have put in the bin.
    PurgeAfterDelete,
    /// Declared in the file and not in the account.
    Declared { line: usize },
    /// Declared in the file; these fields differ in the account.
    Drifted { line: usize, fields: Vec<String> },
    /// A list the file declares (a user's groups, a group's members, a principal's
    /// policies) governs this membership or attachment.
    Governed { line: usize, list: String },
    /// A policy at the five-version cap: the oldest non-default version makes room.
    VersionCap { policy: String },
    /// What a backup records (on `line`) and the account lacks: `what` says it.
    Backup { line: usize, what: String },
}

fn ignored(activity: &str) -> String {
    format!("the idle guard would hold it ({activity}), ignored by --ignore-idle-guard")
}

fn not_kept(kind: Kind) -> String {
    format!("{kind} are managed and no keep rule matches")
}

impl Reason {
    /// The reason in words, for the step at `at`.
    pub fn text<'a>(&'a self, at: &'a Address) -> Why<'a> {
        Why { reason: self, at }
    }
}

/// A reason in words: a [`Reason`] and the address of its step.
#[derive(Debug, Clone, Copy)]
pub struct Why<'a> {
    reason: &'a Reason,
    at: &'a Address,
}

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let resource = self.at.resource_address();
        match self.reason {
            Reason::NotKept(kind) => f.write_str(&not_kept(*kind)),
            Reason::PolicyNotKept => write!(
                f,
                "{}; CascadingDelete removes its non-default versions",
                not_kept(Kind::Policies)
            ),
            Reason::ServiceLinkedRoleNotKept { in_use } => {
                write!(
                    f,
                    "{}; a service-linked role is deleted through ResourceManager",
                    not_kept(Kind::ServiceLinkedRoles)
                )?;
                if !in_use.is_empty() {
                    write!(
                        f,
                        "; it is in use in {}, so its deletion fails until those resources are released",
                        in_use.join(", ")
                    )?;
                }
                Ok(())
            }
            Reason::DeviceNotKept { bound_to } => {
                let kept = not_kept(Kind::VirtualMfaDevices);
                match bound_to {
                    Some(u) => write!(
                        f,
                        "{kept}; bound to user {u}, which is removed (unbound first)"
                    ),
                    None => write!(f, "{kept}; not bound to any user"),
                }
            }
            Reason::Blocks => write!(f, "blocks the deletion of {resource}"),
            Reason::MemberStays => match &self.at.part {
                Some(Part::Member(user)) => {
                    write!(f, "blocks the deletion of {resource}; user {user} stays")
                }
                _ => write!(f, "blocks the deletion of {resource}"),
            },
            Reason::PrincipalStays => match &self.at.part {
                Some(Part::Attachment(kind, name)) => write!(
                    f,
                    "blocks the deletion of {resource}; {kind} {name} stays without it"
                ),
                _ => write!(f, "blocks the deletion of {resource}"),
            },
            Reason::DeactivateFirst => {
                write!(f, "switched off as part of the deactivation of {resource}")
            }
            Reason::Deactivate {
                deletable_after,
                idle_ignored,
            } => {
                write!(
                    f,
                    "{}; offboarding.deactivate_first: deactivated now (console logon and access keys switched off), deletable after {deletable_after}",
                    not_kept(Kind::Users)
                )?;
                if let Some(why) = idle_ignored {
                    write!(f, "; {}", ignored(why))?;
                }
                Ok(())
            }
            Reason::FinishDeactivation { since } => write!(
                f,
                "{resource} was deactivated on {since} but this is still Active (a run stopped halfway, or it was switched back on): switched off now"
            ),
            Reason::Reactivate { since, kept_by } => write!(
                f,
                "{resource} is kept again ({kept_by}): what was Active before its deactivation on {since} comes back"
            ),
            Reason::QuarantineOver {
                deactivated,
                days,
                idle_ignored,
            } => {
                write!(
                    f,
                    "{}; deactivated on {deactivated}, its {days}-day quarantine is over and nothing used it since",
                    not_kept(Kind::Users)
                )?;
                if let Some(why) = idle_ignored {
                    write!(f, "; {}", ignored(why))?;
                }
                Ok(())
            }
            Reason::IdleGuardIgnored { activity } => {
                write!(f, "{}; {}", not_kept(Kind::Users), ignored(activity))
            }
            Reason::DefaultDomain { now, initial } => write!(
                f,
                "the default domain is {now}; the account's own is {initial}"
            ),
            Reason::AccountAlias { alias } => write!(
                f,
                "the account alias {alias} is set and account_alias is managed"
            ),
            Reason::PurgeAccessKey => {
                f.write_str("recycle_bin: purge deletes recycled access keys for good")
            }
            Reason::PurgeUser => f.write_str("recycle_bin: purge deletes recycled users for good"),
            Reason::Declared { line } => write!(f, "declared on line {line}; not in the account"),
            Reason::Drifted { line, fields } => write!(
                f,
                "declared on line {line}; the account differs in {}",
                fields.join(", ")
            ),
            Reason::Governed { line, list } => {
                write!(f, "{list} are declared on line {line}")
            }
            Reason::VersionCap { policy } => write!(
                f,
                "policy {policy} has 5 versions, the most RAM keeps: its oldest non-default version goes first to make room"
            ),
            Reason::Backup { line, what } => write!(f, "{what}; the backup records it on line {line}"),
            Reason::PurgeAfterDelete => f.write_str(
                "recycle_bin: purge; if the deleted user and its keys were recycled, they are deleted for good",
            ),
        }
    }
}

impl Serialize for Why<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}
