//! The recycle bin: purged only when the file says `recycle_bin: purge`, and never of a
//! user that the file keeps by name (a keep rule of `keep.users`, or a declaration) nor
//! of that user's keys. A purge cannot be undone: the 30 days in which a deleted user
//! can be restored end with it.

use std::collections::BTreeMap;

use serde_json::json;

use super::super::Kept;
use super::super::address::{Part, Resource};
use super::super::op::Op;
use super::super::reason::Reason;
use super::{Differ, compact, line_suffix, opt};
use crate::config::Candidate;
use crate::model::{Kind, RecycledUser};

/// The user name of a recycled user: its principal name before the `@`.
pub fn recycled_name(u: &RecycledUser) -> &str {
    u.principal_name
        .split_once('@')
        .map_or(u.principal_name.as_str(), |(name, _)| name)
}

impl<'a> Differ<'a> {
    /// Why the file keeps a user named as `c` names it, if it does: a declaration or a
    /// keep rule of `keep.users`.
    fn keeps_user(&self, c: &Candidate<'_>) -> Option<(String, Option<usize>)> {
        if let Some(rule) = self.declared_keeper(Kind::Users, c.name) {
            let line = super::named_line(&rule);
            return Some((rule, line));
        }
        self.desired.keeper(Kind::Users, c).map(|rule| {
            (
                format!("keep.users: {rule}{}", line_suffix(rule.line)),
                (rule.line > 0).then_some(rule.line),
            )
        })
    }

    pub(super) fn recycle_bin(&mut self) {
        if !self.desired.manages(Kind::RecycleBin) {
            return;
        }
        let inv = self.inv;
        let bin = &inv.recycle_bin;
        // The users whose recycled items stay, by user ID, with why.
        let mut stays: BTreeMap<&str, String> = BTreeMap::new();
        for u in &bin.users {
            let name = recycled_name(u);
            let address = Resource::RecycledUser(u.id.as_str().into()).address();
            let c = Candidate {
                name,
                tags: None,
                create_date: u.create_date.as_deref(),
            };
            self.recycled.push((name, u.id.as_str()));
            if self.desired.manages(Kind::Users) {
                self.candidates.push((Kind::Users, c));
            }
            if let Some((rule, line)) = self.keeps_user(&c) {
                stays.insert(&u.id, format!("its user {name} is kept by {rule}"));
                self.kept.push(Kept {
                    address,
                    rule,
                    line,
                });
            } else if let Some(held) = self.undated(Kind::Users, &address, &c) {
                stays.insert(&u.id, format!("its user {name} is held"));
                self.held.push(held);
            }
        }
        // A live user the file keeps keeps the keys it had deleted into the bin.
        for u in &inv.users {
            let c = Candidate {
                name: &u.name,
                tags: Some(&u.tags),
                create_date: u.create_date.as_deref(),
            };
            if !self.fates.users.contains(&u.name)
                && let Some((rule, _)) = self.keeps_user(&c)
            {
                stays.insert(&u.id, format!("its user {} is kept by {rule}", u.name));
            }
        }
        let in_bin: std::collections::BTreeSet<&str> =
            bin.users.iter().map(|u| u.id.as_str()).collect();
        for k in &bin.access_keys {
            let address = if in_bin.contains(k.user_id.as_str()) {
                Resource::RecycledUser(k.user_id.as_str().into())
                    .part(Part::AccessKey(k.id.as_str().into()))
            } else {
                Resource::RecycledAccessKey(k.id.as_str().into()).address()
            };
            if let Some(why) = stays.get(k.user_id.as_str()) {
                self.kept.push(Kept {
                    address,
                    rule: why.clone(),
                    line: None,
                });
                continue;
            }
            self.push_with(
                address,
                Op::PurgeRecycledAccessKey {
                    user_id: k.user_id.as_str().into(),
                    key: k.id.as_str().into(),
                },
                Reason::PurgeAccessKey,
                Some(compact(json!({
                    "user_id": k.user_id,
                    "recycle_date": opt(&k.recycle_date),
                }))),
                None,
            );
        }
        for u in &bin.users {
            if stays.contains_key(u.id.as_str()) {
                continue;
            }
            self.push_with(
                Resource::RecycledUser(u.id.as_str().into()).address(),
                Op::PurgeRecycledUser {
                    user_id: u.id.as_str().into(),
                },
                Reason::PurgeUser,
                Some(compact(json!({
                    "principal_name": u.principal_name,
                    "recycle_date": opt(&u.recycle_date),
                }))),
                None,
            );
        }
    }
}
