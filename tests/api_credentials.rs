//! Credential resolution and every credential mode, with STS and the ECS metadata
//! service served on loopback.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ramstate::api::{
    Client, ClientConfig, CredentialError, CredentialSources, Credentials, ErrorKind, ProxyConfig,
    RetryPolicy, resolve,
};
use ramstate::model::{ApiCall, Service};
use serde_json::json;
use support::{Mock, Reply, serve};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn sources(pairs: &[(&str, &str)]) -> CredentialSources {
    CredentialSources {
        env: env(pairs),
        ..CredentialSources::default()
    }
}

fn client(mock: &Mock, creds: Credentials) -> Client {
    Client::new(
        ClientConfig {
            endpoint: Some(mock.url.clone()),
            qps: 0.0,
            max_in_flight: 4,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::none(),
            proxy: ProxyConfig::default(),
            region: None,
        },
        creds,
    )
    .unwrap()
}

fn write_config(dir: &Path, config: serde_json::Value) -> CredentialSources {
    let aliyun = dir.join(".aliyun");
    std::fs::create_dir_all(&aliyun).unwrap();
    std::fs::write(aliyun.join("config.json"), config.to_string()).unwrap();
    CredentialSources {
        home: Some(dir.to_path_buf()),
        ..CredentialSources::default()
    }
}

/// A clock the test moves by hand.
fn manual_clock() -> (Arc<AtomicI64>, ramstate::api::credentials::Clock) {
    let now = Arc::new(AtomicI64::new(OffsetDateTime::now_utc().unix_timestamp()));
    let n = now.clone();
    let clock: ramstate::api::credentials::Clock =
        Arc::new(move || OffsetDateTime::from_unix_timestamp(n.load(Ordering::SeqCst)).unwrap());
    (now, clock)
}

fn ts(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .unwrap()
        .format(&Rfc3339)
        .unwrap()
}

fn get_user() -> ApiCall {
    ApiCall::new(Service::Ram, "GetUser", [("UserName", "a")])
}

#[tokio::test]
async fn flags_win_over_everything() {
    let s = CredentialSources {
        access_key_id: Some("flag-id".into()),
        access_key_secret: Some("flag-secret".into()),
        ..sources(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
        ])
    };
    let c = resolve(&s).await.unwrap();
    assert_eq!(c.mode(), "AK");
    assert_eq!(c.origin(), "command-line flags");
}

#[tokio::test]
async fn a_flag_id_without_its_secret_is_refused() {
    let s = CredentialSources {
        access_key_id: Some("flag-id".into()),
        ..CredentialSources::default()
    };
    let e = resolve(&s).await.unwrap_err();
    assert!(matches!(e, CredentialError::Incomplete { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "--access-key-id is set but --access-key-secret is not"
    );
}

#[tokio::test]
async fn environment_keys_sign_requests_with_their_security_token() {
    let mock = serve(|_, _| Reply::ok(json!({}))).await;
    mock.add_key("env-id", "env-secret");
    let c = resolve(&sources(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
        ("ALIBABA_CLOUD_SECURITY_TOKEN", "env-token"),
    ]))
    .await
    .unwrap();
    assert_eq!(c.mode(), "StsToken");
    client(&mock, c).call(&get_user()).await.unwrap();
    let seen = &mock.seen()[0];
    assert_eq!(seen.param("AccessKeyId"), Some("env-id"));
    assert_eq!(seen.param("SecurityToken"), Some("env-token"));
    assert!(
        !seen.query.contains_key("SecurityToken"),
        "the token travels in the body, never in a URL"
    );
}

#[tokio::test]
async fn older_alicloud_variable_names_still_work() {
    let c = resolve(&sources(&[
        ("ALICLOUD_ACCESS_KEY", "old-id"),
        ("ALICLOUD_SECRET_KEY", "old-secret"),
    ]))
    .await
    .unwrap();
    assert_eq!(c.origin(), "environment (ALICLOUD_ACCESS_KEY)");
}

#[tokio::test]
async fn an_id_in_the_environment_without_a_secret_is_refused() {
    let e = resolve(&sources(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "x")]))
        .await
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"
    );
}

#[tokio::test]
async fn nothing_found_lists_every_place_tried() {
    let dir = tempfile::tempdir().unwrap();
    let s = CredentialSources {
        home: Some(dir.path().to_path_buf()),
        ..CredentialSources::default()
    };
    let e = resolve(&s).await.unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, CredentialError::NotFound { .. }));
    for place in [
        "--access-key-id/--access-key-secret flags",
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALICLOUD_ACCESS_KEY",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
        ".aliyun/config.json (no such file)",
        "ALIBABA_CLOUD_ECS_METADATA",
    ] {
        assert!(text.contains(place), "`{place}` missing from: {text}");
    }
}

#[tokio::test]
async fn the_current_profile_of_config_json_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let s = write_config(
        dir.path(),
        json!({
            "current": "work",
            "profiles": [
                {"name": "default", "mode": "AK", "access_key_id": "d-id", "access_key_secret": "d-s"},
                {"name": "work", "mode": "AK", "access_key_id": "w-id", "access_key_secret": "w-s", "region_id": "cn-hangzhou"}
            ],
            "meta_path": ""
        }),
    );
    let mock = serve(|_, _| Reply::ok(json!({}))).await;
    mock.add_key("w-id", "w-s");
    let c = resolve(&s).await.unwrap();
    assert!(
        c.origin().starts_with("profile `work` (AK)"),
        "{}",
        c.origin()
    );
    client(&mock, c).call(&get_user()).await.unwrap();
    assert_eq!(mock.seen()[0].param("AccessKeyId"), Some("w-id"));
}

#[tokio::test]
async fn an_explicit_profile_wins_over_environment_keys_and_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [
            {"name": "default", "mode": "AK", "access_key_id": "d-id", "access_key_secret": "d-s"},
            {"name": "prod", "mode": "AK", "access_key_id": "p-id", "access_key_secret": "p-s"}
        ]}),
    );
    s.env = env(&[
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "env-id"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"),
    ]);
    s.profile = Some("prod".into());
    assert!(resolve(&s).await.unwrap().origin().contains("`prod`"));

    s.profile = Some("staging".into());
    let e = resolve(&s).await.unwrap_err();
    assert!(matches!(e, CredentialError::ProfileNotFound { .. }));
    assert!(e.to_string().contains("profiles: default, prod"), "{e}");
}

#[tokio::test]
async fn malformed_config_json_is_reported_with_its_path_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.json");
    std::fs::write(
        &path,
        "{\"current\": \"default\",\n \"profiles\": [ {\"name\": }]}",
    )
    .unwrap();
    let s = CredentialSources {
        config_path: Some(path.clone()),
        ..CredentialSources::default()
    };
    let e = resolve(&s).await.unwrap_err();
    assert!(matches!(e, CredentialError::ConfigMalformed { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("line 2"), "{text}");
}

#[tokio::test]
async fn an_unknown_mode_is_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{"name": "default", "mode": "Magic"}]}),
    );
    let e = resolve(&s).await.unwrap_err();
    assert!(matches!(e, CredentialError::UnknownMode { .. }));
    assert!(e.to_string().contains("unknown mode `Magic`"), "{e}");
}

#[tokio::test]
async fn a_known_but_unsupported_mode_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{"name": "default", "mode": "CloudSSO"}]}),
    );
    let e = resolve(&s).await.unwrap_err();
    assert!(matches!(e, CredentialError::UnsupportedMode { .. }), "{e}");
}

#[tokio::test]
async fn an_ak_profile_without_a_secret_names_the_missing_field() {
    let dir = tempfile::tempdir().unwrap();
    let s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{"name": "default", "mode": "AK", "access_key_id": "x"}]}),
    );
    let e = resolve(&s).await.unwrap_err();
    assert!(e.to_string().contains("has no `access_key_secret`"), "{e}");
}

#[tokio::test]
async fn an_expired_sts_token_profile_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (now, clock) = manual_clock();
    let t = now.load(Ordering::SeqCst);
    let mut s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "StsToken", "access_key_id": "STS.x",
            "access_key_secret": "s", "sts_token": "tok", "sts_expiration": t - 60
        }]}),
    );
    s.clock = Some(clock);
    let e = resolve(&s).await.unwrap_err();
    assert!(matches!(e, CredentialError::Expired { .. }), "{e}");
    assert!(e.to_string().contains(&ts(t - 60)), "{e}");

    now.fetch_sub(120, Ordering::SeqCst);
    assert_eq!(resolve(&s).await.unwrap().mode(), "StsToken");
}

/// An STS endpoint that hands out numbered sessions expiring `lifetime` seconds after `now`.
async fn sts_mock(now: Arc<AtomicI64>, lifetime: i64) -> Mock {
    let mock = serve(move |seen, n| match seen.action() {
        "AssumeRole" | "AssumeRoleWithOIDC" => Reply::ok(json!({
            "Credentials": {
                "AccessKeyId": format!("STS.session{n}"),
                "AccessKeySecret": format!("session-secret-{n}"),
                "SecurityToken": format!("session-token-{n}"),
                "Expiration": ts(now.load(Ordering::SeqCst) + lifetime),
            },
            "AssumedRoleUser": {"Arn": "acs:ram::1:assumed-role/deployer/s", "AssumedRoleId": "1:s"}
        })),
        _ => Reply::ok(json!({"User": {"UserName": "a"}})),
    })
    .await;
    mock.add_key("source-id", "source-secret");
    mock
}

#[tokio::test]
async fn ram_role_arn_assumes_the_role_and_refreshes_before_expiry() {
    let dir = tempfile::tempdir().unwrap();
    let (now, clock) = manual_clock();
    let mock = sts_mock(now.clone(), 3600).await;
    let mut s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "RamRoleArn", "access_key_id": "source-id",
            "access_key_secret": "source-secret",
            "ram_role_arn": "acs:ram::1234567890123456:role/deployer",
            "ram_session_name": "ramstate-test", "expired_seconds": 3600
        }]}),
    );
    s.clock = Some(clock);
    let creds = resolve(&s).await.unwrap();
    assert_eq!(creds.mode(), "RamRoleArn");
    let c = client(&mock, creds);

    c.call(&get_user()).await.unwrap();
    c.call(&get_user()).await.unwrap();
    // Half an hour later the session is still good.
    now.fetch_add(1800, Ordering::SeqCst);
    c.call(&get_user()).await.unwrap();
    // Two minutes before expiry it is replaced before use.
    now.fetch_add(1680, Ordering::SeqCst);
    c.call(&get_user()).await.unwrap();

    let seen = mock.seen();
    let actions: Vec<&str> = seen.iter().map(|s| s.action()).collect();
    assert_eq!(
        actions,
        [
            "AssumeRole",
            "GetUser",
            "GetUser",
            "GetUser",
            "AssumeRole",
            "GetUser"
        ]
    );
    let assume = &seen[0];
    assert_eq!(assume.param("AccessKeyId"), Some("source-id"));
    assert_eq!(
        assume.param("RoleArn"),
        Some("acs:ram::1234567890123456:role/deployer")
    );
    assert_eq!(assume.param("RoleSessionName"), Some("ramstate-test"));
    assert_eq!(assume.param("DurationSeconds"), Some("3600"));
    assert_eq!(seen[1].param("AccessKeyId"), Some("STS.session0"));
    assert_eq!(seen[1].param("SecurityToken"), Some("session-token-0"));
    assert_eq!(seen[5].param("AccessKeyId"), Some("STS.session4"));
    assert_eq!(seen[5].param("SecurityToken"), Some("session-token-4"));
}

#[tokio::test]
async fn concurrent_first_calls_assume_the_role_once() {
    let dir = tempfile::tempdir().unwrap();
    let (now, clock) = manual_clock();
    let mock = sts_mock(now, 3600).await;
    let mut s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "RamRoleArn", "access_key_id": "source-id",
            "access_key_secret": "source-secret", "ram_role_arn": "acs:ram::1:role/deployer"
        }]}),
    );
    s.clock = Some(clock);
    let c = client(&mock, resolve(&s).await.unwrap());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.call(&get_user()).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let assumes = mock
        .seen()
        .iter()
        .filter(|s| s.action() == "AssumeRole")
        .count();
    assert_eq!(assumes, 1);
}

#[tokio::test]
async fn a_refused_role_assumption_surfaces_the_sts_error() {
    let mock = serve(|_, _| {
        Reply::error(
            403,
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
        )
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "RamRoleArn", "access_key_id": "source-id",
            "access_key_secret": "source-secret", "ram_role_arn": "acs:ram::1:role/deployer"
        }]}),
    );
    let c = client(&mock, resolve(&s).await.unwrap());
    let e = c.call(&get_user()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.code, "NoPermission");
    assert_eq!(mock.count(), 1, "the real call never went out");
}

#[tokio::test]
async fn oidc_from_the_environment_trades_the_token_file_anonymously() {
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.first.sig\n").unwrap();
    let (now, clock) = manual_clock();
    let mock = sts_mock(now.clone(), 900).await;
    let s = CredentialSources {
        clock: Some(clock),
        home: Some(dir.path().to_path_buf()),
        ..sources(&[
            ("ALIBABA_CLOUD_ROLE_ARN", "acs:ram::1:role/ci"),
            (
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
                "acs:ram::1:oidc-provider/gh",
            ),
            (
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
                token_file.to_str().unwrap(),
            ),
            ("ALIBABA_CLOUD_ROLE_SESSION_NAME", "ci-run"),
        ])
    };
    let creds = resolve(&s).await.unwrap();
    assert_eq!(creds.mode(), "OIDC");
    let c = client(&mock, creds);
    c.call(&get_user()).await.unwrap();

    // The CI system rotates the token; the next session uses the new one.
    std::fs::write(&token_file, "eyJhbGciOiJSUzI1NiJ9.second.sig").unwrap();
    now.fetch_add(800, Ordering::SeqCst);
    c.call(&get_user()).await.unwrap();

    let seen = mock.seen();
    let oidc: Vec<_> = seen
        .iter()
        .filter(|s| s.action() == "AssumeRoleWithOIDC")
        .collect();
    assert_eq!(oidc.len(), 2);
    for call in &oidc {
        assert!(call.param("Signature").is_none(), "anonymous call");
        assert!(call.param("AccessKeyId").is_none());
        assert_eq!(call.param("RoleArn"), Some("acs:ram::1:role/ci"));
        assert_eq!(
            call.param("OIDCProviderArn"),
            Some("acs:ram::1:oidc-provider/gh")
        );
        assert_eq!(call.param("RoleSessionName"), Some("ci-run"));
        assert!(
            !call.query.contains_key("OIDCToken"),
            "the token travels in the body"
        );
    }
    assert_eq!(
        oidc[0].param("OIDCToken"),
        Some("eyJhbGciOiJSUzI1NiJ9.first.sig")
    );
    assert_eq!(
        oidc[1].param("OIDCToken"),
        Some("eyJhbGciOiJSUzI1NiJ9.second.sig")
    );
    let users: Vec<_> = seen.iter().filter(|s| s.action() == "GetUser").collect();
    assert_eq!(users[0].param("SecurityToken"), Some("session-token-0"));
    assert_eq!(users[1].param("SecurityToken"), Some("session-token-2"));
}

#[tokio::test]
async fn partial_oidc_settings_name_what_is_missing() {
    let e = resolve(&sources(&[(
        "ALIBABA_CLOUD_ROLE_ARN",
        "acs:ram::1:role/ci",
    )]))
    .await
    .unwrap_err();
    assert!(matches!(e, CredentialError::OidcIncomplete { .. }));
    let text = e.to_string();
    assert!(text.contains("ALIBABA_CLOUD_OIDC_PROVIDER_ARN"), "{text}");
    assert!(text.contains("ALIBABA_CLOUD_OIDC_TOKEN_FILE"), "{text}");
}

#[tokio::test]
async fn ecs_ram_role_reads_the_metadata_service_with_a_session_token() {
    let (now, clock) = manual_clock();
    let n = now.clone();
    let metadata = serve(
        move |seen, _| match (seen.method.as_str(), seen.path.as_str()) {
            ("PUT", "/latest/api/token") => {
                assert_eq!(
                    seen.headers
                        .get("x-aliyun-ecs-metadata-token-ttl-seconds")
                        .map(String::as_str),
                    Some("21600")
                );
                Reply::Text {
                    status: 200,
                    body: "imds-token".into(),
                }
            }
            ("GET", "/latest/meta-data/ram/security-credentials/") => Reply::Text {
                status: 200,
                body: "EcsRole".into(),
            },
            ("GET", "/latest/meta-data/ram/security-credentials/EcsRole") => {
                assert_eq!(
                    seen.headers
                        .get("x-aliyun-ecs-metadata-token")
                        .map(String::as_str),
                    Some("imds-token")
                );
                Reply::ok(json!({
                    "AccessKeyId": "STS.ecs",
                    "AccessKeySecret": "ecs-secret",
                    "SecurityToken": "ecs-token",
                    "Expiration": ts(n.load(Ordering::SeqCst) + 3600),
                    "LastUpdated": ts(n.load(Ordering::SeqCst)),
                    "Code": "Success"
                }))
            }
            _ => Reply::Text {
                status: 404,
                body: "not found".into(),
            },
        },
    )
    .await;
    let api = serve(|_, _| Reply::ok(json!({}))).await;
    api.add_key("STS.ecs", "ecs-secret");

    let dir = tempfile::tempdir().unwrap();
    let mut s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{"name": "default", "mode": "EcsRamRole"}]}),
    );
    s.ecs_metadata_url = Some(metadata.url.clone());
    s.clock = Some(clock);
    let creds = resolve(&s).await.unwrap();
    assert_eq!(creds.mode(), "EcsRamRole");
    let c = client(&api, creds);
    c.call(&get_user()).await.unwrap();
    c.call(&get_user()).await.unwrap();
    assert_eq!(api.seen()[0].param("SecurityToken"), Some("ecs-token"));
    let fetches = |m: &Mock| {
        m.seen()
            .iter()
            .filter(|s| s.path.ends_with("/EcsRole"))
            .count()
    };
    assert_eq!(fetches(&metadata), 1, "cached while fresh");
    now.fetch_add(3500, Ordering::SeqCst);
    c.call(&get_user()).await.unwrap();
    assert_eq!(fetches(&metadata), 2, "refreshed near expiry");
}

#[tokio::test]
async fn ecs_role_named_in_the_environment_is_the_last_resort() {
    let dir = tempfile::tempdir().unwrap();
    let s = CredentialSources {
        home: Some(dir.path().to_path_buf()),
        ..sources(&[("ALIBABA_CLOUD_ECS_METADATA", "EcsRole")])
    };
    let c = resolve(&s).await.unwrap();
    assert_eq!(c.mode(), "EcsRamRole");
    assert!(c.origin().contains("EcsRole"));
}

#[tokio::test]
async fn a_metadata_service_without_a_role_is_a_clear_auth_error() {
    let metadata = serve(|_, _| Reply::Text {
        status: 404,
        body: "no".into(),
    })
    .await;
    let s = CredentialSources {
        ecs_metadata_url: Some(metadata.url.clone()),
        ..sources(&[("ALIBABA_CLOUD_ECS_METADATA", "Missing")])
    };
    let api = serve(|_, _| Reply::ok(json!({}))).await;
    let c = client(&api, resolve(&s).await.unwrap());
    let e = c.call(&get_user()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.code, "EcsMetadataUnavailable");
    assert!(e.message.contains("`Missing`"), "{}", e.message);
    assert_eq!(api.count(), 0);
}

#[tokio::test]
async fn debug_output_never_shows_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "RamRoleArn", "access_key_id": "source-id",
            "access_key_secret": "TOP-SECRET-1", "ram_role_arn": "acs:ram::1:role/deployer"
        }]}),
    );
    s.access_key_secret = None;
    s.env = env(&[("ALIBABA_CLOUD_SECURITY_TOKEN", "TOP-SECRET-2")]);
    let creds = resolve(&s).await.unwrap();
    let fixed = Credentials::from_key("id", "TOP-SECRET-3", Some("TOP-SECRET-4".into()));
    let mock = serve(|_, _| Reply::ok(json!({}))).await;
    let text = format!(
        "{creds:?} {fixed:?} {s:?} {:?} {:?}",
        client(&mock, creds.clone()),
        client(&mock, fixed.clone())
    );
    for secret in [
        "TOP-SECRET-1",
        "TOP-SECRET-2",
        "TOP-SECRET-3",
        "TOP-SECRET-4",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("source-id"));
}

fn emulator_client(url: &str, creds: Credentials) -> Client {
    Client::new(
        ClientConfig {
            endpoint: Some(url.to_string()),
            region: None,
            qps: 0.0,
            max_in_flight: 4,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::none(),
            proxy: ProxyConfig::default(),
        },
        creds,
    )
    .unwrap()
}

#[tokio::test]
async fn an_emulator_role_session_is_assumed_used_and_renewed() {
    use ramstate::emulator::{self, EmulatorConfig};
    let emu = emulator::start(EmulatorConfig::new(support::every_kind_seed()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (now, clock) = manual_clock();
    let mut s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "RamRoleArn", "access_key_id": "LTAIbot",
            "access_key_secret": "bot-secret",
            "ram_role_arn": "acs:ram::1234567890123456:role/deployer",
            "ram_session_name": "nightly", "expired_seconds": 900
        }]}),
    );
    s.clock = Some(clock);
    let c = emulator_client(emu.url(), resolve(&s).await.unwrap());

    let first = c.caller().await.unwrap();
    assert_eq!(first.identity_type, "AssumedRoleUser");
    assert_eq!(first.role_name.as_deref(), Some("deployer"));
    // The long-lived key the session is assumed with is the one apply must protect.
    assert_eq!(first.access_key_id.as_deref(), Some("LTAIbot"));
    c.call(&get_user()).await.unwrap_err(); // no user `a`; signed and accepted all the same
    now.fetch_add(800, Ordering::SeqCst);
    let second = c.caller().await.unwrap();
    assert_eq!(second.role_name.as_deref(), Some("deployer"));

    let log = emu.log();
    let assumed: Vec<_> = log.iter().filter(|e| e.action == "AssumeRole").collect();
    assert_eq!(assumed.len(), 2, "one session, then its renewal");
    assert!(
        assumed
            .iter()
            .all(|e| e.caller == "LTAIbot" && e.status == 200)
    );
    let session_callers: BTreeSet<&str> = log
        .iter()
        .filter(|e| e.action != "AssumeRole")
        .map(|e| e.caller.as_str())
        .collect();
    assert_eq!(session_callers.len(), 2, "{session_callers:?}");
    assert!(session_callers.iter().all(|k| k.starts_with("STS.")));
    let not_found = log.iter().find(|e| e.action == "GetUser").unwrap();
    assert_eq!(not_found.code.as_deref(), Some("EntityNotExist.User"));
}

/// An unsigned JWT with the claims the emulator checks.
fn jwt(iss: &str, aud: &str, exp: i64) -> String {
    use base64::Engine as _;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(json!({"alg": "RS256", "typ": "JWT"})),
        b64(json!({"iss": iss, "aud": aud, "sub": "repo:demo/app", "exp": exp, "iat": exp - 600}))
    )
}

#[tokio::test]
async fn oidc_against_the_emulator_yields_a_working_role_session() {
    use ramstate::emulator::{self, EmulatorConfig};
    let emu = emulator::start(EmulatorConfig::new(support::every_kind_seed()))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("token");
    let exp = OffsetDateTime::now_utc().unix_timestamp() + 600;
    std::fs::write(
        &token_file,
        jwt(
            "https://token.actions.githubusercontent.com",
            "sts.aliyuncs.com",
            exp,
        ),
    )
    .unwrap();
    let s = sources(&[
        (
            "ALIBABA_CLOUD_ROLE_ARN",
            "acs:ram::1234567890123456:role/gh-actions",
        ),
        (
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
            "acs:ram::1234567890123456:oidc-provider/github",
        ),
        (
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
            token_file.to_str().unwrap(),
        ),
    ]);
    let c = emulator_client(emu.url(), resolve(&s).await.unwrap());
    let caller = c.caller().await.unwrap();
    assert_eq!(caller.role_name.as_deref(), Some("gh-actions"));
    assert_eq!(caller.identity_type, "AssumedRoleUser");
    // The provider the session signs in through, so that apply leaves it alone.
    assert_eq!(caller.oidc_provider.as_deref(), Some("github"));

    // A token for another audience is refused with the service's own error.
    std::fs::write(
        &token_file,
        jwt(
            "https://token.actions.githubusercontent.com",
            "someone-else",
            exp,
        ),
    )
    .unwrap();
    let c = emulator_client(emu.url(), resolve(&s).await.unwrap());
    let e = c.caller().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.code, "AuthenticationFail.OIDCToken.AudienceNotMatch");
}

#[tokio::test]
async fn an_unavailable_sts_is_retried_once_per_policy_not_once_per_call_attempt() {
    let mock = serve(|_, _| Reply::error(503, "ServiceUnavailable", "try later")).await;
    let dir = tempfile::tempdir().unwrap();
    let s = write_config(
        dir.path(),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "RamRoleArn", "access_key_id": "source-id",
            "access_key_secret": "source-secret", "ram_role_arn": "acs:ram::1:role/deployer"
        }]}),
    );
    let c = Client::new(
        ClientConfig {
            endpoint: Some(mock.url.clone()),
            region: None,
            qps: 0.0,
            max_in_flight: 4,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(5),
                deadline: Duration::from_secs(10),
            },
            proxy: ProxyConfig::default(),
        },
        resolve(&s).await.unwrap(),
    )
    .unwrap();
    let e = c.call(&get_user()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Transient);
    let seen = mock.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|s| s.action() == "AssumeRole"));
}
