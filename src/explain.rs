//! `explain`: for one address, what the plan does there and which line of the file decided
//! it, what its steps wait for and what waits for them, and whether it is protected. Pure:
//! built from the desired state, the plan and its graph.

use serde::Serialize;

use crate::config::DesiredState;
use crate::graph::ApplyGraph;
use crate::model::Kind;
use crate::plan::{Address, Decision, Plan, Resource, kind_of};

/// What the plan decided for one address.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Explanation {
    pub address: Address,
    /// The kind the address falls under (none for the account settings that are only
    /// ever declared: password policy, security preference).
    pub kind: Option<Kind>,
    pub verdict: Verdict,
    /// The rule that decided the verdict, with its line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Decision>,
    /// For an entity that goes (or would go, when protected): every keep rule of its kind
    /// that was tried on it and did not match.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules_tried: Vec<Decision>,
    /// Why ramstate leaves it alone although no rule keeps it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protected: Option<String>,
    /// Why the plan holds it although no rule keeps it: a `created_before` rule cannot
    /// date it, or offboarding holds it (the idle guard, the quarantine).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
    /// The plan's steps at this address (or, for a resource, at it and its parts).
    pub steps: Vec<StepRef>,
    /// Steps elsewhere that must finish before these start.
    pub waits_for: Vec<StepRef>,
    /// Steps elsewhere that wait for these.
    pub unblocks: Vec<StepRef>,
}

/// What happens at an address.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A keep rule matches it, or it hangs off something kept.
    Kept,
    /// The plan removes it (or a part of it).
    Removed,
    /// The plan changes it in place (a setting reset, a key deactivated, ...).
    Changed,
    /// The plan creates it (declared, not in the account).
    Created,
    /// Declared, and the account matches the declaration.
    Declared,
    /// It would be removed, but the caller depends on it.
    Protected,
    /// It goes, but not yet, or a rule cannot tell whether it keeps it: held by the idle
    /// guard, in quarantine, or undated under a `created_before` rule.
    Held,
    /// Its kind is not managed by the file: nothing of it is touched.
    NotManaged,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Kept => "kept",
            Verdict::Removed => "removed",
            Verdict::Changed => "changed",
            Verdict::Created => "created",
            Verdict::Declared => "declared",
            Verdict::Protected => "protected",
            Verdict::Held => "held",
            Verdict::NotManaged => "not managed",
        }
    }
}

/// One step, as `explain` lists it.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct StepRef {
    pub address: Address,
    /// `delete`, `detach`, ...
    pub action: &'static str,
    /// The API call, e.g. `DeleteUser UserName=bob`.
    pub call: String,
    /// Why the step is in the plan.
    pub reason: String,
}

/// Why an address cannot be explained.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("{address} is neither in the plan nor kept: the account has no such entity")]
#[diagnostic(
    code(ramstate::explain::unknown_address),
    help("addresses are printed by `ramstate diff` (e.g. user.alice, policy.ops, user.alice/group.dev){}", similar_help(.similar))
)]
pub struct UnknownAddress {
    pub address: Address,
    pub similar: Vec<String>,
}

fn similar_help(similar: &[String]) -> String {
    if similar.is_empty() {
        String::new()
    } else {
        format!("; in this plan: {}", similar.join(", "))
    }
}

/// Explains `address` in `plan`.
pub fn explain(
    desired: &DesiredState,
    plan: &Plan,
    graph: &ApplyGraph,
    address: &Address,
) -> Result<Explanation, UnknownAddress> {
    let kind = kind_of(&address.resource);
    let managed = kind.is_some_and(|k| desired.manages(k));
    let mut e = Explanation {
        address: address.clone(),
        kind,
        verdict: Verdict::NotManaged,
        decided_by: None,
        rules_tried: Vec::new(),
        protected: None,
        held: None,
        steps: Vec::new(),
        waits_for: Vec::new(),
        unblocks: Vec::new(),
    };
    // The steps at the address, or at the resource and its parts.
    let mine: Vec<usize> = (0..plan.changes.len())
        .filter(|&i| {
            let a = &plan.changes[i].address;
            a == address || (address.is_resource() && a.resource == address.resource)
        })
        .collect();
    let step_ref = |i: usize| {
        let c = &plan.changes[i];
        StepRef {
            address: c.address.clone(),
            action: c.action().verb(),
            call: c.call().to_string(),
            reason: c.why().to_string(),
        }
    };
    e.steps = mine.iter().map(|&i| step_ref(i)).collect();
    let mut before: Vec<usize> = mine
        .iter()
        .flat_map(|&i| graph.dependencies(i))
        .filter(|j| !mine.contains(j))
        .collect();
    before.sort_unstable();
    before.dedup();
    let mut after: Vec<usize> = mine
        .iter()
        .flat_map(|&i| graph.dependents(i))
        .filter(|j| !mine.contains(j))
        .collect();
    after.sort_unstable();
    after.dedup();
    e.waits_for = before.into_iter().map(step_ref).collect();
    e.unblocks = after.into_iter().map(step_ref).collect();

    let kept = plan
        .kept
        .iter()
        .find(|k| k.address == *address)
        .or_else(|| {
            plan.kept
                .iter()
                .find(|k| k.address == address.resource_address())
        });
    let protected = plan.protected.iter().find(|p| p.address == *address);
    // The step that speaks for the address: its own, else its resource's.
    let main = mine
        .iter()
        .copied()
        .find(|&i| plan.changes[i].address == *address)
        .or_else(|| mine.first().copied());

    let held = plan.held.iter().find(|h| h.address == *address);
    if let Some(h) = held.filter(|_| mine.is_empty()) {
        e.verdict = Verdict::Held;
        e.held = Some(h.reason.clone());
        e.decided_by = kind.map(|k| crate::plan::decision_not_kept(desired, k));
        e.rules_tried = kind.map(|k| rules(desired, k)).unwrap_or_default();
    } else if let Some(p) = protected {
        e.verdict = Verdict::Protected;
        e.protected = Some(p.reason.clone());
        // What would remove it, had the caller not depended on it.
        e.decided_by = kind.map(|k| crate::plan::decision_not_kept(desired, k));
        e.rules_tried = kind.map(|k| rules(desired, k)).unwrap_or_default();
    } else if let Some(i) = main.filter(|&i| kept.is_none() || plan.changes[i].address == *address)
    {
        let c = &plan.changes[i];
        let action = c.action();
        e.verdict = if action.is_create() {
            Verdict::Created
        } else if action.is_destroy() {
            Verdict::Removed
        } else {
            Verdict::Changed
        };
        e.decided_by = c.decided_by.clone();
        if e.verdict == Verdict::Removed && c.address.is_resource() {
            e.rules_tried = kind.map(|k| rules(desired, k)).unwrap_or_default();
        }
    } else if let Some(k) = kept.filter(|_| managed) {
        e.verdict = Verdict::Kept;
        e.decided_by = Some(Decision {
            rule: if k.address == *address {
                strip_line(&k.rule)
            } else {
                format!(
                    "{} keeps {} and what hangs off it",
                    strip_line(&k.rule),
                    k.address
                )
            }
            .into(),
            line: k.line,
        });
    } else if let Some(line) = declared_line(desired, &address.resource) {
        // Declared, and the account already matches: nothing to do.
        e.verdict = Verdict::Declared;
        e.decided_by = Some(Decision {
            rule: format!(
                "declared in resources.{}, and the account matches the declaration",
                kind.filter(|k| !k.is_setting())
                    .map_or("account", |k| k.as_str())
            )
            .into(),
            line: Some(line),
        });
    } else if !managed {
        e.decided_by = Some(Decision {
            rule: match kind {
                Some(k) => format!("manage does not list {k}"),
                None => format!(
                    "{} is an account setting ramstate only sets where resources.account declares it",
                    address.resource.clone().address()
                ),
            }
            .into(),
            line: None,
        });
    } else {
        let mut similar: Vec<String> = plan
            .resources()
            .into_iter()
            .map(|r| r.clone().address().to_string())
            .chain(plan.kept.iter().map(|k| k.address.to_string()))
            .filter(|a| {
                let wanted = address.resource_address().to_string();
                let prefix = wanted.split('.').next().unwrap_or_default();
                a.starts_with(prefix)
            })
            .collect();
        similar.sort();
        similar.dedup();
        similar.truncate(5);
        return Err(UnknownAddress {
            address: address.clone(),
            similar,
        });
    }
    Ok(e)
}

/// The rule text without the ` (line N)` the plan appends.
fn strip_line(rule: &str) -> String {
    match rule.rfind(" (line ") {
        Some(i) if rule.ends_with(')') => rule[..i].to_string(),
        _ => rule.to_string(),
    }
}

/// The line that declares `resource` under `resources:`, if the file declares it.
fn declared_line(desired: &DesiredState, resource: &Resource) -> Option<usize> {
    let d = &desired.declared;
    match resource {
        Resource::User(n) => d.user(n).map(|u| u.line),
        Resource::Group(n) => d.group(n).map(|g| g.line),
        Resource::Role(n) => d.role(n).map(|r| r.line),
        Resource::Policy(n) => d.policy(n).map(|p| p.line),
        Resource::SamlProvider(n) => d
            .saml_providers
            .iter()
            .find(|p| p.name == *n)
            .map(|p| p.line),
        Resource::OidcProvider(n) => d
            .oidc_providers
            .iter()
            .find(|p| p.name == *n)
            .map(|p| p.line),
        _ => None,
    }
}

fn rules(desired: &DesiredState, kind: Kind) -> Vec<Decision> {
    desired
        .keep
        .get(&kind)
        .map(|rules| {
            rules
                .iter()
                .map(|r| Decision {
                    rule: format!("keep.{kind}: {r}").into(),
                    line: (r.line > 0).then_some(r.line),
                })
                .collect()
        })
        .unwrap_or_default()
}
