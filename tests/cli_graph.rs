//! `ramstate graph FILE -o dot|mermaid` and `diff -o markdown --graph`, through the real
//! binary against the sandbox: steps grouped per resource, arrows in apply order, one
//! node per resource beyond the collapse size; Graphviz parses the dot form.

mod support;

use std::io::Write;
use std::process::{Command, Stdio};

use support::*;

fn path(rel: &str) -> String {
    repo_path(rel).display().to_string()
}

async fn ramstate(args: &[&str]) -> (i32, String, String) {
    let out = Run::offline(args).output().await;
    (code(&out), text(&out.stdout), text(&out.stderr))
}

async fn graph(file: &str, seed: &str, extra: &[&str]) -> String {
    let mut args = vec!["graph", file, "--sandbox", seed];
    args.extend_from_slice(extra);
    let (code, out, err) = ramstate(&args).await;
    assert_eq!(code, 0, "{err}");
    out
}

/// `dot -Tplain` on `text`: `Some(its layout)`, or `None` when Graphviz is not installed
/// (a failure under CI, where `.ci/run` installs it and sets RAMSTATE_REQUIRE_DOT).
fn graphviz(text: &str) -> Option<String> {
    let child = Command::new("dot")
        .arg("-Tplain")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var_os("RAMSTATE_REQUIRE_DOT").is_none(),
            "RAMSTATE_REQUIRE_DOT is set but Graphviz's dot is not installed"
        );
        eprintln!("skipped: Graphviz's dot is not installed (apt-get install graphviz)");
        return None;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stderr.is_empty(),
        "dot rejects the graph: {}\n{text}",
        support::text(&out.stderr)
    );
    Some(support::text(&out.stdout))
}

#[tokio::test]
async fn the_mermaid_graph_groups_steps_per_resource_in_apply_order() {
    let out = graph(
        &path("examples/allowlist.yaml"),
        &path("examples/demo-account.yaml"),
        &["-o", "mermaid"],
    )
    .await;
    insta::assert_snapshot!("graph_allowlist_mermaid", out);
}

#[tokio::test]
async fn graphviz_parses_the_dot_graph_with_one_cluster_per_resource() {
    let out = graph(
        &path("examples/empty-account.yaml"),
        &path("examples/demo-account.yaml"),
        &["--collapse-above", "1000"],
    )
    .await;
    assert!(out.starts_with("digraph ramstate {\n"), "{out}");
    assert!(
        out.contains("subgraph cluster_0 {\n    label=\"user.alice\";"),
        "{out}"
    );
    let steps = out.matches(" [label=").count() - 1; // the node defaults line has none
    let Some(layout) = graphviz(&out) else { return };
    // Graphviz laid out every step node and every arrow.
    let nodes = layout.lines().filter(|l| l.starts_with("node ")).count();
    let edges = layout.lines().filter(|l| l.starts_with("edge ")).count();
    assert_eq!(nodes, steps + 1, "{layout}");
    assert_eq!(edges, out.matches(" -> ").count());
    assert!(edges > 20, "{edges} edges");
}

#[tokio::test]
async fn a_plan_beyond_the_collapse_size_is_drawn_one_node_per_resource() {
    let out = graph(
        &path("examples/allowlist.yaml"),
        &path("examples/demo-account.yaml"),
        &["-o", "mermaid", "--collapse-above", "5"],
    )
    .await;
    assert!(
        out.contains("%% 11 steps: one node per resource (--collapse-above 5)."),
        "{out}"
    );
    assert!(out.contains("  r0[\"user.bob (3 steps)\"]"), "{out}");
    assert!(out.contains("  r2[\"group.analysts (3 steps)\"]"), "{out}");
    // bob's membership goes before the analysts group: one arrow between the two.
    assert_eq!(out.matches("  r0 --> r2\n").count(), 1, "{out}");
    assert!(!out.contains("subgraph"), "{out}");
}

#[tokio::test]
async fn a_generated_account_of_hundreds_of_steps_collapses_by_default_and_dot_parses_it() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("big.yaml");
    let (code, yaml, _) = ramstate(&[
        "emulator",
        "generate",
        "--users",
        "15",
        "--groups",
        "5",
        "--roles",
        "10",
        "--policies",
        "10",
    ])
    .await;
    assert_eq!(code, 0);
    std::fs::write(&seed, yaml).unwrap();
    let empty = path("examples/empty-account.yaml");
    // The generated account is not the one the file pins: plan it with a copy unpinned.
    let file = dir.path().join("empty.yaml");
    std::fs::write(
        &file,
        std::fs::read_to_string(&empty)
            .unwrap()
            .replace("account: { id: \"5123456789012345\" }\n", ""),
    )
    .unwrap();
    // No client-side rate limit: the sandbox answers at once.
    let out = graph(
        file.to_str().unwrap(),
        seed.to_str().unwrap(),
        &["--qps", "0"],
    )
    .await;
    let steps: usize = out
        .lines()
        .nth(3)
        .and_then(|l| l.trim().strip_prefix("// "))
        .and_then(|l| l.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a collapse comment: {out}"));
    assert!(steps > 300, "{steps} steps");
    let resources = out.lines().filter(|l| l.contains(" step")).count() - 1;
    assert!(resources < steps / 2, "{resources} nodes for {steps} steps");
    graphviz(&out);
}

#[tokio::test]
async fn diff_markdown_with_graph_appends_the_mermaid_apply_order() {
    let (code, out, err) = ramstate(&[
        "diff",
        &path("examples/allowlist.yaml"),
        "--sandbox",
        &path("examples/demo-account.yaml"),
        "-o",
        "markdown",
        "--graph",
    ])
    .await;
    assert_eq!(code, 0, "{err}");
    let (plan, order) = out
        .split_once("\n#### Apply order\n\n```mermaid\n")
        .expect(&out);
    assert!(
        plan.contains("**Plan: 0 to add, 0 to change, 11 to destroy.**"),
        "{plan}"
    );
    assert!(
        order.starts_with("flowchart LR\n  subgraph r0[\"user.bob\"]\n"),
        "{order}"
    );
    assert!(order.ends_with("  s7 --> s8\n```\n"), "{order}");

    let (code, out, err) = ramstate(&[
        "diff",
        &path("examples/allowlist.yaml"),
        "--sandbox",
        &path("examples/demo-account.yaml"),
        "--graph",
    ])
    .await;
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(
        err.contains("--graph embeds the apply order in `-o markdown` only"),
        "{err}"
    );
}

#[tokio::test]
async fn a_plan_without_changes_draws_a_single_no_changes_node() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("none.yaml");
    std::fs::write(
        &file,
        "version: 1\nmanage: [saml_providers]\nkeep: {saml_providers: [corp-idp]}\n",
    )
    .unwrap();
    let seed = path("examples/demo-account.yaml");
    let out = graph(file.to_str().unwrap(), &seed, &["-o", "mermaid"]).await;
    assert_eq!(out, "flowchart LR\n  none[\"No changes\"]\n");
    let out = graph(file.to_str().unwrap(), &seed, &[]).await;
    graphviz(&out);
}
