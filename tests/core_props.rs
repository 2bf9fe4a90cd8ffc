//! Properties over random accounts, allowlists and callers: the graph is acyclic, every
//! order it allows applies without a conflict under the API's deletion rules, nothing
//! kept or protected is touched, and planning again afterwards finds nothing to do.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use ramstate::config::{DesiredState, KeepRule};
use ramstate::graph::{self, ApplyGraph};
use ramstate::model::{
    AccessKey, ApiCall, Application, Caller, Group, Inventory, KeyStatus, Kind, LoginProfile,
    OidcProvider, Policy, PolicyRef, PolicyVersion, RecycledAccessKey, RecycledUser, Role,
    SamlProvider, User, VirtualMfaDevice,
};
use ramstate::plan::{self, Plan};

const ACCOUNT: &str = "1234567890123456";

/// Up to this many custom policies and groups; attachment and membership masks are
/// this long, and only their first entries that name an existing entity count.
const MAX_POLICIES: usize = 5;
const MAX_GROUPS: usize = 4;
/// Keep-rule masks are this long: rule `i` keeps the `i`-th entity of its kind.
const MAX_NAMES: usize = 8;

/// What is attached to a principal: a mask over the custom policies, and ReadOnlyAccess.
#[derive(Debug, Clone)]
struct Attached {
    custom: Vec<bool>,
    system: bool,
}

fn attached() -> impl Strategy<Value = Attached> {
    (
        prop::collection::vec(prop::bool::weighted(0.3), MAX_POLICIES),
        prop::bool::weighted(0.3),
    )
        .prop_map(|(custom, system)| Attached { custom, system })
}

#[derive(Debug, Clone)]
struct UserShape {
    /// One entry per access key: whether it is active.
    keys: Vec<bool>,
    login_profile: bool,
    mfa: bool,
    groups: Vec<bool>,
    policies: Attached,
}

fn user_shape() -> impl Strategy<Value = UserShape> {
    (
        prop::collection::vec(any::<bool>(), 0..3),
        any::<bool>(),
        prop::bool::weighted(0.4),
        prop::collection::vec(prop::bool::weighted(0.4), MAX_GROUPS),
        attached(),
    )
        .prop_map(|(keys, login_profile, mfa, groups, policies)| UserShape {
            keys,
            login_profile,
            mfa,
            groups,
            policies,
        })
}

/// An account's shape; every part shrinks towards an empty account.
#[derive(Debug, Clone)]
struct Shape {
    alias: bool,
    domain: bool,
    /// One entry per custom policy: how many versions it has.
    policy_versions: Vec<usize>,
    groups: Vec<Attached>,
    users: Vec<UserShape>,
    spare_devices: usize,
    roles: Vec<Attached>,
    service_linked_roles: usize,
    /// Each of these brings a SAML provider, an OIDC provider and an application.
    providers: usize,
    /// One entry per recycled user ID: whether the user is in the bin, and its binned keys.
    bin: Vec<(bool, usize)>,
}

fn shape() -> impl Strategy<Value = Shape> {
    (
        (any::<bool>(), any::<bool>()),
        prop::collection::vec(1..=3usize, 0..MAX_POLICIES),
        prop::collection::vec(attached(), 0..MAX_GROUPS),
        prop::collection::vec(user_shape(), 0..7),
        (0..3usize, 0..3usize, 0..2usize),
        prop::collection::vec(attached(), 0..4),
        prop::collection::vec((prop::bool::weighted(0.7), 0..3usize), 0..3),
    )
        .prop_map(
            |(
                (alias, domain),
                policy_versions,
                groups,
                users,
                (spare, slrs, providers),
                roles,
                bin,
            )| Shape {
                alias,
                domain,
                policy_versions,
                groups,
                users,
                spare_devices: spare,
                roles,
                service_linked_roles: slrs,
                providers,
                bin,
            },
        )
}

fn inventory(s: &Shape) -> Inventory {
    let mut inv = Inventory::default();
    inv.account.id = ACCOUNT.into();
    if s.alias {
        inv.account.alias = Some("demo".into());
    }
    if s.domain {
        inv.account.default_domain = Some("demo.onaliyun.com".into());
    }
    let policies: Vec<String> = (0..s.policy_versions.len())
        .map(|i| format!("pol{i}"))
        .collect();
    for (p, &n) in policies.iter().zip(&s.policy_versions) {
        inv.policies.push(Policy {
            name: p.clone(),
            versions: (1..=n)
                .map(|v| PolicyVersion {
                    id: format!("v{v}"),
                    is_default: v == 1,
                    document: "{}".into(),
                    create_date: None,
                })
                .collect(),
            ..Policy::default()
        });
    }
    let attach = |a: &Attached| -> Vec<PolicyRef> {
        let mut v: Vec<PolicyRef> = policies
            .iter()
            .zip(&a.custom)
            .filter(|(_, on)| **on)
            .map(|(p, _)| PolicyRef::custom(p.clone()))
            .collect();
        if a.system {
            v.push(PolicyRef::system("ReadOnlyAccess"));
        }
        v
    };
    let groups: Vec<String> = (0..s.groups.len()).map(|i| format!("grp{i}")).collect();
    for (name, a) in groups.iter().zip(&s.groups) {
        inv.groups.push(Group {
            name: name.clone(),
            policies: attach(a),
            ..Group::default()
        });
    }
    let mut key = 0;
    for (i, us) in s.users.iter().enumerate() {
        let name = if i % 2 == 0 {
            format!("svc-{i}")
        } else {
            format!("user{i}")
        };
        let mut u = User {
            name: name.clone(),
            id: format!("{}", 3000 + i),
            ..User::default()
        };
        for &active in &us.keys {
            key += 1;
            u.access_keys.push(AccessKey {
                id: format!("LTAIkey{key}"),
                secret: None,
                status: if active {
                    KeyStatus::Active
                } else {
                    KeyStatus::Inactive
                },
                create_date: None,
                last_used_date: None,
            });
        }
        if us.login_profile {
            u.login_profile = Some(LoginProfile::default());
        }
        if us.mfa {
            let serial = format!("acs:ram::{ACCOUNT}:mfa/{name}");
            u.mfa_device = Some(serial.clone());
            inv.virtual_mfa_devices.push(VirtualMfaDevice {
                serial_number: serial,
                user: Some(name.clone()),
                activate_date: None,
            });
        }
        u.groups = groups
            .iter()
            .zip(&us.groups)
            .filter(|(_, on)| **on)
            .map(|(g, _)| g.clone())
            .collect();
        u.policies = attach(&us.policies);
        inv.users.push(u);
    }
    for i in 0..s.spare_devices {
        inv.virtual_mfa_devices.push(VirtualMfaDevice {
            serial_number: format!("acs:ram::{ACCOUNT}:mfa/spare{i}"),
            user: None,
            activate_date: None,
        });
    }
    for (i, a) in s.roles.iter().enumerate() {
        inv.roles.push(Role {
            name: format!("role{i}"),
            max_session_duration: 3600,
            policies: attach(a),
            ..Role::default()
        });
    }
    for i in 0..s.service_linked_roles {
        inv.roles.push(Role {
            name: format!("AliyunServiceRoleForSvc{i}"),
            max_session_duration: 3600,
            ..Role::default()
        });
    }
    for i in 0..s.providers {
        inv.saml_providers.push(SamlProvider {
            name: format!("saml{i}"),
            ..SamlProvider::default()
        });
        inv.oidc_providers.push(OidcProvider {
            name: format!("oidc{i}"),
            issuer_url: "https://issuer.example".into(),
            ..OidcProvider::default()
        });
        inv.applications.push(Application {
            app_id: format!("47000000000000{i}"),
            app_name: format!("app{i}"),
            ..Application::default()
        });
    }
    for (i, &(in_bin, keys)) in s.bin.iter().enumerate() {
        let uid = format!("900{i}");
        if in_bin {
            inv.recycle_bin.users.push(RecycledUser {
                id: uid.clone(),
                principal_name: format!("gone{i}@demo.onaliyun.com"),
                ..RecycledUser::default()
            });
        }
        for k in 0..keys {
            inv.recycle_bin.access_keys.push(RecycledAccessKey {
                id: format!("LTAIbin{i}{k}"),
                user_id: uid.clone(),
                ..RecycledAccessKey::default()
            });
        }
    }
    inv
}

fn names(inv: &Inventory, kind: Kind) -> Vec<String> {
    match kind {
        Kind::Users => inv.users.iter().map(|u| u.name.clone()).collect(),
        Kind::Groups => inv.groups.iter().map(|x| x.name.clone()).collect(),
        Kind::Roles => inv
            .roles
            .iter()
            .filter(|r| !r.is_service_linked())
            .map(|r| r.name.clone())
            .collect(),
        Kind::ServiceLinkedRoles => inv
            .roles
            .iter()
            .filter(|r| r.is_service_linked())
            .map(|r| r.name.clone())
            .collect(),
        Kind::Policies => inv.policies.iter().map(|p| p.name.clone()).collect(),
        Kind::SamlProviders => inv.saml_providers.iter().map(|p| p.name.clone()).collect(),
        Kind::OidcProviders => inv.oidc_providers.iter().map(|p| p.name.clone()).collect(),
        Kind::VirtualMfaDevices => inv
            .virtual_mfa_devices
            .iter()
            .map(|d| d.name().to_string())
            .collect(),
        Kind::Applications => inv
            .applications
            .iter()
            .map(|a| a.app_name.clone())
            .collect(),
        _ => Vec::new(),
    }
}

/// A desired state's shape: which kinds are managed, and per kind which entities a name
/// rule keeps (by position), whether `glob svc-*` keeps users and `regex [13]$` keeps any.
#[derive(Debug, Clone)]
struct Intent {
    managed: Vec<bool>,
    keep: Vec<Vec<bool>>,
    svc_glob: bool,
    regex: Vec<bool>,
}

fn intent() -> impl Strategy<Value = Intent> {
    let n = Kind::ALL.len();
    (
        prop::collection::vec(prop::bool::weighted(0.6), n),
        prop::collection::vec(
            prop::collection::vec(prop::bool::weighted(0.3), MAX_NAMES),
            n,
        ),
        prop::bool::weighted(0.3),
        prop::collection::vec(prop::bool::weighted(0.15), n),
    )
        .prop_map(|(managed, keep, svc_glob, regex)| Intent {
            managed,
            keep,
            svc_glob,
            regex,
        })
}

fn desired(i: &Intent, inv: &Inventory) -> DesiredState {
    let managed: Vec<Kind> = Kind::ALL
        .into_iter()
        .zip(&i.managed)
        .filter(|(_, on)| **on)
        .map(|(k, _)| k)
        .collect();
    let mut d = DesiredState::new(managed.clone());
    for k in managed {
        let at = Kind::ALL.iter().position(|x| *x == k).unwrap();
        for (n, _) in names(inv, k)
            .into_iter()
            .zip(&i.keep[at])
            .filter(|(_, on)| **on)
        {
            d = d.with_keep(k, KeepRule::name(n));
        }
        if k == Kind::Users && i.svc_glob {
            d = d.with_keep(k, KeepRule::glob("svc-*").unwrap());
        }
        if i.regex[at] {
            d = d.with_keep(k, KeepRule::regex("[13]$").unwrap());
        }
    }
    d
}

/// Who runs ramstate: the root account, a user (with its first key), a role, or
/// whoever signs with some user's key; `pick` chooses which.
#[derive(Debug, Clone)]
enum Who {
    Root,
    User(prop::sample::Index),
    Role(prop::sample::Index),
    Key(prop::sample::Index),
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![
        Just(Who::Root),
        any::<prop::sample::Index>().prop_map(Who::User),
        any::<prop::sample::Index>().prop_map(Who::Role),
        any::<prop::sample::Index>().prop_map(Who::Key),
    ]
}

fn caller(w: &Who, inv: &Inventory) -> Caller {
    let mut c = Caller {
        account_id: ACCOUNT.into(),
        identity_type: "Account".into(),
        ..Caller::default()
    };
    match w {
        Who::Root => {}
        Who::User(i) if !inv.users.is_empty() => {
            let u = i.get(&inv.users);
            c.user_name = Some(u.name.clone());
            c.access_key_id = u.access_keys.first().map(|k| k.id.clone());
        }
        Who::Role(i) => {
            let ordinary: Vec<&Role> = inv
                .roles
                .iter()
                .filter(|r| !r.is_service_linked())
                .collect();
            if !ordinary.is_empty() {
                c.role_name = Some(i.get(&ordinary).name.clone());
            }
        }
        Who::Key(i) => {
            let keys: Vec<&AccessKey> = inv.users.iter().flat_map(|u| &u.access_keys).collect();
            if !keys.is_empty() {
                c.access_key_id = Some(i.get(&keys).id.clone());
            }
        }
        Who::User(_) => {}
    }
    c
}

/// The API's rules, applied to a snapshot: a call that the real service would refuse
/// with a conflict (or a missing entity) is an error.
/// With `recycle`, deleted users and keys move to the recycle bin (the console's way)
/// instead of vanishing.
fn apply_call(inv: &mut Inventory, call: &ApiCall, recycle: bool) -> Result<(), String> {
    let p = |k: &str| call.params.get(k).cloned().unwrap_or_default();
    let user = |inv: &mut Inventory, n: &str| -> Result<usize, String> {
        inv.users
            .iter()
            .position(|u| u.name == n)
            .ok_or(format!("EntityNotExist.User {n}"))
    };
    let pref = || -> PolicyRef {
        format!("{}/{}", p("PolicyType"), p("PolicyName"))
            .parse()
            .unwrap()
    };
    match call.action.as_str() {
        "UpdateAccessKey" => {
            let i = user(inv, &p("UserName"))?;
            let k = inv.users[i]
                .access_keys
                .iter_mut()
                .find(|k| k.id == p("UserAccessKeyId"))
                .ok_or("EntityNotExist.User.AccessKey")?;
            k.status = if p("Status") == "Active" {
                KeyStatus::Active
            } else {
                KeyStatus::Inactive
            };
        }
        "DeleteAccessKey" => {
            let i = user(inv, &p("UserName"))?;
            let keys = &mut inv.users[i].access_keys;
            let at = keys
                .iter()
                .position(|k| k.id == p("UserAccessKeyId"))
                .ok_or("EntityNotExist.User.AccessKey")?;
            // Only the console asks for a key to be disabled before its deletion; the
            // API's DeleteAccessKey takes an Active key (reference §recycle bin).
            let key = keys.remove(at);
            if recycle {
                inv.recycle_bin.access_keys.push(RecycledAccessKey {
                    id: key.id,
                    user_id: inv.users[i].id.clone(),
                    ..RecycledAccessKey::default()
                });
            }
        }
        "RemoveUserFromGroup" => {
            let i = user(inv, &p("UserName"))?;
            let gs = &mut inv.users[i].groups;
            let at = gs
                .iter()
                .position(|g| *g == p("GroupName"))
                .ok_or("EntityNotExist.User.Group")?;
            gs.remove(at);
        }
        "DeleteLoginProfile" => {
            let i = user(inv, &p("UserName"))?;
            inv.users[i]
                .login_profile
                .take()
                .ok_or("EntityNotExist.User.LoginProfile")?;
        }
        "UnbindMFADevice" => {
            let i = user(inv, &p("UserName"))?;
            let serial = inv.users[i]
                .mfa_device
                .take()
                .ok_or("EntityNotExist.User.MFADevice")?;
            for d in &mut inv.virtual_mfa_devices {
                if d.serial_number == serial {
                    d.user = None;
                }
            }
        }
        "DetachPolicyFromUser" => {
            let i = user(inv, &p("UserName"))?;
            remove(
                &mut inv.users[i].policies,
                &pref(),
                "EntityNotExist.User.Policy",
            )?;
        }
        "DetachPolicyFromGroup" => {
            let g = inv
                .groups
                .iter_mut()
                .find(|g| g.name == p("GroupName"))
                .ok_or("EntityNotExist.Group")?;
            remove(&mut g.policies, &pref(), "EntityNotExist.Group.Policy")?;
        }
        "DetachPolicyFromRole" => {
            let r = inv
                .roles
                .iter_mut()
                .find(|r| r.name == p("RoleName"))
                .ok_or("EntityNotExist.Role")?;
            remove(&mut r.policies, &pref(), "EntityNotExist.Role.Policy")?;
        }
        "DeleteUser" => {
            let i = user(inv, &p("UserName"))?;
            let u = &inv.users[i];
            if !u.groups.is_empty() {
                return Err("DeleteConflict.User.Group".into());
            }
            if !u.access_keys.is_empty() {
                return Err("DeleteConflict.User.AccessKey".into());
            }
            if u.login_profile.is_some() {
                return Err("DeleteConflict.User.LoginProfile".into());
            }
            if u.mfa_device.is_some() {
                return Err("DeleteConflict.User.MFADevice".into());
            }
            if !u.policies.is_empty() {
                return Err("DeleteConflict.User.Policy".into());
            }
            let gone = inv.users.remove(i);
            if recycle {
                inv.recycle_bin.users.push(RecycledUser {
                    id: gone.id,
                    principal_name: format!("{}@{}", gone.name, inv.account.domain()),
                    ..RecycledUser::default()
                });
            }
        }
        "DeleteGroup" => {
            let name = p("GroupName");
            let at = inv
                .groups
                .iter()
                .position(|g| g.name == name)
                .ok_or("EntityNotExist.Group")?;
            if inv.users.iter().any(|u| u.groups.contains(&name)) {
                return Err("DeleteConflict.Group.User".into());
            }
            if !inv.groups[at].policies.is_empty() {
                return Err("DeleteConflict.Group.Policy".into());
            }
            inv.groups.remove(at);
        }
        "DeleteRole" | "DeleteServiceLinkedRole" => {
            let at = inv
                .roles
                .iter()
                .position(|r| r.name == p("RoleName"))
                .ok_or("EntityNotExist.Role")?;
            let slr = inv.roles[at].is_service_linked();
            if slr != (call.action == "DeleteServiceLinkedRole") {
                return Err(format!("{} cannot delete {}", call.action, p("RoleName")));
            }
            if !slr && !inv.roles[at].policies.is_empty() {
                return Err("DeleteConflict.Role.Policy".into());
            }
            inv.roles.remove(at);
        }
        "DeletePolicy" => {
            let name = p("PolicyName");
            let at = inv
                .policies
                .iter()
                .position(|x| x.name == name)
                .ok_or("EntityNotExist.Policy")?;
            let r = PolicyRef::custom(name);
            if inv.users.iter().any(|u| u.policies.contains(&r)) {
                return Err("DeleteConflict.Policy.User".into());
            }
            if inv.groups.iter().any(|g| g.policies.contains(&r)) {
                return Err("DeleteConflict.Policy.Group".into());
            }
            if inv.roles.iter().any(|x| x.policies.contains(&r)) {
                return Err("DeleteConflict.Role.Policy".into());
            }
            if inv.policies[at].versions.len() > 1 && p("CascadingDelete") != "true" {
                return Err("DeleteConflict.Policy.Version".into());
            }
            inv.policies.remove(at);
        }
        "DeleteVirtualMFADevice" => {
            let serial = p("SerialNumber");
            let at = inv
                .virtual_mfa_devices
                .iter()
                .position(|d| d.serial_number == serial)
                .ok_or("EntityNotExist.VirtualMFADevice")?;
            if inv.virtual_mfa_devices[at].user.is_some()
                || inv
                    .users
                    .iter()
                    .any(|u| u.mfa_device.as_deref() == Some(&serial))
            {
                return Err("DeleteConflict.VirtualMFADevice.User".into());
            }
            inv.virtual_mfa_devices.remove(at);
        }
        "DeleteSAMLProvider" => {
            let n = p("SAMLProviderName");
            take(&mut inv.saml_providers, |x| x.name == n)?;
        }
        "DeleteOIDCProvider" => {
            let n = p("OIDCProviderName");
            take(&mut inv.oidc_providers, |x| x.name == n)?;
        }
        "DeleteApplication" => {
            let n = p("AppId");
            take(&mut inv.applications, |x| x.app_id == n)?;
        }
        "SetDefaultDomain" => inv.account.default_domain = Some(p("DefaultDomainName")),
        "ClearAccountAlias" => inv.account.alias = None,
        "DeleteAccessKeyInRecycleBin" => {
            let (k, u) = (p("UserAccessKeyId"), p("UserId"));
            take(&mut inv.recycle_bin.access_keys, |x| {
                x.id == k && x.user_id == u
            })?;
        }
        "DeleteUserInRecycleBin" => {
            // Purging a user purges its recycled keys; a user that is not in the bin
            // is not found, which apply counts as done.
            let u = p("UserId");
            inv.recycle_bin.users.retain(|x| x.id != u);
            inv.recycle_bin.access_keys.retain(|k| k.user_id != u);
        }
        other => return Err(format!("unexpected call {other}")),
    }
    Ok(())
}

fn remove(list: &mut Vec<PolicyRef>, p: &PolicyRef, missing: &str) -> Result<(), String> {
    let at = list
        .iter()
        .position(|x| x == p)
        .ok_or(missing.to_string())?;
    list.remove(at);
    Ok(())
}

fn take<T>(list: &mut Vec<T>, f: impl Fn(&T) -> bool) -> Result<(), String> {
    let at = list
        .iter()
        .position(f)
        .ok_or("EntityNotExist".to_string())?;
    list.remove(at);
    Ok(())
}

/// A random order among those the graph allows (Kahn's algorithm, random pick).
/// An order the graph allows: at each point, `picks` (cycled) chooses among the ready steps.
fn chosen_order(g: &ApplyGraph, picks: &[prop::sample::Index]) -> Vec<usize> {
    let mut waiting: Vec<usize> = (0..g.len()).map(|i| g.dependencies(i).len()).collect();
    let mut ready: Vec<usize> = g.roots();
    let mut order = Vec::new();
    let mut pick = picks.iter().cycle();
    while !ready.is_empty() {
        let at = pick.next().map_or(0, |p| p.index(ready.len()));
        let i = ready.swap_remove(at);
        order.push(i);
        for d in g.dependents(i) {
            waiting[d] -= 1;
            if waiting[d] == 0 {
                ready.push(d);
            }
        }
    }
    order
}

fn apply_in_memory(
    plan: &Plan,
    g: &ApplyGraph,
    inv: &Inventory,
    order: &[usize],
    recycle: bool,
) -> Result<Inventory, String> {
    let mut now = inv.clone();
    for &i in order {
        let c = &plan.changes[i];
        apply_call(&mut now, &c.call(), recycle)
            .map_err(|e| format!("{} ({}): {e}", c.address, c.call()))?;
        assert_eq!(g.step(i).address, c.address);
    }
    Ok(now)
}

fn user_named<'a>(inv: &'a Inventory, n: &str) -> Option<&'a User> {
    inv.users.iter().find(|u| u.name == n)
}

/// An account, a desired state for it and a caller.
fn scenario() -> impl Strategy<Value = (Inventory, DesiredState, Caller)> {
    (shape(), intent(), who()).prop_map(|(s, i, w)| {
        let inv = inventory(&s);
        let d = desired(&i, &inv);
        let c = caller(&w, &inv);
        (inv, d, c)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_allowed_order_applies_without_conflict_and_converges(
        (inv, d, caller) in scenario(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..64),
        recycle in any::<bool>(),
    ) {
        let plan = plan::diff(&d, &inv, &caller);
        let g = graph::build(&plan).expect("the graph is acyclic");
        prop_assert_eq!(g.len(), plan.changes.len());
        let order = chosen_order(&g, &picks);
        prop_assert_eq!(order.len(), g.len(), "every step is reachable");
        let after = apply_in_memory(&plan, &g, &inv, &order, recycle).map_err(TestCaseError::fail)?;
        let again = plan::diff(&d, &after, &caller);
        prop_assert!(again.is_empty(), "left to do: {:#?}", again.changes);
        prop_assert_eq!(&again.protected, &plan.protected);
    }

    #[test]
    fn nothing_kept_or_protected_is_touched((inv, d, caller) in scenario()) {
        let plan = plan::diff(&d, &inv, &caller);
        let g = graph::build(&plan).unwrap();
        let after = apply_in_memory(&plan, &g, &inv, g.topological_order(), false).map_err(TestCaseError::fail)?;
        let spared: BTreeSet<String> = plan
            .kept
            .iter()
            .map(|k| k.address.to_string())
            .chain(plan.protected.iter().map(|p| p.address.to_string()))
            .collect();
        for c in &plan.changes {
            prop_assert!(!spared.contains(&c.resource().to_string()), "{} belongs to a kept resource", c.address);
        }
        let removed_groups: BTreeSet<String> = plan.changes.iter()
            .filter(|c| c.call().action == "DeleteGroup").map(|c| c.call().params["GroupName"].clone()).collect();
        let removed_policies: BTreeSet<PolicyRef> = plan.changes.iter()
            .filter(|c| c.call().action == "DeletePolicy").map(|c| PolicyRef::custom(c.call().params["PolicyName"].clone())).collect();
        for addr in &spared {
            if let Some(name) = addr.strip_prefix("user.") {
                let (was, now) = (user_named(&inv, name).unwrap(), user_named(&after, name));
                let now = now.ok_or_else(|| TestCaseError::fail(format!("{addr} was deleted")))?;
                prop_assert_eq!(&was.access_keys, &now.access_keys);
                prop_assert_eq!(&was.login_profile, &now.login_profile);
                prop_assert_eq!(&was.mfa_device, &now.mfa_device);
                let groups: Vec<&String> = was.groups.iter().filter(|g| !removed_groups.contains(*g)).collect();
                prop_assert_eq!(groups, now.groups.iter().collect::<Vec<_>>());
                let pols: Vec<&PolicyRef> = was.policies.iter().filter(|p| !removed_policies.contains(p)).collect();
                prop_assert_eq!(pols, now.policies.iter().collect::<Vec<_>>());
            } else if let Some(name) = addr.strip_prefix("policy.") {
                prop_assert!(after.policies.iter().any(|p| p.name == name), "{} was deleted", addr);
            } else if let Some(name) = addr.strip_prefix("group.") {
                prop_assert!(after.groups.iter().any(|x| x.name == name), "{} was deleted", addr);
            } else if let Some(name) = addr.strip_prefix("role.") {
                let was = inv.roles.iter().find(|r| r.name == name).unwrap();
                let now = after.roles.iter().find(|r| r.name == name);
                let now = now.ok_or_else(|| TestCaseError::fail(format!("{addr} was deleted")))?;
                let pols: Vec<&PolicyRef> = was.policies.iter().filter(|p| !removed_policies.contains(p)).collect();
                prop_assert_eq!(pols, now.policies.iter().collect::<Vec<_>>());
            }
        }
        // The caller's own identity is untouched, whatever the file says.
        if let Some(u) = caller.user_name.as_deref() {
            prop_assert_eq!(user_named(&inv, u), user_named(&after, u));
        }
        if let Some(r) = caller.role_name.as_deref() {
            prop_assert_eq!(inv.roles.iter().find(|x| x.name == r), after.roles.iter().find(|x| x.name == r));
        }
        if let Some(k) = caller.access_key_id.as_deref() {
            let before: BTreeMap<_, _> = inv.users.iter().flat_map(|u| &u.access_keys).map(|a| (a.id.as_str(), a)).collect();
            let now: BTreeMap<_, _> = after.users.iter().flat_map(|u| &u.access_keys).map(|a| (a.id.as_str(), a)).collect();
            prop_assert_eq!(before.get(k), now.get(k));
        }
    }

    #[test]
    fn unmanaged_kinds_keep_every_entity((inv, d, caller) in scenario()) {
        let plan = plan::diff(&d, &inv, &caller);
        let g = graph::build(&plan).unwrap();
        let after = apply_in_memory(&plan, &g, &inv, g.topological_order(), false).map_err(TestCaseError::fail)?;
        for kind in Kind::ALL {
            if !d.manages(kind) {
                prop_assert_eq!(names(&inv, kind), names(&after, kind), "{} changed", kind);
            }
        }
    }
}

#[test]
fn the_simulated_api_refuses_a_delete_before_its_detach() {
    // One user with a policy attached, every kind managed, nothing kept.
    let s = Shape {
        alias: false,
        domain: false,
        policy_versions: vec![1],
        groups: vec![],
        users: vec![UserShape {
            keys: vec![],
            login_profile: false,
            mfa: false,
            groups: vec![false; MAX_GROUPS],
            policies: Attached {
                custom: vec![true],
                system: true,
            },
        }],
        spare_devices: 0,
        roles: vec![],
        service_linked_roles: 0,
        providers: 0,
        bin: vec![],
    };
    let inv = inventory(&s);
    let d = DesiredState::new(Kind::ALL.to_vec());
    let plan = plan::diff(&d, &inv, &caller(&Who::Root, &inv));
    let del = plan
        .changes
        .iter()
        .position(|c| c.call().action == "DeleteUser")
        .expect("the user is deleted");
    let mut state = inv.clone();
    assert!(apply_call(&mut state, &plan.changes[del].call(), false).is_err());
}

/// Declarations over an account's own names: some users and groups declared, each with or
/// without a list of memberships and attachments (a list governs its side).
#[derive(Debug, Clone)]
struct Declarations {
    /// Per user (by position): declared?, with a groups list?, which groups, with a policies list?
    users: Vec<(bool, bool, Vec<bool>, bool)>,
    /// Per group: declared?, with a members list?, which users.
    groups: Vec<(bool, bool, Vec<bool>)>,
}

fn declarations() -> impl Strategy<Value = Declarations> {
    (
        prop::collection::vec(
            (
                any::<bool>(),
                any::<bool>(),
                prop::collection::vec(any::<bool>(), MAX_GROUPS),
                any::<bool>(),
            ),
            7,
        ),
        prop::collection::vec(
            (
                any::<bool>(),
                any::<bool>(),
                prop::collection::vec(any::<bool>(), 7),
            ),
            MAX_GROUPS,
        ),
    )
        .prop_map(|(users, groups)| Declarations { users, groups })
}

fn declare(d: &mut DesiredState, inv: &Inventory, decl: &Declarations) {
    use ramstate::config::{DeclaredGroup, DeclaredUser, Named};
    let named = |s: &str| Named {
        value: s.to_string(),
        at: vec![],
    };
    for (u, (on, with_groups, which, with_policies)) in inv.users.iter().zip(&decl.users) {
        if !on {
            continue;
        }
        d.declared.users.push(DeclaredUser {
            name: u.name.clone(),
            line: 1,
            groups: with_groups.then(|| {
                inv.groups
                    .iter()
                    .zip(which)
                    .filter(|(_, w)| **w)
                    .map(|(g, _)| named(&g.name))
                    .collect()
            }),
            policies: with_policies.then(|| {
                u.policies
                    .iter()
                    .skip(1)
                    .map(|p| Named {
                        value: p.clone(),
                        at: vec![],
                    })
                    .collect()
            }),
            ..DeclaredUser::default()
        });
    }
    for (g, (on, with_members, which)) in inv.groups.iter().zip(&decl.groups) {
        if !on {
            continue;
        }
        d.declared.groups.push(DeclaredGroup {
            name: g.name.clone(),
            line: 1,
            members: with_members.then(|| {
                inv.users
                    .iter()
                    .zip(which)
                    .filter(|(_, w)| **w)
                    .map(|(u, _)| named(&u.name))
                    .collect()
            }),
            ..DeclaredGroup::default()
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// A membership or attachment is only ever taken away with what it hangs off, or
    /// where a declared list governs it: never because some other membership is declared.
    #[test]
    fn a_membership_or_attachment_the_file_does_not_govern_is_never_removed(
        (inv, mut d, caller) in scenario(),
        decl in declarations(),
    ) {
        use ramstate::plan::{Op, PrincipalKind};
        declare(&mut d, &inv, &decl);
        let plan = plan::diff(&d, &inv, &caller);
        prop_assert!(graph::build(&plan).is_ok());
        let deleted = |f: &dyn Fn(&Op) -> bool| plan.changes.iter().any(|c| f(&c.op));
        for c in &plan.changes {
            match &c.op {
                Op::RemoveMember { user, group } => {
                    let governed = d.declared.user(user).is_some_and(|u| u.groups.is_some())
                        || d.declared.group(group).is_some_and(|g| g.members.is_some());
                    let goes = deleted(&|o| matches!(o, Op::DeleteUser { name, .. } if name == user))
                        || deleted(&|o| matches!(o, Op::DeleteGroup { name } if name == group));
                    prop_assert!(governed || goes, "{} removed without cause", c.address);
                }
                Op::DetachPolicy { principal, policy } => {
                    let governed = match principal.kind {
                        PrincipalKind::User => d.declared.user(&principal.name).is_some_and(|u| u.policies.is_some()),
                        PrincipalKind::Group => d.declared.group(&principal.name).is_some_and(|g| g.policies.is_some()),
                        PrincipalKind::Role => d.declared.role(&principal.name).is_some_and(|r| r.policies.is_some()),
                    };
                    let name = &principal.name;
                    let goes = deleted(&|o| matches!(o,
                        Op::DeleteUser { name: n, .. } | Op::DeleteGroup { name: n } | Op::DeleteRole { name: n } if n == name))
                        || deleted(&|o| matches!(o, Op::DeletePolicy { name } if *name == policy.name));
                    prop_assert!(governed || goes, "{} detached without cause", c.address);
                }
                _ => {}
            }
        }
        // Declared entities are never deleted.
        for u in &d.declared.users {
            let gone = deleted(&|o| matches!(o, Op::DeleteUser { name, .. } if *name == u.name));
            prop_assert!(!gone, "declared user {} is deleted", u.name);
        }
        for g in &d.declared.groups {
            let gone = deleted(&|o| matches!(o, Op::DeleteGroup { name } if *name == g.name));
            prop_assert!(!gone, "declared group {} is deleted", g.name);
        }
    }
}
