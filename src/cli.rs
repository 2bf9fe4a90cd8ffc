//! Command-line shape (clap derive types only; no logic).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ramstate",
    version,
    about = "Keep an Alibaba Cloud account's RAM in a declared state: plan, apply, close-ready.",
    after_long_help = AFTER_LONG_HELP
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// The end of `--help` and of the man page: exit status and environment.
const AFTER_LONG_HELP: &str = "\
Exit status:
  0  success; nothing to change (diff), converged (apply), ready (readiness)
  1  an error, or an apply that did not converge
  2  changes pending (diff --detailed-exitcode), or something blocks closing (readiness)
  141 standard output was closed by its reader (`| head`), as for SIGPIPE

Environment:
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN
                 credentials (preferred over --access-key-secret)
  ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN, ALIBABA_CLOUD_OIDC_TOKEN_FILE
                 sign in through OIDC (CI)
  ALIBABA_CLOUD_PROFILE  profile of ~/.aliyun/config.json
  RAMSTATE_ENDPOINT      send every call to this URL (an emulator)
  NO_COLOR               no colour with --color auto";

/// The heading of the options that only commands reaching an account read; the others
/// (validate, schema, emulator, completions, man) accept and ignore them.
const ACCOUNT_OPTIONS: &str = "Account options (diff, apply, restore, explain, graph, inventory, readiness, recycle-bin, whoami)";

/// The global flags as typed; [`crate::settings::Settings`] resolves them against the
/// environment and checks them.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = ACCOUNT_OPTIONS)]
pub struct GlobalArgs {
    /// Run against an in-process emulator seeded from this account snapshot (no credentials
    /// needed; refused with --endpoint or RAMSTATE_ENDPOINT).
    #[arg(long, global = true, value_name = "SEED")]
    pub sandbox: Option<PathBuf>,
    /// Send every API call to this URL (plain http only to loopback addresses) [env: RAMSTATE_ENDPOINT].
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint: Option<String>,
    /// Profile of the aliyun CLI's config.json [env: ALIBABA_CLOUD_PROFILE].
    #[arg(long, global = true)]
    pub profile: Option<String>,
    /// Access key ID (prefer the environment or a profile).
    #[arg(long, global = true, value_name = "ID")]
    pub access_key_id: Option<String>,
    /// Access key secret. Other users can read it in the process list: prefer
    /// ALIBABA_CLOUD_ACCESS_KEY_SECRET or a profile.
    #[arg(long, global = true, value_name = "SECRET")]
    pub access_key_secret: Option<String>,
    /// Region ID for regional STS endpoints, e.g. cn-hangzhou [env: ALIBABA_CLOUD_REGION_ID].
    #[arg(long, global = true, value_name = "ID")]
    pub region: Option<String>,
    /// Client-side limit on API calls per second, shared by every call; 0: no client-side limit
    /// (the client still slows down when the server throttles).
    #[arg(
        long,
        global = true,
        value_name = "QPS",
        default_value = "50",
        allow_negative_numbers = true
    )]
    pub qps: String,
    /// Calls in flight at once (fetch and apply), 1–256.
    #[arg(
        long,
        global = true,
        value_name = "N",
        default_value = "10",
        allow_negative_numbers = true
    )]
    pub parallelism: String,
    /// Per-call timeout in seconds, 1–3600.
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        default_value = "30",
        allow_negative_numbers = true
    )]
    pub timeout: String,
    /// Colour in text output (`NO_COLOR` turns `auto` off).
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t = ColorChoice::Auto,
        help_heading = "Output options"
    )]
    pub color: ColorChoice,
    /// Results and errors only: no progress bars and no status lines on stderr.
    #[arg(short, long, global = true, help_heading = "Output options")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    Text,
    Json,
    Yaml,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what stands between the account and the desired state (never mutates).
    #[command(alias = "plan")]
    Diff(DiffArgs),
    /// Change the account to match the desired state, in dependency order.
    Apply(ApplyArgs),
    /// Bring back what an apply deleted, from the backup it wrote: users from the
    /// recycle bin (or recreated), then their keys, memberships, policies, tags, profile.
    Restore(RestoreArgs),
    /// Say what the plan does at one address and which line of the file decided it.
    Explain(ExplainArgs),
    /// Draw the apply graph: each step, grouped per resource, after what it waits for.
    Graph(GraphArgs),
    /// Check a desired-state file and report every problem.
    Validate(ValidateArgs),
    /// Print the JSON Schema of the desired-state file.
    Schema,
    /// Print everything the account holds.
    Inventory(InventoryArgs),
    /// Say whether the account can be closed, item by item.
    Readiness(ReadinessArgs),
    /// List the users and access keys in the recycle bin: deleted when, days left of 30.
    RecycleBin(RecycleBinArgs),
    /// Print who the credentials belong to.
    Whoami,
    /// Write the live account as a desired-state file (declarations, or an allowlist).
    Export(ExportArgs),
    /// The local emulator of the RAM, IMS, STS and ResourceManager APIs.
    #[command(subcommand)]
    Emulator(EmulatorCommand),
    /// Print a shell completion script: `source <(ramstate completions bash)`.
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one per command into a directory.
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write ramstate.1 and one page per subcommand (ramstate-diff.1, ...) into this directory.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// Desired-state file.
    pub file: PathBuf,
    #[arg(short, long, value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,
    /// Exit 0 when nothing changes, 2 when changes are pending, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan (with the account and a fingerprint of the inventory) for `apply`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// With `-o markdown`: add the apply order as a Mermaid diagram (as `ramstate graph`).
    #[arg(long)]
    pub graph: bool,
    /// With --detailed-exitcode: exit 2, not 1, when a keep rule that matches nothing
    /// has its most likely target deleted by the plan (as `apply --allow-unmatched-keep`).
    #[arg(long)]
    pub allow_unmatched_keep: bool,
    /// Remove users that `offboarding.min_idle_days` would hold (used recently); the
    /// plan says which.
    #[arg(long)]
    pub ignore_idle_guard: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Desired-state file or saved plan (default: ramstate.yaml in the current directory).
    pub file: Option<PathBuf>,
    /// Do not ask; the account in the file (or --account-id) must still be the caller's.
    #[arg(long)]
    pub auto_approve: bool,
    /// The account this run is meant for, when the file does not name one.
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// How the outcome is printed: `json` puts one document on stdout (the plan, each
    /// step's result, what is left) and the plan to review on stderr.
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
    /// Apply even when a keep rule matches nothing and the plan deletes the entity it most
    /// likely meant (a near name, or the same name in another case); refused otherwise.
    #[arg(long)]
    pub allow_unmatched_keep: bool,
    /// Where the backup written before a deletion goes (default:
    /// $XDG_STATE_HOME/ramstate/backups/ACCOUNT, or ~/.local/state/ramstate/backups/ACCOUNT).
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    /// Remove users that `offboarding.min_idle_days` would hold (used recently); the
    /// plan says which.
    #[arg(long)]
    pub ignore_idle_guard: bool,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// A backup that `apply` wrote before it deleted (it prints `backup: PATH`).
    pub backup: PathBuf,
    /// Restore only these users (and the groups and policies they need); repeatable.
    #[arg(long = "user", value_name = "NAME")]
    pub users: Vec<String>,
    /// Do not ask; the account in the backup (or --account-id) must still be the caller's.
    #[arg(long)]
    pub auto_approve: bool,
    /// The account this run is meant for, when the backup does not name one.
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz: `ramstate graph FILE | dot -Tsvg > plan.svg`.
    Dot,
    /// A Mermaid flowchart (GitHub and GitLab render it in Markdown).
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Desired-state file.
    pub file: PathBuf,
    #[arg(short, long, value_enum, default_value_t = GraphFormat::Dot)]
    pub output: GraphFormat,
    /// Draw one node per resource (with its step count) when the plan has more steps.
    #[arg(long, value_name = "STEPS", default_value_t = crate::render::COLLAPSE_ABOVE)]
    pub collapse_above: usize,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// Desired-state file.
    pub file: PathBuf,
    /// The address, as `diff` prints it: `user.alice`, `policy.ops`, `user.alice/group.dev`.
    pub address: String,
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the file here instead of to standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// `declared`: every user, group, role, policy and identity provider declared, with
    /// the account's settings (diff against the same account: no changes). `allowlist`:
    /// keep rules naming everything, every kind managed (the baseline to prune).
    #[arg(long = "as", value_enum, default_value_t = ExportShape::Declared)]
    pub shape: ExportShape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportShape {
    Declared,
    Allowlist,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct InventoryArgs {
    #[arg(short, long, value_enum, default_value_t = DataFormat::Text)]
    pub output: DataFormat,
}

#[derive(Debug, Args)]
pub struct RecycleBinArgs {
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Text)]
    pub output: ReportFormat,
}

#[derive(Debug, Args)]
pub struct ReadinessArgs {
    #[arg(short, long, value_enum, default_value_t = PlanFormat::Text)]
    pub output: PlanFormat,
}

#[derive(Debug, Subcommand)]
pub enum EmulatorCommand {
    /// Serve the emulator on loopback until interrupted; the first line of stdout is its URL.
    Serve(ServeArgs),
    /// Print a large deterministic account snapshot (a seed).
    Generate(GenerateArgs),
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Account snapshot to start from (YAML or JSON); an empty account without it.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// Port on 127.0.0.1 (0: the OS chooses).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Write the request log as JSON lines to this file.
    #[arg(long, value_name = "FILE")]
    pub log: Option<PathBuf>,
    /// Run the account's clock this many days ahead of the wall clock (negative:
    /// behind), e.g. 31 to see what the recycle bin's 30-day purge leaves.
    #[arg(long, value_name = "DAYS", default_value_t = 0, allow_hyphen_values = true,
          value_parser = clap::value_parser!(i64).range(-36_500..=36_500))]
    pub clock_offset_days: i64,
    #[command(flatten)]
    pub faults: FaultArgs,
}

/// Injected faults, all off by default.
#[derive(Debug, Clone, Default, Args)]
pub struct FaultArgs {
    /// Fixed latency added to every call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Random extra latency up to this many milliseconds.
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    /// Calls per second allowed before `Throttling.User` (0: unlimited).
    #[arg(long, default_value_t = 0.0)]
    pub qps_limit: f64,
    /// Apply the QPS limit to each action separately instead of globally.
    #[arg(long)]
    pub qps_per_action: bool,
    /// Fraction of calls answered with ServiceUnavailable or InternalError.
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Fraction of calls whose connection is dropped without an answer.
    #[arg(long, default_value_t = 0.0)]
    pub drop_rate: f64,
    /// Writes show up in List and Get calls only after this many milliseconds (at
    /// least seven eighths of them).
    #[arg(long, default_value_t = 0)]
    pub consistency_delay_ms: u64,
    /// Seed for the fault randomness (deterministic runs).
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
}

#[derive(Debug, Clone, Args)]
pub struct GenerateArgs {
    #[arg(long, default_value_t = 100)]
    pub users: usize,
    #[arg(long, default_value_t = 20)]
    pub groups: usize,
    #[arg(long, default_value_t = 50)]
    pub roles: usize,
    #[arg(long, default_value_t = 50)]
    pub policies: usize,
    /// Seed of the generator: the same seed prints the same account.
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    #[arg(short, long, value_enum, default_value_t = DataFormat::Yaml)]
    pub output: DataFormat,
}
