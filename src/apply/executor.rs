//! The dependency-driven walk: a step starts as soon as everything it depends on is done,
//! with at most `parallelism` steps in flight. A failed step skips everything that depends
//! on it (directly or not); a cancelled walk lets the steps in flight finish and starts no
//! new one. The walk knows nothing about the API: it runs whatever `run` does for a step.
//!
//! Among the steps that are ready, the one with the longest chain of work still behind it
//! starts first (critical-path scheduling), so long chains are not left for the end. A step
//! whose [`Shape`] says it mostly waits (polling an asynchronous task) runs outside the
//! `parallelism` bound: it would hold a slot while asleep; its calls still go through the
//! client's own bound.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

use crate::graph::Dag;

/// How a step spends its time, for scheduling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Roughly how long the step takes, in calls (an ordinary step is 1).
    pub cost: u32,
    /// The step spends most of its time asleep between calls: it does not count
    /// against `parallelism`.
    pub waits: bool,
}

impl Shape {
    /// One API call.
    pub const CALL: Shape = Shape {
        cost: 1,
        waits: false,
    };
}

impl Default for Shape {
    fn default() -> Self {
        Shape::CALL
    }
}

/// What running one step came to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StepResult {
    /// The call succeeded.
    Done,
    /// The target was already gone: this step is done, nothing else is assumed.
    AlreadyGone { code: String },
    /// The call failed for good.
    Failed { error: String },
    /// The step was never sent: it would affect something protected.
    Refused { why: String },
}

/// Where a step ended up after the walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum StepStatus {
    Done,
    AlreadyGone {
        code: String,
    },
    Failed {
        error: String,
    },
    /// Never sent: it would affect the caller's own identity.
    Refused {
        why: String,
    },
    /// Not attempted because `root`, a step it depends on, failed.
    Skipped {
        root: usize,
    },
    /// Not attempted because the walk was interrupted.
    NotRun,
}

impl StepStatus {
    pub fn is_done(&self) -> bool {
        matches!(self, StepStatus::Done | StepStatus::AlreadyGone { .. })
    }
}

/// Receives progress as steps start and finish.
pub trait Reporter: Sync {
    fn started(&self, _step: usize) {}
    fn finished(&self, _step: usize, _status: &StepStatus) {}
}

/// A reporter that ignores everything.
pub struct Silent;
impl Reporter for Silent {}

/// Walk the steps of `dag`: a step starts once every step it depends on is done. The
/// ready step with the costliest chain ahead of it starts first, and steps whose
/// [`Shape`] says they mostly wait run outside `parallelism`. `dag` must be acyclic (the
/// graph module checks that).
pub async fn walk<D, F, Fut>(
    dag: &D,
    shapes: &[Shape],
    parallelism: usize,
    cancel: &AtomicBool,
    reporter: &dyn Reporter,
    run: F,
) -> Vec<StepStatus>
where
    D: Dag + ?Sized,
    F: Fn(usize) -> Fut,
    Fut: Future<Output = StepResult>,
{
    let n = dag.len();
    assert_eq!(shapes.len(), n, "one shape per step");
    let parallelism = parallelism.max(1);
    let mut waiting_on: Vec<u32> = (0..n).map(|i| dag.dependencies(i).len() as u32).collect();
    let dependents = Adjacency::new((0..n).map(|i| dag.dependents(i)));
    let rank = chain_ahead(&dependents, shapes);
    let mut status: Vec<Option<StepStatus>> = vec![None; n];
    let mut ready = Ready::default();
    for i in (0..n).filter(|&i| waiting_on[i] == 0) {
        ready.push(i, rank[i], shapes[i]);
    }
    let mut in_flight = FuturesUnordered::new();
    // Steps in flight that count against `parallelism`.
    let mut bounded = 0usize;

    loop {
        while !cancel.load(Ordering::SeqCst) {
            let Some(i) = ready.next(bounded < parallelism) else {
                break;
            };
            if !shapes[i].waits {
                bounded += 1;
            }
            reporter.started(i);
            let fut = run(i);
            in_flight.push(async move { (i, fut.await) });
        }
        let Some((i, result)) = in_flight.next().await else {
            break;
        };
        if !shapes[i].waits {
            bounded -= 1;
        }
        let done = match result {
            StepResult::Done => StepStatus::Done,
            StepResult::AlreadyGone { code } => StepStatus::AlreadyGone { code },
            StepResult::Failed { error } => StepStatus::Failed { error },
            StepResult::Refused { why } => StepStatus::Refused { why },
        };
        if done.is_done() {
            for d in dependents.of(i) {
                waiting_on[d] -= 1;
                if waiting_on[d] == 0 && status[d].is_none() {
                    ready.push(d, rank[d], shapes[d]);
                }
            }
        } else {
            for d in dag.descendants(i) {
                if status[d].is_none() {
                    let skipped = StepStatus::Skipped { root: i };
                    reporter.finished(d, &skipped);
                    status[d] = Some(skipped);
                }
            }
        }
        reporter.finished(i, &done);
        status[i] = Some(done);
    }
    status
        .into_iter()
        .map(|s| s.unwrap_or(StepStatus::NotRun))
        .collect()
}

/// Ready steps, best first: the highest rank, then the lowest index (deterministic).
/// Steps that mostly wait have their own queue: they start whatever the bound.
#[derive(Default)]
struct Ready {
    calls: BinaryHeap<(u64, Reverse<usize>)>,
    waits: BinaryHeap<(u64, Reverse<usize>)>,
}

impl Ready {
    fn push(&mut self, step: usize, rank: u64, shape: Shape) {
        let queue = if shape.waits {
            &mut self.waits
        } else {
            &mut self.calls
        };
        queue.push((rank, Reverse(step)));
    }

    /// The next step to start; an ordinary one only when `room` is left in the bound.
    fn next(&mut self, room: bool) -> Option<usize> {
        let (_, Reverse(step)) = match self.waits.pop() {
            Some(w) => w,
            None if room => self.calls.pop()?,
            None => return None,
        };
        Some(step)
    }
}

/// Each step's neighbours in one flat list (a list per step costs an allocation each,
/// and a plan at the quotas has over a hundred thousand steps).
struct Adjacency {
    /// `to[start[i]..start[i + 1]]` are step i's neighbours.
    start: Vec<u32>,
    to: Vec<u32>,
}

impl Adjacency {
    fn new(lists: impl Iterator<Item = Vec<usize>>) -> Adjacency {
        let mut start = vec![0];
        let mut to = Vec::new();
        for list in lists {
            to.extend(list.into_iter().map(|d| d as u32));
            start.push(to.len() as u32);
        }
        Adjacency { start, to }
    }

    fn len(&self) -> usize {
        self.start.len() - 1
    }

    fn of(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.to[self.start[i] as usize..self.start[i + 1] as usize]
            .iter()
            .map(|&d| d as usize)
    }
}

/// For each step, the cost of the costliest chain that starts with it (itself included).
fn chain_ahead(dependents: &Adjacency, shapes: &[Shape]) -> Vec<u64> {
    let n = dependents.len();
    // Reverse topological order by depth-first post-order; the graph is acyclic.
    let mut rank: Vec<Option<u64>> = vec![None; n];
    for start in 0..n {
        if rank[start].is_some() {
            continue;
        }
        let mut stack = vec![(start, 0usize)];
        while let Some((node, next)) = stack.pop() {
            if let Some(d) = dependents.of(node).nth(next) {
                stack.push((node, next + 1));
                if rank[d].is_none() {
                    stack.push((d, 0));
                }
            } else {
                let ahead = dependents
                    .of(node)
                    .filter_map(|d| rank[d])
                    .max()
                    .unwrap_or(0);
                rank[node] = Some(ahead + u64::from(shapes[node].cost.max(1)));
            }
        }
    }
    rank.into_iter().map(|r| r.unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// A graph given as each step's dependencies.
    struct Deps(Vec<Vec<usize>>);

    impl Dag for Deps {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn dependencies(&self, i: usize) -> Vec<usize> {
            self.0[i].clone()
        }
        fn dependents(&self, i: usize) -> Vec<usize> {
            (0..self.0.len())
                .filter(|&j| self.0[j].contains(&i))
                .collect()
        }
    }

    /// Every step one call.
    async fn execute<F, Fut>(
        deps: &[Vec<usize>],
        parallelism: usize,
        cancel: &AtomicBool,
        reporter: &dyn Reporter,
        run: F,
    ) -> Vec<StepStatus>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = StepResult>,
    {
        let shapes = vec![Shape::CALL; deps.len()];
        walk(
            &Deps(deps.to_vec()),
            &shapes,
            parallelism,
            cancel,
            reporter,
            run,
        )
        .await
    }

    async fn execute_shaped<F, Fut>(
        deps: &[Vec<usize>],
        shapes: &[Shape],
        parallelism: usize,
        cancel: &AtomicBool,
        reporter: &dyn Reporter,
        run: F,
    ) -> Vec<StepStatus>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = StepResult>,
    {
        walk(
            &Deps(deps.to_vec()),
            shapes,
            parallelism,
            cancel,
            reporter,
            run,
        )
        .await
    }

    fn order_recorder() -> Mutex<Vec<usize>> {
        Mutex::new(Vec::new())
    }

    #[tokio::test]
    async fn every_step_runs_after_its_dependencies() {
        // 0,1 → 2 → 3 ; 4 independent
        let deps = vec![vec![], vec![], vec![0, 1], vec![2], vec![]];
        let order = order_recorder();
        let cancel = AtomicBool::new(false);
        let out = execute(&deps, 3, &cancel, &Silent, |i| {
            let order = &order;
            async move {
                tokio::time::sleep(Duration::from_millis((5 - i as u64) * 2)).await;
                order.lock().unwrap().push(i);
                StepResult::Done
            }
        })
        .await;
        assert!(out.iter().all(|s| *s == StepStatus::Done));
        let order = order.into_inner().unwrap();
        let pos = |x| order.iter().position(|&y| y == x).unwrap();
        assert!(pos(0) < pos(2) && pos(1) < pos(2) && pos(2) < pos(3));
    }

    #[tokio::test]
    async fn a_failure_skips_only_its_descendants() {
        // 0 → 1 → 2 ; 3 → 4
        let deps = vec![vec![], vec![0], vec![1], vec![], vec![3]];
        let cancel = AtomicBool::new(false);
        let out = execute(&deps, 2, &cancel, &Silent, |i| async move {
            if i == 0 {
                StepResult::Failed {
                    error: "boom".into(),
                }
            } else {
                StepResult::Done
            }
        })
        .await;
        assert_eq!(
            out[0],
            StepStatus::Failed {
                error: "boom".into()
            }
        );
        assert_eq!(out[1], StepStatus::Skipped { root: 0 });
        assert_eq!(out[2], StepStatus::Skipped { root: 0 });
        assert_eq!(out[3], StepStatus::Done);
        assert_eq!(out[4], StepStatus::Done);
    }

    #[tokio::test]
    async fn already_gone_counts_as_done_for_that_step_and_the_walk_goes_on() {
        let deps = vec![vec![], vec![0]];
        let cancel = AtomicBool::new(false);
        let out = execute(&deps, 1, &cancel, &Silent, |i| async move {
            if i == 0 {
                StepResult::AlreadyGone {
                    code: "EntityNotExist.User".into(),
                }
            } else {
                StepResult::Done
            }
        })
        .await;
        assert!(out[0].is_done());
        assert_eq!(out[1], StepStatus::Done);
    }

    #[tokio::test]
    async fn parallelism_bounds_the_steps_in_flight() {
        let deps = vec![vec![]; 40];
        let now = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let cancel = AtomicBool::new(false);
        let out = execute(&deps, 4, &cancel, &Silent, |_| {
            let (now, peak) = (&now, &peak);
            async move {
                let c = now.fetch_add(1, Ordering::SeqCst) + 1;
                peak.fetch_max(c, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                StepResult::Done
            }
        })
        .await;
        assert_eq!(out.len(), 40);
        assert_eq!(peak.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn cancelling_lets_running_steps_finish_and_starts_no_new_one() {
        let deps = vec![vec![]; 10];
        let cancel = AtomicBool::new(false);
        let out = execute(&deps, 2, &cancel, &Silent, |i| {
            let cancel = &cancel;
            async move {
                if i == 1 {
                    cancel.store(true, Ordering::SeqCst);
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
                StepResult::Done
            }
        })
        .await;
        assert_eq!(out[0], StepStatus::Done);
        assert_eq!(out[1], StepStatus::Done);
        assert!(out[2..].iter().all(|s| *s == StepStatus::NotRun));
    }

    fn run_order(deps: &[Vec<usize>], shapes: &[Shape], parallelism: usize) -> Vec<usize> {
        let order = order_recorder();
        let cancel = AtomicBool::new(false);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(execute_shaped(
            deps,
            shapes,
            parallelism,
            &cancel,
            &Silent,
            |i| {
                let order = &order;
                async move {
                    order.lock().unwrap().push(i);
                    StepResult::Done
                }
            },
        ));
        assert!(out.iter().all(StepStatus::is_done));
        order.into_inner().unwrap()
    }

    #[test]
    fn the_ready_step_with_the_longest_chain_ahead_starts_first() {
        // 0, 1, 2 independent; 3 → 4 → 5.
        let deps = vec![vec![], vec![], vec![], vec![], vec![3], vec![4]];
        let order = run_order(&deps, &[Shape::CALL; 6], 1);
        assert_eq!(order, [3, 4, 0, 1, 2, 5]);
    }

    #[test]
    fn a_costly_step_starts_before_cheap_ones() {
        let deps = vec![vec![]; 4];
        let mut shapes = [Shape::CALL; 4];
        shapes[2].cost = 10;
        assert_eq!(run_order(&deps, &shapes, 1), [2, 0, 1, 3]);
    }

    #[test]
    fn chain_cost_counts_every_step_on_the_costliest_path() {
        // 0 → 2, 1 → 2, 2 → 3; step 1 is costly.
        let dependents = Adjacency::new([vec![2], vec![2], vec![3], vec![]].into_iter());
        let mut shapes = [Shape::CALL; 4];
        shapes[1].cost = 5;
        assert_eq!(chain_ahead(&dependents, &shapes), [3, 7, 2, 1]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_that_mostly_waits_does_not_hold_a_slot() {
        // Step 0 polls for a long time; with one slot, the others still run meanwhile.
        let deps = vec![vec![]; 5];
        let mut shapes = [Shape::CALL; 5];
        shapes[0] = Shape {
            cost: 50,
            waits: true,
        };
        let ordinary_now = AtomicUsize::new(0);
        let ordinary_peak = AtomicUsize::new(0);
        let finished = order_recorder();
        let cancel = AtomicBool::new(false);
        let out = execute_shaped(&deps, &shapes, 1, &cancel, &Silent, |i| {
            let (now, peak, finished) = (&ordinary_now, &ordinary_peak, &finished);
            async move {
                if i == 0 {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                } else {
                    let c = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(c, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    now.fetch_sub(1, Ordering::SeqCst);
                }
                finished.lock().unwrap().push(i);
                StepResult::Done
            }
        })
        .await;
        assert!(out.iter().all(StepStatus::is_done));
        assert_eq!(ordinary_peak.load(Ordering::SeqCst), 1);
        assert_eq!(finished.into_inner().unwrap(), [1, 2, 3, 4, 0]);
    }

    #[test]
    fn a_cancelled_walk_starts_no_step_that_waits() {
        let deps = vec![vec![], vec![0]];
        let shapes = [
            Shape::CALL,
            Shape {
                cost: 5,
                waits: true,
            },
        ];
        let cancel = AtomicBool::new(false);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let out = rt.block_on(execute_shaped(&deps, &shapes, 1, &cancel, &Silent, |_| {
            cancel.store(true, Ordering::SeqCst);
            async { StepResult::Done }
        }));
        assert_eq!(out, [StepStatus::Done, StepStatus::NotRun]);
    }
}
