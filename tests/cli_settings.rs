//! Global options are checked before anything runs: a bad value is a clear error naming
//! the option, exit 1, no panic, no request sent and no host looked up.

mod support;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::time::{Duration, Instant};

use support::*;

/// Bad global options, each with what the error must name.
fn bad_options() -> Vec<(Vec<&'static str>, &'static str)> {
    vec![
        (vec!["--region", "cn-hangzhou "], "--region"),
        (vec!["--region", "cn/hangzhou"], "--region"),
        (vec!["--region", "cn#x"], "--region"),
        (vec!["--region", "evil.example/x"], "--region"),
        (vec!["--parallelism", "0"], "--parallelism"),
        (vec!["--parallelism", "257"], "--parallelism"),
        (
            vec!["--parallelism", "99999999999999999999"],
            "--parallelism",
        ),
        (vec!["--timeout", "0"], "--timeout"),
        (vec!["--qps", "-1"], "--qps"),
        (vec!["--qps", "NaN"], "--qps"),
    ]
}

/// The commands that would call the API with good options.
fn commands() -> Vec<Vec<String>> {
    let file = repo_path("examples/empty-account.yaml")
        .to_string_lossy()
        .into_owned();
    vec![
        vec!["whoami".into()],
        vec!["diff".into(), file.clone()],
        vec!["apply".into(), file, "--auto-approve".into()],
        vec!["inventory".into()],
    ]
}

fn assert_refused(out: &std::process::Output, option: &str, what: &str) {
    let err = text(&out.stderr);
    assert_eq!(code(out), 1, "{what}: stderr:\n{err}");
    assert!(
        err.contains(option),
        "{what}: stderr names {option}:\n{err}"
    );
    assert!(!err.contains("panicked"), "{what}: {err}");
    assert!(out.stdout.is_empty(), "{what}: {}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_global_options_are_refused_before_any_request() {
    let emu = start(demo_seed()).await;
    for (options, option) in bad_options() {
        for command in commands() {
            let mut args: Vec<&str> = command.iter().map(String::as_str).collect();
            args.extend(&options);
            let out = Run::new(&emu, &args).output().await;
            assert_refused(&out, option, &format!("{args:?}"));
        }
    }
    assert!(
        emu.log().is_empty(),
        "requests reached the server: {:?}",
        emu.log().iter().map(|e| &e.action).collect::<Vec<_>>()
    );
    // The same run with good options does reach it: the check above is not vacuous.
    let out = Run::new(&emu, &["whoami", "--region", "cn-hangzhou"])
        .output()
        .await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(!emu.log().is_empty());
    emu.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_region_from_the_environment_names_the_variable() {
    let emu = start(demo_seed()).await;
    for bad in ["cn-hangzhou ", "cn/hangzhou", "cn#x"] {
        let mut run = Run::new(&emu, &["whoami"]);
        run.env
            .insert("ALIBABA_CLOUD_REGION_ID".into(), bad.to_string());
        let out = run.output().await;
        assert_refused(&out, "ALIBABA_CLOUD_REGION_ID", bad);
    }
    // The flag wins over the variable.
    let mut run = Run::new(&emu, &["whoami", "--region", "cn-hangzhou"]);
    run.env
        .insert("ALIBABA_CLOUD_REGION_ID".into(), "cn#x".into());
    let out = run.output().await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    emu.shutdown().await;
}

/// A loopback listener standing in for an HTTPS proxy: without `--endpoint`, every
/// connection the client makes (and so every host it would look up) goes to it first.
fn proxy() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

/// The first line a client sent within `wait`, if any connected.
fn first_line(listener: &TcpListener, wait: Duration) -> Option<String> {
    let until = Instant::now() + wait;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false).unwrap();
                stream
                    .set_read_timeout(Some(Duration::from_secs(5)))
                    .unwrap();
                let mut line = String::new();
                BufReader::new(stream).read_line(&mut line).ok();
                return Some(line);
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if Instant::now() >= until {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("accept: {e}"),
        }
    }
}

fn real_account_env(proxy_url: &str, home: &std::path::Path) -> Vec<(String, String)> {
    [
        ("HTTPS_PROXY", proxy_url),
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI-not-a-real-key"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "not-a-real-secret"),
        ("HOME", home.to_str().unwrap()),
        ("NO_COLOR", "1"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

#[test]
fn a_bad_region_looks_up_no_host() {
    let (listener, url) = proxy();
    let home = tempfile::tempdir().unwrap();
    for (options, option) in bad_options() {
        let mut args = vec!["whoami"];
        args.extend(&options);
        let out = assert_cmd::Command::cargo_bin("ramstate")
            .unwrap()
            .args(&args)
            .env_clear()
            .envs(real_account_env(&url, home.path()))
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        assert_refused(&out, option, &format!("{args:?}"));
        assert_eq!(
            first_line(&listener, Duration::ZERO),
            None,
            "{args:?} connected"
        );
    }
    // With a good region the client does go through the proxy, to the regional STS host:
    // the check above is not vacuous.
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("ramstate"))
        .args(["whoami", "--region", "cn-hangzhou"])
        .env_clear()
        .envs(real_account_env(&url, home.path()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let line = first_line(&listener, Duration::from_secs(30));
    child.kill().ok();
    child.wait().ok();
    let line = line.expect("a good region reaches the proxy");
    assert!(
        line.starts_with("CONNECT sts.cn-hangzhou.aliyuncs.com:443"),
        "{line}"
    );
}

#[test]
fn help_states_the_ranges_and_what_qps_0_means() {
    let out = assert_cmd::Command::cargo_bin("ramstate")
        .unwrap()
        .arg("--help")
        .env_clear()
        .output()
        .unwrap();
    let help = text(&out.stdout);
    assert_eq!(code(&out), 0);
    for needle in [
        "0: no client-side limit",
        "1–256",
        "1–3600",
        "RAMSTATE_ENDPOINT",
        "ALIBABA_CLOUD_REGION_ID",
        "ALIBABA_CLOUD_PROFILE",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn only_the_settings_read_the_process_environment() {
    fn visit(dir: &std::path::Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("src/settings.rs")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if ["std::env::", "env::var", "home_dir()"]
                        .iter()
                        .any(|p| line.contains(p))
                    {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    visit(&repo_path("src"), &mut found);
    assert!(
        found.is_empty(),
        "read the environment outside settings:\n{}",
        found.join("\n")
    );
}
