//! Backup before delete and `ramstate restore`, through the binary against the emulator:
//! an apply that deletes writes a backup (and refuses to start when it cannot), and a
//! restore of it brings the account back to what a pre-deletion export declares, from the
//! recycle bin when the user is there and recreated when not; a second restore is a no-op.

mod support;

use std::path::{Path, PathBuf};

use ramstate::emulator::Emulator;
use ramstate::model::{Inventory, KeyStatus, LoginProfile, LoginProfileStatus};
use support::*;

const ACCOUNT: &str = "1234567890123456";
const PASSWORD: &str = "Restored-Logon-2026!";

/// Two users with everything a restore must bring back; `alice` has an MFA device.
fn seed(recycle_bin: bool) -> Inventory {
    let mode = if recycle_bin {
        "emulator: { delete_user: recycle_bin }\n"
    } else {
        ""
    };
    yaml_serde::from_str(&format!(
        r#"{mode}
account: {{ id: "{ACCOUNT}" }}
users:
  - name: alice
    id: "2001"
    display_name: Alice
    email: alice@example.com
    comments: platform lead
    tags: {{ team: platform }}
    access_keys:
      - {{ id: LTAIalice1, secret: alice-secret-one, status: Active }}
      - {{ id: LTAIalice2, secret: alice-secret-two, status: Inactive }}
    login_profile: {{ password_reset_required: true, mfa_bind_required: true }}
    mfa_device: "acs:ram::{ACCOUNT}:mfa/alice"
    groups: [dev]
    policies: [System/ReadOnlyAccess, Custom/ops-read]
  - name: bob
    id: "2002"
    display_name: Bob
    access_keys:
      - {{ id: LTAIbob1, secret: bob-secret-one, status: Active }}
    groups: [dev]
groups:
  - {{ name: dev, id: g-1, comments: developers }}
policies:
  - name: ops-read
    versions:
      - {{ id: v1, is_default: true, document: '{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}}]}}' }}
virtual_mfa_devices:
  - {{ serial_number: "acs:ram::{ACCOUNT}:mfa/alice", user: alice, activate_date: "2024-02-01T00:00:00Z" }}
"#
    ))
    .unwrap()
}

/// Deletes every user (groups, policies and devices stay).
const DELETE_USERS: &str = "version: 1\naccount: { id: \"1234567890123456\" }\nmanage: [users]\n";

fn secrets(seed: &Inventory) -> Vec<String> {
    seed.users
        .iter()
        .flat_map(|u| &u.access_keys)
        .filter_map(|k| k.secret.clone())
        .collect()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The path after `backup: ` on stderr.
fn backup_path(stderr: &str) -> PathBuf {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("backup: "))
        .unwrap_or_else(|| panic!("no `backup: PATH` line:\n{stderr}"));
    PathBuf::from(line.trim())
}

struct Setup {
    emu: Emulator,
    dir: tempfile::TempDir,
    /// `ramstate export` of the account before the deletion.
    before: PathBuf,
    /// The backup the deleting apply wrote.
    backup: PathBuf,
}

/// Exports the account, then deletes every user with a backup into the work directory.
async fn export_then_delete(seed: Inventory) -> Setup {
    let emu = start(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.yaml");
    let out = Run::new(&emu, &["export", "--out", s(&before)])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let file = dir.path().join("delete.yaml");
    std::fs::write(&file, DELETE_USERS).unwrap();
    let backups = dir.path().join("backups");
    let out = Run::new(
        &emu,
        &[
            "apply",
            s(&file),
            "--auto-approve",
            "--backup-dir",
            s(&backups),
        ],
    )
    .output()
    .await;
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{}\n{err}", text(&out.stdout));
    assert!(emu.snapshot().users.is_empty(), "every user is deleted");
    let backup = backup_path(&err);
    assert_eq!(backup.parent(), Some(backups.as_path()), "{err}");
    Setup {
        emu,
        dir,
        before,
        backup,
    }
}

async fn restore(setup: &Setup, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["restore", s(&setup.backup), "--auto-approve"];
    args.extend_from_slice(extra);
    let mut run = Run::new(&setup.emu, &args);
    run.env
        .insert("INITIAL_PASSWORD_ALICE".into(), PASSWORD.into());
    run.env
        .insert("INITIAL_PASSWORD_BOB".into(), PASSWORD.into());
    run.output().await
}

/// `ramstate diff --detailed-exitcode` of the pre-deletion export: 0 and no changes.
async fn export_plans_nothing(setup: &Setup) {
    let out = Run::new(
        &setup.emu,
        &["diff", s(&setup.before), "--detailed-exitcode"],
    )
    .output()
    .await;
    let shown = text(&out.stdout);
    assert_eq!(code(&out), 0, "{shown}\n{}", text(&out.stderr));
    assert!(shown.contains("No changes."), "{shown}");
}

fn key_status(inv: &Inventory, user: &str, key: &str) -> Option<KeyStatus> {
    inv.users
        .iter()
        .find(|u| u.name == user)?
        .access_keys
        .iter()
        .find(|k| k.id == key)
        .map(|k| k.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_the_empty_account_profile_writes_a_private_backup_without_a_secret() {
    let seed = demo_seed();
    let emu = start(seed.clone()).await;
    let state = tempfile::tempdir().unwrap();
    let profile = repo_path("examples/empty-account.yaml");
    let mut run = Run::new(&emu, &["apply", s(&profile), "--auto-approve"]);
    run.env
        .insert("XDG_STATE_HOME".into(), s(state.path()).to_string());
    let out = run.output().await;
    let err = text(&out.stderr);
    let path = backup_path(&err);
    let dir = state.path().join("ramstate/backups").join(&seed.account.id);
    assert_eq!(path.parent(), Some(dir.as_path()), "{err}");
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.ends_with("Z.yaml") && name.starts_with("20"),
        "named by its UTC time: {name}"
    );

    let backup = std::fs::read_to_string(&path).unwrap();
    let d = ramstate::config::parse(&backup, "backup.yaml").unwrap_or_else(|e| panic!("{e:?}"));
    assert!(d.managed.is_empty(), "a backup manages nothing:\n{backup}");
    assert_eq!(d.account_id.as_deref(), Some(seed.account.id.as_str()));
    let section = d.backup.expect("a backup section");
    // Every user the apply deleted, with its ID, keys and statuses, MFA device.
    assert_eq!(section.users.len(), seed.users.len(), "{backup}");
    for u in &seed.users {
        let b = section
            .user(&u.name)
            .unwrap_or_else(|| panic!("{}", u.name));
        assert_eq!(b.id, u.id);
        let keys: Vec<(&str, KeyStatus)> = b
            .access_keys
            .iter()
            .map(|k| (k.id.as_str(), k.status))
            .collect();
        let want: Vec<(&str, KeyStatus)> = u
            .access_keys
            .iter()
            .map(|k| (k.id.as_str(), k.status))
            .collect();
        assert_eq!(keys, want, "{}", u.name);
        assert_eq!(b.mfa_device, u.mfa_device, "{}", u.name);
        let declared = d.declared.user(&u.name).unwrap();
        assert_eq!(declared.display_name, u.display_name);
        assert_eq!(declared.email, u.email);
        assert_eq!(declared.tags.as_ref(), Some(&u.tags));
        let mut groups: Vec<&str> = declared
            .groups
            .iter()
            .flatten()
            .map(|g| g.value.as_str())
            .collect();
        let mut want: Vec<&str> = u.groups.iter().map(String::as_str).collect();
        groups.sort();
        want.sort();
        assert_eq!(groups, want, "{}", u.name);
        assert_eq!(
            declared.console_logon.as_ref().map(|l| l.enabled),
            Some(u.login_profile.is_some())
        );
    }
    assert_eq!(d.declared.groups.len(), seed.groups.len());
    assert_eq!(d.declared.policies.len(), seed.policies.len());
    for secret in secrets(&seed) {
        assert!(!backup.contains(&secret), "a key secret is in the backup");
    }
    assert!(
        !backup.to_lowercase().contains("password:"),
        "no password in the backup"
    );

    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir), 0o700);
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_that_cannot_write_its_backup_refuses_to_start_and_changes_nothing() {
    let emu = start(seed(true)).await;
    let dir = tempfile::tempdir().unwrap();
    // A directory cannot be made under a regular file, whoever runs the test.
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let file = dir.path().join("delete.yaml");
    std::fs::write(&file, DELETE_USERS).unwrap();
    for plan in [false, true] {
        let target = if plan {
            let saved = dir.path().join("plan.json");
            let out = Run::new(&emu, &["diff", s(&file), "--out", s(&saved)])
                .output()
                .await;
            assert_eq!(code(&out), 0, "{}", text(&out.stderr));
            saved
        } else {
            file.clone()
        };
        let out = Run::new(
            &emu,
            &[
                "apply",
                s(&target),
                "--auto-approve",
                "--backup-dir",
                s(&blocker.join("backups")),
            ],
        )
        .output()
        .await;
        let err = text(&out.stderr);
        assert_eq!(code(&out), 1, "{err}");
        assert!(err.contains("cannot write the backup"), "{err}");
        assert!(mutations(&emu.log()).is_empty(), "no mutating call");
    }
    assert_eq!(emu.snapshot().users.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_that_deletes_writes_the_same_backup_as_its_file() {
    let emu = start(seed(true)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("delete.yaml");
    std::fs::write(&file, DELETE_USERS).unwrap();
    let saved = dir.path().join("plan.json");
    let out = Run::new(&emu, &["diff", s(&file), "--out", s(&saved)])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let backups = dir.path().join("backups");
    let out = Run::new(
        &emu,
        &[
            "apply",
            s(&saved),
            "--auto-approve",
            "--backup-dir",
            s(&backups),
        ],
    )
    .output()
    .await;
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    let text = std::fs::read_to_string(backup_path(&err)).unwrap();
    let d = ramstate::config::parse(&text, "backup.yaml").unwrap();
    let names: Vec<&str> = d
        .backup
        .as_ref()
        .unwrap()
        .users
        .iter()
        .map(|u| u.name.as_str())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_restored_from_the_recycle_bin_matches_the_pre_deletion_export_but_for_its_mfa() {
    let setup = export_then_delete(seed(true)).await;
    let before_restore = setup.emu.log().len();
    let out = restore(&setup, &[]).await;
    let (shown, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(code(&out), 0, "{shown}\n{err}");
    assert!(shown.contains("restore"), "{shown}");
    assert!(
        err.contains("alice must bind an MFA device again"),
        "the restore says MFA is the user's to bind:\n{err}"
    );
    let log = setup.emu.log();
    let restored: Vec<&str> = mutations(&log[before_restore..])
        .into_iter()
        .filter(|e| e.action == "RestoreUserFromRecycleBin")
        .map(|e| e.params["UserId"].as_str())
        .collect();
    assert_eq!(restored.len(), 2, "both users come back from the bin");
    assert!(
        mutations(&log[before_restore..])
            .iter()
            .all(|e| e.action != "CreateUser"),
        "nobody is recreated"
    );

    let after = setup.emu.snapshot();
    let alice = after.users.iter().find(|u| u.name == "alice").unwrap();
    assert_eq!(alice.id, "2001", "the same identity");
    assert_eq!(
        key_status(&after, "alice", "LTAIalice1"),
        Some(KeyStatus::Active)
    );
    assert_eq!(
        key_status(&after, "alice", "LTAIalice2"),
        Some(KeyStatus::Inactive)
    );
    assert_eq!(
        key_status(&after, "bob", "LTAIbob1"),
        Some(KeyStatus::Active)
    );
    assert_eq!(alice.mfa_device, None, "MFA is not bound by a restore");
    assert!(after.recycle_bin.users.is_empty());
    export_plans_nothing(&setup).await;
    let _ = &setup.dir;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_console_logon_that_was_switched_off_is_restored_switched_off() {
    let mut account = seed(true);
    let bob = account.users.iter_mut().find(|u| u.name == "bob").unwrap();
    bob.login_profile = Some(LoginProfile {
        status: LoginProfileStatus::Inactive,
        ..LoginProfile::default()
    });
    let setup = export_then_delete(account).await;
    let backup = std::fs::read_to_string(&setup.backup).unwrap();
    assert!(
        backup.contains("console_logon_status: Inactive"),
        "the backup records that bob's console logon was off:\n{backup}"
    );
    let before_restore = setup.emu.log().len();
    let out = restore(&setup, &[]).await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));

    let after = setup.emu.snapshot();
    let status = |name: &str| {
        after
            .users
            .iter()
            .find(|u| u.name == name)
            .and_then(|u| u.login_profile.as_ref())
            .map(|lp| lp.status)
    };
    assert_eq!(status("bob"), Some(LoginProfileStatus::Inactive));
    assert_eq!(status("alice"), Some(LoginProfileStatus::Active));
    let log = setup.emu.log();
    let creates: Vec<_> = mutations(&log[before_restore..])
        .into_iter()
        .filter(|e| e.action == "CreateLoginProfile")
        .collect();
    assert_eq!(creates.len(), 2, "one create each");
    assert!(
        creates
            .iter()
            .any(|e| e.service == ramstate::model::Service::Ims
                && e.params.get("Status").map(String::as_str) == Some("Inactive")),
        "bob's is created switched off, never on for a moment: {creates:?}"
    );
    assert!(
        mutations(&log[before_restore..])
            .iter()
            .all(|e| e.action != "UpdateLoginProfile"),
        "no switch afterwards"
    );
    export_plans_nothing(&setup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restoring_the_same_backup_twice_changes_nothing_the_second_time() {
    let setup = export_then_delete(seed(true)).await;
    let out = restore(&setup, &[]).await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let first = setup.emu.log().len();
    let out = restore(&setup, &[]).await;
    let shown = text(&out.stdout);
    assert_eq!(code(&out), 0, "{shown}\n{}", text(&out.stderr));
    assert!(shown.contains("No changes."), "{shown}");
    assert!(
        mutations(&setup.emu.log()[first..]).is_empty(),
        "the second restore only reads"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_with_user_brings_back_only_that_user() {
    let setup = export_then_delete(seed(true)).await;
    let out = restore(&setup, &["--user", "bob"]).await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let after = setup.emu.snapshot();
    let names: Vec<&str> = after.users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["bob"]);
    assert_eq!(after.users[0].groups, ["dev"]);
    assert_eq!(
        key_status(&after, "bob", "LTAIbob1"),
        Some(KeyStatus::Active)
    );
    assert!(
        after.recycle_bin.users.iter().any(|u| u.id == "2001"),
        "alice stays in the bin"
    );
    assert!(
        setup.emu.log().iter().filter(|e| e.status < 300).all(|e| e
            .params
            .get("UserName")
            .map(String::as_str)
            != Some("alice")
            || !["CreateUser", "AddUserToGroup", "CreateLoginProfile"]
                .contains(&e.action.as_str())),
        "nothing of alice is restored"
    );

    let out = restore(&setup, &["--user", "carol"]).await;
    let err = text(&out.stderr);
    assert_eq!(code(&out), 1, "{err}");
    assert!(err.contains("the backup holds no user carol"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_conflict_delete_mode_a_deleted_user_is_recreated_and_its_keys_are_named() {
    let setup = export_then_delete(seed(false)).await;
    let before_restore = setup.emu.log().len();
    let out = restore(&setup, &[]).await;
    let (shown, err) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(code(&out), 0, "{shown}\n{err}");
    assert!(
        err.contains("alice (ID 2001) is not in the recycle bin: it is created anew")
            && err.contains("LTAIalice1, LTAIalice2")
            && err.contains("cannot be recreated with the same secret"),
        "{err}"
    );
    let log = setup.emu.log();
    let created: Vec<&str> = mutations(&log[before_restore..])
        .into_iter()
        .filter(|e| e.action == "CreateUser")
        .map(|e| e.params["UserName"].as_str())
        .collect();
    assert_eq!(created, ["alice", "bob"]);
    let after = setup.emu.snapshot();
    let alice = after.users.iter().find(|u| u.name == "alice").unwrap();
    assert_ne!(alice.id, "2001", "a new identity");
    assert!(alice.access_keys.is_empty());
    export_plans_nothing(&setup).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_groups_and_policies_are_recreated_before_the_memberships_and_attachments_that_need_them()
 {
    let emu = start(seed(true)).await;
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.yaml");
    let out = Run::new(&emu, &["export", "--out", s(&before)])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    // The users stay; their group and the custom policy attached to alice go.
    let file = dir.path().join("delete.yaml");
    std::fs::write(
        &file,
        "version: 1\naccount: { id: \"1234567890123456\" }\nmanage: [groups, policies]\n",
    )
    .unwrap();
    let backups = dir.path().join("backups");
    let out = Run::new(
        &emu,
        &[
            "apply",
            s(&file),
            "--auto-approve",
            "--backup-dir",
            s(&backups),
        ],
    )
    .output()
    .await;
    let err = text(&out.stderr);
    assert_eq!(code(&out), 0, "{err}");
    let gone = emu.snapshot();
    assert!(gone.groups.is_empty() && gone.policies.is_empty());
    let backup = backup_path(&err);
    let d = ramstate::config::parse(&std::fs::read_to_string(&backup).unwrap(), "b").unwrap();
    let attachments = &d.backup.as_ref().unwrap().attachments;
    assert_eq!(attachments.len(), 1, "{attachments:?}");
    assert_eq!(
        (
            attachments[0].policy.as_str(),
            attachments[0].principal.as_str()
        ),
        ("ops-read", "alice")
    );

    let start_at = emu.log().len();
    let out = Run::new(&emu, &["restore", s(&backup), "--auto-approve"])
        .output()
        .await;
    assert_eq!(
        code(&out),
        0,
        "{}\n{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let log = emu.log();
    let done = mutations(&log[start_at..]);
    let at = |action: &str, key: &str, value: &str| {
        done.iter()
            .find(|e| e.action == action && e.params.get(key).map(String::as_str) == Some(value))
            .unwrap_or_else(|| panic!("no {action} {key}={value}"))
    };
    let group = at("CreateGroup", "GroupName", "dev");
    let policy = at("CreatePolicy", "PolicyName", "ops-read");
    for member in ["alice", "bob"] {
        let add = at("AddUserToGroup", "UserName", member);
        assert!(
            group.finished_ms <= add.started_ms,
            "the group exists first"
        );
    }
    let attach = at("AttachPolicyToUser", "PolicyName", "ops-read");
    assert!(
        policy.finished_ms <= attach.started_ms,
        "the policy exists first"
    );

    let out = Run::new(&emu, &["diff", s(&before), "--detailed-exitcode"])
        .output()
        .await;
    let shown = text(&out.stdout);
    assert_eq!(code(&out), 0, "{shown}\n{}", text(&out.stderr));
    assert!(shown.contains("No changes."), "{shown}");
}
