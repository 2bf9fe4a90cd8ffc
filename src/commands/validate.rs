//! `ramstate validate FILE`: check a desired-state file and report every problem.

use std::io::Write;

use miette::{IntoDiagnostic, Result};

use crate::cli::ValidateArgs;

use super::Outcome;

pub fn run(args: &ValidateArgs) -> Result<Outcome> {
    let desired = crate::config::load(&args.file)?;
    let kinds: Vec<&str> = desired.kinds().iter().map(|k| k.as_str()).collect();
    writeln!(
        super::status::stdout(),
        "{} is valid; it manages: {}",
        args.file.display(),
        if kinds.is_empty() {
            "nothing".to_string()
        } else {
            kinds.join(", ")
        }
    )
    .into_diagnostic()?;
    Ok(Outcome::Clean)
}
