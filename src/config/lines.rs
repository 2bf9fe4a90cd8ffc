//! Where the file decides that a kind is managed: the line `explain` and the plan's JSON
//! name for an entity removed because no keep rule matches it, or a setting applied.

use std::collections::{BTreeMap, BTreeSet};

use yaml_serde::Value;

use super::locate::{Seg, locate, sequence_item_lines};
use crate::model::Kind;

/// For each managed kind, the 1-based line that manages it: a setting's own line
/// (`default_domain: reset`), else its item in a `manage` list, else the `manage: all` line.
pub(super) fn manage_lines(text: &str, managed: &BTreeSet<Kind>) -> BTreeMap<Kind, usize> {
    let Ok(doc) = yaml_serde::from_str::<Value>(text) else {
        return BTreeMap::new();
    };
    let manage_path = [Seg::Value("manage".into())];
    let manage_line = locate(text, &manage_path).map(|p| p.line);
    let items: Vec<String> = doc
        .get("manage")
        .and_then(Value::as_sequence)
        .map(|s| {
            s.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    let item_lines = if items.is_empty() {
        None
    } else {
        sequence_item_lines(text, &manage_path, items.len())
    };
    let mut out = BTreeMap::new();
    for kind in managed {
        let setting = doc
            .get(kind.as_str())
            .and_then(|_| locate(text, &[Seg::Value(kind.as_str().into())]))
            .map(|p| p.line);
        let item = items
            .iter()
            .position(|i| i == kind.as_str())
            .and_then(|i| match &item_lines {
                Some(lines) => lines.get(i).copied(),
                None => locate(text, &[Seg::Value("manage".into()), Seg::Index(i)]).map(|p| p.line),
            });
        if let Some(line) = setting.or(item).or(manage_line) {
            out.insert(*kind, line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_item_a_setting_or_manage_all_decides() {
        let text =
            "version: 1\nmanage:\n  - users\n  - roles\n  - recycle_bin\nrecycle_bin: purge\n";
        let managed = [Kind::Users, Kind::Roles, Kind::RecycleBin]
            .into_iter()
            .collect();
        let lines = manage_lines(text, &managed);
        assert_eq!(lines[&Kind::Users], 3);
        assert_eq!(lines[&Kind::Roles], 4);
        assert_eq!(lines[&Kind::RecycleBin], 6);

        let text = "# all of it\nversion: 1\nmanage: all\ndefault_domain: reset\n";
        let managed = [Kind::Users, Kind::DefaultDomain].into_iter().collect();
        let lines = manage_lines(text, &managed);
        assert_eq!(lines[&Kind::Users], 3);
        assert_eq!(lines[&Kind::DefaultDomain], 4);
    }
}
