//! `ramstate schema`: the JSON Schema of the desired-state file.

use std::io::Write;

use miette::{IntoDiagnostic, Result};

use super::Outcome;

pub fn run() -> Result<Outcome> {
    let mut out = super::status::stdout();
    out.write_all(crate::config::schema_text().as_bytes())
        .into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(Outcome::Clean)
}
