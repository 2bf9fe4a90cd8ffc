#!/usr/bin/env python3
"""What an account holds, read with Alibaba Cloud's official Python RAM SDK, as JSON.

Used by tests/official_sdk.rs to check, from outside ramstate, that an apply left exactly
what a desired-state file declares. Arguments: --endpoint HOST:PORT --key ID --secret S.
"""

from __future__ import annotations

import argparse
import json

from alibabacloud_ram20150501 import models as ram
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_tea_openapi import models as open_api_models


def items(body: dict, outer: str, inner: str) -> list:
    return (body.get(outer) or {}).get(inner) or []


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--secret", required=True)
    a = ap.parse_args()
    c = RamClient(
        open_api_models.Config(
            access_key_id=a.key,
            access_key_secret=a.secret,
            endpoint=a.endpoint,
            protocol="http",
        )
    )

    def policies(body: dict) -> list:
        return sorted(f"{p['PolicyType']}/{p['PolicyName']}" for p in items(body, "Policies", "Policy"))

    out: dict = {"users": {}, "groups": {}, "roles": {}, "policies": {}}
    users = c.list_users(ram.ListUsersRequest(max_items=1000)).body.to_map()
    for u in items(users, "Users", "User"):
        name = u["UserName"]
        got = c.get_user(ram.GetUserRequest(user_name=name)).body.to_map()["User"]
        groups = c.list_groups_for_user(ram.ListGroupsForUserRequest(user_name=name)).body.to_map()
        attached = c.list_policies_for_user(ram.ListPoliciesForUserRequest(user_name=name)).body.to_map()
        out["users"][name] = {
            "display_name": got.get("DisplayName"),
            "groups": sorted(g["GroupName"] for g in items(groups, "Groups", "Group")),
            "policies": policies(attached),
        }
    groups = c.list_groups(ram.ListGroupsRequest(max_items=100)).body.to_map()
    for g in items(groups, "Groups", "Group"):
        name = g["GroupName"]
        attached = c.list_policies_for_group(ram.ListPoliciesForGroupRequest(group_name=name)).body.to_map()
        out["groups"][name] = {"comments": g.get("Comments"), "policies": policies(attached)}
    roles = c.list_roles(ram.ListRolesRequest(max_items=1000)).body.to_map()
    for r in items(roles, "Roles", "Role"):
        name = r["RoleName"]
        got = c.get_role(ram.GetRoleRequest(role_name=name)).body.to_map()["Role"]
        attached = c.list_policies_for_role(ram.ListPoliciesForRoleRequest(role_name=name)).body.to_map()
        out["roles"][name] = {
            "trust_policy": json.loads(got["AssumeRolePolicyDocument"]),
            "max_session_duration": got.get("MaxSessionDuration"),
            "policies": policies(attached),
        }
    listed = c.list_policies(ram.ListPoliciesRequest(policy_type="Custom", max_items=1000)).body.to_map()
    for p in items(listed, "Policies", "Policy"):
        name = p["PolicyName"]
        got = c.get_policy(ram.GetPolicyRequest(policy_name=name, policy_type="Custom")).body.to_map()
        out["policies"][name] = {
            "description": got["Policy"].get("Description"),
            "document": json.loads(got["DefaultPolicyVersion"]["PolicyDocument"]),
        }
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
