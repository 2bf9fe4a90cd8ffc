//! The recycle bin as `ramstate recycle-bin` shows it: each recycled user with its keys,
//! when it was deleted and how many of its 30 days are left, the keys live users had
//! deleted into their own bins, and how full the bin is of its 1,000 users.

use std::io::{self, Write};

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Paint;
use crate::model::{RecycleBin, RecycledAccessKey};

/// Days an item stays in the recycle bin before the service deletes it for good.
pub const RETENTION_DAYS: i64 = 30;

/// Users the recycle bin holds at most (the oldest go first when it is full).
pub const CAPACITY: usize = 1000;

/// What the bin holds, as of one instant.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct RecycleBinReport {
    pub account_id: String,
    /// When the days left were counted (RFC 3339).
    pub as_of: String,
    /// Users the bin holds, and the most it holds.
    pub usage: Usage,
    pub users: Vec<BinUser>,
    /// Keys in the bin whose user is not (it was not deleted; the key was).
    pub access_keys: Vec<BinKey>,
}

#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub users: usize,
    pub capacity: usize,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct BinUser {
    pub name: String,
    pub principal_name: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycle_date: Option<String>,
    /// When the service deletes it for good.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_date: Option<String>,
    /// Whole days left before that, rounded up; unknown without dates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
    pub access_keys: Vec<BinKey>,
}

#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct BinKey {
    pub id: String,
    pub user_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recycle_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_left: Option<i64>,
}

fn instant(s: Option<&str>) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s?, &Rfc3339).ok()
}

/// When an item leaves the bin for good: its delete date, else 30 days after it came in.
fn leaves(recycle: Option<&str>, delete: Option<&str>) -> Option<OffsetDateTime> {
    instant(delete).or_else(|| instant(recycle).map(|t| t + time::Duration::days(RETENTION_DAYS)))
}

/// Whole days from `now` to `end`, rounded up (an item deleted a moment ago has 30).
fn days_left(end: Option<OffsetDateTime>, now: OffsetDateTime) -> Option<i64> {
    let secs = (end? - now).whole_seconds();
    Some(if secs <= 0 {
        0
    } else {
        (secs + 86_399) / 86_400
    })
}

fn key(k: &RecycledAccessKey, now: OffsetDateTime) -> BinKey {
    let end = leaves(k.recycle_date.as_deref(), k.delete_date.as_deref());
    BinKey {
        id: k.id.clone(),
        user_id: k.user_id.clone(),
        recycle_date: k.recycle_date.clone(),
        delete_date: k
            .delete_date
            .clone()
            .or_else(|| end.and_then(|t| t.format(&Rfc3339).ok())),
        days_left: days_left(end, now),
    }
}

/// The report of `bin` as of `now`. Pure: the same bin and instant give the same report.
pub fn recycle_bin_report(
    account_id: &str,
    bin: &RecycleBin,
    now: OffsetDateTime,
) -> RecycleBinReport {
    let users: Vec<BinUser> = bin
        .users
        .iter()
        .map(|u| {
            let end = leaves(u.recycle_date.as_deref(), u.delete_date.as_deref());
            BinUser {
                name: crate::plan::recycled_name(u).to_string(),
                principal_name: u.principal_name.clone(),
                id: u.id.clone(),
                display_name: u.display_name.clone(),
                recycle_date: u.recycle_date.clone(),
                delete_date: u
                    .delete_date
                    .clone()
                    .or_else(|| end.and_then(|t| t.format(&Rfc3339).ok())),
                days_left: days_left(end, now),
                access_keys: bin
                    .access_keys
                    .iter()
                    .filter(|k| k.user_id == u.id)
                    .map(|k| key(k, now))
                    .collect(),
            }
        })
        .collect();
    let access_keys = bin
        .access_keys
        .iter()
        .filter(|k| !bin.users.iter().any(|u| u.id == k.user_id))
        .map(|k| key(k, now))
        .collect();
    RecycleBinReport {
        account_id: account_id.to_string(),
        as_of: now.format(&Rfc3339).unwrap_or_default(),
        usage: Usage {
            users: bin.users.len(),
            capacity: CAPACITY,
        },
        users,
        access_keys,
    }
}

fn when(date: Option<&str>, days: Option<i64>) -> String {
    let deleted = date.map_or("deleted at an unknown time".to_string(), |d| {
        format!("deleted {d}")
    });
    match days {
        Some(1) => format!("{deleted}, 1 day left"),
        Some(n) => format!("{deleted}, {n} days left"),
        None => deleted,
    }
}

/// The report as people read it.
pub fn recycle_bin_text(r: &RecycleBinReport, w: &mut dyn Write, color: bool) -> io::Result<()> {
    let p = Paint::new(color);
    writeln!(
        w,
        "{}",
        p.bold(&format!(
            "Recycle bin of account {}: {} of {} users",
            r.account_id,
            fmt_count(r.usage.users),
            fmt_count(r.usage.capacity)
        ))
    )?;
    if r.users.is_empty() && r.access_keys.is_empty() {
        writeln!(w, "  {}", p.dim("empty"))?;
        return Ok(());
    }
    for u in &r.users {
        writeln!(
            w,
            "  user {} (ID {}): {}",
            u.name,
            u.id,
            when(u.recycle_date.as_deref(), u.days_left)
        )?;
        for k in &u.access_keys {
            writeln!(
                w,
                "    access key {}: {}",
                k.id,
                when(k.recycle_date.as_deref(), k.days_left)
            )?;
        }
    }
    if !r.access_keys.is_empty() {
        writeln!(w, "{}", p.bold("Access keys of users not in the bin:"))?;
        for k in &r.access_keys {
            writeln!(
                w,
                "  access key {} (user ID {}): {}",
                k.id,
                k.user_id,
                when(k.recycle_date.as_deref(), k.days_left)
            )?;
        }
    }
    writeln!(
        w,
        "Items leave the bin for good after {RETENTION_DAYS} days; a full bin drops its oldest user."
    )?;
    Ok(())
}

/// `1,000`.
fn fmt_count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The report as JSON, newline-terminated.
pub fn recycle_bin_json(r: &RecycleBinReport, w: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, r)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RecycledUser;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &Rfc3339).unwrap()
    }

    #[test]
    fn days_left_count_from_the_delete_date_or_thirty_days_after_recycling_rounded_up() {
        let bin = RecycleBin {
            users: vec![
                RecycledUser {
                    id: "1".into(),
                    principal_name: "bob@demo.onaliyun.com".into(),
                    recycle_date: Some("2026-01-01T00:00:00Z".into()),
                    ..RecycledUser::default()
                },
                RecycledUser {
                    id: "2".into(),
                    principal_name: "eve@demo.onaliyun.com".into(),
                    recycle_date: Some("2026-01-01T00:00:00Z".into()),
                    delete_date: Some("2026-01-03T00:00:00Z".into()),
                    ..RecycledUser::default()
                },
            ],
            access_keys: vec![RecycledAccessKey {
                id: "LTAIgone".into(),
                user_id: "9".into(),
                recycle_date: Some("2025-12-01T00:00:00Z".into()),
                ..RecycledAccessKey::default()
            }],
        };
        let r = recycle_bin_report("1234567890123456", &bin, at("2026-01-10T12:00:00Z"));
        assert_eq!(r.users[0].name, "bob");
        assert_eq!(r.users[0].days_left, Some(21));
        assert_eq!(
            r.users[0].delete_date.as_deref(),
            Some("2026-01-31T00:00:00Z")
        );
        assert_eq!(r.users[1].days_left, Some(0), "past its delete date");
        assert_eq!(r.access_keys[0].days_left, Some(0));
        assert_eq!(
            r.usage,
            Usage {
                users: 2,
                capacity: 1000
            }
        );
        let mut out = Vec::new();
        recycle_bin_text(&r, &mut out, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.starts_with("Recycle bin of account 1234567890123456: 2 of 1,000 users\n"),
            "{text}"
        );
        assert!(
            text.contains("  user bob (ID 1): deleted 2026-01-01T00:00:00Z, 21 days left\n"),
            "{text}"
        );
    }
}
