//! Plan → apply graph: one node per step, an edge from each step to the steps it unblocks.
//!
//! Edges are derived per resource from the typed operations, the way the API's conflict
//! rules state them ([`Op::removes`](crate::plan::Op::removes) and
//! [`Op::unblocks`](crate::plan::Op::unblocks)): a user's deletion waits for every detach,
//! membership removal, login-profile deletion, MFA unbind and key deletion of that user;
//! a group's for every removal from and detach of it; a policy's for every detach of it;
//! a device's for its unbinding; a deactivation's switches for its record, a reactivation's
//! record removal for its switches; a recycled user's
//! purge for the purge of its keys and for the deletion that put it in the bin. The order
//! Alibaba's closure checklist gives emerges from these edges alone.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use miette::Diagnostic;
use petgraph::Direction;
use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};
use thiserror::Error;

use crate::plan::{Address, Change, Entity, Plan};

/// The steps of a plan with their dependencies; node `i` is `plan.changes[i]`.
///
/// The graph owns the plan and holds only indices into it: one copy of every change,
/// however large the account ([`build_from`] moves a plan in, [`ApplyGraph::plan`] lends it
/// back for rendering).
#[derive(Debug, Clone)]
pub struct ApplyGraph {
    plan: Plan,
    graph: DiGraph<(), ()>,
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

/// Steps and the order between them, as the walk needs them.
pub trait Dag {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The steps that must finish before step `i` starts, ascending.
    fn dependencies(&self, i: usize) -> Vec<usize>;
    /// The steps that wait for step `i`, ascending.
    fn dependents(&self, i: usize) -> Vec<usize>;

    /// Every transitive dependent of step `i` (what a failure of `i` skips), ascending.
    fn descendants(&self, i: usize) -> Vec<usize> {
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
}

impl Dag for ApplyGraph {
    fn len(&self) -> usize {
        ApplyGraph::len(self)
    }
    fn dependencies(&self, i: usize) -> Vec<usize> {
        ApplyGraph::dependencies(self, i)
    }
    fn dependents(&self, i: usize) -> Vec<usize> {
        ApplyGraph::dependents(self, i)
    }
}

/// Builds the graph of a copy of `plan` and checks that it is acyclic. Where the plan is
/// not needed apart from the graph, [`build_from`] saves the copy.
pub fn build(plan: &Plan) -> Result<ApplyGraph, GraphError> {
    build_from(plan.clone())
}

/// Builds the graph of `plan`, which it keeps (see [`ApplyGraph::plan`]), and checks that
/// it is acyclic.
pub fn build_from(plan: Plan) -> Result<ApplyGraph, GraphError> {
    let (graph, order) = edges(&plan)?;
    Ok(ApplyGraph { plan, graph, order })
}

type Edges = (DiGraph<(), ()>, Vec<usize>);

fn edges(plan: &Plan) -> Result<Edges, GraphError> {
    let mut graph = DiGraph::<(), ()>::with_capacity(plan.changes.len(), plan.changes.len());
    let mut seen: HashSet<&Address> = HashSet::with_capacity(plan.changes.len());
    for c in &plan.changes {
        if !seen.insert(&c.address) {
            return Err(GraphError::DuplicateAddress(c.address.to_string()));
        }
        graph.add_node(());
    }
    drop(seen);
    let mut waiting: BTreeMap<Entity, Vec<usize>> = BTreeMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        if let Some(e) = c.op.removes() {
            waiting.entry(e).or_default().push(i);
        }
    }
    // Creation edges run the other way: what a step needs is made first.
    let mut made: BTreeMap<Entity, Vec<usize>> = BTreeMap::new();
    for (i, c) in plan.changes.iter().enumerate() {
        if let Some(e) = c.op.provides() {
            made.entry(e).or_default().push(i);
        }
    }
    for (j, c) in plan.changes.iter().enumerate() {
        for e in c.op.needs() {
            for &i in made.get(&e).into_iter().flatten() {
                if i != j {
                    graph.update_edge(NodeIndex::new(i), NodeIndex::new(j), ());
                }
            }
        }
    }
    for (i, c) in plan.changes.iter().enumerate() {
        for b in c.op.unblocks() {
            for &j in waiting.get(&b).into_iter().flatten() {
                if i != j {
                    graph.update_edge(NodeIndex::new(i), NodeIndex::new(j), ());
                }
            }
        }
    }
    let order = toposort(&graph, None)
        .map_err(|cycle| {
            GraphError::Cycle(plan.changes[cycle.node_id().index()].address.to_string())
        })?
        .into_iter()
        .map(NodeIndex::index)
        .collect();
    Ok((graph, order))
}

impl ApplyGraph {
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn step(&self, i: usize) -> &Change {
        &self.plan.changes[i]
    }

    /// The plan the steps come from.
    pub fn plan(&self) -> &Plan {
        &self.plan
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
        Dag::descendants(self, i)
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
            let _ = writeln!(s, "{i:>3} {}  [{}]", c.address, c.call().action);
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
