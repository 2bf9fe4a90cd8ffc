//! The whole safe-removal lifecycle through the real binary against the emulator in its
//! recycle-bin delete mode: a `deactivate_first` apply switches the user off (its own key
//! is refused, its console logon reads Inactive) without deleting anything; the next plan
//! holds it until its date; after the quarantine (a second run with `quarantine_days: 0`:
//! the planner takes "now" from the wall clock, which the emulator's clock does not move)
//! it is deleted with a backup; `ramstate restore` brings it back from the bin with the
//! same ID, its keys as they were before the deactivation; and the export taken before
//! any change plans nothing — the MFA binding, which the restore reports, aside.

mod support;

use std::path::{Path, PathBuf};

use ramstate::emulator::{Emulator, LogEntry};
use ramstate::model::{Inventory, KeyStatus, LoginProfileStatus, Service, User};
use ramstate::plan::offboard::{Record, TAG_KEY, seconds};
use serde_json::Value;
use support::*;

const ACCOUNT: &str = "1234567890123456";
const PASSWORD: &str = "Restored-Logon-2026!";
const MFA: &str = "acs:ram::1234567890123456:mfa/leaver";

/// `leaver` has everything a restore must bring back, an active and an inactive key
/// (secrets known, to sign with and to look for), console logon and a bound MFA device.
fn seed() -> Inventory {
    yaml_serde::from_str(&format!(
        r#"
emulator: {{ delete_user: recycle_bin }}
account: {{ id: "{ACCOUNT}" }}
users:
  - name: keeper
    id: "2001"
  - name: leaver
    id: "2002"
    display_name: Leaver
    email: leaver@example.com
    comments: leaves in December
    tags: {{ team: platform }}
    access_keys:
      - {{ id: LTAIleaver1, secret: leaver-secret-one, status: Active }}
      - {{ id: LTAIleaver2, secret: leaver-secret-two, status: Inactive }}
    login_profile: {{ password_reset_required: true }}
    mfa_device: "{MFA}"
    groups: [dev]
    policies: [System/ReadOnlyAccess, Custom/ops-read]
groups:
  - {{ name: dev, id: g-1, comments: developers }}
policies:
  - name: ops-read
    versions:
      - {{ id: v1, is_default: true, document: '{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}}]}}' }}
virtual_mfa_devices:
  - {{ serial_number: "{MFA}", user: leaver, activate_date: "2024-02-01T00:00:00Z" }}
"#
    ))
    .unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Users managed, `keeper` kept, `leaver` offboarded the way `offboarding` says.
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

/// The binary as root, with the initial password a restored console logon needs.
async fn run(emu: &Emulator, args: &[&str]) -> (i32, String, String) {
    let mut r = Run::new(emu, args);
    r.env
        .insert("INITIAL_PASSWORD_LEAVER".into(), PASSWORD.into());
    let out = r.output().await;
    (code(&out), text(&out.stdout), text(&out.stderr))
}

/// `whoami` signed with the leaver's own active key.
async fn leaver_whoami(emu: &Emulator) -> (i32, String) {
    let out = Run::with_key(emu, "LTAIleaver1", "leaver-secret-one", &["whoami"])
        .output()
        .await;
    (code(&out), text(&out.stderr))
}

fn leaver(inv: &Inventory) -> Option<&User> {
    inv.users.iter().find(|u| u.name == "leaver")
}

fn key_statuses(u: &User) -> Vec<(String, KeyStatus)> {
    u.access_keys
        .iter()
        .map(|k| (k.id.clone(), k.status))
        .collect()
}

fn param<'a>(e: &'a LogEntry, name: &str) -> Option<&'a str> {
    e.params.get(name).map(String::as_str)
}

/// The successful calls of `action` in `log`.
fn calls<'a>(log: &'a [LogEntry], action: &str) -> Vec<&'a LogEntry> {
    log.iter()
        .filter(|e| e.action == action && e.status < 300)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deactivate_hold_delete_with_a_backup_restore_and_the_pre_deletion_export_plans_nothing() {
    let seed = seed();
    let seeded = leaver(&seed).unwrap().clone();
    let secrets: Vec<String> = seeded
        .access_keys
        .iter()
        .filter_map(|k| k.secret.clone())
        .collect();
    let emu = start(seed.clone()).await;
    let dir = tempfile::tempdir().unwrap();

    // 0. The export before any change: what the restore must get back to.
    let before = dir.path().join("before.yaml");
    let (c, _, err) = run(&emu, &["export", "--out", s(&before)]).await;
    assert_eq!(c, 0, "{err}");
    let (c, _) = leaver_whoami(&emu).await;
    assert_eq!(c, 0, "the leaver's key works before its deactivation");

    // 1. Deactivate first: console logon and the active key switched off, the time and
    //    what was Active recorded on the user, nothing deleted.
    let week = file(
        dir.path(),
        "week.yaml",
        "{deactivate_first: true, quarantine_days: 7}",
    );
    let start_1 = emu.log().len();
    let (c, out, err) = run(&emu, &["apply", s(&week), "--auto-approve"]).await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("deletable after"), "{out}");
    assert!(
        !err.contains("backup: "),
        "nothing deleted, no backup:\n{err}"
    );
    let log = emu.log();
    let run_1 = &log[start_1..];
    let deletes: Vec<&str> = run_1
        .iter()
        .filter(|e| e.action.starts_with("Delete"))
        .map(|e| e.action.as_str())
        .collect();
    assert!(deletes.is_empty(), "the deactivation deleted: {deletes:?}");
    let switched: Vec<(&str, &str)> = mutations(run_1)
        .into_iter()
        .filter(|e| e.action == "UpdateAccessKey")
        .map(|e| {
            (
                param(e, "UserAccessKeyId").unwrap(),
                param(e, "Status").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        switched,
        [("LTAIleaver1", "Inactive")],
        "only the active key"
    );
    let logon_off = calls(run_1, "UpdateLoginProfile");
    assert_eq!(logon_off.len(), 1);
    assert_eq!(logon_off[0].service, Service::Ims, "the console's switch");
    assert_eq!(param(logon_off[0], "Status"), Some("Inactive"));
    assert!(
        touched_users(run_1).iter().all(|u| u == "leaver"),
        "keeper untouched"
    );

    // The user's own key is refused by the service now.
    let (c, who) = leaver_whoami(&emu).await;
    assert_ne!(c, 0);
    assert!(who.contains("InvalidAccessKeyId.Inactive"), "{who}");
    // Its console logon reads Inactive (IMS GetLoginProfile), the profile still there.
    let start_inv = emu.log().len();
    let (c, inv, err) = run(&emu, &["inventory", "-o", "yaml"]).await;
    assert_eq!(c, 0, "{err}");
    let read = calls(&emu.log()[start_inv..], "GetLoginProfile")
        .iter()
        .any(|e| e.service == Service::Ims && param(e, "UserPrincipalName").is_some());
    assert!(read, "the login profile is read through IMS");
    let inv: Inventory = yaml_serde::from_str(&inv).unwrap();
    let off = leaver(&inv).expect("the user stays during its quarantine");
    assert_eq!(
        off.login_profile.as_ref().map(|lp| lp.status),
        Some(LoginProfileStatus::Inactive)
    );
    assert_eq!(
        key_statuses(off),
        [
            ("LTAIleaver1".to_string(), KeyStatus::Inactive),
            ("LTAIleaver2".to_string(), KeyStatus::Inactive)
        ]
    );
    let record_text = off.tags[TAG_KEY].clone();
    let record = Record::parse(&record_text).expect("a deactivation record");
    assert!(record.console_logon, "{record_text}");
    assert_eq!(record.keys, ["LTAIleaver1"], "{record_text}");

    // 2. The next plan holds it until its date: the record's time plus 7 days.
    let (c, plan, err) = run(&emu, &["diff", s(&week), "-o", "json"]).await;
    assert_eq!(c, 0, "{err}");
    let plan: Value = serde_json::from_str(&plan).unwrap();
    assert_eq!(plan["changes"], serde_json::json!([]), "{plan:#}");
    assert_eq!(plan["summary"]["held"], 1, "{plan:#}");
    let held = &plan["held"][0];
    assert_eq!(held["address"], "user.leaver");
    let deletable_after = held["deletable_after"].as_str().unwrap().to_string();
    assert_eq!(deletable_after, record.deletable_after_text(7), "{plan:#}");
    assert!(
        deletable_after > seconds(time::OffsetDateTime::now_utc()),
        "still ahead: {deletable_after}"
    );

    // 3. After the quarantine (none on this run) it is deleted, with a backup first.
    let now = file(
        dir.path(),
        "now.yaml",
        "{deactivate_first: true, quarantine_days: 0}",
    );
    let backups = dir.path().join("backups");
    let start_3 = emu.log().len();
    let (c, out, err) = run(
        &emu,
        &[
            "apply",
            s(&now),
            "--auto-approve",
            "--backup-dir",
            s(&backups),
        ],
    )
    .await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    let backup = PathBuf::from(
        err.lines()
            .find_map(|l| l.strip_prefix("backup: "))
            .unwrap_or_else(|| panic!("no `backup: PATH` line:\n{err}"))
            .trim(),
    );
    assert_eq!(backup.parent(), Some(backups.as_path()), "{err}");
    let log = emu.log();
    let run_3 = &log[start_3..];
    assert_eq!(calls(run_3, "DeleteUser").len(), 1);
    assert!(
        calls(run_3, "UpdateAccessKey").is_empty() && calls(run_3, "TagResources").is_empty(),
        "nothing left to switch off or record"
    );
    assert_unblocking_precedes_deletion(run_3);
    let gone = emu.snapshot();
    assert!(leaver(&gone).is_none());
    assert!(
        gone.recycle_bin.users.iter().any(|u| u.id == seeded.id),
        "deleted into the recycle bin"
    );
    // The backup: the user's ID and key IDs, never a secret; the keys as the deletion
    // found them (Inactive), the record that says which were Active before.
    let backup_text = std::fs::read_to_string(&backup).unwrap();
    for needle in [
        "2002",
        "LTAIleaver1",
        "LTAIleaver2",
        MFA,
        record_text.as_str(),
    ] {
        assert!(
            backup_text.contains(needle),
            "{needle} is not in the backup:\n{backup_text}"
        );
    }
    for secret in &secrets {
        assert!(
            !backup_text.contains(secret.as_str()),
            "a key secret is in the backup"
        );
    }
    let parsed = ramstate::config::parse(&backup_text, "backup.yaml").unwrap();
    let backed_up = parsed.backup.as_ref().unwrap().user("leaver").unwrap();
    assert_eq!(backed_up.id, seeded.id);
    let statuses: Vec<(&str, KeyStatus)> = backed_up
        .access_keys
        .iter()
        .map(|k| (k.id.as_str(), k.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("LTAIleaver1", KeyStatus::Inactive),
            ("LTAIleaver2", KeyStatus::Inactive)
        ]
    );

    // 4. Restore: from the bin (same ID), keys from the bin, the record's keys Active
    //    again, the record removed last; MFA reported as the user's to bind.
    let start_4 = emu.log().len();
    let (c, out, err) = run(&emu, &["restore", s(&backup), "--auto-approve"]).await;
    assert_eq!(c, 0, "stdout:\n{out}\nstderr:\n{err}");
    assert!(out.contains("The account matches"), "{out}");
    assert!(
        err.contains(&format!(
            "leaver had the MFA device {MFA}: a restore cannot bind it again"
        )) && err.contains("leaver must bind an MFA device again"),
        "{err}"
    );
    let log = emu.log();
    let run_4 = &log[start_4..];
    let users_back: Vec<&str> = calls(run_4, "RestoreUserFromRecycleBin")
        .iter()
        .map(|e| param(e, "UserId").unwrap())
        .collect();
    assert_eq!(users_back, ["2002"]);
    let mut keys_back: Vec<(&str, &str)> = calls(run_4, "RestoreAccessKeyFromRecycleBin")
        .iter()
        .map(|e| {
            (
                param(e, "UserId").unwrap(),
                param(e, "UserAccessKeyId").unwrap(),
            )
        })
        .collect();
    keys_back.sort();
    assert_eq!(
        keys_back,
        [("2002", "LTAIleaver1"), ("2002", "LTAIleaver2")]
    );
    assert!(calls(run_4, "CreateUser").is_empty(), "nobody is recreated");
    let switched_on = calls(run_4, "UpdateAccessKey")
        .into_iter()
        .find(|e| param(e, "Status") == Some("Active"))
        .expect("the key that was Active before is switched on");
    assert_eq!(param(switched_on, "UserAccessKeyId"), Some("LTAIleaver1"));
    let untag = calls(run_4, "UntagResources");
    assert_eq!(untag.len(), 1, "the record goes");
    assert_eq!(param(untag[0], "TagKey.1"), Some(TAG_KEY));
    assert!(
        switched_on.finished_ms <= untag[0].started_ms,
        "the record goes only once the key is back on"
    );

    let after = emu.snapshot();
    let back = leaver(&after).expect("restored");
    assert_eq!(back.id, seeded.id, "the same identity");
    assert_eq!(
        key_statuses(back),
        key_statuses(&seeded),
        "the keys as they were before the deactivation"
    );
    assert_eq!(
        back.login_profile.as_ref().map(|lp| lp.status),
        Some(LoginProfileStatus::Active)
    );
    assert_eq!(back.tags, seeded.tags, "no record left");
    assert_eq!(back.groups, seeded.groups);
    assert_eq!(back.mfa_device, None, "MFA is not bound by a restore");
    assert!(after.recycle_bin.users.is_empty());
    assert!(after.recycle_bin.access_keys.is_empty());
    let (c, who) = leaver_whoami(&emu).await;
    assert_eq!(c, 0, "the leaver's key works again: {who}");

    // 5. The export taken before any change plans nothing now.
    let start_5 = emu.log().len();
    let (c, shown, err) = run(&emu, &["diff", s(&before), "--detailed-exitcode"]).await;
    assert_eq!(c, 0, "{shown}\n{err}");
    assert!(shown.contains("No changes."), "{shown}");
    assert!(mutations(&emu.log()[start_5..]).is_empty());

    eprintln!(
        "lifecycle: deactivation {} call(s), 0 deletes; held until {deletable_after}; deletion {} call(s), backup {} bytes; restore {} call(s) (user {}, {} key(s) from the bin); pre-deletion export: no changes, MFA {MFA} to bind again",
        mutations(run_1).len(),
        mutations(run_3).len(),
        backup_text.len(),
        mutations(run_4).len(),
        users_back.len(),
        keys_back.len()
    );
}
