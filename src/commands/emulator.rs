//! `ramstate emulator serve` and `ramstate emulator generate`.

use std::io::Write;
use std::time::Duration;

use miette::{IntoDiagnostic, WrapErr};

use crate::cli::{DataFormat, FaultArgs, GenerateArgs, ServeArgs};
use crate::emulator::{self, EmulatorConfig, Faults, GenerateParams};
use crate::model::{Account, EmulatorOptions, Inventory, RootKey};
use crate::settings::Environment;

/// The environment variables an empty account takes its root key from.
const KEY_ID_ENV: &str = "ALIBABA_CLOUD_ACCESS_KEY_ID";
const KEY_SECRET_ENV: &str = "ALIBABA_CLOUD_ACCESS_KEY_SECRET";

/// The emulator's faults from the command line's: rates clamped to 0–1, a negative
/// QPS limit is none.
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

/// The generator's parameters from `ramstate emulator generate`'s flags.
impl From<&GenerateArgs> for GenerateParams {
    fn from(a: &GenerateArgs) -> Self {
        GenerateParams {
            users: a.users,
            groups: a.groups,
            roles: a.roles,
            policies: a.policies,
            seed: a.seed,
        }
    }
}

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
        clock_offset: time::Duration::days(args.clock_offset_days),
    };
    let emu = emulator::start(config).await?;
    {
        let mut out = super::status::stdout();
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

/// Prints a generated account: a seed (YAML by default, JSON with `-o json`), or with
/// `-o text` readable, as `ramstate inventory` prints an account.
pub fn generate(args: &GenerateArgs) -> miette::Result<()> {
    let inv = emulator::generate(&GenerateParams::from(args));
    let text = match args.output {
        DataFormat::Json => serde_json::to_string_pretty(&inv).into_diagnostic()?,
        DataFormat::Yaml => yaml_serde::to_string(&inv).into_diagnostic()?,
        DataFormat::Text => {
            let mut out = Vec::new();
            crate::render::inventory_text(&inv, &mut out).into_diagnostic()?;
            String::from_utf8(out).into_diagnostic()?
        }
    };
    let mut out = super::status::stdout();
    out.write_all(text.as_bytes()).into_diagnostic()?;
    if !text.ends_with('\n') {
        writeln!(out).into_diagnostic()?;
    }
    out.flush().into_diagnostic()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_flags_become_faults() {
        let args = FaultArgs {
            latency_ms: 5,
            jitter_ms: 7,
            qps_limit: 20.0,
            qps_per_action: true,
            error_rate: 1.5,
            drop_rate: 0.25,
            consistency_delay_ms: 900,
            fault_seed: 4,
        };
        let f = Faults::from(&args);
        assert_eq!(f.latency, Duration::from_millis(5));
        assert_eq!(f.jitter, Duration::from_millis(7));
        assert_eq!(f.error_rate, 1.0);
        assert_eq!(f.consistency_delay, Duration::from_millis(900));
        assert!(f.qps_per_action && f.seed == 4 && f.drop_rate == 0.25);
        assert_eq!(Faults::from(&FaultArgs::default()), Faults::default());
    }

    #[test]
    fn generate_flags_become_generator_parameters() {
        let args = GenerateArgs {
            users: 3,
            groups: 4,
            roles: 5,
            policies: 6,
            seed: 9,
            output: DataFormat::Yaml,
        };
        let want = GenerateParams {
            users: 3,
            groups: 4,
            roles: 5,
            policies: 6,
            seed: 9,
        };
        assert_eq!(GenerateParams::from(&args), want);
    }
}
