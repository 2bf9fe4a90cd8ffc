//! Request signatures as the gateway checks them: V1 (`HMAC-SHA1`, RPC style) and
//! V3 (`ACS3-HMAC-SHA256` in the `Authorization` header). Pure functions only.
//!
//! This is the emulator's own reading of the signing rules; it does not share code
//! with the client's signer, so a test of one against the other means something.

use std::collections::BTreeMap;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Percent-encodes per the RPC rules: unreserved `A-Z a-z 0-9 - _ . ~` stay, every
/// other UTF-8 byte becomes `%XY` with uppercase hex (so a space is `%20`, `*` is `%2A`).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xF) as usize] as char);
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// `name=value` pairs, each side percent-encoded, sorted by name, joined with `&`.
/// `params` must not contain `Signature`.
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    let mut pairs: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The V1 string to sign: `METHOD&%2F&<percent-encoded canonical query>`.
pub fn v1_string_to_sign(method: &str, params: &BTreeMap<String, String>) -> String {
    format!(
        "{}&{}&{}",
        method.to_ascii_uppercase(),
        percent_encode("/"),
        percent_encode(&canonical_query(params))
    )
}

/// Base64 HMAC-SHA1 of `string_to_sign` keyed with `secret + "&"`.
pub fn v1_signature(secret: &str, string_to_sign: &str) -> String {
    hmac_sha1_base64(&format!("{secret}&"), string_to_sign)
}

/// Base64 HMAC-SHA1 with a raw key.
pub fn hmac_sha1_base64(key: &str, data: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key");
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Lowercase hex HMAC-SHA256.
pub fn hmac_sha256_hex(key: &str, data: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("HMAC accepts any key");
    mac.update(data.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The algorithm name of Signature V3.
pub const V3_ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// A parsed V3 `Authorization` header:
/// `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<a;b>,Signature=<hex>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V3Authorization {
    pub access_key_id: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

impl V3Authorization {
    /// Parses the header value; `None` when it is not a well-formed V3 header.
    pub fn parse(header: &str) -> Option<V3Authorization> {
        let rest = header.trim().strip_prefix(V3_ALGORITHM)?.trim_start();
        let mut id = None;
        let mut signed = None;
        let mut sig = None;
        for part in rest.split(',') {
            let (k, v) = part.trim().split_once('=')?;
            match k.trim() {
                "Credential" => id = Some(v.trim().to_string()),
                "SignedHeaders" => {
                    signed = Some(
                        v.trim()
                            .split(';')
                            .map(|h| h.trim().to_ascii_lowercase())
                            .filter(|h| !h.is_empty())
                            .collect::<Vec<_>>(),
                    )
                }
                "Signature" => sig = Some(v.trim().to_string()),
                _ => {}
            }
        }
        Some(V3Authorization {
            access_key_id: id.filter(|s| !s.is_empty())?,
            signed_headers: signed.filter(|s| !s.is_empty())?,
            signature: sig.filter(|s| !s.is_empty())?,
        })
    }
}

/// The V3 canonical request:
/// `METHOD\nURI\nCANONICAL_QUERY\nCANONICAL_HEADERS\nSIGNED_HEADERS\nHASHED_PAYLOAD`,
/// where each canonical header is `name:trimmed value\n` (lowercase names, sorted) and
/// the signed-header list is the same names joined by `;`.
pub fn v3_canonical_request(
    method: &str,
    path: &str,
    query: &BTreeMap<String, String>,
    headers: &BTreeMap<String, String>,
    signed_headers: &[String],
    hashed_payload: &str,
) -> String {
    let mut names: Vec<String> = signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let mut canonical_headers = String::new();
    for name in &names {
        let value = headers.get(name).map(|v| v.trim()).unwrap_or("");
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value);
        canonical_headers.push('\n');
    }
    let path = if path.is_empty() { "/" } else { path };
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path,
        canonical_query(query),
        canonical_headers,
        names.join(";"),
        hashed_payload
    )
}

/// `ACS3-HMAC-SHA256\n<hex sha256 of the canonical request>`.
pub fn v3_string_to_sign(canonical_request: &str) -> String {
    format!(
        "{V3_ALGORITHM}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Hex HMAC-SHA256 of the string to sign, keyed with the secret itself.
pub fn v3_signature(secret: &str, string_to_sign: &str) -> String {
    hmac_sha256_hex(secret, string_to_sign)
}

/// Constant-time comparison of two signatures.
pub fn signatures_equal(a: &str, b: &str) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.bytes()
        .zip(b.bytes())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn percent_encoding_follows_the_rpc_rules() {
        assert_eq!(percent_encode(" ~/*-+"), "%20~%2F%2A-%2B");
        assert_eq!(percent_encode("a@b:c"), "a%40b%3Ac");
        assert_eq!(percent_encode("é"), "%C3%A9");
    }

    #[test]
    fn describe_regions_vector_matches() {
        let p = params(&[
            ("AccessKeyId", "testid"),
            ("Action", "DescribeRegions"),
            ("Format", "XML"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
            ("SignatureVersion", "1.0"),
            ("Timestamp", "2016-02-23T12:46:24Z"),
            ("Version", "2014-05-26"),
        ]);
        let sts = v1_string_to_sign("GET", &p);
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        );
        assert_eq!(
            v1_signature("testsecret", &sts),
            "OLeaidS1JvxuMvnyHOwuJ+uX5qY="
        );
    }

    #[test]
    fn ram_create_user_vector_matches() {
        let p = params(&[
            ("UserName", "test"),
            ("SignatureVersion", "1.0"),
            ("Format", "JSON"),
            ("Timestamp", "2015-08-18T03:15:45Z"),
            ("AccessKeyId", "testid"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("Version", "2015-05-01"),
            ("Action", "CreateUser"),
            ("SignatureNonce", "6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2"),
        ]);
        let sts = v1_string_to_sign("GET", &p);
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DCreateUser%26Format%3DJSON%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D6a6e0ca6-4557-11e5-86a2-b8e8563dc8d2%26SignatureVersion%3D1.0%26Timestamp%3D2015-08-18T03%253A15%253A45Z%26UserName%3Dtest%26Version%3D2015-05-01"
        );
        assert_eq!(
            v1_signature("testsecret", &sts),
            "kRA2cnpJVacIhDMzXnoNZG9tDCI="
        );
    }

    #[test]
    fn ims_create_user_vector_matches_for_get_and_post() {
        let p = params(&[
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
        ]);
        let sts = v1_string_to_sign("GET", &p);
        assert!(sts.contains("UserPrincipalName%3Dtest%2540example.onaliyun.com"));
        assert_eq!(
            v1_signature("testsecret", &sts),
            "02heLegtw4+BFamznl1Ltj+vJ4A="
        );
        let post = v1_string_to_sign("POST", &p);
        assert_eq!(
            v1_signature("testsecret", &post),
            "mD0SbFr7zT+WURRocPqGkz1E+80="
        );
    }

    #[test]
    fn sts_assume_role_vector_matches() {
        let p = params(&[
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
        ]);
        let sts = v1_string_to_sign("GET", &p);
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3Dtestid%26Action%3DAssumeRole%26Format%3DJSON%26RoleArn%3Dacs%253Aram%253A%253A1234567890123%253Arole%252Ffirstrole%26RoleSessionName%3Dclient%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D571f8fb8-506e-11e5-8e12-b8e8563dc8d2%26SignatureVersion%3D1.0%26Timestamp%3D2015-09-01T05%253A57%253A34Z%26Version%3D2015-04-01"
        );
        assert_eq!(
            v1_signature("testsecret", &sts),
            "gNI7b0AyKZHxDgjBGPDgJ1Ce3L4="
        );
    }

    #[test]
    fn go_sdk_vectors_with_empty_values_and_security_token_match() {
        let mut p = params(&[
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
        ]);
        let sts = v1_string_to_sign("GET", &p);
        assert_eq!(
            sts,
            "GET&%2F&AccessKeyId%3DaccessKeyId%26Action%3D%26Format%3DJSON%26RegionId%3DregionId%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3DMOCK_UUID%26SignatureType%3D%26SignatureVersion%3D1.0%26Timestamp%3Dmock%2520date%26Version%3D"
        );
        assert_eq!(
            v1_signature("accessKeySecret", &sts),
            "7loPmFjvDnzOVnQeQNj85S6nFGY="
        );
        p.insert("SecurityToken".into(), "accessKeyStsToken".into());
        let sts = v1_string_to_sign("GET", &p);
        assert_eq!(
            v1_signature("accessKeySecret", &sts),
            "5Nxdcler+ihqWqv0Hr2On4PsBf4="
        );
    }

    #[test]
    fn go_sdk_string_to_sign_assertions_hold() {
        assert_eq!(v1_string_to_sign("GET", &BTreeMap::new()), "GET&%2F&");
        assert_eq!(
            v1_string_to_sign("GET", &params(&[("key", "value")])),
            "GET&%2F&key%3Dvalue"
        );
        assert_eq!(
            v1_string_to_sign(
                "GET",
                &params(&[("key", "value"), ("q", "http://domain/?q=value&q2=value2")])
            ),
            "GET&%2F&key%3Dvalue%26q%3Dhttp%253A%252F%252Fdomain%252F%253Fq%253Dvalue%2526q2%253Dvalue2"
        );
    }

    #[test]
    fn darabonba_util_and_raw_hmac_vectors_match() {
        let sts = v1_string_to_sign("GET", &params(&[("query", "test"), ("body", "test")]));
        assert_eq!(sts, "GET&%2F&body%3Dtest%26query%3Dtest");
        assert_eq!(v1_signature("secret", &sts), "XlUyV4sXjOuX5FnjUz9IF9tm5rU=");
        assert_eq!(
            hmac_sha1_base64("accessKeySecretsuffix", "string to sign"),
            "Dqy7QZhP4TyQUDa3SBSFXopJaIo="
        );
    }

    #[test]
    fn v3_authorization_header_parses() {
        let a = V3Authorization::parse(
            "ACS3-HMAC-SHA256 Credential=LTAIabc,SignedHeaders=host;x-acs-action;x-acs-date,Signature=deadbeef",
        )
        .unwrap();
        assert_eq!(a.access_key_id, "LTAIabc");
        assert_eq!(a.signed_headers, ["host", "x-acs-action", "x-acs-date"]);
        assert_eq!(a.signature, "deadbeef");
        assert!(V3Authorization::parse("ACS3-HMAC-SHA256 Credential=x").is_none());
        assert!(V3Authorization::parse("Bearer abc").is_none());
    }

    #[test]
    fn v3_canonical_request_has_the_documented_layout() {
        let headers: BTreeMap<String, String> = [
            ("host", "ram.aliyuncs.com"),
            ("x-acs-action", "ListUsers"),
            ("x-acs-version", "2015-05-01"),
            ("x-acs-date", "2024-01-01T00:00:00Z"),
            ("x-acs-content-sha256", "e3b0"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), format!(" {v} ")))
        .collect();
        let signed: Vec<String> = ["x-acs-version", "host", "x-acs-action", "x-acs-date"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cr = v3_canonical_request(
            "post",
            "/",
            &params(&[("MaxItems", "10"), ("Marker", "a b")]),
            &headers,
            &signed,
            "e3b0",
        );
        assert_eq!(
            cr,
            "POST\n/\nMarker=a%20b&MaxItems=10\nhost:ram.aliyuncs.com\nx-acs-action:ListUsers\nx-acs-date:2024-01-01T00:00:00Z\nx-acs-version:2015-05-01\n\nhost;x-acs-action;x-acs-date;x-acs-version\ne3b0"
        );
        let sts = v3_string_to_sign(&cr);
        assert!(sts.starts_with("ACS3-HMAC-SHA256\n"));
        assert_eq!(sts.len(), "ACS3-HMAC-SHA256\n".len() + 64);
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
