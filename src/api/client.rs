//! The signed RPC client shared by every call in the process.
//!
//! One [`Client`] holds one connection pool, one rate limiter (`--qps`) and one bound on
//! calls in flight; clones share all three. Every call is a POST: the common
//! parameters and the signature travel in the query string, the operation parameters
//! (and the security token) in a form body, so long policy documents fit.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::future::BoxFuture;
use rand::RngExt as _;
use reqwest::Url;
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::api::USER_AGENT;
use crate::api::credentials::{Credentials, KeyPair, Sts};
use crate::api::error::{ApiError, ErrorKind};
use crate::api::retry::RetryPolicy;
use crate::api::sign;
use crate::api::wire;
use crate::model::{ApiCall, Caller, Service};

/// Proxy settings, read from an environment map so that tests stay hermetic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyConfig {
    /// Proxy for `https://` endpoints (`https_proxy` / `HTTPS_PROXY`).
    pub https: Option<String>,
    /// Proxy for `http://` endpoints (`http_proxy` / `HTTP_PROXY`).
    pub http: Option<String>,
    /// Hosts that bypass the proxy (`no_proxy` / `NO_PROXY`), comma-separated.
    pub no_proxy: Option<String>,
}

impl ProxyConfig {
    /// Reads the variables curl and most tools honour; lowercase wins, `ALL_PROXY` is the fallback.
    pub fn from_env(env: &BTreeMap<String, String>) -> ProxyConfig {
        let get = |names: &[&str]| {
            names
                .iter()
                .filter_map(|n| env.get(*n))
                .map(|v| v.trim().to_string())
                .find(|v| !v.is_empty())
        };
        let all = get(&["all_proxy", "ALL_PROXY"]);
        ProxyConfig {
            https: get(&["https_proxy", "HTTPS_PROXY"]).or_else(|| all.clone()),
            http: get(&["http_proxy", "HTTP_PROXY"]).or(all),
            no_proxy: get(&["no_proxy", "NO_PROXY"]),
        }
    }
}

/// How the client talks to the API.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Send every service's calls to this URL (the emulator); `http://` only to loopback.
    pub endpoint: Option<String>,
    /// Region for the regional STS endpoint `sts.<region>.aliyuncs.com`; [`Client::new`]
    /// refuses anything that is not a region ID ([`is_region_id`]).
    pub region: Option<String>,
    /// Calls per second for the whole process; `0` (or less, or not finite) means no
    /// client-side limit: calls are paced only once the server throttles.
    pub qps: f64,
    /// Calls in flight at once for the whole process (at least 1).
    pub max_in_flight: usize,
    /// Timeout of one HTTP exchange.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    /// Proxies to use; the default is a direct connection. The settings fill it from the
    /// environment with [`ProxyConfig::from_env`].
    pub proxy: ProxyConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            endpoint: None,
            region: None,
            qps: 20.0,
            max_in_flight: 10,
            timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            proxy: ProxyConfig::default(),
        }
    }
}

/// Whether `region` has the shape of a region ID (`cn-hangzhou`, `ap-southeast-1`,
/// `cn-shanghai-finance-1`): lowercase letters, then `-`-separated groups of lowercase
/// letters and digits, short enough to be one DNS label. Anything else could change the
/// host of the regional STS endpoint.
pub fn is_region_id(region: &str) -> bool {
    let mut parts = region.split('-');
    let first = parts.next().unwrap_or_default();
    let mut rest = parts.peekable();
    region.len() <= 63
        && first.len() >= 2
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && rest.peek().is_some()
        && rest.all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The regional STS endpoint `https://sts.<region>.aliyuncs.com/`, for a valid region ID.
fn regional_sts(region: &str) -> Result<Url, ApiError> {
    let bad = || {
        ApiError::local(
            ErrorKind::InvalidInput,
            "InvalidRegion",
            format!(
                "`{region}` is not a region ID (lowercase letters, digits and `-`, e.g. cn-hangzhou)"
            ),
        )
    };
    if !is_region_id(region) {
        return Err(bad());
    }
    Url::parse(&format!("https://sts.{region}.aliyuncs.com/")).map_err(|_| bad())
}

/// Checks an endpoint override: `https://` anywhere, `http://` only to loopback.
pub fn validate_endpoint(endpoint: &str) -> Result<Url, ApiError> {
    let bad = |why: String| ApiError::local(ErrorKind::InvalidInput, "InvalidEndpoint", why);
    let url = Url::parse(endpoint).map_err(|e| bad(format!("`{endpoint}` is not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let host = url.host_str().unwrap_or_default();
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = match bare.parse::<IpAddr>() {
                Ok(ip) => ip.is_loopback(),
                Err(_) => host.eq_ignore_ascii_case("localhost"),
            };
            if !loopback {
                return Err(bad(format!(
                    "`{endpoint}` uses plain http to a non-loopback host; use https, or http only to 127.0.0.1, ::1 or localhost"
                )));
            }
        }
        other => {
            return Err(bad(format!(
                "`{endpoint}`: scheme `{other}` is not http(s)"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad(format!("`{endpoint}` has no host")));
    }
    Ok(url)
}

/// Spaces calls evenly across every task of the process, at the configured rate or at
/// what the server tolerates, whichever is lower.
///
/// The server's tolerance is learned (additive increase, multiplicative decrease): a
/// throttled answer cuts the rate by a fifth; each answered call raises it a little, about
/// 10% a second at a steady pace. Right after a cut the server's bucket is still empty, so
/// throttled answers to calls sent before the cut or within the next ten calls' time at the
/// new rate do not cut again. Without a configured rate nothing is paced until the first
/// throttled answer, which starts from the rate calls were just being sent at.
#[derive(Debug)]
struct RateLimiter {
    /// The configured rate (`--qps`), if any.
    ceiling: Option<f64>,
    state: Mutex<Pace>,
}

#[derive(Debug, Default)]
struct Pace {
    /// The earliest time the next call may be sent.
    next: Option<Instant>,
    /// The learned rate, once the server has throttled.
    learned: Option<f64>,
    /// Throttled answers to calls sent before this do not cut the rate again.
    settled: Option<Instant>,
    /// Send times over the last second (only while nothing is learned).
    recent: VecDeque<Instant>,
}

/// A throttled answer multiplies the learned rate by this.
const PACE_CUT: f64 = 0.8;
/// Each answered call adds this many calls per second to the learned rate.
const PACE_STEP: f64 = 0.1;
/// After a cut, this many calls' time at the new rate passes before another cut.
const PACE_GRACE_CALLS: f64 = 10.0;
/// The learned rate never goes below this (calls per second).
const PACE_FLOOR: f64 = 1.0;
const PACE_WINDOW: Duration = Duration::from_secs(1);

impl RateLimiter {
    fn new(qps: f64) -> RateLimiter {
        RateLimiter {
            ceiling: (qps.is_finite() && qps > 0.0).then_some(qps),
            state: Mutex::new(Pace::default()),
        }
    }

    fn pace(&self) -> MutexGuard<'_, Pace> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The rate calls are paced at now, if any.
    fn rate(&self, pace: &Pace) -> Option<f64> {
        match (self.ceiling, pace.learned) {
            (Some(c), Some(l)) => Some(c.min(l)),
            (c, l) => c.or(l),
        }
    }

    /// Waits for the next free slot and returns when the call may be sent.
    async fn acquire(&self) -> Instant {
        let (slot, now) = {
            let mut pace = self.pace();
            let now = Instant::now();
            let slot = pace.next.map_or(now, |n| n.max(now));
            pace.next = self
                .rate(&pace)
                .map(|r| slot + Duration::from_secs_f64(1.0 / r));
            if pace.learned.is_none() {
                pace.recent.push_back(slot);
                while pace
                    .recent
                    .front()
                    .is_some_and(|t| slot.saturating_duration_since(*t) > PACE_WINDOW)
                {
                    pace.recent.pop_front();
                }
            }
            (slot, now)
        };
        // Tokio's timer rounds a deadline up to its next millisecond tick: even a
        // deadline already past would cost a call up to a millisecond or two.
        if slot > now {
            tokio::time::sleep_until(slot).await;
        }
        slot
    }

    /// The server throttled a call sent at `sent`.
    fn throttled(&self, sent: Instant) {
        let mut pace = self.pace();
        if pace.settled.is_some_and(|settled| sent < settled) {
            return;
        }
        let now = Instant::now();
        let current = match self.rate(&pace) {
            Some(r) => r,
            None => {
                // The rate calls were sent at, over the last second or since the first.
                let first = pace.recent.front().copied().unwrap_or(now);
                let span = now
                    .saturating_duration_since(first)
                    .clamp(Duration::from_millis(50), PACE_WINDOW);
                pace.recent.len() as f64 / span.as_secs_f64()
            }
        };
        let learned = (current * PACE_CUT).max(PACE_FLOOR);
        pace.learned = Some(learned);
        pace.settled = Some(now + Duration::from_secs_f64(PACE_GRACE_CALLS / learned));
        pace.recent.clear();
    }

    /// The server answered a call (not throttled).
    fn answered(&self) {
        let mut pace = self.pace();
        if let Some(l) = pace.learned {
            let raised = l + PACE_STEP;
            pace.learned = Some(match self.ceiling {
                Some(c) => raised.min(c),
                None => raised,
            });
        }
    }
}

/// One failed attempt, with what the retry loop needs to know.
struct Failure {
    error: ApiError,
    retry_after: Option<Duration>,
    /// The request certainly never reached the server (connection refused, throttled).
    not_executed: bool,
    /// Never retry this failure (it already went through its own retries).
    terminal: bool,
}

impl From<ApiError> for Failure {
    fn from(error: ApiError) -> Self {
        Failure {
            error,
            retry_after: None,
            not_executed: false,
            terminal: false,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Retry {
    /// Retry every retryable failure per the policy.
    Retryable,
    /// Retry only failures that prove the call was not executed (for creates).
    NotExecuted,
}

/// The RAM/IMS/STS/ResourceManager client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoint: Option<Url>,
    region: Option<String>,
    /// `https://sts.<region>.aliyuncs.com/` when a region is set.
    regional_sts: Option<Url>,
    timeout: Duration,
    retry: RetryPolicy,
    limiter: RateLimiter,
    in_flight: Semaphore,
    credentials: Credentials,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.endpoint.as_ref().map(Url::as_str))
            .field("region", &self.inner.region)
            .field("credentials", &self.inner.credentials)
            .finish_non_exhaustive()
    }
}

fn network_error(e: reqwest::Error) -> Failure {
    let not_executed = e.is_connect();
    let kind = if e.is_timeout() {
        ErrorKind::Timeout
    } else {
        ErrorKind::Network
    };
    let code = if kind == ErrorKind::Timeout {
        "Timeout"
    } else {
        "Network"
    };
    // Never let the URL into messages: it is harmless today, but keep it that way.
    let e = e.without_url();
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    Failure {
        error: ApiError::local(kind, code, message),
        retry_after: None,
        not_executed,
        terminal: false,
    }
}

impl Client {
    pub fn new(config: ClientConfig, credentials: Credentials) -> Result<Client, ApiError> {
        let proxy = config.proxy.clone();
        let endpoint = config
            .endpoint
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(validate_endpoint)
            .transpose()?;
        let region = config.region.filter(|r| !r.trim().is_empty());
        let regional_sts = region.as_deref().map(regional_sts).transpose()?;
        let mut builder = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .no_proxy()
            .pool_idle_timeout(Duration::from_secs(60));
        let no_proxy = proxy
            .no_proxy
            .as_deref()
            .and_then(reqwest::NoProxy::from_string);
        let bad_proxy = |e: reqwest::Error| {
            ApiError::local(
                ErrorKind::InvalidInput,
                "InvalidProxy",
                format!("proxy setting rejected: {}", e.without_url()),
            )
        };
        if let Some(p) = &proxy.https {
            builder = builder.proxy(
                reqwest::Proxy::https(p.as_str())
                    .map_err(bad_proxy)?
                    .no_proxy(no_proxy.clone()),
            );
        }
        if let Some(p) = &proxy.http {
            builder = builder.proxy(
                reqwest::Proxy::http(p.as_str())
                    .map_err(bad_proxy)?
                    .no_proxy(no_proxy.clone()),
            );
        }
        let http = builder.build().map_err(|e| {
            ApiError::local(
                ErrorKind::Other,
                "ClientSetup",
                format!("cannot build the HTTP client: {}", e.without_url()),
            )
        })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                endpoint,
                region,
                regional_sts,
                timeout: config.timeout,
                retry: config.retry,
                limiter: RateLimiter::new(config.qps),
                in_flight: Semaphore::new(config.max_in_flight.clamp(1, Semaphore::MAX_PERMITS)),
                credentials,
            }),
        })
    }

    pub fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    /// The URL a service's calls go to.
    pub fn endpoint_for(&self, service: Service) -> Url {
        if let Some(url) = &self.inner.endpoint {
            return url.clone();
        }
        if let (Service::Sts, Some(url)) = (service, &self.inner.regional_sts) {
            return url.clone();
        }
        Url::parse(&format!("https://{}/", service.host())).expect("service hosts are constants")
    }

    /// Makes a call, retrying throttling, server errors and connection failures per policy.
    pub async fn call(&self, call: &ApiCall) -> Result<Value, ApiError> {
        self.run(call, KeySource::Credentials, Retry::Retryable)
            .await
    }

    /// Makes a call that must not be repeated blindly (a create): it is sent again only
    /// when the failure proves it never ran (throttled, or the connection was refused).
    /// On any other failure the caller should read back before trying again.
    pub async fn call_once(&self, call: &ApiCall) -> Result<Value, ApiError> {
        self.run(call, KeySource::Credentials, Retry::NotExecuted)
            .await
    }

    /// [`Client::call`], then deserializes the answer.
    pub async fn call_as<T: DeserializeOwned>(&self, call: &ApiCall) -> Result<T, ApiError> {
        let value = self.call(call).await?;
        serde_json::from_value(value).map_err(|e| {
            ApiError::local(
                ErrorKind::Other,
                "UnexpectedResponse",
                format!("{} answered in an unexpected shape: {e}", call.action),
            )
        })
    }

    /// Follows `Marker` until `IsTruncated` is false and collects the items found at
    /// `items` (e.g. `"Users.User"`). Asks for the largest page the operation allows
    /// unless the call sets `MaxItems` itself.
    pub async fn paginate<T: DeserializeOwned>(
        &self,
        call: &ApiCall,
        items: &str,
    ) -> Result<Vec<T>, ApiError> {
        let mut call = call.clone();
        if !call.params.contains_key("MaxItems")
            && let Some(max) = wire::max_page_size(call.service, &call.action)
        {
            call.params.insert("MaxItems".into(), max.to_string());
        }
        let mut out = Vec::new();
        let mut seen_markers = std::collections::BTreeSet::new();
        loop {
            let page = self.call(&call).await?;
            out.extend(wire::items::<T>(&page, items).map_err(|e| {
                ApiError::local(
                    ErrorKind::Other,
                    "UnexpectedResponse",
                    format!("{} answered with unreadable {items}: {e}", call.action),
                )
            })?);
            let truncated = wire::flag(&page, "IsTruncated");
            let marker = page
                .get("Marker")
                .and_then(Value::as_str)
                .filter(|m| !m.is_empty());
            match (truncated, marker) {
                (true, Some(m)) => {
                    if !seen_markers.insert(m.to_string()) {
                        return Err(ApiError::local(
                            ErrorKind::Other,
                            "PaginationLoop",
                            format!("{} returned marker `{m}` twice", call.action),
                        ));
                    }
                    call.params.insert("Marker".into(), m.to_string());
                }
                (true, None) => {
                    return Err(ApiError::local(
                        ErrorKind::Other,
                        "UnexpectedResponse",
                        format!("{} is truncated but returned no Marker", call.action),
                    ));
                }
                (false, _) => return Ok(out),
            }
        }
    }

    /// Who is calling: STS GetCallerIdentity plus the long-lived key ID in use (the
    /// signing key, or the key a role session is assumed with).
    pub async fn caller(&self) -> Result<Caller, ApiError> {
        let call = ApiCall::new(
            Service::Sts,
            "GetCallerIdentity",
            Vec::<(String, String)>::new(),
        );
        let identity: wire::CallerIdentity = self.call_as(&call).await?;
        let key = self.inner.credentials.key(self).await?;
        let long_lived = if key.is_temporary() {
            self.inner.credentials.source_key_id().map(str::to_string)
        } else {
            Some(key.id)
        };
        let mut caller = identity.into_caller(long_lived);
        caller.oidc_provider = self.inner.credentials.oidc_provider().map(str::to_string);
        Ok(caller)
    }

    /// A call signed with the given key (or anonymous), bypassing the credential
    /// provider: how temporary credentials are obtained.
    pub(crate) async fn call_with_key(
        &self,
        call: &ApiCall,
        key: Option<&KeyPair>,
    ) -> Result<Value, ApiError> {
        let source = match key {
            Some(k) => KeySource::Fixed(k),
            None => KeySource::Anonymous,
        };
        self.run(call, source, Retry::Retryable).await
    }

    async fn run(
        &self,
        call: &ApiCall,
        source: KeySource<'_>,
        retry: Retry,
    ) -> Result<Value, ApiError> {
        let start = Instant::now();
        // Throttled attempts never ran and say so: they are bounded by the deadline, not
        // by the number of attempts, so a busy server slows a call down but never fails it.
        let mut attempt = 0u32;
        loop {
            let failure = match self.attempt(call, &source).await {
                Ok(v) => return Ok(v),
                Err(f) => f,
            };
            if failure.error.kind != ErrorKind::Throttling {
                attempt += 1;
            }
            let may_retry = !failure.terminal
                && match retry {
                    Retry::Retryable => failure.error.kind.is_retryable(),
                    Retry::NotExecuted => failure.not_executed,
                };
            if !may_retry {
                return Err(failure.error);
            }
            let jitter: f64 = rand::rng().random();
            match self
                .inner
                .retry
                .backoff(attempt, start.elapsed(), failure.retry_after, jitter)
            {
                Some(wait) => tokio::time::sleep(wait).await,
                None => return Err(failure.error),
            }
        }
    }

    async fn attempt(&self, call: &ApiCall, source: &KeySource<'_>) -> Result<Value, Failure> {
        let key = match source {
            // Obtaining a session already retried on its own: never again per call.
            KeySource::Credentials => Some(self.inner.credentials.key(self).await.map_err(
                |error| Failure {
                    error,
                    retry_after: None,
                    not_executed: false,
                    terminal: true,
                },
            )?),
            KeySource::Fixed(k) => Some((*k).clone()),
            KeySource::Anonymous => None,
        };
        // The permit first: a slot of the rate limiter is then never wasted on a call
        // that still waits for room.
        let _permit = self
            .inner
            .in_flight
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let sent = self.inner.limiter.acquire().await;
        let timestamp = sign::format_timestamp(time::OffsetDateTime::now_utc());
        let nonce = uuid::Uuid::new_v4().to_string();
        let params = sign::signed_params(
            call,
            key.as_ref().map(KeyPair::signing_key),
            "POST",
            &timestamp,
            &nonce,
        );
        let (query, body): (Vec<_>, Vec<_>) = params
            .iter()
            .partition(|(k, _)| QUERY_PARAMS.contains(&k.as_str()));
        let mut url = self.endpoint_for(call.service);
        url.query_pairs_mut().extend_pairs(query);
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(body)
            .finish();
        let response = self
            .inner
            .http
            .post(url)
            .timeout(self.inner.timeout)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("x-acs-action", &call.action)
            .header("x-acs-version", call.service.version())
            .body(body)
            .send()
            .await
            .map_err(network_error)?;
        let status = response.status().as_u16();
        let result = self
            .read_answer(call, response, status, &params, key.as_ref())
            .await;
        match &result {
            Err(f) if f.error.kind == ErrorKind::Throttling => self.inner.limiter.throttled(sent),
            _ => self.inner.limiter.answered(),
        }
        result
    }

    /// Reads an answer: its JSON body, or a typed error with Alibaba's code and request ID.
    async fn read_answer(
        &self,
        call: &ApiCall,
        response: reqwest::Response,
        status: u16,
        params: &BTreeMap<String, String>,
        key: Option<&KeyPair>,
    ) -> Result<Value, Failure> {
        let retry_after = response
            .headers()
            .get("x-acs-retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_millis);
        let header_request_id = response
            .headers()
            .get("x-acs-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response.text().await.map_err(network_error)?;
        let json: Option<Value> = serde_json::from_str(&text).ok();
        if (200..300).contains(&status) {
            return json.ok_or_else(|| {
                Failure::from(
                    ApiError::local(
                        ErrorKind::Transient,
                        "InvalidResponse",
                        format!("{} answered HTTP {status} without a JSON body", call.action),
                    )
                    .with_status(status),
                )
            });
        }
        let field = |names: &[&str]| {
            json.as_ref().and_then(|j| {
                names
                    .iter()
                    .find_map(|n| j.get(*n).and_then(Value::as_str))
                    .map(str::to_string)
            })
        };
        let request_id = field(&["RequestId", "requestId"]).or(header_request_id);
        let mut error = match field(&["Code", "code"]) {
            Some(code) => ApiError::new(code, field(&["Message", "message"]).unwrap_or_default()),
            None => {
                let kind = match status {
                    429 => ErrorKind::Throttling,
                    500..=599 => ErrorKind::Transient,
                    401 | 403 => ErrorKind::Auth,
                    _ => ErrorKind::Other,
                };
                let snippet: String = text.chars().take(200).collect();
                ApiError::local(
                    kind,
                    &format!("HTTP{status}"),
                    format!("{} answered HTTP {status}: {snippet}", call.action),
                )
            }
        }
        .with_status(status)
        .with_request_id(request_id);
        // Gateways echo their string-to-sign (which holds the security token) and some
        // services echo parameters: no secret sent with the call may come back in a message.
        let mut secrets: Vec<&str> = SECRET_PARAMS
            .iter()
            .filter_map(|p| params.get(*p).map(String::as_str))
            .collect();
        if let Some(k) = key {
            secrets.push(k.secret.expose());
        }
        error.message = scrub(&error.message, &secrets);
        // A retry hint marks flow control whatever the code says.
        if retry_after.is_some() && !error.kind.is_retryable() {
            error.kind = ErrorKind::Throttling;
        }
        Err(Failure {
            not_executed: error.kind == ErrorKind::Throttling,
            terminal: false,
            error,
            retry_after,
        })
    }
}

impl Sts for Client {
    fn send<'a>(
        &'a self,
        call: &'a ApiCall,
        key: Option<&'a KeyPair>,
    ) -> BoxFuture<'a, Result<Value, ApiError>> {
        Box::pin(self.call_with_key(call, key))
    }
}

/// Parameters whose values are secrets.
const SECRET_PARAMS: &[&str] = &[
    "SecurityToken",
    "OIDCToken",
    "SAMLAssertion",
    "Password",
    "NewPassword",
    "OldPassword",
    "AccessKeySecret",
];

/// Replaces every secret in `text`, raw or percent-encoded once or twice, with `<redacted>`.
pub fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        let once = sign::percent_encode(secret);
        let twice = sign::percent_encode(&once);
        let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for form in [twice, once, form, secret.to_string()] {
            if out.contains(&form) {
                out = out.replace(&form, "<redacted>");
            }
        }
    }
    out
}

/// Parameters sent in the query string; everything else goes in the form body.
const QUERY_PARAMS: &[&str] = &[
    "Action",
    "Version",
    "Format",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
];

enum KeySource<'a> {
    Credentials,
    Fixed(&'a KeyPair),
    Anonymous,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_unless_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://127.3.2.1/",
            "http://[::1]:9000/",
            "http://localhost:1234",
            "https://ram.example.com/",
        ] {
            assert!(validate_endpoint(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8080",
            "http://ram.aliyuncs.com",
            "http://localhost.evil.example",
            "ftp://127.0.0.1/",
            "not a url",
        ] {
            let e = validate_endpoint(bad).unwrap_err();
            assert_eq!(e.code, "InvalidEndpoint", "{bad}");
            assert_eq!(e.kind, ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn proxy_settings_follow_the_usual_variables() {
        let env: BTreeMap<String, String> = [
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:1"),
            ("ALL_PROXY", "http://all:1"),
            ("NO_PROXY", "localhost,.internal"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let p = ProxyConfig::from_env(&env);
        assert_eq!(p.https.as_deref(), Some("http://lower:1"));
        assert_eq!(p.http.as_deref(), Some("http://all:1"));
        assert_eq!(p.no_proxy.as_deref(), Some("localhost,.internal"));
        assert_eq!(
            ProxyConfig::from_env(&BTreeMap::new()),
            ProxyConfig::default()
        );
    }

    #[test]
    fn endpoints_are_per_service_with_regional_sts_and_an_override() {
        let creds = Credentials::from_key("id", "secret", None);
        let c = Client::new(
            ClientConfig {
                region: Some("cn-shanghai".into()),
                ..ClientConfig::default()
            },
            creds.clone(),
        )
        .unwrap();
        assert_eq!(
            c.endpoint_for(Service::Ram).as_str(),
            "https://ram.aliyuncs.com/"
        );
        assert_eq!(
            c.endpoint_for(Service::Ims).as_str(),
            "https://ims.aliyuncs.com/"
        );
        assert_eq!(
            c.endpoint_for(Service::Sts).as_str(),
            "https://sts.cn-shanghai.aliyuncs.com/"
        );
        assert_eq!(
            c.endpoint_for(Service::ResourceManager).as_str(),
            "https://resourcemanager.aliyuncs.com/"
        );
        let c = Client::new(
            ClientConfig {
                endpoint: Some("http://127.0.0.1:9/".into()),
                ..ClientConfig::default()
            },
            creds.clone(),
        )
        .unwrap();
        for s in [Service::Ram, Service::Sts] {
            assert_eq!(c.endpoint_for(s).as_str(), "http://127.0.0.1:9/");
        }
        let e = Client::new(
            ClientConfig {
                endpoint: Some("http://192.168.1.1/".into()),
                ..ClientConfig::default()
            },
            creds,
        )
        .unwrap_err();
        assert_eq!(e.code, "InvalidEndpoint");
    }

    #[test]
    fn region_ids_have_the_shape_of_a_dns_label() {
        for ok in [
            "cn-hangzhou",
            "ap-southeast-1",
            "eu-central-1",
            "cn-shanghai-finance-1",
            "us-west-1",
        ] {
            assert!(is_region_id(ok), "{ok}");
        }
        for bad in [
            "",
            "cn",
            "cn-",
            "-cn",
            "cn--hangzhou",
            "cn-hangzhou ",
            " cn-hangzhou",
            "cn/hangzhou",
            "cn#x",
            "cn-x#",
            "cn-hangzhou.evil.example",
            "CN-HANGZHOU",
            "cn-hangzhou\n",
            "1c-hangzhou",
        ] {
            assert!(!is_region_id(bad), "{bad:?}");
        }
        assert!(!is_region_id(&format!("cn-{}", "a".repeat(61))));
    }

    #[test]
    fn a_bad_region_is_an_error_not_a_panic() {
        for bad in ["cn-hangzhou ", "cn/hangzhou", "cn#x", "evil.example/x"] {
            let e = Client::new(
                ClientConfig {
                    region: Some(bad.into()),
                    ..ClientConfig::default()
                },
                Credentials::from_key("id", "secret", None),
            )
            .unwrap_err();
            assert_eq!(e.code, "InvalidRegion", "{bad:?}");
            assert_eq!(e.kind, ErrorKind::InvalidInput);
        }
        // Blank is no region at all, as before.
        let c = Client::new(
            ClientConfig {
                region: Some("  ".into()),
                ..ClientConfig::default()
            },
            Credentials::from_key("id", "secret", None),
        )
        .unwrap();
        assert_eq!(
            c.endpoint_for(Service::Sts).as_str(),
            "https://sts.aliyuncs.com/"
        );
    }

    #[test]
    fn a_huge_bound_on_calls_in_flight_is_clamped_not_a_panic() {
        Client::new(
            ClientConfig {
                max_in_flight: usize::MAX,
                ..ClientConfig::default()
            },
            Credentials::from_key("id", "secret", None),
        )
        .unwrap();
    }

    #[test]
    fn scrub_removes_secrets_in_every_encoding() {
        let token = "CAIS/abc+def=";
        let sts = sign::string_to_sign(
            "POST",
            &BTreeMap::from([("SecurityToken".to_string(), token.to_string())]),
        );
        let message = format!("raw {token} sts {sts} form SecurityToken=CAIS%2Fabc%2Bdef%3D");
        let clean = scrub(&message, &[token]);
        assert!(!clean.contains("CAIS"), "{clean}");
        assert_eq!(clean.matches("<redacted>").count(), 3);
    }

    #[test]
    fn user_agent_names_ramstate_and_its_version() {
        assert_eq!(
            USER_AGENT,
            format!("ramstate/{}", env!("CARGO_PKG_VERSION"))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_throttled_answer_paces_calls_below_the_rate_they_were_sent_at() {
        let limiter = RateLimiter::new(0.0);
        let mut last = Instant::now();
        for _ in 0..50 {
            last = limiter.acquire().await;
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        // 50 calls in half a second: 100 a second.
        limiter.throttled(last);
        let learned = limiter.pace().learned.unwrap();
        assert!((75.0..=85.0).contains(&learned), "{learned}");
        let a = limiter.acquire().await;
        let b = limiter.acquire().await;
        assert_eq!(b - a, Duration::from_secs_f64(1.0 / learned));
    }

    #[tokio::test(start_paused = true)]
    async fn throttled_answers_right_after_a_cut_do_not_cut_again() {
        let limiter = RateLimiter::new(100.0);
        let before = limiter.acquire().await;
        tokio::time::advance(Duration::from_millis(5)).await;
        limiter.throttled(before);
        assert_eq!(limiter.pace().learned, Some(80.0));
        limiter.throttled(before);
        assert_eq!(limiter.pace().learned, Some(80.0));
        // Ten calls at 80 a second: 125 ms of grace.
        tokio::time::advance(Duration::from_millis(100)).await;
        let soon = limiter.acquire().await;
        limiter.throttled(soon);
        assert_eq!(limiter.pace().learned, Some(80.0));
        tokio::time::advance(Duration::from_millis(30)).await;
        let later = limiter.acquire().await;
        limiter.throttled(later);
        assert_eq!(limiter.pace().learned, Some(64.0));
    }

    #[tokio::test(start_paused = true)]
    async fn answered_calls_raise_the_learned_rate_up_to_the_configured_one() {
        let limiter = RateLimiter::new(10.0);
        let sent = limiter.acquire().await;
        limiter.throttled(sent);
        assert_eq!(limiter.pace().learned, Some(8.0));
        for _ in 0..10 {
            limiter.answered();
        }
        assert!((limiter.pace().learned.unwrap() - 9.0).abs() < 1e-9);
        for _ in 0..100 {
            limiter.answered();
        }
        assert_eq!(limiter.pace().learned, Some(10.0));
    }

    #[test]
    fn the_learned_rate_has_a_floor() {
        let limiter = RateLimiter::new(1.5);
        for _ in 0..10 {
            limiter.pace().settled = None;
            limiter.throttled(Instant::now());
        }
        assert_eq!(limiter.pace().learned, Some(PACE_FLOOR));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_without_a_rate_limit_learns_the_servers_and_every_call_completes() {
        use crate::emulator::{self, EmulatorConfig, Faults};
        let emu = emulator::start(EmulatorConfig {
            faults: Faults {
                qps_limit: 100.0,
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        })
        .await
        .unwrap();
        let key = emu.root_key().clone();
        let client = Client::new(
            ClientConfig {
                endpoint: Some(emu.url().to_string()),
                qps: 0.0,
                max_in_flight: 16,
                ..ClientConfig::default()
            },
            Credentials::from_key(key.id, key.secret, None),
        )
        .unwrap();
        let who = ApiCall::new(
            Service::Sts,
            "GetCallerIdentity",
            Vec::<(String, String)>::new(),
        );
        let calls = 300;
        let results = futures::future::join_all((0..calls).map(|_| client.call(&who))).await;
        assert!(results.iter().all(Result::is_ok));
        let log = emu.log();
        let throttled = log
            .iter()
            .filter(|e| e.code.as_deref() == Some("Throttling.User"))
            .count();
        assert_eq!(log.len() - throttled, calls);
        // Unpaced, calls would keep hitting the limit until some ran out of attempts;
        // paced, most throttled attempts happen while the rate is being learned.
        assert!(throttled < calls, "{throttled} throttled attempts");
        emu.shutdown().await;
    }
}
