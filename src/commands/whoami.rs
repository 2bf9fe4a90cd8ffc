//! `ramstate whoami`: who the credentials belong to.

use miette::Result;

use crate::settings::Settings;

use super::{Connection, Outcome};

pub async fn run(settings: &Settings) -> Result<Outcome> {
    let conn = Connection::open(settings).await?;
    let c = &conn.caller;
    println!("account:  {}", c.account_id);
    println!("identity: {} ({})", c.arn, c.identity_type);
    if let Some(k) = &c.access_key_id {
        println!("key:      {k}");
    }
    Ok(Outcome::Clean)
}
