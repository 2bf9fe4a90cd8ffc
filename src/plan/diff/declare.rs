//! Declared resources: what to create, update, attach and add so the account has what
//! the file declares. Only declared fields are compared; a membership or attachment is
//! added or removed only where a declared list governs it.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use super::super::address::{Address, Part, Resource};
use super::super::op::{Op, Principal, Tagged, UserProfile};
use super::super::reason::Reason;
use super::{Change, Differ};
use crate::config::{Named, document_text, normalise};
use crate::model::{Kind, LoginProfileStatus, PolicyRef, PolicyType, Tags};

/// A membership, by lower-case names (RAM compares them without case).
type Membership = (String, String);

fn member_key(user: &str, group: &str) -> Membership {
    (user.to_lowercase(), group.to_lowercase())
}

fn same(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// The JSON a live document holds, if it is JSON.
fn parsed(text: Option<&str>) -> Option<Value> {
    text.and_then(|t| serde_json::from_str(t).ok())
}

impl<'a> Differ<'a> {
    /// Why a declaration keeps the entity named `name` of `kind`: declared itself, or
    /// named by a declared membership or attachment.
    pub(super) fn declared_keeper(&self, kind: Kind, name: &str) -> Option<String> {
        let d = &self.desired.declared;
        let attached = |p: &PolicyRef| p.policy_type == PolicyType::Custom && p.name == name;
        match kind {
            Kind::Users => {
                if let Some(u) = d.user(name) {
                    return Some(format!("declared on line {}", u.line));
                }
                d.groups
                    .iter()
                    .find(|g| g.members.iter().flatten().any(|m| same(&m.value, name)))
                    .map(|g| format!("a member of declared group {} (line {})", g.name, g.line))
            }
            Kind::Groups => {
                if let Some(g) = d.group(name) {
                    return Some(format!("declared on line {}", g.line));
                }
                d.users
                    .iter()
                    .find(|u| u.groups.iter().flatten().any(|g| same(&g.value, name)))
                    .map(|u| format!("declared user {} belongs to it (line {})", u.name, u.line))
            }
            Kind::Roles => d.role(name).map(|r| format!("declared on line {}", r.line)),
            Kind::Policies => {
                if let Some(p) = d.policy(name) {
                    return Some(format!("declared on line {}", p.line));
                }
                let by = |what: &str, n: &str, line: usize, ps: &Option<Vec<Named<PolicyRef>>>| {
                    ps.iter()
                        .flatten()
                        .any(|p| attached(&p.value))
                        .then(|| format!("attached to declared {what} {n} (line {line})"))
                };
                d.users
                    .iter()
                    .find_map(|u| by("user", &u.name, u.line, &u.policies))
                    .or_else(|| {
                        d.groups
                            .iter()
                            .find_map(|g| by("group", &g.name, g.line, &g.policies))
                    })
                    .or_else(|| {
                        d.roles
                            .iter()
                            .find_map(|r| by("role", &r.name, r.line, &r.policies))
                    })
            }
            Kind::SamlProviders => d
                .saml_providers
                .iter()
                .find(|p| p.name == name)
                .map(|p| format!("declared on line {}", p.line)),
            Kind::OidcProviders => d
                .oidc_providers
                .iter()
                .find(|p| p.name == name)
                .map(|p| format!("declared on line {}", p.line)),
            _ => None,
        }
    }

    /// Plans a step unless it would affect what the caller depends on; such a step is
    /// listed as protected instead.
    fn declare(
        &mut self,
        address: Address,
        op: Op,
        reason: Reason,
        before: Option<Value>,
        after: Option<Value>,
    ) {
        if let Some(why) = op
            .affects()
            .iter()
            .find_map(|e| self.guarded.reason(e).map(str::to_string))
        {
            self.protected.push(super::Protected {
                address,
                reason: format!("{why}; the declared change is not made"),
            });
            return;
        }
        self.changes.push(Change {
            address,
            op,
            reason,
            before: before.map(Box::new),
            after: after.map(Box::new),
            decided_by: None,
        });
    }

    pub(super) fn declared(&mut self, account_id: &str) {
        if self.desired.declared.is_empty() {
            return;
        }
        let domain = self
            .inv
            .account
            .default_domain
            .clone()
            .unwrap_or_else(|| crate::model::initial_domain(account_id));
        let mut memberships: BTreeSet<Membership> = BTreeSet::new();
        self.declared_users(&domain, &mut memberships);
        self.declared_groups(&mut memberships);
        self.declared_roles();
        self.declared_policies();
        self.declared_providers();
        self.declared_account();
    }

    fn tags(
        &mut self,
        res: &Resource,
        target: Tagged,
        want: Option<&Tags>,
        have: &Tags,
        line: usize,
    ) {
        let Some(want) = want else { return };
        // The record of a deactivation is ramstate's own: no declaration governs it.
        let own = |k: &String| k.as_str() == crate::plan::offboard::TAG_KEY;
        let want: Tags = want
            .iter()
            .filter(|(k, _)| !own(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let have: Tags = have
            .iter()
            .filter(|(k, _)| !own(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let set: Tags = want
            .iter()
            .filter(|(k, v)| have.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let gone: Vec<String> = have
            .keys()
            .filter(|k| !want.contains_key(*k))
            .cloned()
            .collect();
        if !gone.is_empty() {
            self.declare(
                res.clone().part(Part::Untag),
                Op::UntagResource {
                    target: target.clone(),
                    keys: gone.clone(),
                },
                Reason::Governed {
                    line,
                    list: format!("the tags of {res}"),
                },
                Some(json!({ "tags": gone })),
                None,
            );
        }
        if !set.is_empty() {
            let before: Tags = set
                .keys()
                .filter_map(|k| have.get(k).map(|v| (k.clone(), v.clone())))
                .collect();
            self.declare(
                res.clone().part(Part::Tags),
                Op::TagResource {
                    target,
                    tags: set.clone(),
                },
                Reason::Governed {
                    line,
                    list: format!("the tags of {res}"),
                },
                Some(json!({ "tags": before })),
                Some(json!({ "tags": set })),
            );
        }
    }

    /// Attaches what a declared list names and detaches what it does not, for one principal.
    fn attachments(
        &mut self,
        res: &Resource,
        principal: Principal,
        want: Option<&Vec<Named<PolicyRef>>>,
        have: &[PolicyRef],
        line: usize,
    ) {
        let Some(want) = want else { return };
        let list = format!("the policies of {res}");
        for p in want.iter().map(|n| &n.value) {
            if !have.contains(p) {
                self.declare(
                    res.clone().part(Part::Policy(p.clone())),
                    Op::AttachPolicy {
                        principal: principal.clone(),
                        policy: p.clone(),
                    },
                    Reason::Governed {
                        line,
                        list: list.clone(),
                    },
                    None,
                    None,
                );
            }
        }
        for p in have {
            // A custom policy on its way out is detached by its own removal.
            let going = p.policy_type == PolicyType::Custom
                && self.fates.policies.contains(p.name.as_str());
            if !want.iter().any(|n| &n.value == p) && !going {
                self.declare(
                    res.clone().part(Part::Policy(p.clone())),
                    Op::DetachPolicy {
                        principal: principal.clone(),
                        policy: p.clone(),
                    },
                    Reason::Governed {
                        line,
                        list: list.clone(),
                    },
                    None,
                    None,
                );
            }
        }
    }

    fn declared_users(&mut self, domain: &str, memberships: &mut BTreeSet<Membership>) {
        let inv = self.inv;
        let desired = self.desired;
        for du in &desired.declared.users {
            let live = inv.users.iter().find(|u| same(&u.name, &du.name));
            let name = live.map_or(du.name.clone(), |u| u.name.clone());
            let res = Resource::User(name.as_str().into());
            let want = UserProfile {
                display_name: du.display_name.clone(),
                email: du.email.clone(),
                mobile_phone: du.mobile_phone.clone(),
                comments: du.comments.clone(),
            };
            let no_tags = Tags::new();
            match live {
                None => self.declare(
                    res.clone().address(),
                    Op::CreateUser {
                        name: name.as_str().into(),
                        profile: want,
                    },
                    Reason::Declared { line: du.line },
                    None,
                    None,
                ),
                Some(u) => {
                    let mut changed = UserProfile::default();
                    let (mut before, mut after) = (serde_json::Map::new(), serde_json::Map::new());
                    let mut fields = Vec::new();
                    for (field, want, have, slot) in [
                        (
                            "display_name",
                            &want.display_name,
                            &u.display_name,
                            &mut changed.display_name,
                        ),
                        ("email", &want.email, &u.email, &mut changed.email),
                        (
                            "mobile_phone",
                            &want.mobile_phone,
                            &u.mobile_phone,
                            &mut changed.mobile_phone,
                        ),
                        (
                            "comments",
                            &want.comments,
                            &u.comments,
                            &mut changed.comments,
                        ),
                    ] {
                        if let Some(w) = want
                            && have.as_ref() != Some(w)
                        {
                            *slot = Some(w.clone());
                            fields.push(field.to_string());
                            before.insert(
                                field.into(),
                                have.clone().map_or(Value::Null, Value::String),
                            );
                            after.insert(field.into(), Value::String(w.clone()));
                        }
                    }
                    if !fields.is_empty() {
                        self.declare(
                            res.clone().address(),
                            Op::UpdateUser {
                                name: name.as_str().into(),
                                profile: changed,
                            },
                            Reason::Drifted {
                                line: du.line,
                                fields,
                            },
                            Some(Value::Object(before)),
                            Some(Value::Object(after)),
                        );
                    }
                }
            }
            let tagged = Tagged::User {
                name: name.clone(),
                principal_name: format!("{name}@{domain}"),
            };
            self.tags(
                &res,
                tagged,
                du.tags.as_ref(),
                live.map_or(&no_tags, |u| &u.tags),
                du.line,
            );
            if let Some(logon) = &du.console_logon {
                let have = live.and_then(|u| u.login_profile.as_ref());
                let address = res.clone().part(Part::LoginProfile);
                match (logon.enabled, have) {
                    (true, None) => {
                        if let Some(env) = &logon.initial_password_env {
                            self.declare(
                                address,
                                Op::CreateLoginProfile {
                                    user: name.as_str().into(),
                                    password_env: env.clone(),
                                    password_reset_required: logon.password_reset_required,
                                    mfa_bind_required: logon.mfa_bind_required,
                                    status: LoginProfileStatus::Active,
                                    principal_name: format!("{name}@{domain}").into(),
                                },
                                Reason::Declared { line: du.line },
                                None,
                                None,
                            );
                        }
                    }
                    (true, Some(lp)) => {
                        let mut fields = Vec::new();
                        if lp.password_reset_required != logon.password_reset_required {
                            fields.push("password_reset_required".to_string());
                        }
                        if lp.mfa_bind_required != logon.mfa_bind_required {
                            fields.push("mfa_bind_required".to_string());
                        }
                        if !fields.is_empty() {
                            self.declare(
                                address,
                                Op::UpdateLoginProfile {
                                    user: name.as_str().into(),
                                    password_reset_required: logon.password_reset_required,
                                    mfa_bind_required: logon.mfa_bind_required,
                                },
                                Reason::Drifted {
                                    line: du.line,
                                    fields,
                                },
                                Some(json!({
                                    "password_reset_required": lp.password_reset_required,
                                    "mfa_bind_required": lp.mfa_bind_required,
                                })),
                                Some(json!({
                                    "password_reset_required": logon.password_reset_required,
                                    "mfa_bind_required": logon.mfa_bind_required,
                                })),
                            );
                        }
                    }
                    (false, Some(_)) => self.declare(
                        address,
                        Op::DeleteLoginProfile {
                            user: name.as_str().into(),
                        },
                        Reason::Drifted {
                            line: du.line,
                            fields: vec!["console_logon".into()],
                        },
                        Some(json!({ "console_logon": "enabled" })),
                        Some(json!({ "console_logon": "disabled" })),
                    ),
                    (false, None) => {}
                }
            }
            if let Some(groups) = &du.groups {
                let have: &[String] = live.map_or(&[], |u| &u.groups);
                let list = format!("the groups of {res}");
                for g in groups {
                    let key = member_key(&name, &g.value);
                    if !have.iter().any(|h| same(h, &g.value)) && memberships.insert(key) {
                        let group = self.group_name(&g.value);
                        self.declare(
                            res.clone().part(Part::Group(group.as_str().into())),
                            Op::AddMember {
                                user: name.as_str().into(),
                                group: group.into(),
                            },
                            Reason::Governed {
                                line: du.line,
                                list: list.clone(),
                            },
                            None,
                            None,
                        );
                    }
                }
                for h in have {
                    let listed = groups.iter().any(|g| same(&g.value, h));
                    let by_group = desired
                        .declared
                        .group(h)
                        .is_some_and(|g| g.members.iter().flatten().any(|m| same(&m.value, &name)));
                    // A group on its way out drops its members itself.
                    if !listed
                        && !by_group
                        && !self.fates.groups.contains(h)
                        && memberships.insert(member_key(&name, h))
                    {
                        self.declare(
                            res.clone().part(Part::Group(h.as_str().into())),
                            Op::RemoveMember {
                                user: name.as_str().into(),
                                group: h.as_str().into(),
                            },
                            Reason::Governed {
                                line: du.line,
                                list: list.clone(),
                            },
                            None,
                            None,
                        );
                    }
                }
            }
            let have: &[PolicyRef] = live.map_or(&[], |u| &u.policies);
            self.attachments(
                &res,
                Principal::user(&name),
                du.policies.as_ref(),
                have,
                du.line,
            );
        }
    }

    /// The name a group goes by: as the account spells it, or as declared.
    fn group_name(&self, name: &str) -> String {
        self.inv
            .groups
            .iter()
            .find(|g| same(&g.name, name))
            .map(|g| g.name.clone())
            .or_else(|| self.desired.declared.group(name).map(|g| g.name.clone()))
            .unwrap_or_else(|| name.to_string())
    }

    fn user_name(&self, name: &str) -> String {
        self.inv
            .users
            .iter()
            .find(|u| same(&u.name, name))
            .map(|u| u.name.clone())
            .or_else(|| self.desired.declared.user(name).map(|u| u.name.clone()))
            .unwrap_or_else(|| name.to_string())
    }

    fn declared_groups(&mut self, memberships: &mut BTreeSet<Membership>) {
        let inv = self.inv;
        let desired = self.desired;
        for dg in &desired.declared.groups {
            let live = inv.groups.iter().find(|g| same(&g.name, &dg.name));
            let name = live.map_or(dg.name.clone(), |g| g.name.clone());
            let res = Resource::Group(name.as_str().into());
            match live {
                None => self.declare(
                    res.clone().address(),
                    Op::CreateGroup {
                        name: name.as_str().into(),
                        comments: dg.comments.clone(),
                    },
                    Reason::Declared { line: dg.line },
                    None,
                    None,
                ),
                Some(g) => {
                    if let Some(c) = &dg.comments
                        && g.comments.as_ref() != Some(c)
                    {
                        self.declare(
                            res.clone().address(),
                            Op::UpdateGroup {
                                name: name.as_str().into(),
                                comments: c.clone(),
                            },
                            Reason::Drifted {
                                line: dg.line,
                                fields: vec!["comments".into()],
                            },
                            Some(json!({ "comments": g.comments })),
                            Some(json!({ "comments": c })),
                        );
                    }
                }
            }
            if let Some(members) = &dg.members {
                let list = format!("the members of {res}");
                let live_members: Vec<&str> = inv
                    .users
                    .iter()
                    .filter(|u| u.groups.iter().any(|g| same(g, &name)))
                    .map(|u| u.name.as_str())
                    .collect();
                for m in members {
                    if !live_members.iter().any(|u| same(u, &m.value))
                        && memberships.insert(member_key(&m.value, &name))
                    {
                        let user = self.user_name(&m.value);
                        self.declare(
                            res.clone().part(Part::Member(user.as_str().into())),
                            Op::AddMember {
                                user: user.into(),
                                group: name.as_str().into(),
                            },
                            Reason::Governed {
                                line: dg.line,
                                list: list.clone(),
                            },
                            None,
                            None,
                        );
                    }
                }
                for u in live_members {
                    let listed = members.iter().any(|m| same(&m.value, u));
                    let by_user = desired.declared.user(u).is_some_and(|du| {
                        du.groups.iter().flatten().any(|g| same(&g.value, &name))
                    });
                    // A user on its way out leaves its groups itself.
                    if !listed
                        && !by_user
                        && !self.fates.users.contains(u)
                        && memberships.insert(member_key(u, &name))
                    {
                        self.declare(
                            res.clone().part(Part::Member(u.to_string().into())),
                            Op::RemoveMember {
                                user: u.to_string().into(),
                                group: name.as_str().into(),
                            },
                            Reason::Governed {
                                line: dg.line,
                                list: list.clone(),
                            },
                            None,
                            None,
                        );
                    }
                }
            }
            let have: &[PolicyRef] = live.map_or(&[], |g| &g.policies);
            self.attachments(
                &res,
                Principal::group(&name),
                dg.policies.as_ref(),
                have,
                dg.line,
            );
        }
    }

    fn declared_roles(&mut self) {
        let inv = self.inv;
        for dr in &self.desired.declared.roles {
            let live = inv.roles.iter().find(|r| same(&r.name, &dr.name));
            let name = live.map_or(dr.name.clone(), |r| r.name.clone());
            let res = Resource::Role(name.as_str().into());
            let no_tags = Tags::new();
            match live {
                None => self.declare(
                    res.clone().address(),
                    Op::CreateRole {
                        name: name.as_str().into(),
                        description: dr.description.clone(),
                        trust_policy: document_text(&dr.trust_policy),
                        max_session_duration: dr.max_session_duration,
                    },
                    Reason::Declared { line: dr.line },
                    None,
                    None,
                ),
                Some(r) => {
                    let mut fields = Vec::new();
                    let (mut before, mut after) = (serde_json::Map::new(), serde_json::Map::new());
                    let want_trust = normalise(&dr.trust_policy);
                    let have_trust = parsed(r.assume_role_policy_document.as_deref());
                    let trust = (have_trust.as_ref().map(normalise) != Some(want_trust.clone()))
                        .then(|| document_text(&dr.trust_policy));
                    if trust.is_some() {
                        fields.push("trust_policy".to_string());
                        before.insert(
                            "trust_policy".into(),
                            have_trust.map_or(Value::Null, |v| normalise(&v)),
                        );
                        after.insert("trust_policy".into(), want_trust);
                    }
                    let description = dr
                        .description
                        .clone()
                        .filter(|d| r.description.as_ref() != Some(d));
                    if let Some(d) = &description {
                        fields.push("description".into());
                        before.insert("description".into(), json!(r.description));
                        after.insert("description".into(), json!(d));
                    }
                    let max = dr
                        .max_session_duration
                        .filter(|m| *m != r.max_session_duration);
                    if let Some(m) = max {
                        fields.push("max_session_duration".into());
                        before.insert("max_session_duration".into(), json!(r.max_session_duration));
                        after.insert("max_session_duration".into(), json!(m));
                    }
                    if !fields.is_empty() {
                        self.declare(
                            res.clone().address(),
                            Op::UpdateRole {
                                name: name.as_str().into(),
                                description,
                                trust_policy: trust,
                                max_session_duration: max,
                            },
                            Reason::Drifted {
                                line: dr.line,
                                fields,
                            },
                            Some(Value::Object(before)),
                            Some(Value::Object(after)),
                        );
                    }
                }
            }
            self.tags(
                &res,
                Tagged::Role(name.clone()),
                dr.tags.as_ref(),
                live.map_or(&no_tags, |r| &r.tags),
                dr.line,
            );
            let have: &[PolicyRef] = live.map_or(&[], |r| &r.policies);
            self.attachments(
                &res,
                Principal::role(&name),
                dr.policies.as_ref(),
                have,
                dr.line,
            );
        }
    }

    fn declared_policies(&mut self) {
        let inv = self.inv;
        for dp in &self.desired.declared.policies {
            let live = inv.policies.iter().find(|p| p.name == dp.name);
            let res = Resource::Policy(dp.name.as_str().into());
            let no_tags = Tags::new();
            match live {
                None => self.declare(
                    res.clone().address(),
                    Op::CreatePolicy {
                        name: dp.name.as_str().into(),
                        description: dp.description.clone(),
                        document: document_text(&dp.document),
                    },
                    Reason::Declared { line: dp.line },
                    None,
                    None,
                ),
                Some(p) => {
                    let have = parsed(p.default_version().map(|v| v.document.as_str()));
                    let want = normalise(&dp.document);
                    if have.as_ref().map(normalise) != Some(want.clone()) {
                        // At the cap, the oldest non-default version makes room first.
                        if p.versions.len() >= 5
                            && let Some(oldest) = p
                                .versions
                                .iter()
                                .filter(|v| !v.is_default)
                                .min_by_key(|v| version_number(&v.id))
                        {
                            self.declare(
                                res.clone().part(Part::Version(oldest.id.as_str().into())),
                                Op::DeletePolicyVersion {
                                    name: dp.name.as_str().into(),
                                    version: oldest.id.as_str().into(),
                                },
                                Reason::VersionCap { policy: dp.name.clone() },
                                Some(json!({ "version": oldest.id, "create_date": oldest.create_date })),
                                None,
                            );
                        }
                        self.declare(
                            res.clone().part(Part::Document),
                            Op::CreatePolicyVersion {
                                name: dp.name.as_str().into(),
                                document: document_text(&dp.document),
                            },
                            Reason::Drifted {
                                line: dp.line,
                                fields: vec!["document".into()],
                            },
                            Some(json!({ "document": have.map(|h| normalise(&h)) })),
                            Some(json!({ "document": want })),
                        );
                    }
                    if let Some(d) = &dp.description
                        && p.description.as_ref() != Some(d)
                    {
                        self.declare(
                            res.clone().address(),
                            Op::UpdatePolicyDescription {
                                name: dp.name.as_str().into(),
                                description: d.clone(),
                            },
                            Reason::Drifted {
                                line: dp.line,
                                fields: vec!["description".into()],
                            },
                            Some(json!({ "description": p.description })),
                            Some(json!({ "description": d })),
                        );
                    }
                }
            }
            self.tags(
                &res,
                Tagged::Policy(dp.name.clone()),
                dp.tags.as_ref(),
                live.map_or(&no_tags, |p| &p.tags),
                dp.line,
            );
        }
    }

    fn declared_providers(&mut self) {
        let inv = self.inv;
        for ds in &self.desired.declared.saml_providers {
            let res = Resource::SamlProvider(ds.name.as_str().into());
            match inv.saml_providers.iter().find(|p| p.name == ds.name) {
                None => self.declare(
                    res.address(),
                    Op::CreateSamlProvider {
                        name: ds.name.as_str().into(),
                        description: ds.description.clone(),
                        metadata: ds.metadata.clone(),
                    },
                    Reason::Declared { line: ds.line },
                    None,
                    None,
                ),
                Some(p) => {
                    let description = ds
                        .description
                        .clone()
                        .filter(|d| p.description.as_ref() != Some(d));
                    let metadata = ds
                        .metadata
                        .clone()
                        .filter(|m| p.metadata.as_ref() != Some(m));
                    let mut fields = Vec::new();
                    if description.is_some() {
                        fields.push("description".to_string());
                    }
                    if metadata.is_some() {
                        fields.push("metadata".to_string());
                    }
                    if !fields.is_empty() {
                        self.declare(
                            res.address(),
                            Op::UpdateSamlProvider {
                                name: ds.name.as_str().into(),
                                description,
                                metadata,
                            },
                            Reason::Drifted {
                                line: ds.line,
                                fields,
                            },
                            None,
                            None,
                        );
                    }
                }
            }
        }
        for dp in &self.desired.declared.oidc_providers {
            let res = Resource::OidcProvider(dp.name.as_str().into());
            match inv.oidc_providers.iter().find(|p| p.name == dp.name) {
                None => self.declare(
                    res.address(),
                    Op::CreateOidcProvider {
                        name: dp.name.as_str().into(),
                        issuer_url: dp.issuer_url.clone(),
                        client_ids: dp.client_ids.clone().unwrap_or_default(),
                        fingerprints: dp.fingerprints.clone().unwrap_or_default(),
                        description: dp.description.clone(),
                    },
                    Reason::Declared { line: dp.line },
                    None,
                    None,
                ),
                Some(p) => {
                    let sorted = |v: &[String]| {
                        let mut v = v.to_vec();
                        v.sort();
                        v
                    };
                    let client_ids = dp
                        .client_ids
                        .clone()
                        .filter(|ids| sorted(ids) != sorted(&p.client_ids));
                    let description = dp
                        .description
                        .clone()
                        .filter(|d| p.description.as_ref() != Some(d));
                    let mut fields = Vec::new();
                    if client_ids.is_some() {
                        fields.push("client_ids".to_string());
                    }
                    if description.is_some() {
                        fields.push("description".to_string());
                    }
                    if !fields.is_empty() {
                        self.declare(
                            res.address(),
                            Op::UpdateOidcProvider {
                                name: dp.name.as_str().into(),
                                client_ids: client_ids.clone(),
                                description: description.clone(),
                            },
                            Reason::Drifted {
                                line: dp.line,
                                fields,
                            },
                            Some(
                                json!({ "client_ids": p.client_ids, "description": p.description }),
                            ),
                            Some(json!({
                                "client_ids": client_ids.unwrap_or_else(|| p.client_ids.clone()),
                                "description": description.or_else(|| p.description.clone()),
                            })),
                        );
                    }
                }
            }
        }
    }

    fn declared_account(&mut self) {
        let acct = &self.inv.account;
        let declared = &self.desired.declared.account;
        let text = self.source_text();
        let line =
            |at: &[crate::config::Seg]| crate::config::locate(&text, at).map_or(0, |p| p.line);
        if let Some(alias) = &declared.alias
            && acct.alias.as_deref() != Some(alias.value.as_str())
        {
            let l = line(&alias.at);
            self.declare(
                Resource::AccountAlias.address(),
                Op::SetAccountAlias {
                    alias: alias.value.clone(),
                },
                Reason::Drifted {
                    line: l,
                    fields: vec!["alias".into()],
                },
                Some(json!({ "alias": acct.alias })),
                Some(json!({ "alias": alias.value })),
            );
        }
        if let Some(policy) = &declared.password_policy {
            let have = acct.password_policy.clone().unwrap_or_default();
            let op = Op::SetPasswordPolicy {
                policy: policy.value.clone(),
            };
            self.set_setting(
                Resource::PasswordPolicy,
                &have,
                &policy.value,
                op,
                line(&policy.at),
            );
        }
        if let Some(pref) = &declared.security_preference {
            let have = acct.security_preference.clone().unwrap_or_default();
            // Read-only fields are whatever the account says.
            let mut want = pref.value.clone();
            want.max_idle_days_for_access_keys = have.max_idle_days_for_access_keys;
            want.max_idle_days_for_users = have.max_idle_days_for_users;
            let op = Op::SetSecurityPreference {
                preference: want.clone(),
            };
            self.set_setting(
                Resource::SecurityPreference,
                &have,
                &want,
                op,
                line(&pref.at),
            );
        }
        if let Some(domain) = &declared.default_domain
            && acct.domain() != domain.value
        {
            let l = line(&domain.at);
            self.declare(
                Resource::DefaultDomain.address(),
                Op::SetDefaultDomain {
                    domain: domain.value.clone(),
                },
                Reason::Drifted {
                    line: l,
                    fields: vec!["default_domain".into()],
                },
                Some(json!({ "default_domain": acct.domain() })),
                Some(json!({ "default_domain": domain.value })),
            );
        }
    }

    /// Sets a whole setting when any field differs, showing the fields that do.
    fn set_setting<T: serde::Serialize + PartialEq>(
        &mut self,
        res: Resource,
        have: &T,
        want: &T,
        op: Op,
        line: usize,
    ) {
        if have == want {
            return;
        }
        let fields = changed_fields(have, want);
        let before = fields.iter().map(|(k, (b, _))| (k.clone(), b.clone()));
        let after = fields.iter().map(|(k, (_, a))| (k.clone(), a.clone()));
        self.declare(
            res.address(),
            op,
            Reason::Drifted {
                line,
                fields: fields.keys().cloned().collect(),
            },
            Some(Value::Object(before.collect())),
            Some(Value::Object(after.collect())),
        );
    }

    fn source_text(&self) -> String {
        self.desired
            .source
            .as_ref()
            .map(|s| s.1.clone())
            .unwrap_or_default()
    }
}

/// The fields of two settings that differ: name → (before, after).
fn changed_fields<T: serde::Serialize>(
    have: &T,
    want: &T,
) -> std::collections::BTreeMap<String, (Value, Value)> {
    let (Ok(Value::Object(h)), Ok(Value::Object(w))) =
        (serde_json::to_value(have), serde_json::to_value(want))
    else {
        return Default::default();
    };
    let keys: BTreeSet<&String> = h.keys().chain(w.keys()).collect();
    keys.into_iter()
        .filter_map(|k| {
            let b = h.get(k).cloned().unwrap_or(Value::Null);
            let a = w.get(k).cloned().unwrap_or(Value::Null);
            (b != a).then(|| (k.clone(), (b, a)))
        })
        .collect()
}

/// `v12` → 12, for the order of versions.
fn version_number(id: &str) -> u64 {
    id.trim_start_matches('v').parse().unwrap_or(u64::MAX)
}
