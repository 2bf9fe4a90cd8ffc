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
    /// What must exist, and how: created or updated to match, and implicitly kept.
    /// A field left out is not governed; a list of memberships or attachments governs
    /// its side completely.
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

/// Declared resources.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct Resources {
    users: Option<Vec<UserSpec>>,
    groups: Option<Vec<GroupSpec>>,
    /// Ordinary roles (service-linked roles are created by their services).
    roles: Option<Vec<RoleSpec>>,
    /// Custom policies.
    policies: Option<Vec<PolicySpec>>,
    saml_providers: Option<Vec<SamlProviderSpec>>,
    oidc_providers: Option<Vec<OidcProviderSpec>>,
    /// Account settings.
    account: Option<AccountSettingsSpec>,
}

/// A JSON policy document: a mapping, or its JSON text (at most 6,144 characters).
#[derive(JsonSchema)]
#[serde(untagged)]
enum DocumentSpec {
    Mapping(serde_json::Map<String, serde_json::Value>),
    Json(String),
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct UserSpec {
    /// 1 to 64 letters, digits, `.`, `-`, `_`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    name: String,
    #[schemars(length(min = 1, max = 128))]
    display_name: Option<String>,
    email: Option<String>,
    /// `<country code>-<number>`, e.g. `86-18600000000`.
    mobile_phone: Option<String>,
    #[schemars(length(min = 1, max = 128))]
    comments: Option<String>,
    /// All of the user's tags (at most 20).
    tags: Option<std::collections::BTreeMap<String, String>>,
    console_logon: Option<ConsoleLogonSpec>,
    /// All of the groups the user belongs to (at most 10).
    groups: Option<Vec<String>>,
    /// All of the policies attached to the user.
    policies: Option<Vec<crate::model::PolicyRef>>,
}

/// Console logon (a login profile). Never a password in the file.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct ConsoleLogonSpec {
    /// `false` removes the login profile. Default `true`.
    enabled: Option<bool>,
    password_reset_required: Option<bool>,
    mfa_bind_required: Option<bool>,
    /// The environment variable holding the initial password, read when apply creates
    /// the login profile.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_]+$"))]
    initial_password_env: Option<String>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct GroupSpec {
    /// 1 to 64 letters, digits, `.`, `-`, `_`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    name: String,
    #[schemars(length(min = 1, max = 128))]
    comments: Option<String>,
    /// All of the group's members.
    members: Option<Vec<String>>,
    /// All of the policies attached to the group.
    policies: Option<Vec<crate::model::PolicyRef>>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RoleSpec {
    /// 1 to 64 letters, digits, `.`, `-`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9.-]{1,64}$"))]
    name: String,
    #[schemars(length(min = 1, max = 1024))]
    description: Option<String>,
    /// Who may assume the role.
    trust_policy: DocumentSpec,
    /// Seconds, 3600 to 43200.
    #[schemars(range(min = 3600, max = 43200))]
    max_session_duration: Option<u32>,
    tags: Option<std::collections::BTreeMap<String, String>>,
    policies: Option<Vec<crate::model::PolicyRef>>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct PolicySpec {
    /// 1 to 128 letters, digits, `-`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9-]{1,128}$"))]
    name: String,
    #[schemars(length(min = 1, max = 1024))]
    description: Option<String>,
    document: DocumentSpec,
    tags: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct SamlProviderSpec {
    name: String,
    description: Option<String>,
    /// The IdP's SAML metadata document, Base64.
    metadata: Option<String>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct OidcProviderSpec {
    name: String,
    /// `https://...`, without query, fragment or user.
    #[schemars(regex(pattern = r"^https://"))]
    issuer_url: String,
    client_ids: Option<Vec<String>>,
    fingerprints: Option<Vec<String>>,
    #[schemars(length(max = 256))]
    description: Option<String>,
}

#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct AccountSettingsSpec {
    /// 3 to 32 lowercase letters, digits and single hyphens.
    #[schemars(regex(pattern = r"^[a-z0-9](?:[a-z0-9]|-(?!-)){1,30}[a-z0-9]$"))]
    alias: Option<String>,
    /// `NAME.onaliyun.com`.
    #[schemars(regex(pattern = r"^.+\.onaliyun\.com$"))]
    default_domain: Option<String>,
    /// The whole password policy of RAM users; fields left out take Alibaba's defaults.
    password_policy: Option<crate::model::PasswordPolicy>,
    /// The whole security preference (console logon, MFA, what users manage themselves);
    /// fields left out take Alibaba's defaults.
    security_preference: Option<crate::model::SecurityPreference>,
}

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
