//! Desired state + inventory + caller → plan.
//!
//! Each entity of a managed kind is kept (by a rule, by hanging off something kept, or
//! because it is the caller's) or removed. Removing an entity plans the sub-steps its
//! deletion needs (detaches, member removals, unbind, key deletions); each sub-step
//! belongs to a removed resource, so nothing kept is ever the subject of a change.

mod declare;
mod guards;
mod recycle;

pub use recycle::recycled_name;
mod offboard;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::address::{Address, Part, Resource};
use super::op::{Entity, Op, Principal};
use super::protection::{Protection, protection};
use super::reason::Reason;
use super::{Action, Change, FORMAT_VERSION, Held, Kept, Plan, Protected, fingerprint};
use crate::config::{Candidate, DesiredState};
use crate::model::{Caller, Group, Inventory, Kind, PolicyRef, PolicyType, Role, VirtualMfaDevice};

/// The kinds an inventory must hold for a diff of `managed` to be right: removing a
/// group needs its members (users), removing a policy needs its attachments (users,
/// groups, roles), removing a device needs its binding (users), removing an identity
/// provider needs the roles' trust policies (the caller's role protects the providers
/// it trusts).
pub fn fetch_kinds(managed: &BTreeSet<Kind>) -> BTreeSet<Kind> {
    let mut out = managed.clone();
    if managed.contains(&Kind::SamlProviders) || managed.contains(&Kind::OidcProviders) {
        out.insert(Kind::Roles);
    }
    if managed.contains(&Kind::Groups) || managed.contains(&Kind::VirtualMfaDevices) {
        out.insert(Kind::Users);
    }
    if managed.contains(&Kind::Policies) {
        out.extend([
            Kind::Users,
            Kind::Groups,
            Kind::Roles,
            Kind::ServiceLinkedRoles,
        ]);
    }
    out
}

/// Builds the plan that takes `inventory` to `desired`, never touching `caller`.
pub fn diff(desired: &DesiredState, inventory: &Inventory, caller: &Caller) -> Plan {
    let account_id = if inventory.account.id.is_empty() {
        caller.account_id.clone()
    } else {
        inventory.account.id.clone()
    };
    let mut d = Differ {
        desired,
        inv: inventory,
        changes: Vec::new(),
        protected: Vec::new(),
        kept: Vec::new(),
        guarded: protection(inventory, caller),
        fates: Fates::default(),
        candidates: Vec::new(),
        held: Vec::new(),
        recycled: Vec::new(),
        now: desired.now.map(super::offboard::to_millis),
        used_now: false,
    };
    d.decide_all();
    d.users();
    d.offboard(&account_id);
    d.groups();
    d.roles();
    d.policies();
    d.devices();
    d.providers_and_applications();
    d.settings(&account_id);
    d.recycle_bin();
    d.declared(&account_id);

    let (unmatched_rules, missed_keeps) = d.unmatched();
    let mut changes = d.changes;
    sort_changes(&mut changes);
    super::decision::decide(desired, &mut changes);
    let mut protected = d.protected;
    protected.sort_by_cached_key(|p| (p.address.to_string(), p.reason.clone()));
    protected.dedup();
    let mut kept = d.kept;
    kept.sort_by_cached_key(|k| (k.address.to_string(), k.rule.clone()));
    let mut held = d.held;
    held.sort_by_cached_key(|h| (h.address.to_string(), h.reason.clone()));
    held.dedup();
    let planned_at = d
        .used_now
        .then_some(d.now)
        .flatten()
        .map(super::offboard::millis);
    Plan {
        format_version: FORMAT_VERSION,
        account_id,
        managed: desired.managed.iter().copied().collect(),
        changes,
        protected,
        kept,
        held,
        planned_at,
        unmatched_rules,
        missed_keeps,
        inventory_fingerprint: Some(fingerprint(inventory)),
    }
}

/// Puts `changes` in plan order: resources in checklist order, then by address (as
/// text); within a resource its creation (or restore), the sub-steps (deactivations
/// before deletions), then the resource's own step, then its purge from the recycle bin.
///
/// The keys borrow the names rather than print every address: a resource's address is
/// its prefix and its name, so comparing (prefix, name) orders as the text does, and only
/// the part is printed (a whole plan of the quota account sorts in a fraction of the time).
pub(super) fn sort_changes(changes: &mut [Change]) {
    let mut order: Vec<usize> = (0..changes.len()).collect();
    {
        let keys: Vec<_> = changes.iter().map(order_key).collect();
        order.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
    }
    // `order[k]` is the change that goes to position k; move each along its cycle.
    let mut dest = vec![0; order.len()];
    for (k, &i) in order.iter().enumerate() {
        dest[i] = k;
    }
    for i in 0..changes.len() {
        while dest[i] != i {
            let j = dest[i];
            changes.swap(i, j);
            dest.swap(i, j);
        }
    }
}

type OrderKey<'c> = (Kind, &'static str, Option<&'c str>, u8, u8, Option<String>);

fn order_key(c: &Change) -> OrderKey<'_> {
    // A resource's creation (or restore) comes before what hangs off it; its deletion after.
    let tier = match &c.address.part {
        _ if matches!(c.op, Op::RestoreRecycledUser { .. }) => 0,
        None if c.action() == Action::Create => 0,
        None => 2,
        Some(Part::RecycleBin) => 3,
        Some(_) => 1,
    };
    // A deactivation is recorded before anything is switched off.
    let step = match (&c.op, c.action()) {
        (Op::RecordDeactivation { .. }, _) => 0,
        (_, Action::Deactivate | Action::Reactivate) => 1,
        _ => 2,
    };
    let r = c.resource();
    (
        r.kind(),
        r.prefix(),
        r.name(),
        tier,
        step,
        c.address.part.as_ref().map(ToString::to_string),
    )
}

fn user_addr(n: &str) -> Address {
    Resource::User(n.to_string().into()).address()
}
fn group_addr(n: &str) -> Address {
    Resource::Group(n.to_string().into()).address()
}
fn role_addr(n: &str) -> Address {
    Resource::Role(n.to_string().into()).address()
}
fn slr_addr(n: &str) -> Address {
    Resource::ServiceLinkedRole(n.to_string().into()).address()
}
fn policy_addr(n: &str) -> Address {
    Resource::Policy(n.to_string().into()).address()
}
fn device_addr(d: &VirtualMfaDevice) -> Address {
    Resource::VirtualMfaDevice(d.name().to_string().into()).address()
}

/// The entity behind a resource's address, as protection knows it.
fn protected_entity(a: &Address) -> Option<Entity> {
    Some(match &a.resource {
        Resource::User(n) => Entity::User(n.to_string()),
        Resource::Group(n) => Entity::Group(n.to_string()),
        Resource::Role(n) | Resource::ServiceLinkedRole(n) => Entity::Role(n.to_string()),
        Resource::Policy(n) => Entity::Policy(n.to_string()),
        Resource::SamlProvider(n) => Entity::SamlProvider(n.to_string()),
        Resource::OidcProvider(n) => Entity::OidcProvider(n.to_string()),
        _ => return None,
    })
}

/// Edits (insertions, deletions, substitutions, swaps of neighbours) from `a` to `b`.
pub(super) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// The line a rule's text ends by naming (`declared on line 12`, `... (line 12)`).
fn named_line(rule: &str) -> Option<usize> {
    let at = rule.rfind("line ")? + "line ".len();
    let digits: String = rule[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// ` (line 12)`, or nothing for a rule built in code.
fn line_suffix(line: usize) -> String {
    if line > 0 {
        format!(" (line {line})")
    } else {
        String::new()
    }
}

fn opt(v: &Option<String>) -> Value {
    v.as_ref().map_or(Value::Null, |s| json!(s))
}

/// Drops nulls and empty values so `before` shows only what is known.
fn compact(v: Value) -> Value {
    let known = |v: &Value| match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => true,
    };
    match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| known(v)).collect()),
        other => other,
    }
}

/// The fate of every entity, decided once before any step is planned.
#[derive(Default)]
struct Fates {
    users: BTreeSet<String>,
    groups: BTreeSet<String>,
    roles: BTreeSet<String>,
    slrs: BTreeSet<String>,
    policies: BTreeSet<String>,
    /// Serial numbers.
    devices: BTreeSet<String>,
    /// Users that are not kept and stay for now: deactivated by this run, or held.
    offboarding: BTreeMap<String, offboard::Fate>,
    /// The reason a user's deletion gives, where it is not the plain "not kept".
    delete_reasons: BTreeMap<String, Reason>,
}

struct Differ<'a> {
    desired: &'a DesiredState,
    inv: &'a Inventory,
    changes: Vec<Change>,
    protected: Vec<Protected>,
    kept: Vec<Kept>,
    guarded: Protection,
    fates: Fates,
    /// Every entity of a managed kind that keep rules were tried on.
    candidates: Vec<(Kind, Candidate<'a>)>,
    /// What no rule keeps and the plan still does not remove, with why.
    held: Vec<Held>,
    /// The recycled users keep rules were tried on: (user name, user ID).
    recycled: Vec<(&'a str, &'a str)>,
    /// When the plan is made (to the millisecond); `None` when the caller gave no time.
    now: Option<time::OffsetDateTime>,
    /// Whether a decision depended on `now` (the plan then says when it was made).
    used_now: bool,
}

/// The user a device is bound to, from the device or from the user's side.
fn bound_user<'i>(inv: &'i Inventory, d: &'i VirtualMfaDevice) -> Option<&'i str> {
    d.user.as_deref().or_else(|| {
        inv.users
            .iter()
            .find(|u| u.mfa_device.as_deref() == Some(d.serial_number.as_str()))
            .map(|u| u.name.as_str())
    })
}

impl<'a> Differ<'a> {
    /// Whether the entity at `address` of `kind` is removed; records why it is kept.
    fn removes(&mut self, kind: Kind, address: Address, c: Candidate<'a>) -> bool {
        if !self.desired.manages(kind) {
            return false;
        }
        self.candidates.push((kind, c));
        if let Some(rule) = self.declared_keeper(kind, c.name) {
            self.kept.push(Kept {
                line: named_line(&rule),
                address,
                rule,
            });
            return false;
        }
        if let Some(rule) = self.desired.keeper(kind, &c) {
            self.kept.push(Kept {
                address,
                rule: format!("keep.{kind}: {rule}{}", line_suffix(rule.line)),
                line: (rule.line > 0).then_some(rule.line),
            });
            return false;
        }
        if let Some(reason) = protected_entity(&address).and_then(|e| self.guarded.reason(&e)) {
            self.protected.push(Protected {
                address,
                reason: reason.to_string(),
            });
            return false;
        }
        !self.guarded_anyway(kind, &address, &c)
    }

    fn decide_all(&mut self) {
        let inv = self.inv;
        for u in &inv.users {
            let c = Candidate {
                name: &u.name,
                tags: Some(&u.tags),
                create_date: u.create_date.as_deref(),
            };
            if self.removes(Kind::Users, user_addr(&u.name), c) {
                self.fates.users.insert(u.name.clone());
            }
        }
        // Some users that go are deactivated first, or held: they stay for this run.
        self.offboard_decide();
        for g in &inv.groups {
            let c = Candidate {
                name: &g.name,
                tags: None,
                create_date: g.create_date.as_deref(),
            };
            if self.removes(Kind::Groups, group_addr(&g.name), c) {
                self.fates.groups.insert(g.name.clone());
            }
        }
        for r in &inv.roles {
            let c = Candidate {
                name: &r.name,
                tags: Some(&r.tags),
                create_date: r.create_date.as_deref(),
            };
            if r.is_service_linked() {
                if self.removes(Kind::ServiceLinkedRoles, slr_addr(&r.name), c) {
                    self.fates.slrs.insert(r.name.clone());
                }
            } else if self.removes(Kind::Roles, role_addr(&r.name), c) {
                self.fates.roles.insert(r.name.clone());
            }
        }
        for p in &inv.policies {
            let c = Candidate {
                name: &p.name,
                tags: Some(&p.tags),
                create_date: p.create_date.as_deref(),
            };
            if self.removes(Kind::Policies, policy_addr(&p.name), c) {
                self.fates.policies.insert(p.name.clone());
            }
        }
        if !self.desired.manages(Kind::VirtualMfaDevices) {
            return;
        }
        for d in &inv.virtual_mfa_devices {
            let addr = device_addr(d);
            self.candidates
                .push((Kind::VirtualMfaDevices, Candidate::named(d.name())));
            if let Some(rule) = self
                .desired
                .keeper(Kind::VirtualMfaDevices, &Candidate::named(d.name()))
            {
                self.kept.push(Kept {
                    address: addr,
                    rule: format!("keep.virtual_mfa_devices: {rule}{}", line_suffix(rule.line)),
                    line: (rule.line > 0).then_some(rule.line),
                });
                continue;
            }
            // A device hangs off its user: it goes only when it is free or its user goes.
            match bound_user(inv, d) {
                Some(u) if !self.fates.users.contains(u) => {
                    let rule = if self.fates.offboarding.contains_key(u) {
                        format!("bound to user {u}, which is not removed yet (offboarding)")
                    } else if self.desired.manages(Kind::Users) {
                        format!("bound to user {u}, which is kept")
                    } else {
                        format!("bound to user {u}; users are not managed")
                    };
                    self.kept.push(Kept {
                        address: addr,
                        rule,
                        line: None,
                    });
                }
                _ => {
                    self.fates.devices.insert(d.serial_number.clone());
                }
            }
        }
    }

    fn push(&mut self, address: Address, op: Op, reason: Reason) {
        self.push_with(address, op, reason, None, None);
    }

    fn push_with(
        &mut self,
        address: Address,
        op: Op,
        reason: Reason,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        self.changes.push(Change {
            address,
            op,
            reason,
            before: before.map(Box::new),
            after: after.map(Box::new),
            decided_by: None,
        });
    }

    fn users(&mut self) {
        let inv = self.inv;
        for u in &inv.users {
            if !self.fates.users.contains(&u.name) {
                continue;
            }
            let res = Resource::User(u.name.as_str().into());
            let blocks = || Reason::Blocks;
            let name = u.name.as_str();
            for p in &u.policies {
                self.detach(
                    res.clone().part(Part::Policy(p.clone())),
                    Principal::user(name),
                    p,
                    blocks(),
                );
            }
            for g in &u.groups {
                self.push(
                    res.clone().part(Part::Group(g.as_str().into())),
                    Op::RemoveMember {
                        user: name.into(),
                        group: g.as_str().into(),
                    },
                    blocks(),
                );
            }
            if let Some(lp) = &u.login_profile {
                self.push_with(
                    res.clone().part(Part::LoginProfile),
                    Op::DeleteLoginProfile { user: name.into() },
                    blocks(),
                    Some(compact(json!({
                        "password_reset_required": lp.password_reset_required,
                        "mfa_bind_required": lp.mfa_bind_required,
                        "create_date": opt(&lp.create_date),
                    }))),
                    None,
                );
            }
            // The binding is known from either side; trust whichever says so.
            let serial = u.mfa_device.as_ref().or_else(|| {
                inv.virtual_mfa_devices
                    .iter()
                    .find(|d| d.user.as_deref() == Some(name))
                    .map(|d| &d.serial_number)
            });
            if let Some(serial) = serial {
                self.push_with(
                    res.clone().part(Part::MfaDevice),
                    Op::UnbindMfaDevice {
                        user: name.into(),
                        serial_number: serial.as_str().into(),
                    },
                    blocks(),
                    Some(json!({ "serial_number": serial })),
                    None,
                );
            }
            // A key is deleted as it is: setting it Inactive first is a wasted call
            // (deactivation, when asked for, happens in an earlier run).
            for k in &u.access_keys {
                self.push_with(
                    res.clone().part(Part::AccessKey(k.id.as_str().into())),
                    Op::DeleteAccessKey {
                        user: name.into(),
                        key: k.id.as_str().into(),
                    },
                    blocks(),
                    Some(compact(json!({
                        "status": k.status,
                        "create_date": opt(&k.create_date),
                        "last_used_date": opt(&k.last_used_date),
                    }))),
                    None,
                );
            }
            let reason = self
                .fates
                .delete_reasons
                .get(name)
                .cloned()
                .unwrap_or(Reason::NotKept(Kind::Users));
            self.push_with(
                res.clone().address(),
                Op::DeleteUser {
                    name: name.into(),
                    id: u.id.as_str().into(),
                },
                reason,
                Some(compact(json!({
                    "id": u.id,
                    "display_name": opt(&u.display_name),
                    "create_date": opt(&u.create_date),
                    "last_login_date": opt(&u.last_login_date),
                }))),
                None,
            );
            // The service may recycle a deleted user (and the keys deleted before it)
            // instead of erasing it; purging asks for it to be gone for good. A user that
            // was not recycled is simply not found there.
            if self.desired.manages(Kind::RecycleBin) && !u.id.is_empty() {
                self.push(
                    res.clone().part(Part::RecycleBin),
                    Op::PurgeRecycledUser {
                        user_id: u.id.as_str().into(),
                    },
                    Reason::PurgeAfterDelete,
                );
            }
        }
    }

    /// Plans one detach of `policy` from `principal`.
    fn detach(&mut self, address: Address, principal: Principal, policy: &PolicyRef, why: Reason) {
        self.push(
            address,
            Op::DetachPolicy {
                principal,
                policy: policy.clone(),
            },
            why,
        );
    }

    fn groups(&mut self) {
        let inv = self.inv;
        if self.fates.groups.is_empty() {
            return;
        }
        // The members that stay, per group that goes, from one pass over the users (a
        // search of every user per group is quadratic at the quotas).
        let mut staying: std::collections::HashMap<&str, Vec<&'a str>> =
            std::collections::HashMap::new();
        for u in inv
            .users
            .iter()
            .filter(|u| !self.fates.users.contains(&u.name))
        {
            for g in u.groups.iter().filter(|g| self.fates.groups.contains(*g)) {
                staying.entry(g.as_str()).or_default().push(u.name.as_str());
            }
        }
        for g in &inv.groups {
            if !self.fates.groups.contains(&g.name) {
                continue;
            }
            let members = staying.remove(g.name.as_str()).unwrap_or_default();
            self.group(g, &members);
        }
    }

    /// Plans the removal of `g`, whose `staying` members (kept or unmanaged) leave it;
    /// members that go leave it as part of their own removal.
    fn group(&mut self, g: &Group, staying: &[&str]) {
        let res = Resource::Group(g.name.as_str().into());
        for p in &g.policies {
            self.detach(
                res.clone().part(Part::Policy(p.clone())),
                Principal::group(&g.name),
                p,
                Reason::Blocks,
            );
        }
        for &user in staying {
            self.push(
                res.clone().part(Part::Member(user.to_string().into())),
                Op::RemoveMember {
                    user: user.to_string().into(),
                    group: g.name.as_str().into(),
                },
                Reason::MemberStays,
            );
        }
        self.push_with(
            res.address(),
            Op::DeleteGroup {
                name: g.name.as_str().into(),
            },
            Reason::NotKept(Kind::Groups),
            Some(compact(json!({
                "id": g.id,
                "comments": opt(&g.comments),
                "create_date": opt(&g.create_date),
            }))),
            None,
        );
    }

    fn roles(&mut self) {
        let inv = self.inv;
        for r in &inv.roles {
            if self.fates.roles.contains(&r.name) {
                self.role(r);
            } else if self.fates.slrs.contains(&r.name) {
                self.push_with(
                    slr_addr(&r.name),
                    Op::DeleteServiceLinkedRole {
                        name: r.name.as_str().into(),
                    },
                    Reason::ServiceLinkedRoleNotKept {
                        in_use: r.usages.iter().map(|u| u.region.clone()).collect(),
                    },
                    Some(role_before(r)),
                    None,
                );
            }
        }
    }

    fn role(&mut self, r: &Role) {
        let res = Resource::Role(r.name.as_str().into());
        for p in &r.policies {
            self.detach(
                res.clone().part(Part::Policy(p.clone())),
                Principal::role(&r.name),
                p,
                Reason::Blocks,
            );
        }
        self.push_with(
            res.address(),
            Op::DeleteRole {
                name: r.name.as_str().into(),
            },
            Reason::NotKept(Kind::Roles),
            Some(role_before(r)),
            None,
        );
    }

    fn policies(&mut self) {
        let inv = self.inv;
        if self.fates.policies.is_empty() {
            return;
        }
        // Who each custom policy is attached to, from one pass over the principals (a
        // search of every principal per policy is quadratic at the quotas).
        let mut attached: std::collections::HashMap<&str, Vec<Principal>> =
            std::collections::HashMap::new();
        let mut note = |refs: &'a [PolicyRef], principal: &dyn Fn() -> Principal| {
            for r in refs {
                if r.policy_type == PolicyType::Custom
                    && self.fates.policies.contains(r.name.as_str())
                {
                    attached
                        .entry(r.name.as_str())
                        .or_default()
                        .push(principal());
                }
            }
        };
        // Attachments to principals that go are detached with them.
        for u in inv
            .users
            .iter()
            .filter(|u| !self.fates.users.contains(&u.name))
        {
            note(&u.policies, &|| Principal::user(&u.name));
        }
        for g in inv
            .groups
            .iter()
            .filter(|g| !self.fates.groups.contains(&g.name))
        {
            note(&g.policies, &|| Principal::group(&g.name));
        }
        for r in inv
            .roles
            .iter()
            .filter(|r| !self.fates.roles.contains(&r.name))
        {
            note(&r.policies, &|| Principal::role(&r.name));
        }
        for p in &inv.policies {
            if !self.fates.policies.contains(&p.name) {
                continue;
            }
            let res = Resource::Policy(p.name.as_str().into());
            let pref = PolicyRef::custom(p.name.clone());
            let staying = attached.remove(p.name.as_str()).unwrap_or_default();
            for principal in staying {
                let address = res
                    .clone()
                    .part(Part::Attachment(principal.kind, principal.name.clone()));
                self.detach(address, principal, &pref, Reason::PrincipalStays);
            }
            let versions: Vec<&str> = p.versions.iter().map(|v| v.id.as_str()).collect();
            self.push_with(
                res.address(),
                Op::DeletePolicy {
                    name: p.name.as_str().into(),
                },
                Reason::PolicyNotKept,
                Some(compact(json!({
                    "description": opt(&p.description),
                    "default_version": p.default_version().map(|v| v.id.clone()),
                    "versions": versions,
                    "create_date": opt(&p.create_date),
                }))),
                None,
            );
        }
    }

    fn devices(&mut self) {
        let inv = self.inv;
        for d in &inv.virtual_mfa_devices {
            if !self.fates.devices.contains(&d.serial_number) {
                continue;
            }
            self.push_with(
                device_addr(d),
                Op::DeleteVirtualMfaDevice {
                    serial_number: d.serial_number.as_str().into(),
                },
                Reason::DeviceNotKept {
                    bound_to: bound_user(inv, d).map(str::to_string),
                },
                Some(compact(json!({
                    "serial_number": d.serial_number,
                    "user": opt(&d.user),
                    "activate_date": opt(&d.activate_date),
                }))),
                None,
            );
        }
    }

    fn providers_and_applications(&mut self) {
        let inv = self.inv;
        for p in &inv.saml_providers {
            let address = Resource::SamlProvider(p.name.as_str().into()).address();
            let c = Candidate {
                name: &p.name,
                tags: None,
                create_date: p.create_date.as_deref(),
            };
            if self.removes(Kind::SamlProviders, address.clone(), c) {
                self.push_with(
                    address,
                    Op::DeleteSamlProvider {
                        name: p.name.as_str().into(),
                    },
                    Reason::NotKept(Kind::SamlProviders),
                    Some(compact(json!({
                        "description": opt(&p.description),
                        "create_date": opt(&p.create_date),
                    }))),
                    None,
                );
            }
        }
        for p in &inv.oidc_providers {
            let address = Resource::OidcProvider(p.name.as_str().into()).address();
            let c = Candidate {
                name: &p.name,
                tags: None,
                create_date: p.create_date.as_deref(),
            };
            if self.removes(Kind::OidcProviders, address.clone(), c) {
                self.push_with(
                    address,
                    Op::DeleteOidcProvider {
                        name: p.name.as_str().into(),
                    },
                    Reason::NotKept(Kind::OidcProviders),
                    Some(compact(json!({
                        "issuer_url": p.issuer_url,
                        "client_ids": p.client_ids,
                        "create_date": opt(&p.create_date),
                    }))),
                    None,
                );
            }
        }
        for a in &inv.applications {
            let address = Resource::Application(a.app_name.as_str().into()).address();
            let c = Candidate {
                name: &a.app_name,
                tags: None,
                create_date: a.create_date.as_deref(),
            };
            if self.removes(Kind::Applications, address.clone(), c) {
                self.push_with(
                    address,
                    Op::DeleteApplication {
                        app_id: a.app_id.as_str().into(),
                    },
                    Reason::NotKept(Kind::Applications),
                    Some(compact(json!({
                        "app_id": a.app_id,
                        "display_name": opt(&a.display_name),
                        "app_type": opt(&a.app_type),
                        "create_date": opt(&a.create_date),
                    }))),
                    None,
                );
            }
        }
    }

    fn settings(&mut self, account_id: &str) {
        let acct = &self.inv.account;
        if self.desired.manages(Kind::DefaultDomain) {
            let initial = crate::model::initial_domain(account_id);
            let now = acct
                .default_domain
                .clone()
                .unwrap_or_else(|| initial.clone());
            if now != initial {
                self.push_with(
                    Resource::DefaultDomain.address(),
                    Op::SetDefaultDomain {
                        domain: initial.clone(),
                    },
                    Reason::DefaultDomain {
                        now: now.clone(),
                        initial: initial.clone(),
                    },
                    Some(json!({ "default_domain": now })),
                    Some(json!({ "default_domain": initial })),
                );
            }
        }
        if self.desired.manages(Kind::AccountAlias)
            && let Some(alias) = acct.alias.clone()
        {
            self.push_with(
                Resource::AccountAlias.address(),
                Op::ClearAccountAlias,
                Reason::AccountAlias {
                    alias: alias.clone(),
                },
                Some(json!({ "alias": alias })),
                None,
            );
        }
    }
}

fn role_before(r: &Role) -> Value {
    compact(json!({
        "id": r.id,
        "description": opt(&r.description),
        "create_date": opt(&r.create_date),
        "policies": r.policies.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
    }))
}
