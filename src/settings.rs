//! Flags, environment and files become one validated [`Settings`] value, resolved once at
//! the edge (in [`crate::commands::run`]) and handed down as data.
//!
//! The low level is [`GlobalArgs`]: what the user typed, as clap parsed it. The process
//! environment is read once, by [`Environment::capture`], and nothing below this module
//! reads it again: credential resolution, proxies, colour, the task cache and the emulator's
//! root key all get their part of the snapshot from here. Every value a user types is
//! checked here, before any request is sent or any host looked up; a bad one is a
//! [`SettingsError`] naming the option.
//!
//! Precedence, highest first: a flag, then its environment variable, then the default.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::api::{CredentialSources, ProxyConfig, is_region_id};
use crate::cli::{ColorChoice, GlobalArgs};

/// The desired-state file `apply` reads when none is named.
pub const DEFAULT_DESIRED_FILE: &str = "ramstate.yaml";

/// The bounds of `--parallelism`.
pub const PARALLELISM: std::ops::RangeInclusive<u64> = 1..=256;

/// The bounds of `--timeout`, in seconds.
pub const TIMEOUT_SECONDS: std::ops::RangeInclusive<u64> = 1..=3600;

/// `--endpoint`'s variable.
pub const ENDPOINT_ENV: &str = "RAMSTATE_ENDPOINT";
/// `--profile`'s variable.
pub const PROFILE_ENV: &str = "ALIBABA_CLOUD_PROFILE";
/// `--region`'s variable.
pub const REGION_ENV: &str = "ALIBABA_CLOUD_REGION_ID";

/// A snapshot of the process environment: its variables (those that are valid Unicode)
/// and the home directory. Taken once; everything else gets it as data.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
    home: Option<PathBuf>,
}

impl Environment {
    /// Reads the real process environment. The one place in the crate that does.
    pub fn capture() -> Environment {
        let vars = std::env::vars_os()
            .filter_map(|(k, v): (OsString, OsString)| {
                Some((k.into_string().ok()?, v.into_string().ok()?))
            })
            .collect();
        Environment {
            vars,
            home: std::env::home_dir(),
        }
    }

    /// An environment made of the given variables; the home directory is `HOME` (or
    /// `USERPROFILE`) among them.
    pub fn from_vars<K: Into<String>, V: Into<String>>(
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Environment {
        let vars: BTreeMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let home = ["HOME", "USERPROFILE"]
            .iter()
            .find_map(|n| vars.get(*n).filter(|h| !h.is_empty()))
            .map(PathBuf::from);
        Environment { vars, home }
    }

    /// A variable's value, when it is set and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Every variable, as a map.
    pub fn vars(&self) -> &BTreeMap<String, String> {
        &self.vars
    }

    pub fn home(&self) -> Option<&std::path::Path> {
        self.home.as_deref()
    }
}

impl fmt::Debug for Environment {
    /// Names only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("home", &self.home)
            .finish()
    }
}

/// Whether to colour output: `--color`, with `NO_COLOR` (set and not empty) turning
/// `auto` off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Color {
    pub choice: ColorChoice,
    pub no_color: bool,
}

impl Color {
    pub fn new(choice: ColorChoice, env: &Environment) -> Color {
        Color {
            choice,
            no_color: env.get("NO_COLOR").is_some(),
        }
    }

    /// Colour on a stream that is (or is not) a terminal.
    pub fn enabled(self, is_terminal: bool) -> bool {
        match self.choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && !self.no_color,
        }
    }
}

/// Everything the commands need to know about how to run, resolved and validated.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Run against an in-process emulator seeded from this snapshot.
    pub sandbox: Option<PathBuf>,
    /// Send every call to this URL (`--endpoint`, then `RAMSTATE_ENDPOINT`).
    pub endpoint: Option<String>,
    /// A valid region ID (`--region`, then `ALIBABA_CLOUD_REGION_ID`).
    pub region: Option<String>,
    /// Calls per second; `0` means no client-side limit.
    pub qps: f64,
    /// Calls in flight at once, within [`PARALLELISM`].
    pub parallelism: usize,
    /// Per-call timeout, within [`TIMEOUT_SECONDS`].
    pub timeout: Duration,
    pub color: Color,
    /// What credential resolution may look at: the key flags, the profile (`--profile`,
    /// then `ALIBABA_CLOUD_PROFILE`), the environment snapshot and the home directory.
    pub credentials: CredentialSources,
    /// Proxies, from the usual variables.
    pub proxy: ProxyConfig,
    /// Where `apply` remembers the service-linked role deletions it started
    /// (`$XDG_CACHE_HOME/ramstate`, or `~/.cache/ramstate`).
    pub cache_dir: Option<PathBuf>,
    /// Where `apply` writes a backup before it deletes (`$XDG_STATE_HOME/ramstate`, or
    /// `~/.local/state/ramstate`).
    pub state_dir: Option<PathBuf>,
    /// The desired-state file `apply` reads when none is named.
    pub default_desired_file: PathBuf,
    /// The environment snapshot, for the few commands that read a variable of their own
    /// (the emulator's root key).
    pub env: Environment,
}

/// A value that cannot be used, named as the user gave it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum SettingsError {
    #[error("{option} {value:?} is not a region ID")]
    #[diagnostic(
        code(ramstate::settings::region),
        help(
            "a region ID is lowercase letters, digits and `-`, such as cn-hangzhou, ap-southeast-1 or eu-central-1"
        )
    )]
    Region { option: &'static str, value: String },

    #[error("--parallelism must be a whole number from {} to {}, got {value:?}", PARALLELISM.start(), PARALLELISM.end())]
    #[diagnostic(
        code(ramstate::settings::parallelism),
        help("the number of calls in flight at once; the default is 10")
    )]
    Parallelism { value: String },

    #[error("--timeout must be a whole number of seconds from {} to {}, got {value:?}", TIMEOUT_SECONDS.start(), TIMEOUT_SECONDS.end())]
    #[diagnostic(
        code(ramstate::settings::timeout),
        help("the time one API call may take, in seconds; the default is 30")
    )]
    Timeout { value: String },

    #[error("--sandbox cannot be used with {option}: the sandbox is an endpoint of its own")]
    #[diagnostic(
        code(ramstate::settings::sandbox_endpoint),
        help(
            "drop --sandbox to call the endpoint, or drop {option} (unset RAMSTATE_ENDPOINT) to use the sandbox"
        )
    )]
    SandboxWithEndpoint { option: &'static str },

    #[error("--qps must be a positive number of calls per second, or 0; got {value:?}")]
    #[diagnostic(
        code(ramstate::settings::qps),
        help(
            "0 means no client-side limit (the client still slows down when the server throttles)"
        )
    )]
    Qps { value: String },
}

impl Settings {
    /// Resolves and checks the global flags against the environment snapshot.
    pub fn resolve(args: &GlobalArgs, env: Environment) -> Result<Settings, SettingsError> {
        // A flag wins; its variable counts only when set and not empty.
        let pick = |flag: &Option<String>, option: &'static str, var: &'static str| match flag {
            Some(v) => Some((v.clone(), option)),
            None => env.get(var).map(|v| (v.to_string(), var)),
        };
        let endpoint = pick(&args.endpoint, "--endpoint", ENDPOINT_ENV);
        // The sandbox would silently override the endpoint: refuse the pair.
        if let (Some(_), Some((_, option))) = (&args.sandbox, &endpoint) {
            return Err(SettingsError::SandboxWithEndpoint { option });
        }
        let endpoint = endpoint.map(|(v, _)| v);
        let profile = pick(&args.profile, "--profile", PROFILE_ENV).map(|(v, _)| v);
        let region = match pick(&args.region, "--region", REGION_ENV) {
            // Blank is no region, as it always was.
            Some((v, _)) if v.trim().is_empty() => None,
            Some((value, option)) if !is_region_id(&value) => {
                return Err(SettingsError::Region { option, value });
            }
            other => other.map(|(v, _)| v),
        };

        let parallelism = args
            .parallelism
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| PARALLELISM.contains(n))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| SettingsError::Parallelism {
                value: args.parallelism.clone(),
            })?;
        let timeout = args
            .timeout
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| TIMEOUT_SECONDS.contains(n))
            .map(Duration::from_secs)
            .ok_or_else(|| SettingsError::Timeout {
                value: args.timeout.clone(),
            })?;
        let qps = args
            .qps
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|q| q.is_finite() && *q >= 0.0)
            .ok_or_else(|| SettingsError::Qps {
                value: args.qps.clone(),
            })?;

        let cache_dir = env
            .get("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| env.home().map(|h| h.join(".cache")))
            .map(|base| base.join("ramstate"));
        let state_dir = env
            .get("XDG_STATE_HOME")
            .map(PathBuf::from)
            .or_else(|| env.home().map(|h| h.join(".local/state")))
            .map(|base| base.join("ramstate"));

        Ok(Settings {
            sandbox: args.sandbox.clone(),
            endpoint,
            region,
            qps,
            parallelism,
            timeout,
            color: Color::new(args.color, &env),
            credentials: CredentialSources {
                access_key_id: args.access_key_id.clone(),
                access_key_secret: args.access_key_secret.clone(),
                profile,
                env: env.vars().clone(),
                home: env.home().map(PathBuf::from),
                ..CredentialSources::default()
            },
            proxy: ProxyConfig::from_env(env.vars()),
            cache_dir,
            state_dir,
            default_desired_file: PathBuf::from(DEFAULT_DESIRED_FILE),
            env,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    fn global(args: &[&str]) -> GlobalArgs {
        let mut argv = vec!["ramstate"];
        argv.extend_from_slice(args);
        argv.push("schema");
        Cli::try_parse_from(argv).unwrap().global
    }

    fn resolve(args: &[&str], env: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        Settings::resolve(&global(args), Environment::from_vars(env.iter().copied()))
    }

    #[test]
    fn defaults_without_flags_or_environment() {
        let s = resolve(&[], &[]).unwrap();
        assert_eq!(s.endpoint, None);
        assert_eq!(s.region, None);
        assert_eq!(s.credentials.profile, None);
        assert_eq!(s.qps, 50.0);
        assert_eq!(s.parallelism, 10);
        assert_eq!(s.timeout, Duration::from_secs(30));
        assert_eq!(s.default_desired_file, PathBuf::from("ramstate.yaml"));
        assert_eq!(s.cache_dir, None);
        assert_eq!(s.proxy, ProxyConfig::default());
    }

    #[test]
    fn a_flag_wins_over_its_environment_variable() {
        let env = [
            (ENDPOINT_ENV, "http://127.0.0.1:1/"),
            (PROFILE_ENV, "from-env"),
            (REGION_ENV, "cn-shanghai"),
        ];
        let s = resolve(&[], &env).unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:1/"));
        assert_eq!(s.credentials.profile.as_deref(), Some("from-env"));
        assert_eq!(s.region.as_deref(), Some("cn-shanghai"));

        let s = resolve(
            &[
                "--endpoint",
                "http://127.0.0.1:2/",
                "--profile",
                "from-flag",
                "--region",
                "eu-central-1",
            ],
            &env,
        )
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("http://127.0.0.1:2/"));
        assert_eq!(s.credentials.profile.as_deref(), Some("from-flag"));
        assert_eq!(s.region.as_deref(), Some("eu-central-1"));
    }

    #[test]
    fn an_empty_variable_counts_as_unset() {
        let s = resolve(
            &[],
            &[(ENDPOINT_ENV, ""), (REGION_ENV, ""), (PROFILE_ENV, "")],
        )
        .unwrap();
        assert_eq!(s.endpoint, None);
        assert_eq!(s.region, None);
        assert_eq!(s.credentials.profile, None);
    }

    #[test]
    fn the_snapshot_reaches_credentials_proxies_and_the_cache() {
        let env = [
            ("HOME", "/home/someone"),
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-env"),
            ("https_proxy", "http://proxy:3128"),
        ];
        let s = resolve(&["--access-key-id", "LTAI-flag"], &env).unwrap();
        assert_eq!(s.credentials.access_key_id.as_deref(), Some("LTAI-flag"));
        assert_eq!(
            s.credentials
                .env
                .get("ALIBABA_CLOUD_ACCESS_KEY_ID")
                .map(String::as_str),
            Some("LTAI-env")
        );
        assert_eq!(s.credentials.home, Some(PathBuf::from("/home/someone")));
        assert_eq!(s.proxy.https.as_deref(), Some("http://proxy:3128"));
        assert_eq!(
            s.cache_dir,
            Some(PathBuf::from("/home/someone/.cache/ramstate"))
        );
        let s = resolve(&[], &[("HOME", "/h"), ("XDG_CACHE_HOME", "/c")]).unwrap();
        assert_eq!(s.cache_dir, Some(PathBuf::from("/c/ramstate")));
    }

    #[test]
    fn no_color_turns_auto_off_only_when_set_and_not_empty() {
        let auto = |env: &[(&str, &str)]| resolve(&[], env).unwrap().color;
        assert!(auto(&[]).enabled(true));
        assert!(!auto(&[]).enabled(false));
        assert!(!auto(&[("NO_COLOR", "1")]).enabled(true));
        assert!(auto(&[("NO_COLOR", "")]).enabled(true));
        let always = resolve(&["--color", "always"], &[("NO_COLOR", "1")]).unwrap();
        assert!(always.color.enabled(false));
        let never = resolve(&["--color", "never"], &[]).unwrap();
        assert!(!never.color.enabled(true));
    }

    #[test]
    fn a_region_must_be_a_region_id_whichever_way_it_comes() {
        for ok in [
            "cn-hangzhou",
            "ap-southeast-1",
            "eu-central-1",
            "cn-shanghai-finance-1",
        ] {
            assert_eq!(
                resolve(&["--region", ok], &[]).unwrap().region.as_deref(),
                Some(ok)
            );
        }
        for bad in [
            "cn-hangzhou ",
            "cn/hangzhou",
            "cn#x",
            "cn-hangzhou.evil.example",
        ] {
            let e = resolve(&["--region", bad], &[]).unwrap_err();
            assert!(
                matches!(&e, SettingsError::Region { option: "--region", value } if value == bad)
            );
            assert!(e.to_string().contains("--region"), "{e}");
            let e = resolve(&[], &[(REGION_ENV, bad)]).unwrap_err();
            assert!(e.to_string().contains(REGION_ENV), "{e}");
        }
        // A blank region is no region, as before.
        assert_eq!(resolve(&["--region", " "], &[]).unwrap().region, None);
    }

    #[test]
    fn numbers_out_of_range_are_errors_naming_the_option() {
        for (args, option) in [
            (&["--parallelism", "0"][..], "--parallelism"),
            (&["--parallelism", "257"][..], "--parallelism"),
            (
                &["--parallelism", "18446744073709551615"][..],
                "--parallelism",
            ),
            (&["--timeout", "0"][..], "--timeout"),
            (&["--timeout", "3601"][..], "--timeout"),
            (&["--qps", "-1"][..], "--qps"),
            (&["--qps", "NaN"][..], "--qps"),
            (&["--qps", "inf"][..], "--qps"),
            (&["--qps", "fast"][..], "--qps"),
        ] {
            let e = resolve(args, &[]).unwrap_err();
            assert!(e.to_string().starts_with(option), "{args:?}: {e}");
        }
        let s = resolve(
            &["--parallelism", "256", "--timeout", "1", "--qps", "0"],
            &[],
        )
        .unwrap();
        assert_eq!((s.parallelism, s.timeout.as_secs(), s.qps), (256, 1, 0.0));
        assert_eq!(resolve(&["--qps", "0.5"], &[]).unwrap().qps, 0.5);
    }
}
