//! Plans, inventories and readiness reports as people and programs read them.

use ramstate::config::parse;
use ramstate::model::{Caller, Inventory};
use ramstate::plan::{self, Plan};
use ramstate::readiness;
use ramstate::render;

const ACCOUNT: &str = r#"
account: {id: "1234567890123456", alias: demo, default_domain: demo.onaliyun.com}
users:
  - name: alice
    id: "2001"
    create_date: "2023-04-01T08:00:00Z"
    access_keys: [{id: LTAIalice1, status: Active, last_used_date: "2024-02-01T00:00:00Z"}]
    login_profile: {}
    mfa_device: "acs:ram::1234567890123456:mfa/alice"
    groups: [dev]
    policies: [Custom/ops]
  - name: ci-bot
    id: "2002"
    access_keys: [{id: LTAIcibot1, status: Active}]
    groups: [dev]
  - name: svc-build
    id: "2003"
groups:
  - {name: dev, policies: [System/ReadOnlyAccess]}
roles:
  - {name: deployer, policies: [Custom/ops]}
  - name: AliyunServiceRoleForECS
    usages: [{region: cn-hangzhou, resources: [i-bp1, i-bp2]}]
  - name: AliyunServiceRoleForPolarDB
policies:
  - name: ops
    description: "Ops | read"
    versions: [{id: v1, is_default: true, document: "{}"}, {id: v2, document: "{}"}]
saml_providers: [{name: okta}]
oidc_providers: [{name: github, issuer_url: "https://token.actions.githubusercontent.com"}]
virtual_mfa_devices:
  - {serial_number: "acs:ram::1234567890123456:mfa/alice", user: alice}
  - {serial_number: "acs:ram::1234567890123456:mfa/spare"}
applications: [{app_id: "4724570903440410000", app_name: portal, app_type: WebApp}]
recycle_bin:
  users: [{id: "2009", principal_name: "gone@demo.onaliyun.com"}]
  access_keys: [{id: LTAIgone1, user_id: "2009"}]
"#;

fn inventory() -> Inventory {
    yaml_serde::from_str(ACCOUNT).unwrap()
}

fn caller() -> Caller {
    Caller {
        account_id: "1234567890123456".into(),
        arn: "acs:ram::1234567890123456:user/ci-bot".into(),
        identity_type: "RAMUser".into(),
        user_name: Some("ci-bot".into()),
        access_key_id: Some("LTAIcibot1".into()),
        role_name: None,
        ..Caller::default()
    }
}

fn allowlist_plan() -> Plan {
    let d = parse(
        "version: 1\nmanage: [users, groups, roles, policies, virtual_mfa_devices]\nkeep:\n  users: [{glob: \"svc-*\"}, svc-biuld]\n  roles: [deployer]\n",
        "allowlist.yaml",
    )
    .unwrap();
    plan::diff(&d, &inventory(), &caller())
}

fn empty_account_plan() -> Plan {
    let d = parse(
        "version: 1\nmanage: all\nrecycle_bin: purge\n",
        "empty-account.yaml",
    )
    .unwrap();
    plan::diff(&d, &inventory(), &caller())
}

fn text(plan: &Plan, color: bool) -> String {
    let mut out = Vec::new();
    render::plan_text(plan, &mut out, color).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn plan_text_allowlist() {
    insta::assert_snapshot!(text(&allowlist_plan(), false));
}

#[test]
fn plan_text_empty_account() {
    insta::assert_snapshot!(text(&empty_account_plan(), false));
}

#[test]
fn plan_text_reads_the_same_without_color() {
    let plan = allowlist_plan();
    let colored = text(&plan, true);
    assert!(colored.contains("\x1b["));
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&colored, "");
    assert_eq!(stripped, text(&plan, false));
}

#[test]
fn plan_text_with_no_changes_says_so() {
    let d = parse(
        "version: 1\nmanage: [saml_providers]\nkeep: {saml_providers: [okta]}\n",
        "f",
    )
    .unwrap();
    let out = text(&plan::diff(&d, &inventory(), &caller()), false);
    assert!(
        out.ends_with("No changes. The account matches the desired state.\n"),
        "{out}"
    );
    assert!(out.contains(
        "Managing saml_providers: everything of these kinds that is not kept is removed."
    ));
}

#[test]
fn plan_json_allowlist() {
    let mut out = Vec::new();
    render::plan_json(&allowlist_plan(), &mut out).unwrap();
    let s = String::from_utf8(out).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    assert_eq!(v["format_version"], 2);
    assert_eq!(v["summary"]["destroy"], allowlist_plan().summary().destroy);
    assert_eq!(v["inventory_fingerprint"].as_str().map(str::len), Some(64));
    // The fingerprint follows the inventory's serialised form; the rest is the contract.
    let s = regex::Regex::new(r#""inventory_fingerprint": "[0-9a-f]{64}""#)
        .unwrap()
        .replace(&s, r#""inventory_fingerprint": "<sha256>""#)
        .into_owned();
    insta::assert_snapshot!(s);
}

#[test]
fn plan_json_shows_each_steps_typed_operation_beside_the_call_it_makes() {
    let plan = empty_account_plan();
    let mut out = Vec::new();
    render::plan_json(&plan, &mut out).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(v["format_version"], 2);
    let changes = v["changes"].as_array().unwrap();
    assert_eq!(changes.len(), plan.changes.len());
    for (j, c) in changes.iter().zip(&plan.changes) {
        assert_eq!(j["address"], c.address.to_string());
        assert_eq!(j["resource"], c.resource().to_string());
        assert_eq!(j["call"]["action"], c.call().action);
        assert!(j["op"]["op"].is_string(), "{j}");
    }
    let user = changes
        .iter()
        .find(|j| j["op"]["op"] == "delete_user")
        .expect("a user deletion");
    assert_eq!(user["call"]["action"], "DeleteUser");
    assert_eq!(user["op"]["name"], user["call"]["params"]["UserName"]);
}

#[test]
fn plan_markdown_allowlist() {
    let mut out = Vec::new();
    render::plan_markdown(&allowlist_plan(), &mut out).unwrap();
    let s = String::from_utf8(out).unwrap();
    insta::assert_snapshot!(s);
}

#[test]
fn inventory_text_lists_every_kind() {
    let mut out = Vec::new();
    render::inventory_text(&inventory(), &mut out).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn readiness_text_of_a_full_account() {
    let r = readiness::assess(&inventory());
    let mut out = Vec::new();
    render::readiness_text(&r, &mut out, false).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn readiness_json_of_a_full_account() {
    let r = readiness::assess(&inventory());
    let mut out = Vec::new();
    render::readiness_json(&r, &mut out).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn readiness_markdown_of_a_full_account() {
    let r = readiness::assess(&inventory());
    let mut out = Vec::new();
    render::readiness_markdown(&r, &mut out).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}

#[test]
fn unverified_account_profile_removes_each_role_through_its_own_api() {
    let inv: Inventory = yaml_serde::from_str(
        r#"
account: {id: "1234567890123456"}
roles:
  - {name: AliyunECSInstanceForYundunSysTrustRole, policies: [System/AliyunYundunSysTrustRolePolicy]}
  - {name: AliyunServiceRoleForECS}
  - {name: AliyunServiceRoleForPolarDB}
"#,
    )
    .unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/unverified-account.yaml"
    );
    let d = ramstate::config::load(std::path::Path::new(path)).unwrap();
    let plan = plan::diff(&d, &inv, &Caller::default());
    let calls: Vec<String> = plan
        .changes
        .iter()
        .map(|c| format!("{:?} {}", c.call().service, c.call()))
        .collect();
    assert_eq!(
        calls,
        vec![
            "Ram DetachPolicyFromRole PolicyName=AliyunYundunSysTrustRolePolicy PolicyType=System RoleName=AliyunECSInstanceForYundunSysTrustRole",
            "Ram DeleteRole RoleName=AliyunECSInstanceForYundunSysTrustRole",
            "ResourceManager DeleteServiceLinkedRole RoleName=AliyunServiceRoleForECS",
            "ResourceManager DeleteServiceLinkedRole RoleName=AliyunServiceRoleForPolarDB",
        ]
    );
}

#[test]
fn readiness_text_with_only_an_in_use_service_linked_role() {
    let inv: Inventory = yaml_serde::from_str(
        r#"
account: {id: "1234567890123456"}
roles:
  - name: AliyunServiceRoleForECS
    usages: [{region: cn-hangzhou, resources: [i-bp1]}, {region: cn-beijing, resources: [i-bj1]}]
"#,
    )
    .unwrap();
    let r = readiness::assess(&inv);
    assert!(!r.ready());
    assert_eq!(r.blocker_count(), 1);
    let mut out = Vec::new();
    render::readiness_text(&r, &mut out, false).unwrap();
    insta::assert_snapshot!(String::from_utf8(out).unwrap());
}
