//! What the integration tests share: the seeds they start from, the real binary
//! pointed at an emulator with checks over its request log ([`cli`]), and a tiny
//! scripted HTTP server for client tests ([`mock`]).

#![allow(dead_code, unused_imports)]

pub mod cli;
pub mod mock;

use std::path::{Path, PathBuf};

use ramstate::emulator;
use ramstate::model::Inventory;

pub use cli::*;
pub use mock::*;

pub fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The demo account of `examples/demo-account.yaml`, the one the README uses.
pub fn demo_seed() -> Inventory {
    emulator::load_seed(&repo_path("examples/demo-account.yaml")).expect("demo seed loads")
}

/// A small account with at least one of every kind. `ci-bot` has a key with a known
/// secret; `deployer` trusts the account, `gh-actions` trusts the `github` OIDC provider.
pub fn every_kind_seed() -> Inventory {
    yaml_serde::from_str(
        r#"
account:
  id: "1234567890123456"
  alias: demo
  default_domain: demo.onaliyun.com
  password_policy: {minimum_password_length: 10, require_symbols: true, max_login_attempts: 3}
  security_preference: {login_session_duration: 4, mfa_operation_for_login: mandatory, verification_types: [sms]}
users:
  - name: alice
    id: "2001"
    display_name: Alice
    email: alice@example.com
    create_date: "2024-01-02T03:04:05Z"
    last_login_date: "2024-05-01T00:00:00Z"
    tags: {team: platform}
    access_keys:
      - {id: LTAIalice1, status: Active, create_date: "2024-01-03T00:00:00Z", last_used_date: "2024-06-01T00:00:00Z"}
      - {id: LTAIalice2, status: Inactive}
    login_profile: {password_reset_required: true, create_date: "2024-01-02T03:04:05Z"}
    mfa_device: "acs:ram::1234567890123456:mfa/alice"
    groups: [dev, ops]
    policies: [System/ReadOnlyAccess, Custom/ops-read]
  - {name: bob, id: "2002"}
  - {name: carol, id: "2003", comments: contractor}
  - {name: ci-bot, id: "2004", access_keys: [{id: LTAIbot, secret: bot-secret, status: Active}]}
  - {name: dave, id: "2005", groups: [dev]}
groups:
  - {name: dev, id: g-1, comments: developers, policies: [System/AliyunECSFullAccess]}
  - {name: ops, id: g-2}
  - {name: qa, id: g-3}
roles:
  - name: deployer
    id: "3001"
    description: CI deploys
    max_session_duration: 7200
    assume_role_policy_document: '{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"RAM":["acs:ram::1234567890123456:root"]}}],"Version":"1"}'
    tags: {owner: ci}
    policies: [System/AdministratorAccess]
  - {name: AliyunServiceRoleForECS, id: "3002", assume_role_policy_document: '{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":["ecs.aliyuncs.com"]}}],"Version":"1"}'}
  - name: gh-actions
    id: "3004"
    assume_role_policy_document: '{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Federated":["acs:ram::1234567890123456:oidc-provider/github"]}}],"Version":"1"}'
    policies: [System/ReadOnlyAccess]
  - {name: auditor, id: "3003", assume_role_policy_document: '{"Version":"1"}'}
policies:
  - name: ops-read
    description: read for ops
    versions:
      - {id: v1, document: '{"Version":"1","Statement":[]}'}
      - {id: v2, is_default: true, document: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}'}
      - {id: v10, document: '{"Version":"1","Statement":[]}'}
  - {name: backup, versions: [{id: v1, is_default: true, document: '{"Version":"1"}'}]}
  - {name: zz-last, versions: [{id: v1, is_default: true, document: '{"Version":"1"}'}]}
saml_providers:
  - {name: okta, description: SSO, metadata: PD94bWwg}
oidc_providers:
  - {name: github, issuer_url: "https://token.actions.githubusercontent.com", client_ids: [sts.aliyuncs.com], fingerprints: [abc]}
virtual_mfa_devices:
  - {serial_number: "acs:ram::1234567890123456:mfa/alice", user: alice, activate_date: "2024-02-01T00:00:00Z"}
  - {serial_number: "acs:ram::1234567890123456:mfa/orphan"}
  - {serial_number: "acs:ram::1234567890123456:mfa/spare"}
applications:
  - {app_id: "4001", app_name: portal, display_name: Portal, app_type: WebApp}
recycle_bin:
  users:
    - {id: "2009", principal_name: old@demo.onaliyun.com, recycle_date: "2024-07-01T00:00:00Z"}
  access_keys:
    - {id: LTAIold, user_id: "2009"}
    - {id: LTAIbob-deleted, user_id: "2002"}
"#,
    )
    .unwrap()
}
