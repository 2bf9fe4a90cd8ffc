//! The emulator over real HTTP: authentication, every service's operations and their
//! documented errors, pagination, faults and the request log.

use std::collections::BTreeMap;
use std::time::Duration;

use ramstate_emulator::{self as emulator, Emulator, EmulatorConfig, Faults, sign};
use ramstate_model::{Inventory, Service};
use serde_json::Value;

const RAM: &str = "2015-05-01";
const IMS: &str = "2019-08-15";
const STS: &str = "2015-04-01";
const RM: &str = "2020-03-31";

const DOC: &str =
    r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}"#;

/// A small V1 signer used only by these tests.
#[derive(Clone)]
struct Client {
    url: String,
    key_id: String,
    secret: String,
    token: Option<String>,
    http: reqwest::Client,
}

struct Reply {
    status: u16,
    body: Value,
    retry_after: Option<String>,
}

impl Reply {
    fn code(&self) -> &str {
        self.body["Code"].as_str().unwrap_or("")
    }
    #[track_caller]
    fn expect_success(self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.body
    }
    #[track_caller]
    fn expect_error(&self, status: u16, code: &str) {
        assert_eq!((self.status, self.code()), (status, code), "{}", self.body);
        assert!(self.body["RequestId"].is_string());
        assert!(self.body["HostId"].is_string());
        assert!(self.body["Message"].is_string());
    }
}

fn now_stamp() -> String {
    stamp(time::OffsetDateTime::now_utc())
}

/// `2015-01-23T12:33:18Z` of any time.
fn stamp(t: time::OffsetDateTime) -> String {
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

fn query_string(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl Client {
    fn new(url: &str, key_id: &str, secret: &str) -> Client {
        Client {
            url: url.to_string(),
            key_id: key_id.to_string(),
            secret: secret.to_string(),
            token: None,
            http: reqwest::Client::new(),
        }
    }

    fn root(emu: &Emulator) -> Client {
        Client::new(emu.url(), &emu.root_key().id, &emu.root_key().secret)
    }

    /// The full signed parameter set for a call.
    fn signed(
        &self,
        method: &str,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
        tweak: impl FnOnce(&mut BTreeMap<String, String>),
    ) -> BTreeMap<String, String> {
        let mut all: BTreeMap<String, String> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        for (k, v) in [
            ("Action", action),
            ("Version", version),
            ("Format", "JSON"),
            ("AccessKeyId", self.key_id.as_str()),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
        ] {
            all.insert(k.into(), v.into());
        }
        all.insert("SignatureNonce".into(), uuid::Uuid::new_v4().to_string());
        all.insert("Timestamp".into(), now_stamp());
        if let Some(t) = &self.token {
            all.insert("SecurityToken".into(), t.clone());
        }
        tweak(&mut all);
        let sts = sign::v1_string_to_sign(method, &all);
        all.insert("Signature".into(), sign::v1_signature(&self.secret, &sts));
        all
    }

    async fn send_query(&self, method: &str, all: &BTreeMap<String, String>) -> Reply {
        let url = format!("{}?{}", self.url, query_string(all));
        let req = match method {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        };
        reply(req.send().await.expect("response")).await
    }

    async fn call(&self, version: &str, action: &str, params: &[(&str, &str)]) -> Reply {
        let all = self.signed("POST", version, action, params, |_| {});
        self.send_query("POST", &all).await
    }

    async fn ram(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        self.call(RAM, action, params).await
    }

    async fn ims(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        self.call(IMS, action, params).await
    }
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("x-acs-retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    let text = resp.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        body,
        retry_after,
    }
}

fn seed(yaml: &str) -> Inventory {
    emulator::parse_seed(yaml).unwrap()
}

const BASE: &str = r#"
account: {id: "1234567890123456"}
emulator:
  root_access_key: {id: LTAIroot0000000000000000, secret: rootsecret}
"#;

async fn start(yaml: &str) -> Emulator {
    emulator::start(EmulatorConfig::new(seed(yaml)))
        .await
        .unwrap()
}

/// Creates a user with a key and returns a client signed with that key.
async fn user_client(root: &Client, name: &str) -> Client {
    root.ram("CreateUser", &[("UserName", name)])
        .await
        .expect_success();
    let k = root
        .ram("CreateAccessKey", &[("UserName", name)])
        .await
        .expect_success();
    Client::new(
        &root.url,
        k["AccessKey"]["AccessKeyId"].as_str().unwrap(),
        k["AccessKey"]["AccessKeySecret"].as_str().unwrap(),
    )
}

// ------------------------------------------------------------------ authentication

#[tokio::test]
async fn wrong_secret_is_a_signature_mismatch_that_echoes_the_string_to_sign() {
    let emu = start(BASE).await;
    let bad = Client::new(emu.url(), &emu.root_key().id, "not-the-secret");
    let r = bad.ram("ListUsers", &[]).await;
    r.expect_error(400, "SignatureDoesNotMatch");
    let msg = r.body["Message"].as_str().unwrap();
    assert!(
        msg.contains("server string to sign is:POST&%2F&AccessKeyId%3D"),
        "{msg}"
    );
}

#[tokio::test]
async fn signing_for_get_and_sending_post_is_a_mismatch() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let all = c.signed("GET", RAM, "ListUsers", &[], |_| {});
    c.send_query("POST", &all)
        .await
        .expect_error(400, "SignatureDoesNotMatch");
    let all = c.signed("GET", RAM, "ListUsers", &[], |_| {});
    c.send_query("GET", &all).await.expect_success();
}

#[tokio::test]
async fn a_replayed_nonce_is_refused() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let all = c.signed("POST", RAM, "ListUsers", &[], |_| {});
    c.send_query("POST", &all).await.expect_success();
    c.send_query("POST", &all)
        .await
        .expect_error(400, "SignatureNonceUsed");
}

#[tokio::test]
async fn a_timestamp_sixteen_minutes_off_is_expired() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let old = time::OffsetDateTime::now_utc() - time::Duration::minutes(16);
    let stamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        old.year(),
        u8::from(old.month()),
        old.day(),
        old.hour(),
        old.minute(),
        old.second()
    );
    let all = c.signed("POST", RAM, "ListUsers", &[], |m| {
        m.insert("Timestamp".into(), stamp);
    });
    c.send_query("POST", &all)
        .await
        .expect_error(400, "InvalidTimeStamp.Expired");
    let all = c.signed("POST", RAM, "ListUsers", &[], |m| {
        m.insert("Timestamp".into(), "yesterday".into());
    });
    c.send_query("POST", &all)
        .await
        .expect_error(400, "InvalidTimeStamp.Format");
}

#[tokio::test]
async fn unknown_keys_and_missing_common_parameters_are_refused() {
    let emu = start(BASE).await;
    let c = Client::new(emu.url(), "LTAInobody", "x");
    c.ram("ListUsers", &[])
        .await
        .expect_error(404, "InvalidAccessKeyId.NotFound");
    let root = Client::root(&emu);
    let all = root.signed("POST", RAM, "ListUsers", &[], |m| {
        m.remove("SignatureNonce");
    });
    root.send_query("POST", &all)
        .await
        .expect_error(400, "MissingParameter");
    let r = reply(reqwest::Client::new().post(emu.url()).send().await.unwrap()).await;
    r.expect_error(400, "MissingParameter");
}

#[tokio::test]
async fn a_key_set_inactive_can_no_longer_call() {
    let emu = start(BASE).await;
    let root = Client::root(&emu);
    let alice = user_client(&root, "alice").await;
    let who = alice
        .call(STS, "GetCallerIdentity", &[])
        .await
        .expect_success();
    assert_eq!(who["IdentityType"], "RAMUser");
    assert_eq!(who["Arn"], "acs:ram::1234567890123456:user/alice");
    root.ram(
        "UpdateAccessKey",
        &[
            ("UserName", "alice"),
            ("UserAccessKeyId", &alice.key_id),
            ("Status", "Inactive"),
        ],
    )
    .await
    .expect_success();
    alice
        .ram("ListUsers", &[])
        .await
        .expect_error(400, "InvalidAccessKeyId.Inactive");
    root.ram(
        "DeleteAccessKey",
        &[("UserName", "alice"), ("UserAccessKeyId", &alice.key_id)],
    )
    .await
    .expect_success();
    alice
        .ram("ListUsers", &[])
        .await
        .expect_error(404, "InvalidAccessKeyId.NotFound");
}

#[tokio::test]
async fn unknown_action_or_version_is_an_invalid_parameter() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram("DescribeRegions", &[])
        .await
        .expect_error(400, "InvalidParameter");
    c.call("2014-05-26", "ListUsers", &[])
        .await
        .expect_error(400, "InvalidParameter");
    c.call(RM, "ListUsers", &[])
        .await
        .expect_error(400, "InvalidParameter");
}

#[tokio::test]
async fn sdk_spellings_are_accepted_lowercase_format_true_and_plus_for_space() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let all = c.signed(
        "POST",
        RAM,
        "CreateUser",
        &[("UserName", "bob"), ("Comments", "on call team")],
        |m| {
            m.insert("Format".into(), "json".into());
        },
    );
    // Encode spaces as `+` the way form encoders do; the signature covers the decoded value.
    let raw = all
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                sign::percent_encode(k),
                sign::percent_encode(v).replace("%20", "+")
            )
        })
        .collect::<Vec<_>>()
        .join("&");
    assert!(raw.contains("on+call+team"));
    let r = reply(
        reqwest::Client::new()
            .post(format!("{}?{raw}", emu.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let v = r.expect_success();
    assert_eq!(v["User"]["Comments"], "on call team");
    c.ram(
        "CreateLoginProfile",
        &[
            ("UserName", "bob"),
            ("Password", "Str0ng-pass!"),
            ("PasswordResetRequired", "True"),
            ("MFABindRequired", "FALSE"),
        ],
    )
    .await
    .expect_success();
    let lp = c
        .ram("GetLoginProfile", &[("UserName", "bob")])
        .await
        .expect_success();
    assert_eq!(lp["LoginProfile"]["PasswordResetRequired"], true);
    assert_eq!(lp["LoginProfile"]["MFABindRequired"], false);
}

#[tokio::test]
async fn parameters_in_a_form_body_are_signed_and_read() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let all = c.signed(
        "POST",
        RAM,
        "CreatePolicy",
        &[("PolicyName", "ops-read"), ("PolicyDocument", DOC)],
        |_| {},
    );
    let (query, body): (BTreeMap<_, _>, BTreeMap<_, _>) = all
        .into_iter()
        .partition(|(k, _)| k != "PolicyDocument" && k != "PolicyName");
    let r = reply(
        reqwest::Client::new()
            .post(format!("{}?{}", emu.url(), query_string(&query)))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(query_string(&body))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.expect_success()["Policy"]["DefaultVersion"], "v1");
}

#[tokio::test]
async fn query_strings_longer_than_64_kib_reach_the_api_on_a_kept_alive_connection() {
    // SDKs send even a 100,000-character SAMLAssertion in the query string; HTTP
    // libraries refuse such URLs, so this speaks HTTP/1.1 over a socket itself.
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let addr = emu
        .url()
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let mut requests = String::new();
    for (n, connection) in [
        (100_000, "keep-alive"),
        (10, "keep-alive"),
        (150_000, "close"),
    ] {
        let pad = "a".repeat(n);
        let all = c.signed("POST", STS, "GetCallerIdentity", &[("Pad", &pad)], |_| {});
        requests.push_str(&format!(
            "POST /?{} HTTP/1.1\r\nhost: {addr}\r\nconnection: {connection}\r\ncontent-length: 0\r\n\r\n",
            query_string(&all)
        ));
    }
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(requests.as_bytes()).await.unwrap();
    let mut answers = String::new();
    socket.read_to_string(&mut answers).await.unwrap();
    assert_eq!(answers.matches("HTTP/1.1 200 OK").count(), 3, "{answers}");
    assert_eq!(
        answers.matches(r#""IdentityType":"Account""#).count(),
        3,
        "{answers}"
    );
}

#[tokio::test]
async fn garbage_bodies_and_bad_methods_get_errors_not_hangs() {
    let emu = start(BASE).await;
    let http = reqwest::Client::new();
    let r = reply(
        http.post(emu.url())
            .body(vec![0u8, 159, 146, 150, 255, b'&', b'='])
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.expect_error(400, "MissingParameter");
    let r = reply(
        http.put(format!("{}?Action=ListUsers&Version=2015-05-01", emu.url()))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    r.expect_error(400, "MissingParameter");
}

#[tokio::test]
async fn v3_signatures_are_verified() {
    let emu = start(BASE).await;
    let root = emu.root_key().clone();
    let url = reqwest::Url::parse(emu.url()).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let send = |secret: &'static str, tamper: bool| {
        let host = host.clone();
        let root = root.clone();
        let base = emu.url().to_string();
        async move {
            let body = b"";
            let mut headers = BTreeMap::new();
            headers.insert("host".to_string(), host);
            headers.insert("x-acs-action".to_string(), "CreateGroup".to_string());
            headers.insert("x-acs-version".to_string(), RAM.to_string());
            headers.insert("x-acs-date".to_string(), now_stamp());
            headers.insert(
                "x-acs-signature-nonce".to_string(),
                uuid::Uuid::new_v4().to_string(),
            );
            headers.insert("x-acs-content-sha256".to_string(), sign::sha256_hex(body));
            let mut query = BTreeMap::new();
            query.insert("GroupName".to_string(), "v3 group".replace(' ', "-"));
            let signed: Vec<String> = headers.keys().cloned().collect();
            let cr = sign::v3_canonical_request(
                "POST",
                "/",
                &query,
                &headers,
                &signed,
                &sign::sha256_hex(body),
            );
            let sig = sign::v3_signature(
                if secret.is_empty() {
                    &root.secret
                } else {
                    secret
                },
                &sign::v3_string_to_sign(&cr),
            );
            if tamper {
                query.insert("GroupName".to_string(), "other".to_string());
            }
            let mut req = reqwest::Client::new().post(format!("{base}?{}", query_string(&query)));
            for (k, v) in &headers {
                if k != "host" {
                    req = req.header(k, v);
                }
            }
            req = req.header(
                "authorization",
                format!(
                    "ACS3-HMAC-SHA256 Credential={},SignedHeaders={},Signature={sig}",
                    root.id,
                    signed.join(";")
                ),
            );
            reply(req.send().await.unwrap()).await
        }
    };
    let v = send("", false).await.expect_success();
    assert_eq!(v["Group"]["GroupName"], "v3-group");
    send("wrong", false)
        .await
        .expect_error(400, "SignatureDoesNotMatch");
    send("", true)
        .await
        .expect_error(400, "SignatureDoesNotMatch");
}

#[tokio::test]
async fn v3_signatures_with_sm3_are_verified_and_rsa_is_refused() {
    let emu = start(BASE).await;
    let root = emu.root_key().clone();
    let url = reqwest::Url::parse(emu.url()).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    // The algorithm named in the header, the one actually used, and the secret.
    let send = |named: &'static str, used: sign::V3Algorithm, secret: String| {
        let (host, id, base) = (host.clone(), root.id.clone(), emu.url().to_string());
        async move {
            let body = b"GroupName=sm3-group";
            let mut headers = BTreeMap::new();
            headers.insert("host".to_string(), host);
            headers.insert("x-acs-action".to_string(), "CreateGroup".to_string());
            headers.insert("x-acs-version".to_string(), RAM.to_string());
            headers.insert("x-acs-date".to_string(), now_stamp());
            headers.insert(
                "x-acs-signature-nonce".to_string(),
                uuid::Uuid::new_v4().to_string(),
            );
            headers.insert(
                "content-type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            );
            // SDKs keep this header name for SM3 too.
            headers.insert("x-acs-content-sha256".to_string(), used.hash_hex(body));
            let signed: Vec<String> = headers.keys().cloned().collect();
            let cr = sign::v3_canonical_request(
                "POST",
                "/",
                &BTreeMap::new(),
                &headers,
                &signed,
                &used.hash_hex(body),
            );
            let sig = used.signature(&secret, &used.string_to_sign(&cr));
            let mut req = reqwest::Client::new().post(base).body(body.to_vec());
            for (k, v) in headers.iter().filter(|(k, _)| *k != "host") {
                req = req.header(k, v);
            }
            let auth = format!(
                "{named} Credential={id},SignedHeaders={},Signature={sig}",
                signed.join(";")
            );
            reply(req.header("authorization", auth).send().await.unwrap()).await
        }
    };
    let sm3 = sign::V3Algorithm::HmacSm3;
    let v = send("ACS3-HMAC-SM3", sm3, root.secret.clone())
        .await
        .expect_success();
    assert_eq!(v["Group"]["GroupName"], "sm3-group");
    send("ACS3-HMAC-SM3", sm3, "wrong".into())
        .await
        .expect_error(400, "SignatureDoesNotMatch");
    // An SM3 signature presented as SHA-256 fails on the payload hash.
    send("ACS3-HMAC-SHA256", sm3, root.secret.clone())
        .await
        .expect_error(400, "SignatureDoesNotMatch");
    send("ACS3-RSA-SHA256", sm3, root.secret.clone())
        .await
        .expect_error(400, "InvalidParameter.SignatureMethod");
}

// ------------------------------------------------------------------ RAM

/// An action, its parameters, and the conflict it clears.
type Step<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn user_lifecycle_with_every_delete_conflict() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let u = c
        .ram(
            "CreateUser",
            &[
                ("UserName", "alice"),
                ("DisplayName", "Alice"),
                ("Email", "alice@example.com"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(u["User"]["UserName"], "alice");
    assert!(u["User"]["UserId"].as_str().unwrap().len() >= 16);
    c.ram("CreateUser", &[("UserName", "alice")])
        .await
        .expect_error(409, "EntityAlreadyExists.User");
    c.ram("CreateUser", &[("UserName", "bad name")])
        .await
        .expect_error(400, "InvalidParameter.UserName.InvalidChars");
    c.ram("CreateUser", &[("UserName", &"x".repeat(65))])
        .await
        .expect_error(400, "InvalidParameter.UserName.Length");
    c.ram("CreateUser", &[])
        .await
        .expect_error(400, "MissingUserName");
    c.ram("GetUser", &[("UserName", "nobody")])
        .await
        .expect_error(404, "EntityNotExist.User");

    c.ram("CreateGroup", &[("GroupName", "dev")])
        .await
        .expect_success();
    c.ram(
        "AddUserToGroup",
        &[("UserName", "alice"), ("GroupName", "dev")],
    )
    .await
    .expect_success();
    c.ram(
        "AddUserToGroup",
        &[("UserName", "alice"), ("GroupName", "dev")],
    )
    .await
    .expect_error(409, "EntityAlreadyExists.User.Group");
    let attach = [
        ("UserName", "alice"),
        ("PolicyName", "ReadOnlyAccess"),
        ("PolicyType", "System"),
    ];
    c.ram("AttachPolicyToUser", &attach).await.expect_success();
    c.ram("AttachPolicyToUser", &attach)
        .await
        .expect_error(409, "EntityAlreadyExists.User.Policy");
    let key = c
        .ram("CreateAccessKey", &[("UserName", "alice")])
        .await
        .expect_success();
    let key_id = key["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    c.ram(
        "CreateLoginProfile",
        &[("UserName", "alice"), ("Password", "Very-Str0ng!")],
    )
    .await
    .expect_success();
    c.ram(
        "CreateLoginProfile",
        &[("UserName", "alice"), ("Password", "weak")],
    )
    .await
    .expect_error(409, "EntityAlreadyExists.User.LoginProfile");
    let dev = c
        .ram(
            "CreateVirtualMFADevice",
            &[("VirtualMFADeviceName", "alice")],
        )
        .await
        .expect_success();
    let serial = dev["VirtualMFADevice"]["SerialNumber"]
        .as_str()
        .unwrap()
        .to_string();
    let seed = emulator::base32_decode(
        dev["VirtualMFADevice"]["Base32StringSeed"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let step = (time::OffsetDateTime::now_utc().unix_timestamp() / 30) as u64;
    c.ram(
        "BindMFADevice",
        &[
            ("UserName", "alice"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", "000000"),
            ("AuthenticationCode2", "111111"),
        ],
    )
    .await
    .expect_error(403, "CheckAuthenticationCodeFail");
    c.ram(
        "BindMFADevice",
        &[
            ("UserName", "alice"),
            ("SerialNumber", &serial),
            ("AuthenticationCode1", &emulator::totp(&seed, step - 1)),
            ("AuthenticationCode2", &emulator::totp(&seed, step)),
        ],
    )
    .await
    .expect_success();
    c.ram("DeleteVirtualMFADevice", &[("SerialNumber", &serial)])
        .await
        .expect_error(409, "DeleteConflict.VirtualMFADevice.User");

    // Each dependent blocks DeleteUser until it is removed.
    let steps: Vec<Step<'_>> = vec![
        (
            "DetachPolicyFromUser",
            attach.to_vec(),
            "DeleteConflict.User.Policy",
        ),
        (
            "RemoveUserFromGroup",
            vec![("UserName", "alice"), ("GroupName", "dev")],
            "DeleteConflict.User.Group",
        ),
        (
            "DeleteAccessKey",
            vec![("UserName", "alice"), ("UserAccessKeyId", &key_id)],
            "DeleteConflict.User.AccessKey",
        ),
        (
            "DeleteLoginProfile",
            vec![("UserName", "alice")],
            "DeleteConflict.User.LoginProfile",
        ),
        (
            "UnbindMFADevice",
            vec![("UserName", "alice")],
            "DeleteConflict.User.MFADevice",
        ),
    ];
    for (action, params, code) in steps {
        c.ram("DeleteUser", &[("UserName", "alice")])
            .await
            .expect_error(409, code);
        c.ram(action, &params).await.expect_success();
    }
    c.ram("DeleteUser", &[("UserName", "alice")])
        .await
        .expect_success();
    c.ram("DeleteUser", &[("UserName", "alice")])
        .await
        .expect_error(404, "EntityNotExist.User");
    c.ram("DeleteVirtualMFADevice", &[("SerialNumber", &serial)])
        .await
        .expect_success();
}

#[tokio::test]
async fn listing_users_pages_through_every_user_with_markers() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    for i in 0..25 {
        c.ram("CreateUser", &[("UserName", &format!("user-{i:02}"))])
            .await
            .expect_success();
    }
    let mut names = vec![];
    let mut marker: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = vec![("MaxItems", "10".to_string())];
        if let Some(m) = &marker {
            params.push(("Marker", m.clone()));
        }
        let p: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let v = c.ram("ListUsers", &p).await.expect_success();
        pages += 1;
        for u in v["Users"]["User"].as_array().unwrap() {
            names.push(u["UserName"].as_str().unwrap().to_string());
        }
        if v["IsTruncated"] == true {
            marker = Some(v["Marker"].as_str().unwrap().to_string());
        } else {
            assert!(v.get("Marker").is_none());
            break;
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names.len(), 25);
    assert_eq!(names[0], "user-00");
    c.ram("ListUsers", &[("MaxItems", "1001")])
        .await
        .expect_error(400, "InvalidParameter.MaxItems");
    c.ram("ListGroups", &[("MaxItems", "101")])
        .await
        .expect_error(400, "InvalidParameter.MaxItems");
    c.ram("ListUsers", &[("Marker", "!!!")])
        .await
        .expect_error(400, "InvalidParameter.Marker");
    let empty = c.ram("ListGroups", &[]).await.expect_success();
    assert_eq!(empty["Groups"]["Group"], serde_json::json!([]));
    assert_eq!(empty["IsTruncated"], false);
}

#[tokio::test]
async fn policies_versions_and_attachments_follow_the_rules() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram(
        "CreatePolicy",
        &[("PolicyName", "ops"), ("PolicyDocument", "not json")],
    )
    .await
    .expect_error(400, "MalformedPolicyDocument");
    let long = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"*","Resource":"{}"}}]}}"#,
        "x".repeat(6144)
    );
    c.ram(
        "CreatePolicy",
        &[("PolicyName", "ops"), ("PolicyDocument", &long)],
    )
    .await
    .expect_error(400, "InvalidParameter.PolicyDocument.Length");
    c.ram(
        "CreatePolicy",
        &[("PolicyName", "ops_x"), ("PolicyDocument", DOC)],
    )
    .await
    .expect_error(400, "InvalidParameter.PolicyName.InvalidChars");
    c.ram(
        "CreatePolicy",
        &[("PolicyName", "ops"), ("PolicyDocument", DOC)],
    )
    .await
    .expect_success();
    c.ram(
        "CreatePolicy",
        &[("PolicyName", "ops"), ("PolicyDocument", DOC)],
    )
    .await
    .expect_error(409, "EntityAlreadyExists.Policy");
    let v = c
        .ram(
            "CreatePolicyVersion",
            &[
                ("PolicyName", "ops"),
                ("PolicyDocument", DOC),
                ("SetAsDefault", "true"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(v["PolicyVersion"]["VersionId"], "v2");
    let got = c
        .ram(
            "GetPolicy",
            &[("PolicyName", "ops"), ("PolicyType", "Custom")],
        )
        .await
        .expect_success();
    assert_eq!(got["Policy"]["DefaultVersion"], "v2");
    assert_eq!(got["DefaultPolicyVersion"]["VersionId"], "v2");
    c.ram(
        "GetPolicy",
        &[("PolicyName", "ops"), ("PolicyType", "Managed")],
    )
    .await
    .expect_error(400, "InvalidParameter.PolicyType");
    c.ram(
        "GetPolicyVersion",
        &[
            ("PolicyName", "ops"),
            ("PolicyType", "Custom"),
            ("VersionId", "v9"),
        ],
    )
    .await
    .expect_error(404, "EntityNotExist.Policy.Version");
    let versions = c
        .ram(
            "ListPolicyVersions",
            &[("PolicyName", "ops"), ("PolicyType", "Custom")],
        )
        .await
        .expect_success();
    assert_eq!(
        versions["PolicyVersions"]["PolicyVersion"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    c.ram("CreateGroup", &[("GroupName", "dev")])
        .await
        .expect_success();
    c.ram("CreateRole", &[("RoleName", "deployer"), ("AssumeRolePolicyDocument", r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}]}"#)])
        .await
        .expect_success();
    c.ram("CreateUser", &[("UserName", "carol")])
        .await
        .expect_success();
    for (action, who, name) in [
        ("AttachPolicyToUser", "UserName", "carol"),
        ("AttachPolicyToGroup", "GroupName", "dev"),
        ("AttachPolicyToRole", "RoleName", "deployer"),
    ] {
        c.ram(
            action,
            &[(who, name), ("PolicyName", "ops"), ("PolicyType", "Custom")],
        )
        .await
        .expect_success();
    }
    let ents = c
        .ram(
            "ListEntitiesForPolicy",
            &[("PolicyName", "ops"), ("PolicyType", "Custom")],
        )
        .await
        .expect_success();
    assert_eq!(ents["Users"]["User"][0]["UserName"], "carol");
    assert_eq!(ents["Groups"]["Group"][0]["GroupName"], "dev");
    assert_eq!(ents["Roles"]["Role"][0]["RoleName"], "deployer");
    let list = c
        .ram("ListPolicies", &[("PolicyType", "Custom")])
        .await
        .expect_success();
    assert_eq!(list["Policies"]["Policy"][0]["AttachmentCount"], 3);
    let for_role = c
        .ram("ListPoliciesForRole", &[("RoleName", "deployer")])
        .await
        .expect_success();
    assert_eq!(for_role["Policies"]["Policy"][0]["PolicyName"], "ops");

    for (action, who, name, code) in [
        (
            "DetachPolicyFromUser",
            "UserName",
            "carol",
            "DeleteConflict.Policy.User",
        ),
        (
            "DetachPolicyFromGroup",
            "GroupName",
            "dev",
            "DeleteConflict.Policy.Group",
        ),
        (
            "DetachPolicyFromRole",
            "RoleName",
            "deployer",
            "DeleteConflict.Role.Policy",
        ),
    ] {
        c.ram(
            "DeletePolicy",
            &[("PolicyName", "ops"), ("CascadingDelete", "true")],
        )
        .await
        .expect_error(409, code);
        c.ram(
            action,
            &[(who, name), ("PolicyName", "ops"), ("PolicyType", "Custom")],
        )
        .await
        .expect_success();
        c.ram(
            action,
            &[(who, name), ("PolicyName", "ops"), ("PolicyType", "Custom")],
        )
        .await
        .expect_error(404, &format!("EntityNotExist.{}.Policy", &action[16..]));
    }
    c.ram(
        "DeletePolicyVersion",
        &[("PolicyName", "ops"), ("VersionId", "v2")],
    )
    .await
    .expect_error(409, "DeleteConflict.Policy.Version.Default");
    c.ram("DeletePolicy", &[("PolicyName", "ops")])
        .await
        .expect_error(409, "DeleteConflict.Policy.Version");
    c.ram(
        "DeletePolicy",
        &[("PolicyName", "ops"), ("CascadingDelete", "True")],
    )
    .await
    .expect_success();
    c.ram(
        "GetPolicy",
        &[("PolicyName", "ops"), ("PolicyType", "Custom")],
    )
    .await
    .expect_error(404, "EntityNotExist.Policy");
    let sys = c
        .ram(
            "ListPolicies",
            &[("PolicyType", "System"), ("MaxItems", "1000")],
        )
        .await
        .expect_success();
    assert!(sys["Policies"]["Policy"].as_array().unwrap().len() >= 15);
}

#[tokio::test]
async fn custom_policy_attachments_stop_at_ten_per_user() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram("CreateUser", &[("UserName", "dana")])
        .await
        .expect_success();
    for i in 0..11 {
        let name = format!("p{i}");
        c.ram(
            "CreatePolicy",
            &[("PolicyName", &name), ("PolicyDocument", DOC)],
        )
        .await
        .expect_success();
        let r = c
            .ram(
                "AttachPolicyToUser",
                &[
                    ("UserName", "dana"),
                    ("PolicyName", &name),
                    ("PolicyType", "Custom"),
                ],
            )
            .await;
        if i < 10 {
            r.expect_success();
        } else {
            r.expect_error(409, "LimitExceeded.User.Policy");
        }
    }
    for i in 0..11 {
        c.ram("CreateGroup", &[("GroupName", &format!("g{i}"))])
            .await
            .expect_success();
        let r = c
            .ram(
                "AddUserToGroup",
                &[("UserName", "dana"), ("GroupName", &format!("g{i}"))],
            )
            .await;
        if i < 10 {
            r.expect_success();
        } else {
            r.expect_error(409, "LimitExceeded.User.Group");
        }
    }
    let groups = c
        .ram("ListGroupsForUser", &[("UserName", "dana")])
        .await
        .expect_success();
    assert_eq!(groups["Groups"]["Group"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn roles_refuse_service_linked_deletion_and_attached_policies() {
    let emu = start(&format!(
        "{BASE}roles:\n  - name: AliyunServiceRoleForECS\n    assume_role_policy_document: '{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"Service\":[\"ecs.aliyuncs.com\"]}}}}],\"Version\":\"1\"}}'\n"
    ))
    .await;
    let c = Client::root(&emu);
    c.ram("DeleteRole", &[("RoleName", "AliyunServiceRoleForECS")])
        .await
        .expect_error(409, "DeleteConflict.Role.ServiceLinkedRole");
    c.ram(
        "CreateRole",
        &[("RoleName", "bad_name"), ("AssumeRolePolicyDocument", "{}")],
    )
    .await
    .expect_error(400, "InvalidParameter.RoleName.InvalidChars");
    c.ram(
        "CreateRole",
        &[("RoleName", "r1"), ("AssumeRolePolicyDocument", "nope")],
    )
    .await
    .expect_error(400, "MalformedPolicyDocument");
    c.ram(
        "CreateRole",
        &[("RoleName", "r1"), ("AssumeRolePolicyDocument", r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"1234567890123456"}}],"Version":"1"}"#), ("MaxSessionDuration", "100")],
    )
    .await
    .expect_error(400, "InvalidParameter.MaxSessionDuration");
    let role = c
        .ram(
            "CreateRole",
            &[("RoleName", "r1"), ("AssumeRolePolicyDocument", r#"{"Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":"1234567890123456"}}],"Version":"1"}"#), ("MaxSessionDuration", "7200")],
        )
        .await
        .expect_success();
    assert_eq!(role["Role"]["Arn"], "acs:ram::1234567890123456:role/r1");
    assert_eq!(role["Role"]["MaxSessionDuration"], 7200);
    c.ram(
        "UpdateRole",
        &[("RoleName", "r1"), ("NewDescription", "deploys")],
    )
    .await
    .expect_success();
    assert_eq!(
        c.ram("GetRole", &[("RoleName", "r1")])
            .await
            .expect_success()["Role"]["Description"],
        "deploys"
    );
    c.ram(
        "AttachPolicyToRole",
        &[
            ("RoleName", "r1"),
            ("PolicyName", "AdministratorAccess"),
            ("PolicyType", "System"),
        ],
    )
    .await
    .expect_success();
    c.ram("DeleteRole", &[("RoleName", "r1")])
        .await
        .expect_error(409, "DeleteConflict.Role.Policy");
    c.ram(
        "DetachPolicyFromRole",
        &[
            ("RoleName", "r1"),
            ("PolicyName", "AdministratorAccess"),
            ("PolicyType", "System"),
        ],
    )
    .await
    .expect_success();
    c.ram("DeleteRole", &[("RoleName", "r1")])
        .await
        .expect_success();
    c.ram("GetRole", &[("RoleName", "r1")])
        .await
        .expect_error(404, "EntityNotExist.Role");
}

#[tokio::test]
async fn groups_update_list_members_and_refuse_deletion_while_used() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram(
        "CreateGroup",
        &[("GroupName", "dev"), ("Comments", "developers")],
    )
    .await
    .expect_success();
    c.ram("CreateGroup", &[("GroupName", "dev")])
        .await
        .expect_error(409, "EntityAlreadyExists.Group");
    c.ram("CreateUser", &[("UserName", "erin")])
        .await
        .expect_success();
    c.ram(
        "AddUserToGroup",
        &[("UserName", "erin"), ("GroupName", "dev")],
    )
    .await
    .expect_success();
    c.ram("DeleteGroup", &[("GroupName", "dev")])
        .await
        .expect_error(409, "DeleteConflict.Group.User");
    c.ram(
        "UpdateGroup",
        &[("GroupName", "dev"), ("NewGroupName", "devs")],
    )
    .await
    .expect_success();
    let members = c
        .ram("ListUsersForGroup", &[("GroupName", "devs")])
        .await
        .expect_success();
    assert_eq!(members["Users"]["User"][0]["UserName"], "erin");
    assert!(members["Users"]["User"][0]["JoinDate"].is_string());
    c.ram(
        "RemoveUserFromGroup",
        &[("UserName", "erin"), ("GroupName", "devs")],
    )
    .await
    .expect_success();
    c.ram(
        "RemoveUserFromGroup",
        &[("UserName", "erin"), ("GroupName", "devs")],
    )
    .await
    .expect_error(404, "EntityNotExist.User.Group");
    c.ram(
        "AttachPolicyToGroup",
        &[
            ("GroupName", "devs"),
            ("PolicyName", "ReadOnlyAccess"),
            ("PolicyType", "System"),
        ],
    )
    .await
    .expect_success();
    c.ram("DeleteGroup", &[("GroupName", "devs")])
        .await
        .expect_error(409, "DeleteConflict.Group.Policy");
    c.ram(
        "DetachPolicyFromGroup",
        &[
            ("GroupName", "devs"),
            ("PolicyName", "ReadOnlyAccess"),
            ("PolicyType", "System"),
        ],
    )
    .await
    .expect_success();
    c.ram("DeleteGroup", &[("GroupName", "devs")])
        .await
        .expect_success();
    c.ram("GetGroup", &[("GroupName", "devs")])
        .await
        .expect_error(404, "EntityNotExist.Group");
}

#[tokio::test]
async fn access_key_last_use_and_user_last_login_are_reported() {
    let emu = start(&format!(
        "{BASE}users:\n  - name: frank\n    last_login_date: '2024-05-01T10:00:00Z'\n"
    ))
    .await;
    let root = Client::root(&emu);
    let u = root
        .ram("GetUser", &[("UserName", "frank")])
        .await
        .expect_success();
    assert_eq!(u["User"]["LastLoginDate"], "2024-05-01T10:00:00Z");
    let k = root
        .ram("CreateAccessKey", &[("UserName", "frank")])
        .await
        .expect_success();
    let id = k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
    let before = root
        .ram(
            "GetAccessKeyLastUsed",
            &[("UserName", "frank"), ("UserAccessKeyId", &id)],
        )
        .await
        .expect_success();
    assert_eq!(before["AccessKeyLastUsed"]["LastUsedDate"], "");
    let frank = Client::new(
        emu.url(),
        &id,
        k["AccessKey"]["AccessKeySecret"].as_str().unwrap(),
    );
    // A RAM user calling without UserName acts on itself.
    let own = frank.ram("ListAccessKeys", &[]).await.expect_success();
    assert_eq!(
        own["AccessKeys"]["AccessKey"][0]["AccessKeyId"],
        id.as_str()
    );
    let after = root
        .ram(
            "GetAccessKeyLastUsed",
            &[("UserName", "frank"), ("UserAccessKeyId", &id)],
        )
        .await
        .expect_success();
    assert!(
        after["AccessKeyLastUsed"]["LastUsedDate"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    root.ram(
        "GetAccessKeyLastUsed",
        &[("UserName", "frank"), ("UserAccessKeyId", "LTAInope")],
    )
    .await
    .expect_error(404, "EntityNotExist.User.AccessKey");
}

#[tokio::test]
async fn account_alias_is_set_validated_and_cleared() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram("SetAccountAlias", &[("AccountAlias", "-bad")])
        .await
        .expect_error(400, "InvalidParameter.AccountAlias.Format");
    c.ram("SetAccountAlias", &[("AccountAlias", "ab")])
        .await
        .expect_error(400, "InvalidParameter.AccountAlias.Length");
    c.ram("SetAccountAlias", &[("AccountAlias", "my-corp")])
        .await
        .expect_success();
    assert_eq!(
        c.ram("GetAccountAlias", &[]).await.expect_success()["AccountAlias"],
        "my-corp"
    );
    c.ram("ClearAccountAlias", &[]).await.expect_success();
    assert_eq!(
        c.ram("GetAccountAlias", &[]).await.expect_success()["AccountAlias"],
        ""
    );
}

// ------------------------------------------------------------------ STS and ResourceManager

#[tokio::test]
async fn assume_role_issues_credentials_that_work_until_they_expire() {
    let emu = start(&format!(
        "{BASE}roles:\n  - name: deployer\n    max_session_duration: 7200\n    assume_role_policy_document: '{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"RAM\":[\"acs:ram::1234567890123456:root\"]}}}}],\"Version\":\"1\"}}'\n  - name: locked\n    assume_role_policy_document: '{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"RAM\":[\"acs:ram::999:root\"]}}}}],\"Version\":\"1\"}}'\n"
    ))
    .await;
    let root = Client::root(&emu);
    let arn = "acs:ram::1234567890123456:role/deployer";
    root.call(
        STS,
        "AssumeRole",
        &[("RoleArn", arn), ("RoleSessionName", "ci")],
    )
    .await
    .expect_error(403, "NoPermission");
    let who = root
        .call(STS, "GetCallerIdentity", &[])
        .await
        .expect_success();
    assert_eq!(who["IdentityType"], "Account");
    let alice = user_client(&root, "alice").await;
    alice
        .call(STS, "AssumeRole", &[("RoleSessionName", "ci")])
        .await
        .expect_error(400, "MissingParameter.RoleArn");
    alice
        .call(
            STS,
            "AssumeRole",
            &[
                ("RoleArn", "arn:aws:iam::1:role/x"),
                ("RoleSessionName", "ci"),
            ],
        )
        .await
        .expect_error(400, "InvalidParameter.RoleArn");
    alice
        .call(
            STS,
            "AssumeRole",
            &[
                ("RoleArn", arn),
                ("RoleSessionName", "ci"),
                ("DurationSeconds", "7201"),
            ],
        )
        .await
        .expect_error(400, "InvalidParameter.DurationSeconds");
    alice
        .call(
            STS,
            "AssumeRole",
            &[("RoleArn", arn), ("RoleSessionName", "c")],
        )
        .await
        .expect_error(400, "InvalidParameter.RoleSessionName");
    alice
        .call(
            STS,
            "AssumeRole",
            &[
                ("RoleArn", "acs:ram::1234567890123456:role/locked"),
                ("RoleSessionName", "ci"),
            ],
        )
        .await
        .expect_error(403, "NoPermission");
    alice
        .call(
            STS,
            "AssumeRole",
            &[
                ("RoleArn", "acs:ram::1234567890123456:role/ghost"),
                ("RoleSessionName", "ci"),
            ],
        )
        .await
        .expect_error(404, "EntityNotExist.Role");
    let creds = alice
        .call(
            STS,
            "AssumeRole",
            &[
                ("RoleArn", arn),
                ("RoleSessionName", "ci"),
                ("DurationSeconds", "900"),
            ],
        )
        .await
        .expect_success();
    let c = &creds["Credentials"];
    assert!(c["AccessKeyId"].as_str().unwrap().starts_with("STS."));
    let mut session = Client::new(
        emu.url(),
        c["AccessKeyId"].as_str().unwrap(),
        c["AccessKeySecret"].as_str().unwrap(),
    );
    session
        .ram("ListUsers", &[])
        .await
        .expect_error(400, "MissingSecurityToken");
    session.token = Some("wrong".into());
    session
        .ram("ListUsers", &[])
        .await
        .expect_error(400, "InvalidSecurityToken.MismatchWithAccessKey");
    session.token = Some(c["SecurityToken"].as_str().unwrap().to_string());
    let who = session
        .call(STS, "GetCallerIdentity", &[])
        .await
        .expect_success();
    assert_eq!(who["IdentityType"], "AssumedRoleUser");
    assert_eq!(
        who["Arn"],
        "acs:ram::1234567890123456:assumed-role/deployer/ci"
    );
    session.ram("ListUsers", &[]).await.expect_success();
}

#[tokio::test]
async fn service_linked_role_deletion_is_a_polled_task() {
    let emu = start(
        r#"
account: {id: "1234567890123456"}
roles:
  - name: AliyunServiceRoleForECS
  - name: AliyunServiceRoleForLog
    usages:
      - {region: cn-hangzhou, resources: [project-a]}
      - {region: cn-shanghai, resources: [project-b]}
  - name: plain
emulator:
  root_access_key: {id: LTAIroot0000000000000000, secret: rootsecret}
  deletion_polls: 2
"#,
    )
    .await;
    let c = Client::root(&emu);
    c.call(RM, "DeleteServiceLinkedRole", &[("RoleName", "plain")])
        .await
        .expect_error(400, "InvalidParameter.RoleName");
    c.call(RM, "DeleteServiceLinkedRole", &[("RoleName", "nope")])
        .await
        .expect_error(404, "EntityNotExist.Role");
    let t = c
        .call(
            RM,
            "DeleteServiceLinkedRole",
            &[("RoleName", "AliyunServiceRoleForECS")],
        )
        .await
        .expect_success();
    let id = t["DeletionTaskId"].as_str().unwrap().to_string();
    let mut statuses = vec![];
    for _ in 0..3 {
        let s = c
            .call(
                RM,
                "GetServiceLinkedRoleDeletionStatus",
                &[("DeletionTaskId", &id)],
            )
            .await
            .expect_success();
        statuses.push(s["Status"].as_str().unwrap().to_string());
    }
    assert_eq!(statuses, ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]);
    c.ram("GetRole", &[("RoleName", "AliyunServiceRoleForECS")])
        .await
        .expect_error(404, "EntityNotExist.Role");
    let t = c
        .call(
            RM,
            "DeleteServiceLinkedRole",
            &[("RoleName", "AliyunServiceRoleForLog")],
        )
        .await
        .expect_success();
    let id = t["DeletionTaskId"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..3 {
        last = c
            .call(
                RM,
                "GetServiceLinkedRoleDeletionStatus",
                &[("DeletionTaskId", &id)],
            )
            .await
            .expect_success();
    }
    assert_eq!(last["Status"], "FAILED");
    let usages = last["Reason"]["RoleUsages"]["RoleUsage"]
        .as_array()
        .unwrap();
    assert_eq!(usages.len(), 2);
    assert_eq!(usages[1]["Resources"]["Resource"][0], "project-b");
    c.ram("GetRole", &[("RoleName", "AliyunServiceRoleForLog")])
        .await
        .expect_success();
    c.call(
        RM,
        "GetServiceLinkedRoleDeletionStatus",
        &[("DeletionTaskId", "task/none")],
    )
    .await
    .expect_error(404, "EntityNotExist.DeletionTask");
}

// ------------------------------------------------------------------ IMS

#[tokio::test]
async fn identity_providers_are_created_listed_and_deleted() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ims("CreateSAMLProvider", &[("SAMLProviderName", "-bad")])
        .await
        .expect_error(400, "InvalidParameter.SAMLProviderName.InvalidChars");
    let s = c
        .ims(
            "CreateSAMLProvider",
            &[
                ("SAMLProviderName", "corp-idp"),
                ("EncodedSAMLMetadataDocument", "PD94bWw+"),
                ("Description", "Okta"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(
        s["SAMLProvider"]["Arn"],
        "acs:ram::1234567890123456:saml-provider/corp-idp"
    );
    c.ims("CreateSAMLProvider", &[("SAMLProviderName", "corp-idp")])
        .await
        .expect_error(409, "EntityAlreadyExists.SAMLProvider");
    let got = c
        .ims("GetSAMLProvider", &[("SAMLProviderName", "corp-idp")])
        .await
        .expect_success();
    assert_eq!(
        got["SAMLProvider"]["EncodedSAMLMetadataDocument"],
        "PD94bWw+"
    );
    c.ims(
        "UpdateSAMLProvider",
        &[
            ("SAMLProviderName", "corp-idp"),
            ("NewDescription", "Okta prod"),
        ],
    )
    .await
    .expect_success();
    let list = c.ims("ListSAMLProviders", &[]).await.expect_success();
    assert_eq!(
        list["SAMLProviders"]["SAMLProvider"][0]["Description"],
        "Okta prod"
    );
    c.ims("DeleteSAMLProvider", &[("SAMLProviderName", "corp-idp")])
        .await
        .expect_success();
    c.ims("GetSAMLProvider", &[("SAMLProviderName", "corp-idp")])
        .await
        .expect_error(404, "EntityNotExist.SAMLProvider");

    c.ims(
        "CreateOIDCProvider",
        &[
            ("OIDCProviderName", "gh"),
            ("IssuerUrl", "http://insecure.example.com"),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.IssuerUrl");
    let o = c
        .ims(
            "CreateOIDCProvider",
            &[
                ("OIDCProviderName", "gh"),
                ("IssuerUrl", "https://token.actions.example.com"),
                ("ClientIds", "sts.aliyuncs.com,app2"),
                ("Fingerprints", "abc123"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(o["OIDCProvider"]["ClientIds"], "sts.aliyuncs.com,app2");
    c.ims(
        "UpdateOIDCProvider",
        &[("OIDCProviderName", "gh"), ("ClientIds", "one")],
    )
    .await
    .expect_success();
    let list = c.ims("ListOIDCProviders", &[]).await.expect_success();
    assert_eq!(list["OIDCProviders"]["OIDCProvider"][0]["ClientIds"], "one");
    assert_eq!(list["IsTruncated"], false);
    c.ims("DeleteOIDCProvider", &[("OIDCProviderName", "gh")])
        .await
        .expect_success();
    c.ims("DeleteOIDCProvider", &[("OIDCProviderName", "gh")])
        .await
        .expect_error(404, "EntityNotExist.OIDCProvider");
}

#[tokio::test]
async fn virtual_mfa_devices_bound_and_orphaned_are_listed() {
    let emu = start(&format!(
        "{BASE}users:\n  - name: gina\n    mfa_device: 'acs:ram::1234567890123456:mfa/gina'\nvirtual_mfa_devices:\n  - serial_number: 'acs:ram::1234567890123456:mfa/spare'\n"
    ))
    .await;
    let c = Client::root(&emu);
    let list = c.ims("ListVirtualMFADevices", &[]).await.expect_success();
    let devices = list["VirtualMFADevices"]["VirtualMFADevice"]
        .as_array()
        .unwrap();
    assert_eq!(devices.len(), 2);
    let bound = devices
        .iter()
        .find(|d| d["SerialNumber"].as_str().unwrap().ends_with("/gina"))
        .unwrap();
    assert_eq!(
        bound["User"]["UserPrincipalName"],
        "gina@1234567890123456.onaliyun.com"
    );
    assert!(devices.iter().any(|d| d.get("User").is_none()));
    let info = c
        .ims(
            "GetUserMFAInfo",
            &[("UserPrincipalName", "gina@1234567890123456.onaliyun.com")],
        )
        .await
        .expect_success();
    assert_eq!(info["MFADevice"]["Type"], "VMFA");
    c.ims(
        "UnbindMFADevice",
        &[("UserPrincipalName", "gina@1234567890123456.onaliyun.com")],
    )
    .await
    .expect_success();
    c.ims(
        "UnbindMFADevice",
        &[("UserPrincipalName", "gina@1234567890123456.onaliyun.com")],
    )
    .await
    .expect_error(404, "EntityNotExist.User.MFADevice");
    c.ims(
        "DeleteVirtualMFADevice",
        &[("SerialNumber", "acs:ram::1234567890123456:mfa/gina")],
    )
    .await
    .expect_success();
    c.ims(
        "DeleteVirtualMFADevice",
        &[("SerialNumber", "acs:ram::1234567890123456:mfa/gina")],
    )
    .await
    .expect_error(404, "EntityNotExist.VirtualMFADevice");
    let ram_list = c.ram("ListVirtualMFADevices", &[]).await.expect_success();
    assert_eq!(
        ram_list["VirtualMFADevices"]["VirtualMFADevice"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn applications_domain_and_summary() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ims(
        "CreateApplication",
        &[
            ("AppName", "myapp"),
            ("DisplayName", "My App"),
            ("AppType", "Desktop"),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.AppType");
    let app = c
        .ims(
            "CreateApplication",
            &[
                ("AppName", "myapp"),
                ("DisplayName", "My App"),
                ("AppType", "WebApp"),
                (
                    "RedirectUris",
                    "https://a.example.com;https://b.example.com",
                ),
            ],
        )
        .await
        .expect_success();
    let id = app["Application"]["AppId"].as_str().unwrap().to_string();
    assert_eq!(
        app["Application"]["RedirectUris"]["RedirectUri"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    c.ims(
        "UpdateApplication",
        &[("AppId", &id), ("NewDisplayName", "Renamed")],
    )
    .await
    .expect_success();
    assert_eq!(
        c.ims("GetApplication", &[("AppId", &id)])
            .await
            .expect_success()["Application"]["DisplayName"],
        "Renamed"
    );
    assert_eq!(
        c.ims("ListApplications", &[]).await.expect_success()["Applications"]["Application"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    c.ims("DeleteApplication", &[("AppId", &id)])
        .await
        .expect_success();
    c.ims("GetApplication", &[("AppId", &id)])
        .await
        .expect_error(404, "EntityNotExist.Application");

    assert_eq!(
        c.ims("GetDefaultDomain", &[]).await.expect_success()["DefaultDomainName"],
        "1234567890123456.onaliyun.com"
    );
    c.ims(
        "SetDefaultDomain",
        &[("DefaultDomainName", "corp.example.com")],
    )
    .await
    .expect_error(400, "InvalidParameter.DefaultDomainName");
    c.ims(
        "SetDefaultDomain",
        &[("DefaultDomainName", "corp.onaliyun.com")],
    )
    .await
    .expect_success();
    assert_eq!(
        c.ims("GetDefaultDomain", &[]).await.expect_success()["DefaultDomainName"],
        "corp.onaliyun.com"
    );
    c.ram("CreateUser", &[("UserName", "hank")])
        .await
        .expect_success();
    let u = c
        .ims(
            "GetUser",
            &[("UserPrincipalName", "hank@corp.onaliyun.com")],
        )
        .await
        .expect_success();
    assert_eq!(u["User"]["UserName"], "hank");
    let users = c.ims("ListUsers", &[]).await.expect_success();
    assert_eq!(
        users["Users"]["User"][0]["UserPrincipalName"],
        "hank@corp.onaliyun.com"
    );
    let summary = c.ims("GetAccountSummary", &[]).await.expect_success();
    assert_eq!(summary["SummaryMap"]["Users"], 1);
    assert_eq!(summary["SummaryMap"]["AccessKeysPerUserQuota"], 2);
    assert_eq!(summary["SummaryMap"]["VersionsPerPolicyQuota"], 5);
}

// ------------------------------------------------------------------ the recycle bin and the clock

fn parse_stamp(v: &Value) -> time::OffsetDateTime {
    time::OffsetDateTime::parse(
        v.as_str().unwrap_or_else(|| panic!("not a date: {v}")),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

const IVAN_ID: &str = "200000000000009";
const IVAN_UPN: &str = "ivan@1234567890123456.onaliyun.com";
const IVAN_KEY1: &str = "LTAIivan0000000000000001";
const IVAN_KEY2: &str = "LTAIivan0000000000000002";

/// ivan, in every relation a user can have, in an account that deletes into the bin.
fn ivan_in_recycle_bin_mode(extra: &str) -> String {
    format!(
        "{BASE}  delete_user: recycle_bin\ngroups: [{{name: dev}}]\nusers:\n  - name: ivan\n    id: '{IVAN_ID}'\n    display_name: Ivan\n    groups: [dev]\n    policies: [System/ReadOnlyAccess]\n    mfa_device: 'acs:ram::1234567890123456:mfa/ivan'\n    login_profile: {{status: Active}}\n    access_keys:\n      - {{id: {IVAN_KEY1}, secret: s1, status: Active}}\n      - {{id: {IVAN_KEY2}, secret: s2, status: Active}}\n{extra}"
    )
}

fn bin_key_ids(v: &Value) -> Vec<String> {
    v["AccessKeys"]["AccessKey"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["AccessKeyId"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn deleting_into_the_bin_removes_permissions_memberships_and_mfa_and_disables_logon_and_keys()
{
    let emu = start(&ivan_in_recycle_bin_mode("")).await;
    let c = Client::root(&emu);
    let ivan = Client::new(emu.url(), IVAN_KEY1, "s1");
    ivan.ram("ListUsers", &[]).await.expect_success();
    c.ram("DeleteUser", &[("UserName", "ivan")])
        .await
        .expect_success();
    c.ram("GetUser", &[("UserName", "ivan")])
        .await
        .expect_error(404, "EntityNotExist.User");
    // Its keys are in the bin, where no key signs a call.
    ivan.ram("ListUsers", &[])
        .await
        .expect_error(404, "InvalidAccessKeyId.NotFound");
    // Memberships, permissions and the MFA binding are gone from the account.
    let members = c
        .ram("ListUsersForGroup", &[("GroupName", "dev")])
        .await
        .expect_success();
    assert_eq!(members["Users"]["User"], serde_json::json!([]));
    let entities = c
        .ram(
            "ListEntitiesForPolicy",
            &[("PolicyName", "ReadOnlyAccess"), ("PolicyType", "System")],
        )
        .await
        .expect_success();
    assert_eq!(entities["Users"]["User"], serde_json::json!([]));
    let devices = c.ram("ListVirtualMFADevices", &[]).await.expect_success();
    let device = &devices["VirtualMFADevices"]["VirtualMFADevice"][0];
    assert_eq!(device["SerialNumber"], "acs:ram::1234567890123456:mfa/ivan");
    assert!(device.get("User").is_none(), "{device}");

    let bin = c.ims("ListUsersInRecycleBin", &[]).await.expect_success();
    let entry = &bin["Users"]["User"][0];
    assert_eq!(entry["UserId"], IVAN_ID);
    assert_eq!(entry["UserPrincipalName"], IVAN_UPN);
    assert_eq!(
        parse_stamp(&entry["DeleteDate"]) - parse_stamp(&entry["RecycleDate"]),
        time::Duration::days(30)
    );
    let keys = c
        .ims("ListAccessKeysInRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_success();
    assert_eq!(bin_key_ids(&keys), [IVAN_KEY1, IVAN_KEY2]);
    c.ims(
        "RestoreAccessKeyFromRecycleBin",
        &[("UserId", IVAN_ID), ("UserAccessKeyId", IVAN_KEY1)],
    )
    .await
    .expect_error(409, "DeleteConflict.User.Recycled");

    // A restore brings back the identity only.
    c.ims("RestoreUserFromRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_success();
    let user = c
        .ram("GetUser", &[("UserName", "ivan")])
        .await
        .expect_success();
    assert_eq!(user["User"]["UserId"], IVAN_ID);
    assert_eq!(user["User"]["DisplayName"], "Ivan");
    let groups = c
        .ram("ListGroupsForUser", &[("UserName", "ivan")])
        .await
        .expect_success();
    assert_eq!(groups["Groups"]["Group"], serde_json::json!([]));
    let policies = c
        .ram("ListPoliciesForUser", &[("UserName", "ivan")])
        .await
        .expect_success();
    assert_eq!(policies["Policies"]["Policy"], serde_json::json!([]));
    c.ram("GetUserMFAInfo", &[("UserName", "ivan")])
        .await
        .expect_error(404, "EntityNotExist.User.MFADevice");
    let profile = c
        .ims("GetLoginProfile", &[("UserPrincipalName", IVAN_UPN)])
        .await
        .expect_success();
    assert_eq!(profile["LoginProfile"]["Status"], "Inactive");
    let own = c
        .ram("ListAccessKeys", &[("UserName", "ivan")])
        .await
        .expect_success();
    assert_eq!(own["AccessKeys"]["AccessKey"], serde_json::json!([]));
    let keys = c
        .ims("ListAccessKeysInRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_success();
    assert_eq!(bin_key_ids(&keys), [IVAN_KEY1, IVAN_KEY2]);
    let info = c
        .ims(
            "GetAccessKeyInfoInRecycleBin",
            &[("UserAccessKeyId", IVAN_KEY1)],
        )
        .await
        .expect_success();
    assert_eq!(info["AccessKey"]["UserRecycled"], false);

    // A key comes back on its own, disabled.
    c.ims(
        "RestoreAccessKeyFromRecycleBin",
        &[("UserId", IVAN_ID), ("UserAccessKeyId", IVAN_KEY1)],
    )
    .await
    .expect_success();
    let own = c
        .ram("ListAccessKeys", &[("UserName", "ivan")])
        .await
        .expect_success();
    assert_eq!(own["AccessKeys"]["AccessKey"][0]["AccessKeyId"], IVAN_KEY1);
    assert_eq!(own["AccessKeys"]["AccessKey"][0]["Status"], "Inactive");
    ivan.ram("ListUsers", &[])
        .await
        .expect_error(400, "InvalidAccessKeyId.Inactive");
    c.ram(
        "UpdateAccessKey",
        &[
            ("UserName", "ivan"),
            ("UserAccessKeyId", IVAN_KEY1),
            ("Status", "Active"),
        ],
    )
    .await
    .expect_success();
    ivan.ram("ListUsers", &[]).await.expect_success();

    // A live user's deleted key goes to the bin disabled, and can be purged by hand.
    c.ram(
        "DeleteAccessKey",
        &[("UserName", "ivan"), ("UserAccessKeyId", IVAN_KEY1)],
    )
    .await
    .expect_success();
    c.ims(
        "DeleteAccessKeyInRecycleBin",
        &[("UserId", IVAN_ID), ("UserAccessKeyId", IVAN_KEY1)],
    )
    .await
    .expect_success();
    c.ims(
        "GetAccessKeyInfoInRecycleBin",
        &[("UserAccessKeyId", IVAN_KEY1)],
    )
    .await
    .expect_error(404, "EntityNotExist.User.AccessKey");
    // Purging a user purges the keys it left in the bin.
    c.ims("DeleteUser", &[("UserPrincipalName", IVAN_UPN)])
        .await
        .expect_success();
    c.ims("DeleteUserInRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_success();
    c.ims("GetUserInRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_error(404, "EntityNotExist.User");
    c.ims(
        "GetAccessKeyInfoInRecycleBin",
        &[("UserAccessKeyId", IVAN_KEY2)],
    )
    .await
    .expect_error(404, "EntityNotExist.User.AccessKey");
    let snap = emu.snapshot();
    assert!(snap.users.is_empty() && snap.recycle_bin.is_empty());
}

#[tokio::test]
async fn the_bin_is_purged_thirty_days_after_deletion_by_the_accounts_clock() {
    let emu = start(&ivan_in_recycle_bin_mode(
        "  - name: bob\n    id: '200000000000010'\n    access_keys: [{id: LTAIbob00000000000000001, secret: b, status: Inactive}]\n",
    ))
    .await;
    let c = Client::root(&emu);
    emu.advance_clock(time::Duration::days(10));
    c.ram("DeleteUser", &[("UserName", "ivan")])
        .await
        .expect_success();
    c.ram(
        "DeleteAccessKey",
        &[
            ("UserName", "bob"),
            ("UserAccessKeyId", "LTAIbob00000000000000001"),
        ],
    )
    .await
    .expect_success();
    // The dates are the account's clock's, ten days ahead of the wall clock.
    let got = c
        .ims("GetUserInRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_success();
    let recycled = parse_stamp(&got["User"]["RecycleDate"]);
    let ahead = recycled - time::OffsetDateTime::now_utc();
    assert!(
        ahead > time::Duration::days(10) - time::Duration::minutes(1)
            && ahead <= time::Duration::days(10),
        "{ahead}"
    );
    assert!(recycled <= emu.now());

    emu.advance_clock(time::Duration::days(29));
    let bin = c.ims("ListUsersInRecycleBin", &[]).await.expect_success();
    assert_eq!(bin["Users"]["User"].as_array().unwrap().len(), 1);
    let keys = c
        .ims(
            "ListAccessKeysInRecycleBin",
            &[("UserId", "200000000000010")],
        )
        .await
        .expect_success();
    assert_eq!(bin_key_ids(&keys), ["LTAIbob00000000000000001"]);

    emu.advance_clock(time::Duration::days(1) + time::Duration::minutes(1));
    // Listing, getting and restoring agree: the user and every key are gone.
    let bin = c.ims("ListUsersInRecycleBin", &[]).await.expect_success();
    assert_eq!(bin["Users"]["User"], serde_json::json!([]));
    c.ims("GetUserInRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_error(404, "EntityNotExist.User");
    c.ims("GetUserInRecycleBin", &[("UserAccessKeyId", IVAN_KEY1)])
        .await
        .expect_error(404, "EntityNotExist.User.AccessKey");
    c.ims("RestoreUserFromRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_error(404, "EntityNotExist.User");
    let keys = c
        .ims("ListAccessKeysInRecycleBin", &[("UserId", IVAN_ID)])
        .await
        .expect_success();
    assert!(bin_key_ids(&keys).is_empty());
    c.ims(
        "RestoreAccessKeyFromRecycleBin",
        &[
            ("UserId", "200000000000010"),
            ("UserAccessKeyId", "LTAIbob00000000000000001"),
        ],
    )
    .await
    .expect_error(404, "EntityNotExist.User.AccessKey");
    assert!(emu.snapshot().recycle_bin.is_empty());
    assert_eq!(
        emu.clock_offset(),
        time::Duration::days(40) + time::Duration::minutes(1)
    );
}

#[tokio::test]
async fn seeded_bin_entries_are_purged_when_their_date_passes_and_stale_ones_stay() {
    let soon = stamp(time::OffsetDateTime::now_utc() + time::Duration::days(5));
    let emu = start(&format!(
        "{BASE}recycle_bin:\n  users:\n    - {{id: '300000000000001', principal_name: old@1234567890123456.onaliyun.com, recycle_date: '2025-06-25T00:00:00Z', delete_date: '2025-07-25T00:00:00Z'}}\n    - {{id: '300000000000002', principal_name: soon@1234567890123456.onaliyun.com, delete_date: '{soon}'}}\n  access_keys:\n    - {{id: LTAIold00000000000000001, user_id: '300000000000001', delete_date: '2025-07-25T00:00:00Z'}}\n    - {{id: LTAIsoon0000000000000001, user_id: '300000000000002', delete_date: '{soon}'}}\n"
    ))
    .await;
    let c = Client::root(&emu);
    let bin = c.ims("ListUsersInRecycleBin", &[]).await.expect_success();
    assert_eq!(bin["Users"]["User"].as_array().unwrap().len(), 2);
    emu.advance_clock(time::Duration::days(6));
    let bin = c.ims("ListUsersInRecycleBin", &[]).await.expect_success();
    let ids: Vec<&str> = bin["Users"]["User"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["UserId"].as_str().unwrap())
        .collect();
    // A date that had passed before the emulator started belongs to an old
    // snapshot: that entry stays as seeded.
    assert_eq!(ids, ["300000000000001"]);
    c.ims(
        "GetAccessKeyInfoInRecycleBin",
        &[("UserAccessKeyId", "LTAIsoon0000000000000001")],
    )
    .await
    .expect_error(404, "EntityNotExist.User.AccessKey");
    // A seeded key is restored disabled, like any other.
    c.ims(
        "RestoreUserFromRecycleBin",
        &[("UserId", "300000000000001")],
    )
    .await
    .expect_success();
    c.ims(
        "RestoreAccessKeyFromRecycleBin",
        &[
            ("UserId", "300000000000001"),
            ("UserAccessKeyId", "LTAIold00000000000000001"),
        ],
    )
    .await
    .expect_success();
    let keys = c
        .ram("ListAccessKeys", &[("UserName", "old")])
        .await
        .expect_success();
    assert_eq!(keys["AccessKeys"]["AccessKey"][0]["Status"], "Inactive");
}

#[tokio::test]
async fn a_users_bin_holds_three_keys_and_a_fourth_purges_the_oldest() {
    let emu = start(&format!(
        "{BASE}  delete_user: recycle_bin\nusers: [{{name: bob, id: '200000000000010'}}]\n"
    ))
    .await;
    let c = Client::root(&emu);
    let mut deleted = vec![];
    let cycle = async |c: &Client, deleted: &mut Vec<String>, n: usize| {
        let mut made = vec![];
        for _ in 0..n {
            let k = c
                .ram("CreateAccessKey", &[("UserName", "bob")])
                .await
                .expect_success();
            made.push(k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string());
        }
        for id in made {
            c.ram(
                "DeleteAccessKey",
                &[("UserName", "bob"), ("UserAccessKeyId", &id)],
            )
            .await
            .expect_success();
            deleted.push(id);
        }
    };
    cycle(&c, &mut deleted, 2).await;
    cycle(&c, &mut deleted, 1).await;
    let keys = c
        .ims(
            "ListAccessKeysInRecycleBin",
            &[("UserId", "200000000000010")],
        )
        .await
        .expect_success();
    let mut want = deleted.clone();
    want.sort();
    assert_eq!(bin_key_ids(&keys), want);
    cycle(&c, &mut deleted, 1).await;
    let keys = c
        .ims(
            "ListAccessKeysInRecycleBin",
            &[("UserId", "200000000000010")],
        )
        .await
        .expect_success();
    let mut want = deleted[1..].to_vec();
    want.sort();
    assert_eq!(bin_key_ids(&keys), want, "the first key deleted is purged");
    // The user's own deletion moves its last key in under the same limit.
    let k = c
        .ram("CreateAccessKey", &[("UserName", "bob")])
        .await
        .expect_success();
    deleted.push(k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string());
    c.ram("DeleteUser", &[("UserName", "bob")])
        .await
        .expect_success();
    let keys = c
        .ims(
            "ListAccessKeysInRecycleBin",
            &[("UserId", "200000000000010")],
        )
        .await
        .expect_success();
    let mut want = deleted[2..].to_vec();
    want.sort();
    assert_eq!(bin_key_ids(&keys), want);
}

#[tokio::test]
async fn the_bin_holds_a_thousand_users_and_a_new_one_purges_the_oldest() {
    let delete = stamp(time::OffsetDateTime::now_utc() + time::Duration::days(20));
    let mut yaml = format!(
        "{BASE}  delete_user: recycle_bin\nusers: [{{name: last, id: '200000000000001'}}]\nrecycle_bin:\n  users:\n"
    );
    // Recycle dates a minute apart, the oldest in the middle of the ID order.
    let base = time::OffsetDateTime::now_utc() - time::Duration::days(10);
    for i in 0..1000i64 {
        let minutes = if i == 500 { -1 } else { i };
        let recycled = stamp(base + time::Duration::minutes(minutes));
        yaml.push_str(&format!(
            "    - {{id: '4{i:014}', principal_name: u{i}@1234567890123456.onaliyun.com, recycle_date: '{recycled}', delete_date: '{delete}'}}\n"
        ));
    }
    yaml.push_str(&format!(
        "  access_keys: [{{id: LTAIoldest00000000000001, user_id: '4{:014}', delete_date: '{delete}'}}]\n",
        500
    ));
    let emu = start(&yaml).await;
    let c = Client::root(&emu);
    assert_eq!(emu.snapshot().recycle_bin.users.len(), 1000);
    c.ram("DeleteUser", &[("UserName", "last")])
        .await
        .expect_success();
    let bin = emu.snapshot().recycle_bin;
    assert_eq!(bin.users.len(), 1000);
    c.ims("GetUserInRecycleBin", &[("UserId", "200000000000001")])
        .await
        .expect_success();
    let oldest = format!("4{:014}", 500);
    c.ims("GetUserInRecycleBin", &[("UserId", &oldest)])
        .await
        .expect_error(404, "EntityNotExist.User");
    c.ims(
        "GetAccessKeyInfoInRecycleBin",
        &[("UserAccessKeyId", "LTAIoldest00000000000001")],
    )
    .await
    .expect_error(404, "EntityNotExist.User.AccessKey");
    c.ims("GetUserInRecycleBin", &[("UserId", &format!("4{:014}", 0))])
        .await
        .expect_success();
    // The bin's users do not count against the account's users.
    let summary = c.ims("GetAccountSummary", &[]).await.expect_success();
    assert_eq!(summary["SummaryMap"]["Users"], 0);
}

#[tokio::test]
async fn a_moved_clock_dates_what_the_account_records_while_signatures_keep_the_wall_clock() {
    let emu = emulator::start(EmulatorConfig {
        clock_offset: time::Duration::days(40),
        ..EmulatorConfig::new(seed(&format!(
            "{BASE}users: [{{name: seeded}}]\nroles:\n  - name: deployer\n    assume_role_policy_document: '{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"RAM\":[\"acs:ram::1234567890123456:root\"]}}}}],\"Version\":\"1\"}}'\n"
        )))
    })
    .await
    .unwrap();
    assert_eq!(emu.clock_offset(), time::Duration::days(40));
    let wall = time::OffsetDateTime::now_utc();
    let near_account_now = |v: &Value| {
        let t = parse_stamp(v);
        let now = emu.now();
        assert!(
            t <= now && now - t < time::Duration::minutes(1),
            "{t} is not the account's now {now}"
        );
    };
    let c = Client::root(&emu);
    let seeded = c
        .ram("GetUser", &[("UserName", "seeded")])
        .await
        .expect_success();
    near_account_now(&seeded["User"]["CreateDate"]);
    // The client signs with the wall clock and is accepted...
    let alice = user_client(&c, "alice").await;
    let made = c
        .ram("GetUser", &[("UserName", "alice")])
        .await
        .expect_success();
    near_account_now(&made["User"]["CreateDate"]);
    alice.ram("ListUsers", &[]).await.expect_success();
    let used = c
        .ram(
            "GetAccessKeyLastUsed",
            &[("UserName", "alice"), ("UserAccessKeyId", &alice.key_id)],
        )
        .await
        .expect_success();
    near_account_now(&used["AccessKeyLastUsed"]["LastUsedDate"]);
    // ...and one signing with the account's clock is not.
    let ahead = stamp(emu.now());
    let all = c.signed("POST", RAM, "ListUsers", &[], |p| {
        p.insert("Timestamp".into(), ahead.clone());
    });
    c.send_query("POST", &all)
        .await
        .expect_error(400, "InvalidTimeStamp.Expired");
    // Temporary credentials last their hour of wall-clock time.
    let creds = alice
        .call(
            STS,
            "AssumeRole",
            &[
                ("RoleArn", "acs:ram::1234567890123456:role/deployer"),
                ("RoleSessionName", "ci"),
            ],
        )
        .await
        .expect_success();
    let expires = parse_stamp(&creds["Credentials"]["Expiration"]);
    assert!(expires - wall <= time::Duration::hours(1) + time::Duration::minutes(1));
    let mut session = Client::new(
        emu.url(),
        creds["Credentials"]["AccessKeyId"].as_str().unwrap(),
        creds["Credentials"]["AccessKeySecret"].as_str().unwrap(),
    );
    session.token = Some(
        creds["Credentials"]["SecurityToken"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    session
        .call(STS, "GetCallerIdentity", &[])
        .await
        .expect_success();
    // TOTP codes come from the user's device, on the wall clock.
    let dev = c
        .ram(
            "CreateVirtualMFADevice",
            &[("VirtualMFADeviceName", "alice")],
        )
        .await
        .expect_success();
    let serial = dev["VirtualMFADevice"]["SerialNumber"].as_str().unwrap();
    let secret = emulator::base32_decode(
        dev["VirtualMFADevice"]["Base32StringSeed"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let step = (time::OffsetDateTime::now_utc().unix_timestamp() / 30) as u64;
    let bound = c
        .ram(
            "BindMFADevice",
            &[
                ("UserName", "alice"),
                ("SerialNumber", serial),
                ("AuthenticationCode1", &emulator::totp(&secret, step - 1)),
                ("AuthenticationCode2", &emulator::totp(&secret, step)),
            ],
        )
        .await;
    bound.expect_success();
    let devices = c.ram("ListVirtualMFADevices", &[]).await.expect_success();
    near_account_now(&devices["VirtualMFADevices"]["VirtualMFADevice"][0]["ActivateDate"]);

    emu.set_clock_offset(time::Duration::ZERO);
    let drift = emu.now() - time::OffsetDateTime::now_utc();
    assert!(drift.abs() < time::Duration::seconds(1), "{drift}");
}

#[tokio::test]
async fn a_console_logon_dates_the_user_by_the_clock_and_needs_an_active_profile() {
    let emu = start(&format!("{BASE}users: [{{name: dave}}]\n")).await;
    let c = Client::root(&emu);
    let upn = "dave@1234567890123456.onaliyun.com";
    let nobody = emu.record_console_logon("nobody").unwrap_err();
    assert!(nobody.to_string().contains("nobody"), "{nobody}");
    let no_profile = emu.record_console_logon("dave").unwrap_err();
    assert!(
        no_profile.to_string().contains("no login profile"),
        "{no_profile}"
    );
    c.ram(
        "CreateLoginProfile",
        &[("UserName", "dave"), ("Password", "Dave-s-Passw0rd")],
    )
    .await
    .expect_success();
    emu.advance_clock(time::Duration::days(3));
    let at = emu.record_console_logon("dave").unwrap();
    let got = c
        .ram("GetUser", &[("UserName", "dave")])
        .await
        .expect_success();
    assert_eq!(got["User"]["LastLoginDate"], stamp(at));
    let ims = c
        .ims("GetUser", &[("UserPrincipalName", upn)])
        .await
        .expect_success();
    assert_eq!(ims["User"]["LastLoginDate"], stamp(at));
    assert_eq!(emu.snapshot().users[0].last_login_date, Some(stamp(at)));
    c.ims(
        "UpdateLoginProfile",
        &[("UserPrincipalName", upn), ("Status", "Inactive")],
    )
    .await
    .expect_success();
    let off = emu.record_console_logon("dave").unwrap_err();
    assert!(off.to_string().contains("Inactive"), "{off}");
}

// ------------------------------------------------------------------ faults and log

#[tokio::test]
async fn qps_limit_answers_throttling_with_a_retry_after() {
    let emu = start(BASE).await;
    emu.set_faults(Faults {
        qps_limit: 2.0,
        ..Faults::default()
    });
    let c = Client::root(&emu);
    c.ram("ListUsers", &[]).await.expect_success();
    c.ram("ListUsers", &[]).await.expect_success();
    let r = c.ram("ListUsers", &[]).await;
    r.expect_error(400, "Throttling.User");
    let ms: u64 = r.retry_after.unwrap().parse().unwrap();
    assert!((1..=1000).contains(&ms));
}

#[tokio::test]
async fn error_rate_and_dropped_connections_are_injected() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    emu.set_faults(Faults {
        error_rate: 1.0,
        seed: 3,
        ..Faults::default()
    });
    for _ in 0..4 {
        let r = c.ram("ListUsers", &[]).await;
        assert!(
            (r.status, r.code()) == (503, "ServiceUnavailable")
                || (r.status, r.code()) == (500, "InternalError"),
            "{}",
            r.body
        );
    }
    emu.set_faults(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    });
    let all = c.signed("POST", RAM, "ListUsers", &[], |_| {});
    let err = reqwest::Client::new()
        .post(format!("{}?{}", emu.url(), query_string(&all)))
        .send()
        .await;
    assert!(err.is_err(), "a dropped connection must not answer");
    emu.set_faults(Faults::default());
    c.ram("ListUsers", &[]).await.expect_success();
    let log = emu.log();
    assert!(
        log.iter()
            .any(|e| e.status == 0 && e.code.as_deref() == Some("ConnectionDropped"))
    );
}

#[tokio::test]
async fn latency_delays_every_call() {
    let emu = start(BASE).await;
    emu.set_faults(Faults {
        latency: Duration::from_millis(120),
        ..Faults::default()
    });
    let c = Client::root(&emu);
    let t = std::time::Instant::now();
    c.ram("ListUsers", &[]).await.expect_success();
    assert!(t.elapsed() >= Duration::from_millis(120));
}

#[tokio::test]
async fn writes_show_up_in_reads_only_after_the_consistency_delay() {
    let emu = start(BASE).await;
    emu.set_faults(Faults {
        consistency_delay: Duration::from_millis(300),
        ..Faults::default()
    });
    let c = Client::root(&emu);
    c.ram("CreateUser", &[("UserName", "late")])
        .await
        .expect_success();
    c.ram("GetUser", &[("UserName", "late")])
        .await
        .expect_error(404, "EntityNotExist.User");
    c.ram("CreateUser", &[("UserName", "late")])
        .await
        .expect_error(409, "EntityAlreadyExists.User");
    tokio::time::sleep(Duration::from_millis(350)).await;
    c.ram("GetUser", &[("UserName", "late")])
        .await
        .expect_success();
}

#[tokio::test]
async fn each_write_of_a_burst_stays_invisible_to_reads_until_its_delay_has_passed() {
    // The emulator keeps one earlier state per eighth of the delay, not one per write:
    // the writes that follow the first within that slice must still be hidden.
    let emu = start(BASE).await;
    emu.set_faults(Faults {
        consistency_delay: Duration::from_millis(800),
        ..Faults::default()
    });
    let c = Client::root(&emu);
    for name in ["burst-a", "burst-b", "burst-c"] {
        c.ram("CreateUser", &[("UserName", name)])
            .await
            .expect_success();
        c.ram("GetUser", &[("UserName", name)])
            .await
            .expect_error(404, "EntityNotExist.User");
    }
    let listed = c.ram("ListUsers", &[]).await.expect_success();
    assert!(!listed.to_string().contains("burst-"), "{listed}");
    tokio::time::sleep(Duration::from_millis(850)).await;
    for name in ["burst-a", "burst-b", "burst-c"] {
        c.ram("GetUser", &[("UserName", name)])
            .await
            .expect_success();
    }
}

#[tokio::test]
async fn the_request_log_records_calls_without_secrets_and_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calls.jsonl");
    let emu = emulator::start(EmulatorConfig {
        log_file: Some(path.clone()),
        ..EmulatorConfig::new(seed(BASE))
    })
    .await
    .unwrap();
    let c = Client::root(&emu);
    c.ram("CreateUser", &[("UserName", "jo")])
        .await
        .expect_success();
    c.ram(
        "CreateLoginProfile",
        &[("UserName", "jo"), ("Password", "Secret-Passw0rd")],
    )
    .await
    .expect_success();
    c.ram("GetUser", &[("UserName", "nobody")])
        .await
        .expect_error(404, "EntityNotExist.User");
    let log = emu.log();
    assert_eq!(log.len(), 3);
    assert_eq!(log[0].action, "CreateUser");
    assert_eq!(log[0].service, Service::Ram);
    assert_eq!(
        log[0].params.get("UserName").map(String::as_str),
        Some("jo")
    );
    assert!(!log[0].params.contains_key("Signature") && !log[0].params.contains_key("AccessKeyId"));
    assert_eq!(log[0].caller, emu.root_key().id);
    assert!(!log[1].params.contains_key("Password"));
    assert_eq!(
        (log[2].status, log[2].code.as_deref()),
        (404, Some("EntityNotExist.User"))
    );
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(log.iter().all(|e| e.started_ms <= e.finished_ms));
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(!text.contains("Secret-Passw0rd"));
    let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["action"], "CreateUser");
    emu.shutdown().await;
}

#[tokio::test]
async fn format_xml_is_answered_in_xml() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let all = c.signed("POST", RAM, "GetAccountAlias", &[], |m| {
        m.insert("Format".into(), "XML".into());
    });
    let r = c.send_query("POST", &all).await;
    assert_eq!(r.status, 200);
    let text = r.body.as_str().unwrap();
    assert!(
        text.contains("<GetAccountAliasResponse>") && text.contains("<RequestId>"),
        "{text}"
    );
}

#[tokio::test]
async fn the_snapshot_reflects_api_changes_in_the_seed_format() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram("CreateUser", &[("UserName", "kim")])
        .await
        .expect_success();
    c.ram("CreateGroup", &[("GroupName", "ops")])
        .await
        .expect_success();
    c.ram(
        "AddUserToGroup",
        &[("UserName", "kim"), ("GroupName", "ops")],
    )
    .await
    .expect_success();
    c.ram(
        "AttachPolicyToGroup",
        &[
            ("GroupName", "ops"),
            ("PolicyName", "AliyunECSFullAccess"),
            ("PolicyType", "System"),
        ],
    )
    .await
    .expect_success();
    let snap = emu.snapshot();
    assert_eq!(snap.users[0].groups, ["ops"]);
    assert_eq!(
        snap.groups[0].policies[0].to_string(),
        "System/AliyunECSFullAccess"
    );
    // The snapshot seeds an identical emulator.
    let again = emulator::start(EmulatorConfig::new(snap.clone()))
        .await
        .unwrap();
    assert_eq!(again.snapshot(), snap);
}

#[tokio::test]
async fn policy_pages_span_system_and_custom_policies_without_repeats() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    for name in ["zeta", "alpha", "mid"] {
        c.ram(
            "CreatePolicy",
            &[("PolicyName", name), ("PolicyDocument", DOC)],
        )
        .await
        .expect_success();
    }
    let mut seen = vec![];
    let mut marker = String::new();
    loop {
        let mut p = vec![("MaxItems", "4")];
        if !marker.is_empty() {
            p.push(("Marker", &marker));
        }
        let v = c.ram("ListPolicies", &p).await.expect_success();
        for pol in v["Policies"]["Policy"].as_array().unwrap() {
            seen.push(format!(
                "{}/{}",
                pol["PolicyType"].as_str().unwrap(),
                pol["PolicyName"].as_str().unwrap()
            ));
        }
        match v["Marker"].as_str() {
            Some(m) => marker = m.to_string(),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len());
    assert!(
        seen.contains(&"Custom/alpha".to_string())
            && seen.contains(&"System/ReadOnlyAccess".to_string())
    );
    let all = c
        .ram("ListPolicies", &[("MaxItems", "1000")])
        .await
        .expect_success();
    assert_eq!(
        all["Policies"]["Policy"].as_array().unwrap().len(),
        seen.len()
    );
}

#[tokio::test]
async fn assume_role_with_oidc_needs_no_signature_but_a_matching_token() {
    use base64::Engine;
    let emu = start(&format!(
        "{BASE}oidc_providers:\n  - {{name: gh, issuer_url: 'https://token.example.com', client_ids: [sts.aliyuncs.com]}}\nroles:\n  - name: ci-deploy\n    assume_role_policy_document: '{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"Federated\":[\"acs:ram::1234567890123456:oidc-provider/gh\"]}}}}],\"Version\":\"1\"}}'\n"
    ))
    .await;
    let exp = time::OffsetDateTime::now_utc().unix_timestamp() + 600;
    let token = |iss: &str, aud: &str| {
        let claims = format!(
            r#"{{"iss":"{iss}","aud":"{aud}","sub":"repo:acme/app","iat":{},"exp":{exp}}}"#,
            exp - 600
        );
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims)
        )
    };
    let send = |tok: String| {
        let url = emu.url().to_string();
        async move {
            let mut all = BTreeMap::new();
            for (k, v) in [
                ("Action", "AssumeRoleWithOIDC".to_string()),
                ("Version", STS.to_string()),
                ("Format", "JSON".to_string()),
                ("Timestamp", now_stamp()),
                ("SignatureNonce", uuid::Uuid::new_v4().to_string()),
                (
                    "OIDCProviderArn",
                    "acs:ram::1234567890123456:oidc-provider/gh".to_string(),
                ),
                (
                    "RoleArn",
                    "acs:ram::1234567890123456:role/ci-deploy".to_string(),
                ),
                ("RoleSessionName", "gh-run-1".to_string()),
                ("OIDCToken", tok),
            ] {
                all.insert(k.to_string(), v);
            }
            reply(
                reqwest::Client::new()
                    .post(format!("{url}?{}", query_string(&all)))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    send(token("https://evil.example.com", "sts.aliyuncs.com"))
        .await
        .expect_error(401, "AuthenticationFail.OIDCToken.IssuerNotMatch");
    send(token("https://token.example.com", "other"))
        .await
        .expect_error(401, "AuthenticationFail.OIDCToken.AudienceNotMatch");
    send("not-a-jwt".into())
        .await
        .expect_error(401, "AuthenticationFail.OIDCToken.Invalid");
    let v = send(token("https://token.example.com", "sts.aliyuncs.com"))
        .await
        .expect_success();
    assert_eq!(v["OIDCTokenInfo"]["Subject"], "repo:acme/app");
    let mut s = Client::new(
        emu.url(),
        v["Credentials"]["AccessKeyId"].as_str().unwrap(),
        v["Credentials"]["AccessKeySecret"].as_str().unwrap(),
    );
    s.token = Some(
        v["Credentials"]["SecurityToken"]
            .as_str()
            .unwrap()
            .to_string(),
    );
    let who = s.call(STS, "GetCallerIdentity", &[]).await.expect_success();
    assert_eq!(
        who["Arn"],
        "acs:ram::1234567890123456:assumed-role/ci-deploy/gh-run-1"
    );
    let log = emu.log();
    assert!(log.iter().all(|e| !e.params.contains_key("OIDCToken")));
}

#[tokio::test]
async fn ims_shares_user_operations_by_logon_name() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let upn = "lena@1234567890123456.onaliyun.com";
    c.ims(
        "CreateUser",
        &[("UserPrincipalName", upn), ("DisplayName", "Lena")],
    )
    .await
    .expect_success();
    c.ims(
        "CreateUser",
        &[
            ("UserPrincipalName", "x@other.onaliyun.com"),
            ("DisplayName", "X"),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.UserPrincipalName.Domain");
    let k = c
        .ims("CreateAccessKey", &[("UserPrincipalName", upn)])
        .await
        .expect_success();
    let id = k["AccessKey"]["AccessKeyId"].as_str().unwrap().to_string();
    let keys = c
        .ims("ListAccessKeys", &[("UserPrincipalName", upn)])
        .await
        .expect_success();
    assert_eq!(
        keys["AccessKeys"]["AccessKey"][0]["AccessKeyId"],
        id.as_str()
    );
    let by_key = c
        .ims("GetUser", &[("UserAccessKeyId", &id)])
        .await
        .expect_success();
    assert_eq!(by_key["User"]["UserPrincipalName"], upn);
    c.ims(
        "GetUser",
        &[("UserPrincipalName", "ghost@1234567890123456.onaliyun.com")],
    )
    .await
    .expect_error(404, "EntityNotExist.User");
    c.ims("DeleteUser", &[("UserPrincipalName", upn)])
        .await
        .expect_error(409, "DeleteConflict.User.AccessKey");
    let infos = c.ims("ListUserBasicInfos", &[]).await.expect_success();
    assert_eq!(
        infos["UserBasicInfos"]["UserBasicInfo"][0]["DisplayName"],
        "Lena"
    );
}

#[tokio::test]
async fn updates_and_the_remaining_lists_answer_over_http() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram("CreateUser", &[("UserName", "mia")])
        .await
        .expect_success();
    c.ram(
        "UpdateUser",
        &[("UserName", "mia"), ("NewEmail", "not-an-email")],
    )
    .await
    .expect_error(400, "InvalidParameter.NewEmail.Format");
    c.ram(
        "UpdateUser",
        &[("UserName", "mia"), ("NewMobilePhone", "12345")],
    )
    .await
    .expect_error(400, "InvalidParameter.NewMobilePhone.Format");
    let u = c
        .ram(
            "UpdateUser",
            &[
                ("UserName", "mia"),
                ("NewUserName", "mia.w"),
                ("NewDisplayName", "Mia W"),
                ("NewMobilePhone", "86-1380000****"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(u["User"]["UserName"], "mia.w");
    c.ram("GetUser", &[("UserName", "mia")])
        .await
        .expect_error(404, "EntityNotExist.User");
    c.ram(
        "UpdateLoginProfile",
        &[("UserName", "mia.w"), ("PasswordResetRequired", "true")],
    )
    .await
    .expect_error(404, "EntityNotExist.User.LoginProfile");
    c.ram(
        "CreateLoginProfile",
        &[("UserName", "mia.w"), ("Password", "short")],
    )
    .await
    .expect_error(400, "InvalidParameter.Password.TooWeak");
    c.ram(
        "CreateLoginProfile",
        &[("UserName", "mia.w"), ("Password", "Longer-Passw0rd")],
    )
    .await
    .expect_success();
    c.ram(
        "UpdateLoginProfile",
        &[("UserName", "mia.w"), ("MFABindRequired", "True")],
    )
    .await
    .expect_success();
    let lp = c
        .ram("GetLoginProfile", &[("UserName", "mia.w")])
        .await
        .expect_success();
    assert_eq!(lp["LoginProfile"]["MFABindRequired"], true);
    c.ram("GetUserMFAInfo", &[("UserName", "mia.w")])
        .await
        .expect_error(404, "EntityNotExist.User.MFADevice");

    c.ram(
        "CreatePolicy",
        &[
            ("PolicyName", "audit"),
            ("PolicyDocument", DOC),
            ("Description", "old"),
        ],
    )
    .await
    .expect_success();
    let p = c
        .ram(
            "UpdatePolicyDescription",
            &[("PolicyName", "audit"), ("NewDescription", "new")],
        )
        .await
        .expect_success();
    assert_eq!(p["Policy"]["Description"], "new");
    c.ram(
        "CreatePolicyVersion",
        &[("PolicyName", "audit"), ("PolicyDocument", DOC)],
    )
    .await
    .expect_success();
    c.ram(
        "SetDefaultPolicyVersion",
        &[("PolicyName", "audit"), ("VersionId", "v7")],
    )
    .await
    .expect_error(404, "EntityNotExist.Policy.Version");
    c.ram(
        "SetDefaultPolicyVersion",
        &[("PolicyName", "audit"), ("VersionId", "v2")],
    )
    .await
    .expect_success();
    let v1 = c
        .ram(
            "GetPolicyVersion",
            &[
                ("PolicyName", "audit"),
                ("PolicyType", "Custom"),
                ("VersionId", "v1"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(v1["PolicyVersion"]["IsDefaultVersion"], false);
    c.ram(
        "DeletePolicyVersion",
        &[("PolicyName", "audit"), ("VersionId", "v1")],
    )
    .await
    .expect_success();
    let sys = c
        .ram(
            "GetPolicyVersion",
            &[
                ("PolicyName", "AdministratorAccess"),
                ("PolicyType", "System"),
                ("VersionId", "v1"),
            ],
        )
        .await
        .expect_success();
    assert!(
        sys["PolicyVersion"]["PolicyDocument"]
            .as_str()
            .unwrap()
            .contains("\"*\"")
    );

    c.ram("CreateGroup", &[("GroupName", "qa")])
        .await
        .expect_success();
    c.ram(
        "AttachPolicyToGroup",
        &[
            ("GroupName", "qa"),
            ("PolicyName", "audit"),
            ("PolicyType", "Custom"),
        ],
    )
    .await
    .expect_success();
    c.ram(
        "AttachPolicyToUser",
        &[
            ("UserName", "mia.w"),
            ("PolicyName", "nope"),
            ("PolicyType", "Custom"),
        ],
    )
    .await
    .expect_error(404, "EntityNotExist.Policy");
    c.ram(
        "AttachPolicyToUser",
        &[
            ("UserName", "mia.w"),
            ("PolicyName", "audit"),
            ("PolicyType", "Custom"),
        ],
    )
    .await
    .expect_success();
    let fu = c
        .ram("ListPoliciesForUser", &[("UserName", "mia.w")])
        .await
        .expect_success();
    assert_eq!(fu["Policies"]["Policy"][0]["DefaultVersion"], "v2");
    let fg = c
        .ram("ListPoliciesForGroup", &[("GroupName", "qa")])
        .await
        .expect_success();
    assert!(fg["Policies"]["Policy"][0]["AttachDate"].is_string());
    c.ram("ListPoliciesForGroup", &[("GroupName", "none")])
        .await
        .expect_error(404, "EntityNotExist.Group");

    let trust = r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}],"Version":"1"}"#;
    c.ram(
        "CreateRole",
        &[
            ("RoleName", "tagged"),
            ("AssumeRolePolicyDocument", trust),
            ("Tag", r#"[{"Key":"env","Value":"prod"}]"#),
        ],
    )
    .await
    .expect_success();
    c.ram(
        "CreateRole",
        &[("RoleName", "plain"), ("AssumeRolePolicyDocument", trust)],
    )
    .await
    .expect_success();
    c.ram(
        "CreateRole",
        &[("RoleName", "plain"), ("AssumeRolePolicyDocument", trust)],
    )
    .await
    .expect_error(409, "EntityAlreadyExists.Role");
    let roles = c.ram("ListRoles", &[]).await.expect_success();
    assert_eq!(roles["Roles"]["Role"].as_array().unwrap().len(), 2);
    let prod = c
        .ram("ListRoles", &[("Tag", r#"[{"Key":"env","Value":"prod"}]"#)])
        .await
        .expect_success();
    let prod = prod["Roles"]["Role"].as_array().unwrap();
    assert_eq!(prod.len(), 1);
    assert_eq!(prod[0]["Tags"]["Tag"][0]["TagKey"], "env");
    assert_eq!(
        c.ims("GetAccountMFAInfo", &[]).await.expect_success()["IsMFAEnable"],
        false
    );
}

#[tokio::test]
async fn concurrent_calls_are_served_together_and_the_log_shows_the_peak() {
    let emu = start(BASE).await;
    emu.set_faults(Faults {
        latency: Duration::from_millis(150),
        ..Faults::default()
    });
    let c = Client::root(&emu);
    let calls = (0..6).map(|i| {
        let c = c.clone();
        async move {
            c.ram("CreateUser", &[("UserName", &format!("par-{i}"))])
                .await
                .expect_success();
        }
    });
    let t = std::time::Instant::now();
    futures::future::join_all(calls).await;
    assert!(
        t.elapsed() < Duration::from_millis(800),
        "calls were serialised: {:?}",
        t.elapsed()
    );
    let log = emu.log();
    assert_eq!(log.len(), 6);
    assert_eq!(emulator::peak_concurrency(&log), 6);
    assert_eq!(emu.snapshot().users.len(), 6);
}

#[tokio::test]
async fn tags_on_roles_policies_and_users_round_trip_over_http() {
    let emu = start(&format!(
        "{BASE}users: [{{name: nora, id: '200000000000042'}}]\nroles: [{{name: app}}]\npolicies: [{{name: pol, versions: [{{id: v1, is_default: true, document: '{{}}'}}]}}]\n"
    ))
    .await;
    let c = Client::root(&emu);
    for kind in ["role", "policy"] {
        let name = if kind == "role" { "app" } else { "pol" };
        c.ram(
            "TagResources",
            &[
                ("ResourceType", kind),
                ("ResourceNames", &format!(r#"["{name}"]"#)),
                ("Tag", r#"[{"Key":"owner","Value":"team-a"}]"#),
            ],
        )
        .await
        .expect_success();
        let list = c
            .ram("ListTagResources", &[("ResourceType", kind)])
            .await
            .expect_success();
        assert_eq!(list["TagResources"][0]["TagValue"], "team-a");
    }
    c.ram(
        "TagResources",
        &[("ResourceType", "group"), ("ResourceNames", r#"["x"]"#)],
    )
    .await
    .expect_error(400, "InvalidParameter.ResourceType");
    c.ims(
        "TagResources",
        &[
            ("ResourceType", "user"),
            (
                "ResourcePrincipalName.1",
                "nora@1234567890123456.onaliyun.com",
            ),
            ("Tag.1.Key", "cost-center"),
            ("Tag.1.Value", "42"),
        ],
    )
    .await
    .expect_success();
    let users = c.ims("ListUsers", &[]).await.expect_success();
    assert_eq!(
        users["Users"]["User"][0]["Tags"]["Tag"][0]["TagKey"],
        "cost-center"
    );
    let listed = c
        .ims(
            "ListTagResources",
            &[("ResourceType", "user"), ("Tag.1.Key", "cost-center")],
        )
        .await
        .expect_success();
    assert_eq!(
        listed["TagResources"]["TagResource"][0]["ResourceId"],
        "200000000000042"
    );
    c.ims(
        "UntagResources",
        &[
            ("ResourceType", "user"),
            ("ResourceId.1", "200000000000042"),
            ("TagKey.1", "cost-center"),
        ],
    )
    .await
    .expect_success();
    let snap = emu.snapshot();
    assert!(snap.users[0].tags.is_empty());
    assert_eq!(snap.roles[0].tags["owner"], "team-a");
    assert_eq!(snap.policies[0].tags["owner"], "team-a");
}

#[tokio::test]
async fn malformed_values_are_invalid_parameters() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram(
        "CreatePolicy",
        &[("PolicyName", "p"), ("PolicyDocument", DOC)],
    )
    .await
    .expect_success();
    c.ram(
        "DeletePolicy",
        &[("PolicyName", "p"), ("CascadingDelete", "yes")],
    )
    .await
    .expect_error(400, "InvalidParameter.CascadingDelete");
    c.ram("ListUsers", &[("MaxItems", "ten")])
        .await
        .expect_error(400, "InvalidParameter.MaxItems");
    c.ram("CreateUser", &[("UserName", "u"), ("Email", "nope")])
        .await
        .expect_error(400, "InvalidParameter.Email.Format");
    c.ram(
        "CreateUser",
        &[("UserName", "u"), ("Comments", &"c".repeat(129))],
    )
    .await
    .expect_error(400, "InvalidParameter.Comments.Length");
    c.ram("CreateAccessKey", &[("UserName", "nobody")])
        .await
        .expect_error(404, "EntityNotExist.User");
    c.ram("CreateUser", &[("UserName", "u")])
        .await
        .expect_success();
    c.ram(
        "UpdateAccessKey",
        &[
            ("UserName", "u"),
            ("UserAccessKeyId", "LTAIx"),
            ("Status", "Paused"),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.Status");
    c.ram(
        "CreatePolicyVersion",
        &[
            ("PolicyName", "p"),
            ("PolicyDocument", DOC),
            ("RotateStrategy", "Sometimes"),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.RotateStrategy");
    let all = c.signed("POST", RAM, "ListUsers", &[], |m| {
        m.insert("Format".into(), "YAML".into());
    });
    c.send_query("POST", &all)
        .await
        .expect_error(400, "InvalidParameter.Format");
}

#[tokio::test]
async fn assume_role_with_saml_trades_an_assertion_for_credentials() {
    use base64::Engine;
    let emu = start(&format!(
        "{BASE}saml_providers: [{{name: corp}}]\nroles:\n  - name: sso\n    assume_role_policy_document: '{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"Federated\":[\"acs:ram::1234567890123456:saml-provider/corp\"]}}}}],\"Version\":\"1\"}}'\n"
    ))
    .await;
    let assertion = |session: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!(
            r#"<samlp:Response><saml:Issuer>https://idp.example.com</saml:Issuer><saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">pat</saml:NameID></saml:Subject><saml:Attribute Name="https://www.aliyun.com/SAML-Role/Attributes/RoleSessionName"><saml:AttributeValue>{session}</saml:AttributeValue></saml:Attribute></samlp:Response>"#
        ))
    };
    let send = |provider: &'static str, role: &'static str, a: String| {
        let url = emu.url().to_string();
        async move {
            let mut all = BTreeMap::new();
            for (k, v) in [
                ("Action", "AssumeRoleWithSAML".to_string()),
                ("Version", STS.to_string()),
                ("Format", "JSON".to_string()),
                ("Timestamp", now_stamp()),
                ("SignatureNonce", uuid::Uuid::new_v4().to_string()),
                (
                    "SAMLProviderArn",
                    format!("acs:ram::1234567890123456:saml-provider/{provider}"),
                ),
                ("RoleArn", format!("acs:ram::1234567890123456:role/{role}")),
                ("SAMLAssertion", a),
            ] {
                all.insert(k.to_string(), v);
            }
            reply(
                reqwest::Client::new()
                    .post(&url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(query_string(&all))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    send("other", "sso", assertion("pat"))
        .await
        .expect_error(404, "EntityNotExist.SAMLProvider");
    // The documented failures of this call: unreadable or expired assertions fail
    // authentication with 401, an unknown role is EntityNotExist.RoleArn.
    send("corp", "sso", "bm90IHhtbA==".into())
        .await
        .expect_error(401, "AuthenticationFail.SAMLAssertion.Invalid");
    let expired = base64::engine::general_purpose::STANDARD.encode(
        r#"<samlp:Response><saml:Issuer>https://idp.example.com</saml:Issuer><saml:SubjectConfirmationData NotOnOrAfter="2020-01-01T00:00:00Z"/><saml:Attribute Name="https://www.aliyun.com/SAML-Role/Attributes/RoleSessionName"><saml:AttributeValue>pat</saml:AttributeValue></saml:Attribute></samlp:Response>"#,
    );
    send("corp", "sso", expired)
        .await
        .expect_error(401, "AuthenticationFail.SAMLAssertion.Expired");
    send("corp", "ghost", assertion("pat"))
        .await
        .expect_error(404, "EntityNotExist.RoleArn");
    send("corp", "sso", assertion("x"))
        .await
        .expect_error(400, "InvalidParameter.RoleSessionName");
    let v = send("corp", "sso", assertion("pat")).await.expect_success();
    assert_eq!(v["SAMLAssertionInfo"]["SubjectType"], "persistent");
    assert!(
        v["Credentials"]["AccessKeyId"]
            .as_str()
            .unwrap()
            .starts_with("STS.")
    );
}

// ------------------------------------------------------------------ account settings

#[tokio::test]
async fn the_password_policy_starts_at_the_defaults_and_holds_new_passwords() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let v = c.ims("GetPasswordPolicy", &[]).await.expect_success();
    let policy = &v["PasswordPolicy"];
    assert_eq!(policy["MinimumPasswordLength"], 8);
    for field in [
        "MaxLoginAttemps",
        "MaxPasswordAge",
        "MinimumPasswordDifferentCharacter",
        "PasswordReusePrevention",
    ] {
        assert_eq!(policy[field], 0, "{field}");
    }
    for field in [
        "HardExpire",
        "PasswordNotContainUserName",
        "RequireLowercaseCharacters",
        "RequireNumbers",
        "RequireSymbols",
        "RequireUppercaseCharacters",
    ] {
        assert_eq!(policy[field], false, "{field}");
    }
    let set = c
        .ims(
            "SetPasswordPolicy",
            &[
                ("MinimumPasswordLength", "14"),
                ("MaxLoginAttemps", "5"),
                ("MaxPasswordAge", "90"),
                ("PasswordReusePrevention", "3"),
                ("RequireSymbols", "true"),
                ("RequireNumbers", "true"),
                ("PasswordNotContainUserName", "true"),
                ("HardExpire", "false"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(set["PasswordPolicy"]["MinimumPasswordLength"], 14);
    let got = c.ims("GetPasswordPolicy", &[]).await.expect_success();
    assert_eq!(got["PasswordPolicy"], set["PasswordPolicy"]);
    assert_eq!(got["PasswordPolicy"]["MaxLoginAttemps"], 5);
    assert_eq!(got["PasswordPolicy"]["RequireSymbols"], true);

    // The documented ranges; a refused call changes nothing.
    for (param, value) in [
        ("MinimumPasswordLength", "7"),
        ("MinimumPasswordLength", "33"),
        ("MaxLoginAttemps", "33"),
        ("MaxPasswordAge", "1096"),
        ("MinimumPasswordDifferentCharacter", "9"),
        ("PasswordReusePrevention", "25"),
        ("PasswordReusePrevention", "-1"),
    ] {
        c.ims("SetPasswordPolicy", &[(param, value)])
            .await
            .expect_error(400, &format!("InvalidParameter.{param}.Range"));
    }
    c.ims("SetPasswordPolicy", &[("RequireNumbers", "sometimes")])
        .await
        .expect_error(400, "InvalidParameter.RequireNumbers");
    let again = c.ims("GetPasswordPolicy", &[]).await.expect_success();
    assert_eq!(again["PasswordPolicy"], set["PasswordPolicy"]);

    // New passwords must meet it, through RAM and IMS alike.
    c.ram("CreateUser", &[("UserName", "olga")])
        .await
        .expect_success();
    for weak in [
        "Short-pass-1",
        "Long-enough-but-no-digit",
        "Olga-Password-2024",
    ] {
        c.ram(
            "CreateLoginProfile",
            &[("UserName", "olga"), ("Password", weak)],
        )
        .await
        .expect_error(400, "InvalidParameter.Password.TooWeak");
    }
    c.ims(
        "CreateLoginProfile",
        &[
            ("UserPrincipalName", "olga@1234567890123456.onaliyun.com"),
            ("Password", "Short-pass-1"),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.Password.TooWeak");
    c.ram(
        "CreateLoginProfile",
        &[("UserName", "olga"), ("Password", "Long-enough-Passw0rd")],
    )
    .await
    .expect_success();
    c.ram(
        "UpdateLoginProfile",
        &[("UserName", "olga"), ("Password", "tooshort-1")],
    )
    .await
    .expect_error(400, "InvalidParameter.Password.TooWeak");

    // Parameters left out take their defaults: Set replaces the whole policy.
    c.ims("SetPasswordPolicy", &[("MinimumPasswordLength", "10")])
        .await
        .expect_success();
    let snap = emu.snapshot();
    let policy = snap.account.password_policy.expect("set through the API");
    assert_eq!(policy.minimum_password_length, 10);
    assert!(!policy.require_symbols);
    assert_eq!(policy.max_login_attempts, 0);
}

#[tokio::test]
async fn security_preferences_start_at_the_defaults_and_are_replaced_by_set() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let v = c.ims("GetSecurityPreference", &[]).await.expect_success();
    let pref = &v["SecurityPreference"];
    let login = &pref["LoginProfilePreference"];
    assert_eq!(login["LoginSessionDuration"], 6);
    assert_eq!(login["MFAOperationForLogin"], "independent");
    assert_eq!(login["OperationForRiskLogin"], "autonomous");
    assert_eq!(login["AllowUserToChangePassword"], true);
    assert_eq!(login["AllowUserToLoginWithPasskey"], true);
    assert_eq!(login["EnableSaveMFATicket"], false);
    assert_eq!(login["LoginNetworkMasks"], "");
    assert_eq!(
        pref["AccessKeyPreference"]["AllowUserToManageAccessKeys"],
        false
    );
    assert_eq!(pref["MFAPreference"]["AllowUserToManageMFADevices"], true);
    assert_eq!(
        pref["PersonalInfoPreference"]["AllowUserToManagePersonalDingTalk"],
        true
    );
    assert_eq!(pref["MaxIdleDays"]["MaxIdleDaysForAccessKeys"], 730);
    assert_eq!(pref["MaxIdleDays"]["MaxIdleDaysForUsers"], 730);
    assert_eq!(
        pref["VerificationPreference"]["VerificationTypes"],
        serde_json::json!([])
    );

    let set = c
        .ims(
            "SetSecurityPreference",
            &[
                ("LoginSessionDuration", "12"),
                ("MFAOperationForLogin", "adaptive"),
                ("OperationForRiskLogin", "enforceVerify"),
                ("EnableSaveMFATicket", "true"),
                ("AllowUserToChangePassword", "false"),
                ("AllowUserToManageAccessKeys", "true"),
                ("AllowUserToManageMFADevices", "false"),
                ("LoginNetworkMasks", "10.0.0.0/8;192.168.1.0/24"),
                // The SDKs send the list as one JSON array.
                ("VerificationTypes", r#"["sms","email"]"#),
            ],
        )
        .await
        .expect_success();
    let got = c.ims("GetSecurityPreference", &[]).await.expect_success();
    assert_eq!(got["SecurityPreference"], set["SecurityPreference"]);
    let login = &got["SecurityPreference"]["LoginProfilePreference"];
    assert_eq!(login["LoginSessionDuration"], 12);
    assert_eq!(login["MFAOperationForLogin"], "adaptive");
    assert_eq!(login["OperationForRiskLogin"], "enforceVerify");
    assert_eq!(login["LoginNetworkMasks"], "10.0.0.0/8;192.168.1.0/24");
    assert_eq!(
        got["SecurityPreference"]["VerificationPreference"]["VerificationTypes"],
        serde_json::json!(["sms", "email"])
    );

    for (param, value, code) in [
        (
            "LoginSessionDuration",
            "0",
            "InvalidParameter.LoginSessionDuration.Range",
        ),
        (
            "LoginSessionDuration",
            "25",
            "InvalidParameter.LoginSessionDuration.Range",
        ),
        (
            "MFAOperationForLogin",
            "always",
            "InvalidParameter.MFAOperationForLogin",
        ),
        (
            "OperationForRiskLogin",
            "ignore",
            "InvalidParameter.OperationForRiskLogin",
        ),
        (
            "LoginNetworkMasks",
            "10.0.0.0/40",
            "InvalidParameter.LoginNetworkMasks",
        ),
        (
            "AllowUserToManageAccessKeys",
            "yes",
            "InvalidParameter.AllowUserToManageAccessKeys",
        ),
        (
            "VerificationTypes",
            "not a list",
            "InvalidParameter.VerificationTypes",
        ),
    ] {
        c.ims("SetSecurityPreference", &[(param, value)])
            .await
            .expect_error(400, code);
    }
    let snap = emu.snapshot();
    let pref = snap
        .account
        .security_preference
        .expect("set through the API");
    assert_eq!(pref.login_session_duration, 12);
    assert_eq!(
        pref.mfa_operation_for_login,
        ramstate_model::MfaOperationForLogin::Adaptive
    );
    assert_eq!(pref.verification_types, ["sms", "email"]);
    // RAM answers only what the reference documents for it.
    c.ram("GetPasswordPolicy", &[])
        .await
        .expect_error(400, "InvalidParameter");
}

#[tokio::test]
async fn seeded_settings_are_answered_and_out_of_range_seeds_are_refused() {
    // A login profile with console logon switched off round-trips too.
    let emu = start(&format!(
        "{BASE}users: [{{name: ann, login_profile: {{status: Inactive}}}}]\n"
    ))
    .await;
    let ann = Client::root(&emu)
        .ims(
            "GetLoginProfile",
            &[("UserPrincipalName", "ann@1234567890123456.onaliyun.com")],
        )
        .await
        .expect_success();
    assert_eq!(ann["LoginProfile"]["Status"], "Inactive");
    let lp = emu.snapshot().users[0].login_profile.clone().unwrap();
    assert_eq!(lp.status, ramstate_model::LoginProfileStatus::Inactive);
    let yaml = r#"
account:
  id: "1234567890123456"
  password_policy: {minimum_password_length: 16, require_symbols: true, max_login_attempts: 4}
  security_preference: {login_session_duration: 2, mfa_operation_for_login: mandatory, verification_types: [sms]}
emulator:
  root_access_key: {id: LTAIroot0000000000000000, secret: rootsecret}
"#;
    let emu = start(yaml).await;
    let c = Client::root(&emu);
    let v = c.ims("GetPasswordPolicy", &[]).await.expect_success();
    assert_eq!(v["PasswordPolicy"]["MinimumPasswordLength"], 16);
    assert_eq!(v["PasswordPolicy"]["RequireSymbols"], true);
    assert_eq!(v["PasswordPolicy"]["MaxLoginAttemps"], 4);
    assert_eq!(v["PasswordPolicy"]["RequireNumbers"], false);
    let v = c.ims("GetSecurityPreference", &[]).await.expect_success();
    let login = &v["SecurityPreference"]["LoginProfilePreference"];
    assert_eq!(login["LoginSessionDuration"], 2);
    assert_eq!(login["MFAOperationForLogin"], "mandatory");
    assert_eq!(login["AllowUserToChangePassword"], true);
    // The snapshot prints them back as seeded.
    assert_eq!(emu.snapshot().account, seed(yaml).account);

    for bad in [
        "password_policy: {minimum_password_length: 4}",
        "password_policy: {max_password_age: 2000}",
        "security_preference: {login_session_duration: 48}",
        "security_preference: {login_network_masks: nowhere}",
    ] {
        let text = format!("account:\n  id: \"1234567890123456\"\n  {bad}\n");
        let err = emulator::start(EmulatorConfig::new(seed(&text))).await;
        assert!(err.is_err(), "{bad} was accepted");
    }
}

#[tokio::test]
async fn ims_login_profile_status_switches_console_logon_off_and_on() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let upn = "ivan@1234567890123456.onaliyun.com";
    c.ims(
        "CreateUser",
        &[("UserPrincipalName", upn), ("DisplayName", "Ivan")],
    )
    .await
    .expect_success();
    let created = c
        .ims(
            "CreateLoginProfile",
            &[
                ("UserPrincipalName", upn),
                ("Password", "Ivan-s-Passw0rd"),
                ("Status", "Active"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(created["LoginProfile"]["UserPrincipalName"], upn);
    assert_eq!(created["LoginProfile"]["Status"], "Active");
    let off = c
        .ims(
            "UpdateLoginProfile",
            &[("UserPrincipalName", upn), ("Status", "Inactive")],
        )
        .await
        .expect_success();
    assert_eq!(off["LoginProfile"]["Status"], "Inactive");
    let got = c
        .ims("GetLoginProfile", &[("UserPrincipalName", upn)])
        .await
        .expect_success();
    assert_eq!(got["LoginProfile"]["Status"], "Inactive");
    assert!(got["LoginProfile"].get("UserName").is_none());
    let lp = emu.snapshot().users[0].login_profile.clone().unwrap();
    assert_eq!(lp.status, ramstate_model::LoginProfileStatus::Inactive);
    c.ims(
        "UpdateLoginProfile",
        &[("UserPrincipalName", upn), ("Status", "Disabled")],
    )
    .await
    .expect_error(400, "InvalidParameter.Status");
    // RAM has no Status: a switched-off profile still exists there, and its answer
    // keeps RAM's documented shape.
    let ram = c
        .ram("GetLoginProfile", &[("UserName", "ivan")])
        .await
        .expect_success();
    assert_eq!(ram["LoginProfile"]["UserName"], "ivan");
    let mut fields: Vec<&str> = ram["LoginProfile"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "CreateDate",
            "MFABindRequired",
            "PasswordResetRequired",
            "UserName"
        ]
    );
    // Switching console logon off is not deleting the profile: RAM refuses a second.
    c.ram(
        "CreateLoginProfile",
        &[("UserName", "ivan"), ("Password", "Ivan-s-Passw0rd")],
    )
    .await
    .expect_error(409, "EntityAlreadyExists.User.LoginProfile");
    c.ims(
        "UpdateLoginProfile",
        &[("UserPrincipalName", upn), ("Status", "Active")],
    )
    .await
    .expect_success();
    let lp = emu.snapshot().users[0].login_profile.clone().unwrap();
    assert!(lp.status.is_active());
}

// ------------------------------------------------------------------ limits of declared resources

#[tokio::test]
async fn policy_versions_rotate_set_the_default_and_keep_the_document_limit() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    c.ram(
        "CreatePolicy",
        &[("PolicyName", "deploy"), ("PolicyDocument", DOC)],
    )
    .await
    .expect_success();
    let doc = |n: usize| DOC.replace("ecs:Describe*", &format!("ecs:Describe{n}"));
    // v2..v5 fill the five versions; the newest is made the default each time.
    for n in 2..=5 {
        let v = c
            .ram(
                "CreatePolicyVersion",
                &[
                    ("PolicyName", "deploy"),
                    ("PolicyDocument", &doc(n)),
                    ("SetAsDefault", "true"),
                ],
            )
            .await
            .expect_success();
        assert_eq!(v["PolicyVersion"]["VersionId"], format!("v{n}"));
        assert_eq!(v["PolicyVersion"]["IsDefaultVersion"], true);
    }
    c.ram(
        "CreatePolicyVersion",
        &[("PolicyName", "deploy"), ("PolicyDocument", &doc(6))],
    )
    .await
    .expect_error(409, "LimitExceeded.Policy.Version");
    c.ram(
        "CreatePolicyVersion",
        &[
            ("PolicyName", "deploy"),
            ("PolicyDocument", &doc(6)),
            ("RotateStrategy", "None"),
        ],
    )
    .await
    .expect_error(409, "LimitExceeded.Policy.Version");
    // Rotation drops the oldest version that is not the default (v1).
    let v = c
        .ram(
            "CreatePolicyVersion",
            &[
                ("PolicyName", "deploy"),
                ("PolicyDocument", &doc(6)),
                (
                    "RotateStrategy",
                    "DeleteOldestNonDefaultVersionWhenLimitExceeded",
                ),
                ("SetAsDefault", "true"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(v["PolicyVersion"]["VersionId"], "v6");
    let list = c
        .ram(
            "ListPolicyVersions",
            &[("PolicyName", "deploy"), ("PolicyType", "Custom")],
        )
        .await
        .expect_success();
    let versions = list["PolicyVersions"]["PolicyVersion"].as_array().unwrap();
    let ids: Vec<&str> = versions
        .iter()
        .map(|v| v["VersionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["v2", "v3", "v4", "v5", "v6"]);
    let defaults: Vec<&str> = versions
        .iter()
        .filter(|v| v["IsDefaultVersion"] == true)
        .map(|v| v["VersionId"].as_str().unwrap())
        .collect();
    assert_eq!(defaults, ["v6"]);
    // With SetAsDefault left out the default stays where it was.
    c.ram(
        "DeletePolicyVersion",
        &[("PolicyName", "deploy"), ("VersionId", "v2")],
    )
    .await
    .expect_success();
    let v = c
        .ram(
            "CreatePolicyVersion",
            &[("PolicyName", "deploy"), ("PolicyDocument", &doc(7))],
        )
        .await
        .expect_success();
    assert_eq!(v["PolicyVersion"]["IsDefaultVersion"], false);
    let p = c
        .ram(
            "GetPolicy",
            &[("PolicyName", "deploy"), ("PolicyType", "Custom")],
        )
        .await
        .expect_success();
    assert_eq!(p["Policy"]["DefaultVersion"], "v6");

    // 6,144 characters is the most a document may hold, in a version too.
    let padded = |len: usize| {
        let base = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":""}]}"#;
        base.replace(
            r#""Resource":"""#,
            &format!(r#""Resource":"{}""#, "x".repeat(len - base.len())),
        )
    };
    assert_eq!(padded(6144).chars().count(), 6144);
    c.ram(
        "CreatePolicy",
        &[("PolicyName", "big"), ("PolicyDocument", &padded(6144))],
    )
    .await
    .expect_success();
    c.ram(
        "CreatePolicyVersion",
        &[("PolicyName", "big"), ("PolicyDocument", &padded(6145))],
    )
    .await
    .expect_error(400, "InvalidParameter.PolicyDocument.Length");
    c.ram(
        "CreatePolicyVersion",
        &[("PolicyName", "big"), ("PolicyDocument", "{")],
    )
    .await
    .expect_error(400, "MalformedPolicyDocument");
    c.ram(
        "CreatePolicyVersion",
        &[("PolicyName", "nobody"), ("PolicyDocument", DOC)],
    )
    .await
    .expect_error(404, "EntityNotExist.Policy");
}

#[tokio::test]
async fn names_and_free_text_follow_the_documented_rules() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let trust = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}]}"#;
    let long = |n: usize| "a".repeat(n);
    // Users: 1 to 64 of letters, digits, `.`, `-`, `_`; display name and comments 128.
    c.ram("CreateUser", &[("UserName", &long(64))])
        .await
        .expect_success();
    for (params, code) in [
        (
            vec![("UserName", long(65))],
            "InvalidParameter.UserName.Length",
        ),
        (
            vec![("UserName", "a/b".to_string())],
            "InvalidParameter.UserName.InvalidChars",
        ),
        (
            vec![("UserName", "ok".to_string()), ("DisplayName", long(129))],
            "InvalidParameter.DisplayName.Length",
        ),
        (
            vec![("UserName", "ok".to_string()), ("Comments", long(129))],
            "InvalidParameter.Comments.Length",
        ),
    ] {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        c.ram("CreateUser", &params).await.expect_error(400, code);
    }
    // IMS display names are shorter: 24.
    c.ims(
        "CreateUser",
        &[
            (
                "UserPrincipalName",
                "ims.user@1234567890123456.onaliyun.com",
            ),
            ("DisplayName", &long(25)),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.DisplayName.Length");
    c.ram("CreateUser", &[("UserName", "u1")])
        .await
        .expect_success();
    for (param, value, code) in [
        (
            "NewUserName",
            "u 1",
            "InvalidParameter.NewUserName.InvalidChars",
        ),
        (
            "NewUserName",
            &long(65),
            "InvalidParameter.NewUserName.Length",
        ),
        (
            "NewDisplayName",
            &long(129),
            "InvalidParameter.NewDisplayName.Length",
        ),
        (
            "NewComments",
            &long(129),
            "InvalidParameter.NewComments.Length",
        ),
    ] {
        c.ram("UpdateUser", &[("UserName", "u1"), (param, value)])
            .await
            .expect_error(400, code);
    }
    let u = c
        .ram(
            "UpdateUser",
            &[
                ("UserName", "u1"),
                ("NewDisplayName", "User One"),
                ("NewComments", "first user"),
                ("NewEmail", "one@example.com"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(u["User"]["DisplayName"], "User One");
    assert_eq!(u["User"]["Comments"], "first user");
    assert_eq!(u["User"]["Email"], "one@example.com");

    // Groups: like users; comments 128.
    for (params, code) in [
        (
            vec![("GroupName", long(65))],
            "InvalidParameter.GroupName.Length",
        ),
        (
            vec![("GroupName", "dev team".to_string())],
            "InvalidParameter.GroupName.InvalidChars",
        ),
        (
            vec![("GroupName", "dev".to_string()), ("Comments", long(129))],
            "InvalidParameter.Comments.Length",
        ),
    ] {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        c.ram("CreateGroup", &params).await.expect_error(400, code);
    }
    c.ram("CreateGroup", &[("GroupName", "dev")])
        .await
        .expect_success();
    c.ram(
        "UpdateGroup",
        &[("GroupName", "dev"), ("NewGroupName", "d/v")],
    )
    .await
    .expect_error(400, "InvalidParameter.NewGroupName.InvalidChars");
    c.ram(
        "UpdateGroup",
        &[("GroupName", "dev"), ("NewComments", &long(129))],
    )
    .await
    .expect_error(400, "InvalidParameter.NewComments.Length");

    // Roles: 1 to 64 of letters, digits, `.`, `-` (no `_`); description 1,024.
    for (name, desc, code) in [
        (long(65), None, "InvalidParameter.RoleName.Length"),
        (
            "ci_deploy".to_string(),
            None,
            "InvalidParameter.RoleName.InvalidChars",
        ),
        (
            "ci-deploy".to_string(),
            Some(long(1025)),
            "InvalidParameter.Description.Length",
        ),
    ] {
        let mut params = vec![
            ("RoleName", name.as_str()),
            ("AssumeRolePolicyDocument", trust),
        ];
        if let Some(d) = &desc {
            params.push(("Description", d.as_str()));
        }
        c.ram("CreateRole", &params).await.expect_error(400, code);
    }
    c.ram(
        "CreateRole",
        &[
            ("RoleName", "ci-deploy"),
            ("AssumeRolePolicyDocument", trust),
            ("MaxSessionDuration", "43201"),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.MaxSessionDuration");
    c.ram(
        "CreateRole",
        &[
            ("RoleName", "ci-deploy"),
            ("AssumeRolePolicyDocument", trust),
        ],
    )
    .await
    .expect_success();
    // UpdateRole: trust policy, description and session length, each checked.
    c.ram(
        "UpdateRole",
        &[("RoleName", "ci-deploy"), ("NewMaxSessionDuration", "3599")],
    )
    .await
    .expect_error(400, "InvalidParameter.NewMaxSessionDuration");
    c.ram(
        "UpdateRole",
        &[
            ("RoleName", "ci-deploy"),
            ("NewAssumeRolePolicyDocument", "{\"Statement\":"),
        ],
    )
    .await
    .expect_error(400, "MalformedPolicyDocument");
    c.ram(
        "UpdateRole",
        &[("RoleName", "ci-deploy"), ("NewDescription", &long(1025))],
    )
    .await
    .expect_error(400, "InvalidParameter.NewDescription.Length");
    c.ram(
        "UpdateRole",
        &[("RoleName", "ghost"), ("NewDescription", "x")],
    )
    .await
    .expect_error(404, "EntityNotExist.Role");
    let new_trust = trust.replace(":root", ":user/ci");
    let r = c
        .ram(
            "UpdateRole",
            &[
                ("RoleName", "ci-deploy"),
                ("NewAssumeRolePolicyDocument", &new_trust),
                ("NewDescription", "deploys from CI"),
                ("NewMaxSessionDuration", "7200"),
            ],
        )
        .await
        .expect_success();
    assert_eq!(r["Role"]["AssumeRolePolicyDocument"], new_trust.as_str());
    assert_eq!(r["Role"]["Description"], "deploys from CI");
    assert_eq!(r["Role"]["MaxSessionDuration"], 7200);

    // Policies: 1 to 128 of letters, digits, `-`; description 1,024.
    c.ram(
        "CreatePolicy",
        &[("PolicyName", &long(129)), ("PolicyDocument", DOC)],
    )
    .await
    .expect_error(400, "InvalidParameter.PolicyName.Length");
    c.ram(
        "CreatePolicy",
        &[
            ("PolicyName", "ok"),
            ("PolicyDocument", DOC),
            ("Description", &long(1025)),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.Description.Length");
    c.ram(
        "CreatePolicy",
        &[("PolicyName", &long(128)), ("PolicyDocument", DOC)],
    )
    .await
    .expect_success();
}

#[tokio::test]
async fn tags_and_attachments_stop_at_their_limits() {
    let emu = start(BASE).await;
    let c = Client::root(&emu);
    let trust = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}]}"#;
    let tags = |n: usize| {
        let list: Vec<String> = (0..n)
            .map(|i| format!(r#"{{"Key":"k{i}","Value":"v"}}"#))
            .collect();
        format!("[{}]", list.join(","))
    };
    // At most 20 tags per request and per resource.
    c.ram(
        "CreateRole",
        &[
            ("RoleName", "tagged"),
            ("AssumeRolePolicyDocument", trust),
            ("Tag", &tags(21)),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.Tag");
    c.ram(
        "CreateRole",
        &[
            ("RoleName", "tagged"),
            ("AssumeRolePolicyDocument", trust),
            ("Tag", &tags(20)),
        ],
    )
    .await
    .expect_success();
    c.ram(
        "TagResources",
        &[
            ("ResourceType", "role"),
            ("ResourceNames", r#"["tagged"]"#),
            ("Tag", r#"[{"Key":"one-more","Value":"x"}]"#),
        ],
    )
    .await
    .expect_error(409, "LimitExceeded.Tag");
    // Replacing the value of a tag it has is no new tag.
    c.ram(
        "TagResources",
        &[
            ("ResourceType", "role"),
            ("ResourceNames", r#"["tagged"]"#),
            ("Tag", r#"[{"Key":"k0","Value":"changed"}]"#),
        ],
    )
    .await
    .expect_success();
    c.ram(
        "CreatePolicy",
        &[
            ("PolicyName", "tagged"),
            ("PolicyDocument", DOC),
            ("Tag", &tags(21)),
        ],
    )
    .await
    .expect_error(400, "InvalidParameter.Tag");

    // A role takes 20 system policies and 10 custom ones; a group the same.
    let system = c
        .ram(
            "ListPolicies",
            &[("PolicyType", "System"), ("MaxItems", "100")],
        )
        .await
        .expect_success();
    let system: Vec<String> = system["Policies"]["Policy"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["PolicyName"].as_str().unwrap().to_string())
        .collect();
    assert!(system.len() > 20);
    for (i, name) in system.iter().take(21).enumerate() {
        let r = c
            .ram(
                "AttachPolicyToRole",
                &[
                    ("RoleName", "tagged"),
                    ("PolicyType", "System"),
                    ("PolicyName", name),
                ],
            )
            .await;
        if i < 20 {
            r.expect_success();
        } else {
            r.expect_error(409, "LimitExceeded.Role.Policy");
        }
    }
    c.ram("CreateGroup", &[("GroupName", "ops")])
        .await
        .expect_success();
    for i in 0..11 {
        let name = format!("c{i}");
        c.ram(
            "CreatePolicy",
            &[("PolicyName", &name), ("PolicyDocument", DOC)],
        )
        .await
        .expect_success();
        for (attach, principal, code) in [
            (
                "AttachPolicyToRole",
                ("RoleName", "tagged"),
                "LimitExceeded.Role.Policy",
            ),
            (
                "AttachPolicyToGroup",
                ("GroupName", "ops"),
                "LimitExceeded.Group.Policy",
            ),
        ] {
            let r = c
                .ram(
                    attach,
                    &[principal, ("PolicyType", "Custom"), ("PolicyName", &name)],
                )
                .await;
            if i < 10 {
                r.expect_success();
            } else {
                r.expect_error(409, code);
            }
        }
    }
}
