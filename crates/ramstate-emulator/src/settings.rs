//! IMS 2019-08-15 account settings: the password policy and the security preferences
//! for RAM users. Both live on the account (`Account::password_policy`,
//! `Account::security_preference`), so seeds and snapshots carry them; an account that
//! never had one set answers the documented defaults.
//!
//! `Set*` replaces the whole setting: the reference gives every parameter a default,
//! and a parameter left out takes it. Clients that mean to keep a value send it.
//!
//! RAM 2015-05-01 has operations of the same names with other field names
//! (`HardExpiry`, public-key preferences); the reference documents only the IMS ones,
//! so only those are answered.

use serde_json::{Value, json};

use super::error::{ErrorResponse, Params};
use super::state::State;
use ramstate_model::{
    MfaOperationForLogin, OperationForRiskLogin, PasswordPolicy, SecurityPreference,
};

type R = Result<Value, ErrorResponse>;

/// Runs one settings action; `None` when it is not one.
pub fn handle(st: &mut State, action: &str, p: &Params) -> Option<R> {
    Some(match action {
        "GetPasswordPolicy" => Ok(json!({
            "PasswordPolicy": password_policy_json(&st.account.password_policy.clone().unwrap_or_default())
        })),
        "SetPasswordPolicy" => read_password_policy(p).map(|policy| {
            let v = json!({"PasswordPolicy": password_policy_json(&policy)});
            st.account.password_policy = Some(policy);
            v
        }),
        "GetSecurityPreference" => Ok(json!({
            "SecurityPreference": security_preference_json(
                &st.account.security_preference.clone().unwrap_or_default()
            )
        })),
        "SetSecurityPreference" => read_security_preference(p).map(|pref| {
            let v = json!({"SecurityPreference": security_preference_json(&pref)});
            st.account.security_preference = Some(pref);
            v
        }),
        _ => return None,
    })
}

/// An integer parameter within `min..=max`. The reference names a code for one range
/// only, `InvalidParameter.MinimumPasswordLength.Range`; the others follow that pattern
/// (`InvalidParameter.<Name>.Range`), the closest documented code.
fn ranged(p: &Params, name: &str, min: u32, max: u32, default: u32) -> Result<u32, ErrorResponse> {
    match p.get(name) {
        None => Ok(default),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ErrorResponse::invalid(
                name,
                Some("Range"),
                format!(
                    "The parameter {name} must be an integer from {min} to {max}, not \"{v}\"."
                ),
            )),
        },
    }
}

fn flag(p: &Params, name: &str, default: bool) -> Result<bool, ErrorResponse> {
    Ok(p.bool(name)?.unwrap_or(default))
}

/// The documented ranges of each field, checked; what a seed must hold too.
pub fn check_password_policy(policy: &PasswordPolicy) -> Result<(), String> {
    let ranges = [
        ("max_login_attempts", policy.max_login_attempts, 0, 32),
        ("max_password_age", policy.max_password_age, 0, 1095),
        (
            "minimum_password_different_character",
            policy.minimum_password_different_character,
            0,
            8,
        ),
        (
            "minimum_password_length",
            policy.minimum_password_length,
            8,
            32,
        ),
        (
            "password_reuse_prevention",
            policy.password_reuse_prevention,
            0,
            24,
        ),
    ];
    for (name, value, min, max) in ranges {
        if !(min..=max).contains(&value) {
            return Err(format!(
                "password_policy.{name} is {value}; it must be {min} to {max}"
            ));
        }
    }
    Ok(())
}

fn read_password_policy(p: &Params) -> Result<PasswordPolicy, ErrorResponse> {
    let d = PasswordPolicy::default();
    Ok(PasswordPolicy {
        hard_expire: flag(p, "HardExpire", d.hard_expire)?,
        max_login_attempts: ranged(p, "MaxLoginAttemps", 0, 32, d.max_login_attempts)?,
        max_password_age: ranged(p, "MaxPasswordAge", 0, 1095, d.max_password_age)?,
        minimum_password_different_character: ranged(
            p,
            "MinimumPasswordDifferentCharacter",
            0,
            8,
            d.minimum_password_different_character,
        )?,
        minimum_password_length: ranged(
            p,
            "MinimumPasswordLength",
            8,
            32,
            d.minimum_password_length,
        )?,
        password_not_contain_user_name: flag(
            p,
            "PasswordNotContainUserName",
            d.password_not_contain_user_name,
        )?,
        password_reuse_prevention: ranged(
            p,
            "PasswordReusePrevention",
            0,
            24,
            d.password_reuse_prevention,
        )?,
        require_lowercase_characters: flag(
            p,
            "RequireLowercaseCharacters",
            d.require_lowercase_characters,
        )?,
        require_numbers: flag(p, "RequireNumbers", d.require_numbers)?,
        require_symbols: flag(p, "RequireSymbols", d.require_symbols)?,
        require_uppercase_characters: flag(
            p,
            "RequireUppercaseCharacters",
            d.require_uppercase_characters,
        )?,
    })
}

pub fn password_policy_json(policy: &PasswordPolicy) -> Value {
    json!({
        "HardExpire": policy.hard_expire,
        "MaxLoginAttemps": policy.max_login_attempts,
        "MaxPasswordAge": policy.max_password_age,
        "MinimumPasswordDifferentCharacter": policy.minimum_password_different_character,
        "MinimumPasswordLength": policy.minimum_password_length,
        "PasswordNotContainUserName": policy.password_not_contain_user_name,
        "PasswordReusePrevention": policy.password_reuse_prevention,
        "RequireLowercaseCharacters": policy.require_lowercase_characters,
        "RequireNumbers": policy.require_numbers,
        "RequireSymbols": policy.require_symbols,
        "RequireUppercaseCharacters": policy.require_uppercase_characters,
    })
}

/// Whether `password` meets `policy` for user `user`: length, the required kinds of
/// character, distinct characters and the user name. (Reuse prevention needs a
/// password history, which the emulator does not keep.)
pub fn password_meets(policy: &PasswordPolicy, user: &str, password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < policy.minimum_password_length as usize {
        return Err(format!(
            "at least {} characters",
            policy.minimum_password_length
        ));
    }
    let needs = [
        (
            policy.require_lowercase_characters,
            password.chars().any(|c| c.is_ascii_lowercase()),
            "a lowercase letter",
        ),
        (
            policy.require_uppercase_characters,
            password.chars().any(|c| c.is_ascii_uppercase()),
            "an uppercase letter",
        ),
        (
            policy.require_numbers,
            password.chars().any(|c| c.is_ascii_digit()),
            "a digit",
        ),
        (
            policy.require_symbols,
            password.chars().any(|c| !c.is_ascii_alphanumeric()),
            "a special character",
        ),
    ];
    if let Some((_, _, what)) = needs.iter().find(|(required, has, _)| *required && !has) {
        return Err(what.to_string());
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < policy.minimum_password_different_character as usize {
        return Err(format!(
            "at least {} different characters",
            policy.minimum_password_different_character
        ));
    }
    if policy.password_not_contain_user_name
        && !user.is_empty()
        && password.to_lowercase().contains(&user.to_lowercase())
    {
        return Err("no user name in it".to_string());
    }
    Ok(())
}

/// The documented range of the one ranged field, checked; what a seed must hold too.
pub fn check_security_preference(pref: &SecurityPreference) -> Result<(), String> {
    if !(1..=24).contains(&pref.login_session_duration) {
        return Err(format!(
            "security_preference.login_session_duration is {}; it must be 1 to 24 hours",
            pref.login_session_duration
        ));
    }
    if let Some(masks) = &pref.login_network_masks {
        check_masks(masks).map_err(|e| format!("security_preference.login_network_masks: {e}"))?;
    }
    Ok(())
}

/// `10.0.0.0/8` or a bare address, several joined by `;`.
fn check_masks(masks: &str) -> Result<(), String> {
    for item in masks.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let (addr, prefix) = item.split_once('/').unwrap_or((item, "32"));
        let ok = addr.parse::<std::net::Ipv4Addr>().is_ok()
            && prefix.parse::<u8>().is_ok_and(|n| n <= 32);
        if !ok {
            return Err(format!("`{item}` is not an IPv4 address or CIDR block"));
        }
    }
    Ok(())
}

/// `VerificationTypes` as the SDKs send it (one JSON array, `["sms","email"]`), or
/// repeated (`VerificationTypes.1`, ...).
fn verification_types(p: &Params) -> Result<Vec<String>, ErrorResponse> {
    if let Some(raw) = p.get("VerificationTypes") {
        return serde_json::from_str::<Vec<String>>(raw).map_err(|_| {
            ErrorResponse::invalid(
                "VerificationTypes",
                None,
                "The VerificationTypes must be a JSON array of strings.",
            )
        });
    }
    Ok((1..=20)
        .map_while(|n| p.get(&format!("VerificationTypes.{n}")).map(str::to_string))
        .collect())
}

fn read_security_preference(p: &Params) -> Result<SecurityPreference, ErrorResponse> {
    let d = SecurityPreference::default();
    // No code is documented for these values; `InvalidParameter.<Name>` (what any
    // invalid parameter answers) is the closest.
    let mfa = match p.get("MFAOperationForLogin") {
        None => d.mfa_operation_for_login,
        Some(v) => v.parse::<MfaOperationForLogin>().map_err(|e| {
            ErrorResponse::invalid(
                "MFAOperationForLogin",
                None,
                format!("MFAOperationForLogin {e}."),
            )
        })?,
    };
    let risk = match p.get("OperationForRiskLogin") {
        None => d.operation_for_risk_login,
        Some(v) => v.parse::<OperationForRiskLogin>().map_err(|e| {
            ErrorResponse::invalid(
                "OperationForRiskLogin",
                None,
                format!("OperationForRiskLogin {e}."),
            )
        })?,
    };
    let masks = p.get("LoginNetworkMasks").map(str::to_string);
    if let Some(m) = &masks {
        check_masks(m).map_err(|e| {
            ErrorResponse::invalid(
                "LoginNetworkMasks",
                None,
                format!("LoginNetworkMasks: {e}."),
            )
        })?;
    }
    Ok(SecurityPreference {
        // Same pattern as the password policy's ranges (see `ranged`).
        login_session_duration: ranged(p, "LoginSessionDuration", 1, 24, d.login_session_duration)?,
        login_network_masks: masks,
        mfa_operation_for_login: mfa,
        operation_for_risk_login: risk,
        enable_save_mfa_ticket: flag(p, "EnableSaveMFATicket", d.enable_save_mfa_ticket)?,
        allow_user_to_change_password: flag(
            p,
            "AllowUserToChangePassword",
            d.allow_user_to_change_password,
        )?,
        allow_user_to_login_with_passkey: flag(
            p,
            "AllowUserToLoginWithPasskey",
            d.allow_user_to_login_with_passkey,
        )?,
        allow_user_to_manage_access_keys: flag(
            p,
            "AllowUserToManageAccessKeys",
            d.allow_user_to_manage_access_keys,
        )?,
        allow_user_to_manage_mfa_devices: flag(
            p,
            "AllowUserToManageMFADevices",
            d.allow_user_to_manage_mfa_devices,
        )?,
        allow_user_to_manage_personal_ding_talk: flag(
            p,
            "AllowUserToManagePersonalDingTalk",
            d.allow_user_to_manage_personal_ding_talk,
        )?,
        verification_types: verification_types(p)?,
        // Fixed by Alibaba; no parameter changes them.
        max_idle_days_for_access_keys: d.max_idle_days_for_access_keys,
        max_idle_days_for_users: d.max_idle_days_for_users,
    })
}

pub fn security_preference_json(pref: &SecurityPreference) -> Value {
    json!({
        "AccessKeyPreference": {
            "AllowUserToManageAccessKeys": pref.allow_user_to_manage_access_keys,
        },
        "LoginProfilePreference": {
            "AllowUserToChangePassword": pref.allow_user_to_change_password,
            "AllowUserToLoginWithPasskey": pref.allow_user_to_login_with_passkey,
            "EnableSaveMFATicket": pref.enable_save_mfa_ticket,
            "LoginNetworkMasks": pref.login_network_masks.clone().unwrap_or_default(),
            "LoginSessionDuration": pref.login_session_duration,
            "MFAOperationForLogin": pref.mfa_operation_for_login.as_str(),
            "OperationForRiskLogin": pref.operation_for_risk_login.as_str(),
        },
        "MFAPreference": {
            "AllowUserToManageMFADevices": pref.allow_user_to_manage_mfa_devices,
        },
        "MaxIdleDays": {
            "MaxIdleDaysForAccessKeys": pref.max_idle_days_for_access_keys,
            "MaxIdleDaysForUsers": pref.max_idle_days_for_users,
        },
        "PersonalInfoPreference": {
            "AllowUserToManagePersonalDingTalk": pref.allow_user_to_manage_personal_ding_talk,
        },
        "VerificationPreference": {
            "VerificationTypes": pref.verification_types,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramstate_model::{Inventory, Service};
    use std::collections::BTreeMap;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(
            Service::Ims,
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    fn state() -> State {
        let seed: Inventory = yaml_serde::from_str("account: {id: '1234567890123456'}").unwrap();
        State::from_seed(
            &seed,
            1,
            time::OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn a_fresh_account_answers_the_documented_defaults() {
        let mut st = state();
        let v = handle(&mut st, "GetPasswordPolicy", &params(&[]))
            .unwrap()
            .unwrap();
        assert_eq!(v["PasswordPolicy"]["MinimumPasswordLength"], 8);
        assert_eq!(v["PasswordPolicy"]["MaxLoginAttemps"], 0);
        assert_eq!(v["PasswordPolicy"]["RequireSymbols"], false);
        let v = handle(&mut st, "GetSecurityPreference", &params(&[]))
            .unwrap()
            .unwrap();
        let login = &v["SecurityPreference"]["LoginProfilePreference"];
        assert_eq!(login["LoginSessionDuration"], 6);
        assert_eq!(login["MFAOperationForLogin"], "independent");
        assert_eq!(login["OperationForRiskLogin"], "autonomous");
        assert_eq!(
            v["SecurityPreference"]["MaxIdleDays"]["MaxIdleDaysForUsers"],
            730
        );
        assert!(st.account.password_policy.is_none());
    }

    #[test]
    fn passwords_are_held_to_the_policy() {
        let policy = PasswordPolicy {
            minimum_password_length: 12,
            require_symbols: true,
            require_numbers: true,
            minimum_password_different_character: 6,
            password_not_contain_user_name: true,
            ..PasswordPolicy::default()
        };
        assert!(password_meets(&policy, "bob", "Correct-horse-9").is_ok());
        assert!(password_meets(&policy, "bob", "Short-9").is_err());
        assert!(password_meets(&policy, "bob", "Correcthorse9x").is_err());
        assert!(password_meets(&policy, "bob", "aaaaaaaaaaa-1").is_err());
        assert!(password_meets(&policy, "bob", "I-am-BOB-the-9th").is_err());
        assert!(password_meets(&PasswordPolicy::default(), "bob", "12345678").is_ok());
    }

    #[test]
    fn network_masks_are_addresses_or_blocks() {
        assert!(check_masks("10.0.0.0/8;192.168.1.7").is_ok());
        assert!(check_masks("10.0.0.0/33").is_err());
        assert!(check_masks("example.com").is_err());
    }
}
