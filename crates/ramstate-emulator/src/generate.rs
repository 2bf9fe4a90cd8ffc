//! Deterministic large accounts for load and scale tests.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::state::timestamp;
use super::system_policies;
use ramstate_model::{
    AccessKey, Account, EmulatorOptions, Group, Inventory, KeyStatus, LoginProfile, Policy,
    PolicyRef, PolicyVersion, Role, RoleUsage, RootKey, User, VirtualMfaDevice,
};

/// How big an account to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateParams {
    pub users: usize,
    pub groups: usize,
    pub roles: usize,
    pub policies: usize,
    pub seed: u64,
}

const TEAMS: &[&str] = &[
    "platform", "data", "web", "mobile", "sre", "security", "finance", "ml", "search", "billing",
];
const SERVICES: &[&str] = &[
    "ECS",
    "OSS",
    "RDS",
    "Log",
    "SLB",
    "VPC",
    "KMS",
    "ActionTrail",
];
const REGIONS: &[&str] = &["cn-hangzhou", "cn-shanghai", "cn-beijing", "ap-southeast-1"];

fn alnum(rng: &mut StdRng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    (0..n)
        .map(|_| A[rng.random_range(0..A.len())] as char)
        .collect()
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    let mut s = String::new();
    s.push(char::from(b'1' + rng.random_range(0..9u8)));
    for _ in 1..n {
        s.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    s
}

fn date(rng: &mut StdRng) -> String {
    let base = 1_577_836_800; // 2020-01-01
    let t = base + rng.random_range(0..5 * 365 * 86_400i64);
    timestamp(time::OffsetDateTime::from_unix_timestamp(t).expect("in range"))
}

/// A date no earlier than `after` (same format, so text order is time order): a key is
/// used after it was created, a user logs in after it was created.
fn date_after(rng: &mut StdRng, after: &str) -> String {
    let d = date(rng);
    if d.as_str() < after {
        after.to_string()
    } else {
        d
    }
}

fn document(rng: &mut StdRng, team: &str) -> String {
    let svc = SERVICES[rng.random_range(0..SERVICES.len())].to_lowercase();
    let verb = ["Describe*", "List*", "Get*", "*"][rng.random_range(0..4)];
    format!(
        "{{\"Version\":\"1\",\"Statement\":[{{\"Effect\":\"Allow\",\"Action\":[\"{svc}:{verb}\"],\"Resource\":[\"acs:{svc}:*:*:{team}-*\"]}}]}}"
    )
}

/// Picks `n` distinct indices below `len`, sorted.
fn pick(rng: &mut StdRng, len: usize, n: usize) -> Vec<usize> {
    let n = n.min(len);
    let mut chosen = std::collections::BTreeSet::new();
    while chosen.len() < n {
        chosen.insert(rng.random_range(0..len));
    }
    chosen.into_iter().collect()
}

/// Builds an account of the requested size; the same parameters give the same account.
/// Memberships and attachments sit near their per-entity limits.
pub fn generate(params: &GenerateParams) -> Inventory {
    let mut rng = StdRng::seed_from_u64(params.seed);
    let account_id = digits(&mut rng, 16);
    let system: Vec<String> = system_policies::all()
        .into_iter()
        .filter(|p| !p.name.starts_with("AliyunServiceRolePolicy"))
        .map(|p| p.name.to_string())
        .collect();

    let policies: Vec<Policy> = (0..params.policies)
        .map(|i| {
            let team = TEAMS[i % TEAMS.len()];
            let n_versions = rng.random_range(1..=5usize);
            let default = rng.random_range(0..n_versions);
            let created = date(&mut rng);
            Policy {
                name: format!("{team}-policy-{i:04}"),
                description: Some(format!("Access for the {team} team ({i})")),
                create_date: Some(created.clone()),
                tags: Default::default(),
                versions: (0..n_versions)
                    .map(|v| PolicyVersion {
                        id: format!("v{}", v + 1),
                        is_default: v == default,
                        document: document(&mut rng, team),
                        create_date: Some(created.clone()),
                    })
                    .collect(),
            }
        })
        .collect();

    let attach = |rng: &mut StdRng, custom_max: usize, system_max: usize| -> Vec<PolicyRef> {
        let n_custom = rng.random_range(custom_max / 2..=custom_max);
        let mut out: Vec<PolicyRef> = pick(rng, policies.len(), n_custom)
            .into_iter()
            .map(|i| PolicyRef::custom(policies[i].name.clone()))
            .collect();
        let n_sys = rng.random_range(0..=system_max);
        out.extend(
            pick(rng, system.len(), n_sys)
                .into_iter()
                .map(|i| PolicyRef::system(system[i].clone())),
        );
        out
    };

    let groups: Vec<Group> = (0..params.groups)
        .map(|i| {
            let team = TEAMS[i % TEAMS.len()];
            Group {
                name: format!("{team}-group-{i:03}"),
                id: format!("g-{}", alnum(&mut rng, 12)),
                comments: Some(format!("{team} engineers")),
                create_date: Some(date(&mut rng)),
                policies: attach(&mut rng, 10, 5),
            }
        })
        .collect();

    let mut devices = Vec::new();
    let users: Vec<User> = (0..params.users)
        .map(|i| {
            let team = TEAMS[i % TEAMS.len()];
            let name = format!("{team}-user-{i:05}");
            let created = date(&mut rng);
            let n_keys = rng.random_range(0..=2usize);
            let access_keys = (0..n_keys)
                .map(|k| {
                    let key_created = date_after(&mut rng, &created);
                    AccessKey {
                        id: format!("LTAI{}", alnum(&mut rng, 20)),
                        secret: Some(alnum(&mut rng, 30)),
                        status: if k == 1 && rng.random_bool(0.5) {
                            KeyStatus::Inactive
                        } else {
                            KeyStatus::Active
                        },
                        last_used_date: rng
                            .random_bool(0.7)
                            .then(|| date_after(&mut rng, &key_created)),
                        create_date: Some(key_created),
                    }
                })
                .collect();
            let mfa = rng.random_bool(0.2).then(|| {
                let serial = format!("acs:ram::{account_id}:mfa/{name}");
                devices.push(VirtualMfaDevice {
                    serial_number: serial.clone(),
                    user: Some(name.clone()),
                    activate_date: Some(date_after(&mut rng, &created)),
                });
                serial
            });
            User {
                display_name: Some(format!("{team} user {i}")),
                id: digits(&mut rng, 16),
                last_login_date: rng.random_bool(0.5).then(|| date_after(&mut rng, &created)),
                create_date: Some(created.clone()),
                access_keys,
                login_profile: rng.random_bool(0.5).then(|| LoginProfile {
                    password_reset_required: rng.random_bool(0.2),
                    mfa_bind_required: rng.random_bool(0.3),
                    create_date: Some(date_after(&mut rng, &created)),
                    ..LoginProfile::default()
                }),
                mfa_device: mfa,
                groups: {
                    let n = rng.random_range(7..=10usize);
                    pick(&mut rng, groups.len(), n)
                        .into_iter()
                        .map(|g| groups[g].name.clone())
                        .collect()
                },
                policies: attach(&mut rng, 10, 8),
                name,
                ..User::default()
            }
        })
        .collect();
    for i in 0..(params.users / 50).max(1).min(params.users.max(1)) {
        devices.push(VirtualMfaDevice {
            serial_number: format!("acs:ram::{account_id}:mfa/spare-{i:03}"),
            user: None,
            activate_date: None,
        });
    }

    let trust = format!(
        "{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"RAM\":[\"acs:ram::{account_id}:root\"]}}}}],\"Version\":\"1\"}}"
    );
    let n_linked = SERVICES.len().min(params.roles);
    let roles: Vec<Role> = (0..params.roles)
        .map(|i| {
            if i < n_linked {
                let svc = SERVICES[i];
                Role {
                    name: format!("AliyunServiceRoleFor{svc}"),
                    id: digits(&mut rng, 16),
                    description: Some(format!("Service-linked role of {svc}")),
                    max_session_duration: 3600,
                    assume_role_policy_document: Some(format!(
                        "{{\"Statement\":[{{\"Action\":\"sts:AssumeRole\",\"Effect\":\"Allow\",\"Principal\":{{\"Service\":[\"{}.aliyuncs.com\"]}}}}],\"Version\":\"1\"}}",
                        svc.to_lowercase()
                    )),
                    create_date: Some(date(&mut rng)),
                    usages: if i % 2 == 0 {
                        vec![RoleUsage {
                            region: REGIONS[i % REGIONS.len()].to_string(),
                            resources: vec![format!("{}-{}", svc.to_lowercase(), alnum(&mut rng, 8))],
                        }]
                    } else {
                        vec![]
                    },
                    ..Role::default()
                }
            } else {
                let team = TEAMS[i % TEAMS.len()];
                Role {
                    name: format!("{team}-role-{i:04}"),
                    id: digits(&mut rng, 16),
                    description: Some(format!("Assumed by {team} automation")),
                    max_session_duration: [3600, 7200, 43200][rng.random_range(0..3)],
                    assume_role_policy_document: Some(trust.clone()),
                    create_date: Some(date(&mut rng)),
                    policies: attach(&mut rng, 10, 5),
                    ..Role::default()
                }
            }
        })
        .collect();

    let root = RootKey {
        id: format!("LTAI{}", alnum(&mut rng, 20)),
        secret: alnum(&mut rng, 30),
    };
    Inventory {
        account: Account {
            id: account_id,
            alias: Some(format!("generated-{}", params.seed)),
            default_domain: None,
            ..Account::default()
        },
        users,
        groups,
        roles,
        policies,
        virtual_mfa_devices: devices,
        emulator: Some(EmulatorOptions {
            root_access_key: Some(root),
            ..EmulatorOptions::default()
        }),
        ..Inventory::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::State;

    #[test]
    fn the_same_seed_gives_the_same_account() {
        let p = GenerateParams {
            users: 50,
            groups: 12,
            roles: 20,
            policies: 30,
            seed: 7,
        };
        assert_eq!(generate(&p), generate(&p));
        assert_ne!(generate(&p), generate(&GenerateParams { seed: 8, ..p }));
    }

    #[test]
    fn nothing_is_used_or_logged_into_before_it_was_created() {
        let inv = generate(&GenerateParams {
            users: 300,
            groups: 12,
            roles: 4,
            policies: 4,
            seed: 3,
        });
        for u in &inv.users {
            let created = u.create_date.as_deref().unwrap();
            assert!(u.last_login_date.as_deref().is_none_or(|d| d >= created));
            for k in &u.access_keys {
                let key_created = k.create_date.as_deref().unwrap();
                assert!(
                    key_created >= created,
                    "{} key made before its user",
                    u.name
                );
                assert!(k.last_used_date.as_deref().is_none_or(|d| d >= key_created));
            }
        }
    }

    #[test]
    fn generated_accounts_load_and_sit_near_the_limits() {
        let p = GenerateParams {
            users: 200,
            groups: 30,
            roles: 40,
            policies: 60,
            seed: 7,
        };
        let inv = generate(&p);
        assert_eq!(inv.users.len(), 200);
        assert!(
            inv.users
                .iter()
                .all(|u| u.groups.len() >= 7 && u.groups.len() <= 10)
        );
        assert!(inv.users.iter().all(|u| u.access_keys.len() <= 2));
        let st = State::from_seed(&inv, 1, time::OffsetDateTime::now_utc()).unwrap();
        assert_eq!(st.users.len(), 200);
        assert!(
            inv.roles
                .iter()
                .any(|r| r.is_service_linked() && !r.usages.is_empty())
        );
    }
}
