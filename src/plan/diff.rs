//! Desired state + inventory + caller → plan.
//!
//! Each entity of a managed kind is kept (by a rule, by hanging off something kept, or
//! because it is the caller's) or removed. Removing an entity plans the sub-steps its
//! deletion needs (detaches, member removals, unbind, key deletions); each sub-step
//! belongs to a removed resource, so nothing kept is ever the subject of a change.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::{Action, Change, FORMAT_VERSION, Kept, Plan, Protected, fingerprint};
use crate::config::{Candidate, DesiredState, Matcher};
use crate::model::{
    ApiCall, Caller, Group, Inventory, KeyStatus, Kind, PolicyRef, PolicyType, Role, Service, User,
    VirtualMfaDevice,
};

/// The kinds an inventory must hold for a diff of `managed` to be right: removing a
/// group needs its members (users), removing a policy needs its attachments (users,
/// groups, roles), removing a device needs its binding (users).
pub fn fetch_kinds(managed: &BTreeSet<Kind>) -> BTreeSet<Kind> {
    let mut out = managed.clone();
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
        guarded: guard(inventory, caller),
        fates: Fates::default(),
        candidates: Vec::new(),
    };
    d.decide_all();
    d.users();
    d.groups();
    d.roles();
    d.policies();
    d.devices();
    d.providers_and_applications();
    d.settings(&account_id);
    d.recycle_bin();

    let unmatched_rules = d.unmatched();
    let mut changes = d.changes;
    changes.sort_by(|a, b| order_key(a).cmp(&order_key(b)));
    let mut protected = d.protected;
    protected.sort();
    protected.dedup();
    let mut kept = d.kept;
    kept.sort();
    Plan {
        format_version: FORMAT_VERSION,
        account_id,
        managed: desired.managed.iter().copied().collect(),
        changes,
        protected,
        kept,
        unmatched_rules,
        inventory_fingerprint: Some(fingerprint(inventory)),
    }
}

/// Plan order: resources in checklist order, then by name; within a resource the
/// sub-steps (deactivations before deletions), then the resource's own step, then its
/// purge from the recycle bin.
fn order_key(c: &Change) -> (usize, &str, u8, u8, &str) {
    let prefix = c.resource.split('.').next().unwrap_or("");
    let rank = [
        "user",
        "group",
        "role",
        "policy",
        "saml_provider",
        "oidc_provider",
        "virtual_mfa_device",
        "default_domain",
        "application",
        "service_linked_role",
        "recycle_bin",
        "account_alias",
    ]
    .iter()
    .position(|p| *p == prefix)
    .unwrap_or(usize::MAX);
    let tier = if c.address == c.resource {
        1
    } else if c.address.starts_with(&c.resource) && c.address.ends_with("/recycle_bin") {
        2
    } else {
        0
    };
    let step = match c.action {
        Action::Deactivate => 0,
        _ => 1,
    };
    (rank, c.resource.as_str(), tier, step, c.address.as_str())
}

/// Addresses that belong to the caller's identity (or what it depends on), with why.
fn guard(inv: &Inventory, caller: &Caller) -> BTreeMap<String, String> {
    let mut g = BTreeMap::new();
    if let Some(name) = caller.oidc_provider.as_deref() {
        g.insert(
            format!("oidc_provider.{name}"),
            "the OIDC provider ramstate signs in through: without it the next run cannot sign in"
                .to_string(),
        );
    }
    let mut caller_users: Vec<&User> = Vec::new();
    for u in &inv.users {
        if caller
            .user_name
            .as_deref()
            .is_some_and(|n| n.eq_ignore_ascii_case(&u.name))
        {
            g.insert(
                user_addr(&u.name),
                "the caller's own user: ramstate runs as it".to_string(),
            );
            caller_users.push(u);
        } else if let Some(k) = caller
            .access_key_id
            .as_deref()
            .and_then(|id| u.access_keys.iter().find(|k| k.id == id))
        {
            g.insert(
                user_addr(&u.name),
                format!("owns the access key ramstate signs with ({})", k.id),
            );
            caller_users.push(u);
        }
    }
    let mut caller_policies: BTreeMap<String, String> = BTreeMap::new();
    for u in &caller_users {
        for gname in &u.groups {
            g.insert(
                group_addr(gname),
                format!(
                    "the caller's user {} is a member; removing it would change the caller's permissions",
                    u.name
                ),
            );
            if let Some(group) = inv.groups.iter().find(|x| &x.name == gname) {
                for p in custom(&group.policies) {
                    caller_policies.entry(p.to_string()).or_insert(format!(
                        "attached to group {gname}, which the caller belongs to"
                    ));
                }
            }
        }
        for p in custom(&u.policies) {
            caller_policies
                .entry(p.to_string())
                .or_insert(format!("attached to the caller's user {}", u.name));
        }
    }
    // Role ARNs carry the name in lower case, so the caller's role is matched without case.
    if let Some(rname) = caller.role_name.as_deref() {
        let role = inv
            .roles
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(rname));
        let rname = role.map_or(rname, |r| r.name.as_str());
        g.insert(role_addr(rname), "the role ramstate runs as".to_string());
        if let Some(role) = role {
            for p in custom(&role.policies) {
                caller_policies
                    .entry(p.to_string())
                    .or_insert(format!("attached to the caller's role {rname}"));
            }
        }
    }
    for (p, why) in caller_policies {
        g.insert(policy_addr(&p), why);
    }
    g
}

fn custom(refs: &[PolicyRef]) -> impl Iterator<Item = &str> {
    refs.iter()
        .filter(|p| p.policy_type == PolicyType::Custom)
        .map(|p| p.name.as_str())
}

fn user_addr(n: &str) -> String {
    format!("user.{n}")
}
fn group_addr(n: &str) -> String {
    format!("group.{n}")
}
fn role_addr(n: &str) -> String {
    format!("role.{n}")
}
fn slr_addr(n: &str) -> String {
    format!("service_linked_role.{n}")
}
fn policy_addr(n: &str) -> String {
    format!("policy.{n}")
}
fn device_addr(d: &VirtualMfaDevice) -> String {
    format!("virtual_mfa_device.{}", d.name())
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

/// ` (line 12)`, or nothing for a rule built in code.
fn line_suffix(line: usize) -> String {
    if line > 0 {
        format!(" (line {line})")
    } else {
        String::new()
    }
}

fn ram(action: &str, params: &[(&str, &str)]) -> ApiCall {
    ApiCall::new(Service::Ram, action, params.iter().copied())
}
fn ims(action: &str, params: &[(&str, &str)]) -> ApiCall {
    ApiCall::new(Service::Ims, action, params.iter().copied())
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
}

struct Differ<'a> {
    desired: &'a DesiredState,
    inv: &'a Inventory,
    changes: Vec<Change>,
    protected: Vec<Protected>,
    kept: Vec<Kept>,
    guarded: BTreeMap<String, String>,
    fates: Fates,
    /// Every entity of a managed kind that keep rules were tried on.
    candidates: Vec<(Kind, Candidate<'a>)>,
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
    fn removes(&mut self, kind: Kind, address: &str, c: Candidate<'a>) -> bool {
        if !self.desired.manages(kind) {
            return false;
        }
        self.candidates.push((kind, c));
        if let Some(rule) = self.desired.keeper(kind, &c) {
            self.kept.push(Kept {
                address: address.to_string(),
                rule: format!("keep.{kind}: {rule}{}", line_suffix(rule.line)),
            });
            return false;
        }
        if let Some(reason) = self.guarded.get(address) {
            self.protected.push(Protected {
                address: address.to_string(),
                reason: reason.clone(),
            });
            return false;
        }
        true
    }

    /// Keep rules of managed kinds that match nothing: often a typo, and then whatever
    /// the rule meant to keep is removed.
    fn unmatched(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (kind, rules) in &self.desired.keep {
            if !self.desired.manages(*kind) {
                continue;
            }
            for rule in rules {
                let used = self
                    .candidates
                    .iter()
                    .any(|(k, c)| k == kind && rule.matches(c));
                if !used {
                    let hint = match &rule.matcher {
                        Matcher::Name(name) => self
                            .nearest_name(*kind, name)
                            .map(|n| format!("; did you mean {n}?"))
                            .unwrap_or_default(),
                        _ => String::new(),
                    };
                    out.push(format!(
                        "keep.{kind}: {rule}{}{hint}",
                        line_suffix(rule.line)
                    ));
                }
            }
        }
        out
    }

    /// The name of `kind` closest to a name rule that matched nothing, when it is close
    /// enough to be a typo: differing in case only, or by one edit (two for longer names).
    fn nearest_name(&self, kind: Kind, name: &str) -> Option<&str> {
        let want = name.to_lowercase();
        let limit = if want.chars().count() >= 5 { 2 } else { 1 };
        self.candidates
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, c)| (edit_distance(&want, &c.name.to_lowercase()), c.name))
            .filter(|(d, _)| *d <= limit)
            .min()
            .map(|(_, n)| n)
    }

    fn decide_all(&mut self) {
        let inv = self.inv;
        for u in &inv.users {
            let c = Candidate {
                name: &u.name,
                tags: Some(&u.tags),
                create_date: u.create_date.as_deref(),
            };
            if self.removes(Kind::Users, &user_addr(&u.name), c) {
                self.fates.users.insert(u.name.clone());
            }
        }
        for g in &inv.groups {
            let c = Candidate {
                name: &g.name,
                tags: None,
                create_date: g.create_date.as_deref(),
            };
            if self.removes(Kind::Groups, &group_addr(&g.name), c) {
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
                if self.removes(Kind::ServiceLinkedRoles, &slr_addr(&r.name), c) {
                    self.fates.slrs.insert(r.name.clone());
                }
            } else if self.removes(Kind::Roles, &role_addr(&r.name), c) {
                self.fates.roles.insert(r.name.clone());
            }
        }
        for p in &inv.policies {
            let c = Candidate {
                name: &p.name,
                tags: Some(&p.tags),
                create_date: p.create_date.as_deref(),
            };
            if self.removes(Kind::Policies, &policy_addr(&p.name), c) {
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
                });
                continue;
            }
            // A device hangs off its user: it goes only when it is free or its user goes.
            match bound_user(inv, d) {
                Some(u) if !self.fates.users.contains(u) => {
                    let rule = if self.desired.manages(Kind::Users) {
                        format!("bound to user {u}, which is kept")
                    } else {
                        format!("bound to user {u}; users are not managed")
                    };
                    self.kept.push(Kept {
                        address: addr,
                        rule,
                    });
                }
                _ => {
                    self.fates.devices.insert(d.serial_number.clone());
                }
            }
        }
    }

    fn not_kept(&self, kind: Kind) -> String {
        format!("{kind} are managed and no keep rule matches")
    }

    fn users(&mut self) {
        let inv = self.inv;
        for u in &inv.users {
            if !self.fates.users.contains(&u.name) {
                continue;
            }
            let res = user_addr(&u.name);
            let blocks = format!("blocks the deletion of {res}");
            let name = u.name.as_str();
            for p in &u.policies {
                self.detach("user", name, p, &res, &format!("{res}/policy.{p}"), &blocks);
            }
            for g in &u.groups {
                self.changes.push(Change {
                    address: format!("{res}/group.{g}"),
                    resource: res.clone(),
                    action: Action::RemoveMember,
                    reason: blocks.clone(),
                    call: ram(
                        "RemoveUserFromGroup",
                        &[("GroupName", g), ("UserName", name)],
                    ),
                    before: None,
                    after: None,
                });
            }
            if let Some(lp) = &u.login_profile {
                self.changes.push(Change {
                    address: format!("{res}/login_profile"),
                    resource: res.clone(),
                    action: Action::Delete,
                    reason: blocks.clone(),
                    call: ram("DeleteLoginProfile", &[("UserName", name)]),
                    before: Some(compact(json!({
                        "password_reset_required": lp.password_reset_required,
                        "mfa_bind_required": lp.mfa_bind_required,
                        "create_date": opt(&lp.create_date),
                    }))),
                    after: None,
                });
            }
            // The binding is known from either side; trust whichever says so.
            let serial = u.mfa_device.as_ref().or_else(|| {
                inv.virtual_mfa_devices
                    .iter()
                    .find(|d| d.user.as_deref() == Some(name))
                    .map(|d| &d.serial_number)
            });
            if let Some(serial) = serial {
                self.changes.push(Change {
                    address: format!("{res}/mfa_device"),
                    resource: res.clone(),
                    action: Action::Unbind,
                    reason: blocks.clone(),
                    call: ram("UnbindMFADevice", &[("UserName", name)]),
                    before: Some(json!({ "serial_number": serial })),
                    after: None,
                });
            }
            for k in &u.access_keys {
                let kaddr = format!("{res}/access_key.{}", k.id);
                if k.status == KeyStatus::Active {
                    self.changes.push(Change {
                        address: format!("{kaddr}/status"),
                        resource: res.clone(),
                        action: Action::Deactivate,
                        reason: format!("an active key is disabled before it is deleted; {blocks}"),
                        call: ram(
                            "UpdateAccessKey",
                            &[
                                ("Status", "Inactive"),
                                ("UserAccessKeyId", &k.id),
                                ("UserName", name),
                            ],
                        ),
                        before: Some(json!({ "status": "Active" })),
                        after: Some(json!({ "status": "Inactive" })),
                    });
                }
                self.changes.push(Change {
                    address: kaddr,
                    resource: res.clone(),
                    action: Action::Delete,
                    reason: blocks.clone(),
                    call: ram(
                        "DeleteAccessKey",
                        &[("UserAccessKeyId", &k.id), ("UserName", name)],
                    ),
                    before: Some(compact(json!({
                        "status": k.status,
                        "create_date": opt(&k.create_date),
                        "last_used_date": opt(&k.last_used_date),
                    }))),
                    after: None,
                });
            }
            self.changes.push(Change {
                address: res.clone(),
                resource: res.clone(),
                action: Action::Delete,
                reason: self.not_kept(Kind::Users),
                call: ram("DeleteUser", &[("UserName", name)]),
                before: Some(compact(json!({
                    "id": u.id,
                    "display_name": opt(&u.display_name),
                    "create_date": opt(&u.create_date),
                    "last_login_date": opt(&u.last_login_date),
                }))),
                after: None,
            });
            // The service may recycle a deleted user (and the keys deleted before it)
            // instead of erasing it; purging asks for it to be gone for good. A user that
            // was not recycled is simply not found there.
            if self.desired.manages(Kind::RecycleBin) && !u.id.is_empty() {
                self.changes.push(Change {
                    address: format!("{res}/recycle_bin"),
                    resource: res.clone(),
                    action: Action::Purge,
                    reason: "recycle_bin: purge; if the deleted user and its keys were recycled, they are deleted for good".into(),
                    call: ims("DeleteUserInRecycleBin", &[("UserId", u.id.as_str())]),
                    before: None,
                    after: None,
                });
            }
        }
    }

    /// Plans one detach. `principal` is `user`, `group` or `role`.
    fn detach(
        &mut self,
        principal: &str,
        name: &str,
        p: &PolicyRef,
        resource: &str,
        address: &str,
        reason: &str,
    ) {
        let (action, key) = match principal {
            "user" => ("DetachPolicyFromUser", "UserName"),
            "group" => ("DetachPolicyFromGroup", "GroupName"),
            _ => ("DetachPolicyFromRole", "RoleName"),
        };
        let ptype = p.policy_type.to_string();
        self.changes.push(Change {
            address: address.to_string(),
            resource: resource.to_string(),
            action: Action::Detach,
            reason: reason.to_string(),
            call: ram(
                action,
                &[(key, name), ("PolicyName", &p.name), ("PolicyType", &ptype)],
            ),
            before: None,
            after: None,
        });
    }

    fn groups(&mut self) {
        let inv = self.inv;
        for g in &inv.groups {
            if !self.fates.groups.contains(&g.name) {
                continue;
            }
            self.group(g);
        }
    }

    fn group(&mut self, g: &Group) {
        let res = group_addr(&g.name);
        let blocks = format!("blocks the deletion of {res}");
        for p in &g.policies {
            self.detach(
                "group",
                &g.name,
                p,
                &res,
                &format!("{res}/policy.{p}"),
                &blocks,
            );
        }
        let inv = self.inv;
        // Members that stay (kept or unmanaged) leave the group; members that go
        // leave it as part of their own removal.
        for u in &inv.users {
            if u.groups.contains(&g.name) && !self.fates.users.contains(&u.name) {
                self.changes.push(Change {
                    address: format!("{res}/member.{}", u.name),
                    resource: res.clone(),
                    action: Action::RemoveMember,
                    reason: format!("{blocks}; user {} stays", u.name),
                    call: ram(
                        "RemoveUserFromGroup",
                        &[
                            ("GroupName", g.name.as_str()),
                            ("UserName", u.name.as_str()),
                        ],
                    ),
                    before: None,
                    after: None,
                });
            }
        }
        self.changes.push(Change {
            address: res.clone(),
            resource: res.clone(),
            action: Action::Delete,
            reason: self.not_kept(Kind::Groups),
            call: ram("DeleteGroup", &[("GroupName", g.name.as_str())]),
            before: Some(compact(json!({
                "id": g.id,
                "comments": opt(&g.comments),
                "create_date": opt(&g.create_date),
            }))),
            after: None,
        });
    }

    fn roles(&mut self) {
        let inv = self.inv;
        for r in &inv.roles {
            if self.fates.roles.contains(&r.name) {
                self.role(r);
            } else if self.fates.slrs.contains(&r.name) {
                let res = slr_addr(&r.name);
                self.changes.push(Change {
                    address: res.clone(),
                    resource: res.clone(),
                    action: Action::Delete,
                    reason: slr_reason(self.not_kept(Kind::ServiceLinkedRoles), r),
                    call: ApiCall::new(
                        Service::ResourceManager,
                        "DeleteServiceLinkedRole",
                        [("RoleName", r.name.as_str())],
                    ),
                    before: Some(role_before(r)),
                    after: None,
                });
            }
        }
    }

    fn role(&mut self, r: &Role) {
        let res = role_addr(&r.name);
        let blocks = format!("blocks the deletion of {res}");
        for p in &r.policies {
            self.detach(
                "role",
                &r.name,
                p,
                &res,
                &format!("{res}/policy.{p}"),
                &blocks,
            );
        }
        self.changes.push(Change {
            address: res.clone(),
            resource: res.clone(),
            action: Action::Delete,
            reason: self.not_kept(Kind::Roles),
            call: ram("DeleteRole", &[("RoleName", r.name.as_str())]),
            before: Some(role_before(r)),
            after: None,
        });
    }

    fn policies(&mut self) {
        let inv = self.inv;
        for p in &inv.policies {
            if !self.fates.policies.contains(&p.name) {
                continue;
            }
            let res = policy_addr(&p.name);
            let blocks = format!("blocks the deletion of {res}");
            let pref = PolicyRef::custom(p.name.clone());
            // Attachments to principals that go are detached with them.
            for u in &inv.users {
                if u.policies.contains(&pref) && !self.fates.users.contains(&u.name) {
                    let a = format!("{res}/attachment.user.{}", u.name);
                    let why = format!("{blocks}; user {} stays without it", u.name);
                    self.detach("user", &u.name, &pref, &res, &a, &why);
                }
            }
            for g in &inv.groups {
                if g.policies.contains(&pref) && !self.fates.groups.contains(&g.name) {
                    let a = format!("{res}/attachment.group.{}", g.name);
                    let why = format!("{blocks}; group {} stays without it", g.name);
                    self.detach("group", &g.name, &pref, &res, &a, &why);
                }
            }
            for r in &inv.roles {
                if r.policies.contains(&pref) && !self.fates.roles.contains(&r.name) {
                    let a = format!("{res}/attachment.role.{}", r.name);
                    let why = format!("{blocks}; role {} stays without it", r.name);
                    self.detach("role", &r.name, &pref, &res, &a, &why);
                }
            }
            let versions: Vec<&str> = p.versions.iter().map(|v| v.id.as_str()).collect();
            self.changes.push(Change {
                address: res.clone(),
                resource: res.clone(),
                action: Action::Delete,
                reason: format!(
                    "{}; CascadingDelete removes its non-default versions",
                    self.not_kept(Kind::Policies)
                ),
                call: ram(
                    "DeletePolicy",
                    &[("CascadingDelete", "true"), ("PolicyName", p.name.as_str())],
                ),
                before: Some(compact(json!({
                    "description": opt(&p.description),
                    "default_version": p.default_version().map(|v| v.id.clone()),
                    "versions": versions,
                    "create_date": opt(&p.create_date),
                }))),
                after: None,
            });
        }
    }

    fn devices(&mut self) {
        let inv = self.inv;
        for d in &inv.virtual_mfa_devices {
            if !self.fates.devices.contains(&d.serial_number) {
                continue;
            }
            let res = device_addr(d);
            let reason = match bound_user(inv, d) {
                Some(u) => format!(
                    "{}; bound to user {u}, which is removed (unbound first)",
                    self.not_kept(Kind::VirtualMfaDevices)
                ),
                None => format!(
                    "{}; not bound to any user",
                    self.not_kept(Kind::VirtualMfaDevices)
                ),
            };
            self.changes.push(Change {
                address: res.clone(),
                resource: res.clone(),
                action: Action::Delete,
                reason,
                call: ram(
                    "DeleteVirtualMFADevice",
                    &[("SerialNumber", d.serial_number.as_str())],
                ),
                before: Some(compact(json!({
                    "serial_number": d.serial_number,
                    "user": opt(&d.user),
                    "activate_date": opt(&d.activate_date),
                }))),
                after: None,
            });
        }
    }

    fn providers_and_applications(&mut self) {
        let inv = self.inv;
        for p in &inv.saml_providers {
            let res = format!("saml_provider.{}", p.name);
            let c = Candidate {
                name: &p.name,
                tags: None,
                create_date: p.create_date.as_deref(),
            };
            if self.removes(Kind::SamlProviders, &res, c) {
                self.changes.push(Change {
                    address: res.clone(),
                    resource: res.clone(),
                    action: Action::Delete,
                    reason: self.not_kept(Kind::SamlProviders),
                    call: ims(
                        "DeleteSAMLProvider",
                        &[("SAMLProviderName", p.name.as_str())],
                    ),
                    before: Some(compact(json!({
                        "description": opt(&p.description),
                        "create_date": opt(&p.create_date),
                    }))),
                    after: None,
                });
            }
        }
        for p in &inv.oidc_providers {
            let res = format!("oidc_provider.{}", p.name);
            let c = Candidate {
                name: &p.name,
                tags: None,
                create_date: p.create_date.as_deref(),
            };
            if self.removes(Kind::OidcProviders, &res, c) {
                self.changes.push(Change {
                    address: res.clone(),
                    resource: res.clone(),
                    action: Action::Delete,
                    reason: self.not_kept(Kind::OidcProviders),
                    call: ims(
                        "DeleteOIDCProvider",
                        &[("OIDCProviderName", p.name.as_str())],
                    ),
                    before: Some(compact(json!({
                        "issuer_url": p.issuer_url,
                        "client_ids": p.client_ids,
                        "create_date": opt(&p.create_date),
                    }))),
                    after: None,
                });
            }
        }
        for a in &inv.applications {
            let res = format!("application.{}", a.app_name);
            let c = Candidate {
                name: &a.app_name,
                tags: None,
                create_date: a.create_date.as_deref(),
            };
            if self.removes(Kind::Applications, &res, c) {
                self.changes.push(Change {
                    address: res.clone(),
                    resource: res.clone(),
                    action: Action::Delete,
                    reason: self.not_kept(Kind::Applications),
                    call: ims("DeleteApplication", &[("AppId", a.app_id.as_str())]),
                    before: Some(compact(json!({
                        "app_id": a.app_id,
                        "display_name": opt(&a.display_name),
                        "app_type": opt(&a.app_type),
                        "create_date": opt(&a.create_date),
                    }))),
                    after: None,
                });
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
                self.changes.push(Change {
                    address: "default_domain".into(),
                    resource: "default_domain".to_string(),
                    action: Action::Reset,
                    reason: format!("the default domain is {now}; the account's own is {initial}"),
                    call: ims(
                        "SetDefaultDomain",
                        &[("DefaultDomainName", initial.as_str())],
                    ),
                    before: Some(json!({ "default_domain": now })),
                    after: Some(json!({ "default_domain": initial })),
                });
            }
        }
        if self.desired.manages(Kind::AccountAlias)
            && let Some(alias) = acct.alias.clone()
        {
            self.changes.push(Change {
                address: "account_alias".into(),
                resource: "account_alias".to_string(),
                action: Action::Clear,
                reason: format!("the account alias {alias} is set and account_alias is managed"),
                call: ram("ClearAccountAlias", &[]),
                before: Some(json!({ "alias": alias })),
                after: None,
            });
        }
    }

    fn recycle_bin(&mut self) {
        if !self.desired.manages(Kind::RecycleBin) {
            return;
        }
        let bin = &self.inv.recycle_bin;
        let in_bin: BTreeSet<&str> = bin.users.iter().map(|u| u.id.as_str()).collect();
        for k in &bin.access_keys {
            let (res, address) = if in_bin.contains(k.user_id.as_str()) {
                let res = format!("recycle_bin.user.{}", k.user_id);
                let a = format!("{res}/access_key.{}", k.id);
                (res, a)
            } else {
                let res = format!("recycle_bin.access_key.{}", k.id);
                (res.clone(), res)
            };
            self.changes.push(Change {
                address,
                resource: res.clone(),
                action: Action::Purge,
                reason: "recycle_bin: purge deletes recycled access keys for good".into(),
                call: ims(
                    "DeleteAccessKeyInRecycleBin",
                    &[
                        ("UserAccessKeyId", k.id.as_str()),
                        ("UserId", k.user_id.as_str()),
                    ],
                ),
                before: Some(compact(json!({
                    "user_id": k.user_id,
                    "recycle_date": opt(&k.recycle_date),
                }))),
                after: None,
            });
        }
        for u in &bin.users {
            let res = format!("recycle_bin.user.{}", u.id);
            self.changes.push(Change {
                address: res.clone(),
                resource: res.clone(),
                action: Action::Purge,
                reason: "recycle_bin: purge deletes recycled users for good".into(),
                call: ims("DeleteUserInRecycleBin", &[("UserId", u.id.as_str())]),
                before: Some(compact(json!({
                    "principal_name": u.principal_name,
                    "recycle_date": opt(&u.recycle_date),
                }))),
                after: None,
            });
        }
    }
}

fn slr_reason(not_kept: String, r: &Role) -> String {
    let mut reason =
        format!("{not_kept}; a service-linked role is deleted through ResourceManager");
    if !r.usages.is_empty() {
        let regions: Vec<&str> = r.usages.iter().map(|u| u.region.as_str()).collect();
        reason.push_str(&format!(
            "; it is in use in {}, so its deletion fails until those resources are released",
            regions.join(", ")
        ));
    }
    reason
}

fn role_before(r: &Role) -> Value {
    compact(json!({
        "id": r.id,
        "description": opt(&r.description),
        "create_date": opt(&r.create_date),
        "policies": r.policies.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
    }))
}
