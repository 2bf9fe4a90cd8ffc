//! One function per subcommand: the only place that wires I/O together.

mod apply;
mod completions;
mod connect;
mod diff;
pub mod emulator;
mod explain;
mod graph;
mod progress;
mod saved;
pub mod status;
mod tasks;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use miette::{IntoDiagnostic, Result};

use crate::cli::{Cli, ColorChoice, Command, DataFormat, EmulatorCommand, GlobalArgs, PlanFormat};
use crate::model::Kind;

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
    let color = use_color(cli.global.color, std::io::stderr().is_terminal());
    miette::set_hook(Box::new(move |_| {
        Box::new(
            miette::MietteHandlerOpts::new()
                .color(color)
                .unicode(color)
                .build(),
        )
    }))
    .ok();
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
    match runtime.block_on(dispatch(cli)) {
        Ok(outcome) => outcome.into(),
        Err(report) => {
            eprintln!("{report:?}");
            ExitCode::from(1)
        }
    }
}

/// Whether to color output: `--color`, then `NO_COLOR`, then whether the stream is a terminal.
pub fn use_color(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}

async fn dispatch(cli: Cli) -> Result<Outcome> {
    let global = &cli.global;
    match &cli.command {
        Command::Diff(args) => diff::run(global, args).await,
        Command::Apply(args) => apply::run(global, args).await,
        Command::Explain(args) => explain::run(global, args).await,
        Command::Graph(args) => graph::run(global, args).await,
        Command::Validate(args) => {
            let desired = crate::config::load(&args.file)?;
            let kinds: Vec<&str> = desired.kinds().iter().map(|k| k.as_str()).collect();
            println!(
                "{} is valid; it manages: {}",
                args.file.display(),
                if kinds.is_empty() {
                    "nothing".to_string()
                } else {
                    kinds.join(", ")
                }
            );
            Ok(Outcome::Clean)
        }
        Command::Schema => {
            print!("{}", crate::config::schema_text());
            Ok(Outcome::Clean)
        }
        Command::Inventory(args) => inventory(global, args.output).await,
        Command::Readiness(args) => readiness(global, args.output).await,
        Command::Whoami => {
            let conn = Connection::open(global).await?;
            let c = &conn.caller;
            println!("account:  {}", c.account_id);
            println!("identity: {} ({})", c.arn, c.identity_type);
            if let Some(k) = &c.access_key_id {
                println!("key:      {k}");
            }
            Ok(Outcome::Clean)
        }
        Command::Emulator(EmulatorCommand::Serve(args)) => {
            emulator::serve(args).await?;
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

async fn inventory(global: &GlobalArgs, format: DataFormat) -> Result<Outcome> {
    let conn = Connection::open(global).await?;
    let inv = conn.fetch(&Kind::ALL.into_iter().collect()).await?;
    let mut out = std::io::stdout().lock();
    match format {
        DataFormat::Text => {
            let color = use_color(global.color, std::io::stdout().is_terminal());
            crate::render::inventory_text_styled(&inv, &mut out, color).into_diagnostic()?;
        }
        DataFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &inv).into_diagnostic()?;
            writeln!(out).into_diagnostic()?;
        }
        DataFormat::Yaml => out
            .write_all(yaml_serde::to_string(&inv).into_diagnostic()?.as_bytes())
            .into_diagnostic()?,
    }
    Ok(Outcome::Clean)
}

async fn readiness(global: &GlobalArgs, format: PlanFormat) -> Result<Outcome> {
    let conn = Connection::open(global).await?;
    let mut inv = conn.fetch(&Kind::ALL.into_iter().collect()).await?;
    tasks::explain_remaining_roles(&conn, &mut inv).await;
    let report = crate::readiness::assess(&inv);
    let mut out = std::io::stdout().lock();
    let color = use_color(global.color, std::io::stdout().is_terminal());
    match format {
        PlanFormat::Json => crate::render::readiness_json(&report, &mut out),
        PlanFormat::Text => crate::render::readiness_text(&report, &mut out, color),
        PlanFormat::Markdown => crate::render::readiness_markdown(&report, &mut out),
    }
    .into_diagnostic()?;
    Ok(if report.ready() {
        Outcome::Clean
    } else {
        Outcome::Pending
    })
}
