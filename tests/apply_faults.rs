//! The fault campaign: random generated accounts, applied with an allowlist through
//! `apply::execute` (what `ramstate apply` runs) against an emulator that fails calls on
//! purpose. Every run must converge in one apply — the only steps left are the deletions
//! the seed makes impossible (a service-linked role still in use), each named — and the
//! request log must show no mutating call that names only kept addresses.
//!
//! Faults per call: 5% server errors (`ServiceUnavailable` / `InternalError`), 1% dropped
//! connections (half after the call took effect), a server rate limit that answers
//! `Throttling.User` (the client has no limit of its own and must learn the server's),
//! and reads that see writes only after a delay (eventual consistency).
//!
//! CI runs a few small accounts with a 1 s consistency delay. `RAMSTATE_FAULT_CASES=N`
//! runs N cases, `RAMSTATE_FAULT_SCALE=K` multiplies the account sizes by K.
//! The figures are printed on stderr (`cargo test --test apply_faults -- --nocapture`).

mod support;

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use ramstate::api::{Client, ClientConfig, Credentials, RetryPolicy};
use ramstate::apply::executor::{Silent, StepStatus};
use ramstate::apply::step::{ClientRunner, StepPolicy};
use ramstate::emulator::{self, EmulatorConfig, Faults, GenerateParams, LogEntry};
use ramstate::model::Inventory;
use ramstate::plan::Op;
use support::*;

/// The teams the generator names entities after (`{team}-user-00001`, …).
const TEAMS: &[&str] = &["platform", "data", "web", "mobile", "sre"];

/// One case of the campaign.
#[derive(Debug, Clone)]
struct Case {
    account: GenerateParams,
    /// What the allowlist keeps: every user, group, role and policy of this team.
    team: &'static str,
    fault_seed: u64,
    parallelism: usize,
}

fn scale() -> usize {
    std::env::var("RAMSTATE_FAULT_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .max(1)
}

fn case() -> impl Strategy<Value = Case> {
    let k = scale();
    (
        1..=8 * k,
        1..=3 * k,
        // The first 8 roles are service-linked (half of them in use).
        0..=12 * k,
        0..=6 * k,
        any::<u64>(),
        prop::sample::select(TEAMS),
        any::<u64>(),
        prop::sample::select(&[4usize, 10][..]),
    )
        .prop_map(
            |(users, groups, roles, policies, seed, team, fault_seed, parallelism)| Case {
                account: GenerateParams {
                    users,
                    groups,
                    roles,
                    policies,
                    seed,
                },
                team,
                fault_seed,
                parallelism,
            },
        )
}

fn desired_text(account_id: &str, team: &str) -> String {
    format!(
        "version: 1\naccount: {{ id: \"{account_id}\" }}\n\
         manage: [users, groups, roles, policies, virtual_mfa_devices, service_linked_roles]\n\
         keep:\n  users: [{{ glob: \"{team}-*\" }}]\n  groups: [{{ glob: \"{team}-*\" }}]\n\
         \x20 roles: [{{ glob: \"{team}-*\" }}]\n  policies: [{{ glob: \"{team}-*\" }}]\n"
    )
}

/// What the campaign injected and saw, over every case.
#[derive(Debug, Default)]
struct Figures {
    runs: usize,
    converged: usize,
    calls: usize,
    server_errors: usize,
    throttled: usize,
    dropped: usize,
    steps: usize,
    blocked: Vec<String>,
    seeds: Vec<u64>,
}

static FIGURES: Mutex<Figures> = Mutex::new(Figures {
    runs: 0,
    converged: 0,
    calls: 0,
    server_errors: 0,
    throttled: 0,
    dropped: 0,
    steps: 0,
    blocked: Vec::new(),
    seeds: Vec::new(),
});

fn count(log: &[LogEntry], codes: &[&str]) -> usize {
    log.iter()
        .filter(|e| e.code.as_deref().is_some_and(|c| codes.contains(&c)))
        .count()
}

const CONSISTENCY: Duration = Duration::from_secs(1);

/// One apply of `case` under faults; `Err` describes what went wrong.
async fn run_case(case: &Case) -> Result<(), TestCaseError> {
    let mut seed: Inventory = emulator::generate(&case.account);
    // The service-linked role deletions settle after two polls.
    if let Some(e) = seed.emulator.as_mut() {
        e.deletion_polls = Some(2);
    }
    let account_id = seed.account.id.clone();
    let emu = emulator::start(EmulatorConfig::new(seed.clone()))
        .await
        .expect("emulator starts");
    let key = emu.root_key().clone();
    let client = Client::new(
        ClientConfig {
            endpoint: Some(emu.url().to_string()),
            qps: 0.0,
            max_in_flight: case.parallelism,
            timeout: Duration::from_secs(10),
            retry: RetryPolicy {
                max_attempts: 8,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(400),
                deadline: Duration::from_secs(60),
            },
            ..ClientConfig::default()
        },
        Credentials::from_key(key.id, key.secret, None),
    )
    .expect("client");
    let caller = client.caller().await.expect("caller");
    let desired = ramstate::config::parse(&desired_text(&account_id, case.team), "campaign.yaml")
        .expect("the campaign's desired state parses");
    let kinds = ramstate::plan::fetch_kinds(&desired.kinds());

    // Faults from here on: the fetch, the apply and the verification all see them.
    emu.set_faults(Faults {
        latency: Duration::from_millis(2),
        jitter: Duration::from_millis(3),
        qps_limit: 100.0,
        error_rate: 0.05,
        drop_rate: 0.01,
        consistency_delay: CONSISTENCY,
        seed: case.fault_seed,
        ..Faults::default()
    });
    let inventory = ramstate::inventory::fetch(&client, &kinds, &ramstate::inventory::NoProgress)
        .await
        .map_err(|e| TestCaseError::fail(format!("fetch failed under faults: {e}")))?;
    let plan = ramstate::plan::diff(&desired, &inventory, &caller);
    let kept: Vec<String> = plan.kept.iter().map(|k| k.address.to_string()).collect();
    let graph = ramstate::graph::build(&plan).expect("acyclic");
    let options = ramstate::apply::Options {
        parallelism: case.parallelism,
        protection: ramstate::plan::protection(&inventory, &caller),
    };
    let runner = ClientRunner {
        client: &client,
        policy: StepPolicy {
            conflict_backoff: Duration::from_millis(50),
            poll_interval: Duration::from_millis(10),
            poll_max_interval: Duration::from_millis(40),
            poll_deadline: Duration::from_secs(30),
            ..StepPolicy::default()
        },
        passwords: Default::default(),
    };
    let report =
        ramstate::apply::execute(&graph, &runner, &options, &AtomicBool::new(false), &Silent).await;

    // A role the seed says is in use cannot go: its task fails, naming the resources.
    let in_use: BTreeSet<&str> = seed
        .roles
        .iter()
        .filter(|r| r.is_service_linked() && !r.usages.is_empty())
        .map(|r| r.name.as_str())
        .collect();
    let impossible = |op: &Op| matches!(op, Op::DeleteServiceLinkedRole { name } if in_use.contains(name.as_str()));
    for (i, status) in report.statuses.iter().enumerate() {
        let step = graph.step(i);
        match status {
            s if s.is_done() => {}
            StepStatus::Failed { error } if impossible(&step.op) => {
                prop_assert!(error.contains("in use"), "{}: {error}", step.address);
            }
            other => {
                return Err(TestCaseError::fail(format!(
                    "{} ended {other:?} under faults",
                    step.address
                )));
            }
        }
    }

    // Reads lag behind writes: verify once they have caught up.
    tokio::time::sleep(CONSISTENCY + Duration::from_millis(100)).await;
    let after = ramstate::inventory::fetch(&client, &kinds, &ramstate::inventory::NoProgress)
        .await
        .map_err(|e| TestCaseError::fail(format!("verify failed under faults: {e}")))?;
    let remaining = ramstate::plan::diff(&desired, &after, &caller);
    let mut blocked = Vec::new();
    for c in &remaining.changes {
        prop_assert!(
            impossible(&c.op),
            "{} is left after one apply ({:?})",
            c.address,
            c.op
        );
        blocked.push(c.address.to_string());
    }

    let log = emu.log();
    emu.shutdown().await;
    assert_kept_untouched(&log, &kept);
    assert_unblocking_precedes_deletion(&log);
    // Nothing kept is lost: every kept address is still in the account.
    let survivors: BTreeSet<String> = after
        .users
        .iter()
        .map(|u| format!("user.{}", u.name))
        .chain(after.groups.iter().map(|g| format!("group.{}", g.name)))
        .chain(after.roles.iter().map(|r| format!("role.{}", r.name)))
        .chain(after.policies.iter().map(|p| format!("policy.{}", p.name)))
        .collect();
    for k in kept
        .iter()
        .filter(|k| !k.starts_with("virtual_mfa_device."))
    {
        prop_assert!(survivors.contains(k), "kept {k} is gone");
    }

    let mut f = FIGURES.lock().unwrap();
    f.runs += 1;
    f.converged += 1;
    f.calls += log.len();
    f.server_errors += count(&log, &["ServiceUnavailable", "InternalError"]);
    f.throttled += count(&log, &["Throttling.User"]);
    f.dropped += count(&log, &["ConnectionDropped"]);
    f.steps += graph.len();
    f.seeds.push(case.account.seed);
    eprintln!(
        "fault campaign: {} users {} groups {} roles {} policies (seed {}, faults {}), P={}: {} steps, {} calls, {} server errors, {} throttled, {} dropped; converged, blocked: {:?}",
        case.account.users,
        case.account.groups,
        case.account.roles,
        case.account.policies,
        case.account.seed,
        case.fault_seed,
        case.parallelism,
        graph.len(),
        log.len(),
        count(&log, &["ServiceUnavailable", "InternalError"]),
        count(&log, &["Throttling.User"]),
        count(&log, &["ConnectionDropped"]),
        blocked
    );
    f.blocked.extend(blocked);
    Ok(())
}

#[test]
fn every_generated_account_converges_in_one_apply_under_faults_and_keeps_what_it_keeps() {
    let cases = std::env::var("RAMSTATE_FAULT_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(Config {
        cases,
        // Each case is a whole apply: shrink a little, not for minutes.
        max_shrink_iters: 16,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&case(), |c| rt.block_on(run_case(&c)));
    let f = FIGURES.lock().unwrap();
    eprintln!(
        "fault campaign summary: {} runs, {} converged in one apply, {} steps, {} calls, faults injected: {} server errors, {} throttled, {} dropped connections, reads {} ms behind writes; account seeds {:?}; left as impossible: {} ({:?})",
        f.runs,
        f.converged,
        f.steps,
        f.calls,
        f.server_errors,
        f.throttled,
        f.dropped,
        CONSISTENCY.as_millis(),
        f.seeds,
        f.blocked.len(),
        f.blocked
    );
    if let Err(e) = result {
        panic!("{e}");
    }
    assert!(
        f.server_errors + f.dropped + f.throttled > 0,
        "no fault was injected"
    );
}
