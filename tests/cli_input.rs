//! The command line as a newcomer meets it: the sandbox, bad input, and secrets that must
//! never show.

mod support;

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_plans_the_empty_account_profile_without_credentials() {
    let out = Run::offline(&[
        "diff",
        repo_path("examples/empty-account.yaml").to_str().unwrap(),
        "--sandbox",
        repo_path("examples/demo-account.yaml").to_str().unwrap(),
        "--detailed-exitcode",
    ])
    .output()
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(
        code(&out),
        2,
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(last.starts_with("Plan: "), "last line: {last}");
    assert!(stdout.contains("DeleteUser"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_readiness_lists_every_blocker_and_exits_2() {
    let out = Run::offline(&[
        "readiness",
        "--sandbox",
        repo_path("examples/demo-account.yaml").to_str().unwrap(),
        "-o",
        "json",
    ])
    .output()
    .await;
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ready"], serde_json::json!(false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_files_get_a_located_diagnostic_and_no_api_call() {
    let emu = start(demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "malformed.yaml",
            "version: 1\nmanage: [users\n",
            "malformed",
        ),
        (
            "unknown-key.yaml",
            "version: 1\nmanage: [users]\nkeeep: {}\n",
            "keeep",
        ),
        (
            "bad-regex.yaml",
            "version: 1\nmanage: [users]\nkeep:\n  users:\n    - regex: \"(unclosed\"\n",
            "regex",
        ),
    ];
    for (name, body, needle) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        for cmd in ["validate", "diff"] {
            let out = Run::new(&emu, &[cmd, path.to_str().unwrap()])
                .output()
                .await;
            let err = text(&out.stderr);
            assert_eq!(code(&out), 1, "{name} via {cmd}: {err}");
            assert!(
                err.to_lowercase().contains(needle),
                "{name} via {cmd}: {err}"
            );
            assert!(
                err.contains(name),
                "{name}: the diagnostic names the file: {err}"
            );
        }
    }
    let missing = Run::new(&emu, &["diff", "/nonexistent/desired.yaml"])
        .output()
        .await;
    assert_eq!(code(&missing), 1);
    assert!(text(&missing.stderr).contains("/nonexistent/desired.yaml"));
    assert!(emu.log().is_empty(), "bad input must not reach the API");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_a_saved_plan_never_shows_the_secret() {
    let seed = demo_seed();
    let id = seed.account.id.clone();
    let emu = start(seed).await;
    let secret = emu.root_key().secret.clone();
    let dir = tempfile::tempdir().unwrap();
    let plan_path = dir.path().join("plan.json");
    let profile = repo_path("examples/empty-account.yaml");
    let runs = [
        vec!["whoami"],
        vec!["inventory", "-o", "yaml"],
        vec![
            "diff",
            profile.to_str().unwrap(),
            "--out",
            plan_path.to_str().unwrap(),
            "-o",
            "json",
        ],
        vec![
            "apply",
            plan_path.to_str().unwrap(),
            "--auto-approve",
            "--account-id",
            &id,
        ],
        vec!["readiness"],
    ];
    for args in runs {
        let out = Run::new(&emu, &args).output().await;
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !text(bytes).contains(&secret),
                "the secret leaked on {stream} of {args:?}"
            );
        }
    }
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let body = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !body.contains(&secret),
            "the secret leaked into a written file"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_command_prints_the_committed_schema() {
    let out = Run::offline(&["schema"]).output().await;
    assert_eq!(code(&out), 0);
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_path("schemas/ramstate.schema.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(printed, committed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_transcripts_of_the_allowlist_plan_and_readiness() {
    let seed = repo_path("examples/demo-account.yaml");
    let seed = seed.to_str().unwrap();
    let allowlist = repo_path("examples/allowlist.yaml");
    let plan = Run::offline(&["diff", allowlist.to_str().unwrap(), "--sandbox", seed])
        .output()
        .await;
    assert_eq!(code(&plan), 0, "{}", text(&plan.stderr));
    insta::assert_snapshot!("sandbox_allowlist_plan", text(&plan.stdout));

    let ready = Run::offline(&["readiness", "--sandbox", seed])
        .output()
        .await;
    assert_eq!(code(&ready), 2, "{}", text(&ready.stderr));
    insta::assert_snapshot!("sandbox_demo_readiness", text(&ready.stdout));
}

/// The progress lines of an apply, in a stable order: steps finish in whatever order the
/// walk and the server allow, so they are sorted with their counters taken off.
fn steps_sorted(stderr: &str) -> String {
    let counter = regex::Regex::new(r"^\[\d+/\d+\] ").unwrap();
    let (steps, rest): (Vec<&str>, Vec<&str>) = stderr.lines().partition(|l| counter.is_match(l));
    let mut steps: Vec<String> = steps
        .iter()
        .map(|l| counter.replace(l, "").into_owned())
        .collect();
    steps.sort();
    // The backup goes under the run's own home, named by the time of the run.
    let backup =
        regex::Regex::new(r"(?m)^backup: .*/ramstate/backups/(\d+)/\d{8}T\d{6}Z\.yaml$").unwrap();
    let rest = rest.join("\n");
    let rest = backup.replace_all(
        &rest,
        "backup: [HOME]/.local/state/ramstate/backups/$1/[UTC TIME].yaml",
    );
    format!("{}\n--\n{}\n", steps.join("\n"), rest.trim())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandbox_transcript_of_emptying_the_demo_account() {
    let seed = repo_path("examples/demo-account.yaml");
    let profile = repo_path("examples/empty-account.yaml");
    let out = Run::offline(&[
        "apply",
        profile.to_str().unwrap(),
        "--sandbox",
        seed.to_str().unwrap(),
        "--auto-approve",
    ])
    .output()
    .await;
    // The in-use service-linked role cannot go: the apply says so and exits 1.
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let tail = &stdout[stdout.find("Plan: ").expect("a summary line")..];
    insta::assert_snapshot!("sandbox_empty_account_apply_result", tail);
    insta::assert_snapshot!(
        "sandbox_empty_account_apply_steps",
        steps_sorted(&text(&out.stderr))
    );
}
