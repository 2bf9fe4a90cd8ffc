//! What a step does, as a typed operation, and what that means for ordering and safety.
//!
//! The graph orders steps by [`Op::removes`] and [`Op::unblocks`]; the executor refuses a
//! step when [`Op::affects`] names something protected. Neither ever looks at an API
//! string: the request a step sends is derived from its operation in one place,
//! [`call`](super::call).

use serde::Serialize;

use super::Action;
use super::address::PrincipalKind;
use crate::model::{KeyStatus, LoginProfileStatus, Name, PolicyRef, PolicyType};

/// A principal a policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub name: Name,
}

impl Serialize for PrincipalKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Principal {
    pub fn user(name: impl Into<Name>) -> Self {
        Principal {
            kind: PrincipalKind::User,
            name: name.into(),
        }
    }
    pub fn group(name: impl Into<Name>) -> Self {
        Principal {
            kind: PrincipalKind::Group,
            name: name.into(),
        }
    }
    pub fn role(name: impl Into<Name>) -> Self {
        Principal {
            kind: PrincipalKind::Role,
            name: name.into(),
        }
    }

    /// The entity the principal is.
    pub fn entity(&self) -> Entity {
        match self.kind {
            PrincipalKind::User => Entity::User(self.name.to_string()),
            PrincipalKind::Group => Entity::Group(self.name.to_string()),
            PrincipalKind::Role => Entity::Role(self.name.to_string()),
        }
    }
}

/// One kind of step, with everything it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    DetachPolicy {
        principal: Principal,
        policy: PolicyRef,
    },
    RemoveMember {
        user: Name,
        group: Name,
    },
    DeleteLoginProfile {
        user: Name,
    },
    UnbindMfaDevice {
        user: Name,
        serial_number: Name,
    },
    /// Sets an access key Inactive (a step of a user's deactivation).
    DeactivateAccessKey {
        user: Name,
        key: Name,
    },
    /// Sets an access key Active again (a step of a user's reactivation).
    ActivateAccessKey {
        user: Name,
        key: Name,
    },
    /// Records a user's deactivation on the user itself, as its `ramstate:deactivated`
    /// tag (see [`super::offboard`]): the first step of a deactivation, so that a run
    /// killed halfway, or a later run on another machine, knows what was Active.
    RecordDeactivation {
        user: Name,
        principal_name: Name,
        /// The tag value: when, and what was Active.
        record: String,
    },
    /// Removes the record of a deactivation: the last step of a reactivation.
    ClearDeactivation {
        user: Name,
        principal_name: Name,
    },
    /// Switches console logon off; the login profile stays (IMS `Status=Inactive`).
    DisableConsoleLogon {
        user: Name,
        principal_name: Name,
    },
    /// Switches console logon back on (IMS `Status=Active`).
    EnableConsoleLogon {
        user: Name,
        principal_name: Name,
    },
    DeleteAccessKey {
        user: Name,
        key: Name,
    },
    /// `id` is the user's ID (empty when unknown): a deleted user may land in the recycle bin under it.
    DeleteUser {
        name: Name,
        id: Name,
    },
    DeleteGroup {
        name: Name,
    },
    DeleteRole {
        name: Name,
    },
    /// An asynchronous ResourceManager task, polled until it ends.
    DeleteServiceLinkedRole {
        name: Name,
    },
    /// With its non-default versions (cascading).
    DeletePolicy {
        name: Name,
    },
    DeleteVirtualMfaDevice {
        serial_number: Name,
    },
    DeleteSamlProvider {
        name: Name,
    },
    DeleteOidcProvider {
        name: Name,
    },
    DeleteApplication {
        app_id: Name,
    },
    SetDefaultDomain {
        domain: String,
    },
    ClearAccountAlias,
    /// Deletes a user from the recycle bin for good.
    PurgeRecycledUser {
        user_id: Name,
    },
    /// Deletes an access key from the recycle bin for good.
    PurgeRecycledAccessKey {
        user_id: Name,
        key: Name,
    },
    CreateUser {
        name: Name,
        #[serde(flatten)]
        profile: UserProfile,
    },
    /// Sets the fields given (the others stay as they are).
    UpdateUser {
        name: Name,
        #[serde(flatten)]
        profile: UserProfile,
    },
    /// The initial password is read from `password_env` when the step runs.
    CreateLoginProfile {
        user: Name,
        password_env: String,
        password_reset_required: bool,
        mfa_bind_required: bool,
        /// `Inactive`: created with console logon switched off (IMS, which names the
        /// user by `principal_name`; RAM's create has no status).
        #[serde(skip_serializing_if = "LoginProfileStatus::is_active")]
        status: LoginProfileStatus,
        /// The user's logon name (the plan shows the user; the call carries this).
        #[serde(skip)]
        principal_name: Name,
    },
    UpdateLoginProfile {
        user: Name,
        password_reset_required: bool,
        mfa_bind_required: bool,
    },
    AddMember {
        user: Name,
        group: Name,
    },
    AttachPolicy {
        principal: Principal,
        policy: PolicyRef,
    },
    CreateGroup {
        name: Name,
        comments: Option<String>,
    },
    UpdateGroup {
        name: Name,
        comments: String,
    },
    CreateRole {
        name: Name,
        description: Option<String>,
        /// JSON text.
        trust_policy: String,
        max_session_duration: Option<u32>,
    },
    /// Sets the fields given.
    UpdateRole {
        name: Name,
        description: Option<String>,
        trust_policy: Option<String>,
        max_session_duration: Option<u32>,
    },
    CreatePolicy {
        name: Name,
        description: Option<String>,
        /// JSON text.
        document: String,
    },
    /// A new default version with this document.
    CreatePolicyVersion {
        name: Name,
        document: String,
    },
    /// Makes room under the five-version cap.
    DeletePolicyVersion {
        name: Name,
        version: Name,
    },
    UpdatePolicyDescription {
        name: Name,
        description: String,
    },
    /// Sets these tags (others stay) on a user, role or policy.
    TagResource {
        target: Tagged,
        tags: crate::model::Tags,
    },
    UntagResource {
        target: Tagged,
        keys: Vec<String>,
    },
    CreateSamlProvider {
        name: Name,
        description: Option<String>,
        metadata: Option<String>,
    },
    UpdateSamlProvider {
        name: Name,
        description: Option<String>,
        metadata: Option<String>,
    },
    CreateOidcProvider {
        name: Name,
        issuer_url: String,
        client_ids: Vec<String>,
        fingerprints: Vec<String>,
        description: Option<String>,
    },
    UpdateOidcProvider {
        name: Name,
        client_ids: Option<Vec<String>>,
        description: Option<String>,
    },
    SetAccountAlias {
        alias: String,
    },
    /// The whole password policy.
    SetPasswordPolicy {
        policy: crate::model::PasswordPolicy,
    },
    /// The whole security preference.
    SetSecurityPreference {
        preference: crate::model::SecurityPreference,
    },
    /// Brings a deleted user back from the recycle bin, by its user ID: the identity
    /// only (what hung off it is set again by the steps that need the user).
    RestoreRecycledUser {
        name: Name,
        user_id: Name,
    },
    /// Brings a user's deleted access key back from the recycle bin (it comes back
    /// Inactive); the user must be there first.
    RestoreRecycledAccessKey {
        user: Name,
        user_id: Name,
        key: Name,
    },
    /// Sets an access key's status as a backup recorded it.
    SetAccessKeyStatus {
        user: Name,
        key: Name,
        status: KeyStatus,
    },
}

/// What tags go on: IMS tags a user by its logon name, RAM a role or policy by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Tagged {
    User {
        name: String,
        principal_name: String,
    },
    Role(String),
    Policy(String),
}

impl Tagged {
    pub fn entity(&self) -> Entity {
        match self {
            Tagged::User { name, .. } => Entity::User(name.clone()),
            Tagged::Role(n) => Entity::Role(n.clone()),
            Tagged::Policy(n) => Entity::Policy(n.clone()),
        }
    }
}

/// A user's profile fields; for an update, only those that change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UserProfile {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mobile_phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<String>,
}

/// Something a step can remove or change, as the graph and the protection check see it.
/// Names compare as RAM compares them: user, group and role names without case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum Entity {
    User(String),
    Group(String),
    Role(String),
    /// A custom policy.
    Policy(String),
    AccessKey(String),
    /// By serial number.
    VirtualMfaDevice(String),
    SamlProvider(String),
    OidcProvider(String),
    /// A user in the recycle bin, by user ID.
    RecycledUser(String),
    /// Room for one more version of a custom policy (under the five-version cap).
    PolicyVersionSlot(String),
    /// The record of a user's deactivation, by user name: written before anything is
    /// switched off, removed after everything is switched back on.
    DeactivationRecord(String),
}

impl Entity {
    /// The same entity, whatever the case of a name RAM treats without case.
    pub fn same(&self, other: &Entity) -> bool {
        use Entity::*;
        match (self, other) {
            (User(a), User(b)) | (Group(a), Group(b)) | (Role(a), Role(b)) => {
                a.eq_ignore_ascii_case(b)
            }
            _ => self == other,
        }
    }
}

fn custom(policy: &PolicyRef) -> Option<Entity> {
    (policy.policy_type == PolicyType::Custom).then(|| Entity::Policy(policy.name.to_string()))
}

impl Op {
    /// What the plan calls the step.
    pub fn action(&self) -> Action {
        match self {
            Op::DetachPolicy { .. } => Action::Detach,
            Op::RemoveMember { .. } => Action::RemoveMember,
            Op::UnbindMfaDevice { .. } => Action::Unbind,
            Op::DeactivateAccessKey { .. } | Op::DisableConsoleLogon { .. } => Action::Deactivate,
            Op::ActivateAccessKey { .. } | Op::EnableConsoleLogon { .. } => Action::Reactivate,
            Op::RecordDeactivation { .. } => Action::Tag,
            Op::ClearDeactivation { .. } => Action::Untag,
            Op::DeleteLoginProfile { .. }
            | Op::DeleteAccessKey { .. }
            | Op::DeleteUser { .. }
            | Op::DeleteGroup { .. }
            | Op::DeleteRole { .. }
            | Op::DeleteServiceLinkedRole { .. }
            | Op::DeletePolicy { .. }
            | Op::DeleteVirtualMfaDevice { .. }
            | Op::DeleteSamlProvider { .. }
            | Op::DeleteOidcProvider { .. }
            | Op::DeleteApplication { .. } => Action::Delete,
            Op::SetDefaultDomain { .. } => Action::Reset,
            Op::ClearAccountAlias => Action::Clear,
            Op::PurgeRecycledUser { .. } | Op::PurgeRecycledAccessKey { .. } => Action::Purge,
            Op::CreateUser { .. }
            | Op::CreateLoginProfile { .. }
            | Op::CreateGroup { .. }
            | Op::CreateRole { .. }
            | Op::CreatePolicy { .. }
            | Op::CreateSamlProvider { .. }
            | Op::CreateOidcProvider { .. } => Action::Create,
            Op::AddMember { .. } => Action::AddMember,
            Op::AttachPolicy { .. } => Action::Attach,
            Op::UpdateUser { .. }
            | Op::UpdateLoginProfile { .. }
            | Op::UpdateGroup { .. }
            | Op::UpdateRole { .. }
            | Op::CreatePolicyVersion { .. }
            | Op::UpdatePolicyDescription { .. }
            | Op::UpdateSamlProvider { .. }
            | Op::UpdateOidcProvider { .. } => Action::Update,
            Op::DeletePolicyVersion { .. } => Action::Delete,
            Op::TagResource { .. } => Action::Tag,
            Op::UntagResource { .. } => Action::Untag,
            Op::SetAccountAlias { .. }
            | Op::SetPasswordPolicy { .. }
            | Op::SetSecurityPreference { .. } => Action::Set,
            Op::RestoreRecycledUser { .. } | Op::RestoreRecycledAccessKey { .. } => Action::Restore,
            Op::SetAccessKeyStatus { .. } => Action::Update,
        }
    }

    /// What this step brings into being, for the steps that need it.
    pub fn provides(&self) -> Option<Entity> {
        Some(match self {
            Op::CreateUser { name, .. } => Entity::User(name.to_string()),
            Op::CreateGroup { name, .. } => Entity::Group(name.to_string()),
            Op::CreateRole { name, .. } => Entity::Role(name.to_string()),
            Op::CreatePolicy { name, .. } => Entity::Policy(name.to_string()),
            Op::CreateSamlProvider { name, .. } => Entity::SamlProvider(name.to_string()),
            Op::CreateOidcProvider { name, .. } => Entity::OidcProvider(name.to_string()),
            Op::DeletePolicyVersion { name, .. } => Entity::PolicyVersionSlot(name.to_string()),
            Op::RestoreRecycledUser { name, .. } => Entity::User(name.to_string()),
            Op::RestoreRecycledAccessKey { key, .. } => Entity::AccessKey(key.to_string()),
            Op::RecordDeactivation { user, .. } => Entity::DeactivationRecord(user.to_string()),
            _ => return None,
        })
    }

    /// What must exist before this step runs: creation edges run the other way from
    /// deletion edges (a user and a group before the membership, a policy before its
    /// attachments, room under the version cap before a new version).
    pub fn needs(&self) -> Vec<Entity> {
        match self {
            Op::UpdateUser { name, .. } => vec![Entity::User(name.to_string())],
            Op::CreateLoginProfile { user, .. } | Op::UpdateLoginProfile { user, .. } => {
                vec![Entity::User(user.to_string())]
            }
            Op::AddMember { user, group } => {
                vec![
                    Entity::User(user.to_string()),
                    Entity::Group(group.to_string()),
                ]
            }
            Op::AttachPolicy { principal, policy } => {
                let mut v = vec![principal.entity()];
                v.extend(custom(policy));
                v
            }
            Op::UpdateGroup { name, .. } => vec![Entity::Group(name.to_string())],
            Op::UpdateRole { name, .. } => vec![Entity::Role(name.to_string())],
            Op::CreatePolicyVersion { name, .. } => vec![
                Entity::Policy(name.to_string()),
                Entity::PolicyVersionSlot(name.to_string()),
            ],
            Op::UpdatePolicyDescription { name, .. } => vec![Entity::Policy(name.to_string())],
            Op::TagResource { target, .. } | Op::UntagResource { target, .. } => {
                vec![target.entity()]
            }
            Op::UpdateSamlProvider { name, .. } => vec![Entity::SamlProvider(name.to_string())],
            Op::UpdateOidcProvider { name, .. } => vec![Entity::OidcProvider(name.to_string())],
            // A restored user's keys come back after the user; a key's status is set
            // once the key is back.
            Op::RestoreRecycledAccessKey { user, .. } => vec![Entity::User(user.to_string())],
            Op::SetAccessKeyStatus { user, key, .. } => {
                vec![
                    Entity::User(user.to_string()),
                    Entity::AccessKey(key.to_string()),
                ]
            }
            // Nothing is switched off before the deactivation is recorded.
            Op::DeactivateAccessKey { user, .. } | Op::DisableConsoleLogon { user, .. } => {
                vec![Entity::DeactivationRecord(user.to_string())]
            }
            // A restored user's record is removed once the user is back.
            Op::ClearDeactivation { user, .. } => vec![Entity::User(user.to_string())],
            _ => vec![],
        }
    }

    /// The entity this step deletes, when other steps must finish first.
    pub fn removes(&self) -> Option<Entity> {
        Some(match self {
            Op::DeleteUser { name, .. } => Entity::User(name.to_string()),
            Op::DeleteGroup { name } => Entity::Group(name.to_string()),
            Op::DeleteRole { name } => Entity::Role(name.to_string()),
            Op::DeletePolicy { name } => Entity::Policy(name.to_string()),
            Op::DeleteVirtualMfaDevice { serial_number } => {
                Entity::VirtualMfaDevice(serial_number.to_string())
            }
            Op::DeleteAccessKey { key, .. } => Entity::AccessKey(key.to_string()),
            Op::PurgeRecycledUser { user_id } => Entity::RecycledUser(user_id.to_string()),
            Op::ClearDeactivation { user, .. } => Entity::DeactivationRecord(user.to_string()),
            _ => return None,
        })
    }

    /// The deletions this step must precede, the way the API's conflict rules state them:
    /// a user goes after its detaches, memberships, login profile, MFA binding and keys;
    /// a group after its members and detaches; a role after its detaches; a policy after
    /// every detach of it; a device after its unbinding; a deactivation record's removal
    /// after every switch it names is back on; a
    /// recycled user's purge after the purge of its keys and the deletion that binned it.
    pub fn unblocks(&self) -> Vec<Entity> {
        match self {
            Op::DetachPolicy { principal, policy } => {
                let mut v = vec![principal.entity()];
                v.extend(custom(policy));
                v
            }
            Op::RemoveMember { user, group } => {
                vec![
                    Entity::User(user.to_string()),
                    Entity::Group(group.to_string()),
                ]
            }
            Op::DeleteLoginProfile { user } | Op::DeleteAccessKey { user, .. } => {
                vec![Entity::User(user.to_string())]
            }
            Op::UnbindMfaDevice {
                user,
                serial_number,
            } => vec![
                Entity::User(user.to_string()),
                Entity::VirtualMfaDevice(serial_number.to_string()),
            ],
            Op::DeactivateAccessKey { key, .. } => vec![Entity::AccessKey(key.to_string())],
            Op::PurgeRecycledAccessKey { user_id, .. } => {
                vec![Entity::RecycledUser(user_id.to_string())]
            }
            Op::DeleteUser { id, .. } if !id.is_empty() => {
                vec![Entity::RecycledUser(id.to_string())]
            }
            // The record goes only once everything it names is back on.
            Op::ActivateAccessKey { user, .. }
            | Op::EnableConsoleLogon { user, .. }
            | Op::SetAccessKeyStatus {
                user,
                status: KeyStatus::Active,
                ..
            } => {
                vec![Entity::DeactivationRecord(user.to_string())]
            }
            _ => vec![],
        }
    }

    /// Every entity whose state the step changes in a way that matters to whoever uses
    /// it: the principal that loses a policy or a membership (not the policy or group,
    /// which stay as they are), the user and key of a key change, whatever is deleted.
    /// A step that affects the caller's identity must never run.
    pub fn affects(&self) -> Vec<Entity> {
        match self {
            Op::DetachPolicy { principal, .. } => vec![principal.entity()],
            Op::RemoveMember { user, .. }
            | Op::DeleteLoginProfile { user }
            | Op::UnbindMfaDevice { user, .. }
            | Op::DisableConsoleLogon { user, .. }
            | Op::RecordDeactivation { user, .. } => vec![Entity::User(user.to_string())],
            Op::DeactivateAccessKey { user, key } | Op::DeleteAccessKey { user, key } => {
                vec![
                    Entity::User(user.to_string()),
                    Entity::AccessKey(key.to_string()),
                ]
            }
            Op::DeleteUser { name, .. } => vec![Entity::User(name.to_string())],
            Op::DeleteGroup { name } => vec![Entity::Group(name.to_string())],
            Op::DeleteRole { name } | Op::DeleteServiceLinkedRole { name } => {
                vec![Entity::Role(name.to_string())]
            }
            Op::DeletePolicy { name } => vec![Entity::Policy(name.to_string())],
            Op::DeleteVirtualMfaDevice { serial_number } => {
                vec![Entity::VirtualMfaDevice(serial_number.to_string())]
            }
            Op::DeleteSamlProvider { name } => vec![Entity::SamlProvider(name.to_string())],
            Op::DeleteOidcProvider { name } => vec![Entity::OidcProvider(name.to_string())],
            // A changed trust policy or policy document can take the caller's access
            // away; so can a provider's new client IDs.
            Op::UpdateRole { name, .. } => vec![Entity::Role(name.to_string())],
            Op::CreatePolicyVersion { name, .. } | Op::DeletePolicyVersion { name, .. } => {
                vec![Entity::Policy(name.to_string())]
            }
            Op::UpdateSamlProvider { name, .. } => vec![Entity::SamlProvider(name.to_string())],
            Op::UpdateOidcProvider { name, .. } => vec![Entity::OidcProvider(name.to_string())],
            // Disabling a key can cut off whoever signs with it.
            Op::SetAccessKeyStatus {
                user,
                key,
                status: KeyStatus::Inactive,
            } => vec![
                Entity::User(user.to_string()),
                Entity::AccessKey(key.to_string()),
            ],
            // Adding, describing, tagging and switching back on leave what the caller
            // can do as it is.
            Op::ActivateAccessKey { .. }
            | Op::EnableConsoleLogon { .. }
            | Op::ClearDeactivation { .. }
            | Op::DeleteApplication { .. }
            | Op::SetDefaultDomain { .. }
            | Op::ClearAccountAlias
            | Op::PurgeRecycledUser { .. }
            | Op::PurgeRecycledAccessKey { .. }
            | Op::CreateUser { .. }
            | Op::UpdateUser { .. }
            | Op::CreateLoginProfile { .. }
            | Op::UpdateLoginProfile { .. }
            | Op::AddMember { .. }
            | Op::AttachPolicy { .. }
            | Op::CreateGroup { .. }
            | Op::UpdateGroup { .. }
            | Op::CreateRole { .. }
            | Op::CreatePolicy { .. }
            | Op::UpdatePolicyDescription { .. }
            | Op::TagResource { .. }
            | Op::UntagResource { .. }
            | Op::CreateSamlProvider { .. }
            | Op::CreateOidcProvider { .. }
            | Op::SetAccountAlias { .. }
            | Op::SetPasswordPolicy { .. }
            | Op::SetSecurityPreference { .. }
            | Op::RestoreRecycledUser { .. }
            | Op::RestoreRecycledAccessKey { .. }
            | Op::SetAccessKeyStatus { .. } => vec![],
        }
    }

    /// An asynchronous deletion that is polled for seconds rather than answered at once.
    pub fn is_deletion_task(&self) -> bool {
        matches!(self, Op::DeleteServiceLinkedRole { .. })
    }
}
