//! The committed schema, checked by a JSON Schema validator (boon, draft 2020-12): every
//! example desired-state file satisfies it; every desired-state text the tests feed the
//! parser agrees with it (accepted → valid; rejected for a reason the schema can express →
//! invalid); and it carries what editors show (an `$id`, a description on every property,
//! every enum's values).

mod support;

use std::path::Path;

use serde_json::Value;
use support::repo_path;

const SCHEMA_PATH: &str = "schemas/ramstate.schema.json";

struct Validator {
    schemas: boon::Schemas,
    index: boon::SchemaIndex,
}

impl Validator {
    fn committed() -> Validator {
        let schema: Value =
            serde_json::from_str(&std::fs::read_to_string(repo_path(SCHEMA_PATH)).unwrap())
                .unwrap();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.enable_format_assertions();
        let url = "file:///ramstate.schema.json";
        compiler.add_resource(url, schema).unwrap();
        let index = compiler.compile(url, &mut schemas).unwrap();
        Validator { schemas, index }
    }

    /// `Ok` or the validator's errors, for a YAML text read as JSON data.
    fn check(&self, yaml: &str) -> Result<(), String> {
        let doc: Value = yaml_serde::from_str(yaml).map_err(|e| format!("not YAML: {e}"))?;
        self.schemas
            .validate(&doc, self.index)
            .map_err(|e| format!("{e:#}"))
    }
}

/// Files under `dir` ending in `.yaml` or `.yml`, recursively, sorted.
fn yaml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn every_example_desired_state_file_satisfies_the_committed_schema() {
    let v = Validator::committed();
    let mut files = 0;
    for path in yaml_files(&repo_path("examples")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path
            .strip_prefix(repo_path(""))
            .unwrap()
            .display()
            .to_string();
        if !text.contains("# yaml-language-server: $schema=") {
            // Not a desired-state file: an account snapshot (a seed) or a CI workflow.
            let seed = ramstate::emulator::parse_seed(&text).is_ok();
            let ci = name.starts_with("examples/ci/") && !name.ends_with("ramstate.yaml");
            assert!(
                seed || ci,
                "{name} is neither a desired-state file nor a seed"
            );
            continue;
        }
        // The comment points at the committed schema, relative to the file.
        let rel = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# yaml-language-server: $schema="))
            .unwrap_or_else(|| panic!("{name}: the schema comment is its first line"));
        let target = path.parent().unwrap().join(rel);
        assert_eq!(
            target.canonicalize().unwrap(),
            repo_path(SCHEMA_PATH).canonicalize().unwrap(),
            "{name}"
        );
        v.check(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        ramstate::config::parse(&text, &name).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        files += 1;
    }
    assert!(files >= 4, "only {files} example files");
}

/// Problems the schema can express (structure, known keys, enum values, the version, the
/// account ID's form); the others (a bad regex or date, a setting that contradicts
/// `manage`, a duplicate...) need the parser.
const SCHEMA_KNOWS: [&str; 10] = [
    "unknown key",
    "must be a mapping",
    "must be a string",
    "missing `version`",
    "missing `manage`",
    "`version` must be",
    "is not an account ID",
    "must be quoted",
    "is not a kind",
    "the file is empty",
];

/// String literals of Rust source (plain and raw), unescaped enough for YAML texts.
fn string_literals(src: &str) -> Vec<String> {
    let re = regex::Regex::new(r##"r#"((?s:.*?))"#|"((?:[^"\\\n]|\\.|\\\n)*)""##).unwrap();
    re.captures_iter(src)
        .map(|c| match (c.get(1), c.get(2)) {
            (Some(raw), _) => raw.as_str().to_string(),
            (_, Some(s)) => unescape(s.as_str()),
            _ => unreachable!(),
        })
        .collect()
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            // A line continuation: the newline and the next line's indentation go.
            Some('\n') => {
                while chars.peek().is_some_and(|c| c.is_whitespace()) {
                    chars.next();
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// Every complete desired-state text written in the tests' sources: a literal with both
/// `version:` and `manage:` at the start of a line, without format placeholders.
fn desired_state_texts_in_tests() -> Vec<(String, String)> {
    let mut sources = yaml_files_like(&repo_path("tests"), "rs");
    sources.extend(yaml_files_like(&repo_path("src"), "rs"));
    let mut out = Vec::new();
    for path in sources {
        let src = std::fs::read_to_string(&path).unwrap();
        let name = path
            .strip_prefix(repo_path(""))
            .unwrap()
            .display()
            .to_string();
        for lit in string_literals(&src) {
            let starts = |k: &str| lit.lines().any(|l| l.starts_with(k));
            if starts("version:") && starts("manage:") && !lit.contains("{}") {
                out.push((name.clone(), lit));
            }
        }
    }
    out
}

fn yaml_files_like(dir: &Path, ext: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(yaml_files_like(&path, ext));
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn the_parser_and_the_schema_agree_on_every_desired_state_text_of_the_tests() {
    let v = Validator::committed();
    let texts = desired_state_texts_in_tests();
    let (mut accepted, mut rejected) = (0, 0);
    for (file, text) in &texts {
        match ramstate::config::parse(text, "t.yaml") {
            Ok(_) => {
                accepted += 1;
                if let Err(e) = v.check(text) {
                    panic!("{file}: the parser accepts, the schema rejects:\n{text}\n{e}");
                }
            }
            Err(e) => {
                let knowable = e
                    .problems()
                    .iter()
                    .any(|p| SCHEMA_KNOWS.iter().any(|k| p.message.contains(k)));
                if knowable {
                    rejected += 1;
                    assert!(
                        v.check(text).is_err(),
                        "{file}: the schema accepts what the parser rejects:\n{text}\n{:?}",
                        e.problems()
                    );
                }
            }
        }
    }
    // The corpus is the tests' own: it grows with them, and is never trivially empty.
    assert!(accepted >= 30, "{accepted} accepted texts");
    assert!(rejected >= 5, "{rejected} rejected texts");
}

#[test]
fn files_the_schema_can_judge_are_judged_like_the_parser_does() {
    let v = Validator::committed();
    for (text, valid) in [
        ("version: 1\nmanage: all\n", true),
        (
            "version: 1\nmanage: [users, roles]\nkeep: {users: [alice, {glob: 'svc-*'}, {tag: {key: team}}]}\n",
            true,
        ),
        (
            "version: 1\nmanage: all\nrecycle_bin: purge\ndefault_domain: reset\naccount_alias: clear\n",
            true,
        ),
        (
            "version: 1\naccount: {id: \"1234567890123456\"}\nmanage: all\n",
            true,
        ),
        ("version: 2\nmanage: all\n", false),
        ("version: 1\n", false),
        ("version: 1\nmanage: [user]\n", false),
        (
            "version: 1\nmanage: all\nkeep: {users: [{globb: x}]}\n",
            false,
        ),
        (
            "version: 1\nmanage: all\nkeep: {users: [{glob: x, regex: y}]}\n",
            false,
        ),
        ("version: 1\nmanage: all\nrecycle_bin: empty\n", false),
        (
            "version: 1\naccount: {id: 1234567890123456}\nmanage: all\n",
            false,
        ),
        ("version: 1\nmanage: all\nkeep: {user: [x]}\n", false),
        ("version: 1\nmanage: all\nextra: 1\n", false),
    ] {
        assert_eq!(v.check(text).is_ok(), valid, "schema on {text:?}");
        assert_eq!(
            ramstate::config::parse(text, "t.yaml").is_ok(),
            valid,
            "parser on {text:?}"
        );
    }
}

/// Every `properties` entry, with its JSON pointer.
fn properties<'a>(v: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match v {
        Value::Object(map) => {
            if let Some(Value::Object(props)) = map.get("properties") {
                for (k, p) in props {
                    out.push((format!("{at}/properties/{k}"), p));
                }
            }
            for (k, x) in map {
                properties(x, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                properties(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_property_has_a_description_and_every_enum_names_its_values() {
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(repo_path(SCHEMA_PATH)).unwrap()).unwrap();
    assert_eq!(schema["$id"], "urn:ramstate:desired-state:1");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let mut props = Vec::new();
    properties(&schema, String::new(), &mut props);
    assert!(props.len() >= 20, "{} properties", props.len());
    for (at, p) in &props {
        let d = p["description"].as_str().unwrap_or_default();
        assert!(!d.trim().is_empty(), "{at} has no description");
    }
    let mut enums = 0;
    fn walk(v: &Value, enums: &mut usize) {
        match v {
            Value::Object(map) => {
                if let Some(values) = map.get("enum").and_then(Value::as_array) {
                    *enums += 1;
                    let d = map["description"].as_str().unwrap_or_default();
                    for value in values {
                        let value = value.as_str().unwrap();
                        assert!(d.contains(&format!("`{value}`")), "{d:?} lacks {value}");
                    }
                }
                map.values().for_each(|x| walk(x, enums));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, enums)),
            _ => {}
        }
    }
    walk(&schema, &mut enums);
    assert!(enums >= 5, "{enums} enums");
}

mod generated {
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Whatever text the parser accepts, the schema accepts too.
        #[test]
        fn whatever_the_parser_accepts_the_schema_accepts(
            text in "version: 1\n(manage: (all|\\[(users|roles|groups|recycle_bin)(, (policies|account_alias))?\\])\n)(keep:\n(  (users|roles|policies|groups): \\[([a-z*]{1,5}|\\{(glob|regex|name): \"[a-z*^$]{1,5}\"\\}|\\{tag: \\{key: [a-z]{1,3}(, value: [a-z]{1,3})?\\}\\})(, [a-z]{1,4})?\\]\n){1,3})?(recycle_bin: (purge|keep)\n)?(account_alias: (clear|keep|wipe)\n)?"
        ) {
            let v = super::Validator::committed();
            if ramstate::config::parse(&text, "gen.yaml").is_ok() {
                prop_assert!(v.check(&text).is_ok(), "{}", text);
            }
        }
    }
}
