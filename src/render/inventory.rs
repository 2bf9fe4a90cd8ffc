//! An inventory as text: one section per kind.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::Paint;
use crate::model::{Inventory, KeyStatus};

fn section(w: &mut dyn Write, p: Paint, title: &str, n: usize) -> io::Result<()> {
    if n == 0 {
        writeln!(w, "{}: {}", p.bold(title), p.dim("none"))
    } else {
        writeln!(w, "{} ({n}):", p.bold(title))
    }
}

fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Everything the account holds, readable.
pub fn inventory_text(inv: &Inventory, w: &mut dyn Write) -> io::Result<()> {
    inventory_text_styled(inv, w, false)
}

/// [`inventory_text`], with section titles in bold when `color` is on.
pub fn inventory_text_styled(inv: &Inventory, w: &mut dyn Write, color: bool) -> io::Result<()> {
    let p = Paint::new(color);
    let a = &inv.account;
    writeln!(
        w,
        "Account {} (alias: {}, default domain: {})",
        a.id,
        a.alias.as_deref().unwrap_or("none"),
        a.domain()
    )?;

    section(w, p, "Users", inv.users.len())?;
    for u in &inv.users {
        let mut parts = Vec::new();
        for k in &u.access_keys {
            let status = match k.status {
                KeyStatus::Active => "active",
                KeyStatus::Inactive => "inactive",
            };
            let used = k
                .last_used_date
                .as_deref()
                .map(|d| format!(", last used {d}"))
                .unwrap_or_else(|| ", never used".into());
            parts.push(format!("key {} ({status}{used})", k.id));
        }
        if u.login_profile.is_some() {
            parts.push("console login".into());
        }
        if let Some(m) = &u.mfa_device {
            parts.push(format!("MFA {m}"));
        }
        if !u.groups.is_empty() {
            parts.push(format!("groups: {}", join(&u.groups)));
        }
        if !u.policies.is_empty() {
            parts.push(format!("policies: {}", join(&u.policies)));
        }
        if parts.is_empty() {
            parts.push("no keys, login, MFA, groups or policies".into());
        }
        writeln!(w, "  {}  {}", u.name, parts.join("; "))?;
    }

    let mut members: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for u in &inv.users {
        for g in &u.groups {
            members.entry(g).or_default().push(&u.name);
        }
    }
    section(w, p, "Groups", inv.groups.len())?;
    for g in &inv.groups {
        let m = members.get(g.name.as_str()).cloned().unwrap_or_default();
        writeln!(
            w,
            "  {}  members: {}; policies: {}",
            g.name,
            if m.is_empty() {
                "none".into()
            } else {
                m.join(", ")
            },
            if g.policies.is_empty() {
                "none".into()
            } else {
                join(&g.policies)
            }
        )?;
    }

    section(w, p, "Roles", inv.roles.len())?;
    for r in &inv.roles {
        let kind = if r.is_service_linked() {
            "service-linked"
        } else {
            "ordinary"
        };
        let pol = if r.policies.is_empty() {
            "none".to_string()
        } else {
            join(&r.policies)
        };
        writeln!(w, "  {}  {kind}; policies: {pol}", r.name)?;
        for u in &r.usages {
            writeln!(w, "    used in {} by {}", u.region, join(&u.resources))?;
        }
    }

    section(w, p, "Custom policies", inv.policies.len())?;
    for p in &inv.policies {
        let versions: Vec<String> = p
            .versions
            .iter()
            .map(|v| {
                if v.is_default {
                    format!("{} (default)", v.id)
                } else {
                    v.id.clone()
                }
            })
            .collect();
        let custom = crate::model::PolicyRef::custom(p.name.clone());
        let mut attached: Vec<String> = Vec::new();
        attached.extend(
            inv.users
                .iter()
                .filter(|u| u.policies.contains(&custom))
                .map(|u| format!("user {}", u.name)),
        );
        attached.extend(
            inv.groups
                .iter()
                .filter(|g| g.policies.contains(&custom))
                .map(|g| format!("group {}", g.name)),
        );
        attached.extend(
            inv.roles
                .iter()
                .filter(|r| r.policies.contains(&custom))
                .map(|r| format!("role {}", r.name)),
        );
        writeln!(
            w,
            "  {}  versions: {}; attached to: {}",
            p.name,
            versions.join(", "),
            if attached.is_empty() {
                "nothing".into()
            } else {
                attached.join(", ")
            }
        )?;
    }

    section(w, p, "SAML providers", inv.saml_providers.len())?;
    for p in &inv.saml_providers {
        writeln!(w, "  {}", p.name)?;
    }
    section(w, p, "OIDC providers", inv.oidc_providers.len())?;
    for p in &inv.oidc_providers {
        writeln!(w, "  {}  issuer: {}", p.name, p.issuer_url)?;
    }
    section(w, p, "Virtual MFA devices", inv.virtual_mfa_devices.len())?;
    for d in &inv.virtual_mfa_devices {
        writeln!(
            w,
            "  {}  {}",
            d.serial_number,
            d.user
                .as_deref()
                .map(|u| format!("bound to {u}"))
                .unwrap_or_else(|| "not bound".into())
        )?;
    }
    section(w, p, "Applications", inv.applications.len())?;
    for a in &inv.applications {
        writeln!(
            w,
            "  {}  id {}{}",
            a.app_name,
            a.app_id,
            a.app_type
                .as_deref()
                .map(|t| format!(", {t}"))
                .unwrap_or_default()
        )?;
    }
    let bin = &inv.recycle_bin;
    section(w, p, "Recycle bin", bin.users.len() + bin.access_keys.len())?;
    for u in &bin.users {
        writeln!(w, "  user {} (id {})", u.principal_name, u.id)?;
    }
    for k in &bin.access_keys {
        writeln!(w, "  access key {} (user id {})", k.id, k.user_id)?;
    }
    Ok(())
}
