//! `ramstate export`: the live account as a file that plans to nothing against the same
//! account, as declarations or as an allowlist, and that clones the account elsewhere.

mod support;

use ramstate::emulator::{self, GenerateParams};
use ramstate::model::Inventory;
use support::*;

async fn export(emu: &emulator::Emulator, shape: &str, out: &std::path::Path) {
    let run = Run::new(
        emu,
        // No client-side rate limit: loopback answers as fast as it can.
        &[
            "export",
            "--as",
            shape,
            "--out",
            out.to_str().unwrap(),
            "--qps",
            "0",
        ],
    )
    .output()
    .await;
    assert_eq!(code(&run), 0, "{}", text(&run.stderr));
}

async fn plans_nothing(emu: &emulator::Emulator, file: &std::path::Path) {
    let out = Run::new(
        emu,
        &[
            "diff",
            file.to_str().unwrap(),
            "--detailed-exitcode",
            "--qps",
            "0",
        ],
    )
    .output()
    .await;
    let shown = text(&out.stdout);
    assert_eq!(code(&out), 0, "{shown}\n{}", text(&out.stderr));
    assert!(shown.contains("No changes."), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_the_demo_account_plans_no_change_as_declarations_and_as_an_allowlist() {
    let emu = start(demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    for shape in ["declared", "allowlist"] {
        let file = dir.path().join(format!("{shape}.yaml"));
        export(&emu, shape, &file).await;
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema="),
            "{text}"
        );
        assert!(
            text.contains("id: '5123456789012345'"),
            "the account is pinned"
        );
        plans_nothing(&emu, &file).await;
    }
    assert!(
        mutations(&emu.log()).is_empty(),
        "export and diff only read"
    );
    // No secret of the seed appears in an export.
    let seed = demo_seed();
    let declared = std::fs::read_to_string(dir.path().join("declared.yaml")).unwrap();
    for key in seed.users.iter().flat_map(|u| &u.access_keys) {
        if let Some(secret) = &key.secret {
            assert!(!declared.contains(secret.as_str()));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_a_generated_account_of_hundreds_of_entities_plans_no_change() {
    let mut seed = emulator::generate(&GenerateParams {
        users: 150,
        groups: 20,
        roles: 40,
        policies: 60,
        seed: 3,
    });
    seed.account.id = "5123456789012345".into();
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("declared.yaml");
    export(&emu, "declared", &file).await;
    plans_nothing(&emu, &file).await;
    let allow = dir.path().join("allowlist.yaml");
    export(&emu, "allowlist", &allow).await;
    plans_nothing(&emu, &allow).await;
}

/// What two accounts hold, without what cannot be the same in another account: IDs,
/// dates, keys, MFA bindings, service-linked roles, applications, the recycle bin.
fn comparable(mut inv: Inventory) -> Inventory {
    inv.account.id.clear();
    inv.emulator = None;
    inv.virtual_mfa_devices.clear();
    inv.applications.clear();
    inv.recycle_bin = Default::default();
    inv.roles.retain(|r| !r.is_service_linked());
    for u in &mut inv.users {
        u.id.clear();
        u.create_date = None;
        u.last_login_date = None;
        u.access_keys.clear();
        u.mfa_device = None;
        u.groups.sort();
        u.policies.sort();
        if let Some(lp) = &mut u.login_profile {
            lp.create_date = None;
        }
    }
    for g in &mut inv.groups {
        g.id.clear();
        g.create_date = None;
        g.policies.sort();
    }
    for r in &mut inv.roles {
        r.id.clear();
        r.create_date = None;
        r.policies.sort();
        r.usages.clear();
        // The same document, as each account's text holds it.
        r.assume_role_policy_document = r
            .assume_role_policy_document
            .as_deref()
            .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
            .map(|v| ramstate::config::normalise(&v).to_string());
    }
    for p in &mut inv.policies {
        p.create_date = None;
        let doc = p
            .default_version()
            .and_then(|v| serde_json::from_str::<serde_json::Value>(&v.document).ok())
            .map(|v| ramstate::config::normalise(&v).to_string());
        // Only the default version is declared.
        p.versions = vec![ramstate::model::PolicyVersion {
            id: String::new(),
            is_default: true,
            document: doc.unwrap_or_default(),
            create_date: None,
        }];
    }
    for p in &mut inv.saml_providers {
        p.create_date = None;
    }
    for p in &mut inv.oidc_providers {
        p.create_date = None;
    }
    inv.users.sort_by(|a, b| a.name.cmp(&b.name));
    inv.groups.sort_by(|a, b| a.name.cmp(&b.name));
    inv.roles.sort_by(|a, b| a.name.cmp(&b.name));
    inv.policies.sort_by(|a, b| a.name.cmp(&b.name));
    inv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_applied_to_an_empty_account_clones_it() {
    let a = start(demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.yaml");
    export(&a, "declared", &file).await;

    let b_id = "6123456789012345";
    let mut empty = Inventory::default();
    empty.account.id = b_id.into();
    let b = start(empty).await;
    let file_text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("id: '5123456789012345'", &format!("id: '{b_id}'"));
    let clone = dir.path().join("b.yaml");
    std::fs::write(&clone, &file_text).unwrap();
    let mut run = Run::new(&b, &["apply", clone.to_str().unwrap(), "--auto-approve"]);
    for var in file_text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("initial_password_env: "))
    {
        run.env
            .insert(var.to_string(), "Clone-Passw0rd!Strong".into());
    }
    let out = run.output().await;
    assert_eq!(
        code(&out),
        0,
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    plans_nothing(&b, &clone).await;

    let (mut got, want) = (comparable(b.snapshot()), comparable(a.snapshot()));
    // The clone's default domain is its own unless the file declares another.
    got.account.default_domain = want.account.default_domain.clone();
    assert_eq!(got, want);
}
