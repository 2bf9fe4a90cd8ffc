//! `ramstate schema`: the JSON Schema of the desired-state file.

use miette::Result;

use super::Outcome;

pub fn run() -> Result<Outcome> {
    print!("{}", crate::config::schema_text());
    Ok(Outcome::Clean)
}
