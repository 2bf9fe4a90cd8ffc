//! STS 2015-04-01: GetCallerIdentity, AssumeRole, AssumeRoleWithOIDC and AssumeRoleWithSAML.

use base64::Engine;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

use super::error::{ErrorResponse, Params};
use super::state::{Identity, RoleRec, Session, State, timestamp};

type R = Result<Value, ErrorResponse>;

/// Runs one STS action; `None` when STS has no such action.
pub fn handle(
    st: &mut State,
    who: &Identity,
    action: &str,
    p: &Params,
    now: OffsetDateTime,
) -> Option<R> {
    // Temporary credentials, tokens and assertions are bounded by the wall clock
    // that clients sign with, whatever the account's clock says.
    let now = st.wall_clock(now);
    Some(match action {
        "GetCallerIdentity" => caller_identity(st, who),
        "AssumeRole" => assume_role(st, who, p, now),
        "AssumeRoleWithOIDC" => assume_role_with_oidc(st, p, now),
        "AssumeRoleWithSAML" => assume_role_with_saml(st, p, now),
        _ => return None,
    })
}

fn caller_identity(st: &State, who: &Identity) -> R {
    let acct = &st.account.id;
    Ok(match who {
        Identity::Account => json!({
            "AccountId": acct,
            "Arn": format!("acs:ram::{acct}:root"),
            "IdentityType": "Account",
            "PrincipalId": acct,
            "UserId": acct,
        }),
        Identity::User { name, .. } => {
            let id = st
                .users
                .get(name)
                .map(|u| u.user.id.clone())
                .unwrap_or_default();
            json!({
                "AccountId": acct,
                "Arn": format!("acs:ram::{acct}:user/{name}"),
                "IdentityType": "RAMUser",
                "PrincipalId": id,
                "UserId": id,
            })
        }
        Identity::Role {
            role,
            role_id,
            session_name,
        } => json!({
            "AccountId": acct,
            "Arn": format!("acs:ram::{acct}:assumed-role/{role}/{session_name}"),
            "IdentityType": "AssumedRoleUser",
            "PrincipalId": format!("{role_id}:{session_name}"),
            "RoleId": role_id,
        }),
        Identity::Anonymous => {
            return Err(ErrorResponse::forbidden(
                "NoPermission",
                "You are not authorized to do this action.",
            ));
        }
    })
}

/// The role an ARN names: `acs:ram::<account>:role/<name>` (name case-insensitive).
fn role_from_arn<'a>(st: &'a State, arn: &str) -> Result<&'a RoleRec, ErrorResponse> {
    let bad = || {
        ErrorResponse::invalid(
            "RoleArn",
            None,
            format!("The RoleArn \"{arn}\" is not acs:ram::<account>:role/<name>."),
        )
    };
    let rest = arn.strip_prefix("acs:ram::").ok_or_else(bad)?;
    let (acct, role) = rest.split_once(":role/").ok_or_else(bad)?;
    if acct.is_empty() || role.is_empty() {
        return Err(bad());
    }
    let not_found = || {
        ErrorResponse::not_found(
            "EntityNotExist.Role",
            format!("The role does not exist: {arn}."),
        )
    };
    if acct != st.account.id {
        return Err(not_found());
    }
    st.roles
        .values()
        .find(|r| r.role.name.eq_ignore_ascii_case(role))
        .ok_or_else(not_found)
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => vec![],
    }
}

/// Whether the trust policy lets `principals` (ARNs or the account ID) call `action`
/// through the `key` principal kind (`RAM` or `Federated`).
fn trusts(doc: Option<&str>, key: &str, action: &str, principals: &[String]) -> bool {
    trusts_in(doc, key, action, principals, &[])
}

/// [`trusts`], where a statement also needs its `Condition` to hold for the call's
/// `context` (condition keys such as `oidc:sub` with the values of the call). The string
/// operators are evaluated (`StringEquals`, `StringNotEquals`, `StringLike`,
/// `StringNotLike`, with their `IgnoreCase` forms); a condition on a key the context does
/// not carry, or with another operator, is not checked.
fn trusts_in(
    doc: Option<&str>,
    key: &str,
    action: &str,
    principals: &[String],
    context: &[(&str, Vec<String>)],
) -> bool {
    let Some(v) = doc.and_then(|d| serde_json::from_str::<Value>(d).ok()) else {
        return false;
    };
    let Some(statements) = v.get("Statement").and_then(|s| s.as_array()) else {
        return false;
    };
    statements.iter().any(|s| {
        s.get("Effect").and_then(|e| e.as_str()) == Some("Allow")
            && s.get("Action").is_some_and(|a| {
                strings(a)
                    .iter()
                    .any(|x| x.eq_ignore_ascii_case(action) || x == "sts:*" || x == "*")
            })
            && s.get("Principal")
                .and_then(|p| p.get(key))
                .is_some_and(|p| {
                    strings(p)
                        .iter()
                        .any(|x| x == "*" || principals.iter().any(|q| q.eq_ignore_ascii_case(x)))
                })
            && s.get("Condition")
                .is_none_or(|c| conditions_hold(c, context))
    })
}

/// Every checked condition of a statement holds for `context`.
fn conditions_hold(conditions: &Value, context: &[(&str, Vec<String>)]) -> bool {
    let Some(ops) = conditions.as_object() else {
        return false;
    };
    ops.iter().all(|(op, keys)| {
        let op_lower = op.to_ascii_lowercase();
        let (base, ignore_case) = match op_lower.strip_suffix("ignorecase") {
            Some(b) => (b, true),
            None => (op_lower.as_str(), false),
        };
        let (like, negated) = match base {
            "stringequals" => (false, false),
            "stringnotequals" => (false, true),
            "stringlike" => (true, false),
            "stringnotlike" => (true, true),
            _ => return true,
        };
        let Some(keys) = keys.as_object() else {
            return false;
        };
        keys.iter().all(|(k, wanted)| {
            let Some((_, actual)) = context.iter().find(|(c, _)| c.eq_ignore_ascii_case(k)) else {
                return true;
            };
            let fold = |s: &str| {
                if ignore_case {
                    s.to_ascii_lowercase()
                } else {
                    s.to_string()
                }
            };
            let any = strings(wanted).iter().any(|w| {
                actual.iter().any(|a| {
                    let (w, a) = (fold(w), fold(a));
                    if like { glob_match(&w, &a) } else { w == a }
                })
            });
            any != negated
        })
    })
}

/// `*` (any run) and `?` (one character) in a `StringLike` pattern.
fn glob_match(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn session_name(p: &Params, default: Option<&str>) -> Result<String, ErrorResponse> {
    let name = match p.get("RoleSessionName") {
        Some(n) => n.to_string(),
        None => match default {
            Some(d) => d.to_string(),
            None => return Err(p.required("RoleSessionName").unwrap_err()),
        },
    };
    let len = name.chars().count();
    let ok = (2..=64).contains(&len)
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '@' | '-' | '_'));
    if !ok {
        return Err(ErrorResponse::invalid(
            "RoleSessionName",
            None,
            "The RoleSessionName must be 2 to 64 letters, digits, `.`, `@`, `-` or `_`.",
        ));
    }
    Ok(name)
}

fn duration(p: &Params, max: u32) -> Result<i64, ErrorResponse> {
    match p.get("DurationSeconds") {
        None => Ok(3600.min(max as i64)),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (900..=max as i64).contains(&n) => Ok(n),
            _ => Err(ErrorResponse::invalid(
                "DurationSeconds",
                None,
                format!("The DurationSeconds must be from 900 to {max}."),
            )),
        },
    }
}

fn session_policy(p: &Params) -> Result<(), ErrorResponse> {
    if let Some(pol) = p.get("Policy") {
        if pol.chars().count() > 2048 {
            return Err(ErrorResponse::invalid(
                "PolicySize",
                None,
                "The session policy must be at most 2048 characters.",
            ));
        }
        if serde_json::from_str::<Value>(pol)
            .ok()
            .and_then(|v| v.get("Statement").cloned())
            .is_none()
        {
            return Err(ErrorResponse::invalid(
                "PolicyGrammar",
                None,
                "The session policy is not a valid policy document.",
            ));
        }
    }
    Ok(())
}

fn issue(st: &mut State, role: &RoleRec, session: String, secs: i64, now: OffsetDateTime) -> Value {
    let key = format!("STS.{}", st.alnum(24));
    let secret = st.alnum(40);
    let token = st.request_token();
    let exp = now + Duration::seconds(secs);
    st.sessions.insert(
        key.clone(),
        Session {
            secret: secret.clone(),
            token: token.clone(),
            role: role.role.name.clone(),
            role_id: role.role.id.clone(),
            session_name: session.clone(),
            expiration: exp,
        },
    );
    let acct = &st.account.id;
    json!({
        "Credentials": {
            "AccessKeyId": key,
            "AccessKeySecret": secret,
            "SecurityToken": token,
            "Expiration": timestamp(exp),
        },
        "AssumedRoleUser": {
            "Arn": format!("acs:ram::{acct}:role/{}/{session}", role.role.name.to_lowercase()),
            "AssumedRoleId": format!("{}:{session}", role.role.id),
        },
    })
}

fn assume_role(st: &mut State, who: &Identity, p: &Params, now: OffsetDateTime) -> R {
    let arn = p.required("RoleArn")?;
    let session = session_name(p, None)?;
    session_policy(p)?;
    if *who == Identity::Account {
        return Err(ErrorResponse::forbidden(
            "NoPermission",
            "You are not authorized to do this action. An Alibaba Cloud account (root) cannot assume a role; call as a RAM user or role.",
        ));
    }
    let role = role_from_arn(st, arn)?.clone();
    let secs = duration(p, role.role.max_session_duration)?;
    let acct = st.account.id.clone();
    let mut principals = vec![acct.clone(), format!("acs:ram::{acct}:root")];
    match who {
        Identity::User { name, .. } => principals.push(format!("acs:ram::{acct}:user/{name}")),
        Identity::Role { role, .. } => principals.push(format!("acs:ram::{acct}:role/{role}")),
        _ => {}
    }
    if !trusts(
        role.role.assume_role_policy_document.as_deref(),
        "RAM",
        "sts:AssumeRole",
        &principals,
    ) {
        return Err(ErrorResponse::forbidden(
            "NoPermission",
            "You are not authorized to do this action. The role's trust policy does not name the caller.",
        ));
    }
    Ok(issue(st, &role, session, secs, now))
}

/// Claims of a JWT (the signature is not checked: the emulator cannot reach the issuer).
fn jwt_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn assume_role_with_oidc(st: &mut State, p: &Params, now: OffsetDateTime) -> R {
    let provider_arn = p.required("OIDCProviderArn")?;
    let arn = p.required("RoleArn")?;
    let token = p.required("OIDCToken")?;
    let session = session_name(p, Some("oidc-session"))?;
    session_policy(p)?;
    let fail = |code: &str, msg: &str| Err(ErrorResponse::new(401, code, msg));
    let name = provider_arn
        .strip_prefix(&format!("acs:ram::{}:oidc-provider/", st.account.id))
        .unwrap_or_default();
    let Some(provider) = st.oidc.get(name).cloned() else {
        return fail(
            "AuthenticationFail.NoPermission",
            "No such OIDC Provider registered.",
        );
    };
    let Some(claims) = jwt_claims(token) else {
        return fail(
            "AuthenticationFail.OIDCToken.Invalid",
            "The OIDC token is not a JWT.",
        );
    };
    if claims.get("iss").and_then(|v| v.as_str()) != Some(provider.provider.issuer_url.as_str()) {
        return fail(
            "AuthenticationFail.OIDCToken.IssuerNotMatch",
            "The token issuer does not match the provider.",
        );
    }
    let aud = claims.get("aud").map(strings).unwrap_or_default();
    if !aud.iter().any(|a| provider.provider.client_ids.contains(a)) {
        return fail(
            "AuthenticationFail.OIDCToken.AudienceNotMatch",
            "The token audience does not match the provider's client IDs.",
        );
    }
    let exp = claims.get("exp").and_then(|v| v.as_i64()).unwrap_or(0);
    if exp <= now.unix_timestamp() {
        return fail(
            "AuthenticationFail.OIDCToken.Expired",
            "The OIDC token has expired.",
        );
    }
    let role = role_from_arn(st, arn)?.clone();
    let sub = claims
        .get("sub")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let context = [
        ("oidc:iss", vec![provider.provider.issuer_url.clone()]),
        ("oidc:aud", aud.clone()),
        ("oidc:sub", vec![sub.to_string()]),
    ];
    if !trusts_in(
        role.role.assume_role_policy_document.as_deref(),
        "Federated",
        "sts:AssumeRole",
        &[provider_arn.to_string()],
        &context,
    ) {
        return fail(
            "AuthenticationFail.NoPermission",
            "The role does not trust this OIDC provider.",
        );
    }
    let secs = duration(p, role.role.max_session_duration)?;
    let mut v = issue(st, &role, session, secs, now);
    let iat = claims.get("iat").and_then(|v| v.as_i64()).unwrap_or(0);
    let when = |s: i64| {
        OffsetDateTime::from_unix_timestamp(s)
            .map(timestamp)
            .unwrap_or_default()
    };
    v["OIDCTokenInfo"] = json!({
        "Issuer": provider.provider.issuer_url,
        "Subject": claims.get("sub").and_then(|v| v.as_str()).unwrap_or_default(),
        "ClientIds": aud.join(","),
        "IssuanceTime": when(iat),
        "ExpirationTime": when(exp),
        "VerificationInfo": "Success",
    });
    Ok(v)
}

/// The parts of a SAML response STS reads.
#[derive(Debug, Default, PartialEq)]
struct SamlAssertion {
    issuer: String,
    subject: String,
    subject_type: String,
    recipient: String,
    session_name: Option<String>,
    not_on_or_after: Option<String>,
}

/// The first capture of `pattern` in `xml`.
fn capture(xml: &str, pattern: &str) -> Option<String> {
    regex::Regex::new(pattern)
        .ok()?
        .captures(xml)?
        .get(1)
        .map(|m| m.as_str().trim().to_string())
}

/// Reads a Base64 SAML response (the signature is not checked: the emulator holds no
/// IdP certificates it could trust).
fn saml_assertion(encoded: &str) -> Option<SamlAssertion> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let xml = String::from_utf8(bytes).ok()?;
    let issuer = capture(&xml, r"<(?:\w+:)?Issuer[^>]*>([^<]+)</")?;
    let subject = capture(&xml, r"<(?:\w+:)?NameID[^>]*>([^<]+)</").unwrap_or_default();
    let format = capture(&xml, r#"<(?:\w+:)?NameID[^>]*Format="([^"]+)""#).unwrap_or_default();
    Some(SamlAssertion {
        issuer,
        subject,
        subject_type: format.rsplit(':').next().unwrap_or_default().to_string(),
        recipient: capture(&xml, r#"Recipient="([^"]+)""#).unwrap_or_default(),
        session_name: capture(
            &xml,
            r#"Name="https://www\.aliyun\.com/SAML-Role/Attributes/RoleSessionName"[^>]*>\s*<(?:\w+:)?AttributeValue[^>]*>([^<]+)</"#,
        ),
        not_on_or_after: capture(&xml, r#"NotOnOrAfter="([^"]+)""#),
    })
}

fn assume_role_with_saml(st: &mut State, p: &Params, now: OffsetDateTime) -> R {
    let provider_arn = p.required("SAMLProviderArn")?;
    let arn = p.required("RoleArn")?;
    let encoded = p.required("SAMLAssertion")?;
    session_policy(p)?;
    let name = provider_arn
        .strip_prefix(&format!("acs:ram::{}:saml-provider/", st.account.id))
        .unwrap_or_default();
    if !st.saml.contains_key(name) {
        return Err(ErrorResponse::not_found(
            "EntityNotExist.SAMLProvider",
            format!("The SAML provider does not exist: {provider_arn}."),
        ));
    }
    // As documented for this call: an unreadable or expired assertion fails
    // authentication (401), an unknown role is `EntityNotExist.RoleArn`.
    let a = saml_assertion(encoded).ok_or_else(|| {
        ErrorResponse::new(
            401,
            "AuthenticationFail.SAMLAssertion.Invalid",
            "The SAMLAssertion is not a Base64 SAML response with an Issuer.",
        )
    })?;
    if let Some(limit) = &a.not_on_or_after
        && OffsetDateTime::parse(limit, &time::format_description::well_known::Rfc3339)
            .is_ok_and(|t| t <= now)
    {
        return Err(ErrorResponse::new(
            401,
            "AuthenticationFail.SAMLAssertion.Expired",
            "The SAML assertion has expired.",
        ));
    }
    let session = a.session_name.clone().ok_or_else(|| {
        ErrorResponse::invalid(
            "RoleSessionName",
            None,
            "The assertion carries no RoleSessionName attribute.",
        )
    })?;
    let mut as_params = p.clone();
    as_params
        .map
        .insert("RoleSessionName".into(), session.clone());
    let session = session_name(&as_params, None)?;
    let role = role_from_arn(st, arn)
        .map_err(|e| {
            if e.code == "EntityNotExist.Role" {
                ErrorResponse::not_found(
                    "EntityNotExist.RoleArn",
                    format!("The role does not exist: {arn}."),
                )
            } else {
                e
            }
        })?
        .clone();
    if !trusts(
        role.role.assume_role_policy_document.as_deref(),
        "Federated",
        "sts:AssumeRole",
        &[provider_arn.to_string()],
    ) {
        return Err(ErrorResponse::forbidden(
            "NoPermission",
            "You are not authorized to do this action. The role does not trust this SAML provider.",
        ));
    }
    let secs = duration(p, role.role.max_session_duration)?;
    let mut v = issue(st, &role, session, secs, now);
    v["SAMLAssertionInfo"] = json!({
        "Issuer": a.issuer,
        "Subject": a.subject,
        "SubjectType": a.subject_type,
        "Recipient": a.recipient,
    });
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policy_names_the_account_or_the_user() {
        let doc = r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::123:root"]}}]}"#;
        assert!(trusts(
            Some(doc),
            "RAM",
            "sts:AssumeRole",
            &["acs:ram::123:root".into()]
        ));
        assert!(!trusts(
            Some(doc),
            "RAM",
            "sts:AssumeRole",
            &["acs:ram::999:root".into()]
        ));
        let svc = r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}]}"#;
        assert!(!trusts(
            Some(svc),
            "RAM",
            "sts:AssumeRole",
            &["acs:ram::123:root".into()]
        ));
    }

    #[test]
    fn oidc_trust_conditions_on_the_subject_are_checked() {
        let doc = r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["p"]},"Condition":{"StringEquals":{"oidc:aud":"sts.aliyuncs.com"},"StringLike":{"oidc:sub":"repo:acme/*:environment:prod?"}}}]}"#;
        let ctx = |sub: &str| {
            [
                ("oidc:aud", vec!["sts.aliyuncs.com".to_string()]),
                ("oidc:sub", vec![sub.to_string()]),
            ]
        };
        let ok = |sub: &str| {
            trusts_in(
                Some(doc),
                "Federated",
                "sts:AssumeRole",
                &["p".into()],
                &ctx(sub),
            )
        };
        assert!(ok("repo:acme/ram:environment:prod1"));
        assert!(!ok("repo:acme/ram:pull_request"));
        assert!(!ok("repo:other/ram:environment:prod1"));
        // Without the call's context (AssumeRole), oidc conditions are not checked.
        assert!(trusts(
            Some(doc),
            "Federated",
            "sts:AssumeRole",
            &["p".into()]
        ));
        assert!(glob_match("a*b*c", "axxbyyc") && !glob_match("a*b", "axxc"));
    }

    #[test]
    fn saml_responses_are_read_for_issuer_subject_and_session() {
        let xml = r#"<samlp:Response><saml:Issuer>http://idp.example.com/adfs</saml:Issuer><saml:Assertion><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice@example.com</saml:NameID><saml:SubjectConfirmationData Recipient="https://signin.aliyun.com/saml-role/sso" NotOnOrAfter="2099-01-01T00:00:00Z"/></saml:Subject><saml:AttributeStatement><saml:Attribute Name="https://www.aliyun.com/SAML-Role/Attributes/RoleSessionName"><saml:AttributeValue>alice</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion></samlp:Response>"#;
        let a = saml_assertion(&base64::engine::general_purpose::STANDARD.encode(xml)).unwrap();
        assert_eq!(a.issuer, "http://idp.example.com/adfs");
        assert_eq!(a.subject, "alice@example.com");
        assert_eq!(a.subject_type, "persistent");
        assert_eq!(a.recipient, "https://signin.aliyun.com/saml-role/sso");
        assert_eq!(a.session_name.as_deref(), Some("alice"));
        assert!(saml_assertion("%%%").is_none());
    }

    #[test]
    fn jwt_claims_are_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"iss":"https://idp.example.com","aud":"app","exp":10}"#);
        let claims = jwt_claims(&format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig")).unwrap();
        assert_eq!(claims["aud"], "app");
        assert!(jwt_claims("garbage").is_none());
    }
}
