//! One file per subcommand (`diff`, `apply`, `restore`, `explain`, `graph`, `validate`, `schema`,
//! `inventory`, `readiness`, `recycle-bin`, `whoami`, `export`, `emulator`, `completions` with `man`), plus the
//! pieces they share (`backup`, `connect`, `progress`, `status`, `saved`, `tasks`): the only place
//! that wires I/O together. [`run`] parses the command line,
//! resolves the [`Settings`] once and hands them to the subcommand.

mod apply;
mod backup;
mod completions;
mod connect;
mod diff;
pub mod emulator;
mod explain;
mod export;
mod graph;
mod inventory;
mod progress;
mod readiness;
mod recycle_bin;
mod restore;
pub mod saved;
mod schema;
pub mod status;
mod tasks;
mod validate;
mod whoami;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use miette::Result;

use crate::cli::{Cli, Command, EmulatorCommand};
use crate::settings::{Color, Environment, Settings};

pub use connect::Connection;

/// How a command ended, beyond plain success or error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Success, nothing pending.
    Clean,
    /// Success, with changes pending (`--detailed-exitcode`) or blockers left (readiness).
    Pending,
    /// The run did what it could but did not reach its goal (apply that did not converge, refused approval).
    Incomplete,
}

impl From<Outcome> for ExitCode {
    fn from(o: Outcome) -> ExitCode {
        match o {
            Outcome::Clean => ExitCode::SUCCESS,
            Outcome::Pending => ExitCode::from(2),
            Outcome::Incomplete => ExitCode::from(1),
        }
    }
}

/// Parse the command line, run the command, and map the outcome to an exit code:
/// 0 success, 1 error or an apply that did not converge, 2 changes pending.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are successes; a usage error is an error (1), never
            // "changes pending" (2), whatever clap's own convention.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    status::set_quiet(cli.global.quiet);
    if cli.global.access_key_secret.is_some() {
        eprintln!(
            "warning: --access-key-secret is visible to other users in the process list; set ALIBABA_CLOUD_ACCESS_KEY_SECRET or use a profile instead"
        );
    }
    let env = Environment::capture();
    let color = Color::new(cli.global.color, &env).enabled(std::io::stderr().is_terminal());
    miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .build(),
        )
    }))
    .ok();
    // Checked before anything starts: a bad value sends no request and looks up no host.
    let settings = match Settings::resolve(&cli.global, env) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{:?}", miette::Report::new(e));
            return ExitCode::from(1);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(&cli.command, &settings)) {
        Ok(outcome) => outcome.into(),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

/// Whether to colour a stream that is (or is not) a terminal.
pub fn use_color(color: Color, is_terminal: bool) -> bool {
    color.enabled(is_terminal)
}

async fn dispatch(command: &Command, settings: &Settings) -> Result<Outcome> {
    match command {
        Command::Diff(args) => diff::run(settings, args).await,
        Command::Apply(args) => apply::run(settings, args).await,
        Command::Restore(args) => restore::run(settings, args).await,
        Command::Explain(args) => explain::run(settings, args).await,
        Command::Graph(args) => graph::run(settings, args).await,
        Command::Validate(args) => validate::run(args),
        Command::Schema => schema::run(),
        Command::Inventory(args) => inventory::run(settings, args).await,
        Command::Readiness(args) => readiness::run(settings, args).await,
        Command::RecycleBin(args) => recycle_bin::run(settings, args).await,
        Command::Whoami => whoami::run(settings).await,
        Command::Export(args) => export::run(settings, args).await,
        Command::Emulator(EmulatorCommand::Serve(args)) => {
            emulator::serve(args, &settings.env).await?;
            Ok(Outcome::Clean)
        }
        Command::Emulator(EmulatorCommand::Generate(args)) => {
            emulator::generate(args)?;
            Ok(Outcome::Clean)
        }
        Command::Completions(args) => completions::completions(args),
        Command::Man(args) => completions::man(args),
    }
}
