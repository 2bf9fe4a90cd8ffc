//! Domain types shared by the desired state, the inventory and the emulator's seed.
//!
//! `Inventory` is the snapshot of one account. It is what `ramstate inventory -o yaml`
//! prints and what `ramstate emulator serve --seed FILE` loads, so a real account's
//! snapshot replays in the emulator. Fields that only a seed can know (secrets, the
//! usages of an in-use service-linked role) are optional and skipped when empty.
//!
//! Relations are stored once, on the side that owns them: a user lists the groups it
//! belongs to and the policies attached to it; a group's members are derived.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A name or ID: RAM's names are short, and a string of up to 24 bytes is stored
/// inline, without an allocation of its own (a plan at the quotas names entities in
/// hundreds of thousands of places).
pub type Name = compact_str::CompactString;

/// Timestamps travel as Alibaba prints them: `2015-01-23T12:33:18Z`.
pub type Timestamp = String;

/// Resource tags, sorted by key.
pub type Tags = BTreeMap<String, String>;

fn is_false(b: &bool) -> bool {
    !*b
}

/// The whole RAM side of one account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    pub account: Account,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<User>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    /// Custom policies only; system policies belong to Alibaba.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub saml_providers: Vec<SamlProvider>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub oidc_providers: Vec<OidcProvider>,
    /// Every virtual MFA device, bound or not. A bound device names its user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_mfa_devices: Vec<VirtualMfaDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<Application>,
    #[serde(default, skip_serializing_if = "RecycleBin::is_empty")]
    pub recycle_bin: RecycleBin,
    /// Settings only the emulator reads (root key, behaviour switches). Never fetched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emulator: Option<EmulatorOptions>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// The 16-digit account ID.
    pub id: String,
    /// RAM account alias (GetAccountAlias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    /// IMS default domain (GetDefaultDomain), e.g. `example.onaliyun.com`.
    /// Absent means the account ID's own domain, `<id>.onaliyun.com`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_domain: Option<String>,
    /// The password policy for RAM users (IMS GetPasswordPolicy). Absent means the
    /// documented default ([`PasswordPolicy::default`]); a fetch leaves it absent when
    /// the account has exactly that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_policy: Option<PasswordPolicy>,
    /// The security preferences for RAM users (IMS GetSecurityPreference). Absent means
    /// the documented default ([`SecurityPreference::default`]); a fetch leaves it
    /// absent when the account has exactly that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_preference: Option<SecurityPreference>,
}

/// The password rules for RAM users' console passwords (IMS `SetPasswordPolicy` /
/// `GetPasswordPolicy`). Every field has the documented default, so a seed or a file
/// may name only the fields it changes; [`PasswordPolicy::default`] is the policy of an
/// account nobody has configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PasswordPolicy {
    /// `HardExpire`: once a password expires the user cannot log on until an
    /// administrator resets it (true), or may change it at logon (false, default).
    pub hard_expire: bool,
    /// `MaxLoginAttemps` (Alibaba's spelling): wrong passwords in a row before the user
    /// is locked out for an hour, 0 to 32; 0 (default) means no limit.
    pub max_login_attempts: u32,
    /// `MaxPasswordAge`: days a password stays valid, 0 to 1095; 0 (default) means it
    /// never expires.
    pub max_password_age: u32,
    /// `MinimumPasswordDifferentCharacter`: distinct characters a password needs,
    /// 0 to 8; 0 (default) means no rule.
    pub minimum_password_different_character: u32,
    /// `MinimumPasswordLength`: 8 to 32 characters; 8 by default.
    pub minimum_password_length: u32,
    /// `PasswordNotContainUserName`: a password may not contain the user name.
    pub password_not_contain_user_name: bool,
    /// `PasswordReusePrevention`: how many previous passwords may not be reused,
    /// 0 to 24; 0 (default) means any may.
    pub password_reuse_prevention: u32,
    /// `RequireLowercaseCharacters`: at least one lowercase letter.
    pub require_lowercase_characters: bool,
    /// `RequireNumbers`: at least one digit.
    pub require_numbers: bool,
    /// `RequireSymbols`: at least one special character.
    pub require_symbols: bool,
    /// `RequireUppercaseCharacters`: at least one uppercase letter.
    pub require_uppercase_characters: bool,
}

impl Default for PasswordPolicy {
    /// The documented defaults: 8 characters, nothing else required.
    fn default() -> Self {
        PasswordPolicy {
            hard_expire: false,
            max_login_attempts: 0,
            max_password_age: 0,
            minimum_password_different_character: 0,
            minimum_password_length: 8,
            password_not_contain_user_name: false,
            password_reuse_prevention: 0,
            require_lowercase_characters: false,
            require_numbers: false,
            require_symbols: false,
            require_uppercase_characters: false,
        }
    }
}

/// Whether RAM users need MFA to log on to the console (`MFAOperationForLogin`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum MfaOperationForLogin {
    /// Every RAM user must pass MFA.
    Mandatory,
    /// Each user's own setting applies (the default).
    #[default]
    Independent,
    /// Only unusual logons need MFA.
    Adaptive,
}

impl MfaOperationForLogin {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            MfaOperationForLogin::Mandatory => "mandatory",
            MfaOperationForLogin::Independent => "independent",
            MfaOperationForLogin::Adaptive => "adaptive",
        }
    }
}

impl FromStr for MfaOperationForLogin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mandatory" => Ok(MfaOperationForLogin::Mandatory),
            "independent" => Ok(MfaOperationForLogin::Independent),
            "adaptive" => Ok(MfaOperationForLogin::Adaptive),
            _ => Err(format!("`{s}` is not mandatory, independent or adaptive")),
        }
    }
}

/// What happens when a RAM user's logon looks unusual (`OperationForRiskLogin`).
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
pub enum OperationForRiskLogin {
    /// MFA is asked for, and the user may skip it (the default).
    #[default]
    #[serde(rename = "autonomous")]
    Autonomous,
    /// MFA is asked for and cannot be skipped.
    #[serde(rename = "enforceVerify")]
    EnforceVerify,
}

impl OperationForRiskLogin {
    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            OperationForRiskLogin::Autonomous => "autonomous",
            OperationForRiskLogin::EnforceVerify => "enforceVerify",
        }
    }
}

impl FromStr for OperationForRiskLogin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "autonomous" => Ok(OperationForRiskLogin::Autonomous),
            "enforceVerify" => Ok(OperationForRiskLogin::EnforceVerify),
            _ => Err(format!("`{s}` is not autonomous or enforceVerify")),
        }
    }
}

/// The security preferences for RAM users (IMS `SetSecurityPreference` /
/// `GetSecurityPreference`), flattened: the API groups them into logon, access key, MFA,
/// personal information, verification and idle-time objects. Every field has the
/// documented default; [`SecurityPreference::default`] is an unconfigured account's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SecurityPreference {
    /// Hours a console logon session lasts, 1 to 24; 6 by default
    /// (`LoginProfilePreference.LoginSessionDuration`).
    pub login_session_duration: u32,
    /// Addresses console logons (password and SSO, not API calls) may come from, as the
    /// API takes them (e.g. `10.0.0.0/8`, several joined by `;`); none means anywhere
    /// (`LoginProfilePreference.LoginNetworkMasks`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub login_network_masks: Option<String>,
    /// Whether console logons need MFA (`LoginProfilePreference.MFAOperationForLogin`).
    pub mfa_operation_for_login: MfaOperationForLogin,
    /// MFA for unusual logons (`LoginProfilePreference.OperationForRiskLogin`).
    pub operation_for_risk_login: OperationForRiskLogin,
    /// Users may tick "remember this device" and skip MFA for seven days; false by
    /// default (`LoginProfilePreference.EnableSaveMFATicket`).
    pub enable_save_mfa_ticket: bool,
    /// Users may change their own password; true by default
    /// (`LoginProfilePreference.AllowUserToChangePassword`).
    pub allow_user_to_change_password: bool,
    /// Users may log on with a passkey; true by default
    /// (`LoginProfilePreference.AllowUserToLoginWithPasskey`).
    pub allow_user_to_login_with_passkey: bool,
    /// Users may manage their own access keys; false by default
    /// (`AccessKeyPreference.AllowUserToManageAccessKeys`).
    pub allow_user_to_manage_access_keys: bool,
    /// Users may bind and unbind their own MFA devices; true by default
    /// (`MFAPreference.AllowUserToManageMFADevices`).
    pub allow_user_to_manage_mfa_devices: bool,
    /// Users may bind and unbind their personal DingTalk account; true by default
    /// (`PersonalInfoPreference.AllowUserToManagePersonalDingTalk`).
    pub allow_user_to_manage_personal_ding_talk: bool,
    /// The MFA methods offered (`VerificationPreference.VerificationTypes`); none by default.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub verification_types: Vec<String>,
    /// Days an unused access key stays enabled (`MaxIdleDays.MaxIdleDaysForAccessKeys`).
    /// Read only: 730, and the API offers no way to change it.
    pub max_idle_days_for_access_keys: u32,
    /// Days a user who never logs on keeps console logon (`MaxIdleDays.MaxIdleDaysForUsers`).
    /// Read only: 730, and the API offers no way to change it.
    pub max_idle_days_for_users: u32,
}

/// The idle limit Alibaba applies to users and keys; it cannot be changed.
pub const MAX_IDLE_DAYS: u32 = 730;

impl Default for SecurityPreference {
    /// The documented defaults.
    fn default() -> Self {
        SecurityPreference {
            login_session_duration: 6,
            login_network_masks: None,
            mfa_operation_for_login: MfaOperationForLogin::Independent,
            operation_for_risk_login: OperationForRiskLogin::Autonomous,
            enable_save_mfa_ticket: false,
            allow_user_to_change_password: true,
            allow_user_to_login_with_passkey: true,
            allow_user_to_manage_access_keys: false,
            allow_user_to_manage_mfa_devices: true,
            allow_user_to_manage_personal_ding_talk: true,
            verification_types: Vec::new(),
            max_idle_days_for_access_keys: MAX_IDLE_DAYS,
            max_idle_days_for_users: MAX_IDLE_DAYS,
        }
    }
}

/// What every default domain ends with.
pub const DEFAULT_DOMAIN_SUFFIX: &str = ".onaliyun.com";

/// The default domain an account has before anyone sets one: `<account_id>.onaliyun.com`.
pub fn initial_domain(account_id: &str) -> String {
    format!("{account_id}{DEFAULT_DOMAIN_SUFFIX}")
}

impl Account {
    /// The domain this account has before anyone sets one: `<id>.onaliyun.com`.
    pub fn initial_domain(&self) -> String {
        initial_domain(&self.id)
    }

    /// The domain in force now.
    pub fn domain(&self) -> String {
        self.default_domain
            .clone()
            .unwrap_or_else(|| self.initial_domain())
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum PolicyType {
    System,
    Custom,
}

impl fmt::Display for PolicyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyType::System => "System",
            PolicyType::Custom => "Custom",
        })
    }
}

/// A policy as attachments name it; written `System/ReadOnlyAccess` or `Custom/ops-read`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyRef {
    pub policy_type: PolicyType,
    pub name: Name,
}

impl PolicyRef {
    pub fn new(policy_type: PolicyType, name: impl Into<Name>) -> Self {
        PolicyRef {
            policy_type,
            name: name.into(),
        }
    }
    pub fn system(name: impl Into<Name>) -> Self {
        Self::new(PolicyType::System, name)
    }
    pub fn custom(name: impl Into<Name>) -> Self {
        Self::new(PolicyType::Custom, name)
    }
}

impl fmt::Display for PolicyRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.policy_type, self.name)
    }
}

impl FromStr for PolicyRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (t, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not `System/NAME` or `Custom/NAME`"))?;
        let policy_type = match t {
            "System" => PolicyType::System,
            "Custom" => PolicyType::Custom,
            _ => return Err(format!("`{t}` in `{s}` is not System or Custom")),
        };
        if n.is_empty() {
            return Err(format!("`{s}` has no policy name"));
        }
        Ok(PolicyRef::new(policy_type, n))
    }
}

impl Serialize for PolicyRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PolicyRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for PolicyRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "PolicyRef".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(System|Custom)/.+$",
            "description": "A policy as `System/NAME` or `Custom/NAME`."
        })
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum KeyStatus {
    Active,
    Inactive,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    pub name: String,
    /// Numeric user ID.
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_login_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<AccessKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_profile: Option<LoginProfile>,
    /// Serial number of the MFA device bound to this user, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_device: Option<String>,
    /// Names of the groups this user belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyRef>,
}

#[derive(Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessKey {
    pub id: String,
    /// Known only to seeds: the emulator accepts calls signed with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub status: KeyStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginProfile {
    #[serde(default, skip_serializing_if = "is_false")]
    pub password_reset_required: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub mfa_bind_required: bool,
    /// Whether password logon to the console is enabled (IMS `Status`: `Active`, the
    /// default, or `Inactive`, console logon switched off while the profile stays).
    #[serde(default, skip_serializing_if = "LoginProfileStatus::is_active")]
    pub status: LoginProfileStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
}

/// IMS login profile `Status`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    JsonSchema,
)]
pub enum LoginProfileStatus {
    #[default]
    Active,
    Inactive,
}

impl LoginProfileStatus {
    pub fn is_active(&self) -> bool {
        *self == LoginProfileStatus::Active
    }

    /// The value on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginProfileStatus::Active => "Active",
            LoginProfileStatus::Inactive => "Inactive",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub name: String,
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyRef>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Role {
    pub name: String,
    #[serde(default)]
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Seconds, 3600 to 43200.
    #[serde(default = "default_max_session_duration")]
    pub max_session_duration: u32,
    /// The trust policy, as the JSON text the API returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role_policy_document: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<PolicyRef>,
    /// Seed only: a service-linked role still used by these resources; its
    /// deletion task ends FAILED with them as `Reason.RoleUsages`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usages: Vec<RoleUsage>,
}

fn default_max_session_duration() -> u32 {
    3600
}

impl Role {
    /// Service-linked roles are created by cloud services and can only be deleted
    /// through ResourceManager's DeleteServiceLinkedRole.
    pub fn is_service_linked(&self) -> bool {
        is_service_linked_role_name(&self.name)
    }

    pub fn arn(&self, account_id: &str) -> String {
        format!("acs:ram::{account_id}:role/{}", self.name.to_lowercase())
    }
}

/// `AliyunServiceRoleFor*` is the prefix Alibaba reserves for service-linked roles.
pub fn is_service_linked_role_name(name: &str) -> bool {
    name.starts_with("AliyunServiceRoleFor")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleUsage {
    pub region: String,
    #[serde(default)]
    pub resources: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Tags::is_empty")]
    pub tags: Tags,
    /// At least one; exactly one is the default.
    pub versions: Vec<PolicyVersion>,
}

impl Policy {
    pub fn default_version(&self) -> Option<&PolicyVersion> {
        self.versions.iter().find(|v| v.is_default)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyVersion {
    /// `v1`, `v2`, ...
    pub id: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub is_default: bool,
    pub document: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamlProvider {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Base64 IdP metadata document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    pub name: String,
    pub issuer_url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprints: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VirtualMfaDevice {
    /// `acs:ram::<account>:mfa/<name>`
    pub serial_number: String,
    /// Name of the user it is bound to; none for an orphaned device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activate_date: Option<Timestamp>,
}

impl VirtualMfaDevice {
    /// The device name: the part of the serial number after `mfa/`.
    pub fn name(&self) -> &str {
        self.serial_number
            .rsplit_once('/')
            .map(|(_, n)| n)
            .unwrap_or(&self.serial_number)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Application {
    pub app_id: String,
    pub app_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// WebApp, NativeApp or ServerApp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecycleBin {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<RecycledUser>,
    /// Access keys in the bin, whether or not their user is.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub access_keys: Vec<RecycledAccessKey>,
}

impl RecycleBin {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.access_keys.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecycledUser {
    pub id: String,
    /// `<name>@<domain>`
    pub principal_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recycle_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_date: Option<Timestamp>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecycledAccessKey {
    pub id: String,
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recycle_date: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_date: Option<Timestamp>,
}

/// Emulator-only switches carried in a seed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmulatorOptions {
    /// The account's root access key. Generated when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_access_key: Option<RootKey>,
    /// `conflict` (default, the API contract: DeleteUser fails while anything
    /// hangs off the user) or `recycle_bin` (the console: the user and its keys
    /// move to the recycle bin).
    #[serde(default)]
    pub delete_user: DeleteUserMode,
    /// How many status polls a service-linked role deletion stays IN_PROGRESS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deletion_polls: Option<u32>,
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RootKey {
    pub id: String,
    pub secret: String,
}

/// Secrets never show in Debug output (logs, panics, error messages).
const REDACTED: &str = "<redacted>";

impl fmt::Debug for RootKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RootKey")
            .field("id", &self.id)
            .field("secret", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| REDACTED))
            .field("status", &self.status)
            .field("create_date", &self.create_date)
            .field("last_used_date", &self.last_used_date)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeleteUserMode {
    #[default]
    Conflict,
    RecycleBin,
}

/// The kinds of resource ramstate manages, in the order Alibaba's account-closure
/// checklist names them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Users,
    Groups,
    Roles,
    Policies,
    SamlProviders,
    OidcProviders,
    VirtualMfaDevices,
    DefaultDomain,
    Applications,
    ServiceLinkedRoles,
    RecycleBin,
    AccountAlias,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::Users,
        Kind::Groups,
        Kind::Roles,
        Kind::Policies,
        Kind::SamlProviders,
        Kind::OidcProviders,
        Kind::VirtualMfaDevices,
        Kind::DefaultDomain,
        Kind::Applications,
        Kind::ServiceLinkedRoles,
        Kind::RecycleBin,
        Kind::AccountAlias,
    ];

    /// Settings of the account (one value each) rather than collections of entities:
    /// they take no keep rules.
    pub fn is_setting(self) -> bool {
        matches!(
            self,
            Kind::DefaultDomain | Kind::AccountAlias | Kind::RecycleBin
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Users => "users",
            Kind::Groups => "groups",
            Kind::Roles => "roles",
            Kind::Policies => "policies",
            Kind::SamlProviders => "saml_providers",
            Kind::OidcProviders => "oidc_providers",
            Kind::VirtualMfaDevices => "virtual_mfa_devices",
            Kind::DefaultDomain => "default_domain",
            Kind::Applications => "applications",
            Kind::ServiceLinkedRoles => "service_linked_roles",
            Kind::RecycleBin => "recycle_bin",
            Kind::AccountAlias => "account_alias",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The API a call goes to. All four speak the RPC style with Signature V1.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Service {
    Ram,
    Ims,
    Sts,
    ResourceManager,
}

impl Service {
    pub fn version(self) -> &'static str {
        match self {
            Service::Ram => "2015-05-01",
            Service::Ims => "2019-08-15",
            Service::Sts => "2015-04-01",
            Service::ResourceManager => "2020-03-31",
        }
    }

    /// The public endpoint host.
    pub fn host(self) -> &'static str {
        match self {
            Service::Ram => "ram.aliyuncs.com",
            Service::Ims => "ims.aliyuncs.com",
            Service::Sts => "sts.aliyuncs.com",
            Service::ResourceManager => "resourcemanager.aliyuncs.com",
        }
    }

    pub fn from_version(version: &str) -> Option<Service> {
        [
            Service::Ram,
            Service::Ims,
            Service::Sts,
            Service::ResourceManager,
        ]
        .into_iter()
        .find(|s| s.version() == version)
    }
}

/// One API call, fully described: what a plan step makes and what the request log records.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct ApiCall {
    pub service: Service,
    pub action: String,
    /// Operation parameters (no common parameters), sorted.
    pub params: BTreeMap<String, String>,
}

impl ApiCall {
    pub fn new<K: Into<String>, V: Into<String>>(
        service: Service,
        action: &str,
        params: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        ApiCall {
            service,
            action: action.to_string(),
            params: params
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl fmt::Display for ApiCall {
    /// `DetachPolicyFromUser PolicyName=ReadOnlyAccess PolicyType=System UserName=alice`;
    /// long values (documents) are elided.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.action)?;
        for (k, v) in &self.params {
            if v.len() > 60 {
                write!(f, " {k}=<{} chars>", v.chars().count())?;
            } else {
                write!(f, " {k}={v}")?;
            }
        }
        Ok(())
    }
}

/// Who is calling, from STS GetCallerIdentity plus the key in use: what apply must never
/// delete, detach or disable.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Caller {
    pub account_id: String,
    pub arn: String,
    /// `Account`, `RAMUser` or `AssumedRoleUser`.
    pub identity_type: String,
    /// The RAM user making the calls, when the caller is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The role whose session makes the calls, when the caller is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    /// The access key ID the requests are signed with (long-lived keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// The OIDC identity provider the caller signs in through (OIDC role assumption).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_provider: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_ref_round_trips_through_its_text_form() {
        let p: PolicyRef = "System/ReadOnlyAccess".parse().unwrap();
        assert_eq!(p, PolicyRef::system("ReadOnlyAccess"));
        assert_eq!(p.to_string(), "System/ReadOnlyAccess");
        assert!("Managed/x".parse::<PolicyRef>().is_err());
        assert!("System/".parse::<PolicyRef>().is_err());
        assert!("ReadOnlyAccess".parse::<PolicyRef>().is_err());
    }

    #[test]
    fn inventory_yaml_round_trips() {
        let text = r#"
account: {id: "1234567890123456", default_domain: demo.onaliyun.com}
users:
  - name: alice
    id: "200000000000001"
    access_keys: [{id: LTAIalice1, status: Active}]
    groups: [dev]
    policies: [System/ReadOnlyAccess, Custom/ops]
roles:
  - name: AliyunServiceRoleForECS
    usages: [{region: cn-hangzhou, resources: [i-1]}]
"#;
        let inv: Inventory = yaml_serde::from_str(text).unwrap();
        assert!(inv.roles[0].is_service_linked());
        assert_eq!(inv.roles[0].max_session_duration, 3600);
        let again: Inventory = yaml_serde::from_str(&yaml_serde::to_string(&inv).unwrap()).unwrap();
        assert_eq!(inv, again);
    }

    #[test]
    fn account_settings_name_only_what_differs_from_the_defaults() {
        let text = r#"
account:
  id: "1234567890123456"
  password_policy: {minimum_password_length: 14, max_login_attempts: 5}
  security_preference: {mfa_operation_for_login: adaptive, operation_for_risk_login: enforceVerify}
"#;
        let inv: Inventory = yaml_serde::from_str(text).unwrap();
        let policy = inv.account.password_policy.clone().unwrap();
        assert_eq!(policy.minimum_password_length, 14);
        assert_eq!(policy.max_login_attempts, 5);
        assert!(!policy.require_symbols);
        let pref = inv.account.security_preference.clone().unwrap();
        assert_eq!(pref.mfa_operation_for_login, MfaOperationForLogin::Adaptive);
        assert_eq!(
            pref.operation_for_risk_login,
            OperationForRiskLogin::EnforceVerify
        );
        assert_eq!(pref.login_session_duration, 6);
        assert!(pref.allow_user_to_change_password);
        let again: Inventory = yaml_serde::from_str(&yaml_serde::to_string(&inv).unwrap()).unwrap();
        assert_eq!(inv, again);
        // Absent settings print nothing, so older seeds and snapshots read the same.
        let bare: Inventory = yaml_serde::from_str("account: {id: '1'}").unwrap();
        assert!(!yaml_serde::to_string(&bare).unwrap().contains("password"));
        assert!(
            yaml_serde::from_str::<Inventory>(
                "account: {id: '1', password_policy: {minimum_length: 9}}"
            )
            .is_err()
        );
        assert_eq!("mandatory".parse(), Ok(MfaOperationForLogin::Mandatory));
        assert!("always".parse::<OperationForRiskLogin>().is_err());
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let root = RootKey {
            id: "LTAIroot".into(),
            secret: "s3cr3t-root".into(),
        };
        let key = AccessKey {
            id: "LTAIuser".into(),
            secret: Some("s3cr3t-user".into()),
            status: KeyStatus::Active,
            create_date: None,
            last_used_date: None,
        };
        let text = format!("{root:?} {key:?} {:#?}", (&root, &key));
        assert!(text.contains("LTAIroot") && text.contains("LTAIuser"));
        assert!(!text.contains("s3cr3t"), "{text}");
    }

    #[test]
    fn service_is_found_by_its_version() {
        assert_eq!(Service::from_version("2019-08-15"), Some(Service::Ims));
        assert_eq!(Service::from_version("2014-05-26"), None);
    }
}
