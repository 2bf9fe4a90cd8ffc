//! The shape of the desired-state file as a JSON Schema (for editors and `ramstate schema`).
//!
//! These types only describe the file; [`super::parse`] reads it, so that every problem
//! in a file is reported in one run with its line.

#![allow(dead_code)]

use schemars::JsonSchema;

use crate::model::Kind;

/// A ramstate desired-state file.
#[derive(JsonSchema)]
#[schemars(title = "ramstate desired state", deny_unknown_fields)]
struct DesiredStateFile {
    /// Format version; only 1 exists.
    #[schemars(range(min = 1, max = 1))]
    version: u32,
    /// The account this file targets. Required by apply, optional for diff.
    account: Option<AccountSpec>,
    /// The kinds this file manages: `all`, or a list. Anything of a managed kind that no
    /// keep rule keeps is removed.
    manage: Manage,
    /// What to keep, per kind. Keeping an entity keeps what hangs off it.
    keep: Option<KeepSpec>,
    /// `purge` deletes users and access keys in the recycle bin for good.
    recycle_bin: Option<RecycleBinSetting>,
    /// `reset` sets the default domain back to `<accountId>.onaliyun.com`.
    default_domain: Option<DefaultDomainSetting>,
    /// `clear` removes the account alias.
    account_alias: Option<AccountAliasSetting>,
    /// Reserved for declared resources (users, groups, roles, policies to create and update).
    resources: Option<Resources>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct AccountSpec {
    /// The 16-digit account ID.
    #[schemars(regex(pattern = r"^\d{16}$"))]
    id: String,
}

#[derive(JsonSchema)]
#[serde(untagged)]
enum Manage {
    All(All),
    Kinds(Vec<Kind>),
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum All {
    All,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct KeepSpec {
    users: Option<Vec<RuleSpec>>,
    groups: Option<Vec<RuleSpec>>,
    /// Ordinary roles (not service-linked).
    roles: Option<Vec<RuleSpec>>,
    /// Custom policies.
    policies: Option<Vec<RuleSpec>>,
    saml_providers: Option<Vec<RuleSpec>>,
    oidc_providers: Option<Vec<RuleSpec>>,
    /// Matched on the device name (the part of the serial number after `mfa/`).
    virtual_mfa_devices: Option<Vec<RuleSpec>>,
    /// Matched on the application name.
    applications: Option<Vec<RuleSpec>>,
    service_linked_roles: Option<Vec<RuleSpec>>,
}

/// A keep rule: a bare string is an exact name.
#[derive(JsonSchema)]
#[serde(untagged)]
enum RuleSpec {
    Name(String),
    Rule(Rule),
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Rule {
    /// Exactly this name.
    Name(String),
    /// A glob on the name (`svc-*`).
    Glob(String),
    /// A regular expression searched in the name (anchor it with `^...$`).
    Regex(String),
    /// A tag (users, roles, policies, service-linked roles); without `value`, any value.
    Tag(TagRule),
    /// Created before this date (`2024-01-01`) or instant (RFC 3339).
    CreatedBefore(String),
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TagRule {
    key: String,
    value: Option<String>,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum RecycleBinSetting {
    Purge,
    Keep,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum DefaultDomainSetting {
    Reset,
    Keep,
}

#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum AccountAliasSetting {
    Clear,
    Keep,
}

/// Reserved; must be empty in version 1.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Resources {}

/// The JSON Schema of the desired-state file.
pub fn schema() -> serde_json::Value {
    let schema = schemars::schema_for!(DesiredStateFile);
    serde_json::to_value(schema).expect("a schema is plain JSON")
}

/// The schema as committed in `schemas/ramstate.schema.json` (pretty, newline-terminated).
pub fn schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&schema()).expect("a schema is plain JSON");
    s.push('\n');
    s
}
