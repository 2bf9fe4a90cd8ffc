//! The HTTP side: one endpoint for every service, authentication as the gateway does
//! it, faults in front, the request log behind.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::http::request::Parts;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::error::{ErrorResponse, Params};
use super::faults::FaultState;
use super::long_query::{self, LongQuery};
use super::sign;
use super::state::{Identity, State, timestamp};
use super::{Faults, LogEntry, dispatch};
use ramstate_model::{Inventory, KeyStatus, Service};

/// Largest request body accepted.
const MAX_BODY: usize = 10 << 20;
/// How long a request body may take to arrive.
const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Allowed clock skew and nonce memory.
const SKEW: time::Duration = time::Duration::minutes(15);

/// Common parameters: never operation parameters, never logged.
const COMMON: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "Signature",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "SignatureType",
    "Timestamp",
    "SecurityToken",
    "RegionId",
    "BearerToken",
];

/// Operation parameters that carry secrets: kept out of the log.
const SECRET_PARAMS: &[&str] = &[
    "Password",
    "NewPassword",
    "OldPassword",
    "AccessKeySecret",
    "OIDCToken",
    "SAMLAssertion",
    "AuthenticationCode1",
    "AuthenticationCode2",
];

struct Core {
    state: State,
    /// (time of a write, state before it), kept while writes are still invisible; a
    /// write within a slice of the delay after the last one kept adds none.
    history: VecDeque<(Instant, State)>,
    /// Nonces seen within twice the allowed skew, by key ID and nonce...
    nonces: BTreeMap<String, OffsetDateTime>,
    /// ...and the same keys in the order they were seen, so expired ones are dropped
    /// from the front instead of by scanning them all.
    nonce_order: VecDeque<(OffsetDateTime, String)>,
}

/// Everything the connection tasks share.
pub struct Shared {
    core: Mutex<Core>,
    faults: Mutex<FaultState>,
    log: Mutex<Vec<LogEntry>>,
    log_file: Option<Mutex<File>>,
    seq: AtomicU64,
    started: Instant,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A parsed request.
struct Call {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    all: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
    body: Bytes,
    action: String,
    version: String,
    key_id: String,
    v3: Option<String>,
}

fn parse_form(bytes: &[u8], into: &mut BTreeMap<String, String>) {
    for (k, v) in form_urlencoded::parse(bytes) {
        into.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
}

impl Call {
    fn parse(parts: &Parts, body: Bytes) -> Call {
        let mut headers: BTreeMap<String, String> = parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        // A query string too long for the request line arrives in a header instead.
        let moved = headers.remove(long_query::QUERY_HEADER);
        let query_string = match (parts.uri.query(), moved) {
            (Some(long_query::MARKER), Some(moved)) => Some(moved),
            (q, _) => q.map(str::to_string),
        };
        let mut query = BTreeMap::new();
        if let Some(q) = &query_string {
            parse_form(q.as_bytes(), &mut query);
        }
        let form = match headers.get("content-type") {
            Some(ct) => ct
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded"),
            None => !body.is_empty(),
        };
        let mut all = query.clone();
        if form {
            let mut b = BTreeMap::new();
            parse_form(&body, &mut b);
            for (k, v) in b {
                all.entry(k).or_insert(v);
            }
        }
        let v3 = headers
            .get("authorization")
            .filter(|a| a.trim_start().starts_with(sign::V3_PREFIX))
            .cloned();
        let pick = |param: &str, header: &str| {
            all.get(param)
                .cloned()
                .filter(|s| !s.is_empty())
                .or_else(|| headers.get(header).cloned())
                .unwrap_or_default()
        };
        let action = pick("Action", "x-acs-action");
        let version = pick("Version", "x-acs-version");
        let key_id = match &v3 {
            Some(a) => sign::V3Authorization::parse(a)
                .map(|a| a.access_key_id)
                .unwrap_or_default(),
            None => all.get("AccessKeyId").cloned().unwrap_or_default(),
        };
        Call {
            method: parts.method.as_str().to_string(),
            path: parts.uri.path().to_string(),
            query,
            all,
            headers,
            body,
            action,
            version,
            key_id,
            v3,
        }
    }

    fn service(&self) -> Option<Service> {
        Service::from_version(&self.version)
    }

    fn op_params(&self) -> BTreeMap<String, String> {
        self.all
            .iter()
            .filter(|(k, _)| !COMMON.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    fn xml(&self) -> bool {
        self.all
            .get("Format")
            .is_some_and(|f| f.eq_ignore_ascii_case("xml"))
    }
}

/// The hyper error that makes it close a connection without answering.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

/// Accepts connections until `stop` fires.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let shared = shared.clone();
                conns.spawn(async move {
                    let svc = service_fn(move |req| {
                        let shared = shared.clone();
                        async move { shared.handle(req).await }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(LongQuery::new(stream)), svc)
                        .await;
                });
                while conns.try_join_next().is_some() {}
            }
        }
    }
    conns.abort_all();
    while conns.join_next().await.is_some() {}
}

impl Shared {
    pub fn new(state: State, faults: Faults, log_file: Option<File>) -> Shared {
        Shared {
            core: Mutex::new(Core {
                state,
                history: VecDeque::new(),
                nonces: BTreeMap::new(),
                nonce_order: VecDeque::new(),
            }),
            faults: Mutex::new(FaultState::new(faults)),
            log: Mutex::new(Vec::new()),
            log_file: log_file.map(Mutex::new),
            seq: AtomicU64::new(0),
            started: Instant::now(),
        }
    }

    pub fn log(&self) -> Vec<LogEntry> {
        lock(&self.log).clone()
    }

    /// The account as a snapshot, after the automatic purge of the bin.
    pub fn snapshot(&self) -> Inventory {
        let mut core = lock(&self.core);
        let now = self.account_now_of(&core.state);
        core.state.purge_expired(now);
        core.state.snapshot()
    }

    fn account_now_of(&self, st: &State) -> OffsetDateTime {
        OffsetDateTime::now_utc() + st.clock_offset
    }

    /// The account's clock now.
    pub fn now(&self) -> OffsetDateTime {
        self.account_now_of(&lock(&self.core).state)
    }

    pub fn clock_offset(&self) -> time::Duration {
        lock(&self.core).state.clock_offset
    }

    pub fn set_clock_offset(&self, offset: time::Duration) {
        lock(&self.core).state.clock_offset = offset;
    }

    /// Moves the account's clock; the offset saturates instead of overflowing.
    pub fn advance_clock(&self, by: time::Duration) {
        let mut core = lock(&self.core);
        core.state.clock_offset = core.state.clock_offset.saturating_add(by);
    }

    /// A console logon by password: the user's `LastLoginDate` becomes the
    /// account's now. Refused when the user does not exist or cannot log on.
    pub fn record_console_logon(&self, user: &str) -> Result<OffsetDateTime, String> {
        let mut core = lock(&self.core);
        let now = self.account_now_of(&core.state);
        let rec = core
            .state
            .users
            .get_mut(user)
            .ok_or_else(|| format!("there is no user `{user}`"))?;
        match &rec.user.login_profile {
            None => {
                return Err(format!(
                    "user `{user}` has no login profile: console logon is off"
                ));
            }
            Some(lp) if !lp.status.is_active() => {
                return Err(format!(
                    "the login profile of user `{user}` is Inactive: console logon is off"
                ));
            }
            Some(_) => {}
        }
        rec.user.last_login_date = Some(timestamp(now));
        Ok(now)
    }

    pub fn set_faults(&self, f: Faults) {
        *lock(&self.faults) = FaultState::new(f);
    }

    fn elapsed_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    async fn handle(&self, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Dropped> {
        let started = self.elapsed_ms();
        let arrived = Instant::now();
        let (parts, body) = req.into_parts();
        let read = tokio::time::timeout(BODY_TIMEOUT, Limited::new(body, MAX_BODY).collect());
        let body = match read.await {
            Ok(Ok(b)) => b.to_bytes(),
            _ => {
                let call = Call::parse(&parts, Bytes::new());
                let e = ErrorResponse::bad_request(
                    "InvalidParameter",
                    "The request body is unreadable, larger than 10 MB or too slow to arrive.",
                );
                return Ok(self.answer(&call, Err(e), None, started));
            }
        };
        let call = Call::parse(&parts, body);
        let decision = lock(&self.faults).decide(&call.action, Instant::now());
        if decision.drop == Some(false) {
            self.record(&call, 0, Some("ConnectionDropped".into()), started);
            return Err(Dropped);
        }
        // The latency comes before the call runs: a client that gives up meanwhile leaves
        // nothing done and nothing unlogged.
        if !decision.delay.is_zero() {
            tokio::time::sleep_until(latency_deadline(arrived, decision.delay)).await;
        }
        if let Some(ms) = decision.throttle {
            let e = ErrorResponse::bad_request(
                "Throttling.User",
                "Request was denied due to user flow control.",
            );
            return Ok(self.answer(&call, Err(e), Some(ms), started));
        }
        if let Some(unavailable) = decision.error {
            let e = if unavailable {
                ErrorResponse::new(
                    503,
                    "ServiceUnavailable",
                    "The request has failed due to a temporary failure of the server.",
                )
            } else {
                ErrorResponse::new(
                    500,
                    "InternalError",
                    "The request processing has failed due to some unknown error, exception or failure.",
                )
            };
            return Ok(self.answer(&call, Err(e), None, started));
        }
        let result = self.execute(&call);
        if decision.drop == Some(true) {
            self.record(&call, 0, Some("ConnectionDropped".into()), started);
            return Err(Dropped);
        }
        Ok(self.answer(&call, result, None, started))
    }

    /// Authenticates and runs the call.
    fn execute(&self, call: &Call) -> Result<Value, ErrorResponse> {
        if call.action.is_empty() {
            return Err(missing_common("Action"));
        }
        if call.version.is_empty() {
            return Err(missing_common("Version"));
        }
        let service = call.service().ok_or_else(ErrorResponse::unknown_action)?;
        if let Some(f) = call.all.get("Format")
            && !f.eq_ignore_ascii_case("json")
            && !f.eq_ignore_ascii_case("xml")
        {
            return Err(ErrorResponse::invalid(
                "Format",
                None,
                "The Format must be JSON or XML.",
            ));
        }
        // Signatures, nonces and temporary credentials follow the wall clock (the
        // client signs with it); the account's dates follow the account's clock.
        let wall = OffsetDateTime::now_utc();
        let delay = lock(&self.faults).faults.consistency_delay;
        let mut core = lock(&self.core);
        let who = authenticate(&mut core, call, service, wall)?;
        let offset = core.state.clock_offset;
        let now = wall + offset;
        if let Identity::User { name, key_id } = &who
            && let Some(u) = core.state.users.get_mut(name)
            && let Some(k) = u.user.access_keys.iter_mut().find(|k| &k.id == key_id)
        {
            k.last_used_date = Some(timestamp(now));
        }
        let params = Params::new(service, call.op_params());
        if delay.is_zero() {
            return dispatch(&mut core.state, &who, service, &call.action, &params, now);
        }
        let t = Instant::now();
        let horizon = t.checked_sub(delay);
        while core
            .history
            .front()
            .is_some_and(|(w, _)| horizon.is_some_and(|h| *w <= h))
        {
            core.history.pop_front();
        }
        if is_read(service, &call.action) {
            let Core { state, history, .. } = &mut *core;
            // A read runs on the oldest state still kept, in place (List and Get calls
            // change nothing; the deletion-status poll is ResourceManager's, not stale).
            let Some((_, view)) = history.front_mut() else {
                return dispatch(state, &who, service, &call.action, &params, now);
            };
            view.clock_offset = offset;
            return dispatch(view, &who, service, &call.action, &params, now);
        }
        // One copy of the state per slice of the delay, not one per write: a write
        // becomes visible between `delay - slice` and `delay` after it, and copying a
        // quota-size account at every write would cost the emulator more than the calls.
        let slice = delay / CONSISTENCY_SLICES;
        let fresh = core
            .history
            .back()
            .is_some_and(|(w, _)| t.duration_since(*w) < slice);
        let before = (!fresh).then(|| core.state.clone());
        let out = dispatch(&mut core.state, &who, service, &call.action, &params, now);
        if out.is_ok()
            && let Some(before) = before
        {
            core.history.push_back((t, before));
        }
        out
    }

    fn record(&self, call: &Call, status: u16, code: Option<String>, started: u64) {
        let params = call
            .op_params()
            .into_iter()
            .filter(|(k, _)| !SECRET_PARAMS.contains(&k.as_str()))
            .collect();
        let now = OffsetDateTime::now_utc();
        let entry = LogEntry {
            time: format!(
                "{}.{:03}Z",
                timestamp(now).trim_end_matches('Z'),
                now.millisecond()
            ),
            seq: self.seq.fetch_add(1, Ordering::SeqCst),
            service: call.service().unwrap_or(Service::Ram),
            action: call.action.clone(),
            params,
            caller: call.key_id.clone(),
            status,
            code,
            started_ms: started,
            finished_ms: self.elapsed_ms(),
        };
        if let Some(f) = &self.log_file
            && let Ok(line) = serde_json::to_string(&entry)
        {
            let mut f = lock(f);
            let _ = writeln!(f, "{line}");
            let _ = f.flush();
        }
        lock(&self.log).push(entry);
    }

    fn answer(
        &self,
        call: &Call,
        result: Result<Value, ErrorResponse>,
        retry_after: Option<u64>,
        started: u64,
    ) -> Response<Full<Bytes>> {
        let request_id = uuid::Uuid::new_v4().to_string().to_uppercase();
        let host = call
            .service()
            .map(|s| s.host().to_string())
            .unwrap_or_else(|| "ram.aliyuncs.com".to_string());
        let (status, mut body, code) = match result {
            Ok(v) => (200, v, None),
            Err(e) => (
                e.status,
                json!({"HostId": host, "Code": e.code, "Message": e.message}),
                Some(e.code),
            ),
        };
        if let Some(o) = body.as_object_mut() {
            o.insert("RequestId".into(), json!(request_id));
        }
        self.record(call, status, code, started);
        let (text, content_type) = if call.xml() {
            let root = if status == 200 {
                format!("{}Response", call.action)
            } else {
                "Error".to_string()
            };
            (to_xml(&root, &body), "application/xml;charset=utf-8")
        } else {
            (body.to_string(), "application/json;charset=utf-8")
        };
        let mut resp = Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("content-type", content_type)
            .header("x-acs-request-id", request_id);
        if let Some(ms) = retry_after {
            resp = resp.header("x-acs-retry-after", ms.to_string());
        }
        resp.body(Full::new(Bytes::from(text)))
            .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
    }
}

fn missing_common(name: &str) -> ErrorResponse {
    ErrorResponse::bad_request(
        "MissingParameter",
        format!(
            "The input parameter \"{name}\" that is mandatory for processing this request is not supplied."
        ),
    )
}

/// How many states eventual consistency keeps at most: one per slice of its delay.
const CONSISTENCY_SLICES: u32 = 8;

/// List and Get calls (what eventual consistency delays).
fn is_read(service: Service, action: &str) -> bool {
    (action.starts_with("List") || action.starts_with("Get"))
        && !matches!(service, Service::Sts | Service::ResourceManager)
}

/// Finds the identity and secret behind an access key ID.
fn credentials(
    core: &Core,
    key_id: &str,
    token: Option<&str>,
    now: OffsetDateTime,
) -> Result<(Identity, String), ErrorResponse> {
    let st = &core.state;
    if key_id == st.root.id {
        return Ok((Identity::Account, st.root.secret.clone()));
    }
    if let Some((u, k)) = st.key_owner(key_id) {
        if k.status == KeyStatus::Inactive {
            return Err(ErrorResponse::bad_request(
                "InvalidAccessKeyId.Inactive",
                "Specified access key is disabled.",
            ));
        }
        return Ok((
            Identity::User {
                name: u.user.name.clone(),
                key_id: key_id.to_string(),
            },
            k.secret.clone().unwrap_or_default(),
        ));
    }
    if let Some(s) = st.sessions.get(key_id) {
        let token = token.ok_or_else(|| {
            ErrorResponse::bad_request(
                "MissingSecurityToken",
                "The SecurityToken is mandatory for temporary credentials.",
            )
        })?;
        if !sign::signatures_equal(token, &s.token) {
            return Err(ErrorResponse::bad_request(
                "InvalidSecurityToken.MismatchWithAccessKey",
                "The SecurityToken does not belong to this access key.",
            ));
        }
        if s.expiration <= now {
            return Err(ErrorResponse::bad_request(
                "InvalidSecurityToken.Expired",
                "Specified SecurityToken is expired.",
            ));
        }
        return Ok((
            Identity::Role {
                role: s.role.clone(),
                role_id: s.role_id.clone(),
                session_name: s.session_name.clone(),
            },
            s.secret.clone(),
        ));
    }
    Err(ErrorResponse::not_found(
        "InvalidAccessKeyId.NotFound",
        "Specified access key is not found.",
    ))
}

fn check_time(value: &str, now: OffsetDateTime) -> Result<(), ErrorResponse> {
    let t = OffsetDateTime::parse(value, &Rfc3339).map_err(|_| {
        ErrorResponse::bad_request(
            "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted.",
        )
    })?;
    if (t - now).abs() > SKEW {
        return Err(ErrorResponse::bad_request(
            "InvalidTimeStamp.Expired",
            format!(
                "Specified time stamp or date value is expired. The server time is {}.",
                timestamp(now)
            ),
        ));
    }
    Ok(())
}

fn use_nonce(
    core: &mut Core,
    key_id: &str,
    nonce: &str,
    now: OffsetDateTime,
) -> Result<(), ErrorResponse> {
    while let Some((seen, key)) = core.nonce_order.front()
        && now - *seen >= SKEW * 2
    {
        if core.nonces.get(key) == Some(seen) {
            core.nonces.remove(key);
        }
        core.nonce_order.pop_front();
    }
    let key = format!("{key_id}\n{nonce}");
    if let Some(t) = core.nonces.get(&key)
        && now - *t < SKEW * 2
    {
        return Err(ErrorResponse::bad_request(
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    core.nonces.insert(key.clone(), now);
    core.nonce_order.push_back((now, key));
    Ok(())
}

fn mismatch(string_to_sign: &str) -> ErrorResponse {
    ErrorResponse::bad_request(
        "SignatureDoesNotMatch",
        format!(
            "Specified signature is not matched with our calculation. server string to sign is:{string_to_sign}"
        ),
    )
}

fn authenticate(
    core: &mut Core,
    call: &Call,
    service: Service,
    now: OffsetDateTime,
) -> Result<Identity, ErrorResponse> {
    if let Some(header) = &call.v3 {
        return authenticate_v3(core, call, header, now);
    }
    let anonymous = service == Service::Sts
        && matches!(
            call.action.as_str(),
            "AssumeRoleWithOIDC" | "AssumeRoleWithSAML"
        )
        && !call.all.contains_key("AccessKeyId")
        && !call.all.contains_key("Signature");
    if anonymous {
        return Ok(Identity::Anonymous);
    }
    let get = |name: &str| {
        call.all
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing_common(name))
    };
    let key_id = get("AccessKeyId")?;
    let signature = get("Signature")?;
    let stamp = get("Timestamp")?;
    let nonce = get("SignatureNonce")?;
    if let Some(m) = call.all.get("SignatureMethod")
        && m != "HMAC-SHA1"
    {
        return Err(ErrorResponse::invalid(
            "SignatureMethod",
            None,
            "The SignatureMethod must be HMAC-SHA1.",
        ));
    }
    if let Some(v) = call.all.get("SignatureVersion")
        && v != "1.0"
    {
        return Err(ErrorResponse::invalid(
            "SignatureVersion",
            None,
            "The SignatureVersion must be 1.0.",
        ));
    }
    check_time(stamp, now)?;
    let (who, secret) = credentials(
        core,
        key_id,
        call.all.get("SecurityToken").map(|s| s.as_str()),
        now,
    )?;
    let mut signed = call.all.clone();
    signed.remove("Signature");
    let sts = sign::v1_string_to_sign(&call.method, &signed);
    let expected = sign::v1_signature(&secret, &sts);
    if !sign::signatures_equal(&expected, signature) {
        return Err(mismatch(&sts));
    }
    use_nonce(core, key_id, nonce, now)?;
    Ok(who)
}

fn authenticate_v3(
    core: &mut Core,
    call: &Call,
    header: &str,
    now: OffsetDateTime,
) -> Result<Identity, ErrorResponse> {
    let auth = sign::V3Authorization::parse(header).ok_or_else(|| {
        ErrorResponse::bad_request(
            "IncompleteSignature",
            "The Authorization header is not `ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..`.",
        )
    })?;
    let algorithm = sign::V3Algorithm::from_name(&auth.algorithm).ok_or_else(|| {
        ErrorResponse::invalid(
            "SignatureMethod",
            None,
            format!(
                "The signature algorithm {} is not supported with an access key; use ACS3-HMAC-SHA256 or ACS3-HMAC-SM3.",
                auth.algorithm
            ),
        )
    })?;
    let header = |name: &str| {
        call.headers
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing_common(name))
    };
    let date = header("x-acs-date")?;
    let nonce = header("x-acs-signature-nonce")?;
    for required in [
        "host",
        "x-acs-action",
        "x-acs-version",
        "x-acs-date",
        "x-acs-signature-nonce",
    ] {
        if !auth.signed_headers.iter().any(|h| h == required) {
            return Err(ErrorResponse::bad_request(
                "IncompleteSignature",
                format!("The header {required} must be signed."),
            ));
        }
    }
    check_time(date, now)?;
    let (who, secret) = credentials(
        core,
        &auth.access_key_id,
        call.headers
            .get("x-acs-security-token")
            .or_else(|| call.all.get("SecurityToken"))
            .map(|s| s.as_str()),
        now,
    )?;
    // SDKs send the payload hash under this name whatever the algorithm.
    let payload_hash = algorithm.hash_hex(&call.body);
    if let Some(claimed) = call.headers.get("x-acs-content-sha256")
        && !claimed.eq_ignore_ascii_case(&payload_hash)
    {
        return Err(ErrorResponse::bad_request(
            "SignatureDoesNotMatch",
            "The x-acs-content-sha256 header does not match the request body.",
        ));
    }
    let canonical = sign::v3_canonical_request(
        &call.method,
        &call.path,
        &call.query,
        &call.headers,
        &auth.signed_headers,
        &payload_hash,
    );
    let sts = algorithm.string_to_sign(&canonical);
    let expected = algorithm.signature(&secret, &sts);
    if !sign::signatures_equal(&expected, &auth.signature.to_ascii_lowercase()) {
        return Err(mismatch(&sts));
    }
    use_nonce(core, &auth.access_key_id, nonce, now)?;
    Ok(who)
}

/// Renders a response body as XML: objects become elements, arrays repeat their key.
fn to_xml(root: &str, v: &Value) -> String {
    fn esc(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
    fn write(out: &mut String, name: &str, v: &Value) {
        match v {
            Value::Array(items) => {
                for i in items {
                    write(out, name, i);
                }
            }
            Value::Object(map) => {
                out.push_str(&format!("<{name}>"));
                for (k, x) in map {
                    write(out, k, x);
                }
                out.push_str(&format!("</{name}>"));
            }
            Value::Null => out.push_str(&format!("<{name}/>")),
            Value::String(s) => out.push_str(&format!("<{name}>{}</{name}>", esc(s))),
            other => out.push_str(&format!("<{name}>{other}</{name}>")),
        }
    }
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    write(&mut out, root, v);
    out
}

/// When a call that arrived at `arrived` with `latency` injected is let through. Tokio's
/// timer fires on the first whole millisecond at or after a deadline, and a little later
/// still when it wakes: aiming a millisecond early makes the delay the call sees average
/// `latency` instead of about a millisecond more.
fn latency_deadline(arrived: Instant, latency: std::time::Duration) -> Instant {
    let early = latency.saturating_sub(std::time::Duration::from_millis(1));
    arrived + early.max(latency / 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Cases per fuzz property: a few in CI, more with `RAMSTATE_FUZZ_CASES=N`.
    fn fuzz_cases() -> u32 {
        std::env::var("RAMSTATE_FUZZ_CASES")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(64)
    }

    const ROOT_ID: &str = "LTAIrootfuzz";
    const ROOT_SECRET: &str = "root-fuzz-secret";

    fn shared() -> Shared {
        let inv: Inventory = yaml_serde::from_str(&format!(
            "account: {{id: '1234567890123456'}}\n\
             users: [{{name: alice, access_keys: [{{id: LTAIa, secret: s, status: Active}}], groups: [dev]}}]\n\
             groups: [{{name: dev}}]\nroles: [{{name: AliyunServiceRoleForECS}}, {{name: r}}]\n\
             policies: [{{name: p, versions: [{{id: v1, is_default: true, document: '{{}}'}}]}}]\n\
             emulator: {{root_access_key: {{id: {ROOT_ID}, secret: {ROOT_SECRET}}}}}"
        ))
        .unwrap();
        let state = State::from_seed(&inv, 1, OffsetDateTime::now_utc()).unwrap();
        Shared::new(state, Faults::default(), None)
    }

    /// Parses, authenticates, runs and answers (in JSON and XML) one request.
    /// `Ok(true)` when the call succeeded.
    fn serve_one(shared: &Shared, parts: &Parts, body: Vec<u8>) -> Result<bool, TestCaseError> {
        let call = Call::parse(parts, Bytes::from(body));
        let result = shared.execute(&call);
        if let Err(e) = &result {
            prop_assert!((400..=503).contains(&e.status), "{e:?}");
            prop_assert!(!e.code.is_empty());
        }
        let ok = result.is_ok();
        let _ = shared.answer(&call, result.clone(), None, 0);
        let xml = to_xml("R", &result.unwrap_or_else(|e| json!({"Code": e.code})));
        prop_assert!(xml.starts_with("<?xml"));
        Ok(ok)
    }

    const ACTIONS: &[&str] = &[
        "GetCallerIdentity",
        "ListUsers",
        "GetUser",
        "DeleteUser",
        "CreateUser",
        "ListAccessKeys",
        "DeleteAccessKey",
        "AttachPolicyToUser",
        "DetachPolicyFromUser",
        "CreatePolicyVersion",
        "DeletePolicy",
        "ListEntitiesForPolicy",
        "AssumeRole",
        "AssumeRoleWithOIDC",
        "DeleteServiceLinkedRole",
        "GetServiceLinkedRoleDeletionStatus",
        "ListUsersInRecycleBin",
        "DeleteUserInRecycleBin",
        "SetDefaultDomain",
        "CreateApplication",
    ];
    const PARAMS: &[&str] = &[
        "UserName",
        "GroupName",
        "RoleName",
        "PolicyName",
        "PolicyType",
        "PolicyDocument",
        "VersionId",
        "UserAccessKeyId",
        "MaxItems",
        "Marker",
        "DeletionTaskId",
        "RoleArn",
        "RoleSessionName",
        "DurationSeconds",
        "Format",
        "SecurityToken",
        "Tag",
        "SignatureMethod",
    ];

    fn version() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(Service::Ram.version().to_string()),
            Just(Service::Ims.version().to_string()),
            Just(Service::Sts.version().to_string()),
            Just(Service::ResourceManager.version().to_string()),
            "[ -~]{0,12}",
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            Just("alice".to_string()),
            Just("dev".to_string()),
            Just("p".to_string()),
            Just("Custom".to_string()),
            Just("v1".to_string()),
            Just("LTAIa".to_string()),
            Just("xml".to_string()),
            Just("AliyunServiceRoleForECS".to_string()),
            "[0-9]{1,22}",
            "\\PC{0,24}",
        ]
    }

    fn header_name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("authorization".to_string()),
            Just("content-type".to_string()),
            Just("x-acs-action".to_string()),
            Just("x-acs-version".to_string()),
            Just("x-acs-date".to_string()),
            Just("x-acs-content-sha256".to_string()),
            Just("x-acs-signature-nonce".to_string()),
            Just(long_query::QUERY_HEADER.to_string()),
            "[a-z-]{1,12}",
        ]
    }

    fn header_value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("application/x-www-form-urlencoded".to_string()),
            "ACS3-HMAC-SHA256 [ -~]{0,80}",
            "ACS3-HMAC-SM3 Credential=[A-Za-z]{0,8},SignedHeaders=[a-z;-]{0,30},Signature=[0-9a-f]{0,64}",
            "[ -~]{0,60}",
        ]
    }

    fn method() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("POST".to_string()),
            Just("GET".to_string()),
            "[A-Z]{1,8}"
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: fuzz_cases(), failure_persistence: None, ..ProptestConfig::default() })]

        /// Whatever arrives — any method, path, query, headers and body — parsing and
        /// authenticating it ends in an answer, never a panic.
        #[test]
        fn no_request_makes_parsing_or_authentication_panic(
            method in method(),
            path in "/[A-Za-z0-9/._~-]{0,20}",
            query in prop::collection::vec(any::<u8>(), 0..200),
            headers in prop::collection::vec((header_name(), header_value()), 0..6),
            body in prop::collection::vec(any::<u8>(), 0..300),
            long_query in any::<bool>(),
        ) {
            let shared = shared();
            let query: String = form_urlencoded::byte_serialize(&query).collect();
            let target = if long_query { format!("{path}?{}", long_query::MARKER) } else { format!("{path}?{query}") };
            let mut req = Request::builder().method(method.as_str()).uri(target);
            for (k, v) in &headers {
                req = req.header(k.as_str(), v.as_str());
            }
            if long_query {
                req = req.header(long_query::QUERY_HEADER, query.as_str());
            }
            let Ok(req) = req.body(()) else { return Ok(()) };
            let (parts, ()) = req.into_parts();
            serve_one(&shared, &parts, body)?;
        }

        /// Correctly signed requests with arbitrary actions and parameters reach the
        /// state and end in an answer (success or a documented error), never a panic.
        #[test]
        fn signed_requests_with_arbitrary_parameters_never_panic(
            calls in prop::collection::vec(
                (
                    prop_oneof![prop::sample::select(ACTIONS).prop_map(str::to_string), "[A-Za-z]{0,20}"],
                    version(),
                    prop::collection::btree_map(prop::sample::select(PARAMS), text(), 0..6),
                    any::<bool>(),
                ),
                1..6,
            ),
        ) {
            let shared = shared();
            for (n, (action, version, params, in_body)) in calls.into_iter().enumerate() {
                let mut all: BTreeMap<String, String> =
                    params.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
                // Any Format but JSON or XML (an empty one too) is refused, rightly.
                let plain_format = all
                    .get("Format")
                    .is_none_or(|f| f.eq_ignore_ascii_case("json") || f.eq_ignore_ascii_case("xml"));
                for (k, v) in [
                    ("Action", action.as_str()),
                    ("Version", version.as_str()),
                    ("AccessKeyId", ROOT_ID),
                    ("SignatureMethod", "HMAC-SHA1"),
                    ("SignatureVersion", "1.0"),
                ] {
                    all.insert(k.to_string(), v.to_string());
                }
                all.insert("Timestamp".into(), timestamp(OffsetDateTime::now_utc()));
                all.insert("SignatureNonce".into(), format!("nonce-{n}"));
                let sts = sign::v1_string_to_sign("POST", &all);
                all.insert("Signature".into(), sign::v1_signature(ROOT_SECRET, &sts));
                let encoded = sign::canonical_query(&all);
                let (uri, body) = if in_body {
                    ("/".to_string(), encoded.into_bytes())
                } else {
                    (format!("/?{encoded}"), Vec::new())
                };
                let req = Request::builder()
                    .method("POST")
                    .uri(uri)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(())
                    .unwrap();
                let (parts, ()) = req.into_parts();
                let ok = serve_one(&shared, &parts, body)?;
                // The signature is right: a call that needs nothing else succeeds.
                if action == "GetCallerIdentity" && version == Service::Sts.version() && plain_format {
                    prop_assert!(ok, "a signed GetCallerIdentity was refused");
                }
            }
        }

        /// The V3 `Authorization` header parser takes any text.
        #[test]
        fn any_authorization_header_parses_or_is_refused(header in "(ACS3-HMAC-SHA256 |ACS3-HMAC-SM3 )?[ -~]{0,120}") {
            if let Some(a) = sign::V3Authorization::parse(&header) {
                prop_assert!(!a.access_key_id.is_empty() && !a.signature.is_empty());
            }
        }
    }

    #[test]
    fn xml_repeats_list_items_under_their_key() {
        let v = json!({"Users": {"User": [{"UserName": "a"}, {"UserName": "b&c"}]}, "IsTruncated": false});
        assert_eq!(
            to_xml("ListUsersResponse", &v),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListUsersResponse><IsTruncated>false</IsTruncated><Users><User><UserName>a</UserName></User><User><UserName>b&amp;c</UserName></User></Users></ListUsersResponse>"
        );
    }

    #[test]
    fn reads_are_lists_and_gets_of_ram_and_ims() {
        assert!(is_read(Service::Ram, "ListUsers"));
        assert!(is_read(Service::Ims, "GetDefaultDomain"));
        assert!(!is_read(Service::Ram, "CreateUser"));
        assert!(!is_read(
            Service::ResourceManager,
            "GetServiceLinkedRoleDeletionStatus"
        ));
    }

    #[test]
    fn a_nonce_is_refused_while_remembered_and_forgotten_once_expired() {
        let mut core = Core {
            state: State::from_seed(&Inventory::default(), 1, OffsetDateTime::UNIX_EPOCH).unwrap(),
            history: VecDeque::new(),
            nonces: BTreeMap::new(),
            nonce_order: VecDeque::new(),
        };
        let t0 = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        for n in 0..100 {
            use_nonce(&mut core, "key", &format!("n{n}"), t0).unwrap();
        }
        let e = use_nonce(&mut core, "key", "n7", t0 + SKEW).unwrap_err();
        assert_eq!(e.code, "SignatureNonceUsed");
        let later = t0 + SKEW * 2;
        use_nonce(&mut core, "key", "n7", later).unwrap();
        // Everything older than twice the skew is gone; only the fresh use remains.
        assert_eq!(core.nonces.len(), 1);
        assert_eq!(core.nonce_order.len(), 1);
    }

    #[test]
    fn injected_latency_aims_a_millisecond_early_but_never_below_half() {
        let t = Instant::now();
        let ms = std::time::Duration::from_millis;
        assert_eq!(latency_deadline(t, ms(20)), t + ms(19));
        assert_eq!(
            latency_deadline(t, ms(1)),
            t + std::time::Duration::from_micros(500)
        );
        assert_eq!(latency_deadline(t, ms(0)), t);
    }
}
