//! Output conventions through the real binary: results on stdout, status and progress on
//! stderr; colour in every text output with `--color always`, none with `never`, none in
//! a pipe, and under a terminal unless `NO_COLOR`; progress bars only on a terminal (run
//! under a pseudo-terminal with `script`); `--quiet` leaves results and errors only.

mod support;

use std::process::Command;
use std::time::Duration;

use ramstate::emulator::{self, Emulator, EmulatorConfig, Faults};
use support::*;

/// An SGR colour or bold sequence (not the cursor movements a progress bar makes).
fn coloured(s: &str) -> bool {
    ["\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m"]
        .iter()
        .any(|c| s.contains(c))
}

fn allowlist() -> String {
    repo_path("examples/allowlist.yaml").display().to_string()
}

/// The demo account, a little slow, so that a progress bar has time to draw.
async fn slow_demo() -> Emulator {
    emulator::start(EmulatorConfig {
        seed: demo_seed(),
        faults: Faults {
            latency: Duration::from_millis(5),
            ..Faults::default()
        },
        ..EmulatorConfig::default()
    })
    .await
    .unwrap()
}

/// Every command with a text result, as the caller `ci-bot` of the demo account.
fn text_commands() -> Vec<Vec<String>> {
    let file = allowlist();
    [
        vec!["diff", &file],
        vec!["readiness"],
        vec!["inventory"],
        vec!["explain", &file, "user.bob"],
        vec!["apply", &file, "--auto-approve"],
    ]
    .into_iter()
    // No client-side rate limit: the emulator answers at once.
    .map(|v| {
        v.into_iter()
            .chain(["--qps", "0"])
            .map(str::to_string)
            .collect()
    })
    .collect()
}

async fn run(emu: &Emulator, args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Run::new(emu, &args).output().await
}

#[tokio::test]
async fn color_always_colours_every_text_output_even_with_no_color_set() {
    for args in text_commands() {
        let emu = start(demo_seed()).await;
        let mut args = args;
        args.extend(["--color".into(), "always".into()]);
        // Run sets NO_COLOR=1: an explicit --color always still wins.
        let out = run(&emu, &args).await;
        assert!(code(&out) != 1, "{args:?}: {}", text(&out.stderr));
        assert!(coloured(&text(&out.stdout)), "{args:?} is not coloured");
    }
}

#[tokio::test]
async fn color_never_and_a_pipe_give_plain_text() {
    for args in text_commands() {
        for color in [None, Some("never")] {
            let emu = start(demo_seed()).await;
            let mut args = args.clone();
            if let Some(c) = color {
                args.extend(["--color".into(), c.into()]);
            }
            let mut run = Run::new(&emu, &args.iter().map(String::as_str).collect::<Vec<_>>());
            run.env.insert("NO_COLOR".into(), String::new()); // empty: not set, per no-color.org
            let out = run.output().await;
            for stream in [&out.stdout, &out.stderr] {
                assert!(
                    !text(stream).contains('\x1b'),
                    "{args:?}: {:?}",
                    text(stream)
                );
            }
        }
    }
}

#[tokio::test]
async fn apply_puts_the_plan_and_the_outcome_on_stdout_and_each_step_on_stderr() {
    let emu = start(demo_seed()).await;
    let out = Run::new(&emu, &["apply", &allowlist(), "--auto-approve"])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stdout.contains("Plan: 0 to add, 0 to change, 11 to destroy."),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("Apply complete. The account matches the desired state.\n"),
        "{stdout}"
    );
    assert!(!stdout.contains("[1/11]"), "{stdout}");
    assert_eq!(
        stderr.lines().filter(|l| l.contains("] done ")).count(),
        11,
        "{stderr}"
    );
    assert!(
        !stderr.contains("Plan:") && !stderr.contains("Apply complete"),
        "{stderr}"
    );
}

#[tokio::test]
async fn quiet_leaves_results_on_stdout_and_nothing_on_stderr() {
    let emu = start(demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("plan.json");
    let diff = Run::new(
        &emu,
        &[
            "diff",
            &allowlist(),
            "--out",
            saved.to_str().unwrap(),
            "--quiet",
        ],
    )
    .output()
    .await;
    assert_eq!(code(&diff), 0);
    assert!(text(&diff.stdout).contains("11 to destroy"));
    assert_eq!(text(&diff.stderr), "", "no 'Saved the plan' line");
    assert!(saved.exists());

    let apply = Run::new(&emu, &["apply", &allowlist(), "--auto-approve", "-q"])
        .output()
        .await;
    assert_eq!(code(&apply), 0, "{}", text(&apply.stderr));
    assert!(text(&apply.stdout).contains("Apply complete."));
    assert_eq!(text(&apply.stderr), "", "no step lines");

    // Errors are never quiet.
    let err = Run::new(&emu, &["diff", "/nonexistent.yaml", "--quiet"])
        .output()
        .await;
    assert_eq!(code(&err), 1);
    assert!(
        text(&err.stderr).contains("cannot read"),
        "{}",
        text(&err.stderr)
    );

    // Without --quiet, the same diff says where the plan went, on stderr.
    let diff = Run::new(
        &emu,
        &["diff", &allowlist(), "--out", saved.to_str().unwrap()],
    )
    .output()
    .await;
    assert!(text(&diff.stderr).starts_with("Saved the plan to "));
    assert!(!text(&diff.stdout).contains("Saved the plan"));
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs the binary under a pseudo-terminal (`script`), stdout and stderr both on it;
/// `None` where `script` is missing.
async fn under_terminal(emu: &Emulator, args: &[&str], env: &[(&str, &str)]) -> Option<String> {
    let have = Command::new("sh")
        .args(["-c", "command -v script"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        eprintln!("skipped: no `script` to make a pseudo-terminal");
        return None;
    }
    let bin = assert_cmd::cargo::cargo_bin("ramstate");
    let line = std::iter::once(bin.display().to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .map(|a| shell_quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let key = emu.root_key().clone();
    let url = emu.url().to_string();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let home = tempfile::tempdir().unwrap();
    let home_path = home.path().to_path_buf();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("script")
            .args(["-qec", &line, "/dev/null"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home_path)
            .env("TERM", "xterm-256color")
            .env("RAMSTATE_ENDPOINT", url)
            .env("ALIBABA_CLOUD_ACCESS_KEY_ID", key.id)
            .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", key.secret)
            .envs(env)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    drop(home);
    assert!(out.status.success(), "{}", text(&out.stdout));
    Some(text(&out.stdout))
}

#[tokio::test]
async fn on_a_terminal_auto_colours_unless_no_color_is_set() {
    let emu = start(demo_seed()).await;
    let file = allowlist();
    let Some(tty) = under_terminal(&emu, &["diff", &file, "--qps", "0"], &[]).await else {
        return;
    };
    assert!(coloured(&tty), "{tty:?}");
    let tty = under_terminal(&emu, &["diff", &file, "--qps", "0"], &[("NO_COLOR", "1")])
        .await
        .unwrap();
    assert!(!coloured(&tty), "{tty:?}");
    assert!(tty.contains("Plan: 0 to add, 0 to change, 11 to destroy."));
    let tty = under_terminal(&emu, &["inventory", "--color", "never"], &[])
        .await
        .unwrap();
    assert!(!coloured(&tty), "{tty:?}");
}

#[tokio::test]
async fn progress_bars_show_on_a_terminal_only_and_not_under_quiet() {
    let emu = slow_demo().await;
    let file = allowlist();
    let Some(tty) = under_terminal(&emu, &["apply", &file, "--auto-approve"], &[]).await else {
        return;
    };
    assert!(tty.contains("/11 steps"), "no apply bar: {tty:?}");
    assert!(
        tty.contains("fetching inventory:"),
        "no fetch spinner: {tty:?}"
    );
    assert!(tty.contains("Apply complete."), "{tty:?}");

    // Not a terminal: the same run draws nothing.
    let emu = slow_demo().await;
    let piped = Run::new(&emu, &["apply", &file, "--auto-approve"])
        .output()
        .await;
    assert_eq!(code(&piped), 0);
    let stderr = text(&piped.stderr);
    assert!(
        !stderr.contains("steps") && !stderr.contains("fetching"),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\r'),
        "{stderr:?}"
    );

    // --quiet on a terminal: no bar, no step lines.
    let emu = slow_demo().await;
    let tty = under_terminal(&emu, &["apply", &file, "--auto-approve", "--quiet"], &[])
        .await
        .unwrap();
    assert!(
        !tty.contains("/11 steps") && !tty.contains("fetching"),
        "{tty:?}"
    );
    assert!(!tty.contains("] done "), "{tty:?}");
    assert!(tty.contains("Apply complete."), "{tty:?}");
}
