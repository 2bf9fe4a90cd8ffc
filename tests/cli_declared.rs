//! Declared resources end to end through the real binary: created from nothing, updated
//! the API's way and only where they differ, mixed with deletions in one run, under
//! faults; the request log and a second diff are the evidence.

mod support;

use ramstate::emulator::{self, EmulatorConfig, Faults, LogEntry};
use ramstate::model::{Inventory, PolicyRef};
use support::*;

const ACCOUNT: &str = "5123456789012345";
const PASSWORD: &str = "Initial-Passw0rd-4-ana";

fn empty_account() -> Inventory {
    let mut inv = Inventory::default();
    inv.account.id = ACCOUNT.into();
    inv
}

fn example() -> String {
    std::fs::read_to_string(repo_path("examples/declared.yaml")).unwrap()
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

async fn apply(emu: &emulator::Emulator, file: &str) -> std::process::Output {
    let mut run = Run::new(emu, &["apply", file, "--auto-approve"]);
    run.env
        .insert("ANA_INITIAL_PASSWORD".into(), PASSWORD.into());
    run.output().await
}

async fn diff_code(emu: &emulator::Emulator, file: &str) -> (i32, String) {
    let out = Run::new(emu, &["diff", file, "--detailed-exitcode"])
        .output()
        .await;
    (code(&out), text(&out.stdout))
}

/// Successful mutating calls since `mark`, as `Action` names.
fn actions_since(emu: &emulator::Emulator, mark: usize) -> Vec<String> {
    mutations(&emu.log()[mark..])
        .iter()
        .map(|e| e.action.clone())
        .collect()
}

fn position(log: &[&LogEntry], action: &str, param: (&str, &str)) -> usize {
    log.iter()
        .position(|e| {
            e.action == action && e.params.get(param.0).map(String::as_str) == Some(param.1)
        })
        .unwrap_or_else(|| panic!("no {action} with {param:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_declared_example_is_created_in_an_empty_account_and_then_matches() {
    let emu = start(empty_account()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "declared.yaml", &example());
    let out = apply(&emu, &file).await;
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(code(&out), 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Plan: 16 to add, 6 to change, 0 to destroy."),
        "{stdout}"
    );
    assert!(stdout.contains("Apply complete"), "{stdout}");
    assert!(!stdout.contains(PASSWORD) && !stderr.contains(PASSWORD));
    assert!(
        stdout.contains("Password=$ANA_INITIAL_PASSWORD"),
        "the plan says where the password comes from"
    );
    assert_eq!(
        diff_code(&emu, &file).await.0,
        0,
        "a second diff finds nothing to do"
    );

    // What the account holds now is exactly what the file declares.
    let inv = emu.snapshot();
    let bot = inv.users.iter().find(|u| u.name == "ci-bot").unwrap();
    assert_eq!(bot.display_name.as_deref(), Some("CI bot"));
    assert_eq!(bot.tags.get("team").map(String::as_str), Some("platform"));
    assert_eq!(bot.groups, ["platform-ci"]);
    assert_eq!(bot.policies, [PolicyRef::custom("assume-deployer")]);
    assert!(bot.login_profile.is_none());
    let ana = inv.users.iter().find(|u| u.name == "ana").unwrap();
    let profile = ana
        .login_profile
        .as_ref()
        .expect("ana logs on to the console");
    assert!(profile.mfa_bind_required && profile.password_reset_required);
    assert_eq!(ana.groups, ["platform-engineers"]);
    let engineers = inv
        .groups
        .iter()
        .find(|g| g.name == "platform-engineers")
        .unwrap();
    let mut policies = engineers.policies.clone();
    policies.sort();
    assert_eq!(
        policies,
        [
            PolicyRef::system("ReadOnlyAccess"),
            PolicyRef::custom("logs-read")
        ]
    );
    let deployer = inv.roles.iter().find(|r| r.name == "deployer").unwrap();
    let trust: serde_json::Value =
        serde_json::from_str(deployer.assume_role_policy_document.as_deref().unwrap()).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"]["RAM"][0],
        "acs:ram::5123456789012345:user/ci-bot"
    );
    assert_eq!(deployer.policies, [PolicyRef::custom("deploy-ecs")]);
    let mut names: Vec<&str> = inv.policies.iter().map(|p| p.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["assume-deployer", "deploy-ecs", "logs-read"]);
    assert_eq!(inv.oidc_providers[0].client_ids, ["sts.aliyuncs.com"]);
    assert_eq!(inv.account.alias.as_deref(), Some("acme-platform"));
    let policy = inv
        .account
        .password_policy
        .as_ref()
        .expect("a password policy");
    assert_eq!(policy.minimum_password_length, 12);
    assert!(policy.require_symbols && policy.max_password_age == 90);
    let pref = inv
        .account
        .security_preference
        .as_ref()
        .expect("a security preference");
    assert_eq!(pref.login_session_duration, 8);
    assert!(!pref.allow_user_to_manage_access_keys);

    // Creation order: what a step needs was made before it.
    let log = emu.log();
    let done = mutations(&log);
    let user = position(&done, "CreateUser", ("UserName", "ana"));
    let group = position(&done, "CreateGroup", ("GroupName", "platform-engineers"));
    let member = position(&done, "AddUserToGroup", ("UserName", "ana"));
    let profile = position(&done, "CreateLoginProfile", ("UserName", "ana"));
    let policy = position(&done, "CreatePolicy", ("PolicyName", "deploy-ecs"));
    let role = position(&done, "CreateRole", ("RoleName", "deployer"));
    let attach = position(&done, "AttachPolicyToRole", ("RoleName", "deployer"));
    assert!(done[user].finished_ms <= done[member].started_ms);
    assert!(done[group].finished_ms <= done[member].started_ms);
    assert!(done[user].finished_ms <= done[profile].started_ms);
    assert!(done[policy].finished_ms <= done[attach].started_ms);
    assert!(done[role].finished_ms <= done[attach].started_ms);
    // The password reached the API and no log.
    assert!(log.iter().all(|e| e.params.values().all(|v| v != PASSWORD)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_profile_to_create_without_its_password_variable_stops_apply_before_any_change() {
    let emu = start(empty_account()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "declared.yaml", &example());
    // No client-side rate limit: the faults, not the default 50 calls/s, set the pace.
    let out = Run::new(&emu, &["apply", &file, "--auto-approve", "--qps", "0"])
        .output()
        .await;
    let err = text(&out.stderr);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("ANA_INITIAL_PASSWORD"), "{err}");
    assert!(mutations(&emu.log()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn updates_call_only_what_differs_and_a_reformatted_document_changes_nothing() {
    let emu = start(empty_account()).await;
    let dir = tempfile::tempdir().unwrap();
    let original = example();
    let file = write(&dir, "declared.yaml", &original);
    assert_eq!(code(&apply(&emu, &file).await), 0);

    let cases: [(&str, String, &[&str]); 4] = [
        (
            "the same document, keys reordered, spaced out, one-element lists",
            original.replace(
                r#"'{"Version":"1","Statement":[{"Effect":"Allow","Action":["log:Get*","log:List*"],"Resource":"acs:log:*:*:project/platform-*"}]}'"#,
                r#"'{ "Statement": { "Resource": ["acs:log:*:*:project/platform-*"], "Action": ["log:Get*", "log:List*"], "Effect": "Allow" }, "Version": "1" }'"#,
            ),
            &[],
        ),
        (
            "a changed policy document",
            original.replace(r#""log:List*"]"#, r#""log:List*", "log:Pull*"]"#),
            &["CreatePolicyVersion"],
        ),
        (
            "a changed trust policy",
            original.replace("user/ci-bot\"]", "user/ci-bot\", \"acs:ram::5123456789012345:user/ana\"]"),
            &["UpdateRole"],
        ),
        (
            "a changed display name",
            original.replace("display_name: CI bot", "display_name: Deploy bot"),
            &["UpdateUser"],
        ),
    ];
    for (what, text, want) in cases {
        assert_ne!(text, original, "{what}: the edit applies");
        let f = write(&dir, "edited.yaml", &text);
        let mark = emu.log().len();
        let out = apply(&emu, &f).await;
        assert_eq!(code(&out), 0, "{what}: {}", support::text(&out.stderr));
        assert_eq!(actions_since(&emu, mark), want, "{what}");
        assert_eq!(diff_code(&emu, &f).await.0, 0, "{what}: converged");
        // Back to the original for the next case.
        assert_eq!(code(&apply(&emu, &file).await), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_at_the_version_cap_loses_its_oldest_non_default_version_first() {
    let seed: Inventory = yaml_serde::from_str(&format!(
        r#"
account: {{id: "{ACCOUNT}"}}
policies:
  - name: capped
    versions:
      - {{id: v1, document: '{{"Version":"1","Statement":[]}}'}}
      - {{id: v2, document: '{{"Version":"1","Statement":[]}}'}}
      - {{id: v3, is_default: true, document: '{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"oss:Get*","Resource":"*"}}]}}'}}
      - {{id: v4, document: '{{"Version":"1","Statement":[]}}'}}
      - {{id: v5, document: '{{"Version":"1","Statement":[]}}'}}
"#
    ))
    .unwrap();
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "capped.yaml",
        r#"version: 1
account: { id: "5123456789012345" }
manage: []
resources:
  policies:
    - name: capped
      document: { Version: "1", Statement: [{ Effect: Allow, Action: "oss:List*", Resource: "*" }] }
"#,
    );
    let plan = Run::new(&emu, &["diff", &file]).output().await;
    let shown = text(&plan.stdout);
    assert!(
        shown.contains("- delete policy.capped/version.v1"),
        "{shown}"
    );
    assert!(shown.contains("5 versions, the most RAM keeps"), "{shown}");
    assert!(
        shown.contains(r#"-     "Action": "oss:Get*","#)
            && shown.contains(r#"+     "Action": "oss:List*","#),
        "{shown}"
    );
    let out = apply(&emu, &file).await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let log = emu.log();
    let done = mutations(&log);
    let actions: Vec<&str> = done.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["DeletePolicyVersion", "CreatePolicyVersion"]);
    assert_eq!(done[0].params["VersionId"], "v1");
    assert_eq!(done[1].params["SetAsDefault"], "true");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_plan_creates_updates_and_deletes_in_one_run_in_a_safe_order() {
    let seed = demo_seed();
    let id = seed.account.id.clone();
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    // Users are managed: the declared ones stay (and change), a new one comes, the rest go.
    let file = write(
        &dir,
        "mixed.yaml",
        &format!(
            r#"version: 1
account: {{ id: "{id}" }}
manage: [users]
resources:
  users:
    - name: ci-bot
      display_name: CI bot
    - name: newcomer
      groups: [platform]
      policies: [System/ReadOnlyAccess]
"#
        ),
    );
    let plan = Run::new(&emu, &["diff", &file]).output().await;
    assert_eq!(code(&plan), 0, "{}", text(&plan.stderr));
    let shown = text(&plan.stdout);
    insta::assert_snapshot!("mixed_plan", shown);
    assert!(shown.contains("+ create user.newcomer"), "{shown}");
    assert!(shown.contains("~ update user.ci-bot"), "{shown}");
    assert!(shown.contains("- delete user.alice"), "{shown}");
    let out = apply(&emu, &file).await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(diff_code(&emu, &file).await.0, 0);
    let log = emu.log();
    assert_unblocking_precedes_deletion(&log);
    let done = mutations(&log);
    let create = position(&done, "CreateUser", ("UserName", "newcomer"));
    let join = position(&done, "AddUserToGroup", ("UserName", "newcomer"));
    assert!(done[create].finished_ms <= done[join].started_ms);
    let inv = emu.snapshot();
    let mut users: Vec<&str> = inv.users.iter().map(|u| u.name.as_str()).collect();
    users.sort();
    assert_eq!(users, ["ci-bot", "newcomer"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reference_to_nothing_is_refused_at_its_line_before_any_call_that_mutates() {
    let emu = start(empty_account()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir,
        "refs.yaml",
        r#"version: 1
account: { id: "5123456789012345" }
manage: []
resources:
  groups:
    - name: dev
      members: [nobody]
      policies: [System/NoSuchPolicy]
"#,
    );
    for args in [
        vec!["diff", file.as_str()],
        vec!["apply", file.as_str(), "--auto-approve"],
    ] {
        let out = Run::new(&emu, &args).output().await;
        let err = text(&out.stderr);
        assert_eq!(code(&out), 1, "{args:?}: {err}");
        assert!(err.contains("line 7") && err.contains("`nobody`"), "{err}");
        assert!(
            err.contains("line 8") && err.contains("NoSuchPolicy"),
            "{err}"
        );
    }
    assert!(mutations(&emu.log()).is_empty());
}

/// Hundreds of declared users and groups under dropped connections and server errors:
/// one apply converges, and no create is sent again after it took effect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_hundreds_of_declared_resources_under_faults_converges_without_duplicates() {
    let emu = emulator::start(EmulatorConfig {
        seed: empty_account(),
        faults: Faults {
            drop_rate: 0.05,
            error_rate: 0.05,
            seed: 11,
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap();
    let mut text_ = String::from(
        "version: 1\naccount: { id: \"5123456789012345\" }\nmanage: []\nresources:\n  groups:\n",
    );
    for g in 0..20 {
        text_.push_str(&format!("    - {{ name: team-{g}, comments: Team {g} }}\n"));
    }
    text_.push_str("  users:\n");
    for u in 0..200 {
        text_.push_str(&format!(
            "    - {{ name: user-{u}, display_name: User {u}, groups: [team-{}], policies: [System/ReadOnlyAccess] }}\n",
            u % 20
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(&dir, "many.yaml", &text_);
    // No client-side rate limit: the faults, not the default 50 calls/s, set the pace.
    let out = Run::new(&emu, &["apply", &file, "--auto-approve", "--qps", "0"])
        .output()
        .await;
    assert_eq!(
        code(&out),
        0,
        "{}",
        text(&out.stderr)
            .lines()
            .rev()
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let log = emu.log();
    let faults = log
        .iter()
        .filter(|e| e.status == 0 || e.status >= 500)
        .count();
    assert!(faults > 20, "faults were injected: {faults}");
    // A dropped answer may hide a create that took effect: it was read back, not sent
    // blindly again; an `EntityAlreadyExists` only ever follows such an uncertain attempt.
    let creates = |name: &str| -> Vec<&LogEntry> {
        log.iter()
            .filter(|e| e.action == "CreateUser" && e.params["UserName"] == name)
            .collect()
    };
    for u in 0..200 {
        let tries = creates(&format!("user-{u}"));
        let ok = tries.iter().filter(|e| e.status == 200).count();
        assert!(ok <= 1, "user-{u} created {ok} times");
        for (i, e) in tries.iter().enumerate() {
            if e.code
                .as_deref()
                .is_some_and(|c| c.starts_with("EntityAlreadyExists"))
            {
                assert!(i > 0 && tries[..i].iter().any(|t| t.status == 0 || t.status >= 500));
            }
        }
    }
    let inv = emu.snapshot();
    assert_eq!(inv.users.len(), 200);
    assert!(
        inv.users
            .iter()
            .all(|u| u.groups.len() == 1 && u.policies.len() == 1)
    );
    let first = mutations(&log).first().map_or(0, |e| e.started_ms);
    let last = mutations(&log).last().map_or(0, |e| e.finished_ms);
    eprintln!(
        "200 users, 20 groups, 400 memberships and attachments under faults: {faults} faulty answers, {} calls, converged; mutations from {first} to {last} ms, log ends at {} ms",
        log.len(),
        log.last().map_or(0, |e| e.finished_ms)
    );
}
