//! Operation → API request: the one place outside `api` that knows Alibaba's action and
//! parameter names. Plans print these requests so a reviewer can audit each step against
//! the API reference; the executor sends exactly them.

use super::address::PrincipalKind;
use super::op::{Op, Principal, Tagged, UserProfile};
use crate::model::{ApiCall, LoginProfileStatus, Service};

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

fn profile(call: &mut ApiCall, prefix: &str, p: &UserProfile) {
    for (key, v) in [
        ("DisplayName", &p.display_name),
        ("Email", &p.email),
        ("MobilePhone", &p.mobile_phone),
        ("Comments", &p.comments),
    ] {
        if let Some(v) = v {
            call.params.insert(format!("{prefix}{key}"), v.clone());
        }
    }
}

fn set(call: &mut ApiCall, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        call.params.insert(key.to_string(), v.to_string());
    }
}

fn attach(principal: &Principal, policy_name: &str, policy_type: &str) -> ApiCall {
    let (action, key) = match principal.kind {
        PrincipalKind::User => ("AttachPolicyToUser", "UserName"),
        PrincipalKind::Group => ("AttachPolicyToGroup", "GroupName"),
        PrincipalKind::Role => ("AttachPolicyToRole", "RoleName"),
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

fn tag_call(
    target: &Tagged,
    tags: Option<&crate::model::Tags>,
    keys: Option<&[String]>,
) -> ApiCall {
    let action = if tags.is_some() {
        "TagResources"
    } else {
        "UntagResources"
    };
    match target {
        // IMS numbers its list parameters: Tag.1.Key, TagKey.1, ResourcePrincipalName.1.
        Tagged::User { principal_name, .. } => {
            let mut call = ims(
                action,
                [
                    ("ResourceType", "user"),
                    ("ResourcePrincipalName.1", principal_name.as_str()),
                ],
            );
            for (i, (k, v)) in tags.into_iter().flatten().enumerate() {
                call.params.insert(format!("Tag.{}.Key", i + 1), k.clone());
                call.params
                    .insert(format!("Tag.{}.Value", i + 1), v.clone());
            }
            for (i, k) in keys.into_iter().flatten().enumerate() {
                call.params.insert(format!("TagKey.{}", i + 1), k.clone());
            }
            call
        }
        // RAM takes each list as one JSON array.
        Tagged::Role(name) | Tagged::Policy(name) => {
            let kind = if matches!(target, Tagged::Role(_)) {
                "role"
            } else {
                "policy"
            };
            let names = serde_json::to_string(&[name]).expect("strings serialise");
            let mut call = ram(
                action,
                [("ResourceType", kind), ("ResourceNames", names.as_str())],
            );
            if let Some(tags) = tags {
                let list: Vec<serde_json::Value> = tags
                    .iter()
                    .map(|(k, v)| serde_json::json!({ "Key": k, "Value": v }))
                    .collect();
                call.params
                    .insert("Tag".into(), serde_json::Value::Array(list).to_string());
            }
            if let Some(keys) = keys {
                call.params.insert(
                    "TagKeys".into(),
                    serde_json::to_string(keys).expect("strings serialise"),
                );
            }
            call
        }
    }
}

/// The user a deactivation record is tagged on.
fn deactivated(user: &str, principal_name: &str) -> Tagged {
    Tagged::User {
        name: user.to_string(),
        principal_name: principal_name.to_string(),
    }
}

/// What a plan shows in place of a password: where it comes from when the step runs.
fn password_placeholder(env: &str) -> String {
    format!("${env}")
}

/// The request of a step that needs a secret, with the secret in it (never shown in a
/// plan). Other steps are [`call`] unchanged.
pub fn call_with_password(op: &Op, password: &str) -> ApiCall {
    let mut c = call(op);
    if matches!(op, Op::CreateLoginProfile { .. }) {
        c.params.insert("Password".into(), password.to_string());
    }
    c
}

/// The read-only call that tells whether an uncertain create took effect (the created
/// thing answers it), for the creates that have one.
pub fn read_back(op: &Op) -> Option<ApiCall> {
    Some(match op {
        Op::CreateUser { name, .. } => ram("GetUser", [("UserName", name.as_str())]),
        Op::CreateGroup { name, .. } => ram("GetGroup", [("GroupName", name.as_str())]),
        Op::CreateRole { name, .. } => ram("GetRole", [("RoleName", name.as_str())]),
        Op::CreatePolicy { name, .. } | Op::CreatePolicyVersion { name, .. } => ram(
            "GetPolicy",
            [("PolicyName", name.as_str()), ("PolicyType", "Custom")],
        ),
        Op::CreateLoginProfile { user, .. } => {
            ram("GetLoginProfile", [("UserName", user.as_str())])
        }
        Op::CreateSamlProvider { name, .. } => {
            ims("GetSAMLProvider", [("SAMLProviderName", name.as_str())])
        }
        Op::CreateOidcProvider { name, .. } => {
            ims("GetOIDCProvider", [("OIDCProviderName", name.as_str())])
        }
        Op::RestoreRecycledUser { name, .. } => ram("GetUser", [("UserName", name.as_str())]),
        Op::RestoreRecycledAccessKey { user, .. } => {
            ram("ListAccessKeys", [("UserName", user.as_str())])
        }
        _ => return None,
    })
}

/// Whether the answer to a restore's [`read_back`] shows the thing back where it
/// belongs: the user under its name with the same user ID, the key among its user's keys.
pub fn shows_restored(op: &Op, answer: &serde_json::Value) -> bool {
    match op {
        Op::RestoreRecycledUser { user_id, .. } => {
            answer.pointer("/User/UserId").and_then(|v| v.as_str()) == Some(user_id.as_str())
        }
        Op::RestoreRecycledAccessKey { key, .. } => answer
            .pointer("/AccessKeys/AccessKey")
            .and_then(|v| v.as_array())
            .is_some_and(|keys| {
                keys.iter()
                    .any(|k| k.get("AccessKeyId").and_then(|v| v.as_str()) == Some(key.as_str()))
            }),
        _ => false,
    }
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
        Op::ActivateAccessKey { user, key } => ram(
            "UpdateAccessKey",
            [
                ("Status", "Active"),
                ("UserAccessKeyId", key.as_str()),
                ("UserName", user.as_str()),
            ],
        ),
        Op::RecordDeactivation {
            user,
            principal_name,
            record,
        } => {
            let tags = [(super::offboard::TAG_KEY.to_string(), record.clone())].into();
            tag_call(&deactivated(user, principal_name), Some(&tags), None)
        }
        Op::ClearDeactivation {
            user,
            principal_name,
        } => tag_call(
            &deactivated(user, principal_name),
            None,
            Some(&[super::offboard::TAG_KEY.to_string()]),
        ),
        // IMS, not RAM: only IMS has the console's switch (`Status`).
        Op::DisableConsoleLogon { principal_name, .. } => ims(
            "UpdateLoginProfile",
            [
                ("Status", "Inactive"),
                ("UserPrincipalName", principal_name.as_str()),
            ],
        ),
        Op::EnableConsoleLogon { principal_name, .. } => ims(
            "UpdateLoginProfile",
            [
                ("Status", "Active"),
                ("UserPrincipalName", principal_name.as_str()),
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
        Op::CreateUser { name, profile: p } => {
            let mut c = ram("CreateUser", [("UserName", name.as_str())]);
            profile(&mut c, "", p);
            c
        }
        Op::UpdateUser { name, profile: p } => {
            let mut c = ram("UpdateUser", [("UserName", name.as_str())]);
            profile(&mut c, "New", p);
            c
        }
        Op::CreateLoginProfile {
            user,
            password_env,
            password_reset_required,
            mfa_bind_required,
            status,
            principal_name,
        } => {
            // RAM's create has no status: one switched off is made through IMS.
            let mut c = match status {
                LoginProfileStatus::Active => {
                    ram("CreateLoginProfile", [("UserName", user.as_str())])
                }
                LoginProfileStatus::Inactive => ims(
                    "CreateLoginProfile",
                    [
                        ("UserPrincipalName", principal_name.as_str()),
                        ("Status", status.as_str()),
                    ],
                ),
            };
            for (k, v) in [
                ("Password", password_placeholder(password_env)),
                (
                    "PasswordResetRequired",
                    bool_text(*password_reset_required).into(),
                ),
                ("MFABindRequired", bool_text(*mfa_bind_required).into()),
            ] {
                c.params.insert(k.into(), v);
            }
            c
        }
        Op::UpdateLoginProfile {
            user,
            password_reset_required,
            mfa_bind_required,
        } => ram(
            "UpdateLoginProfile",
            [
                ("UserName", user.as_str()),
                ("PasswordResetRequired", bool_text(*password_reset_required)),
                ("MFABindRequired", bool_text(*mfa_bind_required)),
            ],
        ),
        Op::AddMember { user, group } => ram(
            "AddUserToGroup",
            [("GroupName", group.as_str()), ("UserName", user.as_str())],
        ),
        Op::AttachPolicy { principal, policy } => {
            attach(principal, &policy.name, &policy.policy_type.to_string())
        }
        Op::CreateGroup { name, comments } => {
            let mut c = ram("CreateGroup", [("GroupName", name.as_str())]);
            set(&mut c, "Comments", comments.as_deref());
            c
        }
        Op::UpdateGroup { name, comments } => ram(
            "UpdateGroup",
            [
                ("GroupName", name.as_str()),
                ("NewComments", comments.as_str()),
            ],
        ),
        Op::CreateRole {
            name,
            description,
            trust_policy,
            max_session_duration,
        } => {
            let mut c = ram(
                "CreateRole",
                [
                    ("RoleName", name.as_str()),
                    ("AssumeRolePolicyDocument", trust_policy.as_str()),
                ],
            );
            set(&mut c, "Description", description.as_deref());
            let max = max_session_duration.map(|m| m.to_string());
            set(&mut c, "MaxSessionDuration", max.as_deref());
            c
        }
        Op::UpdateRole {
            name,
            description,
            trust_policy,
            max_session_duration,
        } => {
            let mut c = ram("UpdateRole", [("RoleName", name.as_str())]);
            set(&mut c, "NewDescription", description.as_deref());
            set(
                &mut c,
                "NewAssumeRolePolicyDocument",
                trust_policy.as_deref(),
            );
            let max = max_session_duration.map(|m| m.to_string());
            set(&mut c, "NewMaxSessionDuration", max.as_deref());
            c
        }
        Op::CreatePolicy {
            name,
            description,
            document,
        } => {
            let mut c = ram(
                "CreatePolicy",
                [
                    ("PolicyName", name.as_str()),
                    ("PolicyDocument", document.as_str()),
                ],
            );
            set(&mut c, "Description", description.as_deref());
            c
        }
        Op::CreatePolicyVersion { name, document } => ram(
            "CreatePolicyVersion",
            [
                ("PolicyName", name.as_str()),
                ("PolicyDocument", document.as_str()),
                ("SetAsDefault", "true"),
            ],
        ),
        Op::DeletePolicyVersion { name, version } => ram(
            "DeletePolicyVersion",
            [
                ("PolicyName", name.as_str()),
                ("VersionId", version.as_str()),
            ],
        ),
        Op::UpdatePolicyDescription { name, description } => ram(
            "UpdatePolicyDescription",
            [
                ("PolicyName", name.as_str()),
                ("NewDescription", description.as_str()),
            ],
        ),
        Op::TagResource { target, tags } => tag_call(target, Some(tags), None),
        Op::UntagResource { target, keys } => tag_call(target, None, Some(keys)),
        Op::CreateSamlProvider {
            name,
            description,
            metadata,
        } => {
            let mut c = ims("CreateSAMLProvider", [("SAMLProviderName", name.as_str())]);
            set(&mut c, "Description", description.as_deref());
            set(&mut c, "EncodedSAMLMetadataDocument", metadata.as_deref());
            c
        }
        Op::UpdateSamlProvider {
            name,
            description,
            metadata,
        } => {
            let mut c = ims("UpdateSAMLProvider", [("SAMLProviderName", name.as_str())]);
            set(&mut c, "NewDescription", description.as_deref());
            set(
                &mut c,
                "NewEncodedSAMLMetadataDocument",
                metadata.as_deref(),
            );
            c
        }
        Op::CreateOidcProvider {
            name,
            issuer_url,
            client_ids,
            fingerprints,
            description,
        } => {
            let mut c = ims(
                "CreateOIDCProvider",
                [
                    ("OIDCProviderName", name.as_str()),
                    ("IssuerUrl", issuer_url.as_str()),
                ],
            );
            let ids = (!client_ids.is_empty()).then(|| client_ids.join(","));
            set(&mut c, "ClientIds", ids.as_deref());
            let prints = (!fingerprints.is_empty()).then(|| fingerprints.join(","));
            set(&mut c, "Fingerprints", prints.as_deref());
            set(&mut c, "Description", description.as_deref());
            c
        }
        Op::UpdateOidcProvider {
            name,
            client_ids,
            description,
        } => {
            let mut c = ims("UpdateOIDCProvider", [("OIDCProviderName", name.as_str())]);
            let ids = client_ids.as_ref().map(|ids| ids.join(","));
            set(&mut c, "ClientIds", ids.as_deref());
            set(&mut c, "NewDescription", description.as_deref());
            c
        }
        Op::RestoreRecycledUser { user_id, .. } => {
            ims("RestoreUserFromRecycleBin", [("UserId", user_id.as_str())])
        }
        Op::RestoreRecycledAccessKey { user_id, key, .. } => ims(
            "RestoreAccessKeyFromRecycleBin",
            [
                ("UserAccessKeyId", key.as_str()),
                ("UserId", user_id.as_str()),
            ],
        ),
        Op::SetAccessKeyStatus { user, key, status } => ram(
            "UpdateAccessKey",
            [
                (
                    "Status",
                    match status {
                        crate::model::KeyStatus::Active => "Active",
                        crate::model::KeyStatus::Inactive => "Inactive",
                    },
                ),
                ("UserAccessKeyId", key.as_str()),
                ("UserName", user.as_str()),
            ],
        ),
        Op::SetAccountAlias { alias } => ram("SetAccountAlias", [("AccountAlias", alias.as_str())]),
        Op::SetPasswordPolicy { policy: p } => {
            let n = |v: u32| v.to_string();
            let b = |v: bool| bool_text(v).to_string();
            ApiCall::new(
                Service::Ims,
                "SetPasswordPolicy",
                [
                    ("HardExpire", b(p.hard_expire)),
                    ("MaxLoginAttemps", n(p.max_login_attempts)),
                    ("MaxPasswordAge", n(p.max_password_age)),
                    (
                        "MinimumPasswordDifferentCharacter",
                        n(p.minimum_password_different_character),
                    ),
                    ("MinimumPasswordLength", n(p.minimum_password_length)),
                    (
                        "PasswordNotContainUserName",
                        b(p.password_not_contain_user_name),
                    ),
                    ("PasswordReusePrevention", n(p.password_reuse_prevention)),
                    (
                        "RequireLowercaseCharacters",
                        b(p.require_lowercase_characters),
                    ),
                    ("RequireNumbers", b(p.require_numbers)),
                    ("RequireSymbols", b(p.require_symbols)),
                    (
                        "RequireUppercaseCharacters",
                        b(p.require_uppercase_characters),
                    ),
                ],
            )
        }
        Op::SetSecurityPreference { preference: p } => {
            let b = |v: bool| bool_text(v).to_string();
            let mut c = ApiCall::new(
                Service::Ims,
                "SetSecurityPreference",
                [
                    (
                        "AllowUserToChangePassword",
                        b(p.allow_user_to_change_password),
                    ),
                    (
                        "AllowUserToLoginWithPasskey",
                        b(p.allow_user_to_login_with_passkey),
                    ),
                    (
                        "AllowUserToManageAccessKeys",
                        b(p.allow_user_to_manage_access_keys),
                    ),
                    (
                        "AllowUserToManageMFADevices",
                        b(p.allow_user_to_manage_mfa_devices),
                    ),
                    (
                        "AllowUserToManagePersonalDingTalk",
                        b(p.allow_user_to_manage_personal_ding_talk),
                    ),
                    ("EnableSaveMFATicket", b(p.enable_save_mfa_ticket)),
                    ("LoginSessionDuration", p.login_session_duration.to_string()),
                    (
                        "MFAOperationForLogin",
                        p.mfa_operation_for_login.as_str().to_string(),
                    ),
                    (
                        "OperationForRiskLogin",
                        p.operation_for_risk_login.as_str().to_string(),
                    ),
                ],
            );
            set(
                &mut c,
                "LoginNetworkMasks",
                p.login_network_masks.as_deref(),
            );
            if !p.verification_types.is_empty() {
                c.params.insert(
                    "VerificationTypes".into(),
                    serde_json::to_string(&p.verification_types).expect("strings serialise"),
                );
            }
            c
        }
    }
}

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}
