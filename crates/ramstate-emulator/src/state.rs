//! The account the emulator holds: built from a seed, changed by calls, printed back
//! as a snapshot in the seed's own format. No I/O here; time comes in as a parameter.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Value, json};
use time::OffsetDateTime;

use super::error::{ErrorResponse, Params};
use super::system_policies::{self, SystemPolicy};
use ramstate_model::{
    AccessKey, Account, Application, DeleteUserMode, EmulatorOptions, Group, Inventory,
    OidcProvider, Policy, PolicyRef, PolicyType, RecycleBin, RecycledAccessKey, RecycledUser, Role,
    RootKey, SamlProvider, User, VirtualMfaDevice,
};

/// Quotas (the current published limits).
pub mod quota {
    pub const USERS: usize = 5000;
    pub const GROUPS: usize = 300;
    pub const ROLES: usize = 1000;
    pub const POLICIES: usize = 1500;
    pub const GROUPS_PER_USER: usize = 10;
    pub const KEYS_PER_USER: usize = 2;
    pub const VERSIONS_PER_POLICY: usize = 5;
    pub const SYSTEM_POLICIES_PER_ENTITY: usize = 20;
    pub const CUSTOM_POLICIES_PER_ENTITY: usize = 10;
    pub const POLICY_SIZE: usize = 6144;
    pub const MFA_DEVICES: usize = 5000;
    pub const OIDC_PROVIDERS: usize = 100;
    pub const BIN_KEYS_PER_USER: usize = 3;
    pub const BIN_USERS: usize = 1000;
}

/// Days an item stays in the recycle bin.
pub const BIN_RETENTION_DAYS: i64 = 30;

/// What a policy is attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Principal {
    User,
    Group,
    Role,
}

#[derive(Debug, Clone)]
pub struct UserRec {
    /// The user; `groups`, `policies` and `mfa_device` are kept empty (relations live
    /// in the state's maps).
    pub user: User,
    pub update_date: String,
}

#[derive(Debug, Clone)]
pub struct GroupRec {
    pub group: Group,
    pub update_date: String,
}

#[derive(Debug, Clone)]
pub struct RoleRec {
    pub role: Role,
    pub update_date: String,
}

#[derive(Debug, Clone)]
pub struct PolicyRec {
    pub policy: Policy,
    pub update_date: String,
    pub next_version: u32,
}

#[derive(Debug, Clone)]
pub struct MfaRec {
    pub device: VirtualMfaDevice,
    /// The TOTP secret, when the device was created through the API.
    pub secret: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
pub struct SamlRec {
    pub provider: SamlProvider,
    pub authn_sign_algo: String,
    pub update_date: String,
}

#[derive(Debug, Clone)]
pub struct OidcRec {
    pub provider: OidcProvider,
    pub issuance_limit_time: i64,
    pub update_date: String,
}

#[derive(Debug, Clone)]
pub struct AppRec {
    pub app: Application,
    pub access_token_validity: i64,
    pub refresh_token_validity: i64,
    pub redirect_uris: Vec<String>,
    pub predefined_scopes: Vec<String>,
    pub required_scopes: Vec<String>,
    pub secret_required: bool,
    pub is_multi_tenant: bool,
    pub protocol_version: String,
    pub update_date: String,
}

/// A user in the recycle bin: its identity only. Its permissions, group memberships
/// and MFA binding were removed when it was deleted; its console logon is kept
/// switched off (`Inactive`); its keys are in the bin on their own.
#[derive(Debug, Clone)]
pub struct BinUser {
    pub entry: RecycledUser,
    /// The user as it was deleted (`None` for users seeded into the bin).
    pub user: Option<UserRec>,
    /// Order of arrival in the bin, which breaks ties between recycle dates when
    /// the oldest entry goes to make room.
    pub seq: u64,
    /// When the automatic purge removes it (`None`: never, see [`purge_time`]).
    pub purge_at: Option<OffsetDateTime>,
}

/// An access key in the recycle bin; always `Inactive`.
#[derive(Debug, Clone)]
pub struct BinKey {
    pub entry: RecycledAccessKey,
    pub key: AccessKey,
    pub seq: u64,
    pub purge_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskStatus {
    InProgress,
    Succeeded,
    Failed,
}

/// A service-linked role deletion started by ResourceManager.
#[derive(Debug, Clone)]
pub struct Task {
    pub role: String,
    pub polls_left: u32,
    pub status: TaskStatus,
    pub usages: Vec<ramstate_model::RoleUsage>,
    pub message: String,
}

/// Temporary credentials issued by AssumeRole.
#[derive(Clone)]
pub struct Session {
    pub secret: String,
    pub token: String,
    pub role: String,
    pub role_id: String,
    pub session_name: String,
    pub expiration: OffsetDateTime,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("role", &self.role)
            .field("session_name", &self.session_name)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// Who a call comes from, once its signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Account,
    User {
        name: String,
        key_id: String,
    },
    Role {
        role: String,
        role_id: String,
        session_name: String,
    },
    /// Unsigned calls (AssumeRoleWithOIDC).
    Anonymous,
}

/// The whole emulated account.
#[derive(Clone)]
pub struct State {
    pub account: Account,
    pub root: RootKey,
    pub delete_user: DeleteUserMode,
    pub deletion_polls: u32,
    pub users: BTreeMap<String, UserRec>,
    pub groups: BTreeMap<String, GroupRec>,
    pub roles: BTreeMap<String, RoleRec>,
    pub policies: BTreeMap<String, PolicyRec>,
    pub system: BTreeMap<String, SystemPolicy>,
    /// (user, group) → join date.
    pub memberships: BTreeMap<(String, String), String>,
    /// (principal kind, principal name, policy) → attach date.
    pub attachments: BTreeMap<(Principal, String, PolicyRef), String>,
    pub mfa_devices: BTreeMap<String, MfaRec>,
    pub saml: BTreeMap<String, SamlRec>,
    pub oidc: BTreeMap<String, OidcRec>,
    pub apps: BTreeMap<String, AppRec>,
    pub bin_users: BTreeMap<String, BinUser>,
    pub bin_keys: BTreeMap<String, BinKey>,
    pub tasks: BTreeMap<String, Task>,
    pub sessions: BTreeMap<String, Session>,
    pub rng: Prng,
    /// How far the account's clock is ahead of the wall clock (negative: behind).
    /// The `now` every handler gets is the account's; the wall clock, which clients
    /// sign with and which bounds temporary credentials, tokens and TOTP codes, is
    /// `now - clock_offset` ([`State::wall_clock`]).
    pub clock_offset: time::Duration,
    /// Arrivals in the recycle bin so far (see [`BinUser::seq`]).
    pub bin_seq: u64,
}

/// A small clonable generator (SplitMix64) for IDs and secrets.
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    pub fn new(seed: u64) -> Self {
        Prng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

impl std::fmt::Debug for State {
    /// Counts only: the state holds secrets (root key, access keys, sessions).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("account", &self.account)
            .field("root_key_id", &self.root.id)
            .field("users", &self.users.len())
            .field("groups", &self.groups.len())
            .field("roles", &self.roles.len())
            .field("policies", &self.policies.len())
            .field("sessions", &self.sessions.len())
            .finish_non_exhaustive()
    }
}

/// When a seeded bin entry deleted for good at `delete_date` is purged: then, when
/// that is still ahead of the wall clock at start (`now`). An entry whose date has already passed
/// is one of an old snapshot (a live account holds none): it stays in the bin as
/// seeded rather than vanishing at the first call.
pub fn purge_time(delete_date: Option<&str>, now: OffsetDateTime) -> Option<OffsetDateTime> {
    delete_date.and_then(parse_time).filter(|t| *t > now)
}

/// When an entry arrived in the bin, for "the oldest is purged first": its recycle
/// date (none sorts first), then its order of arrival for entries of the same second.
fn arrival(recycle_date: Option<&str>, seq: u64) -> (Option<OffsetDateTime>, u64) {
    (recycle_date.and_then(parse_time), seq)
}

/// Parses an RFC 3339 timestamp.
pub fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// `2015-01-23T12:33:18Z`.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl State {
    /// Builds the state from a seed, checking that every reference resolves.
    /// `rng_seed` makes generated IDs and secrets reproducible.
    pub fn from_seed(
        seed: &Inventory,
        rng_seed: u64,
        now: OffsetDateTime,
    ) -> Result<State, String> {
        Self::from_seed_with_clock(seed, rng_seed, now, time::Duration::ZERO)
    }

    /// [`State::from_seed`] with the account's clock `clock_offset` ahead of the
    /// wall clock `wall`: dates the seed leaves out are the account's now, and a
    /// seeded bin entry is stale when its delete date passed by the wall clock (the
    /// time a snapshot is taken), so that an account started ahead purges it.
    pub fn from_seed_with_clock(
        seed: &Inventory,
        rng_seed: u64,
        wall: OffsetDateTime,
        clock_offset: time::Duration,
    ) -> Result<State, String> {
        let now = wall + clock_offset;
        let created = timestamp(now);
        let opts = seed.emulator.clone().unwrap_or_default();
        let mut st = State {
            account: seed.account.clone(),
            root: RootKey {
                id: String::new(),
                secret: String::new(),
            },
            delete_user: opts.delete_user,
            deletion_polls: opts.deletion_polls.unwrap_or(2),
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            roles: BTreeMap::new(),
            policies: BTreeMap::new(),
            system: system_policies::all()
                .into_iter()
                .map(|p| (p.name.to_string(), p))
                .collect(),
            memberships: BTreeMap::new(),
            attachments: BTreeMap::new(),
            mfa_devices: BTreeMap::new(),
            saml: BTreeMap::new(),
            oidc: BTreeMap::new(),
            apps: BTreeMap::new(),
            bin_users: BTreeMap::new(),
            bin_keys: BTreeMap::new(),
            tasks: BTreeMap::new(),
            sessions: BTreeMap::new(),
            rng: Prng::new(rng_seed),
            clock_offset,
            bin_seq: 0,
        };
        if st.account.id.is_empty() {
            st.account.id = st.numeric_id(16);
        }
        if !st.account.id.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("account id `{}` is not numeric", st.account.id));
        }
        if let Some(policy) = &st.account.password_policy {
            super::settings::check_password_policy(policy)?;
        }
        if let Some(pref) = &st.account.security_preference {
            super::settings::check_security_preference(pref)?;
        }
        st.root = match opts.root_access_key {
            Some(k) => k,
            None => RootKey {
                id: st.key_id(),
                secret: st.secret(30),
            },
        };

        for p in &seed.policies {
            if st.policies.contains_key(&p.name) {
                return Err(format!("policy `{}` is declared twice", p.name));
            }
            if p.versions.is_empty() {
                return Err(format!("policy `{}` has no versions", p.name));
            }
            if p.versions.iter().filter(|v| v.is_default).count() != 1 {
                return Err(format!(
                    "policy `{}` must have exactly one default version",
                    p.name
                ));
            }
            let mut next = 1;
            for v in &p.versions {
                let n: u32 =
                    v.id.strip_prefix('v')
                        .and_then(|n| n.parse().ok())
                        .ok_or_else(|| {
                            format!("policy `{}` version id `{}` is not vN", p.name, v.id)
                        })?;
                next = next.max(n + 1);
            }
            let mut policy = p.clone();
            policy.create_date.get_or_insert_with(|| created.clone());
            for v in &mut policy.versions {
                v.create_date.get_or_insert_with(|| created.clone());
            }
            st.policies.insert(
                p.name.clone(),
                PolicyRec {
                    update_date: policy.create_date.clone().unwrap_or_default(),
                    policy,
                    next_version: next,
                },
            );
        }

        for g in &seed.groups {
            if st.groups.contains_key(&g.name) {
                return Err(format!("group `{}` is declared twice", g.name));
            }
            let mut group = g.clone();
            if group.id.is_empty() {
                group.id = format!("g-{}", st.alnum(12));
            }
            group.create_date.get_or_insert_with(|| created.clone());
            for p in std::mem::take(&mut group.policies) {
                st.seed_attach(Principal::Group, &g.name, p, &created)?;
            }
            st.groups.insert(
                g.name.clone(),
                GroupRec {
                    update_date: group.create_date.clone().unwrap_or_default(),
                    group,
                },
            );
        }

        for r in &seed.roles {
            if st.roles.contains_key(&r.name) {
                return Err(format!("role `{}` is declared twice", r.name));
            }
            let mut role = r.clone();
            if role.id.is_empty() {
                role.id = st.numeric_id(16);
            }
            role.create_date.get_or_insert_with(|| created.clone());
            for p in std::mem::take(&mut role.policies) {
                st.seed_attach(Principal::Role, &r.name, p, &created)?;
            }
            st.roles.insert(
                r.name.clone(),
                RoleRec {
                    update_date: role.create_date.clone().unwrap_or_default(),
                    role,
                },
            );
        }

        for d in &seed.virtual_mfa_devices {
            if st.mfa_devices.contains_key(&d.serial_number) {
                return Err(format!(
                    "MFA device `{}` is declared twice",
                    d.serial_number
                ));
            }
            st.mfa_devices.insert(
                d.serial_number.clone(),
                MfaRec {
                    device: d.clone(),
                    secret: None,
                },
            );
        }

        let mut key_ids: BTreeMap<String, ()> = BTreeMap::new();
        key_ids.insert(st.root.id.clone(), ());
        for u in &seed.users {
            if st.users.contains_key(&u.name) {
                return Err(format!("user `{}` is declared twice", u.name));
            }
            let mut user = u.clone();
            if user.id.is_empty() {
                user.id = st.numeric_id(16);
            }
            user.create_date.get_or_insert_with(|| created.clone());
            for k in &mut user.access_keys {
                if key_ids.insert(k.id.clone(), ()).is_some() {
                    return Err(format!("access key `{}` is declared twice", k.id));
                }
                if k.secret.is_none() {
                    k.secret = Some(st.secret(30));
                }
                k.create_date.get_or_insert_with(|| created.clone());
            }
            for g in std::mem::take(&mut user.groups) {
                if !st.groups.contains_key(&g) {
                    return Err(format!("user `{}` is in unknown group `{g}`", u.name));
                }
                st.memberships.insert((u.name.clone(), g), created.clone());
            }
            for p in std::mem::take(&mut user.policies) {
                st.seed_attach(Principal::User, &u.name, p, &created)?;
            }
            if let Some(serial) = user.mfa_device.take() {
                let rec = st.mfa_devices.entry(serial.clone()).or_insert(MfaRec {
                    device: VirtualMfaDevice {
                        serial_number: serial.clone(),
                        user: None,
                        activate_date: None,
                    },
                    secret: None,
                });
                match &rec.device.user {
                    Some(other) if other != &u.name => {
                        return Err(format!(
                            "MFA device `{serial}` is bound to both `{other}` and `{}`",
                            u.name
                        ));
                    }
                    _ => {
                        rec.device.user = Some(u.name.clone());
                        rec.device
                            .activate_date
                            .get_or_insert_with(|| created.clone());
                    }
                }
            }
            st.users.insert(
                u.name.clone(),
                UserRec {
                    update_date: user.create_date.clone().unwrap_or_default(),
                    user,
                },
            );
        }
        for d in st.mfa_devices.values() {
            if let Some(u) = &d.device.user
                && !st.users.contains_key(u)
            {
                return Err(format!(
                    "MFA device `{}` is bound to unknown user `{u}`",
                    d.device.serial_number
                ));
            }
        }
        let bound: Vec<_> = st
            .mfa_devices
            .values()
            .filter_map(|d| d.device.user.clone())
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for u in bound {
            if !seen.insert(u.clone()) {
                return Err(format!("user `{u}` has more than one MFA device"));
            }
        }

        for p in &seed.saml_providers {
            let mut provider = p.clone();
            provider.create_date.get_or_insert_with(|| created.clone());
            st.saml.insert(
                p.name.clone(),
                SamlRec {
                    update_date: provider.create_date.clone().unwrap_or_default(),
                    provider,
                    authn_sign_algo: "rsa-sha1".into(),
                },
            );
        }
        for p in &seed.oidc_providers {
            let mut provider = p.clone();
            provider.create_date.get_or_insert_with(|| created.clone());
            st.oidc.insert(
                p.name.clone(),
                OidcRec {
                    update_date: provider.create_date.clone().unwrap_or_default(),
                    provider,
                    issuance_limit_time: 12,
                },
            );
        }
        for a in &seed.applications {
            let mut app = a.clone();
            app.create_date.get_or_insert_with(|| created.clone());
            let app_type = app.app_type.clone().unwrap_or_else(|| "WebApp".into());
            app.app_type = Some(app_type.clone());
            st.apps.insert(
                a.app_id.clone(),
                AppRec {
                    update_date: app.create_date.clone().unwrap_or_default(),
                    app,
                    access_token_validity: 3600,
                    refresh_token_validity: if app_type == "WebApp" {
                        7_776_000
                    } else {
                        2_592_000
                    },
                    redirect_uris: vec![],
                    predefined_scopes: vec![],
                    required_scopes: vec![],
                    secret_required: app_type != "NativeApp",
                    is_multi_tenant: app_type != "WebApp",
                    protocol_version: "2.0".into(),
                },
            );
        }
        for u in &seed.recycle_bin.users {
            let seq = st.next_bin_seq();
            st.bin_users.insert(
                u.id.clone(),
                BinUser {
                    entry: u.clone(),
                    user: None,
                    seq,
                    purge_at: purge_time(u.delete_date.as_deref(), wall),
                },
            );
        }
        for k in &seed.recycle_bin.access_keys {
            let secret = st.secret(30);
            let seq = st.next_bin_seq();
            st.bin_keys.insert(
                k.id.clone(),
                BinKey {
                    entry: k.clone(),
                    key: AccessKey {
                        id: k.id.clone(),
                        secret: Some(secret),
                        status: ramstate_model::KeyStatus::Inactive,
                        create_date: k.create_date.clone(),
                        last_used_date: None,
                    },
                    seq,
                    purge_at: purge_time(k.delete_date.as_deref(), wall),
                },
            );
        }
        Ok(st)
    }

    fn seed_attach(
        &mut self,
        kind: Principal,
        name: &str,
        p: PolicyRef,
        date: &str,
    ) -> Result<(), String> {
        if !self.policy_exists(&p) {
            return Err(format!("`{name}` is attached to unknown policy `{p}`"));
        }
        self.attachments
            .insert((kind, name.to_string(), p), date.to_string());
        Ok(())
    }

    /// The state in the seed format.
    pub fn snapshot(&self) -> Inventory {
        let users = self
            .users
            .values()
            .map(|r| {
                let mut u = r.user.clone();
                u.groups = self.groups_of(&u.name);
                u.policies = self.policies_of(Principal::User, &u.name);
                u.mfa_device = self.mfa_of(&u.name).map(|d| d.device.serial_number.clone());
                u
            })
            .collect();
        let groups = self
            .groups
            .values()
            .map(|r| {
                let mut g = r.group.clone();
                g.policies = self.policies_of(Principal::Group, &g.name);
                g
            })
            .collect();
        let roles = self
            .roles
            .values()
            .map(|r| {
                let mut role = r.role.clone();
                role.policies = self.policies_of(Principal::Role, &role.name);
                role
            })
            .collect();
        Inventory {
            account: self.account.clone(),
            users,
            groups,
            roles,
            policies: self.policies.values().map(|p| p.policy.clone()).collect(),
            saml_providers: self.saml.values().map(|s| s.provider.clone()).collect(),
            oidc_providers: self.oidc.values().map(|s| s.provider.clone()).collect(),
            virtual_mfa_devices: self
                .mfa_devices
                .values()
                .map(|d| d.device.clone())
                .collect(),
            applications: self.apps.values().map(|a| a.app.clone()).collect(),
            recycle_bin: RecycleBin {
                users: self.bin_users.values().map(|b| b.entry.clone()).collect(),
                access_keys: self.bin_keys.values().map(|b| b.entry.clone()).collect(),
            },
            emulator: Some(EmulatorOptions {
                root_access_key: Some(self.root.clone()),
                delete_user: self.delete_user,
                deletion_polls: Some(self.deletion_polls),
            }),
        }
    }

    // ---- the clock and the recycle bin ----

    /// The wall clock behind the account's `now`.
    pub fn wall_clock(&self, now: OffsetDateTime) -> OffsetDateTime {
        now - self.clock_offset
    }

    fn next_bin_seq(&mut self) -> u64 {
        self.bin_seq += 1;
        self.bin_seq
    }

    /// The automatic purge: users and keys whose time in the bin is over are gone
    /// for good (a user's keys with it).
    pub fn purge_expired(&mut self, now: OffsetDateTime) {
        let due = |at: Option<OffsetDateTime>| at.is_some_and(|t| t <= now);
        let gone: Vec<String> = self
            .bin_users
            .values()
            .filter(|b| due(b.purge_at))
            .map(|b| b.entry.id.clone())
            .collect();
        for id in gone {
            self.purge_bin_user(&id);
        }
        self.bin_keys.retain(|_, k| !due(k.purge_at));
    }

    /// Removes a user from the bin for good, with every key of it still there.
    pub fn purge_bin_user(&mut self, id: &str) -> Option<BinUser> {
        let b = self.bin_users.remove(id)?;
        self.bin_keys.retain(|_, k| k.entry.user_id != id);
        Some(b)
    }

    /// Moves a user's identity to the bin for 30 days; when the bin already holds
    /// 1,000 users, the one that has been there longest is purged.
    pub fn bin_user(&mut self, entry: RecycledUser, user: UserRec, now: OffsetDateTime) {
        while self.bin_users.len() >= quota::BIN_USERS {
            let Some(oldest) = self
                .bin_users
                .values()
                .min_by_key(|b| arrival(b.entry.recycle_date.as_deref(), b.seq))
                .map(|b| b.entry.id.clone())
            else {
                break;
            };
            self.purge_bin_user(&oldest);
        }
        let seq = self.next_bin_seq();
        self.bin_users.insert(
            entry.id.clone(),
            BinUser {
                entry,
                user: Some(user),
                seq,
                purge_at: Some(now + time::Duration::days(BIN_RETENTION_DAYS)),
            },
        );
    }

    /// Moves a key to the bin for 30 days, `Inactive`; a user's bin holds at most
    /// three keys, the one that has been there longest is purged for a fourth.
    pub fn bin_key(&mut self, user_id: &str, mut key: AccessKey, now: OffsetDateTime) {
        loop {
            let mine: Vec<_> = self
                .bin_keys
                .values()
                .filter(|b| b.entry.user_id == user_id)
                .map(|b| {
                    (
                        arrival(b.entry.recycle_date.as_deref(), b.seq),
                        b.entry.id.clone(),
                    )
                })
                .collect();
            if mine.len() < quota::BIN_KEYS_PER_USER {
                break;
            }
            if let Some((_, oldest)) = mine.into_iter().min() {
                self.bin_keys.remove(&oldest);
            }
        }
        key.status = ramstate_model::KeyStatus::Inactive;
        let seq = self.next_bin_seq();
        let delete = now + time::Duration::days(BIN_RETENTION_DAYS);
        self.bin_keys.insert(
            key.id.clone(),
            BinKey {
                entry: RecycledAccessKey {
                    id: key.id.clone(),
                    user_id: user_id.to_string(),
                    create_date: key.create_date.clone(),
                    recycle_date: Some(timestamp(now)),
                    delete_date: Some(timestamp(delete)),
                },
                key,
                seq,
                purge_at: Some(delete),
            },
        );
    }

    // ---- ids and secrets ----

    pub fn alnum(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| ALNUM[self.rng.below(ALNUM.len() as u64) as usize] as char)
            .collect()
    }

    pub fn numeric_id(&mut self, digits: u32) -> String {
        let mut s = String::with_capacity(digits as usize);
        s.push(char::from(b'1' + self.rng.below(9) as u8));
        for _ in 1..digits {
            s.push(char::from(b'0' + self.rng.below(10) as u8));
        }
        s
    }

    pub fn key_id(&mut self) -> String {
        format!("LTAI{}", self.alnum(20))
    }

    pub fn secret(&mut self, n: usize) -> String {
        self.alnum(n)
    }

    pub fn request_token(&mut self) -> String {
        let bytes: Vec<u8> = (0..96).map(|_| self.rng.below(256) as u8).collect();
        format!(
            "CAIS{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    // ---- lookups ----

    pub fn user(&self, name: &str) -> Result<&UserRec, ErrorResponse> {
        self.users.get(name).ok_or_else(|| user_not_found(name))
    }

    pub fn user_mut(&mut self, name: &str) -> Result<&mut UserRec, ErrorResponse> {
        self.users.get_mut(name).ok_or_else(|| user_not_found(name))
    }

    pub fn group(&self, name: &str) -> Result<&GroupRec, ErrorResponse> {
        self.groups.get(name).ok_or_else(|| {
            ErrorResponse::not_found(
                "EntityNotExist.Group",
                format!("The group does not exist: {name}."),
            )
        })
    }

    pub fn role(&self, name: &str) -> Result<&RoleRec, ErrorResponse> {
        self.roles.get(name).ok_or_else(|| role_not_found(name))
    }

    pub fn groups_of(&self, user: &str) -> Vec<String> {
        self.memberships
            .range((user.to_string(), String::new())..)
            .take_while(|((u, _), _)| u == user)
            .map(|((_, g), _)| g.clone())
            .collect()
    }

    pub fn members_of(&self, group: &str) -> Vec<(String, String)> {
        self.memberships
            .iter()
            .filter(|((_, g), _)| g == group)
            .map(|((u, _), d)| (u.clone(), d.clone()))
            .collect()
    }

    pub fn attached(&self, kind: Principal, name: &str) -> Vec<(PolicyRef, String)> {
        let first = (kind, name.to_string(), PolicyRef::system(String::new()));
        self.attachments
            .range(first..)
            .take_while(|((k, n, _), _)| *k == kind && n == name)
            .map(|((_, _, p), d)| (p.clone(), d.clone()))
            .collect()
    }

    /// How many principals each policy is attached to, in one pass.
    pub fn attachment_counts(&self) -> BTreeMap<PolicyRef, usize> {
        let mut counts = BTreeMap::new();
        for (_, _, p) in self.attachments.keys() {
            *counts.entry(p.clone()).or_insert(0) += 1;
        }
        counts
    }

    pub fn policies_of(&self, kind: Principal, name: &str) -> Vec<PolicyRef> {
        self.attached(kind, name)
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    pub fn attachment_count(&self, p: &PolicyRef) -> usize {
        self.attachments.keys().filter(|(_, _, q)| q == p).count()
    }

    pub fn mfa_of(&self, user: &str) -> Option<&MfaRec> {
        self.mfa_devices
            .values()
            .find(|d| d.device.user.as_deref() == Some(user))
    }

    pub fn policy_exists(&self, p: &PolicyRef) -> bool {
        match p.policy_type {
            PolicyType::System => self.system.contains_key(p.name.as_str()),
            PolicyType::Custom => self.policies.contains_key(p.name.as_str()),
        }
    }

    /// Finds the user owning an access key.
    pub fn key_owner(&self, key_id: &str) -> Option<(&UserRec, &AccessKey)> {
        self.users.values().find_map(|u| {
            u.user
                .access_keys
                .iter()
                .find(|k| k.id == key_id)
                .map(|k| (u, k))
        })
    }

    /// `<name>@<domain>`.
    pub fn principal_name(&self, user: &str) -> String {
        format!("{user}@{}", self.account.domain())
    }

    /// The user a logon name points to (either of the account's domains).
    pub fn user_by_principal(&self, upn: &str) -> Result<&UserRec, ErrorResponse> {
        let (name, domain) = upn.split_once('@').unwrap_or((upn, ""));
        let domains = [self.account.domain(), self.account.initial_domain()];
        if !domain.is_empty() && !domains.iter().any(|d| d.eq_ignore_ascii_case(domain)) {
            return Err(user_not_found(upn));
        }
        self.users.get(name).ok_or_else(|| user_not_found(upn))
    }

    pub fn user_by_id(&self, id: &str) -> Result<&UserRec, ErrorResponse> {
        self.users
            .values()
            .find(|u| u.user.id == id)
            .ok_or_else(|| user_not_found(id))
    }

    /// Renames every relation of a principal.
    pub fn rename_principal(&mut self, kind: Principal, old: &str, new: &str) {
        let moved: Vec<_> = self
            .attachments
            .iter()
            .filter(|((k, n, _), _)| *k == kind && n == old)
            .map(|(key, d)| (key.clone(), d.clone()))
            .collect();
        for ((k, _, p), d) in moved {
            self.attachments.remove(&(k, old.to_string(), p.clone()));
            self.attachments.insert((k, new.to_string(), p), d);
        }
        let moved: Vec<_> = self
            .memberships
            .iter()
            .filter(|((u, g), _)| match kind {
                Principal::User => u == old,
                Principal::Group => g == old,
                Principal::Role => false,
            })
            .map(|(key, d)| (key.clone(), d.clone()))
            .collect();
        for ((u, g), d) in moved {
            self.memberships.remove(&(u.clone(), g.clone()));
            let key = match kind {
                Principal::User => (new.to_string(), g),
                _ => (u, new.to_string()),
            };
            self.memberships.insert(key, d);
        }
        if kind == Principal::User {
            for d in self.mfa_devices.values_mut() {
                if d.device.user.as_deref() == Some(old) {
                    d.device.user = Some(new.to_string());
                }
            }
        }
    }

    /// The summary policy fields of `p` (ListPolicies item shape), given how many
    /// principals it is attached to.
    pub fn policy_json(&self, p: &PolicyRef, count: usize) -> Value {
        match p.policy_type {
            PolicyType::System => {
                let s = &self.system[p.name.as_str()];
                json!({
                    "PolicyName": s.name,
                    "PolicyType": "System",
                    "Description": s.description,
                    "DefaultVersion": "v1",
                    "AttachmentCount": count,
                    "CreateDate": s.create_date,
                    "UpdateDate": s.create_date,
                })
            }
            PolicyType::Custom => {
                let r = &self.policies[p.name.as_str()];
                json!({
                    "PolicyName": r.policy.name,
                    "PolicyType": "Custom",
                    "Description": r.policy.description.clone().unwrap_or_default(),
                    "DefaultVersion": r.policy.default_version().map(|v| v.id.clone()).unwrap_or_default(),
                    "AttachmentCount": count,
                    "CreateDate": r.policy.create_date.clone().unwrap_or_default(),
                    "UpdateDate": r.update_date,
                    "Tags": tags_json(&r.policy.tags),
                })
            }
        }
    }
}

pub fn user_not_found(name: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.User",
        format!("The user does not exist: {name}."),
    )
}

pub fn role_not_found(name: &str) -> ErrorResponse {
    ErrorResponse::not_found(
        "EntityNotExist.Role",
        format!("The role does not exist: {name}."),
    )
}

/// `{"Tag": [{"TagKey":..,"TagValue":..}]}`.
pub fn tags_json(tags: &ramstate_model::Tags) -> Value {
    json!({
        "Tag": tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>()
    })
}

/// One page of a sorted list: the items and, when more remain, the marker of the next page.
pub fn paginate<T>(
    mut items: Vec<(String, T)>,
    params: &Params,
    max_items: i64,
    default: i64,
) -> Result<(Vec<T>, Option<String>), ErrorResponse> {
    let limit = params.int("MaxItems", 1, max_items)?.unwrap_or(default) as usize;
    let start_key = match params.get("Marker") {
        None => None,
        Some(m) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(m)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| {
                    ErrorResponse::invalid("Marker", None, "The specified marker is not valid.")
                })?,
        ),
    };
    items.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::new();
    let mut next = None;
    for (key, item) in items {
        if let Some(start) = &start_key
            && key.as_str() < start.as_str()
        {
            continue;
        }
        if out.len() == limit {
            next = Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.as_bytes()));
            break;
        }
        out.push(item);
    }
    Ok((out, next))
}

/// `{"<outer>": {"<inner>": [...]}, "IsTruncated": .., "Marker": ..}`.
pub fn page_json(outer: &str, inner: &str, items: Vec<Value>, marker: Option<String>) -> Value {
    let mut v = json!({ outer: { inner: items }, "IsTruncated": marker.is_some() });
    if let Some(m) = marker {
        v["Marker"] = Value::String(m);
    }
    v
}

/// `{"<outer>": {"<inner>": [...]}}`.
pub fn list_json(outer: &str, inner: &str, items: Vec<Value>) -> Value {
    json!({ outer: { inner: items } })
}

/// Checks a policy document: length first, then that it is a JSON policy.
pub fn check_policy_document(param: &str, doc: &str, max: usize) -> Result<(), ErrorResponse> {
    let len = doc.chars().count();
    if len == 0 || len > max {
        return Err(ErrorResponse::invalid(
            param,
            Some("Length"),
            format!("The length of {param} must be 1 to {max} characters, not {len}."),
        ));
    }
    let malformed = |why: &str| {
        ErrorResponse::bad_request(
            "MalformedPolicyDocument",
            format!("The policy document is malformed: {why}."),
        )
    };
    let v: Value = serde_json::from_str(doc).map_err(|e| malformed(&e.to_string()))?;
    let statements = v
        .get("Statement")
        .and_then(|s| s.as_array())
        .ok_or_else(|| malformed("it has no Statement list"))?;
    if statements.is_empty() {
        return Err(malformed("the Statement list is empty"));
    }
    for s in statements {
        match s.get("Effect").and_then(|e| e.as_str()) {
            Some("Allow") | Some("Deny") => {}
            _ => return Err(malformed("every statement needs Effect Allow or Deny")),
        }
        if s.get("Action").is_none() && s.get("NotAction").is_none() {
            return Err(malformed("every statement needs an Action"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    #[test]
    fn timestamps_have_no_fraction() {
        assert_eq!(timestamp(now()), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn seed_with_unknown_system_policy_is_rejected() {
        let inv: Inventory = yaml_serde::from_str(
            "account: {id: '1234567890123456'}\nusers: [{name: a, policies: [System/NoSuchPolicy]}]",
        )
        .unwrap();
        let err = State::from_seed(&inv, 1, now()).unwrap_err();
        assert!(err.contains("System/NoSuchPolicy"), "{err}");
    }

    #[test]
    fn seed_with_unknown_group_is_rejected() {
        let inv: Inventory =
            yaml_serde::from_str("account: {id: '1'}\nusers: [{name: a, groups: [nope]}]").unwrap();
        assert!(State::from_seed(&inv, 1, now()).is_err());
    }

    #[test]
    fn snapshot_round_trips_a_seed() {
        let inv: Inventory = yaml_serde::from_str(
            r#"
account: {id: "1234567890123456", alias: demo}
users:
  - name: alice
    id: "200000000000001"
    create_date: "2024-01-01T00:00:00Z"
    access_keys: [{id: LTAIalice1, secret: s1, status: Active, create_date: "2024-01-01T00:00:00Z"}]
    groups: [dev]
    policies: [System/ReadOnlyAccess, Custom/ops]
    mfa_device: "acs:ram::1234567890123456:mfa/alice"
groups:
  - {name: dev, id: g-1, create_date: "2024-01-01T00:00:00Z", policies: [Custom/ops]}
policies:
  - name: ops
    create_date: "2024-01-01T00:00:00Z"
    versions: [{id: v1, is_default: true, document: "{}", create_date: "2024-01-01T00:00:00Z"}]
virtual_mfa_devices:
  - {serial_number: "acs:ram::1234567890123456:mfa/alice", user: alice, activate_date: "2024-01-01T00:00:00Z"}
emulator:
  root_access_key: {id: root, secret: rootsecret}
  deletion_polls: 2
"#,
        )
        .unwrap();
        let st = State::from_seed(&inv, 1, now()).unwrap();
        let snap = st.snapshot();
        assert_eq!(snap, inv);
    }

    #[test]
    fn pagination_walks_every_item_once() {
        let items: Vec<(String, u32)> = (0..25).map(|i| (format!("u{i:02}"), i)).collect();
        let mut seen = vec![];
        let mut marker: Option<String> = None;
        loop {
            let mut map = BTreeMap::new();
            map.insert("MaxItems".to_string(), "10".to_string());
            if let Some(m) = &marker {
                map.insert("Marker".to_string(), m.clone());
            }
            let p = Params::new(ramstate_model::Service::Ram, map);
            let (page, next) = paginate(items.clone(), &p, 1000, 100).unwrap();
            seen.extend(page);
            match next {
                Some(m) => marker = Some(m),
                None => break,
            }
        }
        assert_eq!(seen, (0..25).collect::<Vec<_>>());
    }

    #[test]
    fn policy_documents_are_checked() {
        let ok =
            r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:*","Resource":"*"}]}"#;
        assert!(check_policy_document("PolicyDocument", ok, 6144).is_ok());
        assert_eq!(
            check_policy_document("PolicyDocument", "not json", 6144)
                .unwrap_err()
                .code,
            "MalformedPolicyDocument"
        );
        let long = format!("{}{}", ok, " ".repeat(6144));
        assert_eq!(
            check_policy_document("PolicyDocument", &long, 6144)
                .unwrap_err()
                .code,
            "InvalidParameter.PolicyDocument.Length"
        );
    }
}
