//! Operation → API request: the one place outside `api` that knows Alibaba's action and
//! parameter names. Plans print these requests so a reviewer can audit each step against
//! the API reference; the executor sends exactly them.

use super::address::PrincipalKind;
use super::op::{Op, Principal};
use crate::model::{ApiCall, Service};

fn ram<const N: usize>(action: &str, params: [(&str, &str); N]) -> ApiCall {
    ApiCall::new(Service::Ram, action, params)
}

fn ims<const N: usize>(action: &str, params: [(&str, &str); N]) -> ApiCall {
    ApiCall::new(Service::Ims, action, params)
}

fn detach(principal: &Principal, policy_name: &str, policy_type: &str) -> ApiCall {
    let (action, key) = match principal.kind {
        PrincipalKind::User => ("DetachPolicyFromUser", "UserName"),
        PrincipalKind::Group => ("DetachPolicyFromGroup", "GroupName"),
        PrincipalKind::Role => ("DetachPolicyFromRole", "RoleName"),
    };
    ram(
        action,
        [
            (key, principal.name.as_str()),
            ("PolicyName", policy_name),
            ("PolicyType", policy_type),
        ],
    )
}

/// The request a step makes.
pub fn call(op: &Op) -> ApiCall {
    match op {
        Op::DetachPolicy { principal, policy } => {
            detach(principal, &policy.name, &policy.policy_type.to_string())
        }
        Op::RemoveMember { user, group } => ram(
            "RemoveUserFromGroup",
            [("GroupName", group.as_str()), ("UserName", user.as_str())],
        ),
        Op::DeleteLoginProfile { user } => ram("DeleteLoginProfile", [("UserName", user.as_str())]),
        Op::UnbindMfaDevice { user, .. } => ram("UnbindMFADevice", [("UserName", user.as_str())]),
        Op::DeactivateAccessKey { user, key } => ram(
            "UpdateAccessKey",
            [
                ("Status", "Inactive"),
                ("UserAccessKeyId", key.as_str()),
                ("UserName", user.as_str()),
            ],
        ),
        Op::DeleteAccessKey { user, key } => ram(
            "DeleteAccessKey",
            [
                ("UserAccessKeyId", key.as_str()),
                ("UserName", user.as_str()),
            ],
        ),
        Op::DeleteUser { name, .. } => ram("DeleteUser", [("UserName", name.as_str())]),
        Op::DeleteGroup { name } => ram("DeleteGroup", [("GroupName", name.as_str())]),
        Op::DeleteRole { name } => ram("DeleteRole", [("RoleName", name.as_str())]),
        Op::DeleteServiceLinkedRole { name } => ApiCall::new(
            Service::ResourceManager,
            "DeleteServiceLinkedRole",
            [("RoleName", name.as_str())],
        ),
        Op::DeletePolicy { name } => ram(
            "DeletePolicy",
            [("CascadingDelete", "true"), ("PolicyName", name.as_str())],
        ),
        Op::DeleteVirtualMfaDevice { serial_number } => ram(
            "DeleteVirtualMFADevice",
            [("SerialNumber", serial_number.as_str())],
        ),
        Op::DeleteSamlProvider { name } => {
            ims("DeleteSAMLProvider", [("SAMLProviderName", name.as_str())])
        }
        Op::DeleteOidcProvider { name } => {
            ims("DeleteOIDCProvider", [("OIDCProviderName", name.as_str())])
        }
        Op::DeleteApplication { app_id } => ims("DeleteApplication", [("AppId", app_id.as_str())]),
        Op::SetDefaultDomain { domain } => {
            ims("SetDefaultDomain", [("DefaultDomainName", domain.as_str())])
        }
        Op::ClearAccountAlias => ram("ClearAccountAlias", []),
        Op::PurgeRecycledUser { user_id } => {
            ims("DeleteUserInRecycleBin", [("UserId", user_id.as_str())])
        }
        Op::PurgeRecycledAccessKey { user_id, key } => ims(
            "DeleteAccessKeyInRecycleBin",
            [
                ("UserAccessKeyId", key.as_str()),
                ("UserId", user_id.as_str()),
            ],
        ),
    }
}
