//! `ramstate completions SHELL` and `ramstate man`: generated from the command-line
//! definition itself, so they never fall behind it.

use std::io::Write;

use clap::CommandFactory;
use miette::{IntoDiagnostic, Result, WrapErr};

use crate::cli::{Cli, CompletionsArgs, ManArgs};

use super::Outcome;

pub fn completions(args: &CompletionsArgs) -> Result<Outcome> {
    let mut cmd = Cli::command();
    let mut out = super::status::stdout();
    clap_complete::generate(args.shell, &mut cmd, "ramstate", &mut out);
    out.flush().into_diagnostic()?;
    Ok(Outcome::Clean)
}

pub fn man(args: &ManArgs) -> Result<Outcome> {
    let cmd = Cli::command();
    match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot write the man pages into {}", dir.display()))?;
            super::status::say(format_args!("Wrote the man pages into {}.", dir.display()));
        }
        None => {
            let mut out = super::status::stdout();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .into_diagnostic()?;
            out.flush().into_diagnostic()?;
        }
    }
    Ok(Outcome::Clean)
}
