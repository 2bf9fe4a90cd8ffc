//! The client and inventory fetch against the real emulator: a seeded account comes
//! back as its seed, pages are followed, injected faults are retried, and the
//! emulator's request log confirms pacing and backoff.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use ramstate::api::{Client, ClientConfig, Credentials, ErrorKind, ProxyConfig, RetryPolicy};
use ramstate::emulator::{self, EmulatorConfig, Faults, GenerateParams};
use ramstate::inventory::{self, NoProgress};
use ramstate::model::{ApiCall, Inventory, Kind, Service};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn config(url: &str) -> ClientConfig {
    ClientConfig {
        endpoint: Some(url.to_string()),
        region: None,
        qps: 0.0,
        max_in_flight: 8,
        timeout: Duration::from_secs(10),
        retry: RetryPolicy::default(),
        proxy: ProxyConfig::default(),
    }
}

fn root_client(emu: &emulator::Emulator, config: ClientConfig) -> Client {
    let key = emu.root_key();
    Client::new(
        config,
        Credentials::access_key(key.id.clone(), key.secret.clone()),
    )
    .unwrap()
}

fn all_kinds() -> BTreeSet<Kind> {
    Kind::ALL.into_iter().collect()
}

/// The seed as a fetch must return it: no secrets, no emulator options, sorted.
fn as_fetched(mut inv: Inventory) -> Inventory {
    inv.emulator = None;
    for u in &mut inv.users {
        for k in &mut u.access_keys {
            k.secret = None;
        }
        u.access_keys.sort_by(|a, b| a.id.cmp(&b.id));
        u.groups.sort();
        u.policies.sort();
    }
    for r in &mut inv.roles {
        r.usages.clear();
        r.policies.sort();
    }
    for g in &mut inv.groups {
        g.policies.sort();
    }
    for p in &mut inv.policies {
        p.versions.sort_by_key(|v| {
            v.id.trim_start_matches('v')
                .parse::<u64>()
                .unwrap_or(u64::MAX)
        });
    }
    inv.users.sort_by(|a, b| a.name.cmp(&b.name));
    inv.groups.sort_by(|a, b| a.name.cmp(&b.name));
    inv.roles.sort_by(|a, b| a.name.cmp(&b.name));
    inv.policies.sort_by(|a, b| a.name.cmp(&b.name));
    inv.saml_providers.sort_by(|a, b| a.name.cmp(&b.name));
    inv.oidc_providers.sort_by(|a, b| a.name.cmp(&b.name));
    inv.virtual_mfa_devices
        .sort_by(|a, b| a.serial_number.cmp(&b.serial_number));
    inv.recycle_bin
        .access_keys
        .sort_by(|a, b| (&a.user_id, &a.id).cmp(&(&b.user_id, &b.id)));
    inv
}

/// Fields the seed leaves open and the emulator fills in (creation dates).
fn without_generated_dates(mut inv: Inventory) -> Inventory {
    for u in &mut inv.users {
        u.create_date = None;
        for k in &mut u.access_keys {
            k.create_date = None;
        }
        if let Some(lp) = &mut u.login_profile {
            lp.create_date = None;
        }
    }
    for g in &mut inv.groups {
        g.create_date = None;
    }
    for r in &mut inv.roles {
        r.create_date = None;
    }
    for p in &mut inv.policies {
        p.create_date = None;
        for v in &mut p.versions {
            v.create_date = None;
        }
    }
    for s in &mut inv.saml_providers {
        s.create_date = None;
    }
    for o in &mut inv.oidc_providers {
        o.create_date = None;
    }
    for d in &mut inv.virtual_mfa_devices {
        d.activate_date = None;
    }
    for a in &mut inv.applications {
        a.create_date = None;
    }
    for u in &mut inv.recycle_bin.users {
        u.create_date = None;
        u.delete_date = None;
    }
    for k in &mut inv.recycle_bin.access_keys {
        k.create_date = None;
        k.recycle_date = None;
        k.delete_date = None;
    }
    inv
}

#[tokio::test]
async fn a_seeded_emulator_comes_back_as_its_seed() {
    let seed = support::every_kind_seed();
    let emu = emulator::start(EmulatorConfig::new(seed.clone()))
        .await
        .unwrap();
    let client = root_client(&emu, config(emu.url()));
    let got = inventory::fetch(&client, &all_kinds(), &NoProgress)
        .await
        .unwrap();
    let want = as_fetched(seed);
    // Everything the seed states comes back exactly.
    let got_cmp = without_generated_dates(got.clone());
    let want_cmp = without_generated_dates(want.clone());
    assert_eq!(got_cmp.account, want_cmp.account);
    assert_eq!(got_cmp.users, want_cmp.users);
    assert_eq!(got_cmp.groups, want_cmp.groups);
    assert_eq!(got_cmp.roles, want_cmp.roles);
    assert_eq!(got_cmp.policies, want_cmp.policies);
    assert_eq!(got_cmp.saml_providers, want_cmp.saml_providers);
    assert_eq!(got_cmp.oidc_providers, want_cmp.oidc_providers);
    assert_eq!(got_cmp.virtual_mfa_devices, want_cmp.virtual_mfa_devices);
    assert_eq!(got_cmp.applications, want_cmp.applications);
    assert_eq!(got_cmp.recycle_bin, want_cmp.recycle_bin);
    assert_eq!(got_cmp, want_cmp);
    // Dates the seed gives are kept as given.
    let alice = got.users.iter().find(|u| u.name == "alice").unwrap();
    assert_eq!(alice.create_date.as_deref(), Some("2024-01-02T03:04:05Z"));
    assert_eq!(
        alice.access_keys[0].last_used_date.as_deref(),
        Some("2024-06-01T00:00:00Z")
    );
    // And the fetch is a snapshot the emulator accepts as a seed again.
    let again = emulator::start(EmulatorConfig::new(got.clone()))
        .await
        .unwrap();
    let client = root_client(&again, config(again.url()));
    let twice = inventory::fetch(&client, &all_kinds(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(twice, got);
}

#[tokio::test]
async fn pagination_follows_every_page_of_a_large_account() {
    let seed = emulator::generate(&GenerateParams {
        users: 1150,
        groups: 230,
        roles: 10,
        policies: 10,
        seed: 7,
    });
    let emu = emulator::start(EmulatorConfig::new(seed.clone()))
        .await
        .unwrap();
    let client = root_client(&emu, config(emu.url()));
    let none = Vec::<(String, String)>::new();
    let users: Vec<ramstate::api::wire::User> = client
        .paginate(
            &ApiCall::new(Service::Ram, "ListUsers", none.clone()),
            "Users.User",
        )
        .await
        .unwrap();
    let groups: Vec<ramstate::api::wire::Group> = client
        .paginate(
            &ApiCall::new(Service::Ram, "ListGroups", none),
            "Groups.Group",
        )
        .await
        .unwrap();
    let names: BTreeSet<String> = users.iter().map(|u| u.name()).collect();
    assert_eq!(names.len(), seed.users.len());
    assert_eq!(groups.len(), seed.groups.len());
    let log = emu.log();
    let pages = |action: &str| log.iter().filter(|e| e.action == action).count();
    assert_eq!(pages("ListUsers"), 2, "1000 per page");
    assert_eq!(pages("ListGroups"), 3, "100 per page");
}

#[tokio::test(start_paused = true)]
async fn throttled_calls_back_off_as_the_emulator_asks() {
    let seed = support::every_kind_seed();
    let emu = emulator::start(EmulatorConfig {
        faults: Faults {
            qps_limit: 2.0,
            ..Faults::default()
        },
        ..EmulatorConfig::new(seed)
    })
    .await
    .unwrap();
    let client = root_client(&emu, config(emu.url()));
    let start = tokio::time::Instant::now();
    for _ in 0..6 {
        client
            .call(&ApiCall::new(
                Service::Ram,
                "GetUser",
                [("UserName", "alice")],
            ))
            .await
            .unwrap();
    }
    let log = emu.log();
    let throttled = log
        .iter()
        .filter(|e| e.code.as_deref() == Some("Throttling.User"))
        .count();
    let ok = log.iter().filter(|e| e.status == 200).count();
    assert_eq!(ok, 6);
    assert!(throttled > 0, "the limit was hit and retried");
    // Six calls at two per second need at least two seconds of (paused) time.
    assert!(
        start.elapsed() >= Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_fetch_survives_server_errors_and_dropped_connections() {
    let seed = support::every_kind_seed();
    let emu = emulator::start(EmulatorConfig {
        faults: Faults {
            error_rate: 0.15,
            drop_rate: 0.1,
            seed: 11,
            ..Faults::default()
        },
        ..EmulatorConfig::new(seed.clone())
    })
    .await
    .unwrap();
    let mut cfg = config(emu.url());
    cfg.retry = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(2),
        max_delay: Duration::from_millis(20),
        deadline: Duration::from_secs(30),
    };
    let client = root_client(&emu, cfg);
    let got = inventory::fetch(&client, &all_kinds(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(
        without_generated_dates(got),
        without_generated_dates(as_fetched(seed))
    );
    let log = emu.log();
    assert!(
        log.iter().any(|e| e.status == 0),
        "some connections dropped"
    );
    assert!(log.iter().any(|e| e.status >= 500), "some server errors");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_emulator_sees_the_configured_rate() {
    let seed = support::every_kind_seed();
    let emu = emulator::start(EmulatorConfig::new(seed)).await.unwrap();
    let mut cfg = config(emu.url());
    cfg.qps = 50.0;
    cfg.max_in_flight = 10;
    let client = root_client(&emu, cfg);
    let tasks: Vec<_> = (0..76)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                c.call(&ApiCall::new(
                    Service::Ram,
                    "GetUser",
                    [("UserName", "bob")],
                ))
                .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let times: Vec<OffsetDateTime> = emu
        .log()
        .iter()
        .map(|e| OffsetDateTime::parse(&e.time, &Rfc3339).unwrap())
        .collect();
    assert_eq!(times.len(), 76);
    let span = *times.iter().max().unwrap() - *times.iter().min().unwrap();
    let qps = 75.0 / span.as_seconds_f64();
    assert!((45.0..=55.0).contains(&qps), "measured {qps:.1} calls/s");
}

#[tokio::test]
async fn a_ram_user_is_identified_with_its_key() {
    let emu = emulator::start(EmulatorConfig::new(support::every_kind_seed()))
        .await
        .unwrap();
    let client = Client::new(
        config(emu.url()),
        Credentials::access_key("LTAIbot", "bot-secret"),
    )
    .unwrap();
    let caller = client.caller().await.unwrap();
    assert_eq!(caller.account_id, "1234567890123456");
    assert_eq!(caller.identity_type, "RAMUser");
    assert_eq!(caller.user_name.as_deref(), Some("ci-bot"));
    assert_eq!(caller.access_key_id.as_deref(), Some("LTAIbot"));

    let wrong = Client::new(
        config(emu.url()),
        Credentials::access_key("LTAIbot", "not-the-secret"),
    )
    .unwrap();
    let e = wrong.caller().await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Auth);
    assert_eq!(e.code, "SignatureDoesNotMatch");
}

fn repo_seed(name: &str) -> Inventory {
    emulator::load_seed(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

#[tokio::test]
async fn the_demo_account_comes_back_as_its_seed() {
    let seed = repo_seed("examples/demo-account.yaml");
    let emu = emulator::start(EmulatorConfig::new(seed.clone()))
        .await
        .unwrap();
    let client = root_client(&emu, config(emu.url()));
    let got = inventory::fetch(&client, &all_kinds(), &NoProgress)
        .await
        .unwrap();
    let got = without_generated_dates(got);
    let want = without_generated_dates(as_fetched(seed));
    assert_eq!(got.account, want.account);
    assert_eq!(got.users, want.users);
    assert_eq!(got.groups, want.groups);
    assert_eq!(got.roles, want.roles);
    assert_eq!(got.policies, want.policies);
    assert_eq!(got.saml_providers, want.saml_providers);
    assert_eq!(got.oidc_providers, want.oidc_providers);
    assert_eq!(got.virtual_mfa_devices, want.virtual_mfa_devices);
    assert_eq!(got.applications, want.applications);
    assert_eq!(got.recycle_bin, want.recycle_bin);
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_account_comes_back_whole() {
    let seed = emulator::generate(&GenerateParams {
        users: 120,
        groups: 30,
        roles: 40,
        policies: 40,
        seed: 3,
    });
    let emu = emulator::start(EmulatorConfig::new(seed.clone()))
        .await
        .unwrap();
    let mut cfg = config(emu.url());
    cfg.max_in_flight = 16;
    let client = root_client(&emu, cfg);
    let got = inventory::fetch(&client, &all_kinds(), &NoProgress)
        .await
        .unwrap();
    let got = without_generated_dates(got);
    let want = without_generated_dates(as_fetched(seed));
    assert_eq!(got.users.len(), 120);
    assert_eq!(got, want);
}

#[tokio::test]
async fn account_settings_come_back_as_seeded_with_the_account_wide_kinds() {
    let seed = emulator::parse_seed(
        r#"
account:
  id: "1234567890123456"
  password_policy:
    minimum_password_length: 14
    max_login_attempts: 5
    max_password_age: 90
    password_reuse_prevention: 4
    require_symbols: true
    require_numbers: true
    hard_expire: true
  security_preference:
    login_session_duration: 8
    mfa_operation_for_login: adaptive
    operation_for_risk_login: enforceVerify
    allow_user_to_manage_access_keys: true
    allow_user_to_change_password: false
    login_network_masks: 10.0.0.0/8;192.168.0.0/16
    verification_types: [sms, email]
"#,
    )
    .unwrap();
    let emu = emulator::start(EmulatorConfig::new(seed.clone()))
        .await
        .unwrap();
    let client = root_client(&emu, config(emu.url()));
    for kind in [Kind::DefaultDomain, Kind::AccountAlias] {
        let got = inventory::fetch(&client, &[kind].into(), &NoProgress)
            .await
            .unwrap();
        assert_eq!(got.account.password_policy, seed.account.password_policy);
        assert_eq!(
            got.account.security_preference,
            seed.account.security_preference
        );
    }
    // One call each, and only for the account-wide kinds.
    let settings_calls = |emu: &emulator::Emulator| {
        emu.log()
            .iter()
            .filter(|e| {
                e.service == Service::Ims
                    && matches!(
                        e.action.as_str(),
                        "GetPasswordPolicy" | "GetSecurityPreference"
                    )
            })
            .count()
    };
    assert_eq!(settings_calls(&emu), 4);
    let got = inventory::fetch(&client, &[Kind::Users, Kind::Roles].into(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(got.account.password_policy, None);
    assert_eq!(got.account.security_preference, None);
    assert_eq!(settings_calls(&emu), 4);

    // A change made through the API is what the next fetch sees.
    let set = ApiCall::new(
        Service::Ims,
        "SetPasswordPolicy",
        [
            ("MinimumPasswordLength", "20"),
            ("RequireUppercaseCharacters", "true"),
        ],
    );
    client.call(&set).await.unwrap();
    let settings = inventory::fetch_account_settings(&client).await.unwrap();
    assert_eq!(settings.password_policy.minimum_password_length, 20);
    assert!(settings.password_policy.require_uppercase_characters);
    // Set replaces the whole policy: what it left out is back at the default.
    assert!(!settings.password_policy.require_symbols);
    assert_eq!(
        Some(settings.security_preference.clone()),
        seed.account.security_preference
    );
}

#[tokio::test]
async fn an_account_with_the_default_settings_has_none_in_its_inventory() {
    let seed = emulator::parse_seed("account: {id: '1234567890123456'}").unwrap();
    let emu = emulator::start(EmulatorConfig::new(seed)).await.unwrap();
    let client = root_client(&emu, config(emu.url()));
    let settings = inventory::fetch_account_settings(&client).await.unwrap();
    assert_eq!(settings, inventory::AccountSettings::default());
    let got = inventory::fetch(&client, &all_kinds(), &NoProgress)
        .await
        .unwrap();
    assert_eq!(got.account.password_policy, None);
    assert_eq!(got.account.security_preference, None);
    assert!(inventory::wants_account_settings(
        &[Kind::AccountAlias].into()
    ));
    assert!(!inventory::wants_account_settings(&[Kind::Users].into()));
}
