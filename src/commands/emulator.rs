//! `ramstate emulator serve` and `ramstate emulator generate`.

use std::io::Write;

use miette::{IntoDiagnostic, WrapErr};

use crate::cli::{DataFormat, GenerateArgs, ServeArgs};
use crate::emulator::{self, EmulatorConfig, Faults, GenerateParams};
use crate::model::{Account, EmulatorOptions, Inventory, RootKey};
use crate::settings::Environment;

/// The environment variables an empty account takes its root key from.
const KEY_ID_ENV: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
const KEY_SECRET_ENV: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";

/// Serves the emulator until Ctrl-C. The first line of stdout is the endpoint URL;
/// the root key ID goes to stderr (and its secret too, once, when it was generated).
pub async fn serve(args: &ServeArgs, env: &Environment) -> miette::Result<()> {
    let (seed, key_from_env) = match &args.seed {
        Some(path) => (emulator::load_seed(path)?, false),
        None => empty_account(env),
    };
    let secret_known = key_from_env
        || seed
            .emulator
            .as_ref()
            .is_some_and(|e| e.root_access_key.is_some());
    let config = EmulatorConfig {
        seed,
        faults: Faults::from(&args.faults),
        log_file: args.log.clone(),
        port: args.port,
    };
    let emu = emulator::start(config).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", emu.url()).into_diagnostic()?;
        out.flush().into_diagnostic()?;
    }
    eprintln!(
        "serving account {}; Ctrl-C stops it",
        emu.snapshot().account.id
    );
    eprintln!(
        "point ramstate at it with --endpoint {} (or RAMSTATE_ENDPOINT) and the root key in {KEY_ID_ENV} and {KEY_SECRET_ENV}",
        emu.url()
    );
    if !secret_known {
        // Generated here: scripts need both halves, once.
        eprintln!("root access key id: {}", emu.root_key().id);
        eprintln!("root access key secret: {}", emu.root_key().secret);
    } else if key_from_env {
        eprintln!(
            "root access key id: {} (from {KEY_ID_ENV})",
            emu.root_key().id
        );
    } else {
        eprintln!(
            "root access key id: {} (the seed's emulator.root_access_key)",
            emu.root_key().id
        );
    }
    tokio::signal::ctrl_c()
        .await
        .into_diagnostic()
        .wrap_err("waiting for Ctrl-C")?;
    emu.shutdown().await;
    Ok(())
}

/// An empty account; its root key comes from the environment when both variables are set.
fn empty_account(env: &Environment) -> (Inventory, bool) {
    let id = env.get(KEY_ID_ENV).map(str::to_string);
    let secret = env.get(KEY_SECRET_ENV).map(str::to_string);
    let root = id.zip(secret).map(|(id, secret)| RootKey { id, secret });
    let from_env = root.is_some();
    let inv = Inventory {
        account: Account::default(),
        emulator: Some(EmulatorOptions {
            root_access_key: root,
            ..EmulatorOptions::default()
        }),
        ..Inventory::default()
    };
    (inv, from_env)
}

/// Prints a generated account (YAML by default, JSON with `-o json`).
pub fn generate(args: &GenerateArgs) -> miette::Result<()> {
    let inv = emulator::generate(&GenerateParams::from(args));
    let text = match args.output {
        DataFormat::Json => serde_json::to_string_pretty(&inv).into_diagnostic()?,
        DataFormat::Yaml | DataFormat::Text => yaml_serde::to_string(&inv).into_diagnostic()?,
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).into_diagnostic()?;
    if !text.ends_with('\n') {
        writeln!(out).into_diagnostic()?;
    }
    out.flush().into_diagnostic()?;
    Ok(())
}
