//! Fetching an account's [`Inventory`] over the API.
//!
//! Only what the requested kinds need is fetched; independent lists are fetched
//! concurrently and per-resource details fan out, all within the client's rate limit
//! and in-flight bound. Results are sorted by name so two fetches of the same account
//! compare equal.
//!
//! Recycle bin: IMS lists the users in the bin (`ListUsersInRecycleBin`) and the
//! binned keys of one user ID (`ListAccessKeysInRecycleBin`). There is no call that
//! lists every binned key of the account, so keys are asked for per user ID: every
//! user in the bin and every live user (a live user's deleted keys sit in the bin too).

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use crate::api::wire::{self, AttachedPolicy};
use crate::api::{ApiError, Client};
use crate::model::{
    Account, ApiCall, Inventory, Kind, PasswordPolicy, PolicyRef, RecycleBin, SecurityPreference,
    Service, User, is_service_linked_role_name,
};

/// Receives progress while an inventory is fetched.
pub trait Progress: Send + Sync {
    /// `n` more resources of kind `what` (e.g. `users`) are complete.
    fn fetched(&self, what: &str, n: usize);
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn fetched(&self, _what: &str, _n: usize) {}
}

/// How many per-resource fetches are started at once; the client bounds the calls.
/// They finish in any order (no fetch waits behind a slower one); results are sorted.
const FAN_OUT: usize = 64;

fn call(service: Service, action: &str, params: &[(&str, &str)]) -> ApiCall {
    ApiCall::new(service, action, params.iter().copied())
}

fn no_params(service: Service, action: &str) -> ApiCall {
    call(service, action, &[])
}

/// Treats a not-found answer as "none".
fn absent_if_not_found<T>(r: Result<T, ApiError>) -> Result<Option<T>, ApiError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e),
    }
}

/// A resource listed a moment ago may be gone when its details are read (deleted in the
/// meantime, or listed by a replica that lags behind): it is left out, not an error.
fn unless_vanished<T>(r: Result<T, ApiError>, code: &str) -> Result<Option<T>, ApiError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.code == code => Ok(None),
        Err(e) => Err(e),
    }
}

fn unexpected(action: &str, e: serde_json::Error) -> ApiError {
    ApiError::local(
        crate::api::ErrorKind::Other,
        "UnexpectedResponse",
        format!("{action} answered in an unexpected shape: {e}"),
    )
}

async fn list<T: serde::de::DeserializeOwned>(
    client: &Client,
    c: ApiCall,
    path: &str,
) -> Result<Vec<T>, ApiError> {
    let body = client.call(&c).await?;
    wire::items(&body, path).map_err(|e| unexpected(&c.action, e))
}

fn field<T: serde::de::DeserializeOwned + Default>(
    body: &Value,
    name: &str,
    action: &str,
) -> Result<T, ApiError> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| unexpected(action, e)),
    }
}

fn policy_refs(list: Vec<AttachedPolicy>) -> Vec<PolicyRef> {
    let set: BTreeSet<PolicyRef> = list.iter().filter_map(AttachedPolicy::policy_ref).collect();
    set.into_iter().collect()
}

/// `v10` sorts after `v9`.
fn version_order(id: &str) -> (u64, String) {
    let n = id
        .trim_start_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or(u64::MAX);
    (n, id.to_string())
}

/// Fetches everything `kinds` needs, plus the account ID.
pub async fn fetch(
    client: &Client,
    kinds: &BTreeSet<Kind>,
    progress: &dyn Progress,
) -> Result<Inventory, ApiError> {
    let wants = |k: Kind| kinds.contains(&k);
    let need_user_list = wants(Kind::Users) || wants(Kind::RecycleBin);

    let who = no_params(Service::Sts, "GetCallerIdentity");
    // Every branch streams on its own: nothing waits for an unrelated list to finish.
    let (identity, (users, recycle_bin), groups, roles, policies, others, settings) = tokio::try_join!(
        client.call_as::<wire::CallerIdentity>(&who),
        async {
            if !need_user_list {
                return Ok((Vec::new(), RecycleBin::default()));
            }
            let (list, logon_names) = list_users(client, wants(Kind::Users)).await?;
            // The bin's keys are asked for per user ID: they need the list, not the details.
            let live_ids: Vec<String> = list.iter().map(|u| u.id.clone()).collect();
            tokio::try_join!(
                async {
                    if wants(Kind::Users) {
                        fetch_user_details(client, list, &logon_names, progress).await
                    } else {
                        Ok(list)
                    }
                },
                async {
                    if wants(Kind::RecycleBin) {
                        fetch_recycle_bin(client, &live_ids, progress).await
                    } else {
                        Ok(RecycleBin::default())
                    }
                },
            )
        },
        async {
            if wants(Kind::Groups) {
                fetch_groups(client, progress).await
            } else {
                Ok(Vec::new())
            }
        },
        fetch_roles(
            client,
            wants(Kind::Roles),
            wants(Kind::ServiceLinkedRoles),
            progress
        ),
        async {
            if wants(Kind::Policies) {
                fetch_policies(client, progress).await
            } else {
                Ok(Vec::new())
            }
        },
        fetch_account_level(client, kinds, progress),
        async {
            if wants_account_settings(kinds) {
                fetch_account_settings(client).await.map(Some)
            } else {
                Ok(None)
            }
        },
    )?;
    let AccountLevel {
        alias,
        default_domain,
        saml_providers,
        oidc_providers,
        virtual_mfa_devices,
        applications,
    } = others;
    let mut account = Account {
        id: identity.account_id,
        alias,
        ..Account::default()
    };
    account.default_domain = default_domain.filter(|d| *d != account.initial_domain());
    if let Some(settings) = settings {
        settings.apply_to(&mut account);
    }
    Ok(Inventory {
        account,
        users: if wants(Kind::Users) {
            users
        } else {
            Vec::new()
        },
        groups,
        roles,
        policies,
        saml_providers,
        oidc_providers,
        virtual_mfa_devices,
        applications,
        recycle_bin,
        emulator: None,
    })
}

/// Whether a fetch of `kinds` reads the account settings (password policy, security
/// preferences): with the other account-wide settings, the default domain and the alias.
pub fn wants_account_settings(kinds: &BTreeSet<Kind>) -> bool {
    kinds.contains(&Kind::DefaultDomain) || kinds.contains(&Kind::AccountAlias)
}

/// The account's password policy and security preferences as the API reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSettings {
    pub password_policy: PasswordPolicy,
    pub security_preference: SecurityPreference,
}

impl AccountSettings {
    /// Puts them on `account` the way an inventory holds them: a setting that is
    /// exactly the documented default is left absent (as an unset default domain is),
    /// so a fresh account's inventory and older snapshots compare equal.
    pub fn apply_to(self, account: &mut Account) {
        account.password_policy =
            Some(self.password_policy).filter(|p| *p != PasswordPolicy::default());
        account.security_preference =
            Some(self.security_preference).filter(|p| *p != SecurityPreference::default());
    }
}

/// IMS GetPasswordPolicy and GetSecurityPreference, one call each, concurrently.
pub async fn fetch_account_settings(client: &Client) -> Result<AccountSettings, ApiError> {
    let policy = no_params(Service::Ims, "GetPasswordPolicy");
    let preference = no_params(Service::Ims, "GetSecurityPreference");
    let (policy_body, preference_body) =
        tokio::try_join!(client.call(&policy), client.call(&preference))?;
    let password_policy =
        field::<wire::WirePasswordPolicy>(&policy_body, "PasswordPolicy", &policy.action)?
            .into_model();
    let security_preference = field::<wire::WireSecurityPreference>(
        &preference_body,
        "SecurityPreference",
        &preference.action,
    )?
    .into_model()
    .map_err(|e| {
        ApiError::local(
            crate::api::ErrorKind::Other,
            "UnexpectedResponse",
            format!(
                "{} answered a value ramstate does not know: {e}",
                preference.action
            ),
        )
    })?;
    Ok(AccountSettings {
        password_policy,
        security_preference,
    })
}

/// RAM ListUsers, enriched (when `details`) with what only IMS ListUsers returns:
/// tags, the last console login and the logon name (user name → logon name).
async fn list_users(
    client: &Client,
    details: bool,
) -> Result<(Vec<User>, BTreeMap<String, String>), ApiError> {
    let ram_call = no_params(Service::Ram, "ListUsers");
    // IMS lists only active users unless asked for frozen ones too.
    let ims_call = call(Service::Ims, "ListUsers", &[("Status", "active,freeze")]);
    let ram = client.paginate::<wire::User>(&ram_call, "Users.User");
    let (ram, ims) = if details {
        let ims = client.paginate::<wire::User>(&ims_call, "Users.User");
        tokio::try_join!(ram, ims)?
    } else {
        (ram.await?, Vec::new())
    };
    let mut by_id: BTreeMap<String, wire::User> = BTreeMap::new();
    let mut by_name: BTreeMap<String, wire::User> = BTreeMap::new();
    for u in ims {
        if u.user_id.is_empty() {
            by_name.insert(u.name(), u);
        } else {
            by_id.insert(u.user_id.clone(), u);
        }
    }
    let mut logon_names = BTreeMap::new();
    let mut users: Vec<User> = ram
        .into_iter()
        .map(|u| {
            let extra = by_id
                .remove(&u.user_id)
                .or_else(|| by_name.remove(&u.name()));
            let mut user = u.into_model();
            if let Some(extra) = extra {
                if !extra.user_principal_name.is_empty() {
                    logon_names.insert(user.name.clone(), extra.user_principal_name.clone());
                }
                let extra = extra.into_model();
                if user.tags.is_empty() {
                    user.tags = extra.tags;
                }
                if user.last_login_date.is_none() {
                    user.last_login_date = extra.last_login_date;
                }
            }
            user
        })
        .collect();
    users.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((users, logon_names))
}

async fn fetch_user_details(
    client: &Client,
    users: Vec<User>,
    logon_names: &BTreeMap<String, String>,
    progress: &dyn Progress,
) -> Result<Vec<User>, ApiError> {
    let users: Vec<Option<User>> = futures::stream::iter(users)
        .map(|user| async move {
            let logon_name = logon_names.get(&user.name).map(String::as_str);
            let user = unless_vanished(
                user_details(client, user, logon_name).await,
                "EntityNotExist.User",
            )?;
            progress.fetched("users", 1);
            Ok::<_, ApiError>(user)
        })
        .buffer_unordered(FAN_OUT)
        .try_collect()
        .await?;
    let mut users: Vec<User> = users.into_iter().flatten().collect();
    users.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(users)
}

/// A user's keys (with their last use), login profile, MFA device, groups and policies.
/// The login profile is read from IMS by the user's logon name, when known: only IMS
/// says whether console logon is switched on (`Status`).
async fn user_details(
    client: &Client,
    mut user: User,
    logon_name: Option<&str>,
) -> Result<User, ApiError> {
    let name = user.name.clone();
    let by_name = [("UserName", name.as_str())];
    let (keys, login_profile, mfa, groups, policies) = tokio::try_join!(
        async {
            let keys: Vec<wire::WireAccessKey> = list(
                client,
                call(Service::Ram, "ListAccessKeys", &by_name),
                "AccessKeys.AccessKey",
            )
            .await?;
            futures::future::try_join_all(keys.into_iter().map(|k| async {
                let c = call(
                    Service::Ram,
                    "GetAccessKeyLastUsed",
                    &[("UserName", &name), ("UserAccessKeyId", &k.access_key_id)],
                );
                let last = absent_if_not_found(client.call(&c).await)?
                    .map(|b| field::<wire::AccessKeyLastUsed>(&b, "AccessKeyLastUsed", &c.action))
                    .transpose()?
                    .and_then(|l| l.last_used_date);
                Ok::<_, ApiError>(k.into_model(last))
            }))
            .await
        },
        async {
            let c = match logon_name {
                Some(upn) => call(
                    Service::Ims,
                    "GetLoginProfile",
                    &[("UserPrincipalName", upn)],
                ),
                None => call(Service::Ram, "GetLoginProfile", &by_name),
            };
            match client.call(&c).await {
                Ok(body) => Ok(Some(
                    field::<wire::WireLoginProfile>(&body, "LoginProfile", &c.action)?.into_model(),
                )),
                Err(e) if e.code == "EntityNotExist.User.LoginProfile" => Ok(None),
                Err(e) => Err(e),
            }
        },
        async {
            let c = call(Service::Ram, "GetUserMFAInfo", &by_name);
            match client.call(&c).await {
                Ok(body) => Ok(Some(
                    field::<wire::MfaDevice>(&body, "MFADevice", &c.action)?.serial_number,
                )
                .filter(|s| !s.is_empty())),
                // `EntityNotExist.User.MFADevice` (or a bare not-found): no device bound.
                Err(e) if e.is_not_found() && e.code != "EntityNotExist.User" => Ok(None),
                Err(e) => Err(e),
            }
        },
        list::<wire::Group>(
            client,
            call(Service::Ram, "ListGroupsForUser", &by_name),
            "Groups.Group"
        ),
        list::<AttachedPolicy>(
            client,
            call(Service::Ram, "ListPoliciesForUser", &by_name),
            "Policies.Policy"
        ),
    )?;
    let mut keys = keys;
    keys.sort_by(|a, b| a.id.cmp(&b.id));
    user.access_keys = keys;
    user.login_profile = login_profile;
    user.mfa_device = mfa;
    let groups: BTreeSet<String> = groups.into_iter().map(|g| g.group_name).collect();
    user.groups = groups.into_iter().collect();
    user.policies = policy_refs(policies);
    Ok(user)
}

async fn fetch_groups(
    client: &Client,
    progress: &dyn Progress,
) -> Result<Vec<crate::model::Group>, ApiError> {
    let groups = client
        .paginate::<wire::Group>(&no_params(Service::Ram, "ListGroups"), "Groups.Group")
        .await?;
    let groups: Vec<Option<_>> = futures::stream::iter(groups)
        .map(|g| async move {
            let policies = list::<AttachedPolicy>(
                client,
                call(
                    Service::Ram,
                    "ListPoliciesForGroup",
                    &[("GroupName", &g.group_name)],
                ),
                "Policies.Policy",
            )
            .await;
            let Some(policies) = unless_vanished(policies, "EntityNotExist.Group")? else {
                return Ok(None);
            };
            let mut group = g.into_model();
            group.policies = policy_refs(policies);
            progress.fetched("groups", 1);
            Ok::<_, ApiError>(Some(group))
        })
        .buffer_unordered(FAN_OUT)
        .try_collect()
        .await?;
    let mut groups: Vec<_> = groups.into_iter().flatten().collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(groups)
}

async fn fetch_roles(
    client: &Client,
    ordinary: bool,
    service_linked: bool,
    progress: &dyn Progress,
) -> Result<Vec<crate::model::Role>, ApiError> {
    if !ordinary && !service_linked {
        return Ok(Vec::new());
    }
    let roles = client
        .paginate::<wire::Role>(&no_params(Service::Ram, "ListRoles"), "Roles.Role")
        .await?;
    let roles: Vec<Option<_>> = futures::stream::iter(roles.into_iter().filter(|r| {
        if is_service_linked_role_name(&r.role_name) {
            service_linked
        } else {
            ordinary
        }
    }))
    .map(|r| async move {
        let by_name = [("RoleName", r.role_name.as_str())];
        let get_role = call(Service::Ram, "GetRole", &by_name);
        let both = tokio::try_join!(
            client.call(&get_role),
            list::<AttachedPolicy>(
                client,
                call(Service::Ram, "ListPoliciesForRole", &by_name),
                "Policies.Policy"
            ),
        );
        let Some((detail, policies)) = unless_vanished(both, "EntityNotExist.Role")? else {
            return Ok(None);
        };
        let detail: wire::Role = field(&detail, "Role", "GetRole")?;
        let mut role = r.into_model();
        if role.assume_role_policy_document.is_none() {
            role.assume_role_policy_document =
                detail.assume_role_policy_document.filter(|d| !d.is_empty());
        }
        if role.description.is_none() {
            role.description = detail.description.filter(|d| !d.is_empty());
        }
        role.policies = policy_refs(policies);
        progress.fetched("roles", 1);
        Ok::<_, ApiError>(Some(role))
    })
    .buffer_unordered(FAN_OUT)
    .try_collect::<Vec<_>>()
    .await?;
    let mut roles: Vec<_> = roles.into_iter().flatten().collect();
    roles.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(roles)
}

async fn fetch_policies(
    client: &Client,
    progress: &dyn Progress,
) -> Result<Vec<crate::model::Policy>, ApiError> {
    let policies = client
        .paginate::<wire::Policy>(
            &call(Service::Ram, "ListPolicies", &[("PolicyType", "Custom")]),
            "Policies.Policy",
        )
        .await?;
    let policies: Vec<Option<_>> = futures::stream::iter(
        policies
            .into_iter()
            .filter(|p| p.policy_type.is_empty() || p.policy_type.eq_ignore_ascii_case("custom")),
    )
    .map(|p| async move {
        let versions: Result<Vec<wire::WirePolicyVersion>, _> = list(
            client,
            call(
                Service::Ram,
                "ListPolicyVersions",
                &[("PolicyName", &p.policy_name), ("PolicyType", "Custom")],
            ),
            "PolicyVersions.PolicyVersion",
        )
        .await;
        let Some(versions) = unless_vanished(versions, "EntityNotExist.Policy")? else {
            return Ok(None);
        };
        let mut versions: Vec<_> = versions.into_iter().map(|v| v.into_model()).collect();
        versions.sort_by_key(|v| version_order(&v.id));
        progress.fetched("policies", 1);
        Ok::<_, ApiError>(Some(p.into_model(versions)))
    })
    .buffer_unordered(FAN_OUT)
    .try_collect::<Vec<_>>()
    .await?;
    let mut policies: Vec<_> = policies.into_iter().flatten().collect();
    policies.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(policies)
}

#[derive(Default)]
struct AccountLevel {
    alias: Option<String>,
    default_domain: Option<String>,
    saml_providers: Vec<crate::model::SamlProvider>,
    oidc_providers: Vec<crate::model::OidcProvider>,
    virtual_mfa_devices: Vec<crate::model::VirtualMfaDevice>,
    applications: Vec<crate::model::Application>,
}

async fn fetch_account_level(
    client: &Client,
    kinds: &BTreeSet<Kind>,
    progress: &dyn Progress,
) -> Result<AccountLevel, ApiError> {
    let wants = |k: Kind| kinds.contains(&k);
    let (alias, default_domain, saml_providers, oidc_providers, virtual_mfa_devices, applications) =
        tokio::try_join!(
            async {
                if !wants(Kind::AccountAlias) {
                    return Ok(None);
                }
                let body = client
                    .call(&no_params(Service::Ram, "GetAccountAlias"))
                    .await?;
                let alias: String = field(&body, "AccountAlias", "GetAccountAlias")?;
                Ok::<_, ApiError>(Some(alias).filter(|a| !a.is_empty()))
            },
            async {
                if !wants(Kind::DefaultDomain) {
                    return Ok(None);
                }
                let body = client
                    .call(&no_params(Service::Ims, "GetDefaultDomain"))
                    .await?;
                let domain: String = field(&body, "DefaultDomainName", "GetDefaultDomain")?;
                Ok::<_, ApiError>(Some(domain).filter(|d| !d.is_empty()))
            },
            async {
                if !wants(Kind::SamlProviders) {
                    return Ok(Vec::new());
                }
                let list = client
                    .paginate::<wire::WireSamlProvider>(
                        &no_params(Service::Ims, "ListSAMLProviders"),
                        "SAMLProviders.SAMLProvider",
                    )
                    .await?;
                let mut out: Vec<_> = futures::stream::iter(list)
                    .map(|p| async move {
                        // Only GetSAMLProvider returns the metadata document.
                        let c = call(
                            Service::Ims,
                            "GetSAMLProvider",
                            &[("SAMLProviderName", &p.name)],
                        );
                        let detail = absent_if_not_found(client.call(&c).await)?
                            .map(|b| field::<wire::WireSamlProvider>(&b, "SAMLProvider", &c.action))
                            .transpose()?;
                        let mut provider = p.into_model();
                        if let Some(d) = detail {
                            provider.metadata = d.metadata.filter(|m| !m.is_empty());
                            if provider.description.is_none() {
                                provider.description = d.description.filter(|m| !m.is_empty());
                            }
                        }
                        Ok::<_, ApiError>(provider)
                    })
                    .buffer_unordered(FAN_OUT)
                    .try_collect()
                    .await?;
                out.sort_by(|a, b| a.name.cmp(&b.name));
                progress.fetched("saml_providers", out.len());
                Ok::<_, ApiError>(out)
            },
            async {
                if !wants(Kind::OidcProviders) {
                    return Ok(Vec::new());
                }
                let mut out: Vec<_> = client
                    .paginate::<wire::WireOidcProvider>(
                        &no_params(Service::Ims, "ListOIDCProviders"),
                        "OIDCProviders.OIDCProvider",
                    )
                    .await?
                    .into_iter()
                    .map(wire::WireOidcProvider::into_model)
                    .collect();
                out.sort_by(|a, b| a.name.cmp(&b.name));
                progress.fetched("oidc_providers", out.len());
                Ok::<_, ApiError>(out)
            },
            async {
                if !wants(Kind::VirtualMfaDevices) {
                    return Ok(Vec::new());
                }
                let mut out: Vec<_> = client
                    .paginate::<wire::WireVirtualMfaDevice>(
                        &no_params(Service::Ims, "ListVirtualMFADevices"),
                        "VirtualMFADevices.VirtualMFADevice",
                    )
                    .await?
                    .into_iter()
                    .map(wire::WireVirtualMfaDevice::into_model)
                    .collect();
                out.sort_by(|a, b| a.serial_number.cmp(&b.serial_number));
                progress.fetched("virtual_mfa_devices", out.len());
                Ok::<_, ApiError>(out)
            },
            async {
                if !wants(Kind::Applications) {
                    return Ok(Vec::new());
                }
                let mut out: Vec<_> = list::<wire::WireApplication>(
                    client,
                    no_params(Service::Ims, "ListApplications"),
                    "Applications.Application",
                )
                .await?
                .into_iter()
                .map(wire::WireApplication::into_model)
                .collect();
                out.sort_by(|a, b| (&a.app_name, &a.app_id).cmp(&(&b.app_name, &b.app_id)));
                progress.fetched("applications", out.len());
                Ok::<_, ApiError>(out)
            },
        )?;
    Ok(AccountLevel {
        alias,
        default_domain,
        saml_providers,
        oidc_providers,
        virtual_mfa_devices,
        applications,
    })
}

async fn fetch_recycle_bin(
    client: &Client,
    live_user_ids: &[String],
    progress: &dyn Progress,
) -> Result<RecycleBin, ApiError> {
    let mut users: Vec<_> = client
        .paginate::<wire::WireRecycledUser>(
            &no_params(Service::Ims, "ListUsersInRecycleBin"),
            "Users.User",
        )
        .await?
        .into_iter()
        .map(wire::WireRecycledUser::into_model)
        .collect();
    users.sort_by(|a, b| (&a.principal_name, &a.id).cmp(&(&b.principal_name, &b.id)));
    let user_ids: BTreeSet<String> = users
        .iter()
        .map(|u| u.id.clone())
        .chain(live_user_ids.iter().cloned())
        .filter(|id| !id.is_empty())
        .collect();
    let key_lists: Vec<Vec<crate::model::RecycledAccessKey>> = futures::stream::iter(user_ids)
        .map(|id| async move {
            let c = call(
                Service::Ims,
                "ListAccessKeysInRecycleBin",
                &[("UserId", &id)],
            );
            let keys = absent_if_not_found(
                list::<wire::WireRecycledKey>(client, c, "AccessKeys.AccessKey").await,
            )?
            .unwrap_or_default();
            Ok::<_, ApiError>(keys.into_iter().map(|k| k.into_model(&id)).collect())
        })
        .buffer_unordered(FAN_OUT)
        .try_collect()
        .await?;
    let mut access_keys: Vec<_> = key_lists.into_iter().flatten().collect();
    access_keys.sort_by(|a, b| (&a.user_id, &a.id).cmp(&(&b.user_id, &b.id)));
    progress.fetched("recycle_bin", users.len() + access_keys.len());
    Ok(RecycleBin { users, access_keys })
}

/// The names of the account's system policies (what `System/NAME` attachments may name).
pub async fn system_policy_names(client: &Client) -> Result<BTreeSet<String>, ApiError> {
    let policies = client
        .paginate::<wire::Policy>(
            &call(Service::Ram, "ListPolicies", &[("PolicyType", "System")]),
            "Policies.Policy",
        )
        .await?;
    Ok(policies.into_iter().map(|p| p.policy_name).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_versions_sort_numerically() {
        let mut ids = vec!["v10", "v2", "v1"];
        ids.sort_by_key(|v| version_order(v));
        assert_eq!(ids, ["v1", "v2", "v10"]);
    }

    #[test]
    fn attached_policies_become_sorted_unique_refs() {
        let list = vec![
            AttachedPolicy {
                policy_name: "b".into(),
                policy_type: "Custom".into(),
            },
            AttachedPolicy {
                policy_name: "ReadOnlyAccess".into(),
                policy_type: "System".into(),
            },
            AttachedPolicy {
                policy_name: "b".into(),
                policy_type: "Custom".into(),
            },
        ];
        assert_eq!(
            policy_refs(list),
            [PolicyRef::system("ReadOnlyAccess"), PolicyRef::custom("b")]
        );
    }
}
