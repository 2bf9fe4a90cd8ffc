//! The Alibaba Cloud API side: Signature V1 ([`sign`], pure), the retry policy
//! ([`retry`], pure), wire types ([`wire`]), typed errors ([`error`]), credential
//! resolution ([`credentials`]) and the shared HTTP [`client`].
//!
//! Dependencies run one way: the client uses credentials, and credentials reach STS
//! through the [`Sts`] trait the client implements.

pub mod client;
pub mod credentials;
pub mod deletion;
pub mod error;
pub mod retry;
pub mod sign;
pub mod wire;

pub use client::{Client, ClientConfig, ProxyConfig, is_region_id, validate_endpoint};
pub use credentials::{CredentialError, CredentialSources, Credentials, KeyPair, Sts, resolve};
pub use error::{ApiError, ErrorKind};
pub use retry::RetryPolicy;

/// `ramstate/<version>`: the User-Agent of every request.
pub const USER_AGENT: &str = concat!("ramstate/", env!("CARGO_PKG_VERSION"));
