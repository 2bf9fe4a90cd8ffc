use std::sync::Mutex;
use std::sync::atomic::AtomicBool;

use super::executor::{Silent, StepResult, StepStatus};
use super::*;
use crate::graph;
use crate::model::{Caller, Group, Inventory, Kind, PolicyRef, Role, User};
use crate::plan::{Op, Plan, Principal, Reason, Resource};

/// Records what it was asked to run; every step succeeds.
#[derive(Default)]
struct Recorder {
    ran: Mutex<Vec<Address>>,
}

impl Runner for Recorder {
    async fn run(&self, change: &Change, _: &DeletionTasks) -> StepResult {
        self.ran.lock().unwrap().push(change.address.clone());
        StepResult::Done
    }
}

/// ci-bot signs with LTAIbot, belongs to group admins (with Custom/ci-admin attached)
/// and has Custom/ci-deploy attached; it signs in through OIDC provider github.
fn account() -> (Inventory, Caller) {
    let inv = Inventory {
        users: vec![
            User {
                name: "ci-bot".into(),
                groups: vec!["admins".into()],
                policies: vec![PolicyRef::custom("ci-deploy")],
                ..User::default()
            },
            User {
                name: "alice".into(),
                groups: vec!["admins".into()],
                ..User::default()
            },
        ],
        groups: vec![Group {
            name: "admins".into(),
            policies: vec![PolicyRef::custom("ci-admin")],
            ..Group::default()
        }],
        roles: vec![Role {
            name: "Deployer".into(),
            ..Role::default()
        }],
        ..Inventory::default()
    };
    let caller = Caller {
        account_id: "1234567890123456".into(),
        arn: "acs:ram::1234567890123456:user/ci-bot".into(),
        identity_type: "RAMUser".into(),
        user_name: Some("ci-bot".into()),
        role_name: None,
        access_key_id: Some("LTAIbot".into()),
        oidc_provider: Some("github".into()),
    };
    (inv, caller)
}

fn change(i: usize, op: Op) -> Change {
    Change {
        // Unique addresses; where the step sits does not matter to the executor's check.
        address: Resource::Application(format!("step{i}").into()).address(),
        op,
        reason: Reason::NotKept(Kind::Applications),
        before: None,
        after: None,
        decided_by: None,
    }
}

fn plan(ops: Vec<Op>) -> Plan {
    Plan {
        format_version: crate::plan::FORMAT_VERSION,
        account_id: "1234567890123456".into(),
        managed: vec![],
        changes: ops
            .into_iter()
            .enumerate()
            .map(|(i, op)| change(i, op))
            .collect(),
        protected: vec![],
        kept: vec![],
        held: vec![],
        planned_at: None,
        unmatched_rules: vec![],
        missed_keeps: vec![],
        inventory_fingerprint: None,
    }
}

fn run(ops: Vec<Op>, protection: Protection) -> (ApplyReport, Vec<Address>) {
    let g = graph::build(&plan(ops)).unwrap();
    let runner = Recorder::default();
    let options = Options {
        parallelism: 4,
        protection,
    };
    let cancel = AtomicBool::new(false);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let report = rt.block_on(execute(&g, &runner, &options, &cancel, &Silent));
    (report, runner.ran.into_inner().unwrap())
}

/// Every kind of step, aimed at something of the caller's, is refused by the executor
/// itself, without a call: the plan-level guard is bypassed by building the plan by hand.
#[test]
fn the_executor_refuses_every_kind_of_step_that_affects_the_callers_identity() {
    let (inv, caller) = account();
    let protection = crate::plan::protection(&inv, &caller);
    let user = || "CI-BOT".to_string(); // RAM compares user names without case
    let cases: Vec<(&str, Op)> = vec![
        (
            "user",
            Op::DetachPolicy {
                principal: Principal::user(user()),
                policy: PolicyRef::system("ReadOnlyAccess"),
            },
        ),
        (
            "user",
            Op::RemoveMember {
                user: user().into(),
                group: "admins".into(),
            },
        ),
        (
            "user",
            Op::DeleteLoginProfile {
                user: user().into(),
            },
        ),
        (
            "user",
            Op::UnbindMfaDevice {
                user: user().into(),
                serial_number: "acs:ram::1234567890123456:mfa/ci-bot".into(),
            },
        ),
        (
            "user",
            Op::DeleteUser {
                name: user().into(),
                id: "2001".into(),
            },
        ),
        (
            "key",
            Op::DeactivateAccessKey {
                user: "someone".into(),
                key: "LTAIbot".into(),
            },
        ),
        (
            "key",
            Op::DeleteAccessKey {
                user: "someone".into(),
                key: "LTAIbot".into(),
            },
        ),
        // A deactivation of the caller: its record, its console logon, its key.
        (
            "user",
            Op::RecordDeactivation {
                user: user().into(),
                principal_name: "ci-bot@1234567890123456.onaliyun.com".into(),
                record: "2026-12-02T09:30:00.000Z LTAIbot".into(),
            },
        ),
        (
            "user",
            Op::DisableConsoleLogon {
                user: user().into(),
                principal_name: "ci-bot@1234567890123456.onaliyun.com".into(),
            },
        ),
        (
            "user",
            Op::DeactivateAccessKey {
                user: user().into(),
                key: "LTAIother".into(),
            },
        ),
        (
            "group",
            Op::DetachPolicy {
                principal: Principal::group("admins"),
                policy: PolicyRef::custom("ci-admin"),
            },
        ),
        (
            "group",
            Op::DeleteGroup {
                name: "Admins".into(),
            },
        ),
        (
            "policy",
            Op::DeletePolicy {
                name: "ci-admin".into(),
            },
        ),
        (
            "policy",
            Op::DeletePolicy {
                name: "ci-deploy".into(),
            },
        ),
        (
            "provider",
            Op::DeleteOidcProvider {
                name: "github".into(),
            },
        ),
    ];
    // One walk per step: together, some would only be skipped behind another refusal.
    for (what, op) in cases {
        let shown = format!("{op:?}");
        let (report, ran) = run(vec![op], protection.clone());
        assert!(ran.is_empty(), "{shown} must never reach the API");
        assert!(
            matches!(&report.statuses[..], [StepStatus::Refused { .. }]),
            "{shown} touches the caller's {what}: {:?}",
            report.statuses
        );
    }
}

#[test]
fn the_role_a_session_runs_as_is_refused_whatever_deletes_it() {
    let (inv, mut caller) = account();
    caller.user_name = None;
    caller.access_key_id = None;
    caller.role_name = Some("deployer".into());
    let protection = crate::plan::protection(&inv, &caller);
    for op in [
        Op::DetachPolicy {
            principal: Principal::role("Deployer"),
            policy: PolicyRef::system("AdministratorAccess"),
        },
        Op::DeleteRole {
            name: "Deployer".into(),
        },
        Op::DeleteServiceLinkedRole {
            name: "deployer".into(),
        },
    ] {
        let (report, ran) = run(vec![op], protection.clone());
        assert!(ran.is_empty(), "{ran:?}");
        assert_eq!(report.tally().refused, 1);
    }
}

#[test]
fn steps_that_leave_the_caller_as_it_is_run() {
    let (inv, caller) = account();
    let protection = crate::plan::protection(&inv, &caller);
    // alice leaves the caller's group, and a caller's policy is detached from alice: the
    // caller's permissions stay the same.
    let (report, ran) = run(
        vec![
            Op::RemoveMember {
                user: "alice".into(),
                group: "admins".into(),
            },
            Op::DetachPolicy {
                principal: Principal::user("alice"),
                policy: PolicyRef::custom("ci-admin"),
            },
            Op::DeleteUser {
                name: "alice".into(),
                id: Default::default(),
            },
        ],
        protection,
    );
    assert!(report.all_done(), "{:?}", report.statuses);
    assert_eq!(ran.len(), 3);
}

#[test]
fn what_depends_on_a_refused_step_is_skipped_and_named_after_it() {
    let (inv, caller) = account();
    let protection = crate::plan::protection(&inv, &caller);
    // The group's deletion waits for its detach, which is refused.
    let (report, ran) = run(
        vec![
            Op::DetachPolicy {
                principal: Principal::group("admins"),
                policy: PolicyRef::system("ReadOnlyAccess"),
            },
            Op::DeleteGroup {
                name: "admins".into(),
            },
        ],
        protection,
    );
    assert!(ran.is_empty());
    assert!(matches!(report.statuses[0], StepStatus::Refused { .. }));
    assert_eq!(report.statuses[1], StepStatus::Skipped { root: 0 });
}

#[test]
fn a_refusal_names_the_call_and_what_it_would_affect() {
    let (inv, caller) = account();
    let protection = crate::plan::protection(&inv, &caller);
    let c = change(
        0,
        Op::DeleteAccessKey {
            user: "ci-bot".into(),
            key: "LTAIbot".into(),
        },
    );
    assert_eq!(
        refusal(&c, &protection).as_deref(),
        Some(
            "refused: DeleteAccessKey would affect user ci-bot (the caller's own user: ramstate runs as it)"
        )
    );
    assert_eq!(refusal(&c, &Protection::default()), None);
}
