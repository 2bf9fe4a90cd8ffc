//! Full commands with known secrets: not one byte of stdout, stderr or any written
//! file may contain a secret, on success or on failure.

mod support;

use std::path::Path;

use ramstate::api::sign;
use ramstate::emulator::{self, EmulatorConfig};
use ramstate::model::{EmulatorOptions, RootKey};
use serde_json::json;

const ROOT_ID: &str = "LTAIrootleaktest";
const ROOT_SECRET: &str = "ROOT-SECRET-c81f2a77e0";
const BOT_SECRET: &str = "BOT-SECRET-5d93b1f4aa";
const FAKE_TOKEN: &str = "CAIS-FAKE-TOKEN+/=7e2f";

fn forms(secret: &str) -> [String; 3] {
    [
        secret.to_string(),
        sign::percent_encode(secret),
        sign::percent_encode(&sign::percent_encode(secret)),
    ]
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for secret in [ROOT_SECRET, BOT_SECRET, FAKE_TOKEN] {
        for form in forms(secret) {
            assert!(
                !text.contains(&form),
                "`{form}` leaked into {what}:\n{text}"
            );
        }
    }
}

struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

async fn ramstate(home: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ramstate"));
    cmd.env_clear()
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["--qps", "500"])
        .args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.unwrap();
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: out.stderr,
    }
}

fn check_dir(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            check_dir(&path);
        } else if path.file_name().is_some_and(|n| n != "config.json") {
            assert_clean(&path.display().to_string(), &std::fs::read(&path).unwrap());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_command_output_or_written_file_contains_a_secret() {
    let mut seed = support::every_kind_seed();
    seed.emulator = Some(EmulatorOptions {
        root_access_key: Some(RootKey {
            id: ROOT_ID.into(),
            secret: ROOT_SECRET.into(),
        }),
        ..EmulatorOptions::default()
    });
    let bot = seed.users.iter_mut().find(|u| u.name == "ci-bot").unwrap();
    bot.access_keys[0].secret = Some(BOT_SECRET.into());
    let emu = emulator::start(EmulatorConfig::new(seed)).await.unwrap();
    let url = emu.url().to_string();

    let home = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let plan = out_dir.path().join("plan.json");
    // The repository's empty-account profile, pinned to this test's account.
    let profile = out_dir.path().join("empty-account.yaml");
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/empty-account.yaml"),
    )
    .unwrap();
    let pinned = regex::Regex::new(r#"account:\s*\{\s*id:\s*"\d+"\s*\}"#)
        .unwrap()
        .replace(&text, r#"account: { id: "1234567890123456" }"#)
        .to_string();
    assert_ne!(pinned, text, "the profile pins an account");
    std::fs::write(&profile, pinned).unwrap();
    let root_env = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ROOT_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ROOT_SECRET),
        ("RAMSTATE_ENDPOINT", url.as_str()),
    ];
    let mut runs = Vec::new();
    for args in [
        vec!["whoami"],
        vec!["inventory", "-o", "yaml"],
        vec!["inventory", "-o", "json"],
        vec!["inventory"],
        vec![
            "diff",
            profile.to_str().unwrap(),
            "-o",
            "json",
            "--out",
            plan.to_str().unwrap(),
        ],
        vec!["readiness"],
    ] {
        let run = ramstate(home.path(), &root_env, &args).await;
        assert_ne!(
            run.code,
            Some(1),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        runs.push((format!("{args:?}"), run));
    }
    let inventory = &runs[1].1.stdout;
    assert!(
        String::from_utf8_lossy(inventory).contains("ci-bot"),
        "the inventory was printed"
    );
    assert!(plan.exists(), "the plan was written");

    // A role session assumed from a profile of config.json.
    std::fs::create_dir_all(home.path().join(".aliyun")).unwrap();
    std::fs::write(
        home.path().join(".aliyun/config.json"),
        json!({"current": "default", "profiles": [{
            "name": "default", "mode": "RamRoleArn", "access_key_id": "LTAIbot",
            "access_key_secret": BOT_SECRET,
            "ram_role_arn": "acs:ram::1234567890123456:role/deployer"
        }]})
        .to_string(),
    )
    .unwrap();
    let profile_env = [("RAMSTATE_ENDPOINT", url.as_str())];
    for args in [vec!["whoami"], vec!["inventory", "-o", "yaml"]] {
        let run = ramstate(home.path(), &profile_env, &args).await;
        assert_eq!(
            run.code,
            Some(0),
            "{args:?} as a role session failed: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        runs.push((format!("role session {args:?}"), run));
    }
    std::fs::remove_file(home.path().join(".aliyun/config.json")).unwrap();

    // Failures: a wrong secret (the gateway echoes its string-to-sign, token included)
    // and a secret given as a flag.
    type Env<'a> = Vec<(&'a str, &'a str)>;
    let failures: [(&str, Env<'_>, Vec<&str>); 2] = [
        (
            "wrong secret with a token",
            vec![
                ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIbot"),
                ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ROOT_SECRET),
                ("ALIBABA_CLOUD_SECURITY_TOKEN", FAKE_TOKEN),
                ("RAMSTATE_ENDPOINT", url.as_str()),
            ],
            vec!["inventory", "-o", "yaml"],
        ),
        (
            "secret flag",
            vec![("RAMSTATE_ENDPOINT", url.as_str())],
            vec![
                "whoami",
                "--access-key-id",
                "LTAIbot",
                "--access-key-secret",
                ROOT_SECRET,
            ],
        ),
    ];
    for (what, env, args) in failures {
        let run = ramstate(home.path(), &env, &args).await;
        assert_eq!(run.code, Some(1), "{what} must fail");
        assert!(!run.stderr.is_empty(), "{what} explains itself");
        runs.push((what.to_string(), run));
    }

    for (what, run) in &runs {
        assert_clean(&format!("stdout of {what}"), &run.stdout);
        assert_clean(&format!("stderr of {what}"), &run.stderr);
    }
    check_dir(out_dir.path());
    check_dir(home.path());
}

/// Bad configuration ends the command with exit 1 and a message that names the problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_configuration_gets_a_clear_specific_error() {
    let home = tempfile::tempdir().unwrap();
    let aliyun = home.path().join(".aliyun");
    std::fs::create_dir_all(&aliyun).unwrap();
    let config = aliyun.join("config.json");
    let keys = [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", ROOT_ID),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", ROOT_SECRET),
    ];
    let expired = time::OffsetDateTime::now_utc().unix_timestamp() - 3600;
    type Case<'a> = (
        &'a str,
        Option<String>,
        Vec<(&'a str, &'a str)>,
        Vec<&'a str>,
        &'a str,
    );
    let cases: Vec<Case<'_>> = vec![
        (
            "non-loopback http endpoint",
            None,
            keys.to_vec(),
            vec!["whoami", "--endpoint", "http://203.0.113.7:8080/"],
            "non-loopback",
        ),
        (
            "malformed config.json",
            Some("{\"current\": \"default\", \"profiles\": [".into()),
            vec![],
            vec!["whoami"],
            "is not a valid aliyun CLI configuration",
        ),
        (
            "unknown mode",
            Some(
                json!({"current": "default", "profiles": [{"name": "default", "mode": "Telepathy"}]})
                    .to_string(),
            ),
            vec![],
            vec!["whoami"],
            "unknown mode `Telepathy`",
        ),
        (
            "expired STS token",
            Some(
                json!({"current": "default", "profiles": [{
                    "name": "default", "mode": "StsToken", "access_key_id": "STS.old",
                    "access_key_secret": BOT_SECRET, "sts_token": FAKE_TOKEN,
                    "sts_expiration": expired
                }]})
                .to_string(),
            ),
            vec![],
            vec!["whoami"],
            "expired at",
        ),
        (
            "missing profile",
            Some(
                json!({"current": "default", "profiles": [{"name": "default", "mode": "AK",
                    "access_key_id": "x", "access_key_secret": BOT_SECRET}]})
                .to_string(),
            ),
            vec![],
            vec!["whoami", "--profile", "prod"],
            "profile `prod` is not in",
        ),
        (
            "no credentials at all",
            None,
            vec![],
            vec!["whoami"],
            "no credentials found; tried:",
        ),
    ];
    for (what, file, env, args, expected) in cases {
        match file {
            Some(text) => std::fs::write(&config, text).unwrap(),
            None => {
                let _ = std::fs::remove_file(&config);
            }
        }
        let run = ramstate(home.path(), &env, &args).await;
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.code, Some(1), "{what}: {stderr}");
        // The report is wrapped to the terminal width: compare without layout.
        let squash = |t: &str| -> String {
            t.chars()
                .filter(|c| !c.is_whitespace() && *c != '|')
                .collect()
        };
        assert!(
            squash(&stderr).contains(&squash(expected)),
            "{what}: expected `{expected}` in:\n{stderr}"
        );
        assert_clean(&format!("stderr of {what}"), &run.stderr);
        assert_clean(&format!("stdout of {what}"), &run.stdout);
    }
}
