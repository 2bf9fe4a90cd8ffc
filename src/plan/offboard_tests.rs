//! The pure diff of offboarding, planned at a given time.

use time::OffsetDateTime;
use time::macros::datetime;

use super::*;
use crate::config::{DesiredState, parse};
use crate::model::{Caller, Inventory};

const NOW: OffsetDateTime = datetime!(2026-12-02 09:30:00 UTC);

fn inventory(yaml: &str) -> Inventory {
    yaml_serde::from_str(yaml).unwrap()
}

fn desired(yaml: &str) -> DesiredState {
    parse(yaml, "test.yaml")
        .unwrap_or_else(|e| panic!("{e:?}"))
        .at(NOW)
}

fn nobody() -> Caller {
    Caller {
        account_id: "1234567890123456".into(),
        arn: "acs:ram::1234567890123456:root".into(),
        identity_type: "Account".into(),
        ..Caller::default()
    }
}

fn calls(p: &Plan) -> Vec<String> {
    p.changes.iter().map(|c| c.call().to_string()).collect()
}

/// alice: console logon on, one Active and one Inactive key, used long ago.
fn alice(extra: &str) -> Inventory {
    inventory(&format!(
        r#"
account: {{id: "1234567890123456"}}
users:
  - name: alice
    id: "2001"
    last_login_date: "2026-01-05T10:00:00Z"
    access_keys:
      - {{id: LTAIalice1, status: Active, last_used_date: "2026-02-01T00:00:00Z"}}
      - {{id: LTAIalice2, status: Inactive}}
    login_profile: {{}}
    groups: [dev]
{extra}
"#
    ))
}

fn tagged(record: &str, rest: &str) -> Inventory {
    inventory(&format!(
        r#"
account: {{id: "1234567890123456"}}
users:
  - name: alice
    id: "2001"
    tags: {{"ramstate:deactivated": "{record}"}}
{rest}
"#
    ))
}

const DEACTIVATE: &str = "version: 1\nmanage: [users]\noffboarding: {deactivate_first: true}\n";

#[test]
fn deactivate_first_records_the_user_then_switches_off_its_console_logon_and_active_keys() {
    let p = diff(&desired(DEACTIVATE), &alice(""), &nobody());
    assert_eq!(
        calls(&p),
        [
            "TagResources ResourcePrincipalName.1=alice@1234567890123456.onaliyun.com ResourceType=user Tag.1.Key=ramstate:deactivated Tag.1.Value=2026-12-02T09:30:00.000Z console LTAIalice1",
            "UpdateAccessKey Status=Inactive UserAccessKeyId=LTAIalice1 UserName=alice",
            "UpdateLoginProfile Status=Inactive UserPrincipalName=alice@1234567890123456.onaliyun.com",
        ]
    );
    // Nothing is deleted, and nothing is switched off before the record is written.
    assert!(p.changes.iter().all(|c| !c.action().is_destroy()));
    let g = crate::graph::build(&p).unwrap();
    let record = p
        .changes
        .iter()
        .position(|c| c.address == "user.alice/deactivation")
        .unwrap();
    for (i, c) in p.changes.iter().enumerate() {
        if i != record {
            assert_eq!(g.dependencies(i), vec![record], "{}", c.address);
        }
    }
    assert_eq!(
        p.changes[record].why().to_string(),
        "users are managed and no keep rule matches; offboarding.deactivate_first: deactivated now (console logon and access keys switched off), deletable after 2026-12-09T09:30:00Z"
    );
    assert_eq!(p.planned_at.as_deref(), Some("2026-12-02T09:30:00.000Z"));
    assert!(p.held.is_empty());
}

#[test]
fn a_deactivated_user_is_held_during_its_quarantine_with_the_date_it_becomes_deletable() {
    let inv = tagged(
        "2026-11-28T09:30:00.000Z console LTAIalice1",
        "    access_keys: [{id: LTAIalice1, status: Inactive}]\n    login_profile: {status: Inactive}\n",
    );
    let p = diff(&desired(DEACTIVATE), &inv, &nobody());
    assert!(p.is_empty(), "{:?}", calls(&p));
    assert_eq!(p.held.len(), 1);
    let h = &p.held[0];
    assert_eq!(h.address, "user.alice");
    assert_eq!(h.deactivated_at.as_deref(), Some("2026-11-28T09:30:00Z"));
    assert_eq!(h.deletable_after.as_deref(), Some("2026-12-05T09:30:00Z"));
    assert!(
        h.reason.contains("deletable after 2026-12-05T09:30:00Z"),
        "{}",
        h.reason
    );
    assert_eq!(p.summary().held, 1);
}

#[test]
fn a_deactivated_user_past_its_quarantine_is_deleted_without_switching_anything_off_again() {
    let inv = tagged(
        "2026-11-22T09:30:00.000Z console LTAIalice1",
        "    access_keys: [{id: LTAIalice1, status: Inactive}]\n    login_profile: {status: Inactive}\n",
    );
    let p = diff(&desired(DEACTIVATE), &inv, &nobody());
    assert_eq!(
        calls(&p),
        [
            "DeleteAccessKey UserAccessKeyId=LTAIalice1 UserName=alice",
            "DeleteLoginProfile UserName=alice",
            "DeleteUser UserName=alice",
        ]
    );
    assert_eq!(
        p.change("user.alice").unwrap().why().to_string(),
        "users are managed and no keep rule matches; deactivated on 2026-11-22T09:30:00Z, its 7-day quarantine is over and nothing used it since"
    );
    assert!(p.held.is_empty());
}

#[test]
fn the_quarantine_counts_from_the_record_whether_or_not_deactivate_first_is_on() {
    let inv = tagged("2026-11-28T09:30:00.000Z", "");
    let p = diff(&desired("version: 1\nmanage: [users]\n"), &inv, &nobody());
    assert!(p.is_empty());
    assert_eq!(p.held.len(), 1);
    let zero = "version: 1\nmanage: [users]\noffboarding: {quarantine_days: 0}\n";
    let p = diff(&desired(zero), &inv, &nobody());
    assert_eq!(calls(&p), ["DeleteUser UserName=alice"]);
}

#[test]
fn a_key_used_after_the_deactivation_holds_the_deletion_and_says_when() {
    let inv = tagged(
        "2026-11-20T09:30:00.000Z LTAIalice1",
        "    access_keys: [{id: LTAIalice1, status: Inactive, last_used_date: \"2026-11-22T11:00:00Z\"}]\n",
    );
    let p = diff(&desired(DEACTIVATE), &inv, &nobody());
    assert!(p.is_empty(), "{:?}", calls(&p));
    let h = &p.held[0];
    assert!(
        h.reason
            .starts_with("key LTAIalice1 used 2 days after deactivation (2026-11-22T11:00:00Z)"),
        "{}",
        h.reason
    );
    assert_eq!(h.last_used.as_deref(), Some("2026-11-22T11:00:00Z"));
    // A console logon after the deactivation holds it too.
    let inv = tagged(
        "2026-11-20T09:30:00.000Z",
        "    last_login_date: \"2026-11-20T10:00:00Z\"\n",
    );
    let p = diff(&desired(DEACTIVATE), &inv, &nobody());
    assert!(
        p.held[0]
            .reason
            .starts_with("console logon used the same day after deactivation"),
        "{}",
        p.held[0].reason
    );
}

#[test]
fn a_tagged_user_with_something_still_active_is_finished_and_keeps_its_first_date() {
    // A run stopped after the record: the key and the console are still on.
    let inv = tagged(
        "2026-11-30T09:30:00.000Z console LTAIalice1",
        "    access_keys: [{id: LTAIalice1, status: Active}]\n    login_profile: {}\n",
    );
    let p = diff(&desired(DEACTIVATE), &inv, &nobody());
    assert_eq!(
        calls(&p),
        [
            "UpdateAccessKey Status=Inactive UserAccessKeyId=LTAIalice1 UserName=alice",
            "UpdateLoginProfile Status=Inactive UserPrincipalName=alice@1234567890123456.onaliyun.com",
        ]
    );
    assert!(
        p.changes[0].why().to_string().starts_with(
            "user.alice was deactivated on 2026-11-30T09:30:00Z but this is still Active"
        ),
        "{}",
        p.changes[0].why()
    );
    // Something Active that the record does not name is added to it, same date.
    let inv = tagged(
        "2026-11-30T09:30:00.000Z",
        "    access_keys: [{id: LTAInew, status: Active}]\n",
    );
    let p = diff(&desired(DEACTIVATE), &inv, &nobody());
    assert_eq!(
        calls(&p),
        [
            "TagResources ResourcePrincipalName.1=alice@1234567890123456.onaliyun.com ResourceType=user Tag.1.Key=ramstate:deactivated Tag.1.Value=2026-11-30T09:30:00.000Z LTAInew",
            "UpdateAccessKey Status=Inactive UserAccessKeyId=LTAInew UserName=alice",
        ]
    );
}

#[test]
fn the_idle_guard_holds_a_recently_used_user_and_the_flag_releases_it() {
    let inv = inventory(
        r#"
account: {id: "1234567890123456"}
users:
  - name: bob
    last_login_date: "2026-11-29T08:00:00Z"
    access_keys: [{id: LTAIbob, status: Active, last_used_date: "2026-11-30T08:00:00Z"}]
  - name: carol
    last_login_date: "2026-01-01T08:00:00Z"
"#,
    );
    let file = "version: 1\nmanage: [users]\noffboarding: {min_idle_days: 30}\n";
    let p = diff(&desired(file), &inv, &nobody());
    assert_eq!(calls(&p), ["DeleteUser UserName=carol"]);
    assert_eq!(p.held.len(), 1);
    assert_eq!(p.held[0].address, "user.bob");
    assert_eq!(
        p.held[0].reason,
        "used within 30 days: key LTAIbob used 2026-11-30T08:00:00Z, console logon used 2026-11-29T08:00:00Z; --ignore-idle-guard removes it anyway"
    );
    assert_eq!(p.held[0].last_used.as_deref(), Some("2026-11-30T08:00:00Z"));

    let mut ignoring = desired(file);
    ignoring.ignore_idle_guard = true;
    let p = diff(&ignoring, &inv, &nobody());
    assert!(p.held.is_empty());
    let bob = p.change("user.bob").unwrap();
    assert!(
        bob.why()
            .to_string()
            .ends_with("ignored by --ignore-idle-guard"),
        "{}",
        bob.why()
    );
}

#[test]
fn the_idle_guard_holds_a_deactivation_too() {
    let inv = alice("");
    let file =
        "version: 1\nmanage: [users]\noffboarding: {deactivate_first: true, min_idle_days: 400}\n";
    let p = diff(&desired(file), &inv, &nobody());
    assert!(p.is_empty());
    assert_eq!(p.held[0].last_used.as_deref(), Some("2026-02-01T00:00:00Z"));
}

#[test]
fn a_deactivated_user_kept_again_gets_back_exactly_what_was_active_then_loses_the_record() {
    // LTAIalice2 was Inactive before the deactivation: it stays Inactive.
    let inv = tagged(
        "2026-11-30T09:30:00.000Z console LTAIalice1",
        "    access_keys: [{id: LTAIalice1, status: Inactive}, {id: LTAIalice2, status: Inactive}]\n    login_profile: {status: Inactive}\n",
    );
    let file = "version: 1\nmanage: [users]\nkeep: {users: [alice]}\noffboarding: {deactivate_first: true}\n";
    let p = diff(&desired(file), &inv, &nobody());
    assert_eq!(
        calls(&p),
        [
            "UpdateAccessKey Status=Active UserAccessKeyId=LTAIalice1 UserName=alice",
            "UpdateLoginProfile Status=Active UserPrincipalName=alice@1234567890123456.onaliyun.com",
            "UntagResources ResourcePrincipalName.1=alice@1234567890123456.onaliyun.com ResourceType=user TagKey.1=ramstate:deactivated",
        ]
    );
    assert_eq!(
        p.changes[0].why().to_string(),
        "user.alice is kept again (keep.users: name alice (line 3)): what was Active before its deactivation on 2026-11-30T09:30:00Z comes back"
    );
    // The record goes last.
    let g = crate::graph::build(&p).unwrap();
    assert_eq!(g.dependencies(2), vec![0, 1]);
}

#[test]
fn a_declared_user_is_reactivated_and_its_declared_tags_leave_the_record_alone() {
    let inv = tagged(
        "2026-11-30T09:30:00.000Z LTAIalice1",
        "    access_keys: [{id: LTAIalice1, status: Inactive}]\n",
    );
    let file = "version: 1\nmanage: [users]\nresources:\n  users:\n    - name: alice\n      tags: {team: ops}\n";
    let p = diff(&desired(file), &inv, &nobody());
    let c = calls(&p);
    assert!(
        c.contains(
            &"UpdateAccessKey Status=Active UserAccessKeyId=LTAIalice1 UserName=alice".to_string()
        ),
        "{c:?}"
    );
    // The declared tags add `team` and do not untag the record themselves.
    assert_eq!(
        c.iter().filter(|c| c.starts_with("Untag")).count(),
        1,
        "{c:?}"
    );
    assert!(p.change("user.alice/deactivation").is_some());
}

#[test]
fn a_plain_deletion_needs_no_date_and_the_plan_carries_none() {
    let mut d = desired("version: 1\nmanage: [users]\n");
    d.now = None;
    let p = diff(&d, &alice(""), &nobody());
    assert!(calls(&p).contains(&"DeleteUser UserName=alice".to_string()));
    assert_eq!(p.planned_at, None);
    // Without a date, offboarding decides nothing: the user is held.
    let mut d = desired(DEACTIVATE);
    d.now = None;
    let p = diff(&d, &alice(""), &nobody());
    assert!(p.is_empty());
    assert_eq!(p.held.len(), 1);
}

#[test]
fn a_tag_that_is_no_record_holds_the_user() {
    let p = diff(&desired(DEACTIVATE), &tagged("soon", ""), &nobody());
    assert!(p.is_empty());
    assert!(p.held[0].reason.contains("is not a deactivation record"));
}

#[test]
fn the_callers_own_user_is_never_deactivated() {
    let caller = Caller {
        user_name: Some("alice".into()),
        access_key_id: Some("LTAIalice1".into()),
        identity_type: "RAMUser".into(),
        ..nobody()
    };
    let p = diff(&desired(DEACTIVATE), &alice(""), &caller);
    assert!(p.is_empty());
    assert_eq!(p.protected[0].address, "user.alice");
}
