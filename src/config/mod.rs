//! The desired-state file: YAML text → [`DesiredState`].
//!
//! [`parse`] is pure and reports every problem of a file in one run, each as a miette
//! diagnostic pointing at its line; [`load`] reads the file first.
//!
//! ```yaml
//! version: 1
//! account: { id: "1234567890123456" }
//! manage: all                       # or a list of kinds
//! keep:
//!   users: [ci-bot, {glob: "svc-*"}, {regex: "^break-glass-\\d+$"}, {tag: {key: team, value: platform}}]
//!   roles: [{created_before: "2024-01-01"}]
//! recycle_bin: purge                # or keep (the default: nothing is purged unless said)
//! default_domain: reset             # or keep
//! account_alias: clear              # or keep
//! resource_directory_access_role: delete   # or keep (the default: protected)
//! offboarding: {deactivate_first: true, quarantine_days: 7, min_idle_days: 30}
//! ```

mod backup;
mod lines;
mod locate;
mod resources;
mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::Path;

use globset::{Glob, GlobMatcher};
use miette::{Diagnostic, NamedSource, SourceSpan};
use regex::Regex;
use thiserror::Error;
use time::OffsetDateTime;
use yaml_serde::Value;

use crate::model::{Kind, Tags};

pub use backup::{Backup, BackupAttachment, BackupKey, BackupPrincipalType, BackupUser};
pub use locate::{Pos, Seg, locate, sequence_item_lines, token_len};
pub use resources::{
    ConsoleLogon, Declared, DeclaredAccount, DeclaredGroup, DeclaredOidcProvider, DeclaredPolicy,
    DeclaredRole, DeclaredSamlProvider, DeclaredUser, Known, MAX_DOCUMENT_CHARS, MAX_TAGS, Named,
    document_text, normalise,
};
pub use schema::{schema, schema_text};

/// What the file asks for: the account, the managed kinds and what to keep of them.
#[derive(Debug, Clone, Default)]
pub struct DesiredState {
    /// The 16-digit account the file targets (apply requires it).
    pub account_id: Option<String>,
    /// The kinds whose unkept entities are removed (settings kinds: reset/clear/purge).
    pub managed: BTreeSet<Kind>,
    /// Keep rules per kind, in file order.
    pub keep: BTreeMap<Kind, Vec<KeepRule>>,
    /// The line that manages each kind (its `manage` item, `manage: all`, or a setting
    /// such as `recycle_bin: purge`); empty for a state built in code.
    pub manage_lines: BTreeMap<Kind, usize>,
    /// What the file declares must exist (implicitly kept).
    pub declared: Declared,
    /// `resource_directory_access_role: delete`: the Resource Directory access role
    /// (`ResourceDirectoryAccountAccessRole`), protected otherwise, is removed like any
    /// other role that is not kept. Its line (0 when set in code).
    pub delete_resource_directory_role: Option<usize>,
    /// What a backup written before a deletion recorded beyond the declarations
    /// (`backup:`; see [`Backup`]).
    pub backup: Option<Backup>,
    /// The file's name and text, for diagnostics found later (references checked
    /// against the live account).
    pub source: Option<std::sync::Arc<(String, String)>>,
    /// How users that are not kept leave: deactivated first, quarantined, idle-guarded.
    pub offboarding: Offboarding,
    /// When the plan is made: offboarding dates are counted from it. Never read from the
    /// file: the command sets it from the clock (a test sets any date). Without it,
    /// nothing that depends on the date is decided (deactivation, the end of a quarantine,
    /// the idle guard hold what they would act on).
    pub now: Option<OffsetDateTime>,
    /// `--ignore-idle-guard`: users used within `min_idle_days` are not held.
    pub ignore_idle_guard: bool,
}

/// The file's `offboarding:` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offboarding {
    /// Users that are not kept are deactivated (console logon and keys switched off, the
    /// time recorded on the user) and deleted by a later run, after the quarantine.
    pub deactivate_first: bool,
    /// A deactivated user is deleted only this many days after its deactivation.
    pub quarantine_days: u32,
    /// A user whose key was used, or who logged on, within this many days is held.
    pub min_idle_days: Option<u32>,
    /// The line of the section (0 when absent or built in code).
    pub line: usize,
}

/// Days a deactivated user waits before its deletion when the file does not say.
pub const DEFAULT_QUARANTINE_DAYS: u32 = 7;

impl Default for Offboarding {
    fn default() -> Self {
        Offboarding {
            deactivate_first: false,
            quarantine_days: DEFAULT_QUARANTINE_DAYS,
            min_idle_days: None,
            line: 0,
        }
    }
}

impl DesiredState {
    /// A desired state managing `kinds` and keeping nothing.
    pub fn new(kinds: impl IntoIterator<Item = Kind>) -> Self {
        DesiredState {
            account_id: None,
            managed: kinds.into_iter().collect(),
            keep: BTreeMap::new(),
            manage_lines: BTreeMap::new(),
            declared: Declared::default(),
            delete_resource_directory_role: None,
            backup: None,
            source: None,
            offboarding: Offboarding::default(),
            now: None,
            ignore_idle_guard: false,
        }
    }

    /// The same desired state, planned at `now` (builder style).
    pub fn at(mut self, now: OffsetDateTime) -> Self {
        self.now = Some(now);
        self
    }

    /// Adds a keep rule (builder style).
    pub fn with_keep(mut self, kind: Kind, rule: KeepRule) -> Self {
        self.keep.entry(kind).or_default().push(rule);
        self
    }

    pub fn manages(&self, k: Kind) -> bool {
        self.managed.contains(&k)
    }

    pub fn kinds(&self) -> BTreeSet<Kind> {
        self.managed.clone()
    }

    /// The kinds the file manages or declares something of: what a plan needs to know.
    pub fn kinds_in_play(&self) -> BTreeSet<Kind> {
        let mut out = self.managed.clone();
        let d = &self.declared;
        if !(d.users.is_empty()
            && d.groups.is_empty()
            && d.roles.is_empty()
            && d.policies.is_empty())
        {
            // Memberships sit on users, attachments on principals, and references to
            // groups and policies are checked against the live ones.
            out.extend([Kind::Users, Kind::Groups, Kind::Roles, Kind::Policies]);
        }
        if !d.saml_providers.is_empty() {
            out.insert(Kind::SamlProviders);
        }
        if !d.oidc_providers.is_empty() {
            out.insert(Kind::OidcProviders);
        }
        // The account's settings are fetched with the alias.
        if d.account.alias.is_some()
            || d.account.password_policy.is_some()
            || d.account.security_preference.is_some()
        {
            out.insert(Kind::AccountAlias);
        }
        if d.account.default_domain.is_some() {
            out.insert(Kind::DefaultDomain);
        }
        out
    }

    /// The first rule of `kind` that keeps `candidate`.
    pub fn keeper(&self, kind: Kind, candidate: &Candidate<'_>) -> Option<&KeepRule> {
        self.keep.get(&kind)?.iter().find(|r| r.matches(candidate))
    }
}

/// What a keep rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    pub name: &'a str,
    pub tags: Option<&'a Tags>,
    pub create_date: Option<&'a str>,
}

impl<'a> Candidate<'a> {
    pub fn named(name: &'a str) -> Self {
        Candidate {
            name,
            tags: None,
            create_date: None,
        }
    }
}

/// One keep rule.
#[derive(Debug, Clone)]
pub struct KeepRule {
    pub matcher: Matcher,
    /// Line in the file (0 when built in code).
    pub line: usize,
}

/// How a keep rule matches.
#[derive(Debug, Clone)]
pub enum Matcher {
    Name(String),
    Glob { pattern: String, glob: GlobMatcher },
    Regex(Regex),
    Tag { key: String, value: Option<String> },
    CreatedBefore { text: String, at: OffsetDateTime },
}

impl KeepRule {
    pub fn name(n: impl Into<String>) -> Self {
        Self::of(Matcher::Name(n.into()))
    }
    pub fn glob(p: &str) -> Result<Self, globset::Error> {
        Ok(Self::of(Matcher::Glob {
            pattern: p.to_string(),
            glob: Glob::new(p)?.compile_matcher(),
        }))
    }
    pub fn regex(r: &str) -> Result<Self, regex::Error> {
        Ok(Self::of(Matcher::Regex(Regex::new(r)?)))
    }
    pub fn tag(key: impl Into<String>, value: Option<String>) -> Self {
        Self::of(Matcher::Tag {
            key: key.into(),
            value,
        })
    }
    pub fn created_before(text: &str) -> Result<Self, String> {
        Ok(Self::of(Matcher::CreatedBefore {
            text: text.to_string(),
            at: parse_instant(text)?,
        }))
    }
    fn of(matcher: Matcher) -> Self {
        KeepRule { matcher, line: 0 }
    }

    pub fn matches(&self, c: &Candidate<'_>) -> bool {
        match &self.matcher {
            Matcher::Name(n) => n == c.name,
            Matcher::Glob { glob, .. } => glob.is_match(c.name),
            Matcher::Regex(r) => r.is_match(c.name),
            Matcher::Tag { key, value } => c
                .tags
                .and_then(|t| t.get(key))
                .is_some_and(|v| value.as_ref().is_none_or(|want| want == v)),
            Matcher::CreatedBefore { at, .. } => c
                .create_date
                .and_then(|d| parse_instant(d).ok())
                .is_some_and(|d| d < *at),
        }
    }
}

impl fmt::Display for KeepRule {
    /// `glob svc-*`, `tag team=platform`, `created_before 2024-01-01`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.matcher {
            Matcher::Name(n) => write!(f, "name {n}"),
            Matcher::Glob { pattern, .. } => write!(f, "glob {pattern}"),
            Matcher::Regex(r) => write!(f, "regex {}", r.as_str()),
            Matcher::Tag { key, value: None } => write!(f, "tag {key}"),
            Matcher::Tag {
                key,
                value: Some(v),
            } => write!(f, "tag {key}={v}"),
            Matcher::CreatedBefore { text, .. } => write!(f, "created_before {text}"),
        }
    }
}

/// `2024-01-01` (midnight UTC) or an RFC 3339 instant.
fn parse_instant(s: &str) -> Result<OffsetDateTime, String> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Ok(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s, &fmt)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| format!("`{s}` is not a date (2024-01-01) or an RFC 3339 instant"))
}

/// Why a file could not be used.
#[derive(Debug, Error, Diagnostic)]
pub enum ConfigError {
    #[error("cannot read {path}: {message}")]
    #[diagnostic(code(ramstate::config::read))]
    Read {
        path: String,
        message: String,
        /// What to do about it, for this cause.
        #[help]
        help: String,
    },
    #[error("{headline}")]
    #[diagnostic(code(ramstate::config::invalid))]
    Invalid {
        /// `NAME: N problems in the desired-state file`, and how many are shown.
        headline: String,
        #[source_code]
        src: NamedSource<String>,
        /// The first [`SHOWN_PROBLEMS`] problems, in line order.
        #[related]
        problems: Vec<Problem>,
    },
}

/// Problems reported with their place in the file; a file with more is mostly wrong in
/// the same way, and locating each costs a parse.
pub const SHOWN_PROBLEMS: usize = 50;

fn headline(name: &str, total: usize, shown: usize) -> String {
    let s = if total == 1 { "" } else { "s" };
    if shown < total {
        format!(
            "{name}: {total} problem{s} in the desired-state file (the first {shown} are shown)"
        )
    } else {
        format!("{name}: {total} problem{s} in the desired-state file")
    }
}

impl ConfigError {
    /// The problems found (empty for a read error).
    pub fn problems(&self) -> &[Problem] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { problems, .. } => problems,
        }
    }
}

/// One problem in a file, with where it is.
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("line {line}: {message}")]
#[diagnostic(code(ramstate::config::problem))]
pub struct Problem {
    pub message: String,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
    #[help]
    pub help: Option<String>,
    /// 1-based line and column.
    pub line: usize,
    pub column: usize,
}

/// Reads and parses a desired-state file.
pub fn load(path: &Path) -> Result<DesiredState, ConfigError> {
    let text = read(path)?;
    parse(&text, &path.display().to_string())
}

/// Reads a desired-state file's text, saying what to do when it cannot be used
/// (missing, a directory, unreadable, not text).
pub fn read(path: &Path) -> Result<String, ConfigError> {
    let name = path.display().to_string();
    let fail = |message: &str, help: &str| ConfigError::Read {
        path: name.clone(),
        message: message.to_string(),
        help: help.to_string(),
    };
    if path.is_dir() {
        return Err(fail(
            "it is a directory",
            "name the desired-state file itself, e.g. DIR/ramstate.yaml",
        ));
    }
    std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail(
            "no such file",
            "check the path; examples/empty-account.yaml and examples/allowlist.yaml are starting points",
        ),
        std::io::ErrorKind::PermissionDenied => {
            fail("permission denied", "check the file's permissions")
        }
        std::io::ErrorKind::InvalidData => fail(
            "not UTF-8 text",
            "a desired-state file is YAML text; is this the right file?",
        ),
        _ => fail(&e.to_string(), "check the path and its permissions"),
    })
}

/// Parses a desired-state file. Pure; reports every problem at once.
pub fn parse(text: &str, source_name: &str) -> Result<DesiredState, ConfigError> {
    let mut check = Checker {
        text,
        found: Vec::new(),
    };
    let state = match yaml_serde::from_str::<Value>(text) {
        Ok(doc) => check.document(&doc),
        Err(e) => {
            // A duplicate key is reported at its mapping; point at the key instead.
            let (offset, line, column) = duplicate_key_position(text, &e.to_string())
                .or_else(|| e.location().map(|l| (l.index(), l.line(), l.column())))
                .unwrap_or((0, 1, 1));
            check.found.push(Found {
                at: At::Pos(offset, line, column),
                message: format!("not valid YAML: {}", strip_location(&e.to_string())),
                label: "here".into(),
                help: None,
            });
            None
        }
    };
    match state {
        Some(mut s) if check.found.is_empty() => {
            s.source = Some(std::sync::Arc::new((
                source_name.to_string(),
                text.to_string(),
            )));
            Ok(s)
        }
        _ => Err(check.into_error(source_name)),
    }
}

/// yaml_serde reports a duplicate key without a position: find the key's second
/// occurrence as a mapping key in the text.
fn duplicate_key_position(text: &str, msg: &str) -> Option<(usize, usize, usize)> {
    let key = msg
        .strip_prefix("duplicate entry with key \"")?
        .split('"')
        .next()?;
    let pattern = format!(
        r#"(?m)^[ \t]*(?:-[ \t]+)?["']?({})["']?[ \t]*:"#,
        regex::escape(key)
    );
    let re = Regex::new(&pattern).ok()?;
    let m = re.captures_iter(text).nth(1)?.get(1)?;
    let line_start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..m.start()].matches('\n').count() + 1;
    Some((m.start(), line, m.start() - line_start + 1))
}

fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

type Path_ = Vec<Seg>;

enum At {
    Path(Path_),
    Pos(usize, usize, usize),
}

struct Found {
    at: At,
    message: String,
    label: String,
    help: Option<String>,
}

struct Checker<'t> {
    text: &'t str,
    found: Vec<Found>,
}

const TOP_KEYS: [&str; 11] = [
    "version",
    "account",
    "manage",
    "keep",
    "recycle_bin",
    "default_domain",
    "account_alias",
    "resource_directory_access_role",
    "offboarding",
    "resources",
    "backup",
];

/// The role a Resource Directory's management account reaches a member account through.
pub const RESOURCE_DIRECTORY_ROLE: &str = "ResourceDirectoryAccountAccessRole";

/// Kinds that are settings of the account rather than collections (`Kind::is_setting`),
/// with the words their keys take.
const SETTINGS: [(Kind, &str, &str); 3] = [
    (Kind::RecycleBin, "purge", "keep"),
    (Kind::DefaultDomain, "reset", "keep"),
    (Kind::AccountAlias, "clear", "keep"),
];

/// Where `manage` names `kind`: its list item, else `manage` itself.
fn manage_item(manage: Option<&Value>, kind: Kind) -> Path_ {
    let path = val(&[], "manage");
    match manage
        .and_then(Value::as_sequence)
        .and_then(|items| items.iter().position(|i| i.as_str() == Some(kind.as_str())))
    {
        Some(i) => push(&path, Seg::Index(i)),
        None => path,
    }
}

fn kind_from(s: &str) -> Option<Kind> {
    Kind::ALL.into_iter().find(|k| k.as_str() == s)
}

fn kind_list() -> String {
    Kind::ALL.map(|k| k.as_str()).join(", ")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn key_text(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Null => "~".into(),
        other => format!("<{}>", type_name(other)),
    }
}

fn push(p: &[Seg], s: Seg) -> Path_ {
    let mut v = p.to_vec();
    v.push(s);
    v
}

fn val(p: &[Seg], k: &str) -> Path_ {
    push(p, Seg::Value(k.to_string()))
}

impl Checker<'_> {
    fn problem(
        &mut self,
        at: Path_,
        message: impl Into<String>,
        label: &str,
        help: Option<String>,
    ) {
        self.found.push(Found {
            at: At::Path(at),
            message: message.into(),
            label: label.to_string(),
            help,
        });
    }

    /// Checks the keys of a mapping against `allowed`; returns the known entries.
    fn mapping<'v>(
        &mut self,
        v: &'v Value,
        path: &[Seg],
        what: &str,
        allowed: &[&str],
    ) -> Option<Vec<(String, &'v Value)>> {
        let Value::Mapping(m) = v else {
            self.problem(
                path.to_vec(),
                format!("{what} must be a mapping, found {}", type_name(v)),
                "expected a mapping",
                None,
            );
            return None;
        };
        let mut out = Vec::new();
        for (k, v) in m {
            let key = key_text(k);
            if allowed.contains(&key.as_str()) {
                out.push((key, v));
            } else {
                self.problem(
                    push(path, Seg::Key(key.clone())),
                    format!("unknown key `{key}` in {what}"),
                    "unknown key",
                    Some(format!("expected one of: {}", allowed.join(", "))),
                );
            }
        }
        Some(out)
    }

    fn string<'v>(&mut self, v: &'v Value, path: &[Seg], what: &str) -> Option<&'v str> {
        match v {
            Value::String(s) => Some(s),
            _ => {
                self.problem(
                    path.to_vec(),
                    format!("{what} must be a string, found {}", type_name(v)),
                    "expected a string",
                    None,
                );
                None
            }
        }
    }

    fn document(&mut self, doc: &Value) -> Option<DesiredState> {
        if matches!(doc, Value::Null) {
            self.found.push(Found {
                at: At::Pos(0, 1, 1),
                message: "the file is empty".into(),
                label: "here".into(),
                help: Some("start with `version: 1` and `manage: ...`".into()),
            });
            return None;
        }
        let entries = self.mapping(doc, &[], "the file", &TOP_KEYS)?;
        let get = |k: &str| entries.iter().find(|(n, _)| n == k).map(|(_, v)| *v);

        match get("version") {
            None => self.found.push(Found {
                at: At::Pos(0, 1, 1),
                message: "missing `version`".into(),
                label: "the file starts here".into(),
                help: Some("add `version: 1`".into()),
            }),
            Some(Value::Number(n)) if n.as_u64() == Some(1) => {}
            Some(Value::String(t)) if t.trim() == "1" => self.problem(
                val(&[], "version"),
                format!("`version` must be the number 1, found the string {t:?}"),
                "a string",
                Some("drop the quotes: `version: 1`".into()),
            ),
            Some(v) => self.problem(
                val(&[], "version"),
                format!("`version` must be 1, found {}", key_text(v)),
                "unsupported version",
                Some("this ramstate reads version 1 files".into()),
            ),
        }

        let account_id = get("account").and_then(|a| self.account(a));

        let mut managed = BTreeSet::new();
        let mut explicit_list = false;
        let mut manage_known = false;
        match get("manage") {
            None => self.found.push(Found {
                at: At::Pos(0, 1, 1),
                message: "missing `manage`".into(),
                label: "the file starts here".into(),
                help: Some(format!(
                    "say which kinds the file manages: `manage: all` or a list of {}",
                    kind_list()
                )),
            }),
            Some(v) => {
                explicit_list = matches!(v, Value::Sequence(_));
                manage_known =
                    matches!(v, Value::Sequence(_)) || matches!(v, Value::String(s) if s == "all");
                managed = self.manage(v);
            }
        }

        // Settings kinds: `keep` takes the kind out of `manage`; the other value needs it in.
        let mut purge_said = false;
        for (kind, act, keep_word) in SETTINGS {
            let Some(v) = get(kind.as_str()) else {
                continue;
            };
            let path = val(&[], kind.as_str());
            let Some(s) = self.string(v, &path, &format!("`{kind}`")) else {
                continue;
            };
            if s == keep_word {
                managed.remove(&kind);
            } else if s == act {
                purge_said |= kind == Kind::RecycleBin;
                if explicit_list && !managed.contains(&kind) {
                    self.problem(
                        path,
                        format!("`{kind}: {act}` but `manage` does not list {kind}"),
                        "contradicts `manage`",
                        Some(format!("add {kind} to `manage`, or remove this line")),
                    );
                }
            } else {
                self.problem(
                    path,
                    format!("`{kind}` must be `{act}` or `{keep_word}`, found `{s}`"),
                    "unknown value",
                    None,
                );
            }
        }
        // A purge is irreversible: only the words `recycle_bin: purge` ask for it.
        // `manage: all` alone leaves the bin; a `manage` list naming it without the
        // words is a contradiction worth stopping on.
        if !purge_said && managed.remove(&Kind::RecycleBin) && explicit_list {
            let at = manage_item(get("manage"), Kind::RecycleBin);
            self.problem(
                at,
                "`recycle_bin` in `manage` purges nothing by itself: purging deletes recycled users and keys for good",
                "needs `recycle_bin: purge`",
                Some("add `recycle_bin: purge` to purge the recycle bin (irreversible), or drop recycle_bin from `manage`".into()),
            );
        }
        let delete_resource_directory_role = get("resource_directory_access_role")
            .and_then(|v| self.resource_directory_role(v, &managed, manage_known));

        let keep = get("keep")
            .map(|k| self.keep(k, &managed, manage_known))
            .unwrap_or_default();

        let declared = get("resources")
            .map(|r| self.resources(r))
            .unwrap_or_default();
        // A setting declared with a value is not also reset or cleared.
        for (kind, named, key) in [
            (
                Kind::DefaultDomain,
                declared.account.default_domain.as_ref(),
                "default_domain",
            ),
            (Kind::AccountAlias, declared.account.alias.as_ref(), "alias"),
        ] {
            if let Some(n) = named
                && get(kind.as_str()).is_some()
            {
                self.problem(
                    n.at.clone(),
                    format!("`resources.account.{key}` declares {kind}, and `{kind}:` at the top level also says what to do with it"),
                    "said twice",
                    Some(format!("keep one of them: the declared value, or `{kind}: ...` at the top level")),
                );
            }
        }

        let backup = get("backup").and_then(|b| self.backup(b, &declared));
        let offboarding = get("offboarding")
            .map(|v| self.offboarding(v))
            .unwrap_or_default();

        Some(DesiredState {
            account_id,
            manage_lines: lines::manage_lines(self.text, &managed),
            managed,
            keep,
            declared,
            delete_resource_directory_role,
            backup,
            source: None,
            offboarding,
            now: None,
            ignore_idle_guard: false,
        })
    }

    /// `resource_directory_access_role: delete | keep`: the line of a `delete`.
    fn resource_directory_role(
        &mut self,
        v: &Value,
        managed: &BTreeSet<Kind>,
        manage_known: bool,
    ) -> Option<usize> {
        let key = "resource_directory_access_role";
        let path = val(&[], key);
        let s = self.string(v, &path, &format!("`{key}`"))?;
        match s {
            "keep" => None,
            "delete" => {
                if manage_known && !managed.contains(&Kind::Roles) {
                    self.problem(
                        path,
                        format!("`{key}: delete` but `manage` does not include roles"),
                        "contradicts `manage`",
                        Some("add roles to `manage`, or remove this line".into()),
                    );
                    return None;
                }
                Some(locate(self.text, &path).map_or(0, |p| p.line))
            }
            other => {
                self.problem(
                    path,
                    format!("`{key}` must be `delete` or `keep`, found `{other}`"),
                    "unknown value",
                    Some(format!(
                        "`delete` lets the plan remove {RESOURCE_DIRECTORY_ROLE} when no rule keeps it; `keep` (the default) protects it"
                    )),
                );
                None
            }
        }
    }

    /// `offboarding: {deactivate_first: true, quarantine_days: 7, min_idle_days: 30}`.
    fn offboarding(&mut self, v: &Value) -> Offboarding {
        let path = val(&[], "offboarding");
        let mut out = Offboarding {
            line: locate(self.text, &[Seg::Key("offboarding".into())])
                .map(|p| p.line)
                .unwrap_or(0),
            ..Offboarding::default()
        };
        if matches!(v, Value::Null) {
            return out;
        }
        let Some(entries) = self.mapping(
            v,
            &path,
            "`offboarding`",
            &["deactivate_first", "quarantine_days", "min_idle_days"],
        ) else {
            return out;
        };
        for (key, value) in entries {
            let vp = val(&path, &key);
            match key.as_str() {
                "deactivate_first" => match value {
                    Value::Bool(b) => out.deactivate_first = *b,
                    other => self.problem(
                        vp,
                        format!(
                            "`offboarding.deactivate_first` must be true or false, found {}",
                            type_name(other)
                        ),
                        "expected true or false",
                        None,
                    ),
                },
                _ => {
                    let Some(days) = self.days(value, vp, &key) else {
                        continue;
                    };
                    if key == "quarantine_days" {
                        out.quarantine_days = days;
                    } else {
                        out.min_idle_days = Some(days);
                    }
                }
            }
        }
        out
    }

    /// A whole number of days, 0 to 3650.
    fn days(&mut self, v: &Value, path: Path_, key: &str) -> Option<u32> {
        const MAX_DAYS: u64 = 3650;
        match v {
            Value::Number(n) if n.as_u64().is_some_and(|d| d <= MAX_DAYS) => {
                n.as_u64().map(|d| d as u32)
            }
            Value::String(s) if s.trim().parse::<u64>().is_ok() => {
                self.problem(
                    path,
                    format!("`offboarding.{key}` must be a number, found the string {s:?}"),
                    "a string",
                    Some(format!("drop the quotes: `{key}: {}`", s.trim())),
                );
                None
            }
            other => {
                let found = match other {
                    Value::Number(n) => n.to_string(),
                    o => type_name(o).to_string(),
                };
                self.problem(
                    path,
                    format!(
                        "`offboarding.{key}` must be a whole number of days from 0 to {MAX_DAYS}, found {found}"
                    ),
                    "expected a number of days",
                    None,
                );
                None
            }
        }
    }

    fn account(&mut self, v: &Value) -> Option<String> {
        let path = val(&[], "account");
        let entries = self.mapping(v, &path, "`account`", &["id"])?;
        let Some((_, id)) = entries.first() else {
            self.problem(
                path,
                "`account` needs an `id`",
                "no id",
                Some("write `account: { id: \"1234567890123456\" }` (quoted)".into()),
            );
            return None;
        };
        let idp = val(&path, "id");
        let text = match id {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            other => {
                self.problem(
                    idp,
                    format!("`account.id` must be a string, found {}", type_name(other)),
                    "expected a string",
                    None,
                );
                return None;
            }
        };
        if text.len() != 16 || !text.bytes().all(|b| b.is_ascii_digit()) {
            self.problem(
                idp,
                format!("`{text}` is not an account ID (16 digits)"),
                "not 16 digits",
                Some("quote it so YAML keeps it a string: id: \"1234567890123456\"".into()),
            );
            return None;
        }
        if matches!(id, Value::Number(_)) {
            self.problem(
                idp,
                "`account.id` must be quoted",
                "a number, not a string",
                Some(format!("write id: \"{text}\"")),
            );
            return None;
        }
        Some(text)
    }

    fn manage(&mut self, v: &Value) -> BTreeSet<Kind> {
        let path = val(&[], "manage");
        match v {
            Value::String(s) if s == "all" => Kind::ALL.into_iter().collect(),
            Value::Sequence(items) => {
                let mut out = BTreeSet::new();
                for (i, item) in items.iter().enumerate() {
                    let ip = push(&path, Seg::Index(i));
                    let Some(s) = self.string(item, &ip, "a kind") else {
                        continue;
                    };
                    match kind_from(s) {
                        Some(k) if !out.insert(k) => self.problem(
                            ip,
                            format!("`{s}` is listed twice in `manage`"),
                            "duplicate",
                            None,
                        ),
                        Some(_) => {}
                        None if s == "all" => self.problem(
                            ip,
                            "`all` is not a kind: it stands alone as `manage: all`",
                            "not a kind",
                            Some("write `manage: all`, or list the kinds you mean".into()),
                        ),
                        None => self.problem(
                            ip,
                            format!("unknown kind `{s}`"),
                            "unknown kind",
                            Some(format!("kinds: {}", kind_list())),
                        ),
                    }
                }
                out
            }
            other => {
                self.problem(
                    path,
                    format!(
                        "`manage` must be `all` or a list of kinds, found {}",
                        match other {
                            Value::String(s) => format!("`{s}`"),
                            o => type_name(o).to_string(),
                        }
                    ),
                    "expected `all` or a list",
                    Some(format!("kinds: {}", kind_list())),
                );
                BTreeSet::new()
            }
        }
    }

    fn keep(
        &mut self,
        v: &Value,
        managed: &BTreeSet<Kind>,
        manage_known: bool,
    ) -> BTreeMap<Kind, Vec<KeepRule>> {
        let path = val(&[], "keep");
        let Value::Mapping(m) = v else {
            if !matches!(v, Value::Null) {
                self.problem(
                    path,
                    format!(
                        "`keep` must be a mapping of kind to rules, found {}",
                        type_name(v)
                    ),
                    "expected a mapping",
                    None,
                );
            }
            return BTreeMap::new();
        };
        let mut out = BTreeMap::new();
        for (k, rules) in m {
            let key = key_text(k);
            let kp = push(&path, Seg::Key(key.clone()));
            let Some(kind) = kind_from(&key) else {
                self.problem(
                    kp,
                    format!("unknown kind `{key}` in `keep`"),
                    "unknown kind",
                    Some(format!("kinds: {}", kind_list())),
                );
                continue;
            };
            if let Some((_, act, keep_word)) = SETTINGS.iter().find(|(s, _, _)| *s == kind) {
                self.problem(
                    kp,
                    format!("{kind} is a setting and has no keep rules"),
                    "not a collection",
                    Some(format!(
                        "write `{kind}: {keep_word}` (or `{kind}: {act}`) at the top level"
                    )),
                );
                continue;
            }
            if manage_known && !managed.contains(&kind) {
                self.problem(
                    kp,
                    format!("keep rules for {kind}, which `manage` does not include"),
                    "kind not managed",
                    Some(format!(
                        "add {kind} to `manage`, or drop these rules (unmanaged kinds are left alone)"
                    )),
                );
            }
            let list = self.rules(kind, rules, &val(&path, &key));
            out.insert(kind, list);
        }
        out
    }

    fn rules(&mut self, kind: Kind, v: &Value, path: &[Seg]) -> Vec<KeepRule> {
        let items: &[Value] = match v {
            Value::Sequence(s) => s,
            Value::Null => &[],
            other => {
                self.problem(
                    path.to_vec(),
                    format!(
                        "keep rules for {kind} must be a list, found {}",
                        type_name(other)
                    ),
                    "expected a list",
                    None,
                );
                return Vec::new();
            }
        };
        let mut out: Vec<KeepRule> = Vec::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        // One parse for every item's line: a long allowlist must not cost a parse per rule.
        let lines = sequence_item_lines(self.text, path, items.len());
        for (i, item) in items.iter().enumerate() {
            let ip = push(path, Seg::Index(i));
            let Some(mut rule) = self.rule(kind, item, &ip) else {
                continue;
            };
            rule.line = match &lines {
                Some(lines) => lines[i],
                None => locate(self.text, &ip).map(|p| p.line).unwrap_or(0),
            };
            let text = rule.to_string();
            if let Some(first) = seen.get(&text) {
                self.problem(
                    ip,
                    format!("duplicate keep rule `{text}` for {kind}"),
                    "duplicate",
                    Some(format!("the same rule is item {} of this list", first + 1)),
                );
                continue;
            }
            seen.insert(text, i);
            out.push(rule);
        }
        out
    }

    fn rule(&mut self, kind: Kind, v: &Value, path: &[Seg]) -> Option<KeepRule> {
        if let Value::String(s) = v {
            return Some(KeepRule::name(s.clone()));
        }
        const RULE_KEYS: [&str; 5] = ["name", "glob", "regex", "tag", "created_before"];
        let Value::Mapping(m) = v else {
            self.problem(
                path.to_vec(),
                format!(
                    "a keep rule must be a name or a mapping, found {}",
                    type_name(v)
                ),
                "expected a rule",
                Some("e.g. `ci-bot`, `{glob: \"svc-*\"}`, `{regex: \"^x$\"}`".into()),
            );
            return None;
        };
        let entries = self.mapping(v, path, "a keep rule", &RULE_KEYS)?;
        if entries.len() != 1 {
            if entries.is_empty() && m.is_empty() {
                self.problem(
                    path.to_vec(),
                    "empty keep rule",
                    "empty",
                    Some(format!("use one of: {}", RULE_KEYS.join(", "))),
                );
            } else if entries.len() > 1 {
                self.problem(
                    path.to_vec(),
                    format!(
                        "a keep rule has exactly one of {}; this one has {}",
                        RULE_KEYS.join(", "),
                        entries.len()
                    ),
                    "several rules in one",
                    Some("split it into one list item per rule".into()),
                );
            }
            return None;
        }
        let (key, value) = &entries[0];
        let vp = val(path, key);
        let has_tags = matches!(
            kind,
            Kind::Users | Kind::Roles | Kind::Policies | Kind::ServiceLinkedRoles
        );
        let rule = match key.as_str() {
            "name" => KeepRule::name(self.string(value, &vp, "`name`")?),
            "glob" => {
                let p = self.string(value, &vp, "`glob`")?;
                match KeepRule::glob(p) {
                    Ok(r) => r,
                    Err(e) => {
                        self.problem(vp, format!("bad glob: {}", e.kind()), "bad glob", None);
                        return None;
                    }
                }
            }
            "regex" => {
                let p = self.string(value, &vp, "`regex`")?;
                match KeepRule::regex(p) {
                    Ok(r) => r,
                    Err(e) => {
                        let detail = e.to_string();
                        let last = detail.lines().last().unwrap_or("").trim();
                        let last = last.strip_prefix("error: ").unwrap_or(last).to_string();
                        self.problem(vp, format!("bad regex: {last}"), "bad regex", None);
                        return None;
                    }
                }
            }
            "tag" => {
                if !has_tags {
                    self.problem(
                        push(path, Seg::Key("tag".into())),
                        format!("{kind} have no tags to match"),
                        "no tags on this kind",
                        Some(
                            "tags exist on users, roles, policies and service-linked roles".into(),
                        ),
                    );
                    return None;
                }
                let tagged = self.mapping(value, &vp, "`tag`", &["key", "value"])?;
                let mut key_v = None;
                let mut value_v = None;
                for (k, tv) in &tagged {
                    let s = self.string(tv, &val(&vp, k), &format!("`tag.{k}`"))?;
                    if k == "key" {
                        key_v = Some(s.to_string());
                    } else {
                        value_v = Some(s.to_string());
                    }
                }
                let Some(tk) = key_v else {
                    self.problem(vp, "`tag` needs a `key`", "no key", None);
                    return None;
                };
                KeepRule::tag(tk, value_v)
            }
            _ => {
                if kind == Kind::VirtualMfaDevices {
                    self.problem(
                        push(path, Seg::Key(key.clone())),
                        "virtual MFA devices have no creation date to match",
                        "no creation date",
                        None,
                    );
                    return None;
                }
                let s = self.string(value, &vp, "`created_before`")?;
                match KeepRule::created_before(s) {
                    Ok(r) => r,
                    Err(e) => {
                        self.problem(vp, e, "bad date", None);
                        return None;
                    }
                }
            }
        };
        Some(rule)
    }

    fn into_error(self, name: &str) -> ConfigError {
        let text = self.text;
        let total = self.found.len();
        let mut problems: Vec<Problem> = self
            .found
            .into_iter()
            .take(SHOWN_PROBLEMS)
            .map(|f| {
                let (offset, line, column) = match f.at {
                    At::Pos(o, l, c) => (o, l, c),
                    At::Path(p) => locate(text, &p)
                        .map(|p| (p.offset, p.line, p.column))
                        .unwrap_or((0, 1, 1)),
                };
                let offset = offset.min(text.len());
                let len = if text.is_empty() {
                    0
                } else {
                    token_len(text, offset).min(text.len() - offset)
                };
                Problem {
                    message: f.message,
                    span: (offset, len).into(),
                    label: f.label,
                    help: f.help,
                    line,
                    column,
                }
            })
            .collect();
        problems.sort_by_key(|p| (p.line, p.column));
        ConfigError::Invalid {
            headline: headline(name, total, problems.len()),
            src: NamedSource::new(name, text.to_string()),
            problems,
        }
    }
}

#[cfg(test)]
mod tests;
