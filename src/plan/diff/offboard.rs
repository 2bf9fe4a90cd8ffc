//! Offboarding: which users that go are deleted now, deactivated first, or held; the
//! steps of a deactivation and of a reactivation.
//!
//! A user that is not kept is, in this order:
//! - finished, when it carries a deactivation record and something is still Active
//!   (a run stopped between the record and the switches): switched off, first date kept;
//! - held by the idle guard, when `min_idle_days` is set and a key of it was used or it
//!   logged on within that many days (unless `--ignore-idle-guard`);
//! - when it carries a record: held while its quarantine lasts or when something used it
//!   after the recorded time, deleted otherwise;
//! - without a record: deactivated with `deactivate_first`, deleted otherwise.
//!
//! A user with a record that is kept again (a keep rule, a declaration) is reactivated:
//! what the record names comes back Active, then the record goes.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use super::{Differ, user_addr};
use crate::model::{KeyStatus, Kind, LoginProfileStatus, User};
use crate::plan::Held;
use crate::plan::address::{Part, Resource};
use crate::plan::offboard::{MAX_VALUE_CHARS, Record, TAG_KEY, days_between, instant, seconds};
use crate::plan::op::Op;
use crate::plan::reason::Reason;

/// What happens to a user that is not kept but stays for this run.
pub(super) enum Fate {
    /// Switched off now.
    Deactivate(Deactivation),
    /// Left as it is (see the plan's `held`).
    Held,
}

pub(super) struct Deactivation {
    /// The record to write: a new one, or the user's own naming more than it did.
    write: Option<Record>,
    /// The user's record, when a deactivation is finished.
    existing: Option<Record>,
    /// Console logon is Active and goes off.
    console: bool,
    /// The Active keys that go Inactive.
    keys: Vec<String>,
    /// What the idle guard would have held the user for (`--ignore-idle-guard`).
    idle_ignored: Option<String>,
}

/// What of a user is switched on now.
struct Active {
    console: bool,
    keys: Vec<String>,
}

impl Active {
    fn of(u: &User) -> Active {
        Active {
            console: u
                .login_profile
                .as_ref()
                .is_some_and(|lp| lp.status.is_active()),
            keys: u
                .access_keys
                .iter()
                .filter(|k| k.status == KeyStatus::Active)
                .map(|k| k.id.clone())
                .collect(),
        }
    }

    fn any(&self) -> bool {
        self.console || !self.keys.is_empty()
    }
}

/// `the same day`, `1 day`, `3 days`.
fn days(n: i64) -> String {
    match n {
        0 => "the same day".to_string(),
        1 => "1 day".to_string(),
        n => format!("{n} days"),
    }
}

/// A user's uses (key last uses, last console logon) after `since`, with the latest date.
fn uses_after(u: &User, since: OffsetDateTime) -> Vec<(OffsetDateTime, String)> {
    let mut out = Vec::new();
    for k in &u.access_keys {
        if let Some(t) = k.last_used_date.as_deref().and_then(instant)
            && t > since
        {
            out.push((t, format!("key {}", k.id)));
        }
    }
    if let Some(t) = u.last_login_date.as_deref().and_then(instant)
        && t > since
    {
        out.push((t, "console logon".to_string()));
    }
    out.sort();
    out
}

impl Differ<'_> {
    /// Decides, for every user that goes, whether it goes now; the others stay this run.
    pub(super) fn offboard_decide(&mut self) {
        let inv = self.inv;
        for u in &inv.users {
            if self.fates.users.contains(&u.name) {
                self.going(u);
            }
        }
    }

    fn hold(&mut self, u: &User, held: Held) {
        self.fates.users.remove(&u.name);
        self.fates.offboarding.insert(u.name.clone(), Fate::Held);
        self.held.push(held);
    }

    fn held(&self, u: &User, reason: String) -> Held {
        Held {
            address: user_addr(&u.name),
            reason,
            line: None,
            deactivated_at: None,
            deletable_after: None,
            last_used: None,
        }
    }

    fn deactivate(&mut self, u: &User, d: Deactivation) {
        self.fates.users.remove(&u.name);
        self.fates
            .offboarding
            .insert(u.name.clone(), Fate::Deactivate(d));
    }

    /// The uses that make the idle guard hold `u`, and the latest one.
    fn idle(&self, u: &User, now: OffsetDateTime) -> Option<(String, String)> {
        let n = self.desired.offboarding.min_idle_days?;
        let uses = uses_after(u, now - Duration::days(i64::from(n)));
        let (latest, _) = uses.last()?;
        let text: Vec<String> = uses
            .iter()
            .rev()
            .map(|(t, what)| format!("{what} used {}", seconds(*t)))
            .collect();
        Some((
            format!("used within {n} days: {}", text.join(", ")),
            seconds(*latest),
        ))
    }

    fn going(&mut self, u: &User) {
        let o = &self.desired.offboarding;
        let tag = u.tags.get(TAG_KEY);
        if tag.is_none() && !o.deactivate_first && o.min_idle_days.is_none() {
            return; // deleted now, as without offboarding
        }
        let Some(now) = self.now else {
            let h = self.held(
                u,
                "offboarding needs the date the plan is made at, and none was given".into(),
            );
            return self.hold(u, h);
        };
        self.used_now = true;
        let record = match tag {
            None => None,
            Some(v) => match Record::parse(v) {
                Some(r) => Some(r),
                None => {
                    let h = self.held(
                        u,
                        format!(
                            "its {TAG_KEY} tag {v:?} is not a deactivation record (`TIME [console] [KEY ID...]`): correct or remove the tag"
                        ),
                    );
                    return self.hold(u, h);
                }
            },
        };
        let active = Active::of(u);
        let quarantine = self.desired.offboarding.quarantine_days;

        // Deactivated, but not all the way: finish it, whatever the guards say.
        if let Some(r) = &record
            && active.any()
        {
            let mut more = r.clone();
            more.console_logon |= active.console;
            more.keys.extend(active.keys.iter().cloned());
            more.keys.sort();
            more.keys.dedup();
            let write = (more != *r).then_some(more);
            return self.deactivate(
                u,
                Deactivation {
                    write,
                    existing: Some(r.clone()),
                    console: active.console,
                    keys: active.keys,
                    idle_ignored: None,
                },
            );
        }

        let idle_ignored = match self.idle(u, now) {
            Some((why, last)) if !self.desired.ignore_idle_guard => {
                let mut h = self.held(u, format!("{why}; --ignore-idle-guard removes it anyway"));
                h.last_used = Some(last);
                if let Some(r) = &record {
                    h.deactivated_at = Some(seconds(r.at));
                    h.deletable_after = Some(r.deletable_after_text(quarantine));
                }
                return self.hold(u, h);
            }
            Some((why, _)) => Some(why),
            None => None,
        };

        match record {
            Some(r) => {
                let after = r.deletable_after(quarantine);
                let uses = uses_after(u, r.at);
                if let Some((latest, _)) = uses.last() {
                    let text: Vec<String> = uses
                        .iter()
                        .rev()
                        .map(|(t, what)| {
                            format!(
                                "{what} used {} after deactivation ({})",
                                days(days_between(r.at, *t)),
                                seconds(*t)
                            )
                        })
                        .collect();
                    let mut h = self.held(
                        u,
                        format!(
                            "{}; deactivated on {}: a user in use is not deleted (keep it, or remove its {TAG_KEY} tag to deactivate it again)",
                            text.join(", "),
                            seconds(r.at)
                        ),
                    );
                    h.deactivated_at = Some(seconds(r.at));
                    h.deletable_after = Some(r.deletable_after_text(quarantine));
                    h.last_used = Some(seconds(*latest));
                    return self.hold(u, h);
                }
                if now <= after {
                    let mut h = self.held(
                        u,
                        format!(
                            "deactivated on {}; in its {quarantine}-day quarantine, deletable after {}",
                            seconds(r.at),
                            r.deletable_after_text(quarantine)
                        ),
                    );
                    h.deactivated_at = Some(seconds(r.at));
                    h.deletable_after = Some(r.deletable_after_text(quarantine));
                    return self.hold(u, h);
                }
                self.fates.delete_reasons.insert(
                    u.name.clone(),
                    Reason::QuarantineOver {
                        deactivated: seconds(r.at),
                        days: quarantine,
                        idle_ignored,
                    },
                );
            }
            None if self.desired.offboarding.deactivate_first => {
                let write = Record {
                    at: now,
                    console_logon: active.console,
                    keys: active.keys.clone(),
                };
                if write.value().chars().count() > MAX_VALUE_CHARS {
                    let h = self.held(
                        u,
                        format!(
                            "its deactivation record would be longer than the {MAX_VALUE_CHARS} characters a tag value holds"
                        ),
                    );
                    return self.hold(u, h);
                }
                self.deactivate(
                    u,
                    Deactivation {
                        write: Some(write),
                        existing: None,
                        console: active.console,
                        keys: active.keys,
                        idle_ignored,
                    },
                );
            }
            None => {
                if let Some(activity) = idle_ignored {
                    self.fates
                        .delete_reasons
                        .insert(u.name.clone(), Reason::IdleGuardIgnored { activity });
                }
            }
        }
    }

    /// What keeps a user that stays, in the words of the plan's kept list.
    fn kept_by(&self, u: &User) -> String {
        let address = user_addr(&u.name);
        if let Some(k) = self.kept.iter().find(|k| k.address == address) {
            return k.rule.clone();
        }
        if let Some(p) = self.protected.iter().find(|p| p.address == address) {
            return p.reason.clone();
        }
        self.declared_keeper(Kind::Users, &u.name)
            .unwrap_or_else(|| "kept".to_string())
    }

    /// Plans the deactivations and reactivations decided before.
    pub(super) fn offboard(&mut self, account_id: &str) {
        let inv = self.inv;
        let domain = inv
            .account
            .default_domain
            .clone()
            .unwrap_or_else(|| crate::model::initial_domain(account_id));
        for u in &inv.users {
            let principal_name = format!("{}@{domain}", u.name);
            match self.fates.offboarding.remove(&u.name) {
                Some(Fate::Deactivate(d)) => self.deactivation(u, principal_name, d),
                Some(Fate::Held) => {
                    self.fates.offboarding.insert(u.name.clone(), Fate::Held);
                }
                None => {
                    let staying = !self.fates.users.contains(&u.name);
                    let governed = self.desired.manages(Kind::Users)
                        || self.declared_keeper(Kind::Users, &u.name).is_some();
                    if staying
                        && governed
                        && let Some(r) = u.tags.get(TAG_KEY).and_then(|v| Record::parse(v))
                    {
                        self.reactivation(u, principal_name, &r);
                    }
                }
            }
        }
    }

    fn deactivation(&mut self, u: &User, principal_name: String, d: Deactivation) {
        let res = Resource::User(u.name.as_str().into());
        let quarantine = self.desired.offboarding.quarantine_days;
        let step_reason = match &d.existing {
            Some(r) => Reason::FinishDeactivation {
                since: seconds(r.at),
            },
            None => Reason::DeactivateFirst,
        };
        if let Some(w) = &d.write {
            let reason = match &d.existing {
                Some(_) => step_reason.clone(),
                None => Reason::Deactivate {
                    deletable_after: w.deletable_after_text(quarantine),
                    idle_ignored: d.idle_ignored.clone(),
                },
            };
            self.push_with(
                res.clone().part(Part::Deactivation),
                Op::RecordDeactivation {
                    user: u.name.as_str().into(),
                    principal_name: principal_name.as_str().into(),
                    record: w.value(),
                },
                reason,
                d.existing.as_ref().map(|r| json!({ TAG_KEY: r.value() })),
                Some(json!({ TAG_KEY: w.value() })),
            );
        }
        if d.console {
            self.push_with(
                res.clone().part(Part::LoginProfileStatus),
                Op::DisableConsoleLogon {
                    user: u.name.as_str().into(),
                    principal_name: principal_name.as_str().into(),
                },
                step_reason.clone(),
                Some(json!({ "status": LoginProfileStatus::Active })),
                Some(json!({ "status": LoginProfileStatus::Inactive })),
            );
        }
        for k in &d.keys {
            self.push_with(
                res.clone().part(Part::AccessKeyStatus(k.as_str().into())),
                Op::DeactivateAccessKey {
                    user: u.name.as_str().into(),
                    key: k.as_str().into(),
                },
                step_reason.clone(),
                Some(json!({ "status": KeyStatus::Active })),
                Some(json!({ "status": KeyStatus::Inactive })),
            );
        }
    }

    fn reactivation(&mut self, u: &User, principal_name: String, r: &Record) {
        let res = Resource::User(u.name.as_str().into());
        let reason = Reason::Reactivate {
            since: seconds(r.at),
            kept_by: self.kept_by(u),
        };
        if r.console_logon
            && u.login_profile
                .as_ref()
                .is_some_and(|lp| !lp.status.is_active())
        {
            self.push_with(
                res.clone().part(Part::LoginProfileStatus),
                Op::EnableConsoleLogon {
                    user: u.name.as_str().into(),
                    principal_name: principal_name.as_str().into(),
                },
                reason.clone(),
                Some(json!({ "status": LoginProfileStatus::Inactive })),
                Some(json!({ "status": LoginProfileStatus::Active })),
            );
        }
        for k in &u.access_keys {
            if k.status == KeyStatus::Inactive && r.keys.contains(&k.id) {
                self.push_with(
                    res.clone()
                        .part(Part::AccessKeyStatus(k.id.as_str().into())),
                    Op::ActivateAccessKey {
                        user: u.name.as_str().into(),
                        key: k.id.as_str().into(),
                    },
                    reason.clone(),
                    Some(json!({ "status": KeyStatus::Inactive })),
                    Some(json!({ "status": KeyStatus::Active })),
                );
            }
        }
        self.push_with(
            res.part(Part::Deactivation),
            Op::ClearDeactivation {
                user: u.name.as_str().into(),
                principal_name: principal_name.into(),
            },
            reason,
            Some(json!({ TAG_KEY: r.value() })),
            None,
        );
    }
}
