//! How close fetch and apply come to the lower bound that API latency and concurrency set.
//!
//! `cargo bench --bench apply` empties a generated account served by the emulator with a fixed
//! per-call latency, and compares each phase's wall time with `calls × latency ÷ parallelism`
//! (no client can do better with that many calls in flight). Under `cargo test` it runs a small
//! account once, as a smoke test.

use std::time::{Duration, Instant};

use ramstate::cli::FaultArgs;
use ramstate::emulator::{self, EmulatorConfig, Faults, GenerateParams};

struct Phase {
    name: &'static str,
    calls: usize,
    wall: Duration,
}

fn run(url: &str, key: &ramstate::model::RootKey, args: &[&str]) -> Duration {
    let started = Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ramstate"))
        .args(args)
        .env("RAMSTATE_ENDPOINT", url)
        .env("ALIBABA_CLOUD_ACCESS_KEY_ID", &key.id)
        .env("ALIBABA_CLOUD_ACCESS_KEY_SECRET", &key.secret)
        .output()
        .expect("ramstate runs");
    let wall = started.elapsed();
    assert!(
        out.status.code() == Some(0) || out.status.code() == Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wall
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (params, latency_ms, parallelism) = if full {
        (
            GenerateParams { users: 400, groups: 40, roles: 120, policies: 150, seed: 7 },
            20,
            10,
        )
    } else {
        (GenerateParams { users: 20, groups: 4, roles: 6, policies: 8, seed: 7 }, 2, 10)
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut seed = emulator::generate(&params);
    seed.account.id = "5123456789012345".into(); // the examples pin this account
    let id = seed.account.id.clone();
    let emu = runtime
        .block_on(emulator::start(EmulatorConfig {
            seed,
            faults: Faults::from(&FaultArgs { latency_ms, ..FaultArgs::default() }),
            ..EmulatorConfig::default()
        }))
        .unwrap();
    let url = emu.url().to_string();
    let key = emu.root_key().clone();
    let par = parallelism.to_string();
    let profile = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/empty-account.yaml");

    let mut phases = Vec::new();
    let before = emu.log().len();
    let wall = run(&url, &key, &["inventory", "-o", "json", "--parallelism", &par, "--qps", "10000"]);
    phases.push(Phase { name: "fetch", calls: emu.log().len() - before, wall });

    let before = emu.log().len();
    let wall = run(
        &url,
        &key,
        &["apply", profile, "--auto-approve", "--account-id", &id, "--parallelism", &par, "--qps", "10000"],
    );
    phases.push(Phase { name: "fetch+apply+verify", calls: emu.log().len() - before, wall });

    println!(
        "account: {} users, {} groups, {} roles, {} policies; latency {latency_ms} ms; parallelism {parallelism}",
        params.users, params.groups, params.roles, params.policies
    );
    println!("{:<20} {:>7} {:>10} {:>12} {:>7}", "phase", "calls", "wall ms", "bound ms", "ratio");
    for p in &phases {
        let bound = p.calls as f64 * latency_ms as f64 / parallelism as f64;
        let wall = p.wall.as_secs_f64() * 1000.0;
        println!(
            "{:<20} {:>7} {:>10.0} {:>12.0} {:>7.2}",
            p.name,
            p.calls,
            wall,
            bound,
            wall / bound.max(1.0)
        );
    }
    runtime.block_on(emu.shutdown());
}
