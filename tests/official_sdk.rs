//! Alibaba Cloud's own Python SDKs, unchanged, against `ramstate emulator serve`.
//!
//! Runs tests/sdk/conformance.py with the virtualenv tests/sdk/setup.sh creates in
//! the target directory (`<target>/sdk-venv`, or `$SDK_VENV`). Without that virtualenv
//! the test says it was skipped and passes: the SDKs come from the Python package index,
//! which a hermetic build may not reach.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The virtualenv setup.sh fills; `None` when it is missing or unfinished.
fn sdk_python() -> Option<PathBuf> {
    let venv = match std::env::var_os("SDK_VENV") {
        Some(v) => PathBuf::from(v),
        // The binary lives in <target>/debug/ramstate.
        None => Path::new(env!("CARGO_BIN_EXE_ramstate"))
            .parent()?
            .parent()?
            .join("sdk-venv"),
    };
    let python = venv.join("bin").join("python");
    (python.exists() && venv.join(".installed").exists()).then_some(python)
}

/// `N passed, M failed` from the script's last line.
fn tally(stdout: &str) -> Option<(usize, usize)> {
    let last = stdout.lines().rev().find(|l| !l.trim().is_empty())?;
    let (passed, failed) = last.split_once(" passed, ")?;
    let failed = failed.strip_suffix(" failed")?;
    Some((passed.trim().parse().ok()?, failed.trim().parse().ok()?))
}

#[test]
fn tally_reads_the_summary_line() {
    assert_eq!(tally("ok   a\n88 passed, 0 failed\n"), Some((88, 0)));
    assert_eq!(tally("FAIL a: x\n3 passed, 2 failed"), Some((3, 2)));
    assert_eq!(tally("Traceback (most recent call last):"), None);
}

#[test]
fn official_python_sdks_work_against_the_emulator() {
    let Some(python) = sdk_python() else {
        eprintln!(
            "skipped: no SDK virtualenv (run tests/sdk/setup.sh to create <target>/sdk-venv)"
        );
        return;
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut child = Command::new(&python)
        .arg(root.join("tests/sdk/conformance.py"))
        .arg("--ramstate")
        .arg(env!("CARGO_BIN_EXE_ramstate"))
        .arg("--seed")
        .arg(root.join("examples/demo-account.yaml"))
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).unwrap())
        .stderr(File::create(&err_path).unwrap())
        .spawn()
        .expect("the SDK virtualenv's python runs");
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
    assert!(passed >= 180, "only {passed} checks ran:\n{transcript}");
}
