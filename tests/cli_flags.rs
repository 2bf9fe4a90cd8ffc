//! Flags that say what they do: `--sandbox` refuses an endpoint it would override,
//! `--access-key-secret` warns that it shows in the process list, `emulator generate -o
//! text` is text, and help says which commands read the account options.

mod support;

use support::*;

fn path(rel: &str) -> String {
    repo_path(rel).display().to_string()
}

#[tokio::test]
async fn sandbox_with_an_endpoint_flag_or_variable_is_refused() {
    let (file, seed) = (
        path("examples/allowlist.yaml"),
        path("examples/demo-account.yaml"),
    );
    let flag = Run::offline(&[
        "diff",
        &file,
        "--sandbox",
        &seed,
        "--endpoint",
        "http://127.0.0.1:9/",
    ])
    .output()
    .await;
    let mut env = Run::offline(&["diff", &file, "--sandbox", &seed]);
    env.env
        .insert("RAMSTATE_ENDPOINT".into(), "http://127.0.0.1:9/".into());
    let env = env.output().await;
    let (flag_err, env_err) = (flag.stderr.clone(), env.stderr.clone());
    for out in [flag, env] {
        assert_eq!(code(&out), 1);
        assert!(out.stdout.is_empty());
        let err = text(&out.stderr);
        assert!(err.contains("--sandbox cannot be used with "), "{err}");
    }
    assert!(
        text(&flag_err).contains("with --endpoint"),
        "{}",
        text(&flag_err)
    );
    assert!(
        text(&env_err).contains("with RAMSTATE_ENDPOINT"),
        "{}",
        text(&env_err)
    );
}

#[tokio::test]
async fn access_key_secret_on_the_command_line_warns_and_still_works() {
    let emu = start(demo_seed()).await;
    let key = emu.root_key().clone();
    let mut run = Run::offline(&[
        "whoami",
        "--access-key-id",
        &key.id,
        "--access-key-secret",
        &key.secret,
    ]);
    run.env
        .insert("RAMSTATE_ENDPOINT".into(), emu.url().to_string());
    let out = run.output().await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("account:  5123456789012345\n"));
    let err = text(&out.stderr);
    assert!(
        err.contains("warning: --access-key-secret is visible to other users in the process list; set ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        "{err}"
    );
    assert!(
        !err.contains(&key.secret),
        "the warning never repeats the secret"
    );

    // From the environment: no warning.
    let out = Run::new(&emu, &["whoami"]).output().await;
    assert_eq!(code(&out), 0);
    assert_eq!(text(&out.stderr), "");
}

#[tokio::test]
async fn emulator_generate_text_is_readable_and_yaml_is_a_seed() {
    let args = [
        "emulator",
        "generate",
        "--users",
        "3",
        "--groups",
        "1",
        "--roles",
        "1",
        "--policies",
        "1",
    ];
    let mut t = args.to_vec();
    t.extend(["-o", "text"]);
    let out = Run::offline(&t).output().await;
    assert_eq!(code(&out), 0);
    let shown = text(&out.stdout);
    assert!(shown.starts_with("Account "), "{shown}");
    assert!(shown.contains("\nUsers (3):\n"), "{shown}");
    assert!(
        ramstate::emulator::parse_seed(&shown).is_err(),
        "text is not a seed"
    );

    let out = Run::offline(&args).output().await;
    let seed = ramstate::emulator::parse_seed(&text(&out.stdout)).unwrap();
    assert_eq!(seed.users.len(), 3);
}

#[tokio::test]
async fn help_says_which_commands_read_the_account_options() {
    for cmd in ["validate", "diff", "emulator"] {
        let out = Run::offline(&[cmd, "--help"]).output().await;
        assert_eq!(code(&out), 0);
        let help = text(&out.stdout);
        assert!(
            help.contains(
                "Account options (diff, apply, restore, explain, graph, inventory, readiness, recycle-bin, whoami):"
            ),
            "{cmd}: {help}"
        );
        assert!(help.contains("Output options:"), "{cmd}: {help}");
    }
}
