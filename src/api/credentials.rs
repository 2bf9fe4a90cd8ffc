//! Where the access key comes from, in the order Alibaba's CLI and SDKs look:
//!
//! 1. explicit flags (`--access-key-id`, `--access-key-secret`);
//! 2. an explicitly chosen profile (`--profile` / `ALIBABA_CLOUD_PROFILE`) of the aliyun CLI's
//!    `~/.aliyun/config.json`;
//! 3. `ALIBABA_CLOUD_ACCESS_KEY_ID` / `ALIBABA_CLOUD_ACCESS_KEY_SECRET` /
//!    `ALIBABA_CLOUD_SECURITY_TOKEN` (or the older `ALICLOUD_ACCESS_KEY` / `ALICLOUD_SECRET_KEY` /
//!    `ALICLOUD_SECURITY_TOKEN`);
//! 4. OIDC role assumption from `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN`,
//!    `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (how CI runs without stored keys);
//! 5. the current profile of `~/.aliyun/config.json` (modes AK, StsToken, RamRoleArn,
//!    EcsRamRole, OIDC);
//! 6. the ECS instance metadata service when `ALIBABA_CLOUD_ECS_METADATA` names a role.
//!
//! Temporary credentials (RamRoleArn, EcsRamRole, OIDC) are fetched on first use and
//! fetched again shortly before they expire. Every secret is wrapped in [`Secret`], whose
//! `Debug` and `Display` print `<redacted>`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::api::USER_AGENT;
use crate::api::error::{ApiError, ErrorKind};
use crate::api::sign::SigningKey;
use crate::model::{ApiCall, Service};

/// A secret string: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    /// The secret itself, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Key material in force (an ID and its secret): a long-lived key, or an STS session with
/// its token and expiry. Not to be confused with [`crate::model::AccessKey`], a user's key
/// as the inventory lists it.
#[derive(Clone, Debug)]
pub struct KeyPair {
    pub id: String,
    pub secret: Secret,
    pub security_token: Option<Secret>,
    pub expiration: Option<OffsetDateTime>,
}

impl KeyPair {
    pub fn long_lived(id: impl Into<String>, secret: impl Into<String>) -> KeyPair {
        KeyPair {
            id: id.into(),
            secret: Secret::new(secret),
            security_token: None,
            expiration: None,
        }
    }

    pub fn signing_key(&self) -> SigningKey<'_> {
        SigningKey {
            access_key_id: &self.id,
            access_key_secret: self.secret.expose(),
            security_token: self.security_token.as_ref().map(Secret::expose),
        }
    }

    /// STS keys carry a security token; long-lived keys do not.
    pub fn is_temporary(&self) -> bool {
        self.security_token.is_some()
    }
}

/// How role sessions are obtained: STS calls signed with a given key (or anonymous, for
/// AssumeRoleWithOIDC) instead of with the credentials themselves. The client implements
/// it; credentials never depend on the client itself.
pub trait Sts: Send + Sync {
    /// Sends `call` signed with `key` (unsigned when `None`) and returns the answer's body.
    fn send<'a>(
        &'a self,
        call: &'a ApiCall,
        key: Option<&'a KeyPair>,
    ) -> BoxFuture<'a, Result<serde_json::Value, ApiError>>;
}

/// The wall clock, replaceable in tests.
pub type Clock = Arc<dyn Fn() -> OffsetDateTime + Send + Sync>;

fn system_clock() -> Clock {
    Arc::new(OffsetDateTime::now_utc)
}

/// Everything credential resolution may look at, passed in explicitly so that
/// resolution never reads the process environment or the real home directory.
#[derive(Clone, Default)]
pub struct CredentialSources {
    pub access_key_id: Option<String>,
    pub access_key_secret: Option<String>,
    /// `--profile` (or `ALIBABA_CLOUD_PROFILE`, which the settings fill in).
    pub profile: Option<String>,
    /// The environment, as a map.
    pub env: BTreeMap<String, String>,
    /// Home directory; `config.json` is looked for in `<home>/.aliyun/`.
    pub home: Option<PathBuf>,
    /// Overrides `<home>/.aliyun/config.json`.
    pub config_path: Option<PathBuf>,
    /// Base URL of the ECS instance metadata service (default `http://100.100.100.200`).
    pub ecs_metadata_url: Option<String>,
    /// Wall clock for expiry decisions (default: the system clock).
    pub clock: Option<Clock>,
}

impl fmt::Debug for CredentialSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CredentialSources")
            .field("access_key_id", &self.access_key_id)
            .field(
                "access_key_secret",
                &self.access_key_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("profile", &self.profile)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .field("config_path", &self.config_path)
            .field("ecs_metadata_url", &self.ecs_metadata_url)
            .finish()
    }
}

/// Why no usable credentials were found.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CredentialError {
    #[error("no credentials found; tried: {}", tried.join("; "))]
    #[diagnostic(
        code(ramstate::credentials::not_found),
        help(
            "set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET, run `aliyun configure`, or pass --profile"
        )
    )]
    NotFound { tried: Vec<String> },

    #[error("{present} is set but {missing} is not")]
    #[diagnostic(
        code(ramstate::credentials::incomplete),
        help("an access key needs both its ID and its secret")
    )]
    Incomplete {
        present: &'static str,
        missing: &'static str,
    },

    #[error("cannot read {path}: {message}")]
    #[diagnostic(code(ramstate::credentials::config_unreadable))]
    ConfigUnreadable { path: PathBuf, message: String },

    #[error("{path} is not a valid aliyun CLI configuration: {message}")]
    #[diagnostic(
        code(ramstate::credentials::config_malformed),
        help("fix the file, or recreate it with `aliyun configure`")
    )]
    ConfigMalformed { path: PathBuf, message: String },

    #[error("profile `{profile}` is not in {path} (profiles: {})", available.join(", "))]
    #[diagnostic(code(ramstate::credentials::profile_not_found))]
    ProfileNotFound {
        profile: String,
        path: PathBuf,
        available: Vec<String>,
    },

    #[error("profile `{profile}` in {path} has unknown mode `{mode}`")]
    #[diagnostic(
        code(ramstate::credentials::unknown_mode),
        help("supported modes: AK, StsToken, RamRoleArn, EcsRamRole, OIDC")
    )]
    UnknownMode {
        profile: String,
        path: PathBuf,
        mode: String,
    },

    #[error("profile `{profile}` in {path} uses mode `{mode}`, which ramstate does not support")]
    #[diagnostic(
        code(ramstate::credentials::unsupported_mode),
        help("supported modes: AK, StsToken, RamRoleArn, EcsRamRole, OIDC")
    )]
    UnsupportedMode {
        profile: String,
        path: PathBuf,
        mode: String,
    },

    #[error("profile `{profile}` (mode {mode}) in {path} has no `{field}`")]
    #[diagnostic(code(ramstate::credentials::missing_field))]
    MissingField {
        profile: String,
        path: PathBuf,
        mode: String,
        field: &'static str,
    },

    #[error("the STS token from {origin} expired at {expired_at}")]
    #[diagnostic(
        code(ramstate::credentials::expired),
        help("get a fresh token (for example with `aliyun configure --mode StsToken`)")
    )]
    Expired { origin: String, expired_at: String },

    #[error("OIDC role assumption needs {}: not set", missing.join(", "))]
    #[diagnostic(
        code(ramstate::credentials::oidc_incomplete),
        help(
            "set ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE together"
        )
    )]
    OidcIncomplete { missing: Vec<&'static str> },
}

/// How the key is obtained.
#[derive(Debug, Clone)]
enum Provider {
    /// A long-lived key or a fixed STS token.
    Static(KeyPair),
    /// STS AssumeRole signed with another key.
    RamRoleArn {
        source: KeyPair,
        role_arn: String,
        session_name: String,
        duration_seconds: u32,
        external_id: Option<String>,
    },
    /// The ECS instance metadata service.
    EcsRamRole {
        role_name: Option<String>,
        metadata_url: String,
    },
    /// STS AssumeRoleWithOIDC with a token read from a file at every refresh.
    Oidc {
        role_arn: String,
        provider_arn: String,
        token_file: PathBuf,
        session_name: String,
        duration_seconds: u32,
    },
}

/// A source of access keys, cheap to clone; temporary keys are cached and refreshed.
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    provider: Provider,
    origin: String,
    clock: Clock,
    /// Refresh this long before expiry (or a quarter of the session's lifetime, if shorter).
    refresh_margin: Duration,
    /// The key in use and when to replace it.
    cache: tokio::sync::Mutex<Option<(KeyPair, Option<OffsetDateTime>)>>,
    metadata_http: Option<reqwest::Client>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("origin", &self.inner.origin)
            .field("provider", &self.inner.provider)
            .finish_non_exhaustive()
    }
}

const DEFAULT_METADATA_URL: &str = "http://100.100.100.200";
const DEFAULT_SESSION_SECONDS: u32 = 3600;

impl Credentials {
    fn from_provider(provider: Provider, origin: String, clock: Option<Clock>) -> Credentials {
        let metadata_http = matches!(provider, Provider::EcsRamRole { .. }).then(|| {
            reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(5))
                .user_agent(USER_AGENT)
                .build()
                .expect("a plain HTTP client always builds")
        });
        Credentials {
            inner: Arc::new(Inner {
                provider,
                origin,
                clock: clock.unwrap_or_else(system_clock),
                refresh_margin: Duration::from_secs(180),
                cache: tokio::sync::Mutex::new(None),
                metadata_http,
            }),
        }
    }

    /// A fixed key (with an STS token when `security_token` is given).
    pub fn from_key(
        id: impl Into<String>,
        secret: impl Into<String>,
        security_token: Option<String>,
    ) -> Credentials {
        let key = KeyPair {
            security_token: security_token.map(Secret::new),
            ..KeyPair::long_lived(id, secret)
        };
        Credentials::from_provider(Provider::Static(key), "an explicit key".into(), None)
    }

    /// A long-lived access key.
    pub fn access_key(id: impl Into<String>, secret: impl Into<String>) -> Credentials {
        Credentials::from_key(id, secret, None)
    }

    /// Where these credentials came from, for messages (never contains a secret).
    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    /// The mode name as the aliyun CLI spells it.
    pub fn mode(&self) -> &'static str {
        match &self.inner.provider {
            Provider::Static(k) if k.is_temporary() => "StsToken",
            Provider::Static(_) => "AK",
            Provider::RamRoleArn { .. } => "RamRoleArn",
            Provider::EcsRamRole { .. } => "EcsRamRole",
            Provider::Oidc { .. } => "OIDC",
        }
    }

    /// The long-lived key a role session is assumed with (RamRoleArn profiles): apply must
    /// protect it like the key it signs with, or the session could not be renewed.
    pub fn source_key_id(&self) -> Option<&str> {
        match &self.inner.provider {
            Provider::RamRoleArn { source, .. } => Some(source.id.as_str()),
            _ => None,
        }
    }

    /// The name of the OIDC identity provider an OIDC role session signs in through: apply
    /// must not delete it, or the next run could not sign in.
    pub fn oidc_provider(&self) -> Option<&str> {
        match &self.inner.provider {
            Provider::Oidc { provider_arn, .. } => provider_arn
                .rsplit_once("oidc-provider/")
                .map(|(_, name)| name),
            _ => None,
        }
    }

    /// The key to sign the next request with, fetching or refreshing a session if needed.
    pub(crate) async fn key(&self, sts: &dyn Sts) -> Result<KeyPair, ApiError> {
        if let Provider::Static(key) = &self.inner.provider {
            return Ok(key.clone());
        }
        let mut cache = self.inner.cache.lock().await;
        let now = (self.inner.clock)();
        if let Some((key, refresh_at)) = cache.as_ref()
            && refresh_at.is_none_or(|at| now < at)
        {
            return Ok(key.clone());
        }
        let key = self.fetch(sts).await?;
        let refresh_at = key.expiration.map(|exp| {
            let lifetime = (exp - now).max(time::Duration::ZERO);
            let margin = time::Duration::try_from(self.inner.refresh_margin)
                .unwrap_or(time::Duration::ZERO)
                .min(lifetime / 4);
            exp - margin
        });
        *cache = Some((key.clone(), refresh_at));
        Ok(key)
    }

    async fn fetch(&self, sts: &dyn Sts) -> Result<KeyPair, ApiError> {
        match &self.inner.provider {
            Provider::Static(key) => Ok(key.clone()),
            Provider::RamRoleArn {
                source,
                role_arn,
                session_name,
                duration_seconds,
                external_id,
            } => {
                let mut params = BTreeMap::from([
                    ("RoleArn".to_string(), role_arn.clone()),
                    ("RoleSessionName".to_string(), session_name.clone()),
                    ("DurationSeconds".to_string(), duration_seconds.to_string()),
                ]);
                if let Some(id) = external_id {
                    params.insert("ExternalId".into(), id.clone());
                }
                let call = ApiCall {
                    service: Service::Sts,
                    action: "AssumeRole".into(),
                    params,
                };
                let body = sts.send(&call, Some(source)).await?;
                session_from_sts(&body)
            }
            Provider::Oidc {
                role_arn,
                provider_arn,
                token_file,
                session_name,
                duration_seconds,
            } => {
                let token = tokio::fs::read_to_string(token_file).await.map_err(|e| {
                    ApiError::local(
                        ErrorKind::Auth,
                        "OIDCTokenFileUnreadable",
                        format!("cannot read {}: {e}", token_file.display()),
                    )
                })?;
                let call = ApiCall::new(
                    Service::Sts,
                    "AssumeRoleWithOIDC",
                    [
                        ("RoleArn", role_arn.clone()),
                        ("OIDCProviderArn", provider_arn.clone()),
                        ("OIDCToken", token.trim().to_string()),
                        ("RoleSessionName", session_name.clone()),
                        ("DurationSeconds", duration_seconds.to_string()),
                    ],
                );
                let body = sts.send(&call, None).await?;
                session_from_sts(&body)
            }
            Provider::EcsRamRole {
                role_name,
                metadata_url,
            } => {
                let http = self
                    .inner
                    .metadata_http
                    .as_ref()
                    .expect("built for EcsRamRole");
                fetch_from_metadata(http, metadata_url, role_name.as_deref()).await
            }
        }
    }
}

fn parse_expiration(s: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
        ApiError::local(
            ErrorKind::Auth,
            "InvalidExpiration",
            format!("credential expiration `{s}` is not a timestamp: {e}"),
        )
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct StsCredentials {
    access_key_id: String,
    access_key_secret: String,
    security_token: String,
    expiration: String,
}

fn session_from_sts(body: &serde_json::Value) -> Result<KeyPair, ApiError> {
    let creds: StsCredentials = body
        .get("Credentials")
        .cloned()
        .and_then(|c| serde_json::from_value(c).ok())
        .ok_or_else(|| {
            ApiError::local(
                ErrorKind::Auth,
                "InvalidStsResponse",
                "the STS response carries no complete Credentials",
            )
        })?;
    Ok(KeyPair {
        id: creds.access_key_id,
        secret: Secret::new(creds.access_key_secret),
        security_token: Some(Secret::new(creds.security_token)),
        expiration: Some(parse_expiration(&creds.expiration)?),
    })
}

async fn fetch_from_metadata(
    http: &reqwest::Client,
    base: &str,
    role_name: Option<&str>,
) -> Result<KeyPair, ApiError> {
    let base = base.trim_end_matches('/');
    let meta_err = |what: &str, e: &dyn fmt::Display| {
        ApiError::local(
            ErrorKind::Auth,
            "EcsMetadataUnavailable",
            format!("instance metadata service at {base}: {what}: {e}"),
        )
    };
    // IMDSv2: a session token first; older instances answer without one.
    let token = match http
        .put(format!("{base}/latest/api/token"))
        .header("X-aliyun-ecs-metadata-token-ttl-seconds", "21600")
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => r.text().await.ok(),
        _ => None,
    };
    let get = |path: String| {
        let mut req = http.get(format!("{base}{path}"));
        if let Some(t) = &token {
            req = req.header("X-aliyun-ecs-metadata-token", t);
        }
        req
    };
    let role = match role_name {
        Some(r) => r.to_string(),
        None => {
            let r = get("/latest/meta-data/ram/security-credentials/".into())
                .send()
                .await
                .map_err(|e| meta_err("cannot list roles", &e.without_url()))?;
            if !r.status().is_success() {
                return Err(meta_err("no RAM role attached", &r.status()));
            }
            let text = r
                .text()
                .await
                .map_err(|e| meta_err("cannot list roles", &e.without_url()))?;
            text.lines()
                .next()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| meta_err("no RAM role attached", &"empty answer"))?
                .to_string()
        }
    };
    let r = get(format!("/latest/meta-data/ram/security-credentials/{role}"))
        .send()
        .await
        .map_err(|e| meta_err("cannot fetch credentials", &e.without_url()))?;
    if !r.status().is_success() {
        return Err(meta_err(
            &format!("no credentials for role `{role}`"),
            &r.status(),
        ));
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Answer {
        code: Option<String>,
        #[serde(flatten)]
        creds: Option<StsCredentials>,
    }
    let answer: Answer = r
        .json()
        .await
        .map_err(|e| meta_err("unreadable credentials", &e.without_url()))?;
    if let Some(code) = answer.code.as_deref().filter(|c| *c != "Success") {
        return Err(meta_err("credentials refused", &code));
    }
    let creds = answer
        .creds
        .ok_or_else(|| meta_err("unreadable credentials", &"fields missing"))?;
    Ok(KeyPair {
        id: creds.access_key_id,
        secret: Secret::new(creds.access_key_secret),
        security_token: Some(Secret::new(creds.security_token)),
        expiration: Some(parse_expiration(&creds.expiration)?),
    })
}

/// The aliyun CLI's `config.json`.
#[derive(Debug, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    current: String,
    #[serde(default)]
    profiles: Vec<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: String,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    access_key_id: String,
    #[serde(default)]
    access_key_secret: String,
    #[serde(default)]
    sts_token: String,
    /// Unix seconds; written by newer CLI versions for StsToken profiles.
    #[serde(default)]
    sts_expiration: i64,
    #[serde(default)]
    ram_role_name: String,
    #[serde(default)]
    ram_role_arn: String,
    #[serde(default)]
    ram_session_name: String,
    #[serde(default)]
    expired_seconds: u32,
    #[serde(default)]
    oidc_provider_arn: String,
    #[serde(default)]
    oidc_token_file: String,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("name", &self.name)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

fn non_empty(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

fn env_get(sources: &CredentialSources, name: &str) -> Option<String> {
    sources.env.get(name).and_then(|v| non_empty(v))
}

fn default_session_name(clock: &Clock) -> String {
    format!("ramstate-{}", clock().unix_timestamp())
}

/// Finds credentials in the order described in the module documentation.
pub async fn resolve(sources: &CredentialSources) -> Result<Credentials, CredentialError> {
    let clock = sources.clock.clone().unwrap_or_else(system_clock);
    let mut tried = Vec::new();

    // 1. Flags.
    match (&sources.access_key_id, &sources.access_key_secret) {
        (Some(id), Some(secret)) => {
            return Ok(Credentials::from_provider(
                Provider::Static(KeyPair::long_lived(id, secret)),
                "command-line flags".into(),
                Some(clock),
            ));
        }
        (Some(_), None) => {
            return Err(CredentialError::Incomplete {
                present: "--access-key-id",
                missing: "--access-key-secret",
            });
        }
        (None, Some(_)) => {
            return Err(CredentialError::Incomplete {
                present: "--access-key-secret",
                missing: "--access-key-id",
            });
        }
        (None, None) => tried.push("--access-key-id/--access-key-secret flags".to_string()),
    }

    let config_path = sources.config_path.clone().or_else(|| {
        sources
            .home
            .as_ref()
            .map(|h| h.join(".aliyun").join("config.json"))
    });

    // 2. An explicitly named profile must exist and wins over the environment.
    if let Some(name) = sources.profile.as_deref().and_then(non_empty) {
        let Some(path) = &config_path else {
            return Err(CredentialError::ConfigUnreadable {
                path: PathBuf::from("~/.aliyun/config.json"),
                message: format!("profile `{name}` was asked for but no home directory is known"),
            });
        };
        let config = read_config(path)
            .await?
            .ok_or_else(|| CredentialError::ConfigUnreadable {
                path: path.clone(),
                message: format!("the file does not exist (profile `{name}` was asked for)"),
            })?;
        return from_profile(&config, &name, path, sources, &clock);
    }

    // 3. Environment keys.
    for (id_var, secret_var, token_var) in [
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
        ),
        (
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
            "ALICLOUD_SECURITY_TOKEN",
        ),
    ] {
        match (env_get(sources, id_var), env_get(sources, secret_var)) {
            (Some(id), Some(secret)) => {
                let key = KeyPair {
                    security_token: env_get(sources, token_var).map(Secret::new),
                    ..KeyPair::long_lived(id, secret)
                };
                return Ok(Credentials::from_provider(
                    Provider::Static(key),
                    format!("environment ({id_var})"),
                    Some(clock),
                ));
            }
            (Some(_), None) => {
                return Err(CredentialError::Incomplete {
                    present: id_var,
                    missing: secret_var,
                });
            }
            (None, Some(_)) => {
                return Err(CredentialError::Incomplete {
                    present: secret_var,
                    missing: id_var,
                });
            }
            (None, None) => tried.push(format!("environment {id_var}/{secret_var}")),
        }
    }

    // 4. OIDC from the environment.
    let oidc_vars = [
        "ALIBABA_CLOUD_ROLE_ARN",
        "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
        "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    ];
    let oidc: Vec<Option<String>> = oidc_vars.iter().map(|v| env_get(sources, v)).collect();
    if oidc.iter().any(Option::is_some) {
        let missing: Vec<&'static str> = oidc_vars
            .iter()
            .zip(&oidc)
            .filter(|(_, v)| v.is_none())
            .map(|(n, _)| *n)
            .collect();
        if !missing.is_empty() {
            return Err(CredentialError::OidcIncomplete { missing });
        }
        let [role_arn, provider_arn, token_file] =
            [&oidc[0], &oidc[1], &oidc[2]].map(|v| v.clone().unwrap_or_default());
        return Ok(Credentials::from_provider(
            Provider::Oidc {
                role_arn,
                provider_arn,
                token_file: PathBuf::from(token_file),
                session_name: env_get(sources, "ALIBABA_CLOUD_ROLE_SESSION_NAME")
                    .unwrap_or_else(|| default_session_name(&clock)),
                duration_seconds: DEFAULT_SESSION_SECONDS,
            },
            "OIDC role assumption (ALIBABA_CLOUD_ROLE_ARN)".into(),
            Some(clock),
        ));
    }
    tried.push("environment ALIBABA_CLOUD_ROLE_ARN/ALIBABA_CLOUD_OIDC_PROVIDER_ARN/ALIBABA_CLOUD_OIDC_TOKEN_FILE".into());

    // 5. The current profile of config.json.
    match &config_path {
        Some(path) => match read_config(path).await? {
            Some(config) => {
                let name = non_empty(&config.current).unwrap_or_else(|| "default".into());
                if config.profiles.iter().any(|p| p.name == name) {
                    return from_profile(&config, &name, path, sources, &clock);
                }
                tried.push(format!(
                    "profile `{name}` in {} (not there)",
                    path.display()
                ));
            }
            None => tried.push(format!("{} (no such file)", path.display())),
        },
        None => tried.push("~/.aliyun/config.json (no home directory)".into()),
    }

    // 6. ECS instance metadata, when a role is named.
    if let Some(role) = env_get(sources, "ALIBABA_CLOUD_ECS_METADATA") {
        return Ok(Credentials::from_provider(
            Provider::EcsRamRole {
                role_name: Some(role.clone()),
                metadata_url: sources
                    .ecs_metadata_url
                    .clone()
                    .unwrap_or_else(|| DEFAULT_METADATA_URL.into()),
            },
            format!("ECS instance metadata (role {role})"),
            Some(clock),
        ));
    }
    tried.push("environment ALIBABA_CLOUD_ECS_METADATA (ECS instance role)".into());

    Err(CredentialError::NotFound { tried })
}

async fn read_config(path: &Path) -> Result<Option<ConfigFile>, CredentialError> {
    let text = match tokio::fs::read_to_string(path).await {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(CredentialError::ConfigUnreadable {
                path: path.to_path_buf(),
                message: e.to_string(),
            });
        }
    };
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| CredentialError::ConfigMalformed {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

fn from_profile(
    config: &ConfigFile,
    name: &str,
    path: &Path,
    sources: &CredentialSources,
    clock: &Clock,
) -> Result<Credentials, CredentialError> {
    let profile = config
        .profiles
        .iter()
        .find(|p| p.name == name)
        .ok_or_else(|| CredentialError::ProfileNotFound {
            profile: name.to_string(),
            path: path.to_path_buf(),
            available: config.profiles.iter().map(|p| p.name.clone()).collect(),
        })?;
    let mode = if profile.mode.is_empty() {
        "AK"
    } else {
        profile.mode.as_str()
    };
    let need = |value: &str, field: &'static str| {
        non_empty(value).ok_or_else(|| CredentialError::MissingField {
            profile: name.to_string(),
            path: path.to_path_buf(),
            mode: mode.to_string(),
            field,
        })
    };
    let origin = format!("profile `{name}` ({mode}) in {}", path.display());
    let clock_opt = Some(clock.clone());
    let provider = match mode {
        "AK" => Provider::Static(KeyPair::long_lived(
            need(&profile.access_key_id, "access_key_id")?,
            need(&profile.access_key_secret, "access_key_secret")?,
        )),
        "StsToken" => {
            let expiration = (profile.sts_expiration > 0)
                .then(|| OffsetDateTime::from_unix_timestamp(profile.sts_expiration).ok())
                .flatten();
            if let Some(exp) = expiration
                && exp <= clock()
            {
                return Err(CredentialError::Expired {
                    origin,
                    expired_at: exp.format(&Rfc3339).unwrap_or_default(),
                });
            }
            Provider::Static(KeyPair {
                id: need(&profile.access_key_id, "access_key_id")?,
                secret: Secret::new(need(&profile.access_key_secret, "access_key_secret")?),
                security_token: Some(Secret::new(need(&profile.sts_token, "sts_token")?)),
                expiration,
            })
        }
        "RamRoleArn" => Provider::RamRoleArn {
            source: KeyPair::long_lived(
                need(&profile.access_key_id, "access_key_id")?,
                need(&profile.access_key_secret, "access_key_secret")?,
            ),
            role_arn: need(&profile.ram_role_arn, "ram_role_arn")?,
            session_name: non_empty(&profile.ram_session_name)
                .unwrap_or_else(|| default_session_name(clock)),
            duration_seconds: if profile.expired_seconds > 0 {
                profile.expired_seconds
            } else {
                DEFAULT_SESSION_SECONDS
            },
            external_id: None,
        },
        "EcsRamRole" => Provider::EcsRamRole {
            role_name: non_empty(&profile.ram_role_name),
            metadata_url: sources
                .ecs_metadata_url
                .clone()
                .unwrap_or_else(|| DEFAULT_METADATA_URL.into()),
        },
        "OIDC" => Provider::Oidc {
            role_arn: need(&profile.ram_role_arn, "ram_role_arn")?,
            provider_arn: need(&profile.oidc_provider_arn, "oidc_provider_arn")?,
            token_file: PathBuf::from(need(&profile.oidc_token_file, "oidc_token_file")?),
            session_name: non_empty(&profile.ram_session_name)
                .unwrap_or_else(|| default_session_name(clock)),
            duration_seconds: if profile.expired_seconds > 0 {
                profile.expired_seconds
            } else {
                DEFAULT_SESSION_SECONDS
            },
        },
        "RsaKeyPair"
        | "RamRoleArnWithRoleName"
        | "ChainableRamRoleArn"
        | "External"
        | "CredentialsURI"
        | "CloudSSO" => {
            return Err(CredentialError::UnsupportedMode {
                profile: name.to_string(),
                path: path.to_path_buf(),
                mode: mode.to_string(),
            });
        }
        other => {
            return Err(CredentialError::UnknownMode {
                profile: name.to_string(),
                path: path.to_path_buf(),
                mode: other.to_string(),
            });
        }
    };
    Ok(Credentials::from_provider(provider, origin, clock_opt))
}
