//! What ramstate must never remove or change because the caller depends on it: its own
//! user, the key it signs with, the role it runs as, the OIDC provider it signs in
//! through, the groups its user belongs to and the custom policies that give it its
//! permissions. The planner leaves them out of the plan; the executor refuses any step
//! that affects one, whatever the step.

use serde::Serialize;

use super::op::Entity;
use crate::model::{Caller, Inventory, PolicyRef, PolicyType, User};

/// Protected entities, each with why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Protection {
    entries: Vec<(Entity, String)>,
}

impl Protection {
    /// Protect `entity`, unless it already is (the first reason stays).
    pub fn insert(&mut self, entity: Entity, why: impl Into<String>) {
        if self.reason(&entity).is_none() {
            self.entries.push((entity, why.into()));
        }
    }

    /// Why `entity` is protected, if it is (names compared as RAM compares them).
    pub fn reason(&self, entity: &Entity) -> Option<&str> {
        self.entries
            .iter()
            .find(|(e, _)| e.same(entity))
            .map(|(_, why)| why.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Entity, &str)> {
        self.entries.iter().map(|(e, w)| (e, w.as_str()))
    }
}

fn custom(refs: &[PolicyRef]) -> impl Iterator<Item = &str> {
    refs.iter()
        .filter(|p| p.policy_type == PolicyType::Custom)
        .map(|p| p.name.as_str())
}

/// The kind of identity provider a trust policy names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProviderKind {
    Oidc,
    Saml,
}

/// The identity providers of this account a trust policy names as federated principals
/// (`acs:ram::<account>:oidc-provider/<name>`, `...:saml-provider/<name>`).
fn federated_providers(
    doc: &str,
    account: &str,
    caller_account: &str,
) -> Vec<(String, ProviderKind)> {
    let mut out = Vec::new();
    for arn in crate::trust::federated_principals(doc) {
        // acs:ram::<account>:<kind>-provider/<name>
        let mut parts = arn.splitn(5, ':');
        let (Some("acs"), Some("ram"), Some(_), Some(acct), Some(res)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            continue;
        };
        if acct != account && acct != caller_account {
            continue;
        }
        let found = if let Some(n) = res.strip_prefix("oidc-provider/") {
            (n, ProviderKind::Oidc)
        } else if let Some(n) = res.strip_prefix("saml-provider/") {
            (n, ProviderKind::Saml)
        } else {
            continue;
        };
        if !found.0.is_empty() {
            out.push((found.0.to_string(), found.1));
        }
    }
    out
}

/// Everything the caller depends on in this account.
pub fn protection(inv: &Inventory, caller: &Caller) -> Protection {
    let mut g = Protection::default();
    if let Some(name) = caller.oidc_provider.as_deref() {
        g.insert(
            Entity::OidcProvider(name.to_string()),
            "the OIDC provider ramstate signs in through: without it the next run cannot sign in",
        );
    }
    if let Some(key) = caller.access_key_id.as_deref() {
        g.insert(
            Entity::AccessKey(key.to_string()),
            "the access key ramstate signs with",
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
                Entity::User(u.name.clone()),
                "the caller's own user: ramstate runs as it",
            );
            caller_users.push(u);
        } else if let Some(k) = caller
            .access_key_id
            .as_deref()
            .and_then(|id| u.access_keys.iter().find(|k| k.id == id))
        {
            g.insert(
                Entity::User(u.name.clone()),
                format!("owns the access key ramstate signs with ({})", k.id),
            );
            caller_users.push(u);
        }
    }
    if let Some(name) = caller.user_name.as_deref()
        && caller_users.is_empty()
    {
        g.insert(
            Entity::User(name.to_string()),
            "the caller's own user: ramstate runs as it",
        );
    }
    let mut policies: Vec<(String, String)> = Vec::new();
    for u in &caller_users {
        for gname in &u.groups {
            g.insert(
                Entity::Group(gname.clone()),
                format!(
                    "the caller's user {} is a member; removing it would change the caller's permissions",
                    u.name
                ),
            );
            if let Some(group) = inv.groups.iter().find(|x| &x.name == gname) {
                for p in custom(&group.policies) {
                    policies.push((
                        p.to_string(),
                        format!("attached to group {gname}, which the caller belongs to"),
                    ));
                }
            }
        }
        for p in custom(&u.policies) {
            policies.push((
                p.to_string(),
                format!("attached to the caller's user {}", u.name),
            ));
        }
    }
    // Role ARNs carry the name in lower case, so the caller's role is matched without case.
    if let Some(rname) = caller.role_name.as_deref() {
        let role = inv
            .roles
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(rname));
        let rname = role.map_or(rname, |r| r.name.as_str());
        g.insert(Entity::Role(rname.to_string()), "the role ramstate runs as");
        // The session may have come through any identity provider the role trusts, also
        // when it was obtained outside ramstate: without the provider, no new session.
        for (provider, kind) in role
            .and_then(|r| r.assume_role_policy_document.as_deref())
            .map(|doc| federated_providers(doc, &inv.account.id, &caller.account_id))
            .unwrap_or_default()
        {
            let why = format!(
                "the caller's role {rname} trusts it: the caller's session may have come through it, and without it no new one can"
            );
            match kind {
                ProviderKind::Oidc => g.insert(Entity::OidcProvider(provider), why),
                ProviderKind::Saml => g.insert(Entity::SamlProvider(provider), why),
            }
        }
        if let Some(role) = role {
            for p in custom(&role.policies) {
                policies.push((
                    p.to_string(),
                    format!("attached to the caller's role {rname}"),
                ));
            }
        }
    }
    // The first reason per policy name, in name order (as the plan has always listed them).
    policies.sort_by(|a, b| a.0.cmp(&b.0));
    for (p, why) in policies {
        g.insert(Entity::Policy(p), why);
    }
    g
}
