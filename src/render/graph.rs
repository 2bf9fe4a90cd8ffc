//! The apply graph as Graphviz `dot` or a Mermaid flowchart: one node per step, grouped
//! per resource (a dot cluster, a mermaid subgraph), an arrow from each step to the steps
//! that wait for it. Beyond [`GraphOptions::collapse_above`] steps, each resource becomes
//! one node (with its step count) and the arrows join resources, so a plan of a few
//! hundred steps stays readable.

use std::collections::BTreeSet;
use std::io::{self, Write};

use crate::graph::ApplyGraph;
use crate::plan::{Change, Resource};

/// Plans with more steps than this are drawn one node per resource by default.
pub const COLLAPSE_ABOVE: usize = 60;

#[derive(Debug, Clone, Copy)]
pub struct GraphOptions {
    /// Draw one node per resource when the plan has more steps than this.
    pub collapse_above: usize,
}

impl Default for GraphOptions {
    fn default() -> Self {
        GraphOptions {
            collapse_above: COLLAPSE_ABOVE,
        }
    }
}

/// The graph grouped per resource, in plan order.
struct Groups<'a> {
    resources: Vec<&'a Resource>,
    /// For each step, the index of its resource.
    of_step: Vec<usize>,
    /// For each resource, its steps.
    steps: Vec<Vec<usize>>,
    collapsed: bool,
}

impl<'a> Groups<'a> {
    fn new(graph: &'a ApplyGraph, options: GraphOptions) -> Groups<'a> {
        let mut resources: Vec<&Resource> = Vec::new();
        let mut of_step = Vec::with_capacity(graph.len());
        let mut steps: Vec<Vec<usize>> = Vec::new();
        for i in 0..graph.len() {
            let r = graph.step(i).resource();
            let j = match resources.iter().position(|x| *x == r) {
                Some(j) => j,
                None => {
                    resources.push(r);
                    steps.push(Vec::new());
                    resources.len() - 1
                }
            };
            of_step.push(j);
            steps[j].push(i);
        }
        Groups {
            resources,
            of_step,
            steps,
            collapsed: graph.len() > options.collapse_above,
        }
    }

    /// Arrows between resources (collapsed form), without repeats or self-loops.
    fn resource_edges(&self, graph: &ApplyGraph) -> BTreeSet<(usize, usize)> {
        graph
            .edges()
            .into_iter()
            .map(|(a, b)| (self.of_step[a], self.of_step[b]))
            .filter(|(a, b)| a != b)
            .collect()
    }

    fn resource_label(&self, j: usize) -> String {
        let n = self.steps[j].len();
        format!(
            "{} ({n} step{})",
            self.resources[j].clone().address(),
            if n == 1 { "" } else { "s" }
        )
    }
}

/// A step's label: the API action and, for a sub-step, the part it acts on.
fn step_label(c: &Change) -> String {
    let call = c.call();
    match &c.address.part {
        Some(part) => format!("{}\n{part}", call.action),
        None => call.action,
    }
}

fn dot_quote(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

pub fn graph_dot(graph: &ApplyGraph, options: GraphOptions, w: &mut dyn Write) -> io::Result<()> {
    let g = Groups::new(graph, options);
    writeln!(w, "digraph ramstate {{")?;
    writeln!(w, "  rankdir=LR;")?;
    writeln!(
        w,
        "  node [shape=box, fontname=\"Helvetica\", fontsize=10];"
    )?;
    if graph.is_empty() {
        writeln!(w, "  none [label=\"No changes\", shape=plaintext];")?;
    } else if g.collapsed {
        writeln!(
            w,
            "  // {} steps: one node per resource (--collapse-above {}).",
            graph.len(),
            options.collapse_above
        )?;
        for j in 0..g.resources.len() {
            writeln!(w, "  r{j} [label={}];", dot_quote(&g.resource_label(j)))?;
        }
        for (a, b) in g.resource_edges(graph) {
            writeln!(w, "  r{a} -> r{b};")?;
        }
    } else {
        for (j, steps) in g.steps.iter().enumerate() {
            writeln!(w, "  subgraph cluster_{j} {{")?;
            writeln!(
                w,
                "    label={};",
                dot_quote(&g.resources[j].clone().address().to_string())
            )?;
            writeln!(w, "    style=rounded;")?;
            for &i in steps {
                writeln!(
                    w,
                    "    s{i} [label={}];",
                    dot_quote(&step_label(graph.step(i)))
                )?;
            }
            writeln!(w, "  }}")?;
        }
        for (a, b) in graph.edges() {
            writeln!(w, "  s{a} -> s{b};")?;
        }
    }
    writeln!(w, "}}")
}

/// Text inside a mermaid `["..."]` label.
fn mermaid_quote(s: &str) -> String {
    let escaped = s
        .replace('"', "#quot;")
        .replace('<', "#lt;")
        .replace('>', "#gt;")
        .replace('\n', "<br/>");
    format!("\"{escaped}\"")
}

pub fn graph_mermaid(
    graph: &ApplyGraph,
    options: GraphOptions,
    w: &mut dyn Write,
) -> io::Result<()> {
    let g = Groups::new(graph, options);
    writeln!(w, "flowchart LR")?;
    if graph.is_empty() {
        return writeln!(w, "  none[\"No changes\"]");
    }
    if g.collapsed {
        writeln!(
            w,
            "  %% {} steps: one node per resource (--collapse-above {}).",
            graph.len(),
            options.collapse_above
        )?;
        for j in 0..g.resources.len() {
            writeln!(w, "  r{j}[{}]", mermaid_quote(&g.resource_label(j)))?;
        }
        for (a, b) in g.resource_edges(graph) {
            writeln!(w, "  r{a} --> r{b}")?;
        }
        return Ok(());
    }
    for (j, steps) in g.steps.iter().enumerate() {
        writeln!(
            w,
            "  subgraph r{j}[{}]",
            mermaid_quote(&g.resources[j].clone().address().to_string())
        )?;
        for &i in steps {
            writeln!(w, "    s{i}[{}]", mermaid_quote(&step_label(graph.step(i))))?;
        }
        writeln!(w, "  end")?;
    }
    for (a, b) in graph.edges() {
        writeln!(w, "  s{a} --> s{b}")?;
    }
    Ok(())
}
