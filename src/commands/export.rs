//! `ramstate export [--out FILE] [--as declared|allowlist]`: the live account as a
//! desired-state file. Reads only.

use std::io::Write;

use miette::{IntoDiagnostic, Result, WrapErr};

use crate::cli::{ExportArgs, ExportShape};
use crate::model::Kind;
use crate::settings::Settings;

use super::{Connection, Outcome};

pub async fn run(settings: &Settings, args: &ExportArgs) -> Result<Outcome> {
    let conn = Connection::open(settings).await?;
    let inventory = conn.fetch(&Kind::ALL.into_iter().collect()).await?;
    let text = match args.shape {
        ExportShape::Declared => crate::export::declared(&inventory),
        ExportShape::Allowlist => crate::export::allowlist(&inventory),
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot write the export to {}", path.display()))?;
            eprintln!(
                "Wrote account {} to {}; `ramstate diff {}` shows no changes.",
                inventory.account.id,
                path.display(),
                path.display()
            );
        }
        None => {
            let mut out = super::status::stdout();
            out.write_all(text.as_bytes()).into_diagnostic()?;
            out.flush().into_diagnostic()?;
        }
    }
    Ok(Outcome::Clean)
}
