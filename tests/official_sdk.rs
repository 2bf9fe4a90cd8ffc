//! Alibaba Cloud's own SDKs, unchanged, against `ramstate emulator serve`.
//!
//! Runs tests/sdk/conformance.py (the Python SDKs) and tests/sdk/conformance.js (the
//! TypeScript SDKs) with what tests/sdk/setup.sh installs in the target directory:
//! `<target>/sdk-venv` and `<target>/sdk-node` (or `$SDK_VENV`, `$SDK_NODE`). Without
//! an installation a test says it was skipped and passes (the SDKs come from package
//! indexes, which a hermetic build may not reach), except under CI: when
//! `RAMSTATE_REQUIRE_SDK` is set (`.ci/run` sets it after running setup.sh) or `CI` is,
//! a missing installation is a failure. A run fails too when fewer checks ran than its
//! script holds (zero included); each run says on stderr how many ran, uncaptured, so
//! the count shows in every CI log.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// `<target>`: the binary lives in `<target>/<profile>/ramstate`.
fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_ramstate"));
    bin.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Whether a missing SDK fails the test: under CI (`CI` set, as CI services set it) or
/// when `RAMSTATE_REQUIRE_SDK` asks for it. Empty, `0` and `false` count as unset.
fn sdk_required(require_sdk: Option<&str>, ci: Option<&str>) -> bool {
    let set = |v: Option<&str>| v.is_some_and(|v| !matches!(v.trim(), "" | "0" | "false"));
    set(require_sdk) || set(ci)
}

/// Says something on the test's stderr even when libtest captures output, so skips
/// and check counts show in CI logs.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// An installation setup.sh finished (it writes `.installed` last), or `None` after
/// saying the test is skipped; panics instead when an SDK is required (see
/// [`sdk_required`]).
fn installed(var: &str, default: &str, what: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join(default));
    if dir.join(".installed").exists() {
        return Some(dir);
    }
    let missing = format!(
        "no {what} at {} (tests/sdk/setup.sh installs them)",
        dir.display()
    );
    let env = |name: &str| std::env::var(name).ok();
    let required = sdk_required(env("RAMSTATE_REQUIRE_SDK").as_deref(), env("CI").as_deref());
    assert!(
        !required,
        "the SDK conformance test is required here (RAMSTATE_REQUIRE_SDK or CI is set) but there are {missing}"
    );
    say(&format!("official SDK conformance skipped: {missing}"));
    None
}

/// `N passed, M failed` from a script's last line.
fn tally(stdout: &str) -> Option<(usize, usize)> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let (passed, failed) = last.split_once(" passed, ")?;
    let failed = failed.strip_suffix(" failed")?;
    Some((passed.trim().parse().ok()?, failed.trim().parse().ok()?))
}

/// Runs a conformance script against the demo account; fails the test unless every
/// check passed and at least `min` ran, showing the script's whole transcript.
fn run_script(what: &str, mut cmd: Command, min: usize) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = cmd
        .arg("--ramstate")
        .arg(env!("CARGO_BIN_EXE_ramstate"))
        .arg("--seed")
        .arg(root.join("examples/demo-account.yaml"))
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("the SDK runtime starts");
    // A few seconds normally; the bound only keeps a hung run from hanging CI.
    let deadline = Instant::now() + Duration::from_secs(300);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    let transcript = format!("{stdout}\n{stderr}");
    let status = status.unwrap_or_else(|| panic!("no answer within 300 s:\n{transcript}"));
    let (passed, failed) = tally(&stdout)
        .unwrap_or_else(|| panic!("the script ended without its summary:\n{transcript}"));
    assert_eq!(failed, 0, "SDK conformance failures:\n{transcript}");
    assert!(status.success(), "{transcript}");
    // Every signing style runs its whole sequence: a short count means checks went missing.
    assert!(
        passed > 0 && passed >= min,
        "only {passed} checks ran (at least {min} expected):\n{transcript}"
    );
    say(&format!("{what}: {passed} checks ran, all passed"));
}

#[test]
fn tally_reads_the_summary_line() {
    assert_eq!(tally("ok   a\n88 passed, 0 failed\n"), Some((88, 0)));
    assert_eq!(tally("FAIL a: x\n3 passed, 2 failed"), Some((3, 2)));
    assert_eq!(tally("Traceback (most recent call last):"), None);
}

#[test]
fn an_sdk_is_required_under_ci_or_when_asked() {
    assert!(!sdk_required(None, None));
    assert!(!sdk_required(Some(""), Some("0")));
    assert!(!sdk_required(Some("0"), Some("false")));
    assert!(sdk_required(Some("1"), None));
    assert!(sdk_required(None, Some("true")));
    assert!(sdk_required(Some("0"), Some("1")));
}

#[test]
fn official_python_sdks_work_against_the_emulator() {
    let Some(venv) = installed("SDK_VENV", "sdk-venv", "Python SDKs") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(venv.join("bin").join("python"));
    cmd.arg(root.join("tests/sdk/conformance.py"))
        .env("PYTHONDONTWRITEBYTECODE", "1");
    run_script("official Python SDKs", cmd, 196);
}

#[test]
fn official_typescript_sdks_work_against_the_emulator() {
    let Some(node_dir) = installed("SDK_NODE", "sdk-node", "TypeScript SDKs") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new("node");
    cmd.arg(root.join("tests/sdk/conformance.js"))
        .env("NODE_PATH", node_dir.join("node_modules"));
    run_script("official TypeScript SDKs", cmd, 36);
}

/// What `apply` made of `examples/declared.yaml` in an empty account, read back with
/// Alibaba's own Python RAM SDK (tests/sdk/inventory.py): exactly what the file declares.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_sdk_sees_exactly_what_a_declared_file_made() {
    let Some(venv) = installed("SDK_VENV", "sdk-venv", "Python SDKs") else {
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf();
    let mut seed = ramstate::model::Inventory::default();
    seed.account.id = "5123456789012345".into();
    let emu = ramstate::emulator::start(ramstate::emulator::EmulatorConfig {
        seed,
        ..Default::default()
    })
    .await
    .unwrap();
    let key = emu.root_key().clone();
    let url = emu.url().to_string();
    let file = root.join("examples/declared.yaml");
    let (k, s, u, f) = (
        key.id.clone(),
        key.secret.clone(),
        url.clone(),
        file.clone(),
    );
    let apply = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_ramstate"))
            .args(["apply", f.to_str().unwrap(), "--auto-approve"])
            .env("RAMSTATE_ENDPOINT", &u)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &k)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &s)
            .env("ANA_INITIAL_PASSWORD", "Initial-Passw0rd-4-ana")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        apply.status.success(),
        "{}",
        String::from_utf8_lossy(&apply.stderr)
    );
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let script = root.join("tests/sdk/inventory.py");
    let read = tokio::task::spawn_blocking(move || {
        Command::new(venv.join("bin").join("python"))
            .arg(script)
            .args([
                "--endpoint",
                &host,
                "--key",
                &key.id,
                "--secret",
                &key.secret,
            ])
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        read.status.success(),
        "{}",
        String::from_utf8_lossy(&read.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&read.stdout).unwrap();

    let declared = ramstate::config::load(&file).unwrap().declared;
    let names = |v: &serde_json::Value| -> Vec<String> {
        let mut n: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        n.sort();
        n
    };
    let mut want_users: Vec<String> = declared.users.iter().map(|u| u.name.clone()).collect();
    want_users.sort();
    assert_eq!(names(&got["users"]), want_users);
    let sorted_refs = |refs: &Option<Vec<ramstate::config::Named<ramstate::model::PolicyRef>>>| {
        let mut v: Vec<String> = refs.iter().flatten().map(|p| p.value.to_string()).collect();
        v.sort();
        serde_json::json!(v)
    };
    for u in &declared.users {
        let g = &got["users"][&u.name];
        assert_eq!(
            g["display_name"].as_str(),
            u.display_name.as_deref(),
            "{}",
            u.name
        );
        let mut groups: Vec<&str> = u
            .groups
            .iter()
            .flatten()
            .map(|g| g.value.as_str())
            .collect();
        groups.sort();
        assert_eq!(g["groups"], serde_json::json!(groups), "{}", u.name);
        assert_eq!(g["policies"], sorted_refs(&u.policies), "{}", u.name);
    }
    let mut want_groups: Vec<String> = declared.groups.iter().map(|g| g.name.clone()).collect();
    want_groups.sort();
    assert_eq!(names(&got["groups"]), want_groups);
    for g in &declared.groups {
        assert_eq!(
            got["groups"][&g.name]["comments"].as_str(),
            g.comments.as_deref()
        );
        assert_eq!(got["groups"][&g.name]["policies"], sorted_refs(&g.policies));
    }
    assert_eq!(names(&got["roles"]), ["deployer"]);
    for r in &declared.roles {
        let g = &got["roles"][&r.name];
        assert_eq!(
            ramstate::config::normalise(&g["trust_policy"]),
            ramstate::config::normalise(&r.trust_policy)
        );
        assert_eq!(g["policies"], sorted_refs(&r.policies));
    }
    let mut want_policies: Vec<String> = declared.policies.iter().map(|p| p.name.clone()).collect();
    want_policies.sort();
    assert_eq!(names(&got["policies"]), want_policies);
    for p in &declared.policies {
        let g = &got["policies"][&p.name];
        assert_eq!(g["description"].as_str(), p.description.as_deref());
        assert_eq!(
            ramstate::config::normalise(&g["document"]),
            ramstate::config::normalise(&p.document)
        );
    }
    say(
        "official Python SDK: the declared example's users, groups, roles and policies read back as declared",
    );
}
