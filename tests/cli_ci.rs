//! The CI examples of `examples/ci/`, run as written: each job's own shell commands, read
//! from the workflow file, run by bash against an emulator serving `examples/ci/account.yaml`,
//! signed in through OIDC with a token the test issues the way the CI system would (issuer,
//! audience and subject of GitHub Actions or GitLab). Exit codes are the contract: a plan
//! step succeeds on 0 (clean) and 2 (changes pending) and fails on 1 (error); the drift job
//! fails on drift; the apply job converges the account.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use ramstate::emulator::Emulator;
use ramstate::model::Inventory;
use support::*;
use yaml_serde::Value;

const ACCOUNT: &str = "5123456789012345";

fn ci_seed() -> Inventory {
    ramstate::emulator::load_seed(&repo_path("examples/ci/account.yaml")).expect("the CI seed")
}

/// The CI seed plus what nobody declared: a user and a custom policy.
fn drifted_seed() -> Inventory {
    let mut seed = ci_seed();
    let mut user = seed.users[0].clone();
    user.name = "mallory".into();
    user.id = "250000000000666".into();
    user.tags.clear();
    user.groups.clear();
    seed.users.push(user);
    seed
}

/// An unsigned JWT with the claims STS checks (the emulator cannot reach the issuer's keys).
fn jwt(iss: &str, aud: &str, sub: &str) -> String {
    let b64 = |v: serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string().as_bytes())
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    format!(
        "{}.{}.sig",
        b64(serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "ci"})),
        b64(serde_json::json!({"iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + 300}))
    )
}

fn load(rel: &str) -> Value {
    yaml_serde::from_str(&std::fs::read_to_string(repo_path(rel)).unwrap()).unwrap()
}

fn str_map(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_mapping)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.clone(),
                        other => yaml_serde::to_string(other).unwrap().trim().to_string(),
                    };
                    (k.as_str().unwrap().to_string(), v)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A job's workspace: the desired-state file at the top, as in the user's repository.
struct Workspace {
    dir: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Workspace {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(
            repo_path("examples/ci/ramstate.yaml"),
            dir.path().join("ramstate.yaml"),
        )
        .unwrap();
        Workspace { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path().join(name)).unwrap_or_default()
    }
}

struct Ran {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `script` with bash the way CI runners do (`-eo pipefail`), with only `env`, the
/// built `ramstate` first on PATH, and the emulator as the endpoint (the one line a real
/// job does not have).
async fn bash(emu: &Emulator, dir: &Path, script: &str, env: BTreeMap<String, String>) -> Ran {
    let bin_dir: PathBuf = assert_cmd::cargo::cargo_bin("ramstate")
        .parent()
        .unwrap()
        .to_path_buf();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let url = emu.url().to_string();
    let dir = dir.to_path_buf();
    let script = script.to_string();
    tokio::task::spawn_blocking(move || {
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .current_dir(&dir)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &dir)
            .envs(env)
            .env("RAMSTATE_ENDPOINT", url)
            .output()
            .expect("bash runs");
        Ran {
            code: out.status.code().unwrap_or(-1),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
        }
    })
    .await
    .unwrap()
}

// ---------------------------------------------------------------- GitHub Actions

const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// Steps the test cannot run and does in their place: the binary is on PATH, and the
/// token file is written with a token like the one GitHub issues.
const GITHUB_PROVIDED: [&str; 2] = ["install", "token"];

struct GitHub {
    workflow: Value,
}

impl GitHub {
    fn load() -> GitHub {
        GitHub {
            workflow: load("examples/ci/github-actions.yml"),
        }
    }

    fn step(&self, job: &str, id: &str) -> &Value {
        self.workflow["jobs"][job]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| s["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("job {job} has a step with id {id}"))
    }

    /// `${{ expr }}` replaced from `ctx`; an expression the test does not know fails it.
    fn expand(value: &str, ctx: &BTreeMap<&str, String>) -> String {
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            let expr = rest[start + 3..end].trim();
            out.push_str(
                ctx.get(expr)
                    .unwrap_or_else(|| panic!("unknown expression {expr}")),
            );
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    /// Runs one step's `run:` script with the workflow's, the job's and the step's env.
    async fn run(
        &self,
        emu: &Emulator,
        ws: &Workspace,
        job: &str,
        id: &str,
        ctx: &BTreeMap<&str, String>,
    ) -> (Ran, BTreeMap<String, String>) {
        let step = self.step(job, id);
        let script = step["run"].as_str().expect("a run step");
        assert!(
            !script.contains("${{"),
            "step {id} keeps expressions out of its script (they go through env)"
        );
        let output = ws.path().join("github-output");
        std::fs::write(&output, "").unwrap();
        let mut env = BTreeMap::new();
        for scope in [
            self.workflow.get("env"),
            self.workflow["jobs"][job].get("env"),
            step.get("env"),
        ] {
            for (k, v) in str_map(scope) {
                env.insert(k, Self::expand(&v, ctx));
            }
        }
        env.insert("GITHUB_OUTPUT".into(), output.display().to_string());
        env.insert(
            "GITHUB_STEP_SUMMARY".into(),
            ws.path().join("github-summary").display().to_string(),
        );
        let token_file = PathBuf::from(&env["ALIBABA_CLOUD_OIDC_TOKEN_FILE"]);
        let ran = bash(emu, ws.path(), script, env).await;
        let outputs = std::fs::read_to_string(&output)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(token_file.starts_with(ws.path()));
        (ran, outputs)
    }

    /// The context of a run: repository variables, the runner's temp directory, and the
    /// token the job's "Fetch the job's OIDC token" step would have written.
    fn context(ws: &Workspace, sub: &str, aud: &str) -> BTreeMap<&'static str, String> {
        let temp = ws.path().join("runner-temp");
        std::fs::create_dir_all(&temp).unwrap();
        std::fs::write(
            temp.join("alibaba-oidc-token"),
            jwt(GITHUB_ISSUER, aud, sub),
        )
        .unwrap();
        BTreeMap::from([
            ("vars.ALIBABA_CLOUD_ACCOUNT_ID", ACCOUNT.to_string()),
            ("vars.RAMSTATE_GIT_URL", "unused".to_string()),
            ("runner.temp", temp.display().to_string()),
        ])
    }
}

#[test]
fn the_github_workflow_runs_on_pull_requests_schedules_and_manual_dispatch_only() {
    let gh = GitHub::load();
    let on = &gh.workflow["on"];
    assert_eq!(
        on["pull_request"]["paths"],
        yaml_serde::from_str::<Value>("[ramstate.yaml]").unwrap()
    );
    assert!(on["schedule"][0]["cron"].as_str().is_some());
    assert!(on.get("workflow_dispatch").is_some());
    // Keyless: the jobs may ask for an OIDC token, and nothing reads a stored secret.
    for job in ["plan", "apply"] {
        assert_eq!(
            gh.workflow["jobs"][job]["permissions"]["id-token"].as_str(),
            Some("write")
        );
    }
    let text = std::fs::read_to_string(repo_path("examples/ci/github-actions.yml")).unwrap();
    assert!(!text.contains("secrets."), "no stored keys");
    assert!(!text.contains("ACCESS_KEY"), "no stored keys");
    // The apply job runs in the protected environment the apply role trusts.
    assert_eq!(
        gh.workflow["jobs"]["apply"]["environment"].as_str(),
        Some("production")
    );
    // Every run step is either run by the tests below or done in their place.
    for job in ["plan", "apply"] {
        for step in gh.workflow["jobs"][job]["steps"].as_sequence().unwrap() {
            if step.get("run").is_none() {
                continue;
            }
            let id = step["id"].as_str().expect("run steps have an id");
            assert!(
                ["plan", "drift", "apply"].contains(&id) || GITHUB_PROVIDED.contains(&id),
                "step {id} of job {job} is not covered"
            );
        }
        let token = gh.step(job, "token")["run"].as_str().unwrap();
        assert!(token.contains("audience=sts.aliyuncs.com"), "{token}");
        assert!(
            token.contains("> \"$ALIBABA_CLOUD_OIDC_TOKEN_FILE\""),
            "{token}"
        );
    }
}

#[tokio::test]
async fn github_plan_of_a_clean_account_passes_with_no_changes() {
    let emu = start(ci_seed()).await;
    let gh = GitHub::load();
    let ws = Workspace::new();
    let ctx = GitHub::context(&ws, "repo:acme/ram-config:pull_request", "sts.aliyuncs.com");

    let (plan, outputs) = gh.run(&emu, &ws, "plan", "plan", &ctx).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(outputs["exitcode"], "0");
    let md = ws.read("plan.md");
    assert!(
        md.starts_with(&format!("### Plan for account {ACCOUNT}")),
        "{md}"
    );
    assert!(md.contains("No changes"), "{md}");
    assert_eq!(ws.read("github-summary"), md, "the plan is the job summary");

    let mut ctx = ctx;
    ctx.insert("steps.plan.outputs.exitcode", outputs["exitcode"].clone());
    let (drift, _) = gh.run(&emu, &ws, "plan", "drift", &ctx).await;
    assert_eq!(drift.code, 0, "{}", drift.stdout);

    // It signed in through OIDC as the plan role, and changed nothing.
    let log = emu.log();
    let oidc: Vec<_> = log
        .iter()
        .filter(|e| e.action == "AssumeRoleWithOIDC")
        .collect();
    assert!(!oidc.is_empty());
    assert!(oidc.iter().all(|e| e.params["RoleArn"]
        == format!("acs:ram::{ACCOUNT}:role/ramstate-plan")
        && e.params["OIDCProviderArn"] == format!("acs:ram::{ACCOUNT}:oidc-provider/github")));
    assert!(mutations(&log).is_empty());
}

#[tokio::test]
async fn github_plan_of_a_drifted_account_comments_the_removal_and_the_schedule_fails() {
    let emu = start(drifted_seed()).await;
    let gh = GitHub::load();
    let ws = Workspace::new();
    let ctx = GitHub::context(&ws, "repo:acme/ram-config:pull_request", "sts.aliyuncs.com");

    // On a pull request, pending changes are the point: the step passes and records 2.
    let (plan, outputs) = gh.run(&emu, &ws, "plan", "plan", &ctx).await;
    assert_eq!(plan.code, 0, "{}", plan.stderr);
    assert_eq!(outputs["exitcode"], "2");
    let md = ws.read("plan.md");
    assert!(
        md.contains("**Plan: 0 to add, 0 to change, 1 to destroy.**"),
        "{md}"
    );
    assert!(
        md.contains("| `-` | `user.mallory` | `DeleteUser UserName=mallory` |"),
        "{md}"
    );
    // The comment shows the order too.
    assert!(
        md.contains(
            "#### Apply order\n\n```mermaid\nflowchart LR\n  subgraph r0[\"user.mallory\"]\n"
        ),
        "{md}"
    );
    // The roles it signs in with are kept or protected, never planned for removal.
    assert!(md.contains("`role.ramstate-plan`"), "{md}");
    assert!(!md.contains("DeleteRole"), "{md}");

    // On a schedule, the same plan fails the job.
    let mut ctx = ctx;
    ctx.insert("steps.plan.outputs.exitcode", outputs["exitcode"].clone());
    let (drift, _) = gh.run(&emu, &ws, "plan", "drift", &ctx).await;
    assert_eq!(drift.code, 2);
    assert!(drift.stdout.contains("::error::The account drifted"));
    assert!(mutations(&emu.log()).is_empty(), "a plan never mutates");
}

#[tokio::test]
async fn github_plan_fails_on_an_error_such_as_a_token_for_another_audience() {
    let emu = start(ci_seed()).await;
    let gh = GitHub::load();
    let ws = Workspace::new();
    let ctx = GitHub::context(&ws, "repo:acme/ram-config:pull_request", "someone-else");

    let (plan, outputs) = gh.run(&emu, &ws, "plan", "plan", &ctx).await;
    assert_eq!(plan.code, 1, "an error fails the step");
    assert_eq!(outputs["exitcode"], "1");
    assert!(
        plan.stderr
            .contains("AuthenticationFail.OIDCToken.AudienceNotMatch"),
        "{}",
        plan.stderr
    );
}

#[tokio::test]
async fn github_apply_from_a_pull_request_token_is_refused_by_the_apply_role_trust_policy() {
    let emu = start(drifted_seed()).await;
    let gh = GitHub::load();
    let ws = Workspace::new();
    let ctx = GitHub::context(&ws, "repo:acme/ram-config:pull_request", "sts.aliyuncs.com");

    let (apply, _) = gh.run(&emu, &ws, "apply", "apply", &ctx).await;
    assert_eq!(apply.code, 1);
    assert!(
        apply.stderr.contains("AuthenticationFail.NoPermission"),
        "{}",
        apply.stderr
    );
    assert!(mutations(&emu.log()).is_empty());
}

#[tokio::test]
async fn github_apply_converges_the_account_and_the_next_plan_is_clean() {
    let emu = start(drifted_seed()).await;
    let gh = GitHub::load();
    let ws = Workspace::new();
    let ctx = GitHub::context(
        &ws,
        "repo:acme/ram-config:environment:production",
        "sts.aliyuncs.com",
    );

    let (apply, _) = gh.run(&emu, &ws, "apply", "apply", &ctx).await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    let after = emu.snapshot();
    assert!(after.users.iter().all(|u| u.name != "mallory"));
    // The role and provider it signed in with are untouched.
    assert!(after.roles.iter().any(|r| r.name == "ramstate-apply"));
    assert!(after.oidc_providers.iter().any(|p| p.name == "github"));
    let log = emu.log();
    assert!(log.iter().any(|e| e.action == "AssumeRoleWithOIDC"
        && e.params["RoleArn"] == format!("acs:ram::{ACCOUNT}:role/ramstate-apply")));
    let deleted: Vec<_> = mutations(&log)
        .iter()
        .map(|e| format!("{} {:?}", e.action, e.params))
        .collect();
    assert_eq!(deleted.len(), 1, "{deleted:?}");

    let (plan, outputs) = gh.run(&emu, &ws, "plan", "plan", &ctx).await;
    assert_eq!(plan.code, 0);
    assert_eq!(outputs["exitcode"], "0");
}

// ---------------------------------------------------------------- GitLab CI

const GITLAB_ISSUER: &str = "https://gitlab.com";

struct GitLab {
    pipeline: Value,
}

/// A job with its `extends` resolved (variables merged, scripts inherited).
struct GitLabJob {
    variables: Vec<(String, String)>,
    script: Vec<String>,
    token_audience: String,
}

impl GitLab {
    fn load() -> GitLab {
        GitLab {
            pipeline: load("examples/ci/gitlab-ci.yml"),
        }
    }

    fn job(&self, name: &str) -> GitLabJob {
        let job = &self.pipeline[name];
        let base = &self.pipeline[job["extends"].as_str().expect("jobs extend .ramstate")];
        let mut variables = str_map(base.get("variables"));
        for (k, v) in str_map(job.get("variables")) {
            variables.retain(|(key, _)| *key != k);
            variables.push((k, v));
        }
        let lines = |v: &Value| -> Vec<String> {
            v.as_sequence()
                .map(|s| s.iter().map(|l| l.as_str().unwrap().to_string()).collect())
                .unwrap_or_default()
        };
        let mut script = lines(&base["before_script"]);
        script.extend(lines(&job["script"]));
        GitLabJob {
            variables,
            script,
            token_audience: base["id_tokens"]["ALIBABA_CLOUD_OIDC_TOKEN"]["aud"]
                .as_str()
                .unwrap()
                .to_string(),
        }
    }

    /// `$NAME` and `${NAME}` expanded as GitLab expands variables in variables.
    fn expand(value: &str, vars: &BTreeMap<String, String>) -> String {
        let re = regex::Regex::new(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?").unwrap();
        re.replace_all(value, |c: &regex::Captures<'_>| {
            vars.get(&c[1])
                .cloned()
                .unwrap_or_else(|| panic!("unknown variable {}", &c[1]))
        })
        .into_owned()
    }

    /// Runs a job's before_script and script, with the predefined variables of a
    /// pipeline started by `source` and the ID token GitLab would inject.
    async fn run(&self, emu: &Emulator, ws: &Workspace, name: &str, source: &str) -> Ran {
        let job = self.job(name);
        let sub = match source {
            "merge_request_event" => "project_path:acme/ram-config:ref_type:branch:ref:feature",
            _ => "project_path:acme/ram-config:ref_type:branch:ref:main",
        };
        let mut vars = BTreeMap::from([
            ("ALIBABA_CLOUD_ACCOUNT_ID".to_string(), ACCOUNT.to_string()),
            (
                "CI_PROJECT_DIR".to_string(),
                ws.path().display().to_string(),
            ),
            ("CI_PIPELINE_SOURCE".to_string(), source.to_string()),
            (
                "ALIBABA_CLOUD_OIDC_TOKEN".to_string(),
                jwt(GITLAB_ISSUER, &job.token_audience, sub),
            ),
        ]);
        for (k, v) in &job.variables {
            let v = Self::expand(v, &vars);
            vars.insert(k.clone(), v);
        }
        bash(emu, ws.path(), &job.script.join("\n"), vars).await
    }
}

#[test]
fn the_gitlab_jobs_run_on_merge_requests_schedules_and_by_hand_on_the_default_branch() {
    let gl = GitLab::load();
    let rule = |job: &str| {
        gl.pipeline[job]["rules"][0]["if"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        rule("ramstate:plan"),
        r#"$CI_PIPELINE_SOURCE == "merge_request_event""#
    );
    assert_eq!(
        rule("ramstate:drift"),
        r#"$CI_PIPELINE_SOURCE == "schedule""#
    );
    assert_eq!(
        rule("ramstate:apply"),
        "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"
    );
    assert_eq!(
        gl.pipeline["ramstate:apply"]["rules"][0]["when"].as_str(),
        Some("manual")
    );
    assert_eq!(
        gl.pipeline["ramstate:apply"]["environment"].as_str(),
        Some("production")
    );
    assert_eq!(gl.job("ramstate:plan").token_audience, "sts.aliyuncs.com");
    let apply_role = gl
        .job("ramstate:apply")
        .variables
        .into_iter()
        .find(|(k, _)| k == "ALIBABA_CLOUD_ROLE_ARN")
        .unwrap()
        .1;
    assert!(apply_role.ends_with(":role/ramstate-apply"));
}

#[tokio::test]
async fn gitlab_merge_request_plan_passes_on_drift_and_the_scheduled_job_fails() {
    let emu = start(drifted_seed()).await;
    let gl = GitLab::load();
    let ws = Workspace::new();

    let plan = gl
        .run(&emu, &ws, "ramstate:plan", "merge_request_event")
        .await;
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("ramstate diff exited 2"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("RAMSTATE_NOTE_TOKEN is not set"));
    let md = ws.read("plan.md");
    assert!(md.contains("| `-` | `user.mallory` |"), "{md}");

    let drift = gl.run(&emu, &ws, "ramstate:drift", "schedule").await;
    assert_eq!(drift.code, 2, "drift fails the scheduled job");
    assert_eq!(ws.read("plan.md"), md, "and leaves the same plan behind");

    let log = emu.log();
    assert!(log.iter().any(|e| e.action == "AssumeRoleWithOIDC"
        && e.params["OIDCProviderArn"] == format!("acs:ram::{ACCOUNT}:oidc-provider/gitlab")
        && e.params["RoleArn"] == format!("acs:ram::{ACCOUNT}:role/ramstate-plan")));
    assert!(mutations(&log).is_empty(), "a plan never mutates");
}

#[tokio::test]
async fn gitlab_manual_apply_converges_and_the_scheduled_job_then_passes() {
    let emu = start(drifted_seed()).await;
    let gl = GitLab::load();
    let ws = Workspace::new();

    let apply = gl.run(&emu, &ws, "ramstate:apply", "web").await;
    assert_eq!(apply.code, 0, "{}\n{}", apply.stdout, apply.stderr);
    assert!(emu.snapshot().users.iter().all(|u| u.name != "mallory"));
    assert!(emu.log().iter().any(|e| e.action == "AssumeRoleWithOIDC"
        && e.params["RoleArn"] == format!("acs:ram::{ACCOUNT}:role/ramstate-apply")));

    let drift = gl.run(&emu, &ws, "ramstate:drift", "schedule").await;
    assert_eq!(drift.code, 0, "{}", drift.stderr);
    assert!(ws.read("plan.md").contains("No changes"));
}

#[tokio::test]
async fn gitlab_plan_fails_when_the_role_does_not_trust_the_provider() {
    // A seed whose plan role trusts only GitHub: STS refuses GitLab's token.
    let mut seed = ci_seed();
    let role = seed
        .roles
        .iter_mut()
        .find(|r| r.name == "ramstate-plan")
        .unwrap();
    role.assume_role_policy_document = Some(format!(
        r#"{{"Version":"1","Statement":[{{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{{"Federated":["acs:ram::{ACCOUNT}:oidc-provider/github"]}}}}]}}"#
    ));
    let emu = start(seed).await;
    let gl = GitLab::load();
    let ws = Workspace::new();

    let plan = gl
        .run(&emu, &ws, "ramstate:plan", "merge_request_event")
        .await;
    assert_eq!(plan.code, 1);
    assert!(
        plan.stdout.contains("ramstate diff exited 1"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stderr.contains("AuthenticationFail.NoPermission"),
        "{}",
        plan.stderr
    );
}
