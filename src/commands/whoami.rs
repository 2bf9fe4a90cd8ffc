//! `ramstate whoami`: who the credentials belong to.

use std::io::Write;

use miette::{IntoDiagnostic, Result};

use crate::settings::Settings;

use super::{Connection, Outcome};

pub async fn run(settings: &Settings) -> Result<Outcome> {
    let conn = Connection::open(settings).await?;
    let c = &conn.caller;
    let mut out = super::status::stdout();
    writeln!(out, "account:  {}", c.account_id).into_diagnostic()?;
    writeln!(out, "identity: {} ({})", c.arn, c.identity_type).into_diagnostic()?;
    if let Some(k) = &c.access_key_id {
        writeln!(out, "key:      {k}").into_diagnostic()?;
    }
    Ok(Outcome::Clean)
}
