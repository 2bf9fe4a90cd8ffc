//! How close fetch and apply come to the lower bound that API latency, concurrency and
//! rate limits set.
//!
//! `cargo bench --bench apply` generates an account, serves it from the emulator with a
//! fixed per-call latency and runs what `ramstate apply examples/empty-account.yaml` runs,
//! phase by phase: fetch, apply (the graph walk) and the verifying re-fetch. For each phase
//! it prints the calls made, the wall time and the lower bound
//!
//! ```text
//! max(calls × latency ÷ parallelism, calls ÷ qps, critical path × latency)
//! ```
//!
//! where the critical path is the longest chain of calls that must follow one another: for
//! a fetch, list pages then per-entity calls then per-key calls; for an apply, the longest
//! chain of steps in the apply graph (a service-linked role deletion counts with the
//! status polls the emulator needs before it settles). A second scenario caps the
//! emulator's rate (`Throttling.User` with a retry hint) above what the client is told,
//! so the client must back off and still complete.
//!
//! Under `cargo test` a small account runs once, as a smoke test.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use ramstate::api::{Client, ClientConfig, Credentials};
use ramstate::apply::executor::Silent;
use ramstate::apply::step::{ClientRunner, StepPolicy};
use ramstate::emulator::{self, Emulator, EmulatorConfig, Faults, GenerateParams, LogEntry};
use ramstate::graph::ApplyGraph;
use ramstate::model::{Inventory, is_service_linked_role_name};
use ramstate::plan::Op;

/// One way of running the pipeline.
struct Scenario {
    name: &'static str,
    latency_ms: u64,
    parallelism: usize,
    /// The client's own `--qps` (0: unlimited).
    client_qps: f64,
    /// The emulator's limit before it throttles (0: none).
    server_qps: f64,
    /// How steps wait (the smoke run polls deletion tasks quickly: it measures nothing).
    steps: StepPolicy,
}

impl Scenario {
    /// The rate no client can beat: the server's limit, or the client's own.
    fn qps(&self) -> f64 {
        [self.client_qps, self.server_qps]
            .into_iter()
            .filter(|q| *q > 0.0)
            .fold(f64::INFINITY, f64::min)
    }
}

/// One measured phase.
struct Phase {
    name: &'static str,
    /// Calls answered (throttled attempts not counted).
    calls: usize,
    /// Attempts answered with `Throttling.User`.
    throttled: usize,
    /// The longest chain of calls that must follow one another.
    chain: usize,
    wall: Duration,
    /// Calls in flight on average at the emulator (time spent in calls ÷ wall time).
    busy: f64,
    /// Calls per action.
    actions: BTreeMap<String, usize>,
}

impl Phase {
    fn measure(name: &'static str, log: &[LogEntry], chain: usize, wall: Duration) -> Phase {
        let throttled = log
            .iter()
            .filter(|e| e.code.as_deref() == Some("Throttling.User"))
            .count();
        let in_calls: u64 = log.iter().map(|e| e.finished_ms - e.started_ms).sum();
        let mut actions = BTreeMap::new();
        for e in log {
            *actions.entry(e.action.clone()).or_default() += 1;
        }
        Phase {
            name,
            calls: log.len() - throttled,
            throttled,
            chain,
            wall,
            busy: in_calls as f64 / (wall.as_secs_f64() * 1000.0).max(1.0),
            actions,
        }
    }

    /// The three bounds, in milliseconds: concurrency, rate, critical path.
    fn bounds(&self, s: &Scenario) -> [f64; 3] {
        let latency = s.latency_ms as f64;
        [
            self.calls as f64 * latency / s.parallelism as f64,
            self.calls as f64 / s.qps() * 1000.0,
            self.chain as f64 * latency,
        ]
    }
}

fn pages(n: usize, size: usize) -> usize {
    n.div_ceil(size).max(1)
}

/// The longest chain of dependent calls a fetch of `inv` needs, whatever the client:
/// list pages (users, with RAM's and IMS's lists side by side), then one call per entity,
/// then one per access key (its last use). Page sizes are the largest each list allows.
fn fetch_chain(inv: &Inventory) -> usize {
    let has_keys = inv.users.iter().any(|u| !u.access_keys.is_empty());
    let users = pages(inv.users.len(), 1000) + 1 + usize::from(has_keys);
    let groups = pages(inv.groups.len(), 100) + 1;
    let roles = pages(inv.roles.len(), 1000) + 1;
    let policies = pages(inv.policies.len(), 1000) + 1;
    // Binned keys are listed per user ID: after the users' and the bin's lists.
    let bin = pages(inv.users.len(), 1000).max(pages(inv.recycle_bin.users.len(), 100)) + 1;
    let saml = pages(inv.saml_providers.len(), 100) + 1;
    [users, groups, roles, policies, bin, saml]
        .into_iter()
        .max()
        .unwrap_or(1)
}

/// The longest chain of steps in the graph, each step weighted by the calls it makes
/// (`weight`).
fn apply_chain(graph: &ApplyGraph, weight: impl Fn(usize) -> usize) -> usize {
    let mut longest = vec![0usize; graph.len()];
    for &i in graph.topological_order() {
        let before = graph
            .dependencies(i)
            .into_iter()
            .map(|d| longest[d])
            .max()
            .unwrap_or(0);
        longest[i] = before + weight(i);
    }
    longest.into_iter().max().unwrap_or(0)
}

/// Status polls per deletion task, as the emulator's log shows them.
fn polls_per_task(log: &[LogEntry]) -> usize {
    let mut polls: BTreeMap<&str, usize> = BTreeMap::new();
    for e in log {
        if e.action == "GetServiceLinkedRoleDeletionStatus"
            && let Some(id) = e.params.get("DeletionTaskId")
        {
            *polls.entry(id).or_default() += 1;
        }
    }
    polls.into_values().max().unwrap_or(0)
}

struct Outcome {
    phases: Vec<Phase>,
    steps: usize,
    failed: usize,
    remaining: usize,
}

fn run_scenario(seed: &Inventory, s: &Scenario) -> Outcome {
    // The emulator gets its own runtime (its own thread), as it would be its own process.
    let server = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let emu: Emulator = server
        .block_on(emulator::start(EmulatorConfig {
            seed: seed.clone(),
            faults: Faults {
                latency: Duration::from_millis(s.latency_ms),
                qps_limit: s.server_qps,
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        }))
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outcome = runtime.block_on(pipeline(&emu, s));
    server.block_on(emu.shutdown());
    outcome
}

async fn pipeline(emu: &Emulator, s: &Scenario) -> Outcome {
    let key = emu.root_key().clone();
    let client = Client::new(
        ClientConfig {
            endpoint: Some(emu.url().to_string()),
            qps: s.client_qps,
            max_in_flight: s.parallelism,
            ..ClientConfig::default()
        },
        Credentials::from_key(key.id, key.secret, None),
    )
    .unwrap();
    let caller = client.caller().await.unwrap();
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/empty-account.yaml");
    let desired = ramstate::config::load(&profile).unwrap();
    let kinds = ramstate::plan::fetch_kinds(&desired.kinds());
    let mut phases = Vec::new();

    let mark = emu.log().len();
    let started = Instant::now();
    let inventory = ramstate::inventory::fetch(&client, &kinds, &ramstate::inventory::NoProgress)
        .await
        .unwrap();
    let wall = started.elapsed();
    phases.push(Phase::measure(
        "fetch",
        &emu.log()[mark..],
        fetch_chain(&inventory),
        wall,
    ));

    let plan = ramstate::plan::diff(&desired, &inventory, &caller);
    let graph = ramstate::graph::build(&plan).unwrap();
    // What `ramstate apply` runs, refusals of anything protected included.
    let options = ramstate::apply::Options {
        parallelism: s.parallelism,
        protection: ramstate::plan::protection(&inventory, &caller),
    };
    let runner = ClientRunner {
        client: &client,
        policy: s.steps.clone(),
        passwords: Default::default(),
    };
    let cancel = AtomicBool::new(false);
    let mark = emu.log().len();
    let started = Instant::now();
    let report = ramstate::apply::execute(&graph, &runner, &options, &cancel, &Silent).await;
    let wall = started.elapsed();
    let log = emu.log();
    let polls = polls_per_task(&log[mark..]);
    let chain = apply_chain(&graph, |i| {
        if graph.step(i).op.is_deletion_task() {
            1 + polls
        } else {
            1
        }
    });
    phases.push(Phase::measure("apply", &log[mark..], chain, wall));

    let mark = emu.log().len();
    let started = Instant::now();
    let after = ramstate::inventory::fetch(&client, &kinds, &ramstate::inventory::NoProgress)
        .await
        .unwrap();
    let wall = started.elapsed();
    phases.push(Phase::measure(
        "verify",
        &emu.log()[mark..],
        fetch_chain(&after),
        wall,
    ));
    let remaining = ramstate::plan::diff(&desired, &after, &caller);
    // Only service-linked roles still in use may stay: they are blockers, not slowness.
    assert!(
        remaining
            .changes
            .iter()
            .all(|c| matches!(&c.op, Op::DeleteServiceLinkedRole { name } if is_service_linked_role_name(name))),
        "the account did not converge: {:?}",
        remaining
            .changes
            .iter()
            .map(|c| &c.address)
            .collect::<Vec<_>>()
    );
    Outcome {
        phases,
        steps: graph.len(),
        failed: report.statuses.iter().filter(|s| !s.is_done()).count(),
        remaining: remaining.changes.len(),
    }
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (params, latency_ms) = if full {
        (
            GenerateParams {
                users: 400,
                groups: 40,
                roles: 120,
                policies: 150,
                seed: 7,
            },
            20,
        )
    } else {
        (
            GenerateParams {
                users: 20,
                groups: 4,
                roles: 6,
                policies: 8,
                seed: 7,
            },
            2,
        )
    };
    let mut seed = emulator::generate(&params);
    seed.account.id = "5123456789012345".into(); // the example profile pins this account
    let parallelism = 10;
    let steps = if full {
        StepPolicy::default()
    } else {
        StepPolicy {
            poll_interval: Duration::from_millis(10),
            poll_max_interval: Duration::from_millis(40),
            ..StepPolicy::default()
        }
    };
    let mut scenarios = vec![Scenario {
        name: "latency",
        latency_ms,
        parallelism,
        client_qps: 0.0,
        server_qps: 0.0,
        steps: steps.clone(),
    }];
    if full {
        // No injected latency: what a call costs the client, the loopback and the emulator.
        scenarios.push(Scenario {
            name: "overhead",
            latency_ms: 0,
            parallelism,
            client_qps: 0.0,
            server_qps: 0.0,
            steps: steps.clone(),
        });
        // Below what 10 calls in flight at 20 ms could reach (500/s): the limit binds.
        scenarios.push(Scenario {
            name: "throttled",
            latency_ms,
            parallelism,
            client_qps: 0.0,
            server_qps: 200.0,
            steps: steps.clone(),
        });
    }

    println!(
        "account: {} users, {} groups, {} roles, {} policies",
        params.users, params.groups, params.roles, params.policies
    );
    println!(
        "{:<10} {:<7} {:>6} {:>9} {:>6} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>6}",
        "scenario",
        "phase",
        "calls",
        "throttled",
        "chain",
        "busy",
        "wall ms",
        "c*l/p ms",
        "c/qps ms",
        "cp*l ms",
        "bound ms",
        "ratio"
    );
    // `cargo bench --bench apply -- throttled` runs only the scenarios named.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for s in scenarios
        .iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s.name))
    {
        let out = run_scenario(&seed, s);
        for p in &out.phases {
            let b = p.bounds(s);
            let bound = b.into_iter().fold(0.0, f64::max);
            let wall = p.wall.as_secs_f64() * 1000.0;
            let rate = if s.qps().is_finite() {
                format!("{:.0}", b[1])
            } else {
                "-".into()
            };
            println!(
                "{:<10} {:<7} {:>6} {:>9} {:>6} {:>5.1} {:>9.0} {:>9.0} {:>9} {:>9.0} {:>9.0} {:>6.2}",
                s.name,
                p.name,
                p.calls,
                p.throttled,
                p.chain,
                p.busy,
                wall,
                b[0],
                rate,
                b[2],
                bound,
                wall / bound.max(1.0)
            );
        }
        if std::env::var_os("RAMSTATE_BENCH_ACTIONS").is_some() {
            for p in &out.phases {
                let list: Vec<String> = p.actions.iter().map(|(a, n)| format!("{a} {n}")).collect();
                println!("{:<10} {:<7} {}", s.name, p.name, list.join(", "));
            }
        }
        println!(
            "{:<10} latency {} ms, parallelism {}, client qps {}, server qps {}: {} steps, {} not done, {} change(s) left (in-use service-linked roles)",
            s.name,
            s.latency_ms,
            s.parallelism,
            s.client_qps,
            s.server_qps,
            out.steps,
            out.failed,
            out.remaining
        );
    }
}
