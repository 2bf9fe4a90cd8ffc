//! Arbitrary input for the loaders a user's files reach: the desired-state parser
//! (`config::parse`) and the saved-plan loader (`commands::saved::read_if_saved`, then the
//! desired state it carries). Each must end in a value or an error — never a panic, never
//! a hang — whatever the bytes. A few hundred cases in CI; `RAMSTATE_FUZZ_CASES=N` runs
//! more. (The emulator's request parsing and signature checks are fuzzed in its crate.)

use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use ramstate::commands::saved;
use ramstate::config;

fn cases() -> u32 {
    std::env::var("RAMSTATE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256)
}

/// No input of a few kilobytes may take this long: that would be a hang, not slowness.
const HANG: Duration = Duration::from_secs(10);

/// Pieces of desired-state files, YAML's own syntax (anchors, aliases, merges, tags,
/// flow and block forms) and junk, to be strung together.
fn yaml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "version: 1\n",
                "version: 2\n",
                "account: { id: \"1234567890123456\" }\n",
                "account:\n  id: 12\n",
                "manage: all\n",
                "manage: [users, groups, roles, policies, virtual_mfa_devices]\n",
                "manage: [recycle_bin, service_linked_roles, account_alias]\n",
                "keep:\n",
                "  users:\n",
                "  roles: []\n",
                "    - ci-bot\n",
                "    - { glob: \"svc-*\" }\n",
                "    - { regex: \"^(a|b)+$\" }\n",
                "    - { regex: \"(\" }\n",
                "    - { tag: { key: team, value: platform } }\n",
                "    - { created_before: \"2024-01-01\" }\n",
                "    - { created_before: \"yesterday\" }\n",
                "recycle_bin: purge\n",
                "default_domain: reset\n",
                "account_alias: clear\n",
                "a: &a [x, x, x, x, x, x, x, x]\n",
                "b: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n",
                "c: [*b, *b, *b, *b, *b, *b, *b, *b]\n",
                "<<: *a\n",
                "!!binary aGVsbG8=\n",
                "? complex\n: key\n",
                "---\n",
                "...\n",
                "%YAML 1.2\n",
                "\t",
                "  ",
                "- ",
                "{",
                "}",
                "[",
                "]",
                ",",
                ": ",
                "\"",
                "'",
                "#",
                "|\n",
                ">\n",
                "é",
                "\u{feff}",
            ][..]
        )
        .prop_map(str::to_string),
        "[ -~\n]{0,20}",
        "\\PC{0,8}",
    ]
}

fn yaml_text() -> impl Strategy<Value = String> {
    prop::collection::vec(yaml_piece(), 0..40).prop_map(|v| v.concat())
}

fn json_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("\"5123456789012345\"".to_string()),
        Just("\"\"".to_string()),
        "\"[ -!#-\\[\\]-~]{0,16}\"",
        Just("1".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("\"\\ud800\"".to_string()),
    ]
}

/// Saved plans: the right shape with arbitrary values, wrong shapes, and cut-offs.
fn saved_text() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("1".to_string()), Just("2".to_string()), Just("-1".to_string()), Just("1e400".to_string()), json_string()],
        json_string(),
        json_string(),
        prop_oneof![
            yaml_text().prop_map(|t| serde_json::to_string(&t).unwrap()),
            json_string()
        ],
        prop_oneof![
            Just("2".to_string()),
            Just("1".to_string()),
            Just("18446744073709551616".to_string()),
            json_string()
        ],
        prop_oneof![
            Just("[]".to_string()),
            Just("[{\"address\": \"user.a\"}]".to_string()),
            "\\[{0,200}",
            json_string()
        ],
        0usize..400,
    )
        .prop_map(|(format, account, source, desired, plan_format, changes, cut)| {
            let full = format!(
                "{{\"ramstate_saved_plan\": {format}, \"account_id\": {account}, \"desired_source\": {source}, \"desired_text\": {desired}, \"plan\": {{\"format_version\": {plan_format}, \"changes\": {changes}, \"inventory_fingerprint\": {account}}}}}"
            );
            // Sometimes cut short (a truncated file), on a character boundary.
            let mut end = full.len().saturating_sub(cut % (full.len() / 2 + 1));
            while !full.is_char_boundary(end) {
                end -= 1;
            }
            if cut % 3 == 0 {
                full
            } else {
                full[..end].to_string()
            }
        })
}

/// Loads `text` as `ramstate apply FILE` does: a saved plan, or else a desired state.
fn load(text: &str) {
    match saved::read_if_saved(text, Path::new("fuzz.json")) {
        Ok(Some(saved)) => {
            let _ = config::parse(&saved.desired_text, &saved.desired_source);
        }
        Ok(None) => {
            let _ = config::parse(text, "fuzz.yaml");
        }
        Err(_) => {}
    }
}

fn within_bound(text: &str) -> Result<(), TestCaseError> {
    let started = Instant::now();
    load(text);
    prop_assert!(
        started.elapsed() < HANG,
        "{} bytes took {:?}",
        text.len(),
        started.elapsed()
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Any bytes at all, read as a file is (lossily as UTF-8).
    #[test]
    fn arbitrary_bytes_load_as_a_value_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        within_bound(&String::from_utf8_lossy(&bytes))?;
    }

    /// Text made of desired-state pieces and YAML syntax, anchors and aliases included.
    #[test]
    fn desired_state_shaped_text_loads_as_a_value_or_an_error(text in yaml_text()) {
        within_bound(&text)?;
        // Parsing is deterministic: the same text gives the same outcome.
        let a = config::parse(&text, "fuzz.yaml").map_err(|e| e.to_string());
        let b = config::parse(&text, "fuzz.yaml").map_err(|e| e.to_string());
        prop_assert_eq!(a.is_ok(), b.is_ok());
    }

    /// Saved plans of the right shape with arbitrary values, wrong shapes and truncations.
    #[test]
    fn saved_plan_shaped_text_loads_as_a_value_or_an_error(text in saved_text()) {
        within_bound(&text)?;
    }
}

/// A document whose aliases expand to billions of nodes is refused, quickly.
#[test]
fn an_alias_bomb_is_refused_rather_than_expanded() {
    let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        text.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    text.push_str("version: 1\nmanage: all\n");
    let started = Instant::now();
    let out = config::parse(&text, "bomb.yaml");
    assert!(out.is_err(), "an alias bomb must not load");
    assert!(started.elapsed() < HANG, "took {:?}", started.elapsed());
}
