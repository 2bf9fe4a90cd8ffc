use super::*;
use crate::config::{DesiredState, KeepRule, parse};
use crate::model::{Caller, Inventory};

fn inventory(yaml: &str) -> Inventory {
    yaml_serde::from_str(yaml).unwrap()
}

fn desired(yaml: &str) -> DesiredState {
    parse(yaml, "test.yaml").unwrap_or_else(|e| panic!("{e:?}"))
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

fn addresses(p: &Plan) -> Vec<String> {
    p.changes.iter().map(|c| c.address.to_string()).collect()
}

const ACCOUNT: &str = r#"
account: {id: "1234567890123456"}
users:
  - name: alice
    id: "2001"
    access_keys: [{id: LTAIalice1, status: Active}, {id: LTAIalice2, status: Inactive}]
    login_profile: {}
    mfa_device: "acs:ram::1234567890123456:mfa/alice"
    groups: [dev]
    policies: [System/ReadOnlyAccess, Custom/ops]
  - name: ci-bot
    id: "2002"
    groups: [dev]
    policies: [Custom/ops]
groups:
  - name: dev
    policies: [Custom/ops]
roles:
  - name: deployer
    policies: [Custom/ops]
  - name: AliyunServiceRoleForECS
policies:
  - name: ops
    versions: [{id: v1, is_default: true, document: "{}"}, {id: v2, document: "{}"}]
virtual_mfa_devices:
  - {serial_number: "acs:ram::1234567890123456:mfa/alice", user: alice}
  - {serial_number: "acs:ram::1234567890123456:mfa/spare"}
"#;

#[test]
fn removed_user_is_emptied_then_deleted_without_a_wasted_key_deactivation() {
    let p = diff(
        &desired("version: 1\nmanage: [users]\nkeep: {users: [ci-bot]}\n"),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert_eq!(
        calls(&p),
        vec![
            "DeleteAccessKey UserAccessKeyId=LTAIalice1 UserName=alice",
            "DeleteAccessKey UserAccessKeyId=LTAIalice2 UserName=alice",
            "RemoveUserFromGroup GroupName=dev UserName=alice",
            "DeleteLoginProfile UserName=alice",
            "UnbindMFADevice UserName=alice",
            "DetachPolicyFromUser PolicyName=ops PolicyType=Custom UserName=alice",
            "DetachPolicyFromUser PolicyName=ReadOnlyAccess PolicyType=System UserName=alice",
            "DeleteUser UserName=alice",
        ]
    );
    assert!(p.changes.iter().all(|c| c.resource() == "user.alice"));
    assert_eq!(p.kept.len(), 1);
    assert_eq!(p.kept[0].address, "user.ci-bot");
    assert_eq!(p.kept[0].rule, "keep.users: name ci-bot (line 3)");
    assert_eq!(
        p.summary(),
        Summary {
            add: 0,
            change: 0,
            destroy: 8,
            held: 0,
        }
    );
}

#[test]
fn unmanaged_kinds_are_left_alone() {
    let p = diff(
        &desired("version: 1\nmanage: [saml_providers]\n"),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert!(p.is_empty());
    assert!(p.kept.is_empty());
}

#[test]
fn removed_group_with_kept_member_removes_the_membership_on_the_group_side() {
    let p = diff(
        &desired("version: 1\nmanage: [users, groups]\nkeep: {users: [alice, ci-bot]}\n"),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert_eq!(
        addresses(&p),
        vec![
            "group.dev/member.alice",
            "group.dev/member.ci-bot",
            "group.dev/policy.Custom/ops",
            "group.dev",
        ]
    );
    assert_eq!(
        p.changes[0].call().to_string(),
        "RemoveUserFromGroup GroupName=dev UserName=alice"
    );
    assert!(
        p.changes[0]
            .why()
            .to_string()
            .contains("blocks the deletion of group.dev")
    );
}

#[test]
fn removed_group_and_removed_member_share_one_removal() {
    let p = diff(
        &desired("version: 1\nmanage: [users, groups]\nkeep: {users: [ci-bot]}\n"),
        &inventory(ACCOUNT),
        &nobody(),
    );
    let removals: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.action() == Action::RemoveMember)
        .map(|c| c.address.to_string())
        .collect();
    assert_eq!(
        removals,
        vec!["user.alice/group.dev", "group.dev/member.ci-bot"]
    );
}

#[test]
fn removed_custom_policy_is_detached_from_kept_principals_then_deleted_with_its_versions() {
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, groups, roles, policies]\nkeep: {users: [ci-bot], groups: [dev], roles: [deployer]}\n",
        ),
        &inventory(ACCOUNT),
        &nobody(),
    );
    let policy: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.resource() == "policy.ops")
        .map(|c| c.call().to_string())
        .collect();
    assert_eq!(
        policy,
        vec![
            "DetachPolicyFromGroup GroupName=dev PolicyName=ops PolicyType=Custom",
            "DetachPolicyFromRole PolicyName=ops PolicyType=Custom RoleName=deployer",
            "DetachPolicyFromUser PolicyName=ops PolicyType=Custom UserName=ci-bot",
            "DeletePolicy CascadingDelete=true PolicyName=ops",
        ]
    );
    // alice goes, so her attachment is detached as part of her removal, once.
    assert!(p.change("user.alice/policy.Custom/ops").is_some());
    assert!(p.change("policy.ops/attachment.user.alice").is_none());
}

#[test]
fn detaching_a_removed_policy_from_a_principal_that_stays_says_it_stays_without_it() {
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, groups, roles, policies]\nkeep: {users: [ci-bot], groups: [dev], roles: [deployer]}\n",
        ),
        &inventory(ACCOUNT),
        &nobody(),
    );
    for (address, who) in [
        ("policy.ops/attachment.user.ci-bot", "user ci-bot"),
        ("policy.ops/attachment.group.dev", "group dev"),
        ("policy.ops/attachment.role.deployer", "role deployer"),
    ] {
        let c = p.change(address).expect(address);
        assert_eq!(
            c.why().to_string(),
            format!("blocks the deletion of policy.ops; {who} stays without it")
        );
    }
}

#[test]
fn kept_policy_is_never_detached_from_a_kept_principal() {
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, groups, roles, policies]\nkeep: {users: [ci-bot], groups: [dev], roles: [deployer], policies: [ops]}\n",
        ),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert!(
        p.changes.iter().all(|c| c.resource() == "user.alice"
            || c.resource() == "service_linked_role.AliyunServiceRoleForECS"
            || c.resource().to_string().starts_with("virtual_mfa")),
        "{:#?}",
        addresses(&p)
    );
    assert!(
        p.changes
            .iter()
            .filter(|c| c.action() == Action::Detach)
            .all(|c| c.call().params["UserName"] == "alice")
    );
}

#[test]
fn removed_ordinary_role_is_detached_then_deleted_through_ram() {
    let p = diff(
        &desired("version: 1\nmanage: [roles]\n"),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert_eq!(
        calls(&p),
        vec![
            "DetachPolicyFromRole PolicyName=ops PolicyType=Custom RoleName=deployer",
            "DeleteRole RoleName=deployer",
        ]
    );
}

#[test]
fn service_linked_roles_go_only_through_resource_manager_when_managed() {
    let inv = inventory(ACCOUNT);
    let p = diff(
        &desired("version: 1\nmanage: [service_linked_roles]\n"),
        &inv,
        &nobody(),
    );
    assert_eq!(p.changes.len(), 1);
    let c = &p.changes[0];
    assert_eq!(c.address, "service_linked_role.AliyunServiceRoleForECS");
    assert_eq!(c.call().service, crate::model::Service::ResourceManager);
    assert_eq!(
        c.call().to_string(),
        "DeleteServiceLinkedRole RoleName=AliyunServiceRoleForECS"
    );
}

#[test]
fn removed_user_bound_to_a_device_is_unbound_then_the_device_deleted() {
    let p = diff(
        &desired("version: 1\nmanage: [users, virtual_mfa_devices]\nkeep: {users: [ci-bot]}\n"),
        &inventory(ACCOUNT),
        &nobody(),
    );
    let unbind = p.change("user.alice/mfa_device").unwrap();
    assert_eq!(unbind.action(), Action::Unbind);
    assert_eq!(
        unbind.before.as_ref().unwrap()["serial_number"],
        "acs:ram::1234567890123456:mfa/alice"
    );
    let dev = p.change("virtual_mfa_device.alice").unwrap();
    assert_eq!(
        dev.call().to_string(),
        "DeleteVirtualMFADevice SerialNumber=acs:ram::1234567890123456:mfa/alice"
    );
    assert!(
        p.change("virtual_mfa_device.spare")
            .unwrap()
            .why()
            .to_string()
            .contains("not bound")
    );
}

#[test]
fn removed_user_with_devices_unmanaged_is_unbound_but_the_device_stays() {
    let p = diff(
        &desired("version: 1\nmanage: [users]\nkeep: {users: [ci-bot]}\n"),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert!(p.change("user.alice/mfa_device").is_some());
    assert!(
        !p.changes
            .iter()
            .any(|c| c.call().action == "DeleteVirtualMFADevice")
    );
}

#[test]
fn device_of_a_kept_user_is_kept() {
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, virtual_mfa_devices]\nkeep: {users: [alice, ci-bot]}\n",
        ),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert_eq!(addresses(&p), vec!["virtual_mfa_device.spare"]);
    assert!(p.kept.contains(&Kept {
        address: "virtual_mfa_device.alice".parse().unwrap(),
        rule: "bound to user alice, which is kept".into(),
        line: None,
    }));
}

#[test]
fn caller_user_is_protected_with_its_groups_and_policies() {
    let caller = Caller {
        user_name: Some("ci-bot".into()),
        identity_type: "RAMUser".into(),
        ..nobody()
    };
    let p = diff(
        &desired("version: 1\nmanage: all\n"),
        &inventory(ACCOUNT),
        &caller,
    );
    let protected: Vec<String> = p.protected.iter().map(|x| x.address.to_string()).collect();
    assert_eq!(protected, vec!["group.dev", "policy.ops", "user.ci-bot"]);
    assert!(p.protected[2].reason.contains("caller's own user"));
    for c in &p.changes {
        assert_ne!(
            c.call().params.get("UserName").map(String::as_str),
            Some("ci-bot")
        );
        if c.call().action != "RemoveUserFromGroup" {
            assert_ne!(
                c.call().params.get("GroupName").map(String::as_str),
                Some("dev"),
                "{}",
                c.address
            );
        }
        assert_ne!(c.call().action, "DeletePolicy", "{}", c.address);
    }
    // alice still goes, and leaves the protected group on her own side.
    assert!(p.change("user.alice").is_some());
    assert!(p.change("user.alice/group.dev").is_some());
}

#[test]
fn caller_access_key_protects_its_owner() {
    let caller = Caller {
        access_key_id: Some("LTAIalice2".into()),
        ..nobody()
    };
    let p = diff(
        &desired("version: 1\nmanage: [users]\n"),
        &inventory(ACCOUNT),
        &caller,
    );
    assert!(p.change("user.alice").is_none());
    assert!(!p.changes.iter().any(|c| {
        c.call()
            .params
            .get("UserAccessKeyId")
            .is_some_and(|k| k.starts_with("LTAIalice"))
    }));
    assert_eq!(p.protected[0].address, "user.alice");
    assert!(p.protected[0].reason.contains("LTAIalice2"));
    assert!(p.change("user.ci-bot").is_some());
}

#[test]
fn caller_role_is_protected_with_its_policies() {
    let caller = Caller {
        role_name: Some("deployer".into()),
        identity_type: "AssumedRoleUser".into(),
        ..nobody()
    };
    let p = diff(
        &desired("version: 1\nmanage: [roles, policies]\n"),
        &inventory(ACCOUNT),
        &caller,
    );
    assert!(p.is_empty(), "{:#?}", addresses(&p));
    let protected: Vec<String> = p.protected.iter().map(|x| x.address.to_string()).collect();
    assert_eq!(protected, vec!["policy.ops", "role.deployer"]);
}

#[test]
fn protection_is_not_listed_when_a_rule_keeps_the_caller_anyway() {
    let caller = Caller {
        user_name: Some("ci-bot".into()),
        ..nobody()
    };
    let p = diff(
        &desired("version: 1\nmanage: [users]\nkeep: {users: [ci-bot]}\n"),
        &inventory(ACCOUNT),
        &caller,
    );
    assert!(p.protected.is_empty());
}

const SETTINGS: &str = r#"
account: {id: "1234567890123456", alias: demo, default_domain: demo.onaliyun.com}
saml_providers: [{name: okta}]
oidc_providers: [{name: github, issuer_url: "https://token.actions.githubusercontent.com"}]
applications: [{app_id: "4724570903440410000", app_name: portal}]
recycle_bin:
  users: [{id: "2009", principal_name: "gone@demo.onaliyun.com"}]
  access_keys: [{id: LTAIgone1, user_id: "2009"}, {id: LTAIorphan, user_id: "2010"}]
"#;

#[test]
fn closure_kinds_each_use_their_own_api() {
    let p = diff(
        &desired("version: 1\nmanage: all\nrecycle_bin: purge\n"),
        &inventory(SETTINGS),
        &nobody(),
    );
    let got: Vec<(String, String)> = p
        .changes
        .iter()
        .map(|c| {
            (
                c.address.to_string(),
                format!("{:?} {}", c.call().service, c.call()),
            )
        })
        .collect();
    let want = [
        (
            "saml_provider.okta",
            "Ims DeleteSAMLProvider SAMLProviderName=okta",
        ),
        (
            "oidc_provider.github",
            "Ims DeleteOIDCProvider OIDCProviderName=github",
        ),
        (
            "default_domain",
            "Ims SetDefaultDomain DefaultDomainName=1234567890123456.onaliyun.com",
        ),
        (
            "application.portal",
            "Ims DeleteApplication AppId=4724570903440410000",
        ),
        (
            "recycle_bin.access_key.LTAIorphan",
            "Ims DeleteAccessKeyInRecycleBin UserAccessKeyId=LTAIorphan UserId=2010",
        ),
        (
            "recycle_bin.user.2009/access_key.LTAIgone1",
            "Ims DeleteAccessKeyInRecycleBin UserAccessKeyId=LTAIgone1 UserId=2009",
        ),
        (
            "recycle_bin.user.2009",
            "Ims DeleteUserInRecycleBin UserId=2009",
        ),
        ("account_alias", "Ram ClearAccountAlias"),
    ]
    .map(|(a, b)| (a.to_string(), b.to_string()));
    assert_eq!(got, want);
}

#[test]
fn settings_set_to_keep_plan_nothing() {
    let p = diff(
        &desired(
            "version: 1\nmanage: all\nrecycle_bin: keep\ndefault_domain: keep\naccount_alias: keep\nkeep: {saml_providers: [okta], oidc_providers: [{glob: \"git*\"}], applications: [portal]}\n",
        ),
        &inventory(SETTINGS),
        &nobody(),
    );
    assert!(p.is_empty(), "{:#?}", addresses(&p));
    assert_eq!(p.kept.len(), 3);
}

#[test]
fn default_domain_already_initial_is_no_change() {
    let inv = inventory(
        "account: {id: \"1234567890123456\", default_domain: 1234567890123456.onaliyun.com}\n",
    );
    let p = diff(
        &desired("version: 1\nmanage: [default_domain]\n"),
        &inv,
        &nobody(),
    );
    assert!(p.is_empty());
}

#[test]
fn keep_rules_by_tag_and_date_keep_matching_entities() {
    let inv = inventory(
        r#"
account: {id: "1234567890123456"}
users:
  - {name: a, tags: {team: platform}}
  - {name: b, tags: {team: data}, create_date: "2024-05-01T00:00:00Z"}
  - {name: c, create_date: "2019-05-01T00:00:00Z"}
  - {name: d, create_date: "2025-05-01T00:00:00Z"}
"#,
    );
    let d = DesiredState::new([Kind::Users])
        .with_keep(Kind::Users, KeepRule::tag("team", Some("platform".into())))
        .with_keep(Kind::Users, KeepRule::created_before("2020-01-01").unwrap());
    let p = diff(&d, &inv, &nobody());
    assert_eq!(addresses(&p), vec!["user.b", "user.d"]);
    assert_eq!(p.kept[0].rule, "keep.users: tag team=platform");
    assert_eq!(p.kept[1].rule, "keep.users: created_before 2020-01-01");
    assert!(p.held.is_empty());
}

#[test]
fn an_undated_entity_of_a_kind_with_a_created_before_rule_is_held_not_removed() {
    let inv = inventory(
        r#"
account: {id: "1234567890123456"}
users:
  - {name: undated}
  - {name: garbled, create_date: "last spring"}
  - {name: new, create_date: "2025-05-01T00:00:00Z"}
groups:
  - {name: undated-group}
"#,
    );
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, groups]\nkeep:\n  users: [{created_before: \"2020-01-01\"}]\n",
        ),
        &inv,
        &nobody(),
    );
    // Groups have no created_before rule: an undated group goes as before.
    assert_eq!(addresses(&p), vec!["user.new", "group.undated-group"]);
    let held: Vec<(String, &str, Option<usize>)> = p
        .held
        .iter()
        .map(|h| (h.address.to_string(), h.reason.as_str(), h.line))
        .collect();
    assert_eq!(held.len(), 2, "{held:?}");
    assert_eq!(held[0].0, "user.garbled");
    assert!(
        held[0].1.starts_with(
            "its creation date is not a date, so keep.users: created_before 2020-01-01 (line 4)"
        ),
        "{held:?}"
    );
    assert_eq!(held[1].0, "user.undated");
    assert!(
        held[1].1.contains("creation date is unknown") && held[1].1.contains("held, never removed"),
        "{held:?}"
    );
    assert_eq!(held[1].2, Some(4));
}

#[test]
fn caller_role_named_in_lower_case_is_still_protected() {
    let caller = Caller {
        role_name: Some("deployer".into()),
        ..nobody()
    };
    let inv = inventory(
        "account: {id: \"1234567890123456\"}\nroles: [{name: Deployer}, {name: other}]\n",
    );
    let p = diff(&desired("version: 1\nmanage: [roles]\n"), &inv, &caller);
    assert_eq!(addresses(&p), vec!["role.other"]);
    assert_eq!(p.protected[0].address, "role.Deployer");
}

#[test]
fn keep_rules_that_match_nothing_are_reported() {
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, groups]\nkeep:\n  users: [ci-bto, {glob: \"ci-*\"}]\n  groups: [{regex: \"^ops\"}]\n",
        ),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert_eq!(
        p.unmatched_rules,
        vec![
            "keep.users: name ci-bto (line 4); did you mean ci-bot?".to_string(),
            "keep.groups: regex ^ops (line 5)".to_string(),
        ]
    );
    assert!(
        p.change("user.ci-bot").is_none(),
        "the glob still keeps ci-bot"
    );
}

#[test]
fn a_binding_known_only_from_the_device_is_still_unbound() {
    let inv = inventory(
        "account: {id: \"1234567890123456\"}\nusers: [{name: bob}]\nvirtual_mfa_devices: [{serial_number: \"acs:ram::1234567890123456:mfa/bob\", user: bob}]\n",
    );
    let p = diff(
        &desired("version: 1\nmanage: [users, virtual_mfa_devices]\n"),
        &inv,
        &nobody(),
    );
    assert_eq!(
        calls(&p),
        vec![
            "UnbindMFADevice UserName=bob",
            "DeleteUser UserName=bob",
            "DeleteVirtualMFADevice SerialNumber=acs:ram::1234567890123456:mfa/bob",
        ]
    );
}

#[test]
fn diff_is_deterministic_and_records_the_inventory_fingerprint() {
    let inv = inventory(ACCOUNT);
    let d = desired("version: 1\nmanage: all\n");
    let a = diff(&d, &inv, &nobody());
    let b = diff(&d, &inv, &nobody());
    assert_eq!(a, b);
    assert_eq!(a.inventory_fingerprint, Some(fingerprint(&inv)));
    assert_eq!(a.account_id, "1234567890123456");
    let addrs = addresses(&a);
    let unique: std::collections::BTreeSet<_> = addrs.iter().collect();
    assert_eq!(unique.len(), addrs.len(), "addresses are unique");
    // The JSON form shows each step's API call as derived from its operation.
    let json = serde_json::to_value(&a).unwrap();
    for (c, j) in a.changes.iter().zip(json["changes"].as_array().unwrap()) {
        assert_eq!(j["address"], c.address.to_string());
        assert_eq!(j["call"], serde_json::to_value(c.call()).unwrap());
        assert_eq!(j["reason"], c.why().to_string());
    }
}

#[test]
fn fetch_kinds_add_what_removals_depend_on() {
    let f = fetch_kinds(&[Kind::Policies].into_iter().collect());
    assert!(f.contains(&Kind::Users) && f.contains(&Kind::Groups) && f.contains(&Kind::Roles));
    let f = fetch_kinds(&[Kind::Groups].into_iter().collect());
    assert_eq!(f, [Kind::Users, Kind::Groups].into_iter().collect());
}

#[test]
fn using_a_key_or_logging_in_does_not_change_the_fingerprint() {
    let a = inventory(ACCOUNT);
    let mut b = a.clone();
    for u in &mut b.users {
        u.last_login_date = Some("2026-11-24T00:00:00Z".into());
        for k in &mut u.access_keys {
            k.last_used_date = Some("2026-11-24T00:00:00Z".into());
        }
    }
    assert_eq!(fingerprint(&a), fingerprint(&b));
}

#[test]
fn a_changed_account_changes_the_fingerprint() {
    let a = inventory(ACCOUNT);
    let mut b = a.clone();
    b.users[0].comments = Some("changed".into());
    assert_ne!(fingerprint(&a), fingerprint(&b));
}

#[test]
fn a_name_rule_that_matches_nothing_suggests_a_near_name_of_its_kind_only() {
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, groups, roles]\nkeep:\n  users: [ALICE, alcie, zed, dev]\n  groups: [devv]\n  roles: [ci-bot]\n",
        ),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert_eq!(
        p.unmatched_rules,
        vec![
            "keep.users: name ALICE (line 4); did you mean alice?".to_string(),
            "keep.users: name alcie (line 4); did you mean alice?".to_string(),
            "keep.users: name zed (line 4)".to_string(),
            "keep.users: name dev (line 4)".to_string(),
            "keep.groups: name devv (line 5); did you mean dev?".to_string(),
            "keep.roles: name ci-bot (line 6)".to_string(),
        ]
    );
}

#[test]
fn edit_distance_counts_a_swap_of_neighbours_as_one_edit() {
    use super::diff::edit_distance as d;
    assert_eq!(d("ci-bto", "ci-bot"), 1);
    assert_eq!(d("alice", "alice"), 0);
    assert_eq!(d("bob", "bobby"), 2);
    assert_eq!(d("", "abc"), 3);
}

#[test]
fn the_oidc_provider_the_caller_signs_in_through_is_protected() {
    let caller = Caller {
        arn: "acs:ram::1234567890123456:assumed-role/deployer/ci".into(),
        identity_type: "AssumedRoleUser".into(),
        role_name: Some("deployer".into()),
        oidc_provider: Some("github".into()),
        ..nobody()
    };
    let p = diff(
        &desired("version: 1\nmanage: [oidc_providers]\n"),
        &inventory(SETTINGS),
        &caller,
    );
    assert!(!calls(&p).iter().any(|c| c.contains("DeleteOIDCProvider")));
    assert!(
        p.protected
            .iter()
            .any(|x| x.address == "oidc_provider.github" && x.reason.contains("signs in")),
        "{:?}",
        p.protected
    );
}

#[test]
fn manage_all_without_recycle_bin_purge_purges_nothing() {
    let inv = inventory(
        "account: {id: \"1234567890123456\"}\nusers: [{name: bob, id: \"2001\"}]\nrecycle_bin:\n  users: [{id: \"2009\", principal_name: \"gone@demo.onaliyun.com\"}]\n  access_keys: [{id: LTAIgone1, user_id: \"2009\"}]\n",
    );
    let p = diff(&desired("version: 1\nmanage: all\n"), &inv, &nobody());
    assert_eq!(calls(&p), vec!["DeleteUser UserName=bob"]);
    assert!(!p.changes.iter().any(|c| c.action() == Action::Purge));
    let p = diff(
        &desired("version: 1\nmanage: all\nrecycle_bin: purge\n"),
        &inv,
        &nobody(),
    );
    assert_eq!(
        calls(&p),
        vec![
            "DeleteUser UserName=bob",
            "DeleteUserInRecycleBin UserId=2001",
            "DeleteAccessKeyInRecycleBin UserAccessKeyId=LTAIgone1 UserId=2009",
            "DeleteUserInRecycleBin UserId=2009",
        ]
    );
}

#[test]
fn a_recycled_user_a_keep_rule_or_declaration_names_is_never_purged_nor_its_keys() {
    let inv = inventory(
        r#"
account: {id: "1234567890123456"}
users: [{name: carol, id: "2003", tags: {team: x}}]
recycle_bin:
  users:
    - {id: "2009", principal_name: "ci-bot@demo.onaliyun.com"}
    - {id: "2010", principal_name: "ana@demo.onaliyun.com"}
    - {id: "2011", principal_name: "gone@demo.onaliyun.com"}
  access_keys:
    - {id: LTAIbot, user_id: "2009"}
    - {id: LTAIgone, user_id: "2011"}
    - {id: LTAIcarol, user_id: "2003"}
"#,
    );
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, recycle_bin]\nrecycle_bin: purge\nkeep:\n  users: [ci-bot, carol]\nresources:\n  users:\n    - name: ana\n",
        ),
        &inv,
        &nobody(),
    );
    let purged: Vec<String> = p
        .changes
        .iter()
        .filter(|c| c.action() == Action::Purge)
        .map(|c| c.address.to_string())
        .collect();
    assert_eq!(
        purged,
        vec![
            "recycle_bin.user.2011/access_key.LTAIgone",
            "recycle_bin.user.2011"
        ]
    );
    let kept: Vec<(String, String)> = p
        .kept
        .iter()
        .filter(|k| k.address.to_string().starts_with("recycle_bin"))
        .map(|k| (k.address.to_string(), k.rule.clone()))
        .collect();
    assert_eq!(
        kept,
        vec![
            (
                "recycle_bin.access_key.LTAIcarol".to_string(),
                "its user carol is kept by keep.users: name carol (line 5)".to_string()
            ),
            (
                "recycle_bin.user.2009".to_string(),
                "keep.users: name ci-bot (line 5)".to_string()
            ),
            (
                "recycle_bin.user.2009/access_key.LTAIbot".to_string(),
                "its user ci-bot is kept by keep.users: name ci-bot (line 5)".to_string()
            ),
            (
                "recycle_bin.user.2010".to_string(),
                "declared on line 8".to_string()
            ),
        ]
    );
    assert!(p.unmatched_rules.is_empty(), "{:?}", p.unmatched_rules);
}

#[test]
fn an_unmatched_keep_rule_whose_near_name_the_plan_deletes_is_a_missed_keep() {
    let p = diff(
        &desired(
            "version: 1\nmanage: [users]\nkeep:\n  users: [Ci-bot, ci-bt, alice, nobody-near]\n",
        ),
        &inventory(ACCOUNT),
        &nobody(),
    );
    let missed: Vec<(String, Option<usize>, String)> = p
        .missed_keeps
        .iter()
        .map(|m| (m.rule.clone(), m.line, m.meant.to_string()))
        .collect();
    assert_eq!(
        missed,
        vec![
            (
                "keep.users: name Ci-bot (line 4)".to_string(),
                Some(4),
                "user.ci-bot".to_string()
            ),
            (
                "keep.users: name ci-bt (line 4)".to_string(),
                Some(4),
                "user.ci-bot".to_string()
            ),
        ]
    );
    assert_eq!(
        p.missed_keeps[0].to_string(),
        "keep.users: name Ci-bot (line 4) matches nothing, and the plan deletes user.ci-bot, which it most likely meant"
    );
    assert_eq!(p.unmatched_rules.len(), 3, "{:?}", p.unmatched_rules);
    // Kept by another rule, the near name is not deleted: a warning only.
    let p = diff(
        &desired("version: 1\nmanage: [users]\nkeep:\n  users: [Ci-bot, {glob: \"ci-*\"}]\n"),
        &inventory(ACCOUNT),
        &nobody(),
    );
    assert!(p.missed_keeps.is_empty());
    assert_eq!(p.unmatched_rules.len(), 1);
}

#[test]
fn an_unmatched_keep_rule_meaning_a_recycled_user_the_plan_purges_is_a_missed_keep() {
    let inv = inventory(
        "account: {id: \"1234567890123456\"}\nrecycle_bin:\n  users: [{id: \"2009\", principal_name: \"ci-bot@demo.onaliyun.com\"}]\n",
    );
    let p = diff(
        &desired(
            "version: 1\nmanage: [users, recycle_bin]\nrecycle_bin: purge\nkeep: {users: [CI-Bot]}\n",
        ),
        &inv,
        &nobody(),
    );
    assert_eq!(p.missed_keeps.len(), 1);
    assert_eq!(p.missed_keeps[0].meant.to_string(), "recycle_bin.user.2009");
    assert!(
        p.missed_keeps[0]
            .to_string()
            .contains("the plan purges recycle_bin.user.2009")
    );
}

#[test]
fn the_resource_directory_access_role_is_protected_unless_the_file_deletes_it() {
    let inv = inventory(
        "account: {id: \"1234567890123456\"}\nroles: [{name: ResourceDirectoryAccountAccessRole}, {name: other}]\n",
    );
    let p = diff(&desired("version: 1\nmanage: [roles]\n"), &inv, &nobody());
    assert_eq!(addresses(&p), vec!["role.other"]);
    assert_eq!(p.protected.len(), 1);
    assert_eq!(
        p.protected[0].address,
        "role.ResourceDirectoryAccountAccessRole"
    );
    assert!(p.protected[0].reason.contains("Resource Directory"));
    let p = diff(
        &desired("version: 1\nmanage: [roles]\nresource_directory_access_role: delete\n"),
        &inv,
        &nobody(),
    );
    assert_eq!(
        addresses(&p),
        vec!["role.ResourceDirectoryAccountAccessRole", "role.other"]
    );
}

#[test]
fn the_identity_providers_the_callers_role_trusts_are_protected() {
    let inv = inventory(
        r#"
account: {id: "1234567890123456"}
roles:
  - name: ci
    assume_role_policy_document: '{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["acs:ram::1234567890123456:oidc-provider/github","acs:ram::1234567890123456:saml-provider/okta"]}},{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":"acs:ram::9999999999999999:oidc-provider/other"}}]}'
oidc_providers: [{name: github, issuer_url: "https://token.actions.githubusercontent.com"}, {name: other, issuer_url: "https://x"}]
saml_providers: [{name: okta}, {name: adfs}]
"#,
    );
    let caller = Caller {
        arn: "acs:ram::1234567890123456:assumed-role/ci/session".into(),
        identity_type: "AssumedRoleUser".into(),
        role_name: Some("ci".into()),
        ..nobody()
    };
    let p = diff(
        &desired("version: 1\nmanage: [roles, saml_providers, oidc_providers]\n"),
        &inv,
        &caller,
    );
    assert_eq!(
        addresses(&p),
        vec!["saml_provider.adfs", "oidc_provider.other"]
    );
    let protected: Vec<String> = p.protected.iter().map(|x| x.address.to_string()).collect();
    assert_eq!(
        protected,
        vec!["oidc_provider.github", "role.ci", "saml_provider.okta"]
    );
    assert!(
        p.protected[0]
            .reason
            .contains("the caller's role ci trusts it")
    );
}

#[test]
fn plan_order_is_the_order_of_the_printed_addresses_within_each_tier() {
    // The sort borrows names instead of printing addresses; it must order exactly as
    // the printed (kind, resource, tier, step, address) would, shuffled input or not.
    let inv = inventory(ACCOUNT);
    let plan = diff(
        &desired("version: 1\nmanage: all\nrecycle_bin: purge\n"),
        &inv,
        &nobody(),
    );
    assert!(plan.changes.len() > 20, "{}", plan.changes.len());
    let printed = |c: &Change| {
        let tier = match &c.address.part {
            None if c.action() == Action::Create => 0,
            None => 2,
            Some(Part::RecycleBin) => 3,
            Some(_) => 1,
        };
        let step = u8::from(c.action() != Action::Deactivate);
        (
            c.resource().kind(),
            c.resource().to_string(),
            tier,
            step,
            c.address.to_string(),
        )
    };
    let mut by_text = plan.changes.clone();
    by_text.reverse();
    by_text.sort_by_cached_key(printed);
    let mut shuffled = plan.changes.clone();
    shuffled.reverse();
    shuffled.rotate_left(7);
    diff::sort_changes(&mut shuffled);
    assert_eq!(addresses_of(&shuffled), addresses_of(&by_text));
    assert_eq!(addresses_of(&plan.changes), addresses_of(&by_text));
}

fn addresses_of(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|c| c.address.to_string()).collect()
}
