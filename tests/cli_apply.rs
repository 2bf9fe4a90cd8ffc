//! End to end through the real binary: diff and apply against an emulator on loopback, then
//! the emulator's request log and a second diff as the evidence.

mod support;

use ramstate::emulator::{self, GenerateParams};
use ramstate::model::Inventory;
use support::*;

fn account_id(seed: &Inventory) -> String {
    seed.account.id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_account_profile_leaves_only_the_in_use_service_linked_role_and_readiness_names_it() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let emu = start(seed.clone()).await;
    let profile = repo_path("examples/empty-account.yaml");
    let profile = profile.to_str().unwrap();

    let plan = Run::new(&emu, &["diff", profile, "--detailed-exitcode"])
        .output()
        .await;
    assert_eq!(code(&plan), 2, "{}", text(&plan.stderr));
    assert!(
        text(&plan.stdout).contains("to destroy"),
        "{}",
        text(&plan.stdout)
    );
    assert!(mutations(&emu.log()).is_empty(), "diff must never mutate");

    let home = tempfile::tempdir().unwrap();
    let apply = Run::new(
        &emu,
        &["apply", profile, "--auto-approve", "--account-id", &id],
    )
    .home(home.path())
    .output()
    .await;
    let out = text(&apply.stdout);
    let err = text(&apply.stderr);
    // The demo account holds one service-linked role that is still in use: the only thing
    // that cannot go, so apply reports it and does not claim convergence.
    assert_eq!(code(&apply), 1, "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("in use"), "{err}");
    assert_unblocking_precedes_deletion(&emu.log());
    assert_unbind_precedes_device_deletion(&emu.log(), &seed);

    let after = emu.snapshot();
    assert!(after.users.is_empty(), "users left: {:?}", after.users);
    assert!(after.groups.is_empty());
    assert!(after.policies.is_empty());
    assert!(after.saml_providers.is_empty() && after.oidc_providers.is_empty());
    assert!(after.virtual_mfa_devices.is_empty());
    assert!(after.applications.is_empty());
    assert!(after.recycle_bin.is_empty());
    assert_eq!(after.account.default_domain, None);
    let roles: Vec<_> = after.roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(
        roles.len(),
        1,
        "only the in-use service-linked role remains: {roles:?}"
    );
    assert!(after.roles[0].is_service_linked() && !after.roles[0].usages.is_empty());

    // A second plan has exactly one step left: the role that is still in use.
    let again = Run::new(&emu, &["diff", profile, "-o", "json"])
        .output()
        .await;
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let left: Vec<&str> = again["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call"]["action"].as_str().unwrap())
        .collect();
    assert_eq!(left, ["DeleteServiceLinkedRole"]);

    // Readiness names exactly one blocker, the in-use role, with the resources that use it
    // (from the failed deletion task apply started; readiness itself only reads).
    let before = mutations(&emu.log()).len();
    let ready = Run::new(&emu, &["readiness", "-o", "json"])
        .home(home.path())
        .output()
        .await;
    assert_eq!(code(&ready), 2, "{}", text(&ready.stderr));
    let report: serde_json::Value = serde_json::from_slice(&ready.stdout).unwrap();
    let blockers: Vec<&serde_json::Value> = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["blocking"].as_array().unwrap())
        .collect();
    assert_eq!(blockers.len(), 1, "{report:#}");
    assert_eq!(blockers[0]["name"], serde_json::json!(roles[0]));
    let ready_text = Run::new(&emu, &["readiness"])
        .home(home.path())
        .output()
        .await;
    let shown = text(&ready_text.stdout);
    for resource in ["acme-prod-logs", "acme-sg-logs", "acme-sg-audit"] {
        assert!(shown.contains(resource), "{shown}");
    }
    assert_eq!(
        mutations(&emu.log()).len(),
        before,
        "readiness never mutates"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowlist_keeps_exactly_what_it_names_and_never_touches_it() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let emu = start(seed).await;
    let profile = repo_path("examples/allowlist.yaml");
    let profile = profile.to_str().unwrap();

    let plan = Run::new(&emu, &["diff", profile, "-o", "json"])
        .output()
        .await;
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let kept: Vec<String> = plan["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["address"].as_str().unwrap().to_string())
        .collect();
    assert!(kept.contains(&"user.ci-bot".to_string()), "{kept:?}");

    let apply = Run::new(
        &emu,
        &["apply", profile, "--auto-approve", "--account-id", &id],
    )
    .output()
    .await;
    let (out, err) = (text(&apply.stdout), text(&apply.stderr));
    assert_eq!(code(&apply), 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("Apply complete"), "{out}");
    assert_unblocking_precedes_deletion(&emu.log());
    assert_kept_untouched(&emu.log(), &kept);

    let again = Run::new(&emu, &["diff", profile, "--detailed-exitcode"])
        .output()
        .await;
    let again_out = text(&again.stdout);
    assert_eq!(code(&again), 0, "{again_out}");
    assert!(again_out.contains("No changes"), "{again_out}");

    // Exactly the kept users, groups, roles and policies survive.
    let after = emu.snapshot();
    let mut survivors: Vec<String> = after
        .users
        .iter()
        .map(|u| format!("user.{}", u.name))
        .chain(after.groups.iter().map(|g| format!("group.{}", g.name)))
        .chain(
            after
                .roles
                .iter()
                .filter(|r| !r.is_service_linked()) // not managed by this profile
                .map(|r| format!("role.{}", r.name)),
        )
        .chain(after.policies.iter().map(|p| format!("policy.{}", p.name)))
        .collect();
    survivors.sort();
    let mut expected: Vec<String> = kept
        .iter()
        .filter(|a| !a.starts_with("virtual_mfa_device."))
        .cloned()
        .collect();
    expected.sort();
    assert_eq!(survivors, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_account_of_hundreds_of_entities_is_emptied_in_one_run() {
    let mut seed = emulator::generate(&GenerateParams {
        users: 150,
        groups: 30,
        roles: 60,
        policies: 80,
        seed: 11,
    });
    seed.account.id = demo_seed().account.id;
    let id = account_id(&seed);
    let emu = start(seed).await;
    let profile = repo_path("examples/empty-account.yaml");
    let profile = profile.to_str().unwrap();

    let apply = Run::new(
        &emu,
        &[
            "apply",
            profile,
            "--auto-approve",
            "--account-id",
            &id,
            "--parallelism",
            "16",
            "--qps",
            "0",
        ],
    )
    .output()
    .await;
    let err = text(&apply.stderr);
    assert!(
        code(&apply) == 0 || err.contains("in use"),
        "stdout:\n{}\nstderr:\n{err}",
        text(&apply.stdout)
    );
    assert_unblocking_precedes_deletion(&emu.log());
    let after = emu.snapshot();
    assert!(after.users.is_empty() && after.groups.is_empty() && after.policies.is_empty());
    assert!(
        after
            .roles
            .iter()
            .all(|r| r.is_service_linked() && !r.usages.is_empty())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_refuses_another_account_before_any_call_that_mutates() {
    let emu = start(demo_seed()).await;
    let profile = repo_path("examples/empty-account.yaml");
    let out = Run::new(
        &emu,
        &[
            "apply",
            profile.to_str().unwrap(),
            "--auto-approve",
            "--account-id",
            "9999999999999999",
        ],
    )
    .output()
    .await;
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains("9999999999999999"),
        "{}",
        text(&out.stderr)
    );
    assert!(mutations(&emu.log()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_asks_for_the_account_id_and_a_wrong_answer_changes_nothing() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let emu = start(seed).await;
    let profile = repo_path("examples/empty-account.yaml");
    let out = Run::new(
        &emu,
        &["apply", profile.to_str().unwrap(), "--account-id", &id],
    )
    .stdin("no\n")
    .output()
    .await;
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("Type the account ID"));
    assert!(mutations(&emu.log()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_is_refused_once_the_account_changed() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let plan_path = save_empty_account_plan(&emu, &dir).await;

    // Someone creates a user after the plan was made.
    let create = Run::new(&emu, &["whoami"]).output().await;
    assert_eq!(code(&create), 0);
    let client = ramstate_client(&emu);
    client
        .call(&ramstate::model::ApiCall::new(
            ramstate::model::Service::Ram,
            "CreateUser",
            [("UserName", "late-arrival")],
        ))
        .await
        .unwrap();
    let before = mutations(&emu.log()).len();

    let out = Run::new(
        &emu,
        &[
            "apply",
            plan_path.to_str().unwrap(),
            "--auto-approve",
            "--account-id",
            &id,
        ],
    )
    .output()
    .await;
    assert_eq!(code(&out), 1);
    assert!(text(&out.stderr).contains("stale"), "{}", text(&out.stderr));
    assert_eq!(
        mutations(&emu.log()).len(),
        before,
        "nothing may run from a stale plan"
    );
}

/// `diff examples/empty-account.yaml --out DIR/plan.json`, as the root key; the plan's path.
async fn save_empty_account_plan(
    emu: &emulator::Emulator,
    dir: &tempfile::TempDir,
) -> std::path::PathBuf {
    let plan_path = dir.path().join("plan.json");
    let profile = repo_path("examples/empty-account.yaml");
    let saved = Run::new(
        emu,
        &[
            "diff",
            profile.to_str().unwrap(),
            "--out",
            plan_path.to_str().unwrap(),
        ],
    )
    .output()
    .await;
    assert_eq!(code(&saved), 0, "{}", text(&saved.stderr));
    plan_path
}

fn ramstate_client(emu: &emulator::Emulator) -> ramstate::api::Client {
    let key = emu.root_key();
    ramstate::api::Client::new(
        ramstate::api::ClientConfig {
            endpoint: Some(emu.url().to_string()),
            ..ramstate::api::ClientConfig::default()
        },
        ramstate::api::Credentials::from_key(key.id.clone(), key.secret.clone(), None),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_as_a_ram_user_never_touches_that_user_or_its_key() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let key = ci_bot_key(&seed);
    let emu = start(seed).await;
    let profile = repo_path("examples/empty-account.yaml");
    let plan = Run::with_key(
        &emu,
        &key.id,
        key.secret.as_deref().unwrap(),
        &["diff", profile.to_str().unwrap()],
    )
    .output()
    .await;
    assert!(
        text(&plan.stdout).contains("ci-bot"),
        "{}",
        text(&plan.stdout)
    );
    assert!(text(&plan.stdout).to_lowercase().contains("protected"));

    Run::with_key(
        &emu,
        &key.id,
        key.secret.as_deref().unwrap(),
        &[
            "apply",
            profile.to_str().unwrap(),
            "--auto-approve",
            "--account-id",
            &id,
        ],
    )
    .output()
    .await;
    assert!(
        !touched_users(&emu.log()).iter().any(|u| u == "ci-bot"),
        "a mutating call targeted the caller's own user"
    );
    let after = emu.snapshot();
    let still = after
        .users
        .iter()
        .find(|u| u.name == "ci-bot")
        .expect("ci-bot survives");
    assert!(
        still
            .access_keys
            .iter()
            .any(|k| k.id == key.id && k.status == ramstate::model::KeyStatus::Active)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_converges_when_reads_lag_behind_writes() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let emu = start(seed).await;
    // Writes show up in List and Get calls only 1.3–1.5 s later, as with an eventually
    // consistent service: the verification must read again instead of failing.
    emu.set_faults(emulator::Faults::from(&ramstate::cli::FaultArgs {
        consistency_delay_ms: 1500,
        ..ramstate::cli::FaultArgs::default()
    }));
    let profile = repo_path("examples/allowlist.yaml");
    let apply = Run::new(
        &emu,
        &[
            "apply",
            profile.to_str().unwrap(),
            "--auto-approve",
            "--account-id",
            &id,
            "--qps",
            "0",
        ],
    )
    .output()
    .await;
    assert_eq!(
        code(&apply),
        0,
        "stdout:\n{}\nstderr:\n{}",
        text(&apply.stdout),
        text(&apply.stderr)
    );
    assert!(text(&apply.stdout).contains("Apply complete"));
    assert_unblocking_precedes_deletion(&emu.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_lets_running_calls_finish_and_reports_what_was_not_done() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let emu = start(seed).await;
    emu.set_faults(emulator::Faults::from(&ramstate::cli::FaultArgs {
        latency_ms: 150,
        ..ramstate::cli::FaultArgs::default()
    }));
    let profile = repo_path("examples/empty-account.yaml");
    let (url, key) = (emu.url().to_string(), emu.root_key().clone());
    let args = [
        "apply",
        profile.to_str().unwrap(),
        "--auto-approve",
        "--account-id",
        &id,
        "--parallelism",
        "2",
    ]
    .map(String::from);
    let home = tempfile::tempdir().unwrap();
    let child = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("ramstate"))
        .args(&args)
        .env("RAMSTATE_ENDPOINT", &url)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &key.id)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &key.secret)
        .env("HOME", home.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the walk has started changing things.
    for _ in 0..300 {
        if !mutations(&emu.log()).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let pid = child.id().unwrap().to_string();
    let killed = tokio::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().await.unwrap();
    let err = text(&out.stderr);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("Interrupted"), "{err}");
    assert!(err.contains("not run"), "{err}");
    assert!(
        !mutations(&emu.log()).is_empty(),
        "some steps ran before the interrupt"
    );
    assert!(
        !emu.snapshot().users.is_empty(),
        "the walk stopped before the end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_session_protects_the_key_and_user_it_is_assumed_with() {
    let seed = demo_seed();
    let key = ci_bot_key(&seed);
    let role_arn = format!("acs:ram::{}:role/deployer", seed.account.id);
    let emu = start(seed).await;
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".aliyun")).unwrap();
    std::fs::write(
        home.path().join(".aliyun/config.json"),
        serde_json::json!({"current": "deploy", "profiles": [{
            "name": "deploy", "mode": "RamRoleArn",
            "access_key_id": key.id, "access_key_secret": key.secret,
            "ram_role_arn": role_arn, "ram_session_name": "ramstate"
        }]})
        .to_string(),
    )
    .unwrap();
    let profile = repo_path("examples/empty-account.yaml");
    let mut run =
        Run::offline(&["diff", profile.to_str().unwrap(), "-o", "json"]).home(home.path());
    run.env
        .insert("RAMSTATE_ENDPOINT".into(), emu.url().to_string());
    let out = run.output().await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let protected = plan["protected"].to_string();
    assert!(protected.contains("role.deployer"), "{protected}");
    assert!(protected.contains("user.ci-bot"), "{protected}");
    for change in plan["changes"].as_array().unwrap() {
        let params = change["call"]["params"].to_string();
        assert!(
            !params.contains(&key.id) && !params.contains("\"ci-bot\""),
            "a change touches the key the role session is assumed with: {change}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_made_by_another_caller_is_refused() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let key = ci_bot_key(&seed);
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let profile = repo_path("examples/empty-account.yaml");
    // The root account plans (ci-bot is not protected in its plan)...
    let saved = Run::new(
        &emu,
        &[
            "diff",
            profile.to_str().unwrap(),
            "--out",
            plan_path.to_str().unwrap(),
        ],
    )
    .output()
    .await;
    assert_eq!(code(&saved), 0, "{}", text(&saved.stderr));
    // ...and ci-bot tries to apply that plan: it would lose its own access.
    let out = Run::with_key(
        &emu,
        &key.id,
        key.secret.as_deref().unwrap(),
        &[
            "apply",
            plan_path.to_str().unwrap(),
            "--auto-approve",
            "--account-id",
            &id,
        ],
    )
    .output()
    .await;
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains("another caller"),
        "{}",
        text(&out.stderr)
    );
    assert!(mutations(&emu.log()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_of_an_older_format_is_refused_with_a_word_to_plan_again() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let plan_path = save_empty_account_plan(&emu, &dir).await;
    // The same plan as an earlier ramstate wrote it: format 1, steps without `op`.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    doc["plan"]["format_version"] = 1.into();
    for c in doc["plan"]["changes"].as_array_mut().unwrap() {
        c.as_object_mut().unwrap().remove("op");
    }
    std::fs::write(&plan_path, doc.to_string()).unwrap();

    let out = Run::new(
        &emu,
        &[
            "apply",
            plan_path.to_str().unwrap(),
            "--auto-approve",
            "--account-id",
            &id,
        ],
    )
    .output()
    .await;
    // The message as words, whatever the width miette wrapped it to.
    let err: Vec<String> = text(&out.stderr)
        .split_whitespace()
        .filter(|w| *w != "|")
        .map(str::to_string)
        .collect();
    let err = err.join(" ");
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("plan of format 1"), "{err}");
    assert!(err.contains("ramstate diff FILE --out PLAN"), "{err}");
    assert!(
        mutations(&emu.log()).is_empty(),
        "nothing may run from an old plan"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_json_prints_one_document_with_each_steps_outcome_and_what_is_left() {
    let seed = demo_seed();
    let id = account_id(&seed);
    let emu = start(seed).await;
    let profile = repo_path("examples/allowlist.yaml");
    let out = Run::new(
        &emu,
        &[
            "apply",
            profile.to_str().unwrap(),
            "--auto-approve",
            "--account-id",
            &id,
            "-o",
            "json",
        ],
    )
    .output()
    .await;
    let stdout = text(&out.stdout);
    let doc: serde_json::Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is one JSON document ({e}):\n{stdout}"));
    // The plan to review went to stderr.
    assert!(
        text(&out.stderr).contains("Plan: 0 to add"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(doc["account_id"], id.as_str());
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(
        steps.len(),
        doc["plan"]["changes"].as_array().unwrap().len()
    );
    assert!(!steps.is_empty());
    for s in steps {
        assert!(
            s["address"].is_string() && s["call"]["action"].is_string(),
            "{s}"
        );
        assert!(s["status"].is_string(), "{s}");
    }
    let done = steps.iter().filter(|s| s["status"] == "done").count();
    assert_eq!(doc["tally"]["done"], done);
    assert_eq!(doc["converged"], code(&out) == 0);
    assert_eq!(
        doc["remaining"]["changes"].as_array().map(Vec::len),
        Some(0)
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
}
