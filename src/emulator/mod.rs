//! A local emulator of Alibaba Cloud's RAM, IMS, STS and ResourceManager RPC APIs.
//!
//! It serves one loopback HTTP endpoint, checks Signature V1 and V3 as the gateway
//! does, keeps an account in memory (seeded from an [`Inventory`]), answers with the
//! documented wire shapes and error codes, injects faults on request, and records
//! every call in a request log.
//!
//! The state logic is pure ([`dispatch`]); the HTTP layer, faults and log live in
//! the private `server` module.

mod error;
mod faults;
mod generate;
mod ims;
mod ram;
mod rm;
mod server;
pub mod sign;
mod state;
mod sts;
mod system_policies;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;

pub use error::{ApiError, Params};
pub use generate::{GenerateParams, generate};
pub use ram::{base32_decode, totp};
pub use state::{Identity, State};

use crate::cli::FaultArgs;
use crate::model::{Inventory, RootKey, Service};

/// How to start an emulator.
#[derive(Debug, Clone, Default)]
pub struct EmulatorConfig {
    pub seed: Inventory,
    pub faults: Faults,
    /// Also write the request log as JSON lines here.
    pub log_file: Option<PathBuf>,
    /// Port on 127.0.0.1; 0 lets the OS choose.
    pub port: u16,
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
    /// List and Get calls see writes only after this delay.
    pub consistency_delay: Duration,
    /// Seed of the fault randomness.
    pub seed: u64,
}

impl From<&FaultArgs> for Faults {
    fn from(a: &FaultArgs) -> Self {
        Faults {
            latency: Duration::from_millis(a.latency_ms),
            jitter: Duration::from_millis(a.jitter_ms),
            qps_limit: a.qps_limit.max(0.0),
            qps_per_action: a.qps_per_action,
            error_rate: a.error_rate.clamp(0.0, 1.0),
            drop_rate: a.drop_rate.clamp(0.0, 1.0),
            consistency_delay: Duration::from_millis(a.consistency_delay_ms),
            seed: a.fault_seed,
        }
    }
}

/// One call as the emulator saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogEntry {
    /// RFC 3339 with milliseconds.
    pub time: String,
    pub seq: u64,
    pub service: Option<Service>,
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

/// Why an emulator could not start or a seed could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EmulatorError {
    #[error("the seed is not a valid account snapshot: {0}")]
    #[diagnostic(
        code(ramstate::emulator::seed),
        help("fix the seed file; every group, policy and MFA device a user names must exist")
    )]
    Seed(String),
    #[error("cannot read {path}: {source}")]
    #[diagnostic(code(ramstate::emulator::read))]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    #[diagnostic(
        code(ramstate::emulator::bind),
        help("choose another --port, or 0 to let the system pick one")
    )]
    Bind { port: u16, source: std::io::Error },
    #[error("cannot open the request log {path}: {source}")]
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
pub fn dispatch(
    st: &mut State,
    who: &Identity,
    service: Service,
    action: &str,
    params: &Params,
    now: OffsetDateTime,
) -> Result<Value, ApiError> {
    let out = match service {
        Service::Ram => ram::handle(st, who, action, params, now),
        Service::Ims => ims::handle(st, who, action, params, now),
        Service::Sts => sts::handle(st, who, action, params, now),
        Service::ResourceManager => rm::handle(st, who, action, params, now),
    };
    out.unwrap_or_else(|| Err(ApiError::unknown_action()))
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
    let state = State::from_seed(&config.seed, rand::random(), OffsetDateTime::now_utc())
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
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|source| EmulatorError::Log {
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
