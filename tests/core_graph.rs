//! The apply graph: edges per resource, derived from the calls, acyclic.

use ramstate::config::parse;
use ramstate::graph::{self, ApplyGraph, GraphError};
use ramstate::model::{Caller, Inventory};
use ramstate::plan::{self, Plan};

const ACCOUNT: &str = r#"
account: {id: "1234567890123456", alias: demo, default_domain: demo.onaliyun.com}
users:
  - name: alice
    id: "2001"
    access_keys: [{id: LTAIalice1, status: Active}]
    login_profile: {}
    mfa_device: "acs:ram::1234567890123456:mfa/alice"
    groups: [dev]
    policies: [Custom/ops]
  - name: bob
    groups: [dev]
groups:
  - {name: dev, policies: [System/ReadOnlyAccess, Custom/ops]}
roles:
  - {name: deployer, policies: [Custom/ops]}
  - {name: AliyunServiceRoleForECS}
policies:
  - name: ops
    versions: [{id: v1, is_default: true, document: "{}"}, {id: v2, document: "{}"}]
saml_providers: [{name: okta}]
virtual_mfa_devices:
  - {serial_number: "acs:ram::1234567890123456:mfa/alice", user: alice}
  - {serial_number: "acs:ram::1234567890123456:mfa/spare"}
recycle_bin:
  users: [{id: "2009", principal_name: "gone@demo.onaliyun.com"}]
  access_keys: [{id: LTAIgone1, user_id: "2009"}]
"#;

/// The closing profile: everything managed, the recycle bin purged (in words).
const EMPTY_ACCOUNT: &str = "version: 1\nmanage: all\nrecycle_bin: purge\n";

fn plan_for(file: &str) -> Plan {
    let inv: Inventory = yaml_serde::from_str(ACCOUNT).unwrap();
    let d = parse(file, "t.yaml").unwrap();
    plan::diff(&d, &inv, &Caller::default())
}

fn index(g: &ApplyGraph, address: &str) -> usize {
    (0..g.len())
        .find(|&i| g.step(i).address == address)
        .unwrap_or_else(|| panic!("no step {address}"))
}

fn deps(g: &ApplyGraph, address: &str) -> Vec<String> {
    g.dependencies(index(g, address))
        .into_iter()
        .map(|i| g.step(i).address.to_string())
        .collect()
}

#[test]
fn empty_account_graph_outline() {
    let g = graph::build(&plan_for(EMPTY_ACCOUNT)).unwrap();
    insta::assert_snapshot!(g.outline());
}

#[test]
fn user_deletion_waits_for_everything_hanging_off_the_user() {
    let g = graph::build(&plan_for(EMPTY_ACCOUNT)).unwrap();
    assert_eq!(
        deps(&g, "user.alice"),
        vec![
            "user.alice/access_key.LTAIalice1",
            "user.alice/group.dev",
            "user.alice/login_profile",
            "user.alice/mfa_device",
            "user.alice/policy.Custom/ops",
        ]
    );
    // An Active key is deleted as it is: no UpdateAccessKey step before it.
    assert!(deps(&g, "user.alice/access_key.LTAIalice1").is_empty());
}

#[test]
fn group_policy_and_device_deletions_wait_for_their_own_releases_only() {
    let g = graph::build(&plan_for(EMPTY_ACCOUNT)).unwrap();
    assert_eq!(
        deps(&g, "group.dev"),
        vec![
            "user.alice/group.dev",
            "user.bob/group.dev",
            "group.dev/policy.Custom/ops",
            "group.dev/policy.System/ReadOnlyAccess",
        ]
    );
    assert_eq!(
        deps(&g, "policy.ops"),
        vec![
            "user.alice/policy.Custom/ops",
            "group.dev/policy.Custom/ops",
            "role.deployer/policy.Custom/ops",
        ]
    );
    assert_eq!(
        deps(&g, "virtual_mfa_device.alice"),
        vec!["user.alice/mfa_device"]
    );
    assert!(deps(&g, "virtual_mfa_device.spare").is_empty());
    assert_eq!(
        deps(&g, "recycle_bin.user.2009"),
        vec!["recycle_bin.user.2009/access_key.LTAIgone1"]
    );
    // Nothing of another resource is in the way: bob's deletion does not wait for alice.
    assert_eq!(deps(&g, "user.bob"), vec!["user.bob/group.dev"]);
}

#[test]
fn settings_and_independent_deletions_are_roots() {
    let g = graph::build(&plan_for(EMPTY_ACCOUNT)).unwrap();
    let roots: Vec<String> = g
        .roots()
        .into_iter()
        .map(|i| g.step(i).address.to_string())
        .collect();
    let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
    for r in [
        "default_domain",
        "account_alias",
        "saml_provider.okta",
        "service_linked_role.AliyunServiceRoleForECS",
        "virtual_mfa_device.spare",
    ] {
        assert!(roots.contains(&r), "{r} is not a root: {roots:?}");
    }
    assert!(!roots.contains(&"user.alice"));
}

#[test]
fn a_failure_skips_exactly_its_descendants() {
    let g = graph::build(&plan_for(EMPTY_ACCOUNT)).unwrap();
    let d: Vec<String> = g
        .descendants(index(&g, "user.alice/mfa_device"))
        .into_iter()
        .map(|i| g.step(i).address.to_string())
        .collect();
    assert_eq!(
        d,
        vec![
            "user.alice",
            "user.alice/recycle_bin",
            "virtual_mfa_device.alice"
        ]
    );
}

#[test]
fn topological_order_respects_every_edge() {
    let g = graph::build(&plan_for(EMPTY_ACCOUNT)).unwrap();
    let order = g.topological_order();
    assert_eq!(order.len(), g.len());
    let pos: Vec<usize> = {
        let mut p = vec![0; g.len()];
        for (k, &i) in order.iter().enumerate() {
            p[i] = k;
        }
        p
    };
    for (a, b) in g.edges() {
        assert!(pos[a] < pos[b]);
    }
}

#[test]
fn duplicate_addresses_are_refused() {
    let mut p = plan_for("version: 1\nmanage: [saml_providers]\n");
    p.changes.push(p.changes[0].clone());
    assert!(
        matches!(graph::build(&p), Err(GraphError::DuplicateAddress(a)) if a == "saml_provider.okta")
    );
}

#[test]
fn an_empty_plan_has_an_empty_graph() {
    let g = graph::build(&plan_for("version: 1\nmanage: [oidc_providers]\n")).unwrap();
    assert!(g.is_empty());
    assert!(g.roots().is_empty());
}

#[test]
fn purging_a_deleted_user_from_the_recycle_bin_waits_for_its_deletion() {
    let g = graph::build(&plan_for(EMPTY_ACCOUNT)).unwrap();
    assert_eq!(deps(&g, "user.alice/recycle_bin"), vec!["user.alice"]);
    let d = graph::build(&plan_for("version: 1\nmanage: [users]\n")).unwrap();
    assert!((0..d.len()).all(|i| d.step(i).call().action != "DeleteUserInRecycleBin"));
}

#[test]
fn allowlist_graph_outline() {
    let g = graph::build(&plan_for(
        "version: 1\nmanage: [users, groups, policies]\nkeep:\n  users: [bob]\n  groups: [dev]\n",
    ))
    .unwrap();
    insta::assert_snapshot!(g.outline());
}
