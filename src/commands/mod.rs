//! One function per subcommand: the only place that wires I/O together.

pub mod emulator;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

/// Parse the command line, run the command, and map the outcome to an exit code.
pub fn run() -> ExitCode {
    let _cli = Cli::parse();
    ExitCode::SUCCESS
}
