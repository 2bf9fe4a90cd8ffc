//! Tag operations: RAM tags roles and custom policies (JSON-array parameters), IMS tags
//! users (`Tag.N.Key` style parameters).

use serde_json::{Value, json};

use super::error::{ErrorResponse, Params};
use super::state::{State, paginate, role_not_found};
use ramstate_model::{PolicyRef, Service, Tags};

type R = Result<Value, ErrorResponse>;

/// Most tags one resource may carry.
const TAGS_PER_RESOURCE: usize = 20;
/// Most resources one call may name.
const RESOURCES_PER_CALL: usize = 50;

/// Runs one RAM tag action; `None` for other actions.
pub fn handle_ram(st: &mut State, action: &str, p: &Params) -> Option<R> {
    Some(match action {
        "TagResources" => ram_tag(st, p),
        "UntagResources" => ram_untag(st, p),
        "ListTagResources" => ram_list(st, p),
        _ => return None,
    })
}

/// Runs one IMS tag action; `None` for other actions.
pub fn handle_ims(st: &mut State, action: &str, p: &Params) -> Option<R> {
    Some(match action {
        "TagResources" => ims_tag(st, p),
        "UntagResources" => ims_untag(st, p),
        "ListTagResources" => ims_list(st, p),
        _ => return None,
    })
}

fn json_list<T: serde::de::DeserializeOwned>(
    p: &Params,
    name: &str,
) -> Result<Vec<T>, ErrorResponse> {
    match p.get(name) {
        None => Ok(vec![]),
        Some(raw) => serde_json::from_str(raw).map_err(|_| {
            ErrorResponse::invalid(name, None, format!("The {name} must be a JSON array."))
        }),
    }
}

/// `Name.1`, `Name.2`, ... up to the first gap.
fn numbered(p: &Params, name: &str) -> Vec<String> {
    (1..)
        .map_while(|n| p.get(&format!("{name}.{n}")).map(str::to_string))
        .collect()
}

fn check_tag(key: &str, value: &str, max_value: usize) -> Result<(), ErrorResponse> {
    let bad_key = key.is_empty()
        || key.chars().count() > 128
        || key.starts_with("acs:")
        || key.starts_with("aliyun")
        || key.contains("http://")
        || key.contains("https://");
    if bad_key {
        return Err(ErrorResponse::invalid(
            "Tag",
            Some("Key"),
            format!("The tag key \"{key}\" is empty, too long, reserved or holds a URL."),
        ));
    }
    if value.chars().count() > max_value
        || value.starts_with("acs:")
        || value.contains("http://")
        || value.contains("https://")
    {
        return Err(ErrorResponse::invalid(
            "Tag",
            Some("Value"),
            format!("The value of tag \"{key}\" is too long, reserved or holds a URL."),
        ));
    }
    Ok(())
}

/// At most 20 tags on a resource (reference section 5). No code is documented for
/// going over; `LimitExceeded.Tag` follows the documented `LimitExceeded.*` family.
fn merge(current: &Tags, add: &Tags) -> Result<Tags, ErrorResponse> {
    let mut out = current.clone();
    out.extend(add.iter().map(|(k, v)| (k.clone(), v.clone())));
    if out.len() > TAGS_PER_RESOURCE {
        return Err(ErrorResponse::conflict(
            "LimitExceeded.Tag",
            format!("A resource can carry at most {TAGS_PER_RESOURCE} tags."),
        ));
    }
    Ok(out)
}

// ---------------------------------------------------------------- RAM: roles and policies

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Role,
    Policy,
}

fn ram_kind(p: &Params) -> Result<Kind, ErrorResponse> {
    match p.required("ResourceType")? {
        "role" => Ok(Kind::Role),
        "policy" => Ok(Kind::Policy),
        other => Err(ErrorResponse::invalid(
            "ResourceType",
            None,
            format!("The ResourceType must be role or policy, not \"{other}\"."),
        )),
    }
}

fn ram_names(
    st: &State,
    kind: Kind,
    p: &Params,
    required: bool,
) -> Result<Vec<String>, ErrorResponse> {
    let names: Vec<String> = json_list(p, "ResourceNames")?;
    if required && names.is_empty() {
        return Err(ErrorResponse::missing(Service::Ram, "ResourceNames"));
    }
    if names.len() > RESOURCES_PER_CALL {
        return Err(ErrorResponse::invalid(
            "ResourceNames",
            None,
            format!("At most {RESOURCES_PER_CALL} resources per call."),
        ));
    }
    for n in &names {
        match kind {
            Kind::Role => {
                st.role(n)?;
            }
            Kind::Policy => {
                if !st.policies.contains_key(n) {
                    return Err(ErrorResponse::not_found(
                        "EntityNotExist.Policy",
                        format!(
                            "The policy does not exist: {}.",
                            PolicyRef::custom(n.clone())
                        ),
                    ));
                }
            }
        }
    }
    Ok(names)
}

fn tags_mut<'a>(st: &'a mut State, kind: Kind, name: &str) -> Result<&'a mut Tags, ErrorResponse> {
    match kind {
        Kind::Role => st
            .roles
            .get_mut(name)
            .map(|r| &mut r.role.tags)
            .ok_or_else(|| role_not_found(name)),
        Kind::Policy => st
            .policies
            .get_mut(name)
            .map(|r| &mut r.policy.tags)
            .ok_or_else(|| ErrorResponse::not_found("EntityNotExist.Policy", name.to_string())),
    }
}

fn ram_tag_pairs(p: &Params) -> Result<Tags, ErrorResponse> {
    let raw: Vec<Value> = json_list(p, "Tag")?;
    let mut tags = Tags::new();
    for t in raw {
        let k = t.get("Key").and_then(|v| v.as_str()).unwrap_or_default();
        let v = t.get("Value").and_then(|v| v.as_str()).unwrap_or_default();
        check_tag(k, v, 256)?;
        tags.insert(k.to_string(), v.to_string());
    }
    Ok(tags)
}

fn ram_tag(st: &mut State, p: &Params) -> R {
    let kind = ram_kind(p)?;
    let names = ram_names(st, kind, p, true)?;
    let add = ram_tag_pairs(p)?;
    if add.is_empty() {
        return Err(ErrorResponse::missing(Service::Ram, "Tag"));
    }
    let merged: Vec<Tags> = names
        .iter()
        .map(|n| merge(tags_mut(st, kind, n)?, &add))
        .collect::<Result<_, _>>()?;
    for (n, tags) in names.iter().zip(merged) {
        *tags_mut(st, kind, n)? = tags;
    }
    Ok(json!({}))
}

fn ram_untag(st: &mut State, p: &Params) -> R {
    let kind = ram_kind(p)?;
    let names = ram_names(st, kind, p, true)?;
    let mut keys: Vec<String> = json_list(p, "TagKeys")?;
    keys.extend(numbered(p, "TagKey"));
    let all = p.bool("All")?.unwrap_or(false);
    for n in &names {
        let tags = tags_mut(st, kind, n)?;
        if keys.is_empty() && all {
            tags.clear();
        } else {
            for k in &keys {
                tags.remove(k);
            }
        }
    }
    Ok(json!({}))
}

fn ram_list(st: &State, p: &Params) -> R {
    let kind = ram_kind(p)?;
    let names = ram_names(st, kind, p, false)?;
    let filter = ram_tag_pairs(p)?;
    let page_size = p.int("PageSize", 1, 100)?.unwrap_or(100);
    let sources: Vec<(String, Tags)> = match kind {
        Kind::Role => st
            .roles
            .iter()
            .map(|(n, r)| (n.clone(), r.role.tags.clone()))
            .collect(),
        Kind::Policy => st
            .policies
            .iter()
            .map(|(n, r)| (n.clone(), r.policy.tags.clone()))
            .collect(),
    };
    let kind_name = if kind == Kind::Role { "role" } else { "policy" };
    let items: Vec<(String, Value)> = sources
        .into_iter()
        .filter(|(n, _)| names.is_empty() || names.contains(n))
        .filter(|(_, tags)| filter.iter().all(|(k, v)| tags.get(k) == Some(v)))
        .flat_map(|(n, tags)| {
            tags.into_iter().map(move |(k, v)| {
                (
                    format!("{n}\u{0}{k}"),
                    json!({"ResourceName": n, "ResourceType": kind_name, "TagKey": k, "TagValue": v}),
                )
            })
        })
        .collect();
    let paged = paged_by_token(items, p, page_size)?;
    let mut out = json!({"TagResources": paged.0});
    if let Some(t) = paged.1 {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

/// Pages with `NextToken`/`PageSize` (the tag operations' names for Marker/MaxItems).
fn paged_by_token(
    items: Vec<(String, Value)>,
    p: &Params,
    page_size: i64,
) -> Result<(Vec<Value>, Option<String>), ErrorResponse> {
    let mut map = std::collections::BTreeMap::new();
    map.insert("MaxItems".to_string(), page_size.to_string());
    if let Some(t) = p.get("NextToken") {
        map.insert("Marker".to_string(), t.to_string());
    }
    paginate(items, &Params::new(Service::Ram, map), 100, 100).map_err(|e| {
        if e.code == "InvalidParameter.Marker" {
            ErrorResponse::invalid("NextToken", None, "The specified NextToken is not valid.")
        } else {
            e
        }
    })
}

// ---------------------------------------------------------------- IMS: users

fn ims_users(st: &State, p: &Params, required: bool) -> Result<Vec<String>, ErrorResponse> {
    if let Some(t) = p.get("ResourceType")
        && t != "user"
    {
        return Err(ErrorResponse::invalid(
            "ResourceType",
            None,
            "The ResourceType must be user.",
        ));
    }
    let ids = numbered(p, "ResourceId");
    let upns = numbered(p, "ResourcePrincipalName");
    if !ids.is_empty() && !upns.is_empty() {
        return Err(ErrorResponse::invalid(
            "ResourceId",
            None,
            "Send ResourceId or ResourcePrincipalName, not both.",
        ));
    }
    if ids.len() + upns.len() > RESOURCES_PER_CALL {
        return Err(ErrorResponse::invalid(
            "ResourceId",
            None,
            format!("At most {RESOURCES_PER_CALL} resources per call."),
        ));
    }
    let mut names = vec![];
    for id in &ids {
        names.push(st.user_by_id(id)?.user.name.clone());
    }
    for upn in &upns {
        names.push(st.user_by_principal(upn)?.user.name.clone());
    }
    if required && names.is_empty() {
        return Err(ErrorResponse::missing(Service::Ims, "ResourceId"));
    }
    Ok(names)
}

fn ims_tag_pairs(p: &Params) -> Result<Tags, ErrorResponse> {
    let mut tags = Tags::new();
    for n in 1..=TAGS_PER_RESOURCE + 1 {
        let Some(k) = p.get(&format!("Tag.{n}.Key")) else {
            break;
        };
        let v = p.get(&format!("Tag.{n}.Value")).unwrap_or_default();
        check_tag(k, v, 128)?;
        tags.insert(k.to_string(), v.to_string());
    }
    Ok(tags)
}

fn ims_tag(st: &mut State, p: &Params) -> R {
    let users = ims_users(st, p, true)?;
    let add = ims_tag_pairs(p)?;
    if add.is_empty() {
        return Err(ErrorResponse::missing(Service::Ims, "Tag.1.Key"));
    }
    let merged: Vec<Tags> = users
        .iter()
        .map(|u| merge(&st.users[u].user.tags, &add))
        .collect::<Result<_, _>>()?;
    for (u, tags) in users.iter().zip(merged) {
        if let Some(rec) = st.users.get_mut(u) {
            rec.user.tags = tags;
        }
    }
    Ok(json!({}))
}

fn ims_untag(st: &mut State, p: &Params) -> R {
    let users = ims_users(st, p, true)?;
    let keys = numbered(p, "TagKey");
    let all = p.bool("All")?.unwrap_or(false);
    for u in &users {
        if let Some(rec) = st.users.get_mut(u) {
            if keys.is_empty() && all {
                rec.user.tags.clear();
            } else {
                for k in &keys {
                    rec.user.tags.remove(k);
                }
            }
        }
    }
    Ok(json!({}))
}

fn ims_list(st: &State, p: &Params) -> R {
    let users = ims_users(st, p, false)?;
    let filter = ims_tag_pairs(p)?;
    if users.is_empty() && filter.is_empty() {
        return Err(ErrorResponse::missing(Service::Ims, "ResourceId"));
    }
    let page_size = p.int("PageSize", 1, 100)?.unwrap_or(100);
    let items: Vec<(String, Value)> = st
        .users
        .iter()
        .filter(|(n, _)| users.is_empty() || users.contains(n))
        .filter(|(_, u)| {
            filter
                .iter()
                .all(|(k, v)| u.user.tags.get(k).is_some_and(|x| v.is_empty() || x == v))
        })
        .flat_map(|(n, u)| {
            u.user.tags.iter().map(move |(k, v)| {
                (
                    format!("{n}\u{0}{k}"),
                    json!({"ResourceId": u.user.id, "ResourceType": "user", "TagKey": k, "TagValue": v}),
                )
            })
        })
        .collect();
    let (page, token) = paged_by_token(items, p, page_size)?;
    let mut out = json!({"TagResources": {"TagResource": page}, "IsTruncated": token.is_some()});
    if let Some(t) = token {
        out["NextToken"] = json!(t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ramstate_model::Inventory;
    use std::collections::BTreeMap;

    fn state() -> State {
        let inv: Inventory = yaml_serde::from_str(
            "account: {id: '1'}\nusers: [{name: u, id: '11'}]\nroles: [{name: r1}, {name: r2}]",
        )
        .unwrap();
        State::from_seed(&inv, 1, time::OffsetDateTime::now_utc()).unwrap()
    }

    fn params(service: Service, pairs: &[(&str, &str)]) -> Params {
        Params::new(
            service,
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn roles_are_tagged_listed_and_untagged_with_json_parameters() {
        let mut st = state();
        let p = params(
            Service::Ram,
            &[
                ("ResourceType", "role"),
                ("ResourceNames", r#"["r1","r2"]"#),
                ("Tag", r#"[{"Key":"env","Value":"prod"}]"#),
            ],
        );
        handle_ram(&mut st, "TagResources", &p).unwrap().unwrap();
        assert_eq!(st.roles["r2"].role.tags["env"], "prod");
        let list = handle_ram(
            &mut st,
            "ListTagResources",
            &params(Service::Ram, &[("ResourceType", "role"), ("PageSize", "1")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(list["TagResources"][0]["ResourceName"], "r1");
        assert!(list["NextToken"].is_string());
        let p = params(
            Service::Ram,
            &[
                ("ResourceType", "role"),
                ("ResourceNames", r#"["r1"]"#),
                ("TagKeys", r#"["env"]"#),
            ],
        );
        handle_ram(&mut st, "UntagResources", &p).unwrap().unwrap();
        assert!(st.roles["r1"].role.tags.is_empty());
        let bad = params(
            Service::Ram,
            &[
                ("ResourceType", "role"),
                ("ResourceNames", r#"["r1"]"#),
                ("Tag", r#"[{"Key":"acs:x","Value":"1"}]"#),
            ],
        );
        let e = handle_ram(&mut st, "TagResources", &bad)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code, "InvalidParameter.Tag.Key");
        let ghost = params(
            Service::Ram,
            &[
                ("ResourceType", "role"),
                ("ResourceNames", r#"["nope"]"#),
                ("Tag", r#"[{"Key":"a","Value":"1"}]"#),
            ],
        );
        let e = handle_ram(&mut st, "TagResources", &ghost)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code, "EntityNotExist.Role");
    }

    #[test]
    fn users_are_tagged_by_id_and_the_limit_holds() {
        let mut st = state();
        let mut pairs = vec![
            ("ResourceType".to_string(), "user".to_string()),
            ("ResourceId.1".into(), "11".into()),
        ];
        for i in 1..=20 {
            pairs.push((format!("Tag.{i}.Key"), format!("k{i}")));
            pairs.push((format!("Tag.{i}.Value"), "v".into()));
        }
        let p = Params::new(Service::Ims, pairs.iter().cloned().collect());
        handle_ims(&mut st, "TagResources", &p).unwrap().unwrap();
        assert_eq!(st.users["u"].user.tags.len(), 20);
        let one_more = params(
            Service::Ims,
            &[
                ("ResourceId.1", "11"),
                ("Tag.1.Key", "extra"),
                ("Tag.1.Value", "v"),
            ],
        );
        let e = handle_ims(&mut st, "TagResources", &one_more)
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code, "LimitExceeded.Tag");
        let list = handle_ims(
            &mut st,
            "ListTagResources",
            &params(Service::Ims, &[("ResourceId.1", "11"), ("PageSize", "5")]),
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            list["TagResources"]["TagResource"]
                .as_array()
                .unwrap()
                .len(),
            5
        );
        assert_eq!(list["IsTruncated"], true);
        let untag = params(Service::Ims, &[("ResourceId.1", "11"), ("All", "true")]);
        handle_ims(&mut st, "UntagResources", &untag)
            .unwrap()
            .unwrap();
        assert!(st.users["u"].user.tags.is_empty());
        let e = handle_ims(&mut st, "ListTagResources", &params(Service::Ims, &[]))
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code, "MissingResourceId");
    }
}
