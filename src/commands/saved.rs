//! Saved plans (`diff --out FILE`, then `apply FILE`): the plan, the desired-state text it
//! came from and the account; the plan records a fingerprint of the inventory it was built from. Apply
//! refuses a saved plan when the account changed since.

use std::path::Path;

use miette::{IntoDiagnostic, Result, WrapErr, miette};
use serde::{Deserialize, Serialize};

pub const SAVED_PLAN_FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Marks the file as a saved plan, and its format.
    pub ramstate_saved_plan: u32,
    pub account_id: String,
    /// Where the desired state came from, and its text, so apply can check convergence.
    pub desired_source: String,
    pub desired_text: String,
    /// The plan as `diff -o json` prints it. Apply plans afresh and refuses to go on
    /// unless the fresh plan's steps are exactly these.
    pub plan: serde_json::Value,
}

impl SavedPlan {
    /// The fingerprint of the inventory the plan was made from.
    pub fn inventory_fingerprint(&self) -> Option<&str> {
        self.plan.get("inventory_fingerprint")?.as_str()
    }

    /// When the plan was made, when its decisions depended on it.
    pub fn planned_at(&self) -> Option<time::OffsetDateTime> {
        crate::plan::offboard::instant(self.plan.get("planned_at")?.as_str()?)
    }
}

/// Read a file that is either a saved plan (JSON with `ramstate_saved_plan`) or not (`None`).
pub fn read_if_saved(text: &str, path: &Path) -> Result<Option<SavedPlan>> {
    let looks_saved =
        text.trim_start().starts_with('{') && text.contains("\"ramstate_saved_plan\"");
    if !looks_saved {
        return Ok(None);
    }
    let saved: SavedPlan = serde_json::from_str(text)
        .into_diagnostic()
        .wrap_err_with(|| {
            format!(
                "{} looks like a saved plan but cannot be read",
                path.display()
            )
        })?;
    if saved.ramstate_saved_plan != SAVED_PLAN_FORMAT {
        return Err(miette!(
            "{} is a saved plan of format {}, this ramstate reads format {SAVED_PLAN_FORMAT}",
            path.display(),
            saved.ramstate_saved_plan
        ));
    }
    let plan_format = saved.plan.get("format_version").and_then(|v| v.as_u64());
    if plan_format != Some(u64::from(crate::plan::FORMAT_VERSION)) {
        return Err(miette!(
            help = "make the plan again with this ramstate: `ramstate diff FILE --out PLAN`",
            "{} holds a plan of format {}, made by another version of ramstate; this one reads format {}",
            path.display(),
            plan_format.map_or("unknown".to_string(), |v| v.to_string()),
            crate::plan::FORMAT_VERSION
        ));
    }
    Ok(Some(saved))
}

pub fn write(path: &Path, saved: &SavedPlan) -> Result<()> {
    let text = serde_json::to_string_pretty(saved).into_diagnostic()?;
    std::fs::write(path, text + "\n")
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot write the plan to {}", path.display()))
}
