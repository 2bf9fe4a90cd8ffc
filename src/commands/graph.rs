//! `ramstate graph FILE -o dot|mermaid`: plan as `diff` does (never mutates), then draw
//! the apply graph; and the Mermaid section `diff -o markdown --graph` appends.

use std::io::Write;

use miette::{IntoDiagnostic, Result};

use crate::cli::{GraphArgs, GraphFormat};
use crate::plan::Plan;
use crate::render::GraphOptions;
use crate::settings::Settings;

use super::diff::{check_account, fetch_for, read_desired};
use super::{Connection, Outcome};

pub async fn run(settings: &Settings, args: &GraphArgs) -> Result<Outcome> {
    let text = read_desired(&args.file)?;
    let desired = crate::config::parse(&text, &args.file.display().to_string())?;
    let desired = super::diff::planned_now(desired, false);
    let conn = Connection::open(settings).await?;
    check_account(&desired, None, &conn.caller)?;
    let inventory = fetch_for(&conn, &desired).await?;
    let plan = crate::plan::diff(&desired, &inventory, &conn.caller);
    let graph = crate::graph::build(&plan).into_diagnostic()?;
    let options = GraphOptions {
        collapse_above: args.collapse_above,
    };
    let mut out = super::status::stdout();
    match args.output {
        GraphFormat::Dot => crate::render::graph_dot(&graph, options, &mut out),
        GraphFormat::Mermaid => crate::render::graph_mermaid(&graph, options, &mut out),
    }
    .into_diagnostic()?;
    out.flush().into_diagnostic()?;
    Ok(Outcome::Clean)
}

/// The apply order as a fenced Mermaid block under its own heading (nothing for an empty
/// plan).
pub fn markdown_section(plan: &Plan, out: &mut dyn Write) -> Result<()> {
    if plan.is_empty() {
        return Ok(());
    }
    let graph = crate::graph::build(plan).into_diagnostic()?;
    writeln!(out, "\n#### Apply order\n\n```mermaid").into_diagnostic()?;
    crate::render::graph_mermaid(&graph, GraphOptions::default(), out).into_diagnostic()?;
    writeln!(out, "```").into_diagnostic()?;
    Ok(())
}
