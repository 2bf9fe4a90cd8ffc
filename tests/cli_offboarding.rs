//! Offboarding through the real binary against the emulator: deactivate first, the
//! quarantine, the idle guard, reactivation, and a deactivation stopped halfway.

mod support;

use std::path::{Path, PathBuf};

use ramstate::emulator::Emulator;
use ramstate::model::{Inventory, KeyStatus, LoginProfileStatus, User};
use serde_json::Value;
use support::*;
use time::{Duration, OffsetDateTime};

const ACCOUNT: &str = "1234567890123456";
const TAG: &str = "ramstate:deactivated";

/// An RFC 3339 time `days` before now (to the second, as the API prints times).
fn days_ago(days: i64) -> String {
    let t = OffsetDateTime::now_utc() - Duration::days(days);
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

/// `leaver` signs with its own key and logs on to the console; `keeper` stays.
fn seed(leaver: &str) -> Inventory {
    yaml_serde::from_str(&format!(
        r#"
account: {{id: "{ACCOUNT}"}}
users:
  - name: keeper
    id: "2001"
{leaver}
"#
    ))
    .unwrap()
}

const LEAVER: &str = r#"
  - name: leaver
    id: "2002"
    access_keys:
      - {id: LTAIleaver1, secret: leaver-secret, status: Active}
      - {id: LTAIleaver2, status: Inactive}
    login_profile: {}
"#;

fn file(dir: &Path, name: &str, offboarding: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "version: 1\naccount: {{id: \"{ACCOUNT}\"}}\nmanage: [users]\nkeep:\n  users: [keeper]\noffboarding: {offboarding}\n"
        ),
    )
    .unwrap();
    path
}

fn user<'a>(inv: &'a Inventory, name: &str) -> Option<&'a User> {
    inv.users.iter().find(|u| u.name == name)
}

fn key_status(u: &User, id: &str) -> KeyStatus {
    u.access_keys.iter().find(|k| k.id == id).unwrap().status
}

async fn run(emu: &Emulator, args: &[&str]) -> (i32, String, String) {
    let out = Run::new(emu, args).output().await;
    (code(&out), text(&out.stdout), text(&out.stderr))
}

async fn apply(emu: &Emulator, path: &Path, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["apply", path.to_str().unwrap(), "--auto-approve"];
    args.extend_from_slice(extra);
    run(emu, &args).await
}

async fn plan_json(emu: &Emulator, path: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["diff", path.to_str().unwrap(), "-o", "json"];
    args.extend_from_slice(extra);
    let (c, out, err) = run(emu, &args).await;
    assert_eq!(c, 0, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn actions(plan: &Value) -> Vec<String> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["call"]["action"].as_str().unwrap().to_string())
        .collect()
}

fn user_mutations(emu: &Emulator, name: &str) -> Vec<String> {
    mutations(&emu.log())
        .into_iter()
        .filter(|e| {
            e.params.values().any(|v| {
                v == name || v.starts_with(&format!("{name}@")) || v.starts_with("LTAIleaver")
            })
        })
        .map(|e| e.action.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_first_switches_the_user_off_holds_it_through_the_quarantine_then_deletes_it() {
    let emu = start(seed(LEAVER)).await;
    let dir = tempfile::tempdir().unwrap();
    let week = file(dir.path(), "week.yaml", "{deactivate_first: true}");

    let (c, out, err) = apply(&emu, &week, &[]).await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("deletable after"), "{out}");

    // The user's own key is refused by the service now.
    let who = Run::with_key(&emu, "LTAIleaver1", "leaver-secret", &["whoami"])
        .output()
        .await;
    assert_ne!(code(&who), 0);
    assert!(
        text(&who.stderr).contains("InvalidAccessKeyId.Inactive"),
        "{}",
        text(&who.stderr)
    );
    // Console logon is switched off through IMS, not deleted; the inventory reads it back
    // (IMS GetLoginProfile) as Inactive.
    let log = emu.log();
    assert!(log.iter().any(|e| e.action == "UpdateLoginProfile"
        && e.params.get("Status").map(String::as_str) == Some("Inactive")
        && e.status < 300));
    assert!(!log.iter().any(|e| e.action == "DeleteLoginProfile"));
    assert!(!log.iter().any(|e| e.action == "DeleteUser"));
    let (c, inv, err) = run(&emu, &["inventory", "-o", "yaml"]).await;
    assert_eq!(c, 0, "{err}");
    let inv: Inventory = yaml_serde::from_str(&inv).unwrap();
    let leaver = user(&inv, "leaver").expect("the user stays during the quarantine");
    assert_eq!(
        leaver.login_profile.as_ref().unwrap().status,
        LoginProfileStatus::Inactive
    );
    assert_eq!(key_status(leaver, "LTAIleaver1"), KeyStatus::Inactive);
    // The record names what was Active: the console and the first key, not the second.
    let record = &leaver.tags[TAG];
    assert!(
        record.ends_with(" console LTAIleaver1"),
        "{TAG} = {record:?}"
    );

    // The next plan holds it, with the date it becomes deletable.
    let held = plan_json(&emu, &week, &[]).await;
    assert!(actions(&held).is_empty(), "{held:#}");
    assert_eq!(held["held"][0]["address"], "user.leaver");
    assert!(held["held"][0]["deletable_after"].is_string(), "{held:#}");
    assert_eq!(held["summary"]["held"], 1);
    let (_, text_plan, _) = run(&emu, &["diff", week.to_str().unwrap()]).await;
    assert!(
        text_plan.contains("Held (not kept, not removed yet) (1):"),
        "{text_plan}"
    );
    assert!(text_plan.contains("deletable_after = "), "{text_plan}");

    // With no quarantine, a second apply deletes it: nothing to switch off any more.
    let now = file(
        dir.path(),
        "now.yaml",
        "{deactivate_first: true, quarantine_days: 0}",
    );
    let before = emu.log().len();
    let (c, out, err) = apply(&emu, &now, &[]).await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(user(&emu.snapshot(), "leaver").is_none());
    let second: Vec<String> = emu.log()[before..]
        .iter()
        .filter(|e| is_mutating(&e.action))
        .map(|e| e.action.clone())
        .collect();
    assert!(
        !second.contains(&"UpdateAccessKey".to_string()),
        "{second:?}"
    );
    assert!(second.contains(&"DeleteUser".to_string()), "{second:?}");
    assert!(user(&emu.snapshot(), "keeper").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_used_during_the_quarantine_holds_the_deletion() {
    let leaver = format!(
        r#"
  - name: leaver
    id: "2002"
    tags: {{"{TAG}": "{} LTAIleaver1"}}
    access_keys:
      - {{id: LTAIleaver1, status: Inactive, last_used_date: "{}"}}
"#,
        days_ago(10),
        days_ago(8)
    );
    let emu = start(seed(&leaver)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "f.yaml",
        "{deactivate_first: true, quarantine_days: 7}",
    );

    let plan = plan_json(&emu, &path, &[]).await;
    assert!(actions(&plan).is_empty(), "{plan:#}");
    let reason = plan["held"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("key LTAIleaver1 used 2 days after deactivation"),
        "{reason}"
    );
    let (c, _, err) = apply(&emu, &path, &[]).await;
    assert_eq!(c, 0, "{err}");
    assert!(user_mutations(&emu, "leaver").is_empty());
    assert!(user(&emu.snapshot(), "leaver").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_used_within_min_idle_days_is_held_until_the_guard_is_ignored() {
    // One instant for the seed and the assertion: computed twice, a second may pass.
    let used = days_ago(3);
    let leaver = format!(
        r#"
  - name: leaver
    id: "2002"
    access_keys:
      - {{id: LTAIleaver1, status: Active, last_used_date: "{used}"}}
"#
    );
    let emu = start(seed(&leaver)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "f.yaml", "{min_idle_days: 30}");

    let plan = plan_json(&emu, &path, &[]).await;
    assert!(actions(&plan).is_empty(), "{plan:#}");
    assert_eq!(plan["held"][0]["address"], "user.leaver");
    assert_eq!(plan["held"][0]["last_used"], used.as_str());
    let (c, why, err) = run(&emu, &["explain", path.to_str().unwrap(), "user.leaver"]).await;
    assert_eq!(c, 0, "{err}");
    assert!(why.starts_with("user.leaver: held\n"), "{why}");
    assert!(
        why.contains("  held         used within 30 days: key LTAIleaver1 used "),
        "{why}"
    );
    let (c, out, err) = apply(&emu, &path, &[]).await;
    assert_eq!(c, 0, "{err}");
    assert!(out.contains("1 held"), "{out}");
    assert!(user_mutations(&emu, "leaver").is_empty());

    let plan = plan_json(&emu, &path, &["--ignore-idle-guard"]).await;
    assert!(plan.get("held").is_none(), "{plan:#}");
    let (c, out, err) = apply(&emu, &path, &["--ignore-idle-guard"]).await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("ignored by --ignore-idle-guard"), "{out}");
    assert!(user(&emu.snapshot(), "leaver").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivated_user_kept_again_gets_back_exactly_what_was_active() {
    // The record names the console and LTAIleaver1; LTAIleaver2 was Inactive before.
    let leaver = format!(
        r#"
  - name: leaver
    id: "2002"
    tags: {{"{TAG}": "{} console LTAIleaver1", team: ops}}
    access_keys:
      - {{id: LTAIleaver1, secret: leaver-secret, status: Inactive}}
      - {{id: LTAIleaver2, status: Inactive}}
    login_profile: {{status: Inactive}}
"#,
        days_ago(2)
    );
    let emu = start(seed(&leaver)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keep.yaml");
    std::fs::write(
        &path,
        format!("version: 1\naccount: {{id: \"{ACCOUNT}\"}}\nmanage: [users]\nkeep:\n  users: [keeper, leaver]\noffboarding: {{deactivate_first: true}}\n"),
    )
    .unwrap();

    let (c, out, err) = apply(&emu, &path, &[]).await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    let after = emu.snapshot();
    let u = user(&after, "leaver").unwrap();
    assert_eq!(key_status(u, "LTAIleaver1"), KeyStatus::Active);
    assert_eq!(key_status(u, "LTAIleaver2"), KeyStatus::Inactive);
    assert_eq!(
        u.login_profile.as_ref().unwrap().status,
        LoginProfileStatus::Active
    );
    assert!(!u.tags.contains_key(TAG), "{:?}", u.tags);
    assert_eq!(u.tags.get("team").map(String::as_str), Some("ops"));
    // The key works again.
    let who = Run::with_key(&emu, "LTAIleaver1", "leaver-secret", &["whoami"])
        .output()
        .await;
    assert_eq!(code(&who), 0, "{}", text(&who.stderr));
    // And the account now matches.
    let plan = plan_json(&emu, &path, &[]).await;
    assert!(actions(&plan).is_empty(), "{plan:#}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deactivation_stopped_after_its_record_is_finished_by_the_next_run_with_the_first_date() {
    // What a run killed between the record and the switches leaves behind.
    let recorded = format!("{} console LTAIleaver1", days_ago(1));
    let leaver = format!(
        r#"
  - name: leaver
    id: "2002"
    tags: {{"{TAG}": "{recorded}"}}
    access_keys:
      - {{id: LTAIleaver1, secret: leaver-secret, status: Active}}
    login_profile: {{}}
"#
    );
    let emu = start(seed(&leaver)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = file(
        dir.path(),
        "f.yaml",
        "{deactivate_first: true, quarantine_days: 0}",
    );

    let plan = plan_json(&emu, &path, &[]).await;
    assert_eq!(
        actions(&plan),
        ["UpdateAccessKey", "UpdateLoginProfile"],
        "finished, not recorded again and not deleted: {plan:#}"
    );
    let (c, out, err) = apply(&emu, &path, &[]).await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    let after = emu.snapshot();
    let u = user(&after, "leaver").unwrap();
    assert_eq!(key_status(u, "LTAIleaver1"), KeyStatus::Inactive);
    assert_eq!(
        u.login_profile.as_ref().unwrap().status,
        LoginProfileStatus::Inactive
    );
    assert_eq!(u.tags[TAG], recorded, "the first date stays");
    assert!(!emu.log().iter().any(|e| e.action == "TagResources"));
    // Its quarantine (none) counts from the first date: the next run deletes it.
    let (c, _, err) = apply(&emu, &path, &[]).await;
    assert_eq!(c, 0, "{err}");
    assert!(user(&emu.snapshot(), "leaver").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_with_a_deactivation_applies_at_its_own_time() {
    let emu = start(seed(LEAVER)).await;
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "f.yaml", "{deactivate_first: true}");
    let saved = dir.path().join("plan.json");
    let (c, _, err) = run(
        &emu,
        &[
            "diff",
            path.to_str().unwrap(),
            "--out",
            saved.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(c, 0, "{err}");
    let (c, out, err) = run(&emu, &["apply", saved.to_str().unwrap(), "--auto-approve"]).await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&saved).unwrap()).unwrap();
    let at = saved["plan"]["planned_at"].as_str().unwrap();
    let after = emu.snapshot();
    let tag = &user(&after, "leaver").unwrap().tags[TAG];
    assert!(
        tag.starts_with(at),
        "{tag} was recorded at the plan's time {at}"
    );
}
