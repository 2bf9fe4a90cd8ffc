//! Whether an account can be closed, item by item, in the order of Alibaba's checklist.
//!
//! Each item is ready or names what blocks it. The recycle bin counts as blocking:
//! a recycled user and its access keys can still be restored for 30 days, so until
//! the bin is purged the account still holds RAM identities.

use serde::{Deserialize, Serialize};

use crate::model::{Inventory, RoleUsage};

/// The checklist, in Alibaba's order.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Users,
    Groups,
    Roles,
    CustomPolicies,
    IdentityProviders,
    VirtualMfaDevices,
    DefaultDomain,
    Applications,
    ServiceLinkedRoles,
    RecycleBin,
}

impl Check {
    pub const ALL: [Check; 10] = [
        Check::Users,
        Check::Groups,
        Check::Roles,
        Check::CustomPolicies,
        Check::IdentityProviders,
        Check::VirtualMfaDevices,
        Check::DefaultDomain,
        Check::Applications,
        Check::ServiceLinkedRoles,
        Check::RecycleBin,
    ];

    /// The item's name as the checklist says it.
    pub fn title(self) -> &'static str {
        match self {
            Check::Users => "RAM users",
            Check::Groups => "User groups",
            Check::Roles => "RAM roles",
            Check::CustomPolicies => "Custom policies",
            Check::IdentityProviders => "Identity providers (SAML and OIDC)",
            Check::VirtualMfaDevices => "Virtual MFA devices",
            Check::DefaultDomain => "Default domain reset",
            Check::Applications => "OAuth applications",
            Check::ServiceLinkedRoles => "Service-linked roles",
            Check::RecycleBin => "Recycle bin",
        }
    }
}

/// The verdict on an account.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Readiness {
    pub account_id: String,
    /// Whether every item is ready (serialised for `-o json` readers).
    pub ready: bool,
    pub items: Vec<Item>,
}

/// One checklist item.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Item {
    pub check: Check,
    pub title: String,
    /// What stands in the way; empty when the item is ready.
    pub blocking: Vec<Blocker>,
}

/// One thing that blocks closing.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Blocker {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// For a service-linked role still in use: where, and by what.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usages: Vec<RoleUsage>,
}

impl Blocker {
    fn named(name: impl Into<String>) -> Self {
        Blocker {
            name: name.into(),
            detail: None,
            usages: Vec::new(),
        }
    }
    fn with_detail(mut self, d: impl Into<String>) -> Self {
        self.detail = Some(d.into());
        self
    }
}

impl Item {
    pub fn ready(&self) -> bool {
        self.blocking.is_empty()
    }
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.items.iter().all(Item::ready)
    }

    /// How many things block closing, over all items.
    pub fn blocker_count(&self) -> usize {
        self.items.iter().map(|i| i.blocking.len()).sum()
    }

    pub fn item(&self, check: Check) -> &Item {
        self.items
            .iter()
            .find(|i| i.check == check)
            .expect("every check has an item")
    }
}

/// Checks an account's inventory against the closure checklist.
pub fn assess(inventory: &Inventory) -> Readiness {
    let inv = inventory;
    let items: Vec<Item> = Check::ALL
        .into_iter()
        .map(|check| {
            let mut blocking = blockers(inv, check);
            blocking.sort_by(|a, b| a.name.cmp(&b.name));
            Item {
                check,
                title: check.title().to_string(),
                blocking,
            }
        })
        .collect();
    let ready = items.iter().all(Item::ready);
    Readiness {
        account_id: inv.account.id.clone(),
        ready,
        items,
    }
}

fn blockers(inv: &Inventory, check: Check) -> Vec<Blocker> {
    match check {
        Check::Users => inv.users.iter().map(|u| Blocker::named(&u.name)).collect(),
        Check::Groups => inv.groups.iter().map(|g| Blocker::named(&g.name)).collect(),
        Check::Roles => inv
            .roles
            .iter()
            .filter(|r| !r.is_service_linked())
            .map(|r| Blocker::named(&r.name))
            .collect(),
        Check::CustomPolicies => inv
            .policies
            .iter()
            .map(|p| Blocker::named(&p.name))
            .collect(),
        Check::IdentityProviders => inv
            .saml_providers
            .iter()
            .map(|p| Blocker::named(&p.name).with_detail("SAML"))
            .chain(
                inv.oidc_providers
                    .iter()
                    .map(|p| Blocker::named(&p.name).with_detail("OIDC")),
            )
            .collect(),
        Check::VirtualMfaDevices => inv
            .virtual_mfa_devices
            .iter()
            .map(|d| {
                let b = Blocker::named(d.name());
                match &d.user {
                    Some(u) => b.with_detail(format!("bound to {u}")),
                    None => b.with_detail("not bound"),
                }
            })
            .collect(),
        Check::DefaultDomain => {
            let initial = inv.account.initial_domain();
            let now = inv.account.domain();
            if now == initial {
                Vec::new()
            } else {
                vec![Blocker::named(now).with_detail(format!("reset it to {initial}"))]
            }
        }
        Check::Applications => inv
            .applications
            .iter()
            .map(|a| Blocker::named(&a.app_name))
            .collect(),
        Check::ServiceLinkedRoles => inv
            .roles
            .iter()
            .filter(|r| r.is_service_linked())
            .map(|r| {
                let mut b = Blocker::named(&r.name);
                if !r.usages.is_empty() {
                    let n: usize = r.usages.iter().map(|u| u.resources.len()).sum();
                    b.detail = Some(format!(
                        "in use by {n} resource{} in {}",
                        if n == 1 { "" } else { "s" },
                        r.usages
                            .iter()
                            .map(|u| u.region.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    b.usages = r.usages.clone();
                }
                b
            })
            .collect(),
        Check::RecycleBin => inv
            .recycle_bin
            .users
            .iter()
            .map(|u| Blocker::named(&u.principal_name).with_detail("recycled user"))
            .chain(
                inv.recycle_bin
                    .access_keys
                    .iter()
                    .map(|k| Blocker::named(&k.id).with_detail("recycled access key")),
            )
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(yaml: &str) -> Inventory {
        yaml_serde::from_str(yaml).unwrap()
    }

    #[test]
    fn an_empty_account_is_ready_on_every_item_in_checklist_order() {
        let r = assess(&inv("account: {id: \"1234567890123456\"}\n"));
        assert!(r.ready());
        assert_eq!(
            r.items.iter().map(|i| i.check).collect::<Vec<_>>(),
            Check::ALL.to_vec()
        );
        assert_eq!(r.blocker_count(), 0);
    }

    #[test]
    fn default_domain_set_to_the_account_own_is_ready() {
        let r = assess(&inv(
            "account: {id: \"1234567890123456\", default_domain: 1234567890123456.onaliyun.com}\n",
        ));
        assert!(r.item(Check::DefaultDomain).ready());
        let r = assess(&inv(
            "account: {id: \"1234567890123456\", default_domain: corp.onaliyun.com}\n",
        ));
        let item = r.item(Check::DefaultDomain);
        assert_eq!(item.blocking[0].name, "corp.onaliyun.com");
        assert!(!r.ready());
    }

    #[test]
    fn ordinary_and_service_linked_roles_are_separate_items() {
        let r = assess(&inv(
            "account: {id: \"1\"}\nroles: [{name: deployer}, {name: AliyunServiceRoleForECS, usages: [{region: cn-hangzhou, resources: [i-1]}]}]\n",
        ));
        assert_eq!(r.item(Check::Roles).blocking[0].name, "deployer");
        let slr = &r.item(Check::ServiceLinkedRoles).blocking[0];
        assert_eq!(slr.name, "AliyunServiceRoleForECS");
        assert_eq!(slr.usages[0].resources, vec!["i-1".to_string()]);
        assert_eq!(
            slr.detail.as_deref(),
            Some("in use by 1 resource in cn-hangzhou")
        );
    }

    #[test]
    fn the_recycle_bin_blocks_until_purged() {
        let r = assess(&inv(
            "account: {id: \"1\"}\nrecycle_bin: {users: [{id: \"9\", principal_name: gone@x.onaliyun.com}]}\n",
        ));
        assert!(!r.ready());
        assert_eq!(r.item(Check::RecycleBin).blocking.len(), 1);
    }
}
