//! The desired-state file as shipped: the committed schema and the examples.

use std::path::Path;

use ramstate::config;
use ramstate::model::Kind;

const SCHEMA_PATH: &str = "schemas/ramstate.schema.json";

#[test]
fn committed_schema_matches_the_code() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fresh = config::schema_text();
    if std::env::var_os("RAMSTATE_UPDATE_SCHEMA").is_some() {
        std::fs::write(root.join(SCHEMA_PATH), &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(root.join(SCHEMA_PATH)).unwrap_or_default();
    assert!(
        committed == fresh,
        "{SCHEMA_PATH} is stale: run `RAMSTATE_UPDATE_SCHEMA=1 cargo test --test core_config` and commit it"
    );
}

#[test]
fn every_example_validates_and_names_the_schema() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut checked = 0;
    for name in [
        "empty-account.yaml",
        "allowlist.yaml",
        "unverified-account.yaml",
    ] {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("# yaml-language-server: $schema=../schemas/ramstate.schema.json"),
            "{name} must start with the schema comment"
        );
        config::load(&path).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        checked += 1;
    }
    assert_eq!(checked, 3);
}

#[test]
fn the_empty_account_profile_manages_every_kind() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/empty-account.yaml");
    let d = config::load(&path).unwrap();
    assert_eq!(d.kinds(), Kind::ALL.into_iter().collect());
    assert!(d.keep.is_empty());
    assert_eq!(d.account_id.as_deref(), Some("5123456789012345"));
}

#[test]
fn the_unverified_profile_manages_only_roles() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/unverified-account.yaml");
    let d = config::load(&path).unwrap();
    assert_eq!(
        d.kinds(),
        [Kind::Roles, Kind::ServiceLinkedRoles]
            .into_iter()
            .collect()
    );
}

#[test]
fn the_schema_describes_the_top_level_keys() {
    let s = config::schema();
    let props = s["properties"].as_object().unwrap();
    for key in [
        "version",
        "account",
        "manage",
        "keep",
        "recycle_bin",
        "default_domain",
        "account_alias",
        "resource_directory_access_role",
        "resources",
    ] {
        assert!(props.contains_key(key), "schema lacks {key}");
    }
    assert_eq!(s["additionalProperties"], serde_json::json!(false));
    assert!(s["required"].as_array().unwrap().contains(&"manage".into()));
}

#[test]
fn unreadable_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let e = config::load(dir.path()).unwrap_err();
    assert!(e.to_string().starts_with("cannot read "), "{e}");
    let bin = dir.path().join("binary.yaml");
    std::fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
    let e = config::load(&bin).unwrap_err();
    assert!(e.to_string().ends_with(": not UTF-8 text"), "{e}");
}

#[test]
fn load_names_the_file_in_its_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ramstate.yaml");
    std::fs::write(
        &f,
        "version: 1\nmanage: all\nkeep: {users: [{regex: \"[\"}]}\n",
    )
    .unwrap();
    let e = config::load(&f).unwrap_err();
    assert!(e.to_string().contains("ramstate.yaml: 1 problem"), "{e}");
    assert_eq!(e.problems()[0].line, 3);
}

#[test]
fn positions_after_non_ascii_text_stay_on_the_right_token() {
    let text = "# café\nversion: 1\nmanage: all\nkeep: {users: [{regex: \"é(\"}]}\n";
    let e = config::parse(text, "f.yaml").unwrap_err();
    let p = &e.problems()[0];
    assert_eq!(p.line, 4);
    let start = p.span.offset();
    assert!(text.is_char_boundary(start));
    assert_eq!(&text[start..start + p.span.len()], "\"é(\"");
}

mod fuzz {
    use proptest::prelude::*;
    use ramstate::config;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Whatever the text, parsing ends in a state or in located problems.
        #[test]
        fn any_text_parses_or_yields_located_problems(
            text in "(version: 1\n|manage: (all|\\[users, é\\])\n|keep:\n|  users: \\[[a-zé*\\[(,{}: \"]{0,12}\\]\n|[a-zé:#\\-\\[\\]{},\"' \n]{0,30})*"
        ) {
            match config::parse(&text, "fuzz.yaml") {
                Ok(_) => {}
                Err(e) => {
                    prop_assert!(!e.problems().is_empty());
                    for p in e.problems() {
                        prop_assert!(p.line >= 1);
                        let (start, len) = (p.span.offset(), p.span.len());
                        prop_assert!(start + len <= text.len());
                        prop_assert!(text.is_char_boundary(start) && text.is_char_boundary(start + len));
                    }
                }
            }
        }
    }
}
