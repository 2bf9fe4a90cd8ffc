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

/// A small deterministic generator (xorshift), so one seed is one scenario.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
    fn subset<'a>(&mut self, items: &'a [String], percent: u64) -> Vec<&'a String> {
        items.iter().filter(|_| self.chance(percent)).collect()
    }
}

fn inventory(g: &mut Gen) -> Inventory {
    let mut inv = Inventory::default();
    inv.account.id = ACCOUNT.into();
    if g.chance(50) {
        inv.account.alias = Some("demo".into());
    }
    if g.chance(50) {
        inv.account.default_domain = Some("demo.onaliyun.com".into());
    }
    let policies: Vec<String> = (0..g.below(5)).map(|i| format!("pol{i}")).collect();
    for p in &policies {
        let n = 1 + g.below(3);
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
    let attach = |g: &mut Gen| -> Vec<PolicyRef> {
        let mut v: Vec<PolicyRef> = g
            .subset(&policies, 30)
            .into_iter()
            .map(|p| PolicyRef::custom(p.clone()))
            .collect();
        if g.chance(30) {
            v.push(PolicyRef::system("ReadOnlyAccess"));
        }
        v
    };
    let groups: Vec<String> = (0..g.below(4)).map(|i| format!("grp{i}")).collect();
    for name in &groups {
        let policies = attach(g);
        inv.groups.push(Group {
            name: name.clone(),
            policies,
            ..Group::default()
        });
    }
    let mut key = 0;
    for i in 0..g.below(7) {
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
        for _ in 0..g.below(3) {
            key += 1;
            u.access_keys.push(AccessKey {
                id: format!("LTAIkey{key}"),
                secret: None,
                status: if g.chance(50) {
                    KeyStatus::Active
                } else {
                    KeyStatus::Inactive
                },
                create_date: None,
                last_used_date: None,
            });
        }
        if g.chance(50) {
            u.login_profile = Some(LoginProfile::default());
        }
        if g.chance(40) {
            let serial = format!("acs:ram::{ACCOUNT}:mfa/{name}");
            u.mfa_device = Some(serial.clone());
            inv.virtual_mfa_devices.push(VirtualMfaDevice {
                serial_number: serial,
                user: Some(name.clone()),
                activate_date: None,
            });
        }
        u.groups = g.subset(&groups, 40).into_iter().cloned().collect();
        u.policies = attach(g);
        inv.users.push(u);
    }
    for i in 0..g.below(3) {
        inv.virtual_mfa_devices.push(VirtualMfaDevice {
            serial_number: format!("acs:ram::{ACCOUNT}:mfa/spare{i}"),
            user: None,
            activate_date: None,
        });
    }
    for i in 0..g.below(4) {
        let policies = attach(g);
        inv.roles.push(Role {
            name: format!("role{i}"),
            max_session_duration: 3600,
            policies,
            ..Role::default()
        });
    }
    for i in 0..g.below(3) {
        inv.roles.push(Role {
            name: format!("AliyunServiceRoleForSvc{i}"),
            max_session_duration: 3600,
            ..Role::default()
        });
    }
    for i in 0..g.below(2) {
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
    for i in 0..g.below(3) {
        let uid = format!("900{i}");
        if g.chance(70) {
            inv.recycle_bin.users.push(RecycledUser {
                id: uid.clone(),
                principal_name: format!("gone{i}@demo.onaliyun.com"),
                ..RecycledUser::default()
            });
        }
        for k in 0..g.below(3) {
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

fn desired(g: &mut Gen, inv: &Inventory) -> DesiredState {
    let managed: Vec<Kind> = Kind::ALL.into_iter().filter(|_| g.chance(60)).collect();
    let mut d = DesiredState::new(managed.clone());
    for k in managed {
        for n in g.subset(&names(inv, k), 30) {
            d = d.with_keep(k, KeepRule::name(n.clone()));
        }
        if k == Kind::Users && g.chance(30) {
            d = d.with_keep(k, KeepRule::glob("svc-*").unwrap());
        }
        if g.chance(15) {
            d = d.with_keep(k, KeepRule::regex("[13]$").unwrap());
        }
    }
    d
}

fn caller(g: &mut Gen, inv: &Inventory) -> Caller {
    let mut c = Caller {
        account_id: ACCOUNT.into(),
        identity_type: "Account".into(),
        ..Caller::default()
    };
    match g.below(4) {
        1 if !inv.users.is_empty() => {
            let u = &inv.users[g.below(inv.users.len())];
            c.user_name = Some(u.name.clone());
            c.access_key_id = u.access_keys.first().map(|k| k.id.clone());
        }
        2 => {
            let ordinary: Vec<&Role> = inv
                .roles
                .iter()
                .filter(|r| !r.is_service_linked())
                .collect();
            if !ordinary.is_empty() {
                c.role_name = Some(ordinary[g.below(ordinary.len())].name.clone());
            }
        }
        3 => {
            let keys: Vec<&AccessKey> = inv.users.iter().flat_map(|u| &u.access_keys).collect();
            if !keys.is_empty() {
                c.access_key_id = Some(keys[g.below(keys.len())].id.clone());
            }
        }
        _ => {}
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
            k.status = KeyStatus::Inactive;
        }
        "DeleteAccessKey" => {
            let i = user(inv, &p("UserName"))?;
            let keys = &mut inv.users[i].access_keys;
            let at = keys
                .iter()
                .position(|k| k.id == p("UserAccessKeyId"))
                .ok_or("EntityNotExist.User.AccessKey")?;
            if keys[at].status == KeyStatus::Active {
                return Err("an active key is deleted before it was disabled".into());
            }
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
fn random_order(g: &ApplyGraph, rng: &mut Gen) -> Vec<usize> {
    let mut waiting: Vec<usize> = (0..g.len()).map(|i| g.dependencies(i).len()).collect();
    let mut ready: Vec<usize> = g.roots();
    let mut order = Vec::new();
    while !ready.is_empty() {
        let i = ready.swap_remove(rng.below(ready.len()));
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

fn scenario(seed: u64) -> (Inventory, DesiredState, Caller) {
    let mut g = Gen(seed | 1);
    let inv = inventory(&mut g);
    let d = desired(&mut g, &inv);
    let c = caller(&mut g, &inv);
    (inv, d, c)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_allowed_order_applies_without_conflict_and_converges(seed in any::<u64>(), order_seed in any::<u64>(), recycle in any::<bool>()) {
        let (inv, d, caller) = scenario(seed);
        let plan = plan::diff(&d, &inv, &caller);
        let g = graph::build(&plan).expect("the graph is acyclic");
        prop_assert_eq!(g.len(), plan.changes.len());
        let order = random_order(&g, &mut Gen(order_seed | 1));
        prop_assert_eq!(order.len(), g.len(), "every step is reachable");
        let after = apply_in_memory(&plan, &g, &inv, &order, recycle).map_err(TestCaseError::fail)?;
        let again = plan::diff(&d, &after, &caller);
        prop_assert!(again.is_empty(), "left to do: {:#?}", again.changes);
        prop_assert_eq!(&again.protected, &plan.protected);
    }

    #[test]
    fn nothing_kept_or_protected_is_touched(seed in any::<u64>()) {
        let (inv, d, caller) = scenario(seed);
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
    fn unmanaged_kinds_keep_every_entity(seed in any::<u64>()) {
        let (inv, d, caller) = scenario(seed);
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
    let (inv, d, caller) = (0..)
        .map(scenario)
        .find(|(inv, d, _)| {
            d.manages(Kind::Users) && inv.users.iter().any(|u| !u.policies.is_empty())
        })
        .unwrap();
    let plan = plan::diff(&d, &inv, &caller);
    let Some(del) = plan.changes.iter().position(|c| {
        c.call().action == "DeleteUser"
            && user_named(&inv, &c.call().params["UserName"])
                .is_some_and(|u| !u.policies.is_empty())
    }) else {
        return;
    };
    let mut state = inv.clone();
    assert!(apply_call(&mut state, &plan.changes[del].call(), false).is_err());
}
