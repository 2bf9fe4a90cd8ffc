//! Seeds: the demo account, snapshots that replay, and generated large accounts.

use std::time::{Duration, Instant};

use ramstate_emulator::{self as emulator, EmulatorConfig, GenerateParams, State, sign};
use ramstate_model::Inventory;
use serde_json::Value;

fn demo() -> Inventory {
    emulator::load_seed(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/demo-account.yaml"
    )))
    .unwrap()
}

/// Sorts every list the way the emulator's snapshot does.
fn normalise(mut inv: Inventory) -> Inventory {
    inv.users.sort_by(|a, b| a.name.cmp(&b.name));
    for u in &mut inv.users {
        u.groups.sort();
        u.policies.sort();
    }
    inv.groups.sort_by(|a, b| a.name.cmp(&b.name));
    for g in &mut inv.groups {
        g.policies.sort();
    }
    inv.roles.sort_by(|a, b| a.name.cmp(&b.name));
    for r in &mut inv.roles {
        r.policies.sort();
    }
    inv.policies.sort_by(|a, b| a.name.cmp(&b.name));
    inv.saml_providers.sort_by(|a, b| a.name.cmp(&b.name));
    inv.oidc_providers.sort_by(|a, b| a.name.cmp(&b.name));
    inv.virtual_mfa_devices
        .sort_by(|a, b| a.serial_number.cmp(&b.serial_number));
    inv.applications.sort_by(|a, b| a.app_id.cmp(&b.app_id));
    inv.recycle_bin.users.sort_by(|a, b| a.id.cmp(&b.id));
    inv.recycle_bin.access_keys.sort_by(|a, b| a.id.cmp(&b.id));
    inv
}

async fn call(
    url: &str,
    id: &str,
    secret: &str,
    version: &str,
    action: &str,
    params: &[(&str, &str)],
) -> (u16, Value) {
    let mut all: std::collections::BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let t = time::OffsetDateTime::now_utc();
    for (k, v) in [
        ("Action", action.to_string()),
        ("Version", version.to_string()),
        ("Format", "JSON".to_string()),
        ("AccessKeyId", id.to_string()),
        ("SignatureMethod", "HMAC-SHA1".to_string()),
        ("SignatureVersion", "1.0".to_string()),
        ("SignatureNonce", uuid::Uuid::new_v4().to_string()),
        (
            "Timestamp",
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            ),
        ),
    ] {
        all.insert(k.into(), v);
    }
    let sig = sign::v1_signature(secret, &sign::v1_string_to_sign("GET", &all));
    all.insert("Signature".into(), sig);
    let q = all
        .iter()
        .map(|(k, v)| format!("{}={}", sign::percent_encode(k), sign::percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let r = reqwest::get(format!("{url}?{q}")).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

#[tokio::test]
async fn demo_account_serves_in_under_a_second_and_replays_as_its_snapshot() {
    let t = Instant::now();
    let seed = demo();
    let emu = emulator::start(EmulatorConfig::new(seed.clone()))
        .await
        .unwrap();
    let root = emu.root_key().clone();
    let (status, _) = call(
        emu.url(),
        &root.id,
        &root.secret,
        "2015-05-01",
        "ListUsers",
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(emu.snapshot(), normalise(seed));
}

#[tokio::test]
async fn demo_account_has_one_of_every_kind_and_behaves_as_documented() {
    let emu = emulator::start(EmulatorConfig::new(demo())).await.unwrap();
    let url = emu.url().to_string();
    let (status, who) = call(
        &url,
        "LTAI5tCiBot0000000000001",
        "ciBotSecretDoNotUseInProd0001",
        "2015-04-01",
        "GetCallerIdentity",
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(who["Arn"], "acs:ram::5123456789012345:user/ci-bot");
    let (status, err) = call(
        &url,
        "LTAI5tAlice000000000001",
        "aliceOldSecret000000000000001",
        "2015-05-01",
        "ListUsers",
        &[],
    )
    .await;
    assert_eq!(
        (status, err["Code"].as_str().unwrap()),
        (400, "InvalidAccessKeyId.Inactive")
    );
    let (_, creds) = call(
        &url,
        "LTAI5tCiBot0000000000001",
        "ciBotSecretDoNotUseInProd0001",
        "2015-04-01",
        "AssumeRole",
        &[
            ("RoleArn", "acs:ram::5123456789012345:role/deployer"),
            ("RoleSessionName", "deploy"),
        ],
    )
    .await;
    assert!(creds["Credentials"]["SecurityToken"].is_string());

    let root = emu.root_key().clone();
    let rm = |action: &'static str, k: &'static str, v: String| {
        let url = url.clone();
        let root = root.clone();
        async move {
            call(
                &url,
                &root.id,
                &root.secret,
                "2020-03-31",
                action,
                &[(k, &v)],
            )
            .await
            .1
        }
    };
    let task = rm(
        "DeleteServiceLinkedRole",
        "RoleName",
        "AliyunServiceRoleForECS".into(),
    )
    .await;
    let id = task["DeletionTaskId"].as_str().unwrap().to_string();
    let mut seen = vec![];
    for _ in 0..4 {
        seen.push(
            rm(
                "GetServiceLinkedRoleDeletionStatus",
                "DeletionTaskId",
                id.clone(),
            )
            .await["Status"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(
        seen,
        ["IN_PROGRESS", "IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]
    );
    let task = rm(
        "DeleteServiceLinkedRole",
        "RoleName",
        "AliyunServiceRoleForLog".into(),
    )
    .await;
    let id = task["DeletionTaskId"].as_str().unwrap().to_string();
    let mut last = Value::Null;
    for _ in 0..4 {
        last = rm(
            "GetServiceLinkedRoleDeletionStatus",
            "DeletionTaskId",
            id.clone(),
        )
        .await;
    }
    assert_eq!(last["Status"], "FAILED");
    let regions: Vec<_> = last["Reason"]["RoleUsages"]["RoleUsage"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Region"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(regions, ["cn-hangzhou", "ap-southeast-1"]);

    let snap = emu.snapshot();
    assert!(snap.users.iter().any(|u| u.access_keys.len() == 2));
    assert!(snap.virtual_mfa_devices.iter().any(|d| d.user.is_none()));
    assert!(snap.policies.iter().any(|p| p.versions.len() >= 3));
    assert!(!snap.saml_providers.is_empty() && !snap.oidc_providers.is_empty());
    assert!(!snap.applications.is_empty() && !snap.recycle_bin.users.is_empty());
    assert_eq!(
        snap.account.default_domain.as_deref(),
        Some("acme-demo.onaliyun.com")
    );
}

#[test]
fn a_generated_large_account_builds_and_loads_in_seconds() {
    let t = Instant::now();
    let inv = emulator::generate(&GenerateParams {
        users: 5000,
        groups: 300,
        roles: 1000,
        policies: 1500,
        seed: 7,
    });
    assert_eq!(inv.users.len(), 5000);
    assert_eq!(inv.groups.len(), 300);
    assert_eq!(inv.roles.len(), 1000);
    assert_eq!(inv.policies.len(), 1500);
    let st = State::from_seed(&inv, 1, time::OffsetDateTime::now_utc()).unwrap();
    assert_eq!(st.users.len(), 5000);
    let text = yaml_serde::to_string(&inv).unwrap();
    let back: Inventory = yaml_serde::from_str(&text).unwrap();
    assert_eq!(back, inv);
    assert!(
        t.elapsed() < Duration::from_secs(20),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn seeds_with_dangling_references_are_refused() {
    for bad in [
        "account: {id: '1'}\nusers: [{name: a, policies: [System/NotAPolicy]}]",
        "account: {id: '1'}\nusers: [{name: a, policies: [Custom/missing]}]",
        "account: {id: '1'}\nvirtual_mfa_devices: [{serial_number: 'acs:ram::1:mfa/x', user: ghost}]",
        "account: {id: '1'}\nusers: [{name: a}, {name: a}]",
        "account: {id: '1'}\npolicies: [{name: p, versions: [{id: v1, document: '{}'}]}]",
    ] {
        let inv = emulator::parse_seed(bad).unwrap();
        assert!(
            State::from_seed(&inv, 1, time::OffsetDateTime::now_utc()).is_err(),
            "{bad}"
        );
    }
    assert!(emulator::parse_seed("account: {id: '1'}\nunknown_field: 1").is_err());
}

#[tokio::test]
async fn a_large_account_answers_full_list_pages_quickly() {
    let inv = emulator::generate(&GenerateParams {
        users: 5000,
        groups: 300,
        roles: 1000,
        policies: 1500,
        seed: 7,
    });
    let emu = emulator::start(EmulatorConfig::new(inv)).await.unwrap();
    let root = emu.root_key().clone();
    let t = Instant::now();
    let mut total = 0;
    for (action, outer, inner) in [
        ("ListUsers", "Users", "User"),
        ("ListPolicies", "Policies", "Policy"),
        ("ListRoles", "Roles", "Role"),
    ] {
        let mut marker = String::new();
        loop {
            let mut p = vec![("MaxItems", "1000")];
            if !marker.is_empty() {
                p.push(("Marker", marker.as_str()));
            }
            let (status, v) =
                call(emu.url(), &root.id, &root.secret, "2015-05-01", action, &p).await;
            assert_eq!(status, 200, "{v}");
            total += v[outer][inner].as_array().unwrap().len();
            match v["Marker"].as_str() {
                Some(m) => marker = m.to_string(),
                None => break,
            }
        }
    }
    let (_, system) = call(
        emu.url(),
        &root.id,
        &root.secret,
        "2015-05-01",
        "ListPolicies",
        &[("PolicyType", "System"), ("MaxItems", "1000")],
    )
    .await;
    let system = system["Policies"]["Policy"].as_array().unwrap().len();
    assert_eq!(total, 5000 + 1500 + 1000 + system);
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "took {:?}",
        t.elapsed()
    );
}

#[test]
fn json_seeds_load_like_yaml_seeds() {
    let inv = emulator::generate(&GenerateParams {
        users: 20,
        groups: 5,
        roles: 10,
        policies: 10,
        seed: 3,
    });
    let json = serde_json::to_string_pretty(&inv).unwrap();
    assert_eq!(emulator::parse_seed(&json).unwrap(), inv);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.json");
    std::fs::write(&path, json).unwrap();
    assert_eq!(emulator::load_seed(&path).unwrap(), inv);
    let missing = emulator::load_seed(&dir.path().join("absent.yaml")).unwrap_err();
    assert!(missing.to_string().contains("absent.yaml"));
}
