//! The guards a careful admin expects on top of keep rules: the Resource Directory
//! access role stays unless the file says otherwise, an entity a `created_before` rule
//! cannot date is held rather than removed, and a keep rule that matches nothing while
//! the plan deletes what it most likely meant is a refusal, not a warning.

use super::super::address::{Address, Resource};
use super::super::{Action, Held, MissedKeep};
use super::{Differ, line_suffix};
use crate::config::{Candidate, KeepRule, Matcher, RESOURCE_DIRECTORY_ROLE};
use crate::model::Kind;

/// The address of the resource of `kind` named `name`, for the kinds keep rules name.
fn resource_of(kind: Kind, name: &str) -> Option<Resource> {
    let n = name.to_string();
    Some(match kind {
        Kind::Users => Resource::User(n.into()),
        Kind::Groups => Resource::Group(n.into()),
        Kind::Roles => Resource::Role(n.into()),
        Kind::ServiceLinkedRoles => Resource::ServiceLinkedRole(n.into()),
        Kind::Policies => Resource::Policy(n.into()),
        Kind::SamlProviders => Resource::SamlProvider(n.into()),
        Kind::OidcProviders => Resource::OidcProvider(n.into()),
        Kind::VirtualMfaDevices => Resource::VirtualMfaDevice(n.into()),
        Kind::Applications => Resource::Application(n.into()),
        Kind::DefaultDomain | Kind::AccountAlias | Kind::RecycleBin => return None,
    })
}

/// Whether `date` is a date a `created_before` rule can compare.
fn dated(date: Option<&str>) -> bool {
    date.is_some_and(|d| KeepRule::created_before(d).is_ok())
}

impl<'a> Differ<'a> {
    /// Why an entity that no rule keeps still stays, recorded where the plan shows it:
    /// the Resource Directory access role (protected), or an undated entity of a kind
    /// with a `created_before` rule (held). `true` when it stays.
    pub(super) fn guarded_anyway(
        &mut self,
        kind: Kind,
        address: &Address,
        c: &Candidate<'_>,
    ) -> bool {
        if kind == Kind::Roles
            && c.name.eq_ignore_ascii_case(RESOURCE_DIRECTORY_ROLE)
            && self.desired.delete_resource_directory_role.is_none()
        {
            self.protected.push(super::super::Protected {
                address: address.clone(),
                reason: "the Resource Directory access role: the management account reaches this account through it; `resource_directory_access_role: delete` lets the plan remove it".into(),
            });
            return true;
        }
        if let Some(held) = self.undated(kind, address, c) {
            self.held.push(held);
            return true;
        }
        false
    }

    /// An entity without a creation date, of a kind a `created_before` rule is given
    /// for: the rule cannot say whether it keeps it, so it is held.
    pub(super) fn undated(&self, kind: Kind, address: &Address, c: &Candidate<'_>) -> Option<Held> {
        if dated(c.create_date) {
            return None;
        }
        let rule = self
            .desired
            .keep
            .get(&kind)?
            .iter()
            .find(|r| matches!(r.matcher, Matcher::CreatedBefore { .. }))?;
        let known = if c.create_date.is_some() {
            "its creation date is not a date"
        } else {
            "its creation date is unknown"
        };
        Some(Held {
            address: address.clone(),
            reason: format!(
                "{known}, so keep.{kind}: {rule}{} cannot tell whether it keeps it: held, never removed",
                line_suffix(rule.line)
            ),
            line: (rule.line > 0).then_some(rule.line),
            deactivated_at: None,
            deletable_after: None,
            last_used: None,
        })
    }

    /// Keep rules of managed kinds that match nothing (often a typo, and then whatever
    /// the rule meant to keep is removed), and among them those whose most likely target
    /// (a near name, or the same name in another case) the plan deletes or purges.
    pub(super) fn unmatched(&self) -> (Vec<String>, Vec<MissedKeep>) {
        let mut out = Vec::new();
        let mut missed = Vec::new();
        for (kind, rules) in &self.desired.keep {
            if !self.desired.manages(*kind) {
                continue;
            }
            for rule in rules {
                let used = self
                    .candidates
                    .iter()
                    .any(|(k, c)| k == kind && rule.matches(c));
                if used {
                    continue;
                }
                let near = match &rule.matcher {
                    Matcher::Name(name) => self.nearest_name(*kind, name),
                    _ => None,
                };
                let hint = near
                    .map(|n| format!("; did you mean {n}?"))
                    .unwrap_or_default();
                let text = format!("keep.{kind}: {rule}{}", line_suffix(rule.line));
                if let Some(meant) = near.and_then(|n| self.removed(*kind, n)) {
                    missed.push(MissedKeep {
                        rule: text.clone(),
                        line: (rule.line > 0).then_some(rule.line),
                        meant,
                    });
                }
                out.push(format!("{text}{hint}"));
            }
        }
        (out, missed)
    }

    /// The address at which the plan deletes the entity of `kind` named `name` (or, for
    /// a recycled user of that name, purges it), if it does.
    fn removed(&self, kind: Kind, name: &str) -> Option<Address> {
        let live = resource_of(kind, name);
        let recycled: Vec<Resource> = if kind == Kind::Users {
            self.recycled
                .iter()
                .filter(|(n, _)| *n == name)
                .map(|(_, id)| Resource::RecycledUser(id.to_string().into()))
                .collect()
        } else {
            Vec::new()
        };
        self.changes
            .iter()
            .filter(|c| c.address.is_resource())
            .filter(|c| matches!(c.action(), Action::Delete | Action::Purge))
            .find(|c| Some(c.resource()) == live.as_ref() || recycled.contains(c.resource()))
            .map(|c| c.address.clone())
    }

    /// The name of `kind` closest to a name rule that matched nothing, when it is close
    /// enough to be a typo: differing in case only, or by one edit (two for longer names).
    pub(super) fn nearest_name(&self, kind: Kind, name: &str) -> Option<&'a str> {
        let want = name.to_lowercase();
        let limit = if want.chars().count() >= 5 { 2 } else { 1 };
        self.candidates
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, c)| (super::edit_distance(&want, &c.name.to_lowercase()), c.name))
            .filter(|(d, _)| *d <= limit)
            .min()
            .map(|(_, n)| n)
    }
}
