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
//! so the client must back off and still complete. A third (`faults`) is the fault
//! campaign of `tests/apply_faults.rs` at the bench's sizes: 5% server errors, 1% dropped
//! connections, 1 s eventual consistency; the walk must converge in one apply.
//!
//! The emulator runs as its own process (`ramstate emulator serve`, as a user would run
//! it), so the bench process holds only what `ramstate apply` holds, and its peak RSS per
//! phase is the client's. Each phase also prints the CPU time the bench process spent.
//!
//! Sizes: `medium` (400 users, 40 groups, 120 roles, 150 policies; the default) and `quota`
//! (5,000 users, 300 groups, 1,000 roles, 1,500 policies: RAM's quotas). Parallelism 10 and
//! 32. `cargo bench --bench apply -- quota p32` runs only what is named.
//!
//! Under `cargo test` a tiny account runs once, as a smoke test (no timing is asserted).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use ramstate::api::{Client, ClientConfig, Credentials};
use ramstate::apply::executor::Silent;
use ramstate::apply::step::{ClientRunner, StepPolicy};
use ramstate::emulator::{self, GenerateParams};
use ramstate::graph::ApplyGraph;
use ramstate::model::{Inventory, is_service_linked_role_name};
use ramstate::plan::Op;
use serde::Deserialize;

/// One line of the emulator's request log (the fields the bench reads).
#[derive(Debug, Deserialize)]
struct LogEntry {
    action: String,
    #[serde(default)]
    params: BTreeMap<String, String>,
    code: Option<String>,
    #[serde(default)]
    status: u16,
    started_ms: u64,
    finished_ms: u64,
}

/// Peak and CPU figures of this process, from `/proc/self`.
mod process {
    /// Resets the peak resident set size to the current one (Linux: `clear_refs` 5).
    pub fn reset_peak() {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }

    /// Peak resident set size since the last reset, in MiB.
    pub fn peak_mib() -> f64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// User + system CPU time of the process so far, in milliseconds.
    pub fn cpu_ms() -> f64 {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name (which may hold spaces) start at `) `.
        let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split(' ').collect();
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        // utime and stime are fields 14 and 15 (1-based), 11 and 12 here; 100 ticks/s.
        (ticks(11) + ticks(12)) * 10.0
    }
}

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
    /// Injected failures (the fault campaign); none in the other scenarios.
    faults: FaultRates,
}

/// The fault campaign's failures, as `ramstate emulator serve` takes them.
#[derive(Clone, Copy, Default)]
struct FaultRates {
    /// `ServiceUnavailable` / `InternalError` answers.
    error_rate: f64,
    /// Connections closed unanswered (half of them after the call took effect).
    drop_rate: f64,
    /// Reads see writes only this long after them.
    consistency_ms: u64,
}

/// An account size.
struct Size {
    name: &'static str,
    params: GenerateParams,
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
    /// Attempts failed on purpose (server errors, dropped connections).
    faulted: usize,
    /// The longest chain of calls that must follow one another.
    chain: usize,
    wall: Duration,
    /// Calls in flight on average at the emulator (time spent in calls ÷ wall time).
    busy: f64,
    /// Calls per action.
    actions: BTreeMap<String, usize>,
    /// Peak RSS of the bench process during the phase (MiB).
    peak_mib: f64,
    /// CPU time of the bench process during the phase (ms).
    cpu_ms: f64,
}

/// What the emulator's log says of a phase's calls, read line by line (the bench must not
/// hold the log: its own memory would count as the client's).
#[derive(Default)]
struct Calls {
    answered: usize,
    throttled: usize,
    /// Answers the emulator failed on purpose (server errors, dropped connections).
    faulted: usize,
    in_calls_ms: u64,
    actions: BTreeMap<String, usize>,
    /// Status polls per deletion task.
    polls: BTreeMap<String, usize>,
}

impl Calls {
    fn add(&mut self, e: LogEntry) {
        if e.code.as_deref() == Some("Throttling.User") {
            self.throttled += 1;
        } else {
            self.answered += 1;
        }
        if e.status == 0 || e.status >= 500 {
            self.faulted += 1;
        }
        self.in_calls_ms += e.finished_ms - e.started_ms;
        *self.actions.entry(e.action.clone()).or_default() += 1;
        if e.action == "GetServiceLinkedRoleDeletionStatus"
            && let Some(id) = e.params.get("DeletionTaskId")
        {
            *self.polls.entry(id.clone()).or_default() += 1;
        }
    }

    /// Status polls per deletion task (the most any task needed).
    fn polls_per_task(&self) -> usize {
        self.polls.values().copied().max().unwrap_or(0)
    }
}

impl Phase {
    fn measure(
        name: &'static str,
        calls: &Calls,
        chain: usize,
        wall: Duration,
        (peak_mib, cpu_ms): (f64, f64),
    ) -> Phase {
        Phase {
            name,
            calls: calls.answered,
            throttled: calls.throttled,
            faulted: calls.faulted,
            chain,
            wall,
            busy: calls.in_calls_ms as f64 / (wall.as_secs_f64() * 1000.0).max(1.0),
            actions: calls.actions.clone(),
            peak_mib,
            cpu_ms,
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

/// The emulator, served by `ramstate emulator serve` in a process of its own.
struct Served {
    child: Child,
    url: String,
    log: PathBuf,
    /// Bytes of the log already read.
    read: u64,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(seed: &Inventory, s: &Scenario) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let seed_file = dir.path().join("seed.json");
        std::fs::write(&seed_file, serde_json::to_string(seed).unwrap()).unwrap();
        let log = dir.path().join("requests.jsonl");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ramstate"))
            .args(["emulator", "serve", "--seed"])
            .arg(&seed_file)
            .arg("--log")
            .arg(&log)
            .args(["--latency-ms", &s.latency_ms.to_string()])
            .args(["--qps-limit", &s.server_qps.to_string()])
            .args(["--error-rate", &s.faults.error_rate.to_string()])
            .args(["--drop-rate", &s.faults.drop_rate.to_string()])
            .args([
                "--consistency-delay-ms",
                &s.faults.consistency_ms.to_string(),
            ])
            .args(["--fault-seed", "7"])
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("ramstate emulator serve starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        Served {
            child,
            url: first.trim().to_string(),
            log,
            read: 0,
            _dir: dir,
        }
    }

    /// The calls logged since the last time.
    fn new_calls(&mut self) -> Calls {
        let mut f = std::fs::File::open(&self.log).unwrap();
        f.seek(SeekFrom::Start(self.read)).unwrap();
        let mut calls = Calls::default();
        let mut line = String::new();
        let mut reader = BufReader::new(f);
        loop {
            line.clear();
            let n = reader.read_line(&mut line).unwrap();
            // Only whole lines.
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            self.read += n as u64;
            calls.add(serde_json::from_str(&line).unwrap());
        }
        calls
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Outcome {
    phases: Vec<Phase>,
    steps: usize,
    failed: usize,
    remaining: usize,
    /// The calls the account's shape requires of an apply (see [`required_apply_calls`]).
    required: usize,
}

/// The fewest calls that empty `inv`: one per attachment (detach), membership (removal),
/// access key, login profile, MFA binding and entity, two per service-linked role (the
/// deletion and at least one status poll). Nothing bulk exists in the API for any of them.
fn required_apply_calls(inv: &Inventory) -> usize {
    let users: usize = inv
        .users
        .iter()
        .map(|u| {
            u.policies.len()
                + u.groups.len()
                + u.access_keys.len()
                + usize::from(u.login_profile.is_some())
                + usize::from(u.mfa_device.is_some())
                + 1
        })
        .sum();
    let groups: usize = inv.groups.iter().map(|g| g.policies.len() + 1).sum();
    let roles: usize = inv
        .roles
        .iter()
        .map(|r| {
            if r.is_service_linked() {
                2
            } else {
                r.policies.len() + 1
            }
        })
        .sum();
    users + groups + roles + inv.policies.len() + inv.virtual_mfa_devices.len()
}

fn snapshot() -> (f64, f64) {
    (process::peak_mib(), process::cpu_ms())
}

fn since(start: (f64, f64)) -> (f64, f64) {
    (process::peak_mib(), process::cpu_ms() - start.1)
}

fn run_scenario(seed: &Inventory, s: &Scenario) -> Outcome {
    let mut served = Served::start(seed, s);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(pipeline(&mut served, s, required_apply_calls(seed)))
}

async fn pipeline(emu: &mut Served, s: &Scenario, required: usize) -> Outcome {
    let key = emu_root_key();
    let client = Client::new(
        ClientConfig {
            endpoint: Some(emu.url.clone()),
            qps: s.client_qps,
            max_in_flight: s.parallelism,
            ..ClientConfig::default()
        },
        Credentials::from_key(key.0, key.1, None),
    )
    .unwrap();
    let caller = client.caller().await.unwrap();
    let profile = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/empty-account.yaml");
    let desired = ramstate::config::load(&profile).unwrap();
    let kinds = ramstate::plan::fetch_kinds(&desired.kinds());
    let mut phases = Vec::new();
    emu.new_calls();

    process::reset_peak();
    let start = snapshot();
    let started = Instant::now();
    let inventory = ramstate::inventory::fetch(&client, &kinds, &ramstate::inventory::NoProgress)
        .await
        .unwrap();
    let wall = started.elapsed();
    let figures = since(start);
    phases.push(Phase::measure(
        "fetch",
        &emu.new_calls(),
        fetch_chain(&inventory),
        wall,
        figures,
    ));

    process::reset_peak();
    let start = snapshot();
    let started = Instant::now();
    let plan = ramstate::plan::diff(&desired, &inventory, &caller);
    let wall = started.elapsed();
    phases.push(Phase::measure(
        "plan",
        &Calls::default(),
        0,
        wall,
        since(start),
    ));

    process::reset_peak();
    let start = snapshot();
    let started = Instant::now();
    let graph = ramstate::graph::build_from(plan).unwrap();
    let wall = started.elapsed();
    phases.push(Phase::measure(
        "graph",
        &Calls::default(),
        0,
        wall,
        since(start),
    ));

    // What `ramstate apply` runs, refusals of anything protected included; like it, the
    // inventory is let go before the walk.
    let options = ramstate::apply::Options {
        parallelism: s.parallelism,
        protection: ramstate::plan::protection(&inventory, &caller),
    };
    drop(inventory);
    let runner = ClientRunner {
        client: &client,
        policy: s.steps.clone(),
        passwords: Default::default(),
    };
    let cancel = AtomicBool::new(false);
    process::reset_peak();
    let start = snapshot();
    let started = Instant::now();
    let report = ramstate::apply::execute(&graph, &runner, &options, &cancel, &Silent).await;
    let wall = started.elapsed();
    let figures = since(start);
    let log = emu.new_calls();
    let polls = log.polls_per_task();
    let chain = apply_chain(&graph, |i| {
        if graph.step(i).op.is_deletion_task() {
            1 + polls
        } else {
            1
        }
    });
    phases.push(Phase::measure("apply", &log, chain, wall, figures));
    drop(log);

    // Under eventual consistency the re-fetch waits until the writes are visible, as
    // `ramstate apply` re-reads before it judges convergence.
    tokio::time::sleep(Duration::from_millis(s.faults.consistency_ms)).await;
    process::reset_peak();
    let start = snapshot();
    let started = Instant::now();
    let after = ramstate::inventory::fetch(&client, &kinds, &ramstate::inventory::NoProgress)
        .await
        .unwrap();
    let wall = started.elapsed();
    let figures = since(start);
    phases.push(Phase::measure(
        "verify",
        &emu.new_calls(),
        fetch_chain(&after),
        wall,
        figures,
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
        required,
    }
}

/// The root key the generated seeds carry (set in `main`).
static ROOT_KEY: std::sync::OnceLock<(String, String)> = std::sync::OnceLock::new();

fn emu_root_key() -> (String, String) {
    ROOT_KEY.get().cloned().expect("set before any scenario")
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    // `cargo bench --bench apply -- quota p32 latency` runs only what is named.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let named = |what: &str| only.iter().any(|o| o == what);
    let sizes = [
        Size {
            name: "medium",
            params: GenerateParams {
                users: 400,
                groups: 40,
                roles: 120,
                policies: 150,
                seed: 7,
            },
        },
        Size {
            name: "quota",
            params: GenerateParams {
                users: 5000,
                groups: 300,
                roles: 1000,
                policies: 1500,
                seed: 7,
            },
        },
    ];
    let tiny = Size {
        name: "tiny",
        params: GenerateParams {
            users: 20,
            groups: 4,
            roles: 6,
            policies: 8,
            seed: 7,
        },
    };
    let chosen: Vec<&Size> = if !full {
        vec![&tiny]
    } else if named("quota") || named("medium") {
        sizes.iter().filter(|s| named(s.name)).collect()
    } else {
        vec![&sizes[0]]
    };
    let steps = if full {
        StepPolicy::default()
    } else {
        StepPolicy {
            poll_interval: Duration::from_millis(10),
            poll_max_interval: Duration::from_millis(40),
            ..StepPolicy::default()
        }
    };
    // `RAMSTATE_BENCH_LATENCY_MS=0` measures memory and CPU without the wait.
    let latency_ms = std::env::var("RAMSTATE_BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 20 } else { 2 });
    let mut scenarios = Vec::new();
    for parallelism in [10, 32] {
        if !full && parallelism != 10 {
            continue;
        }
        scenarios.push(Scenario {
            name: "latency",
            latency_ms,
            parallelism,
            client_qps: 0.0,
            server_qps: 0.0,
            steps: steps.clone(),
            faults: FaultRates::default(),
        });
    }
    if full {
        // No injected latency: what a call costs the client, the loopback and the emulator.
        scenarios.push(Scenario {
            name: "overhead",
            latency_ms: 0,
            parallelism: 10,
            client_qps: 0.0,
            server_qps: 0.0,
            steps: steps.clone(),
            faults: FaultRates::default(),
        });
        // Below what 10 calls in flight at 20 ms could reach (500/s): the limit binds.
        scenarios.push(Scenario {
            name: "throttled",
            latency_ms,
            parallelism: 10,
            client_qps: 0.0,
            server_qps: 50.0,
            steps: steps.clone(),
            faults: FaultRates::default(),
        });
    }
    // The fault campaign of tests/apply_faults.rs at the bench's sizes: the walk must
    // converge in one apply whatever fails.
    scenarios.push(Scenario {
        name: "faults",
        latency_ms,
        parallelism: 32,
        client_qps: 0.0,
        server_qps: 0.0,
        steps: steps.clone(),
        faults: FaultRates {
            error_rate: 0.05,
            drop_rate: 0.01,
            consistency_ms: if full { 1000 } else { 50 },
        },
    });
    let scenario_named = |s: &Scenario| {
        let by_name = ["latency", "overhead", "throttled", "faults"]
            .iter()
            .any(|n| named(n));
        let by_p = named("p10") || named("p32");
        (!by_name || named(s.name)) && (!by_p || named(&format!("p{}", s.parallelism)))
    };

    println!(
        "{:<7} {:<10} {:>3} {:<7} {:>7} {:>9} {:>6} {:>5} {:>9} {:>9} {:>9} {:>9} {:>9} {:>5} {:>8} {:>8}",
        "size",
        "scenario",
        "P",
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
        "eff",
        "peak MiB",
        "cpu ms"
    );
    for size in chosen {
        let mut seed = emulator::generate(&size.params);
        seed.account.id = "5123456789012345".into(); // the example profile pins this account
        let root = seed
            .emulator
            .as_ref()
            .and_then(|e| e.root_access_key.clone())
            .expect("generated seeds carry a root key");
        let _ = ROOT_KEY.set((root.id, root.secret));
        let p = &size.params;
        println!(
            "{} account: {} users, {} groups, {} roles, {} policies",
            size.name, p.users, p.groups, p.roles, p.policies
        );
        for s in scenarios.iter().filter(|s| scenario_named(s)) {
            // The quota account is for the latency and fault scenarios: its throttled run
            // would take the better part of an hour at 50 calls/s.
            if size.name == "quota" && !matches!(s.name, "latency" | "faults") {
                continue;
            }
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
                let eff = if bound > 0.0 {
                    format!("{:.2}", bound / wall.max(1.0))
                } else {
                    "-".into()
                };
                println!(
                    "{:<7} {:<10} {:>3} {:<7} {:>7} {:>9} {:>6} {:>5.1} {:>9.0} {:>9.0} {:>9} {:>9.0} {:>9.0} {:>5} {:>8.0} {:>8.0}",
                    size.name,
                    s.name,
                    s.parallelism,
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
                    eff,
                    p.peak_mib,
                    p.cpu_ms
                );
            }
            if std::env::var_os("RAMSTATE_BENCH_ACTIONS").is_some() {
                for p in out.phases.iter().filter(|p| p.calls > 0) {
                    let list: Vec<String> =
                        p.actions.iter().map(|(a, n)| format!("{a} {n}")).collect();
                    println!(
                        "{:<7} {:<10} {:<7} {}",
                        size.name,
                        s.name,
                        p.name,
                        list.join(", ")
                    );
                }
            }
            let apply = out.phases.iter().find(|p| p.name == "apply").unwrap();
            println!(
                "{:<7} {:<10} latency {} ms, P {}, client qps {}, server qps {}, faults {}: {} steps, {} not done, {} change(s) left (in-use service-linked roles); apply {} calls for {} the shape requires ({:.3} per required call)",
                size.name,
                s.name,
                s.latency_ms,
                s.parallelism,
                s.client_qps,
                s.server_qps,
                if s.faults.error_rate > 0.0 {
                    format!(
                        "{:.0}% errors, {:.0}% dropped, {} ms consistency: {} attempts failed on purpose in all phases, converged",
                        s.faults.error_rate * 100.0,
                        s.faults.drop_rate * 100.0,
                        s.faults.consistency_ms,
                        out.phases.iter().map(|p| p.faulted).sum::<usize>()
                    )
                } else {
                    "none".into()
                },
                out.steps,
                out.failed,
                out.remaining,
                apply.calls,
                out.required,
                apply.calls as f64 / out.required.max(1) as f64
            );
        }
    }
}
