//! `ramstate readiness`: whether the account can be closed, item by item; exit 2 while
//! something blocks it.

use std::io::IsTerminal;

use miette::{IntoDiagnostic, Result};

use crate::cli::{PlanFormat, ReadinessArgs};
use crate::model::Kind;
use crate::settings::Settings;

use super::{Connection, Outcome, tasks, use_color};

pub async fn run(settings: &Settings, args: &ReadinessArgs) -> Result<Outcome> {
    let conn = Connection::open(settings).await?;
    let mut inv = conn.fetch(&Kind::ALL.into_iter().collect()).await?;
    tasks::explain_remaining_roles(settings.cache_dir.as_deref(), &conn, &mut inv).await;
    let report = crate::readiness::assess(&inv);
    let mut out = super::status::stdout();
    let color = use_color(settings.color, std::io::stdout().is_terminal());
    match args.output {
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
