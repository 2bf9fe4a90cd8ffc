//! What a newcomer does first, through the real binary: serve the emulator and point the
//! tool at it, generate an account, apply the file in the working directory, read a plan as
//! Markdown, and empty an unverified account that holds only service roles.

mod support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ramstate::emulator::{self, LogEntry};
use ramstate::model::{Inventory, Service};
use support::*;

const DEMO_ACCOUNT: &str = "5123456789012345";

/// A `ramstate emulator serve` child process, stopped when dropped.
struct Served {
    child: Child,
    url: String,
    stderr: Option<std::process::ChildStderr>,
}

impl Served {
    /// Starts `ramstate emulator serve ARGS` with `env` and waits for the first stdout line.
    fn start(args: &[&str], env: &[(&str, &str)]) -> Served {
        let home = std::env::temp_dir();
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("ramstate"))
            .args(["emulator", "serve"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("NO_COLOR", "1")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut first = String::new();
            let _ = BufReader::new(stdout).read_line(&mut first);
            let _ = tx.send(first);
        });
        let first = rx.recv_timeout(Duration::from_secs(60));
        let stderr = child.stderr.take();
        let mut served = Served {
            child,
            url: String::new(),
            stderr,
        };
        served.url = first
            .expect("the first stdout line comes within a minute")
            .trim_end()
            .to_string();
        served
    }

    /// Stops the server and returns what it wrote to stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut err = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut e, &mut err);
        }
        err
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary against an endpoint with the given key (as a user in another shell would).
fn against(url: &str, key_id: &str, secret: &str, args: &[&str]) -> Run {
    let mut run = Run::offline(args);
    run.env
        .insert("RAMSTATE_ENDPOINT".to_string(), url.to_string());
    run.env.insert(
        "ALIBABA_CLOUD_ACCESS_KEY_ID".to_string(),
        key_id.to_string(),
    );
    run.env.insert(
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET".to_string(),
        secret.to_string(),
    );
    run
}

/// Every secret a seed holds: the root key's and each user's access keys'.
fn seed_secrets(seed: &Inventory) -> Vec<String> {
    let mut out: Vec<String> = seed
        .users
        .iter()
        .flat_map(|u| u.access_keys.iter())
        .filter_map(|k| k.secret.clone())
        .collect();
    if let Some(root) = seed
        .emulator
        .as_ref()
        .and_then(|e| e.root_access_key.as_ref())
    {
        out.push(root.secret.clone());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_serve_prints_its_url_first_serves_the_seed_and_logs_json_lines_without_secrets() {
    let seed_path = repo_path("examples/demo-account.yaml");
    let seed = demo_seed();
    let root = seed
        .emulator
        .as_ref()
        .and_then(|e| e.root_access_key.clone())
        .expect("the demo seed names its root key");
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("requests.jsonl");
    let served = Served::start(
        &[
            "--seed",
            seed_path.to_str().unwrap(),
            "--log",
            log_path.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        served.url.starts_with("http://127.0.0.1:") && served.url.ends_with('/'),
        "first stdout line is the URL, got {:?}",
        served.url
    );

    let who = against(&served.url, &root.id, &root.secret, &["whoami"])
        .output()
        .await;
    assert_eq!(code(&who), 0, "{}", text(&who.stderr));
    assert!(
        text(&who.stdout).contains(DEMO_ACCOUNT),
        "{}",
        text(&who.stdout)
    );

    let inv = against(
        &served.url,
        &root.id,
        &root.secret,
        &["inventory", "-o", "json"],
    )
    .output()
    .await;
    assert_eq!(code(&inv), 0, "{}", text(&inv.stderr));
    let served_inv: Inventory = serde_json::from_slice(&inv.stdout).expect("inventory JSON");
    assert_eq!(served_inv.account.id, seed.account.id);
    let names = |i: &Inventory| {
        let mut n: Vec<String> = i.users.iter().map(|u| u.name.clone()).collect();
        n.sort();
        n
    };
    assert_eq!(names(&served_inv), names(&seed));
    assert_eq!(served_inv.roles.len(), seed.roles.len());
    assert_eq!(served_inv.policies.len(), seed.policies.len());

    // A change through the served emulator, so the log holds mutations too.
    let allowlist = repo_path("examples/allowlist.yaml");
    let apply = against(
        &served.url,
        &root.id,
        &root.secret,
        &["apply", allowlist.to_str().unwrap(), "--auto-approve"],
    )
    .output()
    .await;
    assert_eq!(code(&apply), 0, "{}", text(&apply.stderr));

    let err = served.stop();
    assert!(
        err.contains(&format!("serving account {DEMO_ACCOUNT}")),
        "stderr says what is served: {err}"
    );
    assert!(
        err.contains(&format!("root access key id: {}", root.id)),
        "stderr names the key to use: {err}"
    );
    let log = std::fs::read_to_string(&log_path).expect("the log file exists");
    let entries: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(entries.len() > 20, "{} lines", entries.len());
    for e in &entries {
        for field in ["time", "seq", "service", "action", "params", "status"] {
            assert!(e.get(field).is_some(), "{field} missing from {e}");
        }
        let params = e["params"].as_object().unwrap();
        for common in [
            "Signature",
            "AccessKeyId",
            "SignatureNonce",
            "SecurityToken",
        ] {
            assert!(!params.contains_key(common), "{common} logged: {e}");
        }
    }
    let actions: Vec<&str> = entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions[0], "GetCallerIdentity");
    assert!(
        entries.iter().any(|e| e["action"] == "DeleteUser"
            && e["params"]["UserName"] == "contractor-2023"
            && e["status"] == 200),
        "the apply's DeleteUser is logged"
    );
    for secret in seed_secrets(&seed) {
        assert!(!log.contains(&secret), "the log holds a secret");
        assert!(!err.contains(&secret), "serve's stderr holds a secret");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_serve_without_a_seed_takes_the_root_key_from_the_environment_and_never_prints_its_secret()
 {
    let id = "LTAI5tNewcomerRoot00001";
    let secret = "newcomerRootSecret0000000000001";
    let served = Served::start(
        &[],
        &[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", id),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", secret),
        ],
    );
    let who = against(&served.url, id, secret, &["whoami"]).output().await;
    assert_eq!(code(&who), 0, "{}", text(&who.stderr));
    assert!(text(&who.stdout).contains(":root"), "{}", text(&who.stdout));

    let ready = against(&served.url, id, secret, &["readiness"])
        .output()
        .await;
    assert_eq!(code(&ready), 0, "an empty account can be closed");

    let err = served.stop();
    assert!(err.contains(id), "stderr names the key it accepts: {err}");
    assert!(!err.contains(secret), "stderr repeats the secret: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_generate_prints_the_same_bytes_for_the_same_seed_and_another_account_for_another()
{
    let args = |seed: &str, format: &str| {
        Run::offline(&[
            "emulator",
            "generate",
            "--users",
            "30",
            "--groups",
            "5",
            "--roles",
            "8",
            "--policies",
            "6",
            "--seed",
            seed,
            "-o",
            format,
        ])
    };
    let a = args("42", "yaml").output().await;
    let b = args("42", "yaml").output().await;
    let c = args("43", "yaml").output().await;
    assert_eq!(code(&a), 0, "{}", text(&a.stderr));
    assert!(!a.stdout.is_empty());
    assert_eq!(a.stdout, b.stdout, "same seed, same bytes");
    assert_ne!(a.stdout, c.stdout, "another seed, another account");

    let inv = emulator::parse_seed(&text(&a.stdout)).expect("the output is a seed");
    assert_eq!(inv.users.len(), 30);
    assert_eq!(inv.groups.len(), 5);
    assert_eq!(inv.policies.len(), 6);
    assert!(inv.roles.len() >= 8, "{} roles", inv.roles.len());

    let j1 = args("42", "json").output().await;
    let j2 = args("42", "json").output().await;
    assert_eq!(j1.stdout, j2.stdout);
    let from_json: Inventory = serde_json::from_slice(&j1.stdout).expect("JSON seed");
    assert_eq!(from_json, inv, "YAML and JSON print the same account");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_without_a_file_applies_ramstate_yaml_from_the_working_directory() {
    let emu = start(demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo_path("examples/allowlist.yaml"),
        dir.path().join("ramstate.yaml"),
    )
    .unwrap();

    let mut run = Run::new(&emu, &["apply", "--auto-approve"]);
    run.dir = Some(dir.path().to_path_buf());
    let out = run.output().await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("Plan: 0 to add, 0 to change, 11 to destroy."),
        "{}",
        text(&out.stdout)
    );

    let deleted: Vec<String> = mutations(&emu.log())
        .into_iter()
        .filter(|e| e.action == "DeleteUser")
        .filter_map(|e| e.params.get("UserName").cloned())
        .collect();
    assert_eq!(deleted.len(), 2, "{deleted:?}");
    assert!(
        deleted.contains(&"bob".to_string()) && deleted.contains(&"contractor-2023".to_string())
    );
    let touched = touched_users(&emu.log());
    assert!(
        !touched.iter().any(|u| u == "alice" || u == "ci-bot"),
        "kept users were touched: {touched:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_without_a_file_in_an_empty_directory_names_ramstate_yaml_and_changes_nothing() {
    let emu = start(demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let mut run = Run::new(&emu, &["apply", "--auto-approve"]);
    run.dir = Some(dir.path().to_path_buf());
    let out = run.output().await;
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains("ramstate.yaml"),
        "{}",
        text(&out.stderr)
    );
    assert!(mutations(&emu.log()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markdown_plan_is_one_table_row_per_step_with_the_summary_and_the_kept_rules() {
    let emu = start(demo_seed()).await;
    let allowlist = repo_path("examples/allowlist.yaml");
    let out = Run::new(
        &emu,
        &[
            "diff",
            allowlist.to_str().unwrap(),
            "-o",
            "markdown",
            "--detailed-exitcode",
        ],
    )
    .output()
    .await;
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let md = text(&out.stdout);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines[0], format!("### Plan for account {DEMO_ACCOUNT}"));
    assert!(
        md.contains("**Plan: 0 to add, 0 to change, 11 to destroy.**"),
        "{md}"
    );
    assert!(
        md.contains("| | Step | API call | Why |\n|---|---|---|---|\n"),
        "{md}"
    );
    let rows: Vec<&&str> = lines.iter().filter(|l| l.starts_with("| `-` |")).collect();
    assert_eq!(rows.len(), 11, "{md}");
    assert!(
        rows.iter()
            .any(|r| r.contains("`DeleteUser UserName=contractor-2023`")),
        "{md}"
    );
    assert!(md.contains("11 steps across 6 resources."), "{md}");
    assert!(md.contains("<details><summary>Kept (8)</summary>"), "{md}");
    // A `|` inside a cell or list item is escaped, so the table keeps its columns.
    assert!(md.contains("regex ^(ecs\\|oss)-"), "{md}");
    for row in rows {
        assert_eq!(row.matches(" | ").count() + 2, 5, "four cells in {row}");
    }
    assert!(mutations(&emu.log()).is_empty(), "diff never mutates");
}

/// A verified-less account: service roles (trusting a cloud service, some with policies)
/// and service-linked roles, nothing else.
const UNVERIFIED_SEED: &str = r#"
account: { id: "5123456789012345" }
roles:
  - name: AliyunECSImageImportDefaultRole
    assume_role_policy_document: '{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}'
    policies: [System/AliyunOSSReadOnlyAccess, System/AliyunECSFullAccess]
  - name: AliyunLogDefaultRole
    assume_role_policy_document: '{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["log.aliyuncs.com"]}}],"Version":"1"}'
  - name: AliyunServiceRoleForECS
    assume_role_policy_document: '{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}'
    policies: [System/AliyunServiceRolePolicyForECS]
  - name: AliyunServiceRoleForResourceDirectory
emulator:
  root_access_key: { id: LTAI5tUnverifiedRoot001, secret: unverifiedRootSecret0000000001 }
  deletion_polls: 1
"#;

fn calls<'a>(log: &'a [LogEntry], action: &str) -> Vec<&'a LogEntry> {
    mutations(log)
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

fn role_of(e: &LogEntry) -> &str {
    e.params.get("RoleName").map(String::as_str).unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unverified_profile_deletes_service_roles_through_ram_and_service_linked_roles_through_resource_manager()
 {
    let seed = emulator::parse_seed(UNVERIFIED_SEED).expect("seed parses");
    let emu = start(seed).await;
    let profile = repo_path("examples/unverified-account.yaml");
    let profile = profile.to_str().unwrap();

    let before = Run::new(&emu, &["readiness"]).output().await;
    assert_eq!(code(&before), 2, "four roles block closing");

    let apply = Run::new(&emu, &["apply", profile, "--auto-approve"])
        .output()
        .await;
    assert_eq!(
        code(&apply),
        0,
        "stdout:\n{}\nstderr:\n{}",
        text(&apply.stdout),
        text(&apply.stderr)
    );
    let log = emu.log();

    // Ordinary (service) roles: every policy detached, then RAM DeleteRole.
    let detaches = calls(&log, "DetachPolicyFromRole");
    let mut detached: Vec<(&str, &str)> = detaches
        .iter()
        .map(|e| (role_of(e), e.params["PolicyName"].as_str()))
        .collect();
    detached.sort();
    assert_eq!(
        detached,
        [
            ("AliyunECSImageImportDefaultRole", "AliyunECSFullAccess"),
            ("AliyunECSImageImportDefaultRole", "AliyunOSSReadOnlyAccess"),
        ]
    );
    let deletes = calls(&log, "DeleteRole");
    let mut deleted: Vec<&str> = deletes.iter().map(|e| role_of(e)).collect();
    deleted.sort();
    assert_eq!(
        deleted,
        ["AliyunECSImageImportDefaultRole", "AliyunLogDefaultRole"]
    );
    assert!(deletes.iter().all(|e| e.service == Service::Ram));
    assert_unblocking_precedes_deletion(&log);

    // Service-linked roles: only ResourceManager's DeleteServiceLinkedRole, never a detach.
    let slr = calls(&log, "DeleteServiceLinkedRole");
    let mut slr_names: Vec<&str> = slr.iter().map(|e| role_of(e)).collect();
    slr_names.sort();
    assert_eq!(
        slr_names,
        [
            "AliyunServiceRoleForECS",
            "AliyunServiceRoleForResourceDirectory"
        ]
    );
    assert!(slr.iter().all(|e| e.service == Service::ResourceManager));
    assert!(
        log.iter()
            .any(|e| e.action == "GetServiceLinkedRoleDeletionStatus"),
        "the deletion tasks are polled"
    );
    let everything_mutating: Vec<&str> =
        mutations(&log).iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        everything_mutating.len(),
        6,
        "two detaches, two DeleteRole, two DeleteServiceLinkedRole: {everything_mutating:?}"
    );

    assert!(emu.snapshot().roles.is_empty());
    let after = Run::new(&emu, &["readiness"]).output().await;
    assert_eq!(code(&after), 0, "{}", text(&after.stdout));
    let again = Run::new(&emu, &["diff", profile, "--detailed-exitcode"])
        .output()
        .await;
    assert_eq!(code(&again), 0, "{}", text(&again.stdout));
}

const ONLY_THE_CALLER: &str = r#"
account: { id: "5123456789012345" }
users:
  - name: ops
    access_keys:
      - { id: LTAI5tOps00000000000001, secret: opsSecret0000000000000000000001, status: Active }
    groups: [admins]
    policies: [System/AliyunRAMFullAccess]
groups:
  - name: admins
    policies: [System/AliyunResourceManagerFullAccess]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_holding_only_the_caller_plans_nothing_and_does_not_claim_it_is_empty() {
    let emu = start(emulator::parse_seed(ONLY_THE_CALLER).unwrap()).await;
    let key = ("LTAI5tOps00000000000001", "opsSecret0000000000000000000001");
    let profile = repo_path("examples/empty-account.yaml");
    let profile = profile.to_str().unwrap();

    let plan = Run::with_key(
        &emu,
        key.0,
        key.1,
        &["diff", profile, "--detailed-exitcode"],
    )
    .output()
    .await;
    let out = text(&plan.stdout);
    assert_eq!(code(&plan), 0, "nothing ramstate may do: {out}");
    assert!(out.contains("  ! user.ops: the caller's own user"), "{out}");
    assert!(out.contains("  ! group.admins: "), "{out}");
    assert!(
        out.trim_end().ends_with(
            "No changes. The account matches the desired state except for 2 protected entities that ramstate never removes (the caller's own identity)."
        ),
        "{out}"
    );

    let apply = Run::with_key(&emu, key.0, key.1, &["apply", profile, "--auto-approve"])
        .output()
        .await;
    assert_eq!(code(&apply), 0, "{}", text(&apply.stderr));
    assert!(mutations(&emu.log()).is_empty());

    let ready = Run::with_key(&emu, key.0, key.1, &["readiness"])
        .output()
        .await;
    assert_eq!(code(&ready), 2, "the caller itself still blocks closing");
    assert!(text(&ready.stdout).contains("1 blocking: ops"));
}

/// A user in ten groups with a policy of five versions (the most RAM allows), in an
/// account whose deleted users go to the recycle bin, as the console does.
fn crowded_seed() -> Inventory {
    let doc = r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}"#;
    let groups: Vec<String> = (0..10).map(|i| format!("team-{i:02}")).collect();
    let mut yaml = format!(
        "account: {{ id: \"{DEMO_ACCOUNT}\" }}\nusers:\n  - name: joiner\n    id: \"250000000000042\"\n    access_keys:\n      - {{ id: LTAI5tJoiner0000000001, secret: joinerSecret00000000000000001, status: Active }}\n    login_profile: {{}}\n    groups: [{}]\n    policies: [Custom/five-versions]\ngroups:\n",
        groups.join(", ")
    );
    for g in &groups {
        yaml.push_str(&format!("  - name: {g}\n"));
    }
    yaml.push_str("policies:\n  - name: five-versions\n    versions:\n");
    for v in 1..=5 {
        yaml.push_str(&format!("      - id: v{v}\n        document: '{doc}'\n"));
        if v == 3 {
            yaml.push_str("        is_default: true\n");
        }
    }
    yaml.push_str("emulator:\n  delete_user: recycle_bin\n");
    emulator::parse_seed(&yaml).expect("seed parses")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_in_ten_groups_with_a_five_version_policy_is_removed_and_purged_from_the_recycle_bin()
 {
    let emu = start(crowded_seed()).await;
    let profile = repo_path("examples/empty-account.yaml");
    let profile = profile.to_str().unwrap();

    let plan = Run::new(&emu, &["diff", profile]).output().await;
    let out = text(&plan.stdout);
    assert_eq!(code(&plan), 0, "{}", text(&plan.stderr));
    // 1 key (deleted as it is, not deactivated first), 10 memberships, login profile,
    // detach, user, its purge, 10 groups and the policy removed.
    assert!(
        out.contains("Plan: 0 to add, 0 to change, 26 to destroy."),
        "{out}"
    );

    let apply = Run::new(&emu, &["apply", profile, "--auto-approve"])
        .output()
        .await;
    assert_eq!(
        code(&apply),
        0,
        "stdout:\n{}\nstderr:\n{}",
        text(&apply.stdout),
        text(&apply.stderr)
    );
    let log = emu.log();
    assert_unblocking_precedes_deletion(&log);
    let done = mutations(&log);
    let count = |action: &str| done.iter().filter(|e| e.action == action).count();
    assert_eq!(count("RemoveUserFromGroup"), 10);
    assert_eq!(count("DeleteGroup"), 10);
    assert_eq!(
        count("DeletePolicy"),
        1,
        "CascadingDelete takes the versions along"
    );
    assert_eq!(count("DeletePolicyVersion"), 0);
    let user_deleted = done.iter().find(|e| e.action == "DeleteUser").unwrap();
    let purged = done
        .iter()
        .find(|e| e.action == "DeleteUserInRecycleBin")
        .expect("the recycled user is purged");
    assert_eq!(purged.params["UserId"], "250000000000042");
    assert!(purged.started_ms >= user_deleted.finished_ms);

    let after = emu.snapshot();
    assert!(after.users.is_empty() && after.groups.is_empty() && after.policies.is_empty());
    assert!(after.recycle_bin.is_empty(), "{:?}", after.recycle_bin);
    let ready = Run::new(&emu, &["readiness"]).output().await;
    assert_eq!(code(&ready), 0, "{}", text(&ready.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_files_are_refused_with_their_line_and_never_reach_the_api() {
    let emu = start(demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 0x80)
        .collect();
    let cases: [(&str, Vec<u8>, &[&str]); 5] = [
        ("empty.yaml", Vec::new(), &["the file is empty"]),
        ("garbage.yaml", garbage, &["not UTF-8 text", "YAML text"]),
        (
            "types.yaml",
            b"version: \"1\"\naccount: 5123456789012345\nmanage: 7\nkeep: [users]\n".to_vec(),
            &[
                "line 1: `version` must be the number 1",
                "line 2: `account` must be a mapping",
                "line 3: `manage` must be `all` or a list of kinds",
                "line 4: `keep` must be a mapping",
            ],
        ),
        (
            "kinds.yaml",
            b"version: 1\nmanage: [users, buckets]\nkeep:\n  users: [alice]\n  groups: [admins]\n"
                .to_vec(),
            &[
                "line 2: unknown kind `buckets`",
                "line 5: keep rules for groups, which `manage` does not include",
            ],
        ),
        (
            "rules.yaml",
            b"version: 1\nmanage: [users, virtual_mfa_devices]\nkeep:\n  users: [{glob: \"[\"}, 42, {tag: {colour: red}}]\n  virtual_mfa_devices: [{created_before: \"2024-01-01\"}]\n"
                .to_vec(),
            &[
                "line 4: bad glob",
                "line 4: a keep rule must be a name or a mapping, found a number",
                "unknown key `colour` in `tag`",
                "line 5: virtual MFA devices have no creation date to match",
            ],
        ),
    ];
    for (name, body, needles) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, &body).unwrap();
        let path = path.to_str().unwrap();
        for args in [
            vec!["validate", path],
            vec!["apply", path, "--auto-approve"],
        ] {
            let out = Run::new(&emu, &args).output().await;
            let err = text(&out.stderr);
            assert_eq!(code(&out), 1, "{name} via {}: {err}", args[0]);
            // apply reads the file itself first (it may be a saved plan) and words a
            // non-text file its own way.
            let needles: &[&str] = if name == "garbage.yaml" && args[0] == "apply" {
                &["UTF-8"]
            } else {
                needles
            };
            for needle in needles {
                assert!(
                    err.contains(needle),
                    "{name} via {}: no {needle:?} in\n{err}",
                    args[0]
                );
            }
        }
    }
    let out = Run::new(&emu, &["validate", dir.path().to_str().unwrap()])
        .output()
        .await;
    assert_eq!(code(&out), 1);
    assert!(
        text(&out.stderr).contains("it is a directory"),
        "{}",
        text(&out.stderr)
    );
    assert!(emu.log().is_empty(), "bad input must not reach the API");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifty_thousand_rule_allowlist_validates_in_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::from("version: 1\nmanage: [users]\nkeep:\n  users:\n");
    for i in 0..50_000 {
        body.push_str(&format!("    - user-{i:05}\n"));
    }
    let path = dir.path().join("big.yaml");
    std::fs::write(&path, body).unwrap();
    let started = std::time::Instant::now();
    let out = Run::offline(&["validate", path.to_str().unwrap()])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("is valid"));
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_serve_clock_offset_days_runs_the_accounts_clock_ahead_past_the_bins_purge() {
    let delete = time::OffsetDateTime::now_utc() + time::Duration::days(10);
    let delete = format!(
        "{:04}-{:02}-{:02}T00:00:00Z",
        delete.year(),
        u8::from(delete.month()),
        delete.day()
    );
    let dir = tempfile::tempdir().unwrap();
    let seed_path = dir.path().join("seed.yaml");
    std::fs::write(
        &seed_path,
        format!(
            "account: {{id: '1234567890123456'}}\n\
             emulator: {{root_access_key: {{id: LTAIclockroot, secret: clocksecret}}}}\n\
             recycle_bin:\n  users: [{{id: '200000000000001', principal_name: gone@1234567890123456.onaliyun.com, delete_date: '{delete}'}}]\n"
        ),
    )
    .unwrap();
    let bin_users = async |extra: &[&str]| {
        let mut args = vec!["--seed", seed_path.to_str().unwrap()];
        args.extend_from_slice(extra);
        let served = Served::start(&args, &[]);
        let inv = against(
            &served.url,
            "LTAIclockroot",
            "clocksecret",
            &["inventory", "-o", "json"],
        )
        .output()
        .await;
        assert_eq!(code(&inv), 0, "{}", text(&inv.stderr));
        let inv: Inventory = serde_json::from_slice(&inv.stdout).expect("inventory JSON");
        served.stop();
        inv.recycle_bin.users.len()
    };
    assert_eq!(bin_users(&[]).await, 1);
    // Eleven days on, the user's thirty days in the bin are over; the client still
    // signs with the real time and is accepted.
    assert_eq!(bin_users(&["--clock-offset-days", "11"]).await, 0);
}
