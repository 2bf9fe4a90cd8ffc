//! Crash and resume: `ramstate apply` is killed with SIGKILL at several points — while
//! deletions are under way, and while a service-linked role's deletion task is being
//! polled — and the next `ramstate apply` finishes the job. The emulator lives in the test
//! process, so its state (and request log) survives the client's death, as a real account
//! would.
//!
//! A second test does the same to an apply that creates declared resources, killing it
//! right after a user or a role was created and before (or while) what hangs off it —
//! memberships, attachments, tags — is added: the next apply creates nothing twice.
//!
//! What must hold at the end: the account converged (only the service-linked roles the
//! seed says are in use are left, and apply names them), no mutating call in any run named
//! only kept addresses, every kept resource is still there with its keys, and no call
//! created anything (removal-only desired state: nothing may be created, let alone twice).

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use ramstate::emulator::{self, EmulatorConfig, Faults, GenerateParams, LogEntry};
use ramstate::model::Inventory;
use support::*;

/// When to kill a run, judged from the calls the emulator saw since the run started.
#[derive(Debug, Clone, Copy)]
enum KillPoint {
    /// After this many mutating calls succeeded.
    Mutations(usize),
    /// Once a service-linked role's deletion task has been polled.
    DeletionTaskPolled,
    /// Once a call of this action has succeeded.
    Succeeded(&'static str),
}

impl KillPoint {
    fn reached(self, run_log: &[LogEntry]) -> bool {
        match self {
            KillPoint::Mutations(n) => mutations(run_log).len() >= n,
            KillPoint::DeletionTaskPolled => run_log
                .iter()
                .any(|e| e.action == "GetServiceLinkedRoleDeletionStatus" && e.status == 200),
            KillPoint::Succeeded(action) => run_log
                .iter()
                .any(|e| e.action == action && e.status == 200),
        }
    }
}

fn desired(account_id: &str) -> String {
    format!(
        "version: 1\naccount: {{ id: \"{account_id}\" }}\n\
         manage: [users, groups, roles, policies, virtual_mfa_devices, service_linked_roles]\n\
         keep:\n  users: [{{ glob: \"platform-*\" }}, {{ glob: \"data-*\" }}]\n\
         \x20 groups: [{{ glob: \"platform-*\" }}]\n  roles: [{{ glob: \"platform-*\" }}]\n\
         \x20 policies: [{{ glob: \"platform-*\" }}, {{ glob: \"data-*\" }}]\n"
    )
}

fn apply_command(
    emu: &emulator::Emulator,
    file: &str,
    account_id: &str,
) -> tokio::process::Command {
    let key = emu.root_key();
    let mut cmd = tokio::process::Command::new(assert_cmd::cargo::cargo_bin("ramstate"));
    cmd.args([
        "apply",
        file,
        "--auto-approve",
        "--account-id",
        account_id,
        "--parallelism",
        "3",
        "--qps",
        "0",
    ])
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("RAMSTATE_ENDPOINT", emu.url())
    .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &key.id)
    .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &key.secret)
    .env("NO_COLOR", "1")
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .kill_on_drop(true);
    cmd
}

/// Runs `ramstate apply FILE` until `point`, then kills it with SIGKILL. Returns whether
/// it was killed (false: the run ended before reaching the point) and the mutating calls
/// it made.
async fn apply_killed_at(
    emu: &emulator::Emulator,
    file: &str,
    account_id: &str,
    point: KillPoint,
) -> (bool, usize) {
    let mark = emu.log().len();
    // Nobody reads a killed run's output: a full pipe must not stall it.
    let mut child = apply_command(emu, file, account_id)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !point.reached(&emu.log()[mark..]) {
        if child.try_wait().unwrap().is_some() {
            return (false, mutations(&emu.log()[mark..]).len());
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{point:?} never reached"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9), "killed with SIGKILL at {point:?}");
    (true, mutations(&emu.log()[mark..]).len())
}

/// An emulator slow enough (8 ms a call) that a kill lands in the middle of the walk.
async fn slow_emulator(seed: Inventory) -> emulator::Emulator {
    emulator::start(EmulatorConfig {
        seed,
        faults: Faults {
            latency: Duration::from_millis(8),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// The addresses of the users, groups, roles and policies of an account.
fn addresses(inv: &Inventory) -> BTreeSet<String> {
    inv.users
        .iter()
        .map(|u| format!("user.{}", u.name))
        .chain(inv.groups.iter().map(|g| format!("group.{}", g.name)))
        .chain(inv.roles.iter().map(|r| format!("role.{}", r.name)))
        .chain(inv.policies.iter().map(|p| format!("policy.{}", p.name)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apply_killed_at_any_point_is_finished_by_the_next_one_and_loses_nothing_kept() {
    let mut seed = emulator::generate(&GenerateParams {
        users: 14,
        groups: 4,
        roles: 12,
        policies: 8,
        seed: 5,
    });
    if let Some(e) = seed.emulator.as_mut() {
        e.deletion_polls = Some(1);
    }
    let account_id = seed.account.id.clone();
    let emu = slow_emulator(seed.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("desired.yaml");
    std::fs::write(&file, desired(&account_id)).unwrap();
    let file = file.to_str().unwrap();

    let diff = Run::new(&emu, &["diff", file, "-o", "json"]).output().await;
    assert_eq!(code(&diff), 0, "{}", text(&diff.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&diff.stdout).unwrap();
    let kept: Vec<String> = plan["kept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["address"].as_str().unwrap().to_string())
        .collect();
    let planned = plan["changes"].as_array().unwrap().len();
    assert!(kept.iter().any(|k| k.starts_with("user.")), "{kept:?}");
    assert!(planned > 100, "a plan worth interrupting: {planned} steps");

    let kill_points = [
        KillPoint::Mutations(1),
        KillPoint::Mutations(25),
        KillPoint::DeletionTaskPolled,
    ];
    let mut killed = Vec::new();
    for point in kill_points {
        let (was_killed, made) = apply_killed_at(&emu, file, &account_id, point).await;
        assert!(was_killed, "apply ended before the kill point {point:?}");
        killed.push((point, made));
    }

    let mark = emu.log().len();
    let last = apply_command(&emu, file, &account_id)
        .output()
        .await
        .unwrap();
    let (out, err) = (text(&last.stdout), text(&last.stderr));
    // The in-use service-linked roles cannot go: apply names them and exits 1.
    assert_eq!(
        last.status.code(),
        Some(1),
        "stdout:\n{out}\nstderr:\n{err}"
    );
    let in_use: Vec<&str> = seed
        .roles
        .iter()
        .filter(|r| r.is_service_linked() && !r.usages.is_empty())
        .map(|r| r.name.as_str())
        .collect();
    assert!(!in_use.is_empty());
    for role in &in_use {
        assert!(
            err.contains(role) || out.contains(role),
            "{role} unnamed:\n{out}\n{err}"
        );
    }
    let finishing = mutations(&emu.log()[mark..]).len();

    // Converged: a fresh diff has nothing but the in-use service-linked roles.
    let again = Run::new(&emu, &["diff", file, "-o", "json"]).output().await;
    let left: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let left: BTreeSet<&str> = left["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["address"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<String> = in_use
        .iter()
        .map(|r| format!("service_linked_role.{r}"))
        .collect();
    assert_eq!(left, expected.iter().map(String::as_str).collect());

    // Nothing kept was touched or lost, in any run.
    let log = emu.log();
    assert_kept_untouched(&log, &kept);
    let after = emu.snapshot();
    let survivors = addresses(&after);
    let kept_entities: BTreeSet<String> = kept
        .iter()
        .filter(|k| !k.starts_with("virtual_mfa_device."))
        .cloned()
        .collect();
    assert_eq!(
        survivors
            .iter()
            .filter(|a| !a.starts_with("role.AliyunServiceRoleFor"))
            .cloned()
            .collect::<BTreeSet<_>>(),
        kept_entities
    );
    for user in seed
        .users
        .iter()
        .filter(|u| kept.contains(&format!("user.{}", u.name)))
    {
        let now = after.users.iter().find(|u2| u2.name == user.name).unwrap();
        let keys = |u: &ramstate::model::User| {
            u.access_keys
                .iter()
                .map(|k| (k.id.clone(), k.status))
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(now), keys(user), "{}'s keys", user.name);
        assert_eq!(now.login_profile.is_some(), user.login_profile.is_some());
    }
    // Removal only: nothing was ever created.
    let mut created: BTreeMap<String, usize> = BTreeMap::new();
    for e in mutations(&log)
        .iter()
        .filter(|e| e.action.starts_with("Create"))
    {
        *created
            .entry(format!("{} {:?}", e.action, e.params))
            .or_default() += 1;
    }
    assert!(created.is_empty(), "created: {created:?}");
    eprintln!(
        "crash and resume: {planned} steps planned; killed with SIGKILL at {:?}; the next apply made the last {finishing} mutating calls and converged (left: {left:?}); {} calls in all",
        killed
            .iter()
            .map(|(p, n)| format!("{p:?} (after {n} mutating calls)"))
            .collect::<Vec<_>>(),
        log.len()
    );
}

/// A team declared from nothing: groups and custom policies first, then users in two
/// groups each with a policy and tags, and roles with a trust policy and a policy.
fn declared(account_id: &str) -> String {
    let mut t = format!(
        "version: 1\naccount: {{ id: \"{account_id}\" }}\nmanage: []\nresources:\n  groups:\n"
    );
    for g in 0..6 {
        t.push_str(&format!("    - {{ name: team-{g}, comments: Team {g} }}\n"));
    }
    t.push_str("  policies:\n");
    for p in 0..4 {
        t.push_str(&format!(
            "    - name: read-{p}\n      document: '{{\"Version\":\"1\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":\"oss:Get*\",\"Resource\":\"acs:oss:*:*:bucket-{p}/*\"}}]}}'\n"
        ));
    }
    t.push_str("  users:\n");
    for u in 0..30 {
        t.push_str(&format!(
            "    - {{ name: dev-{u}, display_name: Dev {u}, tags: {{ team: t{} }}, groups: [team-{}, team-{}], policies: [Custom/read-{}] }}\n",
            u % 6,
            u % 6,
            (u + 1) % 6,
            u % 4
        ));
    }
    t.push_str("  roles:\n");
    for r in 0..4 {
        t.push_str(&format!(
            "    - name: worker-{r}\n      tags: {{ team: t{r} }}\n      trust_policy: {{ Version: \"1\", Statement: [{{ Effect: Allow, Action: \"sts:AssumeRole\", Principal: {{ Service: [\"ecs.aliyuncs.com\"] }} }}] }}\n      policies: [Custom/read-{r}]\n"
        ));
    }
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declared_apply_killed_between_a_create_and_what_hangs_off_it_is_finished_without_creating_twice()
 {
    let mut seed = Inventory::default();
    seed.account.id = "5123456789012345".into();
    let account_id = seed.account.id.clone();
    let emu = slow_emulator(seed).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("declared.yaml");
    std::fs::write(&file, declared(&account_id)).unwrap();
    let file = file.to_str().unwrap();

    let kill_points = [
        KillPoint::Succeeded("CreateUser"),
        KillPoint::Succeeded("CreateUser"),
        KillPoint::Mutations(30),
        KillPoint::Succeeded("AddUserToGroup"),
    ];
    let mut killed = Vec::new();
    // A kill point already passed by an earlier run is not reached again: that run then
    // simply finishes, which the last run below checks as well.
    for point in kill_points {
        let (was_killed, made) = apply_killed_at(&emu, file, &account_id, point).await;
        killed.push((point, was_killed, made));
    }
    assert!(
        killed.iter().filter(|(_, k, _)| *k).count() >= 3,
        "most kill points land: {killed:?}"
    );

    let mark = emu.log().len();
    let last = apply_command(&emu, file, &account_id)
        .output()
        .await
        .unwrap();
    assert_eq!(
        last.status.code(),
        Some(0),
        "{}\n{}",
        text(&last.stdout),
        text(&last.stderr)
    );
    let finishing = mutations(&emu.log()[mark..]).len();
    let again = Run::new(&emu, &["diff", file, "--detailed-exitcode"])
        .output()
        .await;
    assert_eq!(code(&again), 0, "{}", text(&again.stdout));

    // Nothing created twice, nothing even attempted twice: each run planned from what
    // was there, so no create met an entity that already existed.
    let log = emu.log();
    let mut created: BTreeMap<String, usize> = BTreeMap::new();
    for e in log.iter().filter(|e| e.action.starts_with("Create")) {
        assert!(
            !e.code
                .as_deref()
                .is_some_and(|c| c.starts_with("EntityAlreadyExists")),
            "sent again after it took effect: {} {:?}",
            e.action,
            e.params
        );
        if e.status == 200 {
            let name = ["UserName", "GroupName", "RoleName", "PolicyName"]
                .iter()
                .find_map(|k| e.params.get(*k))
                .cloned()
                .unwrap_or_default();
            *created.entry(format!("{} {name}", e.action)).or_default() += 1;
        }
    }
    assert!(created.values().all(|n| *n == 1), "{created:?}");
    assert_eq!(created.len(), 6 + 4 + 30 + 4);
    let inv = emu.snapshot();
    assert_eq!(inv.users.len(), 30);
    for u in &inv.users {
        assert_eq!(u.groups.len(), 2, "{}'s groups", u.name);
        assert_eq!(u.policies.len(), 1, "{}'s policies", u.name);
        assert_eq!(u.tags.len(), 1, "{}'s tags", u.name);
    }
    for r in &inv.roles {
        assert_eq!(r.policies.len(), 1, "{}'s policies", r.name);
        assert_eq!(r.tags.len(), 1, "{}'s tags", r.name);
    }
    eprintln!(
        "crash and resume of creates: killed at {:?}; the next apply made the last {finishing} mutating calls and converged; {} entities created once each, {} calls in all",
        killed
            .iter()
            .map(|(p, k, n)| format!(
                "{p:?} ({}, after {n} mutating calls)",
                if *k { "killed" } else { "finished first" }
            ))
            .collect::<Vec<_>>(),
        created.len(),
        log.len()
    );
}
