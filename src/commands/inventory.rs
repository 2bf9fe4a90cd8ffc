//! `ramstate inventory`: everything the account holds, as text, JSON or YAML (the
//! emulator's seed format).

use std::io::{IsTerminal, Write};

use miette::{IntoDiagnostic, Result};

use crate::cli::{DataFormat, InventoryArgs};
use crate::model::Kind;
use crate::settings::Settings;

use super::{Connection, Outcome, use_color};

pub async fn run(settings: &Settings, args: &InventoryArgs) -> Result<Outcome> {
    let conn = Connection::open(settings).await?;
    let inv = conn.fetch(&Kind::ALL.into_iter().collect()).await?;
    let mut out = super::status::stdout();
    match args.output {
        DataFormat::Text => {
            let color = use_color(settings.color, std::io::stdout().is_terminal());
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
