//! Finding where a node sits in the YAML text.
//!
//! yaml_serde reports a location only with an error, so to find a node we walk the
//! document with a deserializer seed that follows a path and fails on arrival: the
//! error carries the line and column of the node (or of the map key) it stopped at.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// The value under this key of a mapping.
    Value(String),
    /// The key itself (for unknown or duplicate keys).
    Key(String),
    /// The n-th element of a sequence.
    Index(usize),
}

/// A position in the text: byte offset, 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub offset: usize,
    pub line: usize,
    pub column: usize,
}

/// The position of the node at `path`, or `None` when the path does not exist.
pub fn locate(text: &str, path: &[Seg]) -> Option<Pos> {
    let de = yaml_serde::Deserializer::from_str(text);
    match (Probe { path }).deserialize(de) {
        Ok(()) => None,
        Err(e) => e.location().map(|l| Pos {
            offset: l.index(),
            line: l.line(),
            column: l.column(),
        }),
    }
}

/// The length of the token starting at `offset`: up to the end of the line or a flow
/// delimiter, trimmed; at least one character.
pub fn token_len(text: &str, offset: usize) -> usize {
    let rest = &text[offset.min(text.len())..];
    let quoted = rest.starts_with('"') || rest.starts_with('\'');
    let end = if quoted {
        let q = rest.as_bytes()[0] as char;
        rest[1..].find(q).map(|i| i + 2).unwrap_or(rest.len())
    } else {
        rest.find(['\n', ',', '}', ']', '#']).unwrap_or(rest.len())
    };
    let token = rest[..end].trim_end();
    let token = match token.find(": ") {
        Some(i) if !quoted => &token[..i],
        _ => token.strip_suffix(':').unwrap_or(token),
    };
    token.len().max(1)
}

/// The 1-based line of each of the `count` items of the sequence at `path`, with one parse
/// of the document instead of one per item: a block sequence is read line by line from its
/// first dash, a flow sequence must sit on one line. `None` when the text is shaped otherwise
/// (or the count does not match), so that callers fall back to [`locate`] per item.
pub fn sequence_item_lines(text: &str, path: &[Seg], count: usize) -> Option<Vec<usize>> {
    let start = locate(text, path)?;
    let rest = text.get(start.offset..)?;
    if rest.starts_with('[') {
        return flow_on_one_line(rest).then(|| vec![start.line; count]);
    }
    if !rest.starts_with('-') {
        return None;
    }
    let line_start = text[..start.offset].rfind('\n').map_or(0, |i| i + 1);
    if !text[line_start..start.offset].bytes().all(|b| b == b' ') {
        return None;
    }
    let indent = start.offset - line_start;
    let mut lines = Vec::with_capacity(count);
    // A dash alone on its line: the item (as `locate` finds it) starts on the next line.
    let mut bare_dash = false;
    for (n, l) in text[line_start..].lines().enumerate() {
        let trimmed = l.trim_start_matches(' ');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let ind = l.len() - trimmed.len();
        if ind < indent {
            break;
        }
        if bare_dash {
            bare_dash = false;
            if ind > indent {
                lines.push(start.line + n);
                continue;
            }
            return None;
        }
        if ind == indent {
            if trimmed == "-" {
                bare_dash = true;
            } else if trimmed.starts_with("- ") || trimmed.starts_with("-\t") {
                lines.push(start.line + n);
            } else {
                break;
            }
        }
    }
    (lines.len() == count).then_some(lines)
}

/// Whether the flow collection opening `text` closes before the end of its line.
fn flow_on_one_line(text: &str) -> bool {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in text.chars() {
        if c == '\n' {
            return false;
        }
        match quote {
            Some('"') if escaped => escaped = false,
            Some('"') if c == '\\' => escaped = true,
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '{' => depth += 1,
                ']' | '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return true;
                    }
                }
                _ => {}
            },
        }
    }
    false
}

struct Probe<'a> {
    path: &'a [Seg],
}

const HERE: &str = "\u{0}here";

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        if self.path.is_empty() {
            return d.deserialize_any(Fail);
        }
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Seg::Index(want) = self.path[0] else {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        };
        let mut i = 0;
        loop {
            let more = if i == want {
                seq.next_element_seed(Probe {
                    path: &self.path[1..],
                })?
                .is_some()
            } else {
                seq.next_element::<IgnoredAny>()?.is_some()
            };
            if !more {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let (want, at_key) = match &self.path[0] {
            Seg::Value(k) => (k.as_str(), false),
            Seg::Key(k) => (k.as_str(), true),
            Seg::Index(_) => {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(());
            }
        };
        while let Some(found) = map.next_key_seed(KeyProbe { want, at_key })? {
            if found {
                map.next_value_seed(Probe {
                    path: &self.path[1..],
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// Fails on whatever node it is given, so that the error carries the node's position.
struct Fail;

impl<'de> Visitor<'de> for Fail {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any node")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(HERE))
    }
    fn visit_some<D: de::Deserializer<'de>>(self, _: D) -> Result<(), D::Error> {
        Err(de::Error::custom(HERE))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(HERE))
    }
    fn visit_map<A: MapAccess<'de>>(self, _: A) -> Result<(), A::Error> {
        Err(de::Error::custom(HERE))
    }
}

/// Reads a key; fails on it when it is the wanted key and the key itself is the target.
struct KeyProbe<'a> {
    want: &'a str,
    at_key: bool,
}

impl<'de> DeserializeSeed<'de> for KeyProbe<'_> {
    type Value = bool;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeyProbe<'_> {
    type Value = bool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        if v == self.want {
            if self.at_key {
                return Err(E::custom(HERE));
            }
            return Ok(true);
        }
        Ok(false)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<bool, E> {
        self.visit_str(&v.to_string())
    }
    fn visit_unit<E: de::Error>(self) -> Result<bool, E> {
        self.visit_str("~")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(false)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = "version: 1\nkeep:\n  users:\n    - name: alice\n    - {glob: \"svc-*\"}\n";

    #[test]
    fn locates_values_keys_and_sequence_items() {
        let v = locate(DOC, &[Seg::Value("version".into())]).unwrap();
        assert_eq!((v.line, v.column), (1, 10));
        let k = locate(DOC, &[Seg::Key("keep".into())]).unwrap();
        assert_eq!((k.line, k.column), (2, 1));
        let users = [Seg::Value("keep".into()), Seg::Value("users".into())];
        let second = [
            users.to_vec(),
            vec![Seg::Index(1), Seg::Value("glob".into())],
        ]
        .concat();
        let g = locate(DOC, &second).unwrap();
        assert_eq!(g.line, 5);
        assert_eq!(
            &DOC[g.offset..g.offset + token_len(DOC, g.offset)],
            "\"svc-*\""
        );
    }

    #[test]
    fn a_missing_path_has_no_position() {
        assert_eq!(locate(DOC, &[Seg::Value("nope".into())]), None);
    }

    #[test]
    fn item_lines_of_a_block_sequence_come_from_one_parse() {
        let doc = "keep:\n  users:\n    - alice\n    # a comment\n\n    - {glob: \"svc-*\"}\n    - name: bob\n      # inside the item\n    -\n      regex: \"^x$\"\n  groups: [a]\n";
        let users = [Seg::Value("keep".into()), Seg::Value("users".into())];
        assert_eq!(sequence_item_lines(doc, &users, 4), Some(vec![3, 6, 7, 10]));
        for (i, line) in [3, 6, 7, 10].into_iter().enumerate() {
            let at = [users.to_vec(), vec![Seg::Index(i)]].concat();
            assert_eq!(locate(doc, &at).unwrap().line, line, "item {i}");
        }
        assert_eq!(
            sequence_item_lines(doc, &users, 3),
            None,
            "count must match"
        );
    }

    #[test]
    fn item_lines_of_a_sequence_at_its_parents_indent() {
        let doc = "users:\n- alice\n- bob\ngroups:\n- x\n";
        let lines = sequence_item_lines(doc, &[Seg::Value("users".into())], 2);
        assert_eq!(lines, Some(vec![2, 3]));
    }

    #[test]
    fn item_lines_of_a_flow_sequence_only_when_it_sits_on_one_line() {
        let one = "users: [alice, {glob: \"a]b\"}, 'x''y']\n";
        let users = [Seg::Value("users".into())];
        assert_eq!(sequence_item_lines(one, &users, 3), Some(vec![1, 1, 1]));
        let two = "users: [alice,\n  bob]\n";
        assert_eq!(sequence_item_lines(two, &users, 2), None);
    }
}
