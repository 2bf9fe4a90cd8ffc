//! The real binary pointed at an emulator on loopback, and checks over the emulator's
//! request log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use ramstate::emulator::{self, Emulator, EmulatorConfig, LogEntry};
use ramstate::model::Inventory;

/// The demo account's `ci-bot`, a typical caller: its active key, secret included.
pub fn ci_bot_key(seed: &Inventory) -> ramstate::model::AccessKey {
    seed.users
        .iter()
        .find(|u| u.name == "ci-bot")
        .and_then(|u| {
            u.access_keys
                .iter()
                .find(|k| k.secret.is_some() && k.status == ramstate::model::KeyStatus::Active)
        })
        .expect("the demo account's ci-bot has an active key with a secret")
        .clone()
}

pub async fn start(seed: Inventory) -> Emulator {
    emulator::start(EmulatorConfig {
        seed,
        ..EmulatorConfig::default()
    })
    .await
    .expect("emulator starts")
}

/// The real `ramstate` binary, pointed at the emulator with the root key, with a home
/// directory of its own (no aliyun CLI config leaks in).
pub struct Run {
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub stdin: Option<String>,
    pub dir: Option<PathBuf>,
    /// Home directory shared across runs (a fresh one per run when `None`).
    pub home: Option<PathBuf>,
}

impl Run {
    pub fn new(emu: &Emulator, args: &[&str]) -> Run {
        let key = emu.root_key();
        Run::with_key(emu, &key.id, &key.secret, args)
    }

    pub fn with_key(emu: &Emulator, id: &str, secret: &str, args: &[&str]) -> Run {
        let mut env = BTreeMap::new();
        env.insert("RAMSTATE_ENDPOINT".to_string(), emu.url().to_string());
        env.insert("ALIBABA_CLOUD_ACCESS_KEY_ID".to_string(), id.to_string());
        env.insert(
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET".to_string(),
            secret.to_string(),
        );
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            env,
            stdin: None,
            dir: None,
            home: None,
        }
    }

    pub fn offline(args: &[&str]) -> Run {
        Run {
            args: args.iter().map(|s| s.to_string()).collect(),
            env: BTreeMap::new(),
            stdin: None,
            dir: None,
            home: None,
        }
    }

    pub fn home(mut self, home: &Path) -> Run {
        self.home = Some(home.to_path_buf());
        self
    }

    pub fn stdin(mut self, text: &str) -> Run {
        self.stdin = Some(text.to_string());
        self
    }

    /// Run to completion on a blocking thread, so an in-process emulator keeps serving.
    pub async fn output(self) -> Output {
        tokio::task::spawn_blocking(move || {
            let fresh = tempfile::tempdir().unwrap();
            let home = self
                .home
                .clone()
                .unwrap_or_else(|| fresh.path().to_path_buf());
            let mut cmd = assert_cmd::Command::cargo_bin("ramstate").unwrap();
            cmd.args(&self.args)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("HOME", &home)
                .env("NO_COLOR", "1")
                .envs(&self.env)
                .timeout(std::time::Duration::from_secs(120));
            if let Some(dir) = &self.dir {
                cmd.current_dir(dir);
            }
            cmd.write_stdin(self.stdin.unwrap_or_default());
            cmd.output().unwrap()
        })
        .await
        .unwrap()
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Actions that change an account.
pub fn is_mutating(action: &str) -> bool {
    const PREFIXES: [&str; 16] = [
        "Create", "Delete", "Update", "Attach", "Detach", "Add", "Remove", "Bind", "Unbind", "Set",
        "Clear", "Restore", "Tag", "Untag", "Change", "Reset",
    ];
    PREFIXES.iter().any(|p| action.starts_with(p)) && action != "AssumeRole"
}

pub fn mutations(log: &[LogEntry]) -> Vec<&LogEntry> {
    log.iter()
        .filter(|e| is_mutating(&e.action) && e.status < 300)
        .collect()
}

fn param<'a>(e: &'a LogEntry, name: &str) -> Option<&'a str> {
    e.params.get(name).map(String::as_str)
}

/// Every successful deletion started only after each call that unblocks it had finished:
/// a user's detaches, membership removals, key and login-profile deletions and MFA unbind;
/// a group's member removals and detaches; a role's detaches; a custom policy's detaches;
/// a virtual MFA device's unbind.
pub fn assert_unblocking_precedes_deletion(log: &[LogEntry]) {
    let done = mutations(log);
    let mut checked = 0;
    for del in &done {
        let blockers: Vec<&&LogEntry> = match del.action.as_str() {
            "DeleteUser" => {
                let user = param(del, "UserName");
                done.iter()
                    .filter(|e| {
                        matches!(
                            e.action.as_str(),
                            "DetachPolicyFromUser"
                                | "RemoveUserFromGroup"
                                | "DeleteAccessKey"
                                | "DeleteLoginProfile"
                                | "UnbindMFADevice"
                        ) && param(e, "UserName") == user
                    })
                    .collect()
            }
            "DeleteGroup" => {
                let group = param(del, "GroupName");
                done.iter()
                    .filter(|e| {
                        matches!(
                            e.action.as_str(),
                            "DetachPolicyFromGroup" | "RemoveUserFromGroup"
                        ) && param(e, "GroupName") == group
                    })
                    .collect()
            }
            "DeleteRole" => {
                let role = param(del, "RoleName");
                done.iter()
                    .filter(|e| e.action == "DetachPolicyFromRole" && param(e, "RoleName") == role)
                    .collect()
            }
            "DeletePolicy" => {
                let policy = param(del, "PolicyName");
                done.iter()
                    .filter(|e| {
                        e.action.starts_with("DetachPolicyFrom")
                            && param(e, "PolicyType") == Some("Custom")
                            && param(e, "PolicyName") == policy
                    })
                    .collect()
            }
            _ => continue,
        };
        for b in blockers {
            checked += 1;
            assert!(
                b.finished_ms <= del.started_ms,
                "{} {:?} (finished at {} ms) did not finish before {} {:?} started at {} ms",
                b.action,
                b.params,
                b.finished_ms,
                del.action,
                del.params,
                del.started_ms
            );
        }
    }
    let _ = checked;
}

/// The user names a mutating call targets (directly or through one of its parts).
pub fn touched_users(log: &[LogEntry]) -> Vec<String> {
    mutations(log)
        .into_iter()
        .filter_map(|e| param(e, "UserName").map(str::to_string))
        .collect()
}

/// The addresses (as the plan writes them) a mutating call names: `user.NAME`,
/// `group.NAME`, `role.NAME`, `policy.NAME` (custom policies), `virtual_mfa_device.NAME`.
pub fn named_addresses(e: &LogEntry) -> Vec<String> {
    let mut out = Vec::new();
    for (name, kind) in [
        ("UserName", "user"),
        ("GroupName", "group"),
        ("RoleName", "role"),
    ] {
        if let Some(v) = param(e, name) {
            out.push(format!("{kind}.{v}"));
        }
    }
    if (param(e, "PolicyType") == Some("Custom") || e.action == "DeletePolicy")
        && let Some(v) = param(e, "PolicyName")
    {
        out.push(format!("policy.{v}"));
    }
    if let Some(serial) = param(e, "SerialNumber") {
        let name = serial.rsplit('/').next().unwrap_or(serial);
        out.push(format!("virtual_mfa_device.{name}"));
    }
    out
}

/// No mutating call names only kept addresses: a call may name a kept user only to take
/// it out of a removed group or to detach a removed policy from it.
pub fn assert_kept_untouched(log: &[LogEntry], kept: &[String]) {
    for e in mutations(log) {
        let named = named_addresses(e);
        if !named.is_empty() && named.iter().all(|a| kept.contains(a)) {
            panic!(
                "{} {:?} changed only kept resources {named:?}",
                e.action, e.params
            );
        }
    }
}

/// A bound device (as the seed binds it) is deleted only after its user's unbind finished.
pub fn assert_unbind_precedes_device_deletion(log: &[LogEntry], seed: &Inventory) {
    let done = mutations(log);
    for del in done.iter().filter(|e| e.action == "DeleteVirtualMFADevice") {
        let serial = param(del, "SerialNumber");
        let Some(user) = seed
            .virtual_mfa_devices
            .iter()
            .find(|d| Some(d.serial_number.as_str()) == serial)
            .and_then(|d| d.user.as_deref())
        else {
            continue;
        };
        let unbind = done
            .iter()
            .find(|e| e.action == "UnbindMFADevice" && param(e, "UserName") == Some(user))
            .unwrap_or_else(|| panic!("{serial:?} was deleted while still bound to {user}"));
        assert!(
            unbind.finished_ms <= del.started_ms,
            "{serial:?} was deleted before its unbind from {user} finished"
        );
    }
}
