//! The Alibaba Cloud API side: Signature V1 ([`sign`], pure), the retry policy
//! ([`retry`], pure), wire types ([`wire`]), typed errors ([`error`]), credential
//! resolution ([`credentials`]) and the shared HTTP [`client`].

pub mod client;
pub mod credentials;
pub mod deletion;
pub mod error;
pub mod retry;
pub mod sign;
pub mod wire;

pub use client::{Client, ClientConfig, ProxyConfig, USER_AGENT, validate_endpoint};
pub use credentials::{CredentialError, CredentialSources, Credentials, resolve};
pub use error::{ApiError, ErrorKind};
pub use retry::RetryPolicy;
