//! Plan → apply graph: one node per step, an edge from each step to the steps it unblocks.
//!
//! Edges are derived per resource from the calls themselves, the way the API's
//! conflict rules state them: `DeleteUser(alice)` waits for every detach, membership
//! removal, login-profile deletion, MFA unbind and key deletion of alice;
//! `DeleteGroup(dev)` for every removal from and detach of dev; `DeletePolicy(p)` for
//! every detach of p; `DeleteVirtualMFADevice(d)` for the unbind of d; a key's deletion
//! for its deactivation; a recycled user's purge for the purge of its keys and for the
//! deletion that put it in the bin. The order
//! Alibaba's closure checklist gives emerges from these edges alone.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use miette::Diagnostic;
use petgraph::Direction;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use thiserror::Error;

use crate::plan::{Change, Plan};

/// The steps of a plan with their dependencies; node `i` is `plan.changes[i]`.
#[derive(Debug, Clone)]
pub struct ApplyGraph {
    graph: DiGraph<Change, ()>,
    order: Vec<usize>,
}

#[derive(Debug, Error, Diagnostic)]
pub enum GraphError {
    #[error("two steps share the address {0}")]
    #[diagnostic(
        code(ramstate::graph::duplicate),
        help("a plan's addresses must be unique; was the saved plan edited?")
    )]
    DuplicateAddress(String),
    #[error("the steps form a cycle through {0}")]
    #[diagnostic(
        code(ramstate::graph::cycle),
        help("this is a bug in ramstate's planner; please report it with the plan")
    )]
    Cycle(String),
}

/// What a step unblocks, keyed by what its call names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Blocker {
    User(String),
    Group(String),
    Role(String),
    Policy(String),
    Device(String),
    Key(String, String),
    RecycledUser(String),
}

fn param<'c>(c: &'c Change, k: &str) -> Option<&'c str> {
    c.call.params.get(k).map(String::as_str)
}

/// The deletions a step must precede.
fn unblocks(c: &Change) -> Vec<Blocker> {
    let user = || param(c, "UserName").map(|u| Blocker::User(u.into()));
    let custom_policy = || {
        (param(c, "PolicyType") == Some("Custom"))
            .then(|| param(c, "PolicyName").map(|p| Blocker::Policy(p.into())))
            .flatten()
    };
    let v: Vec<Option<Blocker>> = match c.call.action.as_str() {
        "DetachPolicyFromUser" => vec![user(), custom_policy()],
        "DetachPolicyFromGroup" => vec![
            param(c, "GroupName").map(|g| Blocker::Group(g.into())),
            custom_policy(),
        ],
        "DetachPolicyFromRole" => vec![
            param(c, "RoleName").map(|r| Blocker::Role(r.into())),
            custom_policy(),
        ],
        "RemoveUserFromGroup" => vec![
            user(),
            param(c, "GroupName").map(|g| Blocker::Group(g.into())),
        ],
        "DeleteLoginProfile" | "DeleteAccessKey" => vec![user()],
        "UnbindMFADevice" => vec![
            user(),
            c.before
                .as_ref()
                .and_then(|b| b.get("serial_number"))
                .and_then(|s| s.as_str())
                .map(|s| Blocker::Device(s.into())),
        ],
        "UpdateAccessKey" => vec![
            param(c, "UserName")
                .zip(param(c, "UserAccessKeyId"))
                .map(|(u, k)| Blocker::Key(u.into(), k.into())),
        ],
        "DeletePolicyVersion" => vec![param(c, "PolicyName").map(|p| Blocker::Policy(p.into()))],
        "DeleteAccessKeyInRecycleBin" => {
            vec![param(c, "UserId").map(|u| Blocker::RecycledUser(u.into()))]
        }
        // A user reaches the recycle bin only once deleted; its ID is in `before`.
        "DeleteUser" => vec![
            c.before
                .as_ref()
                .and_then(|b| b.get("id"))
                .and_then(|s| s.as_str())
                .filter(|s| !s.is_empty())
                .map(|s| Blocker::RecycledUser(s.into())),
        ],
        _ => vec![],
    };
    v.into_iter().flatten().collect()
}

/// The deletion a step is, if it waits for others.
fn blocked_as(c: &Change) -> Option<Blocker> {
    let p = |k| param(c, k).map(str::to_string);
    match c.call.action.as_str() {
        "DeleteUser" => p("UserName").map(Blocker::User),
        "DeleteGroup" => p("GroupName").map(Blocker::Group),
        "DeleteRole" => p("RoleName").map(Blocker::Role),
        "DeletePolicy" => p("PolicyName").map(Blocker::Policy),
        "DeleteVirtualMFADevice" => p("SerialNumber").map(Blocker::Device),
        "DeleteAccessKey" => p("UserName")
            .zip(p("UserAccessKeyId"))
            .map(|(u, k)| Blocker::Key(u, k)),
        "DeleteUserInRecycleBin" => p("UserId").map(Blocker::RecycledUser),
        _ => None,
    }
}

/// Builds the graph of a plan and checks that it is acyclic.
pub fn build(plan: &Plan) -> Result<ApplyGraph, GraphError> {
    let mut graph = DiGraph::<Change, ()>::with_capacity(plan.changes.len(), plan.changes.len());
    let mut seen = BTreeMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        if seen.insert(c.address.as_str(), i).is_some() {
            return Err(GraphError::DuplicateAddress(c.address.clone()));
        }
        graph.add_node(c.clone());
    }
    let mut waiting: BTreeMap<Blocker, Vec<usize>> = BTreeMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        if let Some(b) = blocked_as(c) {
            waiting.entry(b).or_default().push(i);
        }
    }
    for (i, c) in plan.changes.iter().enumerate() {
        for b in unblocks(c) {
            for &j in waiting.get(&b).into_iter().flatten() {
                if i != j {
                    graph.update_edge(NodeIndex::new(i), NodeIndex::new(j), ());
                }
            }
        }
    }
    let order = toposort(&graph, None)
        .map_err(|cycle| GraphError::Cycle(graph[cycle.node_id()].address.clone()))?
        .into_iter()
        .map(NodeIndex::index)
        .collect();
    Ok(ApplyGraph { graph, order })
}

impl ApplyGraph {
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn step(&self, i: usize) -> &Change {
        &self.graph[NodeIndex::new(i)]
    }

    /// The steps that must finish before step `i` starts, ascending.
    pub fn dependencies(&self, i: usize) -> Vec<usize> {
        self.neighbors(i, Direction::Incoming)
    }

    /// The steps that wait for step `i`, ascending.
    pub fn dependents(&self, i: usize) -> Vec<usize> {
        self.neighbors(i, Direction::Outgoing)
    }

    /// Steps with no dependencies: they can start at once.
    pub fn roots(&self) -> Vec<usize> {
        (0..self.len())
            .filter(|&i| self.dependencies(i).is_empty())
            .collect()
    }

    /// One order that respects every edge.
    pub fn topological_order(&self) -> &[usize] {
        &self.order
    }

    /// Every transitive dependent of step `i` (what a failure of `i` skips), ascending.
    pub fn descendants(&self, i: usize) -> Vec<usize> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            for d in self.dependents(n) {
                if !seen[d] {
                    seen[d] = true;
                    stack.push(d);
                }
            }
        }
        (0..self.len()).filter(|&n| seen[n]).collect()
    }

    /// Edges as `(from, to)`: `to` waits for `from`.
    pub fn edges(&self) -> Vec<(usize, usize)> {
        let mut e: Vec<(usize, usize)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (a.index(), b.index()))
            .collect();
        e.sort();
        e
    }

    /// A readable outline: each step's address, call and what it waits for.
    pub fn outline(&self) -> String {
        let mut s = String::new();
        for i in 0..self.len() {
            let c = self.step(i);
            let _ = writeln!(s, "{i:>3} {}  [{}]", c.address, c.call.action);
            for d in self.dependencies(i) {
                let _ = writeln!(s, "      after {d:>3} {}", self.step(d).address);
            }
        }
        s
    }

    fn neighbors(&self, i: usize, dir: Direction) -> Vec<usize> {
        let mut v: Vec<usize> = self
            .graph
            .neighbors_directed(NodeIndex::new(i), dir)
            .map(NodeIndex::index)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }
}
