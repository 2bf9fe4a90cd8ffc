//! The shape of the desired-state file as a JSON Schema (for editors and `ramstate schema`).
//!
//! These types only describe the file; [`super::parse`] reads it, so that every problem
//! in a file is reported in one run with its line.

#![allow(dead_code)]

use schemars::JsonSchema;

use crate::model::Kind;

/// A ramstate desired-state file: which kinds of RAM entity the file manages, what of
/// them to keep, and the account settings to reset.
#[derive(JsonSchema)]
#[schemars(
    title = "ramstate desired state",
    deny_unknown_fields,
    extend("$id" = SCHEMA_ID)
)]
struct DesiredStateFile {
    /// Format version; only 1 exists.
    #[schemars(range(min = 1, max = 1))]
    version: u32,
    /// The account this file targets. Required by apply, optional for diff.
    account: Option<AccountSpec>,
    /// The kinds this file manages: `all`, or a list of kinds (users, groups, roles,
    /// policies, saml_providers, oidc_providers, virtual_mfa_devices, default_domain,
    /// applications, service_linked_roles, recycle_bin, account_alias). Anything of a
    /// managed kind that no keep rule keeps is removed. The recycle bin is purged only
    /// when the file also says `recycle_bin: purge`: `all` alone purges nothing.
    manage: Manage,
    /// What to keep, per kind. Keeping an entity keeps what hangs off it.
    keep: Option<KeepSpec>,
    /// `purge` deletes the users and access keys in the recycle bin for good, and each
    /// user the plan deletes right after its deletion: irreversible, the 30 days in which
    /// a deleted user can be restored are gone. Recycled users whose name a `keep.users`
    /// rule matches (or that are declared) are never purged, nor their keys. `keep` (the
    /// default, also when `manage` is `all`) purges nothing. With a `manage` list, the
    /// list must name `recycle_bin` too.
    recycle_bin: Option<RecycleBinSetting>,
    /// `reset` sets the default domain back to `<accountId>.onaliyun.com`; `keep` (the
    /// default) leaves it. Requires `default_domain` in `manage`.
    default_domain: Option<DefaultDomainSetting>,
    /// `clear` removes the account alias; `keep` (the default) leaves it. Requires
    /// `account_alias` in `manage`.
    account_alias: Option<AccountAliasSetting>,
    /// `delete` lets the plan remove `ResourceDirectoryAccountAccessRole`, the role the
    /// Resource Directory's management account reaches this account through, when no
    /// rule keeps it; `keep` (the default) protects it even when roles are managed.
    /// `delete` requires roles in `manage`.
    resource_directory_access_role: Option<ResourceDirectoryRoleSetting>,
    /// How users that are not kept leave the account: deactivated first, deleted after a
    /// quarantine, held while they are still in use.
    offboarding: Option<OffboardingSpec>,
    /// What must exist, and how: created or updated to match, and implicitly kept.
    /// A field left out is not governed; a list of memberships or attachments governs
    /// its side completely.
    resources: Option<Resources>,
    /// Written by `apply` before it deletes users, groups, roles or custom policies (with
    /// `manage: []` and the deleted entities declared under `resources`): what a
    /// `ramstate restore` needs beyond the declarations. Never holds a secret.
    backup: Option<super::Backup>,
}

/// The `offboarding` section.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct OffboardingSpec {
    /// `true`: a user that is not kept is first deactivated (console logon switched off
    /// with IMS UpdateLoginProfile Status=Inactive, every Active access key set Inactive,
    /// the time and what was Active recorded in the user's `ramstate:deactivated` tag) and
    /// deleted by a later run, after the quarantine. Default false: deleted at once.
    deactivate_first: Option<bool>,
    /// A deactivated user is deleted only this many days after its deactivation, and only
    /// if no key was used and no console logon happened since. Default 7.
    #[schemars(range(min = 0, max = 3650))]
    quarantine_days: Option<u32>,
    /// A user whose access key was used, or who logged on to the console, within this
    /// many days is held (neither deactivated nor deleted); `--ignore-idle-guard`
    /// overrides. Default: no idle guard.
    #[schemars(range(min = 0, max = 3650))]
    min_idle_days: Option<u32>,
}

/// The account a file is for: apply refuses any other, diff checks it when present.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct AccountSpec {
    /// The 16-digit account ID, quoted (`"1234567890123456"`).
    #[schemars(regex(pattern = r"^\d{16}$"))]
    id: String,
}

/// `all`, or a list of kinds.
#[derive(JsonSchema)]
#[serde(untagged)]
enum Manage {
    All(All),
    Kinds(Vec<Kind>),
}

/// Every kind: `all`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum All {
    All,
}

/// Keep rules per kind: an entity is kept when any rule of its kind matches it.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct KeepSpec {
    /// RAM users, matched on the user name (and tags, creation date). A kept user keeps
    /// its access keys, login profile, MFA device, memberships and attachments.
    users: Option<Vec<RuleSpec>>,
    /// User groups, matched on the group name (and creation date).
    groups: Option<Vec<RuleSpec>>,
    /// Ordinary roles (not service-linked), matched on the role name (and tags, creation
    /// date).
    roles: Option<Vec<RuleSpec>>,
    /// Custom policies, matched on the policy name (and tags, creation date).
    policies: Option<Vec<RuleSpec>>,
    /// SAML identity providers, matched on the provider name.
    saml_providers: Option<Vec<RuleSpec>>,
    /// OIDC identity providers, matched on the provider name.
    oidc_providers: Option<Vec<RuleSpec>>,
    /// Virtual MFA devices, matched on the device name (the part of the serial number
    /// after `mfa/`).
    virtual_mfa_devices: Option<Vec<RuleSpec>>,
    /// OAuth applications, matched on the application name.
    applications: Option<Vec<RuleSpec>>,
    /// Service-linked roles (`AliyunServiceRoleFor...`), matched on the role name (and
    /// tags, creation date).
    service_linked_roles: Option<Vec<RuleSpec>>,
}

/// A keep rule: a bare string is an exact name; a mapping has exactly one of `name`,
/// `glob`, `regex`, `tag`, `created_before`.
#[derive(JsonSchema)]
#[serde(untagged)]
enum RuleSpec {
    Name(String),
    Rule(Rule),
}

/// A keep rule written as a mapping with one key.
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
    /// Created before this date (`2024-01-01`) or instant (RFC 3339). An entity of the
    /// kind whose creation date is unknown is held (never removed) and the plan says so.
    CreatedBefore(String),
}

/// A tag to match: its key, and optionally its value.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct TagRule {
    /// The tag key.
    key: String,
    /// The tag value; without it, any value of the key matches.
    value: Option<String>,
}

/// What to do with the recycle bin: `purge` or `keep`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum RecycleBinSetting {
    Purge,
    Keep,
}

/// What to do with the Resource Directory access role: `delete` or `keep`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum ResourceDirectoryRoleSetting {
    Delete,
    Keep,
}

/// What to do with the default domain: `reset` or `keep`.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
enum DefaultDomainSetting {
    Reset,
    Keep,
}

/// What to do with the account alias: `clear` or `keep`.
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
    /// RAM users that must exist, as declared (implicitly kept).
    users: Option<Vec<UserSpec>>,
    /// User groups that must exist, as declared (implicitly kept).
    groups: Option<Vec<GroupSpec>>,
    /// Ordinary roles (service-linked roles are created by their services).
    roles: Option<Vec<RoleSpec>>,
    /// Custom policies.
    policies: Option<Vec<PolicySpec>>,
    /// SAML identity providers that must exist, as declared.
    saml_providers: Option<Vec<SamlProviderSpec>>,
    /// OIDC identity providers that must exist, as declared (a CI system signs in
    /// through one).
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

/// A RAM user.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct UserSpec {
    /// 1 to 64 letters, digits, `.`, `-`, `_`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    name: String,
    /// The name shown in the console, 1 to 128 characters.
    #[schemars(length(min = 1, max = 128))]
    display_name: Option<String>,
    /// The user's email address.
    email: Option<String>,
    /// `<country code>-<number>`, e.g. `86-18600000000`.
    mobile_phone: Option<String>,
    /// A note on the user, 1 to 128 characters.
    #[schemars(length(min = 1, max = 128))]
    comments: Option<String>,
    /// All of the user's tags (at most 20).
    tags: Option<std::collections::BTreeMap<String, String>>,
    /// Console logon: whether the user has a login profile, and how it behaves.
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
    /// The user must change the password at the next logon.
    password_reset_required: Option<bool>,
    /// The user must bind an MFA device at the next logon.
    mfa_bind_required: Option<bool>,
    /// The environment variable holding the initial password, read when apply creates
    /// the login profile.
    #[schemars(regex(pattern = r"^[A-Za-z0-9_]+$"))]
    initial_password_env: Option<String>,
}

/// A user group.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct GroupSpec {
    /// 1 to 64 letters, digits, `.`, `-`, `_`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9._-]{1,64}$"))]
    name: String,
    /// A note on the group, 1 to 128 characters.
    #[schemars(length(min = 1, max = 128))]
    comments: Option<String>,
    /// All of the group's members.
    members: Option<Vec<String>>,
    /// All of the policies attached to the group.
    policies: Option<Vec<crate::model::PolicyRef>>,
}

/// A RAM role.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct RoleSpec {
    /// 1 to 64 letters, digits, `.`, `-`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9.-]{1,64}$"))]
    name: String,
    /// What the role is for, 1 to 1024 characters.
    #[schemars(length(min = 1, max = 1024))]
    description: Option<String>,
    /// Who may assume the role.
    trust_policy: DocumentSpec,
    /// Seconds, 3600 to 43200.
    #[schemars(range(min = 3600, max = 43200))]
    max_session_duration: Option<u32>,
    /// All of the role's tags (at most 20).
    tags: Option<std::collections::BTreeMap<String, String>>,
    /// All of the policies attached to the role.
    policies: Option<Vec<crate::model::PolicyRef>>,
}

/// A custom policy.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct PolicySpec {
    /// 1 to 128 letters, digits, `-`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9-]{1,128}$"))]
    name: String,
    /// What the policy is for, 1 to 1024 characters.
    #[schemars(length(min = 1, max = 1024))]
    description: Option<String>,
    /// The policy document (its default version): a mapping, or its JSON text.
    document: DocumentSpec,
    /// All of the policy's tags (at most 20).
    tags: Option<std::collections::BTreeMap<String, String>>,
}

/// A SAML identity provider.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct SamlProviderSpec {
    /// The provider's name.
    name: String,
    /// What the provider is for.
    description: Option<String>,
    /// The IdP's SAML metadata document, Base64.
    metadata: Option<String>,
}

/// An OIDC identity provider.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct OidcProviderSpec {
    /// The provider's name, as in `acs:ram::<account>:oidc-provider/<name>`.
    name: String,
    /// `https://...`, without query, fragment or user.
    #[schemars(regex(pattern = r"^https://"))]
    issuer_url: String,
    /// The audiences (client IDs) a token may carry, e.g. `sts.aliyuncs.com`.
    client_ids: Option<Vec<String>>,
    /// SHA-1 fingerprints of the issuer's HTTPS certificate.
    fingerprints: Option<Vec<String>>,
    /// What the provider is for, at most 256 characters.
    #[schemars(length(max = 256))]
    description: Option<String>,
}

/// Account settings.
#[derive(JsonSchema)]
#[schemars(deny_unknown_fields)]
struct AccountSettingsSpec {
    /// 3 to 32 lowercase letters, digits and single hyphens.
    #[schemars(
        regex(pattern = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"),
        length(min = 3, max = 32)
    )]
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

/// The schema's `$id`: a name, not a location (editors find the schema through the
/// `# yaml-language-server: $schema=...` comment or `ramstate schema`).
pub const SCHEMA_ID: &str = "urn:ramstate:desired-state:1";

/// The JSON Schema of the desired-state file.
pub fn schema() -> serde_json::Value {
    let schema = schemars::schema_for!(DesiredStateFile);
    let mut v = serde_json::to_value(schema).expect("a schema is plain JSON");
    describe_for_editors(&mut v);
    v
}

/// What editors show on hover and completion: the description of a one-key mapping (a
/// keep rule such as `{ glob: ... }`) also on its key, and every enum's values in its
/// description.
fn describe_for_editors(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(desc)), Some(Value::Object(props))) =
                (map.get("description").cloned(), map.get_mut("properties"))
                && props.len() == 1
                && let Some(Value::Object(only)) = props.values_mut().next()
            {
                only.entry("description").or_insert(Value::String(desc));
            }
            if let Some(Value::Array(values)) = map.get("enum") {
                let names: Vec<String> = values
                    .iter()
                    .filter_map(|x| x.as_str().map(|s| format!("`{s}`")))
                    .collect();
                let desc = map
                    .get("description")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if names.iter().any(|n| !desc.contains(n.as_str())) {
                    let list = format!("One of: {}.", names.join(", "));
                    let desc = if desc.is_empty() {
                        list
                    } else {
                        format!("{desc}\n{list}")
                    };
                    map.insert("description".into(), Value::String(desc));
                }
            }
            map.values_mut().for_each(describe_for_editors);
        }
        Value::Array(items) => items.iter_mut().for_each(describe_for_editors),
        _ => {}
    }
}

/// The schema as committed in `schemas/ramstate.schema.json` (pretty, newline-terminated).
pub fn schema_text() -> String {
    let mut s = serde_json::to_string_pretty(&schema()).expect("a schema is plain JSON");
    s.push('\n');
    s
}
