//! Alibaba Cloud RPC Signature Version 1.0 (HMAC-SHA1), as pure functions.
//!
//! Time and nonce are parameters so every step is reproducible; the client supplies
//! the real clock and a fresh UUID.

use std::collections::BTreeMap;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::model::ApiCall;

/// Percent-encodes one name or value the way Signature V1 wants it: unreserved
/// characters (`A-Z a-z 0-9 - _ . ~`) stay, every other UTF-8 byte becomes `%XY`
/// with uppercase hex (so space is `%20`, `*` is `%2A`, `~` is kept).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(char::from(b"0123456789ABCDEF"[(b >> 4) as usize]));
            out.push(char::from(b"0123456789ABCDEF"[(b & 0x0f) as usize]));
        }
    }
    out
}

/// `name=value` pairs, percent-encoded, sorted by name, joined with `&`.
/// Empty values are kept as `Name=`. A `Signature` entry is never part of it.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "Signature")
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `METHOD&%2F&<percent-encoded canonical query>`.
pub fn string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    )
}

/// Base64 of HMAC-SHA1 over `string_to_sign`, keyed with `secret + "&"`.
pub fn sign(secret: &str, string_to_sign: &str) -> String {
    hmac_sha1_base64(&format!("{secret}&"), string_to_sign)
}

/// Base64 of HMAC-SHA1 with the key taken as is.
pub fn hmac_sha1_base64(key: &str, data: &str) -> String {
    let mut mac =
        Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The key material a request is signed with.
#[derive(Clone, Copy)]
pub struct SigningKey<'a> {
    pub access_key_id: &'a str,
    pub access_key_secret: &'a str,
    /// Present for STS credentials; it is sent and signed as `SecurityToken`.
    pub security_token: Option<&'a str>,
}

impl std::fmt::Debug for SigningKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field("security_token", &self.security_token.map(|_| "<redacted>"))
            .finish()
    }
}

/// The common parameters every call carries, without any key material.
pub fn common_params(call: &ApiCall, timestamp: &str, nonce: &str) -> BTreeMap<String, String> {
    let mut params = call.params.clone();
    params.insert("Action".into(), call.action.clone());
    params.insert("Version".into(), call.service.version().into());
    params.insert("Format".into(), "JSON".into());
    params.insert("Timestamp".into(), timestamp.into());
    params.insert("SignatureNonce".into(), nonce.into());
    params
}

/// Every parameter of the request, `Signature` included.
///
/// With `key = None` the call is anonymous (STS AssumeRoleWithOIDC): no key, no
/// signature, only the common and operation parameters.
pub fn signed_params(
    call: &ApiCall,
    key: Option<SigningKey<'_>>,
    method: &str,
    timestamp: &str,
    nonce: &str,
) -> BTreeMap<String, String> {
    let mut params = common_params(call, timestamp, nonce);
    let Some(key) = key else {
        return params;
    };
    params.insert("AccessKeyId".into(), key.access_key_id.into());
    params.insert("SignatureMethod".into(), "HMAC-SHA1".into());
    params.insert("SignatureVersion".into(), "1.0".into());
    if let Some(token) = key.security_token {
        params.insert("SecurityToken".into(), token.into());
    }
    let signature = sign(key.access_key_secret, &string_to_sign(method, &params));
    params.insert("Signature".into(), signature);
    params
}

/// Timestamps as Signature V1 wants them: `2016-02-23T12:46:24Z`.
pub fn format_timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Service;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Checks string-to-sign and signature of one published vector.
    fn check(method: &str, pairs: &[(&str, &str)], secret: &str, sts: &str, sig: &str) {
        let params = map(pairs);
        let got = string_to_sign(method, &params);
        assert_eq!(got, sts);
        assert_eq!(sign(secret, &got), sig);
    }

    #[test]
    fn percent_encoding_keeps_tilde_and_encodes_space_star_plus_slash() {
        assert_eq!(percent_encode(" ~/*-+"), "%20~%2F%2A-%2B");
        assert_eq!(percent_encode("a.b_c-d"), "a.b_c-d");
        assert_eq!(percent_encode("é"), "%C3%A9");
        assert_eq!(percent_encode("a=b&c"), "a%3Db%26c");
    }

    #[test]
    fn canonical_query_keeps_empty_values_and_drops_signature() {
        let p = map(&[("b", ""), ("a", "x y"), ("Signature", "zzz")]);
        assert_eq!(canonical_query(&p), "a=x%20y&b=");
    }

    #[test]
    fn empty_and_simple_strings_to_sign_match_the_go_sdk() {
        assert_eq!(string_to_sign("GET", &BTreeMap::new()), "GET&%2F&");
        assert_eq!(
            string_to_sign("GET", &map(&[("key", "value")])),
            "GET&%2F&key%3Dvalue"
        );
        assert_eq!(
            string_to_sign(
                "GET",
                &map(&[("key", "value"), ("q", "http://domain/?q=value&q2=value2")])
            ),
            "GET&%2F&key%3Dvalue%26q%3Dhttp%253A%252F%252Fdomain%252F%253Fq%253Dvalue%2526q2%253Dvalue2"
        );
    }

    #[test]
    fn ecs_describe_regions_vector() {
        check(
            "GET",
            &[
                ("AccessKeyId", "testid"),
                ("Action", "DescribeRegions"),
                ("Format", "XML"),
                ("SignatureMethod", "HMAC-SHA1"),
                ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
                ("SignatureVersion", "1.0"),
                ("Timestamp", "2016-02-23T12:46:24Z"),
                ("Version", "2014-05-26"),
            ],
            "testsecret",
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26",
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY=",
        );
    }

    #[test]
    fn ecs_describe_regions_vector_with_old_timestamp_spelling() {
        let params = map(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("TimeStamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]);
        assert_eq!(
            sign("testsecret", &string_to_sign("GET", &params)),
            "CT9X0VtwR86fNWSnsc6v8YGOjuE="
        );
    }

    #[test]
    fn ram_create_user_vector() {
        check(
            "GET",
            &[
                ("UserName", "test"),
                ("SignatureVersion", "1.0"),
                ("Format", "JSON"),
                ("Timestamp", "2015-08-18T03:15:45Z"),
                ("AccessKeyId", "testid"),
                ("SignatureMethod", "HMAC-SHA1"),
                ("Version", "2015-05-01"),
                ("Action", "CreateUser"),
                ("SignatureNonce", "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2"),
            ],
            "testsecret",
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2%26SignatureVersion%3D1.0%26Timestamp%3D2015-08-18T03%253A15%253A45Z%26UserName%3Dtest%26Version%3D2015-05-01",
            "kRA2cnpJVacIhDMzXnoNZG9tDCI=",
        );
    }

    const IMS_CREATE_USER: &[(&str, &str)] = &[
        ("Action", "CreateUser"),
        ("UserPrincipalName", "test@example.onaliyun.com"),
        ("DisplayName", "test"),
        ("SignatureVersion", "1.0"),
        ("Format", "JSON"),
        ("Timestamp", "2021-01-15T06:02:28Z"),
        ("AccessKeyId", "testid"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("Version", "2019-08-15"),
        ("SignatureNonce", "3f6b4e80-56f7-11eb-a256-a9f756ea7e85"),
    ];

    #[test]
    fn ims_create_user_vector_encodes_at_sign_twice() {
        check(
            "GET",
            IMS_CREATE_USER,
            "testsecret",
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26DisplayName%3Dtest%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3f6b4e80-56f7-11eb-a256-a9f756ea7e85%26SignatureVersion%3D1.0%26Timestamp%3D2021-01-15T06%253A02%253A28Z%26UserPrincipalName%3Dtest%2540example.onaliyun.com%26Version%3D2019-08-15",
            "02heLegtw4+BFamznl1Ltj+vJ4A=",
        );
        assert_eq!(
            percent_encode("02heLegtw4+BFamznl1Ltj+vJ4A="),
            "02heLegtw4%2BBFamznl1Ltj%2BvJ4A%3D"
        );
    }

    #[test]
    fn ims_create_user_vector_signed_with_post() {
        let params = map(IMS_CREATE_USER);
        assert_eq!(
            sign("testsecret", &string_to_sign("POST", &params)),
            "mD0SbFr7zT+WURRocPqGkz1E+80="
        );
    }

    #[test]
    fn sts_assume_role_vector_encodes_colon_and_slash_in_values() {
        check(
            "GET",
            &[
                ("SignatureVersion", "1.0"),
                ("Format", "JSON"),
                ("Timestamp", "2015-09-01T05:57:34Z"),
                ("RoleArn", "acs:ram::1234567890123:role/firstrole"),
                ("RoleSessionName", "client"),
                ("AccessKeyId", "testid"),
                ("SignatureMethod", "HMAC-SHA1"),
                ("Version", "2015-04-01"),
                ("Action", "AssumeRole"),
                ("SignatureNonce", "571f8fb8-506e-11e5-8e12-b8e8563dc8d2"),
            ],
            "testsecret",
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DAssumeRole%26Format%3DJSON%26RoleArn%3Dacs%253Aram%253A%253A1234567890123%253Arole%252Ffirstrole%26RoleSessionName%3Dclient%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D571f8fb8-506e-11e5-8e12-b8e8563dc8d2%26SignatureVersion%3D1.0%26Timestamp%3D2015-09-01T05%253A57%253A34Z%26Version%3D2015-04-01",
            "gNI7b0AyKZHxDgjBGPDgJ1Ce3L4=",
        );
    }

    const GO_SDK_DEFAULTS: &[(&str, &str)] = &[
        ("AccessKeyId", "accessKeyId"),
        ("Action", ""),
        ("Format", "JSON"),
        ("RegionId", "regionId"),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureNonce", "MOCK_UUID"),
        ("SignatureType", ""),
        ("SignatureVersion", "1.0"),
        ("Timestamp", "mock date"),
        ("Version", ""),
    ];

    #[test]
    fn go_sdk_vector_with_empty_values() {
        check(
            "GET",
            GO_SDK_DEFAULTS,
            "accessKeySecret",
            "GET&%2F&AccessKeyId%3DaccessKeyId%26Action%3D%26Format%3DJSON%26RegionId%3DregionId%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3DMOCK_UUID%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3Dmock%2520date%26Version%3D",
            "7loPmFjvDnzOVnQeQNj85S6nFGY=",
        );
    }

    #[test]
    fn go_sdk_vector_with_security_token() {
        let mut params = map(GO_SDK_DEFAULTS);
        params.insert("SecurityToken".into(), "accessKeyStsToken".into());
        assert_eq!(
            sign("accessKeySecret", &string_to_sign("GET", &params)),
            "5Nxdcler+ihqWqv0Hr2On4PsBf4="
        );
    }

    #[test]
    fn darabonba_util_vector() {
        check(
            "GET",
            &[("query", "test"), ("body", "test")],
            "secret",
            "GET&%2F&body%3Dtest%26query%3Dtest",
            "XlUyV4sXjOuX5FnjUz9IF9tm5rU=",
        );
    }

    #[test]
    fn raw_hmac_vector_uses_the_key_as_given() {
        assert_eq!(
            hmac_sha1_base64("accessKeySecretsuffix", "string to sign"),
            "Dqy7QZhP4TyQUDa3SBSFXopJaIo="
        );
    }

    #[test]
    fn signed_params_reproduce_the_ram_create_user_vector() {
        let call = ApiCall::new(Service::Ram, "CreateUser", [("UserName", "test")]);
        let key = SigningKey {
            access_key_id: "testid",
            access_key_secret: "testsecret",
            security_token: None,
        };
        let p = signed_params(
            &call,
            Some(key),
            "GET",
            "2015-08-18T03:15:45Z",
            "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2",
        );
        assert_eq!(p["Signature"], "kRA2cnpJVacIhDMzXnoNZG9tDCI=");
        assert_eq!(p["Format"], "JSON");
        assert!(!p.contains_key("SecurityToken"));
    }

    #[test]
    fn signed_params_sign_the_security_token() {
        let call = ApiCall::new(
            Service::Sts,
            "GetCallerIdentity",
            Vec::<(String, String)>::new(),
        );
        let with = |token| {
            signed_params(
                &call,
                Some(SigningKey {
                    access_key_id: "STS.id",
                    access_key_secret: "s",
                    security_token: token,
                }),
                "POST",
                "2020-01-01T00:00:00Z",
                "n",
            )
        };
        let a = with(Some("tok-a"));
        let b = with(Some("tok-b"));
        assert_eq!(a["SecurityToken"], "tok-a");
        assert_ne!(a["Signature"], b["Signature"]);
        let mut unsigned = a.clone();
        let sig = unsigned.remove("Signature").unwrap();
        assert_eq!(sign("s", &string_to_sign("POST", &unsigned)), sig);
    }

    #[test]
    fn anonymous_params_carry_no_key_and_no_signature() {
        let call = ApiCall::new(Service::Sts, "AssumeRoleWithOIDC", [("RoleArn", "r")]);
        let p = signed_params(&call, None, "POST", "t", "n");
        assert!(!p.contains_key("Signature"));
        assert!(!p.contains_key("AccessKeyId"));
        assert_eq!(p["Action"], "AssumeRoleWithOIDC");
        assert_eq!(p["Version"], "2015-04-01");
    }

    proptest::proptest! {
        #[test]
        fn percent_encoding_uses_only_unreserved_characters_and_round_trips(s in "\\PC*") {
            let encoded = percent_encode(&s);
            let bytes = encoded.as_bytes();
            let mut decoded = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                let b = bytes[i];
                if b == b'%' {
                    let hex = &encoded[i + 1..i + 3];
                    proptest::prop_assert!(hex.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()));
                    decoded.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 3;
                } else {
                    proptest::prop_assert!(b.is_ascii_alphanumeric() || b"-_.~".contains(&b));
                    decoded.push(b);
                    i += 1;
                }
            }
            proptest::prop_assert_eq!(String::from_utf8(decoded).unwrap(), s);
        }

        #[test]
        fn a_signature_covers_every_parameter(
            params in proptest::collection::btree_map("[A-Za-z]{1,8}", "\\PC{0,12}", 0..6),
            extra in "[a-z]{1,6}",
        ) {
            let call = ApiCall { service: Service::Ram, action: "ListUsers".into(), params: params.clone() };
            let key = SigningKey { access_key_id: "id", access_key_secret: "s", security_token: None };
            let signed = signed_params(&call, Some(key), "POST", "2020-01-01T00:00:00Z", "n");
            let mut unsigned = signed.clone();
            let sig = unsigned.remove("Signature").unwrap();
            proptest::prop_assert_eq!(sign("s", &string_to_sign("POST", &unsigned)), sig.clone());
            // Changing any one value changes the signature.
            if let Some((k, v)) = params.iter().next() {
                let mut tampered = unsigned.clone();
                tampered.insert(k.clone(), format!("{v}{extra}"));
                proptest::prop_assert_ne!(sign("s", &string_to_sign("POST", &tampered)), sig);
            }
        }
    }

    #[test]
    fn timestamps_are_utc_seconds_with_z() {
        let t = time::macros::datetime!(2016-02-23 20:46:24.5 +08:00);
        assert_eq!(format_timestamp(t), "2016-02-23T12:46:24Z");
    }
}
