use super::resources::Known;
use super::*;

fn problems(text: &str) -> Vec<Problem> {
    match parse(text, "test.yaml") {
        Ok(_) => panic!("expected problems in:\n{text}"),
        Err(e) => e.problems().to_vec(),
    }
}

fn lines_and_messages(text: &str) -> Vec<(usize, String)> {
    problems(text)
        .into_iter()
        .map(|p| (p.line, p.message))
        .collect()
}

#[test]
fn a_full_file_parses_into_managed_kinds_and_rules() {
    let d = parse(
        r#"# yaml-language-server: $schema=../schemas/ramstate.schema.json
version: 1
account: { id: "1234567890123456" }
manage: [users, roles, recycle_bin]
keep:
  users:
    - ci-bot
    - {glob: "svc-*"}
    - regex: "^break-glass-\\d+$"
    - {tag: {key: team, value: platform}}
    - {created_before: "2024-01-01"}
  roles: [{tag: {key: owner}}]
recycle_bin: purge
"#,
        "f.yaml",
    )
    .unwrap();
    assert_eq!(d.account_id.as_deref(), Some("1234567890123456"));
    assert_eq!(
        d.kinds(),
        BTreeSet::from([Kind::Users, Kind::Roles, Kind::RecycleBin])
    );
    let users = &d.keep[&Kind::Users];
    assert_eq!(users.len(), 5);
    assert_eq!(users[1].to_string(), "glob svc-*");
    assert_eq!(users[1].line, 8);
    assert!(d.manages(Kind::Users) && !d.manages(Kind::Groups));
}

#[test]
fn manage_all_covers_every_kind_but_the_recycle_bin_and_keep_settings_opt_out() {
    let d = parse(
        "version: 1\nmanage: all\naccount_alias: keep\ndefault_domain: reset\n",
        "f",
    )
    .unwrap();
    assert!(d.manages(Kind::DefaultDomain));
    assert!(!d.manages(Kind::AccountAlias));
    assert!(
        !d.manages(Kind::RecycleBin),
        "a purge needs `recycle_bin: purge` in words"
    );
    assert_eq!(d.kinds().len(), Kind::ALL.len() - 2);
    assert_eq!(d.account_id, None);
}

#[test]
fn rules_match_names_globs_regexes_tags_and_dates() {
    let tags = Tags::from([("team".to_string(), "platform".to_string())]);
    let c = Candidate {
        name: "svc-build",
        tags: Some(&tags),
        create_date: Some("2023-06-01T10:00:00Z"),
    };
    assert!(KeepRule::glob("svc-*").unwrap().matches(&c));
    assert!(!KeepRule::glob("ci-*").unwrap().matches(&c));
    assert!(KeepRule::regex("^svc-b").unwrap().matches(&c));
    assert!(KeepRule::tag("team", Some("platform".into())).matches(&c));
    assert!(KeepRule::tag("team", None).matches(&c));
    assert!(!KeepRule::tag("team", Some("data".into())).matches(&c));
    assert!(KeepRule::created_before("2024-01-01").unwrap().matches(&c));
    assert!(!KeepRule::created_before("2023-01-01").unwrap().matches(&c));
    assert!(
        !KeepRule::created_before("2024-01-01")
            .unwrap()
            .matches(&Candidate::named("x"))
    );
    assert!(KeepRule::name("svc-build").matches(&c));
}

#[test]
fn every_problem_is_reported_in_one_run_with_its_line() {
    let found = lines_and_messages(
        r#"version: 2
manage: [users, gropus, users]
colour: red
keep:
  users:
    - {regex: "([a-z"}
    - {glob: "a[b"}
    - ci-bot
    - ci-bot
  groups: [dev]
  recycle_bin: [x]
account: { id: "12345" }
"#,
    );
    let lines: Vec<usize> = found.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![1, 2, 2, 3, 6, 7, 9, 10, 11, 12], "{found:#?}");
    let text = found
        .iter()
        .map(|(_, m)| m.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in [
        "`version` must be 1",
        "unknown kind `gropus`",
        "`users` is listed twice",
        "unknown key `colour`",
        "bad regex",
        "bad glob",
        "duplicate keep rule `name ci-bot`",
        "keep rules for groups, which `manage` does not include",
        "recycle_bin is a setting",
        "not an account ID",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn wrong_types_are_reported_where_they_are() {
    let found = lines_and_messages(
        "version: 1\nmanage: 7\nkeep:\n  users: {name: x}\nrecycle_bin: [purge]\n",
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_eq!(found[0].0, 2);
    assert!(found[0].1.contains("`manage` must be `all` or a list"));
    assert_eq!(found[1].0, 4);
    assert!(found[1].1.contains("must be a list"));
    assert_eq!(found[2].0, 5);
    assert!(found[2].1.contains("must be a string"));
}

#[test]
fn missing_version_and_manage_are_reported() {
    let found = lines_and_messages("account: {id: \"1234567890123456\"}\n");
    let msgs: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(msgs, vec!["missing `version`", "missing `manage`"]);
}

#[test]
fn malformed_yaml_points_at_the_break() {
    let p = problems("version: 1\nmanage: [users\nkeep: {}\n");
    assert_eq!(p.len(), 1);
    assert!(
        p[0].message.starts_with("not valid YAML"),
        "{}",
        p[0].message
    );
    assert!(p[0].line >= 2);
}

#[test]
fn an_empty_file_is_a_problem() {
    let p = problems("");
    assert_eq!(p[0].message, "the file is empty");
    assert_eq!(p[0].line, 1);
}

#[test]
fn a_setting_that_acts_on_an_unlisted_kind_is_a_contradiction() {
    let found = lines_and_messages(
        "version: 1\nmanage: [users]\nrecycle_bin: purge\ndefault_domain: sometimes\n",
    );
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].0, 3);
    assert!(found[0].1.contains("does not list recycle_bin"));
    assert!(found[1].1.contains("must be `reset` or `keep`"));
}

#[test]
fn rules_a_kind_cannot_evaluate_are_rejected() {
    let found = lines_and_messages(
        "version: 1\nmanage: all\nkeep:\n  groups: [{tag: {key: a}}]\n  virtual_mfa_devices: [{created_before: \"2024-01-01\"}]\n  users: [{glob: a, regex: b}, {}]\n",
    );
    let msgs: Vec<&str> = found.iter().map(|(_, m)| m.as_str()).collect();
    assert_eq!(found.len(), 4, "{msgs:#?}");
    assert!(msgs[0].contains("groups have no tags"));
    assert!(msgs[1].contains("no creation date"));
    assert!(msgs[2].contains("exactly one of"));
    assert_eq!(msgs[3], "empty keep rule");
}

#[test]
fn an_unquoted_account_id_is_rejected_with_a_hint() {
    let p = problems("version: 1\nmanage: all\naccount: {id: 1234567890123456}\n");
    assert_eq!(p[0].message, "`account.id` must be quoted");
    assert_eq!(p[0].line, 3);
}

#[test]
fn empty_resources_declare_nothing() {
    for text in [
        "version: 1\nmanage: all\nresources: {}\n",
        "version: 1\nmanage: all\nresources: {users: []}\n",
        "version: 1\nmanage: all\nresources:\n",
    ] {
        assert!(parse(text, "f").unwrap().declared.is_empty(), "{text}");
    }
}

#[test]
fn the_diagnostic_renders_labels_at_the_lines() {
    let err = parse(
        "version: 1\nmanage: all\nkeep:\n  users: [{regex: \"(\"}]\n",
        "bad.yaml",
    )
    .unwrap_err();
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .render_report(&mut out, &err)
        .unwrap();
    assert!(out.contains("bad.yaml:4:"), "{out}");
    assert!(out.contains("bad regex"), "{out}");
}

#[test]
fn load_reports_a_missing_file_clearly() {
    let e = load(Path::new("/nonexistent/ramstate.yaml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot read /nonexistent/ramstate.yaml: no such file"
    );
}

#[test]
fn a_duplicate_key_points_at_its_second_occurrence() {
    let p = problems("version: 1\nmanage: all\nkeep: {}\naccount_alias: keep\nkeep: {}\n");
    assert_eq!(p.len(), 1);
    assert!(
        p[0].message.contains("duplicate entry with key \"keep\""),
        "{}",
        p[0].message
    );
    assert_eq!((p[0].line, p[0].column), (5, 1));
}

#[test]
fn a_bad_regex_says_what_is_wrong_with_it() {
    let p = problems("version: 1\nmanage: all\nkeep: {users: [{regex: \"([a-z\"}]}\n");
    assert_eq!(p[0].message, "bad regex: unclosed character class");
}

#[test]
fn an_allowlist_of_twenty_thousand_rules_parses_quickly_with_every_line() {
    let mut text = String::from("version: 1\nmanage: [users, roles]\nkeep:\n  users:\n");
    for i in 0..20_000 {
        text.push_str(&format!("    - user-{i}\n"));
    }
    text.push_str("  roles: [a, {glob: \"b*\"}]\n");
    let started = std::time::Instant::now();
    let d = parse(&text, "big.yaml").unwrap();
    let took = started.elapsed();
    let users = &d.keep[&Kind::Users];
    assert_eq!(users.len(), 20_000);
    assert_eq!((users[0].line, users[19_999].line), (5, 20_004));
    let roles = &d.keep[&Kind::Roles];
    assert_eq!((roles[0].line, roles[1].line), (20_005, 20_005));
    // One parse per rule took minutes here; one parse per list takes well under a second.
    assert!(took < std::time::Duration::from_secs(20), "{took:?}");
}

#[test]
fn rule_lines_in_an_odd_layout_still_point_at_each_rule() {
    let d = parse(
        "version: 1\nmanage: [users]\nkeep:\n  users: [a,\n    b,\n    c]\n",
        "f.yaml",
    )
    .unwrap();
    let lines: Vec<usize> = d.keep[&Kind::Users].iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![4, 5, 6]);
}

#[test]
fn load_says_a_directory_is_a_directory_and_binary_data_is_not_a_desired_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = load(dir.path()).unwrap_err();
    assert!(e.to_string().ends_with(": it is a directory"), "{e}");
    let help = Diagnostic::help(&e).unwrap().to_string();
    assert!(help.contains("ramstate.yaml"), "{help}");

    let garbage = dir.path().join("garbage.yaml");
    std::fs::write(&garbage, [0xff, 0xfe, 0x00, 0x9f, 0x80, 0x01]).unwrap();
    let e = load(&garbage).unwrap_err();
    assert!(e.to_string().ends_with(": not UTF-8 text"), "{e}");
    let help = Diagnostic::help(&e).unwrap().to_string();
    assert!(help.contains("YAML text"), "{help}");
}

#[test]
fn a_quoted_version_and_all_inside_a_list_get_a_specific_fix() {
    let found = lines_and_messages("version: \"1\"\nmanage: [all, users]\n");
    assert_eq!(
        found,
        vec![
            (
                1,
                "`version` must be the number 1, found the string \"1\"".to_string()
            ),
            (
                2,
                "`all` is not a kind: it stands alone as `manage: all`".to_string()
            ),
        ]
    );
}

#[test]
fn a_file_with_thousands_of_problems_shows_the_first_fifty_and_counts_them_all() {
    let mut text = String::from("version: 1\nmanage: [users]\nkeep:\n  users:\n");
    for i in 0..5_000 {
        text.push_str(&format!("    - {i}\n"));
    }
    let started = std::time::Instant::now();
    let e = parse(&text, "gen.yaml").unwrap_err();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(
        e.to_string(),
        "gen.yaml: 5000 problems in the desired-state file (the first 50 are shown)"
    );
    let lines: Vec<usize> = e.problems().iter().map(|p| p.line).collect();
    assert_eq!(lines, (5..55).collect::<Vec<_>>());
}

#[test]
fn the_setting_keys_are_exactly_the_kinds_that_are_settings() {
    let keys: Vec<Kind> = SETTINGS.iter().map(|(k, _, _)| *k).collect();
    let mut settings: Vec<Kind> = Kind::ALL.into_iter().filter(|k| k.is_setting()).collect();
    let mut sorted = keys.clone();
    sorted.sort();
    settings.sort();
    assert_eq!(sorted, settings);
}

#[test]
fn the_declared_example_parses_into_users_groups_roles_policies_and_settings() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/declared.yaml"
    ))
    .unwrap();
    let d = parse(&text, "declared.yaml").unwrap();
    let r = &d.declared;
    assert!(d.managed.is_empty());
    assert_eq!(r.users.len(), 2);
    assert_eq!(r.groups.len(), 2);
    assert_eq!(r.roles.len(), 1);
    assert_eq!(r.policies.len(), 3);
    assert_eq!(r.oidc_providers.len(), 1);
    let ana = r.user("ana").unwrap();
    let logon = ana.console_logon.as_ref().unwrap();
    assert!(logon.enabled && logon.mfa_bind_required);
    assert_eq!(
        logon.initial_password_env.as_deref(),
        Some("ANA_INITIAL_PASSWORD")
    );
    assert_eq!(ana.groups.as_ref().unwrap()[0].value, "platform-engineers");
    let bot = r.user("ci-bot").unwrap();
    assert_eq!(bot.tags.as_ref().unwrap()["team"], "platform");
    assert!(bot.console_logon.is_none(), "console logon is not governed");
    // A document given as JSON text and one given as YAML read the same.
    let logs = r.policy("logs-read").unwrap();
    assert_eq!(logs.document["Statement"][0]["Action"][0], "log:Get*");
    assert_eq!(r.account.alias.as_ref().unwrap().value, "acme-platform");
    assert!(d.kinds_in_play().contains(&Kind::Users));
    assert!(d.kinds_in_play().contains(&Kind::AccountAlias));
}

#[test]
fn normalised_documents_ignore_key_order_whitespace_and_one_element_lists() {
    let a: serde_json::Value = serde_json::from_str(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*"],"Resource":"*"}]}"#,
    )
    .unwrap();
    let b: serde_json::Value = serde_json::from_str(
        r#"{ "Statement": { "Resource": ["*"], "Action": "oss:Get*", "Effect": "Allow" },
             "Version": "1" }"#,
    )
    .unwrap();
    assert_eq!(normalise(&a), normalise(&b));
    let c: serde_json::Value = serde_json::from_str(
        r#"{"Version":"1","Statement":[{"Effect":"Allow","Action":["oss:Get*","oss:List*"],"Resource":"*"}]}"#,
    )
    .unwrap();
    assert_ne!(normalise(&a), normalise(&c));
}

#[test]
fn declared_resources_with_problems_are_reported_at_their_lines() {
    let long = format!(
        r#"{{"Version":"1","Statement":[{{"Effect":"Allow","Action":"{}","Resource":"*"}}]}}"#,
        "x".repeat(6200)
    );
    let text = format!(
        r#"version: 1
manage: []
resources:
  users:
    - name: alice
      password: hunter2
    - name: "bad name!"
    - name: bob
      console_logon: {{ enabled: true, password: s3cret }}
    - name: Bob
  policies:
    - name: huge
      document: '{long}'
    - name: ok
      document: {{ Version: "1", Statement: [] }}
  groups:
    - name: dev
      policies: [ReadOnlyAccess]
  roles:
    - name: deployer
"#
    );
    let got = lines_and_messages(&text);
    let at = |line: usize, needle: &str| {
        assert!(
            got.iter().any(|(l, m)| *l == line && m.contains(needle)),
            "no problem at line {line} containing {needle:?}: {got:#?}"
        );
    };
    at(6, "a password never goes in the file");
    at(7, "is not a user name");
    at(9, "a password never goes in the file");
    at(10, "declared twice");
    at(13, "RAM takes at most 6144");
    at(18, "System/NAME");
    at(20, "needs a `trust_policy`");
    assert_eq!(got.len(), 7, "{got:#?}");
}

#[test]
fn references_are_checked_against_the_live_account_at_their_lines() {
    let text = r#"version: 1
manage: []
resources:
  users:
    - name: alice
      groups: [dev, ghosts]
      policies: [Custom/ops, Custom/missing, System/ReadOnlyAccess, System/NoSuchThing]
      console_logon: { enabled: true }
  groups:
    - name: dev
      members: [alice, carol, nobody]
"#;
    let d = parse(text, "refs.yaml").unwrap();
    let inv: crate::model::Inventory = yaml_serde::from_str(
        r#"
account: {id: "1234567890123456"}
users: [{name: carol}]
policies: [{name: ops, versions: [{id: v1, is_default: true, document: "{}"}]}]
"#,
    )
    .unwrap();
    let system: BTreeSet<String> = ["ReadOnlyAccess".to_string()].into();
    let err = d
        .check_references(&Known {
            inventory: &inv,
            system_policies: Some(&system),
        })
        .unwrap_err();
    let got: Vec<(usize, String)> = err
        .problems()
        .iter()
        .map(|p| (p.line, p.message.clone()))
        .collect();
    let lines: Vec<usize> = got.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, vec![6, 7, 7, 8, 11], "{got:#?}");
    assert!(got[0].1.contains("group `ghosts`"));
    assert!(got[1].1.contains("`missing`") || got[2].1.contains("`missing`"));
    assert!(got.iter().any(|(_, m)| m.contains("NoSuchThing")));
    assert!(got[3].1.contains("initial password"));
    assert!(got[4].1.contains("`nobody`"));
}

#[test]
fn the_recycle_bin_is_purged_only_when_the_file_says_purge() {
    let purge = parse("version: 1\nmanage: all\nrecycle_bin: purge\n", "f").unwrap();
    assert!(purge.manages(Kind::RecycleBin));
    assert_eq!(purge.manage_lines[&Kind::RecycleBin], 3);
    let listed = parse(
        "version: 1\nmanage: [users, recycle_bin]\nrecycle_bin: purge\n",
        "f",
    )
    .unwrap();
    assert!(listed.manages(Kind::RecycleBin));
    let kept = parse(
        "version: 1\nmanage: [users, recycle_bin]\nrecycle_bin: keep\n",
        "f",
    )
    .unwrap();
    assert!(!kept.manages(Kind::RecycleBin));
}

#[test]
fn a_manage_list_naming_the_recycle_bin_without_purge_is_an_error_at_its_item() {
    let found = lines_and_messages("version: 1\nmanage:\n  - users\n  - recycle_bin\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 4);
    assert!(found[0].1.contains("purges nothing by itself"), "{found:?}");
}

#[test]
fn the_resource_directory_access_role_is_deleted_only_when_the_file_says_so() {
    let d = parse(
        "version: 1\nmanage: [roles]\nresource_directory_access_role: delete\n",
        "f",
    )
    .unwrap();
    assert_eq!(d.delete_resource_directory_role, Some(3));
    let d = parse(
        "version: 1\nmanage: all\nresource_directory_access_role: keep\n",
        "f",
    )
    .unwrap();
    assert_eq!(d.delete_resource_directory_role, None);
    let found =
        lines_and_messages("version: 1\nmanage: [users]\nresource_directory_access_role: delete\n");
    assert_eq!(found[0].0, 3);
    assert!(found[0].1.contains("does not include roles"), "{found:?}");
    let found =
        lines_and_messages("version: 1\nmanage: all\nresource_directory_access_role: remove\n");
    assert!(
        found[0].1.contains("must be `delete` or `keep`"),
        "{found:?}"
    );
}

#[test]
fn a_backup_section_lists_ids_keys_and_devices_of_declared_users() {
    let d = parse(
        r#"version: 1
manage: []
resources:
  users:
    - name: alice
backup:
  written: 2026-12-02T01:02:03Z
  users:
    - name: alice
      id: "2001"
      access_keys: [{ id: LTAIa, status: Inactive }]
      mfa_device: acs:ram::1234567890123456:mfa/alice
"#,
        "backup.yaml",
    )
    .unwrap();
    assert!(d.managed.is_empty());
    let b = d.backup.unwrap();
    assert_eq!(b.written, "2026-12-02T01:02:03Z");
    let alice = b.user("ALICE").unwrap();
    assert_eq!(alice.id, "2001");
    assert_eq!(
        alice.access_keys[0].status,
        crate::model::KeyStatus::Inactive
    );
}

#[test]
fn a_backup_user_that_is_not_declared_or_a_backup_key_with_a_secret_is_an_error_at_its_line() {
    let found = lines_and_messages(
        "version: 1\nmanage: []\nbackup:\n  written: x\n  users:\n    - { name: bob, id: \"1\" }\n",
    );
    assert_eq!(
        found,
        [(
            6,
            "backup user `bob` is not declared under `resources.users`".to_string()
        )]
    );
    let found = problems(
        "version: 1\nmanage: []\nbackup:\n  written: x\n  users:\n    - { name: bob, id: \"1\", access_keys: [{ id: LTAIb, status: Active, secret: s }] }\n",
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line, 6);
    assert!(
        found[0].message.contains("unknown field `secret`"),
        "{}",
        found[0].message
    );
}

#[test]
fn a_backup_attachment_of_a_policy_that_is_not_declared_is_an_error_at_its_line() {
    let found = lines_and_messages(
        "version: 1\nmanage: []\nbackup:\n  written: x\n  attachments:\n    - { policy: ops, principal_type: user, principal: bob }\n",
    );
    assert_eq!(
        found,
        [(
            6,
            "backup attachment of policy `ops` names a policy that is not declared under `resources.policies`".to_string()
        )]

    );
}

#[test]
fn the_offboarding_section_parses_with_defaults_for_what_it_leaves_out() {
    let d = parse(
        "version: 1\nmanage: [users]\noffboarding:\n  deactivate_first: true\n  min_idle_days: 30\n",
        "f.yaml",
    )
    .unwrap();
    assert_eq!(
        d.offboarding,
        Offboarding {
            deactivate_first: true,
            quarantine_days: DEFAULT_QUARANTINE_DAYS,
            min_idle_days: Some(30),
            line: 3,
        }
    );
    let d = parse("version: 1\nmanage: [users]\n", "f.yaml").unwrap();
    assert_eq!(d.offboarding, Offboarding::default());
    assert!(!d.offboarding.deactivate_first && d.offboarding.min_idle_days.is_none());
    assert_eq!(d.now, None, "the file never says when the plan is made");
}

#[test]
fn offboarding_problems_point_at_their_lines() {
    let text = "version: 1\nmanage: [users]\noffboarding:\n  deactivate_first: yes please\n  quarantine_days: \"7\"\n  min_idle_days: -3\n  grace: 2\n";
    assert_eq!(
        lines_and_messages(text),
        vec![
            (
                4,
                "`offboarding.deactivate_first` must be true or false, found a string".to_string()
            ),
            (
                5,
                "`offboarding.quarantine_days` must be a number, found the string \"7\"".to_string()
            ),
            (
                6,
                "`offboarding.min_idle_days` must be a whole number of days from 0 to 3650, found -3"
                    .to_string()
            ),
            (7, "unknown key `grace` in `offboarding`".to_string()),
        ]
    );
}
