//! Secrets never come back out: not in Debug output, error messages (even when the
//! gateway echoes its string-to-sign), fetched inventories or their serialisations.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use ramstate::api::{
    Client, ClientConfig, CredentialSources, ProxyConfig, RetryPolicy, resolve, sign,
};
use ramstate::inventory::{self, NoProgress};
use ramstate::model::{ApiCall, Kind, Service};
use serde_json::json;
use support::{Reply, serve};

const SOURCE_SECRET: &str = "SRC-SECRET-7f3a9c";
const SESSION_SECRET: &str = "SESSION-SECRET-51be0d";
const SESSION_TOKEN: &str = "CAIS+SESSION/TOKEN=8e2c41";
const PASSWORD: &str = "Pa55word!-d2e9f1";

fn assert_clean(text: &str) {
    for secret in [SOURCE_SECRET, SESSION_SECRET, SESSION_TOKEN, PASSWORD] {
        for form in [
            secret.to_string(),
            sign::percent_encode(secret),
            sign::percent_encode(&sign::percent_encode(secret)),
        ] {
            assert!(!text.contains(&form), "`{form}` leaked into:\n{text}");
        }
    }
}

#[tokio::test]
async fn no_secret_escapes_through_errors_debug_or_fetched_data() {
    let mock = serve(|seen, _| match seen.action() {
        "AssumeRole" => Reply::ok(json!({"Credentials": {
            "AccessKeyId": "STS.session",
            "AccessKeySecret": SESSION_SECRET,
            "SecurityToken": SESSION_TOKEN,
            "Expiration": "2999-01-01T00:00:00Z"
        }})),
        "GetCallerIdentity" => Reply::ok(json!({
            "AccountId": "1234567890123456",
            "Arn": "acs:ram::1234567890123456:assumed-role/deployer/s",
            "IdentityType": "AssumedRoleUser"
        })),
        "ListGroups" => Reply::ok(json!({"Groups": {"Group": [{"GroupName": "dev"}]}, "IsTruncated": false})),
        "ListPoliciesForGroup" => Reply::ok(json!({"Policies": {"Policy": []}})),
        "CreateLoginProfile" => {
            // Some services echo the parameters they reject.
            let echoed = format!("password {} is too weak", seen.param("Password").unwrap());
            Reply::error(400, "InvalidParameter.Password.TooWeak", &echoed)
        }
        _ => {
            // The gateway's answer to a bad signature echoes its string-to-sign,
            // security token included.
            let mut unsigned = seen.params.clone();
            unsigned.remove("Signature");
            let sts = sign::string_to_sign(&seen.method, &unsigned);
            Reply::error(
                400,
                "SignatureDoesNotMatch",
                &format!("Specified signature is not matched with our calculation. server string to sign is:{sts}"),
            )
        }
    })
    .await;
    mock.add_key("source-id", SOURCE_SECRET);

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".aliyun")).unwrap();
    std::fs::write(
        dir.path().join(".aliyun/config.json"),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "RamRoleArn", "access_key_id": "source-id",
            "access_key_secret": SOURCE_SECRET, "ram_role_arn": "acs:ram::1234567890123456:role/deployer"
        }]})
        .to_string(),
    )
    .unwrap();
    let sources = CredentialSources {
        home: Some(dir.path().to_path_buf()),
        ..CredentialSources::default()
    };
    let creds = resolve(&sources).await.unwrap();
    let client = Client::new(
        ClientConfig {
            endpoint: Some(mock.url.clone()),
            region: None,
            qps: 0.0,
            max_in_flight: 4,
            timeout: Duration::from_secs(5),
            retry: RetryPolicy::none(),
            proxy: ProxyConfig::default(),
        },
        creds.clone(),
    )
    .unwrap();

    let mut transcript = format!("{sources:?}\n{creds:?}\n{client:?}\n");

    let rejected = client
        .call(&ApiCall::new(
            Service::Ram,
            "GetUser",
            [("UserName", "alice")],
        ))
        .await
        .unwrap_err();
    assert_eq!(rejected.code, "SignatureDoesNotMatch");
    assert!(
        rejected.message.contains("<redacted>"),
        "{}",
        rejected.message
    );
    transcript += &format!("{rejected}\n{rejected:?}\n");
    let diagnostic = miette::Report::new(rejected.clone());
    transcript += &format!("{diagnostic:?}\n");

    let weak = client
        .call_once(&ApiCall::new(
            Service::Ram,
            "CreateLoginProfile",
            [("UserName", "alice"), ("Password", PASSWORD)],
        ))
        .await
        .unwrap_err();
    assert_eq!(weak.code, "InvalidParameter.Password.TooWeak");
    transcript += &format!("{weak}\n{weak:?}\n");

    let caller = client.caller().await.unwrap();
    assert_eq!(
        caller.access_key_id.as_deref(),
        Some("source-id"),
        "the session's own keys are not reported, the long-lived key behind it is"
    );
    transcript += &format!("{caller:?}\n");

    let kinds: BTreeSet<Kind> = [Kind::Groups].into_iter().collect();
    let inv = inventory::fetch(&client, &kinds, &NoProgress)
        .await
        .unwrap();
    transcript += &yaml_serde::to_string(&inv).unwrap();
    transcript += &serde_json::to_string(&inv).unwrap();

    let failed = inventory::fetch(&client, &[Kind::Users].into_iter().collect(), &NoProgress)
        .await
        .unwrap_err();
    transcript += &format!("{failed}\n{failed:?}\n");

    assert_clean(&transcript);
    // The secrets did reach the wire where they belong.
    let seen = mock.seen();
    assert!(
        seen.iter()
            .any(|s| s.param("SecurityToken") == Some(SESSION_TOKEN))
    );
    assert!(
        seen.iter()
            .all(|s| !s.target.contains(&sign::percent_encode(SESSION_TOKEN))),
        "the token never travels in a URL"
    );
}

fn refuse(creds: ramstate::api::Credentials) -> Result<(), ramstate::api::Credentials> {
    Err(creds)
}

#[test]
fn a_panic_message_built_from_credentials_is_clean() {
    let creds = ramstate::api::Credentials::from_key(
        "LTAIkey",
        SOURCE_SECRET,
        Some(SESSION_TOKEN.to_string()),
    );
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        refuse(creds).unwrap();
    }));
    let payload = outcome.unwrap_err();
    let text = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(text.contains("LTAIkey"), "{text}");
    assert_clean(&text);
}
