//! `resources:`: what the file declares must exist, and how.
//!
//! ```yaml
//! resources:
//!   users:
//!     - name: ci-bot
//!       display_name: CI bot
//!       tags: { team: platform }
//!       console_logon: { enabled: true, initial_password_env: CI_BOT_PASSWORD }
//!       groups: [platform]                 # this user's memberships, all of them
//!       policies: [System/ReadOnlyAccess]  # this user's attachments, all of them
//!   groups:
//!     - name: platform
//!       members: [alice]                   # this group's members, all of them
//!   roles:
//!     - name: deployer
//!       trust_policy: { Version: "1", Statement: [...] }
//!   policies:
//!     - name: deploy
//!       document: { Version: "1", Statement: [...] }   # or a JSON string
//!   account: { alias: acme, default_domain: acme.onaliyun.com }
//! ```
//!
//! A field that is absent is not governed: ramstate leaves it as it is. A list of
//! memberships or attachments governs its side completely (a user's `groups`, a group's
//! `members`, a principal's `policies`); a membership that no declared list covers is
//! never touched.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use yaml_serde::Value;

use super::{Checker, Path_, Seg, push, sequence_item_lines, type_name, val};
use crate::model::{PolicyRef, PolicyType, Tags};

/// Everything `resources:` declares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Declared {
    pub users: Vec<DeclaredUser>,
    pub groups: Vec<DeclaredGroup>,
    pub roles: Vec<DeclaredRole>,
    pub policies: Vec<DeclaredPolicy>,
    pub saml_providers: Vec<DeclaredSamlProvider>,
    pub oidc_providers: Vec<DeclaredOidcProvider>,
    pub account: DeclaredAccount,
}

/// A name the file refers to, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named<T = String> {
    pub value: T,
    /// Where in the file (for a diagnostic).
    pub at: Vec<Seg>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredUser {
    pub name: String,
    pub line: usize,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub mobile_phone: Option<String>,
    pub comments: Option<String>,
    /// The user's tags, all of them.
    pub tags: Option<Tags>,
    pub console_logon: Option<ConsoleLogon>,
    /// The groups the user belongs to, all of them.
    pub groups: Option<Vec<Named>>,
    /// The policies attached to the user, all of them.
    pub policies: Option<Vec<Named<PolicyRef>>>,
}

/// Console logon (a login profile). Never a password: a new profile's initial password
/// comes from the environment variable the file names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConsoleLogon {
    pub enabled: bool,
    pub password_reset_required: bool,
    pub mfa_bind_required: bool,
    pub initial_password_env: Option<String>,
    pub at: Vec<Seg>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredGroup {
    pub name: String,
    pub line: usize,
    pub comments: Option<String>,
    /// The group's members, all of them.
    pub members: Option<Vec<Named>>,
    pub policies: Option<Vec<Named<PolicyRef>>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredRole {
    pub name: String,
    pub line: usize,
    pub description: Option<String>,
    /// The trust policy, as JSON.
    pub trust_policy: Json,
    pub max_session_duration: Option<u32>,
    pub tags: Option<Tags>,
    pub policies: Option<Vec<Named<PolicyRef>>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredPolicy {
    pub name: String,
    pub line: usize,
    pub description: Option<String>,
    /// The policy document, as JSON.
    pub document: Json,
    pub tags: Option<Tags>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredSamlProvider {
    pub name: String,
    pub line: usize,
    pub description: Option<String>,
    /// The IdP's metadata document, Base64.
    pub metadata: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredOidcProvider {
    pub name: String,
    pub line: usize,
    pub issuer_url: String,
    pub client_ids: Option<Vec<String>>,
    pub fingerprints: Option<Vec<String>>,
    pub description: Option<String>,
}

/// Account settings the file declares.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredAccount {
    pub alias: Option<Named>,
    pub default_domain: Option<Named>,
    /// The whole password policy (fields left out take Alibaba's defaults).
    pub password_policy: Option<Named<crate::model::PasswordPolicy>>,
    /// The whole security preference (fields left out take Alibaba's defaults).
    pub security_preference: Option<Named<crate::model::SecurityPreference>>,
}

impl Declared {
    pub fn is_empty(&self) -> bool {
        *self == Declared::default()
    }

    pub fn user(&self, name: &str) -> Option<&DeclaredUser> {
        self.users
            .iter()
            .find(|u| u.name.eq_ignore_ascii_case(name))
    }
    pub fn group(&self, name: &str) -> Option<&DeclaredGroup> {
        self.groups
            .iter()
            .find(|g| g.name.eq_ignore_ascii_case(name))
    }
    pub fn role(&self, name: &str) -> Option<&DeclaredRole> {
        self.roles
            .iter()
            .find(|r| r.name.eq_ignore_ascii_case(name))
    }
    pub fn policy(&self, name: &str) -> Option<&DeclaredPolicy> {
        self.policies.iter().find(|p| p.name == name)
    }
}

/// The longest policy or trust document RAM stores.
pub const MAX_DOCUMENT_CHARS: usize = 6144;
/// Tags per resource.
pub const MAX_TAGS: usize = 20;

/// A name rule: length and the characters besides letters and digits.
struct NameRule {
    what: &'static str,
    max: usize,
    symbols: &'static str,
}

const USER_NAME: NameRule = NameRule {
    what: "a user name",
    max: 64,
    symbols: ".-_",
};
const GROUP_NAME: NameRule = NameRule {
    what: "a group name",
    max: 64,
    symbols: ".-_",
};
const ROLE_NAME: NameRule = NameRule {
    what: "a role name",
    max: 64,
    symbols: ".-",
};
const POLICY_NAME: NameRule = NameRule {
    what: "a policy name",
    max: 128,
    symbols: "-",
};
const PROVIDER_NAME: NameRule = NameRule {
    what: "an identity provider name",
    max: 128,
    symbols: ".-_",
};

impl NameRule {
    fn problem(&self, name: &str) -> Option<String> {
        let n = name.chars().count();
        if n == 0 || n > self.max {
            return Some(format!(
                "`{name}` is not {}: it must be 1 to {} characters",
                self.what, self.max
            ));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !c.is_ascii_alphanumeric() && !self.symbols.contains(*c))
        {
            return Some(format!(
                "`{name}` is not {}: `{c}` is not allowed (letters, digits and `{}` are)",
                self.what, self.symbols
            ));
        }
        None
    }
}

/// Keys of each declared item.
const USER_KEYS: [&str; 10] = [
    "name",
    "display_name",
    "email",
    "mobile_phone",
    "comments",
    "tags",
    "console_logon",
    "groups",
    "policies",
    "password",
];
const GROUP_KEYS: [&str; 4] = ["name", "comments", "members", "policies"];
const ROLE_KEYS: [&str; 6] = [
    "name",
    "description",
    "trust_policy",
    "max_session_duration",
    "tags",
    "policies",
];
const POLICY_KEYS: [&str; 4] = ["name", "description", "document", "tags"];
const SAML_KEYS: [&str; 3] = ["name", "description", "metadata"];
const OIDC_KEYS: [&str; 5] = [
    "name",
    "issuer_url",
    "client_ids",
    "fingerprints",
    "description",
];
const LOGON_KEYS: [&str; 5] = [
    "enabled",
    "password_reset_required",
    "mfa_bind_required",
    "initial_password_env",
    "password",
];
const RESOURCE_KEYS: [&str; 7] = [
    "users",
    "groups",
    "roles",
    "policies",
    "saml_providers",
    "oidc_providers",
    "account",
];

/// A JSON document's canonical form for comparison: keys in order (serde_json's map is
/// sorted), and a one-element list equal to its element, as RAM reads `"Action": "x"`
/// and `"Action": ["x"]` alike.
pub fn normalise(v: &Json) -> Json {
    match v {
        Json::Array(items) if items.len() == 1 => normalise(&items[0]),
        Json::Array(items) => Json::Array(items.iter().map(normalise).collect()),
        Json::Object(m) => Json::Object(m.iter().map(|(k, v)| (k.clone(), normalise(v))).collect()),
        other => other.clone(),
    }
}

/// A document as RAM receives it: compact JSON.
pub fn document_text(v: &Json) -> String {
    serde_json::to_string(v).expect("JSON values serialise")
}

type Entries<'v> = Vec<(String, &'v Value)>;

fn get<'v>(entries: &Entries<'v>, k: &str) -> Option<&'v Value> {
    entries.iter().find(|(n, _)| n == k).map(|(_, v)| *v)
}

impl Checker<'_> {
    pub(super) fn resources(&mut self, v: &Value) -> Declared {
        let path = val(&[], "resources");
        let mut d = Declared::default();
        if matches!(v, Value::Null) {
            return d;
        }
        let Some(entries) = self.mapping(v, &path, "`resources`", &RESOURCE_KEYS) else {
            return d;
        };
        for (key, items) in &entries {
            let kp = val(&path, key);
            if key == "account" {
                d.account = self.declared_account(items, &kp);
                continue;
            }
            let Some(list) = self.items(items, &kp, key) else {
                continue;
            };
            let lines = sequence_item_lines(self.text, &kp, list.len());
            let line = |i: usize, me: &Checker<'_>| match &lines {
                Some(l) => l[i],
                None => super::locate(me.text, &push(&kp, Seg::Index(i))).map_or(0, |p| p.line),
            };
            // Each name once per kind (users, groups and roles without regard to case,
            // as RAM compares them).
            let mut seen: BTreeMap<String, usize> = BTreeMap::new();
            for (i, item) in list.iter().enumerate() {
                let ip = push(&kp, Seg::Index(i));
                let l = line(i, self);
                let name = match key.as_str() {
                    "users" => self.declared_user(item, &ip, l).map(|x| {
                        let n = x.name.to_lowercase();
                        d.users.push(x);
                        n
                    }),
                    "groups" => self.declared_group(item, &ip, l).map(|x| {
                        let n = x.name.to_lowercase();
                        d.groups.push(x);
                        n
                    }),
                    "roles" => self.declared_role(item, &ip, l).map(|x| {
                        let n = x.name.to_lowercase();
                        d.roles.push(x);
                        n
                    }),
                    "policies" => self.declared_policy(item, &ip, l).map(|x| {
                        let n = x.name.clone();
                        d.policies.push(x);
                        n
                    }),
                    "saml_providers" => self.declared_saml(item, &ip, l).map(|x| {
                        let n = x.name.clone();
                        d.saml_providers.push(x);
                        n
                    }),
                    _ => self.declared_oidc(item, &ip, l).map(|x| {
                        let n = x.name.clone();
                        d.oidc_providers.push(x);
                        n
                    }),
                };
                let Some(name) = name else { continue };
                if let Some(first) = seen.get(&name) {
                    self.problem(
                        val(&ip, "name"),
                        format!("`{name}` is declared twice in `resources.{key}`"),
                        "duplicate",
                        Some(format!("the first declaration is on line {first}")),
                    );
                } else {
                    seen.insert(name, l);
                }
            }
        }
        d
    }

    fn items<'v>(&mut self, v: &'v Value, path: &[Seg], key: &str) -> Option<&'v [Value]> {
        match v {
            Value::Sequence(s) => Some(s),
            Value::Null => None,
            other => {
                self.problem(
                    path.to_vec(),
                    format!(
                        "`resources.{key}` must be a list, found {}",
                        type_name(other)
                    ),
                    "expected a list",
                    None,
                );
                None
            }
        }
    }

    fn item_entries<'v>(
        &mut self,
        v: &'v Value,
        path: &[Seg],
        what: &str,
        keys: &[&str],
        rule: &NameRule,
    ) -> Option<(String, Entries<'v>)> {
        let entries = self.mapping(v, path, what, keys)?;
        let Some(name) = get(&entries, "name") else {
            self.problem(
                path.to_vec(),
                format!("{what} needs a `name`"),
                "no name",
                None,
            );
            return None;
        };
        let np = val(path, "name");
        let name = self.string(name, &np, "`name`")?.to_string();
        if let Some(p) = rule.problem(&name) {
            self.problem(np, p, "not a valid name", None);
            return None;
        }
        if let Some(_p) = get(&entries, "password") {
            self.no_password(val(path, "password"));
            return None;
        }
        Some((name, entries))
    }

    fn no_password(&mut self, at: Path_) {
        self.problem(
            at,
            "a password never goes in the file",
            "a secret in the file",
            Some(
                "name the environment variable that holds the initial password: `console_logon: { enabled: true, initial_password_env: NAME }`"
                    .into(),
            ),
        );
    }

    /// An optional string of at most `max` characters.
    fn text_field(
        &mut self,
        entries: &Entries<'_>,
        path: &[Seg],
        key: &str,
        max: usize,
    ) -> Option<String> {
        let v = get(entries, key)?;
        let p = val(path, key);
        let s = self.string(v, &p, &format!("`{key}`"))?;
        let n = s.chars().count();
        if n == 0 || n > max {
            self.problem(
                p,
                format!("`{key}` must be 1 to {max} characters, found {n}"),
                "wrong length",
                None,
            );
            return None;
        }
        Some(s.to_string())
    }

    fn string_list(&mut self, v: &Value, path: &[Seg], what: &str) -> Option<Vec<Named>> {
        let Value::Sequence(items) = v else {
            self.problem(
                path.to_vec(),
                format!("{what} must be a list, found {}", type_name(v)),
                "expected a list",
                None,
            );
            return None;
        };
        let mut out: Vec<Named> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let ip = push(path, Seg::Index(i));
            if let Some(s) = self.string(item, &ip, "an entry") {
                if out.iter().any(|n| n.value.eq_ignore_ascii_case(s)) {
                    self.problem(ip, format!("`{s}` is listed twice"), "duplicate", None);
                    continue;
                }
                out.push(Named {
                    value: s.to_string(),
                    at: ip,
                });
            }
        }
        Some(out)
    }

    fn policy_list(
        &mut self,
        entries: &Entries<'_>,
        path: &[Seg],
    ) -> Option<Vec<Named<PolicyRef>>> {
        let v = get(entries, "policies")?;
        let p = val(path, "policies");
        let names = self.string_list(v, &p, "`policies`")?;
        let mut out = Vec::new();
        for n in names {
            match n.value.parse::<PolicyRef>() {
                Ok(r) => out.push(Named { value: r, at: n.at }),
                Err(e) => self.problem(
                    n.at,
                    e,
                    "not a policy reference",
                    Some(
                        "write `System/NAME` or `Custom/NAME`, as `ramstate inventory` prints them"
                            .into(),
                    ),
                ),
            }
        }
        Some(out)
    }

    fn tags(&mut self, entries: &Entries<'_>, path: &[Seg]) -> Option<Tags> {
        let v = get(entries, "tags")?;
        let p = val(path, "tags");
        let Value::Mapping(m) = v else {
            self.problem(
                p,
                format!(
                    "`tags` must be a mapping of key to value, found {}",
                    type_name(v)
                ),
                "expected a mapping",
                None,
            );
            return None;
        };
        let mut tags = Tags::new();
        for (k, tv) in m {
            let key = super::key_text(k);
            let tp = val(&p, &key);
            let value = match tv {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    self.problem(
                        tp,
                        format!(
                            "tag `{key}` must have a text value, found {}",
                            type_name(other)
                        ),
                        "expected text",
                        None,
                    );
                    continue;
                }
            };
            if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 128 {
                self.problem(
                    tp,
                    "a tag key is 1 to 128 characters, a value at most 128",
                    "wrong length",
                    None,
                );
                continue;
            }
            if key.starts_with("acs:") || key.starts_with("aliyun") {
                self.problem(
                    tp,
                    format!("tag key `{key}` uses a prefix Alibaba reserves (`acs:`, `aliyun`)"),
                    "reserved prefix",
                    None,
                );
                continue;
            }
            tags.insert(key, value);
        }
        if tags.len() > MAX_TAGS {
            self.problem(
                p,
                format!("{} tags; a resource takes at most {MAX_TAGS}", tags.len()),
                "too many tags",
                None,
            );
            return None;
        }
        Some(tags)
    }

    /// A policy or trust document: a YAML mapping or a JSON string.
    fn json_document(&mut self, v: &Value, path: &[Seg], what: &str) -> Option<Json> {
        let doc: Json = match v {
            Value::String(s) => match serde_json::from_str::<Json>(s) {
                Ok(j) => j,
                Err(e) => {
                    self.problem(
                        path.to_vec(),
                        format!("{what} is not valid JSON: {e}"),
                        "not JSON",
                        None,
                    );
                    return None;
                }
            },
            Value::Mapping(_) => match serde_json::to_value(v) {
                Ok(j) => j,
                Err(e) => {
                    self.problem(
                        path.to_vec(),
                        format!("{what} cannot be read as JSON: {e}"),
                        "not a document",
                        None,
                    );
                    return None;
                }
            },
            other => {
                self.problem(
                    path.to_vec(),
                    format!(
                        "{what} must be a mapping or a JSON string, found {}",
                        type_name(other)
                    ),
                    "expected a document",
                    None,
                );
                return None;
            }
        };
        if !doc.is_object() {
            self.problem(
                path.to_vec(),
                format!("{what} must be a JSON object"),
                "not an object",
                None,
            );
            return None;
        }
        let n = document_text(&doc).chars().count();
        if n > MAX_DOCUMENT_CHARS {
            self.problem(
                path.to_vec(),
                format!("{what} is {n} characters as JSON; RAM takes at most {MAX_DOCUMENT_CHARS}"),
                "too long",
                Some("split the statements over several policies".into()),
            );
            return None;
        }
        Some(doc)
    }

    fn boolean(&mut self, entries: &Entries<'_>, path: &[Seg], key: &str) -> Option<bool> {
        match get(entries, key)? {
            Value::Bool(b) => Some(*b),
            other => {
                self.problem(
                    val(path, key),
                    format!("`{key}` must be true or false, found {}", type_name(other)),
                    "expected a boolean",
                    None,
                );
                None
            }
        }
    }

    fn declared_user(&mut self, v: &Value, path: &[Seg], line: usize) -> Option<DeclaredUser> {
        let (name, e) = self.item_entries(v, path, "a declared user", &USER_KEYS, &USER_NAME)?;
        let console_logon = match get(&e, "console_logon") {
            Some(c) => self.console_logon(c, &val(path, "console_logon")),
            None => None,
        };
        let groups = match get(&e, "groups") {
            Some(g) => self.string_list(g, &val(path, "groups"), "`groups`"),
            None => None,
        };
        if let Some(gs) = &groups
            && gs.len() > 10
        {
            self.problem(
                val(path, "groups"),
                format!("{} groups; a user belongs to at most 10", gs.len()),
                "too many groups",
                None,
            );
        }
        Some(DeclaredUser {
            display_name: self.text_field(&e, path, "display_name", 128),
            email: self.text_field(&e, path, "email", 128),
            mobile_phone: self.text_field(&e, path, "mobile_phone", 32),
            comments: self.text_field(&e, path, "comments", 128),
            tags: self.tags(&e, path),
            policies: self.policy_list(&e, path),
            name,
            line,
            console_logon,
            groups,
        })
    }

    fn console_logon(&mut self, v: &Value, path: &[Seg]) -> Option<ConsoleLogon> {
        let e = self.mapping(v, path, "`console_logon`", &LOGON_KEYS)?;
        if get(&e, "password").is_some() {
            self.no_password(val(path, "password"));
            return None;
        }
        let env = match get(&e, "initial_password_env") {
            Some(v) => {
                let p = val(path, "initial_password_env");
                let s = self.string(v, &p, "`initial_password_env`")?;
                if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    self.problem(
                        p,
                        format!("`{s}` is not an environment variable name"),
                        "not a variable name",
                        Some("letters, digits and `_`, e.g. CI_BOT_PASSWORD".into()),
                    );
                    return None;
                }
                Some(s.to_string())
            }
            None => None,
        };
        Some(ConsoleLogon {
            enabled: self.boolean(&e, path, "enabled").unwrap_or(true),
            password_reset_required: self
                .boolean(&e, path, "password_reset_required")
                .unwrap_or(false),
            mfa_bind_required: self.boolean(&e, path, "mfa_bind_required").unwrap_or(false),
            initial_password_env: env,
            at: path.to_vec(),
        })
    }

    fn declared_group(&mut self, v: &Value, path: &[Seg], line: usize) -> Option<DeclaredGroup> {
        let (name, e) = self.item_entries(v, path, "a declared group", &GROUP_KEYS, &GROUP_NAME)?;
        let members = match get(&e, "members") {
            Some(m) => self.string_list(m, &val(path, "members"), "`members`"),
            None => None,
        };
        Some(DeclaredGroup {
            comments: self.text_field(&e, path, "comments", 128),
            policies: self.policy_list(&e, path),
            name,
            line,
            members,
        })
    }

    fn declared_role(&mut self, v: &Value, path: &[Seg], line: usize) -> Option<DeclaredRole> {
        let (name, e) = self.item_entries(v, path, "a declared role", &ROLE_KEYS, &ROLE_NAME)?;
        let Some(trust) = get(&e, "trust_policy") else {
            self.problem(
                path.to_vec(),
                format!("role `{name}` needs a `trust_policy`"),
                "no trust policy",
                Some("the trust policy says who may assume the role; RAM requires one".into()),
            );
            return None;
        };
        let trust_policy =
            self.json_document(trust, &val(path, "trust_policy"), "`trust_policy`")?;
        let max_session_duration = match get(&e, "max_session_duration") {
            Some(Value::Number(n)) if n.as_u64().is_some_and(|s| (3600..=43200).contains(&s)) => {
                n.as_u64().map(|s| s as u32)
            }
            Some(other) => {
                self.problem(
                    val(path, "max_session_duration"),
                    format!(
                        "`max_session_duration` must be 3600 to 43200 seconds, found {}",
                        super::key_text(other)
                    ),
                    "out of range",
                    None,
                );
                None
            }
            None => None,
        };
        Some(DeclaredRole {
            description: self.text_field(&e, path, "description", 1024),
            tags: self.tags(&e, path),
            policies: self.policy_list(&e, path),
            name,
            line,
            trust_policy,
            max_session_duration,
        })
    }

    fn declared_policy(&mut self, v: &Value, path: &[Seg], line: usize) -> Option<DeclaredPolicy> {
        let (name, e) =
            self.item_entries(v, path, "a declared policy", &POLICY_KEYS, &POLICY_NAME)?;
        let Some(doc) = get(&e, "document") else {
            self.problem(
                path.to_vec(),
                format!("policy `{name}` needs a `document`"),
                "no document",
                None,
            );
            return None;
        };
        let document = self.json_document(doc, &val(path, "document"), "`document`")?;
        Some(DeclaredPolicy {
            description: self.text_field(&e, path, "description", 1024),
            tags: self.tags(&e, path),
            name,
            line,
            document,
        })
    }

    fn declared_saml(
        &mut self,
        v: &Value,
        path: &[Seg],
        line: usize,
    ) -> Option<DeclaredSamlProvider> {
        let (name, e) = self.item_entries(
            v,
            path,
            "a declared SAML provider",
            &SAML_KEYS,
            &PROVIDER_NAME,
        )?;
        Some(DeclaredSamlProvider {
            description: self.text_field(&e, path, "description", 1024),
            metadata: self.text_field(&e, path, "metadata", 100_000),
            name,
            line,
        })
    }

    fn declared_oidc(
        &mut self,
        v: &Value,
        path: &[Seg],
        line: usize,
    ) -> Option<DeclaredOidcProvider> {
        let (name, e) = self.item_entries(
            v,
            path,
            "a declared OIDC provider",
            &OIDC_KEYS,
            &PROVIDER_NAME,
        )?;
        let Some(url) = self.text_field(&e, path, "issuer_url", 255) else {
            if get(&e, "issuer_url").is_none() {
                self.problem(
                    path.to_vec(),
                    format!("OIDC provider `{name}` needs an `issuer_url`"),
                    "no issuer",
                    None,
                );
            }
            return None;
        };
        if !url.starts_with("https://") || url.contains(['?', '#', '@']) {
            self.problem(
                val(path, "issuer_url"),
                format!("`{url}` is not an issuer URL: https, without a query, fragment or user"),
                "not an issuer URL",
                None,
            );
            return None;
        }
        let list = |me: &mut Self, key: &str| -> Option<Vec<String>> {
            let v = get(&e, key)?;
            let items = me.string_list(v, &val(path, key), &format!("`{key}`"))?;
            Some(items.into_iter().map(|n| n.value).collect())
        };
        Some(DeclaredOidcProvider {
            client_ids: list(self, "client_ids"),
            fingerprints: list(self, "fingerprints"),
            description: self.text_field(&e, path, "description", 256),
            issuer_url: url,
            name,
            line,
        })
    }

    /// A setting read with the model's own field names and defaults.
    fn setting<T: serde::de::DeserializeOwned>(
        &mut self,
        v: &Value,
        path: &[Seg],
        what: &str,
    ) -> Option<T> {
        match yaml_serde::from_value::<T>(v.clone()) {
            Ok(t) => Some(t),
            Err(e) => {
                self.problem(
                    path.to_vec(),
                    format!("{what}: {}", super::strip_location(&e.to_string())),
                    "not a valid setting",
                    None,
                );
                None
            }
        }
    }

    fn declared_account(&mut self, v: &Value, path: &[Seg]) -> DeclaredAccount {
        let mut a = DeclaredAccount::default();
        let Some(e) = self.mapping(
            v,
            path,
            "`resources.account`",
            &[
                "alias",
                "default_domain",
                "password_policy",
                "security_preference",
            ],
        ) else {
            return a;
        };
        if let Some(v) = get(&e, "password_policy") {
            let p = val(path, "password_policy");
            if let Some(policy) =
                self.setting::<crate::model::PasswordPolicy>(v, &p, "`password_policy`")
            {
                let ranges = [
                    (
                        "minimum_password_length",
                        policy.minimum_password_length,
                        8,
                        32,
                    ),
                    ("max_login_attempts", policy.max_login_attempts, 0, 32),
                    ("max_password_age", policy.max_password_age, 0, 1095),
                    (
                        "minimum_password_different_character",
                        policy.minimum_password_different_character,
                        0,
                        8,
                    ),
                    (
                        "password_reuse_prevention",
                        policy.password_reuse_prevention,
                        0,
                        24,
                    ),
                ];
                let mut ok = true;
                for (key, n, lo, hi) in ranges {
                    if !(lo..=hi).contains(&n) {
                        ok = false;
                        self.problem(
                            val(&p, key),
                            format!("`{key}` must be {lo} to {hi}, found {n}"),
                            "out of range",
                            None,
                        );
                    }
                }
                if ok {
                    a.password_policy = Some(Named {
                        value: policy,
                        at: p,
                    });
                }
            }
        }
        if let Some(v) = get(&e, "security_preference") {
            let p = val(path, "security_preference");
            if let Some(pref) =
                self.setting::<crate::model::SecurityPreference>(v, &p, "`security_preference`")
            {
                if (1..=24).contains(&pref.login_session_duration) {
                    a.security_preference = Some(Named { value: pref, at: p });
                } else {
                    self.problem(
                        val(&p, "login_session_duration"),
                        format!(
                            "`login_session_duration` must be 1 to 24 hours, found {}",
                            pref.login_session_duration
                        ),
                        "out of range",
                        None,
                    );
                }
            }
        }
        if let Some(alias) = self.text_field(&e, path, "alias", 32) {
            let ok = alias.len() >= 3
                && alias
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                && !alias.starts_with('-')
                && !alias.ends_with('-')
                && !alias.contains("--");
            if ok {
                a.alias = Some(Named {
                    value: alias,
                    at: val(path, "alias"),
                });
            } else {
                self.problem(val(path, "alias"), format!("`{alias}` is not an account alias: 3 to 32 lowercase letters, digits and single hyphens, not at either end"), "not an alias", None);
            }
        }
        if let Some(domain) = self.text_field(&e, path, "default_domain", 128) {
            if domain.ends_with(".onaliyun.com") && domain.len() > ".onaliyun.com".len() {
                a.default_domain = Some(Named {
                    value: domain,
                    at: val(path, "default_domain"),
                });
            } else {
                self.problem(
                    val(path, "default_domain"),
                    format!("`{domain}` is not a default domain: NAME.onaliyun.com"),
                    "not a default domain",
                    None,
                );
            }
        }
        a
    }
}

/// What the live account has that declared references may name.
pub struct Known<'a> {
    pub inventory: &'a crate::model::Inventory,
    /// The account's system policies, when they were fetched.
    pub system_policies: Option<&'a std::collections::BTreeSet<String>>,
}

impl super::DesiredState {
    /// Checks what the declared resources refer to against the live account: each member
    /// and group is declared or exists, each custom policy is declared or exists, each
    /// system policy exists; a login profile to create has an initial password. Every
    /// problem at its line.
    pub fn check_references(&self, known: &Known<'_>) -> Result<(), super::ConfigError> {
        let Some(source) = &self.source else {
            return Ok(());
        };
        let mut check = Checker {
            text: &source.1,
            found: Vec::new(),
        };
        let d = &self.declared;
        let inv = known.inventory;
        let live_user = |n: &str| inv.users.iter().any(|u| u.name.eq_ignore_ascii_case(n));
        let live_group = |n: &str| inv.groups.iter().any(|g| g.name.eq_ignore_ascii_case(n));
        let mut policy_refs: Vec<&Named<PolicyRef>> = Vec::new();
        for u in &d.users {
            for g in u.groups.iter().flatten() {
                if d.group(&g.value).is_none() && !live_group(&g.value) {
                    check.problem(
                        g.at.clone(),
                        format!("user `{}` is to belong to group `{}`, which is neither declared nor in the account", u.name, g.value),
                        "no such group",
                        Some("declare the group under `resources.groups`, or check the name".into()),
                    );
                }
            }
            policy_refs.extend(u.policies.iter().flatten());
            if let Some(logon) = &u.console_logon {
                let has_profile = inv
                    .users
                    .iter()
                    .any(|x| x.name.eq_ignore_ascii_case(&u.name) && x.login_profile.is_some());
                if logon.enabled && !has_profile && logon.initial_password_env.is_none() {
                    check.problem(
                        logon.at.clone(),
                        format!("user `{}` has no console logon yet, and creating one needs an initial password", u.name),
                        "no initial password",
                        Some("add `initial_password_env: NAME`: the environment variable that holds it when apply runs".into()),
                    );
                }
            }
        }
        for g in &d.groups {
            for m in g.members.iter().flatten() {
                if d.user(&m.value).is_none() && !live_user(&m.value) {
                    check.problem(
                        m.at.clone(),
                        format!("group `{}` is to have member `{}`, who is neither declared nor in the account", g.name, m.value),
                        "no such user",
                        Some("declare the user under `resources.users`, or check the name".into()),
                    );
                }
            }
            policy_refs.extend(g.policies.iter().flatten());
        }
        for r in &d.roles {
            policy_refs.extend(r.policies.iter().flatten());
        }
        for p in policy_refs {
            let name = &p.value.name;
            match p.value.policy_type {
                PolicyType::Custom => {
                    if d.policy(name).is_none() && !inv.policies.iter().any(|x| x.name == name) {
                        check.problem(
                            p.at.clone(),
                            format!(
                                "custom policy `{name}` is neither declared nor in the account"
                            ),
                            "no such policy",
                            Some("declare it under `resources.policies`, or check the name".into()),
                        );
                    }
                }
                PolicyType::System => {
                    if let Some(system) = known.system_policies
                        && !system.contains(name.as_str())
                    {
                        check.problem(
                            p.at.clone(),
                            format!("`{name}` is not a system policy of this account"),
                            "unknown system policy",
                            Some("system policy names are case-sensitive, e.g. ReadOnlyAccess, AliyunOSSReadOnlyAccess".into()),
                        );
                    }
                }
            }
        }
        if check.found.is_empty() {
            Ok(())
        } else {
            Err(check.into_error(&source.0))
        }
    }

    /// Whether the file attaches any system policy (so the system policies must be known).
    pub fn declares_system_policies(&self) -> bool {
        let d = &self.declared;
        d.users
            .iter()
            .flat_map(|u| u.policies.iter().flatten())
            .chain(d.groups.iter().flat_map(|g| g.policies.iter().flatten()))
            .chain(d.roles.iter().flat_map(|r| r.policies.iter().flatten()))
            .any(|p| p.value.policy_type == PolicyType::System)
    }
}
