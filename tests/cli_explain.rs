//! `ramstate explain FILE ADDRESS` through the real binary against the emulator: for a
//! kept, a removed, a protected and an unmanaged address, what the plan does there, the
//! line of the file that decided it, what its steps wait for and what waits for them.
//! And the plan's JSON carries the same decisions.

mod support;

use support::*;

/// Keeps the platform team and its group and the ecs/oss policies; the caller, ci-bot,
/// is kept by no rule (so it is protected: ramstate runs as it).
const FILE: &str = r#"# yaml-language-server: $schema=../schemas/ramstate.schema.json
version: 1
account: { id: "5123456789012345" }
manage:
  - users
  - groups
  - roles
  - policies
keep:
  users:
    - { tag: { key: team, value: platform } }
    - { glob: "svc-*" }
  groups:
    - platform
  roles:
    - deployer
  policies:
    - { regex: "^(ecs|oss)-" }
"#;

async fn explain(address: &str, extra: &[&str]) -> (i32, String, String) {
    let seed = demo_seed();
    let key = ci_bot_key(&seed);
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ramstate.yaml");
    std::fs::write(&file, FILE).unwrap();
    let mut args = vec!["explain", file.to_str().unwrap(), address];
    args.extend_from_slice(extra);
    let out = Run::with_key(&emu, &key.id, key.secret.as_deref().unwrap(), &args)
        .output()
        .await;
    let log = emu.log();
    assert!(mutations(&log).is_empty(), "explain never mutates");
    (code(&out), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn explain_a_kept_user_names_the_keep_rule_and_its_line() {
    let (code, out, err) = explain("user.alice", &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("decided by   keep.users: tag team=platform (line 11)"),
        "{out}"
    );
    insta::assert_snapshot!("explain_kept", out);
}

#[tokio::test]
async fn explain_a_removed_user_names_the_manage_line_the_rules_tried_and_what_waits_for_it() {
    let (code, out, err) = explain("user.bob", &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("manage: users, and none of the 2 keep.users rules matches (line 5)"),
        "{out}"
    );
    assert!(out.contains("keep.users: glob svc-* (line 12)"), "{out}");
    // bob's membership goes before the analysts group can.
    assert!(out.contains("unblocks     delete group.analysts: DeleteGroup GroupName=analysts"));
    insta::assert_snapshot!("explain_removed", out);
}

#[tokio::test]
async fn explain_the_callers_own_user_says_it_is_protected_and_why() {
    let (code, out, err) = explain("user.ci-bot", &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("user.ci-bot: protected\n"), "{out}");
    insta::assert_snapshot!("explain_protected", out);
}

#[tokio::test]
async fn explain_a_step_of_a_removed_resource_is_decided_by_that_resource() {
    let (code, out, _) = explain("user.bob/group.analysts", &[]).await;
    assert_eq!(code, 0);
    assert!(
        out.starts_with("user.bob/group.analysts: removed\n"),
        "{out}"
    );
    assert!(out.contains("(line 5)"), "{out}");
    assert!(out.contains("RemoveUserFromGroup GroupName=analysts UserName=bob"));
}

#[tokio::test]
async fn explain_a_kind_the_file_does_not_manage_says_nothing_of_it_is_touched() {
    let (code, out, _) = explain("oidc_provider.github-actions", &[]).await;
    assert_eq!(code, 0);
    assert!(
        out.starts_with("oidc_provider.github-actions: not managed\n"),
        "{out}"
    );
    assert!(out.contains("ramstate does not touch oidc_provider.github-actions"));
}

#[tokio::test]
async fn explain_an_address_the_account_does_not_hold_fails_with_the_near_ones() {
    let (code, out, err) = explain("user.bobby", &[]).await;
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("user.bobby is neither in the plan nor kept"),
        "{err}"
    );
    assert!(err.contains("user.bob"), "{err}");
    let (code, _, err) = explain("nonsense", &[]).await;
    assert_eq!(code, 1);
    assert!(err.contains("user.alice"), "{err}");
}

#[tokio::test]
async fn explain_json_carries_the_verdict_rule_and_line() {
    let (code, out, _) = explain("user.bob", &["-o", "json"]).await;
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["format_version"], 1);
    assert_eq!(v["verdict"], "removed");
    assert_eq!(v["decided_by"]["line"], 5);
    assert_eq!(v["rules_tried"][0]["line"], 11);
    assert_eq!(v["unblocks"][0]["address"], "group.analysts");
}

#[tokio::test]
async fn the_plan_json_names_the_deciding_rule_and_line_of_every_change_and_kept_entity() {
    let seed = demo_seed();
    let key = ci_bot_key(&seed);
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ramstate.yaml");
    std::fs::write(&file, FILE).unwrap();
    let out = Run::with_key(
        &emu,
        &key.id,
        key.secret.as_deref().unwrap(),
        &["diff", file.to_str().unwrap(), "-o", "json"],
    )
    .output()
    .await;
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert!(!changes.is_empty());
    for c in changes {
        let d = &c["decided_by"];
        assert!(
            d["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("manage: ")),
            "{c}"
        );
        assert!(
            d["line"].as_u64().is_some_and(|l| (5..=8).contains(&l)),
            "{c}"
        );
    }
    let kept = plan["kept"].as_array().unwrap();
    let alice = kept.iter().find(|k| k["address"] == "user.alice").unwrap();
    assert_eq!(alice["line"], 11);
    let deployer = kept
        .iter()
        .find(|k| k["address"] == "role.deployer")
        .unwrap();
    assert_eq!(deployer["line"], 16);
}

#[tokio::test]
async fn explain_a_declared_address_names_its_declaration_and_once_applied_says_it_matches() {
    let emu = start(demo_seed()).await;
    let file = repo_path("examples/declared.yaml").display().to_string();
    let run = |args: &[&str]| {
        let mut r = Run::new(&emu, args);
        r.env
            .insert("ANA_INITIAL_PASSWORD".into(), "Initial-Passw0rd!".into());
        r
    };
    let out = run(&["explain", &file, "user.ana", "--qps", "0"])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.starts_with("user.ana: created\n"), "{shown}");
    assert!(
        shown.contains("decided by   declared in resources.users (line 21)"),
        "{shown}"
    );
    // Its group is created first.
    assert!(shown.contains("waits for    create group.platform-engineers: CreateGroup"));
    insta::assert_snapshot!("explain_declared", shown);

    let applied = run(&["apply", &file, "--auto-approve", "--qps", "0"])
        .output()
        .await;
    assert_eq!(code(&applied), 0, "{}", text(&applied.stderr));
    let out = run(&["explain", &file, "user.ana", "--qps", "0"])
        .output()
        .await;
    assert_eq!(
        text(&out.stdout),
        "user.ana: declared\n  decided by   declared in resources.users, and the account matches the declaration (line 21)\n  steps        nothing\n  waits for    nothing\n  unblocks     nothing\n"
    );
}

#[tokio::test]
async fn the_plan_json_of_declared_resources_names_each_declaration_line() {
    let emu = start(demo_seed()).await;
    let file = repo_path("examples/declared.yaml").display().to_string();
    let out = Run::new(&emu, &["diff", &file, "-o", "json", "--qps", "0"])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    assert!(changes.len() > 10);
    for c in changes {
        let d = &c["decided_by"];
        let rule = d["rule"].as_str().unwrap_or_default();
        assert!(
            rule.starts_with("declared in resources.") || rule.ends_with(" are declared"),
            "{c}"
        );
        assert!(d["line"].as_u64().is_some_and(|l| l >= 14), "{c}");
    }
}
