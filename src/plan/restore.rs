//! Backup → plan: what brings back what an apply deleted. Pure.
//!
//! A backup is a desired state whose declarations are the deleted entities and which
//! manages nothing, so its diff against the account only creates and updates. On top of
//! that diff: a user the recycle bin still holds under the backup's user ID is restored
//! from it instead of created (a restored user comes back as identity only: its profile,
//! tags, memberships, attachments and console logon are set again by the declared steps),
//! then its keys are restored and given the status the backup records. A user no longer
//! in the bin is created anew; its keys cannot be (a secret is never recoverable), and
//! an MFA binding can only be made again by the user: the notes say so. A restore never
//! removes anything: what a declared list would take away is left out.

use crate::config::{Backup, BackupAttachment, BackupPrincipalType, BackupUser, DesiredState};
use crate::model::{
    Caller, Inventory, KeyStatus, LoginProfileStatus, PolicyRef, PolicyType, RecycledAccessKey,
};

use super::address::{Part, Resource};
use super::offboard::{Record, TAG_KEY, seconds};
use super::op::{Op, Principal, UserProfile};
use super::reason::Reason;
use super::{Action, Change, Plan};

/// The plan of a restore, with what it cannot do, in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Restore {
    pub plan: Plan,
    /// One sentence each: what needs a person (MFA, new keys), what was left out.
    pub notes: Vec<String>,
}

/// What a restore of `only` (every user when empty) would bring back; an error names a
/// user the backup does not hold.
pub fn restore(
    desired: &DesiredState,
    backup: &Backup,
    inventory: &Inventory,
    caller: &Caller,
    only: &[String],
) -> Result<Restore, String> {
    let (scoped, backup) = scope(desired, backup, only)?;
    let mut plan = super::diff(&scoped, inventory, caller);
    let mut notes = Vec::new();

    let before = plan.changes.len();
    // The removal of a deactivation record is no removal of anything restored: it is
    // the last step of bringing back what was Active before the deactivation.
    plan.changes.retain(|c| {
        matches!(c.op, Op::ClearDeactivation { .. })
            || !(c.action().is_destroy() || c.action() == Action::Untag)
    });
    let left_out = before - plan.changes.len();
    if left_out > 0 {
        notes.push(format!(
            "a restore only adds back: {left_out} removal(s) that the backup's lists imply (something added since) are left out; `ramstate diff` of the backup shows them"
        ));
    }

    for bu in &backup.users {
        let declared = scoped.declared.user(&bu.name);
        let line = declared.map_or(0, |d| d.line);
        let record = declared
            .and_then(|d| d.tags.as_ref())
            .and_then(|t| t.get(TAG_KEY))
            .and_then(|v| Record::parse(v));
        user(&mut plan, &mut notes, bu, line, record.as_ref(), inventory);
        logon_status(&mut plan, bu, record.as_ref());
    }
    for a in &backup.attachments {
        let line = scoped.declared.policy(&a.policy).map_or(0, |p| p.line);
        attachment(&mut plan, &mut notes, a, line, inventory);
    }
    super::diff::sort_changes(&mut plan.changes);
    super::decision::decide(&scoped, &mut plan.changes);
    Ok(Restore { plan, notes })
}

/// The backup narrowed to `only` (with the groups and custom policies those users
/// need), managing nothing.
fn scope(
    desired: &DesiredState,
    backup: &Backup,
    only: &[String],
) -> Result<(DesiredState, Backup), String> {
    let mut d = desired.clone();
    d.managed.clear();
    d.keep.clear();
    let mut b = backup.clone();
    if only.is_empty() {
        return Ok((d, b));
    }
    for name in only {
        if d.declared.user(name).is_none() {
            let known: Vec<&str> = d.declared.users.iter().map(|u| u.name.as_str()).collect();
            return Err(format!(
                "the backup holds no user {name}; it holds: {}",
                if known.is_empty() {
                    "no user".to_string()
                } else {
                    known.join(", ")
                }
            ));
        }
    }
    let wanted = |n: &str| only.iter().any(|o| o.eq_ignore_ascii_case(n));
    d.declared.users.retain(|u| wanted(&u.name));
    b.users.retain(|u| wanted(&u.name));
    // Attachments to principals that stayed belong to no user's restore.
    b.attachments.clear();
    let groups: Vec<String> = d
        .declared
        .users
        .iter()
        .flat_map(|u| u.groups.iter().flatten())
        .map(|g| g.value.to_lowercase())
        .collect();
    d.declared
        .groups
        .retain(|g| groups.contains(&g.name.to_lowercase()));
    for g in &mut d.declared.groups {
        if let Some(members) = &mut g.members {
            members.retain(|m| wanted(&m.value));
        }
    }
    let custom = |p: &crate::config::Named<PolicyRef>| {
        (p.value.policy_type == PolicyType::Custom).then(|| p.value.name.clone())
    };
    let policies: Vec<crate::model::Name> = d
        .declared
        .users
        .iter()
        .flat_map(|u| u.policies.iter().flatten())
        .chain(
            d.declared
                .groups
                .iter()
                .flat_map(|g| g.policies.iter().flatten()),
        )
        .filter_map(custom)
        .collect();
    d.declared
        .policies
        .retain(|p| policies.iter().any(|n| *n == p.name));
    d.declared.roles.clear();
    Ok((d, b))
}

fn change(address: super::Address, op: Op, reason: Reason) -> Change {
    Change {
        address,
        op,
        reason,
        before: None,
        after: None,
        decided_by: None,
    }
}

fn status_word(s: KeyStatus) -> &'static str {
    match s {
        KeyStatus::Active => "active",
        KeyStatus::Inactive => "inactive",
    }
}

/// A deleted policy's attachment to a principal that stayed: attached again once the
/// policy is back, unless it is there already; a principal gone since is noted.
fn attachment(
    plan: &mut Plan,
    notes: &mut Vec<String>,
    a: &BackupAttachment,
    line: usize,
    inv: &Inventory,
) {
    let same = |n: &str| n.eq_ignore_ascii_case(&a.principal);
    let policy = PolicyRef {
        policy_type: PolicyType::Custom,
        name: a.policy.as_str().into(),
    };
    let live: Option<(String, &[PolicyRef])> = match a.principal_type {
        BackupPrincipalType::User => inv
            .users
            .iter()
            .find(|u| same(&u.name))
            .map(|u| (u.name.clone(), u.policies.as_slice())),
        BackupPrincipalType::Group => inv
            .groups
            .iter()
            .find(|g| same(&g.name))
            .map(|g| (g.name.clone(), g.policies.as_slice())),
        BackupPrincipalType::Role => inv
            .roles
            .iter()
            .find(|r| same(&r.name))
            .map(|r| (r.name.clone(), r.policies.as_slice())),
    };
    let kind = match a.principal_type {
        BackupPrincipalType::User => "user",
        BackupPrincipalType::Group => "group",
        BackupPrincipalType::Role => "role",
    };
    let Some((name, attached)) = live else {
        notes.push(format!(
            "{kind} {} is no longer in the account: policy {} is not attached to it again",
            a.principal, a.policy
        ));
        return;
    };
    if attached.contains(&policy) {
        return;
    }
    let (res, principal) = match a.principal_type {
        BackupPrincipalType::User => (Resource::User(name.as_str().into()), Principal::user(&name)),
        BackupPrincipalType::Group => (
            Resource::Group(name.as_str().into()),
            Principal::group(&name),
        ),
        BackupPrincipalType::Role => (Resource::Role(name.as_str().into()), Principal::role(&name)),
    };
    let address = res.part(Part::Policy(policy.clone()));
    if plan.changes.iter().any(|c| c.address == address) {
        return;
    }
    plan.changes.push(change(
        address,
        Op::AttachPolicy { principal, policy },
        Reason::Backup {
            line,
            what: format!("policy {} was attached to {kind} {name}", a.policy),
        },
    ));
}

/// A console logon the restore creates again comes back switched off when it was off
/// before: before the deactivation, if the user was deactivated (the backup, taken after
/// it, saw it off either way), else when the backup saw it.
fn logon_status(plan: &mut Plan, bu: &BackupUser, record: Option<&Record>) {
    let status = match record {
        Some(r) if r.console_logon => LoginProfileStatus::Active,
        Some(_) => LoginProfileStatus::Inactive,
        None => bu.console_logon_status,
    };
    for c in &mut plan.changes {
        if let Op::CreateLoginProfile {
            user, status: s, ..
        } = &mut c.op
            && user.eq_ignore_ascii_case(&bu.name)
        {
            *s = status;
        }
    }
}

/// The status a restored key gets: Active when the user's deactivation record names it
/// (the backup is taken after the deactivation, so it saw every key Inactive), else the
/// status the backup records; and the words that say why.
fn wanted_status(k: &crate::config::BackupKey, record: Option<&Record>) -> (KeyStatus, String) {
    match record {
        Some(r) if r.keys.contains(&k.id) => (
            KeyStatus::Active,
            format!(
                "access key {} was active before the deactivation on {}",
                k.id,
                seconds(r.at)
            ),
        ),
        _ => (
            k.status,
            format!("access key {} was {}", k.id, status_word(k.status)),
        ),
    }
}

/// The steps for one backed-up user beyond its declaration's. A user the backup shows
/// deactivated (its record tag) comes back as it was before the deactivation: the keys
/// the record names Active, and the record removed once they are.
fn user(
    plan: &mut Plan,
    notes: &mut Vec<String>,
    bu: &BackupUser,
    line: usize,
    record: Option<&Record>,
    inv: &Inventory,
) {
    let live = inv
        .users
        .iter()
        .find(|u| u.name.eq_ignore_ascii_case(&bu.name));
    let name = live.map_or(bu.name.clone(), |u| u.name.clone());
    let res = Resource::User(name.as_str().into());
    let binned = |key: &str, user_id: &str| -> Option<&RecycledAccessKey> {
        inv.recycle_bin
            .access_keys
            .iter()
            .find(|k| k.id == key && k.user_id == user_id)
    };
    let restore_keys = |plan: &mut Plan, notes: &mut Vec<String>, user_id: &str| {
        let mut lost = Vec::new();
        for k in &bu.access_keys {
            if live.is_some_and(|u| u.access_keys.iter().any(|x| x.id == k.id)) {
                continue;
            }
            if binned(&k.id, user_id).is_none() {
                lost.push(k.id.clone());
                continue;
            }
            plan.changes.push(change(
                res.clone().part(Part::AccessKey(k.id.as_str().into())),
                Op::RestoreRecycledAccessKey {
                    user: name.as_str().into(),
                    user_id: user_id.to_string().into(),
                    key: k.id.as_str().into(),
                },
                Reason::Backup {
                    line,
                    what: format!("access key {} of {name} is in the recycle bin", k.id),
                },
            ));
            let (status, what) = wanted_status(k, record);
            plan.changes.push(change(
                res.clone()
                    .part(Part::AccessKeyStatus(k.id.as_str().into())),
                Op::SetAccessKeyStatus {
                    user: name.as_str().into(),
                    key: k.id.as_str().into(),
                    status,
                },
                Reason::Backup { line, what },
            ));
        }
        if !lost.is_empty() {
            notes.push(format!(
                "access key(s) {} of {name} are not in the recycle bin (purged, or deleted more than 30 days ago): they cannot be restored; create new keys for {name}",
                lost.join(", ")
            ));
        }
    };
    match live {
        None => {
            let in_bin = inv.recycle_bin.users.iter().find(|r| r.id == bu.id);
            let created = plan
                .changes
                .iter()
                .position(|c| matches!(&c.op, Op::CreateUser { name: n, .. } if *n == name));
            match (in_bin, created) {
                (Some(r), Some(i)) => {
                    let profile = match &plan.changes[i].op {
                        Op::CreateUser { profile, .. } => profile.clone(),
                        _ => UserProfile::default(),
                    };
                    if profile == UserProfile::default() {
                        plan.changes.remove(i);
                    } else {
                        plan.changes[i].op = Op::UpdateUser {
                            name: name.as_str().into(),
                            profile,
                        };
                        plan.changes[i].reason = Reason::Backup {
                            line,
                            what: format!("{name}'s profile is set again after its restore"),
                        };
                    }
                    let since = r
                        .recycle_date
                        .as_ref()
                        .map(|d| format!(" since {d}"))
                        .unwrap_or_default();
                    plan.changes.push(change(
                        res.clone().part(Part::RecycleBin),
                        Op::RestoreRecycledUser {
                            name: name.as_str().into(),
                            user_id: bu.id.as_str().into(),
                        },
                        Reason::Backup {
                            line,
                            what: format!("{name} (ID {}) is in the recycle bin{since}", bu.id),
                        },
                    ));
                    restore_keys(plan, notes, &bu.id);
                    // The identity may come back with its tags: the record of the
                    // deactivation goes once what it names is back on (removing a tag
                    // the user does not carry is no error).
                    if let Some(r) = record {
                        let domain = inv
                            .account
                            .default_domain
                            .clone()
                            .unwrap_or_else(|| crate::model::initial_domain(&inv.account.id));
                        plan.changes.push(change(
                            res.clone().part(Part::Deactivation),
                            Op::ClearDeactivation {
                                user: name.as_str().into(),
                                principal_name: format!("{name}@{domain}").into(),
                            },
                            Reason::Backup {
                                line,
                                what: format!(
                                    "{name} was deactivated on {} before its deletion: it comes back as it was before",
                                    seconds(r.at)
                                ),
                            },
                        ));
                    }
                }
                _ => {
                    let keys: Vec<&str> = bu.access_keys.iter().map(|k| k.id.as_str()).collect();
                    let mut note = format!(
                        "{name} (ID {}) is not in the recycle bin: it is created anew, with a new ID",
                        bu.id
                    );
                    if !keys.is_empty() {
                        note.push_str(&format!(
                            "; its access keys ({}) cannot be recreated with the same secret: create new keys and hand them out again",
                            keys.join(", ")
                        ));
                    }
                    notes.push(note);
                }
            }
        }
        Some(u) => {
            if u.id != bu.id {
                notes.push(format!(
                    "a user named {name} with another ID ({}) is in the account: the backup's {name} (ID {}) is not restored over it; the backup's settings are set on the user that is there",
                    u.id, bu.id
                ));
            }
            for k in &bu.access_keys {
                let (status, what) = wanted_status(k, record);
                let address = res
                    .clone()
                    .part(Part::AccessKeyStatus(k.id.as_str().into()));
                // A reactivation the declaration's diff plans already sets it.
                if plan.changes.iter().any(|c| c.address == address) {
                    continue;
                }
                if let Some(have) = u.access_keys.iter().find(|x| x.id == k.id)
                    && have.status != status
                {
                    plan.changes.push(change(
                        address,
                        Op::SetAccessKeyStatus {
                            user: name.as_str().into(),
                            key: k.id.as_str().into(),
                            status,
                        },
                        Reason::Backup {
                            line,
                            what: format!("{what}, is {}", status_word(have.status)),
                        },
                    ));
                }
            }
            restore_keys(plan, notes, &u.id);
        }
    }
    if let Some(serial) = &bu.mfa_device
        && live.is_none_or(|u| u.mfa_device.is_none())
    {
        notes.push(format!(
            "{name} had the MFA device {serial}: a restore cannot bind it again; {name} must bind an MFA device again at the next console logon"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccessKey, ApiCall, Group, RecycleBin, RecycledUser, User};

    const BACKUP: &str = r#"version: 1
account: { id: "1234567890123456" }
manage: []
resources:
  users:
    - name: alice
      display_name: Alice
      groups: [dev]
      policies: [System/ReadOnlyAccess]
backup:
  written: 2026-12-02T00:00:00Z
  users:
    - name: alice
      id: "2001"
      access_keys: [{ id: LTAIa, status: Active }]
      mfa_device: acs:ram::1234567890123456:mfa/alice
"#;

    fn caller() -> Caller {
        Caller {
            account_id: "1234567890123456".into(),
            identity_type: "Account".into(),
            ..Caller::default()
        }
    }

    fn account(bin: bool) -> Inventory {
        let mut inv = Inventory::default();
        inv.account.id = "1234567890123456".into();
        inv.groups.push(Group {
            name: "dev".into(),
            ..Group::default()
        });
        if bin {
            inv.recycle_bin = RecycleBin {
                users: vec![RecycledUser {
                    id: "2001".into(),
                    principal_name: "alice@1234567890123456.onaliyun.com".into(),
                    ..RecycledUser::default()
                }],
                access_keys: vec![RecycledAccessKey {
                    id: "LTAIa".into(),
                    user_id: "2001".into(),
                    ..Default::default()
                }],
            };
        }
        inv
    }

    fn plan_of(inv: &Inventory, only: &[String]) -> Restore {
        let d = crate::config::parse(BACKUP, "backup.yaml").unwrap();
        restore(&d, d.backup.as_ref().unwrap(), inv, &caller(), only).unwrap()
    }

    fn ops(r: &Restore) -> Vec<String> {
        r.plan
            .changes
            .iter()
            .map(|c| c.address.to_string())
            .collect()
    }

    #[test]
    fn a_binned_user_is_restored_first_and_what_hangs_off_it_waits_for_it() {
        let r = plan_of(&account(true), &[]);
        assert_eq!(
            ops(&r),
            [
                "user.alice/recycle_bin",
                "user.alice/access_key.LTAIa",
                "user.alice/access_key.LTAIa/status",
                "user.alice/group.dev",
                "user.alice/policy.System/ReadOnlyAccess",
                "user.alice",
            ]
        );
        assert!(
            !r.plan
                .changes
                .iter()
                .any(|c| matches!(c.op, Op::CreateUser { .. }))
        );
        let g = crate::graph::build(&r.plan).unwrap();
        for i in 1..g.len() {
            assert!(
                g.dependencies(i).contains(&0),
                "{} waits for the restore",
                g.step(i).address
            );
        }
        let status = g.dependencies(2);
        assert!(status.contains(&1), "a key's status waits for the key");
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("must bind an MFA device again"))
        );
    }

    /// The backup with a console logon declared for alice, plus `extra` under her
    /// declaration (a deactivation record) and `status` under her backup entry.
    fn logon_status_of(tags: &str, status: &str) -> (LoginProfileStatus, ApiCall) {
        let text = BACKUP
            .replace(
                "      display_name: Alice\n",
                &format!(
                    "      display_name: Alice\n      console_logon: {{ enabled: true, initial_password_env: PW_ALICE }}\n{tags}"
                ),
            )
            .replace(
                "      mfa_device: acs:ram::1234567890123456:mfa/alice\n",
                &format!("      mfa_device: acs:ram::1234567890123456:mfa/alice\n{status}"),
            );
        let d = crate::config::parse(&text, "backup.yaml").unwrap();
        let r = restore(
            &d,
            d.backup.as_ref().unwrap(),
            &account(true),
            &caller(),
            &[],
        )
        .unwrap();
        let op = r
            .plan
            .changes
            .iter()
            .map(|c| &c.op)
            .find(|op| matches!(op, Op::CreateLoginProfile { .. }))
            .expect("the console logon is created again")
            .clone();
        let Op::CreateLoginProfile { status, .. } = &op else {
            unreachable!()
        };
        (*status, crate::plan::call(&op))
    }

    #[test]
    fn a_console_logon_comes_back_switched_off_when_it_was_off_before() {
        let (status, call) = logon_status_of("", "");
        assert_eq!(status, LoginProfileStatus::Active);
        assert_eq!(call.action, "CreateLoginProfile");
        assert!(!call.params.contains_key("Status"), "{call:?}");

        // The backup saw it off, and no deactivation switched it off.
        let (status, call) = logon_status_of("", "      console_logon_status: Inactive\n");
        assert_eq!(status, LoginProfileStatus::Inactive);
        assert_eq!(call.service, crate::model::Service::Ims);
        assert_eq!(
            call.params.get("Status").map(String::as_str),
            Some("Inactive")
        );
        assert_eq!(
            call.params.get("UserPrincipalName").map(String::as_str),
            Some("alice@1234567890123456.onaliyun.com")
        );

        // Deactivated by ramstate: the record says what was on before.
        let record = |v: &str| format!("      tags: {{ \"ramstate:deactivated\": \"{v}\" }}\n");
        let off = "      console_logon_status: Inactive\n";
        let (status, _) = logon_status_of(&record("2026-11-01T00:00:00.000Z console LTAIa"), off);
        assert_eq!(status, LoginProfileStatus::Active, "it was on before");
        let (status, _) = logon_status_of(&record("2026-11-01T00:00:00.000Z LTAIa"), off);
        assert_eq!(status, LoginProfileStatus::Inactive, "it was already off");
    }

    #[test]
    fn a_user_no_longer_in_the_bin_is_created_and_its_keys_are_named_as_lost() {
        let r = plan_of(&account(false), &[]);
        assert!(matches!(r.plan.changes[0].op, Op::CreateUser { .. }));
        assert!(!r.plan.changes.iter().any(|c| c.action() == Action::Restore));
        assert!(
            r.notes
                .iter()
                .any(|n| n.contains("created anew") && n.contains("LTAIa")),
            "{:?}",
            r.notes
        );
    }

    #[test]
    fn a_user_already_back_as_the_backup_says_plans_nothing() {
        let mut inv = account(false);
        inv.users.push(User {
            name: "alice".into(),
            id: "2001".into(),
            display_name: Some("Alice".into()),
            access_keys: vec![AccessKey {
                id: "LTAIa".into(),
                secret: None,
                status: KeyStatus::Active,
                create_date: None,
                last_used_date: None,
            }],
            groups: vec!["dev".into()],
            policies: vec!["System/ReadOnlyAccess".parse().unwrap()],
            ..User::default()
        });
        let r = plan_of(&inv, &[]);
        assert!(r.plan.is_empty(), "{:?}", ops(&r));
        // A key disabled since is enabled again; nothing is ever removed.
        inv.users[0].access_keys[0].status = KeyStatus::Inactive;
        inv.users[0].groups.push("ops".into());
        let r = plan_of(&inv, &[]);
        assert_eq!(ops(&r), ["user.alice/access_key.LTAIa/status"]);
        assert!(r.notes.iter().any(|n| n.contains("only adds back")));
    }

    #[test]
    fn a_user_the_backup_does_not_hold_is_an_error() {
        let d = crate::config::parse(BACKUP, "backup.yaml").unwrap();
        let e = restore(
            &d,
            d.backup.as_ref().unwrap(),
            &account(true),
            &caller(),
            &["carol".into()],
        )
        .unwrap_err();
        assert!(e.contains("holds no user carol; it holds: alice"), "{e}");
    }
}
