//! Reaching an account: credentials and endpoint (or an in-process sandbox), the client,
//! and who we are calling as.

use std::collections::BTreeSet;

use miette::{Context, IntoDiagnostic, Result};

use crate::api::credentials::{self, Credentials};
use crate::api::{Client, ClientConfig};
use crate::emulator::{self, Emulator, EmulatorConfig};
use crate::model::{Caller, Inventory, Kind};
use crate::settings::Settings;

use super::progress::FetchProgress;

/// A client bound to one account, with the identity behind it.
pub struct Connection {
    pub client: Client,
    pub caller: Caller,
    /// The sandbox emulator, kept alive as long as the connection.
    pub sandbox: Option<Emulator>,
}

impl Connection {
    pub async fn open(settings: &Settings) -> Result<Connection> {
        let (endpoint, credentials, sandbox) = match &settings.sandbox {
            Some(seed) => {
                let seed_inv = emulator::load_seed(seed)
                    .wrap_err_with(|| format!("cannot load the sandbox seed {}", seed.display()))?;
                let emu = emulator::start(EmulatorConfig {
                    seed: seed_inv,
                    ..EmulatorConfig::default()
                })
                .await
                .into_diagnostic()
                .wrap_err("cannot start the sandbox emulator")?;
                let key = emu.root_key().clone();
                (
                    Some(emu.url().to_string()),
                    Credentials::from_key(key.id, key.secret, None),
                    Some(emu),
                )
            }
            None => {
                let creds = credentials::resolve(&settings.credentials).await?;
                (settings.endpoint.clone(), creds, None)
            }
        };
        let client = Client::new(
            ClientConfig {
                endpoint,
                region: settings.region.clone(),
                qps: settings.qps,
                max_in_flight: settings.parallelism,
                timeout: settings.timeout,
                proxy: settings.proxy.clone(),
                ..ClientConfig::default()
            },
            credentials,
        )?;
        let caller = client
            .caller()
            .await
            .wrap_err("cannot tell who the credentials belong to (STS GetCallerIdentity)")?;
        Ok(Connection {
            client,
            caller,
            sandbox,
        })
    }

    /// Fetch the inventory of the given kinds, with a progress bar on a terminal.
    pub async fn fetch(&self, kinds: &BTreeSet<Kind>) -> Result<Inventory> {
        let progress = FetchProgress::new();
        let inv = crate::inventory::fetch(&self.client, kinds, &progress).await;
        progress.finish();
        inv.wrap_err("cannot fetch the account's inventory")
    }
}
