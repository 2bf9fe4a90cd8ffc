//! Inventory fetch against a loopback account that answers from a seed, page by page,
//! the way RAM and IMS shape their answers.

mod support;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use ramstate::api::{Client, ClientConfig, Credentials, ProxyConfig, RetryPolicy};
use ramstate::inventory::{self, NoProgress, Progress};
use ramstate::model::{Inventory, Kind};
use serde_json::{Value, json};
use support::{Reply, Seen, serve};

const PAGE: usize = 2;

fn seed() -> Inventory {
    support::every_kind_seed()
}

/// Pages a list answer at `PAGE` items, with opaque markers.
fn page(seen: &Seen, outer: &str, inner: &str, items: Vec<Value>) -> Reply {
    let start: usize = seen
        .param("Marker")
        .map(|m| m.trim_start_matches("page-").parse().unwrap())
        .unwrap_or(0);
    let end = (start + PAGE).min(items.len());
    let mut body =
        json!({ outer: { inner: items[start..end].to_vec() }, "IsTruncated": end < items.len() });
    if end < items.len() {
        body["Marker"] = json!(format!("page-{end}"));
    }
    Reply::ok(body)
}

fn wrap(outer: &str, inner: &str, items: Vec<Value>) -> Reply {
    Reply::ok(json!({ outer: { inner: items } }))
}

fn tags(t: &ramstate::model::Tags) -> Value {
    json!({"Tag": t.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>()})
}

fn attached(list: &[ramstate::model::PolicyRef]) -> Reply {
    wrap(
        "Policies",
        "Policy",
        list.iter()
            .map(|p| json!({"PolicyName": p.name, "PolicyType": p.policy_type.to_string()}))
            .collect(),
    )
}

fn not_found(code: &str) -> Reply {
    Reply::error(404, code, "not there")
}

/// Answers RAM, IMS and STS reads from the seed.
fn answer(inv: &Inventory, seen: &Seen) -> Reply {
    let ims = seen.param("Version") == Some("2019-08-15");
    let p = |n: &str| seen.param(n).unwrap_or("").to_string();
    // RAM names a user by UserName, IMS by logon name.
    let user = || {
        let upn = p("UserPrincipalName");
        let name = match upn.split_once('@') {
            Some((n, _)) => n.to_string(),
            None => p("UserName"),
        };
        inv.users.iter().find(|u| u.name == name)
    };
    match (ims, seen.action()) {
        (_, "GetCallerIdentity") => Reply::ok(json!({
            "AccountId": inv.account.id, "Arn": format!("acs:ram::{}:root", inv.account.id),
            "IdentityType": "Account", "PrincipalId": inv.account.id
        })),
        (false, "ListUsers") => page(
            seen,
            "Users",
            "User",
            inv.users
                .iter()
                .map(|u| {
                    json!({"UserName": u.name, "UserId": u.id, "DisplayName": u.display_name,
                           "Email": u.email, "Comments": u.comments, "CreateDate": u.create_date,
                           "UpdateDate": "2024-09-09T00:00:00Z"})
                })
                .collect(),
        ),
        (true, "ListUsers") => page(
            seen,
            "Users",
            "User",
            inv.users
                .iter()
                .map(|u| {
                    json!({"UserPrincipalName": format!("{}@demo.onaliyun.com", u.name), "UserId": u.id,
                           "LastLoginDate": u.last_login_date, "Tags": tags(&u.tags), "Status": "active"})
                })
                .collect(),
        ),
        (false, "ListAccessKeys") => wrap(
            "AccessKeys",
            "AccessKey",
            user().unwrap()
                .access_keys
                .iter()
                .rev()
                .map(|k| json!({"AccessKeyId": k.id, "Status": format!("{:?}", k.status), "CreateDate": k.create_date}))
                .collect(),
        ),
        (false, "GetAccessKeyLastUsed") => {
            let key = user()
                .unwrap()
                .access_keys
                .iter()
                .find(|k| k.id == p("UserAccessKeyId"))
                .unwrap();
            Reply::ok(json!({"AccessKeyLastUsed": {"LastUsedDate": key.last_used_date.clone().unwrap_or_default()}}))
        }
        (true, "GetLoginProfile") => match &user().unwrap().login_profile {
            Some(lp) => Reply::ok(json!({"LoginProfile": {
                "UserPrincipalName": p("UserPrincipalName"), "PasswordResetRequired": lp.password_reset_required,
                "MFABindRequired": lp.mfa_bind_required, "Status": lp.status.as_str(),
                "UpdateDate": "2024-09-09T00:00:00Z"}})),
            None => not_found("EntityNotExist.User.LoginProfile"),
        },
        (false, "GetUserMFAInfo") => match &user().unwrap().mfa_device {
            Some(sn) => Reply::ok(json!({"MFADevice": {"SerialNumber": sn, "Type": "VMFA"}})),
            None => not_found("EntityNotExist.User.MFADevice"),
        },
        (false, "ListGroupsForUser") => wrap(
            "Groups",
            "Group",
            user().unwrap()
                .groups
                .iter()
                .rev()
                .map(|g| json!({"GroupName": g, "JoinDate": "2024-01-01T00:00:00Z"}))
                .collect(),
        ),
        (false, "ListPoliciesForUser") => attached(&user().unwrap().policies),
        (false, "ListGroups") => page(
            seen,
            "Groups",
            "Group",
            inv.groups
                .iter()
                .map(|g| json!({"GroupName": g.name, "GroupId": g.id, "Comments": g.comments}))
                .collect(),
        ),
        (false, "ListPoliciesForGroup") => attached(
            &inv.groups
                .iter()
                .find(|g| g.name == p("GroupName"))
                .unwrap()
                .policies,
        ),
        (false, "ListRoles") => page(
            seen,
            "Roles",
            "Role",
            inv.roles
                .iter()
                .map(|r| {
                    json!({"RoleName": r.name, "RoleId": r.id, "Description": r.description,
                           "MaxSessionDuration": r.max_session_duration, "Tags": tags(&r.tags),
                           "Arn": r.arn(&inv.account.id)})
                })
                .collect(),
        ),
        (false, "GetRole") => {
            let r = inv.roles.iter().find(|r| r.name == p("RoleName")).unwrap();
            Reply::ok(json!({"Role": {"RoleName": r.name, "RoleId": r.id,
                "AssumeRolePolicyDocument": r.assume_role_policy_document, "MaxSessionDuration": r.max_session_duration}}))
        }
        (false, "ListPoliciesForRole") => attached(
            &inv.roles
                .iter()
                .find(|r| r.name == p("RoleName"))
                .unwrap()
                .policies,
        ),
        (false, "ListPolicies") => {
            assert_eq!(p("PolicyType"), "Custom");
            page(
                seen,
                "Policies",
                "Policy",
                inv.policies
                    .iter()
                    .rev()
                    .map(|x| {
                        json!({"PolicyName": x.name, "PolicyType": "Custom", "Description": x.description,
                               "DefaultVersion": x.default_version().map(|v| v.id.clone()), "AttachmentCount": 0})
                    })
                    .collect(),
            )
        }
        (false, "ListPolicyVersions") => wrap(
            "PolicyVersions",
            "PolicyVersion",
            inv.policies
                .iter()
                .find(|x| x.name == p("PolicyName"))
                .unwrap()
                .versions
                .iter()
                .map(|v| json!({"VersionId": v.id, "IsDefaultVersion": v.is_default, "PolicyDocument": v.document}))
                .collect(),
        ),
        (false, "GetAccountAlias") => Reply::ok(json!({"AccountAlias": inv.account.alias})),
        (true, "GetDefaultDomain") => Reply::ok(json!({"DefaultDomainName": inv.account.domain()})),
        // Numbers and booleans as strings, as some gateways send them.
        (true, "GetPasswordPolicy") => {
            let pp = inv.account.password_policy.clone().unwrap_or_default();
            Reply::ok(json!({"PasswordPolicy": {
                "HardExpire": pp.hard_expire.to_string(),
                "MaxLoginAttemps": pp.max_login_attempts.to_string(),
                "MaxPasswordAge": pp.max_password_age,
                "MinimumPasswordDifferentCharacter": pp.minimum_password_different_character,
                "MinimumPasswordLength": pp.minimum_password_length.to_string(),
                "PasswordNotContainUserName": pp.password_not_contain_user_name,
                "PasswordReusePrevention": pp.password_reuse_prevention,
                "RequireLowercaseCharacters": pp.require_lowercase_characters,
                "RequireNumbers": pp.require_numbers,
                "RequireSymbols": pp.require_symbols.to_string(),
                "RequireUppercaseCharacters": pp.require_uppercase_characters}}))
        }
        (true, "GetSecurityPreference") => {
            let sp = inv.account.security_preference.clone().unwrap_or_default();
            Reply::ok(json!({"SecurityPreference": {
                "AccessKeyPreference": {"AllowUserToManageAccessKeys": sp.allow_user_to_manage_access_keys},
                "LoginProfilePreference": {
                    "AllowUserToChangePassword": sp.allow_user_to_change_password,
                    "AllowUserToLoginWithPasskey": sp.allow_user_to_login_with_passkey,
                    "EnableSaveMFATicket": sp.enable_save_mfa_ticket.to_string(),
                    "LoginNetworkMasks": sp.login_network_masks.clone().unwrap_or_default(),
                    "LoginSessionDuration": sp.login_session_duration.to_string(),
                    "MFAOperationForLogin": sp.mfa_operation_for_login.as_str(),
                    "OperationForRiskLogin": sp.operation_for_risk_login.as_str()},
                "MFAPreference": {"AllowUserToManageMFADevices": sp.allow_user_to_manage_mfa_devices},
                "MaxIdleDays": {"MaxIdleDaysForAccessKeys": 730, "MaxIdleDaysForUsers": 730},
                "PersonalInfoPreference": {
                    "AllowUserToManagePersonalDingTalk": sp.allow_user_to_manage_personal_ding_talk},
                "VerificationPreference": {"VerificationTypes": sp.verification_types}}}))
        }
        (true, "ListSAMLProviders") => page(
            seen,
            "SAMLProviders",
            "SAMLProvider",
            inv.saml_providers
                .iter()
                .map(|s| json!({"SAMLProviderName": s.name, "Description": s.description}))
                .collect(),
        ),
        (true, "GetSAMLProvider") => {
            let s = inv
                .saml_providers
                .iter()
                .find(|s| s.name == p("SAMLProviderName"))
                .unwrap();
            Reply::ok(json!({"SAMLProvider": {"SAMLProviderName": s.name, "Description": s.description,
                "EncodedSAMLMetadataDocument": s.metadata}}))
        }
        (true, "ListOIDCProviders") => page(
            seen,
            "OIDCProviders",
            "OIDCProvider",
            inv.oidc_providers
                .iter()
                .map(|o| {
                    json!({"OIDCProviderName": o.name, "IssuerUrl": o.issuer_url,
                           "ClientIds": o.client_ids.join(","), "Fingerprints": o.fingerprints.join(",")})
                })
                .collect(),
        ),
        (true, "ListVirtualMFADevices") => page(
            seen,
            "VirtualMFADevices",
            "VirtualMFADevice",
            inv.virtual_mfa_devices
                .iter()
                .rev()
                .map(|d| {
                    let mut v = json!({"SerialNumber": d.serial_number, "ActivateDate": d.activate_date});
                    if let Some(u) = &d.user {
                        v["User"] = json!({"UserPrincipalName": format!("{u}@demo.onaliyun.com")});
                    }
                    v
                })
                .collect(),
        ),
        (true, "ListApplications") => wrap(
            "Applications",
            "Application",
            inv.applications
                .iter()
                .map(|a| {
                    json!({"AppId": a.app_id, "AppName": a.app_name, "DisplayName": a.display_name,
                           "AppType": a.app_type, "AccountId": inv.account.id})
                })
                .collect(),
        ),
        (true, "ListUsersInRecycleBin") => page(
            seen,
            "Users",
            "User",
            inv.recycle_bin
                .users
                .iter()
                .map(|u| {
                    json!({"UserId": u.id, "UserPrincipalName": u.principal_name,
                           "RecycleDate": u.recycle_date})
                })
                .collect(),
        ),
        (true, "ListAccessKeysInRecycleBin") => wrap(
            "AccessKeys",
            "AccessKey",
            inv.recycle_bin
                .access_keys
                .iter()
                .filter(|k| k.user_id == p("UserId"))
                .map(|k| json!({"AccessKeyId": k.id}))
                .collect(),
        ),
        (_, other) => Reply::error(400, "InvalidParameter", &format!("unknown action {other}")),
    }
}

fn client(url: &str) -> Client {
    Client::new(
        ClientConfig {
            endpoint: Some(url.to_string()),
            region: None,
            qps: 0.0,
            max_in_flight: 6,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::none(),
            proxy: ProxyConfig::default(),
        },
        Credentials::access_key("LTAIroot", "root-secret"),
    )
    .unwrap()
}

fn all_kinds() -> BTreeSet<Kind> {
    Kind::ALL.into_iter().collect()
}

#[tokio::test]
async fn fetching_every_kind_reproduces_the_seed() {
    let seed = seed();
    let s = seed.clone();
    let mock = serve(move |seen, _| answer(&s, seen)).await;
    mock.add_key("LTAIroot", "root-secret");
    let mut got = inventory::fetch(&client(&mock.url), &all_kinds(), &NoProgress)
        .await
        .unwrap();

    let mut want = seed;
    // The wire has no secrets; everything else must come back.
    for u in &mut want.users {
        for k in &mut u.access_keys {
            k.secret = None;
        }
    }
    // Fetched lists are sorted by name; the seed is written that way except for versions.
    want.policies.sort_by(|a, b| a.name.cmp(&b.name));
    want.recycle_bin
        .access_keys
        .sort_by(|a, b| (&a.user_id, &a.id).cmp(&(&b.user_id, &b.id)));
    want.roles.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        got.policies[0]
            .versions
            .iter()
            .map(|v| v.id.as_str())
            .collect::<Vec<_>>(),
        ["v1"]
    );
    assert_eq!(
        got.policies
            .iter()
            .find(|p| p.name == "ops-read")
            .unwrap()
            .versions
            .iter()
            .map(|v| v.id.as_str())
            .collect::<Vec<_>>(),
        ["v1", "v2", "v10"]
    );
    for p in &mut want.policies {
        p.versions
            .sort_by_key(|v| v.id.trim_start_matches('v').parse::<u32>().unwrap());
    }
    // The login profile is read from IMS, which says whether console logon is on but
    // not when the profile was made.
    for u in &mut want.users {
        if let Some(lp) = &mut u.login_profile {
            lp.create_date = None;
        }
    }
    // Compare piecewise first for readable failures, then as a whole.
    assert_eq!(got.account, want.account);
    assert_eq!(got.users, want.users);
    assert_eq!(got.groups, want.groups);
    assert_eq!(got.roles, want.roles);
    assert_eq!(got.policies, want.policies);
    assert_eq!(got.virtual_mfa_devices, want.virtual_mfa_devices);
    assert_eq!(got.recycle_bin, want.recycle_bin);
    got.emulator = want.emulator.clone();
    assert_eq!(got, want);

    // Several pages were followed.
    let list_users = mock
        .seen()
        .iter()
        .filter(|s| s.action() == "ListUsers" && s.param("Version") == Some("2015-05-01"))
        .count();
    assert_eq!(list_users, 3);
}

#[tokio::test]
async fn only_the_calls_the_requested_kinds_need_are_made() {
    let s = seed();
    let mock = serve(move |seen, _| answer(&s, seen)).await;
    let kinds: BTreeSet<Kind> = [Kind::Groups, Kind::DefaultDomain].into_iter().collect();
    let got = inventory::fetch(&client(&mock.url), &kinds, &NoProgress)
        .await
        .unwrap();
    assert_eq!(got.groups.len(), 3);
    assert!(got.users.is_empty() && got.roles.is_empty() && got.policies.is_empty());
    assert_eq!(
        got.account.default_domain.as_deref(),
        Some("demo.onaliyun.com")
    );
    assert_eq!(got.account.alias, None, "the alias was not asked for");
    let actions: BTreeSet<String> = mock.seen().iter().map(|s| s.action().to_string()).collect();
    let expected: BTreeSet<String> = [
        "GetCallerIdentity",
        "ListGroups",
        "ListPoliciesForGroup",
        "GetDefaultDomain",
        // The account settings come with the account-wide kinds.
        "GetPasswordPolicy",
        "GetSecurityPreference",
    ]
    .map(String::from)
    .into_iter()
    .collect();
    assert_eq!(actions, expected);
}

#[tokio::test]
async fn service_linked_roles_are_a_kind_of_their_own() {
    let s = seed();
    let mock = serve(move |seen, _| answer(&s, seen)).await;
    let c = client(&mock.url);
    let slr: BTreeSet<Kind> = [Kind::ServiceLinkedRoles].into_iter().collect();
    let got = inventory::fetch(&c, &slr, &NoProgress).await.unwrap();
    assert_eq!(
        got.roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["AliyunServiceRoleForECS"]
    );
    let ordinary: BTreeSet<Kind> = [Kind::Roles].into_iter().collect();
    let got = inventory::fetch(&c, &ordinary, &NoProgress).await.unwrap();
    assert_eq!(
        got.roles
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["auditor", "deployer", "gh-actions"]
    );
}

#[tokio::test]
async fn the_initial_default_domain_is_stored_as_none() {
    let mut s = seed();
    s.account.default_domain = None;
    let mock = serve(move |seen, _| answer(&s, seen)).await;
    let kinds: BTreeSet<Kind> = [Kind::DefaultDomain].into_iter().collect();
    let got = inventory::fetch(&client(&mock.url), &kinds, &NoProgress)
        .await
        .unwrap();
    assert_eq!(got.account.default_domain, None);
    assert_eq!(got.account.id, "1234567890123456");
}

#[tokio::test]
async fn a_failing_call_fails_the_fetch_with_its_error() {
    let s = seed();
    let mock = serve(move |seen, _| {
        if seen.action() == "ListPoliciesForUser" && seen.param("UserName") == Some("carol") {
            Reply::error(
                403,
                "NoPermission",
                "You are not authorized to do this action.",
            )
        } else {
            answer(&s, seen)
        }
    })
    .await;
    let kinds: BTreeSet<Kind> = [Kind::Users].into_iter().collect();
    let e = inventory::fetch(&client(&mock.url), &kinds, &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(e.code, "NoPermission");
}

#[tokio::test]
async fn resources_deleted_between_the_list_and_their_details_are_left_out() {
    // The lists still show carol, the first group, role and policy; their detail calls
    // answer that they are gone (deleted meanwhile, or listed by a lagging replica).
    let s = seed();
    let (user, group, role, policy) = (
        "carol".to_string(),
        s.groups[0].name.clone(),
        s.roles[0].name.clone(),
        s.policies[0].name.clone(),
    );
    let (g, r, p) = (group.clone(), role.clone(), policy.clone());
    let mock = serve(move |seen, _| {
        let is = |param: &str, v: &str| seen.param(param) == Some(v);
        match seen.action() {
            "ListAccessKeys"
            | "GetLoginProfile"
            | "GetUserMFAInfo"
            | "ListGroupsForUser"
            | "ListPoliciesForUser"
                if is("UserName", &user)
                    || is("UserPrincipalName", &format!("{user}@demo.onaliyun.com")) =>
            {
                not_found("EntityNotExist.User")
            }
            "ListPoliciesForGroup" if is("GroupName", &g) => not_found("EntityNotExist.Group"),
            "GetRole" | "ListPoliciesForRole" if is("RoleName", &r) => {
                not_found("EntityNotExist.Role")
            }
            "ListPolicyVersions" if is("PolicyName", &p) => not_found("EntityNotExist.Policy"),
            _ => answer(&s, seen),
        }
    })
    .await;
    let got = inventory::fetch(&client(&mock.url), &all_kinds(), &NoProgress)
        .await
        .unwrap();
    let seed = seed();
    assert_eq!(got.users.len(), seed.users.len() - 1);
    assert!(got.users.iter().all(|u| u.name != "carol"));
    assert!(got.groups.iter().all(|x| x.name != group));
    assert!(got.roles.iter().all(|x| x.name != role));
    assert!(got.policies.iter().all(|x| x.name != policy));
    assert_eq!(got.groups.len(), seed.groups.len() - 1);
}

#[derive(Default)]
struct Recorder(Mutex<Vec<(String, usize)>>);

impl Progress for Recorder {
    fn fetched(&self, what: &str, n: usize) {
        self.0.lock().unwrap().push((what.to_string(), n));
    }
}

#[tokio::test]
async fn progress_hears_about_every_resource() {
    let s = seed();
    let mock = serve(move |seen, _| answer(&s, seen)).await;
    let rec = Recorder::default();
    inventory::fetch(&client(&mock.url), &all_kinds(), &rec)
        .await
        .unwrap();
    let events = rec.0.lock().unwrap();
    let total = |what: &str| -> usize {
        events
            .iter()
            .filter(|(w, _)| w == what)
            .map(|(_, n)| n)
            .sum()
    };
    assert_eq!(total("users"), 5);
    assert_eq!(total("groups"), 3);
    assert_eq!(total("roles"), 4);
    assert_eq!(total("policies"), 3);
    assert_eq!(total("virtual_mfa_devices"), 3);
    assert_eq!(total("recycle_bin"), 3);
}
