//! The guards a careful admin expects, through the real binary against the emulator:
//! nothing is purged from the recycle bin unless the file says `recycle_bin: purge`, and
//! never a kept name; a keep rule that misses the user it meant makes `apply` refuse;
//! `created_before` never deletes an undated entity; a role session obtained outside
//! ramstate protects its role and the providers the role trusts; `ramstate recycle-bin`
//! lists what the bin holds.

mod support;

use std::path::PathBuf;

use ramstate::model::Inventory;
use support::*;

const ACCOUNT: &str = "1234567890123456";

/// Alibaba's timestamp form, `2026-01-02T03:04:05Z`.
fn stamp(t: time::OffsetDateTime) -> String {
    t.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
    ))
    .unwrap()
}

/// An account whose deletions go to the recycle bin (as the console's), holding `ci-bot`
/// and `bob` (with a key each), an undated `legacy` user, and in the bin `ci-bot`'s
/// namesake from an earlier deletion and `old`, deleted ten and a half days ago.
fn bin_seed() -> Inventory {
    let recycled = stamp(
        time::OffsetDateTime::now_utc() - time::Duration::days(10) - time::Duration::hours(12),
    );
    yaml_serde::from_str(&format!(
        r#"
account: {{id: "{ACCOUNT}"}}
users:
  - {{name: ci-bot, id: "2001", create_date: "2024-01-02T00:00:00Z", access_keys: [{{id: LTAIcibot, status: Active}}]}}
  - {{name: bob, id: "2002", create_date: "2024-01-02T00:00:00Z", access_keys: [{{id: LTAIbob, status: Inactive}}]}}
  - {{name: legacy, id: "2003"}}
recycle_bin:
  users:
    - {{id: "2090", principal_name: "ci-bot-v1@{ACCOUNT}.onaliyun.com", recycle_date: "{recycled}"}}
    - {{id: "2091", principal_name: "old@{ACCOUNT}.onaliyun.com", recycle_date: "{recycled}"}}
  access_keys:
    - {{id: LTAIold, user_id: "2091", recycle_date: "{recycled}"}}
    - {{id: LTAIcibotv1, user_id: "2090", recycle_date: "{recycled}"}}
emulator: {{delete_user: recycle_bin}}
"#
    ))
    .unwrap()
}

fn file(dir: &tempfile::TempDir, text: &str) -> PathBuf {
    let path = dir.path().join("ramstate.yaml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A diagnostic as one line: miette wraps long messages and marks continued lines.
fn flat(s: &str) -> String {
    s.lines()
        .map(|l| l.trim().trim_start_matches(['|', 'x']).trim())
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn actions(emu: &ramstate::emulator::Emulator) -> Vec<String> {
    mutations(&emu.log())
        .into_iter()
        .map(|e| {
            let mut s = e.action.clone();
            for (k, v) in &e.params {
                s.push_str(&format!(" {k}={v}"));
            }
            s
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manage_all_without_recycle_bin_purge_purges_nothing() {
    let emu = start(bin_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        &format!("version: 1\naccount: {{id: \"{ACCOUNT}\"}}\nmanage: all\n"),
    );
    let f = f.to_str().unwrap();
    let out = Run::new(&emu, &["apply", f, "--auto-approve"])
        .output()
        .await;
    assert_eq!(
        code(&out),
        0,
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let done = actions(&emu);
    assert!(
        done.iter()
            .any(|a| a.starts_with("DeleteUser UserName=bob")),
        "{done:#?}"
    );
    assert!(
        !done.iter().any(|a| a.contains("InRecycleBin")),
        "nothing is purged without `recycle_bin: purge`: {done:#?}"
    );
    // Everything deleted is still restorable, and what was in the bin is still there.
    let bin = emu.snapshot().recycle_bin;
    let ids: Vec<&str> = bin.users.iter().map(|u| u.id.as_str()).collect();
    assert!(
        ids.contains(&"2002") && ids.contains(&"2090") && ids.contains(&"2091"),
        "{ids:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recycle_bin_purge_never_purges_a_kept_name_nor_its_keys() {
    let emu = start(bin_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        &format!(
            "version: 1\naccount: {{id: \"{ACCOUNT}\"}}\nmanage: [users, recycle_bin]\nrecycle_bin: purge\nkeep:\n  users: [{{glob: \"ci-bot*\"}}, legacy]\n"
        ),
    );
    let f = f.to_str().unwrap();
    let out = Run::new(&emu, &["apply", f, "--auto-approve"])
        .output()
        .await;
    assert_eq!(
        code(&out),
        0,
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let mut purges: Vec<String> = actions(&emu)
        .into_iter()
        .filter(|a| a.contains("InRecycleBin"))
        .collect();
    purges.sort();
    // bob goes for good right after its deletion, and so does `old` with its key; the
    // recycled ci-bot-v1 (kept by the glob) and its key stay.
    assert_eq!(
        purges,
        [
            "DeleteAccessKeyInRecycleBin UserAccessKeyId=LTAIold UserId=2091",
            "DeleteUserInRecycleBin UserId=2002",
            "DeleteUserInRecycleBin UserId=2091",
        ]
    );
    let bin = emu.snapshot().recycle_bin;
    assert_eq!(
        bin.users.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(),
        ["2090"],
        "the kept name stays restorable"
    );
    assert_eq!(
        bin.access_keys
            .iter()
            .map(|k| k.id.as_str())
            .collect::<Vec<_>>(),
        ["LTAIcibotv1"]
    );
    let plan = text(&out.stdout);
    assert!(
        plan.contains("= recycle_bin.user.2090: keep.users: glob ci-bot* (line 6)"),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keep_rule_missing_an_existing_user_makes_apply_refuse_before_any_change() {
    let emu = start(bin_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        &format!(
            "version: 1\naccount: {{id: \"{ACCOUNT}\"}}\nmanage: [users]\nkeep:\n  users:\n    - Ci-bot\n    - ci-bt\n    - bob\n    - legacy\n"
        ),
    );
    let f = f.to_str().unwrap();

    let apply = Run::new(&emu, &["apply", f, "--auto-approve"])
        .output()
        .await;
    let err = flat(&text(&apply.stderr));
    assert_eq!(code(&apply), 1, "{err}");
    assert!(err.contains("refusing to apply"), "{err}");
    for needle in [
        "keep.users: name Ci-bot (line 6) matches nothing, and the plan deletes user.ci-bot",
        "keep.users: name ci-bt (line 7) matches nothing, and the plan deletes user.ci-bot",
        "nothing was changed",
        "unmatched-keep to apply the plan as it is",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in:\n{err}");
    }
    assert!(
        mutations(&emu.log()).is_empty(),
        "refused before any mutating call: {:#?}",
        actions(&emu)
    );

    // diff shows it prominently and exits 0; with --detailed-exitcode it is an error.
    let diff = Run::new(&emu, &["diff", f]).output().await;
    assert_eq!(code(&diff), 0, "{}", text(&diff.stderr));
    let plan = text(&diff.stdout);
    assert!(
        plan.contains("Error: these keep rules match nothing, and the plan deletes what they most likely meant to keep:"),
        "{plan}"
    );
    assert!(
        plan.contains("  ! keep.users: name Ci-bot (line 6) matches nothing"),
        "{plan}"
    );
    assert!(
        text(&diff.stderr).contains("warning: 2 keep rules match nothing"),
        "{}",
        text(&diff.stderr)
    );
    let gate = Run::new(&emu, &["diff", f, "--detailed-exitcode"])
        .output()
        .await;
    assert_eq!(code(&gate), 1, "{}", text(&gate.stderr));
    assert!(
        text(&gate.stderr).contains("would refuse this plan"),
        "{}",
        text(&gate.stderr)
    );
    let json = Run::new(&emu, &["diff", f, "-o", "json"]).output().await;
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["missed_keeps"][0]["meant"], "user.ci-bot");
    assert_eq!(v["missed_keeps"][0]["line"], 6);
    assert!(mutations(&emu.log()).is_empty(), "diff never mutates");

    // The caller who says the plan is right gets it applied.
    let apply = Run::new(
        &emu,
        &["apply", f, "--auto-approve", "--allow-unmatched-keep"],
    )
    .output()
    .await;
    assert_eq!(code(&apply), 0, "{}", text(&apply.stderr));
    assert!(
        actions(&emu)
            .iter()
            .any(|a| a == "DeleteUser UserName=ci-bot"),
        "{:#?}",
        actions(&emu)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_before_never_purges_an_undated_recycled_user_and_says_why() {
    // The bin's users of the seed carry no creation date: a `created_before` rule cannot
    // tell whether it keeps them.
    let emu = start(bin_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        &format!(
            "version: 1\naccount: {{id: \"{ACCOUNT}\"}}\nmanage: [users, recycle_bin]\nrecycle_bin: purge\nkeep:\n  users: [{{created_before: \"2020-01-01\"}}]\n"
        ),
    );
    let f = f.to_str().unwrap();
    let out = Run::new(&emu, &["apply", f, "--auto-approve"])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let plan = text(&out.stdout);
    for id in ["2090", "2091"] {
        assert!(
            plan.contains(&format!("  ~ recycle_bin.user.{id}: its creation date is unknown, so keep.users: created_before 2020-01-01 (line 6) cannot tell whether it keeps it: held, never removed")),
            "{plan}"
        );
    }
    assert!(
        plan.contains("= recycle_bin.user.2091/access_key.LTAIold: its user old is held"),
        "{plan}"
    );
    let done = actions(&emu);
    // The dated users (created 2024, or dated by the account when seeded) go, for good.
    assert!(
        done.iter().any(|a| a == "DeleteUser UserName=bob"),
        "{done:#?}"
    );
    assert!(
        done.iter()
            .any(|a| a == "DeleteUserInRecycleBin UserId=2002"),
        "{done:#?}"
    );
    for held in ["2090", "2091", "LTAIold", "LTAIcibotv1"] {
        assert!(!done.iter().any(|a| a.contains(held)), "{held}: {done:#?}");
    }
    let bin = emu.snapshot().recycle_bin;
    assert!(bin.users.iter().any(|u| u.id == "2091") && bin.users.iter().any(|u| u.id == "2090"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recycle_bin_lists_users_and_keys_with_days_left_and_the_bins_usage() {
    let emu = start(bin_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    // bob goes to the bin now, with its key.
    let f = file(
        &dir,
        &format!(
            "version: 1\naccount: {{id: \"{ACCOUNT}\"}}\nmanage: [users]\nkeep:\n  users: [ci-bot, legacy]\n"
        ),
    );
    let out = Run::new(&emu, &["apply", f.to_str().unwrap(), "--auto-approve"])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let before = emu.log().len();

    let out = Run::new(&emu, &["recycle-bin"]).output().await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with(&format!(
            "Recycle bin of account {ACCOUNT}: 3 of 1,000 users\n"
        )),
        "{shown}"
    );
    assert!(shown.contains("  user bob (ID 2002): deleted "), "{shown}");
    assert!(
        shown.contains(", 30 days left\n    access key LTAIbob: deleted "),
        "{shown}"
    );
    assert!(shown.contains("  user old (ID 2091): deleted "), "{shown}");
    assert!(
        shown.contains(", 20 days left\n    access key LTAIold: deleted "),
        "{shown}"
    );

    let out = Run::new(&emu, &["recycle-bin", "-o", "json"])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["account_id"], ACCOUNT);
    assert_eq!(
        v["usage"],
        serde_json::json!({"users": 3, "capacity": 1000})
    );
    let users = v["users"].as_array().unwrap();
    let bob = users.iter().find(|u| u["name"] == "bob").unwrap();
    assert_eq!(bob["id"], "2002");
    assert_eq!(bob["days_left"], 30);
    assert_eq!(bob["access_keys"][0]["id"], "LTAIbob");
    let old = users.iter().find(|u| u["name"] == "old").unwrap();
    assert_eq!(old["days_left"], 20);
    assert_eq!(old["principal_name"], format!("old@{ACCOUNT}.onaliyun.com"));
    assert!(
        mutations(&emu.log()[before..]).is_empty(),
        "listing the bin never mutates"
    );
}

/// An unsigned JWT with the claims STS checks (the emulator cannot reach the issuer's keys).
fn github_token() -> String {
    use base64::Engine;
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    format!(
        "{}.{}.sig",
        b64(serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "ci"})),
        b64(serde_json::json!({
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "sts.aliyuncs.com",
            "sub": "repo:acme/ram-config:ref:refs/heads/main",
            "iat": now,
            "exp": now + 600,
        }))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_session_obtained_outside_ramstate_protects_its_role_and_providers() {
    let mut seed =
        ramstate::emulator::load_seed(&repo_path("examples/ci/account.yaml")).expect("the CI seed");
    let acct = seed.account.id.clone();
    let mut rd = seed.roles[0].clone();
    rd.name = "ResourceDirectoryAccountAccessRole".into();
    rd.id = "300000000000999".into();
    rd.assume_role_policy_document = Some(
        r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::1000000000000001:root"]}}]}"#
            .to_string(),
    );
    rd.policies.clear();
    seed.roles.push(rd);
    let emu = start(seed).await;

    // The session comes from STS directly, as another tool (or a CI step) would get it.
    let http = reqwest::Client::new();
    let role_arn = format!("acs:ram::{acct}:role/ramstate-plan");
    let provider_arn = format!("acs:ram::{acct}:oidc-provider/github");
    let token = github_token();
    let answer: serde_json::Value = http
        .post(emu.url())
        .form(&[
            ("Action", "AssumeRoleWithOIDC"),
            ("Version", "2015-04-01"),
            ("Format", "JSON"),
            ("RoleArn", role_arn.as_str()),
            ("OIDCProviderArn", provider_arn.as_str()),
            ("OIDCToken", token.as_str()),
            ("RoleSessionName", "outside"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let creds = &answer["Credentials"];
    let id = creds["AccessKeyId"]
        .as_str()
        .expect("a session key")
        .to_string();
    let secret = creds["AccessKeySecret"].as_str().unwrap().to_string();
    let security_token = creds["SecurityToken"].as_str().unwrap().to_string();
    let sts_calls = emu.log().len();

    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        &format!("version: 1\naccount: {{id: \"{acct}\"}}\nmanage: [roles, oidc_providers]\n"),
    );
    let mut run = Run::with_key(
        &emu,
        &id,
        &secret,
        &["diff", f.to_str().unwrap(), "-o", "json"],
    );
    run.env
        .insert("ALIBABA_CLOUD_SECURITY_TOKEN".into(), security_token);
    let out = run.output().await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let protected: Vec<(String, String)> = v["protected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["address"].as_str().unwrap().to_string(),
                p["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let addresses: Vec<&str> = protected.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        addresses,
        [
            "oidc_provider.github",
            "oidc_provider.gitlab",
            "role.ResourceDirectoryAccountAccessRole",
            "role.ramstate-plan",
        ],
        "{protected:#?}"
    );
    assert!(
        protected[0]
            .1
            .contains("the caller's role ramstate-plan trusts it"),
        "{protected:#?}"
    );
    assert_eq!(protected[3].1, "the role ramstate runs as");
    let changes: Vec<&str> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    assert!(
        changes.contains(&"role.ramstate-apply"),
        "the other role is not the caller's: {changes:?}"
    );
    for kept in [
        "role.ramstate-plan",
        "oidc_provider.github",
        "oidc_provider.gitlab",
    ] {
        assert!(
            !changes.iter().any(|c| c.starts_with(kept)),
            "{kept} in {changes:?}"
        );
    }
    // ramstate signed in with the session as given: it assumed nothing itself.
    assert!(
        !emu.log()[sts_calls..]
            .iter()
            .any(|e| e.action.starts_with("AssumeRole")),
        "ramstate did not assume a role"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_a_held_recycled_user_says_it_is_held_and_why() {
    let emu = start(bin_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let f = file(
        &dir,
        &format!(
            "version: 1\naccount: {{id: \"{ACCOUNT}\"}}\nmanage: [users, recycle_bin]\nrecycle_bin: purge\nkeep:\n  users: [{{created_before: \"2020-01-01\"}}]\n"
        ),
    );
    let out = Run::new(
        &emu,
        &["explain", f.to_str().unwrap(), "recycle_bin.user.2091"],
    )
    .output()
    .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.starts_with("recycle_bin.user.2091: held\n"),
        "{shown}"
    );
    assert!(
        shown.contains("  held         its creation date is unknown, so keep.users: created_before 2020-01-01 (line 6)"),
        "{shown}"
    );
    assert!(mutations(&emu.log()).is_empty(), "explain never mutates");
}
