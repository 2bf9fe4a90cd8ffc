//! The record of a user's deactivation, kept on the user itself.
//!
//! With `offboarding.deactivate_first`, a user that is not kept is first deactivated:
//! its console logon is switched off (IMS `UpdateLoginProfile Status=Inactive`), every
//! Active access key is set Inactive, and the deactivation is recorded as the user's tag
//! [`TAG_KEY`] (`ramstate:deactivated`), so that a later run — on any machine — knows
//! when it happened and what to switch back on if the user is kept again.
//!
//! The tag value is `<time> [console] [<key ID>...]`, space-separated: the time of the
//! deactivation (RFC 3339, UTC, milliseconds), `console` when console logon was Active,
//! and the IDs of the access keys that were Active, e.g.
//! `2026-12-02T09:30:00.000Z console LTAI5tExample1234567890`. It fits IMS's limit on a
//! tag value (128 characters: the time takes 24, a user has at most two keys).
//!
//! The record is written first and the switches go off after it, so a run stopped
//! halfway leaves a tagged user with something still Active, which the next run finishes
//! (keeping the first time). A reactivation switches everything back on first and
//! removes the record last.

use std::collections::BTreeSet;

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// The user tag that records a deactivation.
pub const TAG_KEY: &str = "ramstate:deactivated";

/// The longest tag value IMS accepts.
pub const MAX_VALUE_CHARS: usize = 128;

/// The word that stands for console logon in a record.
const CONSOLE: &str = "console";

/// When a user was deactivated and what was Active before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub at: OffsetDateTime,
    /// Console logon was Active.
    pub console_logon: bool,
    /// The access keys that were Active, sorted.
    pub keys: Vec<String>,
}

impl Record {
    /// Reads a tag value; `None` when it is not one ramstate writes.
    pub fn parse(value: &str) -> Option<Record> {
        let mut words = value.split_whitespace();
        let at = OffsetDateTime::parse(words.next()?, &Rfc3339).ok()?;
        let mut record = Record {
            at: at.to_offset(UtcOffset::UTC),
            console_logon: false,
            keys: Vec::new(),
        };
        for w in words {
            if w == CONSOLE {
                record.console_logon = true;
            } else {
                record.keys.push(w.to_string());
            }
        }
        record.keys.sort();
        record.keys.dedup();
        Some(record)
    }

    /// The tag value.
    pub fn value(&self) -> String {
        let mut out = millis(self.at);
        if self.console_logon {
            out.push(' ');
            out.push_str(CONSOLE);
        }
        for k in &self.keys {
            out.push(' ');
            out.push_str(k);
        }
        out
    }

    /// When the quarantine ends: the user may be deleted after this instant.
    pub fn deletable_after(&self, quarantine_days: u32) -> OffsetDateTime {
        self.at + Duration::days(i64::from(quarantine_days))
    }

    /// [`Record::deletable_after`] as plans print it: to the second, rounded up, so that
    /// "deletable after" never names a second at which the user is still held.
    pub fn deletable_after_text(&self, quarantine_days: u32) -> String {
        let t = self.deletable_after(quarantine_days);
        let up = if t.nanosecond() > 0 {
            t + Duration::seconds(1)
        } else {
            t
        };
        seconds(up)
    }
}

/// `now` to the millisecond, the precision a record keeps: a plan made at `now` and
/// the record it writes compare equal.
pub fn to_millis(now: OffsetDateTime) -> OffsetDateTime {
    let now = now.to_offset(UtcOffset::UTC);
    now.replace_nanosecond(now.millisecond() as u32 * 1_000_000)
        .unwrap_or(now)
}

/// `2026-12-02T09:30:00.123Z`.
pub fn millis(t: OffsetDateTime) -> String {
    let t = to_millis(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// `2026-12-02T09:30:00Z`, as plans print times.
pub fn seconds(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// A timestamp as the API prints it (`2026-12-02T09:30:00Z`); `None` when unreadable.
pub fn instant(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &Rfc3339).ok()
}

/// Whole days from `from` to `to` (rounded down), for "used 2 days after deactivation".
pub fn days_between(from: OffsetDateTime, to: OffsetDateTime) -> i64 {
    (to - from).whole_days()
}

/// The users whose deactivation steps among `done` (addresses of `changes`) ran.
pub fn deactivated_by<'p>(
    changes: &'p [super::Change],
    done: &BTreeSet<&super::Address>,
) -> BTreeSet<&'p super::Resource> {
    use super::Op;
    changes
        .iter()
        .filter(|c| done.contains(&c.address))
        .filter(|c| {
            matches!(
                c.op,
                Op::RecordDeactivation { .. }
                    | Op::DisableConsoleLogon { .. }
                    | Op::DeactivateAccessKey { .. }
            )
        })
        .map(|c| c.resource())
        .collect()
}

/// What is left after an apply, without the deletions of the users it deactivated: a
/// user deactivated by a run is deleted by a later one (when its quarantine is over, a
/// deactivation that was finished finds the deletion due at once).
pub fn without_next_phase(
    mut remaining: super::Plan,
    deactivated: &BTreeSet<&super::Resource>,
) -> super::Plan {
    remaining
        .changes
        .retain(|c| !(c.action().is_destroy() && deactivated.contains(c.resource())));
    remaining
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_record_reads_back_what_it_wrote() {
        let r = Record {
            at: datetime!(2026-12-02 09:30:00.25 UTC),
            console_logon: true,
            keys: vec![
                "LTAI5tAAAAAAAAAAAAAAAAAA".into(),
                "LTAI5tBBBBBBBBBBBBBBBBBB".into(),
            ],
        };
        let v = r.value();
        assert_eq!(
            v,
            "2026-12-02T09:30:00.250Z console LTAI5tAAAAAAAAAAAAAAAAAA LTAI5tBBBBBBBBBBBBBBBBBB"
        );
        assert!(v.chars().count() <= MAX_VALUE_CHARS);
        // Printed to the second, never earlier than the quarantine's true end.
        assert_eq!(r.deletable_after_text(7), "2026-12-09T09:30:01Z");
        assert_eq!(Record::parse(&v), Some(r));
    }

    #[test]
    fn a_record_with_nothing_active_is_just_the_time() {
        let r = Record::parse("2026-12-02T09:30:00Z").unwrap();
        assert!(!r.console_logon && r.keys.is_empty());
        assert_eq!(r.value(), "2026-12-02T09:30:00.000Z");
        assert_eq!(
            seconds(r.deletable_after(7)),
            "2026-12-09T09:30:00Z",
            "seven days later"
        );
    }

    #[test]
    fn a_value_ramstate_did_not_write_is_no_record() {
        for v in ["", "yes", "console 2026-12-02T09:30:00Z", "2026-12-02"] {
            assert_eq!(Record::parse(v), None, "{v:?}");
        }
    }
}
