//! IMS 2019-08-15: users by logon name, identity providers, virtual MFA devices,
//! OAuth applications, the default domain, the account summary and the recycle bin.
//! Operations IMS shares with RAM are answered by the RAM code after the logon name
//! is turned into a user name.

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::error::{ErrorResponse, Params, check_length, check_name, user_name_char};
use super::ram;
use super::state::{
    AppRec, Identity, OidcRec, SamlRec, State, UserRec, list_json, page_json, paginate, quota,
    tags_json, timestamp, user_not_found,
};
use ramstate_model::{
    Application, DEFAULT_DOMAIN_SUFFIX, LoginProfile, OidcProvider, SamlProvider, Service, Tags,
};

type R = Result<Value, ErrorResponse>;

/// Runs one IMS action; `None` when IMS has no such action.
pub fn handle(
    st: &mut State,
    who: &Identity,
    action: &str,
    p: &Params,
    now: OffsetDateTime,
) -> Option<R> {
    let t = timestamp(now);
    Some(match action {
        "CreateUser" => create_user(st, p, &t),
        "GetUser" => get_user(st, p),
        "ListUsers" => list_users(st, p),
        "ListUserBasicInfos" => list_user_basic_infos(st, p),
        "DeleteUser" => user_of(st, p).and_then(|u| {
            ram::remove_user(st, &u, now)?;
            Ok(json!({}))
        }),
        "CreateSAMLProvider" => create_saml(st, p, &t),
        "GetSAMLProvider" => get_saml(st, p),
        "UpdateSAMLProvider" => update_saml(st, p, &t),
        "DeleteSAMLProvider" => delete_saml(st, p),
        "ListSAMLProviders" => list_saml(st, p),
        "CreateOIDCProvider" => create_oidc(st, p, now),
        "GetOIDCProvider" => get_oidc(st, p),
        "UpdateOIDCProvider" => update_oidc(st, p, now),
        "DeleteOIDCProvider" => delete_oidc(st, p),
        "ListOIDCProviders" => list_oidc(st, p),
        "CreateVirtualMFADevice" => ram::create_mfa_device(st, p, "VirtualMFADeviceName"),
        "ListVirtualMFADevices" => ram::list_mfa_devices(st, true, p).map(|(v, _)| v),
        "DeleteVirtualMFADevice" => ram::delete_mfa_device(st, p),
        "BindMFADevice" => upn_user(st, p).and_then(|u| ram::bind_mfa_device(st, &u, p, now)),
        "UnbindMFADevice" => upn_user(st, p).and_then(|u| ram::unbind_mfa_device(st, &u)),
        "GetUserMFAInfo" => upn_user(st, p).and_then(|u| {
            let mut v = ram::get_user_mfa_info(st, &u);
            if let Ok(v) = &mut v {
                v["IsMFAEnable"] = json!(true);
            }
            v
        }),
        "GetAccountMFAInfo" => Ok(json!({"IsMFAEnable": false})),
        "CreateApplication" => create_app(st, p, &t),
        "GetApplication" => get_app(st, p),
        "UpdateApplication" => update_app(st, p, &t),
        "DeleteApplication" => delete_app(st, p),
        "ListApplications" => Ok(list_json(
            "Applications",
            "Application",
            st.apps.values().map(|a| app_json(st, a)).collect(),
        )),
        "GetDefaultDomain" => Ok(json!({"DefaultDomainName": st.account.domain()})),
        "SetDefaultDomain" => set_default_domain(st, p),
        "GetAccountSummary" => Ok(account_summary(st)),
        "ListUsersInRecycleBin" => list_bin_users(st, p),
        "GetUserInRecycleBin" => get_bin_user(st, p),
        "RestoreUserFromRecycleBin" => restore_bin_user(st, p, &t),
        "DeleteUserInRecycleBin" => delete_bin_user(st, p),
        "ListAccessKeysInRecycleBin" => list_bin_keys(st, p),
        "GetAccessKeyInfoInRecycleBin" => get_bin_key(st, p),
        "RestoreAccessKeyFromRecycleBin" => restore_bin_key(st, p),
        "DeleteAccessKeyInRecycleBin" => delete_bin_key(st, p),
        // Shared with RAM: same semantics, users named by logon name.
        "CreateAccessKey"
        | "ListAccessKeys"
        | "UpdateAccessKey"
        | "DeleteAccessKey"
        | "GetAccessKeyLastUsed"
        | "CreateLoginProfile"
        | "GetLoginProfile"
        | "UpdateLoginProfile"
        | "DeleteLoginProfile"
        | "CreateGroup"
        | "GetGroup"
        | "UpdateGroup"
        | "DeleteGroup"
        | "ListGroups"
        | "ListUsersForGroup"
        | "ListGroupsForUser"
        | "AddUserToGroup"
        | "RemoveUserFromGroup" => {
            let mut map = p.map.clone();
            if let Some(upn) = map.remove("UserPrincipalName").filter(|s| !s.is_empty()) {
                match st.user_by_principal(&upn) {
                    Ok(u) => {
                        map.insert("UserName".into(), u.user.name.clone());
                    }
                    Err(e) => return Some(Err(e)),
                }
            }
            let user = map.get("UserName").cloned().unwrap_or_default();
            let translated = Params::new(Service::Ims, map);
            let mut out = ram::handle(st, who, action, &translated, now)?;
            if let Ok(v) = &mut out
                && matches!(
                    action,
                    "CreateLoginProfile" | "GetLoginProfile" | "UpdateLoginProfile"
                )
                && let Some(lp) = st
                    .users
                    .get(&user)
                    .and_then(|u| u.user.login_profile.as_ref())
            {
                v["LoginProfile"] = ims_profile_json(st, &user, lp);
            }
            if let Ok(v) = &mut out
                && action == "ListUsersForGroup"
                && let Some(users) = v["Users"]["User"].as_array_mut()
            {
                for u in users {
                    let name = u["UserName"].as_str().unwrap_or_default().to_string();
                    if let Some(rec) = st.users.get(&name) {
                        u["UserId"] = json!(rec.user.id);
                    }
                    u["UserPrincipalName"] = json!(st.principal_name(&name));
                    u.as_object_mut().map(|o| o.remove("UserName"));
                }
            }
            out
        }
        _ => {
            return super::settings::handle(st, action, p)
                .or_else(|| super::tags::handle_ims(st, action, p));
        }
    })
}

/// IMS names the user by logon name and reports whether console logon is on.
fn ims_profile_json(st: &State, user: &str, lp: &LoginProfile) -> Value {
    json!({
        "UserPrincipalName": st.principal_name(user),
        "Status": lp.status.as_str(),
        "PasswordResetRequired": lp.password_reset_required,
        "MFABindRequired": lp.mfa_bind_required,
    })
}

fn upn_user(st: &State, p: &Params) -> Result<String, ErrorResponse> {
    let upn = p.required("UserPrincipalName")?;
    Ok(st.user_by_principal(upn)?.user.name.clone())
}

/// The user named by `UserPrincipalName` or `UserId`.
fn user_of(st: &State, p: &Params) -> Result<String, ErrorResponse> {
    if let Some(upn) = p.get("UserPrincipalName") {
        return Ok(st.user_by_principal(upn)?.user.name.clone());
    }
    if let Some(id) = p.get("UserId") {
        return Ok(st.user_by_id(id)?.user.name.clone());
    }
    Err(ErrorResponse::missing(Service::Ims, "UserPrincipalName"))
}

fn ims_user_json(st: &State, u: &UserRec) -> Value {
    let x = &u.user;
    let mut v = json!({
        "UserId": x.id,
        "UserPrincipalName": st.principal_name(&x.name),
        "UserName": x.name,
        "DisplayName": x.display_name.clone().unwrap_or_default(),
        "Email": x.email.clone().unwrap_or_default(),
        "MobilePhone": x.mobile_phone.clone().unwrap_or_default(),
        "Comments": x.comments.clone().unwrap_or_default(),
        "CreateDate": x.create_date.clone().unwrap_or_default(),
        "UpdateDate": u.update_date,
        "ProvisionType": "Manual",
        "Tags": tags_json(&x.tags),
    });
    if let Some(d) = &x.last_login_date {
        v["LastLoginDate"] = json!(d);
    }
    v
}

fn ims_tags(p: &Params) -> Result<Tags, ErrorResponse> {
    ram::read_tags(p)
}

fn create_user(st: &mut State, p: &Params, t: &str) -> R {
    let upn = p.required("UserPrincipalName")?;
    let display = p.required("DisplayName")?;
    let (name, domain) = upn.split_once('@').ok_or_else(|| {
        ErrorResponse::invalid(
            "UserPrincipalName",
            Some("Format"),
            "The UserPrincipalName must be <name>@<domain>.",
        )
    })?;
    if !domain.eq_ignore_ascii_case(&st.account.domain())
        && !domain.eq_ignore_ascii_case(&st.account.initial_domain())
    {
        return Err(ErrorResponse::invalid(
            "UserPrincipalName",
            Some("Domain"),
            format!("The domain {domain} does not belong to this account."),
        ));
    }
    check_name("UserPrincipalName", name, 64, user_name_char)?;
    check_length("DisplayName", Some(display), 24)?;
    check_length("Comments", p.get("Comments"), 128)?;
    let tags = ims_tags(p)?;
    ram::new_user(st, ram::user_proto(name, p, tags), t)?;
    let mut v = ims_user_json(st, &st.users[name]);
    // CreateUser answers without the short name.
    v.as_object_mut().map(|o| o.remove("UserName"));
    Ok(json!({"User": v}))
}

fn get_user(st: &State, p: &Params) -> R {
    let rec = if let Some(upn) = p.get("UserPrincipalName") {
        st.user_by_principal(upn)?
    } else if let Some(id) = p.get("UserId") {
        st.user_by_id(id)?
    } else if let Some(k) = p.get("UserAccessKeyId") {
        st.key_owner(k)
            .map(|(u, _)| u)
            .ok_or_else(|| user_not_found(k))?
    } else {
        return Err(ErrorResponse::missing(Service::Ims, "UserPrincipalName"));
    };
    Ok(json!({"User": ims_user_json(st, rec)}))
}

fn list_users(st: &State, p: &Params) -> R {
    let filter = ims_tags(p)?;
    let items = st
        .users
        .iter()
        .filter(|(_, u)| filter.iter().all(|(k, v)| u.user.tags.get(k) == Some(v)))
        .map(|(k, u)| (k.clone(), u))
        .collect();
    let (page, marker) = paginate(items, p, 1000, 1000)?;
    let page = page
        .into_iter()
        .map(|u| {
            let mut v = ims_user_json(st, u);
            if let Some(o) = v.as_object_mut() {
                // ListUsers has no short name but does report the user's status.
                o.remove("UserName");
                o.insert("Status".into(), json!("active"));
            }
            v
        })
        .collect();
    Ok(page_json("Users", "User", page, marker))
}

fn list_user_basic_infos(st: &State, p: &Params) -> R {
    let items = st
        .users
        .iter()
        .map(|(k, u)| {
            (
                k.clone(),
                json!({
                    "UserId": u.user.id,
                    "UserPrincipalName": st.principal_name(k),
                    "DisplayName": u.user.display_name.clone().unwrap_or_default(),
                    "Status": "active",
                }),
            )
        })
        .collect();
    let (page, marker) = paginate(items, p, 1000, 100)?;
    Ok(page_json("UserBasicInfos", "UserBasicInfo", page, marker))
}

// ---------------------------------------------------------------- SAML

fn provider_name_ok(param: &str, name: &str) -> Result<(), ErrorResponse> {
    check_name(param, name, 128, user_name_char)?;
    let edge = |c: Option<char>| c.is_some_and(|c| matches!(c, '.' | '-' | '_'));
    if edge(name.chars().next()) || edge(name.chars().last()) {
        return Err(ErrorResponse::invalid(
            param,
            Some("InvalidChars"),
            format!("The {param} may not start or end with `.`, `-` or `_`."),
        ));
    }
    Ok(())
}

fn saml_json(st: &State, s: &SamlRec, metadata: bool) -> Value {
    let mut v = json!({
        "SAMLProviderName": s.provider.name,
        "Arn": format!("acs:ram::{}:saml-provider/{}", st.account.id, s.provider.name),
        "Description": s.provider.description.clone().unwrap_or_default(),
        "AuthnSignAlgo": s.authn_sign_algo,
        "CreateDate": s.provider.create_date.clone().unwrap_or_default(),
        "UpdateDate": s.update_date,
    });
    if metadata {
        v["EncodedSAMLMetadataDocument"] = json!(s.provider.metadata.clone().unwrap_or_default());
    }
    v
}

fn saml_not_found(name: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.SAMLProvider",
        format!("The SAML provider does not exist: {name}."),
    )
}

fn sign_algo(p: &Params) -> Result<Option<String>, ErrorResponse> {
    match p.get("AuthnSignAlgo") {
        None => Ok(None),
        Some(a @ ("rsa-sha1" | "rsa-sha256")) => Ok(Some(a.to_string())),
        Some(_) => Err(ErrorResponse::invalid(
            "AuthnSignAlgo",
            None,
            "The AuthnSignAlgo must be rsa-sha1 or rsa-sha256.",
        )),
    }
}

fn check_metadata(param: &str, m: Option<&str>) -> Result<(), ErrorResponse> {
    use base64::Engine;
    if let Some(m) = m
        && base64::engine::general_purpose::STANDARD.decode(m).is_err()
    {
        return Err(ErrorResponse::invalid(
            param,
            Some("Format"),
            format!("The {param} must be Base64."),
        ));
    }
    Ok(())
}

fn create_saml(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("SAMLProviderName")?;
    provider_name_ok("SAMLProviderName", name)?;
    check_length("Description", p.get("Description"), 256)?;
    check_metadata(
        "EncodedSAMLMetadataDocument",
        p.get("EncodedSAMLMetadataDocument"),
    )?;
    let algo = sign_algo(p)?.unwrap_or_else(|| "rsa-sha1".into());
    if st.saml.contains_key(name) {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.SAMLProvider",
            format!("The SAML provider already exists: {name}."),
        ));
    }
    let rec = SamlRec {
        provider: SamlProvider {
            name: name.to_string(),
            description: p.get("Description").map(str::to_string),
            metadata: p.get("EncodedSAMLMetadataDocument").map(str::to_string),
            create_date: Some(t.to_string()),
        },
        authn_sign_algo: algo,
        update_date: t.to_string(),
    };
    let v = saml_json(st, &rec, false);
    st.saml.insert(name.to_string(), rec);
    Ok(json!({"SAMLProvider": v}))
}

fn get_saml(st: &State, p: &Params) -> R {
    let name = p.required("SAMLProviderName")?;
    let s = st.saml.get(name).ok_or_else(|| saml_not_found(name))?;
    Ok(json!({"SAMLProvider": saml_json(st, s, true)}))
}

fn update_saml(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("SAMLProviderName")?;
    check_length("NewDescription", p.get("NewDescription"), 256)?;
    check_metadata(
        "NewEncodedSAMLMetadataDocument",
        p.get("NewEncodedSAMLMetadataDocument"),
    )?;
    let algo = sign_algo(p)?;
    let s = st.saml.get_mut(name).ok_or_else(|| saml_not_found(name))?;
    if let Some(d) = p.get("NewDescription") {
        s.provider.description = Some(d.to_string());
    }
    if let Some(m) = p.get("NewEncodedSAMLMetadataDocument") {
        s.provider.metadata = Some(m.to_string());
    }
    if let Some(a) = algo {
        s.authn_sign_algo = a;
    }
    s.update_date = t.to_string();
    Ok(json!({"SAMLProvider": saml_json(st, &st.saml[name], false)}))
}

fn delete_saml(st: &mut State, p: &Params) -> R {
    let name = p.required("SAMLProviderName")?;
    st.saml.remove(name).ok_or_else(|| saml_not_found(name))?;
    Ok(json!({}))
}

fn list_saml(st: &State, p: &Params) -> R {
    let items = st
        .saml
        .iter()
        .map(|(k, s)| {
            let mut v = saml_json(st, s, false);
            // The list does not report the signing algorithm.
            v.as_object_mut().map(|o| o.remove("AuthnSignAlgo"));
            (k.clone(), v)
        })
        .collect();
    let (page, marker) = paginate(items, p, 100, 100)?;
    Ok(page_json("SAMLProviders", "SAMLProvider", page, marker))
}

// ---------------------------------------------------------------- OIDC

fn oidc_not_found(name: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.OIDCProvider",
        format!("The OIDC provider does not exist: {name}."),
    )
}

fn millis(date: &str) -> String {
    OffsetDateTime::parse(date, &time::format_description::well_known::Rfc3339)
        .map(|t| (t.unix_timestamp() * 1000).to_string())
        .unwrap_or_default()
}

pub fn oidc_json(st: &State, o: &OidcRec) -> Value {
    let created = o.provider.create_date.clone().unwrap_or_default();
    json!({
        "OIDCProviderName": o.provider.name,
        "Arn": format!("acs:ram::{}:oidc-provider/{}", st.account.id, o.provider.name),
        "IssuerUrl": o.provider.issuer_url,
        "ClientIds": o.provider.client_ids.join(","),
        "Fingerprints": o.provider.fingerprints.join(","),
        "Description": o.provider.description.clone().unwrap_or_default(),
        "IssuanceLimitTime": o.issuance_limit_time,
        "CreateDate": created,
        "UpdateDate": o.update_date,
        "GmtCreate": millis(&created),
        "GmtModified": millis(&o.update_date),
    })
}

fn split_list(
    param: &str,
    v: Option<&str>,
    max: usize,
    max_len: usize,
) -> Result<Vec<String>, ErrorResponse> {
    let list: Vec<String> = v
        .unwrap_or_default()
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if list.len() > max || list.iter().any(|s| s.len() > max_len) {
        return Err(ErrorResponse::invalid(
            param,
            None,
            format!("The {param} may hold at most {max} entries of at most {max_len} characters."),
        ));
    }
    Ok(list)
}

fn create_oidc(st: &mut State, p: &Params, now: OffsetDateTime) -> R {
    let name = p.required("OIDCProviderName")?;
    provider_name_ok("OIDCProviderName", name)?;
    let issuer = p.required("IssuerUrl")?;
    if !issuer.starts_with("https://")
        || issuer.len() > 255
        || issuer.contains('?')
        || issuer.contains('#')
        || issuer["https://".len()..].contains('@')
    {
        return Err(ErrorResponse::invalid(
            "IssuerUrl",
            None,
            "The IssuerUrl must be an https URL without query, fragment or user.",
        ));
    }
    let clients = split_list("ClientIds", p.get("ClientIds"), 50, 128)?;
    let prints = split_list("Fingerprints", p.get("Fingerprints"), 5, 128)?;
    check_length("Description", p.get("Description"), 256)?;
    let limit = p.int("IssuanceLimitTime", 1, 168)?.unwrap_or(12);
    if st.oidc.contains_key(name) {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.OIDCProvider",
            format!("The OIDC provider already exists: {name}."),
        ));
    }
    if st.oidc.values().any(|o| o.provider.issuer_url == issuer) {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.OIDCProvider.IssuerUrl",
            format!("Another OIDC provider already uses the issuer {issuer}."),
        ));
    }
    if st.oidc.len() >= quota::OIDC_PROVIDERS {
        return Err(ErrorResponse::conflict(
            "LimitExceeded.OIDCProvider",
            "The count of OIDC providers beyond the current limits: 100.",
        ));
    }
    let t = timestamp(now);
    let rec = OidcRec {
        provider: OidcProvider {
            name: name.to_string(),
            issuer_url: issuer.to_string(),
            client_ids: clients,
            fingerprints: prints,
            description: p.get("Description").map(str::to_string),
            create_date: Some(t.clone()),
        },
        issuance_limit_time: limit,
        update_date: t,
    };
    let v = oidc_json(st, &rec);
    st.oidc.insert(name.to_string(), rec);
    Ok(json!({"OIDCProvider": v}))
}

fn get_oidc(st: &State, p: &Params) -> R {
    let name = p.required("OIDCProviderName")?;
    let o = st.oidc.get(name).ok_or_else(|| oidc_not_found(name))?;
    Ok(json!({"OIDCProvider": oidc_json(st, o)}))
}

fn update_oidc(st: &mut State, p: &Params, now: OffsetDateTime) -> R {
    let name = p.required("OIDCProviderName")?;
    let clients = match p.get("ClientIds") {
        Some(c) => Some(split_list("ClientIds", Some(c), 50, 128)?),
        None => None,
    };
    let limit = p.int("IssuanceLimitTime", 1, 168)?;
    check_length("NewDescription", p.get("NewDescription"), 256)?;
    let o = st.oidc.get_mut(name).ok_or_else(|| oidc_not_found(name))?;
    if let Some(c) = clients {
        o.provider.client_ids = c;
    }
    if let Some(l) = limit {
        o.issuance_limit_time = l;
    }
    if let Some(d) = p.get("NewDescription") {
        o.provider.description = Some(d.to_string());
    }
    o.update_date = timestamp(now);
    Ok(json!({"OIDCProvider": oidc_json(st, &st.oidc[name])}))
}

fn delete_oidc(st: &mut State, p: &Params) -> R {
    let name = p.required("OIDCProviderName")?;
    st.oidc.remove(name).ok_or_else(|| oidc_not_found(name))?;
    Ok(json!({}))
}

fn list_oidc(st: &State, p: &Params) -> R {
    let items = st
        .oidc
        .iter()
        .map(|(k, o)| (k.clone(), oidc_json(st, o)))
        .collect();
    let (page, marker) = paginate(items, p, 100, 100)?;
    Ok(page_json("OIDCProviders", "OIDCProvider", page, marker))
}

// ---------------------------------------------------------------- applications

fn app_not_found(id: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.Application",
        format!("The application does not exist: {id}."),
    )
}

fn app_json(st: &State, a: &AppRec) -> Value {
    json!({
        "AppId": a.app.app_id,
        "AppName": a.app.app_name,
        "DisplayName": a.app.display_name.clone().unwrap_or_default(),
        "AppType": a.app.app_type.clone().unwrap_or_default(),
        "AccountId": st.account.id,
        "AccessTokenValidity": a.access_token_validity,
        "RefreshTokenValidity": a.refresh_token_validity,
        "SecretRequired": a.secret_required,
        "IsMultiTenant": a.is_multi_tenant,
        "ProtocolVersion": a.protocol_version,
        "RedirectUris": {"RedirectUri": a.redirect_uris},
        "DelegatedScope": {"PredefinedScopes": {"PredefinedScope": a.predefined_scopes.iter().map(|s| json!({
            "Name": s, "Description": "", "Required": a.required_scopes.contains(s)
        })).collect::<Vec<_>>()}},
        "CreateDate": a.app.create_date.clone().unwrap_or_default(),
        "UpdateDate": a.update_date,
    })
}

fn semi(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default()
        .split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn create_app(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("AppName")?;
    check_name("AppName", name, 64, user_name_char)?;
    let display = p.required("DisplayName")?;
    check_length("DisplayName", Some(display), 24)?;
    let app_type = p.required("AppType")?;
    if !matches!(app_type, "WebApp" | "NativeApp" | "ServerApp") {
        return Err(ErrorResponse::invalid(
            "AppType",
            None,
            "The AppType must be WebApp, NativeApp or ServerApp.",
        ));
    }
    let web = app_type == "WebApp";
    let access = p.int("AccessTokenValidity", 900, 10800)?.unwrap_or(3600);
    let refresh = p
        .int("RefreshTokenValidity", 7200, 31_536_000)?
        .unwrap_or(if web { 7_776_000 } else { 2_592_000 });
    let protocol = p.get("ProtocolVersion").unwrap_or("2.0");
    if !matches!(protocol, "2.0" | "2.1") {
        return Err(ErrorResponse::invalid(
            "ProtocolVersion",
            None,
            "The ProtocolVersion must be 2.0 or 2.1.",
        ));
    }
    let secret_required = if app_type == "NativeApp" {
        p.bool("SecretRequired")?.unwrap_or(false)
    } else {
        true
    };
    let multi = p.bool("IsMultiTenant")?.unwrap_or(!web);
    let predefined = semi(p.get("PredefinedScopes"));
    let required = semi(p.get("RequiredScopes"))
        .into_iter()
        .filter(|s| predefined.contains(s))
        .collect();
    let id = st.numeric_id(19);
    let rec = AppRec {
        app: Application {
            app_id: id.clone(),
            app_name: name.to_string(),
            display_name: Some(display.to_string()),
            app_type: Some(app_type.to_string()),
            create_date: Some(t.to_string()),
        },
        access_token_validity: access,
        refresh_token_validity: refresh,
        redirect_uris: semi(p.get("RedirectUris")),
        predefined_scopes: predefined,
        required_scopes: required,
        secret_required,
        is_multi_tenant: multi,
        protocol_version: protocol.to_string(),
        update_date: t.to_string(),
    };
    let v = app_json(st, &rec);
    st.apps.insert(id, rec);
    Ok(json!({"Application": v}))
}

fn get_app(st: &State, p: &Params) -> R {
    let id = p.required("AppId")?;
    let a = st.apps.get(id).ok_or_else(|| app_not_found(id))?;
    Ok(json!({"Application": app_json(st, a)}))
}

fn update_app(st: &mut State, p: &Params, t: &str) -> R {
    let id = p.required("AppId")?;
    if let Some(d) = p.get("NewDisplayName") {
        check_length("NewDisplayName", Some(d), 24)?;
    }
    let access = p.int("NewAccessTokenValidity", 900, 10800)?;
    let refresh = p.int("NewRefreshTokenValidity", 7200, 31_536_000)?;
    let multi = p.bool("NewIsMultiTenant")?;
    let secret = p.bool("NewSecretRequired")?;
    let a = st.apps.get_mut(id).ok_or_else(|| app_not_found(id))?;
    if let Some(d) = p.get("NewDisplayName") {
        a.app.display_name = Some(d.to_string());
    }
    if let Some(v) = access {
        a.access_token_validity = v;
    }
    if let Some(v) = refresh {
        a.refresh_token_validity = v;
    }
    if let Some(v) = multi {
        a.is_multi_tenant = v;
    }
    if let Some(v) = secret
        && a.app.app_type.as_deref() == Some("NativeApp")
    {
        a.secret_required = v;
    }
    if p.get("NewRedirectUris").is_some() {
        a.redirect_uris = semi(p.get("NewRedirectUris"));
    }
    if p.get("NewPredefinedScopes").is_some() {
        a.predefined_scopes = semi(p.get("NewPredefinedScopes"));
    }
    if p.get("NewRequiredScopes").is_some() {
        a.required_scopes = semi(p.get("NewRequiredScopes"));
    }
    a.update_date = t.to_string();
    Ok(json!({"Application": app_json(st, &st.apps[id])}))
}

fn delete_app(st: &mut State, p: &Params) -> R {
    let id = p.required("AppId")?;
    st.apps.remove(id).ok_or_else(|| app_not_found(id))?;
    Ok(json!({}))
}

// ---------------------------------------------------------------- account

fn set_default_domain(st: &mut State, p: &Params) -> R {
    let d = p.required("DefaultDomainName")?;
    let prefix = d.strip_suffix(DEFAULT_DOMAIN_SUFFIX).unwrap_or("");
    let ok = d.len() <= 64
        && !prefix.is_empty()
        && prefix
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && !prefix.starts_with(['-', '.'])
        && !prefix.ends_with(['-', '.']);
    if !ok {
        return Err(ErrorResponse::invalid(
            "DefaultDomainName",
            None,
            "The DefaultDomainName must be at most 64 characters and end with .onaliyun.com.",
        ));
    }
    st.account.default_domain = if d == st.account.initial_domain() {
        None
    } else {
        Some(d.to_string())
    };
    Ok(json!({"DefaultDomainName": d}))
}

fn account_summary(st: &State) -> Value {
    json!({"SummaryMap": {
        "Users": st.users.len(),
        "UsersQuota": quota::USERS,
        "Groups": st.groups.len(),
        "GroupsQuota": quota::GROUPS,
        "GroupsPerUserQuota": quota::GROUPS_PER_USER,
        "Roles": st.roles.len(),
        "RolesQuota": quota::ROLES,
        "Policies": st.policies.len(),
        "PoliciesQuota": quota::POLICIES,
        "VersionsPerPolicyQuota": quota::VERSIONS_PER_POLICY,
        "PolicySizeQuota": quota::POLICY_SIZE,
        "AccessKeysPerUserQuota": quota::KEYS_PER_USER,
        "AccountAccessKeysPerAccountQuota": 5,
        "AttachedPoliciesPerUserQuota": quota::CUSTOM_POLICIES_PER_ENTITY,
        "AttachedPoliciesPerGroupQuota": quota::CUSTOM_POLICIES_PER_ENTITY,
        "AttachedPoliciesPerRoleQuota": quota::CUSTOM_POLICIES_PER_ENTITY,
        "AttachedSystemPoliciesPerUserQuota": quota::SYSTEM_POLICIES_PER_ENTITY,
        "AttachedSystemPoliciesPerGroupQuota": quota::SYSTEM_POLICIES_PER_ENTITY,
        "AttachedSystemPoliciesPerRoleQuota": quota::SYSTEM_POLICIES_PER_ENTITY,
        "MFADevices": st.mfa_devices.len(),
        "MFADevicesInUse": st.mfa_devices.values().filter(|d| d.device.user.is_some()).count(),
        "VirtualMFADevicesQuota": quota::MFA_DEVICES,
        "ServiceCredentialsPerUserPerServiceQuota": 2,
        "ConditionsPerAKPolicyQuota": 8,
        "IPItemsPerAKPolicyQuota": 50,
        "AuthorizedClientPerUserQuota": 3,
    }})
}

// ---------------------------------------------------------------- recycle bin

fn bin_user_not_found(id: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.User",
        format!("The user is not in the recycle bin: {id}."),
    )
}

fn bin_key_not_found(id: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.User.AccessKey",
        format!("The access key is not in the recycle bin: {id}."),
    )
}

fn bin_user_json(b: &super::state::BinUser) -> Value {
    let e = &b.entry;
    json!({
        "UserId": e.id,
        "UserPrincipalName": e.principal_name,
        "DisplayName": e.display_name.clone().unwrap_or_default(),
        "CreateDate": e.create_date.clone().unwrap_or_default(),
        "RecycleDate": e.recycle_date.clone().unwrap_or_default(),
        "DeleteDate": e.delete_date.clone().unwrap_or_default(),
    })
}

fn list_bin_users(st: &State, p: &Params) -> R {
    let wanted = match p.get("Filter") {
        None => None,
        Some(f) => {
            let parts: Vec<&str> = f.split_whitespace().collect();
            match parts.as_slice() {
                ["UserPrincipalName", op, v] if op.eq_ignore_ascii_case("eq") => {
                    Some(v.to_string())
                }
                _ => {
                    return Err(ErrorResponse::invalid(
                        "Filter",
                        None,
                        "The Filter must be `UserPrincipalName eq <name>`.",
                    ));
                }
            }
        }
    };
    let items: Vec<(String, Value)> = st
        .bin_users
        .iter()
        .filter(|(_, b)| {
            wanted
                .as_ref()
                .is_none_or(|w| b.entry.principal_name.eq_ignore_ascii_case(w))
        })
        .map(|(k, b)| (k.clone(), bin_user_json(b)))
        .collect();
    let (page, marker) = paginate(items, p, 100, 100)?;
    Ok(page_json("Users", "User", page, marker))
}

fn get_bin_user(st: &State, p: &Params) -> R {
    let id = if let Some(id) = p.get("UserId") {
        id.to_string()
    } else if let Some(k) = p.get("UserAccessKeyId") {
        st.bin_keys
            .get(k)
            .map(|b| b.entry.user_id.clone())
            .ok_or_else(|| bin_key_not_found(k))?
    } else {
        return Err(ErrorResponse::missing(Service::Ims, "UserId"));
    };
    let b = st
        .bin_users
        .get(&id)
        .ok_or_else(|| bin_user_not_found(&id))?;
    Ok(json!({"User": bin_user_json(b)}))
}

fn restore_bin_user(st: &mut State, p: &Params, t: &str) -> R {
    let id = p.required("UserId")?.to_string();
    let b = st
        .bin_users
        .get(&id)
        .ok_or_else(|| bin_user_not_found(&id))?;
    let name = b
        .entry
        .principal_name
        .split_once('@')
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| b.entry.principal_name.clone());
    if st.users.contains_key(&name) {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.User",
            format!("A user named {name} already exists."),
        ));
    }
    if st.users.len() >= quota::USERS {
        return Err(ErrorResponse::conflict(
            "LimitExceeded.User",
            "The count of users beyond the current limits.",
        ));
    }
    // The identity only: no permissions, groups or MFA binding (they were removed
    // when the user was deleted), console logon still switched off, and the keys
    // left in the bin until `RestoreAccessKeyFromRecycleBin` brings them back.
    let b = st.bin_users.remove(&id).expect("checked");
    let mut rec = b.user.unwrap_or_else(|| UserRec {
        user: ramstate_model::User {
            name: name.clone(),
            id: id.clone(),
            display_name: b.entry.display_name.clone(),
            create_date: b.entry.create_date.clone(),
            ..Default::default()
        },
        update_date: t.to_string(),
    });
    rec.update_date = t.to_string();
    st.users.insert(name, rec);
    Ok(json!({}))
}

fn delete_bin_user(st: &mut State, p: &Params) -> R {
    let id = p.required("UserId")?.to_string();
    st.purge_bin_user(&id)
        .ok_or_else(|| bin_user_not_found(&id))?;
    Ok(json!({}))
}

fn list_bin_keys(st: &State, p: &Params) -> R {
    let id = p.required("UserId")?;
    let keys = st
        .bin_keys
        .values()
        .filter(|k| k.entry.user_id == id)
        .map(|k| {
            json!({
                "AccessKeyId": k.entry.id,
                "CreateDate": k.entry.create_date.clone().unwrap_or_default(),
                "RecycleDate": k.entry.recycle_date.clone().unwrap_or_default(),
                "DeleteDate": k.entry.delete_date.clone().unwrap_or_default(),
            })
        })
        .collect();
    Ok(list_json("AccessKeys", "AccessKey", keys))
}

fn get_bin_key(st: &State, p: &Params) -> R {
    let id = p.required("UserAccessKeyId")?;
    let k = st.bin_keys.get(id).ok_or_else(|| bin_key_not_found(id))?;
    let uid = &k.entry.user_id;
    let (upn, recycled) = if let Some(b) = st.bin_users.get(uid) {
        (b.entry.principal_name.clone(), true)
    } else if let Ok(u) = st.user_by_id(uid) {
        (st.principal_name(&u.user.name), false)
    } else {
        (String::new(), false)
    };
    Ok(json!({"AccessKey": {
        "AccessKeyId": k.entry.id,
        "CreateDate": k.entry.create_date.clone().unwrap_or_default(),
        "RecycleDate": k.entry.recycle_date.clone().unwrap_or_default(),
        "DeleteDate": k.entry.delete_date.clone().unwrap_or_default(),
        "UserId": uid,
        "UserPrincipalName": upn,
        "UserRecycled": recycled,
    }}))
}

fn bin_key_of<'a>(st: &'a State, p: &Params) -> Result<&'a super::state::BinKey, ErrorResponse> {
    let id = p.required("UserAccessKeyId")?;
    let k = st.bin_keys.get(id).ok_or_else(|| bin_key_not_found(id))?;
    if let Some(uid) = p.get("UserId")
        && uid != k.entry.user_id
    {
        return Err(bin_key_not_found(id));
    }
    Ok(k)
}

fn restore_bin_key(st: &mut State, p: &Params) -> R {
    let k = bin_key_of(st, p)?;
    let (kid, uid) = (k.entry.id.clone(), k.entry.user_id.clone());
    if st.bin_users.contains_key(&uid) {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.User.Recycled",
            "The key's user is in the recycle bin; restore the user first.",
        ));
    }
    let name = st.user_by_id(&uid)?.user.name.clone();
    if st.users[&name].user.access_keys.len() >= quota::KEYS_PER_USER {
        return Err(ErrorResponse::conflict(
            "LimitExceeded.User.AccessKey",
            "The count of access keys of the user beyond the current limits: 2.",
        ));
    }
    let mut key = st.bin_keys.remove(&kid).expect("checked").key;
    // It comes back as it went in: disabled, until someone enables it.
    key.status = ramstate_model::KeyStatus::Inactive;
    st.users
        .get_mut(&name)
        .expect("checked")
        .user
        .access_keys
        .push(key);
    Ok(json!({}))
}

fn delete_bin_key(st: &mut State, p: &Params) -> R {
    let id = bin_key_of(st, p)?.entry.id.clone();
    st.bin_keys.remove(&id);
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    //! Response shapes as the official IMS SDK models declare them: a field the model
    //! does not know is one a client written from the documentation never expects.

    use super::*;
    use ramstate_model::Inventory;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn state() -> State {
        let inv: Inventory = yaml_serde::from_str(
            "account: {id: '1234567890123456', default_domain: acme.onaliyun.com}\nusers: [{name: alice, display_name: Alice}]\nsaml_providers: [{name: corp-idp, description: okta}]",
        )
        .unwrap();
        State::from_seed(&inv, 1, now()).unwrap()
    }

    fn call(st: &mut State, action: &str, params: &[(&str, &str)]) -> Value {
        let map = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        handle(
            st,
            &Identity::Account,
            action,
            &Params::new(Service::Ims, map),
            now(),
        )
        .unwrap()
        .unwrap()
    }

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().unwrap().keys().map(|k| k.as_str()).collect()
    }

    #[test]
    fn list_saml_providers_does_not_report_the_signing_algorithm() {
        let mut st = state();
        let listed = call(&mut st, "ListSAMLProviders", &[]);
        assert_eq!(
            keys(&listed["SAMLProviders"]["SAMLProvider"][0]),
            [
                "Arn",
                "CreateDate",
                "Description",
                "SAMLProviderName",
                "UpdateDate"
            ]
        );
        let one = call(
            &mut st,
            "GetSAMLProvider",
            &[("SAMLProviderName", "corp-idp")],
        );
        assert_eq!(one["SAMLProvider"]["AuthnSignAlgo"], "rsa-sha1");
    }

    #[test]
    fn only_the_user_lists_report_a_user_status() {
        let mut st = state();
        let upn = ("UserPrincipalName", "alice@acme.onaliyun.com");
        let got = call(&mut st, "GetUser", &[upn]);
        assert!(got["User"].get("Status").is_none(), "{got}");
        assert_eq!(got["User"]["UserName"], "alice");
        let listed = call(&mut st, "ListUsers", &[]);
        let user = &listed["Users"]["User"][0];
        assert_eq!(user["Status"], "active");
        assert!(user.get("UserName").is_none(), "{user}");
        let basic = call(&mut st, "ListUserBasicInfos", &[]);
        assert_eq!(
            keys(&basic["UserBasicInfos"]["UserBasicInfo"][0]),
            ["DisplayName", "Status", "UserId", "UserPrincipalName"]
        );
    }

    #[test]
    fn create_user_answers_without_the_short_name_or_status() {
        let mut st = state();
        let made = call(
            &mut st,
            "CreateUser",
            &[
                ("UserPrincipalName", "bob@acme.onaliyun.com"),
                ("DisplayName", "Bob"),
            ],
        );
        let user = &made["User"];
        assert_eq!(user["UserPrincipalName"], "bob@acme.onaliyun.com");
        assert!(
            user.get("UserName").is_none() && user.get("Status").is_none(),
            "{user}"
        );
    }
}
