//! `ramstate recycle-bin`: the users and access keys in the recycle bin, when each was
//! deleted and how many of its 30 days are left, and the bin's usage of its 1,000 users.
//! Never mutates.

use std::io::{IsTerminal, Write};

use miette::{IntoDiagnostic, Result};

use crate::cli::{RecycleBinArgs, ReportFormat};
use crate::model::Kind;
use crate::settings::Settings;

use super::{Connection, Outcome, use_color};

pub async fn run(settings: &Settings, args: &RecycleBinArgs) -> Result<Outcome> {
    let conn = Connection::open(settings).await?;
    let inv = conn
        .fetch(&[Kind::RecycleBin].into_iter().collect())
        .await?;
    let report = crate::render::recycle_bin_report(
        &inv.account.id,
        &inv.recycle_bin,
        time::OffsetDateTime::now_utc(),
    );
    let mut out = std::io::stdout().lock();
    match args.output {
        ReportFormat::Text => {
            let color = use_color(settings.color, std::io::stdout().is_terminal());
            crate::render::recycle_bin_text(&report, &mut out, color)
        }
        ReportFormat::Json => crate::render::recycle_bin_json(&report, &mut out),
    }
    .into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(Outcome::Clean)
}
