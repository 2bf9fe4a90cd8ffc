//! Inventory → desired-state file: the way in for an account that already exists.
//!
//! [`declared`] writes every user, group, role, custom policy and identity provider as a
//! declaration (documents as readable YAML) plus the account's settings, with those kinds
//! managed: planning the file against the same account finds nothing to do. [`allowlist`]
//! writes keep rules by name instead, with every kind managed: the baseline allowlist to
//! start from. Neither holds a secret: no key secret, no password (a console logon names
//! the environment variable its initial password would come from, for cloning).

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value as Json;

use crate::model::{Inventory, Kind, PasswordPolicy, PolicyRef, SecurityPreference, Tags};

/// The first lines of every exported file.
fn header(inv: &Inventory, what: &str) -> String {
    format!(
        "# yaml-language-server: $schema=ramstate.schema.json\n\
         # {what} of account {}, written by `ramstate export`.\n\
         # The schema: `ramstate schema > ramstate.schema.json` next to this file.\n",
        inv.account.id
    )
}

#[derive(Serialize)]
struct File<'a> {
    version: u32,
    account: AccountPin<'a>,
    manage: Vec<Kind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    keep: Option<std::collections::BTreeMap<Kind, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recycle_bin: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_domain: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_alias: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<Resources<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    backup: Option<&'a crate::config::Backup>,
}

#[derive(Serialize)]
struct AccountPin<'a> {
    id: &'a str,
}

#[derive(Serialize, Default)]
struct Resources<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    users: Vec<User<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    groups: Vec<Group<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    roles: Vec<Role<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    policies: Vec<Policy<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    saml_providers: Vec<Saml<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    oidc_providers: Vec<Oidc<'a>>,
    #[serde(skip_serializing_if = "Account::is_empty")]
    account: Account<'a>,
}

#[derive(Serialize)]
struct User<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mobile_phone: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<&'a str>,
    tags: &'a Tags,
    console_logon: Logon,
    groups: &'a [String],
    policies: &'a [PolicyRef],
}

#[derive(Serialize)]
struct Logon {
    enabled: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    password_reset_required: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    mfa_bind_required: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_password_env: Option<String>,
}

#[derive(Serialize)]
struct Group<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<&'a str>,
    policies: &'a [PolicyRef],
    /// In a backup: who belonged to the group (its members' own lists say it in an export).
    #[serde(skip_serializing_if = "Option::is_none")]
    members: Option<Vec<&'a str>>,
}

#[derive(Serialize)]
struct Role<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    trust_policy: Json,
    max_session_duration: u32,
    tags: &'a Tags,
    policies: &'a [PolicyRef],
}

#[derive(Serialize)]
struct Policy<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    document: Json,
    tags: &'a Tags,
}

#[derive(Serialize)]
struct Saml<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a str>,
}

#[derive(Serialize)]
struct Oidc<'a> {
    name: &'a str,
    issuer_url: &'a str,
    client_ids: &'a [String],
    fingerprints: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

#[derive(Serialize, Default)]
struct Account<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    alias: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    default_domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    password_policy: Option<&'a PasswordPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    security_preference: Option<SecurityPreference>,
}

impl Account<'_> {
    fn is_empty(&self) -> bool {
        self.alias.is_none()
            && self.default_domain.is_none()
            && self.password_policy.is_none()
            && self.security_preference.is_none()
    }
}

/// A document as a readable mapping when it is JSON, else as its text.
fn document(text: Option<&str>) -> Json {
    let text = text.unwrap_or("{}");
    serde_json::from_str::<Json>(text)
        .ok()
        .filter(Json::is_object)
        .unwrap_or_else(|| Json::String(text.to_string()))
}

/// `INITIAL_PASSWORD_CI_BOT` for `ci-bot`: where a clone's initial password comes from.
fn password_env(user: &str) -> String {
    let name: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("INITIAL_PASSWORD_{name}")
}

/// The kinds a declared export manages: every kind it declares in full.
pub const DECLARED_KINDS: [Kind; 6] = [
    Kind::Users,
    Kind::Groups,
    Kind::Roles,
    Kind::Policies,
    Kind::SamlProviders,
    Kind::OidcProviders,
];

/// Which entities of an inventory a file declares, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    pub roles: BTreeSet<String>,
    pub policies: BTreeSet<String>,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
            && self.groups.is_empty()
            && self.roles.is_empty()
            && self.policies.is_empty()
    }
}

/// Declarations of what `pick` selects (kind, name); a group lists its members when
/// `members` is set.
fn resources<'a>(
    inv: &'a Inventory,
    pick: &dyn Fn(Kind, &str) -> bool,
    members: bool,
) -> Resources<'a> {
    let mut r = Resources::default();
    for u in inv.users.iter().filter(|u| pick(Kind::Users, &u.name)) {
        r.users.push(User {
            name: &u.name,
            display_name: u.display_name.as_deref(),
            email: u.email.as_deref(),
            mobile_phone: u.mobile_phone.as_deref(),
            comments: u.comments.as_deref(),
            tags: &u.tags,
            console_logon: match &u.login_profile {
                Some(lp) => Logon {
                    enabled: true,
                    password_reset_required: lp.password_reset_required,
                    mfa_bind_required: lp.mfa_bind_required,
                    initial_password_env: Some(password_env(&u.name)),
                },
                None => Logon {
                    enabled: false,
                    password_reset_required: false,
                    mfa_bind_required: false,
                    initial_password_env: None,
                },
            },
            groups: &u.groups,
            policies: &u.policies,
        });
    }
    for g in inv.groups.iter().filter(|g| pick(Kind::Groups, &g.name)) {
        r.groups.push(Group {
            name: &g.name,
            comments: g.comments.as_deref(),
            policies: &g.policies,
            members: members.then(|| {
                inv.users
                    .iter()
                    .filter(|u| u.groups.iter().any(|x| x.eq_ignore_ascii_case(&g.name)))
                    .map(|u| u.name.as_str())
                    .collect()
            }),
        });
    }
    for role in inv
        .roles
        .iter()
        .filter(|r| !r.is_service_linked() && pick(Kind::Roles, &r.name))
    {
        r.roles.push(Role {
            name: &role.name,
            description: role.description.as_deref(),
            trust_policy: document(role.assume_role_policy_document.as_deref()),
            max_session_duration: role.max_session_duration,
            tags: &role.tags,
            policies: &role.policies,
        });
    }
    for p in inv
        .policies
        .iter()
        .filter(|p| pick(Kind::Policies, &p.name))
    {
        r.policies.push(Policy {
            name: &p.name,
            description: p.description.as_deref(),
            document: document(p.default_version().map(|v| v.document.as_str())),
            tags: &p.tags,
        });
    }
    r
}

/// The account as declarations.
pub fn declared(inv: &Inventory) -> String {
    let mut r = resources(inv, &|_, _| true, false);
    for p in &inv.saml_providers {
        r.saml_providers.push(Saml {
            name: &p.name,
            description: p.description.as_deref(),
            metadata: p.metadata.as_deref(),
        });
    }
    for p in &inv.oidc_providers {
        r.oidc_providers.push(Oidc {
            name: &p.name,
            issuer_url: &p.issuer_url,
            client_ids: &p.client_ids,
            fingerprints: &p.fingerprints,
            description: p.description.as_deref(),
        });
    }
    let acct = &inv.account;
    r.account = Account {
        alias: acct.alias.as_deref(),
        default_domain: acct
            .default_domain
            .clone()
            .filter(|d| *d != acct.initial_domain()),
        password_policy: acct.password_policy.as_ref(),
        // The read-only fields are the account's own business.
        security_preference: acct.security_preference.clone(),
    };
    let file = File {
        version: 1,
        account: AccountPin { id: &acct.id },
        manage: DECLARED_KINDS.to_vec(),
        keep: None,
        recycle_bin: None,
        default_domain: None,
        account_alias: None,
        resources: Some(r),
        backup: None,
    };
    header(inv, "The RAM")
        + "# Console logons name the variable an initial password comes from when the file\n\
           # creates them (cloning into another account); an existing logon needs none.\n"
        + &yaml_serde::to_string(&file).expect("an export serialises")
}

/// A backup of the selected entities before their deletion: their declarations in the
/// export format (groups with their members), managing nothing, with `backup` (user IDs,
/// key IDs and statuses, MFA devices) after them. Never a secret.
pub fn backup(inv: &Inventory, selection: &Selection, section: &crate::config::Backup) -> String {
    let has = |set: &BTreeSet<String>, n: &str| set.iter().any(|x| x.eq_ignore_ascii_case(n));
    let pick = |kind: Kind, name: &str| match kind {
        Kind::Users => has(&selection.users, name),
        Kind::Groups => has(&selection.groups, name),
        Kind::Roles => has(&selection.roles, name),
        Kind::Policies => selection.policies.contains(name),
        _ => false,
    };
    let file = File {
        version: 1,
        account: AccountPin {
            id: &inv.account.id,
        },
        manage: Vec::new(),
        keep: None,
        recycle_bin: None,
        default_domain: None,
        account_alias: None,
        resources: Some(resources(inv, &pick, true)),
        backup: Some(section),
    };
    format!(
        "# yaml-language-server: $schema=ramstate.schema.json\n\
         # A backup of account {}, written by `ramstate apply` at {}\n\
         # before it deleted what this file declares. It manages nothing: `ramstate diff`\n\
         # of it only creates and updates; `ramstate restore` of it brings users back from\n\
         # the recycle bin first. Console logons name the variable their initial password\n\
         # comes from on a restore. MFA devices cannot be bound again by a restore.\n",
        inv.account.id, section.written
    ) + &yaml_serde::to_string(&file).expect("a backup serialises")
}

/// The account as keep rules: everything in it kept by name, every kind managed.
pub fn allowlist(inv: &Inventory) -> String {
    let mut keep = std::collections::BTreeMap::new();
    let mut add = |kind: Kind, names: Vec<String>| {
        if !names.is_empty() {
            keep.insert(kind, names);
        }
    };
    add(
        Kind::Users,
        inv.users.iter().map(|u| u.name.clone()).collect(),
    );
    add(
        Kind::Groups,
        inv.groups.iter().map(|g| g.name.clone()).collect(),
    );
    add(
        Kind::Roles,
        inv.roles
            .iter()
            .filter(|r| !r.is_service_linked())
            .map(|r| r.name.clone())
            .collect(),
    );
    add(
        Kind::ServiceLinkedRoles,
        inv.roles
            .iter()
            .filter(|r| r.is_service_linked())
            .map(|r| r.name.clone())
            .collect(),
    );
    add(
        Kind::Policies,
        inv.policies.iter().map(|p| p.name.clone()).collect(),
    );
    add(
        Kind::SamlProviders,
        inv.saml_providers.iter().map(|p| p.name.clone()).collect(),
    );
    add(
        Kind::OidcProviders,
        inv.oidc_providers.iter().map(|p| p.name.clone()).collect(),
    );
    add(
        Kind::VirtualMfaDevices,
        inv.virtual_mfa_devices
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
    );
    add(
        Kind::Applications,
        inv.applications
            .iter()
            .map(|a| a.app_name.clone())
            .collect(),
    );
    let file = File {
        version: 1,
        account: AccountPin {
            id: &inv.account.id,
        },
        manage: Kind::ALL.into_iter().filter(|k| !k.is_setting()).collect(),
        keep: Some(keep),
        recycle_bin: Some("keep"),
        default_domain: Some("keep"),
        account_alias: Some("keep"),
        resources: None,
        backup: None,
    };
    header(inv, "A baseline allowlist")
        + "# Everything of every kind that is not named below is removed by `ramstate apply`.\n"
        + &yaml_serde::to_string(&file).expect("an export serialises")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Inventory {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/demo-account.yaml"
        ))
        .unwrap();
        yaml_serde::from_str(&text).unwrap()
    }

    #[test]
    fn an_export_parses_as_a_desired_state_and_holds_no_secret() {
        let inv = demo();
        for text in [declared(&inv), allowlist(&inv)] {
            assert!(
                text.starts_with("# yaml-language-server: $schema="),
                "{text}"
            );
            crate::config::parse(&text, "export.yaml").unwrap_or_else(|e| panic!("{e:?}\n{text}"));
            for u in &inv.users {
                for k in &u.access_keys {
                    if let Some(secret) = &k.secret {
                        assert!(!text.contains(secret.as_str()));
                    }
                }
            }
            if let Some(root) = inv
                .emulator
                .as_ref()
                .and_then(|e| e.root_access_key.as_ref())
            {
                assert!(!text.contains(&root.secret));
            }
        }
    }

    #[test]
    fn policy_documents_are_exported_as_readable_yaml() {
        let text = declared(&demo());
        let d = crate::config::parse(&text, "export.yaml").unwrap();
        let p = &d.declared.policies[0];
        assert!(p.document.is_object());
        assert!(
            !text.contains(r#"document: '{"#),
            "documents are mappings:\n{text}"
        );
    }
}
