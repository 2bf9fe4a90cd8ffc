//! What a step does, as a typed operation, and what that means for ordering and safety.
//!
//! The graph orders steps by [`Op::removes`] and [`Op::unblocks`]; the executor refuses a
//! step when [`Op::affects`] names something protected. Neither ever looks at an API
//! string: the request a step sends is derived from its operation in one place,
//! [`call`](super::call).

use serde::Serialize;

use super::Action;
use super::address::PrincipalKind;
use crate::model::{KeyStatus, PolicyRef, PolicyType};

/// A principal a policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Principal {
    pub kind: PrincipalKind,
    pub name: String,
}

impl Serialize for PrincipalKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Principal {
    pub fn user(name: impl Into<String>) -> Self {
        Principal {
            kind: PrincipalKind::User,
            name: name.into(),
        }
    }
    pub fn group(name: impl Into<String>) -> Self {
        Principal {
            kind: PrincipalKind::Group,
            name: name.into(),
        }
    }
    pub fn role(name: impl Into<String>) -> Self {
        Principal {
            kind: PrincipalKind::Role,
            name: name.into(),
        }
    }

    /// The entity the principal is.
    pub fn entity(&self) -> Entity {
        match self.kind {
            PrincipalKind::User => Entity::User(self.name.clone()),
            PrincipalKind::Group => Entity::Group(self.name.clone()),
            PrincipalKind::Role => Entity::Role(self.name.clone()),
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
        user: String,
        group: String,
    },
    DeleteLoginProfile {
        user: String,
    },
    UnbindMfaDevice {
        user: String,
        serial_number: String,
    },
    /// Sets an access key Inactive (a step of a user's deactivation).
    DeactivateAccessKey {
        user: String,
        key: String,
    },
    /// Sets an access key Active again (a step of a user's reactivation).
    ActivateAccessKey {
        user: String,
        key: String,
    },
    /// Records a user's deactivation on the user itself, as its `ramstate:deactivated`
    /// tag (see [`super::offboard`]): the first step of a deactivation, so that a run
    /// killed halfway, or a later run on another machine, knows what was Active.
    RecordDeactivation {
        user: String,
        principal_name: String,
        /// The tag value: when, and what was Active.
        record: String,
    },
    /// Removes the record of a deactivation: the last step of a reactivation.
    ClearDeactivation {
        user: String,
        principal_name: String,
    },
    /// Switches console logon off; the login profile stays (IMS `Status=Inactive`).
    DisableConsoleLogon {
        user: String,
        principal_name: String,
    },
    /// Switches console logon back on (IMS `Status=Active`).
    EnableConsoleLogon {
        user: String,
        principal_name: String,
    },
    DeleteAccessKey {
        user: String,
        key: String,
    },
    /// `id` is the user's ID (empty when unknown): a deleted user may land in the recycle bin under it.
    DeleteUser {
        name: String,
        id: String,
    },
    DeleteGroup {
        name: String,
    },
    DeleteRole {
        name: String,
    },
    /// An asynchronous ResourceManager task, polled until it ends.
    DeleteServiceLinkedRole {
        name: String,
    },
    /// With its non-default versions (cascading).
    DeletePolicy {
        name: String,
    },
    DeleteVirtualMfaDevice {
        serial_number: String,
    },
    DeleteSamlProvider {
        name: String,
    },
    DeleteOidcProvider {
        name: String,
    },
    DeleteApplication {
        app_id: String,
    },
    SetDefaultDomain {
        domain: String,
    },
    ClearAccountAlias,
    /// Deletes a user from the recycle bin for good.
    PurgeRecycledUser {
        user_id: String,
    },
    /// Deletes an access key from the recycle bin for good.
    PurgeRecycledAccessKey {
        user_id: String,
        key: String,
    },
    CreateUser {
        name: String,
        #[serde(flatten)]
        profile: UserProfile,
    },
    /// Sets the fields given (the others stay as they are).
    UpdateUser {
        name: String,
        #[serde(flatten)]
        profile: UserProfile,
    },
    /// The initial password is read from `password_env` when the step runs.
    CreateLoginProfile {
        user: String,
        password_env: String,
        password_reset_required: bool,
        mfa_bind_required: bool,
    },
    UpdateLoginProfile {
        user: String,
        password_reset_required: bool,
        mfa_bind_required: bool,
    },
    AddMember {
        user: String,
        group: String,
    },
    AttachPolicy {
        principal: Principal,
        policy: PolicyRef,
    },
    CreateGroup {
        name: String,
        comments: Option<String>,
    },
    UpdateGroup {
        name: String,
        comments: String,
    },
    CreateRole {
        name: String,
        description: Option<String>,
        /// JSON text.
        trust_policy: String,
        max_session_duration: Option<u32>,
    },
    /// Sets the fields given.
    UpdateRole {
        name: String,
        description: Option<String>,
        trust_policy: Option<String>,
        max_session_duration: Option<u32>,
    },
    CreatePolicy {
        name: String,
        description: Option<String>,
        /// JSON text.
        document: String,
    },
    /// A new default version with this document.
    CreatePolicyVersion {
        name: String,
        document: String,
    },
    /// Makes room under the five-version cap.
    DeletePolicyVersion {
        name: String,
        version: String,
    },
    UpdatePolicyDescription {
        name: String,
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
        name: String,
        description: Option<String>,
        metadata: Option<String>,
    },
    UpdateSamlProvider {
        name: String,
        description: Option<String>,
        metadata: Option<String>,
    },
    CreateOidcProvider {
        name: String,
        issuer_url: String,
        client_ids: Vec<String>,
        fingerprints: Vec<String>,
        description: Option<String>,
    },
    UpdateOidcProvider {
        name: String,
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
        name: String,
        user_id: String,
    },
    /// Brings a user's deleted access key back from the recycle bin (it comes back
    /// Inactive); the user must be there first.
    RestoreRecycledAccessKey {
        user: String,
        user_id: String,
        key: String,
    },
    /// Sets an access key's status as a backup recorded it.
    SetAccessKeyStatus {
        user: String,
        key: String,
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
    (policy.policy_type == PolicyType::Custom).then(|| Entity::Policy(policy.name.clone()))
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
            Op::CreateUser { name, .. } => Entity::User(name.clone()),
            Op::CreateGroup { name, .. } => Entity::Group(name.clone()),
            Op::CreateRole { name, .. } => Entity::Role(name.clone()),
            Op::CreatePolicy { name, .. } => Entity::Policy(name.clone()),
            Op::CreateSamlProvider { name, .. } => Entity::SamlProvider(name.clone()),
            Op::CreateOidcProvider { name, .. } => Entity::OidcProvider(name.clone()),
            Op::DeletePolicyVersion { name, .. } => Entity::PolicyVersionSlot(name.clone()),
            Op::RestoreRecycledUser { name, .. } => Entity::User(name.clone()),
            Op::RestoreRecycledAccessKey { key, .. } => Entity::AccessKey(key.clone()),
            Op::RecordDeactivation { user, .. } => Entity::DeactivationRecord(user.clone()),
            _ => return None,
        })
    }

    /// What must exist before this step runs: creation edges run the other way from
    /// deletion edges (a user and a group before the membership, a policy before its
    /// attachments, room under the version cap before a new version).
    pub fn needs(&self) -> Vec<Entity> {
        match self {
            Op::UpdateUser { name, .. } => vec![Entity::User(name.clone())],
            Op::CreateLoginProfile { user, .. } | Op::UpdateLoginProfile { user, .. } => {
                vec![Entity::User(user.clone())]
            }
            Op::AddMember { user, group } => {
                vec![Entity::User(user.clone()), Entity::Group(group.clone())]
            }
            Op::AttachPolicy { principal, policy } => {
                let mut v = vec![principal.entity()];
                v.extend(custom(policy));
                v
            }
            Op::UpdateGroup { name, .. } => vec![Entity::Group(name.clone())],
            Op::UpdateRole { name, .. } => vec![Entity::Role(name.clone())],
            Op::CreatePolicyVersion { name, .. } => vec![
                Entity::Policy(name.clone()),
                Entity::PolicyVersionSlot(name.clone()),
            ],
            Op::UpdatePolicyDescription { name, .. } => vec![Entity::Policy(name.clone())],
            Op::TagResource { target, .. } | Op::UntagResource { target, .. } => {
                vec![target.entity()]
            }
            Op::UpdateSamlProvider { name, .. } => vec![Entity::SamlProvider(name.clone())],
            Op::UpdateOidcProvider { name, .. } => vec![Entity::OidcProvider(name.clone())],
            // A restored user's keys come back after the user; a key's status is set
            // once the key is back.
            Op::RestoreRecycledAccessKey { user, .. } => vec![Entity::User(user.clone())],
            Op::SetAccessKeyStatus { user, key, .. } => {
                vec![Entity::User(user.clone()), Entity::AccessKey(key.clone())]
            }
            // Nothing is switched off before the deactivation is recorded.
            Op::DeactivateAccessKey { user, .. } | Op::DisableConsoleLogon { user, .. } => {
                vec![Entity::DeactivationRecord(user.clone())]
            }
            // A restored user's record is removed once the user is back.
            Op::ClearDeactivation { user, .. } => vec![Entity::User(user.clone())],
            _ => vec![],
        }
    }

    /// The entity this step deletes, when other steps must finish first.
    pub fn removes(&self) -> Option<Entity> {
        Some(match self {
            Op::DeleteUser { name, .. } => Entity::User(name.clone()),
            Op::DeleteGroup { name } => Entity::Group(name.clone()),
            Op::DeleteRole { name } => Entity::Role(name.clone()),
            Op::DeletePolicy { name } => Entity::Policy(name.clone()),
            Op::DeleteVirtualMfaDevice { serial_number } => {
                Entity::VirtualMfaDevice(serial_number.clone())
            }
            Op::DeleteAccessKey { key, .. } => Entity::AccessKey(key.clone()),
            Op::PurgeRecycledUser { user_id } => Entity::RecycledUser(user_id.clone()),
            Op::ClearDeactivation { user, .. } => Entity::DeactivationRecord(user.clone()),
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
                vec![Entity::User(user.clone()), Entity::Group(group.clone())]
            }
            Op::DeleteLoginProfile { user } | Op::DeleteAccessKey { user, .. } => {
                vec![Entity::User(user.clone())]
            }
            Op::UnbindMfaDevice {
                user,
                serial_number,
            } => vec![
                Entity::User(user.clone()),
                Entity::VirtualMfaDevice(serial_number.clone()),
            ],
            Op::DeactivateAccessKey { key, .. } => vec![Entity::AccessKey(key.clone())],
            Op::PurgeRecycledAccessKey { user_id, .. } => {
                vec![Entity::RecycledUser(user_id.clone())]
            }
            Op::DeleteUser { id, .. } if !id.is_empty() => vec![Entity::RecycledUser(id.clone())],
            // The record goes only once everything it names is back on.
            Op::ActivateAccessKey { user, .. }
            | Op::EnableConsoleLogon { user, .. }
            | Op::SetAccessKeyStatus {
                user,
                status: KeyStatus::Active,
                ..
            } => {
                vec![Entity::DeactivationRecord(user.clone())]
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
            | Op::RecordDeactivation { user, .. } => vec![Entity::User(user.clone())],
            Op::DeactivateAccessKey { user, key } | Op::DeleteAccessKey { user, key } => {
                vec![Entity::User(user.clone()), Entity::AccessKey(key.clone())]
            }
            Op::DeleteUser { name, .. } => vec![Entity::User(name.clone())],
            Op::DeleteGroup { name } => vec![Entity::Group(name.clone())],
            Op::DeleteRole { name } | Op::DeleteServiceLinkedRole { name } => {
                vec![Entity::Role(name.clone())]
            }
            Op::DeletePolicy { name } => vec![Entity::Policy(name.clone())],
            Op::DeleteVirtualMfaDevice { serial_number } => {
                vec![Entity::VirtualMfaDevice(serial_number.clone())]
            }
            Op::DeleteSamlProvider { name } => vec![Entity::SamlProvider(name.clone())],
            Op::DeleteOidcProvider { name } => vec![Entity::OidcProvider(name.clone())],
            // A changed trust policy or policy document can take the caller's access
            // away; so can a provider's new client IDs.
            Op::UpdateRole { name, .. } => vec![Entity::Role(name.clone())],
            Op::CreatePolicyVersion { name, .. } | Op::DeletePolicyVersion { name, .. } => {
                vec![Entity::Policy(name.clone())]
            }
            Op::UpdateSamlProvider { name, .. } => vec![Entity::SamlProvider(name.clone())],
            Op::UpdateOidcProvider { name, .. } => vec![Entity::OidcProvider(name.clone())],
            // Disabling a key can cut off whoever signs with it.
            Op::SetAccessKeyStatus {
                user,
                key,
                status: KeyStatus::Inactive,
            } => vec![Entity::User(user.clone()), Entity::AccessKey(key.clone())],
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
