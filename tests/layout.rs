//! Rules of the code's layout that the compiler cannot hold.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// String literals in `text` (no escapes inside them, which API names never have).
fn literals(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

/// The code of a source file without its unit tests.
fn non_test_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// Every action the emulator dispatches and every parameter it reads: Alibaba's names.
fn api_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let action = regex::Regex::new(r#""([A-Z][A-Za-z0-9]+)" =>"#).unwrap();
    let param = regex::Regex::new(r#"\.[a-z_]+\("([A-Z][A-Za-z0-9.]+)""#).unwrap();
    for f in rust_files(&root().join("crates/ramstate-emulator/src")) {
        let text = std::fs::read_to_string(f).unwrap();
        for c in action
            .captures_iter(&text)
            .chain(param.captures_iter(&text))
        {
            names.insert(c[1].to_string());
        }
    }
    names
}

/// The meaning of a step lives in its typed operation: only `plan::call` (the one place
/// that derives a request from an operation) spells Alibaba's action and parameter names
/// among the planner, the graph and the executor.
#[test]
fn only_the_call_derivation_names_api_actions_and_parameters() {
    let names = api_names();
    for must in [
        "DeleteUser",
        "DetachPolicyFromGroup",
        "UserName",
        "PolicyType",
    ] {
        assert!(names.contains(must), "the name list misses {must}");
    }
    assert!(names.len() > 100, "only {} names found", names.len());

    let src = root().join("src");
    let mut files = rust_files(&src.join("plan"));
    files.extend(rust_files(&src.join("apply")));
    files.push(src.join("graph.rs"));
    let allowed = src.join("plan/call.rs");
    let mut found = Vec::new();
    for f in files {
        if f == allowed || f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        for lit in literals(&non_test_code(&f)) {
            if names.contains(lit) {
                found.push(format!(
                    "{}: \"{lit}\"",
                    f.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "API names outside plan/call.rs:\n{}",
        found.join("\n")
    );
    // The derivation itself does name them (the check above is not vacuous).
    let call = non_test_code(&allowed);
    assert!(literals(&call).iter().any(|l| names.contains(*l)));
}
