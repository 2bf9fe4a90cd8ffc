#!/usr/bin/env python3
"""Alibaba Cloud's own Python SDKs, unchanged, against the ramstate emulator.

Starts `ramstate emulator serve --seed <seed>` (first stdout line = its URL), points
the official clients at it and runs, with the signing styles the SDKs offer:

  v3       tea-openapi's default, ACS3-HMAC-SHA256 in the Authorization header
  v2       tea-openapi with signature_algorithm='v2' (RPC style, HMAC-SHA1 query signature)
  sm3      tea-openapi with signature_algorithm='ACS3-HMAC-SM3' (V3 with SM3 hashes)
  core-v1  the older aliyun-python-sdk-core + aliyun-python-sdk-ram (HMAC-SHA1, V1)

- Scenario (v3, v2): a realistic sequence across RAM, IMS, STS and ResourceManager,
  expected failures included;
- Sweep (v3, v2, sm3): every other operation the emulator answers, through the typed
  SDK methods;
- faults: injected throttling and server errors as the SDK's exception classes;
- core-v1: the older SDK's requests, GET and POST.

Every response body is checked against the SDK's own model: each field the emulator
sends must be one the model knows, with the type the model declares (a bool is a
JSON bool, a list is double-wrapped as `{"Users": {"User": [...]}}`).

Prints `N passed, M failed` last and exits non-zero when anything failed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import time
import traceback
import typing
from typing import Any, Callable, Dict, List

import yaml
from alibabacloud_ims20190815 import models as ims_models
from alibabacloud_ims20190815.client import Client as ImsClient
from alibabacloud_ram20150501 import models as ram_models
from alibabacloud_ram20150501.client import Client as RamClient
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as RmClient
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as StsClient
from alibabacloud_tea_openapi import models as open_api_models
from darabonba.model import DaraModel

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


# ---------------------------------------------------------------- bookkeeping


class Failure(Exception):
    """A conformance check that did not hold."""


class Report:
    def __init__(self) -> None:
        self.passed: List[str] = []
        self.failed: List[str] = []

    def check(self, name: str, fn: Callable[[], Any]) -> Any:
        """Runs one named check; records and prints its outcome."""
        try:
            out = fn()
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the run
            self.failed.append(name)
            detail = str(e) if isinstance(e, Failure) else traceback.format_exc(limit=3)
            print(f"FAIL {name}: {detail.strip()}", flush=True)
            return None
        self.passed.append(name)
        print(f"ok   {name}", flush=True)
        return out


def expect(cond: bool, what: str) -> None:
    if not cond:
        raise Failure(what)


def equal(actual: Any, expected: Any, what: str) -> None:
    if actual != expected:
        raise Failure(f"{what}: expected {expected!r}, got {actual!r}")


def error_of(fn: Callable[[], Any]) -> Exception:
    """Runs `fn`, which must raise; returns what it raised."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001
        return e
    raise Failure("the call succeeded but an error was expected")


def expect_error(fn: Callable[[], Any], code: str, status: int) -> Exception:
    """The SDK raises with Alibaba's error code and HTTP status."""
    e = error_of(fn)
    got_code = getattr(e, "code", None)
    got_status = getattr(e, "status_code", None) or getattr(e, "http_status", None)
    if got_code is None and hasattr(e, "get_error_code"):
        got_code = e.get_error_code()
        got_status = e.get_http_status()
    equal(got_code, code, f"error code ({e})")
    equal(got_status, status, f"HTTP status of {code}")
    return e


# ------------------------------------------------------ model conformance


def _hints(cls: type) -> Dict[str, Any]:
    module = sys.modules[cls.__module__]
    return typing.get_type_hints(cls.__init__, globalns=vars(module))


def _check_value(hint: Any, value: Any, path: str, problems: List[str]) -> None:
    origin = typing.get_origin(hint)
    if origin in (list, List):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {type(value).__name__}")
            return
        (inner,) = typing.get_args(hint) or (Any,)
        for i, item in enumerate(value):
            _check_value(inner, item, f"{path}[{i}]", problems)
        return
    if origin in (dict, Dict):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object, got {type(value).__name__}")
        return
    if isinstance(hint, type) and issubclass(hint, DaraModel):
        if not isinstance(value, hint):
            problems.append(f"{path}: expected {hint.__name__}, got {type(value).__name__}")
            return
        _check_model(value, path, problems)
        return
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    else:
        ok = True
    if not ok:
        problems.append(f"{path}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def _check_model(model: DaraModel, path: str, problems: List[str]) -> None:
    for field, hint in _hints(type(model)).items():
        value = getattr(model, field, None)
        if value is not None:
            _check_value(hint, value, f"{path}.{field}", problems)


def _unknown_keys(raw: Any, typed: Any, path: str, out: List[str]) -> None:
    if isinstance(raw, dict):
        known = typed if isinstance(typed, dict) else {}
        for k, v in raw.items():
            if k not in known:
                out.append(f"{path}.{k}")
            else:
                _unknown_keys(v, known[k], f"{path}.{k}", out)
    elif isinstance(raw, list) and isinstance(typed, list):
        for i, (r, t) in enumerate(zip(raw, typed)):
            _unknown_keys(r, t, f"{path}[{i}]", out)


class Wire:
    """Keeps the raw body of each client's last answer, as the SDK received it."""

    def __init__(self) -> None:
        self.last_body: Any = None

    def wrap(self, client: Any) -> Any:
        # Most operations go through call_api; the anonymous STS ones call
        # do_rpcrequest directly.
        for name in ("call_api", "do_rpcrequest"):
            setattr(client, name, self._recording(getattr(client, name)))
        return client

    def _recording(self, send: Callable[..., dict]) -> Callable[..., dict]:
        def recording(*args: Any) -> dict:
            self.last_body = None
            out = send(*args)
            self.last_body = out.get("body")
            return out

        return recording


def conforms(wire: Wire, response: Any) -> Any:
    """The response body parsed into the SDK model loses nothing and has the declared types."""
    body = response.body
    problems: List[str] = []
    _check_model(body, type(body).__name__, problems)
    unknown: List[str] = []
    _unknown_keys(wire.last_body, body.to_map(), "body", unknown)
    if unknown:
        problems.append("fields the SDK model does not know: " + ", ".join(unknown))
    if not isinstance(body.request_id, str) or not body.request_id:
        problems.append("RequestId missing")
    if problems:
        raise Failure("; ".join(problems))
    return body


# ---------------------------------------------------------------- emulator


class Emulator:
    def __init__(self, binary: str, seed: str, *faults: str) -> None:
        self.proc = subprocess.Popen(
            [binary, "emulator", "serve", "--seed", seed, *faults],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline().strip() if self.proc.stdout else ""
        if not line.startswith("http://"):
            self.stop()
            raise SystemExit(f"the emulator did not print its URL (got {line!r})")
        self.url = line
        # tea-openapi's `endpoint` is a host[:port]: darabonba builds the URL as
        # `<protocol>://<endpoint><pathname>` (adding a port only when its own request
        # port, 80 unless set, differs), and sends the endpoint as the Host header,
        # which V3 signs. The older core SDK takes the host and the port apart.
        self.host = line.split("://", 1)[1].rstrip("/")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---------------------------------------------------------------- clients


class Clients:
    """The four official clients for one credential and one signing style."""

    def __init__(
        self, host: str, style: str, key_id: str | None, secret: str | None, token: str | None = None
    ) -> None:
        self.host = host
        self.wire = Wire()
        config = dict(
            access_key_id=key_id,
            access_key_secret=secret,
            security_token=token,
            endpoint=host,
            protocol="http",
            read_timeout=10000,
            connect_timeout=5000,
        )
        if style == "v2":
            config["signature_algorithm"] = "v2"
        elif style == "sm3":
            config["signature_algorithm"] = "ACS3-HMAC-SM3"

        def make(cls: type) -> Any:
            return self.wire.wrap(cls(open_api_models.Config(**config)))

        self.ram = make(RamClient)
        self.ims = make(ImsClient)
        self.sts = make(StsClient)
        self.rm = make(RmClient)

    def ok(self, response: Any) -> Any:
        return conforms(self.wire, response)


# ---------------------------------------------------------------- scenario


def long_policy_document(tag: str) -> str:
    """A valid custom policy near the 6,144-character limit."""
    statements = []
    for i in range(40):
        statements.append(
            {
                "Effect": "Allow",
                "Action": ["oss:GetObject", "oss:ListObjects"],
                "Resource": [f"acs:oss:*:*:{tag}-bucket-{i:03d}/*"],
            }
        )
        if len(json.dumps({"Version": "1", "Statement": statements})) > 5000:
            break
    return json.dumps({"Version": "1", "Statement": statements}, separators=(",", ":"))


def jwt(claims: dict) -> str:
    """A JWT with these claims. The emulator cannot fetch the issuer's keys, so the
    signature part is a placeholder it does not check."""

    def part(obj: dict) -> str:
        raw = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def saml_response(session: str, not_on_or_after: str, blocks: int = 40) -> str:
    """A Base64 SAML response; the default is a typical signed size (about 19 KB
    encoded), 216 blocks make it about 99,000 characters, near the documented limit of
    100,000. The emulator reads the claims; it has no IdP certificate to check the
    signature with."""
    signature = base64.b64encode(bytes(range(256)) * blocks).decode()
    xml = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">'
        "<saml:Issuer>http://www.okta.com/exk1acme</saml:Issuer>"
        "<saml:Assertion><saml:Subject>"
        '<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">alice@example.com</saml:NameID>'
        f'<saml:SubjectConfirmation><saml:SubjectConfirmationData NotOnOrAfter="{not_on_or_after}" '
        'Recipient="https://signin.aliyun.com/saml-role/sso"/></saml:SubjectConfirmation>'
        "</saml:Subject><saml:AttributeStatement>"
        '<saml:Attribute Name="https://www.aliyun.com/SAML-Role/Attributes/RoleSessionName">'
        f"<saml:AttributeValue>{session}</saml:AttributeValue></saml:Attribute>"
        "</saml:AttributeStatement>"
        f"<ds:Signature><ds:SignatureValue>{signature}</ds:SignatureValue></ds:Signature>"
        "</saml:Assertion></samlp:Response>"
    )
    return base64.b64encode(xml.encode()).decode()


class Scenario:
    def __init__(self, report: Report, emu: Emulator, seed: dict, style: str) -> None:
        self.r = report
        self.emu = emu
        self.seed = seed
        self.style = style
        self.account = str(seed["account"]["id"])
        root = seed["emulator"]["root_access_key"]
        self.root_id, self.root_secret = root["id"], root["secret"]
        self.root = Clients(emu.host, style, self.root_id, self.root_secret)
        self.ci = self._seed_user_clients("ci-bot")
        self.tag = f"sdk-{style}"

    def _seed_user_clients(self, name: str) -> Clients:
        user = next(u for u in self.seed["users"] if u["name"] == name)
        key = next(k for k in user["access_keys"] if k["status"] == "Active")
        return Clients(self.emu.host, self.style, key["id"], key["secret"])

    def check(self, name: str, fn: Callable[[], Any]) -> Any:
        return self.r.check(f"[{self.style}] {name}", fn)

    def run(self) -> None:
        self.caller_identity()
        self.users_and_keys()
        self.groups()
        self.policies()
        self.roles_and_sts()
        self.service_linked_role()
        self.ims()
        self.failures()

    # -- STS GetCallerIdentity

    def caller_identity(self) -> None:
        c = self.root

        def as_root() -> None:
            b = c.ok(c.sts.get_caller_identity())
            equal(b.account_id, self.account, "AccountId")
            equal(b.identity_type, "Account", "IdentityType")
            equal(b.arn, f"acs:ram::{self.account}:root", "Arn")

        def as_user() -> None:
            b = self.ci.ok(self.ci.sts.get_caller_identity())
            equal(b.identity_type, "RAMUser", "IdentityType")
            equal(b.user_id, "250000000000001", "UserId")
            equal(b.arn, f"acs:ram::{self.account}:user/ci-bot", "Arn")
            equal(b.principal_id, "250000000000001", "PrincipalId")
            equal(b.role_id, None, "RoleId of a user")

        self.check("sts GetCallerIdentity as the account", as_root)
        self.check("sts GetCallerIdentity as a RAM user", as_user)

    # -- users and access keys

    def users_and_keys(self) -> None:
        c = self.root
        name = f"{self.tag}-user"

        def create() -> None:
            b = c.ok(
                c.ram.create_user(
                    ram_models.CreateUserRequest(
                        user_name=name,
                        display_name="SDK Conformance",
                        email="sdk@example.com",
                        comments="made by the official SDK",
                    )
                )
            )
            equal(b.user.user_name, name, "User.UserName")
            equal(b.user.display_name, "SDK Conformance", "User.DisplayName")
            expect(b.user.user_id.isdigit(), f"User.UserId is numeric: {b.user.user_id!r}")
            expect(b.user.create_date.endswith("Z"), f"User.CreateDate is UTC: {b.user.create_date!r}")

        def get() -> None:
            b = c.ok(c.ram.get_user(ram_models.GetUserRequest(user_name=name)))
            equal(b.user.user_name, name, "User.UserName")
            equal(b.user.email, "sdk@example.com", "User.Email")
            equal(b.user.comments, "made by the official SDK", "User.Comments")

        def get_seeded() -> None:
            b = c.ok(c.ram.get_user(ram_models.GetUserRequest(user_name="alice")))
            equal(b.user.user_id, "250000000000002", "User.UserId")
            equal(b.user.last_login_date, "2025-07-01T01:12:44Z", "User.LastLoginDate")

        def list_paginated() -> None:
            names: List[str] = []
            marker = None
            pages = 0
            while True:
                b = c.ok(c.ram.list_users(ram_models.ListUsersRequest(max_items=2, marker=marker)))
                pages += 1
                expect(isinstance(b.is_truncated, bool), "IsTruncated is a bool")
                expect(len(b.users.user) <= 2, f"at most MaxItems users per page, got {len(b.users.user)}")
                names += [u.user_name for u in b.users.user]
                if not b.is_truncated:
                    break
                expect(bool(b.marker), "a truncated page carries a Marker")
                marker = b.marker
                expect(pages < 50, "pagination ends")
            expect(len(names) == len(set(names)), f"no user listed twice: {names}")
            expected = {u["name"] for u in self.seed["users"]} | {name}
            expect(expected <= set(names), f"every user listed: missing {expected - set(names)}")
            expect(pages >= 2, "more than one page at MaxItems=2")

        self.check("ram CreateUser", create)
        self.check("ram GetUser of the new user", get)
        self.check("ram GetUser of a seeded user", get_seeded)
        self.check("ram ListUsers, paginated by Marker", list_paginated)

        state: Dict[str, str] = {}

        def create_key() -> None:
            b = c.ok(c.ram.create_access_key(ram_models.CreateAccessKeyRequest(user_name=name)))
            equal(b.access_key.status, "Active", "AccessKey.Status")
            expect(b.access_key.access_key_id.startswith("LTAI"), "AccessKeyId looks like one")
            expect(len(b.access_key.access_key_secret) >= 30, "AccessKeySecret is long")
            state["id"] = b.access_key.access_key_id
            state["secret"] = b.access_key.access_key_secret

        def use_key() -> None:
            u = Clients(self.emu.host, self.style, state["id"], state["secret"])
            b = u.ok(u.sts.get_caller_identity())
            equal(b.arn, f"acs:ram::{self.account}:user/{name}", "Arn of the new key's caller")

        def disable_key() -> None:
            c.ok(
                c.ram.update_access_key(
                    ram_models.UpdateAccessKeyRequest(
                        user_name=name, user_access_key_id=state["id"], status="Inactive"
                    )
                )
            )
            b = c.ok(c.ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name=name)))
            keys = {k.access_key_id: k.status for k in b.access_keys.access_key}
            equal(keys, {state["id"]: "Inactive"}, "ListAccessKeys")
            u = Clients(self.emu.host, self.style, state["id"], state["secret"])
            expect_error(lambda: u.sts.get_caller_identity(), "InvalidAccessKeyId.Inactive", 400)

        def user_with_key_is_a_conflict() -> None:
            expect_error(
                lambda: c.ram.delete_user(ram_models.DeleteUserRequest(user_name=name)),
                "DeleteConflict.User.AccessKey",
                409,
            )

        def delete_key() -> None:
            c.ok(
                c.ram.delete_access_key(
                    ram_models.DeleteAccessKeyRequest(user_name=name, user_access_key_id=state["id"])
                )
            )
            b = c.ok(c.ram.list_access_keys(ram_models.ListAccessKeysRequest(user_name=name)))
            equal(b.access_keys.access_key, [], "ListAccessKeys after the deletion")

        self.check("ram CreateAccessKey", create_key)
        if state:
            self.check("the new key signs SDK calls", use_key)
            self.check("ram UpdateAccessKey to Inactive refuses the key", disable_key)
            self.check("ram DeleteUser with a key is DeleteConflict.User.AccessKey", user_with_key_is_a_conflict)
            self.check("ram DeleteAccessKey", delete_key)

    # -- groups

    def groups(self) -> None:
        c = self.root
        user, group = f"{self.tag}-user", f"{self.tag}-group"

        # UTF-8 and every character the signers percent-encode differently.
        comments = "开发团队 a+b=c&d ~*'()!/?%20"

        def create() -> None:
            b = c.ok(c.ram.create_group(ram_models.CreateGroupRequest(group_name=group, comments=comments)))
            equal(b.group.group_name, group, "Group.GroupName")
            equal(b.group.comments, comments, "Group.Comments")
            b = c.ok(c.ram.get_group(ram_models.GetGroupRequest(group_name=group)))
            equal(b.group.comments, comments, "Group.Comments read back")

        def add() -> None:
            c.ok(c.ram.add_user_to_group(ram_models.AddUserToGroupRequest(user_name=user, group_name=group)))
            b = c.ok(c.ram.list_groups_for_user(ram_models.ListGroupsForUserRequest(user_name=user)))
            equal([g.group_name for g in b.groups.group], [group], "ListGroupsForUser")
            expect(b.groups.group[0].join_date.endswith("Z"), "Group.JoinDate")
            b = c.ok(c.ram.list_users_for_group(ram_models.ListUsersForGroupRequest(group_name=group)))
            equal([u.user_name for u in b.users.user], [user], "ListUsersForGroup")

        def conflicts() -> None:
            expect_error(
                lambda: c.ram.delete_user(ram_models.DeleteUserRequest(user_name=user)),
                "DeleteConflict.User.Group",
                409,
            )
            expect_error(
                lambda: c.ram.delete_group(ram_models.DeleteGroupRequest(group_name=group)),
                "DeleteConflict.Group.User",
                409,
            )

        def list_groups() -> None:
            b = c.ok(c.ram.list_groups(ram_models.ListGroupsRequest(max_items=100)))
            names = {g.group_name for g in b.groups.group}
            expect({group, "platform", "automation"} <= names, f"ListGroups: {sorted(names)}")

        self.check("ram CreateGroup with UTF-8 and reserved characters", create)
        self.check("ram AddUserToGroup, ListGroupsForUser, ListUsersForGroup", add)
        self.check("ram ListGroups", list_groups)
        self.check("deleting a user or group with members is a DeleteConflict", conflicts)

    # -- policies

    def policies(self) -> None:
        c = self.root
        user, policy = f"{self.tag}-user", f"{self.tag}-policy"
        doc = long_policy_document(self.tag)
        doc2 = json.dumps(
            {"Version": "1", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]},
            separators=(",", ":"),
        )

        def create() -> None:
            expect(len(doc) > 4000, f"the document is long ({len(doc)} characters)")
            b = c.ok(
                c.ram.create_policy(
                    ram_models.CreatePolicyRequest(policy_name=policy, policy_document=doc, description="long")
                )
            )
            equal(b.policy.policy_name, policy, "Policy.PolicyName")
            equal(b.policy.policy_type, "Custom", "Policy.PolicyType")
            equal(b.policy.default_version, "v1", "Policy.DefaultVersion")

        def get() -> None:
            b = c.ok(c.ram.get_policy(ram_models.GetPolicyRequest(policy_name=policy, policy_type="Custom")))
            equal(json.loads(b.default_policy_version.policy_document), json.loads(doc), "the stored document")
            equal(b.default_policy_version.version_id, "v1", "DefaultPolicyVersion.VersionId")
            equal(b.default_policy_version.is_default_version, True, "IsDefaultVersion")
            equal(b.policy.attachment_count, 0, "Policy.AttachmentCount")

        def version() -> None:
            b = c.ok(
                c.ram.create_policy_version(
                    ram_models.CreatePolicyVersionRequest(policy_name=policy, policy_document=doc2, set_as_default=True)
                )
            )
            equal(b.policy_version.version_id, "v2", "PolicyVersion.VersionId")
            equal(b.policy_version.is_default_version, True, "PolicyVersion.IsDefaultVersion")
            b = c.ok(
                c.ram.list_policy_versions(ram_models.ListPolicyVersionsRequest(policy_name=policy, policy_type="Custom"))
            )
            got = {v.version_id: v.is_default_version for v in b.policy_versions.policy_version}
            equal(got, {"v1": False, "v2": True}, "ListPolicyVersions")

        def attach() -> None:
            c.ok(
                c.ram.attach_policy_to_user(
                    ram_models.AttachPolicyToUserRequest(policy_name=policy, policy_type="Custom", user_name=user)
                )
            )
            b = c.ok(
                c.ram.list_entities_for_policy(
                    ram_models.ListEntitiesForPolicyRequest(policy_name=policy, policy_type="Custom")
                )
            )
            equal([u.user_name for u in b.users.user], [user], "ListEntitiesForPolicy users")
            equal(b.groups.group, [], "ListEntitiesForPolicy groups")
            equal(b.roles.role, [], "ListEntitiesForPolicy roles")
            b = c.ok(c.ram.list_policies_for_user(ram_models.ListPoliciesForUserRequest(user_name=user)))
            equal([(p.policy_name, p.policy_type) for p in b.policies.policy], [(policy, "Custom")], "ListPoliciesForUser")
            b = c.ok(c.ram.get_policy(ram_models.GetPolicyRequest(policy_name=policy, policy_type="Custom")))
            equal(b.policy.attachment_count, 1, "Policy.AttachmentCount")

        def attached_conflict() -> None:
            expect_error(
                lambda: c.ram.delete_policy(ram_models.DeletePolicyRequest(policy_name=policy)),
                "DeleteConflict.Policy.User",
                409,
            )

        def detach() -> None:
            c.ok(
                c.ram.detach_policy_from_user(
                    ram_models.DetachPolicyFromUserRequest(policy_name=policy, policy_type="Custom", user_name=user)
                )
            )
            b = c.ok(c.ram.list_policies_for_user(ram_models.ListPoliciesForUserRequest(user_name=user)))
            equal(b.policies.policy, [], "ListPoliciesForUser after the detach")

        def versions_conflict() -> None:
            expect_error(
                lambda: c.ram.delete_policy(ram_models.DeletePolicyRequest(policy_name=policy)),
                "DeleteConflict.Policy.Version",
                409,
            )

        def delete() -> None:
            c.ok(c.ram.delete_policy_version(ram_models.DeletePolicyVersionRequest(policy_name=policy, version_id="v1")))
            c.ok(c.ram.delete_policy(ram_models.DeletePolicyRequest(policy_name=policy)))
            expect_error(
                lambda: c.ram.get_policy(ram_models.GetPolicyRequest(policy_name=policy, policy_type="Custom")),
                "EntityNotExist.Policy",
                404,
            )

        def system_policy() -> None:
            b = c.ok(
                c.ram.get_policy(ram_models.GetPolicyRequest(policy_name="ReadOnlyAccess", policy_type="System"))
            )
            equal(b.policy.policy_type, "System", "Policy.PolicyType")
            expect(b.default_policy_version.policy_document.startswith("{"), "a system policy has a document")

        self.check("ram CreatePolicy with a long document (POST)", create)
        self.check("ram GetPolicy returns the document", get)
        self.check("ram CreatePolicyVersion and ListPolicyVersions", version)
        self.check("ram AttachPolicyToUser and ListEntitiesForPolicy", attach)
        self.check("ram DeletePolicy while attached is DeleteConflict.Policy.User", attached_conflict)
        self.check("ram DetachPolicyFromUser", detach)
        self.check("ram DeletePolicy with versions is DeleteConflict.Policy.Version", versions_conflict)
        self.check("ram DeletePolicyVersion then DeletePolicy", delete)
        self.check("ram GetPolicy of a system policy", system_policy)

    # -- roles and STS

    def roles_and_sts(self) -> None:
        c = self.root
        role = f"{self.tag}-role"
        arn = f"acs:ram::{self.account}:role/{role}"
        trust = json.dumps(
            {
                "Version": "1",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"RAM": [f"acs:ram::{self.account}:root"]},
                    }
                ],
            }
        )
        creds: Dict[str, str] = {}

        def create() -> None:
            b = c.ok(
                c.ram.create_role(
                    ram_models.CreateRoleRequest(
                        role_name=role, assume_role_policy_document=trust, max_session_duration=3600
                    )
                )
            )
            equal(b.role.role_name, role, "Role.RoleName")
            equal(b.role.arn, arn, "Role.Arn")
            equal(b.role.max_session_duration, 3600, "Role.MaxSessionDuration")
            b = c.ok(c.ram.get_role(ram_models.GetRoleRequest(role_name=role)))
            equal(json.loads(b.role.assume_role_policy_document), json.loads(trust), "the trust policy")

        def list_roles() -> None:
            b = c.ok(c.ram.list_roles(ram_models.ListRolesRequest(max_items=100)))
            names = {r.role_name for r in b.roles.role}
            expect({role, "deployer"} <= names, f"ListRoles: {sorted(names)}")

        def assume() -> None:
            b = self.ci.ok(
                self.ci.sts.assume_role(
                    sts_models.AssumeRoleRequest(role_arn=arn, role_session_name="sdk-session", duration_seconds=900)
                )
            )
            # As documented for AssumeRole: the role ARN (lowercase) plus the session name.
            equal(b.assumed_role_user.arn, f"{arn.lower()}/sdk-session", "AssumedRoleUser.Arn")
            expect(b.assumed_role_user.assumed_role_id.endswith(":sdk-session"), "AssumedRoleUser.AssumedRoleId")
            expect(b.credentials.access_key_id.startswith("STS."), "temporary key IDs start with STS.")
            expect(b.credentials.expiration.endswith("Z"), "Credentials.Expiration")
            creds.update(
                id=b.credentials.access_key_id,
                secret=b.credentials.access_key_secret,
                token=b.credentials.security_token,
            )

        def refused() -> None:
            # The account itself may not assume roles; nor may a caller the trust policy omits.
            expect_error(
                lambda: c.sts.assume_role(sts_models.AssumeRoleRequest(role_arn=arn, role_session_name="root")),
                "NoPermission",
                403,
            )
            sso = f"acs:ram::{self.account}:role/sso-readonly"
            expect_error(
                lambda: self.ci.sts.assume_role(sts_models.AssumeRoleRequest(role_arn=sso, role_session_name="ci")),
                "NoPermission",
                403,
            )

        def use_sts() -> None:
            s = Clients(self.emu.host, self.style, creds["id"], creds["secret"], creds["token"])
            b = s.ok(s.sts.get_caller_identity())
            equal(b.identity_type, "AssumedRoleUser", "IdentityType")
            equal(b.arn, f"acs:ram::{self.account}:assumed-role/{role}/sdk-session", "Arn")
            bad = Clients(self.emu.host, self.style, creds["id"], creds["secret"], creds["token"][:-4] + "AAAA")
            e = error_of(lambda: bad.sts.get_caller_identity())
            expect(getattr(e, "code", "").startswith("InvalidSecurityToken"), f"a wrong token is refused: {e}")

        def delete() -> None:
            c.ok(c.ram.delete_role(ram_models.DeleteRoleRequest(role_name=role)))
            expect_error(lambda: c.ram.get_role(ram_models.GetRoleRequest(role_name=role)), "EntityNotExist.Role", 404)

        def oidc() -> None:
            provider = f"acs:ram::{self.account}:oidc-provider/github-actions"
            oidc_role = f"{self.tag}-oidc-role"
            oidc_trust = json.dumps(
                {
                    "Version": "1",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "sts:AssumeRole",
                            "Principal": {"Federated": [provider]},
                        }
                    ],
                }
            )
            c.ok(c.ram.create_role(ram_models.CreateRoleRequest(role_name=oidc_role, assume_role_policy_document=oidc_trust)))
            now = int(time.time())
            token = jwt(
                {
                    "iss": "https://token.actions.githubusercontent.com",
                    "aud": "sts.aliyuncs.com",
                    "sub": "repo:acme/app:ref:refs/heads/main",
                    "iat": now,
                    "exp": now + 600,
                }
            )
            # No credentials at all: the SDK sends this call unsigned.
            anon = Clients(self.emu.host, self.style, None, None)
            b = anon.ok(
                anon.sts.assume_role_with_oidc(
                    sts_models.AssumeRoleWithOIDCRequest(
                        oidcprovider_arn=provider,
                        role_arn=f"acs:ram::{self.account}:role/{oidc_role}",
                        oidctoken=token,
                        role_session_name="ci-run",
                    )
                )
            )
            expect(b.credentials.access_key_id.startswith("STS."), "temporary key IDs start with STS.")
            equal(b.oidctoken_info.subject, "repo:acme/app:ref:refs/heads/main", "OIDCTokenInfo.Subject")
            equal(b.oidctoken_info.issuer, "https://token.actions.githubusercontent.com", "OIDCTokenInfo.Issuer")
            expired = jwt({"iss": "https://token.actions.githubusercontent.com", "aud": "sts.aliyuncs.com", "exp": now - 60})
            expect_error(
                lambda: anon.sts.assume_role_with_oidc(
                    sts_models.AssumeRoleWithOIDCRequest(
                        oidcprovider_arn=provider,
                        role_arn=f"acs:ram::{self.account}:role/{oidc_role}",
                        oidctoken=expired,
                        role_session_name="ci-run",
                    )
                ),
                "AuthenticationFail.OIDCToken.Expired",
                401,
            )
            c.ok(c.ram.delete_role(ram_models.DeleteRoleRequest(role_name=oidc_role)))

        self.check("ram CreateRole and GetRole", create)
        self.check("ram ListRoles", list_roles)
        def saml() -> None:
            provider = f"acs:ram::{self.account}:saml-provider/corp-idp"
            anon = Clients(self.emu.host, self.style, None, None)

            def assume(assertion: str, role: str = "sso-readonly") -> Any:
                return anon.sts.assume_role_with_saml(
                    sts_models.AssumeRoleWithSAMLRequest(
                        samlprovider_arn=provider,
                        role_arn=f"acs:ram::{self.account}:role/{role}",
                        samlassertion=assertion,
                    )
                )

            b = anon.ok(assume(saml_response("alice", "2099-01-01T00:00:00Z")))
            equal(b.assumed_role_user.arn, f"acs:ram::{self.account}:role/sso-readonly/alice", "AssumedRoleUser.Arn")
            # The SDK sends the assertion in the query string: near the documented
            # maximum that is a request line of over 64 KiB, twice on one connection.
            big = saml_response("alice", "2099-01-01T00:00:00Z", blocks=216)
            expect(95_000 < len(big) <= 100_000, f"the big assertion has {len(big)} characters")
            for _ in range(2):
                equal(anon.ok(assume(big)).samlassertion_info.subject, "alice@example.com", "Subject")
            equal(b.samlassertion_info.subject, "alice@example.com", "SAMLAssertionInfo.Subject")
            equal(b.samlassertion_info.subject_type, "persistent", "SAMLAssertionInfo.SubjectType")
            # The failures documented for this call.
            expect_error(
                lambda: assume(saml_response("alice", "2020-01-01T00:00:00Z")),
                "AuthenticationFail.SAMLAssertion.Expired",
                401,
            )
            expect_error(
                lambda: assume(base64.b64encode(b"not a SAML response").decode()),
                "AuthenticationFail.SAMLAssertion.Invalid",
                401,
            )
            expect_error(
                lambda: assume(saml_response("alice", "2099-01-01T00:00:00Z"), role="ghost"),
                "EntityNotExist.RoleArn",
                404,
            )

        self.check("sts AssumeRoleWithOIDC, unsigned, with a token the provider issued", oidc)
        self.check("sts AssumeRoleWithSAML, unsigned, with assertions of 19 KB and 99 KB in the query", saml)
        self.check("sts AssumeRole", assume)
        self.check("sts AssumeRole is refused to the account and to callers the role does not trust", refused)
        if creds:
            self.check("the STS credentials sign SDK calls", use_sts)
        self.check("ram DeleteRole", delete)

    # -- ResourceManager

    def service_linked_role(self) -> None:
        c = self.root
        # Each style deletes a different seeded role: one that can go, one still in use.
        role, outcome = {
            "v3": ("AliyunServiceRoleForECS", "SUCCEEDED"),
            "v2": ("AliyunServiceRoleForLog", "FAILED"),
        }[self.style]

        def run() -> None:
            b = c.ok(c.rm.delete_service_linked_role(rm_models.DeleteServiceLinkedRoleRequest(role_name=role)))
            task = b.deletion_task_id
            expect(task.startswith("task/acs-service-role/"), f"DeletionTaskId: {task!r}")
            statuses = []
            for _ in range(10):
                s = c.ok(
                    c.rm.get_service_linked_role_deletion_status(
                        rm_models.GetServiceLinkedRoleDeletionStatusRequest(deletion_task_id=task)
                    )
                )
                statuses.append(s.status)
                if s.status != "IN_PROGRESS":
                    break
            equal(statuses[-1], outcome, f"final status after {statuses}")
            expect(statuses[0] == "IN_PROGRESS", "the task starts in progress")
            if outcome == "SUCCEEDED":
                expect_error(lambda: c.ram.get_role(ram_models.GetRoleRequest(role_name=role)), "EntityNotExist.Role", 404)
            else:
                usages = {u.region: u.resources.resource for u in s.reason.role_usages.role_usage}
                equal(
                    usages,
                    {"cn-hangzhou": ["acme-prod-logs"], "ap-southeast-1": ["acme-sg-logs", "acme-sg-audit"]},
                    "Reason.RoleUsages",
                )
                expect(bool(s.reason.message), "Reason.Message")

        def unknown_task() -> None:
            expect_error(
                lambda: c.rm.get_service_linked_role_deletion_status(
                    rm_models.GetServiceLinkedRoleDeletionStatusRequest(deletion_task_id="task/none")
                ),
                "EntityNotExist.DeletionTask",
                404,
            )

        def not_service_linked() -> None:
            e = error_of(
                lambda: c.rm.delete_service_linked_role(rm_models.DeleteServiceLinkedRoleRequest(role_name="deployer"))
            )
            equal(getattr(e, "status_code", None), 400, f"status of {e}")

        self.check(f"rm DeleteServiceLinkedRole {role} and poll its status to {outcome}", run)
        self.check("rm GetServiceLinkedRoleDeletionStatus of an unknown task", unknown_task)
        self.check("rm DeleteServiceLinkedRole of an ordinary role is refused", not_service_linked)

    # -- IMS

    def ims(self) -> None:
        c = self.root

        def saml() -> None:
            b = c.ok(c.ims.list_samlproviders(ims_models.ListSAMLProvidersRequest()))
            providers = b.samlproviders.samlprovider
            equal([p.samlprovider_name for p in providers], ["corp-idp"], "ListSAMLProviders")
            equal(providers[0].arn, f"acs:ram::{self.account}:saml-provider/corp-idp", "SAMLProvider.Arn")

        def default_domain() -> None:
            b = c.ok(c.ims.get_default_domain())
            equal(b.default_domain_name, "acme-demo.onaliyun.com", "DefaultDomainName")
            new = f"{self.tag}.onaliyun.com"
            c.ok(c.ims.set_default_domain(ims_models.SetDefaultDomainRequest(default_domain_name=new)))
            equal(c.ok(c.ims.get_default_domain()).default_domain_name, new, "DefaultDomainName after the change")
            c.ok(c.ims.set_default_domain(ims_models.SetDefaultDomainRequest(default_domain_name="acme-demo.onaliyun.com")))

        def mfa() -> None:
            b = c.ok(c.ims.list_virtual_mfadevices(ims_models.ListVirtualMFADevicesRequest()))
            devices = {d.serial_number: d for d in b.virtual_mfadevices.virtual_mfadevice}
            expect(
                {f"acs:ram::{self.account}:mfa/alice", f"acs:ram::{self.account}:mfa/spare-token"} <= set(devices),
                f"ListVirtualMFADevices: {sorted(devices)}",
            )
            alice = devices[f"acs:ram::{self.account}:mfa/alice"]
            equal(alice.user.user_principal_name, "alice@acme-demo.onaliyun.com", "VirtualMFADevice.User.UserPrincipalName")
            equal(alice.activate_date, "2022-11-14T02:50:00Z", "VirtualMFADevice.ActivateDate")
            spare = devices[f"acs:ram::{self.account}:mfa/spare-token"]
            equal(spare.user, None, "an unbound device has no User")

        def recycle_bin() -> None:
            b = c.ok(c.ims.list_users_in_recycle_bin(ims_models.ListUsersInRecycleBinRequest()))
            equal(
                [u.user_principal_name for u in b.users.user],
                ["former-intern@acme-demo.onaliyun.com"],
                "ListUsersInRecycleBin",
            )
            equal(b.users.user[0].user_id, "250000000000009", "User.UserId")

        def ims_user() -> None:
            b = c.ok(c.ims.get_user(ims_models.GetUserRequest(user_principal_name="alice@acme-demo.onaliyun.com")))
            equal(b.user.user_principal_name, "alice@acme-demo.onaliyun.com", "User.UserPrincipalName")
            equal(b.user.user_id, "250000000000002", "User.UserId")

        self.check("ims ListSAMLProviders", saml)
        self.check("ims GetDefaultDomain and SetDefaultDomain", default_domain)
        self.check("ims ListVirtualMFADevices", mfa)
        self.check("ims ListUsersInRecycleBin", recycle_bin)
        self.check("ims GetUser by principal name", ims_user)

    # -- expected failures and cleanup

    def failures(self) -> None:
        c = self.root
        user, group = f"{self.tag}-user", f"{self.tag}-group"

        def missing() -> None:
            expect_error(
                lambda: c.ram.get_user(ram_models.GetUserRequest(user_name="nobody-here")), "EntityNotExist.User", 404
            )
            expect_error(
                lambda: c.ram.get_group(ram_models.GetGroupRequest(group_name="no-such-group")),
                "EntityNotExist.Group",
                404,
            )
            expect_error(
                lambda: c.ims.get_samlprovider(ims_models.GetSAMLProviderRequest(samlprovider_name="nope")),
                "EntityNotExist.SAMLProvider",
                404,
            )

        def duplicate() -> None:
            expect_error(
                lambda: c.ram.create_user(ram_models.CreateUserRequest(user_name="alice")),
                "EntityAlreadyExists.User",
                409,
            )

        def wrong_secret() -> None:
            bad = Clients(self.emu.host, self.style, self.root_id, self.root_secret + "x")
            e = expect_error(lambda: bad.ram.list_users(ram_models.ListUsersRequest()), "SignatureDoesNotMatch", 400)
            expect(bool(getattr(e, "request_id", "")), "the error carries a RequestId")

        def unknown_key() -> None:
            bad = Clients(self.emu.host, self.style, "LTAI5tNoSuchKey0000000", "whatever")
            expect_error(lambda: bad.sts.get_caller_identity(), "InvalidAccessKeyId.NotFound", 404)

        def cleanup() -> None:
            c.ok(c.ram.remove_user_from_group(ram_models.RemoveUserFromGroupRequest(user_name=user, group_name=group)))
            c.ok(c.ram.delete_group(ram_models.DeleteGroupRequest(group_name=group)))
            c.ok(c.ram.delete_user(ram_models.DeleteUserRequest(user_name=user)))
            expect_error(lambda: c.ram.get_user(ram_models.GetUserRequest(user_name=user)), "EntityNotExist.User", 404)

        self.check("missing entities raise EntityNotExist.*", missing)
        self.check("creating an existing user raises EntityAlreadyExists.User", duplicate)
        self.check("a wrong secret raises SignatureDoesNotMatch", wrong_secret)
        self.check("an unknown key raises InvalidAccessKeyId.NotFound", unknown_key)
        self.check("RemoveUserFromGroup, DeleteGroup, DeleteUser", cleanup)


# ------------------------------------------------ every other operation


def totp(seed_b32: str, step: int) -> str:
    """RFC 6238 code (HMAC-SHA1, 6 digits) of a Base32 seed at a 30-second step."""
    key = base64.b32decode(seed_b32 + "=" * (-len(seed_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 0xF
    return f"{(struct.unpack('>I', mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


MODELS = {"ram": ram_models, "ims": ims_models, "sts": sts_models, "rm": rm_models}


class Sweep:
    """Every other operation the emulator answers, called through the SDK's typed
    method with parameters given by their wire names; each answer must fit the model."""

    def __init__(self, report: Report, emu: Emulator, seed: dict, style: str, once: bool) -> None:
        self.r = report
        self.style = style
        # Steps that change the seed for good (the recycle bin) run in one sweep only.
        self.once = once
        self.account = str(seed["account"]["id"])
        self.domain = seed["account"]["default_domain"]
        self.seed_password_policy = seed["account"]["password_policy"]
        root = seed["emulator"]["root_access_key"]
        self.root_id, self.root_secret = root["id"], root["secret"]
        self.c = Clients(emu.host, style, root["id"], root["secret"])
        self.tag = f"sweep-{style}"

    def api(self, service: str, action: str, **params: Any) -> Any:
        client = getattr(self.c, service)
        wanted = action.lower()
        names = [
            n
            for n in dir(client)
            if n.replace("_", "") == wanted and not n.endswith(("_async", "_with_options"))
        ]
        if len(names) != 1:
            raise Failure(f"the {service} SDK has no single method for {action}: {names}")
        method = getattr(client, names[0])
        request_cls = getattr(MODELS[service], f"{action}Request", None)
        if request_cls is None:
            if params:
                raise Failure(f"{action} takes no request, yet parameters were given")
            return self.c.ok(method())
        return self.c.ok(method(request_cls().from_map(params)))

    def check(self, name: str, fn: Callable[[], Any]) -> Any:
        return self.r.check(f"[{self.style}] {name}", fn)

    def run(self) -> None:
        self.signing()
        self.ram_reads()
        self.ram_writes()
        self.mfa()
        self.ims_reads()
        self.ims_writes()
        self.account_settings()
        self.tags()

    def signing(self) -> None:
        def identity() -> None:
            equal(self.api("sts", "GetCallerIdentity").identity_type, "Account", "IdentityType")

        def wrong_secret() -> None:
            bad = Clients(self.c.host, self.style, self.root_id, self.root_secret + "x")
            expect_error(lambda: bad.sts.get_caller_identity(), "SignatureDoesNotMatch", 400)

        self.check("sts GetCallerIdentity", identity)
        self.check("a wrong secret raises SignatureDoesNotMatch", wrong_secret)

    def ram_reads(self) -> None:
        a = self.api

        def keys() -> None:
            b = a("ram", "ListAccessKeys", UserName="alice")
            got = {k.access_key_id: k.status for k in b.access_keys.access_key}
            equal(got, {"LTAI5tAlice000000000001": "Inactive", "LTAI5tAlice000000000002": "Active"}, "ListAccessKeys")
            b = a("ram", "GetAccessKeyLastUsed", UserName="alice", UserAccessKeyId="LTAI5tAlice000000000001")
            equal(b.access_key_last_used.last_used_date, "2024-12-30T09:00:00Z", "LastUsedDate")

        def login_profile() -> None:
            b = a("ram", "GetLoginProfile", UserName="bob")
            equal(b.login_profile.password_reset_required, True, "PasswordResetRequired")
            equal(b.login_profile.mfabind_required, False, "MFABindRequired")
            equal(b.login_profile.user_name, "bob", "LoginProfile.UserName")

        def user_mfa() -> None:
            b = a("ram", "GetUserMFAInfo", UserName="alice")
            equal(b.mfadevice.serial_number, f"acs:ram::{self.account}:mfa/alice", "MFADevice.SerialNumber")
            b = a("ram", "ListVirtualMFADevices")
            serials = {d.serial_number for d in b.virtual_mfadevices.virtual_mfadevice}
            expect(f"acs:ram::{self.account}:mfa/spare-token" in serials, f"ListVirtualMFADevices: {serials}")

        def group() -> None:
            b = a("ram", "GetGroup", GroupName="platform")
            equal(b.group.comments, "Platform engineers", "Group.Comments")
            b = a("ram", "ListPoliciesForGroup", GroupName="platform")
            got = sorted((p.policy_type, p.policy_name) for p in b.policies.policy)
            equal(
                got,
                [("Custom", "oss-logs-write"), ("System", "AliyunECSFullAccess"), ("System", "AliyunVPCFullAccess")],
                "ListPoliciesForGroup",
            )
            b = a("ram", "ListGroupsForUser", UserName="alice")
            equal(sorted(g.group_name for g in b.groups.group), ["automation", "platform"], "ListGroupsForUser")

        def role() -> None:
            b = a("ram", "GetRole", RoleName="deployer")
            equal(b.role.max_session_duration, 7200, "Role.MaxSessionDuration")
            equal(b.role.arn, f"acs:ram::{self.account}:role/deployer", "Role.Arn")
            b = a("ram", "ListPoliciesForRole", RoleName="deployer")
            got = sorted((p.policy_type, p.policy_name) for p in b.policies.policy)
            equal(got, [("Custom", "oss-logs-write"), ("System", "AliyunECSFullAccess")], "ListPoliciesForRole")

        def policies() -> None:
            b = a("ram", "ListPolicies", PolicyType="Custom", MaxItems=100)
            got = {p.policy_name: p.default_version for p in b.policies.policy}
            expect(
                {"ecs-read-hangzhou": "v2", "oss-logs-write": "v1", "legacy-billing-read": "v1"}.items() <= got.items(),
                f"ListPolicies Custom: {got}",
            )
            b = a("ram", "GetPolicyVersion", PolicyName="ecs-read-hangzhou", PolicyType="Custom", VersionId="v3")
            equal(b.policy_version.is_default_version, False, "IsDefaultVersion")
            expect("ecs:List*" in b.policy_version.policy_document, "the v3 document")
            b = a("ram", "ListEntitiesForPolicy", PolicyName="oss-logs-write", PolicyType="Custom")
            equal([g.group_name for g in b.groups.group], ["platform"], "groups of oss-logs-write")
            equal([r.role_name for r in b.roles.role], ["deployer"], "roles of oss-logs-write")
            b = a("ram", "ListPoliciesForUser", UserName="ci-bot")
            equal(
                sorted(p.policy_name for p in b.policies.policy),
                ["AliyunRAMFullAccess", "AliyunSTSAssumeRoleAccess"],
                "ListPoliciesForUser",
            )

        def system_policies_paginate() -> None:
            seen: List[str] = []
            marker = None
            for _ in range(200):
                b = a("ram", "ListPolicies", PolicyType="System", MaxItems=50, Marker=marker)
                seen += [p.policy_name for p in b.policies.policy]
                if not b.is_truncated:
                    break
                marker = b.marker
            expect(len(seen) == len(set(seen)), "no system policy twice")
            expect({"ReadOnlyAccess", "AdministratorAccess"} <= set(seen), "well-known system policies listed")

        def alias() -> None:
            equal(a("ram", "GetAccountAlias").account_alias, "acme-demo", "AccountAlias")

        self.check("ram ListAccessKeys and GetAccessKeyLastUsed", keys)
        self.check("ram GetLoginProfile", login_profile)
        self.check("ram GetUserMFAInfo and ListVirtualMFADevices", user_mfa)
        self.check("ram GetGroup, ListPoliciesForGroup, ListGroupsForUser", group)
        self.check("ram GetRole and ListPoliciesForRole", role)
        self.check("ram ListPolicies, GetPolicyVersion, ListEntitiesForPolicy, ListPoliciesForUser", policies)
        self.check("ram ListPolicies of every system policy, paginated", system_policies_paginate)
        self.check("ram GetAccountAlias", alias)

    def ram_writes(self) -> None:
        a = self.api
        user, group, role, policy = (f"{self.tag}-{k}" for k in ("user", "group", "role", "policy"))
        doc = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"ecs:Describe*","Resource":"*"}]}'
        trust = (
            '{"Version":"1","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole",'
            '"Principal":{"Service":["ecs.aliyuncs.com"]}}]}'
        )

        def user_update() -> None:
            a("ram", "CreateUser", UserName=user)
            b = a("ram", "UpdateUser", UserName=user, NewDisplayName="Renamed", NewComments="after")
            equal(b.user.display_name, "Renamed", "User.DisplayName")
            equal(b.user.comments, "after", "User.Comments")

        def login_profile() -> None:
            b = a("ram", "CreateLoginProfile", UserName=user, Password="Sdk-Passw0rd!x", PasswordResetRequired=True)
            equal(b.login_profile.password_reset_required, True, "PasswordResetRequired")
            b = a("ram", "UpdateLoginProfile", UserName=user, PasswordResetRequired=False, MFABindRequired=True)
            b = a("ram", "GetLoginProfile", UserName=user)
            equal(b.login_profile.password_reset_required, False, "PasswordResetRequired after the update")
            equal(b.login_profile.mfabind_required, True, "MFABindRequired after the update")
            a("ram", "DeleteLoginProfile", UserName=user)

        def group_update() -> None:
            a("ram", "CreateGroup", GroupName=group)
            b = a("ram", "UpdateGroup", GroupName=group, NewComments="updated")
            equal(b.group.comments, "updated", "Group.Comments")
            a("ram", "AttachPolicyToGroup", GroupName=group, PolicyType="System", PolicyName="ReadOnlyAccess")
            expect_error(lambda: a("ram", "DeleteGroup", GroupName=group), "DeleteConflict.Group.Policy", 409)
            a("ram", "DetachPolicyFromGroup", GroupName=group, PolicyType="System", PolicyName="ReadOnlyAccess")
            a("ram", "DeleteGroup", GroupName=group)

        def role_update() -> None:
            a("ram", "CreateRole", RoleName=role, AssumeRolePolicyDocument=trust, Description="first")
            b = a("ram", "UpdateRole", RoleName=role, NewDescription="second", NewMaxSessionDuration=7200)
            equal(b.role.description, "second", "Role.Description")
            equal(b.role.max_session_duration, 7200, "Role.MaxSessionDuration")
            a("ram", "AttachPolicyToRole", RoleName=role, PolicyType="System", PolicyName="ReadOnlyAccess")
            expect_error(lambda: a("ram", "DeleteRole", RoleName=role), "DeleteConflict.Role.Policy", 409)
            a("ram", "DetachPolicyFromRole", RoleName=role, PolicyType="System", PolicyName="ReadOnlyAccess")
            a("ram", "DeleteRole", RoleName=role)

        def policy_update() -> None:
            a("ram", "CreatePolicy", PolicyName=policy, PolicyDocument=doc, Description="one")
            b = a("ram", "UpdatePolicyDescription", PolicyName=policy, NewDescription="two")
            equal(b.policy.description, "two", "Policy.Description")
            a("ram", "CreatePolicyVersion", PolicyName=policy, PolicyDocument=doc.replace("ecs:", "vpc:"))
            a("ram", "SetDefaultPolicyVersion", PolicyName=policy, VersionId="v2")
            b = a("ram", "GetPolicy", PolicyName=policy, PolicyType="Custom")
            equal(b.policy.default_version, "v2", "Policy.DefaultVersion")
            expect_error(
                lambda: a("ram", "DeletePolicyVersion", PolicyName=policy, VersionId="v2"),
                "DeleteConflict.Policy.Version.Default",
                409,
            )
            a("ram", "DeletePolicyVersion", PolicyName=policy, VersionId="v1")
            a("ram", "DeletePolicy", PolicyName=policy)

        def alias() -> None:
            a("ram", "SetAccountAlias", AccountAlias=f"{self.tag}-alias")
            equal(a("ram", "GetAccountAlias").account_alias, f"{self.tag}-alias", "AccountAlias")
            a("ram", "ClearAccountAlias")
            a("ram", "SetAccountAlias", AccountAlias="acme-demo")

        self.check("ram UpdateUser", user_update)
        self.check("ram Create/Update/Get/DeleteLoginProfile", login_profile)
        self.check("ram UpdateGroup, Attach/DetachPolicyToGroup, DeleteGroup", group_update)
        self.check("ram UpdateRole, Attach/DetachPolicyToRole, DeleteRole", role_update)
        self.check("ram UpdatePolicyDescription, SetDefaultPolicyVersion, DeletePolicyVersion", policy_update)
        self.check("ram SetAccountAlias and ClearAccountAlias", alias)

    def mfa(self) -> None:
        a = self.api
        user = f"{self.tag}-user"
        name = f"{self.tag}-token"

        def bind() -> None:
            b = a("ram", "CreateVirtualMFADevice", VirtualMFADeviceName=name)
            serial = b.virtual_mfadevice.serial_number
            equal(serial, f"acs:ram::{self.account}:mfa/{name}", "VirtualMFADevice.SerialNumber")
            seed = b.virtual_mfadevice.base_32string_seed
            expect(bool(seed) and bool(b.virtual_mfadevice.qrcode_png), "Base32StringSeed and QRCodePNG")
            step = int(time.time()) // 30
            wrong = f"{(int(totp(seed, step)) + 1) % 1_000_000:06d}"
            expect_error(
                lambda: a(
                    "ram", "BindMFADevice", UserName=user, SerialNumber=serial,
                    AuthenticationCode1=wrong, AuthenticationCode2=wrong,
                ),
                "CheckAuthenticationCodeFail",
                403,
            )
            a(
                "ram", "BindMFADevice", UserName=user, SerialNumber=serial,
                AuthenticationCode1=totp(seed, step - 1), AuthenticationCode2=totp(seed, step),
            )
            b = a("ram", "GetUserMFAInfo", UserName=user)
            equal(b.mfadevice.serial_number, serial, "GetUserMFAInfo")
            expect_error(lambda: a("ram", "DeleteUser", UserName=user), "DeleteConflict.User.MFADevice", 409)
            b = a("ram", "UnbindMFADevice", UserName=user)
            equal(b.mfadevice.serial_number, serial, "UnbindMFADevice.MFADevice.SerialNumber")
            a("ram", "DeleteVirtualMFADevice", SerialNumber=serial)
            a("ram", "DeleteUser", UserName=user)

        self.check("ram Create/Bind/Unbind/DeleteVirtualMFADevice with real TOTP codes", bind)

    def ims_reads(self) -> None:
        a = self.api

        def users() -> None:
            b = a("ims", "ListUsers", MaxItems=2)
            expect(b.is_truncated is True and bool(b.marker), "ListUsers truncates at MaxItems")
            expect(all(u.user_principal_name.endswith("@" + self.domain) for u in b.users.user), "principal names")
            b = a("ims", "ListUserBasicInfos", MaxItems=100)
            got = {u.user_principal_name: u.status for u in b.user_basic_infos.user_basic_info}
            equal(got.get(f"alice@{self.domain}"), "active", f"ListUserBasicInfos: {got}")
            b = a("ims", "GetUser", UserId="250000000000003")
            equal(b.user.user_name, "bob", "GetUser by UserId")
            b = a("ims", "GetUser", UserAccessKeyId="LTAI5tCiBot0000000000001")
            equal(b.user.user_name, "ci-bot", "GetUser by UserAccessKeyId")

        def oidc() -> None:
            b = a("ims", "ListOIDCProviders")
            equal([p.oidcprovider_name for p in b.oidcproviders.oidcprovider], ["github-actions"], "ListOIDCProviders")
            b = a("ims", "GetOIDCProvider", OIDCProviderName="github-actions")
            equal(b.oidcprovider.issuer_url, "https://token.actions.githubusercontent.com", "IssuerUrl")
            equal(b.oidcprovider.client_ids, "sts.aliyuncs.com", "ClientIds")

        def applications() -> None:
            b = a("ims", "ListApplications")
            apps = b.applications.application
            equal([x.app_name for x in apps], ["acme-portal"], "ListApplications")
            b = a("ims", "GetApplication", AppId=apps[0].app_id)
            equal(b.application.app_type, "WebApp", "Application.AppType")

        def summaries() -> None:
            users = len(a("ims", "ListUserBasicInfos", MaxItems=100).user_basic_infos.user_basic_info)
            b = a("ims", "GetAccountSummary")
            equal(b.summary_map.users, users, "SummaryMap.Users")
            expect(isinstance(b.summary_map.users_quota, int), "SummaryMap.UsersQuota")
            b = a("ims", "GetAccountMFAInfo")
            expect(isinstance(b.is_mfaenable, bool), "IsMFAEnable is a bool")
            b = a("ims", "GetUserMFAInfo", UserPrincipalName=f"alice@{self.domain}")
            equal(b.mfadevice.serial_number, f"acs:ram::{self.account}:mfa/alice", "IMS GetUserMFAInfo")

        def recycle_bin() -> None:
            b = a("ims", "GetUserInRecycleBin", UserId="250000000000009")
            equal(b.user.display_name, "Former Intern", "User.DisplayName")
            b = a("ims", "ListAccessKeysInRecycleBin", UserId="250000000000009")
            got = [k.access_key_id for k in b.access_keys.access_key]
            equal(got, ["LTAI5tIntern00000000001"], "ListAccessKeysInRecycleBin")
            b = a("ims", "GetAccessKeyInfoInRecycleBin", UserAccessKeyId="LTAI5tAlice000000000000")
            equal(b.access_key.user_id, "250000000000002", "AccessKey.UserId")

        self.check("ims ListUsers, ListUserBasicInfos, GetUser by ID and by key", users)
        self.check("ims ListOIDCProviders and GetOIDCProvider", oidc)
        self.check("ims ListApplications and GetApplication", applications)
        self.check("ims GetAccountSummary, GetAccountMFAInfo, GetUserMFAInfo", summaries)
        if self.once:
            self.check("ims recycle bin reads", recycle_bin)

    def account_settings(self) -> None:
        a = self.api
        seeded = self.seed_password_policy

        def password_policy() -> None:
            b = a("ims", "GetPasswordPolicy")
            p = b.password_policy
            equal(p.minimum_password_length, seeded["minimum_password_length"], "MinimumPasswordLength")
            equal(p.max_login_attemps, seeded["max_login_attempts"], "MaxLoginAttemps")
            equal(p.require_symbols, seeded["require_symbols"], "RequireSymbols")
            equal(p.hard_expire, False, "HardExpire (left at its default)")
            b = a("ims", "SetPasswordPolicy", MinimumPasswordLength=16, MaxPasswordAge=30, HardExpire=True)
            equal(b.password_policy.minimum_password_length, 16, "SetPasswordPolicy answers the new policy")
            b = a("ims", "GetPasswordPolicy")
            equal(b.password_policy.max_password_age, 30, "MaxPasswordAge after the change")
            equal(b.password_policy.require_symbols, False, "RequireSymbols left out: back at its default")
            expect_error(
                lambda: a("ims", "SetPasswordPolicy", MinimumPasswordLength=7),
                "InvalidParameter.MinimumPasswordLength.Range",
                400,
            )
            # The demo account's policy again, for the sweeps after this one.
            wire = {
                "HardExpire": "hard_expire",
                "MaxLoginAttemps": "max_login_attempts",
                "MaxPasswordAge": "max_password_age",
                "MinimumPasswordLength": "minimum_password_length",
                "PasswordReusePrevention": "password_reuse_prevention",
                "RequireLowercaseCharacters": "require_lowercase_characters",
                "RequireNumbers": "require_numbers",
                "RequireSymbols": "require_symbols",
                "RequireUppercaseCharacters": "require_uppercase_characters",
            }
            a("ims", "SetPasswordPolicy", **{k: seeded[v] for k, v in wire.items() if v in seeded})
            equal(a("ims", "GetPasswordPolicy").password_policy.to_map(), p.to_map(), "the seeded policy restored")

        def security_preference() -> None:
            b = a("ims", "GetSecurityPreference")
            login = b.security_preference.login_profile_preference
            equal(login.login_session_duration, 6, "LoginSessionDuration default")
            equal(login.mfaoperation_for_login, "independent", "MFAOperationForLogin default")
            equal(b.security_preference.max_idle_days.max_idle_days_for_users, 730, "MaxIdleDaysForUsers")
            b = a(
                "ims",
                "SetSecurityPreference",
                LoginSessionDuration=12,
                MFAOperationForLogin="adaptive",
                OperationForRiskLogin="enforceVerify",
                AllowUserToManageAccessKeys=True,
                LoginNetworkMasks="10.0.0.0/8",
                VerificationTypes=["sms", "email"],
            )
            equal(b.security_preference.login_profile_preference.login_session_duration, 12, "Set answers it")
            b = a("ims", "GetSecurityPreference")
            pref = b.security_preference
            equal(pref.login_profile_preference.mfaoperation_for_login, "adaptive", "MFAOperationForLogin")
            equal(pref.login_profile_preference.operation_for_risk_login, "enforceVerify", "OperationForRiskLogin")
            equal(pref.access_key_preference.allow_user_to_manage_access_keys, True, "AllowUserToManageAccessKeys")
            equal(pref.verification_preference.verification_types, ["sms", "email"], "VerificationTypes")
            expect_error(
                lambda: a("ims", "SetSecurityPreference", LoginSessionDuration=25),
                "InvalidParameter.LoginSessionDuration.Range",
                400,
            )
            # Nothing given: every preference back at its default, as the demo account has them.
            a("ims", "SetSecurityPreference")
            equal(a("ims", "GetSecurityPreference").security_preference.login_profile_preference.login_session_duration, 6, "reset")

        def console_logon_switch() -> None:
            user = f"{self.tag}-console"
            upn = f"{user}@{self.domain}"
            a("ims", "CreateUser", UserPrincipalName=upn, DisplayName="Console user")
            b = a("ims", "CreateLoginProfile", UserPrincipalName=upn, Password="Sdk-Passw0rd!x", Status="Active")
            equal(b.login_profile.status, "Active", "LoginProfile.Status")
            b = a("ims", "UpdateLoginProfile", UserPrincipalName=upn, Status="Inactive")
            equal(b.login_profile.status, "Inactive", "UpdateLoginProfile answers the new status")
            b = a("ims", "GetLoginProfile", UserPrincipalName=upn)
            equal(b.login_profile.status, "Inactive", "GetLoginProfile.Status")
            equal(b.login_profile.user_principal_name, upn, "LoginProfile.UserPrincipalName")
            a("ims", "DeleteLoginProfile", UserPrincipalName=upn)
            a("ims", "DeleteUser", UserPrincipalName=upn)

        self.check("ims GetPasswordPolicy and SetPasswordPolicy", password_policy)
        self.check("ims GetSecurityPreference and SetSecurityPreference", security_preference)
        self.check("ims login profile Status switches console logon off", console_logon_switch)

    def ims_writes(self) -> None:
        a = self.api
        upn = f"{self.tag}-ims@{self.domain}"

        def user() -> None:
            b = a("ims", "CreateUser", UserPrincipalName=upn, DisplayName="IMS user")
            equal(b.user.user_principal_name, upn, "User.UserPrincipalName")
            b = a("ims", "CreateAccessKey", UserPrincipalName=upn)
            key = b.access_key.access_key_id
            b = a("ims", "ListAccessKeys", UserPrincipalName=upn)
            equal([k.access_key_id for k in b.access_keys.access_key], [key], "IMS ListAccessKeys")
            a("ims", "AddUserToGroup", UserPrincipalName=upn, GroupName="analysts")
            b = a("ims", "ListGroups")
            expect("analysts" in {g.group_name for g in b.groups.group}, "IMS ListGroups")
            a("ram", "RemoveUserFromGroup", UserName=f"{self.tag}-ims", GroupName="analysts")
            a("ram", "DeleteAccessKey", UserName=f"{self.tag}-ims", UserAccessKeyId=key)
            a("ims", "DeleteUser", UserPrincipalName=upn)

        def saml() -> None:
            name = f"{self.tag}-idp"
            meta = base64.b64encode(b'<?xml version="1.0"?><EntityDescriptor/>').decode()
            b = a("ims", "CreateSAMLProvider", SAMLProviderName=name, EncodedSAMLMetadataDocument=meta, Description="x")
            equal(b.samlprovider.arn, f"acs:ram::{self.account}:saml-provider/{name}", "SAMLProvider.Arn")
            b = a("ims", "UpdateSAMLProvider", SAMLProviderName=name, NewDescription="y", AuthnSignAlgo="rsa-sha256")
            equal(b.samlprovider.description, "y", "SAMLProvider.Description")
            b = a("ims", "GetSAMLProvider", SAMLProviderName=name)
            equal(b.samlprovider.encoded_samlmetadata_document, meta, "EncodedSAMLMetadataDocument")
            equal(b.samlprovider.authn_sign_algo, "rsa-sha256", "AuthnSignAlgo")
            a("ims", "DeleteSAMLProvider", SAMLProviderName=name)

        def oidc() -> None:
            name = f"{self.tag}-oidc"
            b = a(
                "ims", "CreateOIDCProvider", OIDCProviderName=name, IssuerUrl=f"https://{self.tag}.example.com",
                ClientIds="app-1", Fingerprints="902ef2deeb3c5b13ea4c3d5193629309e231abcd",
            )
            equal(b.oidcprovider.oidcprovider_name, name, "OIDCProvider.OIDCProviderName")
            b = a("ims", "UpdateOIDCProvider", OIDCProviderName=name, NewDescription="z", ClientIds="app-1,app-2")
            equal(b.oidcprovider.client_ids, "app-1,app-2", "OIDCProvider.ClientIds")
            a("ims", "DeleteOIDCProvider", OIDCProviderName=name)

        def application() -> None:
            b = a(
                "ims", "CreateApplication", AppName=f"{self.tag}-app", DisplayName="Sweep App", AppType="WebApp",
                RedirectUris="https://example.com/cb",
            )
            app = b.application.app_id
            b = a("ims", "UpdateApplication", AppId=app, NewDisplayName="Renamed App")
            equal(b.application.display_name, "Renamed App", "Application.DisplayName")
            a("ims", "DeleteApplication", AppId=app)

        def mfa() -> None:
            b = a("ims", "CreateVirtualMFADevice", VirtualMFADeviceName=f"{self.tag}-ims-token")
            serial = b.virtual_mfadevice.serial_number
            a("ims", "DeleteVirtualMFADevice", SerialNumber=serial)

        def recycle_bin() -> None:
            a("ims", "RestoreUserFromRecycleBin", UserId="250000000000009")
            b = a("ims", "GetUser", UserId="250000000000009")
            equal(b.user.user_principal_name, "former-intern@acme-demo.onaliyun.com", "the restored user")
            # A restore brings back the identity only: the key stays in the bin until
            # it is restored on its own, and comes back disabled.
            b = a("ram", "ListAccessKeys", UserName="former-intern")
            equal(b.access_keys.access_key, [], "the restored user's keys")
            a("ims", "RestoreAccessKeyFromRecycleBin", UserId="250000000000009", UserAccessKeyId="LTAI5tIntern00000000001")
            b = a("ram", "ListAccessKeys", UserName="former-intern")
            equal([(k.access_key_id, k.status) for k in b.access_keys.access_key], [("LTAI5tIntern00000000001", "Inactive")], "the restored key")
            b = a("ims", "ListAccessKeysInRecycleBin", UserId="250000000000009")
            equal(b.access_keys.access_key, [], "the bin after the restore")
            # alice already holds two keys, the most a user may have.
            expect_error(
                lambda: a("ims", "RestoreAccessKeyFromRecycleBin", UserAccessKeyId="LTAI5tAlice000000000000"),
                "LimitExceeded.User.AccessKey",
                409,
            )
            a("ims", "DeleteAccessKeyInRecycleBin", UserAccessKeyId="LTAI5tAlice000000000000")

        self.check("ims CreateUser, CreateAccessKey, AddUserToGroup, DeleteUser", user)
        self.check("ims Create/Update/Get/DeleteSAMLProvider", saml)
        self.check("ims Create/Update/DeleteOIDCProvider", oidc)
        self.check("ims Create/Update/DeleteApplication", application)
        self.check("ims Create/DeleteVirtualMFADevice", mfa)
        if self.once:
            self.check("ims recycle bin restores and deletions", recycle_bin)

    def tags(self) -> None:
        a = self.api

        def ram_tags() -> None:
            tag = [{"Key": "env", "Value": "sdk"}]
            a("ram", "TagResources", ResourceType="role", ResourceNames=["deployer"], Tag=tag)
            b = a("ram", "ListTagResources", ResourceType="role", ResourceNames=["deployer"])
            # RAM's ListTagResources answers a plain list (IMS wraps it once more).
            got = {(t.resource_name, t.tag_key, t.tag_value) for t in b.tag_resources}
            expect(("deployer", "env", "sdk") in got, f"ListTagResources: {got}")
            a("ram", "UntagResources", ResourceType="role", ResourceNames=["deployer"], TagKeys=["env"])
            b = a("ram", "ListTagResources", ResourceType="role", ResourceNames=["deployer"])
            equal([t for t in b.tag_resources if t.tag_key == "env"], [], "tags after UntagResources")

        def ims_tags() -> None:
            upn = f"bob@{self.domain}"
            a("ims", "TagResources", ResourceType="user", ResourcePrincipalName=[upn], Tag=[{"Key": "env", "Value": "sdk"}])
            b = a("ims", "ListTagResources", ResourceType="user", ResourcePrincipalName=[upn])
            got = {(t.resource_id, t.resource_type, t.tag_key, t.tag_value) for t in b.tag_resources.tag_resource}
            expect(("250000000000003", "user", "env", "sdk") in got, f"ListTagResources: {got}")
            a("ims", "UntagResources", ResourceType="user", ResourcePrincipalName=[upn], TagKey=["env"])

        def tags_on_create() -> None:
            # IMS sends Tag as Tag.N.Key / Tag.N.Value, RAM as one JSON parameter.
            tag = [{"Key": "team", "Value": self.tag}]
            user = f"{self.tag}-tagged"
            upn = f"{user}@{self.domain}"
            b = a("ims", "CreateUser", UserPrincipalName=upn, DisplayName="Tagged", Tag=tag)
            equal([(t.tag_key, t.tag_value) for t in b.user.tags.tag], [("team", self.tag)], "CreateUser Tags")
            b = a("ims", "GetUser", UserPrincipalName=upn)
            equal([(t.tag_key, t.tag_value) for t in b.user.tags.tag], [("team", self.tag)], "GetUser Tags")
            b = a("ims", "ListUsers", Tag=tag)
            equal([u.user_principal_name for u in b.users.user], [f"{user}@{self.domain}"], "IMS ListUsers by Tag")
            a("ram", "DeleteUser", UserName=user)
            policy = f"{self.tag}-tagged"
            doc = '{"Version":"1","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
            a("ram", "CreatePolicy", PolicyName=policy, PolicyDocument=doc, Tag=tag)
            b = a("ram", "ListPolicies", Tag=tag)
            equal([p.policy_name for p in b.policies.policy], [policy], "ListPolicies by Tag")
            equal([(t.tag_key, t.tag_value) for t in b.policies.policy[0].tags.tag], [("team", self.tag)], "Policy Tags")
            a("ram", "DeletePolicy", PolicyName=policy)

        self.check("ram TagResources, ListTagResources, UntagResources", ram_tags)
        self.check("tags given at creation, and lists filtered by tag", tags_on_create)
        self.check("ims TagResources, ListTagResources, UntagResources", ims_tags)


# ---------------------------------------------------------------- faults


def faults(report: Report, binary: str, seed_path: str, seed: dict) -> None:
    """Injected throttling and server errors reach the SDK as its own exception classes."""
    from alibabacloud_tea_openapi.exceptions import ServerException, ThrottlingException

    root = seed["emulator"]["root_access_key"]

    def throttled() -> None:
        emu = Emulator(binary, seed_path, "--qps-limit", "2", "--fault-seed", "7")
        try:
            c = Clients(emu.host, "v3", root["id"], root["secret"])
            errors = []
            for _ in range(12):
                try:
                    c.sts.get_caller_identity()
                except Exception as e:  # noqa: BLE001
                    errors.append(e)
            expect(bool(errors), "12 quick calls at 2 calls per second are throttled")
            e = errors[0]
            expect(isinstance(e, ThrottlingException), f"a ThrottlingException, got {e!r}")
            equal(e.code, "Throttling.User", "code")
            equal(e.status_code, 400, "HTTP status")
            expect(isinstance(e.retry_after, int) and e.retry_after > 0, f"retry_after in ms: {e.retry_after!r}")
        finally:
            emu.stop()

    def unavailable() -> None:
        emu = Emulator(binary, seed_path, "--error-rate", "1", "--fault-seed", "7")
        try:
            for style in ("v3", "v2"):
                c = Clients(emu.host, style, root["id"], root["secret"])
                e = error_of(lambda: c.ram.list_users(ram_models.ListUsersRequest()))
                expect(isinstance(e, ServerException), f"a ServerException, got {e!r}")
                expect(
                    (e.code, e.status_code) in {("ServiceUnavailable", 503), ("InternalError", 500)},
                    f"code and status: {e.code} {e.status_code}",
                )
        finally:
            emu.stop()

    report.check("[faults] throttling raises the SDK's ThrottlingException with retry_after", throttled)
    report.check("[faults] injected server errors raise the SDK's ServerException", unavailable)


# ------------------------------------------------- aliyun-python-sdk-core (V1)


def core_v1(report: Report, emu: Emulator, seed: dict) -> None:
    from aliyunsdkcore.acs_exception.exceptions import ServerException
    from aliyunsdkcore.client import AcsClient
    from aliyunsdkcore.request import CommonRequest
    from aliyunsdkram.request.v20150501 import (
        CreatePolicyRequest,
        CreateUserRequest,
        DeletePolicyRequest,
        DeleteUserRequest,
        GetPolicyRequest,
        GetUserRequest,
        ListUsersRequest,
    )

    root = seed["emulator"]["root_access_key"]
    host, port = emu.host.rsplit(":", 1)

    def client(secret: str) -> AcsClient:
        return AcsClient(root["id"], secret, "cn-hangzhou", auto_retry=False, port=int(port), timeout=10)

    good = client(root["secret"])

    def call(c: AcsClient, request: Any) -> dict:
        request.set_endpoint(host)
        request.set_protocol_type("http")
        return json.loads(c.do_action_with_exception(request))

    def server_error(fn: Callable[[], Any], code: str, status: int) -> None:
        e = error_of(fn)
        expect(isinstance(e, ServerException), f"a ServerException, got {e!r}")
        equal(e.get_error_code(), code, "error code")
        equal(e.get_http_status(), status, "HTTP status")
        expect(bool(e.get_request_id()), "the error carries a RequestId")

    name, policy = "sdk-core-v1-user", "sdk-core-v1-policy"
    doc = long_policy_document("core")

    def user_cycle() -> None:
        req = CreateUserRequest.CreateUserRequest()
        req.set_UserName(name)
        req.set_DisplayName("Core SDK")
        out = call(good, req)
        equal(out["User"]["UserName"], name, "User.UserName")
        req = GetUserRequest.GetUserRequest()
        req.set_UserName(name)
        equal(call(good, req)["User"]["DisplayName"], "Core SDK", "User.DisplayName")
        req = ListUsersRequest.ListUsersRequest()
        req.set_MaxItems(100)
        out = call(good, req)
        expect(name in [u["UserName"] for u in out["Users"]["User"]], "ListUsers lists the new user")
        equal(out["IsTruncated"], False, "IsTruncated")
        req = DeleteUserRequest.DeleteUserRequest()
        req.set_UserName(name)
        call(good, req)

    def policy_cycle() -> None:
        req = CreatePolicyRequest.CreatePolicyRequest()
        req.set_PolicyName(policy)
        req.set_PolicyDocument(doc)
        equal(call(good, req)["Policy"]["PolicyName"], policy, "Policy.PolicyName")
        req = GetPolicyRequest.GetPolicyRequest()
        req.set_PolicyName(policy)
        req.set_PolicyType("Custom")
        got = call(good, req)["DefaultPolicyVersion"]["PolicyDocument"]
        equal(json.loads(got), json.loads(doc), "the stored document")
        req = DeletePolicyRequest.DeletePolicyRequest()
        req.set_PolicyName(policy)
        call(good, req)

    def get_method() -> None:
        req = ListUsersRequest.ListUsersRequest()
        req.set_method("GET")
        req.set_MaxItems(2)
        out = call(good, req)
        equal(len(out["Users"]["User"]), 2, "users on a page of two")
        equal(out["IsTruncated"], True, "IsTruncated")

    def common_request() -> None:
        # The SDK's generic request, for services without their own package here.
        for version, action, field in (
            ("2019-08-15", "GetDefaultDomain", "DefaultDomainName"),
            ("2015-04-01", "GetCallerIdentity", "AccountId"),
        ):
            req = CommonRequest(version=version, action_name=action)
            req.set_method("POST")
            out = call(good, req)
            expect(bool(out.get(field)), f"{action} answers {field}: {out}")

    def missing_user() -> None:
        req = GetUserRequest.GetUserRequest()
        req.set_UserName("nobody-here")
        server_error(lambda: call(good, req), "EntityNotExist.User", 404)

    def wrong_secret() -> None:
        # This SDK compares the string to sign the server reports in its
        # SignatureDoesNotMatch message with its own; when they are equal it knows
        # only the secret can be wrong and says InvalidAccessKeySecret.
        req = ListUsersRequest.ListUsersRequest()
        server_error(lambda: call(client(root["secret"] + "x"), req), "InvalidAccessKeySecret", 400)

    report.check("[core-v1] ram CreateUser, GetUser, ListUsers, DeleteUser", user_cycle)
    report.check("[core-v1] ram CreatePolicy with a long document, GetPolicy, DeletePolicy", policy_cycle)
    report.check("[core-v1] ram ListUsers sent as GET", get_method)
    report.check("[core-v1] CommonRequest to IMS and STS", common_request)
    report.check("[core-v1] GetUser of a missing user raises EntityNotExist.User", missing_user)
    report.check("[core-v1] a wrong secret is recognised as InvalidAccessKeySecret", wrong_secret)


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ramstate", default=os.path.join(REPO, "target", "debug", "ramstate"))
    parser.add_argument("--seed", default=os.path.join(REPO, "examples", "demo-account.yaml"))
    args = parser.parse_args()

    with open(args.seed, encoding="utf-8") as f:
        seed = yaml.safe_load(f)
    report = Report()
    emu = Emulator(args.ramstate, args.seed)
    try:
        print(f"emulator at {emu.url}", flush=True)
        for style in ("v3", "v2"):
            Scenario(report, emu, seed, style).run()
        Sweep(report, emu, seed, "v3", once=True).run()
        Sweep(report, emu, seed, "v2", once=False).run()
        Sweep(report, emu, seed, "sm3", once=False).run()
        core_v1(report, emu, seed)
    finally:
        emu.stop()
    faults(report, args.ramstate, args.seed, seed)
    print(f"{len(report.passed)} passed, {len(report.failed)} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
