//! Wire types: Alibaba's field names and shapes, tolerant of missing wrappers, missing
//! or empty lists, single items where a list is expected, numbers and booleans sent as
//! strings, and unknown fields. They convert to [`crate::model`] types at the boundary.

use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer};
use serde_json::Value;

use crate::model::{
    self, AccessKey, Application, Caller, KeyStatus, LoginProfile, LoginProfileStatus,
    OidcProvider, PasswordPolicy, PolicyRef, PolicyType, PolicyVersion, RecycledAccessKey,
    RecycledUser, SamlProvider, SecurityPreference, Service, Tags, VirtualMfaDevice,
};

/// The document of a policy's default version in a `GetPolicy` answer.
pub fn default_policy_document(body: &Value) -> Option<String> {
    body.get("DefaultPolicyVersion")?
        .get("PolicyDocument")?
        .as_str()
        .map(str::to_string)
}

/// The largest `MaxItems` an operation accepts, for the paginated ones.
pub fn max_page_size(service: Service, action: &str) -> Option<u32> {
    match (service, action) {
        (Service::Ram, "ListUsers" | "ListUsersForGroup" | "ListRoles" | "ListPolicies") => {
            Some(1000)
        }
        (Service::Ims, "ListUsers" | "ListUserBasicInfos") => Some(1000),
        (Service::Ram | Service::Ims, "ListGroups") => Some(100),
        (
            Service::Ims,
            "ListUsersForGroup"
            | "ListVirtualMFADevices"
            | "ListSAMLProviders"
            | "ListOIDCProviders"
            | "ListUsersInRecycleBin",
        ) => Some(100),
        _ => None,
    }
}

/// The items found at a dotted path (`"Users.User"`): a missing path or `null` is no
/// items, a single object is one item.
pub fn items<T: DeserializeOwned>(body: &Value, path: &str) -> Result<Vec<T>, serde_json::Error> {
    let mut node = body;
    for part in path.split('.') {
        match node.get(part) {
            Some(next) => node = next,
            None => return Ok(Vec::new()),
        }
    }
    match node {
        Value::Null => Ok(Vec::new()),
        Value::Array(list) => list.iter().map(T::deserialize).collect(),
        // `{"Users": ""}` shows up for empty lists in some XML-born answers.
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        other => Ok(vec![T::deserialize(other)?]),
    }
}

/// A boolean field that may arrive as `true` or `"true"`.
pub fn flag(body: &Value, field: &str) -> bool {
    match body.get(field) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => b,
        Value::String(s) => s.eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_i64().is_some_and(|n| n != 0),
        _ => false,
    })
}

fn lenient_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

/// `"a,b"` or `["a","b"]` or `{"ClientId":["a"]}`, as a list.
fn lenient_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    fn collect(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.extend(
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            ),
            Value::Array(a) => a.iter().for_each(|v| collect(v, out)),
            Value::Object(o) => o.values().for_each(|v| collect(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    collect(&Value::deserialize(d)?, &mut out);
    Ok(out)
}

/// `{"Tag": [...]}`, `{"Tag": {...}}`, `[...]` or nothing.
fn wrapped<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let v = Value::deserialize(d)?;
    let inner = match &v {
        Value::Object(o) if o.len() == 1 && o.values().all(|x| x.is_array() || x.is_object()) => {
            o.values().next().cloned().unwrap_or(Value::Null)
        }
        _ => v,
    };
    match inner {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a
            .into_iter()
            .map(|x| serde_json::from_value(x).map_err(serde::de::Error::custom))
            .collect(),
        Value::String(s) if s.is_empty() => Ok(Vec::new()),
        other => Ok(vec![
            serde_json::from_value(other).map_err(serde::de::Error::custom)?,
        ]),
    }
}

fn opt(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.is_empty())
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Tag {
    pub tag_key: String,
    pub tag_value: String,
}

fn tags(list: Vec<Tag>) -> Tags {
    list.into_iter()
        .filter(|t| !t.tag_key.is_empty())
        .map(|t| (t.tag_key, t.tag_value))
        .collect()
}

/// STS GetCallerIdentity.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CallerIdentity {
    pub account_id: String,
    pub arn: String,
    pub identity_type: String,
    pub principal_id: Option<String>,
    pub user_id: Option<String>,
    pub role_id: Option<String>,
}

impl CallerIdentity {
    /// Reads user and role names out of the ARN:
    /// `acs:ram::<id>:user/<name>`, `acs:ram::<id>:assumed-role/<role>/<session>`, `acs:ram::<id>:root`.
    pub fn into_caller(self, access_key_id: Option<String>) -> Caller {
        let resource = self.arn.splitn(5, ':').nth(4).unwrap_or_default();
        let mut parts = resource.split('/');
        let (user_name, role_name) = match (parts.next(), parts.next()) {
            (Some("user"), Some(name)) => (Some(name.to_string()), None),
            (Some("assumed-role" | "role"), Some(role)) => (None, Some(role.to_string())),
            _ => (None, None),
        };
        Caller {
            account_id: self.account_id,
            arn: self.arn,
            identity_type: self.identity_type,
            user_name,
            role_name,
            access_key_id,
            oidc_provider: None,
        }
    }
}

/// A RAM user (ListUsers / GetUser) or an IMS user (which names it by principal name).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct User {
    pub user_id: String,
    pub user_name: String,
    pub user_principal_name: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub mobile_phone: Option<String>,
    pub comments: Option<String>,
    pub create_date: Option<String>,
    pub last_login_date: Option<String>,
    #[serde(deserialize_with = "wrapped")]
    pub tags: Vec<Tag>,
}

impl User {
    /// The RAM user name; IMS answers carry it as the part of the principal name before `@`.
    pub fn name(&self) -> String {
        if !self.user_name.is_empty() {
            return self.user_name.clone();
        }
        self.user_principal_name
            .split('@')
            .next()
            .unwrap_or_default()
            .to_string()
    }

    pub fn into_model(self) -> model::User {
        model::User {
            name: self.name(),
            id: self.user_id,
            display_name: opt(self.display_name),
            email: opt(self.email),
            mobile_phone: opt(self.mobile_phone),
            comments: opt(self.comments),
            create_date: opt(self.create_date),
            last_login_date: opt(self.last_login_date),
            tags: tags(self.tags),
            ..model::User::default()
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireAccessKey {
    pub access_key_id: String,
    pub status: String,
    pub create_date: Option<String>,
}

impl WireAccessKey {
    pub fn into_model(self, last_used_date: Option<String>) -> AccessKey {
        AccessKey {
            id: self.access_key_id,
            secret: None,
            status: if self.status.eq_ignore_ascii_case("inactive") {
                KeyStatus::Inactive
            } else {
                KeyStatus::Active
            },
            create_date: opt(self.create_date),
            last_used_date: opt(last_used_date),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AccessKeyLastUsed {
    pub last_used_date: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireLoginProfile {
    #[serde(deserialize_with = "lenient_bool")]
    pub password_reset_required: bool,
    #[serde(rename = "MFABindRequired", deserialize_with = "lenient_bool")]
    pub mfa_bind_required: bool,
    /// IMS only (`Active` or `Inactive`); RAM's answer has none, which reads as active.
    pub status: Option<String>,
    pub create_date: Option<String>,
}

impl WireLoginProfile {
    pub fn into_model(self) -> LoginProfile {
        LoginProfile {
            password_reset_required: self.password_reset_required,
            mfa_bind_required: self.mfa_bind_required,
            status: match self.status.as_deref() {
                Some(s) if s.eq_ignore_ascii_case("inactive") => LoginProfileStatus::Inactive,
                _ => LoginProfileStatus::Active,
            },
            create_date: opt(self.create_date),
        }
    }
}

/// IMS GetPasswordPolicy / SetPasswordPolicy: `PasswordPolicy`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WirePasswordPolicy {
    #[serde(deserialize_with = "lenient_bool")]
    pub hard_expire: bool,
    /// Alibaba's spelling.
    #[serde(rename = "MaxLoginAttemps", deserialize_with = "lenient_u32")]
    pub max_login_attempts: Option<u32>,
    #[serde(deserialize_with = "lenient_u32")]
    pub max_password_age: Option<u32>,
    #[serde(deserialize_with = "lenient_u32")]
    pub minimum_password_different_character: Option<u32>,
    #[serde(deserialize_with = "lenient_u32")]
    pub minimum_password_length: Option<u32>,
    #[serde(deserialize_with = "lenient_bool")]
    pub password_not_contain_user_name: bool,
    #[serde(deserialize_with = "lenient_u32")]
    pub password_reuse_prevention: Option<u32>,
    #[serde(deserialize_with = "lenient_bool")]
    pub require_lowercase_characters: bool,
    #[serde(deserialize_with = "lenient_bool")]
    pub require_numbers: bool,
    #[serde(deserialize_with = "lenient_bool")]
    pub require_symbols: bool,
    #[serde(deserialize_with = "lenient_bool")]
    pub require_uppercase_characters: bool,
}

impl Default for WirePasswordPolicy {
    fn default() -> Self {
        let d = PasswordPolicy::default();
        WirePasswordPolicy {
            hard_expire: d.hard_expire,
            max_login_attempts: None,
            max_password_age: None,
            minimum_password_different_character: None,
            minimum_password_length: None,
            password_not_contain_user_name: d.password_not_contain_user_name,
            password_reuse_prevention: None,
            require_lowercase_characters: d.require_lowercase_characters,
            require_numbers: d.require_numbers,
            require_symbols: d.require_symbols,
            require_uppercase_characters: d.require_uppercase_characters,
        }
    }
}

impl WirePasswordPolicy {
    /// A field the answer leaves out has its documented default.
    pub fn into_model(self) -> PasswordPolicy {
        let d = PasswordPolicy::default();
        PasswordPolicy {
            hard_expire: self.hard_expire,
            max_login_attempts: self.max_login_attempts.unwrap_or(d.max_login_attempts),
            max_password_age: self.max_password_age.unwrap_or(d.max_password_age),
            minimum_password_different_character: self
                .minimum_password_different_character
                .unwrap_or(d.minimum_password_different_character),
            minimum_password_length: self
                .minimum_password_length
                .unwrap_or(d.minimum_password_length),
            password_not_contain_user_name: self.password_not_contain_user_name,
            password_reuse_prevention: self
                .password_reuse_prevention
                .unwrap_or(d.password_reuse_prevention),
            require_lowercase_characters: self.require_lowercase_characters,
            require_numbers: self.require_numbers,
            require_symbols: self.require_symbols,
            require_uppercase_characters: self.require_uppercase_characters,
        }
    }
}

/// A boolean that may be missing (its default then applies), or sent as a string.
fn lenient_opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        _ => None,
    })
}

/// IMS GetSecurityPreference / SetSecurityPreference: `SecurityPreference`, grouped as
/// the API sends it. Groups or fields left out have their documented defaults.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireSecurityPreference {
    pub access_key_preference: WireAccessKeyPreference,
    pub login_profile_preference: WireLoginProfilePreference,
    #[serde(rename = "MFAPreference")]
    pub mfa_preference: WireMfaPreference,
    pub max_idle_days: WireMaxIdleDays,
    pub personal_info_preference: WirePersonalInfoPreference,
    pub verification_preference: WireVerificationPreference,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireAccessKeyPreference {
    #[serde(deserialize_with = "lenient_opt_bool")]
    pub allow_user_to_manage_access_keys: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireLoginProfilePreference {
    #[serde(deserialize_with = "lenient_opt_bool")]
    pub allow_user_to_change_password: Option<bool>,
    #[serde(deserialize_with = "lenient_opt_bool")]
    pub allow_user_to_login_with_passkey: Option<bool>,
    #[serde(rename = "EnableSaveMFATicket", deserialize_with = "lenient_opt_bool")]
    pub enable_save_mfa_ticket: Option<bool>,
    pub login_network_masks: Option<String>,
    #[serde(deserialize_with = "lenient_u32")]
    pub login_session_duration: Option<u32>,
    #[serde(rename = "MFAOperationForLogin")]
    pub mfa_operation_for_login: Option<String>,
    pub operation_for_risk_login: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireMfaPreference {
    #[serde(
        rename = "AllowUserToManageMFADevices",
        deserialize_with = "lenient_opt_bool"
    )]
    pub allow_user_to_manage_mfa_devices: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireMaxIdleDays {
    #[serde(deserialize_with = "lenient_u32")]
    pub max_idle_days_for_access_keys: Option<u32>,
    #[serde(deserialize_with = "lenient_u32")]
    pub max_idle_days_for_users: Option<u32>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WirePersonalInfoPreference {
    #[serde(deserialize_with = "lenient_opt_bool")]
    pub allow_user_to_manage_personal_ding_talk: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireVerificationPreference {
    #[serde(deserialize_with = "lenient_list")]
    pub verification_types: Vec<String>,
}

impl WireSecurityPreference {
    /// The model value; `Err` names an enumerated field holding a value the
    /// documentation does not list (read as a value ramstate cannot represent, not guessed).
    pub fn into_model(self) -> Result<SecurityPreference, String> {
        let d = SecurityPreference::default();
        let login = self.login_profile_preference;
        let mfa_operation_for_login = match login.mfa_operation_for_login.as_deref() {
            None | Some("") => d.mfa_operation_for_login,
            Some(v) => v
                .parse()
                .map_err(|e| format!("MFAOperationForLogin: {e}"))?,
        };
        let operation_for_risk_login = match login.operation_for_risk_login.as_deref() {
            None | Some("") => d.operation_for_risk_login,
            Some(v) => v
                .parse()
                .map_err(|e| format!("OperationForRiskLogin: {e}"))?,
        };
        Ok(SecurityPreference {
            login_session_duration: login
                .login_session_duration
                .unwrap_or(d.login_session_duration),
            login_network_masks: opt(login.login_network_masks),
            mfa_operation_for_login,
            operation_for_risk_login,
            enable_save_mfa_ticket: login
                .enable_save_mfa_ticket
                .unwrap_or(d.enable_save_mfa_ticket),
            allow_user_to_change_password: login
                .allow_user_to_change_password
                .unwrap_or(d.allow_user_to_change_password),
            allow_user_to_login_with_passkey: login
                .allow_user_to_login_with_passkey
                .unwrap_or(d.allow_user_to_login_with_passkey),
            allow_user_to_manage_access_keys: self
                .access_key_preference
                .allow_user_to_manage_access_keys
                .unwrap_or(d.allow_user_to_manage_access_keys),
            allow_user_to_manage_mfa_devices: self
                .mfa_preference
                .allow_user_to_manage_mfa_devices
                .unwrap_or(d.allow_user_to_manage_mfa_devices),
            allow_user_to_manage_personal_ding_talk: self
                .personal_info_preference
                .allow_user_to_manage_personal_ding_talk
                .unwrap_or(d.allow_user_to_manage_personal_ding_talk),
            verification_types: self.verification_preference.verification_types,
            max_idle_days_for_access_keys: self
                .max_idle_days
                .max_idle_days_for_access_keys
                .unwrap_or(d.max_idle_days_for_access_keys),
            max_idle_days_for_users: self
                .max_idle_days
                .max_idle_days_for_users
                .unwrap_or(d.max_idle_days_for_users),
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct MfaDevice {
    pub serial_number: String,
    #[serde(rename = "Type")]
    pub device_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Group {
    pub group_id: String,
    pub group_name: String,
    pub comments: Option<String>,
    pub create_date: Option<String>,
}

impl Group {
    pub fn into_model(self) -> model::Group {
        model::Group {
            name: self.group_name,
            id: self.group_id,
            comments: opt(self.comments),
            create_date: opt(self.create_date),
            policies: Vec::new(),
        }
    }
}

/// An item of ListPoliciesFor{User,Group,Role}.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct AttachedPolicy {
    pub policy_name: String,
    pub policy_type: String,
}

impl AttachedPolicy {
    pub fn policy_ref(&self) -> Option<PolicyRef> {
        let t = if self.policy_type.eq_ignore_ascii_case("system") {
            PolicyType::System
        } else if self.policy_type.eq_ignore_ascii_case("custom") {
            PolicyType::Custom
        } else {
            return None;
        };
        (!self.policy_name.is_empty()).then(|| PolicyRef::new(t, self.policy_name.clone()))
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Role {
    pub role_id: String,
    pub role_name: String,
    pub arn: Option<String>,
    pub description: Option<String>,
    #[serde(deserialize_with = "lenient_u32")]
    pub max_session_duration: Option<u32>,
    pub assume_role_policy_document: Option<String>,
    pub create_date: Option<String>,
    #[serde(deserialize_with = "wrapped")]
    pub tags: Vec<Tag>,
}

impl Role {
    pub fn into_model(self) -> model::Role {
        model::Role {
            name: self.role_name,
            id: self.role_id,
            description: opt(self.description),
            max_session_duration: self.max_session_duration.unwrap_or(3600),
            assume_role_policy_document: opt(self.assume_role_policy_document),
            create_date: opt(self.create_date),
            tags: tags(self.tags),
            policies: Vec::new(),
            usages: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Policy {
    pub policy_name: String,
    pub policy_type: String,
    pub description: Option<String>,
    pub default_version: Option<String>,
    pub create_date: Option<String>,
    #[serde(deserialize_with = "wrapped")]
    pub tags: Vec<Tag>,
}

impl Policy {
    pub fn into_model(self, versions: Vec<PolicyVersion>) -> model::Policy {
        model::Policy {
            name: self.policy_name,
            description: opt(self.description),
            create_date: opt(self.create_date),
            tags: tags(self.tags),
            versions,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WirePolicyVersion {
    pub version_id: String,
    #[serde(deserialize_with = "lenient_bool")]
    pub is_default_version: bool,
    pub policy_document: String,
    pub create_date: Option<String>,
}

impl WirePolicyVersion {
    pub fn into_model(self) -> PolicyVersion {
        PolicyVersion {
            id: self.version_id,
            is_default: self.is_default_version,
            document: self.policy_document,
            create_date: opt(self.create_date),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireSamlProvider {
    #[serde(rename = "SAMLProviderName")]
    pub name: String,
    #[serde(rename = "Description")]
    pub description: Option<String>,
    #[serde(rename = "EncodedSAMLMetadataDocument")]
    pub metadata: Option<String>,
    #[serde(rename = "CreateDate")]
    pub create_date: Option<String>,
}

impl WireSamlProvider {
    pub fn into_model(self) -> SamlProvider {
        SamlProvider {
            name: self.name,
            description: opt(self.description),
            metadata: opt(self.metadata),
            create_date: opt(self.create_date),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct WireOidcProvider {
    #[serde(rename = "OIDCProviderName")]
    pub name: String,
    #[serde(rename = "IssuerUrl")]
    pub issuer_url: String,
    #[serde(rename = "ClientIds", deserialize_with = "lenient_list")]
    pub client_ids: Vec<String>,
    #[serde(rename = "Fingerprints", deserialize_with = "lenient_list")]
    pub fingerprints: Vec<String>,
    #[serde(rename = "Description")]
    pub description: Option<String>,
    #[serde(rename = "CreateDate")]
    pub create_date: Option<String>,
}

impl WireOidcProvider {
    pub fn into_model(self) -> OidcProvider {
        OidcProvider {
            name: self.name,
            issuer_url: self.issuer_url,
            client_ids: self.client_ids,
            fingerprints: self.fingerprints,
            description: opt(self.description),
            create_date: opt(self.create_date),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireVirtualMfaDevice {
    pub serial_number: String,
    pub activate_date: Option<String>,
    pub user: Option<User>,
}

impl WireVirtualMfaDevice {
    pub fn into_model(self) -> VirtualMfaDevice {
        VirtualMfaDevice {
            serial_number: self.serial_number,
            user: self.user.map(|u| u.name()).filter(|n| !n.is_empty()),
            activate_date: opt(self.activate_date),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireApplication {
    pub app_id: String,
    pub app_name: String,
    pub display_name: Option<String>,
    pub app_type: Option<String>,
    pub create_date: Option<String>,
}

impl WireApplication {
    pub fn into_model(self) -> Application {
        Application {
            app_id: self.app_id,
            app_name: self.app_name,
            display_name: opt(self.display_name),
            app_type: opt(self.app_type),
            create_date: opt(self.create_date),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireRecycledUser {
    pub user_id: String,
    pub user_principal_name: String,
    pub display_name: Option<String>,
    pub create_date: Option<String>,
    pub recycle_date: Option<String>,
    pub delete_date: Option<String>,
}

impl WireRecycledUser {
    pub fn into_model(self) -> RecycledUser {
        RecycledUser {
            id: self.user_id,
            principal_name: self.user_principal_name,
            display_name: opt(self.display_name),
            create_date: opt(self.create_date),
            recycle_date: opt(self.recycle_date),
            delete_date: opt(self.delete_date),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct WireRecycledKey {
    pub access_key_id: String,
    pub create_date: Option<String>,
    pub recycle_date: Option<String>,
    pub delete_date: Option<String>,
}

impl WireRecycledKey {
    pub fn into_model(self, user_id: &str) -> RecycledAccessKey {
        RecycledAccessKey {
            id: self.access_key_id,
            user_id: user_id.to_string(),
            create_date: opt(self.create_date),
            recycle_date: opt(self.recycle_date),
            delete_date: opt(self.delete_date),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn double_wrapped_lists_are_read_and_missing_wrappers_are_empty() {
        let body = json!({"Users": {"User": [{"UserName": "a"}, {"UserName": "b", "Extra": 1}]}});
        let users: Vec<User> = items(&body, "Users.User").unwrap();
        assert_eq!(users.iter().map(User::name).collect::<Vec<_>>(), ["a", "b"]);
        for empty in [
            json!({}),
            json!({"Users": {}}),
            json!({"Users": {"User": []}}),
            json!({"Users": {"User": null}}),
            json!({"Users": ""}),
        ] {
            assert!(
                items::<User>(&empty, "Users.User").unwrap().is_empty(),
                "{empty}"
            );
        }
    }

    #[test]
    fn a_single_object_where_a_list_belongs_is_one_item() {
        let body = json!({"Groups": {"Group": {"GroupName": "dev"}}});
        let groups: Vec<Group> = items(&body, "Groups.Group").unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].group_name, "dev");
    }

    #[test]
    fn roles_accept_numbers_as_strings_and_wrapped_tags() {
        let role: Role = serde_json::from_value(json!({
            "RoleName": "ops", "RoleId": "1", "MaxSessionDuration": "7200",
            "Tags": {"Tag": [{"TagKey": "team", "TagValue": "x"}]}, "Unknown": true
        }))
        .unwrap();
        let m = role.into_model();
        assert_eq!(m.max_session_duration, 7200);
        assert_eq!(m.tags["team"], "x");
        let bare: Role = serde_json::from_value(json!({"RoleName": "r"})).unwrap();
        assert_eq!(bare.into_model().max_session_duration, 3600);
    }

    #[test]
    fn booleans_may_arrive_as_strings() {
        let p: WireLoginProfile = serde_json::from_value(
            json!({"PasswordResetRequired": "true", "MFABindRequired": false}),
        )
        .unwrap();
        assert!(p.password_reset_required);
        assert!(!p.mfa_bind_required);
        assert!(flag(&json!({"IsTruncated": "True"}), "IsTruncated"));
        assert!(!flag(&json!({}), "IsTruncated"));
    }

    #[test]
    fn account_settings_accept_strings_and_missing_fields_take_the_defaults() {
        let policy: WirePasswordPolicy = serde_json::from_value(json!({
            "MinimumPasswordLength": "12", "MaxLoginAttemps": 5, "RequireSymbols": "true",
            "HardExpire": false, "InitialPasswordAge": 7
        }))
        .unwrap();
        let policy = policy.into_model();
        assert_eq!(policy.minimum_password_length, 12);
        assert_eq!(policy.max_login_attempts, 5);
        assert!(policy.require_symbols);
        assert_eq!(policy.max_password_age, 0);
        let empty: WirePasswordPolicy = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty.into_model(), PasswordPolicy::default());

        let pref: WireSecurityPreference = serde_json::from_value(json!({
            "LoginProfilePreference": {
                "LoginSessionDuration": "8", "MFAOperationForLogin": "mandatory",
                "EnableSaveMFATicket": "true", "LoginNetworkMasks": ""
            },
            "MFAPreference": {"AllowUserToManageMFADevices": false},
            "VerificationPreference": {"VerificationTypes": ["sms"]},
            "Unknown": {}
        }))
        .unwrap();
        let pref = pref.into_model().unwrap();
        assert_eq!(pref.login_session_duration, 8);
        assert_eq!(
            pref.mfa_operation_for_login,
            model::MfaOperationForLogin::Mandatory
        );
        assert!(pref.enable_save_mfa_ticket);
        assert!(!pref.allow_user_to_manage_mfa_devices);
        assert!(pref.allow_user_to_change_password);
        assert_eq!(pref.login_network_masks, None);
        assert_eq!(pref.verification_types, ["sms"]);
        let empty: WireSecurityPreference = serde_json::from_value(json!({})).unwrap();
        assert_eq!(empty.into_model().unwrap(), SecurityPreference::default());
        let odd: WireSecurityPreference = serde_json::from_value(
            json!({"LoginProfilePreference": {"OperationForRiskLogin": "sometimes"}}),
        )
        .unwrap();
        assert!(
            odd.into_model()
                .unwrap_err()
                .contains("OperationForRiskLogin")
        );
        let lp: WireLoginProfile = serde_json::from_value(json!({"Status": "Inactive"})).unwrap();
        assert_eq!(lp.into_model().status, LoginProfileStatus::Inactive);
    }

    #[test]
    fn ims_users_are_named_by_the_principal_name_prefix() {
        let u: User = serde_json::from_value(
            json!({"UserPrincipalName": "alice@demo.onaliyun.com", "UserId": "9"}),
        )
        .unwrap();
        assert_eq!(u.name(), "alice");
    }

    #[test]
    fn oidc_client_ids_are_split_on_commas() {
        let p: WireOidcProvider = serde_json::from_value(json!({
            "OIDCProviderName": "gh", "IssuerUrl": "https://t", "ClientIds": "a, b", "Fingerprints": ""
        }))
        .unwrap();
        assert_eq!(p.client_ids, ["a", "b"]);
        assert!(p.fingerprints.is_empty());
    }

    #[test]
    fn caller_names_come_from_the_arn() {
        let ident = |arn: &str, t: &str| CallerIdentity {
            account_id: "1".into(),
            arn: arn.into(),
            identity_type: t.into(),
            ..CallerIdentity::default()
        };
        let c = ident("acs:ram::1:user/ci-bot", "RAMUser").into_caller(Some("LTAI1".into()));
        assert_eq!(c.user_name.as_deref(), Some("ci-bot"));
        assert_eq!(c.access_key_id.as_deref(), Some("LTAI1"));
        let c = ident(
            "acs:ram::1:assumed-role/deployer/session-1",
            "AssumedRoleUser",
        )
        .into_caller(None);
        assert_eq!(c.role_name.as_deref(), Some("deployer"));
        assert_eq!(c.user_name, None);
        let c = ident("acs:ram::1:root", "Account").into_caller(None);
        assert_eq!((c.user_name, c.role_name), (None, None));
    }

    #[test]
    fn page_sizes_are_the_largest_each_operation_allows() {
        assert_eq!(max_page_size(Service::Ram, "ListUsers"), Some(1000));
        assert_eq!(max_page_size(Service::Ram, "ListGroups"), Some(100));
        assert_eq!(
            max_page_size(Service::Ims, "ListVirtualMFADevices"),
            Some(100)
        );
        assert_eq!(max_page_size(Service::Ram, "ListAccessKeys"), None);
    }

    #[test]
    fn unknown_policy_types_are_not_guessed() {
        let p = AttachedPolicy {
            policy_name: "x".into(),
            policy_type: "Managed".into(),
        };
        assert_eq!(p.policy_ref(), None);
    }
}
