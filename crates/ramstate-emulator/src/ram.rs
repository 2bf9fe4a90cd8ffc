//! RAM 2015-05-01: users, access keys, login profiles, MFA, groups, roles, policies,
//! attachments and the account alias.

use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::error::{
    ErrorResponse, Params, check_length, check_name, policy_name_char, role_name_char,
    user_name_char,
};
use super::state::{
    BIN_RETENTION_DAYS, GroupRec, Identity, MfaRec, PolicyRec, Principal, RoleRec, State, UserRec,
    check_policy_document, list_json, page_json, paginate, quota, role_not_found, tags_json,
    timestamp,
};
use ramstate_model::{
    AccessKey, DeleteUserMode, Group, KeyStatus, LoginProfile, LoginProfileStatus, Policy,
    PolicyRef, PolicyType, PolicyVersion, RecycledUser, Role, Service, Tags, User,
    VirtualMfaDevice,
};

type R = Result<Value, ErrorResponse>;

/// Runs one RAM action; `None` when RAM has no such action.
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
        "UpdateUser" => update_user(st, p, &t),
        "DeleteUser" => delete_user(st, p, now),
        "ListUsers" => list_users(st, p),
        "CreateAccessKey" => create_access_key(st, who, p, &t),
        "ListAccessKeys" => list_access_keys(st, who, p),
        "UpdateAccessKey" => update_access_key(st, who, p),
        "DeleteAccessKey" => delete_access_key(st, who, p, now),
        "GetAccessKeyLastUsed" => get_access_key_last_used(st, who, p),
        "CreateLoginProfile" => create_login_profile(st, p, &t),
        "GetLoginProfile" => get_login_profile(st, p),
        "UpdateLoginProfile" => update_login_profile(st, p),
        "DeleteLoginProfile" => delete_login_profile(st, p),
        "CreateVirtualMFADevice" => create_mfa_device(st, p, "VirtualMFADeviceName"),
        "ListVirtualMFADevices" => list_mfa_devices(st, false, p).map(|(v, _)| v),
        "DeleteVirtualMFADevice" => delete_mfa_device(st, p),
        "BindMFADevice" => {
            let user = match p.required("UserName") {
                Ok(u) => u.to_string(),
                Err(e) => return Some(Err(e)),
            };
            bind_mfa_device(st, &user, p, now)
        }
        "UnbindMFADevice" => p
            .required("UserName")
            .map(str::to_string)
            .and_then(|u| unbind_mfa_device(st, &u)),
        "GetUserMFAInfo" => p
            .required("UserName")
            .map(str::to_string)
            .and_then(|u| get_user_mfa_info(st, &u)),
        "CreateGroup" => create_group(st, p, &t),
        "GetGroup" => get_group(st, p),
        "UpdateGroup" => update_group(st, p, &t),
        "DeleteGroup" => delete_group(st, p),
        "ListGroups" => list_groups(st, p),
        "ListUsersForGroup" => list_users_for_group(st, p),
        "ListGroupsForUser" => list_groups_for_user(st, p),
        "AddUserToGroup" => add_user_to_group(st, p, &t),
        "RemoveUserFromGroup" => remove_user_from_group(st, p),
        "CreateRole" => create_role(st, p, &t),
        "GetRole" => get_role(st, p),
        "UpdateRole" => update_role(st, p, &t),
        "DeleteRole" => delete_role(st, p),
        "ListRoles" => list_roles(st, p),
        "CreatePolicy" => create_policy(st, p, &t),
        "GetPolicy" => get_policy(st, p),
        "UpdatePolicyDescription" => update_policy_description(st, p, &t),
        "DeletePolicy" => delete_policy(st, p),
        "ListPolicies" => list_policies(st, p),
        "CreatePolicyVersion" => create_policy_version(st, p, &t),
        "GetPolicyVersion" => get_policy_version(st, p),
        "ListPolicyVersions" => list_policy_versions(st, p),
        "DeletePolicyVersion" => delete_policy_version(st, p),
        "SetDefaultPolicyVersion" => set_default_policy_version(st, p, &t),
        "ListEntitiesForPolicy" => list_entities_for_policy(st, p),
        "ListPoliciesForUser" => list_policies_for(st, Principal::User, p),
        "ListPoliciesForGroup" => list_policies_for(st, Principal::Group, p),
        "ListPoliciesForRole" => list_policies_for(st, Principal::Role, p),
        "AttachPolicyToUser" => attach(st, Principal::User, p, &t),
        "AttachPolicyToGroup" => attach(st, Principal::Group, p, &t),
        "AttachPolicyToRole" => attach(st, Principal::Role, p, &t),
        "DetachPolicyFromUser" => detach(st, Principal::User, p),
        "DetachPolicyFromGroup" => detach(st, Principal::Group, p),
        "DetachPolicyFromRole" => detach(st, Principal::Role, p),
        "GetAccountAlias" => {
            Ok(json!({"AccountAlias": st.account.alias.clone().unwrap_or_default()}))
        }
        "SetAccountAlias" => set_account_alias(st, p),
        "ClearAccountAlias" => {
            st.account.alias = None;
            Ok(json!({}))
        }
        _ => return super::tags::handle_ram(st, action, p),
    })
}

// ---------------------------------------------------------------- users

fn check_user_name(param: &str, v: &str) -> Result<(), ErrorResponse> {
    check_name(param, v, 64, user_name_char)
}

fn check_email(param: &str, v: Option<&str>) -> Result<(), ErrorResponse> {
    if let Some(e) = v {
        let ok = e.len() <= 128
            && e.split_once('@')
                .is_some_and(|(a, b)| !a.is_empty() && b.contains('.') && !b.starts_with('.'));
        if !ok {
            return Err(ErrorResponse::invalid(
                param,
                Some("Format"),
                format!("The {param} \"{e}\" is not an email address."),
            ));
        }
    }
    Ok(())
}

fn check_phone(param: &str, v: Option<&str>) -> Result<(), ErrorResponse> {
    if let Some(m) = v {
        let ok = m.split_once('-').is_some_and(|(cc, n)| {
            !cc.is_empty()
                && !n.is_empty()
                && cc.chars().all(|c| c.is_ascii_digit())
                && n.chars().all(|c| c.is_ascii_digit() || c == '*')
        });
        if !ok {
            return Err(ErrorResponse::invalid(
                param,
                Some("Format"),
                format!("The {param} must look like <country code>-<number>."),
            ));
        }
    }
    Ok(())
}

fn user_json(u: &UserRec, detail: bool) -> Value {
    let x = &u.user;
    let mut v = json!({
        "UserId": x.id,
        "UserName": x.name,
        "DisplayName": x.display_name.clone().unwrap_or_default(),
        "Email": x.email.clone().unwrap_or_default(),
        "MobilePhone": x.mobile_phone.clone().unwrap_or_default(),
        "Comments": x.comments.clone().unwrap_or_default(),
        "CreateDate": x.create_date.clone().unwrap_or_default(),
        "UpdateDate": u.update_date,
    });
    if detail {
        if let Some(d) = &x.last_login_date {
            v["LastLoginDate"] = json!(d);
        }
        v["Tags"] = tags_json(&x.tags);
    }
    v
}

/// A new entity's name must be free and its kind under quota: `EntityAlreadyExists.<Code>`
/// or `LimitExceeded.<Code>` (409) otherwise. `what` is (code, one, many).
fn ensure_new(
    taken: bool,
    count: usize,
    limit: usize,
    (code, one, many): (&str, &str, &str),
    name: &str,
) -> Result<(), ErrorResponse> {
    if taken {
        return Err(ErrorResponse::conflict(
            format!("EntityAlreadyExists.{code}"),
            format!("The {one} already exists: {name}."),
        ));
    }
    if count >= limit {
        return Err(ErrorResponse::conflict(
            format!("LimitExceeded.{code}"),
            format!("The count of {many} beyond the current limits: {limit}."),
        ));
    }
    Ok(())
}

/// Adds a user built from `proto` (name and profile fields), checking the name is
/// free and the quota.
pub fn new_user(st: &mut State, proto: User, t: &str) -> Result<String, ErrorResponse> {
    let name = proto.name.clone();
    ensure_new(
        st.users.contains_key(&name),
        st.users.len(),
        quota::USERS,
        ("User", "user", "users"),
        &name,
    )?;
    let id = st.numeric_id(16);
    st.users.insert(
        name.clone(),
        UserRec {
            user: User {
                id,
                create_date: Some(t.to_string()),
                ..proto
            },
            update_date: t.to_string(),
        },
    );
    Ok(name)
}

/// A user prototype from the profile parameters (`Email`, `DisplayName`, ...).
pub fn user_proto(name: &str, p: &Params, tags: Tags) -> User {
    User {
        name: name.to_string(),
        display_name: p.get("DisplayName").map(str::to_string),
        email: p.get("Email").map(str::to_string),
        mobile_phone: p.get("MobilePhone").map(str::to_string),
        comments: p.get("Comments").map(str::to_string),
        tags,
        ..User::default()
    }
}

fn create_user(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("UserName")?;
    check_user_name("UserName", name)?;
    check_length("DisplayName", p.get("DisplayName"), 128)?;
    check_length("Comments", p.get("Comments"), 128)?;
    check_email("Email", p.get("Email"))?;
    check_phone("MobilePhone", p.get("MobilePhone"))?;
    new_user(st, user_proto(name, p, Tags::new()), t)?;
    let mut v = user_json(&st.users[name], false);
    v.as_object_mut().map(|o| o.remove("UpdateDate"));
    Ok(json!({ "User": v }))
}

fn get_user(st: &State, p: &Params) -> R {
    let name = p.required("UserName")?;
    let u = st.user(name)?;
    let mut v = user_json(u, true);
    v.as_object_mut().map(|o| o.remove("Tags"));
    Ok(json!({ "User": v }))
}

fn update_user(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("UserName")?.to_string();
    st.user(&name)?;
    if let Some(n) = p.get("NewUserName") {
        check_user_name("NewUserName", n)?;
    }
    check_length("NewDisplayName", p.get("NewDisplayName"), 128)?;
    check_length("NewComments", p.get("NewComments"), 128)?;
    check_email("NewEmail", p.get("NewEmail"))?;
    check_phone("NewMobilePhone", p.get("NewMobilePhone"))?;
    let mut current = name.clone();
    if let Some(n) = p.get("NewUserName")
        && n != name
    {
        if st.users.contains_key(n) {
            return Err(ErrorResponse::conflict(
                "EntityAlreadyExists.User",
                format!("The user already exists: {n}."),
            ));
        }
        let mut rec = st.users.remove(&name).expect("checked above");
        rec.user.name = n.to_string();
        st.users.insert(n.to_string(), rec);
        st.rename_principal(Principal::User, &name, n);
        current = n.to_string();
    }
    let rec = st.user_mut(&current)?;
    if let Some(v) = p.get("NewDisplayName") {
        rec.user.display_name = Some(v.into());
    }
    if let Some(v) = p.get("NewEmail") {
        rec.user.email = Some(v.into());
    }
    if let Some(v) = p.get("NewMobilePhone") {
        rec.user.mobile_phone = Some(v.into());
    }
    if let Some(v) = p.get("NewComments") {
        rec.user.comments = Some(v.into());
    }
    rec.update_date = t.to_string();
    let v = user_json(&st.users[&current], false);
    Ok(json!({ "User": v }))
}

/// Deletes a user: 409 while anything hangs off it (`conflict` mode), or moves it
/// and its keys to the recycle bin (`recycle_bin` mode).
///
/// The documentation does not say which conflict wins when several apply; the
/// emulator reports them in this order: attached policies, group memberships,
/// access keys, login profile, MFA device.
pub fn remove_user(st: &mut State, name: &str, now: OffsetDateTime) -> Result<(), ErrorResponse> {
    let rec = st.user(name)?.clone();
    if st.delete_user == DeleteUserMode::Conflict {
        let conflict = |code: &str, msg: &str| Err(ErrorResponse::conflict(code, msg));
        if !st.attached(Principal::User, name).is_empty() {
            return conflict(
                "DeleteConflict.User.Policy",
                "The user CAN NOT has any attached policy while deleting the user.",
            );
        }
        if !st.groups_of(name).is_empty() {
            return conflict(
                "DeleteConflict.User.Group",
                "The user CAN NOT be in any group while deleting the user.",
            );
        }
        if !rec.user.access_keys.is_empty() {
            return conflict(
                "DeleteConflict.User.AccessKey",
                "The user CAN NOT has any access key while deleting the user.",
            );
        }
        if rec.user.login_profile.is_some() {
            return conflict(
                "DeleteConflict.User.LoginProfile",
                "The user CAN NOT has any login profile while deleting the user.",
            );
        }
        if st.mfa_of(name).is_some() {
            return conflict(
                "DeleteConflict.User.MFADevice",
                "The user CAN NOT has any mfa device while deleting the user.",
            );
        }
        st.users.remove(name);
        return Ok(());
    }
    // Recycle-bin mode, as the console documents it: permissions, group
    // memberships and the MFA binding are removed, console logon is switched off,
    // the keys go to the bin (disabled) and the identity is kept there for 30 days.
    for g in st.groups_of(name) {
        st.memberships.remove(&(name.to_string(), g));
    }
    for (pol, _) in st.attached(Principal::User, name) {
        st.attachments
            .remove(&(Principal::User, name.to_string(), pol));
    }
    for d in st.mfa_devices.values_mut() {
        if d.device.user.as_deref() == Some(name) {
            d.device.user = None;
            d.device.activate_date = None;
        }
    }
    let mut rec = st.users.remove(name).expect("checked above");
    for k in std::mem::take(&mut rec.user.access_keys) {
        st.bin_key(&rec.user.id, k, now);
    }
    if let Some(lp) = &mut rec.user.login_profile {
        lp.status = LoginProfileStatus::Inactive;
    }
    let entry = RecycledUser {
        id: rec.user.id.clone(),
        principal_name: st.principal_name(name),
        display_name: rec.user.display_name.clone(),
        create_date: rec.user.create_date.clone(),
        recycle_date: Some(timestamp(now)),
        delete_date: Some(timestamp(now + Duration::days(BIN_RETENTION_DAYS))),
    };
    st.bin_user(entry, rec, now);
    Ok(())
}

fn delete_user(st: &mut State, p: &Params, now: OffsetDateTime) -> R {
    let name = p.required("UserName")?.to_string();
    remove_user(st, &name, now)?;
    Ok(json!({}))
}

fn list_users(st: &State, p: &Params) -> R {
    let items = st.users.iter().map(|(k, u)| (k.clone(), u)).collect();
    let (page, marker) = paginate(items, p, 1000, 100)?;
    let page = page.into_iter().map(|u| user_json(u, false)).collect();
    Ok(page_json("Users", "User", page, marker))
}

// ---------------------------------------------------------------- access keys

/// The user an access-key call is about: `UserName`, or the calling RAM user.
fn key_subject(st: &State, who: &Identity, p: &Params) -> Result<String, ErrorResponse> {
    if let Some(u) = p.get("UserName") {
        st.user(u)?;
        return Ok(u.to_string());
    }
    match who {
        Identity::User { name, .. } => Ok(name.clone()),
        _ => Err(ErrorResponse::missing(Service::Ram, "UserName")),
    }
}

pub fn new_access_key(st: &mut State, user: &str, t: &str) -> Result<AccessKey, ErrorResponse> {
    if st.user(user)?.user.access_keys.len() >= quota::KEYS_PER_USER {
        return Err(ErrorResponse::conflict(
            "LimitExceeded.User.AccessKey",
            format!(
                "The count of access keys of the user beyond the current limits: {}.",
                quota::KEYS_PER_USER
            ),
        ));
    }
    let key = AccessKey {
        id: st.key_id(),
        secret: Some(st.secret(30)),
        status: KeyStatus::Active,
        create_date: Some(t.to_string()),
        last_used_date: None,
    };
    st.user_mut(user)?.user.access_keys.push(key.clone());
    Ok(key)
}

fn key_status(s: KeyStatus) -> &'static str {
    match s {
        KeyStatus::Active => "Active",
        KeyStatus::Inactive => "Inactive",
    }
}

fn create_access_key(st: &mut State, who: &Identity, p: &Params, t: &str) -> R {
    let user = key_subject(st, who, p)?;
    let k = new_access_key(st, &user, t)?;
    Ok(json!({"AccessKey": {
        "AccessKeyId": k.id,
        "AccessKeySecret": k.secret.unwrap_or_default(),
        "Status": key_status(k.status),
        "CreateDate": k.create_date.unwrap_or_default(),
    }}))
}

fn list_access_keys(st: &State, who: &Identity, p: &Params) -> R {
    let user = key_subject(st, who, p)?;
    let keys = st.users[&user]
        .user
        .access_keys
        .iter()
        .map(|k| {
            json!({
                "AccessKeyId": k.id,
                "Status": key_status(k.status),
                "CreateDate": k.create_date.clone().unwrap_or_default(),
            })
        })
        .collect();
    Ok(list_json("AccessKeys", "AccessKey", keys))
}

fn key_not_found(id: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.User.AccessKey",
        format!("The user access key does not exist: {id}."),
    )
}

pub fn set_key_status(
    st: &mut State,
    user: &str,
    id: &str,
    status: &str,
) -> Result<(), ErrorResponse> {
    let status = match status {
        "Active" => KeyStatus::Active,
        "Inactive" => KeyStatus::Inactive,
        other => {
            return Err(ErrorResponse::invalid(
                "Status",
                None,
                format!("The Status must be Active or Inactive, not \"{other}\"."),
            ));
        }
    };
    let rec = st.user_mut(user)?;
    let k = rec
        .user
        .access_keys
        .iter_mut()
        .find(|k| k.id == id)
        .ok_or_else(|| key_not_found(id))?;
    k.status = status;
    Ok(())
}

fn update_access_key(st: &mut State, who: &Identity, p: &Params) -> R {
    let id = p.required("UserAccessKeyId")?;
    let status = p.required("Status")?;
    let user = key_subject(st, who, p)?;
    set_key_status(st, &user, id, status)?;
    Ok(json!({}))
}

/// Deletes a key (to the bin in `recycle_bin` mode).
pub fn remove_access_key(
    st: &mut State,
    user: &str,
    id: &str,
    now: OffsetDateTime,
) -> Result<(), ErrorResponse> {
    let mode = st.delete_user;
    let rec = st.user_mut(user)?;
    let pos = rec
        .user
        .access_keys
        .iter()
        .position(|k| k.id == id)
        .ok_or_else(|| key_not_found(id))?;
    let key = rec.user.access_keys.remove(pos);
    let user_id = rec.user.id.clone();
    if mode == DeleteUserMode::RecycleBin {
        st.bin_key(&user_id, key, now);
    }
    Ok(())
}

fn delete_access_key(st: &mut State, who: &Identity, p: &Params, now: OffsetDateTime) -> R {
    let id = p.required("UserAccessKeyId")?;
    let user = key_subject(st, who, p)?;
    remove_access_key(st, &user, id, now)?;
    Ok(json!({}))
}

fn get_access_key_last_used(st: &State, who: &Identity, p: &Params) -> R {
    let id = p.required("UserAccessKeyId")?;
    let user = key_subject(st, who, p)?;
    let k = st.users[&user]
        .user
        .access_keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(|| key_not_found(id))?;
    Ok(json!({"AccessKeyLastUsed": {"LastUsedDate": k.last_used_date.clone().unwrap_or_default()}}))
}

// ---------------------------------------------------------------- login profiles

fn profile_not_found(user: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.User.LoginProfile",
        format!("The login profile of the user does not exist: {user}."),
    )
}

/// A new password must meet the account's password policy (see `settings`), and at
/// least the emulator's own floor: at most 32 characters, of at least two kinds.
fn check_password(st: &State, user: &str, param: &str, pw: &str) -> Result<(), ErrorResponse> {
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if pw.chars().count() < 8 || pw.chars().count() > 32 || classes < 2 {
        return Err(ErrorResponse::invalid(
            param,
            Some("TooWeak"),
            "The password does not meet the password policy: 8 to 32 characters of at least two kinds.",
        ));
    }
    let policy = st.account.password_policy.clone().unwrap_or_default();
    super::settings::password_meets(&policy, user, pw).map_err(|needs| {
        ErrorResponse::invalid(
            param,
            Some("TooWeak"),
            format!("The password does not meet the password policy: it needs {needs}."),
        )
    })
}

fn profile_json(user: &str, lp: &LoginProfile) -> Value {
    json!({
        "UserName": user,
        "CreateDate": lp.create_date.clone().unwrap_or_default(),
        "PasswordResetRequired": lp.password_reset_required,
        "MFABindRequired": lp.mfa_bind_required,
    })
}

/// IMS `Status` (`Active` or `Inactive`): console logon switched on or off. RAM has
/// no such parameter and ignores it.
fn profile_status(p: &Params) -> Result<Option<LoginProfileStatus>, ErrorResponse> {
    if p.service != Some(Service::Ims) {
        return Ok(None);
    }
    match p.get("Status") {
        None => Ok(None),
        Some("Active") => Ok(Some(LoginProfileStatus::Active)),
        Some("Inactive") => Ok(Some(LoginProfileStatus::Inactive)),
        Some(other) => Err(ErrorResponse::invalid(
            "Status",
            None,
            format!("The Status must be Active or Inactive, not \"{other}\"."),
        )),
    }
}

fn create_login_profile(st: &mut State, p: &Params, t: &str) -> R {
    let user = p.required("UserName")?.to_string();
    let pw = p.required("Password")?;
    let reset = p.bool("PasswordResetRequired")?.unwrap_or(false);
    let mfa = p.bool("MFABindRequired")?.unwrap_or(false);
    let status = profile_status(p)?.unwrap_or_default();
    if st.user(&user)?.user.login_profile.is_some() {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.User.LoginProfile",
            format!("The login profile of the user already exists: {user}."),
        ));
    }
    check_password(st, &user, "Password", pw)?;
    let lp = LoginProfile {
        password_reset_required: reset,
        mfa_bind_required: mfa,
        status,
        create_date: Some(t.to_string()),
    };
    st.user_mut(&user)?.user.login_profile = Some(lp.clone());
    Ok(json!({"LoginProfile": profile_json(&user, &lp)}))
}

fn get_login_profile(st: &State, p: &Params) -> R {
    let user = p.required("UserName")?;
    let lp = st
        .user(user)?
        .user
        .login_profile
        .as_ref()
        .ok_or_else(|| profile_not_found(user))?;
    Ok(json!({"LoginProfile": profile_json(user, lp)}))
}

fn update_login_profile(st: &mut State, p: &Params) -> R {
    let user = p.required("UserName")?.to_string();
    let reset = p.bool("PasswordResetRequired")?;
    let mfa = p.bool("MFABindRequired")?;
    let status = profile_status(p)?;
    if st.user(&user)?.user.login_profile.is_none() {
        return Err(profile_not_found(&user));
    }
    if let Some(pw) = p.get("Password") {
        check_password(st, &user, "Password", pw)?;
    }
    let rec = st.user_mut(&user)?;
    let lp = rec
        .user
        .login_profile
        .as_mut()
        .ok_or_else(|| profile_not_found(&user))?;
    if let Some(r) = reset {
        lp.password_reset_required = r;
    }
    if let Some(m) = mfa {
        lp.mfa_bind_required = m;
    }
    if let Some(s) = status {
        lp.status = s;
    }
    Ok(json!({}))
}

fn delete_login_profile(st: &mut State, p: &Params) -> R {
    let user = p.required("UserName")?.to_string();
    let rec = st.user_mut(&user)?;
    if rec.user.login_profile.take().is_none() {
        return Err(profile_not_found(&user));
    }
    Ok(json!({}))
}

// ---------------------------------------------------------------- MFA

/// RFC 6238 TOTP (SHA-1, 30 s steps, 6 digits) of `secret` at the given step.
pub fn totp(secret: &[u8], step: u64) -> String {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("any key");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = (h[h.len() - 1] & 0xF) as usize;
    let n = u32::from_be_bytes([h[o] & 0x7F, h[o + 1], h[o + 2], h[o + 3]]) % 1_000_000;
    format!("{n:06}")
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 Base32 without padding.
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            out.push(BASE32[((buf >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(BASE32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Decodes Base32 (the seed CreateVirtualMFADevice hands out).
pub fn base32_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in s.trim_end_matches('=').bytes() {
        let v = BASE32.iter().position(|&x| x == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buf >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

pub fn create_mfa_device(st: &mut State, p: &Params, param: &str) -> R {
    let name = p.required(param)?;
    check_name("VirtualMFADeviceName", name, 64, role_name_char)?;
    let serial = format!("acs:ram::{}:mfa/{name}", st.account.id);
    if st.mfa_devices.contains_key(&serial) {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.VirtualMFADevice",
            format!("The virtual MFA device already exists: {name}."),
        ));
    }
    if st.mfa_devices.len() >= quota::MFA_DEVICES {
        return Err(ErrorResponse::conflict(
            "LimitExceeded.VirtualMFADevice",
            "The count of virtual MFA devices beyond the current limits.",
        ));
    }
    let secret: Vec<u8> = st.alnum(20).into_bytes();
    let seed = base32(&secret);
    let qr = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!(
            "otpauth://totp/{name}@{}?secret={seed}",
            st.account.domain()
        ))
    };
    st.mfa_devices.insert(
        serial.clone(),
        MfaRec {
            device: VirtualMfaDevice {
                serial_number: serial.clone(),
                user: None,
                activate_date: None,
            },
            secret: Some(secret),
        },
    );
    Ok(json!({"VirtualMFADevice": {
        "SerialNumber": serial,
        "Base32StringSeed": seed,
        "QRCodePNG": qr,
    }}))
}

/// ListVirtualMFADevices; `ims` switches user fields to `UserPrincipalName`.
pub fn list_mfa_devices(st: &State, ims: bool, p: &Params) -> Result<(Value, ()), ErrorResponse> {
    let items: Vec<(String, Value)> = st
        .mfa_devices
        .values()
        .map(|d| {
            let mut v = json!({"SerialNumber": d.device.serial_number});
            if let Some(a) = &d.device.activate_date {
                v["ActivateDate"] = json!(a);
            }
            if let Some(u) = &d.device.user {
                let rec = st.users.get(u);
                let mut user = json!({
                    "UserId": rec.map(|r| r.user.id.clone()).unwrap_or_default(),
                    "DisplayName": rec.and_then(|r| r.user.display_name.clone()).unwrap_or_default(),
                });
                if ims {
                    user["UserPrincipalName"] = json!(st.principal_name(u));
                } else {
                    user["UserName"] = json!(u);
                }
                v["User"] = user;
            }
            (d.device.serial_number.clone(), v)
        })
        .collect();
    if ims {
        let (page, marker) = paginate(items, p, 100, 100)?;
        Ok((
            page_json("VirtualMFADevices", "VirtualMFADevice", page, marker),
            (),
        ))
    } else {
        Ok((
            list_json(
                "VirtualMFADevices",
                "VirtualMFADevice",
                items.into_iter().map(|(_, v)| v).collect(),
            ),
            (),
        ))
    }
}

fn mfa_not_found(serial: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.VirtualMFADevice",
        format!("The virtual MFA device does not exist: {serial}."),
    )
}

pub fn delete_mfa_device(st: &mut State, p: &Params) -> R {
    let serial = p.required("SerialNumber")?;
    let d = st
        .mfa_devices
        .get(serial)
        .ok_or_else(|| mfa_not_found(serial))?;
    if d.device.user.is_some() {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.VirtualMFADevice.User",
            "The virtual mfa device CAN NOT been bound to any user while deleting it.",
        ));
    }
    st.mfa_devices.remove(serial);
    Ok(json!({}))
}

pub fn bind_mfa_device(st: &mut State, user: &str, p: &Params, now: OffsetDateTime) -> R {
    let serial = p.required("SerialNumber")?.to_string();
    let c1 = p.required("AuthenticationCode1")?;
    let c2 = p.required("AuthenticationCode2")?;
    for (n, c) in [("AuthenticationCode1", c1), ("AuthenticationCode2", c2)] {
        if c.len() != 6 || !c.chars().all(|x| x.is_ascii_digit()) {
            return Err(ErrorResponse::invalid(
                "AuthenticationCode",
                Some("Format"),
                format!("The {n} must be 6 digits."),
            ));
        }
    }
    st.user(user)?;
    let d = st
        .mfa_devices
        .get(&serial)
        .ok_or_else(|| mfa_not_found(&serial))?;
    if d.device.user.is_some() {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.VirtualMFADevice.User",
            "The virtual MFA device is already bound to a user.",
        ));
    }
    if st.mfa_of(user).is_some() {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.User.MFADevice",
            format!("The user already has an MFA device: {user}."),
        ));
    }
    if let Some(secret) = &d.secret {
        // The codes come from the user's device: wall-clock time.
        let step = (st.wall_clock(now).unix_timestamp() / 30) as u64;
        let ok = (step.saturating_sub(2)..=step + 1)
            .any(|s| totp(secret, s) == c1 && totp(secret, s + 1) == c2);
        if !ok {
            return Err(ErrorResponse::forbidden(
                "CheckAuthenticationCodeFail",
                "The authentication codes do not match the device.",
            ));
        }
    }
    let d = st.mfa_devices.get_mut(&serial).expect("checked above");
    d.device.user = Some(user.to_string());
    d.device.activate_date = Some(timestamp(now));
    Ok(json!({}))
}

pub fn unbind_mfa_device(st: &mut State, user: &str) -> R {
    st.user(user)?;
    let serial = st
        .mfa_of(user)
        .map(|d| d.device.serial_number.clone())
        .ok_or_else(|| {
            ErrorResponse::not_found(
                "EntityNotExist.User.MFADevice",
                format!("The user has no MFA device: {user}."),
            )
        })?;
    let d = st.mfa_devices.get_mut(&serial).expect("found above");
    d.device.user = None;
    d.device.activate_date = None;
    Ok(json!({"MFADevice": {"SerialNumber": serial}}))
}

pub fn get_user_mfa_info(st: &State, user: &str) -> R {
    st.user(user)?;
    let d = st.mfa_of(user).ok_or_else(|| {
        ErrorResponse::not_found(
            "EntityNotExist.User.MFADevice",
            format!("The user has no MFA device: {user}."),
        )
    })?;
    Ok(json!({"MFADevice": {"SerialNumber": d.device.serial_number, "Type": "VMFA"}}))
}

// ---------------------------------------------------------------- groups

fn group_json(g: &GroupRec) -> Value {
    json!({
        "GroupId": g.group.id,
        "GroupName": g.group.name,
        "Comments": g.group.comments.clone().unwrap_or_default(),
        "CreateDate": g.group.create_date.clone().unwrap_or_default(),
        "UpdateDate": g.update_date,
    })
}

fn create_group(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("GroupName")?;
    check_name("GroupName", name, 64, user_name_char)?;
    check_length("Comments", p.get("Comments"), 128)?;
    ensure_new(
        st.groups.contains_key(name),
        st.groups.len(),
        quota::GROUPS,
        ("Group", "group", "groups"),
        name,
    )?;
    let id = format!("g-{}", st.alnum(12));
    let rec = GroupRec {
        group: Group {
            name: name.to_string(),
            id,
            comments: p.get("Comments").map(str::to_string),
            create_date: Some(t.to_string()),
            policies: vec![],
        },
        update_date: t.to_string(),
    };
    let mut v = group_json(&rec);
    v.as_object_mut().map(|o| o.remove("UpdateDate"));
    st.groups.insert(name.to_string(), rec);
    Ok(json!({"Group": v}))
}

fn get_group(st: &State, p: &Params) -> R {
    let name = p.required("GroupName")?;
    Ok(json!({"Group": group_json(st.group(name)?)}))
}

fn update_group(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("GroupName")?.to_string();
    st.group(&name)?;
    check_length("NewComments", p.get("NewComments"), 128)?;
    let mut current = name.clone();
    if let Some(n) = p.get("NewGroupName") {
        check_name("NewGroupName", n, 64, user_name_char)?;
        if n != name {
            if st.groups.contains_key(n) {
                return Err(ErrorResponse::conflict(
                    "EntityAlreadyExists.Group",
                    format!("The group already exists: {n}."),
                ));
            }
            let mut rec = st.groups.remove(&name).expect("checked");
            rec.group.name = n.to_string();
            st.groups.insert(n.to_string(), rec);
            st.rename_principal(Principal::Group, &name, n);
            current = n.to_string();
        }
    }
    let rec = st.groups.get_mut(&current).expect("present");
    if let Some(c) = p.get("NewComments") {
        rec.group.comments = Some(c.to_string());
    }
    rec.update_date = t.to_string();
    Ok(json!({"Group": group_json(rec)}))
}

fn delete_group(st: &mut State, p: &Params) -> R {
    let name = p.required("GroupName")?;
    st.group(name)?;
    if !st.members_of(name).is_empty() {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Group.User",
            "The group CAN NOT has any user member while deleting the group.",
        ));
    }
    if !st.attached(Principal::Group, name).is_empty() {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Group.Policy",
            "The entity CAN NOT has any attached policy while deleting the group.",
        ));
    }
    st.groups.remove(name);
    Ok(json!({}))
}

fn list_groups(st: &State, p: &Params) -> R {
    let items = st
        .groups
        .iter()
        .map(|(k, g)| (k.clone(), group_json(g)))
        .collect();
    let (page, marker) = paginate(items, p, 100, 100)?;
    Ok(page_json("Groups", "Group", page, marker))
}

fn list_users_for_group(st: &State, p: &Params) -> R {
    let name = p.required("GroupName")?;
    st.group(name)?;
    let items = st
        .members_of(name)
        .into_iter()
        .map(|(u, d)| {
            let display = st
                .users
                .get(&u)
                .and_then(|r| r.user.display_name.clone())
                .unwrap_or_default();
            (
                u.clone(),
                json!({"UserName": u, "DisplayName": display, "JoinDate": d}),
            )
        })
        .collect();
    let (page, marker) = paginate(items, p, 1000, 100)?;
    Ok(page_json("Users", "User", page, marker))
}

fn list_groups_for_user(st: &State, p: &Params) -> R {
    let user = p.required("UserName")?;
    st.user(user)?;
    let groups = st
        .groups_of(user)
        .into_iter()
        .filter_map(|g| {
            let rec = st.groups.get(&g)?;
            let d = st
                .memberships
                .get(&(user.to_string(), g.clone()))
                .cloned()
                .unwrap_or_default();
            Some(json!({
                "GroupId": rec.group.id,
                "GroupName": g,
                "Comments": rec.group.comments.clone().unwrap_or_default(),
                "JoinDate": d,
            }))
        })
        .collect();
    Ok(list_json("Groups", "Group", groups))
}

pub fn add_member(st: &mut State, user: &str, group: &str, t: &str) -> Result<(), ErrorResponse> {
    st.user(user)?;
    st.group(group)?;
    let key = (user.to_string(), group.to_string());
    if st.memberships.contains_key(&key) {
        return Err(ErrorResponse::conflict(
            "EntityAlreadyExists.User.Group",
            format!("The user {user} is already in the group {group}."),
        ));
    }
    if st.groups_of(user).len() >= quota::GROUPS_PER_USER {
        return Err(ErrorResponse::conflict(
            "LimitExceeded.User.Group",
            format!(
                "The count of groups of the user beyond the current limits: {}.",
                quota::GROUPS_PER_USER
            ),
        ));
    }
    st.memberships.insert(key, t.to_string());
    Ok(())
}

fn add_user_to_group(st: &mut State, p: &Params, t: &str) -> R {
    let user = p.required("UserName")?;
    let group = p.required("GroupName")?;
    add_member(st, user, group, t)?;
    Ok(json!({}))
}

fn remove_user_from_group(st: &mut State, p: &Params) -> R {
    let user = p.required("UserName")?;
    let group = p.required("GroupName")?;
    st.user(user)?;
    st.group(group)?;
    if st
        .memberships
        .remove(&(user.to_string(), group.to_string()))
        .is_none()
    {
        return Err(ErrorResponse::not_found(
            "EntityNotExist.User.Group",
            format!("The user {user} is not in the group {group}."),
        ));
    }
    Ok(json!({}))
}

// ---------------------------------------------------------------- roles

fn role_json(st: &State, r: &RoleRec, doc: bool) -> Value {
    let x = &r.role;
    let mut v = json!({
        "RoleId": x.id,
        "RoleName": x.name,
        "Arn": format!("acs:ram::{}:role/{}", st.account.id, x.name),
        "Description": x.description.clone().unwrap_or_default(),
        "MaxSessionDuration": x.max_session_duration,
        "CreateDate": x.create_date.clone().unwrap_or_default(),
        "UpdateDate": r.update_date,
    });
    if doc {
        v["AssumeRolePolicyDocument"] =
            json!(x.assume_role_policy_document.clone().unwrap_or_default());
    } else {
        v["Tags"] = tags_json(&x.tags);
    }
    v
}

fn check_trust_policy(param: &str, doc: &str) -> Result<(), ErrorResponse> {
    let len = doc.chars().count();
    if len == 0 || len > 2048 {
        return Err(ErrorResponse::invalid(
            param,
            Some("Length"),
            format!("The length of {param} must be 1 to 2048 characters."),
        ));
    }
    let v: Value = serde_json::from_str(doc).map_err(|e| {
        ErrorResponse::bad_request(
            "MalformedPolicyDocument",
            format!("The trust policy is malformed: {e}."),
        )
    })?;
    let ok = v
        .get("Statement")
        .and_then(|s| s.as_array())
        .is_some_and(|s| !s.is_empty() && s.iter().all(|x| x.get("Principal").is_some()));
    if !ok {
        return Err(ErrorResponse::bad_request(
            "MalformedPolicyDocument",
            "The trust policy is malformed: every statement needs a Principal.",
        ));
    }
    Ok(())
}

/// Tags sent as `Tag=<JSON array>` or `Tag.N.Key`/`Tag.N.Value`.
pub fn read_tags(p: &Params) -> Result<Tags, ErrorResponse> {
    let mut tags = Tags::new();
    if let Some(raw) = p.get("Tag") {
        let arr: Vec<Value> = serde_json::from_str(raw)
            .map_err(|_| ErrorResponse::invalid("Tag", None, "The Tag must be a JSON array."))?;
        for t in arr {
            let k = t.get("Key").and_then(|k| k.as_str()).unwrap_or_default();
            let v = t.get("Value").and_then(|k| k.as_str()).unwrap_or_default();
            if !k.is_empty() {
                tags.insert(k.to_string(), v.to_string());
            }
        }
    }
    for n in 1..=20 {
        if let Some(k) = p.get(&format!("Tag.{n}.Key")) {
            let v = p.get(&format!("Tag.{n}.Value")).unwrap_or_default();
            tags.insert(k.to_string(), v.to_string());
        }
    }
    if tags.len() > 20 {
        return Err(ErrorResponse::invalid(
            "Tag",
            None,
            "At most 20 tags are allowed.",
        ));
    }
    Ok(tags)
}

fn create_role(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("RoleName")?;
    check_name("RoleName", name, 64, role_name_char)?;
    let doc = p.required("AssumeRolePolicyDocument")?;
    check_trust_policy("AssumeRolePolicyDocument", doc)?;
    check_length("Description", p.get("Description"), 1024)?;
    let max = p.int("MaxSessionDuration", 3600, 43200)?.unwrap_or(3600) as u32;
    let tags = read_tags(p)?;
    ensure_new(
        st.roles.contains_key(name),
        st.roles.len(),
        quota::ROLES,
        ("Role", "role", "roles"),
        name,
    )?;
    let id = st.numeric_id(16);
    let rec = RoleRec {
        role: Role {
            name: name.to_string(),
            id,
            description: p.get("Description").map(str::to_string),
            max_session_duration: max,
            assume_role_policy_document: Some(doc.to_string()),
            create_date: Some(t.to_string()),
            tags,
            policies: vec![],
            usages: vec![],
        },
        update_date: t.to_string(),
    };
    let mut v = role_json(st, &rec, true);
    v.as_object_mut().map(|o| o.remove("UpdateDate"));
    st.roles.insert(name.to_string(), rec);
    Ok(json!({"Role": v}))
}

fn get_role(st: &State, p: &Params) -> R {
    let name = p.required("RoleName")?;
    Ok(json!({"Role": role_json(st, st.role(name)?, true)}))
}

fn update_role(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("RoleName")?.to_string();
    st.role(&name)?;
    if let Some(d) = p.get("NewAssumeRolePolicyDocument") {
        check_trust_policy("NewAssumeRolePolicyDocument", d)?;
    }
    check_length("NewDescription", p.get("NewDescription"), 1024)?;
    let max = p.int("NewMaxSessionDuration", 3600, 43200)?;
    let rec = st.roles.get_mut(&name).expect("checked");
    if let Some(d) = p.get("NewAssumeRolePolicyDocument") {
        rec.role.assume_role_policy_document = Some(d.to_string());
    }
    if let Some(d) = p.get("NewDescription") {
        rec.role.description = Some(d.to_string());
    }
    if let Some(m) = max {
        rec.role.max_session_duration = m as u32;
    }
    rec.update_date = t.to_string();
    let v = role_json(st, &st.roles[&name], true);
    Ok(json!({"Role": v}))
}

fn delete_role(st: &mut State, p: &Params) -> R {
    let name = p.required("RoleName")?;
    let rec = st.role(name)?;
    if rec.role.is_service_linked() {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Role.ServiceLinkedRole",
            format!(
                "The role {name} is a service-linked role; delete it with ResourceManager DeleteServiceLinkedRole."
            ),
        ));
    }
    if !st.attached(Principal::Role, name).is_empty() {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Role.Policy",
            "The role CAN NOT has any attached policy while deleting the role.",
        ));
    }
    st.roles.remove(name);
    Ok(json!({}))
}

fn list_roles(st: &State, p: &Params) -> R {
    let filter = read_tags(p)?;
    let items = st
        .roles
        .iter()
        .filter(|(_, r)| filter.iter().all(|(k, v)| r.role.tags.get(k) == Some(v)))
        .map(|(k, r)| (k.clone(), r))
        .collect();
    let (page, marker) = paginate(items, p, 1000, 100)?;
    let page = page.into_iter().map(|r| role_json(st, r, false)).collect();
    Ok(page_json("Roles", "Role", page, marker))
}

// ---------------------------------------------------------------- policies

fn policy_type(p: &Params) -> Result<PolicyType, ErrorResponse> {
    match p.required("PolicyType")? {
        "System" => Ok(PolicyType::System),
        "Custom" => Ok(PolicyType::Custom),
        _ => Err(ErrorResponse::invalid(
            "PolicyType",
            None,
            "The PolicyType must be System or Custom.",
        )),
    }
}

fn policy_not_found(p: &PolicyRef) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.Policy",
        format!("The policy does not exist: {p}."),
    )
}

fn policy_ref(st: &State, p: &Params) -> Result<PolicyRef, ErrorResponse> {
    let name = p.required("PolicyName")?;
    let r = PolicyRef::new(policy_type(p)?, name);
    if !st.policy_exists(&r) {
        return Err(policy_not_found(&r));
    }
    Ok(r)
}

fn custom<'a>(st: &'a State, name: &str) -> Result<&'a PolicyRec, ErrorResponse> {
    st.policies
        .get(name)
        .ok_or_else(|| policy_not_found(&PolicyRef::custom(name)))
}

fn version_json(v: &PolicyVersion) -> Value {
    json!({
        "VersionId": v.id,
        "IsDefaultVersion": v.is_default,
        "PolicyDocument": v.document,
        "CreateDate": v.create_date.clone().unwrap_or_default(),
    })
}

fn create_policy(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("PolicyName")?;
    check_name("PolicyName", name, 128, policy_name_char)?;
    let doc = p.required("PolicyDocument")?;
    check_policy_document("PolicyDocument", doc, quota::POLICY_SIZE)?;
    check_length("Description", p.get("Description"), 1024)?;
    let tags = read_tags(p)?;
    ensure_new(
        st.policies.contains_key(name),
        st.policies.len(),
        quota::POLICIES,
        ("Policy", "policy", "policies"),
        name,
    )?;
    let policy = Policy {
        name: name.to_string(),
        description: p.get("Description").map(str::to_string),
        create_date: Some(t.to_string()),
        tags,
        versions: vec![PolicyVersion {
            id: "v1".into(),
            is_default: true,
            document: doc.to_string(),
            create_date: Some(t.to_string()),
        }],
    };
    st.policies.insert(
        name.to_string(),
        PolicyRec {
            policy,
            update_date: t.to_string(),
            next_version: 2,
        },
    );
    Ok(json!({"Policy": {
        "PolicyName": name,
        "PolicyType": "Custom",
        "Description": p.get("Description").unwrap_or_default(),
        "DefaultVersion": "v1",
        "CreateDate": t,
    }}))
}

fn get_policy(st: &State, p: &Params) -> R {
    let r = policy_ref(st, p)?;
    let mut policy = st.policy_json(&r, st.attachment_count(&r));
    policy["PolicyDocument"] = json!("N/A");
    policy.as_object_mut().map(|o| o.remove("Tags"));
    let default = match r.policy_type {
        PolicyType::System => {
            let s = &st.system[r.name.as_str()];
            json!({"VersionId": "v1", "IsDefaultVersion": true, "PolicyDocument": s.document, "CreateDate": s.create_date})
        }
        PolicyType::Custom => st.policies[r.name.as_str()]
            .policy
            .default_version()
            .map(version_json)
            .unwrap_or(Value::Null),
    };
    Ok(json!({"Policy": policy, "DefaultPolicyVersion": default}))
}

fn update_policy_description(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("PolicyName")?;
    check_length("NewDescription", p.get("NewDescription"), 1024)?;
    custom(st, name)?;
    let rec = st.policies.get_mut(name).expect("checked");
    rec.policy.description = p.get("NewDescription").map(str::to_string);
    rec.update_date = t.to_string();
    let mut v = st.policy_json(&PolicyRef::custom(name), 0);
    if let Some(o) = v.as_object_mut() {
        o.remove("AttachmentCount");
        o.remove("Tags");
    }
    Ok(json!({"Policy": v}))
}

fn delete_policy(st: &mut State, p: &Params) -> R {
    let name = p.required("PolicyName")?;
    let cascade = p.bool("CascadingDelete")?.unwrap_or(false);
    let rec = custom(st, name)?;
    let r = PolicyRef::custom(name);
    let on = |kind| st.attachments.keys().any(|(k, _, q)| *k == kind && *q == r);
    if on(Principal::User) {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Policy.User",
            "The policy CAN NOT been attached to any user while deleting the policy.",
        ));
    }
    if on(Principal::Group) {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Policy.Group",
            "The policy CAN NOT been attached to any group while deleting the policy.",
        ));
    }
    if on(Principal::Role) {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Role.Policy",
            "The policy CAN NOT been attached to any role while deleting the policy.",
        ));
    }
    if !cascade && rec.policy.versions.len() > 1 {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Policy.Version",
            "The policy CAN NOT has any version except the default version.",
        ));
    }
    st.policies.remove(name);
    Ok(json!({}))
}

fn list_policies(st: &State, p: &Params) -> R {
    let filter = match p.get("PolicyType") {
        None => None,
        Some(_) => Some(policy_type(p)?),
    };
    let tags = read_tags(p)?;
    let mut items: Vec<(String, PolicyRef)> = vec![];
    if filter != Some(PolicyType::Custom) && tags.is_empty() {
        for name in st.system.keys() {
            items.push((format!("System/{name}"), PolicyRef::system(name.clone())));
        }
    }
    if filter != Some(PolicyType::System) {
        for (name, rec) in &st.policies {
            if tags.iter().all(|(k, v)| rec.policy.tags.get(k) == Some(v)) {
                items.push((format!("Custom/{name}"), PolicyRef::custom(name.clone())));
            }
        }
    }
    let (page, marker) = paginate(items, p, 1000, 100)?;
    let counts = st.attachment_counts();
    let page = page
        .iter()
        .map(|r| st.policy_json(r, counts.get(r).copied().unwrap_or(0)))
        .collect();
    Ok(page_json("Policies", "Policy", page, marker))
}

fn create_policy_version(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("PolicyName")?;
    let doc = p.required("PolicyDocument")?;
    check_policy_document("PolicyDocument", doc, quota::POLICY_SIZE)?;
    let set_default = p.bool("SetAsDefault")?.unwrap_or(false);
    let rotate = match p.get("RotateStrategy").unwrap_or("None") {
        "None" => false,
        "DeleteOldestNonDefaultVersionWhenLimitExceeded" => true,
        other => {
            return Err(ErrorResponse::invalid(
                "RotateStrategy",
                None,
                format!("The RotateStrategy \"{other}\" is not valid."),
            ));
        }
    };
    custom(st, name)?;
    let rec = st.policies.get_mut(name).expect("checked");
    if rec.policy.versions.len() >= quota::VERSIONS_PER_POLICY {
        if !rotate {
            return Err(ErrorResponse::conflict(
                "LimitExceeded.Policy.Version",
                format!(
                    "The count of versions of the policy beyond the current limits: {}.",
                    quota::VERSIONS_PER_POLICY
                ),
            ));
        }
        if let Some(pos) = rec.policy.versions.iter().position(|v| !v.is_default) {
            rec.policy.versions.remove(pos);
        }
    }
    let id = format!("v{}", rec.next_version);
    rec.next_version += 1;
    if set_default {
        for v in &mut rec.policy.versions {
            v.is_default = false;
        }
    }
    let v = PolicyVersion {
        id,
        is_default: set_default,
        document: doc.to_string(),
        create_date: Some(t.to_string()),
    };
    rec.policy.versions.push(v.clone());
    rec.update_date = t.to_string();
    Ok(json!({"PolicyVersion": version_json(&v)}))
}

fn find_version<'a>(rec: &'a PolicyRec, id: &str) -> Result<&'a PolicyVersion, ErrorResponse> {
    rec.policy
        .versions
        .iter()
        .find(|v| v.id == id)
        .ok_or_else(|| {
            ErrorResponse::not_found(
                "EntityNotExist.Policy.Version",
                format!("The policy version does not exist: {id}."),
            )
        })
}

fn get_policy_version(st: &State, p: &Params) -> R {
    let r = policy_ref(st, p)?;
    let id = p.required("VersionId")?;
    match r.policy_type {
        PolicyType::System => {
            if id != "v1" {
                return Err(ErrorResponse::not_found(
                    "EntityNotExist.Policy.Version",
                    format!("The policy version does not exist: {id}."),
                ));
            }
            let s = &st.system[r.name.as_str()];
            Ok(
                json!({"PolicyVersion": {"VersionId": "v1", "IsDefaultVersion": true, "PolicyDocument": s.document, "CreateDate": s.create_date}}),
            )
        }
        PolicyType::Custom => Ok(
            json!({"PolicyVersion": version_json(find_version(&st.policies[r.name.as_str()], id)?)}),
        ),
    }
}

fn list_policy_versions(st: &State, p: &Params) -> R {
    let r = policy_ref(st, p)?;
    let versions = match r.policy_type {
        PolicyType::System => {
            let s = &st.system[r.name.as_str()];
            vec![
                json!({"VersionId": "v1", "IsDefaultVersion": true, "PolicyDocument": s.document, "CreateDate": s.create_date}),
            ]
        }
        PolicyType::Custom => st.policies[r.name.as_str()]
            .policy
            .versions
            .iter()
            .map(version_json)
            .collect(),
    };
    Ok(list_json("PolicyVersions", "PolicyVersion", versions))
}

fn delete_policy_version(st: &mut State, p: &Params) -> R {
    let name = p.required("PolicyName")?;
    let id = p.required("VersionId")?;
    let rec = custom(st, name)?;
    if find_version(rec, id)?.is_default {
        return Err(ErrorResponse::conflict(
            "DeleteConflict.Policy.Version.Default",
            "The default policy version CAN NOT been deleted directly.",
        ));
    }
    let rec = st.policies.get_mut(name).expect("checked");
    rec.policy.versions.retain(|v| v.id != id);
    Ok(json!({}))
}

fn set_default_policy_version(st: &mut State, p: &Params, t: &str) -> R {
    let name = p.required("PolicyName")?;
    let id = p.required("VersionId")?;
    find_version(custom(st, name)?, id)?;
    let rec = st.policies.get_mut(name).expect("checked");
    for v in &mut rec.policy.versions {
        v.is_default = v.id == id;
    }
    rec.update_date = t.to_string();
    Ok(json!({}))
}

fn list_entities_for_policy(st: &State, p: &Params) -> R {
    let r = policy_ref(st, p)?;
    let mut users = vec![];
    let mut groups = vec![];
    let mut roles = vec![];
    for ((kind, name, q), date) in &st.attachments {
        if *q != r {
            continue;
        }
        match kind {
            Principal::User => {
                if let Some(u) = st.users.get(name) {
                    users.push(json!({"UserId": u.user.id, "UserName": name, "DisplayName": u.user.display_name.clone().unwrap_or_default(), "AttachDate": date}));
                }
            }
            Principal::Group => {
                if let Some(g) = st.groups.get(name) {
                    groups.push(json!({"GroupName": name, "Comments": g.group.comments.clone().unwrap_or_default(), "AttachDate": date}));
                }
            }
            Principal::Role => {
                if let Some(x) = st.roles.get(name) {
                    roles.push(json!({"RoleId": x.role.id, "RoleName": name, "Arn": format!("acs:ram::{}:role/{}", st.account.id, name), "Description": x.role.description.clone().unwrap_or_default(), "AttachDate": date}));
                }
            }
        }
    }
    Ok(json!({
        "Users": {"User": users},
        "Groups": {"Group": groups},
        "Roles": {"Role": roles},
    }))
}

fn principal_param(kind: Principal) -> &'static str {
    match kind {
        Principal::User => "UserName",
        Principal::Group => "GroupName",
        Principal::Role => "RoleName",
    }
}

fn check_principal(st: &State, kind: Principal, name: &str) -> Result<(), ErrorResponse> {
    match kind {
        Principal::User => st.user(name).map(|_| ()),
        Principal::Group => st.group(name).map(|_| ()),
        Principal::Role => st
            .roles
            .get(name)
            .map(|_| ())
            .ok_or_else(|| role_not_found(name)),
    }
}

fn list_policies_for(st: &State, kind: Principal, p: &Params) -> R {
    let name = p.required(principal_param(kind))?;
    check_principal(st, kind, name)?;
    let list = st
        .attached(kind, name)
        .into_iter()
        .map(|(r, date)| {
            let full = st.policy_json(&r, 0);
            json!({
                "PolicyName": r.name,
                "PolicyType": r.policy_type.to_string(),
                "Description": full["Description"],
                "DefaultVersion": full["DefaultVersion"],
                "AttachDate": date,
            })
        })
        .collect();
    Ok(list_json("Policies", "Policy", list))
}

fn kind_code(kind: Principal) -> &'static str {
    match kind {
        Principal::User => "User",
        Principal::Group => "Group",
        Principal::Role => "Role",
    }
}

pub fn attach_policy(
    st: &mut State,
    kind: Principal,
    name: &str,
    r: PolicyRef,
    t: &str,
) -> Result<(), ErrorResponse> {
    check_principal(st, kind, name)?;
    if !st.policy_exists(&r) {
        return Err(policy_not_found(&r));
    }
    let key = (kind, name.to_string(), r.clone());
    if st.attachments.contains_key(&key) {
        return Err(ErrorResponse::conflict(
            format!("EntityAlreadyExists.{}.Policy", kind_code(kind)),
            format!("The policy {r} is already attached to {name}."),
        ));
    }
    let same_type = st
        .attached(kind, name)
        .iter()
        .filter(|(q, _)| q.policy_type == r.policy_type)
        .count();
    let limit = match r.policy_type {
        PolicyType::System => quota::SYSTEM_POLICIES_PER_ENTITY,
        PolicyType::Custom => quota::CUSTOM_POLICIES_PER_ENTITY,
    };
    if same_type >= limit {
        return Err(ErrorResponse::conflict(
            format!("LimitExceeded.{}.Policy", kind_code(kind)),
            format!(
                "The count of {} policies attached to {name} beyond the current limits: {limit}.",
                r.policy_type
            ),
        ));
    }
    st.attachments.insert(key, t.to_string());
    Ok(())
}

fn attach(st: &mut State, kind: Principal, p: &Params, t: &str) -> R {
    let name = p.required(principal_param(kind))?.to_string();
    let pol = p.required("PolicyName")?;
    let r = PolicyRef::new(policy_type(p)?, pol);
    attach_policy(st, kind, &name, r, t)?;
    Ok(json!({}))
}

fn detach(st: &mut State, kind: Principal, p: &Params) -> R {
    let name = p.required(principal_param(kind))?.to_string();
    let pol = p.required("PolicyName")?;
    let r = PolicyRef::new(policy_type(p)?, pol);
    check_principal(st, kind, &name)?;
    if !st.policy_exists(&r) {
        return Err(policy_not_found(&r));
    }
    if st
        .attachments
        .remove(&(kind, name.clone(), r.clone()))
        .is_none()
    {
        return Err(ErrorResponse::not_found(
            format!("EntityNotExist.{}.Policy", kind_code(kind)),
            format!("The policy {r} is not attached to {name}."),
        ));
    }
    Ok(json!({}))
}

// ---------------------------------------------------------------- alias

fn set_account_alias(st: &mut State, p: &Params) -> R {
    let alias = p.required("AccountAlias")?;
    let len = alias.chars().count();
    if !(3..=32).contains(&len) {
        return Err(ErrorResponse::invalid(
            "AccountAlias",
            Some("Length"),
            "The AccountAlias must be 3 to 32 characters.",
        ));
    }
    let ok = alias
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !alias.starts_with('-')
        && !alias.ends_with('-')
        && !alias.contains("--");
    if !ok {
        return Err(ErrorResponse::invalid(
            "AccountAlias",
            Some("Format"),
            "The AccountAlias may hold lowercase letters, digits and single inner hyphens.",
        ));
    }
    st.account.alias = Some(alias.to_string());
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramstate_model::{Inventory, Service};
    use std::collections::BTreeMap;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    fn state() -> State {
        State::from_seed(
            &Inventory {
                account: ramstate_model::Account {
                    id: "1234567890123456".into(),
                    ..Default::default()
                },
                ..Default::default()
            },
            1,
            now(),
        )
        .unwrap()
    }

    fn call(st: &mut State, action: &str, pairs: &[(&str, &str)]) -> R {
        let map: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        handle(
            st,
            &Identity::Account,
            action,
            &Params::new(Service::Ram, map),
            now(),
        )
        .unwrap()
    }

    const DOC: &str =
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}"#;

    #[test]
    fn delete_user_with_keys_is_a_conflict() {
        let mut st = state();
        call(&mut st, "CreateUser", &[("UserName", "alice")]).unwrap();
        call(&mut st, "CreateAccessKey", &[("UserName", "alice")]).unwrap();
        let e = call(&mut st, "DeleteUser", &[("UserName", "alice")]).unwrap_err();
        assert_eq!(
            (e.status, e.code.as_str()),
            (409, "DeleteConflict.User.AccessKey")
        );
    }

    #[test]
    fn third_access_key_exceeds_the_limit() {
        let mut st = state();
        call(&mut st, "CreateUser", &[("UserName", "alice")]).unwrap();
        call(&mut st, "CreateAccessKey", &[("UserName", "alice")]).unwrap();
        call(&mut st, "CreateAccessKey", &[("UserName", "alice")]).unwrap();
        let e = call(&mut st, "CreateAccessKey", &[("UserName", "alice")]).unwrap_err();
        assert_eq!(e.code, "LimitExceeded.User.AccessKey");
    }

    #[test]
    fn sixth_policy_version_needs_rotation() {
        let mut st = state();
        call(
            &mut st,
            "CreatePolicy",
            &[("PolicyName", "p"), ("PolicyDocument", DOC)],
        )
        .unwrap();
        for _ in 0..4 {
            call(
                &mut st,
                "CreatePolicyVersion",
                &[("PolicyName", "p"), ("PolicyDocument", DOC)],
            )
            .unwrap();
        }
        let e = call(
            &mut st,
            "CreatePolicyVersion",
            &[("PolicyName", "p"), ("PolicyDocument", DOC)],
        )
        .unwrap_err();
        assert_eq!(e.code, "LimitExceeded.Policy.Version");
        let v = call(
            &mut st,
            "CreatePolicyVersion",
            &[
                ("PolicyName", "p"),
                ("PolicyDocument", DOC),
                (
                    "RotateStrategy",
                    "DeleteOldestNonDefaultVersionWhenLimitExceeded",
                ),
                ("SetAsDefault", "True"),
            ],
        )
        .unwrap();
        assert_eq!(v["PolicyVersion"]["VersionId"], "v6");
        let ids: Vec<_> = st.policies["p"]
            .policy
            .versions
            .iter()
            .map(|v| v.id.clone())
            .collect();
        assert_eq!(ids, ["v1", "v3", "v4", "v5", "v6"]);
        assert_eq!(st.policies["p"].policy.default_version().unwrap().id, "v6");
    }

    #[test]
    fn delete_policy_without_cascade_keeps_versions_rule() {
        let mut st = state();
        call(
            &mut st,
            "CreatePolicy",
            &[("PolicyName", "p"), ("PolicyDocument", DOC)],
        )
        .unwrap();
        call(
            &mut st,
            "CreatePolicyVersion",
            &[("PolicyName", "p"), ("PolicyDocument", DOC)],
        )
        .unwrap();
        let e = call(&mut st, "DeletePolicy", &[("PolicyName", "p")]).unwrap_err();
        assert_eq!(e.code, "DeleteConflict.Policy.Version");
        let e = call(
            &mut st,
            "DeletePolicyVersion",
            &[("PolicyName", "p"), ("VersionId", "v1")],
        )
        .unwrap_err();
        assert_eq!(e.code, "DeleteConflict.Policy.Version.Default");
        call(
            &mut st,
            "DeletePolicy",
            &[("PolicyName", "p"), ("CascadingDelete", "true")],
        )
        .unwrap();
        assert!(st.policies.is_empty());
    }

    #[test]
    fn renaming_a_user_keeps_its_relations() {
        let mut st = state();
        call(&mut st, "CreateUser", &[("UserName", "alice")]).unwrap();
        call(&mut st, "CreateGroup", &[("GroupName", "dev")]).unwrap();
        call(
            &mut st,
            "AddUserToGroup",
            &[("UserName", "alice"), ("GroupName", "dev")],
        )
        .unwrap();
        call(
            &mut st,
            "AttachPolicyToUser",
            &[
                ("UserName", "alice"),
                ("PolicyName", "ReadOnlyAccess"),
                ("PolicyType", "System"),
            ],
        )
        .unwrap();
        call(
            &mut st,
            "UpdateUser",
            &[("UserName", "alice"), ("NewUserName", "alicia")],
        )
        .unwrap();
        assert_eq!(st.groups_of("alicia"), ["dev"]);
        assert_eq!(st.policies_of(Principal::User, "alicia").len(), 1);
        assert!(st.groups_of("alice").is_empty());
    }

    #[test]
    fn account_quotas_are_enforced() {
        let mut st = state();
        for i in 0..quota::GROUPS {
            call(&mut st, "CreateGroup", &[("GroupName", &format!("g{i}"))]).unwrap();
        }
        let e = call(&mut st, "CreateGroup", &[("GroupName", "one-more")]).unwrap_err();
        assert_eq!((e.status, e.code.as_str()), (409, "LimitExceeded.Group"));
        for i in 0..quota::POLICIES {
            call(
                &mut st,
                "CreatePolicy",
                &[("PolicyName", &format!("p{i}")), ("PolicyDocument", DOC)],
            )
            .unwrap();
        }
        let e = call(
            &mut st,
            "CreatePolicy",
            &[("PolicyName", "one-more"), ("PolicyDocument", DOC)],
        )
        .unwrap_err();
        assert_eq!(e.code, "LimitExceeded.Policy");
        let trust = r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"1"}}]}"#;
        for i in 0..quota::ROLES {
            call(
                &mut st,
                "CreateRole",
                &[
                    ("RoleName", &format!("r{i}")),
                    ("AssumeRolePolicyDocument", trust),
                ],
            )
            .unwrap();
        }
        let e = call(
            &mut st,
            "CreateRole",
            &[
                ("RoleName", "one-more"),
                ("AssumeRolePolicyDocument", trust),
            ],
        )
        .unwrap_err();
        assert_eq!(e.code, "LimitExceeded.Role");
        for i in 0..quota::USERS {
            call(&mut st, "CreateUser", &[("UserName", &format!("u{i}"))]).unwrap();
        }
        let e = call(&mut st, "CreateUser", &[("UserName", "one-more")]).unwrap_err();
        assert_eq!(e.code, "LimitExceeded.User");
        for i in 0..quota::SYSTEM_POLICIES_PER_ENTITY {
            let name = st.system.keys().nth(i).unwrap().clone();
            call(
                &mut st,
                "AttachPolicyToRole",
                &[
                    ("RoleName", "r0"),
                    ("PolicyName", &name),
                    ("PolicyType", "System"),
                ],
            )
            .unwrap();
        }
        let name = st
            .system
            .keys()
            .nth(quota::SYSTEM_POLICIES_PER_ENTITY)
            .unwrap()
            .clone();
        let e = call(
            &mut st,
            "AttachPolicyToRole",
            &[
                ("RoleName", "r0"),
                ("PolicyName", &name),
                ("PolicyType", "System"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.code, "LimitExceeded.Role.Policy");
    }

    #[test]
    fn mfa_device_names_are_unique_and_checked() {
        let mut st = state();
        call(
            &mut st,
            "CreateVirtualMFADevice",
            &[("VirtualMFADeviceName", "dev1")],
        )
        .unwrap();
        let e = call(
            &mut st,
            "CreateVirtualMFADevice",
            &[("VirtualMFADeviceName", "dev1")],
        )
        .unwrap_err();
        assert_eq!(e.code, "EntityAlreadyExists.VirtualMFADevice");
        let e = call(
            &mut st,
            "CreateVirtualMFADevice",
            &[("VirtualMFADeviceName", "dev 1")],
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidParameter.VirtualMFADeviceName.InvalidChars");
    }

    #[test]
    fn a_user_binds_one_device_and_a_device_binds_one_user() {
        let mut st = state();
        for u in ["a", "b"] {
            call(&mut st, "CreateUser", &[("UserName", u)]).unwrap();
        }
        let mut serials = vec![];
        for d in ["d1", "d2"] {
            let v = call(
                &mut st,
                "CreateVirtualMFADevice",
                &[("VirtualMFADeviceName", d)],
            )
            .unwrap();
            let serial = v["VirtualMFADevice"]["SerialNumber"]
                .as_str()
                .unwrap()
                .to_string();
            let seed =
                base32_decode(v["VirtualMFADevice"]["Base32StringSeed"].as_str().unwrap()).unwrap();
            serials.push((serial, seed));
        }
        let step = (now().unix_timestamp() / 30) as u64;
        let bind = |st: &mut State, user: &str, (serial, seed): &(String, Vec<u8>)| {
            let (c1, c2) = (totp(seed, step), totp(seed, step + 1));
            call(
                st,
                "BindMFADevice",
                &[
                    ("UserName", user),
                    ("SerialNumber", serial),
                    ("AuthenticationCode1", &c1),
                    ("AuthenticationCode2", &c2),
                ],
            )
        };
        bind(&mut st, "a", &serials[0]).unwrap();
        assert_eq!(
            bind(&mut st, "b", &serials[0]).unwrap_err().code,
            "EntityAlreadyExists.VirtualMFADevice.User"
        );
        assert_eq!(
            bind(&mut st, "a", &serials[1]).unwrap_err().code,
            "EntityAlreadyExists.User.MFADevice"
        );
        let e = call(
            &mut st,
            "BindMFADevice",
            &[
                ("UserName", "b"),
                ("SerialNumber", &serials[1].0),
                ("AuthenticationCode1", "12ab56"),
                ("AuthenticationCode2", "123456"),
            ],
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidParameter.AuthenticationCode.Format");
        let info = call(&mut st, "GetUserMFAInfo", &[("UserName", "a")]).unwrap();
        assert_eq!(info["MFADevice"]["SerialNumber"], serials[0].0.as_str());
    }

    #[test]
    fn totp_matches_the_rfc_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s → step 1, 8 digits 94287082.
        assert_eq!(totp(b"12345678901234567890", 1), "287082");
        let enc = base32(b"12345678901234567890");
        assert_eq!(enc, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(base32_decode(&enc).unwrap(), b"12345678901234567890");
    }
}
