//! Shell completions and the man page, as a user installs them: the bash script loads
//! and completes, the other shells' scripts are their shell's valid syntax where that
//! shell is installed, and the man page renders.

mod support;

use std::process::Command;

use support::text;

fn ramstate(args: &[&str]) -> String {
    let out = assert_cmd::Command::cargo_bin("ramstate")
        .unwrap()
        .args(args)
        .env_clear()
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    text(&out.stdout)
}

fn installed(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn bash(script: &str) -> std::process::Output {
    Command::new("bash")
        .args(["--noprofile", "--norc", "-c", script])
        .output()
        .unwrap()
}

#[test]
fn bash_completion_script_parses_and_registers_itself() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ramstate.bash");
    std::fs::write(&file, ramstate(&["completions", "bash"])).unwrap();

    let syntax = bash(&format!("bash -n {}", file.display()));
    assert!(syntax.status.success(), "{}", text(&syntax.stderr));

    let loaded = bash(&format!(
        "source {} && complete -p ramstate",
        file.display()
    ));
    assert!(loaded.status.success(), "{}", text(&loaded.stderr));
    assert!(loaded.stderr.is_empty(), "{}", text(&loaded.stderr));
    assert!(
        text(&loaded.stdout).contains("-F _ramstate")
            && text(&loaded.stdout).ends_with("ramstate\n"),
        "{}",
        text(&loaded.stdout)
    );
}

/// What bash offers after `ramstate WORDS CUR<TAB>`.
fn bash_complete(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let line = words.join(" ");
    let out = bash(&format!(
        "source {} && COMP_WORDS=({line}) && COMP_CWORD={} && COMP_LINE='{line}' && COMP_POINT=${{#COMP_LINE}} \
         && _ramstate ramstate '{}' '{}' && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    ));
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().map(str::to_string).collect()
}

#[test]
fn bash_completes_subcommands_flags_and_their_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ramstate.bash");
    std::fs::write(&file, ramstate(&["completions", "bash"])).unwrap();

    let subcommands = bash_complete(&file, &["ramstate", "''"]);
    for want in ["diff", "apply", "readiness", "completions", "man"] {
        assert!(subcommands.contains(&want.to_string()), "{subcommands:?}");
    }
    assert_eq!(bash_complete(&file, &["ramstate", "rea"]), ["readiness"]);
    let formats = bash_complete(&file, &["ramstate", "diff", "--output", "''"]);
    assert_eq!(formats, ["text", "json", "markdown"]);
    let shells = bash_complete(&file, &["ramstate", "completions", "''"]);
    assert!(shells.contains(&"zsh".to_string()), "{shells:?}");
}

#[test]
fn zsh_fish_and_powershell_scripts_are_generated_and_valid_where_their_shell_exists() {
    for (shell, checker, marker) in [
        ("zsh", Some(("zsh", "-n")), "#compdef ramstate"),
        (
            "fish",
            Some(("fish", "--no-execute")),
            "complete -c ramstate",
        ),
        ("powershell", None, "Register-ArgumentCompleter"),
    ] {
        let script = ramstate(&["completions", shell]);
        assert!(script.contains(marker), "{shell}: {marker} missing");
        assert!(
            script.contains("readiness"),
            "{shell} completes subcommands"
        );
        match checker {
            Some((program, flag)) if installed(program) => {
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join(format!("ramstate.{shell}"));
                std::fs::write(&file, &script).unwrap();
                let out = Command::new(program).arg(flag).arg(&file).output().unwrap();
                assert!(out.status.success(), "{shell}: {}", text(&out.stderr));
            }
            _ => eprintln!("{shell}: no {shell} installed, syntax not checked"),
        }
    }
}

#[test]
fn the_man_page_renders_with_name_synopsis_commands_and_exit_status() {
    let roff = ramstate(&["man"]);
    assert!(roff.contains(".TH ramstate 1"), "{roff}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS", ".SH VERSION"] {
        assert!(roff.contains(section), "{section} missing");
    }
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("ramstate.1");
    std::fs::write(&page, &roff).unwrap();
    if !installed("man") || !installed("nroff") {
        eprintln!("no man or nroff installed: the roff was checked, not rendered");
        return;
    }
    let out = Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Justified and hyphenated for the terminal: compare words, not spacing.
    let shown = text(&out.stdout)
        .replace("‐\n", "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for want in [
        "NAME",
        "ramstate - Keep an Alibaba Cloud account's RAM in a declared state",
        "SYNOPSIS",
        "ramstate-diff(1)",
        "ramstate-completions(1)",
        "Exit status:",
        "changes pending (diff --detailed-exitcode)",
    ] {
        assert!(shown.contains(want), "{want:?} not in\n{shown}");
    }
    assert!(
        !text(&out.stderr).contains("warning"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn man_dir_writes_one_page_per_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = assert_cmd::Command::cargo_bin("ramstate")
        .unwrap()
        .args(["man", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stdout.is_empty(),
        "pages go to files, the status to stderr"
    );
    for page in [
        "ramstate.1",
        "ramstate-diff.1",
        "ramstate-apply.1",
        "ramstate-emulator-serve.1",
    ] {
        let roff = std::fs::read_to_string(dir.path().join(page)).unwrap();
        assert!(roff.starts_with(".ie") || roff.contains(".TH"), "{page}");
    }
}

#[test]
fn a_reader_that_has_gone_ends_the_output_quietly_with_sigpipes_status() {
    // The pipe's reading end is closed before ramstate starts, so its first write fails
    // as it does under `ramstate man | head` once head has left.
    for args in [&["man"][..], &["schema"], &["completions", "bash"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(assert_cmd::cargo::cargo_bin("ramstate"))
            .args(args)
            .env_clear()
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(141), "ramstate {args:?}");
        assert!(
            out.stderr.is_empty(),
            "ramstate {args:?}: {}",
            text(&out.stderr)
        );
    }
}
