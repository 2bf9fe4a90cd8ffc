//! `ramstate explain FILE ADDRESS`: plan as `diff` does (never mutates), then say what
//! happens at one address and which line of the file decided it.

use std::io::{IsTerminal, Write};

use miette::{IntoDiagnostic, Result, miette};

use crate::cli::{ExplainArgs, ReportFormat};
use crate::plan::Address;
use crate::settings::Settings;

use super::diff::{check_account, fetch_for, read_desired};
use super::{Connection, Outcome, use_color};

pub async fn run(settings: &Settings, args: &ExplainArgs) -> Result<Outcome> {
    let address: Address = args.address.parse().map_err(|e| {
        miette!(
            help = "addresses look like user.alice, policy.ops, user.alice/group.dev (as `ramstate diff` prints them)",
            "{e}"
        )
    })?;
    let text = read_desired(&args.file)?;
    let desired = crate::config::parse(&text, &args.file.display().to_string())?;
    let desired = super::diff::planned_now(desired, false);
    let conn = Connection::open(settings).await?;
    check_account(&desired, None, &conn.caller)?;
    let inventory = fetch_for(&conn, &desired).await?;
    let plan = crate::plan::diff(&desired, &inventory, &conn.caller);
    let graph = crate::graph::build(&plan).into_diagnostic()?;
    let explanation = crate::explain::explain(&desired, &plan, &graph, &address)?;

    let mut out = super::status::stdout();
    match args.output {
        ReportFormat::Text => {
            let color = use_color(settings.color, std::io::stdout().is_terminal());
            crate::render::explain_text(&explanation, &mut out, color)
        }
        ReportFormat::Json => crate::render::explain_json(&explanation, &mut out),
    }
    .into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(Outcome::Clean)
}
