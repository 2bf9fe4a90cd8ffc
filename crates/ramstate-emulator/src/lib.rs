//! A local emulator of Alibaba Cloud's RAM, IMS, STS and ResourceManager RPC APIs.
//!
//! It serves one loopback HTTP endpoint, checks Signature V1 and V3 as the gateway
//! does, keeps an account in memory (seeded from an [`Inventory`]), answers with the
//! documented wire shapes and error codes, injects faults on request, and records
//! every call in a request log.
//!
//! The state logic is pure ([`dispatch`]); the HTTP layer, faults and log live in
//! the private `server` module.
//!
//! The crate's README (what it emulates, how to use it in tests, its limits) is
//! compiled and run as a doctest, so its example stays true.

mod error;
mod faults;
mod generate;
mod ims;
mod long_query;
mod ram;
mod rm;
mod server;
mod settings;
pub mod sign;
mod state;
mod sts;
mod system_policies;
mod tags;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

pub use error::{ErrorResponse, Params};
pub use generate::{GenerateParams, generate};
pub use ram::{base32_decode, totp};
pub use state::{Identity, State};

use ramstate_model::{Inventory, RootKey, Service};

/// How to start an emulator.
#[derive(Clone, Default)]
pub struct EmulatorConfig {
    pub seed: Inventory,
    pub faults: Faults,
    /// Also write the request log as JSON lines here.
    pub log_file: Option<PathBuf>,
    /// Port on 127.0.0.1; 0 lets the OS choose.
    pub port: u16,
    /// How far the account's clock starts ahead of the wall clock (negative:
    /// behind); see [`Emulator::advance_clock`].
    pub clock_offset: time::Duration,
}

impl std::fmt::Debug for EmulatorConfig {
    /// The seed holds secrets; only its account and size are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("account", &self.seed.account.id)
            .field("users", &self.seed.users.len())
            .field("faults", &self.faults)
            .field("log_file", &self.log_file)
            .field("port", &self.port)
            .field("clock_offset", &self.clock_offset)
            .finish()
    }
}

impl EmulatorConfig {
    /// An emulator of `seed` on an OS-chosen port, without faults or log file.
    pub fn new(seed: Inventory) -> Self {
        EmulatorConfig {
            seed,
            ..Default::default()
        }
    }
}

/// Injected faults; the default injects none.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Added to every call.
    pub latency: Duration,
    /// A random extra delay from zero up to this.
    pub jitter: Duration,
    /// Calls per second before `Throttling.User` (0: unlimited).
    pub qps_limit: f64,
    /// Count the QPS limit per action instead of globally.
    pub qps_per_action: bool,
    /// Fraction of calls answered with `ServiceUnavailable` or `InternalError`.
    pub error_rate: f64,
    /// Fraction of calls whose connection is closed without an answer (half of
    /// them after the call took effect, half before).
    pub drop_rate: f64,
    /// List and Get calls see writes only after this delay (at least seven eighths of
    /// it: the emulator keeps one earlier state per eighth).
    pub consistency_delay: Duration,
    /// Seed of the fault randomness.
    pub seed: u64,
}

/// One call as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// RFC 3339 with milliseconds.
    pub time: String,
    pub seq: u64,
    /// The service the call's Version names (RAM, the endpoint's default, when it
    /// names none).
    pub service: Service,
    pub action: String,
    /// Operation parameters only; secrets removed.
    pub params: BTreeMap<String, String>,
    /// The access key ID the call was signed with (empty when unsigned).
    pub caller: String,
    /// HTTP status; 0 when the connection was dropped.
    pub status: u16,
    pub code: Option<String>,
    /// Milliseconds since the emulator started.
    pub started_ms: u64,
    pub finished_ms: u64,
}

/// The largest number of calls in flight at once, from their start and finish times.
pub fn peak_concurrency(log: &[LogEntry]) -> usize {
    let mut edges: Vec<(u64, i32)> = log
        .iter()
        .flat_map(|e| [(e.started_ms, 1), (e.finished_ms, -1)])
        .collect();
    // A call finishing at the same millisecond another starts does not overlap it.
    edges.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let (mut now, mut peak) = (0i32, 0i32);
    for (_, d) in edges {
        now += d;
        peak = peak.max(now);
    }
    peak as usize
}

/// Why an emulator could not start or a seed could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EmulatorError {
    #[error("the seed is not a valid account snapshot: {0}")]
    #[diagnostic(
        code(ramstate::emulator::seed),
        help("fix the seed file; every group, policy and MFA device a user names must exist")
    )]
    Seed(String),
    #[error("cannot read {path}")]
    #[diagnostic(code(ramstate::emulator::read))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on 127.0.0.1:{port}")]
    #[diagnostic(
        code(ramstate::emulator::bind),
        help("choose another --port, or 0 to let the system pick one")
    )]
    Bind { port: u16, source: std::io::Error },
    #[error("no console logon: {0}")]
    #[diagnostic(
        code(ramstate::emulator::logon),
        help(
            "create the user and an Active login profile first (IMS UpdateLoginProfile Status=Active)"
        )
    )]
    Logon(String),
    #[error("cannot open the request log {path}")]
    #[diagnostic(code(ramstate::emulator::log))]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads a seed (YAML, or JSON, which is YAML too).
pub fn load_seed(path: &Path) -> Result<Inventory, EmulatorError> {
    let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_seed(&text)
}

/// Parses seed text (YAML or JSON).
pub fn parse_seed(text: &str) -> Result<Inventory, EmulatorError> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| EmulatorError::Seed(e.to_string()))
    } else {
        yaml_serde::from_str(text).map_err(|e| EmulatorError::Seed(e.to_string()))
    }
}

/// Runs one call against the state: the pure core of the emulator.
/// Unknown actions get `InvalidParameter` (Action or Version).
///
/// `now` is the account's clock: every date the call records or compares (create,
/// update and logon dates, the recycle bin's dates and its automatic purge). The
/// wall clock, which bounds temporary credentials, OIDC tokens, SAML assertions and
/// TOTP codes, is `now - st.clock_offset`. Expired recycle-bin entries are purged
/// first, so every call sees the same bin.
pub fn dispatch(
    st: &mut State,
    who: &Identity,
    service: Service,
    action: &str,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Value, ErrorResponse> {
    st.purge_expired(now);
    let out = match service {
        Service::Ram => ram::handle(st, who, action, params, now),
        Service::Ims => ims::handle(st, who, action, params, now),
        Service::Sts => sts::handle(st, who, action, params, now),
        Service::ResourceManager => rm::handle(st, who, action, params, now),
    };
    out.unwrap_or_else(|| Err(ErrorResponse::unknown_action()))
}

/// A running emulator.
pub struct Emulator {
    url: String,
    root: RootKey,
    shared: Arc<server::Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url)
            .field("root_key_id", &self.root.id)
            .finish_non_exhaustive()
    }
}

/// Starts an emulator on 127.0.0.1.
pub async fn start(config: EmulatorConfig) -> Result<Emulator, EmulatorError> {
    let state = State::from_seed_with_clock(
        &config.seed,
        rand::random(),
        OffsetDateTime::now_utc(),
        config.clock_offset,
    )
    .map_err(EmulatorError::Seed)?;
    let root = state.root.clone();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
        .await
        .map_err(|source| EmulatorError::Bind {
            port: config.port,
            source,
        })?;
    let port = listener
        .local_addr()
        .map_err(|source| EmulatorError::Bind {
            port: config.port,
            source,
        })?
        .port();
    let log_file = match &config.log_file {
        None => None,
        // A new log per run: its `seq` numbers start at 0 again.
        Some(path) => Some(
            std::fs::File::create(path).map_err(|source| EmulatorError::Log {
                path: path.clone(),
                source,
            })?,
        ),
    };
    let shared = Arc::new(server::Shared::new(state, config.faults, log_file));
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(server::serve(listener, shared.clone(), stopped));
    Ok(Emulator {
        url: format!("http://127.0.0.1:{port}/"),
        root,
        shared,
        stop: Some(stop),
        task: Some(task),
    })
}

impl Emulator {
    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The account's root access key.
    pub fn root_key(&self) -> &RootKey {
        &self.root
    }

    /// The request log so far.
    pub fn log(&self) -> Vec<LogEntry> {
        self.shared.log()
    }

    /// The current account in the seed format.
    pub fn snapshot(&self) -> Inventory {
        self.shared.snapshot()
    }

    /// The account's clock now: the wall clock plus the offset tests move. Every
    /// date the emulator records or compares comes from it (create, update, logon
    /// and key last-use dates, the recycle bin's dates and its 30-day purge).
    /// Signatures, nonces and temporary credentials keep following the wall clock,
    /// so a client signing with the real time is still accepted.
    pub fn now(&self) -> OffsetDateTime {
        self.shared.now()
    }

    /// How far the account's clock is ahead of the wall clock.
    pub fn clock_offset(&self) -> time::Duration {
        self.shared.clock_offset()
    }

    /// Sets how far the account's clock is ahead of the wall clock (negative:
    /// behind).
    pub fn set_clock_offset(&self, offset: time::Duration) {
        self.shared.set_clock_offset(offset);
    }

    /// Moves the account's clock forward by `by` (backward when negative): after
    /// `advance_clock(time::Duration::days(31))` everything deleted into the recycle
    /// bin before is purged.
    pub fn advance_clock(&self, by: time::Duration) {
        self.shared.advance_clock(by);
    }

    /// What a console logon by password does, for tests (there is no API for it):
    /// the user's `LastLoginDate` becomes the account's [`now`](Emulator::now),
    /// which it returns. Refused, as the console refuses the logon, when the user
    /// does not exist, has no login profile, or its profile is `Inactive`.
    pub fn record_console_logon(&self, user_name: &str) -> Result<OffsetDateTime, EmulatorError> {
        self.shared
            .record_console_logon(user_name)
            .map_err(EmulatorError::Logon)
    }

    /// Replaces the injected faults (and restarts their randomness).
    pub fn set_faults(&self, f: Faults) {
        self.shared.set_faults(f);
    }

    /// Stops accepting calls and closes open connections.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ramstate_model::KeyStatus;

    /// Every action the emulator answers, by service.
    const ACTIONS: &[(Service, &[&str])] = &[
        (
            Service::Ram,
            &[
                "CreateUser",
                "GetUser",
                "UpdateUser",
                "DeleteUser",
                "ListUsers",
                "CreateAccessKey",
                "ListAccessKeys",
                "UpdateAccessKey",
                "DeleteAccessKey",
                "GetAccessKeyLastUsed",
                "CreateLoginProfile",
                "GetLoginProfile",
                "UpdateLoginProfile",
                "DeleteLoginProfile",
                "CreateVirtualMFADevice",
                "ListVirtualMFADevices",
                "DeleteVirtualMFADevice",
                "BindMFADevice",
                "UnbindMFADevice",
                "GetUserMFAInfo",
                "CreateGroup",
                "GetGroup",
                "UpdateGroup",
                "DeleteGroup",
                "ListGroups",
                "ListUsersForGroup",
                "ListGroupsForUser",
                "AddUserToGroup",
                "RemoveUserFromGroup",
                "CreateRole",
                "GetRole",
                "UpdateRole",
                "DeleteRole",
                "ListRoles",
                "CreatePolicy",
                "GetPolicy",
                "UpdatePolicyDescription",
                "DeletePolicy",
                "ListPolicies",
                "CreatePolicyVersion",
                "GetPolicyVersion",
                "ListPolicyVersions",
                "DeletePolicyVersion",
                "SetDefaultPolicyVersion",
                "ListEntitiesForPolicy",
                "ListPoliciesForUser",
                "ListPoliciesForGroup",
                "ListPoliciesForRole",
                "AttachPolicyToUser",
                "AttachPolicyToGroup",
                "AttachPolicyToRole",
                "DetachPolicyFromUser",
                "DetachPolicyFromGroup",
                "DetachPolicyFromRole",
                "GetAccountAlias",
                "SetAccountAlias",
                "ClearAccountAlias",
            ],
        ),
        (
            Service::Ims,
            &[
                "CreateUser",
                "GetUser",
                "ListUsers",
                "ListUserBasicInfos",
                "DeleteUser",
                "CreateSAMLProvider",
                "GetSAMLProvider",
                "UpdateSAMLProvider",
                "DeleteSAMLProvider",
                "ListSAMLProviders",
                "CreateOIDCProvider",
                "GetOIDCProvider",
                "UpdateOIDCProvider",
                "DeleteOIDCProvider",
                "ListOIDCProviders",
                "CreateVirtualMFADevice",
                "ListVirtualMFADevices",
                "DeleteVirtualMFADevice",
                "BindMFADevice",
                "UnbindMFADevice",
                "GetUserMFAInfo",
                "GetAccountMFAInfo",
                "CreateApplication",
                "GetApplication",
                "UpdateApplication",
                "DeleteApplication",
                "ListApplications",
                "GetDefaultDomain",
                "SetDefaultDomain",
                "GetAccountSummary",
                "ListUsersInRecycleBin",
                "GetUserInRecycleBin",
                "RestoreUserFromRecycleBin",
                "DeleteUserInRecycleBin",
                "ListAccessKeysInRecycleBin",
                "GetAccessKeyInfoInRecycleBin",
                "RestoreAccessKeyFromRecycleBin",
                "DeleteAccessKeyInRecycleBin",
                "CreateAccessKey",
                "ListAccessKeys",
                "ListGroups",
                "AddUserToGroup",
                "GetPasswordPolicy",
                "SetPasswordPolicy",
                "GetSecurityPreference",
                "SetSecurityPreference",
            ],
        ),
        (
            Service::Sts,
            &[
                "GetCallerIdentity",
                "AssumeRole",
                "AssumeRoleWithOIDC",
                "AssumeRoleWithSAML",
            ],
        ),
        (
            Service::ResourceManager,
            &[
                "DeleteServiceLinkedRole",
                "GetServiceLinkedRoleDeletionStatus",
            ],
        ),
    ];

    const NAMES: &[&str] = &[
        "UserName",
        "GroupName",
        "RoleName",
        "PolicyName",
        "PolicyType",
        "PolicyDocument",
        "VersionId",
        "UserAccessKeyId",
        "Status",
        "MaxItems",
        "Marker",
        "SerialNumber",
        "UserPrincipalName",
        "UserId",
        "RoleArn",
        "RoleSessionName",
        "DurationSeconds",
        "DeletionTaskId",
        "AppId",
        "AppType",
        "AppName",
        "DisplayName",
        "Tag",
        "Filter",
        "NewUserName",
        "CascadingDelete",
        "SetAsDefault",
        "AssumeRolePolicyDocument",
        "DefaultDomainName",
        "AccountAlias",
        "OIDCToken",
        "OIDCProviderArn",
        "IssuerUrl",
        "AuthenticationCode1",
        "AuthenticationCode2",
        "Password",
        "RotateStrategy",
        "MinimumPasswordLength",
        "RequireSymbols",
        "LoginSessionDuration",
        "LoginNetworkMasks",
        "MFAOperationForLogin",
        "VerificationTypes",
    ];

    fn entry(started_ms: u64, finished_ms: u64) -> LogEntry {
        LogEntry {
            time: String::new(),
            seq: 0,
            service: Service::Ram,
            action: "ListUsers".into(),
            params: BTreeMap::new(),
            caller: String::new(),
            status: 200,
            code: None,
            started_ms,
            finished_ms,
        }
    }

    #[test]
    fn peak_concurrency_counts_overlapping_calls_only() {
        assert_eq!(peak_concurrency(&[]), 0);
        assert_eq!(
            peak_concurrency(&[entry(0, 5), entry(5, 9), entry(9, 12)]),
            1
        );
        assert_eq!(
            peak_concurrency(&[entry(0, 10), entry(2, 4), entry(3, 12), entry(11, 13)]),
            3
        );
    }

    fn seeded() -> State {
        let inv = parse_seed(
            "account: {id: '1234567890123456'}\nusers: [{name: alice, access_keys: [{id: LTAIa, status: Active}], groups: [dev]}]\ngroups: [{name: dev}]\nroles: [{name: AliyunServiceRoleForECS}, {name: r}]\npolicies: [{name: p, versions: [{id: v1, is_default: true, document: '{}'}]}]",
        )
        .unwrap();
        State::from_seed(&inv, 1, OffsetDateTime::now_utc()).unwrap()
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("alice".to_string()),
            Just("dev".to_string()),
            Just("p".to_string()),
            Just("Custom".to_string()),
            Just("System".to_string()),
            Just("v1".to_string()),
            Just("LTAIa".to_string()),
            Just("AliyunServiceRoleForECS".to_string()),
            Just("acs:ram::1234567890123456:role/r".to_string()),
            Just("{\"Statement\":[]}".to_string()),
            Just("[{\"Key\":1}]".to_string()),
            "[ -~]{0,40}",
            "\\PC{0,20}",
            "[0-9]{1,22}",
        ]
    }

    fn ims(
        st: &mut State,
        action: &str,
        pairs: &[(&str, &str)],
        now: OffsetDateTime,
    ) -> Result<Value, ErrorResponse> {
        call(st, Service::Ims, action, pairs, now)
    }

    fn call(
        st: &mut State,
        service: Service,
        action: &str,
        pairs: &[(&str, &str)],
        now: OffsetDateTime,
    ) -> Result<Value, ErrorResponse> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        dispatch(
            st,
            &Identity::Account,
            service,
            action,
            &Params::new(service, map),
            now,
        )
    }

    fn recycle_bin_account(now: OffsetDateTime) -> State {
        let inv = parse_seed(
            "account: {id: '1234567890123456'}\nusers: [{name: bob, id: '200000000000010', access_keys: [{id: LTAIbob1, status: Active}]}]\nemulator: {delete_user: recycle_bin}",
        )
        .unwrap();
        State::from_seed(&inv, 1, now).unwrap()
    }

    #[test]
    fn a_binned_user_is_there_until_its_delete_date_and_gone_from_then_on() {
        let t0 = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let mut st = recycle_bin_account(t0);
        call(
            &mut st,
            Service::Ram,
            "DeleteUser",
            &[("UserName", "bob")],
            t0,
        )
        .unwrap();
        let due = t0 + time::Duration::days(30);
        let just_before = due - time::Duration::seconds(1);
        let got = ims(
            &mut st,
            "GetUserInRecycleBin",
            &[("UserId", "200000000000010")],
            just_before,
        )
        .unwrap();
        assert_eq!(got["User"]["DeleteDate"], "2023-12-14T22:13:20Z");
        let keys = ims(
            &mut st,
            "ListAccessKeysInRecycleBin",
            &[("UserId", "200000000000010")],
            just_before,
        )
        .unwrap();
        assert_eq!(
            keys["AccessKeys"]["AccessKey"][0]["DeleteDate"],
            "2023-12-14T22:13:20Z"
        );
        let gone = ims(
            &mut st,
            "GetUserInRecycleBin",
            &[("UserId", "200000000000010")],
            due,
        )
        .unwrap_err();
        assert_eq!(gone.code, "EntityNotExist.User");
        assert!(st.bin_users.is_empty() && st.bin_keys.is_empty());
    }

    /// One step of a recycle-bin walk.
    #[derive(Debug, Clone)]
    enum BinStep {
        CreateKey,
        DeleteKey(usize),
        DeleteUser,
        RestoreUser,
        RestoreKey(usize),
        Advance(i64),
    }

    fn bin_step() -> impl Strategy<Value = BinStep> {
        prop_oneof![
            Just(BinStep::CreateKey),
            (0usize..2).prop_map(BinStep::DeleteKey),
            Just(BinStep::DeleteUser),
            Just(BinStep::RestoreUser),
            (0usize..4).prop_map(BinStep::RestoreKey),
            (0i64..20).prop_map(BinStep::Advance),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Whatever is deleted, restored and however far the clock moves: a user's
        /// bin holds at most three keys, every key in the bin or restored from it is
        /// disabled until enabled, and nothing past its delete date is listed.
        #[test]
        fn the_bin_keeps_its_limits_and_dates_through_any_walk(steps in prop::collection::vec(bin_step(), 1..40)) {
            let mut now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
            let mut st = recycle_bin_account(now);
            let mut restored_keys: Vec<String> = vec![];
            for step in steps {
                match step {
                    BinStep::CreateKey => {
                        let _ = call(&mut st, Service::Ram, "CreateAccessKey", &[("UserName", "bob")], now);
                    }
                    BinStep::DeleteKey(i) => {
                        let id = st.users.get("bob").and_then(|u| u.user.access_keys.get(i)).map(|k| k.id.clone());
                        if let Some(id) = id {
                            call(&mut st, Service::Ram, "DeleteAccessKey", &[("UserName", "bob"), ("UserAccessKeyId", &id)], now).unwrap();
                        }
                    }
                    BinStep::DeleteUser => {
                        let _ = call(&mut st, Service::Ram, "DeleteUser", &[("UserName", "bob")], now);
                    }
                    BinStep::RestoreUser => {
                        if ims(&mut st, "RestoreUserFromRecycleBin", &[("UserId", "200000000000010")], now).is_ok() {
                            let u = &st.users["bob"];
                            prop_assert!(u.user.access_keys.is_empty());
                            prop_assert!(st.groups_of("bob").is_empty());
                        }
                    }
                    BinStep::RestoreKey(i) => {
                        let id = st.bin_keys.keys().nth(i).cloned();
                        if let Some(id) = id
                            && ims(&mut st, "RestoreAccessKeyFromRecycleBin", &[("UserAccessKeyId", &id)], now).is_ok()
                        {
                            restored_keys.push(id);
                        }
                    }
                    BinStep::Advance(days) => now += time::Duration::days(days),
                }
                let listed = ims(&mut st, "ListAccessKeysInRecycleBin", &[("UserId", "200000000000010")], now).unwrap();
                let listed = listed["AccessKeys"]["AccessKey"].as_array().unwrap().clone();
                prop_assert!(listed.len() <= 3, "{listed:?}");
                for k in &listed {
                    let delete = state::parse_time(k["DeleteDate"].as_str().unwrap()).unwrap();
                    prop_assert!(delete > now);
                }
                prop_assert!(st.bin_keys.values().all(|k| k.key.status == KeyStatus::Inactive));
                if let Some(u) = st.users.get("bob") {
                    for k in &u.user.access_keys {
                        if restored_keys.contains(&k.id) {
                            prop_assert_eq!(k.status, KeyStatus::Inactive);
                        }
                    }
                }
                if let Ok(u) = ims(&mut st, "GetUserInRecycleBin", &[("UserId", "200000000000010")], now) {
                    let delete = state::parse_time(u["User"]["DeleteDate"].as_str().unwrap()).unwrap();
                    prop_assert!(delete > now);
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn no_input_makes_the_emulator_panic(
            calls in prop::collection::vec(
                (0usize..4, 0usize..60, prop::collection::btree_map(prop::sample::select(NAMES), value(), 0..6)),
                1..8,
            ),
            caller in 0usize..3,
        ) {
            let mut st = seeded();
            let who = match caller {
                0 => Identity::Account,
                1 => Identity::User { name: "alice".into(), key_id: "LTAIa".into() },
                _ => Identity::Anonymous,
            };
            for (svc, action, params) in calls {
                let (service, actions) = ACTIONS[svc];
                let action = actions[action % actions.len()];
                let map = params.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                let out = dispatch(&mut st, &who, service, action, &Params::new(service, map), OffsetDateTime::now_utc());
                if let Err(e) = out {
                    prop_assert!((400..=503).contains(&e.status), "{e:?}");
                    prop_assert!(!e.code.is_empty());
                }
            }
            // Whatever happened, the state still prints as a valid seed.
            let snap = st.snapshot();
            prop_assert!(State::from_seed(&snap, 2, OffsetDateTime::now_utc()).is_ok());
        }
    }
}

/// Runs the README's examples as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
