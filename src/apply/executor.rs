//! The dependency-driven walk: a step starts as soon as everything it depends on is done,
//! with at most `parallelism` steps in flight. A failed step skips everything that depends
//! on it (directly or not); a cancelled walk lets the steps in flight finish and starts no
//! new one. The walk knows nothing about the API: it runs whatever `run` does for a step.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;

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

/// Walk the steps `0..deps.len()`, where `deps[i]` lists the steps that must be done
/// before step `i` starts. `deps` must be acyclic (the graph module checks that).
pub async fn execute<F, Fut>(
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
    let n = deps.len();
    let parallelism = parallelism.max(1);
    let mut waiting_on: Vec<usize> = deps.iter().map(Vec::len).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut status: Vec<Option<StepStatus>> = vec![None; n];
    let mut ready: VecDeque<usize> = (0..n).filter(|&i| waiting_on[i] == 0).collect();
    let mut in_flight = FuturesUnordered::new();

    loop {
        while in_flight.len() < parallelism && !cancel.load(Ordering::SeqCst) {
            let Some(i) = ready.pop_front() else { break };
            reporter.started(i);
            let fut = run(i);
            in_flight.push(async move { (i, fut.await) });
        }
        let Some((i, result)) = in_flight.next().await else {
            break;
        };
        let done = match result {
            StepResult::Done => StepStatus::Done,
            StepResult::AlreadyGone { code } => StepStatus::AlreadyGone { code },
            StepResult::Failed { error } => StepStatus::Failed { error },
        };
        if done.is_done() {
            for &d in &dependents[i] {
                waiting_on[d] -= 1;
                if waiting_on[d] == 0 && status[d].is_none() {
                    ready.push_back(d);
                }
            }
        } else {
            skip_dependents(i, &dependents, &mut status, reporter);
        }
        reporter.finished(i, &done);
        status[i] = Some(done);
    }
    status
        .into_iter()
        .map(|s| s.unwrap_or(StepStatus::NotRun))
        .collect()
}

fn skip_dependents(
    root: usize,
    dependents: &[Vec<usize>],
    status: &mut [Option<StepStatus>],
    reporter: &dyn Reporter,
) {
    let mut stack = dependents[root].clone();
    while let Some(d) = stack.pop() {
        if status[d].is_some() {
            continue;
        }
        let skipped = StepStatus::Skipped { root };
        reporter.finished(d, &skipped);
        status[d] = Some(skipped);
        stack.extend(dependents[d].iter().copied());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

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
}
